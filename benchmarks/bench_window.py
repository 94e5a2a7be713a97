"""Frame rate, responsiveness and completeness of the real window while EM runs.

For each n (1e4, 1e5 and 1e6 by default) the real window is opened on n generated
points (k = 3, tol = 0 so EM never stops) and, in one run:

* at the "max" speed, for a few seconds: frames/s (paints of the canvas), iterations/s
  (snapshots the window received), and how late a 10 ms timer fires in the GUI thread
  (p50 / p95 / max: what a click waits); the GUI thread's CPU time per frame
  (``time.thread_time`` over the same seconds divided by the frames: everything that
  thread did, which waiting for a core or the GIL does not inflate, so it compares code
  more steadily than the wall-clock figures on a shared machine); then how long Pause
  takes to stop the run;
* at lecture speeds (1 and 30 iterations a second by default): the share of the
  iterations received that were actually painted on the canvas (should be 100 %).

Everything is measured through the window's public behaviour, not its internals:
a frame is a paint event of the canvas (an event filter on its viewport); an
iteration is a snapshot of the runner's ``stepped`` signal; the iteration a frame
shows is what the status bar says ("iteration N") when the canvas paints; the speed
slider, Run and Pause are driven like a user drives them. Set-up (generating the data,
building the window, its first paint) is timed and printed on its own, not counted in
the rates. The compiled kernel is waited for before the first window, so every size is
measured on the engine a user gets after the first start (the wait is printed).

Run by hand (a table, no assertions on time):

    python benchmarks/bench_window.py                           # Qt's offscreen platform
    DISPLAY=:63 QT_QPA_PLATFORM=xcb python benchmarks/bench_window.py   # a real X server (Xvfb)

Options: --sizes 10000,100000,1000000, --seconds 6 (at max speed), --lecture-speeds 1,30,
--lecture-seconds 6.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import __version__ as pyside_version  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QLabel  # noqa: E402

from emviz import kernel  # noqa: E402
from emviz.data import generate  # noqa: E402
from emviz.session import Settings  # noqa: E402
from emviz.ui.controls import SPEEDS  # noqa: E402
from emviz.ui.window import MainWindow, make_app  # noqa: E402

K = 3
WINDOW_SIZE = (1500, 950)
PROBE_MS = 10
_ITERATION = re.compile(r"\biteration (\d+)\b")


def spin(seconds: float, until=None):
    """Run Qt's real event loop for ``seconds`` (or until ``until()`` is true, checked every 5 ms)."""
    loop = QEventLoop()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(max(0, int(seconds * 1000)))
    check = None
    if until is not None:
        if until():
            return True
        check = QTimer()
        check.timeout.connect(lambda: until() and loop.quit())
        check.start(5)
    loop.exec()
    if check is not None:
        check.stop()
    return until() if until is not None else True


class Watcher(QObject):
    """Counts the canvas's paints and the snapshots the window receives, and what each paint shows."""

    def __init__(self, window: MainWindow):
        super().__init__()
        self.window = window
        canvas = window.canvas
        self.surface = canvas.viewport() if hasattr(canvas, "viewport") else canvas
        self.surface.installEventFilter(self)
        self._status = None
        self.paints = 0
        self.painted = set()  # iteration numbers shown by some paint
        self.received = []  # (perf_counter, iteration) of every snapshot
        window.runner.stepped.connect(self._on_step)
        self.finished_at = None
        window.run_finished.connect(self._on_finished)

    def shown_iteration(self):
        """The iteration the status bar says is on show, or None."""
        if self._status is None:
            for label in self.window.statusBar().findChildren(QLabel):
                if _ITERATION.fullmatch(label.text().strip()):
                    self._status = label
                    break
            else:
                return None
        found = _ITERATION.search(self._status.text())
        return int(found[1]) if found else None

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
            shown = self.shown_iteration()
            if shown is not None:
                self.painted.add(shown)
        return False

    def _on_step(self, step):
        self.received.append((time.perf_counter(), step.iteration))

    def _on_finished(self, reason):
        self.finished_at = (time.perf_counter(), reason)

    def detach(self):
        self.surface.removeEventFilter(self)
        self.window.runner.stepped.disconnect(self._on_step)
        self.window.run_finished.disconnect(self._on_finished)


