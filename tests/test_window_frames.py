"""The GUI thread only draws: the worker colours the points, Pause acts at once at any n,
and at lecture speeds every iteration is drawn."""

import threading

import numpy as np
from PySide6.QtCore import Qt

from emviz import gmm
from emviz.data import generate
from emviz.session import Settings
from emviz.ui import palette
from emviz.ui.controls import SPEEDS

MAX_SPEED = SPEEDS.index(0)


def _drawn_indices(window):
    """Record the history index of every snapshot the window draws."""
    drawn = []
    draw_step = window.draw_step

    def recording(index=-1, **kwargs):
        draw_step(index, **kwargs)
        drawn.append(window._drawn)

    window.draw_step = recording
    return drawn


def test_pause_takes_effect_at_once_on_a_million_points(qtbot, make_window):
    window = make_window(generate(1_000_000, 3, seed=4), Settings(k=3, tol=0.0, max_iter=10**6))
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    made = []  # iterations the worker made, in its own thread
    window.runner._worker.stepped.connect(lambda payload: made.append(payload[1].iteration),
                                          Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: window.session.history_length >= 2, timeout=120_000)
    window.run_controls.run.click()  # Pause, while the worker is busy with the next iteration
    # acknowledged before the click returns: not running, the button says Run, the status paused
    assert not window.runner.running
    assert window.run_controls.run.text().replace("&", "").startswith("Run")
    assert window.status_state.text() == "paused"
    shown = window.session.history_length
    newest = window.session.last.iteration
    made_at_pause = len(made)
    qtbot.waitUntil(lambda: not window.runner._finishing, timeout=120_000)  # the worker's thread ends
    qtbot.wait(50)
    # no snapshot is applied after the pause; the worker made at most the one it was computing
    assert window.session.history_length == shown and window.session.last.iteration == newest
    assert len(made) <= made_at_pause + 1
    assert window.run_controls.history_label.text() == f"{shown - 1} / {shown - 1}"
    # Run carries on from the newest snapshot on show: nothing skipped, nothing repeated
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.history_length >= shown + 1, timeout=120_000)
    window.run_controls.run.click()
    iterations = [s.iteration for s in window.session.history]
    assert iterations == list(range(len(iterations)))


def test_at_lecture_speed_every_iteration_is_drawn(qtbot, make_window):
    window = make_window(generate(3000, 3, seed=5), Settings(k=3, tol=0.0, max_iter=10**6))
    window.run_controls.speed.setValue(SPEEDS.index(30))
    drawn = _drawn_indices(window)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.history_length >= 25, timeout=60_000)
    window.run_controls.run.click()
    newest = window.session.history_length - 1
    # every one, in order (the window draws the newest again when the run ends)
    assert sorted(set(drawn)) == list(range(1, newest + 1)) and drawn == sorted(drawn)


def _watch_colouring(monkeypatch, session):
    """Calls in the GUI thread: ("colours", number of points) of the one-pass colouring, and
    ("responsibilities", ...) of the (k, n) route the window must not take any more."""
    gui = threading.get_ident()
    calls = []
    colours = gmm.Evaluator.colours

    def watched_colours(self, mixture, rgb, *, hard=False, rows=None):
        if threading.get_ident() == gui:
            calls.append(("colours", self.n if rows is None else len(rows)))
        return colours(self, mixture, rgb, hard=hard, rows=rows)

    monkeypatch.setattr(gmm.Evaluator, "colours", watched_colours)
    responsibilities = session.responsibilities

    def watched_responsibilities(step, rows=None):
        calls.append(("responsibilities", step.iteration))
        return responsibilities(step, rows)

    monkeypatch.setattr(session, "responsibilities", watched_responsibilities)
    return calls


def test_the_worker_colours_the_points_not_the_gui_thread(qtbot, make_window, monkeypatch):
    window = make_window(generate(20_000, 3, seed=6), Settings(k=3, tol=1e-6))
    session = window.session
    calls = _watch_colouring(monkeypatch, session)
    window.canvas.grab()  # painted at rest: the GUI colours what it shows of iteration 0 now, not later
    calls.clear()
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=120_000)
    assert session.last.converged and window._drawn == session.history_length - 1
    assert calls == []  # every frame drew colours the worker made
    expected = palette.point_colors(gmm.responsibilities(session.points, session.last.mixture).T, hard=False)
    np.testing.assert_array_equal(window.canvas.points.colors(), expected)
    # with hard labels, the worker's colours are hard ones
    window.run_controls.hard_labels.setChecked(True)
    window.reset()
    window.canvas.grab()
    calls.clear()  # the redraws at rest (the converged iteration, then 0) are the GUI's own
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=120_000)
    expected = palette.point_colors(gmm.responsibilities(session.points, session.last.mixture).T, hard=True)
    np.testing.assert_array_equal(window.canvas.points.colors(), expected)
    assert calls == []


