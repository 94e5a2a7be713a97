"""The state of one exploration, without any widget."""

import json
import threading

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emviz import gmm
from emviz.bound import evidence_bound
from emviz.data import DataError, generate
from emviz.gmm import responsibilities
from emviz.session import E_STEP, EDITED_START, ITERATION, M_STEP, START, Session, Settings, describe_state


def test_changes_are_all_or_nothing():
    data = generate(200, 3, seed=0)
    session = Session(data, Settings(k=3, tol=0.0, max_iter=5))
    for step in session.steps:
        session.append(step)
    before = (session.dataset, session.settings, list(session.history), session.start)
    with pytest.raises(DataError, match="200 points are fewer than k=500 components"):
        session.change(settings=Settings(k=500))
    with pytest.raises(DataError, match="2 points are fewer than k=3"):
        session.change(dataset=generate(2, 2, seed=1))
    assert (session.dataset, session.settings, session.history, session.start) == before
    assert session.finished and session.state() == "stopped at max iterations (5)"


def test_reset_keeps_the_start_and_change_makes_a_new_one():
    session = Session(generate(150, 2, seed=3), Settings(k=2, seed=0))
    start = session.start
    session.append(next(session.steps))
    session.reset()
    assert [s.iteration for s in session.history] == [0] and session.start is start
    session.change(settings=Settings(k=2, seed=1))
    assert session.start is not start


def test_responsibilities_follow_the_data():
    session = Session(generate(120, 3, seed=2), Settings(k=3))
    resp = session.responsibilities(session.last)
    assert resp.shape == (3, 120)
    np.testing.assert_allclose(resp.T, responsibilities(session.dataset.points, session.last.mixture))
    session.change(dataset=generate(80, 3, seed=5))
    assert session.responsibilities(session.last).shape == (3, 80)


def test_states_in_words():
    session = Session(generate(100, 2, seed=0), Settings(k=2, tol=1e-9))
    assert session.state() == "ready" and describe_state(None, session.settings) == "ready"
    session.append(next(session.steps))
    assert session.state() == "ready" and session.state(running=True) == "running"
    assert session.state(paused=True) == "paused"
    for step in session.steps:
        session.append(step)
    assert session.state().startswith(f"converged after {session.last.iteration} iterations (|Δ| < 1e-09)")
    session.fail("boom")
    assert session.state() == "failed: boom"


# ---------------------------------------------------------------------- half-steps


def _same(a, b):
    """Bitwise equal mixtures."""
    return all(np.array_equal(x, y) for x, y in ((a.weights, b.weights), (a.means, b.means),
                                                   (a.covariances, b.covariances)))


@pytest.mark.parametrize("covariance", ["full", "diag", "spherical", "tied"])
def test_e_then_m_is_one_em_iteration_exactly(covariance):
    data = generate(300, 3, seed=4)
    settings = Settings(k=3, covariance=covariance, tol=0.0, max_iter=50)
    session = Session(data, settings)
    reference = list(gmm.em(data.points, session.start, tol=0.0, max_iter=3, covariance=covariance,
                            reg_covar=settings.reg_covar_for(data.points)))
    assert not session.can_e_step  # iteration 0's responsibilities are its own: the E-step is done
    with pytest.raises(ValueError, match="take the M-step"):
        session.e_step()
    before = session.responsibilities(session.last)
    after_m = session.m_step()
    assert after_m.kind == M_STEP and after_m.iteration == 1 and after_m.stale
    assert _same(after_m.mixture, reference[1].mixture)  # the ellipses move ...
    assert after_m.log_likelihood == reference[1].log_likelihood and after_m.delta == reference[1].delta
    np.testing.assert_array_equal(session.responsibilities(after_m), before)  # ... the colours stay
    after_e = session.e_step()
    assert after_e.kind == E_STEP and after_e.mixture is after_m.mixture and not after_e.stale  # they stay ...
    np.testing.assert_array_equal(session.responsibilities(after_e).T,
                                  gmm.Evaluator(data.points).responsibilities(reference[1].mixture))  # recoloured
    session.m_step()
    assert _same(session.last.mixture, reference[2].mixture)
    # a whole Step after the half-steps carries on from the newest mixture, numbered on
    session.append(next(session.steps))
    assert session.last.iteration == 3 and session.last.kind == ITERATION
    np.testing.assert_allclose(session.last.mixture.means, reference[3].mixture.means, rtol=1e-12)
    assert [s.kind for s in session.history] == [START, M_STEP, E_STEP, M_STEP, ITERATION]


