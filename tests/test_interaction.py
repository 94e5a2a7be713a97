"""Touching the model in the real window: draw, erase, drag the start, E and M, inspect a point.

Mouse positions come from the view's own mapping (ViewBox.mapViewToScene and the
canvas's mapFromScene), never from the code under test.
"""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from emviz import gmm
from emviz.data import generate
from emviz.session import E_STEP, EDITED_START, M_STEP, Settings
from emviz.ui.window import MainWindow


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, message, *a, **k: shown.append(message))
    return shown


@pytest.fixture
def window(qtbot, errors):
    window = MainWindow(generate(300, 3, seed=6), Settings(k=3, tol=0.0, max_iter=200))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.runner.stop()


def pixel(window, xy) -> QPointF:
    """Where data point ``xy`` is in the canvas's viewport, by the view's own mapping."""
    view = window.canvas.getPlotItem().getViewBox()
    return QPointF(window.canvas.mapFromScene(view.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))))


def data_at(window, position: QPointF) -> np.ndarray:
    view = window.canvas.getPlotItem().getViewBox()
    point = view.mapSceneToView(QPointF(window.canvas.mapToScene(position.toPoint())))
    return np.array([point.x(), point.y()])


def mouse(window, kind, position: QPointF, button=Qt.MouseButton.LeftButton, held=None):
    """One mouse event on the canvas's viewport, as Qt delivers it."""
    viewport = window.canvas.viewport()
    types = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease}
    buttons = held if held is not None else (Qt.MouseButton.NoButton if kind == "release" else button)
    event = QMouseEvent(types[kind], QPointF(position.toPoint()), viewport.mapToGlobal(QPointF(position.toPoint())),
                        button if kind != "move" else Qt.MouseButton.NoButton, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def drag(window, path, button=Qt.MouseButton.LeftButton):
    mouse(window, "press", path[0], button)
    for position in path[1:]:
        mouse(window, "move", position, button, held=button)
    mouse(window, "release", path[-1], button)


def pixel_size(window):
    return np.asarray(window.canvas.getPlotItem().getViewBox().viewPixelSize())


def same(a, b):
    return all(np.array_equal(x, y) for x, y in ((a.weights, b.weights), (a.means, b.means),
                                                   (a.covariances, b.covariances)))


def reference_run(window, start, n):
    session = window.session
    return list(gmm.em(session.points, start, tol=0.0, max_iter=n,
                       reg_covar=session.settings.reg_covar_for(session.points)))


def test_m_then_e_then_step_follow_em_exactly_and_say_what_they_did(qtbot, window):
    panel = window.interaction.panel
    start = window.session.last.mixture
    reference = reference_run(window, start, 3)
    colors = window.canvas.points.colors().copy()
    ellipse = window.canvas.ellipses.curve(0, 0)[0].copy()
    assert not panel.e_step.isEnabled()  # the responsibilities are already the start's
    panel.m_step.click()
    last = window.session.last
    assert last.kind == M_STEP and same(last.mixture, reference[1].mixture)
    assert "M-step" in panel.caption.text() and "μ<sub>k</sub> = Σ<sub>i</sub> r<sub>ik</sub> x<sub>i</sub>" in panel.caption.text()
    np.testing.assert_array_equal(window.canvas.points.colors(), colors)  # the colours stay ...
    assert not np.array_equal(window.canvas.ellipses.curve(0, 0)[0], ellipse)  # ... the ellipses move
    assert len(window.interaction.tools.ghosts) == 3  # the old ellipses, faded
    old, new = window.interaction.tools._arrows
    np.testing.assert_array_equal(old, start.means)
    np.testing.assert_array_equal(new, last.mixture.means)
    ellipse = window.canvas.ellipses.curve(0, 0)[0].copy()
    qtbot.keyClick(window, Qt.Key.Key_E)  # the key does what the button does
    assert window.session.last.kind == E_STEP and "E-step" in panel.caption.text()
    assert not np.array_equal(window.canvas.points.colors(), colors)  # recoloured ...
    np.testing.assert_array_equal(window.canvas.ellipses.curve(0, 0)[0], ellipse)  # ... the ellipses stay
    assert window.interaction.tools.ghosts == []
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert same(window.session.last.mixture, reference[2].mixture)
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        window.run_controls.step.click()  # a whole Step carries on from the half-steps
    assert window.session.last.iteration == 3
    np.testing.assert_allclose(window.session.last.mixture.means, reference[3].mixture.means, rtol=1e-12)
    marks = window.interaction.marks.getData()
    np.testing.assert_array_equal(marks[0], [1, 1, 2])  # the curve marks the half-steps


def test_a_click_in_draw_mode_adds_a_point_where_it_was_clicked(qtbot, window):
    window.interaction.panel.mode_buttons["draw"].click()
    target = np.array([1.2345, -0.678])
    position = pixel(window, target)
    n = window.session.n
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=position.toPoint())
    assert window.session.n == n + 1 and window.session.edited
    added = window.session.points[-1]
    assert np.all(np.abs(added - target) <= pixel_size(window))  # within a pixel's worth
    np.testing.assert_allclose(added, data_at(window, position), atol=1e-9)
    assert window.session.last.iteration == 0  # a fresh fit on the new data
    assert len(window.canvas.points._x) == n + 1  # and the canvas shows it


