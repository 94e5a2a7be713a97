"""EM runs in a QThread: the EM job for :mod:`emviz.jobs`' worker and runner.

An EM run is a job whose results are :class:`~emviz.gmm.EMStep` snapshots and
which is done at its converged step (or when the engine's generator ends at
max_iter). :class:`EMRunner` is a :class:`~emviz.jobs.JobRunner` that takes the
engine's generator as it is and emits each snapshot as ``stepped``.
"""

from __future__ import annotations

from typing import Iterator

from PySide6.QtCore import Signal

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


def _converged(step: EMStep) -> bool:
    return step.converged


def em_job(steps: Iterator[EMStep] | Job, total: int | None = None) -> Job:
    """The job of an EM run: done at the converged step, or when the generator ends."""
    if isinstance(steps, Job):
        return steps
    return Job(steps, total=total, is_last=_converged, name="em")


class EMWorker(JobWorker):
    """A :class:`~emviz.jobs.JobWorker` for EM snapshots; ``stepped`` carries (token, EMStep)."""

    stepped = Signal(object)

    def __init__(self, steps: Iterator[EMStep] | Job, budget: int, interval: float, token: int):
        super().__init__(em_job(steps), budget, interval, token)

    def _emit_result(self, result):
        self.stepped.emit((self._token, result))
        super()._emit_result(result)


class EMRunner(JobRunner):
    """Starts, pauses and stops EM runs; ``stepped`` gives each snapshot in the GUI thread."""

    stepped = Signal(object)  # EMStep

    worker_class = EMWorker

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result.connect(self.stepped)

    def start(self, steps: Iterator[EMStep] | Job, budget: int) -> bool:
        """Run up to ``budget`` iterations of ``steps`` in a new thread; False if one is running."""
        return super().start(em_job(steps), budget)
