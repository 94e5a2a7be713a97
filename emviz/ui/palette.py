"""Component colours: readable on a projector and for colour-blind viewers.

The first eight are Okabe & Ito's palette (its yellow darkened so it shows on
white), then Paul Tol's "muted" set; beyond that the colours repeat.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

_HEX = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#B59F00",  # yellow, darkened
    "#332288",  # Tol muted: indigo
    "#117733",  # green
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#AA4499",  # purple
    "#88CCEE",  # cyan
    "#CC6677",  # rose
    "#DDCC77",  # sand
]

INK = QColor("#202020")
BACKGROUND = QColor("#FFFFFF")
GRID = QColor("#D8D8D8")


def rgb(k: int) -> np.ndarray:
    """(k, 3) float colours in 0..255 for k components."""
    return np.array([QColor(_HEX[i % len(_HEX)]).getRgb()[:3] for i in range(k)], dtype=np.float64)


def qcolor(i: int, alpha: int = 255) -> QColor:
    c = QColor(_HEX[i % len(_HEX)])
    c.setAlpha(alpha)
    return c


def pack_argb(colors: np.ndarray) -> np.ndarray:
    """(n, 3) colours in 0..255 -> (n,) uint32 opaque ARGB32 pixels."""
    c = np.clip(np.rint(colors), 0, 255).astype(np.uint32)
    return np.uint32(0xFF000000) | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


def blend(resp_kn: np.ndarray) -> np.ndarray:
    """Point colours from (k, n) responsibilities: the components' colours mixed by weight, (n, 3)."""
    return (rgb(resp_kn.shape[0]).T @ resp_kn).T
