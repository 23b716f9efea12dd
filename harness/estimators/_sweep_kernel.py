"""Exact maj@k (kind 'iid') of one correct class against several wrong classes: one sweep over the correct count.

Given X_a = x, the other m = k - x draws fall on the J wrong classes (shares q_j = pi_j / (1 - pi_a)) and on the
pool that votes for nobody (q_f) as a multinomial. Poissonisation with any fixed mean lam: when Y_j ~ Poisson(lam
q_j) and F ~ Poisson(lam q_f) are independent, their law given sum Y + F = m is that multinomial, so

    P(credit | x) = sum_A w(|A|) prod_{j in A} f_j(x) sum_s P_{-A}(s) g(m - |A| x - s) / P(Poisson(lam) = m),

A running over the sets of wrong classes that tie with a at x, w(t) the credit with t of them (random 1 / (1 + t),
strict 1[t = 0], weak 1), f_j and g the Poisson pmfs, and P_B(s) = P(sum_{j in B} Y_j = s, every Y_j <= x - 1) the
convolution of the pmfs truncated below x. With lam fixed the pmfs do not depend on x: going from x to x + 1 adds
f_j(x) at x to each class, P_B <- P_B + f_j(x) shift_x(P_{B - j}) for every B that holds j (B - j does not hold j,
so the classes are added one after another). Keeping all 2^J products costs O(J 2^J w) per x to update and O(2^J
w) to evaluate, w the width of a product, against O(J^2 w^2) for a new convolution at each x
(``_majority_kernel``); every term is a positive product (no cancellation). lam = k - mode of X_a.

Cuts: x outside the binomial window of X_a (each tail below eps / 4); each Y_j and F outside its Poisson window,
whose two tails are at most tau each. A cut removes only positive terms of the numerator, at most the tails' mass,
so the error is at most sum_x P(X_a = x) 2 (J + 1) tau / P(Poisson(lam) = k - x), and tau makes that eps / 2.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from harness.estimators._loader_pmf import _log_binom_pmf, _log_pois, _pmf_on, binomial_window, poisson_window
from harness.estimators._majority_kernel import TIE_RANDOM, TIE_STRICT, _kl

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MAX_SWEEP_CLASSES = 6
"""Largest number of wrong classes the sweep keeps (2^J products): more go to the per-class or grouped kernels."""


@njit(cache=True)
def sweep_iid(a: int, w: IntArray, free: int, n: int, k: int, ties: int, log_eps: float) -> float:
    """maj@k of the correct class a against the wrong classes ``w`` (1 <= J <= MAX_SWEEP_CLASSES), ``free``
    samples voting for nobody, n = a + sum(w) + free, k draws with replacement (module docstring). 0 < a < n."""
    pa = a / n
    lo_x, hi_x = binomial_window(k, pa, log_eps - math.log(4.0))
    log_px = np.empty(hi_x - lo_x + 1)
    px = 0.0
    for x in range(lo_x, hi_x + 1):  # Loader's pmf every 64 values, the ratio in between
        if (x - lo_x) % 64 == 0:
            px = math.exp(_log_binom_pmf(x, k, pa))
        log_px[x - lo_x] = math.log(px) if px > 0.0 else -np.inf
        px *= (k - x) / (x + 1.0) * pa / (1.0 - pa)
    return credit_sweep(w, free, k, ties, log_eps, lo_x, log_px, np.empty(hi_x - lo_x + 1))


@njit(cache=True, nogil=True)
def credit_sweep(
    w: IntArray, free: int, k: int, ties: int, log_eps: float, x_lo: int, log_wt: FloatArray, out: FloatArray
) -> float:
    """H(x) = P(credit | X_a = x) for x = x_lo .. x_lo + len(log_wt) - 1 into ``out`` and sum_x wt(x) H(x), wt(x) =
    exp(log_wt) the weight of x (P(X_a = x) for one p; any law of X_a, or a bound on it, for a curve). Wrong
    classes ``w`` (1 <= J <= MAX_SWEEP_CLASSES), ``free`` samples voting for nobody; each H(x) is within
    eps / (4 wt(x) (number of x)) plus the cuts' share of eps / 2 (module docstring) of the exact value."""
    nw = w.shape[0]
    nonc = free
    for v in w:
        nonc += v
    x_hi = x_lo + log_wt.shape[0] - 1
    lam = max(float(k - (x_lo + int(np.argmax(log_wt)))), 1.0)
    budget = 0.0  # sum_x wt(x) / P(Pois(lam) = k - x): the cuts' error is 2 (J + 1) tau times this
    for x in range(x_lo, min(x_hi, k - 1) + 1):
        budget += math.exp(log_wt[x - x_lo] - _log_pois(k - x, lam))
    log_tau = log_eps - math.log(4.0 * (nw + 1)) - math.log(max(budget, 1e-300))
    lo = np.empty(nw, np.int64)
    hi = np.empty(nw, np.int64)
    width = 1
    for j in range(nw):
        lo[j], h = poisson_window(lam * w[j] / nonc, log_tau)
        hi[j] = min(h, x_hi)
        width += max(hi[j] - lo[j], 0)
    f = np.zeros((nw, width))
    for j in range(nw):
        if hi[j] >= lo[j]:
            f[j, : hi[j] - lo[j] + 1] = _pmf_on(lam * w[j] / nonc, lo[j], hi[j])
    glo, ghi = 0, 0
    gv = np.ones(1)
    if free > 0:
        glo, ghi = poisson_window(lam * free / nonc, log_tau)
        gv = _pmf_on(lam * free / nonc, glo, ghi)
    full = (1 << nw) - 1
    prod = np.zeros((full + 1, width))  # prod[B, s - base(B)] = P_B(s)
    prod[0, 0] = 1.0
    base = np.zeros(full + 1, np.int64)
    empty = np.zeros(full + 1, np.int64)  # classes of the product with nothing added yet
    for b in range(full + 1):
        for j in range(nw):
            if b >> j & 1:
                base[b] += lo[j]
                empty[b] += 1
    length = np.zeros(full + 1, np.int64)  # filled length of each product (0: some class still empty)
    length[0] = 1
    x_start = x_lo
    reach = x_lo  # above every class's window no wrong class reaches x (to the cut): the credit is 1
    for j in range(nw):
        x_start = min(x_start, lo[j])
        reach = max(reach, hi[j] + 1)
    log_skip = log_eps - math.log(4.0 * log_wt.shape[0])
    out[:] = 0.0
    acc = 0.0
    for x in range(max(x_start, 0), x_hi + 1):
        if x >= x_lo:
            lw = log_wt[x - x_lo]
            if x >= reach or x == k:
                out[x - x_lo] = 1.0
                acc += math.exp(lw)
                continue
            if x >= 1 and _log_credit_bound(x, k, lw, w, nonc) > log_skip:
                credit = _credit_at(x, k, lw, lam, nw, lo, hi, f, gv, glo, ghi, prod, base, length, full, ties,
                                    log_skip)
                out[x - x_lo] = credit
                acc += math.exp(lw) * credit
        for j in range(nw):
            if lo[j] <= x <= hi[j]:
                _add(j, x, f[j, x - lo[j]], lo, prod, base, length, empty, full, k - x)
    return min(max(acc, 0.0), 1.0)


