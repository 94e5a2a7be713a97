"""The bound EM climbs: log p(X | theta) = L(q, theta) + KL(q || p(z | X, theta)).

For data X, a distribution q over the components of every point (responsibilities,
usually those of some earlier mixture) and parameters theta,

    L(q, theta) = sum_i sum_k q_ik (log pi_k N(x_i | theta_k) - log q_ik)
    KL          = sum_i sum_k q_ik (log q_ik - log p(k | x_i, theta)) = log p(X | theta) - L

The E-step sets q to p(z | X, theta), closing the gap (KL = 0); the M-step raises L
with q held fixed, and the gap opens again because q now belongs to the old theta.
Everything here is per point (divided by n), like the log-likelihood :func:`emviz.gmm.em`
reports. No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz import gmm

__all__ = ["Bound", "evidence_bound"]


@dataclass(frozen=True)
class Bound:
    """The three numbers of the decomposition, each a mean per point.

    ``log_likelihood`` is log p(X | theta) / n, ``lower_bound`` L(q, theta) / n and
    ``gap`` KL(q || p(z | X, theta)) / n, computed from its own formula (not as the
    difference), so it is accurate near 0 (exactly 0 when q is theta's own posterior).
    """

    log_likelihood: float
    lower_bound: float
    gap: float


def _weighted_log_prob(evaluator: gmm.Evaluator, mixture: gmm.Mixture, rows: slice) -> np.ndarray:
    """log(pi_k N(x | mu_k, Sigma_k)) of the points ``rows``, shape (k, c)."""
    return evaluator.weighted_log_prob(mixture, rows)


def _log_softmax(weighted):
    top = weighted.max(axis=0)
    log_norm = top + np.log(np.exp(weighted - top).sum(axis=0))
    return weighted - log_norm, log_norm


def evidence_bound(X, posterior: gmm.Mixture, mixture: gmm.Mixture, *, evaluator: gmm.Evaluator | None = None) -> Bound:
    """L(q, theta), KL(q || p(z | X, theta)) and log p(X | theta) for q the responsibilities of ``posterior``.

    Parameters
    ----------
    X : array of shape (n, d)
        Ignored when ``evaluator`` (built on the same X) is given.
    posterior : Mixture
        q = its responsibilities on X; ``posterior`` is ``mixture`` right after an E-step.
    mixture : Mixture
        theta.
    evaluator : gmm.Evaluator, optional
        Reused features of X (a window keeps one).
    """
    if evaluator is None:
        evaluator = gmm.Evaluator(X)
    n = evaluator.n
    total_ll = total_bound = total_gap = 0.0
    for rows in gmm._chunks(n, max(mixture.k, posterior.k)):
        log_joint = _weighted_log_prob(evaluator, mixture, rows)  # log pi_k N(x | theta_k)
        log_post, log_px = _log_softmax(log_joint)  # log p(k | x, theta), log p(x | theta)
        log_q, _ = _log_softmax(_weighted_log_prob(evaluator, posterior, rows))
        q = np.exp(log_q)
        held = q > 0  # 0 log 0 = 0: a component with no responsibility adds nothing
        with np.errstate(invalid="ignore"):
            total_bound += np.where(held, q * (log_joint - log_q), 0.0).sum()
            total_gap += np.where(held, q * (log_q - log_post), 0.0).sum()
        total_ll += log_px.sum()
    return Bound(float(total_ll / n), float(total_bound / n), float(total_gap / n))
