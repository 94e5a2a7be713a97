"""``EMVIZ_STARTUP_PROBE``: say when the window first painted, then quit (for benchmarks/bench_startup.py).

Off unless the variable is set; ``emviz`` (the window command) then installs this probe:

``EMVIZ_STARTUP_PROBE=paint``
    once the main window has painted for the first time, print
    ``emviz-startup first-paint <time.time()> <CPU seconds>`` on stdout and quit (exit
    status 0); the CPU seconds are this process's until then (``time.process_time()``, all
    its threads), which a busy machine's waiting for a core does not count;
``EMVIZ_STARTUP_PROBE=kernel``
    the same line, then wait until the compiled kernel is ready (``emviz.kernel.ready()``)
    or has failed, print ``emviz-startup kernel-ready <time.time()>`` (or
    ``kernel-failed <time.time()> <why>``) and quit. Only data of ``gmm.KERNEL_WORTH_POINTS``
    points or more start the kernel's build (the demo data do not): open such data with
    this mode, or it waits for ever.

The times are wall-clock seconds since the epoch, so the launching process can subtract
its own launch time.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QMainWindow

ENV = "EMVIZ_STARTUP_PROBE"
MODES = ("paint", "kernel")


def _say(*words):
    sys.stdout.write(" ".join(("emviz-startup",) + words) + "\n")
    sys.stdout.flush()


class StartupProbe(QObject):
    """An event filter that waits for the main window's first paint.

    It watches the application only until the main window exists (the first event sent to
    a QMainWindow: the window's construction sends it its first children), then that window
    alone: an application-wide filter sees every event of the window's construction in
    Python (some 7 500 before the first paint), which made the start it timed about 0.1 s
    slower than a start without the probe. A window paints itself first in a paint pass.
    """

    def __init__(self, app, mode: str):
        super().__init__(app)
        self.app = app
        self.mode = mode if mode in MODES else "paint"
        self.window = None  # the main window, once it exists
        self._seen = False
        self._poll = None
        app.installEventFilter(self)

    def eventFilter(self, obj, event):
        if self.window is None:
            if not isinstance(obj, QMainWindow):
                return False
            self.window = obj  # in its construction: maybe not yet the Python object it becomes
            self.app.removeEventFilter(self)
            obj.installEventFilter(self)  # from now on only the window's own events come here
        if not self._seen and event.type() == QEvent.Type.Paint:
            self._seen = True
            obj.removeEventFilter(self)
            # the rest of this paint pass (every widget of the window) runs first
            QTimer.singleShot(0, self._painted)
        return False

    def _painted(self):
        _say("first-paint", f"{time.time():.6f}", f"{time.process_time():.3f}")
        if self.mode == "paint":
            self.app.quit()
            return
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._check_kernel)
        self._poll.start(10)

    def _check_kernel(self):
        from emviz import kernel

        if kernel.ready():
            _say("kernel-ready", f"{time.time():.6f}")
        elif kernel.failure():
            _say("kernel-failed", f"{time.time():.6f}", " ".join(str(kernel.failure()).split()))
        else:
            return
        self._poll.stop()
        self.app.quit()


def install(app, mode: str) -> StartupProbe:
    return StartupProbe(app, mode.strip().lower())
