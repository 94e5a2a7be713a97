"""`emviz FILE.csv` with a large file: the window opens at once and reads the file behind it.

Below emviz.ui.loading.BACKGROUND_BYTES the file is read before the window opens, and a bad
one ends the command with its message (tests/test_cli.py); from that size on, the window
shows first and reads the file as its Open CSV... does, with progress and Cancel, and a bad
file's message names the file, line and column in the window.
"""

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

import emviz.cli
import emviz.ui.window
from emviz import cli
from emviz.session import Settings
from emviz.ui import loading
from emviz.ui.window import open_window


@pytest.fixture
def points_csv(tmp_path):
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(c, 1.0, size=(400, 2)) for c in (0.0, 8.0)])
    path = tmp_path / "points.csv"
    np.savetxt(path, X, delimiter=",", header="u,v", comments="", fmt="%.17g")
    return path, X


@pytest.fixture
def opened(monkeypatch):
    calls = []
    monkeypatch.setattr(emviz.ui.window, "run_app", lambda *args, **kwargs: calls.append((args, kwargs)) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    return calls


def test_a_large_file_is_not_read_before_the_window_opens(points_csv, opened, monkeypatch):
    path, _ = points_csv
    monkeypatch.setattr(loading, "BACKGROUND_BYTES", 1)  # every file counts as large

    def read_first(*args, **kwargs):
        raise AssertionError("the file was read before the window opened")

    monkeypatch.setattr(emviz.cli, "read_csv_table", read_first)
    assert cli.main([str(path), "--columns", "v,u"]) == 0
    (args, kwargs), = opened
    assert args[0] is None and args[2] is None  # the window opens on its demo data meanwhile
    assert kwargs == {"load": (str(path), ["v", "u"])}


def test_a_small_file_is_read_first_as_before(points_csv, opened):
    path, _ = points_csv
    assert cli.main([str(path)]) == 0
    (args, kwargs), = opened
    assert args[0].columns == ("u", "v") and kwargs == {}


def test_a_malformed_columns_option_is_said_before_any_window(points_csv, opened, monkeypatch, capsys):
    path, _ = points_csv
    monkeypatch.setattr(loading, "BACKGROUND_BYTES", 1)
    assert cli.main([str(path), "--columns", ","]) == 2
    assert opened == []
    assert capsys.readouterr().err.startswith("emviz: error: --columns")


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, message, *a, **k: shown.append(message)
                        or QMessageBox.StandardButton.Ok)
    return shown


def _close(qtbot, window):
    window.loader.cancel()
    window.runner.stop()
    window.close()


def test_the_window_shows_at_once_then_the_file(qtbot, points_csv, monkeypatch, errors):
    path, X = points_csv
    monkeypatch.setattr(loading, "BACKGROUND_BYTES", 1)
    window = open_window(None, Settings(), None, load=(str(path), None))
    qtbot.addWidget(window)
    assert window.isVisible() and window.loader.running  # shown, the file still to come
    with qtbot.waitSignal(window.loader.loaded, timeout=30_000):
        pass
    np.testing.assert_array_equal(window.session.points, X)
    # the same settings as when the file is read first: `emviz FILE` fits a file with the defaults
    assert window.session.settings == Settings()
    assert errors == []
    _close(qtbot, window)


def test_a_bad_large_file_is_said_in_the_window_naming_file_and_line(qtbot, tmp_path, monkeypatch, errors):
    path = tmp_path / "bad.csv"
    path.write_text("u,v\n" + "".join(f"{i},{i % 7}\n" for i in range(50)) + "51,7,9\n")
    monkeypatch.setattr(loading, "BACKGROUND_BYTES", 1)
    window = open_window(None, Settings(), None, load=(str(path), None))
    qtbot.addWidget(window)
    before = window.session.points.copy()
    with qtbot.waitSignal(window.loader.failed, timeout=30_000):
        pass
    assert errors == [f"{path}: line 52 has 3 fields but the header has 2 (separator: comma); "
                      "fix that row or quote the text that contains the separator"]
    np.testing.assert_array_equal(window.session.points, before)  # the demo data stay
    _close(qtbot, window)
