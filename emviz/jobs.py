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

Results are handed over through an outbox, not one queued signal each: the worker
emits ``delivered`` only when the outbox was empty, and the runner takes everything
in it at once. A fast job (EM on 1e4 points makes hundreds of results a second) then
costs the GUI thread one wake-up per turn of its event loop instead of two per
result, each of which had to win the GIL back from the busy worker.
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

    # emitted in the worker's own thread, for every result (direct connections only: a
    # queued one would cost the GUI thread a wake-up per result; the runner uses the outbox)
    result = Signal(object)  # (token, result)
    progressed = Signal(object)  # (token, results so far, total or None)
    delivered = Signal(object)  # token: the outbox holds results (emitted when it was empty)
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
        self._outbox: list = []
        self._done = 0
        self._outbox_lock = threading.Lock()

    def take(self) -> tuple[list, int, int | None]:
        """The results that wait in the outbox (oldest first), how many so far, and the total."""
        with self._outbox_lock:
            results, self._outbox = self._outbox, []
            return results, self._done, self._job.total

    def prepare(self, result):
        """What goes into the outbox for ``result``; runs in the worker's thread (a subclass
        adds what the GUI would otherwise compute, e.g. the colours of the points)."""
        return result

    def _post(self, item, done):
        with self._outbox_lock:
            first = not self._outbox
            self._outbox.append(item)
            self._done = done
        if first:
            self.delivered.emit(self._token)

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
                done += 1
                last = job.is_last(result) or done >= self._budget
                self._emit_result(result)
                self._post(self.prepare_last(result) if last else self.prepare(result), done)
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

    def prepare_last(self, result):
        """:meth:`prepare` for the last result of this run (the one the GUI keeps showing)."""
        return self.prepare(result)

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
        worker = self._make_worker(job, budget)
        thread = QThread()
        thread.setObjectName(f"emviz-{job.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.work)
        # Bound methods of this GUI-thread object: Qt queues these calls into the GUI thread.
        worker.delivered.connect(self._on_delivered)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)
        return True

    def _make_worker(self, job: Job, budget: int) -> JobWorker:
        return self.worker_class(job, budget, self._interval, self._token)

    def pause(self, *, now: bool = False):
        """Ask the worker to stop after the current result; ``finished('paused')`` follows.

        With ``now``, the pause takes effect at once: ``finished('paused')`` is emitted
        before this returns and the result the worker is still computing is dropped
        (the job has then moved one result past the last one delivered: EM starts its
        next run from the history instead). The thread ends in the background; a new
        job may start meanwhile.
        """
        worker = self._worker
        if worker is None:
            return
        worker.request_pause()
        if not now:
            return
        self._drain(worker)  # what had arrived before the click still counts
        self._token += 1
        self._detach()
        self.running_changed.emit(False)
        self.finished.emit(FINISHED_PAUSED)

    def wait_finishing(self, timeout_ms: int = 5000) -> bool:
        """Join the threads of runs that were paused at once and are still ending."""
        joined = True
        for thread, _ in list(self._finishing):
            joined = thread.wait(timeout_ms) and joined
        self._on_late_thread_finished()
        return joined

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Stop now and join the thread; results still queued from this run are dropped."""
        if self._worker is None:
            return self.wait_finishing(timeout_ms)
        self._worker.request_stop()
        self._token += 1  # whatever the old worker still has in the queue is ignored
        joined = self._release(timeout_ms)
        joined = self.wait_finishing(timeout_ms) and joined
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

    def _detach(self):
        """Let the thread end on its own; it is joined when it has, or by :meth:`stop`."""
        thread, worker = self._thread, self._worker
        thread.quit()
        self._thread = self._worker = None
        self._finishing.append((thread, worker))
        thread.finished.connect(self._on_late_thread_finished)

    @Slot()
    def _on_late_thread_finished(self):
        # QThread.finished is emitted just before the thread ends: the one that sent it is
        # joined (a moment's wait), not tested with wait(0), which can still say "running"
        # and would leave it in the list for good
        ended = self.sender()
        for pair in list(self._finishing):
            thread = pair[0]
            if (ended is not None and thread == ended and thread.wait(5000)) or thread.isFinished():
                self._finishing.remove(pair)

    def _drain(self, worker):
        results, done, total = worker.take()
        for result in results:
            self.result.emit(result)
        if results:
            self.progressed.emit(done, total)

    @Slot(object)
    def _on_delivered(self, token):
        if token == self._token and self._worker is not None:
            self._drain(self._worker)

    @Slot(object)
    def _on_failed(self, payload):
        token, message = payload
        if token == self._token:
            if self._worker is not None:
                self._drain(self._worker)  # the results before the failure come first
            self.failed.emit(message)

    @Slot(object)
    def _on_finished(self, payload):
        token, reason = payload
        if token != self._token or self._worker is None:
            return
        self._drain(self._worker)
        self._release()
        self.running_changed.emit(False)
        self.finished.emit(reason)
