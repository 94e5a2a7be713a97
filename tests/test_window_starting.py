"""A new start on many points is worked out off the GUI thread (emviz.ui.starting).

The window's threshold is lowered so that the article's points take that path; the work
itself is held on an event, so every test sees the window while the start is under way.
"""

import threading
import time

import numpy as np
import pytest

from emviz import gmm
from emviz.data import generate
from emviz.session import Plan, Session, Settings


@pytest.fixture
def held(monkeypatch):
    """Plan.work waits for ``held.release()``; ``held.threads`` are the threads it ran in."""

    class Held:
        def __init__(self):
            self.gate = threading.Event()
            self.threads = []
            self.entered = threading.Semaphore(0)

        def release(self):
            self.gate.set()

    held = Held()
    held.cancelled = 0
    work = Plan.work

    def held_work(plan):
        held.threads.append(threading.get_ident())
        held.entered.release()
        deadline = time.monotonic() + 30
        try:
            while not held.gate.wait(0.01):
                gmm._checkpoint()  # as k-means does between its passes: a cancelled start stops here
                assert time.monotonic() < deadline, "the test never released the start"
        except gmm.Cancelled:
            held.cancelled += 1
            raise
        return work(plan)

    monkeypatch.setattr(Plan, "work", held_work)
    yield held
    held.release()  # whatever the test did, nothing stays blocked


@pytest.fixture
def window(make_window):
    window = make_window()
    window.background_start_points = 0  # every start in the background
    window.start_bar.show_after_ms = 0
    return window


def state(window):
    s = window.session
    return s.dataset, s.settings, list(s.history), s.start


def test_a_new_start_is_worked_out_in_another_thread_while_the_window_goes_on(qtbot, window, held):
    before = state(window)
    window.model_controls.k.setValue(4)
    # the change returned at once: the old start is on show, the new one is being worked out
    assert held.entered.acquire(timeout=10)
    assert state(window) == before and window.starter.running
    assert held.threads == [held.threads[0]] and held.threads[0] != threading.get_ident()
    qtbot.waitUntil(window.start_bar.isVisible)
    assert window.start_bar.label.text() == "Setting up the start: random (the article's) on 600 points, k = 4, full covariances"
    assert window.start_bar.bar.maximum() == 0  # Qt's busy indicator: k-means says nothing of progress
    window.look_at(0)  # the window answers meanwhile
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()
    assert not window.start_bar.isVisible()
    s = window.session
    assert s.settings.k == 4 and [x.iteration for x in s.history] == [0]
    assert window.params.rowCount() == 4 and window.model_controls.k.value() == 4
    # the start made in the thread is the one the same change makes at once
    here = Session(before[0], before[1])
    here.change(settings=s.settings)
    np.testing.assert_array_equal(s.start.means, here.start.means)
    assert s.history[0].log_likelihood == here.history[0].log_likelihood


def test_run_and_step_asked_for_meanwhile_follow_the_start(qtbot, window, held):
    window.model_controls.k.setValue(2)
    assert held.entered.acquire(timeout=10)
    window.run_controls.run.click()
    assert not window.runner.running and "The run starts when it is ready" in window.notice.text()
    assert window.notice.text().startswith("Setting up the start: random (the article's) on 600 points, k = 2, full covariances…")
    with qtbot.waitSignal(window.runner.running_changed, timeout=30_000):
        held.release()
    assert window.session.settings.k == 2
    qtbot.waitUntil(lambda: window.session.last.iteration >= 1, timeout=30_000)
    window.run_or_pause()  # pause
    assert not window.runner.running
    assert window.session.last.iteration >= 1 and window.session.last.mixture.k == 2
    # Space twice while waiting: no run after all
    window.model_controls.k.setValue(3)
    window.run_or_pause()
    window.run_or_pause()
    assert "will not start" in window.notice.text()
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()
    assert not window.runner.running and [x.iteration for x in window.session.history] == [0]


def test_cancel_keeps_everything_and_drops_the_work(qtbot, window, held):
    before = state(window)
    window.model_controls.k.setValue(5)
    assert held.entered.acquire(timeout=10)
    qtbot.waitUntil(window.start_bar.isVisible)
    window.start_bar.cancel.click()
    assert state(window) == before and not window.starter.running
    assert window.model_controls.k.value() == 3  # the control shows the k in force again
    assert "Stopped setting up the new start" in window.notice.text()
    assert window.starter._runner.wait_finishing(10_000) and held.cancelled == 1  # stopped, not finished
    held.release()
    qtbot.wait(50)
    assert state(window) == before


