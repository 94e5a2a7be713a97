"""The EM engine for Gaussian mixtures: pure numpy/scipy, no Qt, no I/O.

Computed as scikit-learn computes it, component by component in log space:
``log N(x | mu_k, S_k)`` from ``y = (x - mu_k) P_k`` with ``P_k`` the Cholesky
factor of the precision (scikit-learn's ``precisions_cholesky_``), and the
responsibilities from a log-sum-exp over the components. Points are taken in chunks,
so memory stays a small multiple of the data.

One pass over the data gives the log-likelihood of the current mixture and the
weighted sufficient statistics of its responsibilities (``Nk``, ``sum r (x - c_k)``,
``sum r (x - c_k)(x - c_k)^T``) about a centre ``c_k`` per component, the current
mean. The M-step reads the new mean and scatter from them; when a mean moved so far
against its component's spread that the subtraction would lose more than about 1e-10,
a second pass takes the statistics about the new means. So the result is exact as
scikit-learn's two-pass computation at any offset, in one pass in the common case.

Same start, same data, same settings: :func:`em` follows scikit-learn's
``GaussianMixture`` (``lower_bounds_``, ``means_``, ``covariances_``,
``weights_``) to rounding error.
"""

from __future__ import annotations

import contextlib
import math
import threading
import weakref
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Iterator

import numpy as np

# scipy is imported where it is needed (scipy.linalg for d >= 3, scipy.spatial for large
# samples or near ties in relative_reg_covar), not here: importing any of it costs about 0.3 s
# of CPU, and the window's start on the demo data needs none of it (tests/test_startup_imports.py).
from emviz import kernel

