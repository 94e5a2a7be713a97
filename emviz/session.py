"""The state of one exploration: the data, the model settings and the EM history.

No widgets here: the window, the command line and the tests share this.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, replace
from collections.abc import Sequence
from typing import Iterator

import numpy as np

from emviz import gmm
from emviz.bound import Bound, evidence_bound
from emviz.data import DataError, Dataset


@dataclass(frozen=True)
class Settings:
    """Model settings. ``reg_covar=None`` means relative to the data's scale (the default).

    scikit-learn's absolute 1e-6 would swamp data measured in small units, so the
    command line and the window regularise with :func:`gmm.relative_reg_covar`: 1e-6 of
    the squared nearest-neighbour gap, which neither cluster separation nor an outlier moves.
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
        if self.reg_covar is not None:
            gmm.check_reg_covar(self.reg_covar)

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    def reg_covar_for(self, points: np.ndarray) -> float:
        if self.reg_covar is not None:
            return float(self.reg_covar)
        return gmm.relative_reg_covar(points)

    def regularisation_warning(self, step: gmm.EMStep, points: np.ndarray, reg_covar: float | None = None) -> str:
        """What to say when the regularisation, not the data, sets ``step``'s covariances ("" if nothing).

        ``reg_covar`` is ``reg_covar_for(points)`` when the caller has it at hand.
        """
        if step is None:
            return ""
        if reg_covar is None:
            reg_covar = self.reg_covar_for(points)
        said = gmm.regularisation_warning(step, reg_covar, points)
        if not said:
            return ""
        if self.reg_covar is None:  # the default is meant never to do this: say what to change
            return f"{said}; the data hold clusters far tighter than most of their points: set a smaller reg_covar"
        default = gmm.relative_reg_covar(points)
        return f"{said}; use a smaller reg_covar, or the default ({default:.3g} for these data)"

    def start(self, dataset: Dataset) -> gmm.Mixture:
        """The initial mixture for this data (raises DataError/ValueError with what to change)."""
        dataset.require_points(self.k)
        gmm.check_scale(dataset.points, dataset.columns)  # a refusal names the column
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
        gmm.check_scale(dataset.points, dataset.columns)
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


class _Pulled:
    """An iterator of EM steps that remembers the newest iteration it has given out."""

    def __init__(self, steps: Iterator[gmm.EMStep]):
        self._steps = steps
        self.newest: int | None = None

    def __iter__(self):
        return self

    def __next__(self) -> gmm.EMStep:
        step = next(self._steps)
        self.newest = step.iteration
        return step

    def ahead_of(self, last) -> bool:
        """True when a step past ``last`` (the history's newest) was pulled and never recorded."""
        return self.newest is not None and last is not None and self.newest > last.iteration


def _posterior(step: gmm.EMStep) -> gmm.Mixture:
    """The mixture whose responsibilities go with ``step``: a Snapshot's ``posterior``, else its own."""
    return getattr(step, "posterior", None) or step.mixture


