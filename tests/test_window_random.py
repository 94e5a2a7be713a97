"""Hundreds of random sequences of what a user does, running or not: nothing may break.

Clicks, keys, typed values, good and bad files (ragged, text, empty, binary, a
megabyte cell, numbers at 1e300, too few points), presentation mode, and closing
the window in the middle of a run. pytest-qt fails the test on any exception raised
in a slot; after every sequence the history must still be the run from iteration 0,
one iteration at a time, with the settings in force; a bad file must leave the data
and settings as they were and say what is wrong naming the file; and no QThread may
outlive the window that started it.
"""

import gc

import numpy as np
import pytest
from PySide6.QtCore import QThread, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from emviz.ui.controls import SPEEDS
from emviz.ui.window import MainWindow

SEQUENCES = 150
CLOSE_EVERY = 25  # a new window after this many sequences, often in the middle of a run


def running_qthreads():
    return [o for o in gc.get_objects() if isinstance(o, QThread) and o.isRunning()]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(5)
    good = tmp_path / "good.csv"
    rows = np.concatenate([rng.normal(size=(60, 3)), rng.normal(size=(60, 3)) + 4])
    good.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.4f}" for v in row) for row in rows) + "\n")
    bad = {
        "ragged.csv": "x,y\n1,2\n3,4\n5,6,7\n",
        "words.csv": "name,colour\nann,red\nbob,blue\n",
        "empty.csv": "",
        "three.csv": "x,y\n0,0\n1,0\n0,1\n",
        "huge-cell.csv": "x,y\n1,2\n3,4\n5,6\n" + "a" * 1_000_000 + ",1\n7,8\n",
        "extreme.csv": "x,y\n" + "\n".join(f"{1e300 * (i % 7)},{i}" for i in range(50)) + "\n",
    }
    paths = {"good": good}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        paths[name] = tmp_path / name
    (tmp_path / "binary.csv").write_bytes(bytes(rng.integers(0, 256, 5000, dtype=np.uint8)))
    paths["binary.csv"] = tmp_path / "binary.csv"
    paths["missing.csv"] = tmp_path / "missing.csv"
    paths["folder.csv"] = tmp_path
    return paths


def test_hundreds_of_random_sequences_never_break_the_window(qtbot, monkeypatch, files):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, message, *a, **k: shown.append(message))
    rng = np.random.default_rng(2026)
    chosen_file = {"path": files["good"]}
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(chosen_file["path"]), ""))

    def open_window():
        window = MainWindow()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    window = open_window()
    windows_closed = 0

    def choose(box):
        if box.count():
            box.setCurrentIndex(int(rng.integers(box.count())))

    def key(k):
        return lambda: qtbot.keyClick(window.plots_panel, k)

    def open_file(name):
        def act():
            chosen_file["path"] = files[name]
            before = (window.session.dataset, window.session.settings)
            errors_before = len(shown)
            window.data_controls.open_csv.click()
            if len(shown) > errors_before:  # refused: said, naming the file, and nothing changed
                assert files[name].name in shown[-1], shown[-1][:300]
                assert len(shown[-1]) < 1000  # a megabyte cell is not quoted whole
                assert (window.session.dataset, window.session.settings) == before
        return act

    def actions():
        d, m, r = window.data_controls, window.model_controls, window.run_controls
        return [
            r.step.click, r.run.click, r.run.click, r.reset.click,
            key(Qt.Key.Key_Space), key(Qt.Key.Key_Right), key(Qt.Key.Key_Left), key(Qt.Key.Key_R),
            key(Qt.Key.Key_Z), key(Qt.Key.Key_H), key(Qt.Key.Key_Home), key(Qt.Key.Key_End),
            key(Qt.Key.Key_Plus), key(Qt.Key.Key_Minus),
            lambda: m.k.setValue(int(rng.integers(1, 7))),
            lambda: choose(m.covariance), lambda: choose(m.init),
            lambda: m.seed.setValue(int(rng.integers(0, 5))),
            lambda: (m.tol.setCurrentText(str(rng.choice(["1e-3", "1e-5", "1e-8", "oops", "-1", ""]))),
                     m.tol.lineEdit().editingFinished.emit()),
            lambda: m.max_iter.setValue(int(rng.integers(1, 60))),
            lambda: r.speed.setValue(int(rng.integers(0, len(SPEEDS)))),
            lambda: (choose(d.preset), d.preset.activated.emit(d.preset.currentIndex())),
            lambda: (d.points.setValue(int(rng.integers(20, 800))) if d.points.isEnabled() else None),
            d.generate.click,
            lambda: d.true_k.setValue(int(rng.integers(1, 6))),
            lambda: choose(d.x_column), lambda: choose(d.y_column),
            lambda: r.history.setValue(int(rng.integers(0, r.history.maximum() + 1))),
            lambda: window.likelihood.iteration_clicked.emit(int(rng.integers(-3, 80))),
            lambda: r.third_ellipse.setChecked(not r.third_ellipse.isChecked()),
            lambda: d.equal_axes.setChecked(not d.equal_axes.isChecked()),
            lambda: d.show_truth.setChecked(not d.show_truth.isChecked()),
            lambda: window.set_presentation(not window.presenting),
            open_file("good"), open_file("good"),
            *(open_file(name) for name in files if name != "good"),
        ]

    for sequence in range(SEQUENCES):
        menu = actions()
        for _ in range(int(rng.integers(1, 5))):
            menu[int(rng.integers(len(menu)))]()
            qtbot.wait(int(rng.integers(0, 8)))
        history = window.session.history
        assert [s.iteration for s in history] == list(range(len(history)))
        assert all(s.mixture.k == window.session.settings.k for s in history)
        assert window.session.last.iteration <= window.session.settings.max_iter
        assert window.status_iteration.text() or window.frames_drawn
        if sequence % CLOSE_EVERY == CLOSE_EVERY - 1:  # close, often in the middle of a run
            if rng.integers(2):
                window.run_controls.speed.setValue(int(rng.integers(0, len(SPEEDS))))
                window.run_or_pause()
            thread = window.runner._thread
            window.close()
            assert thread is None or thread.isFinished()
            assert window.runner._thread is None
            windows_closed += 1
            window = open_window()
            assert len(running_qthreads()) == 0  # none outlives its window
    window.runner.stop()
    assert running_qthreads() == []
    assert windows_closed == SEQUENCES // CLOSE_EVERY
    # every message was about something the user did wrong, and said what
    assert all(message.strip() for message in shown)
