"""Time per EM iteration and peak memory: emviz.gmm.em against scikit-learn's GaussianMixture.

Both start from the same mixture on the same data and run a fixed number of
iterations (tol=0). The time per iteration is the slope between a short and a long
run, so one-off set-up (scikit-learn's initial responsibilities, our feature
matrix) is not counted as iteration time; the peak memory is of the long run,
traced with tracemalloc (numpy reports its buffers to it), relative to the data.

Run by hand:  python benchmarks/bench_em.py  [--quick]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
import warnings

import numpy as np

from emviz.data import generate
from emviz.gmm import em, initialize

try:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
except ImportError:  # pragma: no cover
    sys.exit("the benchmark compares against scikit-learn: pip install -e '.[test]'")


def run_ours(X, start, iterations):
    for _ in em(X, start, tol=0.0, max_iter=iterations, covariance="full"):
        pass


def run_sklearn(X, start, iterations):
    g = GaussianMixture(
        start.k,
        covariance_type="full",
        tol=0.0,
        max_iter=iterations,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=np.linalg.inv(start.covariances),
        init_params="random",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        g.fit(X)


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def per_iteration(run, X, start, short, long, repeats):
    t_short = best_time(lambda: run(X, start, short), repeats)
    t_long = best_time(lambda: run(X, start, long), repeats)
    return (t_long - t_short) / (long - short)


def peak_memory(run, X, start, iterations):
    gc.collect()
    tracemalloc.start()
    run(X, start, iterations)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 1e5 only")
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"numpy {np.__version__}; d=2, full covariances; times per EM iteration (best of repeats)")
    header = f"{'n':>9} {'k':>3} | {'emviz ms':>9} {'sklearn ms':>10} {'speed-up':>8} | {'emviz MB':>8} {'sklearn MB':>10} {'mem ratio':>9} | {'data MB':>7}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        for k in (3, 10):
            X = generate(n, k, separation=2.0, seed=1).points
            start = initialize(X, k, seed=0)
            short, long = (2, 6) if n >= 1_000_000 else (2, 12) if n >= 100_000 else (2, 32)
            repeats = 2 if n >= 1_000_000 else 3 if n >= 100_000 else 7
            ours = per_iteration(run_ours, X, start, short, long, repeats)
            theirs = per_iteration(run_sklearn, X, start, short, long, repeats)
            mem_ours = peak_memory(run_ours, X, start, short)
            mem_theirs = peak_memory(run_sklearn, X, start, short)
            print(
                f"{n:>9} {k:>3} | {ours * 1e3:>9.1f} {theirs * 1e3:>10.1f} {theirs / ours:>7.1f}x |"
                f" {mem_ours / 2**20:>8.1f} {mem_theirs / 2**20:>10.1f} {mem_ours / mem_theirs:>9.2f} |"
                f" {X.nbytes / 2**20:>7.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
