"""Touch the model: the panel and the glue between the canvas tools, the session and the views.

The window creates one :class:`Interaction`, places its widgets, and calls
:meth:`Interaction.on_drawn` after drawing a snapshot. Every request (draw, erase,
drag a handle, E, M, undo) stops a running worker, goes to a session method, and
the window redraws; nothing here computes EM.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from emviz.gmm import Mixture
from emviz.session import E_STEP, EDITED_START, ITERATION, M_STEP, START
from emviz.ui import palette
from emviz.ui.bound import BoundView
from emviz.ui.inspector import PointInspector
from emviz.ui.tools import DRAW, ERASE, HANDLE_PIXELS, LOOK, PLACE, CanvasTools

BOUND_WHILE_RUNNING = 20_000  # above this many points the bound is computed only when the run rests

CAPTIONS = {
    START: ("Start (iteration 0)", "the initial mixture the settings give. M moves the ellipses; Step does a whole iteration."),
    EDITED_START: ("Edited start (iteration 0)", "the mixture you set by hand; Step, Run or M start from it."),
    E_STEP: ("E-step", "r<sub>ik</sub> = π<sub>k</sub> N(x<sub>i</sub> | μ<sub>k</sub>, Σ<sub>k</sub>) / "
             "Σ<sub>j</sub> π<sub>j</sub> N(x<sub>i</sub> | μ<sub>j</sub>, Σ<sub>j</sub>): the points take the "
             "colours of the current mixture; the ellipses stay."),
    M_STEP: ("M-step", "N<sub>k</sub> = Σ<sub>i</sub> r<sub>ik</sub>, π<sub>k</sub> = N<sub>k</sub>/n, "
             "μ<sub>k</sub> = Σ<sub>i</sub> r<sub>ik</sub> x<sub>i</sub> / N<sub>k</sub>, "
             "Σ<sub>k</sub> = Σ<sub>i</sub> r<sub>ik</sub> (x<sub>i</sub> − μ<sub>k</sub>)(x<sub>i</sub> − μ<sub>k</sub>)<sup>T</sup> / N<sub>k</sub>: "
             "the ellipses move (the old ones faded, arrows from old to new means); the colours stay."),
    ITERATION: ("Iteration", "an E-step (responsibilities from the mixture) then an M-step (the mixture from "
                "the responsibilities); the colours shown are the new mixture's."),
}


class InteractionPanel(QGroupBox):
    """Half-steps and their caption; the canvas modes, brush, Clear, Undo, Redo; the bad-start example."""

    def __init__(self, parent=None):
        super().__init__("Touch the model", parent)
        self.e_step = QPushButton("E-step")
        self.e_step.setToolTip("The E-step alone: responsibilities from the current mixture (key E)")
        self.m_step = QPushButton("M-step")
        self.m_step.setToolTip("The M-step alone: a new mixture from the current responsibilities (key M)")
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setMinimumHeight(60)
        self.modes = QButtonGroup(self)
        self.mode_buttons = {}
        tips = {
            LOOK: "Click a point to inspect it; drag a mean's square or an axis's diamond to edit the start",
            DRAW: "Click adds a point; drag sprays points; right-drag erases",
            ERASE: "Click or drag removes the points under the brush",
            PLACE: "k clicks put the k means of a new start",
        }
        modes_row = QHBoxLayout()
        for mode in (LOOK, DRAW, ERASE, PLACE):
            button = QPushButton(mode.capitalize())
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            self.modes.addButton(button)
            self.mode_buttons[mode] = button
            # as narrow as the text allows, so the side panel fits a 1024 px screen beside the canvas
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 18)
            modes_row.addWidget(button)
        self.mode_buttons[LOOK].setChecked(True)
        self.brush = QSpinBox()
        self.brush.setRange(4, 150)
        self.brush.setValue(24)
        self.brush.setSuffix(" px")
        self.brush.setToolTip("Brush radius for spraying and erasing")
        self.density = QSpinBox()
        self.density.setRange(1, 60)
        self.density.setValue(6)
        self.density.setToolTip("Points per spray as the brush moves")
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Remove every point: an empty canvas to draw on")
        self.undo = QPushButton("Undo")
        self.undo.setToolTip("Undo the last edit of the data or the start (Ctrl+Z)")
        self.redo = QPushButton("Redo")
        self.redo.setToolTip("Redo (Ctrl+Shift+Z)")
        self.bad_start = QPushButton("Bad start")
        self.bad_start.setToolTip("An example for the lecture: two means in one cluster")
        grid = QGridLayout(self)
        grid.addWidget(self.e_step, 0, 0)
        grid.addWidget(self.m_step, 0, 1)
        grid.addWidget(self.bad_start, 0, 2)
        grid.addWidget(self.caption, 1, 0, 1, 3)
        modes = QVBoxLayout()
        modes.addLayout(modes_row)
        grid.addLayout(modes, 2, 0, 1, 3)
        grid.addWidget(QLabel("Brush"), 3, 0)
        grid.addWidget(self.brush, 3, 1)
        grid.addWidget(self.density, 3, 2)
        grid.addWidget(self.clear, 4, 0)
        grid.addWidget(self.undo, 4, 1)
        grid.addWidget(self.redo, 4, 2)

    def mode(self) -> str:
        return next(mode for mode, button in self.mode_buttons.items() if button.isChecked())


class Interaction(QObject):
    """Wires the panel, the canvas tools, the inspector and the bound view to a window's session."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = InteractionPanel()
        self.inspector = PointInspector()
        self.bound_view = BoundView()
        self.tools = CanvasTools(window.canvas)
        self.selected: int | None = None
        self.placed: list[np.ndarray] = []
        self.shown_index = -1
        self._halves_seen = None  # (the history's generation, its length) when the marks were set
        self.marks = pg.ScatterPlotItem(size=11, pen=pg.mkPen(palette.INK, width=1.5), brush=pg.mkBrush("w"))
        self.marks.setZValue(5)
        window.likelihood.addItem(self.marks)
        p = self.panel
        p.e_step.clicked.connect(self.e_step)
        p.m_step.clicked.connect(self.m_step)
        p.clear.clicked.connect(self.clear)
        p.undo.clicked.connect(self.undo)
        p.redo.clicked.connect(self.redo)
        p.bad_start.clicked.connect(self.bad_start)
        p.modes.buttonClicked.connect(lambda _: self.set_mode(p.mode()))
        p.brush.valueChanged.connect(lambda value: setattr(self.tools, "brush_pixels", float(value)))
        p.density.valueChanged.connect(lambda value: setattr(self.tools, "density", int(value)))
        t = self.tools
        t.add_requested.connect(self.add_points)
        t.erase_requested.connect(self.erase)
        t.point_clicked.connect(self.select_near)
        t.mean_placed.connect(self.place_mean)
        t.start_edited.connect(self.edit_start)
        for key, slot in (
            ("E", self.e_step),
            ("M", self.m_step),
            (QKeySequence.StandardKey.Undo, self.undo),
            ("Ctrl+Shift+Z", self.redo),
        ):
            QShortcut(QKeySequence(key), window, slot)

    @property
    def session(self):
        return self.window.session

    # ------------------------------------------------------------------ requests

    def _say(self, message: str, ms: int = 6000) -> None:
        self.window.say(message, ms)  # above the plots, where the user looks

    def _done(self, data_changed: bool) -> None:
        if data_changed:
            self.placed = []
            if self.selected is not None and self.selected >= self.session.n:
                self.selected = None
            # the view stays where it is: refitting it to the data after every click would move
            # the canvas under the pen (and the first points on an empty canvas would set a tiny range)
            view = self.tools.view
            (x0, x1), (y0, y1) = view.viewRange()
            self.window.show_data()
            view.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            self.window.follow_edit()  # on many points the edit's start is worked out in a thread
        self.window.draw_step(-1)

    def set_mode(self, mode: str) -> None:
        self.tools.set_mode(mode)
        self.placed = []
        if self.panel.mode() != mode:
            self.panel.mode_buttons[mode].setChecked(True)
        if mode == PLACE:
            self._say(f"Place means: click {self.session.settings.k} times where the means should start")

    def _refused(self, *, data: bool) -> bool:
        """True (and the user told why) when a start being set up forbids this now."""
        why = self.window.refuse_while_starting(data=data)
        if why:
            self._say(why)
        return bool(why)

    def e_step(self) -> None:
        if self._refused(data=False):
            return
        self.window.runner.stop()
        if not self.session.can_e_step:
            self._say(self.session.missing or "The responsibilities already belong to this mixture: press M")
            return
        self.session.e_step()
        self._done(False)

    def m_step(self) -> None:
        if self._refused(data=False):
            return
        self.window.runner.stop()
        try:
            self.session.m_step()
        except ValueError as exc:
            self._say(str(exc))
            self._done(False)
            return
        self._done(False)

    def add_points(self, points, join: bool) -> None:
        if self._refused(data=True):
            return
        self.window.runner.stop()
        self.session.add_points(points, join=join, start=self.window.starts_at_once())
        self._done(True)

    def erase(self, center, radii, join: bool) -> None:
        if self._refused(data=True):
            return
        self.window.runner.stop()
        if self.session.remove_within(center, radii, join=join, start=self.window.starts_at_once()):
            self.selected = None
            self._done(True)

    def clear(self) -> None:
        if self._refused(data=True):
            return
        self.window.runner.stop()
        self.session.clear()
        self.selected = None
        self._done(True)

    def undo(self) -> None:
        if self._refused(data=True):
            return
        self.window.runner.stop()
        if self.session.undo():
            self.selected = None  # the indices may point at other points now
            self._done(True)
        else:
            self._say("Nothing to undo")

    def redo(self) -> None:
        if self._refused(data=True):
            return
        self.window.runner.stop()
        if self.session.redo():
            self.selected = None
            self._done(True)
        else:
            self._say("Nothing to redo")

    def edit_start(self, mixture: Mixture, final: bool) -> None:
        if not final:
            return
        if self._refused(data=False):
            self._done(False)  # the handles go back to the mixture on show
            return
        self.window.runner.stop()
        try:
            self.session.set_start(mixture)
        except ValueError as exc:
            self.window.show_error("Cannot start from this mixture", str(exc))
        self._done(False)

    def place_mean(self, xy) -> None:
        if self._refused(data=False):
            return
        session = self.session
        if session.last is None:
            self._say(session.missing)
            return
        self.placed.append(np.asarray(xy, dtype=float))
        k = session.settings.k
        if len(self.placed) < k:
            self._say(f"Place means: {len(self.placed)} of {k} placed")
            self.tools.mean_handles.setData(*np.array(self.placed).T)
            return
        current = session.last.mixture
        means = current.means.copy()
        means[:, :2] = np.array(self.placed)
        self.placed = []
        self.edit_start(Mixture(np.full(k, 1.0 / k), means, current.covariances), True)
        self.set_mode(LOOK)

    def bad_start(self) -> None:
        """Two means in one cluster: the start the lecture warns about."""
        if self._refused(data=False):
            return
        session = self.session
        start = session.start
        if start is None or start.k < 2:
            self._say(session.missing or "A bad start needs k of 2 or more")
            return
        big = int(np.argmax(start.weights))
        others = [j for j in range(start.k) if j != big]
        near = min(others, key=lambda j: np.linalg.norm(start.means[j] - start.means[big]))
        values, vectors = np.linalg.eigh(start.covariances[big])
        offset = 0.3 * np.sqrt(values[-1]) * vectors[:, -1]
        means = start.means.copy()
        means[big] = start.means[big] - offset
        means[near] = start.means[big] + offset
        covariances = start.covariances.copy()
        covariances[near] = start.covariances[big]
        self.edit_start(Mixture(start.weights, means, covariances), True)
        self._say("Bad start: two means in one cluster. Run, and watch EM settle in a worse optimum or take long")

    def select_near(self, xy) -> None:
        """Select the point nearest to a click (within a handle's reach), or none."""
        points = self.session.points
        if not len(points):
            return
        scale = np.asarray(self.tools.view.viewPixelSize())
        distance = np.hypot(*((points[:, :2] - xy) / scale).T)
        nearest = int(np.argmin(distance))
        selected = nearest if distance[nearest] <= HANDLE_PIXELS else None
        if selected == self.selected:
            return
        self.selected = selected
        history = self.session.history
        if history and 0 <= self.shown_index < len(history):
            self._show_selected(history[self.shown_index], history, self.shown_index)

    # ------------------------------------------------------------------ views

    def on_drawn(self, index: int) -> None:
        """Bring the panel, overlays, inspector and bound view to snapshot ``index`` (as the window drew it)."""
        session = self.session
        history = session.history_view
        running = self.window.runner.running
        p = self.panel
        p.undo.setEnabled(session.can_undo)
        p.redo.setEnabled(session.can_redo)
        if not history:
            self.shown_index = -1
            self.tools.show_handles(None)
            self.tools.show_ghosts(None, None)
            self.tools.show_selection(None)
            self.inspector.clear()
            self.bound_view.clear(session.missing)
            self.marks.setData([], [])
            p.caption.setText(f"<b>{session.missing}</b>: draw points (Draw mode) or load data")
            p.e_step.setEnabled(False)
            p.m_step.setEnabled(False)
            return
        index %= len(history)
        self.shown_index = index
        step = history[index]
        previous = history[index - 1] if index > 0 else None
        newest = index == len(history) - 1
        title, formula = CAPTIONS[step.kind]
        if step.kind == ITERATION:
            title = f"Iteration {step.iteration}"
        elif step.kind in (E_STEP, M_STEP):
            title = f"{title} (iteration {step.iteration})"
        p.caption.setText(f"<b>{title}</b>: {formula}")
        p.e_step.setEnabled(newest and session.can_e_step)
        p.m_step.setEnabled(newest and session.can_m_step)
        self.tools.handles_enabled = newest and not running
        self.tools.show_handles(step.mixture if self.tools.handles_enabled else None)
        show_ghosts = step.kind == M_STEP and previous is not None
        self.tools.show_ghosts(previous.mixture if show_ghosts else None, step.mixture)
        self._mark_halves(history)
        self._show_selected(step, history, index)
        # a whole iteration's bound is its log-likelihood (nothing to compute): shown at every
        # frame of a run; a half-step's costs a pass over the points, so with many points it
        # waits until the run rests
        if not running or session.n <= BOUND_WHILE_RUNNING or (
                session.bound_is_free(step) and (previous is None or session.bound_is_free(previous))):
            self.bound_view.show_bounds(session.bound(step), session.bound(previous) if previous else None)
        else:
            self.bound_view.clear("log p = L + KL: shown when the run pauses (a half-step's bound "
                                  f"costs a pass over {session.n:,} points)")

    def _mark_halves(self, history) -> None:
        """Mark the half-steps on the curve; a run only appends whole iterations, so a history
        that grew by those alone keeps its marks (no walk through a long history every frame;
        Session.history_generation tells any other change)."""
        seen = self._halves_seen
        generation = self.session.history_generation
        if (seen is not None and seen[0] == generation and seen[1] <= len(history)
                and all(history[i].kind not in (E_STEP, M_STEP) for i in range(seen[1], len(history)))):
            self._halves_seen = (generation, len(history))
            return
        halves = [(s.iteration, s.log_likelihood, s.kind) for s in history if s.kind in (E_STEP, M_STEP)]
        if halves:
            x, y, kinds = zip(*halves)
            self.marks.setData(list(x), list(y), symbol=["t" if k == M_STEP else "s" for k in kinds])
        else:
            self.marks.setData([], [])
        self._halves_seen = (generation, len(history))

    def _show_selected(self, step, history, index) -> None:
        session = self.session
        if self.selected is None or self.selected >= session.n:
            self.selected = None
            self.tools.show_selection(None)
            self.inspector.clear()
            return
        x = session.points[self.selected]
        self.tools.show_selection(x[:2])
        iteration = step.iteration - 1 if step.stale else step.iteration
        self.inspector.show_point(self.selected, x, step.posterior, iteration=iteration,
                                  columns=session.columns, stale=step.stale)
