"""Frame rate and responsiveness of the window while EM runs at full speed.

Opens the real window on n generated points (k=3, tol=0 so EM never stops),
presses Run at the "max" speed, and for a few seconds counts
  * frames: redraws of the canvas, curve and table (drawn at most at screen rate),
  * iterations: snapshots the worker delivered to the GUI thread,
  * event-loop latency: how late a 10 ms QTimer fires (what a click would wait).

Run by hand, offscreen:           python benchmarks/bench_window.py
or on a real X server (Xvfb):     DISPLAY=:99 QT_QPA_PLATFORM=xcb python benchmarks/bench_window.py
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402

from emviz.data import generate  # noqa: E402
from emviz.session import Settings  # noqa: E402
from emviz.ui.controls import SPEEDS  # noqa: E402
from emviz.ui.window import MainWindow, make_app  # noqa: E402


def measure(app, n: int, seconds: float):
    window = MainWindow(generate(n, 3, separation=2.0, seed=1), Settings(k=3, tol=0.0, max_iter=10**6))
    window.resize(1500, 950)
    window.show()
    app.processEvents()
    window.run_controls.speed.setValue(SPEEDS.index(0))
    gaps = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)

    def tick():
        gaps.append(clock.restart())

    probe.timeout.connect(tick)
    frames0, iterations0 = window.frames_drawn, window.session.last.iteration
    window.run_controls.run.click()
    clock.start()
    probe.start()
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        app.processEvents()
        time.sleep(0.001)
    elapsed = time.perf_counter() - began
    probe.stop()
    frames = window.frames_drawn - frames0
    iterations = window.session.last.iteration - iterations0
    window.close()
    late = np.array(gaps[1:], dtype=float) - 10.0
    return frames / elapsed, iterations / elapsed, np.percentile(late, 50), np.percentile(late, 95), late.max()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args(argv)
    app = make_app()
    print(f"Qt platform: {app.platformName()}; window 1500x950; k=3; EM at 'max' speed")
    print(f"{'n':>8} | {'frames/s':>8} {'iterations/s':>12} | {'timer late ms: p50':>18} {'p95':>6} {'max':>6}")
    for n in (int(v) for v in args.sizes.split(",")):
        fps, ips, p50, p95, worst = measure(app, n, args.seconds)
        print(f"{n:>8} | {fps:>8.1f} {ips:>12.1f} | {p50:>18.1f} {p95:>6.1f} {worst:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
