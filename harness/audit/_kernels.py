"""Per-question success functions of i.i.d. sampling, on a grid of p and in closed form under a Beta spread of
p.

A question answered correctly with probability p per sample, whose wrong answers put a share phi on one wrong
answer and spread the rest over answers that never repeat, has (X correct, Y on the dominant wrong answer):

* pass@k   = 1 - (1 - p)^k                                   (coverage)
* G-Pass   = P(Bin(k, p) >= m),  m = ceil(tau k)             (Liu et al. 2024, arXiv 2412.13147, eq. 3)
* maj@k    = sum_x Bin(x; k, p) a_x(phi), with Y | X = x ~ Bin(k - x, phi) free of p, so
             a_x = P(Y < x) + P(Y = x) / 2 for x >= 2 (ties credit 1/2),  a_1 = P(Y <= 1) / k (the single
             correct
             vote ties with k - 1 one-vote classes), a_0 = 0.
  phi = 1 is "all wrong answers agree" (Condorcet; harness.maj_all_wrong_agree), phi = 0 "all wrong answers
  differ" (harness.maj_all_wrong_differ); both with the random tie rule.

Under p ~ Beta(alpha, beta) each expectation is closed form: E(1-p)^k = B(alpha, beta+k)/B(alpha, beta), and
the
count X is beta-binomial, so G-Pass and maj@k are finite sums of beta-binomial probabilities. Point masses at
p = 0 and p = 1 add 0 and 1 to every metric.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import betaln, gammaln

FloatArray = npt.NDArray[np.float64]
PHI_GRID = np.array([0.0, 0.25, 0.5, 0.75, 1.0])


def p_grid(size: int = 240) -> FloatArray:
    """0, 1 and logit-spaced interior points from 1e-7 to 1 - 1e-7 (dense where large-k pass@k moves)."""
    z = np.linspace(np.log(1e-7 / (1 - 1e-7)), -np.log(1e-7 / (1 - 1e-7)), size - 2)
    return np.concatenate(([0.0], 1.0 / (1.0 + np.exp(-z)), [1.0]))


@lru_cache(maxsize=4096)
def maj_weights(k: int, phi: float) -> tuple[float, ...]:
    """a_x for x = 0..k (see the module docstring)."""
    a = np.zeros(k + 1)
    if k >= 1:
        a[1] = stats.binom.cdf(1, k - 1, phi) / k if k > 1 else 1.0
    if k >= 2:
        x = np.arange(2, k + 1)
        a[2:] = stats.binom.cdf(x - 1, k - x, phi) + 0.5 * stats.binom.pmf(x, k - x, phi)
    return tuple(float(v) for v in a)


def kernel(metric: str, k: float, m: int, phi: float, p: FloatArray) -> FloatArray:
    """The per-question success probability of one published metric at each p."""
    p = np.asarray(p, dtype=np.float64)
    if metric in ("pass@k", "rerank@k"):
        with np.errstate(divide="ignore"):
            return np.where(p >= 1.0, 1.0, -np.expm1(k * np.log1p(-np.minimum(p, 1.0))))
    if metric == "g-pass@k":
        return np.asarray(stats.binom.sf(m - 1, int(k), p), dtype=np.float64)
    if metric == "maj@k":
        kk = int(k)
        a = np.asarray(maj_weights(kk, float(phi)))
        x = np.arange(kk + 1)
        return np.asarray(stats.binom.pmf(x[None, :], kk, p[:, None]) @ a, dtype=np.float64)
    raise ValueError(f"no sampling kernel for metric {metric!r}")


def beta_expect(metric: str, k: float, m: int, phi: float, mean: FloatArray, conc: FloatArray) -> FloatArray:
    """E over p ~ Beta(mean * conc, (1 - mean) * conc) of the metric's kernel (vectorised over mean, conc)."""
    mean_, conc_ = np.broadcast_arrays(np.asarray(mean, dtype=np.float64), np.asarray(conc, dtype=np.float64))
    a = mean_ * conc_
    b = (1.0 - mean_) * conc_
    if metric in ("pass@k", "rerank@k"):
        return np.asarray(-np.expm1(betaln(a, b + k) - betaln(a, b)), dtype=np.float64)
    kk = int(k)
    x = np.arange(kk + 1, dtype=np.float64).reshape((-1,) + (1,) * a.ndim)
    # beta-binomial pmf from log-gamma functions (scipy.stats.betabinom gives the same, ~20x slower per call)
    logpmf = (
        gammaln(kk + 1.0)
        - gammaln(x + 1.0)
        - gammaln(kk - x + 1.0)
        + betaln(x + a[None, ...], kk - x + b[None, ...])
        - betaln(a, b)[None, ...]
    )
    pmf = np.exp(logpmf)
    if metric == "g-pass@k":
        return np.asarray(np.minimum(pmf[m:].sum(axis=0), 1.0), dtype=np.float64)
    if metric == "maj@k":
        w = np.asarray(maj_weights(kk, float(phi)))
        return np.asarray(np.tensordot(w, pmf, axes=(0, 0)), dtype=np.float64)
    raise ValueError(f"no sampling kernel for metric {metric!r}")
