"""Screening before the exact maj@k kernels: classes that cannot matter are pooled with the non-voting samples,
decided votes are returned at once, a vote between two classes is computed in O(sqrt k) and one correct class
against several wrong ones by the sweep (kind 'iid').

Let a be the largest correct class and b the largest wrong class, and take any other class j. Pooling j with the
unanswered samples changes the outcome of a vote only when Y_j >= max(X_a, Y_b) (otherwise the set of classes on
top is the same), and for the one of a, b with the larger share (top, share pi_top > pi_j)

    P(Y_j >= X_top) <= (1 - (sqrt(pi_top) - sqrt(pi_j))^2)^k                                    (Chernoff)

since E exp(t (1[j] - 1[top])) for one draw is minimised at e^t = sqrt(pi_top / pi_j). The bound holds for draws
without replacement too (Hoeffding 1963, Theorem 4: the moment generating function of a sum drawn without
replacement is at most that of the sum drawn with replacement). A class is pooled when its bound is at most
eps / (classes + 2); the same bound between a and b decides the vote (1 or 0) when every other class is pooled.
The neglected mass is therefore below eps in total, on top of the kernels' own eps.

No wrong class (random or weak ties, or one correct class): the credit is 1 - P(every draw unanswered).

One correct class against two or more wrong ones (kind 'iid'), where ``_sweep_kernel.prefer_sweep`` finds it
cheaper: the sweep over the correct count (``_sweep_kernel``), status SWEPT with its value.

Two classes left (kind 'iid'): with T = X_a + Y_b ~ Binomial(k, s), s = pi_a + pi_b, and X_a | T = t ~ Binomial(t,
r), r = pi_a / s, maj@k = sum_{t >= 1} P(T = t) [P(X_a > t/2) + credit P(X_a = t/2)] (credit 1/2, 0, 1 for random,
strict and weak ties; no vote at all, t = 0, credits nothing). The sum runs over the t window outside which the
binomial tails are below eps / 4; the conditional tail P(Bin(t, q) < t/2), q = max(r, 1 - r) so that it is the
small one, follows t by the recurrences L(2h + 1) = L(2h) + (1 - q) f_2h(h) and L(2h + 2) = L(2h + 1) - q
f_2h+1(h), re-summed directly every 64 steps; the binomial pmfs at the anchors use Loader's (2000) saddle-point
form (R's dbinom), whose relative error does not grow with k as lgamma differences do (measured against 40-digit
references: within 5e-14 up to k = 20,000).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from harness.estimators._loader_pmf import _log_binom_pmf, binomial_window
from harness.estimators._majority_kernel import TIE_STRICT, tie_credit
from harness.estimators._sweep_kernel import prefer_sweep, sweep_iid

IntArray = npt.NDArray[np.int64]

DECIDED, TWO_CLASS, REDUCED, SWEPT = 0, 1, 2, 4
_ANCHOR_EVERY = 64


@njit(cache=True)
def log_chernoff(top: float, other: float, k: int) -> float:
    """log of (1 - (sqrt(top) - sqrt(other))^2)^k, a bound on P(Y_other >= X_top) when top > other (0 if not)."""
    if other >= top:
        return 0.0
    d = math.sqrt(top) - math.sqrt(other)
    return k * math.log1p(-d * d)


@njit(cache=True)
def screen(
    c: IntArray, w: IntArray, rest: int, k: int, ties: int, measured: bool, log_eps: float
) -> tuple[int, float, IntArray, IntArray, int]:
    """(status, value, correct, wrong, rest): DECIDED, TWO_CLASS or SWEPT with the value, or REDUCED with the
    classes left (descending) and the enlarged non-voting pool. ``c`` and ``w`` are descending, without zeros, ``c``
    non-empty; k >= 3."""
    n = rest
    for a in c:
        n += a
    for a in w:
        n += a
    if w.shape[0] == 0 and (ties != TIE_STRICT or c.shape[0] == 1):  # credit iff some sample votes
        return DECIDED, 1.0 - _all_unanswered(n, rest, k, measured), c, w, rest
    if w.shape[0] == 0:
        return REDUCED, -1.0, c, w, rest
    pa = c[0] / n
    pb = w[0] / n
    if pb > pa:  # a correct class must reach the leading wrong one to win anything
        bound = 0.0
        for a in c:
            bound += math.exp(log_chernoff(pb, a / n, k))
        if bound <= math.exp(log_eps):
            return DECIDED, 0.0, c, w, rest
    elif pa > pb:  # only a wrong class reaching a (or, strict ties, another correct class) takes credit away
        bound = 0.0
        for a in w:
            bound += math.exp(log_chernoff(pa, a / n, k))
        if ties == TIE_STRICT:
            for j in range(1, c.shape[0]):
                bound += math.exp(log_chernoff(pa, c[j] / n, k))
        if bound <= math.exp(log_eps):
            return DECIDED, 1.0, c, w, rest
    top = max(pa, pb)
    log_d = log_eps - math.log(c.shape[0] + w.shape[0] + 2.0)
    keep_c, pooled_c = _pool(c, top, n, k, log_d)
    keep_w, pooled_w = _pool(w, top, n, k, log_d)
    nc, nw, pooled = keep_c.shape[0], keep_w.shape[0], pooled_c + pooled_w
    if nc == 1 and nw == 1 and not measured:
        return TWO_CLASS, two_class_iid(pa, pb, k, tie_credit(1, ties), log_eps - math.log(4.0)), keep_c, keep_w, 0
    if nc == 1 and nw >= 2 and not measured and prefer_sweep(keep_w, k):
        return SWEPT, sweep_iid(c[0], keep_w, rest + pooled, n, k, ties, log_eps), keep_c, keep_w, 0
    return REDUCED, -1.0, keep_c, keep_w, rest + pooled


@njit(cache=True)
def _pool(sizes: IntArray, top: float, n: int, k: int, log_d: float) -> tuple[IntArray, int]:
    """(kept classes, pooled samples): every class after the first whose Chernoff bound against the leader's share
    ``top`` is at most exp(log_d) joins the non-voting pool; the first (a leader) is always kept."""
    keep = np.empty(sizes.shape[0], np.int64)
    keep[0] = sizes[0]
    kept = 1
    pooled = 0
    for j in range(1, sizes.shape[0]):
        if log_chernoff(top, sizes[j] / n, k) <= log_d:
            pooled += sizes[j]
        else:
            keep[kept] = sizes[j]
            kept += 1
    return keep[:kept], pooled


@njit(cache=True)
def _all_unanswered(n: int, rest: int, k: int, measured: bool) -> float:
    """P(all k draws fall on the ``rest`` unanswered samples): C(rest, k) / C(n, k), or (rest / n)^k."""
    if rest == 0 or (measured and rest < k):
        return 0.0
    if measured:
        return math.exp(
            math.lgamma(rest + 1.0) - math.lgamma(rest - k + 1.0) - math.lgamma(n + 1.0) + math.lgamma(n - k + 1.0)
        )
    return math.exp(k * math.log(rest / n))


@njit(cache=True)
def two_class_iid(pa: float, pb: float, k: int, credit: float, log_tail: float) -> float:
    """maj@k of a (correct, share pa) against b (wrong, share pb), the rest voting for nobody, k draws with
    replacement (see the module docstring); each binomial tail of T left out is below exp(log_tail)."""
    s = min(pa + pb, 1.0)
    r = pa / (pa + pb)
    q = r if r >= 0.5 else 1.0 - r
    coef = (1.0 - credit) if r >= 0.5 else credit  # weight of the tie term in the small sum
    if s >= 1.0:  # every draw votes for a or b: T = k
        small = _window_sum(k, k, k, s, q, coef)
        return min(max(1.0 - small if r >= 0.5 else small, 0.0), 1.0)
    lo, hi = binomial_window(k, s, log_tail)  # the window of T
    small = _window_sum(lo, hi, k, s, q, coef)
    if r >= 0.5:
        none = math.exp(k * math.log1p(-s))
        return min(max(1.0 - none - small, 0.0), 1.0)
    return min(max(small, 0.0), 1.0)


@njit(cache=True)
def _window_sum(lo: int, hi: int, k: int, s: float, q: float, coef: float) -> float:
    """sum over t = lo..hi of P(T = t) [P(Bin(t, q) < t/2) + coef P(Bin(t, q) = t/2)], T ~ Binomial(k, s)."""
    odds_s = s / (1.0 - s) if s < 1.0 else 0.0
    small = 0.0
    p_t = 0.0
    tail = 0.0
    g = 0.0  # f_t(floor(t/2)) under q
    for t in range(lo, hi + 1):
        if (t - lo) % _ANCHOR_EVERY == 0:
            p_t = math.exp(_log_binom_pmf(t, k, s)) if s < 1.0 else 1.0
            tail = _binom_split((t + 1) // 2, t, q)[0]  # P(Bin(t, q) < t/2), the small (lower) tail
            g = math.exp(_log_binom_pmf(t // 2, t, q))
        small += p_t * (tail + (coef * g if t % 2 == 0 else 0.0))
        p_t *= (k - t) / (t + 1.0) * odds_s  # advance t -> t + 1
        if t % 2 == 0:
            tail += (1.0 - q) * g
            g *= (t + 1.0) / (t // 2 + 1.0) * (1.0 - q)
        else:
            tail = max(tail - q * g, 0.0)
            g *= (t + 1.0) / ((t + 1) // 2) * q
    return small


@njit(cache=True)
def _binom_split(x: int, m: int, q: float) -> tuple[float, float, float]:
    """(P(Bin(m, q) < x), P(Bin(m, q) = x - 1), P(Bin(m, q) = x)) for 1 <= x, q in (0, 1): the smaller tail summed
    from the boundary outwards until the remainder is below 1e-17 of it."""
    if x > m + 1:
        return 1.0, 0.0, 0.0
    below = math.exp(_log_binom_pmf(x - 1, m, q)) if x - 1 <= m else 0.0
    at = math.exp(_log_binom_pmf(x, m, q)) if x <= m else 0.0
    odds = q / (1.0 - q)
    if x - 1 <= m * q:  # the lower tail P(<= x - 1) is the smaller one
        j = x - 1
        term = below
        total = term
        while j > 0:
            ratio = j / ((m - j + 1.0) * odds)
            term *= ratio
            j -= 1
            total += term
            if ratio < 1.0 and term * ratio <= 1e-17 * total * (1.0 - ratio):
                break
        return min(total, 1.0), below, at
    j = x
    term = at
    total = term
    while j < m:
        ratio = (m - j) / (j + 1.0) * odds
        term *= ratio
        j += 1
        total += term
        if ratio < 1.0 and term * ratio <= 1e-17 * total * (1.0 - ratio):
            break
    return max(1.0 - total, 0.0), below, at
