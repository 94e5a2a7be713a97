"""The point layer of the canvas: many points, each with its own colour.

A layer is what the canvas asks of whatever draws the points (today a numpy raster; a
density layer for very large n can take its place):

- ``set_points(xy)``: new points, (n, 2) data coordinates;
- ``set_colouring(colour_rows)``: how to colour them: a function from point indices (or None
  for all) to opaque ARGB32 pixels. The layer decides which points to colour when: those
  it shows now, the others when they come into view;
- ``visible()``: the indices of the points the last drawing showed (None before one);
- ``colors()``: the ARGB32 colour of every point, as last computed.

The colouring policy (hard or soft labels) is ``colouring``; the canvas only chooses it.
"""

from __future__ import annotations

import math
import traceback
from typing import Callable, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QTransform

from emviz.ui import palette

ColourRows = Callable[[np.ndarray | None], np.ndarray]


class PointLayer(Protocol):
    radius: float

    def set_points(self, xy: np.ndarray) -> None: ...

    def set_colouring(self, colour_rows: ColourRows) -> None: ...

    def visible(self) -> np.ndarray | None: ...

    def colors(self) -> np.ndarray: ...


def colouring(responsibilities: Callable[[np.ndarray | None], np.ndarray], *, hard: bool) -> ColourRows:
    """Point colours from responsibilities: ``responsibilities(rows)`` is (k, len(rows)).

    Soft: the components' colours mixed by responsibility, so an undecided point shows a
    mixed colour. Hard: the colour of the most likely component.
    """

    def colour_rows(rows):
        return palette.point_colors(responsibilities(rows), hard=hard)

    return colour_rows


