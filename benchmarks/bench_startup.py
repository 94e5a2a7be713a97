"""Start-up of the real window: `python -m emviz` to its first paint, cold and warm; and to the kernel.

Each measurement launches a fresh ``python -m emviz`` process (the real window) with
``EMVIZ_STARTUP_PROBE`` set (emviz/ui/startup_probe.py): the app prints the wall-clock
time of the main window's first paint and quits; with ``=kernel`` it first waits until
the compiled kernel is ready (``emviz.kernel.ready()``; until then the window's EM runs
on the numpy passes). Times are from just before this script launches the process; beside
the first paint, the CPU seconds the process had used by then (the probe's
``time.process_time()``, all its threads), the steadier figure on a shared machine, where
the wall-clock time is mostly waiting for a core.

* First paint: ``python -m emviz`` (the demo data: the article preset, 600 points).
  Data under ``gmm.KERNEL_WORTH_POINTS`` (20 000) points never start the kernel's build,
  so this start never compiles or loads it.
* Kernel ready: ``python -m emviz points.csv`` on a CSV file of 100 000 generated points
  (written by this script), which starts the build on its first pass; its first paint
  (reading the file, initialising on 1e5 points) is shown too.

What "cold" means here, honestly: the first start from a fresh copy of the source, as
after a ``git clone``: the emviz package is copied without any ``__pycache__`` to a
new temporary directory (so Python compiles emviz's bytecode), and numba's cache
(``NUMBA_CACHE_DIR``) is a new empty directory (so the kernel is compiled from
scratch, in the child process the kernel starts). The installed dependencies keep
the bytecode pip wrote when installing them, as on any real install, and the
operating system's file cache is not dropped (that needs root and would slow down
everybody on a shared machine): a first start after a reboot reads the shared
libraries from disk and is slower than "cold" here. "Warm" is a later start from the
same copy: emviz's bytecode and the kernel are in their caches. The kernel's cold
start is the first start with data worth compiling for; its bytecode is warm by then.

For scale: the interpreter alone (``python -c pass``), the imports the window needs
(emviz.cli and emviz.ui.window, warm), and "no bytecode", a start with
``PYTHONPYCACHEPREFIX`` at an empty directory, so that no module at all (numpy, scipy,
PySide6, pyqtgraph, ...) has its bytecode: colder than any real install.

Run by hand (a table, no assertions on time):

    python benchmarks/bench_startup.py                                  # Qt's offscreen platform
    DISPLAY=:63 QT_QPA_PLATFORM=xcb python benchmarks/bench_startup.py  # a real X server (Xvfb)

Options: --cold-runs 2 (each compiles the kernel from scratch: tens of seconds to
minutes), --warm-runs 3.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parents[1] / "emviz"
TIMEOUT = 900.0  # a cold kernel compile at load 10 on 2 cores took 162 s; leave a wide margin
TARGETS = {"cold": 4.0, "warm": 1.5}  # seconds to the first paint (issue 9)
CSV_POINTS = 100_000


def _env(workdir: Path) -> dict:
    """The starts' environment: this one's, without what would keep them from writing (and then
    reading) emviz's bytecode and numba's cache, as a real install does. A shell with
    PYTHONDONTWRITEBYTECODE=1 would otherwise make every "warm" start compile emviz again."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(workdir / "src")
    env["NUMBA_CACHE_DIR"] = str(workdir / "numba-cache")
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "EMVIZ_NUMBA"):
        env.pop(name, None)
    return env


def fresh_copy() -> Path:
    """A new temporary directory: the package's source only (no bytecode), an empty numba cache, a CSV file."""
    workdir = Path(tempfile.mkdtemp(prefix="emviz-startup-"))
    shutil.copytree(PACKAGE, workdir / "src" / "emviz", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (workdir / "numba-cache").mkdir()
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]])
    points = centres[rng.integers(0, 3, CSV_POINTS)] + rng.standard_normal((CSV_POINTS, 2))
    np.savetxt(workdir / "points.csv", points, fmt="%.6f", delimiter=",", header="x,y", comments="")
    return workdir