__all__ = [
    "COVARIANCE_TYPES",
    "INIT_METHODS",
    "EMStep",
    "Evaluator",
    "FitResult",
    "Mixture",
    "check_scale",
    "e_step",
    "em",
    "fit",
    "initialize",
    "log_likelihood",
    "m_step",
    "n_parameters",
    "regularisation_share",
    "regularisation_warning",
    "relative_reg_covar",
    "responsibilities",
    "responsibilities_pass",
    "statistics_pass",
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
    _prec_chol: np.ndarray = field(init=False, repr=False)

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
        cholesky = _cholesky(covariances)
        object.__setattr__(self, "_cholesky", _frozen(cholesky))
        object.__setattr__(self, "_prec_chol", _frozen(_precisions_cholesky(cholesky)))

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
    ``collapsed`` lists the components that are degenerate in ``mixture``: they
    carry about one point's weight or less, or their covariance sits at the
    regularisation floor (smallest eigenvalue within a few times ``reg_covar``)
    while the data spread much wider. Their likelihood is not a fit of a cluster.
    """

    iteration: int
    mixture: Mixture
    log_likelihood: float
    delta: float
    converged: bool
    collapsed: tuple = ()


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

    @property
    def collapsed(self) -> tuple:
        """Components degenerate in the final mixture (see :class:`EMStep`)."""
        return self.history[-1].collapsed


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


def _precisions_cholesky(cholesky):
    """scikit-learn's ``precisions_cholesky_``: P_k = L_k^-T, upper triangular, P P^T = S_k^-1.

    scipy's ``solve_triangular(L, I, lower=True)``, as scikit-learn computes it; for d <= 2
    the same arithmetic in numpy (:func:`_small_precisions_cholesky`), without scipy: importing
    any of scipy costs a start of the window about 0.3 s of CPU, and the demo's data are 2-d.
    """
    d = cholesky.shape[-1]
    if d <= 2:
        return _small_precisions_cholesky(cholesky)
    from scipy.linalg import solve_triangular

    eye = np.eye(d)
    # one BLAS thread: OpenBLAS's threads made each (d x d) solve take 20 ms on a busy 2-core
    # machine (0.04 ms on one), 60 ms per Mixture at k = 3, 12x the rest of an EM iteration at n = 1e4
    with _one_blas_thread():
        return np.stack([solve_triangular(L, eye, lower=True, check_finite=False).T for L in cholesky])


def _small_precisions_cholesky(cholesky):
    """:func:`_precisions_cholesky` of (k, d, d) lower factors with d = 1 or 2, all k at once.

    The arithmetic of LAPACK's triangular solve as OpenBLAS (scipy's and numpy's BLAS) does it:
    the reciprocals of the diagonal, then multiplications, so for L = [[a, 0], [b, c]]
    L^-1 = [[1/a, 0], [(0 - (1/a) b) (1/c), 1/c]]. Bit for bit scipy's ``solve_triangular``
    (tests/test_gmm_engine.py), so the engine's numbers do not depend on which one ran.
    """
    k, d = cholesky.shape[0], cholesky.shape[-1]
    precisions = np.zeros((k, d, d))
    inverse_diagonal = 1.0 / cholesky[:, np.arange(d), np.arange(d)]  # (k, d)
    precisions[:, 0, 0] = inverse_diagonal[:, 0]
    if d == 2:
        precisions[:, 0, 1] = (0.0 - inverse_diagonal[:, 0] * cholesky[:, 1, 0]) * inverse_diagonal[:, 1]
        precisions[:, 1, 1] = inverse_diagonal[:, 1]
    return precisions


def _log_weights(weights):
    with np.errstate(divide="ignore"):  # a weight of exactly 0 is a log-density of -inf
        return np.log(weights)


class _OneBlasThread:
    """BLAS on one thread while any caller is inside (a context manager; any thread).

    The first to enter sets every BLAS library threadpoolctl finds to one thread, the last
    to leave puts back what was there. threadpoolctl's own ``limit()`` lists the process's
    libraries at every entry, 0.3 ms: a third of an EM iteration's own time at n = 1e4.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._libraries = None
        self._before: list = []

    def _find(self):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            return []
        return list(ThreadpoolController().select(user_api="blas").lib_controllers)

    def __enter__(self):
        with self._lock:
            if self._libraries is None:
                self._libraries = self._find()
            if self._depth == 0:
                self._before = [library.num_threads for library in self._libraries]
                for library, threads in zip(self._libraries, self._before):
                    if threads != 1:
                        library.set_num_threads(1)
            self._depth += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for library, threads in zip(self._libraries, self._before):
                    if threads != 1:
                        library.set_num_threads(threads)
        return False


_ONE_BLAS_THREAD = _OneBlasThread()


def _one_blas_thread():
    """Run the passes' small products on one BLAS thread.

    They are thin, (d x d) by (d x chunk), and OpenBLAS's threads cost more than
    they give (measured on 2 cores at n = 1e4, k = 10: 8x slower with two threads).
    It also leaves a window's GUI thread a core.
    """
    return _ONE_BLAS_THREAD


def _chunks(n, k):
    step = max(1024, _CHUNK_ELEMENTS // max(k, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


# --------------------------------------------------------------------------- the passes over the data
#
# Two functions are the contract between this module and a compiled kernel
# (emviz/kernel.py): statistics_pass and responsibilities_pass. The numpy versions
# below are the reference; :data:`_passes` says which implementation the engine calls.


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


def _log_prob_constants(log_weights, prec_chol):
    """log w_k + log det P_k - d log(2 pi) / 2, shape (k,)."""
    d = prec_chol.shape[-1]
    return log_weights + np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1) - 0.5 * d * _LOG_2PI


def _weighted_log_prob_chunk(XT, const, means, prec_chol):
    """log(w_k N(x | mu_k, P_k)) of the points XT (d, c), shape (k, c), with two (d, c) work arrays."""
    d, c = XT.shape
    k = means.shape[0]
    diff = np.empty((d, c))
    y = np.empty((d, c))
    block = np.empty((k, c))
    for j in range(k):
        np.subtract(XT, means[j][:, None], out=diff)
        np.matmul(prec_chol[j].T, diff, out=y)
        np.multiply(y, y, out=y)
        np.sum(y, axis=0, out=block[j])
        block[j] *= -0.5
        block[j] += const[j]
    return block, diff, y


def _chunk_loop(X, log_weights, means, prec_chol, centers=None, resp_out=None):
    """The one loop over chunks of points behind both passes (numpy reference).

    For each chunk (transposed to (d, c), one contiguous row per coordinate) and each
    component: y = P_k^T (x - mu_k), log N = sum log diag P_k - (d log 2 pi + |y|^2) / 2,
    then a log-sum-exp over the components. With ``centers`` the weighted statistics
    about them are accumulated; with ``resp_out`` (n, k) the responsibilities are stored.
    """
    n, d = X.shape
    k = means.shape[0]
    const = _log_prob_constants(log_weights, prec_chol)
    ll_sum = 0.0
    if centers is not None:
        nk = np.zeros(k)
        s1 = np.zeros((k, d))
        s2 = np.zeros((k, d, d))
    for rows in _chunks(n, k):
        XT = np.ascontiguousarray(X[rows].T)  # (d, c)
        block, diff, y = _weighted_log_prob_chunk(XT, const, means, prec_chol)
        ll_sum += float(_log_normalize(block).sum())
        if resp_out is not None:
            resp_out[rows] = block.T
        if centers is not None:
            for j in range(k):
                r = block[j]
                np.subtract(XT, centers[j][:, None], out=diff)
                nk[j] += r.sum()
                s1[j] += diff @ r
                np.multiply(diff, r, out=y)
                s2[j] += y @ diff.T
    if centers is None:
        return ll_sum
    return ll_sum, nk, s1, s2


def statistics_pass(X, log_weights, means, prec_chol, centers):
    """Log-likelihood and weighted sufficient statistics about given centres, in one pass.

    The responsibilities are those of the mixture (``log_weights``, ``means``,
    ``prec_chol``); the statistics are taken about ``centers`` (usually the current
    means), so no large number is subtracted from another however far the data lie
    from the origin.

    Parameters
    ----------
    X : array of shape (n, d)
        float64, C-contiguous.
    log_weights : array of shape (k,)
        Logarithms of the mixing proportions (-inf for a weight of 0).
    means : array of shape (k, d)
    prec_chol : array of shape (k, d, d)
        Upper triangular P_k with P_k P_k^T the precision matrix of component k
        (scikit-learn's ``precisions_cholesky_``).
    centers : array of shape (k, d)
        The point each component's statistics are accumulated about.

    Returns
    -------
    ll_sum : float
        sum_i logsumexp_k [log_weights_k + log N(x_i | means_k, prec_chol_k)].
    nk : array of shape (k,)
        sum_i r_ik.
    s1 : array of shape (k, d)
        sum_i r_ik (x_i - centers_k).
    s2 : array of shape (k, d, d)
        sum_i r_ik (x_i - centers_k)(x_i - centers_k)^T.
    """
    return _chunk_loop(X, log_weights, means, prec_chol, centers=centers)


def responsibilities_pass(X, log_weights, means, prec_chol):
    """Log-likelihood and responsibilities of a mixture, in one pass.

    Parameters
    ----------
    X : array of shape (n, d)
        float64, C-contiguous.
    log_weights : array of shape (k,)
    means : array of shape (k, d)
    prec_chol : array of shape (k, d, d)
        As in :func:`statistics_pass`.

    Returns
    -------
    ll_sum : float
        sum_i logsumexp_k [log_weights_k + log N(x_i | means_k, prec_chol_k)].
    resp : array of shape (n, k)
        r_ik, rows summing to 1.
    """
    resp = np.empty((X.shape[0], means.shape[0]))
    ll_sum = _chunk_loop(X, log_weights, means, prec_chol, resp_out=resp)
    return ll_sum, resp


def mix_colours(resp_kn, rgb, *, hard=False):
    """Opaque ARGB32 pixels (n,) from responsibilities (k, n) and the components' colours.

    ``rgb`` (k, 3) holds each component's red, green and blue in 0..255. Soft: the
    colours mixed by responsibility (rounded half to even, clipped to 0..255), so an
    undecided point shows a mixed colour. Hard: the colour of the most likely component
    (the first of equals).
    """
    resp_kn = np.asarray(resp_kn, dtype=np.float64)
    rgb = np.asarray(rgb, dtype=np.float64)
    k = resp_kn.shape[0]
    if hard:
        # argmax over k contiguous rows, one row at a time: numpy's argmax(axis=0) is 10x slower here
        best = resp_kn[0].copy()
        label = np.zeros(resp_kn.shape[1], dtype=np.intp)
        for j in range(1, k):
            better = resp_kn[j] > best
            label[better] = j
            np.maximum(best, resp_kn[j], out=best)
        return _pack(rgb.T)[label]
    mixed = np.zeros((3, resp_kn.shape[1]))
    for j in range(k):  # component by component, as the compiled colours_pass adds them
        for channel in range(3):
            mixed[channel] += rgb[j, channel] * resp_kn[j]
    return _pack(np.clip(np.rint(mixed, out=mixed), 0, 255, out=mixed))


def _pack(channels):
    """(3, n) colours in 0..255 -> (n,) opaque ARGB32 pixels."""
    c = channels.astype(np.uint32)
    return np.uint32(0xFF000000) | (c[0] << 16) | (c[1] << 8) | c[2]


def colours_pass(X, log_weights, means, prec_chol, rgb, hard=False):
    """Each point's colour under a mixture: :func:`mix_colours` of its responsibilities.

    Same arguments as :func:`responsibilities_pass`, plus ``rgb`` (k, 3) and ``hard``.
    Returns (n,) uint32 opaque ARGB32 pixels. The window colours its points with this at
    screen rate; the compiled kernel does it in one pass without an (n, k) array.
    """
    _, resp = responsibilities_pass(X, log_weights, means, prec_chol)
    return mix_colours(np.ascontiguousarray(resp.T), rgb, hard=hard)


# Which implementation of the passes the engine calls. A compiled kernel plugs in
# with ``gmm._passes = SimpleNamespace(statistics_pass=..., responsibilities_pass=...,
# colours_pass=...)``.
NUMPY_PASSES = SimpleNamespace(
    statistics_pass=statistics_pass, responsibilities_pass=responsibilities_pass, colours_pass=colours_pass
)


KERNEL_WORTH_POINTS = 20_000  # below this a numpy pass takes a few ms: no compile is started for it


class _KernelOnceReady:
    """The passes of emviz.kernel (compiled) once it is ready, the numpy ones until then.

    The first pass over ``KERNEL_WORTH_POINTS`` points or more starts the kernel's build
    in a background thread and nobody waits for it; numba's on-disk cache makes it quick
    after the first time. Smaller data never start it: their numpy passes take
    milliseconds, and a fresh install's 20 s compile would outlast ``emviz fit`` on them.
    Without numba, or with EMVIZ_NUMBA=0, the numpy passes stay (the same numbers to
    ~1e-12, tested).
    """

    @staticmethod
    def _compiled(X):
        if kernel.ready():
            return kernel
        if X.shape[0] >= KERNEL_WORTH_POINTS:
            kernel.warm_up_in_background()
        return NUMPY_PASSES

    def statistics_pass(self, X, log_weights, means, prec_chol, centers):
        return self._compiled(X).statistics_pass(X, log_weights, means, prec_chol, centers)

    def responsibilities_pass(self, X, log_weights, means, prec_chol):
        return self._compiled(X).responsibilities_pass(X, log_weights, means, prec_chol)

    def colours_pass(self, X, log_weights, means, prec_chol, rgb, hard=False):
        return self._compiled(X).colours_pass(X, log_weights, means, prec_chol, rgb, hard)


_passes = _KernelOnceReady()


class Evaluator:
    """The passes over one data set, prepared once (a C-contiguous float64 copy of the points).

    :func:`em` runs on one; a window redrawing responsibilities at screen rate keeps one too.

    Parameters
    ----------
    X : array of shape (n, d)
    """

    def __init__(self, X):
        self.X = np.ascontiguousarray(_check_data(X))
        self.n, self.d = self.X.shape

    def _check(self, mixture):
        if mixture.d != self.d:
            raise ValueError(f"X has {self.d} columns but the mixture is {mixture.d}-dimensional")

    def statistics(self, mixture, centers=None):
        """Mean log-likelihood and the statistics of :func:`statistics_pass`.

        ``centers`` (k, d) defaults to the mixture's means. Returns
        ``(mean_log_likelihood, nk (k,), s1 (k, d), s2 (k, d, d))``.
        """
        self._check(mixture)
        if centers is None:
            centers = mixture.means
        with _one_blas_thread():
            ll_sum, nk, s1, s2 = _passes.statistics_pass(
                self.X, _log_weights(mixture.weights), mixture.means, mixture._prec_chol, centers
            )
        return ll_sum / self.n, nk, s1, s2

    def e_step(self, mixture):
        """Mean log-likelihood and responsibilities (n, k) of ``mixture``."""
        self._check(mixture)
        with _one_blas_thread():
            ll_sum, resp = _passes.responsibilities_pass(
                self.X, _log_weights(mixture.weights), mixture.means, mixture._prec_chol
            )
        return ll_sum / self.n, resp

    def log_likelihood(self, mixture) -> float:
        """Mean log-likelihood per point of ``mixture`` (the same number :meth:`statistics` gives)."""
        return float(self.statistics(mixture)[0])

    def weighted_log_prob(self, mixture, rows=slice(None)) -> np.ndarray:
        """log(w_k N(x | mu_k, S_k)) of the points ``rows``, shape (k, c)."""
        self._check(mixture)
        XT = np.ascontiguousarray(self.X[rows].T)
        const = _log_prob_constants(_log_weights(mixture.weights), mixture._prec_chol)
        return _weighted_log_prob_chunk(XT, const, mixture.means, mixture._prec_chol)[0]

    def m_step(self, posterior, covariance="full", reg_covar=1e-6, statistics=None) -> Mixture:
        """The M-step from the responsibilities of ``posterior``: exactly the mixture :func:`em`
        yields after ``posterior`` (same data, same settings).

        ``statistics`` (nk, s1, s2) about ``posterior.means``, when already at hand, saves a pass.
        """
        if statistics is None:
            statistics = self.statistics(posterior)[1:]
        nk_raw, s1, s2 = statistics
        return _mixture_from_statistics(
            nk_raw, s1, s2, posterior.means, covariance, reg_covar,
            lambda centers: self.statistics(posterior, centers)[1:],
        )

    def responsibilities(self, mixture, *, transposed=False, rows=None) -> np.ndarray:
        """Posterior probabilities, shape (n, k), or (k, n) with ``transposed=True``.

        ``rows`` (indices) limits them to those points.
        """
        self._check(mixture)
        X = self.X if rows is None else np.ascontiguousarray(self.X[rows])
        with _one_blas_thread():
            _, resp = _passes.responsibilities_pass(
                X, _log_weights(mixture.weights), mixture.means, mixture._prec_chol
            )
        return np.ascontiguousarray(resp.T) if transposed else resp

    def colours(self, mixture, rgb, *, hard=False, rows=None) -> np.ndarray:
        """Each point's colour, (n,) opaque ARGB32: the components' colours ``rgb`` (k, 3)
        mixed by its responsibilities, or its most likely component's with ``hard``
        (:func:`mix_colours`). ``rows`` (indices) limits them to those points."""
        self._check(mixture)
        rgb = np.asarray(rgb, dtype=np.float64)
        if rgb.shape != (mixture.k, 3):
            raise ValueError(f"rgb must have shape ({mixture.k}, 3), got {rgb.shape}")
        X = self.X if rows is None else np.ascontiguousarray(self.X[rows])
        with _one_blas_thread():
            return _passes.colours_pass(
                X, _log_weights(mixture.weights), mixture.means, mixture._prec_chol, rgb, bool(hard)
            )


# --------------------------------------------------------------------------- M-step


# A scatter s2 - nk delta delta^T loses about eps * |nk delta^2| / |scatter| to cancellation;
# past this ratio (about 1e-10 relative lost) the statistics are taken again about the new means.
_CANCELLATION_RATIO = 1e5


def _needs_recentring(nk_raw, delta, s2):
    shift = nk_raw[:, None] * delta**2  # (k, d): what the subtraction removes from each variance
    kept = np.diagonal(s2, axis1=1, axis2=2) - shift
    return bool(np.any(shift > _CANCELLATION_RATIO * np.maximum(kept, 0.0)))


def _mixture_from_statistics(nk_raw, s1, s2, centers, covariance, reg_covar, recentre=None):
    """The M-step from statistics about ``centers``.

    ``recentre(new_means) -> (nk, s1, s2)`` gives the statistics of the same
    responsibilities about other centres; it is called when the means moved so far
    against the components' spread that the one-pass scatter would lose precision.
    """
    nk = nk_raw + _EPS10
    delta = s1 / nk[:, None]
    means = centers + delta
    if recentre is not None and _needs_recentring(nk_raw, delta, s2):
        centers = means
        nk_raw, s1, s2 = recentre(centers)
        nk = nk_raw + _EPS10
        delta = s1 / nk[:, None]
        means = centers + delta
    # sum r (x - mu)(x - mu)^T with mu = c + delta, delta = s1 / (nk_raw + 10 eps)
    scatter = s2 - (2.0 * nk - nk_raw)[:, None, None] * (delta[:, :, None] * delta[:, None, :])
    scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))  # sum r d_i d_j and sum r d_j d_i round apart
    covariances = _COVARIANCE_ESTIMATORS[covariance](nk, scatter, reg_covar)
    return Mixture(nk / nk.sum(), means, covariances)


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


