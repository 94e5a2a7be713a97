"""EMVIZ_STARTUP_PROBE: the real `python -m emviz` says when its window first painted, then quits.

benchmarks/bench_startup.py times start-up with it; these tests check the hook itself
(no timing assertions). EMVIZ_NUMBA=0 keeps the kernel's compiling child out of CI.
"""

import os
import subprocess
import sys
import time

import numpy as np

from emviz import gmm


def _launch(mode, *args):
    env = {**os.environ, "EMVIZ_STARTUP_PROBE": mode, "EMVIZ_NUMBA": "0", "QT_QPA_PLATFORM": "offscreen"}
    began = time.time()
    proc = subprocess.run([sys.executable, "-m", "emviz", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    return began, time.time(), proc


def _said(stdout):
    return [line.split() for line in stdout.splitlines() if line.startswith("emviz-startup ")]


def test_paint_mode_prints_the_first_paint_and_quits():
    began, ended, proc = _launch("paint")
    assert proc.returncode == 0, proc.stderr
    said = _said(proc.stdout)
    assert [words[1] for words in said] == ["first-paint"]
    assert began < float(said[0][2]) < ended
    assert 0 < float(said[0][3]) < 600  # the process's CPU seconds by then: a number, said with the time


def test_kernel_mode_also_says_when_the_kernel_is_settled(tmp_path):
    # the demo data are too few to start the kernel's build: open enough points for it
    points = np.random.default_rng(0).standard_normal((gmm.KERNEL_WORTH_POINTS, 2))
    path = tmp_path / "points.csv"
    np.savetxt(path, points, fmt="%.5f", delimiter=",", header="x,y", comments="")
    began, ended, proc = _launch("kernel", str(path))
    assert proc.returncode == 0, proc.stderr
    said = _said(proc.stdout)
    assert [words[1] for words in said] == ["first-paint", "kernel-failed"]
    painted, settled = float(said[0][2]), float(said[1][2])
    assert began < painted <= settled < ended
    assert "EMVIZ_NUMBA=0" in " ".join(said[1][3:])


def test_the_probe_watches_only_the_main_window_once_it_exists(qtbot):
    """An application-wide filter saw the ~7 500 events of the window's construction in
    Python and slowed the start it timed by about 0.1 s: once the main window exists the
    probe watches it alone, and still sees its first paint."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from emviz.ui import startup_probe
    from emviz.ui.window import MainWindow

    class Counting(startup_probe.StartupProbe):
        def __init__(self, app, mode):
            self.calls = 0
            super().__init__(app, mode)

        def eventFilter(self, obj, event):
            self.calls += 1
            return super().eventFilter(obj, event)

    app = QApplication.instance()
    probe = Counting(app, "paint")
    painted = []
    probe._painted = lambda: painted.append(True)
    try:
        window = MainWindow()
        qtbot.addWidget(window)
        calls = probe.calls
        QApplication.sendEvent(window.statusBar(), QEvent(QEvent.Type.User))  # a child's event
        assert probe.calls == calls
        window.show()
        qtbot.waitUntil(lambda: painted == [True], timeout=30_000)
    finally:
        app.removeEventFilter(probe)
        window.runner.stop()