def test_half_steps_stop_where_the_run_would():
    session = Session(generate(200, 2, seed=1), Settings(k=2, max_iter=2, tol=0.0))
    session.m_step()
    session.m_step()  # an M-step right after another uses the same responsibilities again
    assert session.last.iteration == 2 and session.finished and not session.can_m_step
    with pytest.raises(ValueError, match="stopped at max iterations"):
        session.m_step()
    assert list(session.steps) == []


def test_failed_runs_are_reported_and_cleared_by_reset():
    session = Session(generate(100, 2, seed=0), Settings(k=2))
    session.fail("the covariance of component 1 is not positive definite")
    assert session.state().startswith("failed: the covariance")
    session.reset()
    assert session.error == "" and session.state() == "ready"
    with pytest.raises(ValueError, match="does not follow"):
        session.append(gmm.EMStep(5, session.last.mixture, 0.0, 0.0, False))


# ---------------------------------------------------------------------- edits and undo


def test_data_edits_restart_the_fit_and_undo_restores_the_data_bitwise():
    data = generate(100, 3, seed=7)
    session = Session(data, Settings(k=3, seed=2, tol=0.0))
    for _ in range(4):
        session.append(next(session.steps))
    original, history = session.points, session.history
    assert session.add_points([[0.1, 0.2], [1e-17, 3.0]]) == 2
    assert session.n == 102 and session.edited and session.dataset.n == 102
    assert session.dataset.name.endswith("(edited)") and session.dataset.labels is None
    assert session.dataset.origin == "drawn" and session.dataset.preset is None
    np.testing.assert_array_equal(session.points[-2:], [[0.1, 0.2], [1e-17, 3.0]])
    assert [s.iteration for s in session.history] == [0] and session.settings == Settings(k=3, seed=2, tol=0.0)
    fresh = gmm.initialize(session.points, 3, seed=2, reg_covar=session.settings.reg_covar_for(session.points))
    assert _same(session.start, fresh)  # a fresh start on the new data, same settings
    removed = session.remove_within([0.1, 0.2], 0.05)
    assert removed >= 1 and session.n == 102 - removed
    assert session.undo() and session.n == 102
    assert session.undo()
    assert session.points.tobytes() == original.tobytes() and session.dataset is data
    assert session.history == history and not session.edited  # the run as it was, iterations and all
    assert session.redo() and session.n == 102 and session.redo() and session.n == 102 - removed
    assert not session.redo()
    session.append(next(session.steps))  # the run goes on from the restored state


def test_a_stroke_is_one_undo_step_and_removing_by_index_or_mask():
    session = Session(generate(50, 2, seed=0), Settings(k=2))
    before = session.points
    session.add_points([1.0, 1.0])
    for i in range(5):
        session.add_points([[2.0 + i, 1.0]], join=True)
    assert session.n == 56
    session.remove_points([0, 0, 55])
    assert session.n == 54
    mask = np.zeros(54, dtype=bool)
    mask[:3] = True
    assert session.remove_points(mask) == 3
    session.undo()
    session.undo()
    session.undo()
    assert session.points.tobytes() == before.tobytes() and not session.can_undo
    with pytest.raises(ValueError, match="indices"):
        session.remove_points([50])
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        session.add_points([[1.0, 2.0, 3.0]])
    assert session.n == 50


def test_an_empty_canvas_says_what_is_missing_and_starts_when_there_are_enough_points():
    session = Session(generate(80, 3, seed=3), Settings(k=3))
    session.clear()
    assert session.n == 0 and session.dataset is None and session.points.shape == (0, 2)
    assert session.last is None and session.history == [] and session.finished
    assert session.state() == "need at least 3 points for k=3: add 3 more"
    assert list(session.steps) == [] and not session.can_m_step and not session.can_e_step
    with pytest.raises(ValueError, match="add 3 more"):
        session.m_step()
    session.add_points([[0.0, 0.0], [1.0, 0.0]])
    assert session.missing == "need at least 3 points for k=3: add 1 more"
    session.change(settings=Settings(k=2))  # the user's own points: too few is a state, not an error
    assert session.missing == "" and session.state() == "ready" and session.last.iteration == 0
    session.change(settings=Settings(k=4))
    assert session.missing == "need at least 4 points for k=4: add 2 more"
    session.add_points([[5.0, 5.0], [6.0, 5.0], [5.0, 6.0]])
    assert session.missing == "" and session.start.k == 4
    for step in session.steps:
        session.append(step)
    assert session.state().startswith("converged")


