"""The log-likelihood curve: mean log-likelihood per point against iteration, growing live."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont

from emviz.ui import palette


class LikelihoodPlot(pg.PlotWidget):
    """The curve; a click on it asks to look at the nearest iteration (``iteration_clicked``)."""

    iteration_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, background=palette.BACKGROUND)
        self.setMinimumHeight(150)
        self.setToolTip("Mean log-likelihood per point at every iteration; click to look at an iteration")
        self.scene().sigMouseClicked.connect(self._on_click)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=False, y=True, alpha=0.2)
        font = QFont()
        font.setPointSize(11)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.INK))
            axis.setTextPen(pg.mkPen(palette.INK))
            axis.setTickFont(font)
            axis.setStyle(maxTickLevel=1)
        style = {"font-size": "12pt", "color": palette.INK.name()}
        item.setLabel("bottom", "iteration", **style)
        item.setLabel("left", "mean log-likelihood", **style)
        # fixed room for the title beside tick labels as long as −191.705: pyqtgraph only
        # widens the axis after the first paint, which a still image never gets
        item.getAxis("left").setWidth(100)
        self.curve = pg.PlotDataItem(
            pen=pg.mkPen(palette.INK, width=2.5),
            symbol="o",
            symbolSize=6,
            symbolBrush=pg.mkBrush(palette.INK),
            symbolPen=None,
        )
        self.addItem(self.curve)
        self.current_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(palette.qcolor(1), width=1.5))
        self.addItem(self.current_line)
        self.current = pg.ScatterPlotItem(size=14, brush=pg.mkBrush(palette.qcolor(1)), pen=pg.mkPen("w", width=2))
        self.current.setZValue(10)
        self.addItem(self.current)

    def _on_click(self, event):
        view = self.getPlotItem().getViewBox()
        if event.button() != Qt.MouseButton.LeftButton or not view.sceneBoundingRect().contains(event.scenePos()):
            return
        self.iteration_clicked.emit(int(round(view.mapSceneToView(event.scenePos()).x())))

    def set_history(self, iterations: np.ndarray, values: np.ndarray, current: int = -1):
        """Draw the curve and mark point ``current`` (the last by default)."""
        # dots mark single iterations while they can be told apart; a long run is a line
        self.curve.setSymbol("o" if len(iterations) <= 150 else None)
        self.curve.setData(iterations, values)
        if len(iterations):
            self.current_line.setValue(float(iterations[current]))
            self.current.setData([iterations[current]], [values[current]])
        # keep the curve in view as it grows, at least a few iterations wide
        vb = self.getPlotItem().getViewBox()
        # at least ten iterations wide, so the ticks fall on whole iterations
        vb.setXRange(0, max(10, float(iterations[-1]) if len(iterations) else 10), padding=0.04)
        finite = values[np.isfinite(values)]
        if finite.size:
            # A random start can begin far below where EM ends; past ten iterations the
            # lowest tenth of the curve may leave the plot so the rise to convergence shows.
            low = float(np.percentile(finite, 10)) if finite.size >= 10 else float(finite.min())
            high = float(finite.max())
            # a single point, or a flat curve, still gets a readable axis
            span = max(high - low, 1e-3 * max(1.0, abs(high)))
            vb.setYRange(low - 0.05 * span, high + 0.05 * span, padding=0)