def test_at_rest_the_gui_colours_the_points_in_one_pass(qtbot, make_window, monkeypatch):
    """A Step, looking back and hard labels colour the points through the one-pass colouring
    (the compiled kernel's once it is ready), never through an (n, k) array of responsibilities."""
    window = make_window(generate(5_000, 3, seed=2), Settings(k=3))
    session = window.session
    calls = _watch_colouring(monkeypatch, session)
    window.step()  # coloured by the worker
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
    for act in (lambda: window.look_at(0), window.run_controls.hard_labels.toggle, lambda: window.look_at(-1)):
        calls.clear()
        act()
        window.canvas.grab()
        shown = window.canvas.points.visible()  # the points that own a pixel: coloured now, the rest on sight
        # the route, not the count: points that come into view later are coloured on sight
        assert calls and {kind for kind, _ in calls} == {"colours"} and 0 < len(shown) < 5_000, calls
        step = session.history[window._drawn]
        expected = gmm.mix_colours(gmm.responsibilities(session.points, step.mixture).T, palette.rgb(3),
                                   hard=window.canvas.hard_labels)
        np.testing.assert_array_equal(window.canvas.points.colors()[shown], expected[shown])


def test_at_max_speed_em_waits_while_a_frame_is_drawn(monkeypatch):
    """EMWorker.hold_for_frame: no iteration starts until frame_done (or the hold's limit);
    Pause ends a hold at once."""
    from emviz import worker as worker_module
    from emviz.worker import EMWorker

    monkeypatch.setattr(worker_module, "FRAME_HOLD_SECONDS", 30.0)
    started = []
    gate = threading.Event()

    def steps():
        for i in range(10**6):
            started.append(i)
            if i == 0:
                gate.set()
            yield i

    job = worker_module.Job(steps(), is_last=lambda _: False)
    w = EMWorker(job, budget=10**6, interval=0.0, token=1)
    w.hold_for_frame()  # the window is drawing a frame as the run starts
    thread = threading.Thread(target=w.work)
    thread.start()
    try:
        assert gate.wait(10)
        threading.Event().wait(0.3)
        assert started == [0]  # held after its first iteration, for the whole 0.3 s
        w.frame_done()
        deadline = threading.Event()
        for _ in range(100):
            if len(started) > 50:
                break
            deadline.wait(0.05)
        assert len(started) > 50  # free again: on it goes
        w.hold_for_frame()
        threading.Event().wait(0.1)
        held_at = len(started)
        threading.Event().wait(0.2)
        assert len(started) <= held_at + 1  # held again
        w.request_pause()  # a pause does not wait for the frame
        thread.join(10)
        assert not thread.is_alive()
    finally:
        w.request_stop()
        thread.join(10)


def test_the_window_lets_em_go_on_after_every_frame_it_paints(qtbot, make_window, monkeypatch):
    """At max speed the window holds EM while it draws and lets it go when the canvas has
    painted: with a hold that would otherwise last 30 s, a run still makes many iterations."""
    from emviz import worker as worker_module

    monkeypatch.setattr(worker_module, "FRAME_HOLD_SECONDS", 30.0)
    window = make_window(generate(2000, 3, seed=4), Settings(k=3, tol=0.0, max_iter=10**6))
    holds = []
    hold = window.runner.hold_for_frame
    window.runner.hold_for_frame = lambda: holds.append(window.session.history_length) or hold()
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: len(holds) >= 5 and window.session.history_length >= 60, timeout=60_000)
    window.run_controls.run.click()
    assert not window.runner.running


def test_during_a_run_the_curve_stays_in_view_and_its_axes_move_seldom(qtbot, make_window):
    """Live frames keep the log-likelihood curve inside the plot at every frame while its
    range moves only now and then (each move re-lays out the axes); at rest it fits exactly."""
    from emviz.ui.likelihood import y_range

    window = make_window(generate(3000, 4, seed=8), Settings(k=4, tol=0.0, max_iter=1500))
    plot = window.likelihood
    vb = plot.getPlotItem().getViewBox()
    ranges, outside = [], []
    draw_step = window.draw_step

    def checking(index=-1, **kwargs):
        draw_step(index, **kwargs)
        x, y = plot.curve.getData()
        (x0, x1), (y0, y1) = vb.viewRange()
        if len(x) and not (np.all((x0 <= x) & (x <= x1)) and np.all((y0 <= y) & (y <= y1))):
            outside.append(len(x))
        if window.runner.running:
            ranges.append(((x0, x1), (y0, y1)))

    window.draw_step = checking
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=120_000)
    assert not outside
    assert len(ranges) >= 20
    moves = sum(1 for a, b in zip(ranges, ranges[1:]) if a != b)
    assert moves < len(ranges) / 4  # seldom, not at every frame
    x, y = plot.curve.getData()  # at rest: fitted to the whole curve again
    low, high = y_range(y)
    np.testing.assert_allclose(vb.viewRange()[1], [low, high], rtol=1e-9)