def test_duplicate_points_are_a_missing_state_too():
    session = Session(generate(30, 2, seed=3), Settings(k=2))
    session.clear()
    session.add_points([[1.0, 1.0]] * 5)
    assert "distinct" in session.missing and session.last is None


def test_an_edited_start_is_where_the_next_step_starts():
    data = generate(200, 2, seed=5)
    session = Session(data, Settings(k=2, tol=0.0, max_iter=20))
    session.append(next(session.steps))
    old_history = session.history
    s = session.start
    edited = gmm.Mixture(s.weights, s.means + [[1.0, -0.5], [0.0, 0.25]], s.covariances * 2)
    first = session.set_start(edited)
    assert first.kind == EDITED_START and first.iteration == 0 and session.start is edited
    assert session.history == [first]
    session.append(next(session.steps))
    reference = list(gmm.em(data.points, edited, tol=0.0, max_iter=1,
                            reg_covar=session.settings.reg_covar_for(data.points)))
    assert _same(session.last.mixture, reference[1].mixture)
    session.reset()  # Reset goes back to the edited start
    assert session.history[0].kind == EDITED_START and _same(session.last.mixture, edited)
    with pytest.raises(ValueError, match="k=2 components"):
        session.set_start(gmm.Mixture([1.0], [[0.0, 0.0]], [np.eye(2)]))
    assert session.undo() and session.history == old_history and session.start is s


# ---------------------------------------------------------------------- saving


def test_to_dict_from_dict_round_trip_through_json():
    data = generate(150, 3, seed=8)
    session = Session(data, Settings(k=3, covariance="diag", seed=4, tol=1e-9))
    session.add_points([[0.5, 0.5], [0.25, -1.5]])
    s = session.start
    session.set_start(gmm.Mixture(s.weights, s.means + 0.5, s.covariances))
    session.append(next(session.steps))
    session.m_step()
    session.e_step()
    session.m_step()
    state = json.loads(json.dumps(session.to_dict(), allow_nan=False))
    restored = Session.from_dict(state)
    assert restored.points.tobytes() == session.points.tobytes()
    assert restored.settings == session.settings and restored.columns == session.columns
    assert restored.edited and restored.dataset.name == session.dataset.name
    assert _same(restored.start, session.start)
    assert [s.kind for s in restored.history] == [s.kind for s in session.history]
    for a, b in zip(restored.history, session.history, strict=True):
        assert _same(a.mixture, b.mixture) and _same(a.posterior, b.posterior)
        assert a.log_likelihood == b.log_likelihood and a.iteration == b.iteration
    restored.add_points([[9.0, 9.0]])  # the restored session is a working one
    assert restored.n == session.n + 1


