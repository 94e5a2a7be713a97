"""Canvas interaction modes: look (inspect points, drag the start's handles), draw, erase, place means.

:class:`CanvasTools` watches the mouse on a pyqtgraph plot, turns pixels into data
coordinates with the view's own mapping, and says what the user asked for as
signals (add these points, erase under this brush, move this mean, ...). It
changes no state itself: :mod:`emviz.ui.interaction` hands the requests to the
session. It also owns the overlays that go with the modes: the brush, the
handles of the start's means and axes, the selected point, and the previous
mixture ghosted with arrows to the new means after an M-step.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor

from emviz.gmm import Mixture
from emviz.ui import palette

LOOK = "look"
DRAW = "draw"
ERASE = "erase"
PLACE = "place means"
MODES = (LOOK, DRAW, ERASE, PLACE)

HANDLE_PIXELS = 10  # how near a handle a press must land to grab it
CLICK_PIXELS = 4  # a press and release closer than this is a click, not a drag
ARROW_TIP_PIXELS = 15  # the arrow ends this far from the new mean: outside its marker
SPRAY_STEP = 0.5  # spray again after the mouse moved this many brush radii
_CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 65)), np.sin(np.linspace(0, 2 * np.pi, 65))])


def ellipse_curve(mean, cov, n_std=1.0) -> np.ndarray:
    """The n_std-sigma ellipse of a 2x2 covariance, shape (2, 65)."""
    values, vectors = np.linalg.eigh(cov)
    return np.asarray(mean)[:, None] + (vectors * (n_std * np.sqrt(np.maximum(values, 0.0)))) @ _CIRCLE


def axis_handles(mixture: Mixture) -> np.ndarray:
    """The ends of every component's 1-sigma principal axes, shape (k, 2, 2): [component, axis, xy]."""
    values, vectors = np.linalg.eigh(mixture.covariances[:, :2, :2])
    return mixture.means[:, None, :2] + (vectors * np.sqrt(np.maximum(values, 0.0))[:, None, :]).transpose(0, 2, 1)


