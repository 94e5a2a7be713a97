"""Why this colour: the point inspector.

For one point x and the mixture whose responsibilities colour it, Bayes' rule
with this iteration's numbers:

    r_k = pi_k N(x | mu_k, Sigma_k) / sum_j pi_j N(x | mu_j, Sigma_j)

as bars (the joint densities, relative to the largest, and the responsibilities)
and as the formula filled in. The numbers are computed here in log space for one
point (:func:`point_terms`) and tested against the engine's responsibilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from emviz.gmm import Mixture
from emviz.ui import palette
from emviz.ui.axes import cache_axes

_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class PointTerms:
    """Bayes' rule for one point: log(pi_k N(x | mu_k, Sigma_k)) (k,), log p(x), responsibilities (k,)."""

    log_joint: np.ndarray
    log_evidence: float
    responsibilities: np.ndarray


INVITATION = "Click a point to see why it has its colour"


def point_terms(x, mixture: Mixture) -> PointTerms:
    """The terms of Bayes' rule for the point ``x`` (d,) under ``mixture``, in log space."""
    x = np.asarray(x, dtype=np.float64)
    chol = np.linalg.cholesky(mixture.covariances)  # (k, d, d)
    diff = x[None, :] - mixture.means  # (k, d)
    solved = np.linalg.solve(chol, diff[:, :, None])[:, :, 0]  # L^-1 (x - mu)
    maha = (solved**2).sum(axis=1)
    log_det = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    with np.errstate(divide="ignore"):
        log_joint = np.log(mixture.weights) - 0.5 * (mixture.d * _LOG_2PI + log_det + maha)
    top = log_joint.max()
    log_evidence = float(top + np.log(np.exp(log_joint - top).sum()))
    return PointTerms(log_joint, log_evidence, np.exp(log_joint - log_evidence))


def _number(log_value: float) -> str:
    """A density that may be far below 1e-300, written from its logarithm."""
    if not math.isfinite(log_value):
        return "0"
    exponent = math.floor(log_value / math.log(10))
    mantissa = math.exp(log_value - exponent * math.log(10))
    if -3 <= exponent <= 2:
        return f"{math.exp(log_value):.4g}"
    return f"{mantissa:.3g}e{exponent}".replace("-", "−")


class PointInspector(QWidget):
    """The panel: bars per component and Bayes' rule with the numbers of the iteration on show."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.formula = QLabel()
        self.formula.setTextFormat(Qt.TextFormat.RichText)
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bars = pg.PlotWidget(background="w", enableMenu=False)  # never built: a quarter of its making
        self.bars.setMouseEnabled(False, False)
        self.bars.hideButtons()
        cache_axes(self.bars)
        self.bars.setMinimumHeight(110)
        self.bars.setMaximumHeight(190)
        self.bars.setXRange(-0.02, 1.02, padding=0)
        self.bars.getAxis("bottom").setLabel("share (π N relative to the largest; r)")
        self.joint_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.35)
        self.resp_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.35)
        self.bars.addItem(self.joint_bars)
        self.bars.addItem(self.resp_bars)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.bars, 1)
        layout.addWidget(self.formula)
        self.index: int | None = None
        self.terms: PointTerms | None = None
        self.clear()

    def clear(self) -> None:
        if self.index is None and self.terms is None and self.title.text() == INVITATION:
            return  # every frame of a run clears it again: nothing to redraw
        self.index, self.terms = None, None
        self.title.setText(INVITATION)
        self.formula.setText("")
        self.joint_bars.setOpts(x0=[], y=[], width=[])
        self.resp_bars.setOpts(x0=[], y=[], width=[])

    def show_point(self, index: int, x, mixture: Mixture, *, iteration: int, columns=("x", "y"),
                   stale: bool = False) -> PointTerms:
        """Show point ``index`` at ``x`` under ``mixture`` (whose responsibilities colour it)."""
        terms = point_terms(x, mixture)
        self.index, self.terms = int(index), terms
        k = mixture.k
        relative = np.exp(terms.log_joint - terms.log_joint.max())
        rows = np.arange(k, dtype=float)
        brushes = [pg.mkBrush(palette.qcolor(i)) for i in range(k)]
        faded = [pg.mkBrush(palette.qcolor(i).lighter(160)) for i in range(k)]
        self.joint_bars.setOpts(x0=np.zeros(k), y=rows + 0.2, width=relative, brushes=faded, pens=[None] * k)
        self.resp_bars.setOpts(x0=np.zeros(k), y=rows - 0.2, width=terms.responsibilities, brushes=brushes,
                               pens=[None] * k)
        self.bars.setYRange(-0.6, k - 0.4, padding=0)
        self.bars.getAxis("left").setTicks([[(i, f"{i + 1}") for i in range(k)]])
        where = ", ".join(f"{name} = {value:.4g}" for name, value in zip(columns, np.asarray(x)))
        mixture_word = f"iteration {iteration}'s mixture" + (" (before this M-step)" if stale else "")
        self.title.setText(f"<b>Point {index + 1}</b> ({where}) under {mixture_word}")
        total = _number(terms.log_evidence)
        lines = [f"r<sub>k</sub> = π<sub>k</sub> N(x | μ<sub>k</sub>, Σ<sub>k</sub>) / "
                 f"Σ<sub>j</sub> π<sub>j</sub> N(x | μ<sub>j</sub>, Σ<sub>j</sub>), the sum p(x) = {total}"]
        for i in range(k):
            weight = float(mixture.weights[i])
            log_density = terms.log_joint[i] - math.log(weight) if weight > 0 else -math.inf
            lines.append(
                f"<span style='color:{palette.qcolor(i).name()}'>■</span> r<sub>{i + 1}</sub> = "
                f"{weight:.3f} × {_number(log_density)} / {total} = <b>{terms.responsibilities[i]:.4f}</b>"
            )
        self.formula.setText("<br>".join(lines))
        return terms
