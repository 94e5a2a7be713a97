"""Properties every EM run must have, over random data, offsets, separations and units (hypothesis)."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emviz import gmm
from emviz.gmm import Mixture, em, initialize

COVARIANCES = ("full", "diag", "spherical", "tied")
PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def data_sets(draw):
    """Clusters of spread ``scale``, ``separation`` standard deviations apart, at ``offset`` spreads."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    d = draw(st.integers(1, 3))
    true_k = draw(st.integers(1, 4))
    n = draw(st.integers(40, 150))
    scale = 10.0 ** draw(st.integers(-4, 4))
    separation = 10.0 ** draw(st.floats(0, 5))
    offset = draw(st.sampled_from([0.0, 1e3, 1e6, 1e9])) * scale
    labels = rng.integers(0, true_k, size=n)
    centres = rng.normal(size=(true_k, d)) * separation
    X = (rng.normal(size=(n, d)) + centres[labels]) * scale + offset
    return X, seed


def collapsed(step, X):
    """A variance at rounding level of the data: the likelihood is unbounded there."""
    spread = np.abs(X - X.mean(axis=0)).max()
    return np.linalg.eigvalsh(step.mixture.covariances).min() < (1e-7 * spread) ** 2


def run(X, start, **kw):
    steps = []
    try:
        for step in em(X, start, **kw):
            steps.append(step)
            if kw.get("reg_covar", 1.0) < 1e-12 * X.var() and collapsed(step, X):
                break
    except ValueError as exc:  # a component collapsed onto too few points without regularisation
        assert "increase reg_covar" in str(exc)
    return steps


@PROPERTY
@given(
    data=data_sets(),
    k=st.integers(1, 4),
    covariance=st.sampled_from(COVARIANCES),
    init=st.sampled_from(gmm.INIT_METHODS),
    relative_reg=st.sampled_from([0.0, 1e-12, 1e-6]),
)
def test_every_snapshot_is_valid_and_the_likelihood_never_falls(data, k, covariance, init, relative_reg):
    X, seed = data
    if len(np.unique(X, axis=0)) < k:
        return
    reg_covar = relative_reg * X.var(axis=0).max()
    start = initialize(X, k, method=init, seed=seed, reg_covar=max(reg_covar, 1e-9 * X.var(axis=0).max()))
    steps = run(X, start, tol=0.0, max_iter=20, covariance=covariance, reg_covar=reg_covar)
    assert steps or reg_covar == 0.0
    # up to a component collapsing onto rounding level (possible only without a real reg_covar):
    # there the likelihood is unbounded and a variance's sign is rounding's; and up to a variance
    # within 1e4 of reg_covar, where the penalty, not the likelihood, steers the M-step
    healthy, steady = [], []
    for step in steps:
        if collapsed(step, X):
            break
        healthy.append(step)
        if len(steady) == len(healthy) - 1 and np.linalg.eigvalsh(step.mixture.covariances).min() >= 1e4 * reg_covar:
            steady.append(step)
    for step in steps:
        m = step.mixture
        for a in (m.weights, m.means, m.covariances, [step.log_likelihood]):
            assert np.all(np.isfinite(a))
        assert abs(m.weights.sum() - 1.0) < 1e-12
        np.testing.assert_array_equal(m.covariances, m.covariances.transpose(0, 2, 1))
        if step in healthy:
            assert np.all(np.linalg.eigvalsh(m.covariances) > 0)
    if relative_reg <= 1e-12:  # with a real reg_covar the M-step maximises a penalised likelihood
        lls = np.array([s.log_likelihood for s in steady])
        # monotone to rounding: a few ulps of the per-point log-likelihood's terms
        assert np.all(np.diff(lls) >= -1e-11 * np.maximum(1.0, np.abs(lls[1:])))


@PROPERTY
@given(data=data_sets(), k=st.integers(1, 3), covariance=st.sampled_from(COVARIANCES), n_steps=st.integers(1, 6))
def test_single_steps_equal_a_run(data, k, covariance, n_steps):
    X, seed = data
    if len(np.unique(X, axis=0)) < k:
        return
    reg_covar = 1e-6 * X.var(axis=0).max()
    start = initialize(X, k, seed=seed, reg_covar=reg_covar)
    run_steps = list(em(X, start, tol=0.0, max_iter=n_steps, covariance=covariance, reg_covar=reg_covar))
    mixture = start
    for _ in range(n_steps):
        mixture = list(em(X, mixture, tol=0.0, max_iter=1, covariance=covariance, reg_covar=reg_covar))[-1].mixture
    final = run_steps[-1].mixture
    assert np.array_equal(final.means, mixture.means)
    assert np.array_equal(final.covariances, mixture.covariances)
    assert np.array_equal(final.weights, mixture.weights)
    # and the public halves give the same mixture to rounding
    half = gmm.m_step(X, gmm.e_step(X, run_steps[-2].mixture)[1], covariance=covariance, reg_covar=reg_covar)
    np.testing.assert_allclose(half.means, final.means, rtol=1e-12, atol=1e-12 * np.abs(X).max())
    np.testing.assert_allclose(half.covariances, final.covariances, rtol=1e-8, atol=1e-12 * np.abs(final.covariances).max())


