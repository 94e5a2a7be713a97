"""The engine's small linear algebra runs on one BLAS thread.

OpenBLAS's threads turn a (d x d) triangular solve into a 20 ms wait on a busy 2-core
machine (0.04 ms on one thread): 60 ms per Mixture at k = 3, which capped EM at
n = 1e4 to about 20 iterations a second and added 0.18 s to every start (the presets
build their mixtures at import). No timing here: the thread count is checked where
the solve happens.
"""

import numpy as np
from threadpoolctl import threadpool_info

from emviz import gmm


def _blas_threads():
    return max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def test_precision_factors_are_solved_on_one_blas_thread(monkeypatch):
    """d >= 3: scipy's solve_triangular (d <= 2 is worked out in numpy, with no BLAS call)."""
    import scipy.linalg

    seen = []
    solve = scipy.linalg.solve_triangular

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return solve(*args, **kwargs)

    monkeypatch.setattr(scipy.linalg, "solve_triangular", spy)
    mixture = gmm.Mixture([0.5, 0.5], [[0.0, 0.0, 0.0], [3.0, 1.0, 0.0]],
                          [np.eye(3), [[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]]])
    assert seen == [1, 1]
    # the factor is still scikit-learn's precisions_cholesky_: P P^T = inverse covariance
    for cov, prec in zip(mixture.covariances, mixture._prec_chol):
        np.testing.assert_allclose(prec @ prec.T, np.linalg.inv(cov), rtol=1e-12)
