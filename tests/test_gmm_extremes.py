"""Extreme scales: fitted right, or refused with a true message; never a numpy warning."""

import warnings

import numpy as np
import pytest

from emviz import gmm


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 6])


def fit_default(X, k=2):
    return gmm.fit(X, k, reg_covar=gmm.relative_reg_covar(X))


@pytest.mark.parametrize(
    "X, message",
    [
        (blobs() * 1e160, r"column 0 spreads over 1.1\de\+161: squares of that overflow float64.*divide that column by 1e161"),
        (blobs() * 1e-160, r"column 0 spreads over only 1.\d+e-159: .*multiply that column by 1e159"),
        (np.random.default_rng(1).normal(size=(100, 2)) * 1e-300, r"spreads over only .*e-300.*multiply that column by 1e"),
        (np.column_stack([blobs()[:, 0], np.full(200, 1e300)]), r"column 1 holds values as large as 1e\+300.*divide that column by 1e300"),
    ],
    ids=["1e160", "1e-160", "1e-300", "value-1e300"],
)
def test_out_of_range_data_are_refused_with_what_to_do(X, message):
    for call in (lambda: gmm.relative_reg_covar(X), lambda: gmm.fit(X, 2), lambda: gmm.Evaluator(X)):
        with pytest.raises(ValueError, match=message):
            call()


def test_the_largest_and_smallest_scales_fit_exactly_as_unit_data():
    X = blobs()
    reference = fit_default(X)
    for power in (465, -465):  # 2**465 is about 1e140: dividing by a power of two is exact
        factor = 2.0**power
        scaled = fit_default(X * factor)
        assert gmm.relative_reg_covar(X * factor) == gmm.relative_reg_covar(X) * factor**2
        np.testing.assert_allclose(scaled.mixture.means / factor, reference.mixture.means, rtol=1e-12)
        np.testing.assert_allclose(scaled.mixture.covariances / factor**2, reference.mixture.covariances, rtol=1e-12)
        np.testing.assert_allclose(scaled.mixture.weights, reference.mixture.weights, rtol=1e-12)
        assert scaled.log_likelihood == pytest.approx(reference.log_likelihood - 2 * power * np.log(2.0), rel=1e-12)


def test_a_constant_column_far_away_fits_like_a_near_one():
    base = blobs()[:, :1]
    near = fit_default(np.column_stack([base, np.full(200, 5.0)]))
    far = fit_default(np.column_stack([base, np.full(200, 1e30)]))
    np.testing.assert_array_equal(far.mixture.means[:, 1], 1e30)
    np.testing.assert_allclose(far.mixture.means[:, 0], near.mixture.means[:, 0], rtol=1e-12)
    np.testing.assert_allclose(far.mixture.covariances, near.mixture.covariances, rtol=1e-10)
    assert far.collapsed == ()


def test_data_a_billion_spreads_from_the_origin_fit():
    X = blobs() * 1e-3 + 1e9
    result = gmm.fit(X, 2, reg_covar=gmm.relative_reg_covar(X), tol=1e-12)
    near = (X - 1e9) * 1e3  # the same (rounded) points, near the origin in unit spreads
    reference = gmm.fit(near, 2, reg_covar=gmm.relative_reg_covar(near), tol=1e-12)
    ulp = np.spacing(1e9) * 1e3  # a mean near 1e9 is held to this, in unit spreads
    np.testing.assert_allclose((result.mixture.means - 1e9) * 1e3, reference.mixture.means, rtol=0, atol=ulp)
    np.testing.assert_allclose(result.mixture.covariances * 1e6, reference.mixture.covariances, rtol=1e-6)


def test_distinct_points_are_counted_exactly():
    # 1e-300 apart at unit scale: their squared distance rounds to 0, the points still differ
    corners = np.repeat(np.eye(2), 10, axis=0)
    X = np.concatenate([corners, corners + 1e-300])
    with pytest.raises(ValueError, match="only 4 distinct points; decrease k"):
        gmm.fit(X, 5)
    result = gmm.fit(X, 3, reg_covar=gmm.relative_reg_covar(X))
    assert np.all(np.isfinite(result.mixture.covariances))
    assert gmm.relative_reg_covar(X) >= 1e-30  # never below the rounding level of the data's extent