def plural(count: int, noun: str) -> str:
    """``1 iteration``, ``2 iterations``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def describe_state(step: gmm.EMStep | None, settings: Settings, *, running: bool = False, error: str = "",
                   paused: bool = False, missing: str = "") -> str:
    """The run's state in words: ready, running, paused, converged, stopped at max iterations, failed.

    "paused" only after a Run was paused; after single Steps the run is "ready" for the next.
    ``missing`` says what the data lack before any run can start ("need at least 3 points ...").
    """
    if missing:
        return missing
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


# What made a snapshot of the history.
START = "start"  # the initial mixture the settings give
EDITED_START = "edited start"  # a start the user set by hand
ITERATION = "iteration"  # a whole EM iteration (E-step and M-step)
E_STEP = "E-step"  # half-steps
M_STEP = "M-step"
KINDS = (START, EDITED_START, ITERATION, E_STEP, M_STEP)

AWAITING_START = "a start on the edited points is being set up"  # missing while one is worked out elsewhere
_UNDO_RECORDS = 100
_UNDO_VALUES = 40_000_000  # about 320 MB of float64 points kept for undo at most


@dataclass(frozen=True, eq=False)
class Snapshot(gmm.EMStep):
    """One entry of a session's history: an :class:`~emviz.gmm.EMStep` that knows what made it.

    ``kind`` is one of :data:`KINDS`. ``posterior`` is the mixture whose responsibilities q
    go with this snapshot: ``mixture`` itself after an E-step (a whole iteration ends
    with the E-step of the next one, so the points are coloured by their own mixture),
    and the previous one after an M-step, which moves the ellipses and keeps the colours.
    """

    kind: str = ITERATION
    posterior: gmm.Mixture | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.posterior is None:
            object.__setattr__(self, "posterior", self.mixture)

    @property
    def stale(self) -> bool:
        """True after an M-step: the responsibilities belong to the previous mixture."""
        return self.posterior is not self.mixture


def _snapshot(step: gmm.EMStep, kind: str, posterior: gmm.Mixture | None = None) -> Snapshot:
    values = {f.name: getattr(step, f.name) for f in dataclasses.fields(gmm.EMStep)}
    return Snapshot(**values, kind=kind, posterior=posterior)


def _read_only(points) -> np.ndarray:
    points = np.array(points, dtype=np.float64, copy=True)
    points.setflags(write=False)
    return points


def _need_points(n: int, k: int) -> str:
    more = k - n
    return f"need at least {k} points for k={k}: add {more} more"


@dataclass(frozen=True)
class _Saved:
    """Everything an undo puts back (the settings stay: changing them starts a new undo list)."""

    dataset: Dataset | None
    points: np.ndarray
    edited: bool
    start: gmm.Mixture | None
    history: tuple
    missing: str
    error: str



class _HistoryView(Sequence):
    """A read-only view of the history list (Session.history_view)."""

    __slots__ = ("_snapshots",)

    def __init__(self, snapshots):
        self._snapshots = snapshots

    def __len__(self):
        return len(self._snapshots)

    def __getitem__(self, index):
        return self._snapshots[index]


class _Curve:
    """The history's iterations and log-likelihoods as arrays, extended as snapshots are appended."""

    def __init__(self):
        self._generation = None
        self._length = 0
        self._iterations = np.empty(0)
        self._values = np.empty(0)

    def arrays(self, history, generation):
        if generation != self._generation or len(history) < self._length:
            self._generation, self._length = generation, 0
        n = len(history)
        if n > len(self._iterations):  # room for twice as many: appends cost O(1) on average
            size = max(64, 2 * n)
            self._iterations = np.resize(self._iterations, size)
            self._values = np.resize(self._values, size)
        for i in range(self._length, n):
            self._iterations[i] = history[i].iteration
            self._values[i] = history[i].log_likelihood
        self._length = n
        iterations, values = self._iterations[:n], self._values[:n]
        iterations.flags.writeable = values.flags.writeable = False  # views: the buffers stay writable
        return iterations, values

def _start_on(dataset: Dataset, settings: Settings):
    """(start, its first step, the EM steps after it); raises DataError or ValueError with
    what to change when the data cannot start."""
    start = settings.start(dataset)
    gmm._checkpoint()  # within gmm.cancellable: stopped before the first E-step too
    steps = settings.em(dataset, start)
    return start, next(steps), steps  # iteration 0: the start and its log-likelihood


def _starting(dataset: Dataset | None, settings: Settings):
    """(start, its first step, the EM steps after it, what is missing) for the user's own
    points: never raises for data that cannot start, ``missing`` says why instead."""
    n = 0 if dataset is None else dataset.n
    if n < settings.k:
        return None, None, iter(()), _need_points(n, settings.k)
    try:
        return (*_start_on(dataset, settings), "")
    except (DataError, ValueError) as exc:
        return None, None, iter(()), str(exc)


