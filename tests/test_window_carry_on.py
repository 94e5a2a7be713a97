"""Changing only when EM stops (max iterations, tolerance) carries on instead of starting over.

Qt-free: the session does it; tests/test_window.py drives the same through the window.
"""

import numpy as np

from emviz.data import generate
from emviz.session import Session, Settings, describe_state


def run_out(session):
    for step in session.steps:
        session.append(step)


def test_raising_max_iterations_carries_on_exactly_as_one_run():
    data = generate(300, 3, separation=1.5, seed=4)
    whole = Session(data, Settings(k=3, tol=1e-8))
    run_out(whole)
    assert whole.last.converged and whole.last.iteration > 12
    session = Session(data, Settings(k=3, tol=1e-8, max_iter=5))
    run_out(session)
    assert session.finished and session.state() == "stopped at max iterations (5)"
    start = session.start
    assert session.carry_on(session.settings.replace(max_iter=12))
    assert session.start is start and not session.finished
    run_out(session)
    assert session.state() == "stopped at max iterations (12)"
    assert session.carry_on(session.settings.replace(max_iter=1000))
    run_out(session)
    assert [s.iteration for s in session.history] == [s.iteration for s in whole.history]
    for mine, reference in zip(session.history, whole.history):
        np.testing.assert_allclose(mine.log_likelihood, reference.log_likelihood, rtol=1e-12)
        np.testing.assert_allclose(mine.mixture.means, reference.mixture.means, rtol=1e-10, atol=1e-12)
        assert mine.converged == reference.converged


def test_a_new_tolerance_judges_the_newest_step_again():
    data = generate(300, 3, separation=1.5, seed=4)
    session = Session(data, Settings(k=3, tol=1e-3))
    run_out(session)
    converged_at = session.last.iteration
    assert session.last.converged
    assert session.carry_on(session.settings.replace(tol=1e-9))
    assert not session.last.converged and session.state() == "ready"
    run_out(session)
    assert session.last.converged and session.last.iteration > converged_at
    iterations = [s.iteration for s in session.history]
    assert iterations == list(range(len(iterations)))


def test_anything_else_starts_over():
    session = Session(generate(200, 2, seed=0), Settings(k=2, max_iter=3))
    run_out(session)
    before = list(session.history)
    assert not session.carry_on(session.settings.replace(k=3))
    assert not session.carry_on(session.settings.replace(max_iter=2))  # already past it
    session.fail("boom")
    assert not session.carry_on(session.settings.replace(max_iter=10))
    assert session.history == before and session.settings.max_iter == 3


def test_plurals():
    data = generate(50, 1, seed=0)
    session = Session(data, Settings(k=1))
    run_out(session)
    assert session.last.iteration == 1
    assert session.state().startswith("converged after 1 iteration (")
    assert describe_state(session.last, session.settings) == session.state()
