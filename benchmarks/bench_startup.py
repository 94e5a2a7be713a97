"""Start-up of the real window: `python -m emviz` (demo data) to its first paint, cold and warm.

Each measurement launches a fresh ``python -m emviz`` process (the article preset, the
real window) with ``EMVIZ_STARTUP_PROBE=kernel`` (emviz/ui/startup_probe.py): the app
prints the wall-clock time of the main window's first paint, then of the moment the
compiled kernel is ready (until then the window's EM runs on the numpy passes), and
quits. Times are from just before this script launches the process.

What "cold" means here, honestly: the first start from a fresh copy of the source, as
after a ``git clone``: the emviz package is copied without any ``__pycache__`` to a
new temporary directory (so Python compiles emviz's bytecode), and numba's cache
(``NUMBA_CACHE_DIR``) is a new empty directory (so the kernel is compiled from
scratch, in the child process the kernel starts). The installed dependencies keep
the bytecode pip wrote when installing them, as on any real install, and the
operating system's file cache is not dropped (that needs root and would slow down
everybody on a shared machine): a first start after a reboot reads the shared
libraries from disk and is slower than "cold" here. "Warm" is the next start from the
same copy: emviz's bytecode and the kernel are in their caches.

Two more lines show where the time goes: the interpreter alone (``python -c pass``) and
the imports the window needs (emviz.cli and emviz.ui.window, warm); and "no bytecode"
is a start with ``PYTHONPYCACHEPREFIX`` pointing at an empty directory, so that no module
at all (numpy, scipy, PySide6, pyqtgraph, ...) has its bytecode: colder than any real
install, shown for scale.

Run by hand (a table, no assertions on time):

    python benchmarks/bench_startup.py                                  # Qt's offscreen platform
    DISPLAY=:63 QT_QPA_PLATFORM=xcb python benchmarks/bench_startup.py  # a real X server (Xvfb)

Options: --cold-runs 2 (each compiles the kernel from scratch: tens of seconds),
--warm-runs 3.
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

PACKAGE = Path(__file__).resolve().parents[1] / "emviz"
TIMEOUT = 1800.0  # a cold kernel compile at load 10 on 2 cores took 162 s; leave a wide margin
TARGETS = {"warm": 1.5, "cold": 4.0}  # seconds to the first paint (issue 9)


def _env(workdir: Path, **extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(workdir / "src")
    env["NUMBA_CACHE_DIR"] = str(workdir / "numba-cache")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the cold start writes emviz's bytecode, as a first start does
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.pop("EMVIZ_NUMBA", None)
    env.update(extra)
    return env


def fresh_copy() -> Path:
    """A new temporary directory with the package's source only (no bytecode) and an empty numba cache."""
    workdir = Path(tempfile.mkdtemp(prefix="emviz-startup-"))
    shutil.copytree(PACKAGE, workdir / "src" / "emviz", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (workdir / "numba-cache").mkdir()
    return workdir


def launch(env: dict) -> dict:
    """Run ``python -m emviz`` with the probe; seconds to its first paint and to its kernel being ready."""
    env = {**env, "EMVIZ_STARTUP_PROBE": "kernel"}
    began = time.time()
    done = subprocess.run([sys.executable, "-m", "emviz"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=TIMEOUT)
    ended = time.time()
    said = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "emviz-startup":
            said[words[1]] = float(words[2])
    if done.returncode != 0 or "first-paint" not in said:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"python -m emviz exited with status {done.returncode} without a first paint: "
                           + " | ".join(tail))
    kernel = said.get("kernel-ready")
    return dict(paint=said["first-paint"] - began, kernel=None if kernel is None else kernel - began,
                failed="kernel-failed" in said, total=ended - began)


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
    args = parser.parse_args(argv)
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    platform = os.environ.get("QT_QPA_PLATFORM") or "default (DISPLAY=" + os.environ.get("DISPLAY", "") + ")"
    print(f"python -m emviz (article preset, real window), Qt platform {platform}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs; source {PACKAGE}")
    print(f"load average at start: {load()}", flush=True)

    rows = {"cold": [], "warm": [], "no bytecode": []}
    floor_env = None
    for trial in range(args.cold_runs):
        workdir = fresh_copy()
        try:
            env = _env(workdir)
            rows["cold"].append(launch(env))
            print(f"  cold start {trial + 1}: first paint {rows['cold'][-1]['paint']:.2f} s, kernel ready "
                  f"{rows['cold'][-1]['kernel'] or float('nan'):.1f} s", flush=True)
            for _ in range(args.warm_runs):
                rows["warm"].append(launch(env))
            print("  warm starts: first paint " + ", ".join(f"{r['paint']:.2f}" for r in rows["warm"][-args.warm_runs:])
                  + " s", flush=True)
            with tempfile.TemporaryDirectory(prefix="emviz-nopyc-") as nopyc:
                rows["no bytecode"].append(launch({**env, "PYTHONPYCACHEPREFIX": nopyc}))
            if floor_env is None:
                floor_env = env
                interpreter = [timed([sys.executable, "-c", "pass"], env) for _ in range(3)]
                imports = [timed([sys.executable, "-c", "import emviz.cli, emviz.ui.window"], env) for _ in range(3)]
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    header = f"{'start':<14} | {'runs':>4} | {'first paint s':>13} {'(min-max)':>15} | {'kernel ready s':>14} {'(min-max)':>15} | target"
    print(header)
    print("-" * len(header))
    for name, results in rows.items():
        if not results:
            continue
        paints = [r["paint"] for r in results]
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"<= {target:g} s: " + ("met" if statistics.median(paints) <= target else "MISSED")
        if any(r["failed"] for r in results):
            verdict += " (kernel failed: numpy passes)"
        print(f"{name:<14} | {len(results):>4} | {summary(paints):>29} | {summary([r['kernel'] for r in results]):>30} | {verdict}")
    if floor_env is not None:
        print(f"{'python -c pass':<14} | {len(interpreter):>4} | {summary(interpreter):>29} |")
        print(f"{'imports only':<14} | {len(imports):>4} | {summary(imports):>29} |  (import emviz.cli, emviz.ui.window; warm)")
    print(f"load average at end: {load()}")
    print("cold: fresh copy of the source (no emviz bytecode) and an empty numba cache; dependencies keep their "
          "installed bytecode; the OS file cache is not dropped. warm: the next starts of the same copy. "
          "no bytecode: PYTHONPYCACHEPREFIX=<empty dir>, nothing has bytecode (kernel cache warm). Times from "
          "launching the process; median (min-max).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
