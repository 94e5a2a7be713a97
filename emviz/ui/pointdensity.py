"""The point layer for many points: a density image, binned per screen pixel, coloured by component.

Beyond :data:`DENSITY_THRESHOLD` points, laying every dot out and recolouring it each frame
costs the GUI thread more than a frame. :class:`DensityImage` puts the same points into one
bin per device pixel instead (numpy's ``bincount``, with each point's colour as weights),
so a pixel shows the mean colour of the points under it (the components' colours mixed by
responsibility, or hard labels) and is darker where more points fall (log scale): at
normal zoom it looks like the dots, and the density shows too. The bins follow the view:
a zoom, pan or resize bins again, in a background thread, while the previous image is
drawn stretched to the new view; new colours (every frame of a run) only re-weigh the
bins. This is not :mod:`emviz.ui.density`, which shades the *mixture's* density.
"""

from __future__ import annotations

import math
import threading
import traceback

import numpy as np
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QImage, QTransform

from emviz import kernel

from emviz.ui.points import PointItem

DENSITY_THRESHOLD = 100_000  # more points than this are drawn as a density image (automatic mode)
CHUNK = 1 << 18  # points per bincount call: numpy holds the GIL in one, the window waits that long
LIGHT_SPARSE = 0.6  # a pixel with one point is lightened this much towards white, like the dots
LIGHT_DENSE = 0.1  # the densest pixel of the view almost in the component's own colour
IDLE_SECONDS = 2.0  # the binning thread ends after this long without work


def pixel_bins(x, y, transform, x0, y0, w, h):
    """The device pixel of every point: (indices of the points inside the w x h area, their flat
    pixel index), in pixel order.

    ``transform`` = (m11, m12, m21, m22, dx, dy) maps data to device pixels (Qt's QTransform
    terms); pixel (0, 0) of the area is device pixel (x0, y0). A point lies in the pixel
    that contains its position, as the dots do.
    """
    m11, m12, m21, m22, dx, dy = transform
    px = np.floor(m11 * x + m21 * y + (dx - x0))
    py = np.floor(m12 * x + m22 * y + (dy - y0))
    inside = np.flatnonzero((px >= 0) & (px < w) & (py >= 0) & (py < h))
    flat = py[inside].astype(np.intp) * w + px[inside].astype(np.intp)
    # in pixel order: binning then adds into one pixel after another instead of jumping about
    # a (h, w) array at random (made once per view; every recolouring of a run bins again)
    order = np.argsort(flat)
    return inside[order], flat[order]


def _bincount(flat, weights, size):
    out = np.zeros(size)
    for start in range(0, len(flat), CHUNK):
        part = slice(start, start + CHUNK)
        out += np.bincount(flat[part], None if weights is None else weights[part], minlength=size)
    return out


def _spread(a):
    """Each bin plus its four neighbours: a point covers a small cross of pixels, as a dot does."""
    out = a.copy()
    out[1:] += a[:-1]
    out[:-1] += a[1:]
    out[:, 1:] += a[:, :-1]
    out[:, :-1] += a[:, 1:]
    return out


def density_image(flat, argb, w, h):
    """The (h, w) ARGB32 image of the points binned at ``flat`` with colours ``argb`` (theirs).

    Returns (image, counts): counts is the number of points per pixel (before the spread).
    """
    size = w * h
    if not len(flat):
        return np.zeros((h, w), dtype=np.uint32), np.zeros((h, w))
    if kernel.ready():  # compiled: ~75 ms of numpy at 1e6 points (four bincounts, then the pixels)
        counts, channels = kernel.bin_colours(flat, argb, size)
        counts = counts.reshape(h, w)
        return kernel.density_pixels(counts, channels.reshape(3, h, w), LIGHT_SPARSE, LIGHT_DENSE), counts
    counts = _bincount(flat, None, size)
    channels = [_bincount(flat, ((argb >> np.uint32(shift)) & np.uint32(0xFF)).astype(np.float64), size)
                for shift in (16, 8, 0)]
    sums = [_spread(channel.reshape(h, w)) for channel in channels]
    spread = _spread(counts.reshape(h, w))
    covered = spread > 0
    dense = np.log1p(counts.max())
    # darker where more points fall: log scale, the view's densest pixel darkest
    strength = np.log1p(spread[covered] / 5.0) / dense if dense > 0 else np.zeros(covered.sum())
    keep = 1.0 - (LIGHT_SPARSE + (LIGHT_DENSE - LIGHT_SPARSE) * np.clip(strength, 0.0, 1.0))
    image = np.zeros((h, w), dtype=np.uint32)
    pixels = np.full(covered.sum(), 0xFF000000, dtype=np.uint32)
    for shift, total in zip((16, 8, 0), sums):
        mean = total[covered] / spread[covered]
        value = np.rint(255.0 - (255.0 - mean) * keep).clip(0, 255).astype(np.uint32)
        pixels |= value << np.uint32(shift)
    image[covered] = pixels
    return image, counts.reshape(h, w)


class _Binned:
    """A finished image: what it was made for and where it goes on the device."""

    def __init__(self, want, transform, x0, y0, image, counts):
        self.want = want
        self.transform = transform  # QTransform: this item's coordinates -> device pixels, when binned
        self.x0, self.y0 = x0, y0
        self.pixels = image  # kept alive for the QImage that reads it
        self.counts = counts
        h, w = image.shape
        self.qimage = QImage(image.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)


