"""The EM engine against scikit-learn, scipy and EM's own invariants."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from emviz import gmm
from emviz.gmm import EMStep, Mixture, em, fit, initialize, log_likelihood, responsibilities

COVARIANCES = ("full", "diag", "spherical", "tied")


def blobs(n_per, d, k=3, seed=0, spread=3.0):
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(k):
        a = rng.normal(size=(d, d)) * 0.5 + np.eye(d)
        parts.append(rng.normal(size=(n_per, d)) @ a.T + spread * i)
    return rng.permutation(np.concatenate(parts))


def as_sklearn(matrices, covariance):
    """(k, d, d) matrices in scikit-learn's storage for a covariance type."""
    return {
        "full": lambda: matrices,
        "diag": lambda: np.diagonal(matrices, axis1=1, axis2=2),
        "spherical": lambda: matrices[:, 0, 0],
        "tied": lambda: matrices[0],
    }[covariance]()


def sklearn_precisions(mixture, covariance):
    return as_sklearn(np.linalg.inv(mixture.covariances), covariance)


def sklearn_covariances_as_full(g, covariance, k, d):
    c = g.covariances_
    return {
        "full": lambda: c,
        "diag": lambda: c[:, :, None] * np.eye(d),
        "spherical": lambda: c[:, None, None] * np.eye(d),
        "tied": lambda: np.broadcast_to(c, (k, d, d)),
    }[covariance]()


