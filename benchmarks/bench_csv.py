"""CSV load time and peak memory: emviz.data.load_csv against plain pandas.read_csv, in the same run.

For 1e5 and 1e6 rows, one run prints, per file:

* "2 cols": two columns of floats, no header (the common export);
* "4 cols": a header, four columns of floats, and three bad rows (a word in one
  column, 'NA' in another), which emviz drops and reports by file, line and column.

For each, the best of a few loads of ``emviz.data.load_csv(path)`` (sniffing, reading
in pieces, validation; what the window runs in its loading thread) and of
``pandas.read_csv(path)`` with its defaults, in wall-clock and CPU seconds (all threads),
their ratio, and the extra peak resident memory of each. Every measurement runs in a fresh
process that imports, warms up on a small file, resets the resident high-water mark
and reads it again after the loads (peak_memory.py).

Run by hand:  python benchmarks/bench_csv.py            (about a minute on 2 cores)
              python benchmarks/bench_csv.py --quick    (1e5 rows only)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from peak_memory import peak_bytes, reset_peak  # benchmarks/peak_memory.py, beside this script

SIZES = (100_000, 1_000_000)
REPEATS = 3


# --------------------------------------------------------------------------- in the child process


def measure(reader, path, warm):
    import warnings

    import pandas as pd

    from emviz.data import load_csv

    warnings.simplefilter("ignore")  # pandas' mixed-types warning on the bad rows
    load = {"emviz": lambda p: load_csv(p).points, "pandas": lambda p: pd.read_csv(p)}[reader]
    load(warm)
    baseline = peak_bytes()
    reset = reset_peak()
    if reset:
        baseline = peak_bytes()
    wall, cpu = [], []
    for _ in range(REPEATS):
        w, c = time.perf_counter(), time.process_time()
        result = load(path)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        del result
    return {"wall": min(wall), "cpu": min(cpu), "extra_rss": peak_bytes() - baseline, "rss_reset": reset}


# --------------------------------------------------------------------------- in the parent


def _child(reader, path, warm):
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from bench_csv import measure; "
            "print(json.dumps(measure(sys.argv[2], sys.argv[3], sys.argv[4])))")
    root = Path(__file__).resolve().parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root.parent), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code, str(root), reader, str(path), str(warm)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_files(n, directory):
    """The two files of ``n`` rows: 2 columns without a header, 4 with a header and 3 bad rows."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 100.0, 1e-3] + [0.0, 5.0, -50.0, 1.0]
    two = Path(directory) / f"two_{n}.csv"
    np.savetxt(two, X[:, :2], delimiter=",", fmt="%.17g")
    four = Path(directory) / f"four_{n}.csv"
    np.savetxt(four, X, delimiter=",", header="a,b,c,d", comments="", fmt="%.17g")
    lines = four.read_text().splitlines(keepends=True)
    for row in (5, n // 3, n - 10):
        lines[row] = "1.0,oops,3.0,NA\n"
    four.write_text("".join(lines))
    return {"2 cols": (two, n), "4 cols": (four, n)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5 rows only")
    args = parser.parse_args(argv)
    sizes = SIZES[:1] if args.quick else SIZES
    print(f"best of {REPEATS} loads, each reader in a fresh process; CPU = all threads\n")
    header = ("| rows | file | MB | emviz s | pandas s | emviz / pandas | emviz CPU s | pandas CPU s "
              "| CPU ratio | emviz extra MB | pandas extra MB |")
    print(header)
    print("|" + "---:|" * 2 + "---:|" * 9)
    with tempfile.TemporaryDirectory() as directory:
        warm = Path(directory) / "warm.csv"
        warm.write_text("x,y\n1,2\n3,4\n5,6\n")
        for n in sizes:
            for kind, (path, _) in make_files(n, directory).items():
                ours = _child("emviz", path, warm)
                theirs = _child("pandas", path, warm)
                print(f"| {n:,} | {kind} | {path.stat().st_size / 1e6:.1f} | {ours['wall']:.3f} | "
                      f"{theirs['wall']:.3f} | {ours['wall'] / theirs['wall']:.2f}x | {ours['cpu']:.3f} | "
                      f"{theirs['cpu']:.3f} | {ours['cpu'] / theirs['cpu']:.2f}x | "
                      f"{ours['extra_rss'] / 1e6:.0f} | {theirs['extra_rss'] / 1e6:.0f} |", flush=True)
    if not (ours["rss_reset"] and theirs["rss_reset"]):
        print("\n(the resident high-water mark could not be reset: the memory columns include start-up)")
    print(f"\nload average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
