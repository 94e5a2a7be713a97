"""The scatter canvas: points coloured by responsibilities, ellipses and means of each component."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen

from emviz.gmm import EMStep, Mixture
from emviz.ui import palette
from emviz.ui.axes import cache_axes
from emviz.ui.density import DensityLayer
from emviz.ui.ellipses import ELLIPSE_SEGMENTS, EllipseLayer, ellipse_points  # noqa: F401 (re-exported)
from emviz.ui.pointdensity import DENSITY_THRESHOLD, DensityImage
from emviz.ui.points import PointCloud, colouring

POINT_MODES = ("auto", "dots", "density")  # how the points are drawn: by their number, or as chosen


class MeanLabel(pg.TextItem):
    """A component's number beside its mean: its lower left corner ``shift`` pixels from the mean."""

    def __init__(self, *args, **kwargs):
        self.shift = (0.0, 0.0)
        super().__init__(*args, anchor=(0, 1), **kwargs)

    def updateTextPos(self):
        super().updateTextPos()
        self.textItem.setPos(self.textItem.pos() + QPointF(*self.shift))

    def size(self):
        r = self.textItem.boundingRect()
        return r.width(), r.height()


class MixtureCanvas(pg.PlotWidget):
    """Data, covariance ellipses (1, 2 and optionally 3 standard deviations), means and a legend."""

    LEVELS = (1.0, 2.0, 3.0)

    painted = Signal()  # a paint of the canvas has finished

    def __init__(self, parent=None):
        super().__init__(parent, background=palette.BACKGROUND)
        self.setMinimumSize(480, 360)
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.2)
        font = QFont()
        font.setPointSize(12)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setStyle(maxTickLevel=1)  # major grid only: minor lines cost half of every frame
            axis.setPen(pg.mkPen(palette.INK))
            axis.setTextPen(pg.mkPen(palette.INK))
            axis.setTickFont(font)
            # pyqtgraph puts the axes, and the grid lines they draw, above the view's items:
            # behind them the grid stays a background and does not cut through the dots
            axis.setZValue(-1)
        item.setMenuEnabled(False)
        cache_axes(item)
        self.points = PointCloud()
        self.addItem(self.points)
        # beyond DENSITY_THRESHOLD points (or when chosen) the points are one image instead
        self.density_points = DensityImage()
        self.density_points.setVisible(False)
        self.addItem(self.density_points)
        self.point_mode = "auto"
        self.point_layer = self.points
        # off until asked for; ignoreBounds: the shade covers the view and must not widen it
        self.density = DensityLayer()
        self.addItem(self.density, ignoreBounds=True)
        view = item.getViewBox()
        view.sigRangeChanged.connect(self.density.refresh)
        view.sigResized.connect(self.density.refresh)
        # each mean: a white disc with a dark rim under a dot of the component's colour,
        # visible on its own cloud of points and on white alike; the k discs, then the k dots,
        # as the spots of one item (one paint a frame instead of two: ~1 ms at 1e5 points)
        self.means = pg.ScatterPlotItem(size=17, symbol="o", pxMode=True, pen=None)
        self.means.setZValue(20)
        self._disc_brush = pg.mkBrush(palette.BACKGROUND)
        self._disc_pen = pg.mkPen(palette.INK, width=1.5)
        self._no_pen = pg.mkPen(None)
        # only the points decide the view: growing ellipses must not make it jump
        self.addItem(self.means, ignoreBounds=True)
        # The legend sits above the view, in the plot's title row kept free for it, so it never
        # covers a point; its entries flow into as many columns as the width allows.
        self.legend = pg.LegendItem(offset=(0, 2), labelTextSize="13pt", labelTextColor=palette.INK,
                                    brush=pg.mkBrush(palette.BACKGROUND), pen=pg.mkPen(palette.BACKGROUND))
        self.legend.setParentItem(item)
        self._legend_layout = None
        # every component's ellipses over their white halos: one item, one paint (emviz/ui/ellipses.py);
        # only the points decide the view: growing ellipses must not make it jump
        self.ellipses = EllipseLayer(self.LEVELS)
        self.ellipses.setZValue(10)
        self.addItem(self.ellipses, ignoreBounds=True)
        self._labels: list[pg.TextItem] = []
        self._mean_brushes: list = []  # per spot of self.means: the k discs, then the k dots
        self._mean_pens: list = []
        self._mean_sizes = np.empty(0)
        self._truth: list[pg.PlotCurveItem] = []
        self._points_xy = np.empty((0, 2))
        self.hard_labels = False
        self.show_third_ellipse = False
        self.scale = 1.0  # sizes of lines, markers and type: 1 at a desk, more in a lecture hall
        self.show_truth = False
        self._true_mixture = None
        self._label_means = np.empty((0, 2))
        item.getViewBox().sigTransformChanged.connect(self._place_labels)
        # says how the points are drawn when that is not as dots: in the view's top right corner
        self.point_note = pg.TextItem(anchor=(1, 0), color=palette.INK, fill=pg.mkBrush(255, 255, 255, 220),
                                      border=pg.mkPen(palette.GRID))
        self.point_note.setParentItem(view)
        self.point_note.setZValue(30)
        self.point_note.setVisible(False)
        view.sigResized.connect(self._place_point_note)

    # ------------------------------------------------------------------ data

    def set_data(self, points: np.ndarray, columns, *, true_mixture: Mixture | None = None, equal_axes: bool = True):
        self._points_xy = np.asarray(points)
        self.points.set_points(self._points_xy)
        self.density_points.set_points(self._points_xy)
        self._choose_point_layer()
        item = self.getPlotItem()
        item.setLabel("bottom", columns[0], **{"font-size": "14pt", "color": palette.INK.name()})
        item.setLabel("left", columns[1], **{"font-size": "14pt", "color": palette.INK.name()})
        self.set_equal_axes(equal_axes)
        self._true_mixture = true_mixture
        self._draw_truth()
        self.fit_view()

    def fit_view(self):
        """Show all the points, and keep doing so as the window is resized, until the user zooms."""
        vb = self.getPlotItem().getViewBox()
        vb.setDefaultPadding(0.05)
        vb.enableAutoRange()

    def set_point_mode(self, mode: str):
        """"auto" (dots up to DENSITY_THRESHOLD points, a density image beyond), "dots" or "density".

        The layer newly shown has no colours yet: the caller draws the snapshot again.
        """
        if mode not in POINT_MODES:
            raise ValueError(f"point mode must be one of {', '.join(POINT_MODES)}, got {mode!r}")
        self.point_mode = mode
        self._choose_point_layer()

    @property
    def drawn_as_density(self) -> bool:
        return self.point_layer is self.density_points

    def _choose_point_layer(self):
        n = len(self._points_xy)
        density = self.point_mode == "density" or (self.point_mode == "auto" and n > DENSITY_THRESHOLD)
        self.point_layer = self.density_points if density else self.points
        self.points.setVisible(not density)
        self.density_points.setVisible(density)
        if density:
            note = f"{n:,} points: drawn as a density image"
        elif n > DENSITY_THRESHOLD:
            note = f"{n:,} points: drawn as dots"
        else:
            note = ""
        if self.point_mode != "auto" and note:
            note += " (View ▸ Points)"
        self.point_note.setText(note)
        self.point_note.setVisible(bool(note))
        self._place_point_note()

    def _place_point_note(self, *_):
        view = self.getPlotItem().getViewBox()
        self.point_note.setPos(view.width() - 4, 4)

    def set_equal_axes(self, on: bool):
        self.getPlotItem().getViewBox().setAspectLocked(bool(on), ratio=1.0)
        self.fit_view()

    def set_scale(self, scale: float):
        """Lines, mean markers, labels and legend at ``scale`` times their desk size (presentation mode)."""
        if scale == self.scale:
            return
        self.scale = float(scale)
        font = QFont()
        font.setPointSizeF(11 * self.scale)
        self.point_note.setFont(font)
        self.means.setSize(17 * self.scale)
        # the components' items are built at the new size by the next show_step
        self._ensure_components(0)
        self._legend_layout = None

    def set_show_density(self, on: bool):
        """Shade the mixture's log-density under the points (it follows every step drawn)."""
        self.density.set_shown(on)

    @property
    def show_density(self) -> bool:
        return self.density.isVisible()

    def set_show_truth(self, on: bool):
        self.show_truth = bool(on)
        self._draw_truth()

    def _draw_truth(self):
        for curve in self._truth:
            self.removeItem(curve)
        self._truth = []
        if not (self.show_truth and self._true_mixture is not None):
            return
        pen = pg.mkPen(QColor(60, 60, 60), width=2, style=Qt.PenStyle.DashLine)
        for mean, cov in zip(self._true_mixture.means, self._true_mixture.covariances):
            xy = ellipse_points(mean, cov, 2.0)
            curve = pg.PlotCurveItem(xy[0], xy[1], pen=pen)
            curve.setZValue(5)
            self.addItem(curve, ignoreBounds=True)
            self._truth.append(curve)

    # ------------------------------------------------------------------ mixture

    def _ensure_components(self, k: int):
        if len(self._labels) == k and self.ellipses.k == k:
            return
        for label in self._labels:
            self.removeItem(label)
        self.legend.clear()
        # many components: a smaller legend, so its rows above the plot leave the plot most of the height
        self.legend.opts["labelTextSize"] = f"{(13 if k <= 8 else 11) * self.scale:g}pt"
        self._labels = []
        # built once per k and reused: pyqtgraph caches symbol pixmaps per pen and brush
        self._mean_brushes = [self._disc_brush] * k + [pg.mkBrush(palette.qcolor(i)) for i in range(k)]
        self._mean_pens = [self._disc_pen] * k + [self._no_pen] * k
        self._mean_sizes = np.r_[np.full(k, 26.0), np.full(k, 17.0)] * self.scale

        pens = []
        for i in range(k):
            color = palette.qcolor(i)
            levels = []
            for width, style in zip((3.5, 2.5, 1.5), (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)):
                # a white band under each curve: the curve stays visible on a cloud of its own
                # colour, and on white nothing changes; under every curve, so crossings stay clean
                width *= self.scale
                halo_pen = QPen(palette.HALO, width + 3.0 * self.scale)
                halo_pen.setCosmetic(True)
                pen = QPen(color, width, style)
                pen.setCosmetic(True)
                levels.append((pen, halo_pen))
            pens.append(levels)
            label = MeanLabel(str(i + 1), color=palette.INK, border=pg.mkPen(color, width=2),
                              fill=pg.mkBrush(255, 255, 255, 230))
            label_font = QFont()
            label_font.setPointSizeF(13 * self.scale)
            label_font.setBold(True)
            label.setFont(label_font)
            label.setZValue(25)
            self.addItem(label, ignoreBounds=True)
            self._labels.append(label)
            swatch = pg.ScatterPlotItem(size=(14 if k <= 8 else 11) * self.scale, symbol="o", brush=pg.mkBrush(color),
                                        pen=pg.mkPen("w", width=1.5))
            self.legend.addItem(swatch, f"{i + 1}")
        self.ellipses.set_pens(pens)
        if k == 0:  # no mixture (an empty canvas): no means, no shade of an old one, no room kept for a legend
            self.means.setData([], [])
            self.density.set_mixture(None)
            self._label_means = np.empty((0, 2))
            self._layout_legend()

    def show_step(self, step: EMStep, responsibilities, colors: np.ndarray | None = None, colours=None):
        """Draw one snapshot: points, ellipses, means, labels and legend.

        ``colours(rows, hard)`` gives the ARGB32 colours of those points under ``step`` (all
        points for ``rows=None``), in one pass without a (k, n) array
        (:meth:`emviz.session.Session.colours_function`); or, without it,
        ``responsibilities(rows)`` their (k, len(rows)) responsibilities, mixed here. The
        point layer decides which points to colour when.
        ``colors``, the (n,) ARGB32 colours of all points when a worker has made them
        already, spares the GUI thread that work.
        """
        mixture = step.mixture
        self._ensure_components(mixture.k)
        layer = self.point_layer
        hard = self.hard_labels
        if colors is not None and len(colors) == len(self._points_xy):
            layer.set_colors(colors)
        elif colours is not None:
            layer.set_colouring(lambda rows: colours(rows, hard))
        else:
            layer.set_colouring(colouring(responsibilities, hard=hard))
        self.density.set_mixture(mixture)
        self.ellipses.set_ellipses(mixture.means, mixture.covariances, 3 if self.show_third_ellipse else 2)
        relabelled = False
        for i in range(mixture.k):
            mean = mixture.means[i]
            self._labels[i].setPos(float(mean[0]), float(mean[1]))
            text = f"{i + 1}   π = {mixture.weights[i]:.3f}"
            label = self.legend.items[i][1]
            if label.text != text:  # setText re-lays out HTML: skip it when nothing changed
                label.setText(text)
                relabelled = True
        if relabelled or self._legend_layout is None:  # else nothing in the legend moved
            self._layout_legend()
        self._label_means = mixture.means
        self._place_labels()
        x, y = mixture.means[:, 0], mixture.means[:, 1]
        self.means.setData(np.r_[x, x], np.r_[y, y], size=self._mean_sizes, brush=self._mean_brushes,
                           pen=self._mean_pens)

    def paintEvent(self, event):
        super().paintEvent(event)
        self.painted.emit()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # resized once while it is built, and once more as it is closed
        if "legend" in self.__dict__ and self.getPlotItem() is not None:
            self._layout_legend()

    def _layout_legend(self):
        """As many legend columns as fit beside each other, and the row above the view as tall as the legend."""
        item = self.getPlotItem()
        entries = self.legend.items
        left = item.getAxis("left").width()
        if entries:
            # the text's own width: a LabelItem's width() follows a new text only later
            widest = 12 + max(sample.boundingRect().width() + label.item.boundingRect().width()
                              for sample, label in entries)
            columns = max(1, min(len(entries), int((self.width() - left - 10) // widest)))
        else:
            columns = 1
        if self.legend.columnCount != columns:
            self.legend.setColumnCount(columns)
        self.legend.updateSize()
        height = math.ceil(self.legend.height()) + 4 if entries else 0
        layout = (columns, height, left)
        if layout == self._legend_layout:
            return
        self._legend_layout = layout
        item.layout.setRowFixedHeight(0, height)
        item.layout.activate()  # now, not at the next event loop turn: a grab or render may come first
        self.legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(left, 2))

    LABEL_GAP = 14  # pixels from a mean's centre to its label: clear of the 26 px marker

    def _place_labels(self, *_):
        """Each label up and to the right of its mean; labels that would overlap (means that
        coincide, or nearly) are stacked upwards instead of drawn over each other, or downwards
        from below the mean when upwards would leave the view."""
        view = self.getPlotItem().getViewBox()
        top = view.mapRectToDevice(view.boundingRect())
        top = top.top() if top is not None else -math.inf
        placed: list[QRectF] = []
        for label, mean in zip(self._labels, self._label_means):
            at = view.mapViewToDevice(QPointF(float(mean[0]), float(mean[1])))
            if at is None:
                return
            width, height = label.size()
            gap = self.LABEL_GAP * self.scale
            gap_y = gap * 0.7
            rect = QRectF(at.x() + gap, at.y() - gap_y - height, width, height)
            while any(rect.intersects(other) for other in placed):
                rect.translate(0, -(height + 2))
            if rect.top() < top <= at.y():
                rect.moveTop(at.y() + gap_y)
                while any(rect.intersects(other) for other in placed):
                    rect.translate(0, height + 2)
            placed.append(rect)
            shift = (gap, rect.bottom() - at.y())
            if shift != label.shift:
                label.shift = shift
                label.updateTextPos()