def test_to_dict_from_dict_of_an_empty_canvas_and_of_a_loaded_data_set():
    session = Session(generate(60, 2, seed=1), Settings(k=2))
    loaded = Session.from_dict(json.loads(json.dumps(session.to_dict(), allow_nan=False)))
    assert not loaded.edited and loaded.dataset.mixture is not None
    assert _same(loaded.last.mixture, session.last.mixture)
    session.clear()
    empty = Session.from_dict(json.loads(json.dumps(session.to_dict(), allow_nan=False)))
    assert empty.n == 0 and empty.columns == ("x", "y") and empty.missing.endswith("add 2 more")
    empty.add_points([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    assert empty.last.iteration == 0
    with pytest.raises(ValueError, match="not an emviz session"):
        Session.from_dict({"format": "something else"})


def test_a_session_that_does_not_replay_says_so():
    session = Session(generate(60, 2, seed=1), Settings(k=2))
    session.append(next(session.steps))
    state = session.to_dict()
    state["history"][-1]["log_likelihood"] += 1.0
    with pytest.raises(ValueError, match="does not replay: iteration 1"):
        Session.from_dict(state)


# ---------------------------------------------------------------------- the bound


def test_the_bound_closes_after_e_and_rises_after_m():
    session = Session(generate(250, 3, seed=11, separation=1.5), Settings(k=3, init="random", seed=3, tol=0.0))
    previous = session.bound()
    assert previous.gap == 0.0 and previous.lower_bound == pytest.approx(previous.log_likelihood, abs=1e-12)
    for _ in range(15):
        session.m_step()
        after_m = session.bound()
        assert after_m.lower_bound >= previous.lower_bound - 1e-12  # the M-step never lowers L
        assert after_m.gap >= 0
        assert after_m.log_likelihood == session.last.log_likelihood
        assert after_m.log_likelihood - after_m.lower_bound == pytest.approx(after_m.gap, abs=1e-12)
        session.e_step()
        previous = session.bound()
        assert previous.gap == 0.0 and previous.lower_bound == previous.log_likelihood
        computed = evidence_bound(session.points, session.last.mixture, session.last.mixture)
        assert abs(computed.gap) <= 1e-12 and computed.lower_bound == pytest.approx(computed.log_likelihood, abs=1e-12)
        assert computed.log_likelihood == pytest.approx(session.last.log_likelihood, abs=1e-12)
    assert after_m.gap > 0  # the M-steps did open it


def test_the_bound_by_its_definition():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    theta = gmm.Mixture([0.3, 0.7], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), [[2.0, 0.3], [0.3, 0.5]]])
    old = gmm.Mixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [np.eye(2), np.eye(2)])
    q = gmm.responsibilities(X, old)
    log_joint = np.stack([np.log(theta.weights[k]) + multivariate_normal(theta.means[k], theta.covariances[k]).logpdf(X)
                          for k in range(2)], axis=1)
    lower = (q * (log_joint - np.log(q))).sum() / len(X)
    log_p = np.logaddexp.reduce(log_joint, axis=1).mean()
    result = evidence_bound(X, old, theta)
    assert result.lower_bound == pytest.approx(lower, rel=1e-12)
    assert result.log_likelihood == pytest.approx(log_p, rel=1e-12)
    assert result.gap == pytest.approx(log_p - lower, rel=1e-9) and result.gap > 0


def test_a_step_pulled_but_never_recorded_is_taken_again():
    # a worker pulled iteration 1 and its run was stopped before the result was recorded
    # (a click that stops the run but changes nothing): the next run starts from the history
    session = Session(generate(150, 2, seed=3), Settings(k=2, tol=0.0, max_iter=10))
    dropped = next(session.steps)
    again = next(session.steps)
    assert again.iteration == dropped.iteration == 1
    np.testing.assert_array_equal(again.mixture.means, dropped.mixture.means)
    session.append(again)
    for step in session.steps:  # and the run goes on, one iteration at a time
        session.append(step)
    assert [s.iteration for s in session.history] == list(range(11))


def test_the_curve_and_the_history_view_follow_every_change_of_the_history():
    """Session.curve() is kept as the run appends; any other change (reset, a half-step, an
    edit, undo, a new k) must show in it too, and history_generation must move then."""
    session = Session(generate(200, 3, seed=5), Settings(k=3, tol=0.0))

    def agrees():
        iterations, values = session.curve()
        history = session.history
        np.testing.assert_array_equal(iterations, [s.iteration for s in history])
        np.testing.assert_array_equal(values, [s.log_likelihood for s in history])
        assert list(session.history_view) == history and len(session.history_view) == len(history)
        with pytest.raises(ValueError):
            iterations[0] = 1.0  # read-only

    steps = session.steps
    agrees()
    generation = session.history_generation
    for _ in range(100):  # past the first capacity of 64
        session.append(next(steps))
    agrees()
    assert session.history_generation == generation  # appends only
    session.m_step()
    session.e_step()
    agrees()
    session.reset()
    assert session.history_generation != generation
    agrees()
    session.add_points(np.array([[0.5, 0.5], [1.0, 2.0]]))
    agrees()
    session.undo()
    agrees()
    before = session.history_generation
    session.change(settings=session.settings.replace(k=2))
    assert session.history_generation != before
    agrees()