@njit(cache=True)
def _log_credit_bound(x: int, k: int, log_wt: float, w: IntArray, nonc: int) -> float:
    """log of a bound on wt(x) P(credit | x) <= wt(x) prod_j P(Y_j <= x): the multinomial counts are negatively
    associated (Joag-Dev & Proschan 1983), each factor bounded by Chernoff, exp(-m KL(x/m || q_j))."""
    m = k - x
    out = log_wt
    frac = x / m
    for j in range(w.shape[0]):
        q = w[j] / nonc
        if frac < q:
            out -= m * _kl(frac, q)
    return out


@njit(cache=True)
def _add(
    j: int, x: int, fx: float, lo: IntArray, prod: FloatArray, base: IntArray, length: IntArray, empty: IntArray,
    full: int, limit: int,
) -> None:
    """Add fx at x to class j's truncated pmf: P_B += fx shift_x(P_{B - j}) for every B holding j, and the filled
    lengths (a product fills once none of its classes is empty; then each added value lengthens it by one). Sums
    above ``limit`` (= k - x) are never read again (the later x leave fewer draws), so they are not written."""
    shift = x - lo[j]
    bit = 1 << j
    for b in range(full, -1, -1):  # larger products first, so that a source's length is still the old one
        if not b & bit:
            continue
        src = b ^ bit
        for i in range(min(length[src], limit - base[b] - shift + 1)):
            prod[b, i + shift] += fx * prod[src, i]
    for b in range(full + 1):
        if b & bit:
            if x == lo[j]:
                empty[b] -= 1
                if empty[b] == 0:
                    length[b] = 1 + shift + (length[b ^ bit] - 1) if length[b ^ bit] > 0 else 0
            elif length[b] > 0:
                length[b] += 1


@njit(cache=True)
def _credit_at(
    x: int, k: int, log_wt: float, lam: float, nw: int, lo: IntArray, hi: IntArray, f: FloatArray, gv: FloatArray,
    glo: int, ghi: int, prod: FloatArray, base: IntArray, length: IntArray, full: int, ties: int, log_skip: float,
) -> float:
    """P(credit | X_a = x), x < k, from the products of the classes' pmfs truncated below x (module docstring); tie
    terms whose bound (weight x wt(x) / P(Pois(lam) = m), the sum being a probability) is below exp(log_skip) / 2^J
    are left out."""
    m = k - x
    log_denom = _log_pois(m, lam)
    tie_mask = 0
    if ties != TIE_STRICT:
        for j in range(nw):
            if lo[j] <= x <= hi[j]:
                tie_mask |= 1 << j
    negligible = math.exp(log_skip - nw * math.log(2.0) - log_wt + log_denom)  # tie terms below: left out
    total = 0.0
    sub = tie_mask
    while True:  # every subset A of the classes that can tie at x (A = 0 last)
        t = 0
        weight = 1.0
        for j in range(nw):
            if sub >> j & 1:
                t += 1
                weight *= f[j, x - lo[j]]
        if ties == TIE_RANDOM:
            weight /= 1.0 + t
        c = full ^ sub
        r = m - t * x  # the other classes and the free pool share r draws
        if r >= 0 and length[c] > 0 and (sub == 0 or weight >= negligible):
            s_lo = max(base[c], r - ghi)
            s_hi = min(base[c] + length[c] - 1, r - glo)
            inner = 0.0
            for s in range(s_lo, s_hi + 1):
                inner += prod[c, s - base[c]] * gv[r - s - glo]
            total += weight * inner
        if sub == 0:
            break
        sub = (sub - 1) & tie_mask
    return min(total * math.exp(-log_denom), 1.0)
