"""The EM engine for Gaussian mixtures: pure numpy/scipy, no Qt, no I/O.

The iteration is built around sufficient statistics. With the data centred on
their mean and expanded into the features ``phi(x) = [1, x_1..x_d, x_i x_j (i <= j)]``,

* the E-step's weighted log-densities of every component are one matrix product
  ``coef @ phi(X)`` (the quadratic form of each Gaussian is linear in ``phi``),
  followed by a log-sum-exp over the components;
* the M-step needs only ``S = resp @ phi(X).T``, shape (k, m): its column 0 is
  ``Nk``, columns 1..d are ``sum r x`` and the rest ``sum r x x^T``.

Both products run chunk by chunk, so memory stays a small multiple of the data,
and the statistics of chunks (or of machines) simply add up.

Same start, same data, same settings: :func:`em` follows scikit-learn's
``GaussianMixture`` (``lower_bounds_``, ``means_``, ``covariances_``,
``weights_``) to rounding error.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from scipy.linalg import solve_triangular

__all__ = [
    "COVARIANCE_TYPES",
    "INIT_METHODS",
    "EMStep",
    "Evaluator",
    "FitResult",
    "Mixture",
    "em",
    "fit",
    "initialize",
    "log_likelihood",
    "n_parameters",
    "relative_reg_covar",
    "responsibilities",
]

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
INIT_METHODS = ("kmeans++", "kmeans", "random-points", "random")

_EPS10 = 10 * np.finfo(np.float64).eps  # scikit-learn's guard against empty components
_LOG_2PI = math.log(2 * math.pi)
_CHUNK_ELEMENTS = 1 << 18  # points per chunk * k: every temporary stays at about 2 MB
_COLLAPSE_HINT = "decrease k, increase reg_covar or rescale the data"


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Mixture:
    """A Gaussian mixture: immutable, validated on construction.

    Parameters
    ----------
    weights : array of shape (k,)
        Mixing proportions, non-negative, summing to 1.
    means : array of shape (k, d)
    covariances : array of shape (k, d, d)
        Symmetric positive definite, one full matrix per component whatever the
        covariance type that produced them, so every consumer can draw them.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    _cholesky: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        weights = _frozen(self.weights)
        means = _frozen(self.means)
        covariances = _frozen(self.covariances)
        if means.ndim != 2:
            raise ValueError(f"means must have shape (k, d), got {means.shape}")
        k, d = means.shape
        if k < 1 or d < 1:
            raise ValueError(f"a mixture needs k >= 1 components in d >= 1 dimensions, got {means.shape}")
        if weights.shape != (k,):
            raise ValueError(f"weights must have shape ({k},), got {weights.shape}")
        if covariances.shape != (k, d, d):
            raise ValueError(f"covariances must have shape ({k}, {d}, {d}), got {covariances.shape}")
        for name, a in (("weights", weights), ("means", means), ("covariances", covariances)):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name} contain NaN or infinite values")
        if np.any(weights < 0) or abs(weights.sum() - 1.0) > 1e-8:
            raise ValueError(f"weights must be non-negative and sum to 1, got {weights.tolist()}")
        scale = np.abs(covariances).max(axis=(1, 2), keepdims=True)
        if np.any(np.abs(covariances - covariances.transpose(0, 2, 1)) > 1e-10 * scale):
            raise ValueError("covariances must be symmetric")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "covariances", covariances)
        object.__setattr__(self, "_cholesky", _frozen(_cholesky(covariances)))

    @property
    def k(self) -> int:
        """Number of components."""
        return self.means.shape[0]

    @property
    def d(self) -> int:
        """Dimension of the data."""
        return self.means.shape[1]

    def to_dict(self) -> dict:
        """Plain lists, for JSON."""
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
        }


@dataclass(frozen=True, eq=False)
class EMStep:
    """One snapshot of an EM run.

    ``iteration`` 0 is the start; ``iteration`` i is the mixture after i M-steps.
    ``log_likelihood`` is the mean log-likelihood per point of ``mixture``;
    ``delta`` its change from the previous step (NaN at iteration 0).
    """

    iteration: int
    mixture: Mixture
    log_likelihood: float
    delta: float
    converged: bool


@dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of :func:`fit`."""

    mixture: Mixture
    history: tuple
    n_iter: int
    converged: bool
    labels: np.ndarray
    bic: float
    aic: float

    @property
    def log_likelihood(self) -> float:
        """Mean log-likelihood per point of the final mixture."""
        return self.history[-1].log_likelihood


# --------------------------------------------------------------------------- linear algebra


def _cholesky(covariances):
    """Lower Cholesky factors of (k, d, d) covariances, with an error naming the component."""
    try:
        return np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        for i, cov in enumerate(covariances):
            try:
                np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"the covariance of component {i} is not positive definite; {_COLLAPSE_HINT}"
                ) from None
        raise


def _n_features(d):
    return 1 + d + d * (d + 1) // 2


def _features(X, center):
    """phi(X - center), shape (m, n) with m = 1 + d + d(d+1)/2: rows 1, x_i, x_i x_j (i <= j).

    One row per feature: reductions over the components and products with the
    responsibilities then run along contiguous memory, and no (n, d) temporary is made.
    """
    n, d = X.shape
    out = np.empty((_n_features(d), n))
    out[0] = 1.0
    np.subtract(X.T, center[:, None], out=out[1 : 1 + d])
    for row, (i, j) in enumerate(zip(*np.triu_indices(d)), start=1 + d):
        np.multiply(out[1 + i], out[1 + j], out=out[row])
    return out


def _log_prob_coefficients(mixture, center):
    """The (k, m) matrix ``coef`` with ``coef @ phi(x - center) = log(w_k N(x | mu_k, S_k))``."""
    k, d = mixture.k, mixture.d
    inv_chol = np.stack([solve_triangular(L, np.eye(d), lower=True) for L in mixture._cholesky])
    precisions = inv_chol.transpose(0, 2, 1) @ inv_chol  # (k, d, d)
    log_det = 2.0 * np.log(np.diagonal(mixture._cholesky, axis1=1, axis2=2)).sum(axis=1)
    m = mixture.means - center  # (k, d)
    pm = np.einsum("kij,kj->ki", precisions, m)  # (k, d)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 is a log-density of -inf
        log_w = np.log(mixture.weights)
    coef = np.empty((k, _n_features(d)))
    coef[:, 0] = log_w - 0.5 * (d * _LOG_2PI + log_det + np.einsum("ki,ki->k", m, pm))
    coef[:, 1 : 1 + d] = pm
    iu, ju = np.triu_indices(d)
    quad = -precisions[:, iu, ju]  # off-diagonal terms appear twice in x^T P x
    quad[:, iu == ju] *= 0.5
    coef[:, 1 + d :] = quad
    return coef


def _log_normalize(weighted_log_prob):
    """In place: turn (k, c) weighted log-densities into responsibilities; return log p(x), (c,).

    Log-sum-exp over the components (axis 0: k element-wise passes over contiguous rows).
    """
    top = weighted_log_prob.max(axis=0)
    np.subtract(weighted_log_prob, top, out=weighted_log_prob)
    np.exp(weighted_log_prob, out=weighted_log_prob)
    total = weighted_log_prob.sum(axis=0)
    weighted_log_prob /= total
    return top + np.log(total)


_BLAS = None


def _one_blas_thread():
    """Run the E-step's products on one BLAS thread.

    They are thin, (k x m) by (m x chunk) with m = 6 for d = 2, and OpenBLAS's
    threads cost more than they give: measured on 2 cores at n = 1e4, k = 10,
    20 ms per iteration with two threads against 2.5 ms with one (and 280 ms
    against 200 ms at n = 1e6). It also leaves a window's GUI thread a core.
    """
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            return contextlib.nullcontext()
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def _chunks(n, k):
    step = max(1024, _CHUNK_ELEMENTS // max(k, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


# --------------------------------------------------------------------------- E-step and M-step


def _e_step(features, coef):
    """Sufficient statistics and the mean log-likelihood, chunk by chunk.

    Parameters
    ----------
    features : array of shape (m, n)
        phi of the centred data.
    coef : array of shape (k, m)

    Returns
    -------
    stats : array of shape (k, m)
        ``resp.T @ features.T``: Nk, sum r x and sum r x x^T.
    mean_log_likelihood : float
    """
    m, n = features.shape
    k = coef.shape[0]
    stats = np.zeros((k, m))
    total = 0.0
    for rows in _chunks(n, k):
        block = features[:, rows]
        resp = coef @ block
        total += _log_normalize(resp).sum()
        stats += resp @ block.T
    return stats, total / n


class Evaluator:
    """E-steps on the same points again and again: the centred features are built once.

    :func:`em` runs on one; a window redrawing responsibilities at screen rate keeps one too.

    Parameters
    ----------
    X : array of shape (n, d)
    """

    def __init__(self, X):
        X = _check_data(X)
        self.n, self.d = X.shape
        self.center = X.mean(axis=0)
        self.features = _features(X, self.center)  # (m, n)

    def _coefficients(self, mixture):
        if mixture.d != self.d:
            raise ValueError(f"X has {self.d} columns but the mixture is {mixture.d}-dimensional")
        return _log_prob_coefficients(mixture, self.center)

    def statistics(self, mixture):
        """Sufficient statistics, shape (k, m), and the mean log-likelihood of ``mixture``."""
        coef = self._coefficients(mixture)
        with _one_blas_thread():
            return _e_step(self.features, coef)

    def responsibilities(self, mixture, *, transposed=False, rows=None) -> np.ndarray:
        """Posterior probabilities, shape (n, k), or (k, n) with ``transposed=True``.

        ``rows`` (indices) limits them to those points.
        """
        coef = self._coefficients(mixture)
        features = self.features if rows is None else self.features[:, rows]
        n = features.shape[1]
        out = np.empty((mixture.k, n))
        with _one_blas_thread():
            for chunk in _chunks(n, mixture.k):
                block = coef @ features[:, chunk]
                _log_normalize(block)
                out[:, chunk] = block
        return out if transposed else np.ascontiguousarray(out.T)


def _scatter(stats, d):
    """Per-component weighted scatter about the new means, from the statistics.

    Returns nk (k,), means (k, d) in centred coordinates, scatter (k, d, d) = sum r (x - mu)(x - mu)^T.
    """
    k = stats.shape[0]
    resp_sum = stats[:, 0]
    nk = resp_sum + _EPS10
    sum_x = stats[:, 1 : 1 + d]
    means = sum_x / nk[:, None]
    iu, ju = np.triu_indices(d)
    sum_xx = np.empty((k, d, d))
    sum_xx[:, iu, ju] = stats[:, 1 + d :]
    sum_xx[:, ju, iu] = stats[:, 1 + d :]
    cross = sum_x[:, :, None] * means[:, None, :]
    scatter = (
        sum_xx
        - cross
        - cross.transpose(0, 2, 1)
        + resp_sum[:, None, None] * (means[:, :, None] * means[:, None, :])
    )
    return nk, means, scatter


def _covariances_full(nk, scatter, reg_covar):
    cov = scatter / nk[:, None, None]
    return _add_to_diagonal(cov, reg_covar)


def _covariances_diag(nk, scatter, reg_covar):
    d = scatter.shape[1]
    variances = np.diagonal(scatter, axis1=1, axis2=2) / nk[:, None] + reg_covar
    return variances[:, :, None] * np.eye(d)


def _covariances_spherical(nk, scatter, reg_covar):
    d = scatter.shape[1]
    variances = (np.diagonal(scatter, axis1=1, axis2=2) / nk[:, None]).mean(axis=1) + reg_covar
    return variances[:, None, None] * np.eye(d)


def _covariances_tied(nk, scatter, reg_covar):
    k, d = scatter.shape[:2]
    tied = _add_to_diagonal(scatter.sum(axis=0) / nk.sum(), reg_covar)
    return np.broadcast_to(tied, (k, d, d)).copy()


_COVARIANCE_ESTIMATORS = {
    "full": _covariances_full,
    "diag": _covariances_diag,
    "spherical": _covariances_spherical,
    "tied": _covariances_tied,
}


def _add_to_diagonal(cov, value):
    d = cov.shape[-1]
    idx = np.arange(d)
    cov = cov.copy()
    cov[..., idx, idx] += value
    return cov


def _m_step(stats, center, covariance, reg_covar):
    """New mixture from the sufficient statistics."""
    d = center.shape[0]
    nk, means, scatter = _scatter(stats, d)
    covariances = _COVARIANCE_ESTIMATORS[covariance](nk, scatter, reg_covar)
    return Mixture(nk / nk.sum(), means + center, covariances)


def _project(mixture, covariance):
    """The start mixture with the structure of ``covariance`` imposed (as scikit-learn would build it)."""
    cov = mixture.covariances
    d = mixture.d
    if covariance == "full":
        return mixture
    if covariance == "diag":
        new = np.diagonal(cov, axis1=1, axis2=2)[:, :, None] * np.eye(d)
    elif covariance == "spherical":
        new = np.diagonal(cov, axis1=1, axis2=2).mean(axis=1)[:, None, None] * np.eye(d)
    else:
        new = np.broadcast_to(np.einsum("k,kij->ij", mixture.weights, cov), cov.shape)
    if np.array_equal(new, cov):
        return mixture
    return Mixture(mixture.weights, mixture.means, new)


# --------------------------------------------------------------------------- input checks


def _check_data(X, k=None):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values; drop or fill those rows first")
    if k is not None:
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if X.shape[0] < k:
            raise ValueError(
                f"k={k} components need at least {k} points, but the data have {X.shape[0]}; decrease k"
            )
    return X


def _check_settings(covariance, reg_covar, tol=0.0, max_iter=0):
    if covariance not in _COVARIANCE_ESTIMATORS:
        raise ValueError(f"covariance must be one of {', '.join(COVARIANCE_TYPES)}, got {covariance!r}")
    if not (reg_covar >= 0 and math.isfinite(reg_covar)):
        raise ValueError(f"reg_covar must be a finite number >= 0, got {reg_covar!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}")


def relative_reg_covar(X, scale=1e-6):
    """A ``reg_covar`` in the data's own units: ``scale`` times the smallest non-zero column variance.

    scikit-learn's absolute default (1e-6) inflates covariances of data measured
    on a 1e-4 scale a hundredfold; this choice regularises every data set alike.
    """
    X = _check_data(X)
    variances = X.var(axis=0)
    positive = variances[variances > 0]
    if positive.size == 0:
        return scale
    return float(scale * positive.min())


def n_parameters(k, d, covariance="full"):
    """Free parameters of a mixture (as scikit-learn counts them for BIC and AIC)."""
    cov_params = {
        "full": k * d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
        "tied": d * (d + 1) // 2,
    }[covariance]
    return cov_params + k * d + k - 1


# --------------------------------------------------------------------------- public functions


def log_likelihood(X, mixture) -> float:
    """Mean log-likelihood per point of ``X`` (n, d) under ``mixture``."""
    return float(Evaluator(X).statistics(mixture)[1])


def responsibilities(X, mixture) -> np.ndarray:
    """Posterior probabilities of the components, shape (n, k); rows sum to 1."""
    return Evaluator(X).responsibilities(mixture)


def em(X, start, *, tol=1e-6, max_iter=1000, covariance="full", reg_covar=1e-6) -> Iterator[EMStep]:
    """Run EM from ``start``, yielding a snapshot after every M-step.

    Parameters
    ----------
    X : array of shape (n, d)
    start : Mixture
        The initial mixture, projected onto ``covariance``'s structure (diagonal,
        spherical or tied) when it does not have it already.
    tol : float
        Converged when the mean log-likelihood per point changes by less than ``tol``.
    max_iter : int
        At most this many M-steps, so at most ``max_iter + 1`` snapshots.
    covariance : {"full", "diag", "spherical", "tied"}
    reg_covar : float
        Added to every covariance diagonal (absolute, as in scikit-learn).

    Yields
    ------
    EMStep
        Iteration 0 is the start; the last one yielded is converged or iteration ``max_iter``.

    Raises
    ------
    ValueError
        Bad arguments, or a covariance that stops being positive definite.
    """
    X = _check_data(X)
    _check_settings(covariance, reg_covar, tol, max_iter)
    if X.shape[1] != start.d:
        raise ValueError(f"X has {X.shape[1]} columns but the start mixture is {start.d}-dimensional")
    evaluator = Evaluator(X)
    mixture = _project(start, covariance)
    stats, ll = evaluator.statistics(mixture)
    _check_finite(ll, 0)
    yield EMStep(0, mixture, float(ll), math.nan, False)
    for iteration in range(1, int(max_iter) + 1):
        try:
            mixture = _m_step(stats, evaluator.center, covariance, reg_covar)
        except ValueError as exc:
            raise ValueError(f"EM iteration {iteration}: {exc}") from None
        previous = ll
        stats, ll = evaluator.statistics(mixture)
        _check_finite(ll, iteration)
        delta = ll - previous
        converged = abs(delta) < tol
        yield EMStep(iteration, mixture, float(ll), float(delta), bool(converged))
        if converged:
            return


def _check_finite(ll, iteration):
    if not math.isfinite(ll):
        raise ValueError(
            f"EM iteration {iteration}: the log-likelihood is not finite; {_COLLAPSE_HINT}"
        )


def fit(
    X,
    k,
    *,
    init="kmeans++",
    seed=0,
    tol=1e-6,
    max_iter=1000,
    covariance="full",
    reg_covar=1e-6,
) -> FitResult:
    """Initialise with ``init`` and run :func:`em` to the end."""
    X = _check_data(X, k)
    _check_settings(covariance, reg_covar, tol, max_iter)
    start = initialize(X, k, method=init, seed=seed, reg_covar=reg_covar)
    history = tuple(em(X, start, tol=tol, max_iter=max_iter, covariance=covariance, reg_covar=reg_covar))
    last = history[-1]
    n, d = X.shape
    total_ll = last.log_likelihood * n
    p = n_parameters(k, d, covariance)
    labels = responsibilities(X, last.mixture).argmax(axis=1)
    return FitResult(
        mixture=last.mixture,
        history=history,
        n_iter=last.iteration,
        converged=last.converged,
        labels=labels,
        bic=float(-2 * total_ll + p * math.log(n)),
        aic=float(-2 * total_ll + 2 * p),
    )


# --------------------------------------------------------------------------- initialisation


def initialize(X, k, method="kmeans++", seed=0, *, reg_covar=1e-6) -> Mixture:
    """A starting mixture, reproducible from ``seed``.

    Methods
    -------
    "kmeans++"
        Greedy k-means++ seeding; each point assigned to its nearest seed, and
        the mixture estimated from those hard assignments.
    "kmeans"
        As "kmeans++", followed by Lloyd iterations until the labels settle (at most 10).
    "random-points"
        k distinct data points chosen uniformly as seeds, then as "kmeans++".
    "random"
        The article's scheme: weights ~ U(0, 1) normalised, means ~ N(0, 1),
        covariances A A^T with A ~ N(0, 1)^(d x d) (plus ``reg_covar`` on the diagonal).
    """
    X = _check_data(X, k)
    if method not in INIT_METHODS:
        raise ValueError(f"init must be one of {', '.join(INIT_METHODS)}, got {method!r}")
    _check_settings("full", reg_covar)
    rng = np.random.default_rng(seed)
    n, d = X.shape
    if method == "random":
        weights = rng.uniform(0, 1, size=k)
        means = rng.normal(0, 1, size=(k, d))
        a = rng.normal(0, 1, size=(k, d, d))
        covariances = _add_to_diagonal(a @ a.transpose(0, 2, 1), reg_covar)
        return Mixture(weights / weights.sum(), means, covariances)
    center = X.mean(axis=0)
    XcT = np.ascontiguousarray((X - center).T)  # (d, n): one contiguous row per coordinate
    if method == "random-points":
        seeds = _distinct_random_rows(XcT, k, rng)
    else:
        seeds = _kmeans_plusplus(XcT, k, rng)
    labels = _nearest(XcT, seeds)
    if method == "kmeans":
        labels = _lloyd(XcT, seeds, labels)
    stats = np.stack(
        [np.bincount(labels, weights=row, minlength=k) for row in _features(X, center)], axis=1
    )
    return _m_step(stats, center, "full", reg_covar)


def _too_few_distinct(k, found):
    return ValueError(
        f"k={k} components but the data have only {found} distinct points; decrease k"
    )


def _distinct_random_rows(XcT, k, rng):
    chosen = []
    for index in rng.permutation(XcT.shape[1]):
        row = XcT[:, index]
        if not any(np.array_equal(row, c) for c in chosen):
            chosen.append(row)
            if len(chosen) == k:
                return np.array(chosen)
    raise _too_few_distinct(k, len(chosen))


def _sq_distance(XcT, center):
    """(n,) squared Euclidean distances to one centre, summed coordinate by coordinate.

    Row-wise on (d, n) data: no (n, k) temporaries, no BLAS, and no cancellation
    from expanding |x - c|^2.
    """
    out = np.zeros(XcT.shape[1])
    diff = np.empty(XcT.shape[1])
    for coordinate, value in zip(XcT, center):
        np.subtract(coordinate, value, out=diff)
        np.multiply(diff, diff, out=diff)
        out += diff
    return out


def _nearest(XcT, centers):
    """Index of the nearest centre for every point (the first one on ties)."""
    best = _sq_distance(XcT, centers[0])
    labels = np.zeros(XcT.shape[1], dtype=np.intp)
    for j in range(1, len(centers)):
        distance = _sq_distance(XcT, centers[j])
        labels[distance < best] = j
        np.minimum(best, distance, out=best)
    return labels


def _kmeans_plusplus(XcT, k, rng):
    """Greedy k-means++ (as scikit-learn: 2 + log k candidates per seed)."""
    n = XcT.shape[1]
    n_trials = 2 + int(math.log(k))
    centers = np.empty((k, XcT.shape[0]))
    centers[0] = XcT[:, rng.integers(n)]
    closest = _sq_distance(XcT, centers[0])
    for c in range(1, k):
        potential = closest.sum()
        if potential <= 0:
            raise _too_few_distinct(k, c)
        candidates = np.searchsorted(np.cumsum(closest), rng.uniform(0, potential, n_trials))
        candidates = np.minimum(candidates, n - 1)
        best_closest, best_potential, best_candidate = None, np.inf, None
        for candidate in candidates:
            trial = np.minimum(closest, _sq_distance(XcT, XcT[:, candidate]))
            trial_potential = trial.sum()
            if trial_potential < best_potential:
                best_closest, best_potential, best_candidate = trial, trial_potential, candidate
        if best_potential >= potential:  # every candidate already coincides with a centre
            raise _too_few_distinct(k, c)
        centers[c] = XcT[:, best_candidate]
        closest = best_closest
    return centers


def _lloyd(XcT, centers, labels, max_iter=10):
    k = centers.shape[0]
    for _ in range(max_iter):
        counts = np.bincount(labels, minlength=k)
        sums = np.stack([np.bincount(labels, weights=row, minlength=k) for row in XcT], axis=1)
        centers = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centers)
        for empty in np.flatnonzero(counts == 0):
            # re-seed an empty cluster at the point farthest from its centre
            far = sum((row - centers[labels, j]) ** 2 for j, row in enumerate(XcT)).argmax()
            centers[empty] = XcT[:, far]
        new_labels = _nearest(XcT, centers)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return labels
