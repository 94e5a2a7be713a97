"""The components' covariance ellipses, each over a white halo, as one item painted in one call.

Eighteen pyqtgraph PlotCurveItems (k = 3, three levels, a curve and a halo each) cost the GUI
thread more in their Python than Qt spends stroking them: every ``setData`` checks its
arrays, recomputes bounds and emits signals, and every paint asks each item for its bounding
rectangle several times and goes through PlotCurveItem's generic paint. Here all the
ellipses of a snapshot are worked out in one numpy expression, turned into QPainterPaths with
pyqtgraph's ``arrayToQPath`` (what PlotCurveItem itself draws), and stroked by one paint:
every halo first, then every curve, each path with its own cosmetic pen, antialiased — the
same strokes in the same order as the separate items drew them (all halos stacked under all
curves, components and levels in order).
"""

from __future__ import annotations

import traceback

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPen

ELLIPSE_SEGMENTS = 72
_ANGLES = np.linspace(0, 2 * np.pi, ELLIPSE_SEGMENTS + 1)
_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)])


def ellipses_points(means, covariances, levels) -> np.ndarray:
    """The curves {x : (x - mean)^T cov^-1 (x - mean) = level^2} of every 2x2 covariance at every
    level: (k, len(levels), 2, ELLIPSE_SEGMENTS + 1), closed (the last point is the first)."""
    means = np.asarray(means, dtype=np.float64).reshape(-1, 2)
    covariances = np.asarray(covariances, dtype=np.float64).reshape(-1, 2, 2)
    levels = np.asarray(levels, dtype=np.float64).reshape(-1)
    values, vectors = np.linalg.eigh(covariances)  # (k, 2), (k, 2, 2)
    radii = np.sqrt(np.maximum(values, 0.0))
    axes = vectors * radii[:, None, :]  # column j: the j-th semi-axis at one standard deviation
    unit = axes @ _CIRCLE  # (k, 2, m)
    return means[:, None, :, None] + levels[None, :, None, None] * unit[:, None, :, :]


def ellipse_points(mean, cov, n_std) -> np.ndarray:
    """The curve {x : (x - mean)^T cov^-1 (x - mean) = n_std^2} of a 2x2 covariance, shape (2, m)."""
    return ellipses_points(np.asarray(mean)[None], np.asarray(cov)[None], [n_std])[0, 0]


class EllipseLayer(pg.GraphicsObject):
    """Curves of k components at a few levels, each stroked over a halo, drawn in one paint.

    ``set_pens`` gives each (component, level) its pen and halo pen (cosmetic: widths in
    pixels); ``set_ellipses`` the means and covariances and which levels are shown. The view
    does not follow this item (add it with ``ignoreBounds=True``); Qt culls and repaints by
    ``boundingRect``: the curves' extent, widened by the widest halo in pixels.
    """

    def __init__(self, levels=(1.0, 2.0, 3.0)):
        super().__init__()
        self.levels = tuple(float(level) for level in levels)
        self._pens: list[list[tuple[QPen, QPen]]] = []  # [component][level]: (pen, halo pen)
        self._xy = np.empty((0, len(self.levels), 2, ELLIPSE_SEGMENTS + 1))
        self._shown = 0  # levels drawn: the first `_shown` of `levels`
        self._paths: list[list] = []  # [component][level] QPainterPath, levels shown only
        self._extent = None  # (x0, y0, x1, y1) of the curves shown, or None
        self._pad_px = 0.0
        self._rect = None  # boundingRect, kept until the curves or the view's scale change

    # ------------------------------------------------------------------ content

    def set_pens(self, pens) -> None:
        """``pens[i][j]``: the (pen, halo pen) of component i's curve at ``levels[j]``; clears the curves."""
        self._pens = [[(QPen(pen), QPen(halo)) for pen, halo in row] for row in pens]
        widths = [max(pen.widthF(), halo.widthF()) for row in self._pens for pen, halo in row]
        # a stroke reaches half its width past the line; a square cap sqrt(2) times that
        self._pad_px = (max(widths) * 0.7072 + 1.0) if widths else 0.0
        self._show(len(self._pens), 0, None)

    def set_ellipses(self, means, covariances, shown: int) -> None:
        """Draw the first ``shown`` levels of each component's ellipse (k matching ``set_pens``)."""
        k = len(means)
        if k != len(self._pens):
            raise ValueError(f"{k} components for {len(self._pens)} sets of pens")
        shown = max(0, min(int(shown), len(self.levels)))
        self._show(k, shown, ellipses_points(means, covariances, self.levels[:shown]) if k and shown else None)

    def _show(self, k, shown, xy):
        self._shown = shown if xy is not None else 0
        if xy is not None:
            self._xy = xy
            self._paths = [[pg.arrayToQPath(curve[0], curve[1]) for curve in curves] for curves in xy]
            x, y = xy[:, :, 0], xy[:, :, 1]
            extent = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
            self._extent = extent if np.all(np.isfinite(extent)) else None
        else:
            self._xy = np.empty((k, 0, 2, ELLIPSE_SEGMENTS + 1))
            self._paths = [[] for _ in range(k)]
            self._extent = None
        self.prepareGeometryChange()
        self._rect = None
        self.update()

    @property
    def k(self) -> int:
        return len(self._pens)

    def curve(self, component: int, level: int) -> np.ndarray:
        """The drawn curve of ``component`` at ``levels[level]``, (2, m); (2, 0) when not shown."""
        if level >= self._shown:
            return np.empty((2, 0))
        return self._xy[component, level]

    def pen(self, component: int, level: int) -> QPen:
        return self._pens[component][level][0]

    def halo_pen(self, component: int, level: int) -> QPen:
        return self._pens[component][level][1]

    # ------------------------------------------------------------------ geometry

    def viewTransformChanged(self):
        # the halo's padding is in pixels: its size in data units follows the zoom
        self.prepareGeometryChange()
        self._rect = None

    def boundingRect(self):
        if self._rect is None:
            if self._extent is None:
                self._rect = QRectF()
            else:
                x0, y0, x1, y1 = self._extent
                px, py = self.pixelVectors()
                try:
                    dx = 0.0 if px is None else px.length() * self._pad_px
                    dy = 0.0 if py is None else py.length() * self._pad_px
                except OverflowError:
                    dx = dy = 0.0
                self._rect = QRectF(x0 - dx, y0 - dy, x1 - x0 + 2 * dx, y1 - y0 + 2 * dy)
        return QRectF(self._rect)

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        if self._extent is None:
            return (None, None)
        x0, y0, x1, y1 = self._extent
        return (x0, x1) if ax == 0 else (y0, y1)

    # ------------------------------------------------------------------ drawing

    def paint(self, painter, option, widget=None):
        # an exception escaping into Qt's paint loop can take the process down: report it instead
        try:
            if not self._shown:
                return
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for side in (1, 0):  # every halo under every curve
                for pens, paths in zip(self._pens, self._paths):
                    for level_pens, path in zip(pens, paths):
                        painter.setPen(level_pens[side])
                        painter.drawPath(path)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