def _project(mixture, covariance):
    """The start mixture with the structure of ``covariance`` imposed (as scikit-learn would build it).

    A mixture that has the structure already is returned as it is, so that EM resumed
    from any of its snapshots continues exactly the same run.
    """
    cov = mixture.covariances
    d = mixture.d
    diagonal = np.diagonal(cov, axis1=1, axis2=2)
    is_diagonal = np.array_equal(cov, diagonal[:, :, None] * np.eye(d))
    if covariance == "full":
        return mixture
    if covariance == "diag":
        if is_diagonal:
            return mixture
        new = diagonal[:, :, None] * np.eye(d)
    elif covariance == "spherical":
        if is_diagonal and np.all(diagonal == diagonal[:, :1]):
            return mixture
        new = diagonal.mean(axis=1)[:, None, None] * np.eye(d)
    else:
        if np.all(cov == cov[0]):
            return mixture
        new = np.broadcast_to(np.einsum("k,kij->ij", mixture.weights, cov), cov.shape)
    return Mixture(mixture.weights, mixture.means, new)


# --------------------------------------------------------------------------- input checks


def _immutable(X) -> bool:
    """True when nothing can change ``X``: read-only, down to the memory it views."""
    a = X
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None or isinstance(a, bytes)


class _PerArray:
    """What was worked out once for an array that cannot change (:func:`_immutable`).

    A window's set-up asks again about the same points: the checks by the initialisation,
    the regularisation and the engine, the default reg_covar by a start, its run and every
    continuation; at a million points each answer is a pass over them (0.4-0.8 s for the
    default reg_covar). Entries go with their array.
    """

    def __init__(self):
        self._values = {}  # id(array) -> (weak reference to it, value)

    def get(self, X, default=None):
        entry = self._values.get(id(X))
        if entry is not None and entry[0]() is X and _immutable(X):
            return entry[1]
        return default

    def put(self, X, value) -> None:
        if not _immutable(X):
            return
        key = id(X)

        def forget(ref, key=key):
            entry = self._values.get(key)
            if entry is not None and entry[0] is ref:
                del self._values[key]

        self._values[key] = (weakref.ref(X, forget), value)


