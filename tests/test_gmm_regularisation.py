"""The default regularisation keeps the answer: far clusters, outliers, small units, one-point components."""

import numpy as np
import pytest

from emviz import gmm
from emviz.session import Settings


def two_unit_clusters(separation, n=400, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 2)) @ np.array([[1.0, 0.3], [0.0, 0.8]])
    b = rng.normal(size=(n, 2)) + [separation, 0.0]
    return a, b


def sample_covariance(points):
    centred = points - points.mean(axis=0)
    return centred.T @ centred / len(points)


def assert_components_are(result, clusters, rtol=0.01):
    """Each cluster is fitted by one component with its own (maximum-likelihood) covariance."""
    for cluster in clusters:
        i = int(np.argmin(np.linalg.norm(result.mixture.means - cluster.mean(axis=0), axis=1)))
        expected = sample_covariance(cluster)
        np.testing.assert_allclose(
            result.mixture.covariances[i], expected, rtol=rtol, atol=rtol * np.abs(expected).max()
        )


@pytest.mark.parametrize("separation", [10.0, 1e3, 1e4, 1e6])
def test_far_apart_clusters_keep_their_covariances(separation):
    a, b = two_unit_clusters(separation)
    X = np.concatenate([a, b])
    reg = gmm.relative_reg_covar(X)
    assert reg < 1e-6  # set by the spread within the clusters, not by the distance between them
    result = gmm.fit(X, 2, reg_covar=reg, tol=1e-10)
    assert_components_are(result, [a, b])
    assert result.collapsed == ()


def test_a_far_outlier_does_not_inflate_the_regularisation():
    a, b = two_unit_clusters(8.0)
    X = np.concatenate([a, b, [[1e6, 0.5]]])
    clean = gmm.relative_reg_covar(np.concatenate([a, b]))
    assert gmm.relative_reg_covar(X) == pytest.approx(clean, rel=0.5)
    result = gmm.fit(X, 3, reg_covar=gmm.relative_reg_covar(X), tol=1e-10)
    assert_components_are(result, [a, b])
    outlier = int(np.argmin(np.linalg.norm(result.mixture.means - [1e6, 0.5], axis=1)))
    assert result.collapsed == (outlier,)  # said, not hidden
    assert np.all(np.linalg.eigvalsh(result.mixture.covariances) > 0)


def test_data_in_small_units_keep_their_covariances():
    a, b = two_unit_clusters(6.0)
    small_a, small_b = a * 1e-4, b * 1e-4
    X = np.concatenate([small_a, small_b])
    assert gmm.relative_reg_covar(X) == pytest.approx(gmm.relative_reg_covar(X * 1e4) * 1e-8, rel=1e-6)
    result = gmm.fit(X, 2, reg_covar=gmm.relative_reg_covar(X), tol=1e-12)
    assert_components_are(result, [small_a, small_b])


def test_a_component_on_one_point_stays_regular():
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(size=(300, 2)), [[40.0, 40.0]]])
    reg = gmm.relative_reg_covar(X)
    start = gmm.Mixture([0.6, 0.39, 0.01], [[0.0, 0.0], [0.5, 0.5], [40.0, 40.0]], [np.eye(2)] * 3)
    last = list(gmm.em(X, start, tol=1e-8, reg_covar=reg))[-1]
    assert reg > 0
    np.testing.assert_allclose(last.mixture.covariances[2], reg * np.eye(2), rtol=1e-6)
    assert np.linalg.eigvalsh(last.mixture.covariances).min() > 0
    assert np.isfinite(last.log_likelihood)
    assert 2 in last.collapsed


def test_duplicates_and_constant_columns_are_ignored_and_the_rule_is_deterministic():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    duplicated = np.concatenate([X, X, X])
    assert gmm.relative_reg_covar(duplicated) == gmm.relative_reg_covar(X)
    with_constant = np.column_stack([X, np.full(200, 7.0)])
    assert gmm.relative_reg_covar(with_constant) == pytest.approx(gmm.relative_reg_covar(X), rel=0.5)
    assert gmm.relative_reg_covar(np.full((10, 2), 3.0)) == 1e-6  # nothing to measure: the absolute default
    big = rng.normal(size=(50_000, 2))
    assert gmm.relative_reg_covar(big) == gmm.relative_reg_covar(big)
    assert 0 < gmm.relative_reg_covar(big) < 1e-6


def test_settings_use_the_rule():
    X = np.concatenate(two_unit_clusters(1e4))
    assert Settings().reg_covar_for(X) == gmm.relative_reg_covar(X)
    assert Settings(reg_covar=0.5).reg_covar_for(X) == 0.5
