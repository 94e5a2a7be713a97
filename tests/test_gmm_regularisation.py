"""The default regularisation keeps the answer: far clusters, outliers, small units, one-point components."""

import re

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


def test_one_dimension_a_million_standard_deviations_apart():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(500, 1)), rng.normal(size=(500, 1)) * 2.0 + 1e6
    X = np.concatenate([a, b])
    result = gmm.fit(X, 2, reg_covar=gmm.relative_reg_covar(X), tol=1e-10)
    assert_components_are(result, [a, b])


def test_tied_values_on_an_integer_grid_keep_a_regularisation():
    # most nearest-neighbour gaps are 0 (repeated grid points) or 0 in one column: only the
    # non-zero gaps of distinct points count, so the rule does not vanish
    rng = np.random.default_rng(5)
    grid = rng.integers(0, 20, size=(3000, 2)).astype(float)
    assert gmm.relative_reg_covar(grid) == pytest.approx(1e-6)  # the grid's step, 1, squared, times 1e-6
    assert gmm.relative_reg_covar(grid * 0.5 + 3) == pytest.approx(0.25e-6)
    counts = np.column_stack([rng.integers(0, 4, 3000), rng.normal(size=3000)])  # one column of counts
    assert 0 < gmm.relative_reg_covar(counts) < 1e-9
    # a cluster whose points all share one value of a column: its variance there is reg_covar, said
    tied = np.concatenate([rng.normal(size=(300, 2)), np.column_stack([np.full(100, 8.0), rng.normal(size=100)])])
    result = gmm.fit(tied, 2, reg_covar=gmm.relative_reg_covar(tied), tol=1e-10)
    flat = int(np.argmin(np.abs(result.mixture.means[:, 0] - 8.0)))
    assert result.mixture.covariances[flat, 0, 0] == pytest.approx(gmm.relative_reg_covar(tied), rel=1e-6)
    assert flat in result.collapsed


def test_duplicated_points_do_not_make_a_component_singular():
    rng = np.random.default_rng(6)
    copies = np.repeat([[0.0, 0.0], [5.0, 5.0], [9.0, 1.0]], 200, axis=0)
    X = np.concatenate([copies, rng.normal(size=(60, 2)) * 3])
    reg = gmm.relative_reg_covar(X)
    result = gmm.fit(X, 4, reg_covar=reg)
    smallest = np.linalg.eigvalsh(result.mixture.covariances)[:, 0]
    on_copies = [int(np.argmin(np.linalg.norm(result.mixture.means - p, axis=1))) for p in copies[::200]]
    np.testing.assert_allclose(smallest[on_copies], reg, rtol=1e-6)  # each sits on its copies, at the floor
    assert np.all(smallest > 0) and np.isfinite(result.log_likelihood)
    assert sorted(result.collapsed) == sorted(on_copies)


def test_a_reg_covar_that_swamps_the_data_is_said():
    a, b = two_unit_clusters(8.0)
    X = np.concatenate([a, b])
    thinnest = min(np.linalg.eigvalsh(sample_covariance(c))[0] for c in (a, b))  # about 0.53
    for reg in (1e300, 1e3, 0.05, 0.01):
        step = gmm.fit(X, 2, reg_covar=reg).history[-1]
        share = reg / (thinnest + reg)  # the fitted covariance is the scatter plus reg_covar
        said = "100" if share > 0.9995 else f"{100 * share:.3g}"
        warning = gmm.regularisation_warning(step, reg, X)
        assert warning == (f"reg_covar {reg:.3g} is {said}% of a fitted component's variance: "
                           "the regularisation, not the data, sets the covariances")
    for reg in (1e-4, gmm.relative_reg_covar(X)):
        assert gmm.regularisation_warning(gmm.fit(X, 2, reg_covar=reg).history[-1], reg, X) == ""


def test_degenerate_data_do_not_raise_the_warning():
    rng = np.random.default_rng(7)
    t = rng.normal(size=300)
    line = np.column_stack([t, 2 * t + 1])  # across the line the regularisation is all there is
    constant = np.column_stack([t, np.full(300, 4.0)])
    for X in (line, constant):
        reg = gmm.relative_reg_covar(X)
        step = gmm.fit(X, 2, reg_covar=reg).history[-1]
        assert gmm.regularisation_warning(step, reg, X) == ""
        assert gmm.regularisation_warning(step, 1.0, X) != ""  # a unit reg_covar on unit data still is