class DensityImage(PointItem):
    """Many points as one image, binned per device pixel (a :class:`~emviz.ui.points.PointLayer`).

    ``synchronous``: bin during paint instead of in the background (``emviz render`` and
    grabs without an event loop need the image of this very view at once).
    """

    binned = Signal()  # a background binning finished (delivered in the GUI thread)

    def __init__(self):
        super().__init__()
        self._argb = np.empty(0, dtype=np.uint32)
        self._version = 0  # of the points and their colours
        self._colouring = None  # (version, colour_rows) still to be computed
        self.radius = 1.0
        self.synchronous = False
        self._image: _Binned | None = None
        self._bins_key = None
        self._bins = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self.binned.connect(self.update)

    # -------------------------------------------------------------- the PointLayer interface

    def set_points(self, xy: np.ndarray) -> None:
        self._take_points(xy)
        self._argb = np.full(len(self._x), 0xFF808080, dtype=np.uint32)
        self._colouring = None
        self._version += 1
        self._bins_key = self._bins = None
        self.informViewBoundsChanged()
        self.update()

    def set_colors(self, argb: np.ndarray, rows: np.ndarray | None = None) -> None:
        """New colours of every point (kept, not copied: they are never written to here)."""
        if rows is not None:
            argb_all = self._argb.copy()
            argb_all[rows] = argb
            argb = argb_all
        self._argb = np.asarray(argb, dtype=np.uint32)
        self._colouring = None
        self._version += 1
        self.update()

    def set_colouring(self, colour_rows) -> None:
        """Colour every point with ``colour_rows(None)``, in the background like the binning."""
        self._version += 1
        self._colouring = (self._version, colour_rows)
        self.update()

    def visible(self):
        """None: an image has no dots that own pixels (the interface's 'before any drawing')."""
        return None

    def colors(self) -> np.ndarray:
        return self._argb

    def counts(self):
        """(counts per device pixel (h, w), device pixel (x0, y0) of its corner) of the image drawn, or None."""
        image = self._image
        return None if image is None else (image.counts, (image.x0, image.y0))

    # -------------------------------------------------------------- geometry

    def pixelPadding(self):
        return 2

    # -------------------------------------------------------------- drawing

    def _paint(self, painter):
        if self._x.size == 0:
            return
        t = painter.deviceTransform()
        area = self._paint_area(painter, t, 2)
        x0, y0 = math.floor(area.left()), math.floor(area.top())
        w, h = math.ceil(area.right()) - x0, math.ceil(area.bottom()) - y0
        if w <= 0 or h <= 0:
            return
        terms = (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy())
        want = (terms, x0, y0, w, h, self._version)
        image = self._image
        if image is None or image.want != want:
            job = (want, QTransform(t), self._x, self._y, self._argb, self._colouring)
            if self.synchronous:
                self._image = image = self._bin(job)
            else:
                self._request(job)
        if image is None:
            return
        inverse, invertible = image.transform.inverted()
        if not invertible:
            return
        painter.save()
        # image pixel (i, j) -> the device pixel it was binned for, then back into this item and
        # through the painter's current transform: a stale image follows a zoom or pan until
        # the new one is ready
        painter.setTransform(QTransform.fromTranslate(image.x0, image.y0) * inverse * painter.worldTransform())
        painter.drawImage(QPointF(0, 0), image.qimage)
        painter.restore()

    def _bin(self, job) -> _Binned:
        """Bin ``job``'s points for its view (any thread)."""
        want, transform, x, y, argb, colouring = job
        terms, x0, y0, w, h, version = want
        if colouring is not None:
            argb = np.asarray(colouring[1](None), dtype=np.uint32)
            if self._colouring is colouring:  # still the newest colouring: these are the points' colours
                self._argb = argb
        key = (terms, x0, y0, w, h, id(x))
        bins = self._bins
        if self._bins_key != key or bins is None:
            bins = pixel_bins(x, y, terms, x0, y0, w, h)
            self._bins_key, self._bins = key, bins
        inside, flat = bins
        image, counts = density_image(flat, argb[inside], w, h)
        return _Binned(want, transform, x0, y0, image, counts)

    def _request(self, job):
        with self._lock:
            self._pending = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="emviz-density", daemon=True)
                self._thread.start()
            else:
                self._wake.notify()

    def _serve(self):
        while True:
            with self._lock:
                if self._pending is None:
                    self._wake.wait(IDLE_SECONDS)
                if self._pending is None:
                    self._thread = None
                    return
                job, self._pending = self._pending, None
                self._busy = True
            try:
                image = self._bin(job)
            except Exception:  # noqa: BLE001 - reported; the old image stays
                traceback.print_exc()
                image = None
            with self._lock:
                self._busy = False
                if image is not None:
                    self._image = image
            if image is None:
                continue
            try:
                self.binned.emit()
            except RuntimeError:  # the item was deleted with its window meanwhile
                return

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no binning is pending or running (tests); True if so."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._pending is None and not self._busy:
                    return True
            time.sleep(0.01)
        return False