@dataclass(frozen=True)
class Plan:
    """What :meth:`Session.change` was asked to do (:meth:`Session.plan`).

    :meth:`work` does the long part, the initialisation (k-means at a million points
    takes a second or more) and the first E-step. It reads only the data set and the
    settings, which nothing changes, so it is safe in any thread while the session
    goes on being drawn.
    """

    dataset: Dataset | None  # the data it starts on (None: the user erased every point)
    planned_on: np.ndarray  # the session's points when it was planned
    settings: Settings
    new_data: bool  # data given to change(): they replace whatever the session has by then
    edited: bool  # the user's own edited points, kept as they are
    for_edit: bool = False  # the start an edit left undone (Session.plan_edit_start)

    @property
    def n(self) -> int:
        """How many points the new start is worked out on."""
        return 0 if self.dataset is None else self.dataset.n

    def work(self) -> Prepared:
        """The start, its first E-step and the EM run after it; raises DataError or ValueError
        with what to change when data given to change() cannot start (the user's edited
        points never raise: :attr:`Prepared.missing` says what they lack)."""
        if self.edited:
            return Prepared(self, *_starting(self.dataset, self.settings))
        return Prepared(self, *_start_on(self.dataset, self.settings), "")


@dataclass(frozen=True)
class Prepared:
    """A new start worked out by :meth:`Plan.work`, for :meth:`Session.adopt`."""

    plan: Plan  # what it was worked out for
    start: gmm.Mixture | None
    first: gmm.EMStep | None  # iteration 0: the start and its log-likelihood
    steps: Iterator[gmm.EMStep]
    missing: str = ""


