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
(``_majority_kernel``); every term is a positive product (no cancellation). Classes of equal size are exchangeable,
so a product only records how many of each size it holds (prod (m_i + 1) products; ``credit_sweep``), and
``prefer_sweep`` sends a question to the sweep only where it was measured cheaper. lam = k - mode of X_a.

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

MAX_SWEEP_STATES = 256
"""Most products the sweep keeps (prod over distinct sizes of multiplicity + 1; 2^J for J classes of distinct
sizes): more go to the per-class or grouped kernels."""
SWEEP_COST = 0.06
"""Constant of ``prefer_sweep``, fitted to the measured crossover (kernel time / sweep time = 1 at e.g. J = 3, k =
64; J = 5, k = 100; J = 7, k = 400)."""


@njit(cache=True)
def sweep_iid(a: int, w: IntArray, free: int, n: int, k: int, ties: int, log_eps: float) -> float:
    """maj@k of the correct class a against the wrong classes ``w``, ``free``
    samples voting for nobody, n = a + sum(w) + free, k draws with replacement (module docstring). 0 < a < n;
    ``w`` descending with sweep_states(w) <= MAX_SWEEP_STATES."""
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


@njit(cache=True)
def sweep_states(w: IntArray) -> int:
    """Number of products the sweep keeps for the wrong classes ``w`` (descending): prod over the distinct sizes of
    (multiplicity + 1) (2^J when all sizes differ); any number above MAX_SWEEP_STATES once it is known to exceed it."""
    states = 1
    run = 1
    for j in range(1, w.shape[0] + 1):
        if j < w.shape[0] and w[j] == w[j - 1]:
            run += 1
        else:
            states *= run + 1
            run = 1
            if states > MAX_SWEEP_STATES:  # enough to refuse (and no overflow with thousands of classes)
                return states
    return states


@njit(cache=True)
def prefer_sweep(w: IntArray, k: int) -> bool:
    """Whether the sweep is the cheaper exact route for the J wrong classes ``w`` (descending) at k: at most
    MAX_SWEEP_STATES products and SWEEP_COST x J^1.5 x k^0.8 >= products. Measured (benchmarks/bench_sweep_route.py,
    one call each, same process): the per-class kernel's time grows about as J^1.5 k^1.7, the sweep's as
    products x k^0.9; the constant puts the crossover where they were measured equal."""
    states = sweep_states(w)
    return states <= MAX_SWEEP_STATES and SWEEP_COST * w.shape[0] ** 1.5 * k**0.8 >= states