class LatenessProbe:
    """A 10 ms timer in the GUI thread; how late each tick comes is what a click would wait."""

    def __init__(self):
        self.gaps = []
        self._last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append((now - self._last) * 1000.0)
        self._last = now

    def start(self):
        self.gaps.clear()
        self._last = None
        self.timer.start()

    def stop(self):
        self.timer.stop()
        late = np.maximum(np.asarray(self.gaps, dtype=float) - PROBE_MS, 0.0)
        if late.size == 0:
            return float("nan"), float("nan"), float("nan")
        return float(np.percentile(late, 50)), float(np.percentile(late, 95)), float(late.max())


def set_speed(window, rate):
    window.run_controls.speed.setValue(SPEEDS.index(rate))


def start_run(window, watcher, timeout=60.0):
    """Press Run; return seconds until the first snapshot arrives."""
    before = len(watcher.received)
    began = time.perf_counter()
    window.run_controls.run.click()
    if not spin(timeout, lambda: len(watcher.received) > before):
        raise RuntimeError(f"no iteration within {timeout:g} s of pressing Run")
    return time.perf_counter() - began


def pause_run(window, watcher, timeout=30.0):
    """Press Pause (the Run button while running); return seconds until the run says it paused."""
    watcher.finished_at = None
    began = time.perf_counter()
    window.run_controls.run.click()
    if not spin(timeout, lambda: watcher.finished_at is not None):
        raise RuntimeError(f"the run did not pause within {timeout:g} s")
    return watcher.finished_at[0] - began


def setup(app, n):
    """Generate n points and open the window on them; the seconds each part took."""
    began = time.perf_counter()
    dataset = generate(n, K, separation=2.0, seed=1)
    generated = time.perf_counter()
    window = MainWindow(dataset, Settings(k=K, tol=0.0, max_iter=10**8))
    window.resize(*WINDOW_SIZE)
    built = time.perf_counter()
    watcher = Watcher(window)
    window.show()
    if not spin(60.0, lambda: watcher.paints > 0):
        raise RuntimeError("the window did not paint within 60 s")
    painted = time.perf_counter()
    return window, watcher, (generated - began, built - generated, painted - built)


def measure_max(window, watcher, seconds):
    set_speed(window, 0)
    first = start_run(window, watcher)
    probe = LatenessProbe()
    paints0, received0 = watcher.paints, len(watcher.received)
    probe.start()
    began = time.perf_counter()
    cpu = time.thread_time()  # this is the GUI thread: spin() runs its event loop
    spin(seconds)
    cpu = time.thread_time() - cpu
    elapsed = time.perf_counter() - began
    paints, received = watcher.paints - paints0, len(watcher.received) - received0
    late = probe.stop()
    pause = pause_run(window, watcher)
    return dict(first=first, fps=paints / elapsed, ips=received / elapsed, late=late, pause=pause,
                cpu_per_frame=cpu / paints if paints else float("nan"))


def measure_lecture(window, watcher, rate, seconds):
    set_speed(window, rate)
    start_run(window, watcher)
    probe = LatenessProbe()
    paints0, received0 = watcher.paints, len(watcher.received)
    watcher.painted.clear()
    probe.start()
    began = time.perf_counter()
    spin(seconds)
    elapsed = time.perf_counter() - began
    late = probe.stop()
    received = [it for _, it in watcher.received[received0:]]
    paints = watcher.paints - paints0
    pause = pause_run(window, watcher)
    spin(0.3)  # the last snapshot's frame, if it is still on its way
    drawn = sum(1 for it in received if it in watcher.painted)
    share = drawn / len(received) if received else float("nan")
    return dict(fps=paints / elapsed, ips=len(received) / elapsed, late=late, pause=pause,
                drawn=drawn, received=len(received), share=share)


