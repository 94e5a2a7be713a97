"""Jobs in a QThread: a worker that pulls results from any job and emits each one.

A :class:`Job` is an iterator of results (EM snapshots today; the fits of a
model-selection sweep or of restarts next) and says itself when it is done: it
runs out, or :attr:`Job.is_last` says a result ends it (EM's converged step). The
worker only pulls, paces and reports.

The worker QObject has no parent and is moved to its own QThread (superqt's
GeneratorWorker, pyqtgraph's Qt crash course). Pause and stop are flags checked
between results: a queued slot would never be delivered while the loop runs.
:class:`JobRunner` lives in the GUI thread, owns the thread's life cycle and
re-emits what the worker says as GUI-thread signals, tagged so that results
still queued from a run that was stopped are dropped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

FINISHED_BUDGET = "budget"  # gave the number of results asked for (a Step)
FINISHED_PAUSED = "paused"
FINISHED_STOPPED = "stopped"
FINISHED_DONE = "done"  # the job says it is done (ran out, or its last result came)
FINISHED_FAILED = "failed"


def _never(result: Any) -> bool:
    return False


@dataclass
class Job:
    """Work that yields results, one at a time.

    Attributes
    ----------
    results : iterator of results
        Pulled in the worker's thread; an exception in it is reported, never swallowed.
    total : int or None
        How many results to expect, for progress (None: unknown).
    is_last : callable(result) -> bool
        True for a result after which the job is done without pulling again
        (EM's converged step): the run ends at once, not one interval later.
    name : str
        Names the thread, for debuggers and crash reports.
    """

    results: Iterator[Any]
    total: int | None = None
    is_last: Callable[[Any], bool] = field(default=_never)
    name: str = "job"


def as_job(work: Job | Iterator[Any]) -> Job:
    return work if isinstance(work, Job) else Job(iter(work))


class JobWorker(QObject):
    """Pulls up to ``budget`` results from ``job``, at most one per ``interval`` seconds."""

    result = Signal(object)  # (token, result)
    progressed = Signal(object)  # (token, results so far, total or None)
    failed = Signal(object)  # (token, message)
    finished = Signal(object)  # (token, reason)

    def __init__(self, job: Job | Iterator[Any], budget: int, interval: float, token: int):
        super().__init__()
        self._job = as_job(job)
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

    def _emit_result(self, result):
        self.result.emit((self._token, result))

    @Slot()
    def work(self):
        reason = FINISHED_BUDGET
        job = self._job
        try:
            done = 0
            while done < self._budget:
                if self._halted():
                    reason = FINISHED_STOPPED if self._stop.is_set() else FINISHED_PAUSED
                    break
                began = time.monotonic()
                try:
                    result = next(job.results)
                except StopIteration:
                    reason = FINISHED_DONE
                    break
                self._emit_result(result)
                done += 1
                self.progressed.emit((self._token, done, job.total))
                if job.is_last(result):
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
        """Sleep what is left of this result's interval, in slices, so pause and stop stay prompt."""
        while not self._halted():
            left = self.interval - (time.monotonic() - began)
            if left <= 0:
                return
            time.sleep(min(left, 0.02))


class JobRunner(QObject):
    """Starts, pauses and stops job workers; every signal it emits is in the GUI thread."""

    result = Signal(object)
    progressed = Signal(int, object)  # results so far in this start, total or None
    failed = Signal(str)
    finished = Signal(str)  # reason
    running_changed = Signal(bool)

    worker_class = JobWorker

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: JobWorker | None = None
        self._token = 0
        self._interval = 0.0
        self._finishing: list = []  # (thread, worker) pairs stopped but not yet joined

    @property
    def running(self) -> bool:
        return self._worker is not None

    def set_interval(self, seconds: float):
        """Minimum time per result; takes effect at once, also in a running worker."""
        self._interval = max(0.0, float(seconds))
        if self._worker is not None:
            self._worker.interval = self._interval

    def start(self, job: Job | Iterator[Any], budget: int) -> bool:
        """Pull up to ``budget`` results of ``job`` in a new thread; False if one is running."""
        if self.running:
            return False
        job = as_job(job)
        self._token += 1
        worker = self.worker_class(job, budget, self._interval, self._token)
        thread = QThread()
        thread.setObjectName(f"emviz-{job.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.work)
        # Bound methods of this GUI-thread object: Qt queues these calls into the GUI thread.
        worker.result.connect(self._on_result)
        worker.progressed.connect(self._on_progressed)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)
        return True

    def pause(self):
        """Ask the worker to stop after the current result; ``finished('paused')`` follows."""
        if self._worker is not None:
            self._worker.request_pause()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Stop now and join the thread; results still queued from this run are dropped."""
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

        Python owns them (no parent), so dropping the last reference deletes them, as
        deleteLater would; releasing them before the thread has ended is what gives
        "QThread: Destroyed while thread is still running", so the join comes first.
        """
        thread, worker = self._thread, self._worker
        thread.quit()
        joined = thread.wait(timeout_ms)
        self._thread = self._worker = None
        if not joined:  # a result that takes longer than the timeout: keep both alive until it ends
            self._finishing.append((thread, worker))
            thread.finished.connect(self._on_late_thread_finished)
        return joined

    @Slot()
    def _on_late_thread_finished(self):
        for pair in list(self._finishing):
            if pair[0].wait(0):
                self._finishing.remove(pair)

    @Slot(object)
    def _on_result(self, payload):
        token, result = payload
        if token == self._token:
            self.result.emit(result)

    @Slot(object)
    def _on_progressed(self, payload):
        token, done, total = payload
        if token == self._token:
            self.progressed.emit(done, total)

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
