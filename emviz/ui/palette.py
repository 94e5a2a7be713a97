"""Component colours: readable on a projector and for colour-blind viewers.

Okabe & Ito's colour-blind-safe palette first (its yellow darkened so it shows on
white; its black left out, which is the ink of means and text), then Paul Tol's
"muted" set, then four of Kenneth Kelly's 22 colours of maximum contrast, chosen
as far (in CIELAB) from all the others as possible: 20 distinct colours, no two
closer than 14 ΔE (CIE76). Beyond 20 the colours repeat.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from emviz.gmm import mix_colours

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
    "#654522",  # Kelly: yellowish brown
    "#BE0032",  # vivid red
    "#8DB600",  # yellow green
    "#882D17",  # reddish brown
]
DISTINCT = len(_HEX)

INK = QColor("#202020")
BACKGROUND = QColor("#FFFFFF")
GRID = QColor("#D8D8D8")
HALO = QColor(255, 255, 255, 235)  # the band under each ellipse


def rgb(k: int) -> np.ndarray:
    """(k, 3) float colours in 0..255 for k components."""
    return np.array([QColor(_HEX[i % len(_HEX)]).getRgb()[:3] for i in range(k)], dtype=np.float64)


def qcolor(i: int, alpha: int = 255) -> QColor:
    c = QColor(_HEX[i % len(_HEX)])
    c.setAlpha(alpha)
    return c


def point_colors(resp_kn: np.ndarray, *, hard: bool = False) -> np.ndarray:
    """Opaque ARGB32 pixels, (n,), from (k, n) responsibilities, in this palette's colours.

    Soft: the components' colours mixed by weight, so an undecided point shows a
    mixed colour. Hard: the colour of the most likely component (:func:`emviz.gmm.mix_colours`).
    """
    return mix_colours(resp_kn, rgb(resp_kn.shape[0]), hard=hard)