def test_the_window_status_says_it_when_the_run_ends():
    from emviz.data import Dataset
    from emviz.session import Session

    X = np.concatenate(two_unit_clusters(8.0))
    dataset = Dataset(X, ("x", "y"), "two", "two.csv", origin="csv")
    session = Session(dataset, Settings(k=2, reg_covar=1e3))
    assert "reg_covar" not in session.state()  # at the start nothing is fitted yet
    for step in session.steps:
        session.append(step)
    assert session.state().startswith("converged after")
    assert "; reg_covar 1e+03 is 99.9% of a fitted component's variance" in session.state()
    assert session.state().endswith("use a smaller reg_covar, or the default "
                                    f"({gmm.relative_reg_covar(X):.3g} for these data)")
    quiet = Session(dataset, Settings(k=2))
    for step in quiet.steps:
        quiet.append(step)
    assert quiet.state().startswith("converged after") and "reg_covar" not in quiet.state()


def test_a_tight_cluster_among_wide_ones_is_beyond_the_default_and_said():
    # the rule's limit: a tenth of the points 1e4 times tighter than the rest sets few of the
    # nearest-neighbour gaps, so the default is 2 % of that cluster's variance: said, not silent
    rng = np.random.default_rng(0)
    wide, tight = rng.normal(size=(3600, 2)), rng.normal(size=(400, 2)) * 1e-4 + [3.0, 3.0]
    X = np.concatenate([wide, tight])
    settings = Settings(k=2)
    result = gmm.fit(X, 2, reg_covar=settings.reg_covar_for(X), tol=1e-10)
    said = settings.regularisation_warning(result.history[-1], X)
    assert re.fullmatch(r"reg_covar 2\.\d+e-10 is 2\.\d+% of a fitted component's variance: the regularisation, "
                        r"not the data, sets the covariances; the data hold clusters far tighter than most of their "
                        r"points: set a smaller reg_covar", said), said
    given = Settings(k=2, reg_covar=1e-14)  # what the warning asks for: the covariances are right
    result = gmm.fit(X, 2, reg_covar=1e-14, tol=1e-10)
    assert_components_are(result, [wide, tight])
    assert given.regularisation_warning(result.history[-1], X) == ""


def _kdtree_nearest(units):
    from scipy.spatial import cKDTree

    return cKDTree(units).query(units, k=2)[1][:, 1]


@pytest.mark.parametrize("shape", ["normal", "tight clusters", "d=5", "two points"])
def test_nearest_neighbours_without_scipy_are_cKDTrees(shape):
    """The default reg_covar's nearest neighbours of a small sample are found without scipy
    (the window's start does not import it): the same rows as scipy's cKDTree."""
    rng = np.random.default_rng(7)
    units = {
        "normal": rng.standard_normal((600, 2)),
        "tight clusters": np.concatenate([rng.standard_normal((200, 2)) * 1e-6 + c for c in ((0, 0), (5, 1), (1, 5))]),
        "d=5": rng.standard_normal((300, 5)),
        "two points": np.array([[0.0, 0.0], [1.0, 2.0]]),
    }[shape]
    nearest = gmm._nearest_by_all_pairs(units)
    assert nearest is not None
    np.testing.assert_array_equal(nearest, _kdtree_nearest(units))


def test_nearest_neighbours_leave_ties_to_cKDTree(monkeypatch):
    """On a grid every point has several nearest neighbours at one distance: which one counts
    is cKDTree's rule, so the search by all pairs gives up and the default reg_covar is the one
    cKDTree gives, as it was before the search by all pairs existed."""
    grid = np.stack(np.meshgrid(np.arange(30.0), np.arange(20.0) * 0.5), axis=-1).reshape(-1, 2)
    assert gmm._nearest_by_all_pairs(grid) is None
    np.testing.assert_array_equal(gmm._nearest_neighbours(grid), _kdtree_nearest(grid))

    points = np.random.default_rng(3).permutation(grid) * [2.0, 3.0]
    got = gmm.relative_reg_covar(points.copy())
    monkeypatch.setattr(gmm, "_nearest_by_all_pairs", lambda units: None)  # always cKDTree
    assert gmm.relative_reg_covar(points.copy()) == got


@pytest.mark.parametrize("n", [50, 600, 1400])
def test_default_reg_covar_is_the_same_with_or_without_the_search_by_all_pairs(n, monkeypatch):
    a, b = two_unit_clusters(8.0, n=n // 2, seed=n)
    X = np.concatenate([a * [1e3, 1.0], b * [1e3, 1.0] + 1e6])
    assert n * n * 2 <= gmm._PAIRS_AT_MOST  # the sample is searched by all pairs
    got = gmm.relative_reg_covar(X.copy())
    monkeypatch.setattr(gmm, "_nearest_by_all_pairs", lambda units: None)
    assert gmm.relative_reg_covar(X.copy()) == got