@PROPERTY
@given(data=data_sets(), k=st.integers(1, 3), init=st.sampled_from(gmm.INIT_METHODS))
def test_same_seed_same_trace(data, k, init):
    X, seed = data
    if len(np.unique(X, axis=0)) < k:
        return
    reg_covar = 1e-6 * X.var(axis=0).max()
    a = gmm.fit(X, k, init=init, seed=seed, max_iter=15, reg_covar=reg_covar)
    b = gmm.fit(X.copy(), k, init=init, seed=seed, max_iter=15, reg_covar=reg_covar)
    assert [s.log_likelihood for s in a.history] == [s.log_likelihood for s in b.history]
    assert np.array_equal(a.mixture.covariances, b.mixture.covariances)


@PROPERTY
@given(data=data_sets(), k=st.integers(1, 3), covariance=st.sampled_from(COVARIANCES), perm_seed=st.integers(0, 1000))
def test_row_order_does_not_matter(data, k, covariance, perm_seed):
    X, seed = data
    if len(np.unique(X, axis=0)) < k:
        return
    reg_covar = 1e-6 * X.var(axis=0).max()
    start = initialize(X, k, seed=seed, reg_covar=reg_covar)
    perm = np.random.default_rng(perm_seed).permutation(len(X))
    a = list(em(X, start, tol=0.0, max_iter=15, covariance=covariance, reg_covar=reg_covar))
    b = list(em(X[perm], start, tol=0.0, max_iter=15, covariance=covariance, reg_covar=reg_covar))
    np.testing.assert_allclose([s.log_likelihood for s in a], [s.log_likelihood for s in b], rtol=1e-9, atol=1e-9)
    spread = np.abs(X - X.mean(axis=0)).max()
    np.testing.assert_allclose(a[-1].mixture.means, b[-1].mixture.means, rtol=1e-9, atol=1e-8 * spread)


@PROPERTY
@given(
    data=data_sets(),
    k=st.integers(1, 3),
    covariance=st.sampled_from(COVARIANCES),
    log_scale=st.integers(-6, 6),
    shift=st.sampled_from([0.0, -5.0, 1e4]),
    matrix_seed=st.integers(0, 1000),
)
def test_a_change_of_units_transforms_the_fit(data, k, covariance, log_scale, shift, matrix_seed):
    """x' = A x + b: means A mu + b, covariances A S A^T, log-likelihood minus log |det A|."""
    X, seed = data
    if len(np.unique(X, axis=0)) < k:
        return
    d = X.shape[1]
    rng = np.random.default_rng(matrix_seed)
    if covariance in ("full", "tied"):  # equivariant under any invertible map
        A = (np.eye(d) + 0.3 * rng.normal(size=(d, d))) * 10.0**log_scale
    elif covariance == "diag":  # under per-column scaling
        A = np.diag(10.0 ** rng.integers(-3, 4, size=d).astype(float)) * 10.0**log_scale
    else:  # spherical: under one scale for all columns
        A = np.eye(d) * 10.0**log_scale
    if abs(np.linalg.det(A)) < 1e-3 * 10.0 ** (d * log_scale):
        return
    Y = X @ A.T
    b = shift * Y.std(axis=0)  # a shift in spreads of each new column (the offset of X is drawn above)
    Y = Y + b
    reg_covar = 1e-6 * X.var(axis=0).max()
    start = initialize(X, k, seed=seed, reg_covar=reg_covar)
    start_y = Mixture(start.weights, start.means @ A.T + b, A @ start.covariances @ A.T)
    if covariance in ("diag", "spherical", "tied"):
        start = gmm._project(start, covariance)
        start_y = Mixture(start.weights, start.means @ A.T + b, A @ start.covariances @ A.T)
    # regularisation adds reg * I, which no unit change preserves: the exact M-step only
    a = run(X, start, tol=0.0, max_iter=10, covariance=covariance, reg_covar=0.0)
    c = run(Y, start_y, tol=0.0, max_iter=len(a) - 1, covariance=covariance, reg_covar=0.0) if a else []
    steps = min(len(a), len(c))
    if steps == 0 or any(collapsed(s, X) for s in a[:steps]):
        return
    log_det = math.log(abs(np.linalg.det(A)))
    lls_a = np.array([s.log_likelihood for s in a[:steps]])
    lls_c = np.array([s.log_likelihood for s in c[:steps]])
    spread = np.abs(Y - Y.mean(axis=0)).max()
    # Y = A x + b is rounded to float64 afresh: at an offset of 1e9 spreads that alone moves each
    # point by ~1e-7 of the spread, which no engine can undo and ten EM steps can amplify. The
    # tolerances grow with that rounding (at small offsets it is ~1e-15: they stay as they were).
    rounding = 1e3 * np.finfo(float).eps * np.abs(Y).max() / spread
    np.testing.assert_allclose(lls_c, lls_a - log_det, rtol=max(1e-7, rounding), atol=max(1e-7, rounding))
    ma, mc = a[steps - 1].mixture, c[steps - 1].mixture
    np.testing.assert_allclose(mc.weights, ma.weights, rtol=max(1e-6, rounding), atol=max(1e-9, rounding))
    np.testing.assert_allclose(mc.means, ma.means @ A.T + b, rtol=1e-7, atol=max(1e-7, rounding) * spread)
    expected = A @ ma.covariances @ A.T
    np.testing.assert_allclose(mc.covariances, expected, rtol=1e-5,
                               atol=max(1e-7, rounding) * np.abs(expected).max())
