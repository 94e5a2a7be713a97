"""EM runs in a QThread: the EM job for :mod:`emviz.jobs`' worker and runner.

An EM run is a job whose results are :class:`~emviz.gmm.EMStep` snapshots and
which is done at its converged step (or when the engine's generator ends at
max_iter). :class:`EMRunner` is a :class:`~emviz.jobs.JobRunner` that takes the
engine's generator as it is and emits each snapshot as ``stepped``.

The GUI thread only draws: the worker also colours the points of the snapshots the
window will draw (:class:`Frame`), at most one every :data:`MAX_SPEED_COLOUR_SECONDS` at
max speed, every one at lecture speeds, and always the last of a run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
from PySide6.QtCore import Signal

from emviz import kernel
from emviz.gmm import EMStep
from emviz.jobs import (  # noqa: F401 - the reasons are part of this module's interface
    FINISHED_BUDGET,
    FINISHED_DONE,
    FINISHED_FAILED,
    FINISHED_PAUSED,
    FINISHED_STOPPED,
    Job,
    JobRunner,
    JobWorker,
)

FRAME_SECONDS = 1 / 60  # a screen's refresh: colouring more often than this is never seen
# at max speed the points are coloured at most this often (the ellipses move every frame):
# a colouring is a pass over the points (kernel.colours_pass, ~20 ms at 1e6; several numpy
# passes before the kernel is ready), and at 1e6 a new colouring also re-bins the density image
MAX_SPEED_COLOUR_SECONDS = 0.1
SHOWN_WAIT_SECONDS = 1.0  # at lecture speed, the longest the worker waits for the window to draw
# at max speed the worker waits between two iterations while the window draws a frame (its
# Python holds the GIL the GUI thread needs: a frame took 2-3x longer beside it), but never longer
FRAME_HOLD_SECONDS = 0.03

# (step, hard) -> (n,) opaque ARGB32 colours of the points; called in the worker's thread
PointColours = Callable[[EMStep, bool], np.ndarray]


@dataclass(frozen=True, eq=False)
class Frame:
    """A snapshot and what drawing it needs that the worker made: the points' colours.

    ``colors`` is None for the snapshots in between two drawn ones (EM ran faster than
    the screen); ``hard`` says which colouring they are (hard labels or mixed).
    """

    step: EMStep
    colors: np.ndarray | None = None
    hard: bool = False


def _converged(step: EMStep) -> bool:
    return step.converged


def em_job(steps: Iterator[EMStep] | Job, total: int | None = None) -> Job:
    """The job of an EM run: done at the converged step, or when the generator ends."""
    if isinstance(steps, Job):
        return steps
    return Job(steps, total=total, is_last=_converged, name="em")


class EMWorker(JobWorker):
    """A :class:`~emviz.jobs.JobWorker` for EM snapshots; ``stepped`` carries (token, EMStep).

    Its outbox holds :class:`Frame` s; ``point_colours`` colours the points (None: no colours).
    """

    stepped = Signal(object)

    def __init__(self, steps: Iterator[EMStep] | Job, budget: int, interval: float, token: int,
                 point_colours: PointColours | None = None, hard: bool = False):
        super().__init__(em_job(steps), budget, interval, token)
        self.point_colours = point_colours
        self.hard = hard  # set from the GUI thread when the user switches: a plain attribute read
        self._coloured_at = -float("inf")
        self._shown = threading.Event()  # the window drew the newest snapshot it was given
        self._frame_free = threading.Event()  # cleared while the window draws a frame (max speed)
        self._frame_free.set()

    def hold_for_frame(self):
        """The window starts drawing a frame: at max speed, start no iteration until
        :meth:`frame_done` (or FRAME_HOLD_SECONDS). Called from the GUI thread."""
        self._frame_free.clear()

    def frame_done(self):
        """The frame is painted: EM goes on. Called from the GUI thread."""
        self._frame_free.set()

    def request_pause(self):
        super().request_pause()
        self._frame_free.set()  # not held for a frame a moment longer

    def request_stop(self):
        super().request_stop()
        self._frame_free.set()

    def shown(self):
        """The window drew the newest snapshot (called from the GUI thread)."""
        self._shown.set()

    def _post(self, item, done):
        self._shown.clear()
        super()._post(item, done)

    def _wait_out(self, began):
        """The interval, and at lecture speeds also until the window has drawn the snapshot:
        every iteration is then seen, and a window that draws slower than the speed asks
        slows the run down instead of falling further and further behind it."""
        super()._wait_out(began)
        if self.interval < FRAME_SECONDS:
            # max speed: the frame being drawn first (EM runs between frames and beside their
            # compiled or GIL-free parts); a frame that never ends holds it once, not every time
            if not self._frame_free.wait(FRAME_HOLD_SECONDS):
                self._frame_free.set()
            return
        waited = time.monotonic()
        while not self._halted() and time.monotonic() - waited < SHOWN_WAIT_SECONDS:
            if self._shown.wait(0.02):
                return

    def _emit_result(self, result):
        self.stepped.emit((self._token, result))
        super()._emit_result(result)

    def prepare(self, result):
        kernel.leave_a_core()  # the GUI thread draws on the other (numba's setting is per thread)
        now = time.monotonic()
        due = self.interval >= FRAME_SECONDS or now - self._coloured_at >= MAX_SPEED_COLOUR_SECONDS
        if not due or self._halted():  # paused or stopped: the window no longer waits for it
            return Frame(result)
        return self._coloured(result, now)

    def prepare_last(self, result):
        return Frame(result) if self._halted() else self._coloured(result, time.monotonic())

    def _coloured(self, step, now):
        if self.point_colours is None:
            return Frame(step)
        hard = bool(self.hard)
        colors = self.point_colours(step, hard)
        self._coloured_at = now
        return Frame(step, colors, hard)


class EMRunner(JobRunner):
    """Starts, pauses and stops EM runs; ``stepped`` gives each snapshot in the GUI thread,
    ``framed`` the :class:`Frame` it came in (with the points' colours, when they were made)."""

    stepped = Signal(object)  # EMStep
    framed = Signal(object)  # Frame

    worker_class = EMWorker

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result.connect(self._on_frame)
        self.point_colours: PointColours | None = None
        self._hard = False

    def set_hard(self, hard: bool):
        """Colour by hard labels (or mixed by responsibility) from the next snapshot on."""
        self._hard = bool(hard)
        if self._worker is not None:
            self._worker.hard = self._hard

    def shown(self):
        """The window drew the newest snapshot it got: at lecture speed the worker goes on."""
        if self._worker is not None:
            self._worker.shown()

    def hold_for_frame(self):
        """The window draws a frame now: at max speed EM waits for :meth:`frame_done` between
        two iterations (at most FRAME_HOLD_SECONDS)."""
        if self._worker is not None:
            self._worker.hold_for_frame()

    def frame_done(self):
        """The frame is on the screen: EM goes on."""
        if self._worker is not None:
            self._worker.frame_done()

    def _make_worker(self, job, budget):
        return self.worker_class(job, budget, self._interval, self._token, self.point_colours, self._hard)

    def _on_frame(self, frame):
        if not isinstance(frame, Frame):  # a worker without colouring
            frame = Frame(frame)
        self.framed.emit(frame)
        self.stepped.emit(frame.step)

    def start(self, steps: Iterator[EMStep] | Job, budget: int) -> bool:
        """Run up to ``budget`` iterations of ``steps`` in a new thread; False if one is running."""
        return super().start(em_job(steps), budget)
