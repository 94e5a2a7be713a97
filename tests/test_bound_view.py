"""The bound view draws the engine's numbers: L, log p and the KL gap between them."""

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QApplication

from emviz.data import generate
from emviz.session import Session, Settings
from emviz.ui.bound import HALF_WIDTH, BoundView


def test_the_view_shows_the_gap_open_after_m_and_closed_after_e(qtbot):
    view = BoundView()
    qtbot.addWidget(view)
    session = Session(generate(200, 3, seed=2, separation=1.5), Settings(k=3, init="random", seed=1))
    start = session.bound()
    session.m_step()
    after_m = session.bound()
    view.show_bounds(after_m, start)
    x, lower = view.lower.getData()
    np.testing.assert_array_equal(x, [-HALF_WIDTH, HALF_WIDTH, 1 - HALF_WIDTH, 1 + HALF_WIDTH])
    np.testing.assert_array_equal(lower, [start.lower_bound] * 2 + [after_m.lower_bound] * 2)
    np.testing.assert_array_equal(view.log_p.getData()[1], [start.log_likelihood] * 2 + [after_m.log_likelihood] * 2)
    heights = view.gap.opts["height"]
    np.testing.assert_array_equal(heights, [start.gap, after_m.gap])
    assert heights[0] == 0.0 and heights[1] > 0  # the gap opened at the M-step
    assert after_m.lower_bound > start.lower_bound and "(L +" in view.caption.text()
    session.e_step()
    after_e = session.bound()
    view.show_bounds(after_e, after_m)
    assert view.gap.opts["height"][1] == 0.0  # and closed at the E-step
    assert view.shown == (after_m, after_e)
    low, high = view.plot.viewRange()[1]
    assert low < min(after_m.lower_bound, after_e.lower_bound) and high > after_e.log_likelihood
    view.clear("need at least 3 points for k=3: add 1 more")
    assert view.lower.getData()[0] is None or len(view.lower.getData()[0]) == 0
    assert "add 1 more" in view.caption.text()


def test_the_columns_show_only_where_they_fit_and_the_numbers_always(qtbot):
    """A short view (the window at 1280x720) drops the columns rather than squeeze them until
    their tick labels overlap and "before"/"now" are cut; the caption's equation stays."""
    view = BoundView()
    qtbot.addWidget(view)
    session = Session(generate(200, 3, seed=2, separation=1.5), Settings(k=3, init="random", seed=1))
    start = session.bound()
    session.m_step()
    view.show_bounds(session.bound(), start)
    view.show()
    shown_at = []
    for height in (400, 240, 170, 120, 90, 300):
        view.resize(300, height)
        qtbot.waitUntil(lambda: view.height() == height)
        QApplication.processEvents()
        assert view.caption.isVisible() and view.caption.geometry().bottom() < height
        assert view.caption.alignment() & Qt.AlignmentFlag.AlignTop  # no gap above it when alone
        if view.plot.isVisible():
            shown_at.append(height)
            plot = view.plot.geometry()
            assert plot.height() >= BoundView.PLOT_MIN_HEIGHT and plot.bottom() < height, (height, plot)
            assert plot.top() > view.caption.geometry().bottom()
            # its tick labels: two, far enough apart not to overlap (pyqtgraph's own crowded 4-5)
            axis, box = view.plot.getAxis("left"), view.plot.getViewBox()
            values = [value for value, _ in axis._tickLevels[0]]
            ys = [box.mapViewToDevice(QPointF(0, value)).y() for value in values]
            assert len(values) == 2 and abs(ys[0] - ys[1]) >= QFontMetricsF(axis.style["tickFont"] or QFont()).height()
            assert all(0 <= y <= box.height() + 1 for y in ys)
    assert shown_at and shown_at != [400, 240, 170, 120, 90, 300]  # shown when tall, hidden when short


def test_in_the_window_at_1280x720_nothing_of_the_bound_view_is_cut(qtbot):
    from emviz.ui.window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.step()
    qtbot.waitUntil(lambda: window.session.last.iteration == 1 and not window.runner.running)
    QApplication.processEvents()
    view = window.interaction.bound_view
    box = window.bound_box.rect()
    for widget in (view.caption, view.plot):
        if widget.isVisible():
            where = widget.mapTo(window.bound_box, widget.rect().topLeft())
            assert box.contains(where) and box.contains(where + widget.rect().bottomRight()), widget
    assert view.caption.isVisible()
    window.runner.stop()
