"""Drawn data: random mixtures (:func:`generate`) and the built-in presets (:data:`PRESETS`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

import numpy as np

from emviz.data.dataset import (
    MAX_COMPONENTS,
    MAX_POINTS,
    MAX_SEPARATION,
    Dataset,
    check_count,
    check_seed,
)
from emviz.gmm import Mixture

GENERATE = "generate"  # the source name that draws a random mixture, as the window's Generate does
MAX_DIMENSIONS = 100  # of a generated mixture: its d x d covariances are drawn for every component

_WHY_POINTS = " (10 million 2-d points take about 1 GB once fitted)"
_WHY_COMPONENTS = " (each component is a cluster to see and to fit)"


def _sample(mixture: Mixture, n: int, rng, *, name: str, source: str, recipe: dict, origin: str,
            columns=None) -> Dataset:
    counts = rng.multinomial(n, mixture.weights)
    labels = np.repeat(np.arange(mixture.k), counts)
    z = rng.standard_normal((n, mixture.d))
    chol = np.linalg.cholesky(mixture.covariances)
    points = mixture.means[labels] + np.einsum("nij,nj->ni", chol[labels], z)
    order = rng.permutation(n)
    if columns is None:
        columns = ("x", "y") if mixture.d == 2 else tuple(f"x{i + 1}" for i in range(mixture.d))
    return Dataset(points[order], columns, name, source, labels[order], mixture, recipe=recipe, origin=origin)


def _check_n(n):
    return check_count(n, limit=MAX_POINTS, why=_WHY_POINTS)


def _spread_means(rng, k, d, separation):
    """k means in d dimensions, at least ``separation`` apart, drawn from ``rng``.

    First a few whole sets in a box (what emviz always did: the same points for the
    same seed), each try O(k^2) and the number of tries bounded so a large k stays
    fast; if none is spread enough, the means are placed one at a time, each drawn
    until it is far enough from those before (the box grows when it fills up).
    """
    box = max(separation, 1e-9) * (1.0 + k ** (1.0 / d))
    tries = max(1, min(2000, 2_000_000 // (k * k * d)))
    best, best_gap = None, -1.0
    for _ in range(tries):
        means = rng.uniform(-box / 2, box / 2, size=(k, d))
        gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
        np.fill_diagonal(gaps, np.inf)
        gap = gaps.min()
        if gap > best_gap:
            best, best_gap = means, gap
        if gap >= separation:
            return means
    means = np.empty((k, d))
    placed = 0
    while placed < k:
        candidates = rng.uniform(-box / 2, box / 2, size=(8, d))
        gaps = ((candidates[:, None] - means[None, :placed]) ** 2).sum(axis=-1)
        far = (gaps >= separation**2).all(axis=1)
        if far.any():
            means[placed] = candidates[np.argmax(far)]
            placed += 1
        else:
            box *= 1.1
    return means


def generate(n: int = 500, k: int = 3, *, d: int = 2, separation: float = 3.0, seed: int = 0) -> Dataset:
    """Sample ``n`` points from a random ``k``-component mixture in ``d`` dimensions.

    Each component has a randomly rotated covariance with standard deviations
    between 0.5 and 1; ``separation`` is the smallest distance between two means
    in those units (about 1: heavy overlap; 4 and more: clearly apart).
    """
    n = _check_n(n)
    seed = check_seed(seed)
    k = check_count(k, "the number of components", MAX_COMPONENTS, _WHY_COMPONENTS)
    d = check_count(d, "the number of dimensions", MAX_DIMENSIONS)
    if not (0 <= separation <= MAX_SEPARATION):
        raise ValueError(
            f"separation must be a number from 0 to {MAX_SEPARATION:g} standard deviations "
            f"(further apart, rounding erases the clusters' shape), got {separation!r}"
        )
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 5.0))
    rotations = np.linalg.qr(rng.standard_normal((k, d, d)))[0]
    variances = rng.uniform(0.25, 1.0, size=(k, d))
    covariances = np.einsum("kij,kj,klj->kil", rotations, variances, rotations)
    covariances = (covariances + covariances.transpose(0, 2, 1)) / 2
    mixture = Mixture(weights, _spread_means(rng, k, d, separation), covariances)
    name = f"generated: k={k}, separation {separation:g}, seed {seed}"
    recipe = {"n": n, "seed": seed, "true_k": int(k), "separation": float(separation)}
    return _sample(mixture, n, rng, name=name, source="generated", recipe=recipe, origin="generated")


@dataclass(frozen=True)
class Preset:
    """A built-in data set with a story to tell."""

    name: str
    description: str
    default_n: int | None  # None: a fixed data set
    make: Callable[[int, int], Dataset] = field(repr=False)
    # model settings the preset is meant to be shown with (the window applies them)
    suggested: dict = field(default_factory=dict)
    equal_axes: bool = True  # False when the columns are in different units

    def __call__(self, n: int | None = None, seed: int = 0) -> Dataset:
        return self.make(_check_n(n) if n is not None else self.default_n, check_seed(seed))


def _asset(name):
    """A data file shipped inside the package (works from a wheel, not only a checkout)."""
    return resources.files("emviz").joinpath("assets", name)


def _rotated(sd_major, sd_minor, degrees):
    t = math.radians(degrees)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return r @ np.diag([sd_major**2, sd_minor**2]) @ r.T


def _mixture_preset(name, mixture):
    def make(n, seed):
        return _sample(mixture, n, np.random.default_rng(seed), name=name, source=f"preset '{name}'",
                       recipe={"n": n, "seed": seed}, origin="preset")

    return make


def _article_mixture():
    table = json.loads(_asset("article_results.json").read_text(encoding="utf-8"))
    weights = np.asarray(table["weights"])
    return Mixture(weights / weights.sum(), table["means"], table["covariances"])


def _old_faithful(n, seed):
    from emviz.data.csvfile import read_csv_table

    with resources.as_file(_asset("old_faithful.csv")) as real_path:
        table = read_csv_table(real_path)
    dataset = table.dataset()
    return Dataset(dataset.points, dataset.columns, "old-faithful", "preset 'old-faithful'", origin="preset")


def _presets():
    presets = [
        Preset(
            "article",
            "The article's three Gaussians (its Results table), roughly equal weights",
            600,
            lambda n, seed: _mixture_preset("article", _article_mixture())(n, seed),
            # the article's own run: random start, tolerance 1e-7 (seed 1 finds the article's
            # solution in 42 iterations; seeds 0 and 3 end in a local optimum)
            suggested={"k": 3, "init": "random", "tol": 1e-7, "seed": 1},
        ),
        Preset(
            "old-faithful",
            "Old Faithful geyser: eruption length (min) and waiting time (min), 272 eruptions",
            None,
            _old_faithful,
            suggested={"k": 2},
            equal_axes=False,
        ),
        Preset(
            "overlapping",
            "Three components that overlap heavily: EM needs many iterations to separate them",
            600,
            _mixture_preset(
                "overlapping",
                Mixture(
                    [0.35, 0.35, 0.3],
                    [[0.0, 0.0], [1.6, 0.6], [0.7, 1.7]],
                    [_rotated(0.9, 0.6, 20), _rotated(0.8, 0.6, -40), _rotated(0.7, 0.5, 80)],
                ),
            ),
            suggested={"k": 3},
        ),
        Preset(
            "elongated",
            "Long thin rotated clusters: full covariances fit, spherical ones cannot",
            600,
            _mixture_preset(
                "elongated",
                Mixture(
                    [0.34, 0.33, 0.33],
                    [[0.0, 0.0], [3.0, 3.5], [6.0, 0.5]],
                    [_rotated(2.2, 0.25, 35), _rotated(2.0, 0.2, -30), _rotated(1.8, 0.3, 85)],
                ),
            ),
            suggested={"k": 3},
        ),
        Preset(
            "unequal-weights",
            "A big cluster and two small ones (weights 0.80, 0.15, 0.05)",
            800,
            _mixture_preset(
                "unequal-weights",
                Mixture(
                    [0.80, 0.15, 0.05],
                    [[0.0, 0.0], [4.0, 1.5], [1.0, 4.5]],
                    [_rotated(1.4, 1.0, 10), _rotated(0.6, 0.4, 60), _rotated(0.4, 0.3, 0)],
                ),
            ),
            suggested={"k": 3},
        ),
        Preset(
            "cross",
            "Two clusters with the same mean crossing at right angles: k-means cannot split them, EM can",
            600,
            _mixture_preset(
                "cross",
                Mixture(
                    [0.5, 0.5],
                    [[0.0, 0.0], [0.0, 0.0]],
                    [_rotated(2.5, 0.3, 45), _rotated(2.5, 0.3, -45)],
                ),
            ),
            # seed 0 (and 5) of k-means++ starts one component on the crossing and ends in a
            # 0.94/0.06 local optimum; seed 1 separates the two arms in 14 iterations
            suggested={"k": 2, "seed": 1},
        ),
    ]
    return {p.name: p for p in presets}


PRESETS: dict[str, Preset] = _presets()