def test_spray_erase_clear_and_undo_restore_the_data_exactly(qtbot, window):
    original = window.session.points.copy()
    panel = window.interaction.panel
    panel.mode_buttons["draw"].click()
    a, b = pixel(window, [0.0, 0.0]), pixel(window, [3.0, 1.0])
    path = [QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t) for t in np.linspace(0, 1, 12)]
    drag(window, path)
    sprayed = window.session.n - len(original)
    assert sprayed > 1 + panel.density.value()  # the click's point and several sprays
    radii = window.interaction.tools.brush_radii()
    new = window.session.points[len(original) + 1:]
    segment_distance = np.min(np.hypot(*((new[:, None, :] - np.linspace([0, 0], [3, 1], 200)[None]) / radii).transpose(2, 0, 1)), axis=1)
    assert np.all(segment_distance <= 1.0 + 1e-6)  # every sprayed point within the brush of the stroke
    drag(window, [pixel(window, [3.0, 1.0]), pixel(window, [3.0, 1.01])], button=Qt.MouseButton.RightButton)
    assert window.session.n < len(original) + sprayed  # right-drag erases under the brush
    panel.clear.click()
    assert window.session.n == 0 and window.status_state.text() == "need at least 3 points for k=3: add 3 more"
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.points.tobytes() == original.tobytes() and not window.session.edited
    assert len(window.canvas.points._x) == len(original)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.session.n == len(original) + sprayed


def test_an_empty_canvas_explains_and_drawing_starts_the_fit(qtbot, window):
    panel = window.interaction.panel
    view = window.canvas.getPlotItem().getViewBox()
    window.grab()  # the view's range settles when it is first drawn
    panel.clear.click()
    shown = view.viewRange()
    window.run_controls.step.click()
    assert not window.runner.running and "add 3 more" in window.notice.text()
    assert "add 3 more" in panel.caption.text() and not panel.m_step.isEnabled()
    panel.mode_buttons["draw"].click()
    for xy in ([0.0, 0.0], [4.0, 0.5], [1.0, 3.0]):
        if window.session.n == 2:  # the canvas did not move under the pen (it refitted once per click)
            window.grab()  # an automatic range would settle here
            np.testing.assert_allclose(view.viewRange(), shown, rtol=1e-9)
        qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pixel(window, xy).toPoint())
    assert window.session.n == 3 and window.status_state.text().startswith("ready")  # (three points for k = 3: each component on one, and said so)
    np.testing.assert_allclose(window.session.points, [[0.0, 0.0], [4.0, 0.5], [1.0, 3.0]],
                               atol=np.abs(pixel_size(window)).max())
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        window.run_controls.step.click()
    assert window.session.last.iteration == 1


