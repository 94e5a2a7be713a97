"""Axes drawn from a pixmap cache: redrawn only when they change.

pyqtgraph's AxisItem replays its whole drawing (tick labels, and the grid, which spans
the view) whenever any part of the view under it is repainted: every frame of a run,
although the canvas's axes do not move, each costing a millisecond or two of the GUI
thread. With Qt's device-coordinate cache an axis is painted into a pixmap once and
copied after that; pyqtgraph calls ``update()`` on an axis whenever its range, ticks,
label, font or size change, and that repaints the cache.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem


def cache_axes(plot: pg.PlotItem | pg.PlotWidget) -> None:
    """Draw the axes of ``plot`` through Qt's device-coordinate pixmap cache."""
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    for name in ("left", "bottom", "right", "top"):
        item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