@njit(cache=True, nogil=True)
def credit_sweep(
    w: IntArray, free: int, k: int, ties: int, log_eps: float, x_lo: int, log_wt: FloatArray, out: FloatArray
) -> float:
    """H(x) = P(credit | X_a = x) for x = x_lo .. x_lo + len(log_wt) - 1 into ``out`` and sum_x wt(x) H(x), wt(x) =
    exp(log_wt) the weight of x (P(X_a = x) for one p; any law of X_a, or a bound on it, for a curve). Wrong
    classes ``w`` (descending, at least one; sweep_states(w) <= MAX_SWEEP_STATES), ``free`` samples voting for
    nobody; each H(x) is within eps / (4 wt(x) (number of x)) plus the cuts' share of eps / 2 (module docstring).

    Classes of equal size are exchangeable: a product holds t_i of the m_i classes of size v_i, so there are
    prod (m_i + 1) products, and adding f_i(x) to every class of group i is P_t += sum_a C(t_i, a) f_i(x)^a
    shift_(a x)(P_(t - a e_i)) (the binomial expansion of (T_i + f_i(x) delta_x)^(t_i))."""
    nonc = free
    for v in w:
        nonc += v
    sizes, mult = _groups(w)
    ng = sizes.shape[0]
    x_hi = x_lo + log_wt.shape[0] - 1
    lam = max(float(k - (x_lo + int(np.argmax(log_wt)))), 1.0)
    log_denom = _log_pois_down(k - x_lo, lam, log_wt.shape[0])  # log P(Pois(lam) = k - x), x = x_lo .. x_hi
    budget = 0.0  # sum_x wt(x) / P(Pois(lam) = k - x): the cuts' error is 2 (J + 1) tau times this
    for x in range(x_lo, min(x_hi, k - 1) + 1):
        budget += math.exp(log_wt[x - x_lo] - log_denom[x - x_lo])
    log_tau = log_eps - math.log(4.0 * (w.shape[0] + 1)) - math.log(max(budget, 1e-300))
    lo = np.empty(ng, np.int64)
    hi = np.empty(ng, np.int64)
    width = 1
    for i in range(ng):
        lo[i], top = poisson_window(lam * sizes[i] / nonc, log_tau)
        hi[i] = min(top, x_hi)
        width += mult[i] * max(hi[i] - lo[i], 0)
    f = np.zeros((ng, width))
    for i in range(ng):
        if hi[i] >= lo[i]:
            f[i, : hi[i] - lo[i] + 1] = _pmf_on(lam * sizes[i] / nonc, lo[i], hi[i])
    glo, ghi = 0, 0
    gv = np.ones(1)
    if free > 0:
        glo, ghi = poisson_window(lam * free / nonc, log_tau)
        gv = _pmf_on(lam * free / nonc, glo, ghi)
    stride, t, base, span, empty, length = _states(mult, lo)
    prod = np.zeros((t.shape[0], width))  # prod[s, v - base[s]] = P_s(v)
    prod[0, 0] = 1.0
    x_start = x_lo
    reach = x_lo  # above every class's window no wrong class reaches x (to the cut): the credit is 1
    for i in range(ng):
        x_start = min(x_start, lo[i])
        reach = max(reach, hi[i] + 1)
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
                credit = _credit_at(x, k, lw, log_denom[x - x_lo], lo, hi, f, gv, glo, ghi, prod, mult, t, base, length,
                                    ties, log_skip)
                out[x - x_lo] = credit
                acc += math.exp(lw) * credit
        for i in range(ng):
            if lo[i] <= x <= hi[i]:
                _add_group(i, x, f[i, x - lo[i]], lo, prod, stride, t, base, span, empty, length, k - x)
    return min(max(acc, 0.0), 1.0)


@njit(cache=True)
def _log_pois_down(m0: int, lam: float, count: int) -> FloatArray:
    """log P(Pois(lam) = m0 - i), i = 0 .. count - 1 (-inf below 0): Loader's form every 64 values, the ratio
    P(m - 1) / P(m) = m / lam in between."""
    out = np.full(count, -np.inf)
    lp = 0.0
    for i in range(count):
        m = m0 - i
        if m < 0:
            break
        if i % 64 == 0:
            lp = _log_pois(m, lam)
        out[i] = lp
        if m > 0:
            lp += math.log(m / lam)
    return out


@njit(cache=True)
def _groups(w: IntArray) -> tuple[IntArray, IntArray]:
    """(distinct sizes, multiplicities) of the descending sizes ``w``."""
    sizes = np.empty(w.shape[0], np.int64)
    mult = np.zeros(w.shape[0], np.int64)
    ng = 0
    for j in range(w.shape[0]):
        if ng > 0 and w[j] == sizes[ng - 1]:
            mult[ng - 1] += 1
        else:
            sizes[ng] = w[j]
            mult[ng] = 1
            ng += 1
    return sizes[:ng], mult[:ng]


