"""The state of one exploration, without any widget."""

import numpy as np
import pytest

from emviz.data import DataError, generate
from emviz.gmm import responsibilities
from emviz.session import Session, Settings, describe_state


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
    session.error = "boom"
    assert session.state() == "failed: boom"