def test_dragging_a_mean_and_an_axis_sets_the_start_of_the_next_step(qtbot, window):
    tools = window.interaction.tools
    start = window.session.last.mixture
    target = start.means[1] + [0.8, -0.5]
    drag(window, [pixel(window, start.means[1]), pixel(window, (start.means[1] + target) / 2), pixel(window, target)])
    edited = window.session.start
    assert window.session.history[0].kind == EDITED_START
    assert np.all(np.abs(edited.means[1] - target) <= pixel_size(window))
    np.testing.assert_array_equal(edited.means[[0, 2]], start.means[[0, 2]])
    after_mean = edited
    # the longer axis of component 0: stretch it to twice its length, turned by 90 degrees
    values, vectors = np.linalg.eigh(edited.covariances[0])
    mean = edited.means[0]
    end = mean + np.sqrt(values[1]) * vectors[:, 1]
    new_end = mean + 2 * np.sqrt(values[1]) * np.array([-vectors[1, 1], vectors[0, 1]])
    drag(window, [pixel(window, end), pixel(window, new_end)])
    stretched = window.session.start.covariances[0]
    got_values, got_vectors = np.linalg.eigh(stretched)
    reach = got_vectors[:, 1] * np.sqrt(got_values[1])
    assert np.hypot(*(mean + np.sign(reach @ (new_end - mean)) * reach - new_end)) < 2 * np.hypot(*pixel_size(window))
    assert got_values[0] == pytest.approx(values[0], rel=1e-9)  # the other axis kept its length
    edited = window.session.start
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        window.run_controls.step.click()
    assert same(window.session.last.mixture, reference_run(window, edited, 1)[1].mixture)
    assert window.interaction.panel.undo.isEnabled()
    window.interaction.panel.undo.click()  # back to the start before the axis was dragged
    assert window.session.start is after_mean and window.session.last.iteration == 0


def test_the_inspector_shows_bayes_rule_with_the_engines_numbers(qtbot, window):
    session = window.session
    for _ in range(2):
        session.append(next(session.steps))
    window.draw_step(-1)
    index = 17
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=pixel(window, session.points[index]).toPoint())
    inspector = window.interaction.inspector
    # the nearest point to the click is the one asked for, unless another sits in the same pixel
    chosen = inspector.index
    assert np.all(np.abs(session.points[chosen] - session.points[index]) <= 2 * pixel_size(window))
    expected = gmm.responsibilities(session.points, session.last.mixture)[chosen]
    np.testing.assert_allclose(inspector.terms.responsibilities, expected, rtol=1e-10, atol=1e-14)
    for k in range(3):
        assert f"{expected[k]:.4f}" in inspector.formula.text()
    np.testing.assert_allclose(window.interaction.tools.selection.getData()[0], [session.points[chosen][0]])
    window.run_controls.history.setValue(0)  # it follows the history slider
    expected = gmm.responsibilities(session.points, session.history[0].mixture)[chosen]
    np.testing.assert_allclose(inspector.terms.responsibilities, expected, rtol=1e-10, atol=1e-14)
    window.run_controls.history.setValue(2)
    window.interaction.panel.m_step.click()  # after an M-step the colours, and the numbers, are the old mixture's
    expected = gmm.responsibilities(session.points, session.history[-2].mixture)[chosen]
    np.testing.assert_allclose(inspector.terms.responsibilities, expected, rtol=1e-10, atol=1e-14)
    assert "before this M-step" in inspector.title.text()


def test_place_means_and_the_bad_start(qtbot, window):
    panel = window.interaction.panel
    panel.mode_buttons["place means"].click()
    targets = [[-1.0, 0.0], [2.0, 2.0], [4.0, -1.0]]
    for xy in targets:
        qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pixel(window, xy).toPoint())
    start = window.session.start
    assert window.session.history[0].kind == EDITED_START and window.interaction.tools.mode == "look"
    assert np.all(np.abs(start.means - targets) <= pixel_size(window))
    np.testing.assert_allclose(start.weights, 1 / 3)
    panel.bad_start.click()
    bad = window.session.start
    gaps = np.linalg.norm(bad.means[:, None] - bad.means[None], axis=-1)
    spread = np.sqrt(np.linalg.eigvalsh(bad.covariances).max())
    assert np.sort(gaps[np.triu_indices(3, 1)])[0] < spread  # two means inside one cluster
    assert window.session.history[0].kind == EDITED_START


def test_the_bound_view_follows_the_half_steps(qtbot, window):
    view = window.interaction.bound_view
    window.interaction.panel.m_step.click()
    before, now = view.shown
    assert now == window.session.bound() and now.gap > 0 and now.lower_bound >= before.lower_bound
    window.interaction.panel.e_step.click()
    assert view.shown[1].gap == 0.0