class Session:
    """One exploration: the data, the settings, the start they give, and the history since then.

    The session owns every piece of mutable state; nothing outside writes to it.

    * Loading data or settings (:meth:`change`) is transactional: when they cannot start
      (too few points, bad values) it raises, and the current data, settings and history stay.
    * Edits (:meth:`add_points`, :meth:`remove_points`, :meth:`remove_within`, :meth:`clear`,
      :meth:`set_start`) never raise for too few points: :attr:`missing` then says what
      is missing, and the run waits. A data edit keeps the settings and starts the fit
      again from a fresh start on the new data. Edits can be undone and redone, the data
      restored bitwise; :meth:`change` starts a new undo list.
    * Runs: the window hands :attr:`steps` to a worker and :meth:`append` s what comes back;
      :meth:`e_step` and :meth:`m_step` take the two halves of an iteration by hand.
    """

    def __init__(self, dataset: Dataset, settings: Settings | None = None):
        self._setup(dataset, settings or Settings())
        self.change(dataset, self._settings)

    def _setup(self, dataset: Dataset, settings: Settings) -> None:
        self._settings = settings
        self._template = dataset  # names, columns and truth for edited versions of the data
        self._dataset: Dataset | None = dataset  # None when every point has been erased
        self._points = dataset.points
        self._edited = False
        self._start: gmm.Mixture | None = None
        self._generation = 0  # counts every change of the history other than an append
        self._curve = _Curve()
        self._history: list[Snapshot] = []
        self._steps: Iterator[gmm.EMStep] | None = None
        self._error = ""
        self._missing = ""
        self._evaluator: gmm.Evaluator | None = None
        self._evaluator_points: np.ndarray | None = None
        self._bounds: dict[int, tuple] = {}  # id(snapshot) -> (snapshot, evaluator, Bound)
        self._undo: list[_Saved] = []
        self._redo: list[_Saved] = []

    # ------------------------------------------------------------------ reading

    @property
    def dataset(self) -> Dataset | None:
        """The current data (edited data included); None when every point has been erased."""
        return self._dataset

    @property
    def points(self) -> np.ndarray:
        """The current points, (n, d), read-only; (0, d) after :meth:`clear`."""
        return self._points

    @property
    def n(self) -> int:
        return self._points.shape[0]

    @property
    def columns(self) -> tuple:
        return self._template.columns

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def start(self) -> gmm.Mixture | None:
        """The mixture iteration 0 starts from (None while points are missing)."""
        return self._start

    @property
    def history(self) -> list[Snapshot]:
        """A copy of the snapshots since the start, oldest first (empty while points are missing)."""
        return list(self._history)

    @property
    def _history(self) -> list[Snapshot]:
        return self.__history

    @_history.setter
    def _history(self, snapshots: list[Snapshot]) -> None:
        self.__history = snapshots
        self._generation += 1

    @property
    def history_generation(self) -> int:
        """Changes whenever the history changes other than by appending (a new start, an edit,
        undo, a finished run's last snapshot marked converged): what was drawn from its first
        snapshots is still right while this stays the same."""
        return self._generation

    @property
    def history_view(self) -> Sequence[Snapshot]:
        """The snapshots, read-only and without a copy (a redraw at screen rate reads a few of
        them; the view follows later appends). Keep :attr:`history` for a copy."""
        return _HistoryView(self.__history)

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, log-likelihoods) of every snapshot, float arrays read-only; kept as the
        run appends (no pass over a long history at every frame)."""
        return self._curve.arrays(self.__history, self._generation)

    @property
    def history_length(self) -> int:
        """How many snapshots the history holds (without copying it, as :attr:`history` does)."""
        return len(self._history)

    @property
    def last(self) -> Snapshot | None:
        return self._history[-1] if self._history else None

    @property
    def edited(self) -> bool:
        """True when the points are the user's edit of the data loaded."""
        return self._edited

    @property
    def error(self) -> str:
        """Why the last run failed, or ""."""
        return self._error

    @property
    def missing(self) -> str:
        """What the data lack before a run can start ("need at least 3 points for k=3: add 2 more"), or ""."""
        return self._missing

    @property
    def finished(self) -> bool:
        """Converged, at max_iter, or nothing to run: running further does nothing."""
        last = self.last
        return last is None or last.converged or last.iteration >= self._settings.max_iter

    @property
    def steps(self) -> Iterator[gmm.EMStep]:
        """The EM run from the newest snapshot on, for a worker to pull from.

        The same iterator until the history changes otherwise (a half-step, an edit,
        an undo); each of its steps goes back through :meth:`append`.
        """
        steps = self._steps
        if steps is None:
            steps = self._continuation()
        elif isinstance(steps, _Pulled) and steps.ahead_of(self.last):
            # a run was stopped after its worker had pulled a step it never delivered
            # (a click that stops the run): go on from the history, not from one step further
            steps = self._continuation()
        if not isinstance(steps, _Pulled):
            steps = _Pulled(steps)
        self._steps = steps
        return steps

    def state(self, *, running: bool = False, paused: bool = False) -> str:
        """The run's state in words (:func:`describe_state`); a finished run whose covariances the
        regularisation sets says so too."""
        text = describe_state(self.last, self._settings, running=running, error=self._error, paused=paused,
                              missing=self._missing)
        if running or self._error or self._missing or self.last is None or not self.finished:
            return text
        warning = self._settings.regularisation_warning(self.last, self._points, self.reg_covar)
        return f"{text}; {warning}" if warning else text

    @property
    def reg_covar(self) -> float:
        """The reg_covar the run uses on the current points (the data's default unless one was set)."""
        return self._settings.reg_covar_for(self._points)

    def responsibilities(self, step: gmm.EMStep, rows: np.ndarray | None = None) -> np.ndarray:
        """Responsibilities q of the data (or of the points ``rows``) that go with ``step``, (k, n).

        For a snapshot after an M-step they are still those of the previous mixture.
        The points stay while EM runs, so their features are built once and the
        window can colour them at screen rate.
        """
        return self._evaluator_now().responsibilities(_posterior(step), transposed=True, rows=rows)

    def colours_function(self):
        """``colours(step, rgb, hard, rows=None)``: every point's ARGB32 colour under ``step``
        (the components' colours ``rgb`` (k, 3) mixed by responsibility, or the most likely
        one's), or those of the points ``rows``, for the points as they are now, safe in
        another thread.

        One pass over the points (the compiled kernel's, once it is ready): the worker
        colours the snapshots the window draws with it; bound to the current points'
        prepared evaluator (read only), so an edit made meanwhile neither changes nor races
        with what it computes.
        """
        evaluator = self._evaluator_now()

        def colours(step: gmm.EMStep, rgb, hard: bool, rows: np.ndarray | None = None) -> np.ndarray:
            return evaluator.colours(_posterior(step), rgb, hard=hard, rows=rows)

        return colours

    @staticmethod
    def bound_is_free(step: gmm.EMStep) -> bool:
        """True when :meth:`bound` of ``step`` needs no pass over the points: its responsibilities
        are its own mixture's (every whole iteration, and right after an E-step)."""
        return _posterior(step) is step.mixture

    def bound(self, step: gmm.EMStep | None = None) -> Bound:
        """log p(X | theta) = L(q, theta) + KL for ``step`` (the newest by default), per point.

        Right after an E-step (and at every whole iteration) q is theta's own posterior,
        so the bound is log p itself and nothing is computed; after an M-step it is.
        """
        step = step or self.last
        if step is None:
            raise ValueError(self._missing or "no mixture yet")
        evaluator = self._evaluator_now()
        cached = self._bounds.get(id(step))
        if cached is not None and cached[0] is step and cached[1] is evaluator:
            return cached[2]  # a view asks again for every redraw of the same snapshot
        if self.bound_is_free(step):  # q is theta's own posterior: L = log p and KL = 0 by definition
            return Bound(step.log_likelihood, step.log_likelihood, 0.0)
        posterior = step.posterior
        bound = evidence_bound(None, posterior, step.mixture, evaluator=evaluator)
        if len(self._bounds) > 64:
            self._bounds.clear()
        self._bounds[id(step)] = (step, evaluator, bound)
        return bound

    def _evaluator_now(self) -> gmm.Evaluator:
        if self._evaluator_points is not self._points:
            self._evaluator = gmm.Evaluator(self._points)
            self._evaluator_points = self._points
        return self._evaluator

    # ------------------------------------------------------------------ loading and running

    def change(self, dataset: Dataset | None = None, settings: Settings | None = None) -> None:
        """Switch data and/or settings and start over from a new initial mixture.

        Raises DataError or ValueError (and changes nothing) when they cannot start;
        new settings on the user's own edited points are taken even then, and
        :attr:`missing` says what is missing. Clears the undo list.
        The same as ``adopt(plan(dataset, settings).work())``, all here and now.
        """
        self.adopt(self.plan(dataset, settings).work())

    def plan(self, dataset: Dataset | None = None, settings: Settings | None = None) -> "Plan":
        """What :meth:`change` would do, pinned down now and done later: the window works a
        large data set's start out in another thread (:meth:`Plan.work`, the initialisation
        and the first E-step) and hands the result to :meth:`adopt`. Changes nothing."""
        settings = settings or self._settings
        if dataset is None and self._edited:
            return Plan(self._dataset, self._points, settings, new_data=False, edited=True)
        return Plan(dataset or self._dataset, self._points, settings, new_data=dataset is not None, edited=False)

    @property
    def awaiting_start(self) -> bool:
        """An edit left its start to :meth:`plan_edit_start` and none has been adopted yet."""
        return self._missing == AWAITING_START

    def plan_edit_start(self) -> "Plan":
        """The start an edit with ``start=False`` left undone, planned (see :meth:`plan`); adopting
        it keeps the undo list, as an edit's own start does."""
        return Plan(self._dataset, self._points, self._settings, new_data=False, edited=True, for_edit=True)

    def adopt(self, prepared: "Prepared") -> bool:
        """Take a start worked out by :meth:`Plan.work`; clears the undo list.

        False (and nothing changes) when it was planned on points the session no longer
        has (an edit or an undo came in between) and was not a change of data: plan again.
        """
        plan = prepared.plan
        if not plan.new_data and plan.planned_on is not self._points:
            return False
        if plan.for_edit:  # the start of an edit: part of it, the undo list stays
            if not self.awaiting_start or plan.settings != self._settings:
                return False
            self._take_start(prepared.start, prepared.first, prepared.steps, prepared.missing)
            return True
        if not plan.edited:
            self._template = self._dataset = plan.dataset
            self._points = plan.dataset.points
            self._edited = False
        self._settings = plan.settings
        self._take_start(prepared.start, prepared.first, prepared.steps, prepared.missing)
        self._undo.clear()
        self._redo.clear()
        return True

    def _take_start(self, start, first, steps, missing: str) -> None:
        self._start, self._steps = start, steps
        self._history = [] if first is None else [_snapshot(first, START)]
        self._error, self._missing = "", missing

    def reset(self) -> None:
        """Back to iteration 0 with the same start."""
        if self._start is None:
            return
        kind = self._history[0].kind
        steps = self._settings.em(self._dataset, self._start)
        self._history = [_snapshot(next(steps), kind)]
        self._steps = steps
        self._error = ""

    def carry_on(self, settings: Settings) -> bool:
        """Take settings that differ only in when EM stops (tol, max_iter) without starting over.

        The history stays and EM continues from its newest mixture, numbered on;
        the newest step's converged flag is re-judged with the new tolerance.
        Returns False, changing nothing, when other settings differ, the run
        failed, points are missing, or the history is already past the new max_iter.
        """
        same_model = settings.replace(tol=self._settings.tol, max_iter=self._settings.max_iter) == self._settings
        last = self.last
        if not same_model or self._error or last is None or last.iteration > settings.max_iter:
            return False
        converged = last.iteration > 0 and abs(last.delta) < settings.tol
        if converged != last.converged:
            self._history[-1] = replace(last, converged=converged)
            self._generation += 1
        self._settings = settings
        self._steps = None  # the run continues from the newest snapshot, numbered on
        return True

    def append(self, step: gmm.EMStep) -> Snapshot:
        """Record the next whole iteration of :attr:`steps` (the worker's results come back here)."""
        last = self.last
        if last is None or step.iteration != last.iteration + 1:
            raise ValueError(
                f"iteration {step.iteration} does not follow the history "
                f"(newest: {'none' if last is None else last.iteration})"
            )
        snapshot = _snapshot(step, ITERATION)
        self._history.append(snapshot)
        return snapshot

    def fail(self, message: str) -> None:
        """Record why the run stopped; :meth:`state` reports it until the next reset or change."""
        self._error = str(message)

    def _continuation(self) -> Iterator[gmm.EMStep]:
        last = self.last
        if self.finished or self._missing:
            return iter(())
        settings = self._settings.replace(max_iter=self._settings.max_iter - last.iteration)
        run = settings.em(self._dataset, last.mixture)

        def renumbered():
            next(run)  # iteration 0 is ``last`` again
            for step in run:
                yield dataclasses.replace(step, iteration=step.iteration + last.iteration)

        return renumbered()

    # ------------------------------------------------------------------ half-steps

    @property
    def can_e_step(self) -> bool:
        """True after an M-step: the responsibilities still belong to the previous mixture."""
        return self.last is not None and self.last.stale

    @property
    def can_m_step(self) -> bool:
        return not self.finished

    def e_step(self) -> Snapshot:
        """The E-step alone: the responsibilities become those of the current mixture; it stays."""
        if not self.can_e_step:
            raise ValueError(self._missing or "the responsibilities already belong to this mixture: take the M-step")
        last = self.last
        snapshot = Snapshot(last.iteration, last.mixture, last.log_likelihood, last.delta, last.converged,
                            kind=E_STEP, posterior=last.mixture)
        self._history.append(snapshot)
        self._steps = None
        return snapshot

    def m_step(self) -> Snapshot:
        """The M-step alone: a new mixture from the current responsibilities, which stay.

        From a snapshot whose responsibilities are its own mixture's this is exactly
        the next mixture :func:`emviz.gmm.em` yields.
        """
        if not self.can_m_step:
            raise ValueError(self._missing or f"{self.state()}: Reset, or change a setting, to run again")
        last = self.last
        evaluator = self._evaluator_now()
        iteration = last.iteration + 1
        reg_covar = self._settings.reg_covar_for(self._points)
        try:
            mixture = evaluator.m_step(last.posterior, self._settings.covariance, reg_covar)
        except ValueError as exc:
            raise ValueError(f"EM iteration {iteration}: {exc}") from None
        ll = evaluator.log_likelihood(mixture)
        gmm._check_finite(ll, iteration)
        delta = float(ll) - last.log_likelihood
        snapshot = Snapshot(iteration, mixture, float(ll), delta, bool(abs(delta) < self._settings.tol),
                            kind=M_STEP, posterior=last.posterior)
        self._history.append(snapshot)
        self._steps = None
        return snapshot

    # ------------------------------------------------------------------ edits

    def add_points(self, points, *, join: bool = False, start: bool = True) -> int:
        """Add points (m, d) (or one point (d,)); returns how many.

        ``join``: part of the same stroke as the previous edit, undone with it.
        ``start=False``: leave the new start to :meth:`plan_edit_start` (worked out in
        another thread on many points); until it is adopted :attr:`awaiting_start` is True.
        The same for every edit.
        """
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        if points.ndim != 2 or points.shape[1] != self._points.shape[1]:
            raise ValueError(f"points must have shape (m, {self._points.shape[1]}), got {np.shape(points)}")
        if not np.all(np.isfinite(points)):
            raise ValueError("points must be finite numbers")
        if len(points) == 0:
            return 0
        self._edit(np.concatenate([self._points, points]), join, start)
        return len(points)

    def remove_points(self, indices, *, join: bool = False, start: bool = True) -> int:
        """Remove the points at ``indices`` (integers or a boolean mask); returns how many."""
        indices = np.asarray(indices)
        if indices.dtype == bool:
            if indices.shape != (self.n,):
                raise ValueError(f"a mask of the points must have shape ({self.n},), got {indices.shape}")
            indices = np.flatnonzero(indices)
        indices = np.unique(indices.astype(np.intp, copy=False))
        if len(indices) and (indices[0] < 0 or indices[-1] >= self.n):
            raise ValueError(f"point indices must be in 0..{self.n - 1}")
        if len(indices) == 0:
            return 0
        self._edit(np.delete(self._points, indices, axis=0), join, start)
        return len(indices)

    def remove_within(self, center, radius, *, join: bool = False, start: bool = True) -> int:
        """Remove the points within ``radius`` of ``center`` (d,); returns how many.

        ``radius`` is a number or one per axis (an axis-aligned ellipse: a round brush
        on a view whose axes have different scales).
        """
        center = np.asarray(center, dtype=np.float64)
        radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), center.shape)
        if np.any(radius <= 0):
            raise ValueError("the radius must be positive")
        # column by column: a brush stroke over a million points asks this at every mouse move
        # (~6 ms instead of ~40 for the same sums)
        squares = np.zeros(self.n)
        for column, c, r in zip(self._points.T, center, radius):
            t = (column - c) / r
            squares += t * t
        return self.remove_points(squares <= 1.0, join=join, start=start)

    def clear(self) -> None:
        """Remove every point (an empty canvas to draw on)."""
        if self.n:
            self._edit(self._points[:0], False)

    def set_start(self, mixture: gmm.Mixture) -> Snapshot:
        """Start again from ``mixture`` (dragged by hand); recorded as an edited start.

        Raises ValueError (and changes nothing) when it does not fit: wrong k or d,
        or points still missing.
        """
        if self._missing:
            raise ValueError(self._missing)
        if mixture.k != self._settings.k or mixture.d != self._points.shape[1]:
            raise ValueError(
                f"the start needs k={self._settings.k} components in d={self._points.shape[1]}, "
                f"got k={mixture.k}, d={mixture.d}"
            )
        steps = self._settings.em(self._dataset, mixture)
        first = _snapshot(next(steps), EDITED_START)
        self._push_undo(False)
        self._start, self._history, self._steps, self._error = mixture, [first], steps, ""
        return first

    def _edit(self, points: np.ndarray, join: bool, start: bool = True) -> None:
        self._push_undo(join)
        points = _read_only(points)
        if len(points):
            template = self._template
            name = template.name if template.name.endswith(" (edited)") else f"{template.name} (edited)"
            source = template.source if template.source.startswith("edited ") else f"edited {template.source}"
            self._dataset = replace(template, points=points, labels=None, name=name, recipe={},
                                    source=source, origin="drawn", dropped_rows=0, dropped_example="")
            points = self._dataset.points
        else:
            self._dataset = None
        self._points = points
        self._edited = True
        if start or len(points) < self._settings.k:
            self._fresh_start()
        else:
            self._take_start(None, None, iter(()), AWAITING_START)

    def _fresh_start(self) -> None:
        """A start from the settings on the current points, or what is missing for one."""
        self._take_start(*_starting(self._dataset, self._settings))

    # ------------------------------------------------------------------ undo

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        """Put the data, start and history back as they were before the last edit."""
        if not self._undo:
            return False
        self._redo.append(self._saved())
        self._restore(self._undo.pop())
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._saved())
        self._restore(self._redo.pop())
        return True

    def _saved(self) -> _Saved:
        return _Saved(self._dataset, self._points, self._edited, self._start, tuple(self._history),
                      self._missing, self._error)

    def _restore(self, saved: _Saved) -> None:
        self._dataset, self._points, self._edited = saved.dataset, saved.points, saved.edited
        self._start, self._history = saved.start, list(saved.history)
        self._missing, self._error = saved.missing, saved.error
        self._steps = None  # the run continues from the newest snapshot restored

    def _push_undo(self, join: bool) -> None:
        self._redo.clear()
        if join and self._undo:
            return
        self._undo.append(self._saved())
        while len(self._undo) > _UNDO_RECORDS or (
            len(self._undo) > 1 and sum(s.points.size for s in self._undo) > _UNDO_VALUES
        ):
            del self._undo[0]

    # ------------------------------------------------------------------ saving

    def to_dict(self) -> dict:
        """Everything needed to restore this exploration, as plain JSON values.

        The history is kept as a summary (what made each snapshot and its numbers);
        :meth:`from_dict` replays it, which gives back the same snapshots bitwise.
        """
        template = self._template

        def number(x):
            return float(x) if math.isfinite(x) else None

        return {
            "format": "emviz-session",
            "version": 1,
            "data": {
                "name": self._dataset.name if self._dataset is not None else template.name,
                "source": self._dataset.source if self._dataset is not None else template.source,
                "columns": list(self.columns),
                "points": self._points.tolist(),
                "truth": template.mixture.to_dict() if template.mixture is not None else None,
                "origin": (self._dataset or template).origin,
                "edited": self._edited,
            },
            "settings": dataclasses.asdict(self._settings),
            "start": self._start.to_dict() if self._start is not None else None,
            "history": [
                {"iteration": s.iteration, "kind": s.kind, "log_likelihood": number(s.log_likelihood),
                 "delta": number(s.delta), "converged": s.converged}
                for s in self._history
            ],
            "error": self._error,
        }

    @classmethod
    def from_dict(cls, state: dict) -> "Session":
        """The session :meth:`to_dict` described; raises ValueError naming what does not fit."""
        if not isinstance(state, dict) or state.get("format") != "emviz-session" or state.get("version") != 1:
            raise ValueError("not an emviz session (format 'emviz-session', version 1)")
        data = state["data"]
        columns = tuple(data["columns"])
        points = np.asarray(data["points"], dtype=np.float64).reshape(-1, len(columns))
        truth = gmm.Mixture(**data["truth"]) if data.get("truth") else None
        settings = Settings(**state["settings"])
        # a Dataset is never empty: an erased canvas keeps a one-point template for its names
        dataset = Dataset(points if len(points) else np.zeros((1, len(columns))), columns, data["name"],
                          data["source"], mixture=truth, origin=data.get("origin", "generated"))
        session = cls.__new__(cls)
        session._setup(dataset, settings)
        if not len(points):
            session._dataset, session._points = None, _read_only(points)
        session._edited = bool(data.get("edited")) or not len(points)
        history = state.get("history") or []
        if state.get("start") is None or not history:
            session._fresh_start()
            return session
        start = gmm.Mixture(**state["start"])
        steps = settings.em(session._dataset, start)
        session._start, session._steps = start, steps
        session._history = [_snapshot(next(steps), history[0]["kind"])]
        for entry in history[1:]:
            kind = entry["kind"]
            if kind == ITERATION:
                session.append(next(session.steps))
            elif kind == E_STEP:
                session.e_step()
            elif kind == M_STEP:
                session.m_step()
            else:
                raise ValueError(f"history entry at iteration {entry['iteration']}: unknown kind {kind!r}")
        saved, replayed = history[-1]["log_likelihood"], session.last.log_likelihood
        if saved is not None and not math.isclose(replayed, saved, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(
                f"the history does not replay: iteration {session.last.iteration} gives mean log-likelihood "
                f"{replayed!r}, the session says {saved!r}"
            )
        session._error = state.get("error", "")
        return session