@njit(cache=True)
def _states(mult: IntArray, lo: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """The products of the sweep: state s holds t[s, i] classes of group i (mixed radix, stride[i]); its pmf sits
    at base[s] = sum_i t[s, i] lo_i onwards, filled over length[s] = span[s] + 1 values once none of its groups is
    empty (empty[s] counts those still empty; length 0 until then). Returns (stride, t, base, span, empty,
    length)."""
    ng = mult.shape[0]
    stride = np.ones(ng, np.int64)
    count = 1
    for i in range(ng):
        stride[i] = count
        count *= mult[i] + 1
    t = np.zeros((count, ng), np.int64)
    base = np.zeros(count, np.int64)
    empty = np.zeros(count, np.int64)
    for s in range(count):
        for i in range(ng):
            ti = (s // stride[i]) % (mult[i] + 1)
            t[s, i] = ti
            base[s] += ti * lo[i]
            empty[s] += ti > 0
    length = np.zeros(count, np.int64)
    length[0] = 1
    return stride, t, base, np.zeros(count, np.int64), empty, length


@njit(cache=True)
def _add_group(
    i: int, x: int, fx: float, lo: IntArray, prod: FloatArray, stride: IntArray, t: IntArray, base: IntArray,
    span: IntArray, empty: IntArray, length: IntArray, limit: int,
) -> None:
    """Add fx at x to every class of group i: P_t += sum_(a >= 1) C(t_i, a) fx^a shift_(a x)(P_(t - a e_i)),
    states in descending order so that every source is still the old one; sums above ``limit`` (= k - x) are never
    read again (the later x leave fewer draws), so they are not written."""
    shift = x - lo[i]
    for s in range(t.shape[0] - 1, -1, -1):
        ti = t[s, i]
        coef = 1.0
        for a in range(1, ti + 1):
            coef *= fx * (ti - a + 1) / a
            src = s - a * stride[i]
            off = a * shift
            for j in range(min(length[src], limit - base[s] - off + 1)):
                prod[s, j + off] += coef * prod[src, j]
    for s in range(t.shape[0]):
        ti = t[s, i]
        if ti == 0:
            continue
        if x == lo[i]:
            empty[s] -= 1
        else:
            span[s] += ti
        length[s] = span[s] + 1 if empty[s] == 0 else 0


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
def _credit_at(
    x: int, k: int, log_wt: float, log_denom: float, lo: IntArray, hi: IntArray, f: FloatArray, gv: FloatArray,
    glo: int, ghi: int, prod: FloatArray, mult: IntArray, t: IntArray, base: IntArray, length: IntArray, ties: int,
    log_skip: float,
) -> float:
    """P(credit | X_a = x), x < k, from the products of the classes' pmfs truncated below x (module docstring): a
    tie of a_i classes of each group i weighs prod_i C(m_i, a_i) f_i(x)^(a_i); tie terms whose bound (that weight x
    wt(x) / P(Pois(lam) = m), the rest being a probability) is below exp(log_skip) / (number of products) are left
    out. log_denom = log P(Pois(lam) = m)."""
    m = k - x
    count = t.shape[0]
    negligible = math.exp(log_skip - math.log(count) - log_wt + log_denom)
    total = 0.0
    for sub in range(count):  # sub: the tied classes of each group (a vector in the same mixed radix)
        tied = 0
        weight = 1.0
        for i in range(lo.shape[0]):
            a = t[sub, i]
            if a == 0:
                continue
            if ties == TIE_STRICT or not lo[i] <= x <= hi[i]:
                weight = 0.0
                break
            fx = f[i, x - lo[i]]
            for b in range(1, a + 1):
                weight *= fx * (mult[i] - b + 1) / b
            tied += a
        if weight == 0.0 or (sub > 0 and weight < negligible):
            continue
        if ties == TIE_RANDOM:
            weight /= 1.0 + tied
        c = count - 1 - sub
        r = m - tied * x  # the other classes and the free pool share r draws
        if r < 0 or length[c] == 0:
            continue
        s_lo = max(base[c], r - ghi)
        s_hi = min(base[c] + length[c] - 1, r - glo)
        inner = 0.0
        for v in range(s_lo, s_hi + 1):
            inner += prod[c, v - base[c]] * gv[r - v - glo]
        total += weight * inner
    return min(total * math.exp(-log_denom), 1.0)