def _disk_offsets(radius):
    r = int(math.ceil(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dx**2 + dy**2 <= radius**2 + 0.25
    return dy[inside], dx[inside]


class PointItem(pg.GraphicsObject):
    """What every point layer's item shares: its points' coordinates and their extent.

    The view fits its range to ``dataBounds`` and Qt culls by ``boundingRect``, both from
    ``_x``, ``_y`` and ``_rect`` as :meth:`_take_points` sets them. A subclass draws in
    ``_paint(painter)`` and says how far its marks reach past a point in ``pixelPadding``.
    """

    def __init__(self):
        super().__init__()
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._rect = QRectF()
        self._bounds = ((None, None), (None, None))  # (x0, x1), (y0, y1) of the points

    def _take_points(self, xy: np.ndarray) -> None:
        """New coordinates, (n, 2), and the rectangle around them (the caller then informs the view)."""
        self.prepareGeometryChange()
        self._x = np.ascontiguousarray(xy[:, 0], dtype=np.float64)
        self._y = np.ascontiguousarray(xy[:, 1], dtype=np.float64)
        if len(self._x):
            x0, x1, y0, y1 = (float(v) for v in (self._x.min(), self._x.max(), self._y.min(), self._y.max()))
            self._rect = QRectF(x0, y0, max(x1 - x0, 1e-12), max(y1 - y0, 1e-12))
            self._bounds = ((x0, x1), (y0, y1))
        else:
            self._rect = QRectF()
            self._bounds = ((None, None), (None, None))

    def boundingRect(self):
        return self._rect

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        # kept from _take_points: the view asks at every frame, and a pass over a million
        # coordinates each time cost 10 ms of the GUI thread
        return self._bounds[0 if ax == 0 else 1]

    def pixelPadding(self):
        raise NotImplementedError

    def paint(self, painter, option, widget=None):
        # An exception escaping into Qt's paint loop can take the process down (seen as a
        # segfault): report it and draw nothing this time instead.
        try:
            self._paint(painter)
        except Exception:  # noqa: BLE001
            traceback.print_exc()

    def _paint(self, painter) -> None:
        raise NotImplementedError

    def _paint_area(self, painter, t, reach: float) -> QRectF:
        """The device pixels this item may cover: its view's rectangle (without a view, its own
        rectangle ``reach`` pixels wider), clipped."""
        view = self.getViewBox()
        if view is not None:
            area = t.mapRect(self.mapRectFromItem(view, view.rect()))
        else:
            area = t.mapRect(self.boundingRect()).adjusted(-reach, -reach, reach, reach)
        if painter.hasClipping():
            area = area.intersected(t.mapRect(painter.clipBoundingRect()))
        return area


class PointCloud(PointItem):
    """Many points, each with its own colour, rasterised with numpy at paint time.

    pyqtgraph's ScatterPlotItem spends ~700 ms on per-point brushes for 1e5 points;
    drawing the dots into an image of the visible region takes a few ms and keeps
    every point's exact blended colour.

    With many points most are hidden under others: ``visible()`` lists the ones
    that own a pixel; a new colouring colours those at once when they are much fewer
    than all, and the others as they come into view.
    """

    def __init__(self):
        super().__init__()
        self._argb = np.empty(0, dtype=np.uint32)
        self._fresh = np.empty(0, dtype=bool)  # which colours belong to the current colouring
        self.colorize = None  # point indices -> their ARGB pixels, for the current colouring
        self.radius = 3.0
        self.outline = True
        self.lighten = 0.0
        self._layout_key = None
        self._layout = None
        # the last composed image and what it was made of: a frame whose colours and view
        # did not change (most frames at max speed: the worker colours ten times a second)
        # draws it again instead of composing it afresh
        self._colours_made = 0  # counts changes of _argb
        self._image_key = None
        self._image = None

    def set_points(self, xy: np.ndarray) -> None:
        self._take_points(xy)
        self._argb = np.full(len(self._x), 0xFF808080, dtype=np.uint32)
        self._fresh = np.zeros(len(self._x), dtype=bool)
        self.colorize = None
        self._layout_key = self._layout = None
        self._colours_made += 1
        n = len(self._x)
        self.radius = 4.0 if n <= 2_000 else 3.0 if n <= 20_000 else 2.0 if n <= 200_000 else 1.2
        self.outline = n <= 20_000
        # a dense cloud is drawn lighter, so the ellipses and means on it (in the same colours) stand out
        self.lighten = 0.0 if n <= 20_000 else 0.3 if n <= 200_000 else 0.45
        self.informViewBoundsChanged()
        self.update()

    def set_colors(self, argb: np.ndarray, rows: np.ndarray | None = None) -> None:
        """New colours for every point, or for ``rows`` only (the others are then out of date)."""
        if rows is None:
            if (self.colorize is None and len(argb) == len(self._argb) and self._fresh.all()
                    and np.array_equal(argb, self._argb)):
                return  # the colours on show already (a frame between two colourings of a run)
            # a copy: later colourings write into it, and the caller may keep its array
            self._argb = np.array(argb, dtype=np.uint32)
            self._fresh[:] = True
            self.colorize = None  # every colour is current: none is left to colour on sight
        else:
            self._argb[rows] = argb
            self._fresh[:] = False
            self._fresh[rows] = True
        self._colours_made += 1
        self.update()

    def set_colouring(self, colour_rows: ColourRows) -> None:
        """Colour the points with ``colour_rows``: now those on show when they are few, the rest on sight."""
        n = len(self._x)
        if n:
            shown = self.visible()
            if shown is None or len(shown) > n // 2:
                self.set_colors(colour_rows(None))
            else:
                self.set_colors(colour_rows(shown), rows=shown)
        self.colorize = colour_rows

    def visible(self) -> np.ndarray | None:
        """Indices of the points that own a pixel in the last drawing, or None before one."""
        return None if self._layout is None else self._layout[3]

    def colors(self) -> np.ndarray:
        return self._argb

    def pixelPadding(self):
        return self.radius + 1

    def _paint(self, painter):
        if self._x.size == 0:
            return
        device = painter.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        # The dots are laid out in the device's own pixels, so that each lands on the pixel
        # that holds its position. deviceTransform() maps this item there, with the widget's
        # offset in its window and the pixel ratio included; the image is then drawn through
        # a world transform that undoes exactly what the painter adds on top of it, so that
        # nothing (the offset in particular) is applied twice.
        t = painter.deviceTransform()
        area = self._paint_area(painter, t, self.radius + 2)
        x0, y0 = math.floor(area.left()), math.floor(area.top())
        w, h = math.ceil(area.right()) - x0, math.ceil(area.bottom()) - y0
        if w <= 0 or h <= 0:
            return
        key = (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy(), x0, y0, w, h, dpr, self.radius, self.outline,
               id(self._x))
        if self._layout_key != key:
            self._layout = self._lay_out(t, dpr, x0, y0, w, h)
            self._layout_key = key
        covered, owner, ring, shown = self._layout
        if self.colorize is not None:
            stale = shown[~self._fresh[shown]]
            if stale.size:  # points that came into view since the last colouring
                self._argb[stale] = self.colorize(stale)
                self._fresh[stale] = True
                self._colours_made += 1
        inverse, invertible = t.inverted()
        if not invertible:
            return
        image_key = (key, self._colours_made, self.lighten)
        if self._image_key != image_key:
            self._image = self._compose(covered, owner, ring, w, h)
            self._image_key = image_key
        painter.save()
        # image pixel (i, j) -> device pixel (x0 + i, y0 + j), whatever the painter adds after its world transform
        painter.setTransform(QTransform.fromTranslate(x0, y0) * inverse * painter.worldTransform())
        painter.drawImage(QPointF(0, 0), self._image[0])
        painter.restore()

    def _compose(self, covered, owner, ring, w, h):
        """The dots in their colours, as a (w x h) image, with the pixel array it is made of."""
        argb = self._argb
        pixels = np.zeros(h * w, dtype=np.uint32)
        if ring is None:
            pixels[covered] = argb[owner]
        else:
            dark = argb & np.uint32(0xFF000000)
            for shift in (16, 8, 0):
                channel = (argb >> np.uint32(shift)) & np.uint32(0xFF)
                dark |= ((channel * np.uint32(55)) // np.uint32(100)) << np.uint32(shift)
            pixels[covered] = np.where(ring, dark[owner], argb[owner])
        if self.lighten:
            shown_pixels = pixels[covered]
            light = shown_pixels & np.uint32(0xFF000000)
            keep = np.uint32(round(256 * (1 - self.lighten)))
            for shift in (16, 8, 0):
                channel = (shown_pixels >> np.uint32(shift)) & np.uint32(0xFF)
                channel = np.uint32(255) - (((np.uint32(255) - channel) * keep) >> np.uint32(8))
                light |= channel << np.uint32(shift)
            pixels[covered] = light
        # the QImage reads the array's memory: the two are kept together
        return QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied), pixels

    def _lay_out(self, t, dpr, x0, y0, w, h):
        """Which point owns each covered pixel, and whether as its rim: redone only when the view moves.

        Returns (covered pixel indices, owning point per covered pixel, rim mask or None).
        Points are laid down in order, each its rim then its fill, so later points sit on
        top; a new set of colours is then one gather per covered pixel.
        """
        px = t.m11() * self._x + t.m21() * self._y + t.dx() - x0
        py = t.m12() * self._x + t.m22() * self._y + t.dy() - y0
        radius = self.radius * dpr
        reach = int(math.ceil(radius + 1.0))  # how far a dot, with its rim, spreads from its centre
        pad = 2 * reach + 1  # a kept centre lies within `reach` of the area, its dot within 2 * reach
        # the pixel that contains the point's position (its centre is within half a pixel of it)
        ix = np.floor(px).astype(np.intp)
        iy = np.floor(py).astype(np.intp)
        visible = np.flatnonzero((ix > -reach) & (ix < w + reach) & (iy > -reach) & (iy < h + reach))
        stride = w + 2 * pad
        base = (iy[visible] + pad) * stride + (ix[visible] + pad)
        inner_dy, inner_dx = _disk_offsets(radius)
        inner = inner_dy * stride + inner_dx
        owner = np.full((h + 2 * pad) * stride, -1, dtype=np.int64)
        if self.outline:
            ring_dy, ring_dx = _disk_offsets(radius + 1.0)
            offsets = np.concatenate([ring_dy * stride + ring_dx, inner])
            is_ring = np.zeros((h + 2 * pad) * stride, dtype=bool)
            flags = np.concatenate([np.ones(len(ring_dy), bool), np.zeros(len(inner), bool)])
            targets = (base[:, None] + offsets).ravel()
            # numpy assigns repeated indices in order: the last point (and its fill) wins
            owner[targets] = np.repeat(visible, len(offsets))
            is_ring[targets] = np.tile(flags, len(visible))
        else:
            owner[(base[:, None] + inner).ravel()] = np.repeat(visible, len(inner))
            is_ring = None
        owner = owner.reshape(h + 2 * pad, stride)[pad : pad + h, pad : pad + w].ravel()
        covered = np.flatnonzero(owner >= 0)
        ring = None
        if is_ring is not None:
            ring = is_ring.reshape(h + 2 * pad, stride)[pad : pad + h, pad : pad + w].ravel()[covered]
        owner = owner[covered]
        return covered, owner, ring, np.unique(owner)