_CHECKED = _PerArray()  # arrays that passed the input checks: True
_DEFAULT_REG_COVAR = _PerArray()  # {scale: relative_reg_covar(X, scale)}


def _check_data(X, k=None):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
    if not _CHECKED.get(X, False):
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values; drop or fill those rows first")
        _check_scale(X)
    if k is not None:
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if X.shape[0] < k:
            raise ValueError(
                f"k={k} components need at least {k} points, but the data have {X.shape[0]}; decrease k"
            )
    return X


# What float64 can fit. Sums of n squared deviations must not overflow (1.8e308) and
# covariances, with 1e-6 of them as regularisation, must stay above the smallest normal
# number (2.2e-308), where every digit is still kept: so a column may spread (max - min)
# over 1e-145 .. 1e145, and hold values up to 1e290 (a constant column may sit anywhere there).
_LARGEST_SPREAD = 1e145
_SMALLEST_SPREAD = 1e-145
_LARGEST_VALUE = 1e290


_FITTED_RANGE = "emviz fits columns that spread (max - min) over 1e-145 to 1e145, with values up to 1e290"


def check_scale(X, columns=None):
    """Refuse data whose squares overflow or whose covariances would be subnormal in float64.

    The message names the column (``columns[j]`` when the names are given, else its index),
    says by which power of ten to rescale that column, and what range is fitted. Fitting in
    rescaled internal units would not help: the answer (a covariance of 1e320 or 1e-320 in
    the data's units) would not fit in float64 either.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X[:, None] if X.ndim == 1 else X
    if _CHECKED.get(X, False):
        return

    def column(j):
        return f"column {columns[j]!r}" if columns is not None else f"column {j}"

    top = np.abs(X).max(axis=0)
    for j in np.flatnonzero(top > _LARGEST_VALUE):
        raise ValueError(
            f"{column(j)} holds values as large as {top[j]:.3g}: sums of them overflow float64; "
            f"divide that column by {_power_of_ten(top[j])} ({_FITTED_RANGE})"
        )
    spread = X.max(axis=0) - X.min(axis=0)
    for j in range(X.shape[1]):
        if spread[j] > _LARGEST_SPREAD:
            raise ValueError(
                f"{column(j)} spreads over {spread[j]:.3g}: squares of that overflow float64 "
                f"(largest about 1.8e308); divide that column by {_power_of_ten(spread[j])} ({_FITTED_RANGE})"
            )
        if 0 < spread[j] < _SMALLEST_SPREAD:
            raise ValueError(
                f"{column(j)} spreads over only {spread[j]:.3g}: covariances of that size are below "
                f"what float64 holds (about 2.2e-308); multiply that column by {_power_of_ten(1 / spread[j])} "
                f"({_FITTED_RANGE})"
            )
    if np.all(np.isfinite(X)):
        _CHECKED.put(X, True)


_check_scale = check_scale


# Variances of data float64 can fit are below about 1e290 (see _LARGEST_VALUE): a reg_covar
# beyond this is no regularisation but an overflow waiting to happen.
LARGEST_REG_COVAR = 1e300


def check_reg_covar(reg_covar):
    """Refuse a ``reg_covar`` that is not a number from 0 to 1e300 (ValueError saying so)."""
    if not 0 <= reg_covar <= LARGEST_REG_COVAR:  # NaN fails too
        raise ValueError(
            f"reg_covar must be a number from 0 to 1e300 (it is added to every variance; the data's own "
            f"are below 1e290), got {reg_covar!r}"
        )


# reg_covar may make up at most this share of a fitted variance before the answer is said to be its own
_REG_SHARE_WARNING = 0.01
# Data whose correlation matrix has an eigenvalue below this lie on a line or a plane (within rounding)
_FLAT_CORRELATION = 1e-8


def regularisation_share(mixture, reg_covar, X) -> np.ndarray:
    """How much of each component's smallest fitted variance ``reg_covar`` makes up, shape (k,).

    Every fitted covariance is the data's scatter plus ``reg_covar`` on the diagonal, so a
    share near 1 means the regularisation, not the data, set it. Only directions in which the
    data ``X`` (n, d) vary count: constant columns are left out, and when the data lie on a
    line or a plane (their correlation matrix is singular, judged on at most 4096 rows) each
    column's own variance is compared instead of the smallest eigenvalue, since across such
    data the regularisation is all there is.
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    varying = np.flatnonzero(X.max(axis=0) > X.min(axis=0))
    if varying.size == 0:
        return np.zeros(mixture.k)
    covariances = mixture.covariances[:, varying][:, :, varying]
    sample = X[:: max(1, len(X) // _REG_SAMPLE), varying]
    deviation = sample - sample.mean(axis=0)
    widest = np.abs(deviation).max(axis=0)
    flat = True
    if len(sample) > varying.size and np.all(widest > 0):
        correlation = np.atleast_2d(np.corrcoef((deviation / widest).T))
        flat = not (np.all(np.isfinite(correlation)) and np.linalg.eigvalsh(correlation)[0] > _FLAT_CORRELATION)
    if flat:
        smallest = np.diagonal(covariances, axis1=1, axis2=2).min(axis=1)
    else:
        smallest = np.linalg.eigvalsh(covariances)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(smallest > 0, np.minimum(reg_covar / smallest, 1.0), 1.0)


def regularisation_warning(step, reg_covar, X) -> str:
    """A sentence when ``reg_covar`` is over 1 % of a fitted variance (see :func:`regularisation_share`), else "".

    Components listed in ``step.collapsed`` are left out: they are said to be degenerate already.
    """
    share = regularisation_share(step.mixture, reg_covar, X)
    share[list(step.collapsed)] = 0.0
    worst = float(share.max())
    if worst <= _REG_SHARE_WARNING:
        return ""
    percent = f"{100 * worst:.3g}" if worst < 0.9995 else "100"
    return (
        f"reg_covar {reg_covar:.3g} is {percent}% of a fitted component's variance: "
        "the regularisation, not the data, sets the covariances"
    )


def _power_of_ten(value):
    return f"1e{int(round(math.log10(value)))}"


def _check_settings(covariance, reg_covar, tol=0.0, max_iter=0):
    if covariance not in _COVARIANCE_ESTIMATORS:
        raise ValueError(f"covariance must be one of {', '.join(COVARIANCE_TYPES)}, got {covariance!r}")
    check_reg_covar(reg_covar)
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}")


# At most this many points (a fixed random subsample) measure the scale of the data.
_REG_SAMPLE = 4096
_REG_FLOOR = 1e-15


def _robust_units(X):
    """Each column centred on its median and divided by its interquartile range (or its
    largest deviation when that is 0), so distances weigh the columns alike and an
    outlier does not set the scale."""
    median = np.median(X, axis=0)
    deviation = X - median
    q1, q3 = np.percentile(X, [25, 75], axis=0)
    spread = q3 - q1
    widest = np.abs(deviation).max(axis=0)
    spread = np.where(spread > 0, spread, np.where(widest > 0, widest, 1.0))
    return deviation / spread


def relative_reg_covar(X, scale=1e-6):
    """The default ``reg_covar``: ``scale`` times the data's finest within-cluster scale.

    On a fixed random subsample of at most 4096 rows, exact duplicates removed, every
    point's nearest neighbour is found (:func:`_nearest_neighbours`, each column divided by its
    interquartile range so that columns weigh alike); per column the median of the non-zero gaps to the nearest neighbour is
    the finest scale the data resolve there, and the smallest of these, squared,
    times ``scale`` is returned. Neither the distance between clusters nor a far
    outlier changes it, and it follows the data's units; a constant column is
    ignored. Data with fewer than two distinct points give ``scale`` itself. It is never
    below (1e-15 x the smallest column's extent)^2, the rounding level of the data.

    A component's covariance is at least this (so never singular) and a cluster's is
    many orders of magnitude larger, so the fit is not changed by it. Worked out once per
    array that cannot change (read-only down to its memory).
    """
    X = _check_data(X)
    known = _DEFAULT_REG_COVAR.get(X, {})
    if scale not in known:
        known = {**known, scale: _relative_reg_covar(X, scale)}
        _DEFAULT_REG_COVAR.put(X, known)
    return known[scale]


def _relative_reg_covar(X, scale):
    n = X.shape[0]
    spread = X.max(axis=0) - X.min(axis=0)
    # below the rounding of the data's own extent a variance means nothing: the floor
    floor = (_REG_FLOOR * spread[spread > 0].min()) ** 2 if np.any(spread > 0) else 0.0
    if n > _REG_SAMPLE:
        X = X[np.sort(np.random.default_rng(0).choice(n, _REG_SAMPLE, replace=False))]
    sample = np.unique(X, axis=0)
    if sample.shape[0] < 2:
        return float(scale)
    gaps = np.abs(sample[_nearest_neighbours(_robust_units(sample))] - sample)  # (m, d)
    finest = [float(np.median(column[column > 0])) for column in gaps.T if np.any(column > 0)]
    if not finest:
        return float(scale)
    return float(max(scale * min(finest) ** 2, floor))


# relative_reg_covar compares all pairs of at most this many m * m * d numbers (a few ms)
# rather than build scipy's cKDTree; blocks of rows of about _PAIRS_BLOCK numbers at a time
_PAIRS_AT_MOST = 1 << 22
_PAIRS_BLOCK = 1 << 16
# a nearest neighbour closer than the next by less than this (relative, in squared
# distance) is a tie, left to cKDTree: which one it picks then is its own rule
_CLEAR_MARGIN = 1e-9


def _nearest_neighbours(units):
    """For every row of ``units`` (m >= 2 distinct rows), the index of its nearest other row.

    ``cKDTree(units).query(units, k=2)[1][:, 1]``. For small samples (the demo's 600
    points) it is found by comparing all pairs (:func:`_nearest_by_all_pairs`), without
    importing scipy, whose import costs more than the search; that answer is used only
    when every row's nearest is nearer than the next by a clear margin, where cKDTree's is
    the same row.
    """
    m, d = units.shape
    if m * m * d <= _PAIRS_AT_MOST:
        nearest = _nearest_by_all_pairs(units)
        if nearest is not None:
            return nearest
    from scipy.spatial import cKDTree

    return cKDTree(units).query(units, k=2)[1][:, 1]


def _nearest_by_all_pairs(units):
    """Nearest other row of each row by squared Euclidean distance, or None when any row's
    nearest is not unique by :data:`_CLEAR_MARGIN` (then cKDTree's tie-break decides) or
    lies at distance 0."""
    m, d = units.shape
    columns = np.ascontiguousarray(units.T)
    block = max(1, _PAIRS_BLOCK // m)
    nearest = np.empty(m, dtype=np.intp)
    for start in range(0, m, block):
        stop = min(m, start + block)
        rows = np.arange(stop - start)
        squared = np.subtract.outer(columns[0, start:stop], columns[0])
        squared *= squared
        for column in columns[1:]:
            step = np.subtract.outer(column[start:stop], column)
            step *= step
            squared += step
        squared[rows, rows + start] = np.inf  # not itself
        best = squared.argmin(axis=1)
        first = squared[rows, best]
        squared[rows, best] = np.inf
        second = squared.min(axis=1)
        if not np.all((first > 0) & (second > first * (1 + _CLEAR_MARGIN))):
            return None
        nearest[start:stop] = best
    return nearest


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
    return Evaluator(X).log_likelihood(mixture)


def responsibilities(X, mixture) -> np.ndarray:
    """Posterior probabilities of the components, shape (n, k); rows sum to 1."""
    return Evaluator(X).responsibilities(mixture)


def e_step(X, mixture):
    """The E-step: mean log-likelihood per point of ``mixture`` and its responsibilities.

    Parameters
    ----------
    X : array of shape (n, d)
    mixture : Mixture

    Returns
    -------
    log_likelihood : float
    resp : array of shape (n, k)
    """
    ll, resp = Evaluator(X).e_step(mixture)
    return float(ll), resp


def m_step(X, resp, *, covariance="full", reg_covar=1e-6) -> Mixture:
    """The M-step: the mixture that maximises the expected log-likelihood under ``resp``.

    ``m_step(X, e_step(X, m)[1], ...)`` is the mixture :func:`em` yields one
    iteration after ``m`` (to rounding: the statistics are summed in another order).

    Parameters
    ----------
    X : array of shape (n, d)
    resp : array of shape (n, k)
        Non-negative weights of every point for every component (rows usually sum to 1).
    covariance : {"full", "diag", "spherical", "tied"}
    reg_covar : float
        Added to every covariance diagonal.

    Returns
    -------
    Mixture
    """
    X = np.ascontiguousarray(_check_data(X))
    _check_settings(covariance, reg_covar)
    resp = np.asarray(resp, dtype=np.float64)
    if resp.ndim != 2 or resp.shape[0] != X.shape[0]:
        raise ValueError(f"resp must have shape ({X.shape[0]}, k), got {resp.shape}")
    if not (np.all(np.isfinite(resp)) and np.all(resp >= 0)):
        raise ValueError("resp must be finite and non-negative")
    with _one_blas_thread():
        nk_raw = resp.sum(axis=0)
        guess = (resp.T @ X) / (nk_raw + _EPS10)[:, None]  # rounded far from the origin: a centre only
        nk_raw, s1, s2 = _weighted_statistics(X, resp, guess)
        return _mixture_from_statistics(
            nk_raw, s1, s2, guess, covariance, reg_covar, lambda c: _weighted_statistics(X, resp, c)
        )


def _weighted_statistics(X, resp, centers):
    """nk (k,), s1 (k, d) and s2 (k, d, d) of given responsibilities about ``centers``."""
    n, d = X.shape
    k = resp.shape[1]
    nk = np.zeros(k)
    s1 = np.zeros((k, d))
    s2 = np.zeros((k, d, d))
    for rows in _chunks(n, k):
        XT = np.ascontiguousarray(X[rows].T)
        RT = np.ascontiguousarray(resp[rows].T)
        for j in range(k):
            diff = XT - centers[j][:, None]
            nk[j] += RT[j].sum()
            s1[j] += diff @ RT[j]
            s2[j] += (diff * RT[j]) @ diff.T
    return nk, s1, s2


def em(
    X, start, *, tol=1e-6, max_iter=1000, covariance="full", reg_covar=1e-6, evaluator=None
) -> Iterator[EMStep]:
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
    evaluator : Evaluator, optional
        A prepared :class:`Evaluator` of ``X`` (a window keeps one), so the points
        are not copied again.

    Yields
    ------
    EMStep
        Iteration 0 is the start; the last one yielded is converged or iteration ``max_iter``.

    Raises
    ------
    ValueError
        Bad arguments, or a covariance that stops being positive definite.
    """
    if evaluator is None:
        evaluator = Evaluator(X)
    elif np.shape(X) != (evaluator.n, evaluator.d) and np.shape(X) != (evaluator.n,):
        raise ValueError(f"the evaluator holds {evaluator.n} points, X has shape {np.shape(X)}")
    _check_settings(covariance, reg_covar, tol, max_iter)
    if evaluator.d != start.d:
        raise ValueError(f"X has {evaluator.d} columns but the start mixture is {start.d}-dimensional")
    floor = _data_floor(evaluator.X)
    mixture = _project(start, covariance)
    ll, nk_raw, s1, s2 = evaluator.statistics(mixture)
    _check_finite(ll, 0)
    yield EMStep(0, mixture, float(ll), math.nan, False, _collapsed(mixture, nk_raw, reg_covar, floor))
    for iteration in range(1, int(max_iter) + 1):
        try:
            mixture = evaluator.m_step(mixture, covariance, reg_covar, statistics=(nk_raw, s1, s2))
        except ValueError as exc:
            raise ValueError(f"EM iteration {iteration}: {exc}") from None
        last_ll = ll
        ll, nk_raw, s1, s2 = evaluator.statistics(mixture)
        _check_finite(ll, iteration)
        delta = ll - last_ll
        converged = abs(delta) < tol
        collapsed = _collapsed(mixture, nk_raw, reg_covar, floor)
        yield EMStep(iteration, mixture, float(ll), float(delta), bool(converged), collapsed)
        if converged:
            return


def _check_finite(ll, iteration):
    if not math.isfinite(ll):
        raise ValueError(
            f"EM iteration {iteration}: the log-likelihood is not finite; {_COLLAPSE_HINT}"
        )


# A component is degenerate when it holds about one point or less ...
_COLLAPSE_WEIGHT = 1.5
# ... or its smallest variance is within this factor of reg_covar ...
_COLLAPSE_FLOOR_FACTOR = 10.0
# ... while the data's own smallest variance is this much larger than that.
_COLLAPSE_DATA_FACTOR = 1e3


def _data_floor(X):
    """Smallest eigenvalue of the data's covariance (0 for data on a line or a constant column)."""
    if X.shape[0] < 2:
        return 0.0
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    cov = np.atleast_2d(np.cov((X / scale).T)) * np.outer(scale, scale)
    if not np.all(np.isfinite(cov)):
        return 0.0
    return float(max(np.linalg.eigvalsh(cov)[0], 0.0))


def _collapsed(mixture, nk_raw, reg_covar, data_floor):
    """Indices of degenerate components (see :class:`EMStep`)."""
    light = nk_raw < _COLLAPSE_WEIGHT
    at_floor = np.zeros(mixture.k, dtype=bool)
    threshold = _COLLAPSE_FLOOR_FACTOR * reg_covar
    if 0 < threshold and _COLLAPSE_DATA_FACTOR * threshold < data_floor:
        at_floor = np.linalg.eigvalsh(mixture.covariances)[:, 0] < threshold
    return tuple(int(i) for i in np.flatnonzero(light | at_floor))


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
        seeds = _kmeans_plusplus(XcT, k, rng, X)
    labels = _nearest(XcT, seeds)
    if method == "kmeans":
        labels = _lloyd(XcT, seeds, labels)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    centers = center + np.stack([np.bincount(labels, weights=row, minlength=k) for row in XcT], axis=1) / (
        counts + _EPS10
    )[:, None]
    nk_raw, s1, s2 = _label_statistics(X, labels, centers)
    return _mixture_from_statistics(
        nk_raw, s1, s2, centers, "full", reg_covar, lambda c: _label_statistics(X, labels, c)
    )


def _label_statistics(X, labels, centers):
    """nk (k,), s1 (k, d), s2 (k, d, d) of hard assignments about ``centers``."""
    k, d = centers.shape
    diff = (X - centers[labels]).T  # (d, n)
    nk = np.bincount(labels, minlength=k).astype(np.float64)
    s1 = np.stack([np.bincount(labels, weights=row, minlength=k) for row in diff], axis=1)
    s2 = np.empty((k, d, d))
    for i in range(d):
        for j in range(i + 1):
            s2[:, i, j] = s2[:, j, i] = np.bincount(labels, weights=diff[i] * diff[j], minlength=k)
    return nk, s1, s2


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


class Cancelled(Exception):
    """The initialisation was stopped by the ``stop`` of :func:`cancellable`."""


_cancel = threading.local()


@contextlib.contextmanager
def cancellable(stop):
    """Within it, in this thread, :func:`initialize` raises :class:`Cancelled` as soon as
    ``stop()`` is true: k-means on a million points takes a second or more, and a window
    that no longer wants its result need not wait for it (nor let abandoned ones pile up).
    ``stop`` is asked between passes over the points (every few to ~50 ms at 1e6)."""
    previous = getattr(_cancel, "stop", None)
    _cancel.stop = stop
    try:
        yield
    finally:
        _cancel.stop = previous


def _checkpoint():
    stop = getattr(_cancel, "stop", None)
    if stop is not None and stop():
        raise Cancelled("the initialisation was cancelled")


def _nearest(XcT, centers):
    """Index of the nearest centre for every point (the first one on ties)."""
    best = _sq_distance(XcT, centers[0])
    labels = np.zeros(XcT.shape[1], dtype=np.intp)
    for j in range(1, len(centers)):
        _checkpoint()
        distance = _sq_distance(XcT, centers[j])
        labels[distance < best] = j
        np.minimum(best, distance, out=best)
    return labels


def _kmeans_plusplus(XcT, k, rng, X):
    """Greedy k-means++ (as scikit-learn: 2 + log k candidates per seed)."""
    n = XcT.shape[1]
    n_trials = 2 + int(math.log(k))
    centers = np.empty((k, XcT.shape[0]))
    centers[0] = XcT[:, rng.integers(n)]
    closest = _sq_distance(XcT, centers[0])
    for c in range(1, k):
        _checkpoint()
        potential = closest.sum()
        if potential <= 0:
            centers[c] = _unchosen_distinct_row(XcT, centers[:c], k, X)
            closest = np.minimum(closest, _sq_distance(XcT, centers[c]))
            continue
        candidates = np.searchsorted(np.cumsum(closest), rng.uniform(0, potential, n_trials))
        candidates = np.minimum(candidates, n - 1)
        best_closest, best_potential, best_candidate = None, np.inf, None
        for candidate in candidates:
            trial = np.minimum(closest, _sq_distance(XcT, XcT[:, candidate]))
            trial_potential = trial.sum()
            if trial_potential < best_potential:
                best_closest, best_potential, best_candidate = trial, trial_potential, candidate
        if best_potential >= potential:  # every candidate already coincides with a centre
            centers[c] = _unchosen_distinct_row(XcT, centers[:c], k, X)
            closest = np.minimum(closest, _sq_distance(XcT, centers[c]))
            continue
        centers[c] = XcT[:, best_candidate]
        closest = best_closest
    return centers


def _unchosen_distinct_row(XcT, chosen, k, X):
    """A (centred) data point that is none of ``chosen``, or the error that counts the distinct points.

    Squared distances may round to 0 between points that differ (or the greedy draw only
    found copies): the points of ``X`` themselves are compared here, exactly.
    """
    n_distinct = len(np.unique(X, axis=0))
    if n_distinct < k:
        raise _too_few_distinct(k, n_distinct)
    for row in np.unique(XcT.T, axis=0):
        if not any(np.array_equal(row, c) for c in chosen):
            return row
    return XcT[:, 0]  # distinct only below the rounding of centring: any point will do


def _lloyd(XcT, centers, labels, max_iter=10):
    k = centers.shape[0]
    for _ in range(max_iter):
        _checkpoint()
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
