"""pass@k, pass^k and at-least-m-of-k: exact estimators vectorised over questions and k.

``measured`` values are the unbiased estimators over all k-subsets of the n logged samples (without replacement,
hypergeometric; Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1):

    pass@k = 1 - C(n-c, k) / C(n, k),   pass^k = C(c, k) / C(n, k),   P(>= m of k) = hypergeometric tail.

``iid`` values are the plug-in predictions of independent sampling with p = c/n (with replacement):
1 - (1-p)^k, p^k and the binomial tail. G-Pass@k_tau (Liu et al. 2024, arXiv 2412.13147) is at-least-m-of-k with
m = ceil(tau * k). Entries with k > n are NaN for ``measured`` (no k-subset exists).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit
from scipy import stats

from harness._validation import check_choice, check_counts, check_ks
from harness.estimators._pmf import log_hypergeom

FloatArray = npt.NDArray[np.float64]
KINDS = ("measured", "iid")



@njit(cache=True)
def _survival_at(n: npt.NDArray[np.int64], c: npt.NDArray[np.int64], ks: npt.NDArray[np.int64]) -> FloatArray:
    """g[q, j] = C(n-c, k_j)/C(n, k_j) = prod_{i<k_j} (1 - c/(n-i)) for sorted ks: O(max k) per question, no
    (questions x k) intermediate. Factors are clipped at 0, so g = 0 once k > n - c (and for k > n)."""
    out = np.empty((n.shape[0], ks.shape[0]))
    for q in range(n.shape[0]):
        g = 1.0
        j = 0
        cq = float(c[q])
        nq = n[q]
        for i in range(ks[-1]):
            if i < nq:
                factor = 1.0 - cq / (nq - i)
                g *= factor if factor > 0.0 else 0.0
            else:
                g = 0.0
            while j < ks.shape[0] and ks[j] == i + 1:
                out[q, j] = g
                j += 1
    return out


@njit(cache=True)
def _survival_sum_all(n: npt.NDArray[np.int64], c: npt.NDArray[np.int64], kmax: int) -> FloatArray:
    """sum over questions of C(n-c, k)/C(n, k) for every k = 1..kmax (one running product per question)."""
    total = np.zeros(kmax)
    for q in range(n.shape[0]):
        g = 1.0
        cq = float(c[q])
        nq = n[q]
        for i in range(min(kmax, nq)):
            factor = 1.0 - cq / (nq - i)
            g *= factor if factor > 0.0 else 0.0
            if g == 0.0:
                break
            total[i] += g
    return total


def pass_at_k(n: npt.ArrayLike, c: npt.ArrayLike, ks: npt.ArrayLike, *, kind: str = "measured") -> FloatArray:
    """pass@k per question (rows) and k (columns).

    ``measured``: the unbiased estimator 1 - C(n-c,k)/C(n,k) computed as 1 - prod_{i<k} (1 - c/(n-i)), which is
    stable for all k (no large binomials) and costs O(max k) per question for all k at once (compiled).
    ``iid``: 1 - (1 - c/n)^k.
    """
    check_choice("kind", kind, KINDS)
    n_, c_ = check_counts(n, c)
    k_ = check_ks(ks)
    if kind == "iid":
        p = (c_ / n_)[:, None]
        with np.errstate(divide="ignore"):
            return -np.expm1(k_[None, :] * np.log1p(-np.minimum(p, 1.0)))
    out = 1.0 - _survival_at(n_, c_, k_)
    out[k_[None, :] > n_[:, None]] = np.nan
    return out


def pass_at_k_all(n: npt.ArrayLike, c: npt.ArrayLike) -> FloatArray:
    """The mean pass@k over questions for every k = 1..max n (NaN where some question has n < k).

    One compiled running product per question, so 10,000 questions x n = 10,000 needs no 10^8-cell matrix.
    """
    n_, c_ = check_counts(n, c)
    kmax = int(n_.max())
    out = 1.0 - _survival_sum_all(n_, c_, kmax) / len(n_)
    out[np.arange(1, kmax + 1) > n_.min()] = np.nan
    return out


def pass_at_k_variance(
    n: npt.ArrayLike, c: npt.ArrayLike, ks: npt.ArrayLike, *, p: npt.ArrayLike | None = None
) -> FloatArray:
    """Within-question variance of the unbiased pass@k estimator when c ~ Binomial(n, p).

    With ``p`` given: the exact variance sum_c Bin(c; n, p) g(c)^2 - (1-p)^(2k), g(c) = C(n-c,k)/C(n,k).
    Without: its unbiased estimate g(c)^2 - C(n-c,2k)/C(n,2k) (Var = E[g^2] - (1-p)^(2k), and
    C(n-c,2k)/C(n,2k) is unbiased for (1-p)^(2k)); NaN where 2k > n (no unbiased estimate exists).
    """
    n_, c_ = check_counts(n, c)
    k_ = check_ks(ks)
    if p is None:
        g = 1.0 - pass_at_k(n_, c_, k_)
        two_k = 2 * k_
        g2 = np.full((len(n_), len(k_)), np.nan)
        ok = two_k <= n_.max()
        if ok.any():
            g2[:, ok] = 1.0 - pass_at_k(n_, c_, two_k[ok])
        return np.asarray(g * g - g2, dtype=np.float64)
    p_ = np.broadcast_to(np.asarray(p, dtype=np.float64), n_.shape)
    out = np.empty((len(n_), len(k_)))
    for qi in range(len(n_)):
        cc = np.arange(n_[qi] + 1)
        w = stats.binom.pmf(cc, n_[qi], p_[qi])
        g = 1.0 - pass_at_k(np.full_like(cc, n_[qi]), cc, k_)
        out[qi] = (w[:, None] * np.nan_to_num(g) ** 2).sum(axis=0) - (1.0 - p_[qi]) ** (2 * k_)
        out[qi, k_ > n_[qi]] = np.nan
    return np.maximum(out, 0.0)


def at_least_m_of_k(
    n: npt.ArrayLike, c: npt.ArrayLike, ks: npt.ArrayLike, m: npt.ArrayLike, *, kind: str = "measured"
) -> FloatArray:
    """P(at least m of k samples correct) per question and k; ``m`` is one value or one per k.

    ``measured``: hypergeometric tail over the n logged samples; ``iid``: binomial tail with p = c/n.
    """
    check_choice("kind", kind, KINDS)
    n_, c_ = check_counts(n, c)
    k_ = check_ks(ks)
    m_ = np.broadcast_to(np.asarray(m, dtype=np.int64), k_.shape)
    out = np.empty((len(n_), len(k_)))
    for j, (k, mm) in enumerate(zip(k_.tolist(), m_.tolist(), strict=True)):
        if mm <= 0:
            out[:, j] = 1.0
            continue
        if kind == "iid":
            out[:, j] = stats.binom.sf(mm - 1, k, c_ / n_)
            continue
        # sum of the hypergeometric pmf over x = m..min(k, c), vectorised over questions
        x = np.arange(mm, k + 1, dtype=np.float64)
        lp = log_hypergeom(x[None, :], n_[:, None], c_[:, None], k)
        out[:, j] = np.minimum(np.exp(lp).sum(axis=1), 1.0)
        out[k > n_, j] = np.nan
    return out


def pass_hat_k(n: npt.ArrayLike, c: npt.ArrayLike, ks: npt.ArrayLike, *, kind: str = "measured") -> FloatArray:
    """pass^k: all k samples correct (Yao et al. 2024, tau-bench): C(c,k)/C(n,k), or p^k for ``iid``."""
    k_ = check_ks(ks)
    return at_least_m_of_k(n, c, k_, k_, kind=kind)


def g_pass_at_k(
    n: npt.ArrayLike, c: npt.ArrayLike, ks: npt.ArrayLike, tau: float, *, kind: str = "measured"
) -> FloatArray:
    """G-Pass@k_tau = P(at least ceil(tau k) of k correct) (Liu et al. 2024, arXiv 2412.13147, eq. 3)."""
    if not 0.0 < tau <= 1.0:
        from harness._validation import HarnessInputError

        raise HarnessInputError(f"tau={tau!r} is outside (0, 1]", fix="G-Pass@k thresholds are in (0, 1]")
    k_ = check_ks(ks)
    m = np.array([math.ceil(tau * k - 1e-12) for k in k_.tolist()], dtype=np.int64)
    return at_least_m_of_k(n, c, k_, m, kind=kind)
