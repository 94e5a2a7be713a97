"""Time per EM iteration and peak memory: the compiled kernel, the numpy reference, scikit-learn.

For n in 1e3 .. 1e7 and k in {3, 10} (d = 2, full covariances), one run prints:

* ms per EM iteration of the compiled kernel (emviz.kernel.statistics_pass plus the
  M-step), of gmm.em's numpy path, and of scikit-learn's GaussianMixture, all from
  the same start on the same data (tol = 0). The time per iteration is the slope
  between a short and a long run, so set-up is not counted; best of a few repeats.
* the extra peak resident memory of each: every measurement runs in a fresh
  process, which imports, loads the data, warms up, then resets the resident
  high-water mark and reads it again after the runs (peak_memory.py). RSS
  sees what the compiled code allocates, which tracemalloc does not.
* the exponential floor: n*k exponentials with np.exp (1e6 at a time, one
  thread), with libm's exp in a numba prange loop, and with the kernel's own
  vectorised exp in a prange loop (all threads) - the kernel's time over the
  fastest of them is printed as "x floor".

Run by hand:  python benchmarks/bench_em.py            (about 15 minutes on 2 cores)
              python benchmarks/bench_em.py --quick    (n up to 1e5)
              python benchmarks/bench_em.py --compile  (cold and warm kernel start-up only)
              python benchmarks/bench_em.py --sizes 1e7 --sklearn-seconds 300
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from peak_memory import peak_bytes, reset_peak  # benchmarks/peak_memory.py, beside this script

SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
KS = (3, 10)
SKLEARN_LIMIT_S = 60.0  # per iteration: beyond this scikit-learn is not run


# --------------------------------------------------------------------------- in the child process


def _iterations(n, engine):
    if n >= 10_000_000:
        return (1, 2, 1) if engine == "sklearn" else (1, 3, 1)
    if n >= 1_000_000:
        return 2, 6, 2
    if n >= 100_000:
        return 2, 12, 3
    return 2, 32, 5


def _kernel_em(X, start, iterations, reg_covar=1e-6):
    """EM with the compiled E-step and a numpy M-step (what gmm's dispatch runs)."""
    from emviz import kernel

    n, d = X.shape
    weights, means = start.weights, start.means
    prec_chol = np.linalg.inv(np.linalg.cholesky(start.covariances)).transpose(0, 2, 1)
    eye = np.eye(d)
    for _ in range(iterations):
        ll, nk, s1, s2 = kernel.statistics_pass(X, np.log(weights), means, prec_chol, means)
        nk = nk + 10 * np.finfo(float).eps
        shift = s1 / nk[:, None]
        covariances = (s2 - nk[:, None, None] * shift[:, :, None] * shift[:, None, :]) / nk[:, None, None]
        covariances += reg_covar * eye
        means = means + shift
        weights = nk / nk.sum()
        prec_chol = np.linalg.inv(np.linalg.cholesky(covariances)).transpose(0, 2, 1)
    return ll / n


def _numpy_em(X, start, iterations):
    from emviz.gmm import em

    for _ in em(X, start, tol=0.0, max_iter=iterations, covariance="full"):
        pass


def _sklearn_em(X, start, iterations):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

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


def _floor(X, k):
    """Seconds for n*k exponentials: np.exp, libm in numba prange, the kernel's exp in prange."""
    import numba

    from emviz import kernel

    kernel.wait()
    n = X.shape[0]
    total = n * k
    chunk = min(total, 1_000_000)
    a = -np.random.default_rng(0).random(chunk) * 20
    out = np.empty_like(a)

    def numpy_exp():
        for start in range(0, total, chunk):
            np.exp(a[: min(chunk, total - start)], out=out[: min(chunk, total - start)])

    @numba.njit(parallel=True, nogil=True)
    def libm_exp(a, total):
        chunk = a.size
        parts = np.zeros((total + chunk - 1) // chunk)
        for j in numba.prange(parts.size):
            s = 0.0
            for i in range(min(chunk, total - j * chunk)):
                s += np.exp(a[i])
            parts[j] = s
        return parts.sum()

    exp_add = kernel._exp_add
    block = kernel.BLOCK

    @numba.njit(parallel=True, nogil=True)
    def kernel_exp(a, total):
        n_tasks = (total + kernel.TASK - 1) // kernel.TASK
        parts = np.zeros(n_tasks)
        for task in numba.prange(n_tasks):
            row = np.empty(block)
            m = np.zeros(block)
            s = np.zeros(block)
            t = np.empty(block)
            shifted = np.empty(block)
            bits = shifted.view(np.int64)
            stop = min(total, (task + 1) * kernel.TASK)
            for start in range(task * kernel.TASK, stop, block):
                nb = min(block, stop - start)
                offset = start % (a.size - block) if a.size > block else 0
                for i in range(nb):
                    row[i] = a[offset + i]
                exp_add(row, m, s, t, shifted, bits, nb)
            parts[task] = s.sum()
        return parts.sum()

    libm_exp(a, 10)
    kernel_exp(a, 10)
    repeats = 1 if total >= 50_000_000 else 3
    return {
        "np_exp": _best(numpy_exp, repeats),
        "libm_exp": _best(lambda: libm_exp(a, total), repeats),
        "kernel_exp": _best(lambda: kernel_exp(a, total), repeats),
    }


def _best(fn, repeats, cpu=False):
    """Best wall-clock seconds of ``repeats`` calls, and best CPU seconds (all threads) with cpu=True."""
    walls, cpus = [], []
    for _ in range(repeats):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return (min(walls), min(cpus)) if cpu else min(walls)


def measure(engine, data_file, k):
    """Run in a fresh process: one engine on one data set; a JSON line on stdout."""
    if engine == "numpy":
        os.environ["EMVIZ_NUMBA"] = "0"
    from emviz.gmm import Mixture

    saved = np.load(data_file)
    X = np.ascontiguousarray(saved["X"])
    start = Mixture(saved[f"weights{k}"], saved[f"means{k}"], saved[f"covariances{k}"])
    n = X.shape[0]
    if engine == "floor":
        print(json.dumps(_floor(X, k)))
        return
    run = {"kernel": _kernel_em, "numpy": _numpy_em, "sklearn": _sklearn_em}[engine]
    if engine == "kernel":
        from emviz import kernel

        if not kernel.wait():
            print(json.dumps({"error": kernel.failure()}))
            return
    run(X[: min(n, 2000)], start, 2)  # imports, lazy initialisation, compiled code
    gc.collect()
    exact = reset_peak()
    baseline = peak_bytes()
    short, long, repeats = _iterations(n, engine)
    wall_short, cpu_short = _best(lambda: run(X, start, short), repeats, cpu=True)
    wall_long, cpu_long = _best(lambda: run(X, start, long), repeats, cpu=True)
    print(
        json.dumps(
            {
                "per_iteration": (wall_long - wall_short) / (long - short),
                "cpu_per_iteration": (cpu_long - cpu_short) / (long - short),
                "extra_rss": peak_bytes() - baseline,
                "rss_exact": exact,
            }
        )
    )


# --------------------------------------------------------------------------- in the parent


def _child(*args, env=None, timeout=None):
    """A measurement in a fresh process; subprocess.TimeoutExpired (the child killed) after ``timeout`` s."""
    out = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _make_data(n, directory):
    from emviz.data import generate
    from emviz.gmm import initialize

    path = Path(directory) / f"data-{n}.npz"
    X = generate(n, 10, separation=2.0, seed=1).points
    arrays = {"X": X}
    for k in KS:
        start = initialize(X, k, seed=0)
        arrays.update({f"weights{k}": start.weights, f"means{k}": start.means, f"covariances{k}": start.covariances})
    np.savez(path, **arrays)
    return path


def compile_times():
    """Cold (empty cache) and warm kernel start-up, each in a fresh process."""
    code = (
        "import time; t0 = time.perf_counter(); import emviz.kernel as k; ok = k.wait(); "
        "print({'ready': ok, 'seconds': time.perf_counter() - t0, 'build': k.compile_seconds(), "
        "'failure': k.failure()})"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold (empty cache)", "warm (cached)"):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
            print(f"kernel start-up, {label}: {out.stdout.strip() or out.stderr.strip()}", flush=True)


def _load():
    """The 1, 5 and 15 minute load averages: on a shared machine, how much the figures waited for a core."""
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 1e5 only")
    parser.add_argument("--compile", action="store_true", help="only the kernel's cold and warm start-up")
    parser.add_argument("--sizes", help="comma-separated n (default 1e3..1e7)")
    parser.add_argument("--sklearn-seconds", type=float, metavar="S",
                        help="stop a scikit-learn measurement after S seconds and print '-' (default: no limit)")
    parser.add_argument("--measure", nargs=3, metavar=("ENGINE", "DATA", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        engine, data, k = args.measure
        measure(engine, data, int(k))
        return
    if args.compile:
        compile_times()
        return
    sizes = [int(float(v)) for v in args.sizes.split(",")] if args.sizes else SIZES
    if args.quick:
        sizes = [n for n in sizes if n <= 100_000]
    import numba
    import sklearn

    print(
        f"numpy {np.__version__}, numba {numba.__version__}, scikit-learn {sklearn.__version__}, "
        f"{os.cpu_count()} CPUs; d=2, full covariances; ms per EM iteration; extra peak RSS in MB"
    )
    print(f"load average at the start: {_load()}; ms are wall clock, CPU ms add up all threads", flush=True)
    print(
        "| n | k | kernel ms | numpy ms | sklearn ms | kernel vs sklearn | kernel vs numpy "
        "| kernel CPU ms | numpy CPU ms | sklearn CPU ms "
        "| np.exp ms | libm exp ms | kernel exp ms | x floor | kernel MB | numpy MB | sklearn MB | data MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    sklearn_at = {}
    with tempfile.TemporaryDirectory() as directory:
        for n in sizes:
            data = str(_make_data(n, directory))
            for k in KS:
                kern = _child("--measure", "kernel", data, str(k))
                nump = _child("--measure", "numpy", data, str(k))
                estimate = sklearn_at.get(k, 0.0) * n
                if estimate > SKLEARN_LIMIT_S:
                    skl = None
                    note = f"sklearn skipped: about {estimate:.0f} s per iteration expected"
                else:
                    try:
                        skl = _child("--measure", "sklearn", data, str(k), timeout=args.sklearn_seconds)
                    except subprocess.TimeoutExpired:
                        skl = None
                        note = f"sklearn stopped after {args.sklearn_seconds:g} s (--sklearn-seconds)"
                    else:
                        sklearn_at[k] = skl["per_iteration"] / n
                        note = ""
                floor = _child("--measure", "floor", data, str(k))
                fastest = min(floor.values())
                ms = lambda r: f"{r['per_iteration'] * 1e3:.2f}" if r else "-"  # noqa: E731
                cpu = lambda r: f"{r['cpu_per_iteration'] * 1e3:.2f}" if r else "-"  # noqa: E731
                mb = lambda r: f"{r['extra_rss'] / 2**20:.1f}" if r else "-"  # noqa: E731
                vs = lambda r: f"{r['per_iteration'] / kern['per_iteration']:.1f}x" if r else "-"  # noqa: E731
                print(
                    f"| {n:,} | {k} | {ms(kern)} | {ms(nump)} | {ms(skl)} | {vs(skl)} | {vs(nump)} "
                    f"| {cpu(kern)} | {cpu(nump)} | {cpu(skl)} "
                    f"| {floor['np_exp'] * 1e3:.2f} | {floor['libm_exp'] * 1e3:.2f} | {floor['kernel_exp'] * 1e3:.2f} "
                    f"| {kern['per_iteration'] / fastest:.1f} | {mb(kern)} | {mb(nump)} | {mb(skl)} "
                    f"| {n * 2 * 8 / 2**20:.1f} |" + (f" {note}" if note else ""),
                    flush=True,
                )
            os.remove(data)
    print(f"load average at the end: {_load()}")
    if not kern.get("rss_exact", True):
        print("(the high-water mark could not be reset here: memory includes set-up peaks)")


if __name__ == "__main__":
    main()
