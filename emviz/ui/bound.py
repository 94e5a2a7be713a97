"""The bound EM climbs: log p(X | θ) = L(q, θ) + KL(q ‖ p(z | X, θ)), before and after a (half-)step.

Two columns, the snapshot before and the one on show: a line at L (the lower bound),
a line at log p, and between them the KL gap, shaded. After an E-step the gap
closes (L rises to log p); after an M-step L has risen and, because q now
belongs to the old θ, the gap opens again. The numbers come from
:func:`emviz.bound.evidence_bound`; this module only draws them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from emviz.bound import Bound
from emviz.ui import palette
from emviz.ui.axes import cache_axes

HALF_WIDTH = 0.3
LOWER_COLOR = "#0072B2"  # Okabe-Ito blue: L
GAP_COLOR = (230, 159, 0, 110)  # Okabe-Ito orange, translucent: the KL gap


def _minus(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}".replace("-", "−")


class BoundView(QWidget):
    """log p, L and the KL gap (all per point) for the snapshot on show and the one before it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # under its title, columns or not
        self.plot = pg.PlotWidget(background="w", enableMenu=False)  # never built: a quarter of its making
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        cache_axes(self.plot)
        self.plot.setMaximumHeight(220)
        self.plot.setMinimumHeight(1)  # never holds the view up (0 would mean its 68 px hint): resizeEvent hides it when short
        self.plot.setXRange(-0.6, 1.6, padding=0)
        self.plot.getAxis("bottom").setTicks([[(0, "before"), (1, "now")]])
        self.plot.getAxis("bottom").setHeight(26)
        self.setToolTip("log p(X | θ) = L(q, θ) + KL(q ‖ p(z | X, θ)), per point: the lower bound L (blue) "
                        "and the KL gap (shaded) for the snapshot before and the one shown")
        self.gap = pg.BarGraphItem(x=[0, 1], y0=[0, 0], height=[0, 0], width=2 * HALF_WIDTH,
                                   brush=pg.mkBrush(GAP_COLOR), pen=pg.mkPen(None))
        self.lower = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(LOWER_COLOR, width=3), name="L(q, θ)")
        self.log_p = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(palette.INK, width=2), name="log p(X | θ)")
        for item in (self.gap, self.lower, self.log_p):
            self.plot.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        self.shown: tuple[Bound | None, Bound | None] = (None, None)
        self.clear()

    PLOT_MIN_HEIGHT = 80  # below this the two tick labels and "before"/"now" have no room

    def resizeEvent(self, event):
        """Show the columns only where they have room; the caption's numbers always stay."""
        super().resizeEvent(event)
        caption = self.caption.heightForWidth(self.width())
        self.plot.setVisible(self.height() - max(caption, 0) - self.layout().spacing() >= self.PLOT_MIN_HEIGHT)

    def clear(self, message: str = "") -> None:
        text = message or "log p(X | θ) = L(q, θ) + KL(q ‖ p(z | X, θ))"
        if self.shown == (None, None) and self.caption.text() == text:
            return  # every frame of a run asks again: nothing to redraw
        self.shown = (None, None)
        for item in (self.lower, self.log_p):
            item.setData([], [])
        self.gap.setOpts(x=[], y0=[], height=[])
        self.caption.setText(text)

    def show_bounds(self, now: Bound, before: Bound | None = None) -> None:
        """Draw ``now`` (and ``before``, the snapshot before it, when there is one)."""
        if self.shown == (before, now):
            return  # the same numbers: nothing to redraw
        self.shown = (before, now)
        columns = [(x, b) for x, b in ((0, before), (1, now)) if b is not None]
        xs = np.array([x for x, _ in columns], dtype=float)
        lower = np.array([b.lower_bound for _, b in columns])
        log_p = np.array([b.log_likelihood for _, b in columns])
        gap = np.array([b.gap for _, b in columns])  # its own formula: exactly 0 after an E-step
        ends = np.column_stack([xs - HALF_WIDTH, xs + HALF_WIDTH]).ravel()
        self.lower.setData(ends, np.repeat(lower, 2))
        self.log_p.setData(ends, np.repeat(log_p, 2))
        self.gap.setOpts(x=xs, y0=log_p - gap, height=gap, width=2 * HALF_WIDTH)
        values = np.concatenate([lower, log_p])
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = finite.min(), finite.max()
            pad = max(high - low, 1e-3 * max(1.0, abs(high))) * 0.25
            self.plot.setYRange(low - pad, high + pad, padding=0)
            # two labelled ticks, at the lowest and highest value drawn, a third of the height or
            # more apart: pyqtgraph's own picked four or five for a 70 px plot, one on another
            ticks = [(float(low), _minus(low))] + ([(float(high), _minus(high))] if _minus(high) != _minus(low) else [])
            self.plot.getAxis("left").setTicks([ticks, []])
        else:
            self.plot.getAxis("left").setTicks(None)
        self.caption.setText(
            f"log p(X | θ) = <span style='color:{LOWER_COLOR}'>L(q, θ)</span> + "
            f"<span style='color:#B35900'>KL(q ‖ p(z|X, θ))</span><br>"
            f"<b>{_minus(now.log_likelihood)}</b> = "
            f"<span style='color:{LOWER_COLOR}'><b>{_minus(now.lower_bound)}</b></span> + "
            f"<span style='color:#B35900'><b>{now.gap:.4g}</b></span>"
            + (f" &nbsp;(L {'+' if now.lower_bound >= before.lower_bound else '−'}"
               f"{abs(now.lower_bound - before.lower_bound):.3g})" if before is not None else "")
        )