def test_a_refusal_worked_out_in_the_thread_is_said_and_the_state_stays(qtbot, window, held, errors):
    before = state(window)
    assert window._apply(generate(15, 2, seed=0), Settings(k=20))  # taken: the refusal comes from the thread
    assert held.entered.acquire(timeout=10) and state(window) == before
    held.release()
    qtbot.waitUntil(lambda: bool(errors), timeout=30_000)
    # the message a start refused at once gives, naming where the data come from
    assert errors == ["generated: 15 points are fewer than k=20 components; decrease k or use more data"]
    assert errors[0] in window.notice.text()
    window.background_start_points = 10**9
    assert not window._apply(generate(15, 2, seed=0), Settings(k=20))  # refused at once: the same words
    assert errors[1] == errors[0]
    assert state(window) == before and window.model_controls.k.value() == 3 and not window.starter.running


def test_the_newest_change_wins_and_the_replaced_one_stops(qtbot, window, held, monkeypatch):
    adopted = []
    adopt = window.session.adopt
    monkeypatch.setattr(window.session, "adopt", lambda prepared: adopted.append(prepared.plan.settings.k) or adopt(prepared))
    window.model_controls.k.setValue(4)
    assert held.entered.acquire(timeout=10)  # k = 4 is being worked out
    window.model_controls.k.setValue(5)
    assert held.entered.acquire(timeout=10)
    # the k = 4 start stopped at its next pass over the points, not at its end: no pile of k-means
    assert window.starter._runner.wait_finishing(10_000) and held.cancelled == 1
    held.release()
    qtbot.waitUntil(lambda: window.session.settings.k == 5 and not window.starter.running, timeout=30_000)
    assert adopted == [5] and len(held.threads) == 2


def test_points_drawn_meanwhile_are_kept_and_the_start_is_worked_out_again_on_them(qtbot, window, held):
    window.model_controls.k.setValue(2)
    assert held.entered.acquire(timeout=10)
    window.interaction.add_points(np.array([[0.5, 0.5], [1.0, 1.0]]), join=False)
    n = window.session.n
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()  # planned on the old points: refused by the session, planned again
    qtbot.waitUntil(lambda: window.session.settings.k == 2 and not window.starter.running, timeout=30_000)
    assert window.session.n == n and window.session.edited and len(held.threads) == 2
    assert [x.iteration for x in window.session.history] == [0]


def test_below_the_threshold_the_start_is_made_at_once(window, held):
    window.background_start_points = window.session.n  # the article's points: at once
    held.release()
    window.model_controls.k.setValue(2)
    assert window.session.settings.k == 2 and not window.starter.running
    assert held.threads == [threading.get_ident()]


def test_an_edit_of_many_points_leaves_its_start_to_the_thread_and_keeps_its_undo(qtbot, window, held):
    session = window.session
    before = (session.points.copy(), list(session.history))
    window.interaction.erase(np.array([0.0, 0.0]), np.array([1.0, 1.0]), join=False)
    assert session.awaiting_start and not window.starter.running  # set up once the edits pause
    assert window.header.text() == "<span>a start on the edited points is being set up</span>"
    qtbot.waitUntil(lambda: window.starter.running)
    assert held.entered.acquire(timeout=10)
    assert held.threads[0] != threading.get_ident()  # the k-means of the edited points is not the GUI's
    assert session.n < len(before[0]) and session.awaiting_start and session.history == []
    assert window.header.text() == "<span>a start on the edited points is being set up</span>"
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()
    assert not session.awaiting_start and [s.iteration for s in session.history] == [0]
    # the start the same edit makes at once, to the bit
    here = Session(window.session.dataset, session.settings)
    np.testing.assert_array_equal(session.start.means, here.start.means)
    assert session.can_undo  # an edit's start keeps the undo list, as at once
    window.interaction.undo()
    np.testing.assert_array_equal(session.points, before[0])
    assert session.history == before[1] and not window.starter.running


def test_a_stroke_sets_up_one_start_on_its_last_points_and_undo_drops_a_pending_one(qtbot, window, held):
    session = window.session
    before = (session.points.copy(), list(session.history))
    for i, x in enumerate((-1.0, -0.5, 0.0, 0.5)):  # one erasing stroke, faster than the edits' pause
        window.interaction.erase(np.array([x, 0.0]), np.array([0.6, 0.6]), join=i > 0)
        assert not window.starter.running
    qtbot.waitUntil(lambda: window.starter.running)
    assert held.entered.acquire(timeout=10) and len(held.threads) == 1  # one k-means for the stroke
    assert window.starter.plan.planned_on is session.points
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()
    assert [s.iteration for s in session.history] == [0] and session.start is not None
    assert window.starter._runner.wait_finishing(30_000)
    qtbot.wait(50)
    assert session.history[0].iteration == 0 and not window.starter.running
    # the stroke is one undo step; an undo while the next edit's start is pending drops that start
    held.gate.clear()
    window.interaction.erase(np.array([2.0, 2.0]), np.array([0.6, 0.6]), join=False)
    qtbot.waitUntil(lambda: window.starter.running)
    window.interaction.undo()
    assert not window.starter.running and not session.awaiting_start
    held.release()
    window.interaction.undo()
    np.testing.assert_array_equal(session.points, before[0])
    assert session.history == before[1]