def test_typing_an_e_in_a_field_types_it_and_takes_no_half_step(qtbot, window):
    window.interaction.panel.m_step.click()
    history = window.session.history
    field = window.model_controls.tol.lineEdit()
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "1e-5")
    assert field.text() == "1e-5" and window.session.history == history


def test_eighty_random_touches_never_break_the_window(qtbot, window, errors):
    rng = np.random.default_rng(5)
    i = window.interaction
    panel = i.panel

    def click_at_random():
        mode = ["look", "draw", "erase", "place means"][rng.integers(4)]
        panel.mode_buttons[mode].click()
        xy = rng.normal(2.0, 3.0, size=2)
        qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pixel(window, xy).toPoint())

    def step():
        if window.session.missing or window.session.finished:
            window.run_controls.step.click()  # says why and does nothing
            return
        with qtbot.waitSignal(window.run_finished, timeout=10_000):
            window.run_controls.step.click()

    actions = [panel.e_step.click, panel.m_step.click, panel.undo.click, panel.redo.click, panel.bad_start.click,
               click_at_random, click_at_random, step,
               lambda: panel.clear.click() if rng.random() < 0.3 else None,
               lambda: window.run_controls.history.setValue(int(rng.integers(0, window.run_controls.history.maximum() + 1)))]
    for _ in range(80):
        actions[rng.integers(len(actions))]()
        session = window.session
        assert len(window.canvas.points._x) == session.n
        history = session.history
        if history:
            assert history[0].kind in ("start", "edited start") and history[0].iteration == 0
            assert all(b.iteration - a.iteration in (0, 1) for a, b in zip(history, history[1:]))
            assert session.missing == ""
        else:
            assert session.missing and session.state() == session.missing
    assert errors == []


def test_hovering_with_shift_inspects_the_point_under_the_mouse(qtbot, window):
    points = window.session.points
    index = int(np.argmax(points[:, 0]))  # the rightmost point: no other in its pixel
    viewport = window.canvas.viewport()
    position = QPointF(pixel(window, points[index]).toPoint())
    event = QMouseEvent(QEvent.Type.MouseMove, position, viewport.mapToGlobal(position), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ShiftModifier)
    QApplication.sendEvent(viewport, event)
    assert window.interaction.inspector.index == index
    expected = gmm.responsibilities(points, window.session.last.mixture)[index]
    np.testing.assert_allclose(window.interaction.inspector.terms.responsibilities, expected, rtol=1e-10, atol=1e-14)


def test_the_bound_view_follows_a_run_on_many_points(qtbot, errors):
    """Above BOUND_WHILE_RUNNING points the bound of a whole iteration is still free (its
    log-likelihood): while the run goes on (at max speed a few times a second) the view shows
    iterations of this run, not the numbers of the frame before it (as it once did), and the
    newest when the run rests."""
    from emviz.ui.interaction import BOUND_WHILE_RUNNING

    n = BOUND_WHILE_RUNNING + 5000
    window = MainWindow(generate(n, 3, seed=2), Settings(k=3, tol=0.0, max_iter=10**6))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    shown = []

    def check(*_):
        if window.runner.running and window.interaction.bound_view.shown[1] is not None:
            shown.append(window.interaction.bound_view.shown[1].log_likelihood)

    window.runner.stepped.connect(check)
    before = window.session.last.log_likelihood
    try:
        window.run_or_pause()
        qtbot.waitUntil(lambda: len({v for v in shown if v != before}) >= 2, timeout=60000)
        window.run_or_pause()  # pause
    finally:
        window.runner.stop()
    lls = {s.log_likelihood for s in window.session.history}
    assert set(shown) <= lls  # every number shown is one of this history's
    assert window.interaction.bound_view.shown[1].log_likelihood == window.session.last.log_likelihood


def test_overlays_without_spots_are_not_painted(window):
    tools = window.interaction.tools
    overlays = (tools.selection, tools.mean_handles, tools.axis_handles)
    tools.show_selection(None)
    tools.show_handles(None)
    assert not any(item.isVisible() for item in overlays)  # nothing to paint at every frame
    tools.show_selection((0.5, 0.25))
    assert tools.selection.isVisible() and tools.selection.getData()[0].tolist() == [0.5]
    tools.show_selection(None)
    assert not tools.selection.isVisible()
