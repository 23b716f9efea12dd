"""Exact majority vote maj@k (plurality over answer classes) with tie rules, without Monte Carlo.

Two kinds, for a question whose n logged samples fall into a correct class of size a0, wrong classes of sizes
a1 >= a2 >= ... and r unanswered samples (wrong, no vote):

* ``measured``: the expectation over all C(n, k) k-subsets (sampling without replacement; multivariate
  hypergeometric). This is the U-statistic, the unbiased estimator of maj@k under i.i.d. sampling.
* ``iid``: the prediction of sampling k times with replacement from the question's empirical answer
  distribution (multinomial with probabilities a_j / n).

Tie rules for the credit when the correct class ties with t wrong classes for the most votes: ``strict`` 0,
``weak`` 1, ``random`` 1/(1+t) (the default; what "first seen wins" gives under exchangeable order). The correct
class needs at least one vote.

Method. Condition on the correct class's count x. The other counts given x are a multivariate hypergeometric
(multinomial) draw of m = k - x from the non-correct pool. Write it as independent Binomial(a_j, theta)
(Poisson(lambda a_j / N')) variables conditioned on their sum being m (the conditioning identity, e.g. Johnson,
Kotz & Balakrishnan, *Discrete Multivariate Distributions*, ch. 39), so that

    P(all Y_j < x, sum = m) / P(sum = m)

factorises into a convolution over classes. A dynamic programme over the "competitive" classes (those that can
reach x with non-negligible probability), vectorised over every x at once and batched with FFT convolution,
gives the exact sum; the other wrong classes and the unanswered samples form one free binomial (Poisson) pool.
Classes are treated as non-competitive, and x values skipped, only where a rigorous Chernoff bound (Hoeffding
1963: hypergeometric tails are dominated by binomial ones) puts the neglected probability below ``EPS``; the total
neglected mass per value is below (number of classes + 2) x ``EPS`` = about 1e-15.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.signal import fftconvolve

from harness._validation import check_choice, check_ks
from harness.estimators._pmf import log_binom, log_hypergeom, log_poisson
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
TIES = ("random", "strict", "weak")
KINDS = ("measured", "iid")
EPS = 1e-17
_LOG_EPS = float(np.log(EPS))
_DIRECT_CELLS = 60_000  # below this many multiply-adds per kernel offset block, convolve directly (exact)


def _kl_bernoulli(x: FloatArray, q: FloatArray) -> FloatArray:
    """KL(x || q) between Bernoulli distributions, elementwise (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(x > 0, x * np.log(x / q), 0.0)
        b = np.where(x < 1, (1 - x) * np.log((1 - x) / (1 - q)), 0.0)
    return np.asarray(a + b, dtype=np.float64)


def _log_upper_tail_bound(t: float, m: float, q: FloatArray) -> FloatArray:
    """log of a Chernoff bound on P(Y >= t), Y ~ Bin(m, q) or hypergeometric with the same mean (<= 0)."""
    if m <= 0:
        return np.where(t <= 0, 0.0, -np.inf)
    frac = t / m
    if frac > 1:
        return np.full(q.shape, -np.inf)
    return np.where(frac <= q, 0.0, -m * _kl_bernoulli(np.full(q.shape, frac), q))


def _log_lower_tail_bound(t: float, m: float, q: FloatArray) -> FloatArray:
    """log of a Chernoff bound on P(Y <= t) for the same Y."""
    if m <= 0:
        return np.where(t >= 0, 0.0, -np.inf)
    frac = t / m
    if frac < 0:
        return np.full(q.shape, -np.inf)
    return np.where(frac >= q, 0.0, -m * _kl_bernoulli(np.full(q.shape, frac), q))


def _conv_rows(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise full convolution of two 2-D arrays (same number of rows)."""
    if a.shape[1] * b.shape[1] * a.shape[0] <= _DIRECT_CELLS or min(a.shape[1], b.shape[1]) <= 8:
        out = np.zeros((a.shape[0], a.shape[1] + b.shape[1] - 1))
        short, long_ = (a, b) if a.shape[1] <= b.shape[1] else (b, a)
        for i in range(short.shape[1]):
            out[:, i : i + long_.shape[1]] += short[:, i : i + 1] * long_
        return out
    res = fftconvolve(a, b, axes=1)
    return np.asarray(np.maximum(res, 0.0), dtype=np.float64)


@lru_cache(maxsize=65536)
def _maj_one(a0: int, wrong: tuple[int, ...], rest: int, k: int, ties: str, kind: str) -> float:
    """Exact maj@k for one question: correct class a0, wrong classes ``wrong`` (desc), ``rest`` non-voting."""
    if a0 == 0:
        return 0.0
    pool = sum(wrong) + rest  # non-correct samples
    total = a0 + pool
    if pool == 0:
        return 1.0
    x_all = np.arange(0, k + 1, dtype=np.float64)
    if kind == "measured":
        lp0 = log_hypergeom(x_all, total, a0, k)
    else:
        lp0 = log_binom(x_all, k, a0 / total)
    keep = (lp0 > _LOG_EPS) & (x_all >= 1)
    if not keep.any():
        return 0.0
    xs = x_all[keep].astype(np.int64)
    p0 = np.exp(lp0[keep])
    xlo, xhi = int(xs[0]), int(xs[-1])
    m_max, m_min = k - xlo, k - xhi
    sizes = np.asarray(wrong, dtype=np.float64)
    q = sizes / pool
    # classes that exceed every plausible x with near certainty: the correct class never wins
    if len(sizes) and m_min > 0:
        always_above = _log_lower_tail_bound(float(xhi), float(m_min), q[:1]) < _LOG_EPS
        if kind == "measured":
            always_above &= sizes[:1] > xhi
        if bool(always_above[0]):
            return 0.0
    # competitive classes: P(Y_j >= xlo) not negligible at the largest m (a class with a_j < xlo can never)
    log_up = _log_upper_tail_bound(float(xlo), float(m_max), q) if len(sizes) else np.zeros(0)
    comp_mask = log_up >= _LOG_EPS - np.log(max(len(sizes), 1))
    if kind == "measured":
        comp_mask &= sizes >= xlo
    comp = [int(s) for s in sizes[comp_mask]]
    free = pool - sum(comp)
    if not comp:
        return float(min(p0.sum(), 1.0))
    # tilt: independent Binomial(a, theta) (measured) or Poisson(lam * a / pool) (iid) conditioned on sum = m
    m_c = float(np.clip(k - float((xs * p0).sum() / p0.sum()), 0.5, pool - 0.5 if kind == "measured" else np.inf))
    if kind == "measured":
        theta = m_c / pool

        def logpmf(i: FloatArray, a: float) -> FloatArray:
            return log_binom(i, a, theta)
    else:
        lam = m_c

        def logpmf(i: FloatArray, a: float) -> FloatArray:
            return log_poisson(i, lam * a / pool)

    nx = len(xs)
    tie_dim = len(comp) + 1 if ties == "random" else 1
    state = np.ones((tie_dim, nx, 1)) * (np.arange(tie_dim) == 0)[:, None, None]
    offset = 0
    for a in comp:
        lo = _class_floor(a, pool, m_min, kind)
        hi = min(a if kind == "measured" else k, xhi, m_max)
        if hi < lo:
            return 0.0 if lo > xhi else float(min(p0.sum(), 1.0))
        vals = np.arange(lo, hi + 1, dtype=np.float64)
        f = np.exp(logpmf(vals, a))
        below = vals[None, :] < xs[:, None] if ties != "weak" else vals[None, :] <= xs[:, None]
        kernel = f[None, :] * below
        new_len = state.shape[2] + len(vals) - 1
        new = np.zeros((tie_dim, nx, new_len))
        for t in range(tie_dim):
            if state[t].any():
                new[t] = _conv_rows(state[t], kernel)
        if ties == "random":
            rows = np.nonzero((xs >= lo) & (xs <= hi))[0]
            if len(rows):
                shift = xs[rows] - lo
                cols = shift[:, None] + np.arange(state.shape[2])[None, :]
                fx = f[shift][:, None]
                for t in range(tie_dim - 1):
                    new[t + 1][rows[:, None], cols] += state[t][rows] * fx
        state = new
        offset += lo
    # combine with the free pool: need pmf_free(m_x - s), s = offset + column
    s_idx = np.arange(state.shape[2])
    d = (k - xs)[:, None] - offset - s_idx[None, :]
    d_flat = np.arange(int(d.min()), int(d.max()) + 1)
    if kind == "measured":
        lf = log_binom(d_flat.astype(np.float64), free, theta)
        lnorm = log_binom((k - xs).astype(np.float64), pool, theta)
    else:
        lf = log_poisson(d_flat.astype(np.float64), lam * free / pool)
        lnorm = log_poisson((k - xs).astype(np.float64), lam)
    g = np.exp(lf)[d - d_flat[0]]
    weights = 1.0 / (1.0 + np.arange(tie_dim))
    numer = np.einsum("t,txs,xs->x", weights, state, g)
    ratio = np.where(np.isfinite(lnorm), numer * np.exp(-lnorm), 0.0)
    return float(np.clip((p0 * ratio).sum(), 0.0, 1.0))


def _class_floor(a: int, pool: int, m_min: int, kind: str) -> int:
    """Smallest count of a class of size a that has non-negligible probability at the fewest draws m_min."""
    if m_min <= 0:
        return 0
    i = np.arange(0, min(a, m_min) + 1 if kind == "measured" else m_min + 1, dtype=np.float64)
    lp = log_hypergeom(i, pool, a, m_min) if kind == "measured" else log_binom(i, m_min, a / pool)
    cdf = np.cumsum(np.exp(lp))
    return int(np.searchsorted(cdf, EPS, side="right"))


def maj_at_k_one(
    correct: int, wrong: list[int] | tuple[int, ...], abstain: int, ks: npt.ArrayLike,
    *, ties: str = "random", kind: str = "measured",
) -> FloatArray:
    """maj@k of one question for each k (NaN where kind is measured and k > n)."""
    check_choice("ties", ties, TIES)
    check_choice("kind", kind, KINDS)
    k_ = check_ks(ks)
    w = tuple(sorted((int(v) for v in wrong if v > 0), reverse=True))
    n = int(correct) + sum(w) + int(abstain)
    return np.array([
        np.nan if (kind == "measured" and k > n) else _maj_one(int(correct), w, int(abstain), int(k), ties, kind)
        for k in k_.tolist()
    ])


def maj_at_k(
    counts: QuestionCounts, ks: npt.ArrayLike, *, ties: str = "random", kind: str = "measured",
    progress: Callable[[int, int], None] | None = None,
) -> FloatArray:
    """Exact maj@k per question (rows) and k (columns); see the module docstring for the method."""
    check_choice("ties", ties, TIES)
    check_choice("kind", kind, KINDS)
    k_ = check_ks(ks)
    classes = counts.class_matrix()
    assert counts.abstain is not None
    out = np.empty((counts.n_questions, len(k_)))
    for i in range(counts.n_questions):
        row = classes[i]
        out[i] = maj_at_k_one(int(row[0]), tuple(row[1:].tolist()), int(counts.abstain[i]), k_, ties=ties, kind=kind)
        if progress is not None:
            progress(i + 1, counts.n_questions)
    return out


# ----------------------------------------------------------------------------- closed forms (binary answers)
def _x_pmf(n: int, c: int, k: int, kind: str) -> FloatArray:
    x = np.arange(0, k + 1, dtype=np.float64)
    lp = log_hypergeom(x, n, c, k) if kind == "measured" else log_binom(x, k, c / n)
    return np.exp(lp)


def maj_all_wrong_agree(n: int, c: int, ks: npt.ArrayLike, *, ties: str = "random", kind: str = "iid") -> FloatArray:
    """maj@k when every wrong sample gives the same wrong answer (binary vote; Condorcet 1785).

    Success iff the correct count X exceeds k/2; at X = k/2 the tie rule applies.
    """
    check_choice("ties", ties, TIES)
    k_ = check_ks(ks)
    out = []
    for k in k_.tolist():
        if kind == "measured" and k > n:
            out.append(np.nan)
            continue
        f = _x_pmf(n, c, k, kind)
        win = f[k // 2 + 1 :].sum()
        tie = f[k // 2] if k % 2 == 0 else 0.0
        credit = {"strict": 0.0, "weak": 1.0, "random": 0.5}[ties]
        out.append(min(win + credit * tie, 1.0))
    return np.array(out)


def maj_all_wrong_differ(n: int, c: int, ks: npt.ArrayLike, *, ties: str = "random", kind: str = "iid") -> FloatArray:
    """maj@k when every wrong sample gives a different answer (each wrong class has one vote).

    Two correct votes always win; one correct vote ties with the k-1 drawn wrong samples (credit 1/k under
    ``random``, 0 under ``strict`` unless k = 1, 1 under ``weak``).
    """
    check_choice("ties", ties, TIES)
    k_ = check_ks(ks)
    out = []
    for k in k_.tolist():
        if kind == "measured" and k > n:
            out.append(np.nan)
            continue
        f = _x_pmf(n, c, k, kind)
        one = f[1] if k >= 1 else 0.0
        credit = {"strict": 1.0 if k == 1 else 0.0, "weak": 1.0, "random": 1.0 / k}[ties]
        out.append(min(f[2:].sum() + credit * one, 1.0))
    return np.array(out)