def _state(session):
    return (session.dataset, session.settings, session.history, session.start, session.missing,
            session.can_undo, session.history_generation)


def test_a_start_planned_and_worked_out_in_another_thread_is_the_start_change_makes():
    data = generate(400, 3, seed=2)
    settings = Settings(k=3, init="kmeans", seed=4, tol=0.0, max_iter=4)
    here = Session(data, Settings(k=2))
    here.change(settings=settings)
    there = Session(data, Settings(k=2))
    there.add_points([[0.0, 0.0]])
    there.undo()  # an undo list, which adopting clears
    plan = there.plan(settings=settings)
    before = _state(there)
    found = []
    worker = threading.Thread(target=lambda: found.append(plan.work()))
    worker.start()
    worker.join()
    assert _state(there) == before  # planning and working out change nothing
    assert there.adopt(found[0])
    assert there.settings == settings and not there.can_redo
    for session in (here, there):
        for step in session.steps:
            session.append(step)
    assert [s.log_likelihood for s in there.history] == [s.log_likelihood for s in here.history]
    np.testing.assert_array_equal(there.last.mixture.means, here.last.mixture.means)


def test_a_start_planned_on_points_edited_since_is_refused_and_new_data_are_not():
    data = generate(300, 3, seed=5)
    session = Session(data, Settings(k=3))
    settings_only = session.plan(settings=Settings(k=2)).work()
    new_data = session.plan(generate(200, 2, seed=6), Settings(k=2)).work()
    session.add_points([[1.0, 2.0], [3.0, 4.0]])  # the user draws while the start is worked out
    before = _state(session)
    assert not session.adopt(settings_only)
    assert _state(session) == before and session.n == 302
    # planned again on the points as they are now, it is taken, the edits kept
    assert session.adopt(session.plan(settings=Settings(k=2)).work())
    assert session.settings.k == 2 and session.n == 302 and session.edited
    assert session.adopt(new_data)  # data the user asked for replace what is there
    assert session.n == 200 and not session.edited and session.last.iteration == 0


def test_a_plan_that_cannot_start_raises_in_work_and_leaves_the_session_alone():
    session = Session(generate(100, 2, seed=1), Settings(k=2))
    before = _state(session)
    plan = session.plan(settings=Settings(k=500))
    with pytest.raises(DataError, match="fewer than k=500"):
        plan.work()
    assert _state(session) == before
    # on the user's own points the settings are taken and what is missing is said instead
    session.remove_points(range(95))
    edited = session.plan(settings=Settings(k=8)).work()
    assert session.adopt(edited)
    assert session.settings.k == 8 and session.last is None and session.missing == "need at least 8 points for k=8: add 3 more"


def test_an_edit_can_leave_its_start_to_be_planned_and_adopted_later():
    data = generate(300, 3, seed=8)
    at_once = Session(data, Settings(k=3))
    later = Session(data, Settings(k=3))
    at_once.remove_within([0.0, 0.0], 1.0)
    later.remove_within([0.0, 0.0], 1.0, start=False)
    np.testing.assert_array_equal(later.points, at_once.points)
    assert later.awaiting_start and later.last is None and later.start is None
    assert later.missing == "a start on the edited points is being set up"
    plan = later.plan_edit_start()
    prepared = plan.work()
    assert later.adopt(prepared) and not later.awaiting_start
    assert later.history[0].log_likelihood == at_once.history[0].log_likelihood
    np.testing.assert_array_equal(later.start.means, at_once.start.means)
    assert later.can_undo  # the edit's start keeps its undo list, as at once
    assert not later.adopt(prepared)  # not twice: nothing awaits it now
    later.undo()
    assert len(later.points) == 300 and later.history[0].iteration == 0 and not later.awaiting_start
    # a start planned before another edit is not taken; too few points need no start
    later.add_points([[5.0, 5.0]], start=False)
    stale = later.plan_edit_start().work()
    later.add_points([[6.0, 6.0]], join=True, start=False)
    assert not later.adopt(stale) and later.awaiting_start
    tiny = Session(generate(20, 2, seed=1), Settings(k=3))
    tiny.remove_points(range(19), start=False)
    assert not tiny.awaiting_start and tiny.missing == "need at least 3 points for k=3: add 2 more"
