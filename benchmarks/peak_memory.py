"""Peak resident memory of this process, for the benchmarks' "extra MB" columns.

A benchmark measures in a fresh process: it imports and warms up, calls :func:`reset_peak`,
reads :func:`peak_bytes` as its baseline, runs, and reads :func:`peak_bytes` again; the
difference is the peak the run added. Resident memory sees what compiled code allocates,
which tracemalloc does not. Imported by bench_csv.py and bench_em.py, which run as scripts
(``python benchmarks/bench_x.py``), so this folder is first on their ``sys.path``.
"""

from __future__ import annotations

import resource
import sys


def reset_peak() -> bool:
    """Lower the resident high-water mark to the current resident size; False where the kernel cannot.

    Linux: writing 5 to /proc/self/clear_refs. Without it the peak includes the set-up's.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """The resident high-water mark: VmHWM on Linux (what :func:`reset_peak` lowers), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024
