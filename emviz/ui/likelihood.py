"""The log-likelihood curve: mean log-likelihood per point against iteration, growing live.

Every iteration from 0 on is on the plot. A random start can begin far below where
EM ends (the article's start is at −191.7, its end at −4.05), which flattens the
rise that matters; *zoom on the end* fits the y axis to the later iterations
instead and shows the ones it leaves out as marks on the bottom edge, with a
note saying how many and how low.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont

from emviz.ui import palette
from emviz.ui.axes import cache_axes

MARKER = palette.INK  # the viewed iteration: neutral, not the colour of any component


def zoom_window(n: int) -> int:
    """How many of the newest iterations *zoom on the end* fits: the later half, at least 10."""
    return max(10, math.ceil(n / 2))


def line_points(x: np.ndarray, y: np.ndarray, pixels_per_unit: float) -> np.ndarray | None:
    """Indices of the points that draw the same line as all of them, where one unit of ``x``
    is ``pixels_per_unit`` pixels wide; None when that is every point.

    A long run has many iterations to a pixel column, and stroking a segment for each costs
    the GUI thread at every frame (~4 ms for 6 600 iterations, growing with the run). Within
    one column the line only spans the lowest to the highest of its points, and it enters at
    the first and leaves at the last: those four per column, in their order (the M4
    aggregation of Jugel et al., 2014), draw the same line to within a pixel (the wide
    stroke's edge can move by one pixel where a column's points lie at different sub-pixel
    positions; tested). ``x`` is increasing; points that are not finite are all kept, so the
    gaps they make stay where they are.
    """
    n = len(x)
    if n < 4 or not (pixels_per_unit > 0 and math.isfinite(pixels_per_unit)):
        return None
    column = np.floor((x - x[0]) * pixels_per_unit).astype(np.int64)
    if column[-1] - column[0] + 1 > n / 2:  # fewer than two points a column: keep them all
        return None
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    ends = np.r_[starts[1:], n] - 1
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    keep = [starts, ends, np.flatnonzero(~np.isfinite(y))]
    for extreme in (np.fmin.reduceat, np.fmax.reduceat):  # NaN-ignoring: a column's finite extremes
        at = np.flatnonzero(y == extreme(y, starts)[group])
        keep.append(at[np.r_[True, group[at][1:] != group[at][:-1]]])  # the first in each column
    return np.unique(np.concatenate(keep))


LIVE_ROOM = 1.25  # while a fit runs, a range that must grow grows by a quarter more than needed
LIVE_FILL = 0.7  # and it is fitted again once the curve fills less than this much of it


def y_range(values: np.ndarray, *, zoom_end: bool = False) -> tuple[float, float]:
    """The y range to show: every finite value, or with ``zoom_end`` the newest ``zoom_window``.

    A single value, or a flat curve, still gets a readable axis.
    """
    finite = values[np.isfinite(values)]
    if zoom_end:
        tail = values[-zoom_window(len(values)):]
        tail = tail[np.isfinite(tail)]
        finite = tail if tail.size else finite
    if not finite.size:
        return -1.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    span = max(high - low, 1e-3 * max(1.0, abs(high)))
    return low - 0.05 * span, high + 0.05 * span


class LikelihoodPlot(pg.PlotWidget):
    """The curve; a click on it asks to look at the nearest iteration (``iteration_clicked``)."""

    iteration_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, background=palette.BACKGROUND)
        self.setMinimumHeight(130)
        self.setToolTip(
            "Mean log-likelihood per point at every iteration; click to look at an iteration. "
            "Z zooms on the later iterations"
        )
        self.zoom_end = False
        self.thin_long_runs = True  # draw a long run's line through line_points only
        self._drawn_key = None  # what the curve item was last given: (data, scale)
        self._shown = None  # (right edge, (low, high)) last set on the view
        self._iterations = np.empty(0)
        self._values = np.empty(0)
        self.scene().sigMouseClicked.connect(self._on_click)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=False, y=True, alpha=0.2)
        cache_axes(item)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.INK))
            axis.setTextPen(pg.mkPen(palette.INK))
            axis.setStyle(maxTickLevel=1)
        self.curve = pg.PlotDataItem()
        self.addItem(self.curve)
        self.current_line = pg.InfiniteLine(angle=90)
        self.addItem(self.current_line)
        self.current = pg.ScatterPlotItem()
        self.current.setZValue(10)
        self.addItem(self.current)
        # iterations below the zoomed range: marks on the bottom edge and a note
        self.clipped = pg.ScatterPlotItem(symbol="t", brush=pg.mkBrush("#8A8A8A"), pen=None)
        self.clipped.setZValue(5)
        self.addItem(self.clipped)
        # top left: the curve rises from the bottom left to the top right, and the iterations
        # left out are the early, low ones, so that corner is free
        self.clipped_note = pg.TextItem(color="#5A5A5A", anchor=(0, 0))
        self.clipped_note.setZValue(11)
        self.addItem(self.clipped_note, ignoreBounds=True)
        self.set_scale(1.0)
        item.getViewBox().sigResized.connect(self._fit_left_title)
        # a long run's line is thinned to the pixel columns: again when they change
        item.getViewBox().sigResized.connect(self._draw_curve)
        item.getViewBox().sigXRangeChanged.connect(self._draw_curve)

    # ------------------------------------------------------------------ style

    def set_scale(self, scale: float):
        """Fonts and lines ``scale`` times the desk size (presentation mode uses about 1.8)."""
        self._scale = scale
        item = self.getPlotItem()
        font = QFont()
        font.setPointSizeF(11 * scale)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTickFont(font)
            axis.setStyle(tickTextOffset=int(4 * scale))
        self._title_style = {"font-size": f"{12 * scale:g}pt", "color": palette.INK.name()}
        item.setLabel("bottom", "iteration", **self._title_style)
        self._fit_left_title()
        # fixed room for the title beside tick labels as long as −191.705: pyqtgraph only
        # widens the axis after the first paint, which a still image never gets
        item.getAxis("left").setWidth(int(100 * scale))
        item.getAxis("bottom").setHeight(int(45 * scale))
        self.curve.setPen(pg.mkPen(palette.INK, width=2.5 * scale))
        self.curve.setSymbolSize(6 * scale)
        self.curve.setSymbolBrush(pg.mkBrush(palette.INK))
        self.curve.setSymbolPen(None)
        self.current_line.setPen(pg.mkPen(MARKER, width=1.5 * scale, style=Qt.PenStyle.DashLine))
        self.current.setSize(14 * scale)
        self.current.setBrush(pg.mkBrush(palette.BACKGROUND))
        self.current.setPen(pg.mkPen(MARKER, width=2.5 * scale))
        self.clipped.setSize(9 * scale)
        note_font = QFont()
        note_font.setPointSizeF(10 * scale)
        self.clipped_note.setFont(note_font)
        self._update_view()

    # the last resort is no title: the header above says "mean log-likelihood" anyway
    TITLES = ("mean log-likelihood", "log-likelihood", "log-lik.", "")

    def _fit_left_title(self):
        """The longest title that fits along the left axis (a short plot gets a shorter one).

        Called when the view box has its new size (sigResized), not from the widget's
        resizeEvent, where the layout still has the old height.
        """
        item = self.getPlotItem()
        if item is None or not hasattr(self, "_title_style"):
            return
        axis = item.getAxis("left")
        room = axis.geometry().height() or item.getViewBox().height() or self.height() * 0.7
        for title in self.TITLES:
            axis.setLabel(title, **self._title_style)
            if axis.label.boundingRect().width() <= room:
                break
        # the axis centres its label only in its own resizeEvent, which a new text of a
        # fixed-width axis never causes: left alone, a shorter title kept the longer one's
        # place and ran off the top ("log-likelihoo" in presentation mode)
        axis.resizeEvent()

    def set_zoom_end(self, on: bool):
        self.zoom_end = bool(on)
        self._update_view()

    # ------------------------------------------------------------------ data

    def _on_click(self, event):
        view = self.getPlotItem().getViewBox()
        if event.button() != Qt.MouseButton.LeftButton or not view.sceneBoundingRect().contains(event.scenePos()):
            return
        self.iteration_clicked.emit(int(round(view.mapSceneToView(event.scenePos()).x())))

    def set_history(self, iterations: np.ndarray, values: np.ndarray, current: int = -1, *, live: bool = False):
        """Draw the curve and mark point ``current`` (the last by default).

        ``live``: a frame of a running fit. The ranges then move only when the curve leaves
        them or fills much less of them, with room to grow, instead of at every frame (each
        move re-lays out both axes' ticks and labels: a millisecond or more of every frame).
        """
        self._iterations = np.asarray(iterations, dtype=float)
        self._values = np.asarray(values, dtype=float)
        self._drawn_key = None
        # dots mark single iterations while they can be told apart; a long run is a line
        self.curve.setSymbol("o" if len(iterations) <= 150 else None)
        self._draw_curve()
        if len(iterations):
            self.current_line.setValue(float(self._iterations[current]))
            self.current.setData([self._iterations[current]], [self._values[current]])
        self._update_view(live)

    def _draw_curve(self, *_):
        """Give the curve item the points to draw: all of them, or a long run's line_points."""
        iterations, values = self._iterations, self._values
        vb = self.getPlotItem().getViewBox()
        (x0, x1), width = vb.viewRange()[0], vb.width() * self.devicePixelRatioF()  # device pixels
        scale = width / (x1 - x0) if x1 > x0 and width > 0 else 0.0
        thin = self.thin_long_runs and len(iterations) > 150  # never while dots mark iterations
        key = (id(iterations), id(values), len(iterations), scale if thin else None)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        keep = line_points(iterations, values, scale) if thin else None
        if keep is None:
            self.curve.setData(iterations, values)
        else:
            self.curve.setData(iterations[keep], values[keep])

    def _update_view(self, live: bool = False):
        iterations, values = self._iterations, self._values
        vb = self.getPlotItem().getViewBox()
        # at least ten iterations wide, so the ticks fall on whole iterations
        right = max(10, float(iterations[-1]) if len(iterations) else 10)
        low, high = y_range(values, zoom_end=self.zoom_end)
        shown = self._shown
        if live and shown is not None:
            shown_right, (shown_low, shown_high) = shown
            if not right <= shown_right:
                right = right * LIVE_ROOM
            else:
                right = shown_right
            span = high - low
            if low >= shown_low and high <= shown_high and span >= LIVE_FILL * (shown_high - shown_low):
                low, high = shown_low, shown_high
            else:
                high += (LIVE_ROOM - 1) * span  # the log-likelihood rises: room above
        if not live or shown is None or shown[0] != right:
            vb.setXRange(0, right, padding=0.04)
        if not live or shown is None or shown[1] != (low, high):
            vb.setYRange(low, high, padding=0)
        self._shown = (right, (low, high))
        self._draw_curve()  # at the x range just set (a no-op when its signal did it already)
        below = np.isfinite(values) & (values < low)
        if not below.any():
            self.clipped.setData([], [])
            self.clipped_note.setText("")
            return
        edge = low + 0.04 * (high - low)
        self.clipped.setData(iterations[below], np.full(int(below.sum()), edge))
        first, last = int(iterations[below][0]), int(iterations[below][-1])
        count = int(below.sum())
        which = f"iteration {first}" if count == 1 else f"{count} iterations ({first}–{last})"
        lowest = f"{float(values[below].min()):.4g}".replace("-", "−")
        self.clipped_note.setText(f"▼ {which} below, down to {lowest}")
        self.clipped_note.setPos(0.0, high)

    def clipped_count(self) -> int:
        """How many iterations are below the shown range (only with zoom on the end)."""
        low = self.getPlotItem().getViewBox().viewRange()[1][0]
        return int((np.isfinite(self._values) & (self._values < low)).sum())
