"""The parameters table: weight, mean and covariance of every component, as the article reports them.

Numbers are never cut: every column is as wide as its widest number (the table
scrolls sideways in a narrow panel, and down for many components), and the
digits follow the data's spread (emviz.numbers, shared with the command line).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from emviz.gmm import Mixture
from emviz.numbers import format_for_spread
from emviz.ui import palette

HEADERS = ["", "π", "μ₁", "μ₂", "Σ₁₁", "Σ₁₂", "Σ₂₂"]


def _minus(text: str) -> str:
    return text.replace("-", "−")


def parameter_texts(mixture: Mixture) -> list[list[str]]:
    """Each component's π, μ₁, μ₂, Σ₁₁, Σ₁₂, Σ₂₂ as text, with the digits the data's spread needs.

    A mean column resolves the smallest standard deviation of any component along
    it (the columns may be in different units); each covariance gets the digits of
    its own smallest variance, as the command line prints them (emviz.numbers).
    """
    means, covariances = mixture.means[:, :2], mixture.covariances[:, :2, :2]
    variances = np.diagonal(covariances, axis1=1, axis2=2)  # (k, 2)
    columns = []
    for j in range(2):
        positive = variances[:, j][variances[:, j] > 0]
        columns.append(format_for_spread(means[:, j], float(np.sqrt(positive.min())) if positive.size else 0.0))
    rows = []
    for i in range(mixture.k):
        own = variances[i][variances[i] > 0]
        cov = format_for_spread(covariances[i][np.triu_indices(2)], float(own.min()) if own.size else 0.0)
        rows.append([format_for_spread([mixture.weights[i]], 1.0)[0], columns[0][i], columns[1][i], *cov])
    return rows


def _set(cell: QTableWidgetItem, text: str, foreground: QBrush | None, tip: str) -> None:
    """Change what differs only: every change makes the table lay out and repaint."""
    if cell.text() != text:
        cell.setText(text)
    if foreground is not None and cell.foreground().color() != foreground.color():
        cell.setForeground(foreground)
    if cell.toolTip() != tip:
        cell.setToolTip(tip)


class ParameterTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(HEADERS), parent)
        self.setHorizontalHeaderLabels(HEADERS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(30)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        font = QFont()
        font.setPointSize(11)
        self.setFont(font)
        self.setMinimumHeight(120)

    def set_columns(self, columns):
        """Explain the subscripts: 1 and 2 are the two data columns."""
        tips = ["component", "weight", f"mean of {columns[0]}", f"mean of {columns[1]}",
                f"variance of {columns[0]}", f"covariance of {columns[0]} and {columns[1]}",
                f"variance of {columns[1]}"]
        for i, tip in enumerate(tips):
            self.horizontalHeaderItem(i).setToolTip(tip)
        self.setToolTip(f"1 = {columns[0]}, 2 = {columns[1]}")

    COLLAPSED_TIP = ("collapsed: this component carries about one point's weight, or its covariance sits at "
                     "the regularisation floor; its likelihood is not the fit of a cluster")

    def set_mixture(self, mixture: Mixture, collapsed=()):
        """Show ``mixture``; the components in ``collapsed`` (0-based) are marked ✕ and greyed."""
        if self.rowCount() != mixture.k:
            self.setRowCount(mixture.k)
            bold = QFont()
            bold.setBold(True)
            for i in range(mixture.k):
                swatch = QTableWidgetItem(f" {i + 1} ")
                swatch.setBackground(QBrush(palette.qcolor(i)))
                swatch.setForeground(QBrush(palette.BACKGROUND))
                swatch.setFont(bold)
                swatch.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(i, 0, swatch)
                for j in range(1, len(HEADERS)):
                    cell = QTableWidgetItem()
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(i, j, cell)
        grey, ink = QBrush(QColor("#8A8A8A")), QBrush(palette.INK)
        self.setUpdatesEnabled(False)  # one repaint for the whole table, not one per cell
        try:
            for i, row in enumerate(parameter_texts(mixture)):
                down = i in collapsed
                _set(self.item(i, 0), f" {i + 1} ✕ " if down else f" {i + 1} ", None,
                     self.COLLAPSED_TIP if down else "")
                for j, text in enumerate(row, start=1):
                    _set(self.item(i, j), _minus(text), grey if down else ink, self.COLLAPSED_TIP if down else "")
        finally:
            self.setUpdatesEnabled(True)

    def text(self, row: int, column: int) -> str:
        return self.item(row, column).text()
