"""The state of one exploration: the data, the model settings and the EM history.

No widgets here: the window, the command line and the tests share this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from emviz import gmm
from emviz.data import Dataset


@dataclass(frozen=True)
class Settings:
    """Model settings. ``reg_covar=None`` means relative to the data's scale (the default).

    scikit-learn's absolute 1e-6 would swamp data measured in small units, so the
    command line and the window regularise with 1e-6 of the smallest column variance.
    """

    k: int = 3
    covariance: str = "full"
    init: str = "kmeans++"
    seed: int = 0
    tol: float = 1e-6
    max_iter: int = 1000
    reg_covar: float | None = None

    def __post_init__(self):
        if int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        if self.covariance not in gmm.COVARIANCE_TYPES:
            raise ValueError(
                f"covariance must be one of {', '.join(gmm.COVARIANCE_TYPES)}, got {self.covariance!r}"
            )
        if self.init not in gmm.INIT_METHODS:
            raise ValueError(f"init must be one of {', '.join(gmm.INIT_METHODS)}, got {self.init!r}")
        if int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not (self.tol >= 0 and math.isfinite(self.tol)):
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if int(self.max_iter) != self.max_iter or self.max_iter < 0:
            raise ValueError(f"max_iter must be an integer >= 0, got {self.max_iter!r}")
        if self.reg_covar is not None and not (self.reg_covar >= 0 and math.isfinite(self.reg_covar)):
            raise ValueError(f"reg_covar must be a finite number >= 0, got {self.reg_covar!r}")

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    def reg_covar_for(self, points: np.ndarray) -> float:
        if self.reg_covar is not None:
            return float(self.reg_covar)
        return gmm.relative_reg_covar(points)

    def start(self, dataset: Dataset) -> gmm.Mixture:
        """The initial mixture for this data (raises DataError/ValueError with what to change)."""
        dataset.require_points(self.k)
        return gmm.initialize(
            dataset.points, self.k, method=self.init, seed=self.seed, reg_covar=self.reg_covar_for(dataset.points)
        )

    def em(self, dataset: Dataset, start: gmm.Mixture):
        """The EM generator from ``start`` with these settings."""
        return gmm.em(
            dataset.points,
            start,
            tol=self.tol,
            max_iter=self.max_iter,
            covariance=self.covariance,
            reg_covar=self.reg_covar_for(dataset.points),
        )

    def fit(self, dataset: Dataset) -> gmm.FitResult:
        dataset.require_points(self.k)
        return gmm.fit(
            dataset.points,
            self.k,
            init=self.init,
            seed=self.seed,
            tol=self.tol,
            max_iter=self.max_iter,
            covariance=self.covariance,
            reg_covar=self.reg_covar_for(dataset.points),
        )


def plural(count: int, noun: str) -> str:
    """``1 iteration``, ``2 iterations``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def describe_state(step: gmm.EMStep | None, settings: Settings, *, running: bool = False, error: str = "",
                   paused: bool = False) -> str:
    """The run's state in words: ready, running, paused, converged, stopped at max iterations, failed.

    "paused" only after a Run was paused; after single Steps the run is "ready" for the next.
    """
    if error:
        return f"failed: {error}"
    if step is None:
        return "ready"
    if step.converged:
        return f"converged after {plural(step.iteration, 'iteration')} (|Δ| < {settings.tol:g})"
    if step.iteration >= settings.max_iter:
        return f"stopped at max iterations ({settings.max_iter})"
    if running:
        return "running"
    return "paused" if paused and step.iteration > 0 else "ready"


class Session:
    """One exploration: a dataset, settings, the start they give, and the EM history since then.

    Every change is transactional: a new dataset or new settings that cannot start
    (too few points, bad values) raise, and the current data, settings and history stay.
    """

    def __init__(self, dataset: Dataset, settings: Settings | None = None):
        self.dataset = dataset
        self.settings = settings or Settings()
        self.start: gmm.Mixture | None = None
        self.history: list[gmm.EMStep] = []
        self.steps = iter(())
        self.error = ""
        self._evaluator: gmm.Evaluator | None = None
        self.change(dataset, self.settings)

    def change(self, dataset: Dataset | None = None, settings: Settings | None = None) -> None:
        """Switch data and/or settings and start over from a new initial mixture."""
        dataset = dataset or self.dataset
        settings = settings or self.settings
        start = settings.start(dataset)
        steps = settings.em(dataset, start)
        first = next(steps)  # iteration 0: the start and its log-likelihood
        if dataset is not self.dataset:
            self._evaluator = None
        self.dataset, self.settings, self.start = dataset, settings, start
        self.steps = steps
        self.history = [first]
        self.error = ""

    def reset(self) -> None:
        """Back to iteration 0 with the same start."""
        self.steps = self.settings.em(self.dataset, self.start)
        self.history = [next(self.steps)]
        self.error = ""

    def carry_on(self, settings: Settings) -> bool:
        """Take settings that differ only in when EM stops (tol, max_iter) without starting over.

        The history stays and EM continues from its newest mixture, numbered on;
        the newest step's converged flag is re-judged with the new tolerance.
        Returns False, changing nothing, when other settings differ, the run
        failed, or the history is already past the new max_iter.
        """
        same_model = settings.replace(tol=self.settings.tol, max_iter=self.settings.max_iter) == self.settings
        last = self.last
        if not same_model or self.error or last.iteration > settings.max_iter:
            return False
        converged = last.iteration > 0 and abs(last.delta) < settings.tol
        if converged != last.converged:
            last = replace(last, converged=converged)
            self.history[-1] = last
        self.settings = settings
        self.steps = self._steps_after(last)
        return True

    def _steps_after(self, last: gmm.EMStep):
        """EM from ``last``'s mixture, its iterations numbered on from ``last``; exactly what
        an uninterrupted run yields (each iteration depends only on the mixture before it)."""
        if last.converged:
            return
        remaining = self.settings.replace(max_iter=self.settings.max_iter - last.iteration)
        steps = remaining.em(self.dataset, last.mixture)
        next(steps)  # ``last`` again
        for step in steps:
            yield replace(step, iteration=step.iteration + last.iteration)

    def append(self, step: gmm.EMStep) -> None:
        self.history.append(step)

    def responsibilities(self, step: gmm.EMStep, rows: np.ndarray | None = None) -> np.ndarray:
        """Responsibilities of the data (or of the points ``rows``) under ``step``'s mixture, (k, n).

        The points stay while EM runs, so their features are built once and the
        window can colour them at screen rate.
        """
        if self._evaluator is None:
            self._evaluator = gmm.Evaluator(self.dataset.points)
        return self._evaluator.responsibilities(step.mixture, transposed=True, rows=rows)

    @property
    def last(self) -> gmm.EMStep:
        return self.history[-1]

    @property
    def finished(self) -> bool:
        """Converged or at max_iter: running further does nothing."""
        return self.last.converged or self.last.iteration >= self.settings.max_iter

    def state(self, *, running: bool = False, paused: bool = False) -> str:
        return describe_state(self.last, self.settings, running=running, error=self.error, paused=paused)