def close(app, window, watcher):
    watcher.detach()
    window.close()
    window.deleteLater()
    spin(0.2)


def load():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated numbers of points")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds measured at max speed, per size")
    parser.add_argument("--lecture-speeds", default="1,30",
                        help=f"iterations a second, from the Speed slider's settings {SPEEDS[:-1]}; '' for none")
    parser.add_argument("--lecture-seconds", type=float, default=6.0, help="seconds measured per lecture speed")
    parser.add_argument("--kernel-timeout", type=float, default=900.0,
                        help="seconds to wait for the compiled kernel before measuring")
    args = parser.parse_args(argv)
    sizes = [int(float(v)) for v in args.sizes.split(",") if v.strip()]
    lecture = [int(v) for v in args.lecture_speeds.split(",") if v.strip()]
    for rate in lecture:
        if rate not in SPEEDS or rate == 0:
            parser.error(f"--lecture-speeds: {rate} is not one of the Speed slider's settings {SPEEDS[:-1]}")

    app = make_app()
    import pyqtgraph

    print(f"Qt platform {app.platformName()}, PySide6 {pyside_version}, pyqtgraph {pyqtgraph.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs; window {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, "
          f"k={K}, generated data (separation 2)")
    print(f"load average at start: {load()}", flush=True)
    began = time.perf_counter()
    compiled = kernel.wait(args.kernel_timeout)
    waited = time.perf_counter() - began
    print(f"engine: {'compiled kernel' if compiled else 'numpy passes (' + str(kernel.failure()) + ')'}"
          f" (waited {waited:.1f} s for it)", flush=True)

    print()
    header = (f"{'n':>9} | {'speed':>7} | {'frames/s':>8} {'iter/s':>7} | {'timer late ms p50':>17} {'p95':>5} "
              f"{'max':>5} | {'drawn':>13} | {'pause ms':>8} | {'GUI CPU ms/frame':>16}")
    print(header)
    print("-" * len(header), flush=True)
    setups = []
    for n in sizes:
        window, watcher, times = setup(app, n)
        setups.append((n, times))
        result = measure_max(window, watcher, args.seconds)
        p50, p95, worst = result["late"]
        print(f"{n:>9,} | {'max':>7} | {result['fps']:>8.1f} {result['ips']:>7.1f} | {p50:>17.1f} {p95:>5.1f} "
              f"{worst:>5.0f} | {'-':>13} | {result['pause'] * 1000:>8.0f} | {result['cpu_per_frame'] * 1000:>16.1f}",
              flush=True)
        for rate in lecture:
            r = measure_lecture(window, watcher, rate, args.lecture_seconds)
            p50, p95, worst = r["late"]
            drawn = f"{r['drawn']}/{r['received']} {100 * r['share']:.0f}%"
            print(f"{n:>9,} | {str(rate) + ' it/s':>7} | {r['fps']:>8.1f} {r['ips']:>7.1f} | {p50:>17.1f} "
                  f"{p95:>5.1f} {worst:>5.0f} | {drawn:>13} | {r['pause'] * 1000:>8.0f} | {'-':>16}", flush=True)
        close(app, window, watcher)

    print()
    print("set-up, not counted above (seconds):")
    print(f"{'n':>9} | {'generate':>8} {'window':>7} {'first paint':>11}")
    for n, (generated, built, painted) in setups:
        print(f"{n:>9,} | {generated:>8.2f} {built:>7.2f} {painted:>11.2f}")
    print(f"load average at end: {load()}")
    print("frames/s: paints of the canvas; iter/s: snapshots received; timer late: how late a 10 ms timer in "
          "the GUI thread fires; drawn: iterations received that some paint showed; pause: Pause pressed "
          "until the run says it paused; GUI CPU ms/frame: the GUI thread's CPU time at max speed per frame painted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
