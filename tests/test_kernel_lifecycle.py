"""The compiled kernel's background build and the life of the process around it.

Each test runs a fresh Python with its own empty numba cache (NUMBA_CACHE_DIR), as on a
fresh install: when the build starts, that a program exiting in any phase of it exits
cleanly and at once, and that processes sharing a cache compile it once.
"""

import os
import subprocess
import sys
import textwrap
import time

import pytest

fcntl = pytest.importorskip("fcntl")  # the cache lock is a flock (POSIX)


def run(code, cache_dir, timeout=300, **env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), **env},
    )


def lock_held(cache_dir) -> bool:
    """Whether some process holds the kernel's cache lock for this cache directory."""
    out = run("from emviz import kernel; print(kernel._lock_path())", cache_dir)
    path = out.stdout.strip()
    if not os.path.exists(path):
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_small_data_never_start_the_build(tmp_path):
    """`emviz fit` on 600 points must not start a 20 s compile it will not use."""
    out = run(
        """
        import numpy as np
        from emviz import gmm, kernel
        X = np.random.default_rng(0).normal(size=(600, 2))
        gmm.fit(X, 3, seed=0)
        print(kernel._thread is None)
        X = np.random.default_rng(0).normal(size=(gmm.KERNEL_WORTH_POINTS, 2))
        gmm.fit(X, 3, seed=0, max_iter=2)
        print(kernel._thread is None)
        """,
        tmp_path,
        EMVIZ_NUMBA="1",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


def test_an_exit_in_any_phase_of_the_build_is_clean(tmp_path):
    """A fresh install (empty cache), a program that exits as soon as its work is done.

    1. Exit while the child compiles: exit 0 at once, nothing on stderr, numba never loaded
       here; the child, holding the cache lock, goes on and fills the cache.
    2. The next start exits just as its build imports numba here: the exit waits for the
       build thread instead of letting the interpreter kill it inside numba or LLVM (which
       can abort a process after its work was done: "terminate called without an active
       exception"). An exit hook registered before emviz's runs after it and sees no build
       thread alive.
    3. The start after that is ready, from the cache, loaded here without a child: the child
       that filled the cache recorded it (kernel._write_stamp), so no second interpreter
       checks the cache first.
    """
    out = run(
        """
        import sys, time
        from emviz import gmm, kernel
        from emviz.data import generate
        X = generate(gmm.KERNEL_WORTH_POINTS, 3, seed=0).points
        gmm.fit(X, 3, seed=0, max_iter=3)
        while kernel._child is None:  # the build has taken the cache lock and started the child
            time.sleep(0.01)
        print("numba" in sys.modules, kernel.ready())
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.split() == ["False", "False"]
    assert lock_held(tmp_path), "the child should still be compiling under the cache lock"
    for _ in range(1200):  # the child finishes on its own (20-40 s on a 2-core machine)
        if not lock_held(tmp_path):
            break
        time.sleep(0.5)
    assert not lock_held(tmp_path)
    assert any(tmp_path.rglob("*.nbi")), "the child left no kernel in the cache"

    out = run(
        """
        import atexit, sys, time
        atexit.register(lambda: print("build thread alive at exit:", kernel._thread.is_alive()))
        from emviz import kernel
        kernel.warm_up_in_background()
        while "numba" not in sys.modules and not kernel._finished.is_set():
            time.sleep(0.001)
        print("numba loading here:", not kernel._finished.is_set())
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "terminate" not in out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "numba loading here: True"
    assert lines[-1] == "build thread alive at exit: False"

    out = run("from emviz import kernel; print(kernel.wait(300), kernel.failure(), kernel._child is None)", tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "None", "True"]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counts child processes in /proc")
def test_processes_sharing_a_cache_take_turns(tmp_path):
    """While one process holds the cache lock (compiling), another's build waits for it
    instead of starting a second compile beside it, and gives up at once if it exits."""
    path = run("from emviz import kernel; print(kernel._lock_path())", tmp_path).stdout.strip()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        out = run(
            """
            import os, sys, time
            from emviz import kernel
            kernel.warm_up_in_background()
            time.sleep(1.5)
            me = str(os.getpid())
            children = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == me]
            print(kernel._thread.is_alive(), "numba" in sys.modules, kernel.ready(), len(children))
            """.replace("_ppid(p)", "open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1]"),
            tmp_path,
        )
    finally:
        os.close(fd)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    # still waiting for the lock: no child started, nothing compiled or loaded here
    assert out.stdout.split() == ["True", "False", "False", "0"]
