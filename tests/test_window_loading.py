"""Opening a large CSV file in the real window: in the background, with progress, Cancel and clear failures.

A load is made deterministic by holding it: the `held` fixture stops the reading of a chosen
file after its first progress report until the test lets it go (or the user presses Cancel),
so nothing here depends on how fast the machine is.
"""

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from emviz.session import Settings
from emviz.ui import loading

N_BIG = 60_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A CSV file above the size read in the GUI thread: three clusters, a header, 60 000 rows."""
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(c, 1.0, size=(N_BIG // 3, 2)) for c in (0.0, 6.0, 12.0)])
    path = tmp_path_factory.mktemp("big") / "big.csv"
    np.savetxt(path, X, delimiter=",", header="u,v", comments="", fmt="%.17g")
    assert path.stat().st_size > loading.BACKGROUND_BYTES
    return path, X


class Held:
    def __init__(self):
        self.gate = threading.Event()
        self.names = set()


@pytest.fixture
def held(monkeypatch):
    """Reading a file named in ``held.names`` waits after its first progress report until ``held.gate`` is set."""
    hold = Held()
    real = loading.iter_csv_table

    def iter_held(path, **options):
        for i, item in enumerate(real(path, **options)):
            yield item
            if i == 0 and Path(path).name in hold.names:
                hold.gate.wait(60)

    monkeypatch.setattr(loading, "iter_csv_table", iter_held)
    yield hold
    hold.gate.set()


def open_with_dialog(window, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.data_controls.open_csv.click()


def state(window):
    s = window.session
    return s.dataset, list(s.history), s.settings, window._table


def test_a_big_file_loads_in_the_background_with_real_progress(qtbot, window, big, monkeypatch):
    path, X = big
    before = window.session.dataset
    window.loader.chunk_rows = 500  # many pieces: many progress reports
    reports = []
    window.loader.progressed.connect(lambda fraction, words: reports.append((fraction, words)))
    with qtbot.waitSignal(window.loader.loaded, timeout=60_000):
        open_with_dialog(window, monkeypatch, path)
        # the click returned before the file was read: the window still shows the old data
        assert window.session.dataset is before and window.loader.running
    dataset = window.session.dataset
    assert dataset.name == "big.csv" and dataset.columns == ("u", "v") and dataset.n == N_BIG
    np.testing.assert_array_equal(dataset.points, X)
    assert [s.iteration for s in window.session.history] == [0] and window.session.settings == Settings(k=3)
    assert window._table is not None and window._table.path == str(path)
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    if int(__import__("pandas").__version__.split(".")[0]) >= 3:  # pandas 2 parses in one piece
        assert len(reports) >= N_BIG // 500
    size = f"{path.stat().st_size / 1e6:.1f}"
    assert f"big.csv: parsing {size} of {size} MB" in [words for _, words in reports]
    assert reports[-1][1] == "big.csv: checking column 2 of 2"
    assert not window.loading_bar.isVisible() and not window.loader.running


def test_the_window_stays_responsive_while_a_file_loads(qtbot, window, big, held):
    path, _ = big
    held.names.add(path.name)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(window.loader.running))
    timer.start(1)
    before = window.session.dataset
    assert window.load_csv(str(path))
    # the reading is held in its thread: every tick below comes while the file loads
    qtbot.waitUntil(lambda: len(ticks) >= 20, timeout=10_000)
    assert all(ticks) and window.session.dataset is before
    qtbot.waitUntil(window.loading_bar.isVisible, timeout=10_000)  # slower than a moment: the bar shows
    assert window.loading_bar.label.text().startswith("Loading big.csv: reading")
    view = window.canvas.getPlotItem().getViewBox()
    width = np.diff(view.viewRange()[0])[0]
    view.scaleBy((0.5, 0.5))
    assert np.diff(view.viewRange()[0])[0] == pytest.approx(width / 2)
    window.run_controls.run.click()  # EM on the data on show, while the file loads
    qtbot.waitUntil(lambda: len(window.session.history) >= 4, timeout=30_000)
    assert window.loader.running and window.session.dataset is before
    timer.stop()
    with qtbot.waitSignal(window.loader.loaded, timeout=60_000):
        held.gate.set()
    assert window.session.dataset.name == "big.csv" and len(window.session.history) == 1
    assert not window.runner.running and not window.loading_bar.isVisible()


def test_cancel_keeps_the_data_settings_and_history(qtbot, window, big, held):
    path, _ = big
    held.names.add(path.name)
    for _ in range(2):
        window.run_controls.step.click()
        qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
    before = state(window)
    window.load_csv(str(path))
    qtbot.waitUntil(window.loading_bar.isVisible, timeout=10_000)
    window.loading_bar.cancel.pressed.connect(held.gate.set)  # the held reading resumes, to be stopped
    window.loading_bar.cancel.click()
    assert not window.loader.running and not window.loading_bar.isVisible()
    assert window.loader._runner._thread is None  # joined: nothing of that load can still arrive
    QApplication.processEvents()
    assert state(window) == before and window.status_iteration.text() == "iteration 2"
    assert "Stopped loading big.csv" in window.notice.text()


@pytest.mark.parametrize("content, message", [
    ("x,y\n1,2\n3,4\n5,6,7\n", "line 4 has 3 fields but the header has 2 (separator: comma); "
                               "fix that row or quote the text that contains the separator"),
    ("a,b\nx,y\nz,w\n", "no column holds numbers (columns: a, b); emviz needs at least two numeric columns"),
])
def test_a_bad_file_loaded_in_the_background_says_why_and_keeps_everything(
        qtbot, window, tmp_path, monkeypatch, errors, content, message):
    monkeypatch.setattr(loading, "BACKGROUND_BYTES", 0)  # even a small file goes through the thread
    window.run_controls.step.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
    before = state(window)
    bad = tmp_path / "broken.csv"
    bad.write_text(content)
    with qtbot.waitSignal(window.loader.failed, timeout=30_000):
        assert window.load_csv(str(bad))
    assert errors == [f"{bad}: {message}"]
    assert state(window) == before and not window.loading_bar.isVisible()


def test_a_bad_line_deep_in_a_big_file_is_named_by_its_line(qtbot, window, big, tmp_path, errors):
    path, _ = big
    lines = path.read_text().splitlines()
    lines[45_000] = "1,2,3"
    bad = tmp_path / "deep.csv"
    bad.write_text("\n".join(lines) + "\n")
    before = state(window)
    with qtbot.waitSignal(window.loader.failed, timeout=60_000):
        window.load_csv(str(bad))
    assert errors == [f"{bad}: line 45001 has 3 fields but the header has 2 (separator: comma); "
                      "fix that row or quote the text that contains the separator"]
    assert state(window) == before


def test_a_second_file_replaces_the_one_loading(qtbot, window, big, held, tmp_path, monkeypatch):
    path, _ = big
    held.names.add(path.name)
    window.load_csv(str(path))
    qtbot.waitUntil(window.loading_bar.isVisible, timeout=10_000)
    other = tmp_path / "other.csv"
    rng = np.random.default_rng(3)
    np.savetxt(other, rng.normal(size=(70_000, 2)) * 100, delimiter=";", header="p;q", comments="", fmt="%.17g")
    assert other.stat().st_size > loading.BACKGROUND_BYTES
    held.gate.set()  # (the held reading resumes, to be stopped)
    with qtbot.waitSignal(window.loader.loaded, timeout=60_000):
        window.load_csv(str(other))
        assert "Stopped loading big.csv: opening other.csv instead" in window.notice.text()
    assert window.session.dataset.name == "other.csv" and window.session.dataset.columns == ("p", "q")


def test_choosing_a_preset_while_a_file_loads_cancels_the_load(qtbot, window, big, held):
    path, _ = big
    held.names.add(path.name)
    window.load_csv(str(path))
    held.gate.set()
    assert window.load_preset("cross")
    assert not window.loader.running and window.session.dataset.name == "cross"
    QApplication.processEvents()
    assert window.session.dataset.name == "cross"


def test_closing_the_window_while_a_file_loads_ends_the_thread(qtbot, window, big):
    path, _ = big
    window.loader.chunk_rows = 50
    window.load_csv(str(path))
    window.close()
    assert not window.loader.running and window.loader._runner._thread is None