def assert_rel(actual, expected, rtol=1e-9, atol_scale=1e-12):
    """Relative agreement, with an absolute floor tied to the array's magnitude (for entries near 0)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol_scale * np.abs(expected).max())


@pytest.mark.parametrize("covariance", COVARIANCES)
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_em_equals_sklearn_from_the_same_start(covariance, d):
    X = blobs(150, d, seed=d)
    k = 3
    start = gmm._project(initialize(X, k, seed=7), covariance)
    g = GaussianMixture(
        k,
        covariance_type=covariance,
        tol=1e-8,
        max_iter=500,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=sklearn_precisions(start, covariance),
        init_params="random",
    ).fit(X)
    assert g.converged_
    history = list(em(X, start, tol=1e-8, max_iter=500, covariance=covariance))
    # scikit-learn's lower bound at its iteration i is the log-likelihood of the mixture after
    # i - 1 M-steps, and it stops one M-step after the change it tested: so it reports one
    # more iteration than we do, and its parameters are our mixture after n_iter_ M-steps.
    assert g.n_iter_ == len(history)
    assert_rel([s.log_likelihood for s in history], g.lower_bounds_)
    final = list(em(X, start, tol=0.0, max_iter=g.n_iter_, covariance=covariance))[-1].mixture
    assert_rel(final.weights, g.weights_)
    assert_rel(final.means, g.means_)
    assert_rel(final.covariances, sklearn_covariances_as_full(g, covariance, k, d))


def test_fit_bic_aic_equal_sklearn():
    X = blobs(100, 2, seed=3)
    for covariance in COVARIANCES:
        result = fit(X, 3, covariance=covariance, tol=1e-10)
        m = result.mixture
        g = GaussianMixture(3, covariance_type=covariance)
        # give scikit-learn our fitted parameters and compare its criteria
        g.fit(X)
        g.weights_, g.means_ = m.weights, m.means
        g.precisions_cholesky_ = gmm_precisions_cholesky(m, covariance)  # what score() uses
        assert result.bic == pytest.approx(g.bic(X), rel=1e-9)
        assert result.aic == pytest.approx(g.aic(X), rel=1e-9)


def gmm_precisions_cholesky(m, covariance):
    return as_sklearn(np.linalg.inv(np.linalg.cholesky(m.covariances)).transpose(0, 2, 1), covariance)


def test_log_density_equals_scipy():
    rng = np.random.default_rng(0)
    d, k = 3, 4
    a = rng.normal(size=(k, d, d))
    mixture = Mixture(np.full(k, 1 / k), rng.normal(size=(k, d)) * 3, a @ a.transpose(0, 2, 1) + np.eye(d))
    X = rng.normal(size=(500, d)) * 4 + 100.0  # far from the origin on purpose
    dens = np.stack(
        [multivariate_normal(mixture.means[i], mixture.covariances[i]).logpdf(X) for i in range(k)], axis=1
    )
    weighted = dens + np.log(mixture.weights)
    expected_ll = np.logaddexp.reduce(weighted, axis=1)
    assert log_likelihood(X, mixture) == pytest.approx(expected_ll.mean(), rel=1e-12)
    resp = responsibilities(X, mixture)
    np.testing.assert_allclose(resp, np.exp(weighted - expected_ll[:, None]), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(30, 200),
    d=st.integers(1, 3),
    k=st.integers(1, 4),
    covariance=st.sampled_from(COVARIANCES),
    init=st.sampled_from(gmm.INIT_METHODS),
    scale=st.sampled_from([1e-3, 1.0, 1e4]),
)
def test_log_likelihood_never_decreases(seed, n, d, k, covariance, init, scale):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1)) * 2.5) * scale
    start = initialize(X, k, method=init, seed=seed, reg_covar=1e-9 * scale**2)
    steps = []
    floor = 1e-10 * X.var(axis=0).min()
    try:
        # reg_covar=0: only the exact M-step is guaranteed not to decrease the likelihood
        for step in em(X, start, tol=0.0, max_iter=25, covariance=covariance, reg_covar=0.0):
            steps.append(step)
            if np.linalg.eigvalsh(step.mixture.covariances).min() < floor:
                # A component collapsed onto a point: the likelihood is unbounded, and the
                # variance sits at rounding level, where no float computation is monotone.
                break
    except ValueError as exc:  # a component may collapse onto too few points without regularisation
        assert "increase reg_covar" in str(exc)
        # ... but only after an M-step: the start itself is regularised and must evaluate
        assert f"EM iteration {len(steps)}:" in str(exc) and len(steps) >= 1
    assert steps and steps[0].iteration == 0
    lls = np.array([s.log_likelihood for s in steps])
    assert np.all(np.isfinite(lls))
    assert np.all(np.diff(lls) >= -1e-9 * np.maximum(1.0, np.abs(lls[1:])))


def test_snapshots_are_immutable_and_iteration_numbers_are_m_steps():
    X = blobs(50, 2)
    start = initialize(X, 3)
    steps = list(em(X, start, tol=0.0, max_iter=5))
    assert [s.iteration for s in steps] == [0, 1, 2, 3, 4, 5]
    assert steps[0].mixture is start
    assert math.isnan(steps[0].delta)
    for s in steps:
        assert isinstance(s, EMStep)
        with pytest.raises(ValueError):
            s.mixture.means[0, 0] = 1.0
    assert len({id(s.mixture.means) for s in steps}) == len(steps)
    deltas = [b.log_likelihood - a.log_likelihood for a, b in zip(steps, steps[1:])]
    np.testing.assert_allclose([s.delta for s in steps[1:]], deltas)


def test_last_step_is_the_converged_one_or_max_iter():
    X = blobs(60, 2)
    start = initialize(X, 3)
    steps = list(em(X, start, tol=1e-4))
    assert steps[-1].converged and not any(s.converged for s in steps[:-1])
    assert abs(steps[-1].delta) < 1e-4
    capped = list(em(X, start, tol=0.0, max_iter=3))
    assert len(capped) == 4 and not capped[-1].converged
    assert len(list(em(X, start, max_iter=0))) == 1


def assert_structure(c, covariance):
    """Full (k, d, d) matrices that have the structure of ``covariance``."""
    diagonal = np.diagonal(c, axis1=1, axis2=2)
    off_diagonal = c - diagonal[:, :, None] * np.eye(c.shape[1])
    if covariance in ("diag", "spherical"):
        assert np.all(off_diagonal == 0)
    if covariance == "spherical":
        assert np.all(diagonal == diagonal[:, :1])
    if covariance == "tied":
        assert np.all(c == c[0])
    if covariance == "full":
        assert np.any(off_diagonal != 0) and np.any(c != c[0])


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_covariance_structure_is_imposed_from_the_start(covariance):
    X = blobs(80, 3)
    result = fit(X, 3, covariance=covariance)
    assert_structure(result.history[0].mixture.covariances, covariance)  # the start is projected
    assert_structure(result.mixture.covariances, covariance)


def test_fit_recovers_separated_components():
    rng = np.random.default_rng(5)
    means = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    X = np.concatenate([rng.normal(size=(400, 2)) + m for m in means])
    result = fit(X, 3, seed=1)
    assert result.converged
    order = [int(np.argmin(np.linalg.norm(result.mixture.means - m, axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(result.mixture.means[order], means, atol=0.2)
    np.testing.assert_allclose(result.mixture.weights, 1 / 3, atol=0.02)
    assert result.labels.shape == (1200,) and set(result.labels) == {0, 1, 2}


# ----------------------------------------------------------------------------- initialisation


@pytest.mark.parametrize("method", gmm.INIT_METHODS)
def test_initialize_is_reproducible_and_valid(method):
    X = blobs(50, 2)
    a = initialize(X, 4, method=method, seed=3)
    b = initialize(X, 4, method=method, seed=3)
    c = initialize(X, 4, method=method, seed=4)
    assert np.array_equal(a.means, b.means) and np.array_equal(a.covariances, b.covariances)
    assert not np.array_equal(a.means, c.means)
    assert a.weights.sum() == pytest.approx(1.0)


def test_random_init_is_the_articles_scheme():
    X = blobs(30, 2)
    m = initialize(X, 3, method="random", seed=11, reg_covar=0.0)
    rng = np.random.default_rng(11)
    w = rng.uniform(0, 1, 3)
    mu = rng.normal(0, 1, (3, 2))
    a = rng.normal(0, 1, (3, 2, 2))
    np.testing.assert_array_equal(m.weights, w / w.sum())
    np.testing.assert_array_equal(m.means, mu)
    np.testing.assert_allclose(m.covariances, a @ a.transpose(0, 2, 1))


def test_data_seeded_inits_start_on_distinct_data_points():
    X = np.repeat(blobs(10, 2), 5, axis=0)  # every point five times
    for method in ("kmeans++", "random-points"):
        m = initialize(X, 6, method=method, seed=0)
        assert len(np.unique(np.round(m.means, 12), axis=0)) == 6


# ----------------------------------------------------------------------------- degenerate data


def assert_finite_fit(result):
    m = result.mixture
    for a in (m.weights, m.means, m.covariances, [s.log_likelihood for s in result.history]):
        assert np.all(np.isfinite(a))
    assert np.all(np.linalg.eigvalsh(m.covariances) > 0)


def test_duplicated_points_fit():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 2.0], [5.0, 5.0], [5.0, 6.0]]), 25, axis=0)
    assert_finite_fit(fit(X, 3, reg_covar=1e-6))


def test_component_that_loses_all_its_points_stays_finite():
    X = blobs(100, 2)
    far = Mixture(
        [0.5, 0.49, 0.01],
        [X.mean(axis=0), X.mean(axis=0) + 1, [1e4, 1e4]],
        [np.eye(2), np.eye(2), np.eye(2) * 1e-3],
    )
    steps = list(em(X, far, tol=1e-8))
    last = steps[-1].mixture
    assert last.weights[2] < 1e-12  # it holds no points any more ...
    assert np.all(np.isfinite(last.means)) and np.all(np.isfinite([s.log_likelihood for s in steps]))
    assert np.all(np.linalg.eigvalsh(last.covariances) > 0)  # ... and reg_covar keeps it drawable


def test_k_larger_than_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 4.0]]), 10, axis=0)
    for method in ("kmeans++", "kmeans", "random-points"):
        with pytest.raises(ValueError, match="only 3 distinct points; decrease k"):
            fit(X, 5, init=method)
    # the article's random start does not look at the data: EM runs and stays finite
    assert_finite_fit(fit(X, 5, init="random", reg_covar=1e-6))


def test_fewer_points_than_k():
    with pytest.raises(ValueError, match="k=4 components need at least 4 points"):
        fit(np.zeros((3, 2)), 4)


def test_constant_column():
    X = blobs(60, 2)
    X[:, 1] = 7.5
    result = fit(X, 3, reg_covar=1e-6)
    assert_finite_fit(result)
    np.testing.assert_allclose(result.mixture.means[:, 1], 7.5)
    np.testing.assert_allclose(result.mixture.covariances[:, 1, 1], 1e-6, rtol=1e-6)


def test_columns_whose_scales_differ_by_1e12():
    X = blobs(100, 2, seed=4)
    s = np.array([1e12, 1.0])
    start = initialize(X, 3, seed=0)
    scaled_start = Mixture(start.weights, start.means * s, start.covariances * np.outer(s, s))
    reg = gmm.relative_reg_covar(X)
    # the default follows the finer column: far below its variance, far above rounding
    assert 1e-16 * X[:, 1].var() < gmm.relative_reg_covar(X * s) < 1e-6 * X[:, 1].var()
    assert_finite_fit(fit(X * s, 3, reg_covar=reg))
    # without regularisation (which cannot be scale-free for both columns) it is the same EM
    # run in the new units, to rounding error
    a = list(em(X, start, tol=0.0, max_iter=40, reg_covar=0.0))[-1]
    b = list(em(X * s, scaled_start, tol=0.0, max_iter=40, reg_covar=0.0))[-1]
    assert b.log_likelihood == pytest.approx(a.log_likelihood - math.log(1e12), rel=1e-10)
    np.testing.assert_allclose(b.mixture.means / s, a.mixture.means, rtol=1e-9)
    np.testing.assert_allclose(b.mixture.weights, a.mixture.weights, rtol=1e-9)
    np.testing.assert_allclose(b.mixture.covariances / np.outer(s, s), a.mixture.covariances, rtol=1e-8)


def test_collapse_without_regularisation_says_what_to_do():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]), 10, axis=0)
    with pytest.raises(ValueError, match="decrease k, increase reg_covar or rescale the data"):
        fit(X, 4, reg_covar=0.0)


def test_relative_reg_covar_is_right_in_any_units():
    X = blobs(200, 2, seed=9)
    tiny = X * 1e-4
    reference = fit(X, 3, reg_covar=gmm.relative_reg_covar(X), tol=1e-10).mixture
    relative = fit(tiny, 3, reg_covar=gmm.relative_reg_covar(tiny), tol=1e-10).mixture
    np.testing.assert_allclose(relative.covariances, reference.covariances * 1e-8, rtol=1e-4, atol=1e-14)
    with warnings.catch_warnings():
        absolute = fit(tiny, 3, reg_covar=1e-6, tol=1e-10).mixture
    # scikit-learn's absolute default swamps covariances of order 1e-8: the reason for the relative one
    assert np.diagonal(absolute.covariances, axis1=1, axis2=2).min() > 1e-6
    assert np.diagonal(reference.covariances * 1e-8, axis1=1, axis2=2).max() < 1e-6 / 20


def test_bad_arguments_raise_clear_errors():
    X = blobs(20, 2)
    start = initialize(X, 2)
    with pytest.raises(ValueError, match="covariance must be one of"):
        list(em(X, start, covariance="banana"))
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit(np.array([[0.0, np.nan], [1.0, 2.0]]), 1)
    with pytest.raises(ValueError, match="3 columns but the start mixture is 2-dimensional"):
        list(em(np.zeros((5, 3)), start))
    with pytest.raises(ValueError, match="init must be one of"):
        initialize(X, 2, method="magic")


def test_mixture_validation():
    with pytest.raises(ValueError, match="sum to 1"):
        Mixture([0.5, 0.6], np.zeros((2, 2)), np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="not positive definite"):
        Mixture([0.5, 0.5], np.zeros((2, 2)), np.stack([np.eye(2), -np.eye(2)]))
    with pytest.raises(ValueError, match="symmetric"):
        Mixture([1.0], np.zeros((1, 2)), [[[1.0, 0.5], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="shape"):
        Mixture([1.0], np.zeros((1, 2)), np.eye(2))


def test_nearest_centre_and_lloyd_reseeding():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    centers = rng.normal(size=(6, 3))
    XT = np.ascontiguousarray(X.T)
    brute = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
    np.testing.assert_array_equal(gmm._nearest(XT, centers), brute)
    # a centre that no point is nearest to gets re-seeded at the point farthest from its centre
    far_away = np.vstack([centers[:5], [[1e6, 1e6, 1e6]]])
    labels = gmm._lloyd(XT, far_away, gmm._nearest(XT, far_away))
    assert np.bincount(labels, minlength=6).min() > 0


def test_one_blas_thread_is_one_inside_and_restored_after_the_last_leaves():
    from threadpoolctl import threadpool_info, threadpool_limits

    from emviz import gmm

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    with threadpool_limits(2, user_api="blas"):  # a machine with two BLAS threads
        assert blas_threads() and all(t == 2 for t in blas_threads())
        outer, inner = gmm._one_blas_thread(), gmm._one_blas_thread()
        with outer:
            assert all(t == 1 for t in blas_threads())
            with inner:  # nested (the worker and the density thread overlap): still one
                assert all(t == 1 for t in blas_threads())
            assert all(t == 1 for t in blas_threads())  # the outer one is still inside
        assert all(t == 2 for t in blas_threads())


def test_data_checked_once_only_when_they_cannot_change():
    """The input checks are skipped for an array seen before only if nothing can change it."""
    from emviz import gmm

    frozen = np.random.default_rng(0).normal(size=(50, 2))
    frozen.setflags(write=False)
    gmm._check_data(frozen)
    assert gmm._CHECKED.get(frozen, False)

    writable = np.random.default_rng(1).normal(size=(50, 2))
    gmm._check_data(writable)
    writable[3, 1] = np.nan  # changed after a check: found by the next one
    with pytest.raises(ValueError, match="NaN"):
        gmm._check_data(writable)

    base = np.random.default_rng(2).normal(size=(50, 2))
    view = base.view()
    view.setflags(write=False)  # read-only, but its memory can still change through base
    gmm._check_data(view)
    assert not gmm._CHECKED.get(view, False)
    base[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        gmm._check_data(view)
    with pytest.raises(ValueError, match="column 'b'"):
        huge = np.array([[0.0, 1e300], [1.0, -1e300]])
        huge.setflags(write=False)
        gmm.check_scale(huge, ("a", "b"))  # a refusal is never remembered as a pass
    with pytest.raises(ValueError, match="column 'b'"):
        gmm.check_scale(huge, ("a", "b"))


def test_the_default_reg_covar_is_worked_out_once_only_for_points_that_cannot_change(monkeypatch):
    from emviz import gmm

    calls = []
    work = gmm._relative_reg_covar
    monkeypatch.setattr(gmm, "_relative_reg_covar", lambda X, scale: calls.append(scale) or work(X, scale))
    rng = np.random.default_rng(3)
    frozen = rng.normal(size=(300, 2))
    frozen.setflags(write=False)
    first = gmm.relative_reg_covar(frozen)
    assert gmm.relative_reg_covar(frozen) == first and calls == [1e-6]  # remembered
    assert gmm.relative_reg_covar(frozen, scale=1e-4) == pytest.approx(100 * first)  # per scale
    assert calls == [1e-6, 1e-4]

    writable = rng.normal(size=(300, 2))
    before = gmm.relative_reg_covar(writable)
    writable *= 10.0  # changed in place: worked out again, in the new units
    assert gmm.relative_reg_covar(writable) == pytest.approx(100 * before)

    base = rng.normal(size=(300, 2))
    view = base.view()
    view.setflags(write=False)  # read-only, but its memory changes through base
    before = gmm.relative_reg_covar(view)
    base *= 10.0
    assert gmm.relative_reg_covar(view) == pytest.approx(100 * before)