def launch(env: dict, mode: str, *args: str) -> dict:
    """Run ``python -m emviz ARGS`` with the probe; seconds to its first paint (and to the kernel's readiness)."""
    env = {**env, "EMVIZ_STARTUP_PROBE": mode}
    began = time.time()
    done = subprocess.run([sys.executable, "-m", "emviz", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=TIMEOUT)
    said, cpu = {}, None
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "emviz-startup":
            said[words[1]] = float(words[2])
            if words[1] == "first-paint" and len(words) >= 4:
                cpu = float(words[3])
    if done.returncode != 0 or "first-paint" not in said:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        error = f"exited with status {done.returncode} without a first paint: " + " | ".join(tail)
        print(f"  python -m emviz {' '.join(args)} {error}", flush=True)
        return dict(paint=None, cpu=None, kernel=None, failed=False, error=error)
    settled = said.get("kernel-ready", said.get("kernel-failed"))
    return dict(paint=said["first-paint"] - began, cpu=cpu, kernel=None if settled is None else settled - began,
                failed="kernel-failed" in said, error=None)


def timed(command, env) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return time.perf_counter() - began


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def summary(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return f"{'-':>7} {'':>15}"
    if len(values) == 1:
        return f"{values[0]:>7.2f} {'':>15}"
    return f"{statistics.median(values):>7.2f} {f'({min(values):.2f}-{max(values):.2f})':>15}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=2, help="fresh copies, each started cold once")
    parser.add_argument("--warm-runs", type=int, default=3, help="warm starts after each cold one")
    parser.add_argument("--no-kernel", action="store_true",
                        help="skip the 1e5-point CSV starts (a cold kernel compile takes minutes on a busy machine)")
    args = parser.parse_args(argv)
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    platform = os.environ.get("QT_QPA_PLATFORM") or "default (DISPLAY=" + os.environ.get("DISPLAY", "") + ")"
    print(f"python -m emviz, the real window; Qt platform {platform}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; source {PACKAGE}")
    print(f"load average at start: {load()}", flush=True)

    rows = {name: [] for name in ("demo, cold", "demo, warm", "demo, no bytecode",
                                  "1e5 CSV, cold kernel", "1e5 CSV, warm")}
    interpreter = imports = None
    for trial in range(args.cold_runs):
        workdir = fresh_copy()
        csv = str(workdir / "points.csv")
        try:
            env = _env(workdir)
            rows["demo, cold"].append(launch(env, "paint"))
            if not any((workdir / "src" / "emviz").rglob("*.pyc")):
                # e.g. PYTHONDONTWRITEBYTECODE set some other way than in the environment _env() cleans
                print("  note: the cold start wrote no emviz bytecode: the 'warm' starts below compile it again",
                      flush=True)
            rows["demo, warm"] += [launch(env, "paint") for _ in range(args.warm_runs)]
            if not args.no_kernel:
                rows["1e5 CSV, cold kernel"].append(launch(env, "kernel", csv))
                rows["1e5 CSV, warm"] += [launch(env, "kernel", csv) for _ in range(args.warm_runs)]
            with tempfile.TemporaryDirectory(prefix="emviz-nopyc-") as nopyc:
                rows["demo, no bytecode"].append(launch({**env, "PYTHONPYCACHEPREFIX": nopyc}, "paint"))
            seconds = lambda r, key="paint": "-" if r[key] is None else f"{r[key]:.2f}"  # noqa: E731
            print(f"  copy {trial + 1}: demo first paint cold {seconds(rows['demo, cold'][-1])} s, warm "
                  + ", ".join(seconds(r) for r in rows["demo, warm"][-args.warm_runs:])
                  + (f" s; kernel ready cold {seconds(rows['1e5 CSV, cold kernel'][-1], 'kernel')}" if not args.no_kernel
                     else "") + " s", flush=True)
            if interpreter is None:
                interpreter = [timed([sys.executable, "-c", "pass"], env) for _ in range(3)]
                imports = [timed([sys.executable, "-c", "import emviz.cli, emviz.ui.window"], env) for _ in range(3)]
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    header = (f"{'start':<22} | {'runs':>4} | {'first paint s':>13} {'(min-max)':>15} | {'its CPU s':>9} "
              f"{'(min-max)':>15} | {'kernel ready s':>14} {'(min-max)':>15} | target (first paint)")
    print(header)
    print("-" * len(header))
    for name, results in rows.items():
        if not results:
            continue
        paints = [r["paint"] for r in results if r["paint"] is not None]
        target = TARGETS.get(name.split(", ")[1]) if name.startswith("demo") else None
        verdict = ""
        if target and paints:
            verdict = f"<= {target:g} s: " + ("met" if statistics.median(paints) <= target else "MISSED")
        crashed = sum(1 for r in results if r["error"])
        if crashed:
            verdict += f" ({crashed} run{'s' if crashed > 1 else ''} ended without a first paint)"
        if any(r["failed"] for r in results):
            verdict += " (the kernel failed: numpy passes)"
        print(f"{name:<22} | {len(results):>4} | {summary(paints):>29} | {summary([r['cpu'] for r in results]):>25} | "
              f"{summary([r['kernel'] for r in results]):>30} | {verdict}")
    if interpreter is not None:
        print(f"{'python -c pass':<22} | {len(interpreter):>4} | {summary(interpreter):>29} |")
        print(f"{'imports only, warm':<22} | {len(imports):>4} | {summary(imports):>29} |"
              "  (import emviz.cli, emviz.ui.window)")
    print(f"load average at end: {load()}")
    print("cold: a fresh copy of the source (no emviz bytecode) and an empty numba cache; dependencies keep "
          "their installed bytecode; the OS file cache is not dropped. warm: later starts of the same copy. "
          "no bytecode: PYTHONPYCACHEPREFIX=<empty dir>, no module has bytecode. demo: the article preset "
          "(600 points: the kernel is not started); 1e5 CSV: 100 000 points from a file, which start the "
          "kernel's build. Seconds from launching the process; median (min-max). its CPU: the CPU seconds the "
          "process had used by its first paint (all its threads; not the display check's probe process), which "
          "waiting for a core on a busy machine does not count.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
