"""PySide6 6.12.0 on Python < 3.12 aborts the interpreter after many Signal(object) emits.

Seen on this project's machines: 20,000 emits of a Python object end in
"Fatal Python error: bool_dealloc". pyproject.toml excludes that release; this test
runs the same load in a child process (an abort would take pytest down with it) so
that a PySide6 that misbehaves this way fails the suite instead of the user's session.
"""

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import numpy as np
    from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

    from emviz.gmm import initialize, em

    class Emitter(QObject):
        snapshot = Signal(object)

    class Receiver(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0
            self.converged = 0

        @Slot(object)
        def take(self, step):
            self.count += 1
            self.converged += bool(step.converged)

    app = QCoreApplication([])
    X = np.random.default_rng(0).normal(size=(40, 2))
    steps = list(em(X, initialize(X, 2), tol=0.0, max_iter=20))
    emitter, receiver = Emitter(), Receiver()
    emitter.snapshot.connect(receiver.take)
    for i in range(20_000):
        emitter.snapshot.emit(steps[i % len(steps)])
    assert receiver.count == 20_000, receiver.count
    print("emitted", receiver.count)
    """
)


def test_twenty_thousand_object_emits_do_not_abort():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"child exited {proc.returncode}:\n{proc.stderr[-2000:]}"
    assert "emitted 20000" in proc.stdout