def covariance_from_axis(cov: np.ndarray, axis: int, end: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The 2x2 covariance whose ``axis`` (0 or 1, as :func:`axis_handles` orders them) ends at ``end``.

    That axis turns to point at ``end`` and takes its length; the other axis keeps
    its length and turns with it, staying perpendicular.
    """
    values, vectors = np.linalg.eigh(cov)
    offset = np.asarray(end, dtype=float) - np.asarray(mean, dtype=float)
    length = float(np.hypot(*offset))
    if length == 0:
        return cov
    direction = offset / length
    other = np.array([-direction[1], direction[0]])
    other_length = math.sqrt(max(values[1 - axis], 0.0))
    floor = 1e-6 * max(length, other_length, 1e-300)
    length, other_length = max(length, floor), max(other_length, floor)
    new = length**2 * np.outer(direction, direction) + other_length**2 * np.outer(other, other)
    return (new + new.T) / 2


class _Spots(pg.ScatterPlotItem):
    """A ScatterPlotItem hidden while it has no spots: an empty one is still painted at every
    frame (a small box at the origin; three of them ~0.9 ms of the GUI thread a frame)."""

    def setData(self, *args, **kwargs):
        super().setData(*args, **kwargs)
        self.setVisible(len(self.data) > 0)


class CanvasTools(QObject):
    """The mouse on a plot, in the current mode, as requests in data coordinates."""

    add_requested = Signal(object, bool)  # points (m, 2), join: part of the stroke before
    erase_requested = Signal(object, object, bool)  # centre (2,), radii (2,) per axis, join
    point_clicked = Signal(object)  # where a click landed in Look mode (2,)
    mean_placed = Signal(object)  # Place-means mode: where (2,)
    start_edited = Signal(object, bool)  # the edited Mixture, final (the button released)
    mode_changed = Signal(str)

    def __init__(self, canvas: pg.PlotWidget, seed: int = 0):
        super().__init__(canvas)
        self.canvas = canvas
        self.view = canvas.getPlotItem().getViewBox()
        self.mode = LOOK
        self.brush_pixels = 24.0
        self.density = 6  # points per spray
        self.handles_enabled = False
        self._rng = np.random.default_rng(seed)
        self._mixture: Mixture | None = None  # the mixture the handles edit
        self._hovered = False  # handles show while the mouse is over the canvas, not in still images
        self._press = None  # (button, viewport position, what was grabbed)
        self._last_spray = None
        self._build_overlays()
        canvas.viewport().setMouseTracking(True)
        canvas.viewport().installEventFilter(self)
        self.view.sigRangeChanged.connect(lambda *_: self._redraw_arrows())

    # ------------------------------------------------------------------ overlays

    def _build_overlays(self):
        spots = _Spots
        item = self.canvas.getPlotItem()
        self.brush = pg.PlotDataItem(pen=pg.mkPen(palette.INK, width=1, style=Qt.PenStyle.DashLine))
        self.selection = spots(size=18, symbol="o", brush=None, pen=pg.mkPen(palette.INK, width=2.5))
        # rings around the means and the axis ends: the marks they edit stay visible inside them
        self.mean_handles = spots(size=27, symbol="o", brush=None, pen=pg.mkPen(palette.INK, width=1.5))
        self.axis_handles = spots(size=13, symbol="d", brush=None, pen=pg.mkPen(palette.INK, width=1.5))
        self.preview = pg.PlotDataItem(connect="finite", pen=pg.mkPen(palette.INK, width=2, style=Qt.PenStyle.DotLine))
        self.ghosts: list[pg.PlotDataItem] = []  # the previous mixture's 1-sigma ellipses, faded
        self.arrow_lines = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(palette.INK, width=1.5))
        self.arrow_heads: list[pg.ArrowItem] = []
        for z, overlay in enumerate((self.arrow_lines, self.preview, self.brush, self.selection,
                                     self.axis_handles, self.mean_handles)):
            overlay.setZValue(50 + z)
            item.addItem(overlay, ignoreBounds=True)
        self._arrows: tuple[np.ndarray, np.ndarray] | None = None

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.brush.setData([], [])
        self.show_handles(self._mixture)
        self.canvas.viewport().setCursor(Qt.CursorShape.CrossCursor if mode != LOOK else Qt.CursorShape.ArrowCursor)
        self.mode_changed.emit(mode)

    def show_handles(self, mixture: Mixture | None) -> None:
        """Handles on ``mixture``'s means and 1-sigma axes (None: no handles, nothing to edit)."""
        self._mixture = mixture
        self.preview.setData([], [])
        if mixture is None or not self.handles_enabled or mixture.d < 2 or not self._hovered or self.mode != LOOK:
            self.mean_handles.setData([], [])
            self.axis_handles.setData([], [])
            return
        self.mean_handles.setData(mixture.means[:, 0], mixture.means[:, 1])
        ends = axis_handles(mixture).reshape(-1, 2)
        self.axis_handles.setData(ends[:, 0], ends[:, 1])

    def show_selection(self, xy) -> None:
        if xy is None:
            self.selection.setData([], [])
        else:
            self.selection.setData([float(xy[0])], [float(xy[1])])

    def show_ghosts(self, old: Mixture | None, new: Mixture | None) -> None:
        """The previous mixture's 1-sigma ellipses, faded, and arrows from its means to the new ones."""
        item = self.canvas.getPlotItem()
        for ghost in self.ghosts:
            item.removeItem(ghost)
        self.ghosts = []
        if old is None or new is None or old.k != new.k:
            self._arrows = None
        else:
            for i, (mean, cov) in enumerate(zip(old.means, old.covariances)):
                color = QColor(palette.qcolor(i))
                color.setAlpha(120)
                xy = ellipse_curve(mean[:2], cov[:2, :2])
                ghost = pg.PlotDataItem(xy[0], xy[1], pen=pg.mkPen(color, width=2.5, style=Qt.PenStyle.DashDotLine))
                ghost.setZValue(49)
                item.addItem(ghost, ignoreBounds=True)
                self.ghosts.append(ghost)
            self._arrows = (old.means[:, :2].copy(), new.means[:, :2].copy())
        self._redraw_arrows()

    def _redraw_arrows(self):
        item = self.canvas.getPlotItem()
        for head in self.arrow_heads:
            item.removeItem(head)
        self.arrow_heads = []
        if self._arrows is None:
            self.arrow_lines.setData([], [])
            return
        old, new = self._arrows
        pairs = np.stack([old, new], axis=1).reshape(-1, 2)
        self.arrow_lines.setData(pairs[:, 0], pairs[:, 1])
        for i, (a, b) in enumerate(zip(old, new)):
            pa, pb = self.to_pixels(a), self.to_pixels(b)
            if math.hypot(pb.x() - pa.x(), pb.y() - pa.y()) < 3:
                continue  # a mean that did not move has no arrow
            length = math.hypot(pb.x() - pa.x(), pb.y() - pa.y())
            angle = math.degrees(math.atan2(pb.y() - pa.y(), pb.x() - pa.x()))
            # the tip stops at the edge of the new mean's marker, which would hide it
            back = min(ARROW_TIP_PIXELS, length / 2) / length
            tip = self.to_data(QPointF(pb.x() - back * (pb.x() - pa.x()), pb.y() - back * (pb.y() - pa.y())))
            head = pg.ArrowItem(pos=(tip[0], tip[1]), angle=180 + angle, headLen=12, tipAngle=35,
                                brush=pg.mkBrush(palette.qcolor(i)), pen=pg.mkPen(palette.INK, width=1))
            head.setZValue(55)
            item.addItem(head, ignoreBounds=True)
            self.arrow_heads.append(head)

    # ------------------------------------------------------------------ mapping

    def to_data(self, position: QPointF) -> np.ndarray:
        """Viewport pixels -> data coordinates, through the view's own mapping."""
        scene = self.canvas.mapToScene(position.toPoint())
        point = self.view.mapSceneToView(QPointF(scene))
        return np.array([point.x(), point.y()])

    def to_pixels(self, xy) -> QPointF:
        """Data coordinates -> viewport pixels (the inverse of :meth:`to_data`)."""
        scene = self.view.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
        return QPointF(self.canvas.mapFromScene(scene))

    def brush_radii(self) -> np.ndarray:
        """The brush's radius in data units along x and y (a round brush on screen)."""
        width, height = self.view.viewPixelSize()
        return self.brush_pixels * np.array([width, height])

    def _grab(self, position: QPointF):
        """The handle under ``position``: ("mean", k) or ("axis", k, a), or None."""
        if self._mixture is None or not self.handles_enabled or self.mode != LOOK:
            return None
        best, best_distance = None, HANDLE_PIXELS
        for k, mean in enumerate(self._mixture.means):
            p = self.to_pixels(mean)
            distance = math.hypot(p.x() - position.x(), p.y() - position.y())
            if distance <= best_distance:
                best, best_distance = ("mean", k), distance
        for k, ends in enumerate(axis_handles(self._mixture)):
            for a, end in enumerate(ends):
                p = self.to_pixels(end)
                distance = math.hypot(p.x() - position.x(), p.y() - position.y())
                if distance < best_distance:
                    best, best_distance = ("axis", k, a), distance
        return best

    # ------------------------------------------------------------------ events

    def eventFilter(self, watched, event):
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._pressed(event)
        if kind == QEvent.Type.MouseMove:
            return self._moved(event)
        if kind == QEvent.Type.MouseButtonRelease:
            return self._released(event)
        if kind in (QEvent.Type.Enter, QEvent.Type.Leave):
            self._hovered = kind == QEvent.Type.Enter
            self.brush.setData([], [])
            if self._press is None:
                self.show_handles(self._mixture)
        return False

    def _pressed(self, event) -> bool:
        position, button = event.position(), event.button()
        xy = self.to_data(position)
        if self.mode == LOOK:
            grabbed = self._grab(position) if button == Qt.MouseButton.LeftButton else None
            self._press = (button, position, grabbed)
            return grabbed is not None  # a handle: no panning; otherwise the view pans as usual
        self._press = (button, position, None)
        erasing = self.mode == ERASE or button == Qt.MouseButton.RightButton
        if erasing and button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton) and self.mode != PLACE:
            self.erase_requested.emit(xy, self.brush_radii(), False)
        elif button == Qt.MouseButton.LeftButton and self.mode == DRAW:
            self.add_requested.emit(xy[None, :], False)
        elif button == Qt.MouseButton.LeftButton and self.mode == PLACE:
            self.mean_placed.emit(xy)
        self._last_spray = position
        return True

    def _moved(self, event) -> bool:
        position = event.position()
        xy = self.to_data(position)
        if self.mode in (DRAW, ERASE):
            self.brush.setData(*(xy[:, None] + self.brush_radii()[:, None] * _CIRCLE))
        if self._press is None:
            if self.mode == LOOK and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.point_clicked.emit(xy)  # hovering with Shift inspects, as a click does
            return False
        button, _, grabbed = self._press
        if self.mode == LOOK:
            if grabbed is None:
                return False
            self._drag_handle(grabbed, xy, final=False)
            return True
        if self.mode == PLACE:
            return True
        last = self._last_spray
        if math.hypot(position.x() - last.x(), position.y() - last.y()) < SPRAY_STEP * self.brush_pixels:
            return True
        self._last_spray = position
        if self.mode == ERASE or button == Qt.MouseButton.RightButton:
            self.erase_requested.emit(xy, self.brush_radii(), True)
        elif self.mode == DRAW:
            self.add_requested.emit(self.spray(xy), True)
        return True

    def _released(self, event) -> bool:
        if self._press is None:
            return False
        button, pressed_at, grabbed = self._press
        self._press = None
        position = event.position()
        if self.mode != LOOK:
            return True
        if grabbed is not None:
            self._drag_handle(grabbed, self.to_data(position), final=True)
            return True
        moved = math.hypot(position.x() - pressed_at.x(), position.y() - pressed_at.y())
        if button == Qt.MouseButton.LeftButton and moved < CLICK_PIXELS:
            self.point_clicked.emit(self.to_data(position))
        return False

    def spray(self, center: np.ndarray) -> np.ndarray:
        """``density`` points uniform in the brush's disc around ``center``, (m, 2)."""
        angle = self._rng.uniform(0, 2 * np.pi, self.density)
        radius = np.sqrt(self._rng.uniform(0, 1, self.density))
        unit = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
        return center + unit * self.brush_radii()

    def _drag_handle(self, grabbed, xy, *, final: bool):
        mixture = self._mixture
        means = mixture.means.copy()
        covariances = mixture.covariances.copy()
        if grabbed[0] == "mean":
            means[grabbed[1], :2] = xy
        else:
            _, k, axis = grabbed
            covariances[k, :2, :2] = covariance_from_axis(covariances[k, :2, :2], axis, xy, means[k, :2])
        try:
            edited = Mixture(mixture.weights, means, covariances)
        except ValueError:
            return  # an axis squeezed to nothing: keep the last good one
        if final:
            self.preview.setData([], [])
            self.start_edited.emit(edited, True)
            return
        k = grabbed[1]
        curve = ellipse_curve(edited.means[k, :2], edited.covariances[k, :2, :2])
        self.preview.setData(curve[0], curve[1])
        self.mean_handles.setData(edited.means[:, 0], edited.means[:, 1])
        ends = axis_handles(edited).reshape(-1, 2)
        self.axis_handles.setData(ends[:, 0], ends[:, 1])
        self.start_edited.emit(edited, False)
