"""The bound view draws the engine's numbers: L, log p and the KL gap between them."""

import numpy as np

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
