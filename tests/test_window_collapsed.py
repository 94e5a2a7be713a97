"""A degenerate fit is said so in the window: the status, the header and the table."""

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from emviz.data import Dataset
from emviz.session import Settings
from emviz.ui.window import MainWindow, collapsed_words


def test_collapsed_in_words():
    assert collapsed_words(()) == ""
    assert collapsed_words((1,)) == "component 2 collapsed onto a point"
    assert collapsed_words((0, 2, 3)) == "components 1, 3 and 4 collapsed onto points"


def test_a_component_on_one_point_is_marked_in_the_status_header_and_table(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Ok)
    rng = np.random.default_rng(0)
    # a cloud and one far point: k = 2 puts a component on that point alone
    points = np.vstack([rng.normal(size=(200, 2)), [[40.0, 40.0]]])
    window = MainWindow(Dataset(points, ("x", "y"), "outlier.csv", "outlier.csv", origin="csv"),
                        Settings(k=2, init="kmeans++", seed=0))
    qtbot.addWidget(window)
    window.show()
    window.run_controls.speed.setValue(5)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
    last = window.session.last
    assert last.collapsed, "the engine should call a component on one point collapsed"
    lone = last.collapsed[0]
    assert np.allclose(last.mixture.means[lone], [40.0, 40.0])
    words = collapsed_words(last.collapsed)
    assert window.status_state.text().endswith(words) and words in window.header.text()
    assert window.params.text(lone, 0).strip() == f"{lone + 1} ✕"
    assert "collapsed" in window.params.item(lone, 2).toolTip()
    other = 1 - lone
    assert window.params.text(other, 0).strip() == f"{other + 1}" and not window.params.item(other, 2).toolTip()
    window.run_controls.history.setValue(0)  # the start: nothing collapsed yet
    assert (window.session.history[0].collapsed == ()) == ("collapsed" not in window.status_state.text())
