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
  With an abstention share alpha (a share alpha of the non-correct samples give no parsable answer and cast
  no vote), the dominant wrong answer's share becomes (1 - alpha) phi and a single correct vote ties only
  with the parsed one-vote classes: a_1 = E[1 / (1 + U + [Y = 1]); Y <= 1] with (Y, U, abstentions) ~
  Multinomial(k - 1; (1-alpha) phi, (1-alpha)(1-phi), alpha). Then maj@2 = p + p (1 - p) alpha: with a share
  a = (1 - p) alpha of all samples unparsed, maj@2 = maj@1 + E p a (= maj@1 (1 + a) for a constant a).
  phi = 1 is "all wrong answers agree" (Condorcet; harness.maj_all_wrong_agree), phi = 0 "all wrong answers
  differ" (harness.maj_all_wrong_differ); both with the random tie rule.

Under p ~ Beta(alpha, beta) each expectation is closed form: E(1-p)^k = B(alpha, beta+k)/B(alpha, beta), and
the
count X is beta-binomial, so G-Pass and maj@k are finite sums of beta-binomial probabilities. Point masses at
p = 0 and p = 1 add 0 and 1 to every metric.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import betaln, gammaln

FloatArray = npt.NDArray[np.float64]
PHI_GRID = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
ABSTAIN_GRID = np.array([0.0, 0.5, 1.0])


def p_grid(size: int = 240) -> FloatArray:
    """0, 1 and logit-spaced interior points from 1e-7 to 1 - 1e-7 (dense where large-k pass@k moves)."""
    z = np.linspace(np.log(1e-7 / (1 - 1e-7)), -np.log(1e-7 / (1 - 1e-7)), size - 2)
    return np.concatenate(([0.0], 1.0 / (1.0 + np.exp(-z)), [1.0]))


@lru_cache(maxsize=4096)
def maj_weights(k: int, phi: float, abstain: float = 0.0) -> tuple[float, ...]:
    """a_x for x = 0..k (see the module docstring); ``abstain`` is the share of non-correct samples unparsed."""
    a = np.zeros(k + 1)
    eff = (1.0 - abstain) * phi
    if k >= 1:
        if abstain <= 0.0:
            a[1] = stats.binom.cdf(1, k - 1, phi) / k if k > 1 else 1.0
        else:
            a[1] = _single_vote_credit(k - 1, eff, (1.0 - abstain) * (1.0 - phi), abstain)
    if k >= 2:
        x = np.arange(2, k + 1)
        a[2:] = stats.binom.cdf(x - 1, k - x, eff) + 0.5 * stats.binom.pmf(x, k - x, eff)
    return tuple(float(v) for v in a)


def _single_vote_credit(r: int, dom: float, single: float, abstain: float) -> float:
    """E[1 / (1 + U + [Y = 1]); Y <= 1] for (Y, U, rest) ~ Multinomial(r; dom, single, abstain)."""
    if r == 0:
        return 1.0
    total = 0.0
    for y in (0, 1):
        if y > r:
            continue
        u = np.arange(0, r - y + 1)
        rest = r - y - u
        with np.errstate(divide="ignore"):
            logp = (
                gammaln(r + 1.0)
                - gammaln(y + 1.0)
                - gammaln(u + 1.0)
                - gammaln(rest + 1.0)
                + (y * np.log(dom) if y else 0.0)
                + np.where(u > 0, u * np.log(max(single, 1e-300)), 0.0)
                + np.where(rest > 0, rest * np.log(max(abstain, 1e-300)), 0.0)
            )
        if y == 1 and dom <= 0.0:
            continue
        total += float(np.sum(np.exp(logp) / (1.0 + u + y)))
    return total


def kernel(metric: str, k: float, m: int, phi: float, p: FloatArray, abstain: float = 0.0) -> FloatArray:
    """The per-question success probability of one published metric at each p."""
    p = np.asarray(p, dtype=np.float64)
    if metric in ("pass@k", "rerank@k"):
        with np.errstate(divide="ignore"):
            return np.where(p >= 1.0, 1.0, -np.expm1(k * np.log1p(-np.minimum(p, 1.0))))
    if metric == "g-pass@k":
        return np.asarray(stats.binom.sf(m - 1, int(k), p), dtype=np.float64)
    if metric == "maj@k":
        kk = int(k)
        a = np.asarray(maj_weights(kk, float(phi), float(abstain)))
        x = np.arange(kk + 1)
        return np.asarray(stats.binom.pmf(x[None, :], kk, p[:, None]) @ a, dtype=np.float64)
    raise ValueError(f"no sampling kernel for metric {metric!r}")


@lru_cache(maxsize=1024)
def _log_binom(k: int) -> FloatArray:
    x = np.arange(k + 1, dtype=np.float64)
    return np.asarray(gammaln(k + 1.0) - gammaln(x + 1.0) - gammaln(k - x + 1.0), dtype=np.float64)


@lru_cache(maxsize=256)
def _binom_matrix(k: int, size: int) -> FloatArray:
    p = p_grid(size)
    return np.asarray(stats.binom.pmf(np.arange(k + 1)[None, :], k, p[:, None]), dtype=np.float64)


@lru_cache(maxsize=4096)
def grid_kernel(metric: str, k: float, m: int, phi: float, abstain: float, size: int) -> FloatArray:
    """:func:`kernel` on ``p_grid(size)``, cached (the LP design rows; the binomial matrix is shared by every
    wrong-answer structure)."""
    if metric == "maj@k":
        kk = int(k)
        out = _binom_matrix(kk, size) @ np.asarray(maj_weights(kk, float(phi), float(abstain)))
    else:
        out = kernel(metric, k, m, phi, p_grid(size), abstain)
    out.setflags(write=False)
    return np.asarray(out, dtype=np.float64)


def beta_expect_scalar(metric: str, k: float, m: int, phi: float, mean: float, conc: float) -> float:
    """:func:`beta_expect` for one (mean, concentration): the optimiser's inner loop (scalar math for pass@k,
    cached binomial coefficients otherwise); the same formulas."""
    a = mean * conc
    b = (1.0 - mean) * conc
    if metric in ("pass@k", "rerank@k"):
        lb = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
        lbk = math.lgamma(a) + math.lgamma(b + k) - math.lgamma(a + b + k)
        return -math.expm1(lbk - lb)
    kk = int(k)
    x = np.arange(kk + 1, dtype=np.float64)
    lb = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    pmf = np.exp(_log_binom(kk) + gammaln(x + a) + gammaln(kk - x + b) - math.lgamma(a + b + kk) - lb)
    if metric == "g-pass@k":
        return float(min(pmf[m:].sum(), 1.0))
    if metric == "maj@k":
        return float(np.dot(np.asarray(maj_weights(kk, float(phi))), pmf))
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
