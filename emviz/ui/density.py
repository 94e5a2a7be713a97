"""The mixture's density under the points: its log-density shaded on a grid sized to the view."""

from __future__ import annotations

import math
import traceback

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from emviz.gmm import Mixture


def log_density(mixture: Mixture, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log p(x, y) = log sum_k pi_k N((x, y) | mu_k, Sigma_k) of a 2-d mixture, in log space.

    ``x`` and ``y`` have one shape; the result has it too. Each 2x2 covariance is used through
    its Cholesky factor, so thin components do not lose precision.
    """
    from scipy.special import logsumexp  # here: the shade is off at the start, which needs no scipy

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    terms = np.empty((mixture.k,) + x.shape)
    for j in range(mixture.k):
        factor = np.linalg.cholesky(mixture.covariances[j])
        z1 = (x - mixture.means[j, 0]) / factor[0, 0]
        z2 = (y - mixture.means[j, 1] - factor[1, 0] * z1) / factor[1, 1]
        log_det = 2.0 * (math.log(factor[0, 0]) + math.log(factor[1, 1]))
        terms[j] = math.log(mixture.weights[j]) - math.log(2 * math.pi) - 0.5 * log_det - 0.5 * (z1 * z1 + z2 * z2)
    return logsumexp(terms, axis=0)


class DensityLayer(pg.ImageItem):
    """The mixture's log-density as a shade over the visible part of the view.

    Darkest where the density is highest, fading out ``SPAN`` natural-log units below the
    highest value, so the shape of the tails shows as well as the peaks. The grid has one
    cell per ``CELL`` screen pixels of the current view and is recomputed when the view moves
    or the mixture changes; ``setRect`` places it, so Qt applies the view's own transform.
    """

    CELL = 2  # screen pixels per grid cell
    SPAN = 9.0  # log-density units from the darkest shade to none
    COLOR = (46, 74, 120)  # a slate blue, distinct from every component colour's hue at low alpha
    MAX_ALPHA = 170

    def __init__(self):
        super().__init__(axisOrder="row-major")
        self.setZValue(-10)  # under the points and the grid's companions
        self._mixture: Mixture | None = None
        self._key = None
        self.setVisible(False)

    def set_mixture(self, mixture: Mixture | None) -> None:
        self._mixture = mixture
        if mixture is None:
            self._key = None
            self.clear()
        self.refresh()

    def set_shown(self, on: bool) -> None:
        self.setVisible(bool(on))
        self.refresh()

    def refresh(self, *_):
        # called from view signals: an exception escaping into Qt's event loop can end the process
        try:
            self._refresh()
        except Exception:  # noqa: BLE001
            traceback.print_exc()

    def _refresh(self):
        view = self.getViewBox()
        if not self.isVisible() or self._mixture is None or view is None:
            return
        rect = view.viewRect()
        size = view.boundingRect()
        nx = max(2, min(1200, math.ceil(size.width() / self.CELL)))
        ny = max(2, min(1200, math.ceil(size.height() / self.CELL)))
        key = (id(self._mixture), rect.left(), rect.top(), rect.width(), rect.height(), nx, ny)
        if key == self._key or rect.width() <= 0 or rect.height() <= 0:
            return
        self._key = key
        xs = rect.left() + (np.arange(nx) + 0.5) * (rect.width() / nx)
        ys = rect.top() + (np.arange(ny) + 0.5) * (rect.height() / ny)
        grid_x, grid_y = np.meshgrid(xs, ys)  # rows are increasing y, as setRect below lays them
        values = log_density(self._mixture, grid_x, grid_y)
        # the top of the scale is the mixture's highest density, not the view's, so panning
        # does not change the shade of a place
        peak = max(float(values.max()), float(log_density(self._mixture, *self._mixture.means.T).max()))
        strength = np.clip((values - (peak - self.SPAN)) / self.SPAN, 0.0, 1.0)
        rgba = np.empty((ny, nx, 4), dtype=np.uint8)
        rgba[..., :3] = self.COLOR
        rgba[..., 3] = np.rint(strength * self.MAX_ALPHA).astype(np.uint8)
        self.setImage(rgba, autoLevels=False, levels=None)
        self.setRect(QRectF(rect.left(), rect.top(), rect.width(), rect.height()))
