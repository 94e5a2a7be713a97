"""Presets keep their promise: the policy that applies them, and every README claim about them.

The claims are checked with the settings the window applies (``preset_settings``),
so a change of a preset's data or suggestions that breaks a sentence of the README
fails here.
"""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from emviz.data import PRESETS, generate
from emviz.preset_policy import leaving_preset, preset_name, preset_settings, settings_for_new_data
from emviz.session import Settings


def fit_preset(name, **changes):
    dataset = PRESETS[name]()
    return dataset, preset_settings(name).replace(**changes).fit(dataset)


# --------------------------------------------------------------------------- the policy


def test_a_preset_brings_every_setting_of_its_recipe():
    experimented = Settings(k=5, covariance="diag", init="random-points", seed=9, tol=1e-2, max_iter=7)
    assert preset_settings("cross", experimented) == Settings(k=2, seed=1)
    assert preset_settings("article", experimented) == Settings(k=3, init="random", tol=1e-7, seed=1)
    # the regularisation is not part of a recipe: it stays
    assert preset_settings("overlapping", Settings(reg_covar=1e-3)).reg_covar == 1e-3


def test_leaving_a_preset_withdraws_only_what_it_suggested_and_the_user_kept():
    article = preset_settings("article")
    assert leaving_preset("article", article) == Settings(k=3)
    chosen = article.replace(k=4, init="kmeans", covariance="tied")
    assert leaving_preset("article", chosen) == Settings(k=4, init="kmeans", covariance="tied", tol=1e-6, seed=0)


def test_settings_for_new_data_follow_where_the_data_come_from():
    article, cross = PRESETS["article"](), PRESETS["cross"]()
    generated = generate(100, 2, seed=0)
    mine = Settings(k=4, covariance="diag", init="random", tol=1e-7, seed=1)
    assert preset_name(article) == "article" and preset_name(generated) is None
    assert settings_for_new_data(article, cross, mine) == preset_settings("cross")
    # the same preset drawn again (other points, other seed) keeps what the user chose
    assert settings_for_new_data(article, PRESETS["article"](900, 3), mine) == mine
    assert settings_for_new_data(article, generated, mine) == Settings(k=4, covariance="diag")
    assert settings_for_new_data(generated, generate(50, 2, seed=1), mine) == mine


# --------------------------------------------------------------------------- README's claims


def test_article_converges_in_42_iterations_from_seed_1():
    _, result = fit_preset("article")
    assert preset_settings("article") == Settings(k=3, init="random", tol=1e-7, seed=1)
    assert result.converged and result.n_iter == 42
    assert result.history[-1].log_likelihood == pytest.approx(-4.046, abs=5e-4)


@pytest.mark.parametrize("seed", [0, 3])
def test_article_seeds_0_and_3_end_in_the_local_optimum(seed):
    _, result = fit_preset("article", seed=seed)
    assert result.converged
    assert result.history[-1].log_likelihood == pytest.approx(-4.506, abs=5e-4)


def test_old_faithful_finds_two_clusters_in_5_iterations():
    _, result = fit_preset("old-faithful")
    assert result.converged and result.n_iter == 5
    np.testing.assert_allclose(np.sort(result.mixture.weights), [0.356, 0.644], atol=1e-3)


def test_cross_is_separated_by_em_and_not_by_k_means():
    dataset, result = fit_preset("cross")
    assert result.converged
    np.testing.assert_allclose(result.mixture.weights, [0.5, 0.5], atol=0.05)
    # each component lies along one arm: its long axis within 10 degrees of +-45 degrees
    for cov in result.mixture.covariances:
        values, vectors = np.linalg.eigh(cov)
        angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1])) % 180
        assert min(abs(angle - 45), abs(angle - 135)) < 10
        assert values[-1] > 20 * values[0]
    assert adjusted_rand_score(dataset.labels, result.labels) > 0.6
    kmeans = KMeans(2, n_init=10, random_state=0).fit_predict(dataset.points)
    assert adjusted_rand_score(dataset.labels, kmeans) < 0.05


def test_elongated_needs_full_covariances():
    dataset, full = fit_preset("elongated")
    _, spherical = fit_preset("elongated", covariance="spherical")
    assert adjusted_rand_score(dataset.labels, full.labels) > 0.9
    assert adjusted_rand_score(dataset.labels, spherical.labels) < 0.75
    assert spherical.bic > full.bic + 500


def test_overlapping_needs_many_iterations():
    _, overlapping = fit_preset("overlapping")
    _, elongated = fit_preset("elongated")
    assert overlapping.converged and overlapping.n_iter > 100 > 10 > elongated.n_iter


def test_unequal_weights_are_recovered():
    _, result = fit_preset("unequal-weights")
    np.testing.assert_allclose(np.sort(result.mixture.weights), [0.05, 0.15, 0.80], atol=0.03)
