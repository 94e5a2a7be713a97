"""The engine's passes, its E and M halves, and precision far from the origin, against scikit-learn."""

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

from emviz import gmm
from emviz.gmm import Mixture, e_step, em, initialize, m_step
from tests.test_gmm import COVARIANCES, as_sklearn, blobs, sklearn_covariances_as_full


def sklearn_run(X, start, covariance, reg_covar, max_iter):
    """scikit-learn's lower bounds from ``start`` (its iteration i is our mixture after i - 1 M-steps)."""
    g = GaussianMixture(
        start.k,
        covariance_type=covariance,
        tol=0.0,
        max_iter=max_iter,
        reg_covar=reg_covar,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=as_sklearn(np.linalg.inv(start.covariances), covariance),
        init_params="random",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: we stop it on purpose
        g.fit(X)
    return g


def three_tight_clusters(offset, separation, seed=0):
    rng = np.random.default_rng(seed)
    centres = offset + separation * np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    return rng.permutation(np.concatenate([rng.normal(size=(200, 2)) * 1e-3 + c for c in centres]))


@pytest.mark.parametrize(
    "offset, separation",
    [(0.0, 1e4), (0.0, 1e5), (1e4, 0.01), (1e5, 0.01)],
    ids=["apart-1e4", "apart-1e5", "offset-1e4", "offset-1e5"],
)
def test_tight_clusters_far_away_follow_sklearn(offset, separation):
    X = three_tight_clusters(offset, separation)
    start = initialize(X, 3, seed=0, reg_covar=1e-12)
    history = list(em(X, start, tol=0.0, max_iter=30, reg_covar=1e-12))
    g = sklearn_run(X, start, "full", 1e-12, max_iter=31)
    lls = np.array([s.log_likelihood for s in history])
    np.testing.assert_allclose(lls, g.lower_bounds_, rtol=1e-9)
    assert np.all(np.diff(lls) >= -1e-13 * np.abs(lls[1:]))
    final = history[-1].mixture
    np.testing.assert_allclose(final.means, g.means_, rtol=1e-12)
    np.testing.assert_allclose(final.covariances, g.covariances_, rtol=1e-9, atol=1e-9 * np.abs(g.covariances_).max())


def test_one_dimension_far_apart_reaches_a_tiny_tol():
    rng = np.random.default_rng(0)
    X = rng.permutation(np.concatenate([rng.normal(size=500) + c for c in (0.0, 1e4, 2e4, 3e4)]))[:, None]
    start = initialize(X, 2, seed=0, reg_covar=1e-9)
    history = list(em(X, start, tol=1e-10, max_iter=200, reg_covar=1e-9))
    assert history[-1].converged
    lls = np.array([s.log_likelihood for s in history])
    assert np.all(np.diff(lls) >= -4 * np.finfo(float).eps * np.abs(lls[1:]))


def test_a_mean_that_jumps_far_gets_an_exact_scatter():
    """A start far from the data: the first M-step's means move 1e6 standard deviations."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2)) * np.array([1.0, 0.5]) + 1e6
    start = Mixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2) * 1e12, np.eye(2) * 1e12])
    one = list(em(X, start, tol=0.0, max_iter=1, reg_covar=0.0))[-1].mixture
    resp = gmm.responsibilities(X, start)
    nk, means, covariances = _estimate_gaussian_parameters(X, resp, 0.0, "full")
    np.testing.assert_allclose(one.means, means, rtol=1e-14)
    np.testing.assert_allclose(one.covariances, covariances, rtol=1e-12)


def brute_force(X, log_weights, means, prec_chol, centers):
    covariances = np.linalg.inv(prec_chol @ prec_chol.transpose(0, 2, 1))
    weighted = np.stack(
        [multivariate_normal(m, c).logpdf(X).reshape(-1) for m, c in zip(means, covariances)], axis=1
    ) + log_weights
    ll = np.logaddexp.reduce(weighted, axis=1)
    resp = np.exp(weighted - ll[:, None])
    diff = X[:, None, :] - centers[None]  # (n, k, d)
    s1 = np.einsum("nk,nkd->kd", resp, diff)
    s2 = np.einsum("nk,nki,nkj->kij", resp, diff, diff)
    return ll.sum(), resp, resp.sum(axis=0), s1, s2


@pytest.mark.parametrize("d", [1, 2, 4])
def test_the_two_passes_keep_their_contract(d, monkeypatch):
    monkeypatch.setattr(gmm, "_CHUNK_ELEMENTS", 4096)  # several chunks, one of them short
    rng = np.random.default_rng(d)
    k, n = 3, 5000
    X = rng.normal(size=(n, d)) * 2 + 50.0
    a = rng.normal(size=(k, d, d))
    mixture = Mixture([0.2, 0.3, 0.5], rng.normal(size=(k, d)) + 50.0, a @ a.transpose(0, 2, 1) + np.eye(d))
    log_weights = np.log(mixture.weights)
    prec_chol = mixture._prec_chol
    centers = rng.normal(size=(k, d)) + 50.0
    ll, resp, nk, s1, s2 = brute_force(X, log_weights, mixture.means, prec_chol, centers)
    got = gmm.statistics_pass(X, log_weights, mixture.means, prec_chol, centers)
    for actual, expected in zip(got, (ll, nk, s1, s2)):
        np.testing.assert_allclose(actual, expected, rtol=1e-11)
    ll_r, resp_r = gmm.responsibilities_pass(X, log_weights, mixture.means, prec_chol)
    assert ll_r == pytest.approx(ll, rel=1e-12)
    np.testing.assert_allclose(resp_r, resp, rtol=1e-10, atol=1e-300)
    # P P^T is the precision, upper triangular as in scikit-learn
    np.testing.assert_allclose(prec_chol @ prec_chol.transpose(0, 2, 1), np.linalg.inv(mixture.covariances), rtol=1e-10)
    assert np.all(np.tril(prec_chol, -1) == 0)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_m_step_of_e_step_is_one_em_iteration(covariance):
    X = blobs(120, 3, seed=2) + 1e3
    start = gmm._project(initialize(X, 3, seed=1), covariance)
    steps = list(em(X, start, tol=0.0, max_iter=4, covariance=covariance, reg_covar=1e-6))
    for before, after in zip(steps, steps[1:]):
        ll, resp = e_step(X, before.mixture)
        assert ll == pytest.approx(before.log_likelihood, rel=1e-14)
        np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-14)
        mixture = m_step(X, resp, covariance=covariance, reg_covar=1e-6)
        np.testing.assert_allclose(mixture.weights, after.mixture.weights, rtol=1e-13)
        np.testing.assert_allclose(mixture.means, after.mixture.means, rtol=1e-14)
        np.testing.assert_allclose(mixture.covariances, after.mixture.covariances, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_m_step_equals_sklearn_estimate(covariance):
    rng = np.random.default_rng(3)
    # near the origin: scikit-learn's diag, spherical and tied estimates expand the square
    X = rng.normal(size=(200, 2)) + 10.0
    resp = rng.dirichlet(np.ones(3), size=200)
    mixture = m_step(X, resp, covariance=covariance, reg_covar=1e-4)
    nk, means, covariances = _estimate_gaussian_parameters(X, resp, 1e-4, covariance)
    np.testing.assert_allclose(mixture.weights, nk / 200, rtol=1e-14)
    np.testing.assert_allclose(mixture.means, means, rtol=1e-14)
    expected = sklearn_covariances_as_full(
        type("G", (), {"covariances_": covariances})(), covariance, 3, 2
    )
    np.testing.assert_allclose(mixture.covariances, expected, rtol=1e-9)


def test_m_step_refuses_bad_responsibilities():
    X = blobs(10, 2)
    with pytest.raises(ValueError, match=r"resp must have shape \(30, k\)"):
        m_step(X, np.ones((29, 2)))
    with pytest.raises(ValueError, match="finite and non-negative"):
        m_step(X, -np.ones((30, 2)))


def test_em_on_a_prepared_evaluator_is_the_same_run(monkeypatch):
    X = blobs(100, 2, seed=4)
    start = initialize(X, 3, seed=2)
    evaluator = gmm.Evaluator(X)
    calls = []
    original = gmm._passes.statistics_pass

    def counting(*args):
        calls.append(args[0])
        return original(*args)

    monkeypatch.setattr(gmm._passes, "statistics_pass", counting)
    plain = list(em(X, start, tol=0.0, max_iter=5))
    n_plain = len(calls)
    calls.clear()
    prepared = list(em(X, start, tol=0.0, max_iter=5, evaluator=evaluator))
    assert len(calls) == n_plain == 6  # one pass per iteration when nothing moves far
    assert all(x is evaluator.X for x in calls)  # the engine goes through the pluggable passes
    for a, b in zip(plain, prepared):
        assert a.log_likelihood == b.log_likelihood
        assert np.array_equal(a.mixture.covariances, b.mixture.covariances)
    with pytest.raises(ValueError, match="the evaluator holds 300 points"):
        next(em(X[:10], start, evaluator=evaluator))


def test_collapsed_components_are_reported():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 10, [[50.0, 50.0]]])
    start = Mixture(
        [0.45, 0.45, 0.1],
        [[0.0, 0.0], [10.0, 10.0], [50.0, 50.0]],
        [np.eye(2), np.eye(2), np.eye(2) * 0.1],
    )
    result_steps = list(em(X, start, tol=1e-8, reg_covar=1e-6))
    assert result_steps[-1].collapsed == (2,)  # one point, at the floor
    assert result_steps[0].collapsed == (2,)  # one point's weight already at the start
    fine = gmm.fit(X[:400], 2, reg_covar=1e-6)
    assert fine.collapsed == ()
    result = gmm.fit(X, 3, reg_covar=1e-6, seed=0)
    assert result.collapsed == result.history[-1].collapsed


@pytest.mark.parametrize("d", [1, 2])
def test_small_precision_factors_are_scipys_bit_for_bit(d):
    """For d <= 2 the precision factors are computed without scipy (the window's start does not
    import it); they must be scipy's solve_triangular, as scikit-learn uses, to the last bit,
    from tiny to huge and from round to needle-thin covariances."""
    from scipy.linalg import solve_triangular

    rng = np.random.default_rng(d)
    k = 4000
    factors = rng.standard_normal((k, d, d)) * np.exp(rng.uniform(-12, 12, (k, 1, 1)))
    covariances = factors @ factors.transpose(0, 2, 1) + np.exp(rng.uniform(-30, 0, (k, 1, 1))) * np.eye(d)
    cholesky = np.linalg.cholesky(covariances)
    expected = np.stack([solve_triangular(L, np.eye(d), lower=True, check_finite=False).T for L in cholesky])
    got = gmm._precisions_cholesky(cholesky)
    assert got.shape == expected.shape
    mismatched = np.flatnonzero(np.any(got != expected, axis=(1, 2)))
    assert mismatched.size == 0, f"{mismatched.size} of {k} differ, e.g. {got[mismatched[0]]} != {expected[mismatched[0]]}"
    mixture = Mixture(np.full(3, 1 / 3), rng.standard_normal((3, d)), covariances[:3])
    np.testing.assert_array_equal(mixture._prec_chol, expected[:3])
