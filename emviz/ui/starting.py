"""Working out a new start off the GUI thread, for data too large to do it in a moment.

A change of data or settings starts EM over: the initialisation (k-means++ takes ~0.6 s
at a million points and k = 10, k-means ~1.4 s) and the first E-step. On more than
:data:`BACKGROUND_START_POINTS` points the window plans the change
(:meth:`emviz.session.Session.plan`), and :class:`StartSetter` runs
:meth:`emviz.session.Plan.work` in its own thread while the window goes on showing, and
running, what it had; the status bar says what is being set up, with Cancel. The result
comes back through :attr:`StartSetter.ready` for :meth:`emviz.session.Session.adopt`; a
refusal (too few points, a column that cannot be fitted) comes back as the same message
the window gives for a start worked out at once (:func:`refusal`). A newer change replaces
the one under way; the abandoned work ends on its own in the background and is dropped.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal

from emviz import gmm
from emviz.session import Plan
from emviz.ui.controls import COVARIANCE_LABELS, INIT_LABELS
from emviz.ui.loading import Background

BACKGROUND_START_POINTS = 200_000  # k-means++ there: ~0.1 s; k-means ~0.3 s


def refusal(exc: BaseException, source: str) -> str:
    """The message for a start that cannot be made: the engine's words, where the data come
    from, and the exception's type when it is not a refusal the engine meant to make."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, ValueError):  # DataError is a ValueError
        message = f"{type(exc).__name__}: {message}"
    if source not in message:  # every message about data names where they come from
        message = f"{source}: {message}"
    return message


class _Refused(Exception):
    """A start that cannot be made, carrying the message to show (made in the worker's thread)."""


def _working(plan: Plan, source: str, stop: threading.Event):
    try:
        with gmm.cancellable(stop.is_set):
            prepared = plan.work()
    except gmm.Cancelled:
        return  # no longer wanted: nothing to hand over
    except Exception as exc:  # noqa: BLE001 - said to the user; the session is untouched
        raise _Refused(refusal(exc, source)) from None
    yield prepared


class StartSetter(Background):
    """Works out one new start at a time in a thread; a new :meth:`start` replaces the one under way."""

    ready = Signal(object, object)  # (emviz.session.Prepared, what the caller gave start() with it)
    measured = False  # k-means says nothing of how far it is
    cancel_tip = "Stop setting up the new start; the current data, settings and history stay"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._stop = threading.Event()
        self.plan: Plan | None = None  # the plan under way (or the last one)
        self.context = None  # what start() was given with it, handed back with the result

    def start(self, plan: Plan, source: str, context=None) -> None:
        """Work ``plan`` out in the background; ``source`` names the data in a refusal."""
        settings = plan.settings
        self.plan, self.context = plan, context
        stop = threading.Event()  # this start's own: set when it is no longer wanted
        what = (f"{INIT_LABELS.get(settings.init, settings.init)} on {plan.n:,} points, k = {settings.k}, "
                f"{COVARIANCE_LABELS.get(settings.covariance, settings.covariance)} covariances")
        self._begin(_working(plan, source, stop), what, "start")  # stops the one under way (its own event)
        self._stop = stop

    @property
    def pending(self) -> Plan | None:
        """The plan being worked out now, or None."""
        return self.plan if self.running else None

    def describe(self) -> str:
        return f"Setting up the start: {self.subject}" if self.subject else ""

    def _halt(self) -> None:
        # the k-means stops at its next pass over the points (gmm.cancellable) and its thread
        # ends on its own: no join here, a pass can take ~50 ms; close() joins it
        self._stop.set()
        self._runner.pause(now=True)

    def _deliver(self, prepared) -> None:
        context, self.context = self.context, None
        self.ready.emit(prepared, context)