def test_a_step_right_after_an_edit_does_not_wait_for_the_pause(qtbot, window, held):
    window.interaction.erase(np.array([0.0, 0.0]), np.array([1.0, 1.0]), join=False)
    window.step()
    assert window.starter.running and "One step follows when it is ready" in window.notice.text()
    held.release()
    qtbot.waitUntil(lambda: window.session.history_length == 2, timeout=30_000)


def test_a_cancelled_edit_start_is_set_up_again_by_run(qtbot, window, held):
    window.interaction.erase(np.array([0.0, 0.0]), np.array([1.0, 1.0]), join=False)
    qtbot.waitUntil(window.start_bar.isVisible)
    assert held.entered.acquire(timeout=10)
    window.start_bar.cancel.click()
    assert window.session.awaiting_start and not window.starter.running
    assert "Stopped setting up a start on the edited points" in window.notice.text()
    assert window.header.text() == "<span>the edited points have no start yet: Step or Run sets one up</span>"
    window.run_or_pause()  # sets it up, and runs when it is ready
    assert window.starter.running and "The run starts when it is ready" in window.notice.text()
    with qtbot.waitSignal(window.runner.running_changed, timeout=30_000):
        held.release()
    qtbot.waitUntil(lambda: window.session.last.iteration >= 1, timeout=30_000)
    window.run_or_pause()
    assert not window.session.awaiting_start


def test_a_run_asked_for_survives_a_newer_change(qtbot, window, held):
    window.model_controls.k.setValue(4)
    window.run_or_pause()  # waits for the start
    window.model_controls.k.setValue(5)
    with qtbot.waitSignal(window.runner.running_changed, timeout=30_000):
        held.release()
    assert window.session.settings.k == 5 and window.runner.running
    window.run_or_pause()
    # and going back to the settings in force runs at once
    held.gate.clear()
    window.model_controls.k.setValue(2)
    window.run_or_pause()
    window.model_controls.k.setValue(5)
    assert not window.starter.running and window.runner.running
    window.run_or_pause()


def test_settings_being_set_up_are_kept_when_new_data_arrive(qtbot, window, held):
    window.model_controls.k.setValue(4)
    assert held.entered.acquire(timeout=10)
    window._apply(generate(300, 2, seed=1))  # e.g. a file finished loading
    held.release()
    qtbot.waitUntil(lambda: not window.starter.running and window.session.n == 300, timeout=30_000)
    assert window.session.settings.k == 4  # as when the start is made at once


def test_the_model_and_new_data_cannot_be_touched_while_a_start_is_set_up(qtbot, window, held):
    window.model_controls.seed.setValue(7)
    assert held.entered.acquire(timeout=10)
    for act in (window.interaction.bad_start, window.interaction.m_step):
        act()
        assert "A new start is being set up: wait for it, or Cancel" in window.notice.text()
    assert [s.kind for s in window.session.history] == ["start"] and window.session.history_length == 1
    window.interaction.add_points(np.array([[9.0, 9.0]]), join=False)  # points may be edited: started again on them
    assert window.session.n == 601
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()
    qtbot.waitUntil(lambda: not window.starter.running and window.session.settings.seed == 7, timeout=30_000)
    assert window.session.n == 601 and [s.kind for s in window.session.history] == ["start"]
    # new data on the way: the points on show are not edited meanwhile
    held.gate.clear()
    window._apply(generate(400, 2, seed=2))
    window.interaction.add_points(np.array([[9.0, 9.0]]), join=False)
    assert "New data are being set up" in window.notice.text() and window.session.n == 601
    held.release()
    qtbot.waitUntil(lambda: window.session.n == 400, timeout=30_000)


def test_the_setting_up_notice_goes_when_the_start_lands_and_a_repeat_changes_nothing(qtbot, window, held):
    window.model_controls.k.setValue(4)
    assert held.entered.acquire(timeout=10)
    window.step()
    assert window.notice.isVisible() and "One step follows" in window.notice.text()
    assert window.status_state.text() == "setting up the start"  # the bar beside it says what
    window.model_controls.tol.lineEdit().editingFinished.emit()  # the same settings again
    assert len(held.threads) == 1 and window.starter.running
    with qtbot.waitSignal(window.starter.ready, timeout=30_000):
        held.release()
    assert not window.notice.isVisible() or "One step follows" not in window.notice.text()
    assert not window.status_state.text().startswith("setting up")


def test_closing_with_a_start_under_way_stops_it(qtbot, window, held):
    window.model_controls.k.setValue(4)
    assert held.entered.acquire(timeout=10)
    window.close()  # joins the start's thread: it stops at its next pass, not after 30 s
    assert held.cancelled == 1 and not window.starter.running and not window.starter._runner._finishing
