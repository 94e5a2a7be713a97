"""EM in a QThread: a worker that pulls snapshots from the engine and emits each one.

The worker QObject has no parent and is moved to its own QThread (superqt's
GeneratorWorker, pyqtgraph's Qt crash course). Pause and stop are flags checked
between iterations: a queued slot would never be delivered while the loop runs.
:class:`EMRunner` lives in the GUI thread, owns the thread's life cycle and
re-emits what the worker says as GUI-thread signals, tagged so that snapshots
still queued from a run that was stopped are dropped.
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

from emviz.gmm import EMStep

FINISHED_BUDGET = "budget"  # did the number of iterations asked for (Step)
FINISHED_PAUSED = "paused"
FINISHED_STOPPED = "stopped"
FINISHED_DONE = "done"  # converged or reached max_iter: the generator is exhausted
FINISHED_FAILED = "failed"


class EMWorker(QObject):
    """Pulls up to ``budget`` snapshots from ``steps``, at most one per ``interval`` seconds."""

    stepped = Signal(object)  # (token, EMStep)
    failed = Signal(object)  # (token, message)
    finished = Signal(object)  # (token, reason)

    def __init__(self, steps: Iterator[EMStep], budget: int, interval: float, token: int):
        super().__init__()
        self._steps = steps
        self._budget = budget
        self.interval = interval
        self._token = token
        self._pause = threading.Event()
        self._stop = threading.Event()

    def request_pause(self):
        self._pause.set()

    def request_stop(self):
        self._stop.set()

    def _halted(self):
        return self._pause.is_set() or self._stop.is_set()

    @Slot()
    def work(self):
        reason = FINISHED_BUDGET
        try:
            done = 0
            while done < self._budget:
                if self._halted():
                    reason = FINISHED_STOPPED if self._stop.is_set() else FINISHED_PAUSED
                    break
                began = time.monotonic()
                step = next(self._steps, None)
                if step is None:
                    reason = FINISHED_DONE
                    break
                self.stepped.emit((self._token, step))
                done += 1
                if step.converged:
                    reason = FINISHED_DONE
                    break
                if done < self._budget:
                    self._wait_out(began)
        except Exception as exc:  # noqa: BLE001 - every failure goes to the user, none is swallowed
            reason = FINISHED_FAILED
            self.failed.emit((self._token, str(exc) or type(exc).__name__))
        finally:
            self.finished.emit((self._token, reason))

    def _wait_out(self, began):
        """Sleep what is left of this iteration's interval, in slices, so pause and stop stay prompt."""
        while not self._halted():
            left = self.interval - (time.monotonic() - began)
            if left <= 0:
                return
            time.sleep(min(left, 0.02))


class EMRunner(QObject):
    """Starts, pauses and stops EM workers; every signal it emits is in the GUI thread."""

    stepped = Signal(object)  # EMStep
    failed = Signal(str)
    finished = Signal(str)  # reason
    running_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: EMWorker | None = None
        self._token = 0
        self._interval = 0.0
        self._finishing: list = []  # (thread, worker) pairs stopped but not yet joined

    @property
    def running(self) -> bool:
        return self._worker is not None

    def set_interval(self, seconds: float):
        """Minimum time per iteration; takes effect at once, also in a running worker."""
        self._interval = max(0.0, float(seconds))
        if self._worker is not None:
            self._worker.interval = self._interval

    def start(self, steps: Iterator[EMStep], budget: int) -> bool:
        """Run up to ``budget`` iterations of ``steps`` in a new thread; False if one is running."""
        if self.running:
            return False
        self._token += 1
        worker = EMWorker(steps, budget, self._interval, self._token)
        thread = QThread()
        thread.setObjectName("emviz-em")
        worker.moveToThread(thread)
        thread.started.connect(worker.work)
        # Bound methods of this GUI-thread object: Qt queues these calls into the GUI thread.
        worker.stepped.connect(self._on_stepped)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)
        return True

    def pause(self):
        """Ask the worker to stop after the current iteration; ``finished('paused')`` follows."""
        if self._worker is not None:
            self._worker.request_pause()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Stop now and join the thread; snapshots still queued from this run are dropped."""
        if self._worker is None:
            return True
        self._worker.request_stop()
        self._token += 1  # whatever the old worker still has in the queue is ignored
        joined = self._release(timeout_ms)
        self.running_changed.emit(False)
        self.finished.emit(FINISHED_STOPPED)
        return joined

    def _release(self, timeout_ms: int = 5000) -> bool:
        """Join the thread, then drop both objects.

        Python owns them; releasing them before the thread has ended is what gives
        "QThread: Destroyed while thread is still running", so the join comes first.
        """
        thread, worker = self._thread, self._worker
        thread.quit()
        joined = thread.wait(timeout_ms)
        self._thread = self._worker = None
        if not joined:  # an iteration longer than the timeout: keep both alive until it ends
            self._finishing.append((thread, worker))
            thread.finished.connect(self._on_late_thread_finished)
        return joined

    @Slot()
    def _on_late_thread_finished(self):
        for pair in list(self._finishing):
            if pair[0].wait(0):
                self._finishing.remove(pair)

    @Slot(object)
    def _on_stepped(self, payload):
        token, step = payload
        if token == self._token:
            self.stepped.emit(step)

    @Slot(object)
    def _on_failed(self, payload):
        token, message = payload
        if token == self._token:
            self.failed.emit(message)

    @Slot(object)
    def _on_finished(self, payload):
        token, reason = payload
        if token != self._token or self._worker is None:
            return
        self._release()
        self.running_changed.emit(False)
        self.finished.emit(reason)
