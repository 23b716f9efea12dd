"""Compiled parts of the exact structured maj@k prediction (:mod:`harness.models.predict`).

Given X = x correct draws of k, the other k - x fall on the wrong classes and the unanswered samples in their
observed shares whatever p is, so maj@k(p) = sum_x Bin(x; k, p) H(x) and the posterior expectation is
sum_x pi(x) H(x), pi(x) = sum_g post(g) Bin(x; k, p_g). H depends only on the answer profile (the wrong class
sizes and the unanswered count) and k; pi only on the question's posterior row and the fit.

Per profile and k, with lw(x) the log of the largest pi(x) over the rows that use the profile:
* below x0, H(x) <= P(Y_top <= x) <= exp(-m KL(x/m || q_top)) (Chernoff, m = k - x) is negligible against lw;
* from x1 on, 1 - H(x) <= sum_j exp(-m KL(x/m || q_j)) (union and Chernoff bounds) is negligible;
* the same two cuts are then applied at each x against the largest pi(x) itself, narrowing [x0, x1) from both ends;
* a wrong class whose bound on P(Y_j >= x) at x0 (the largest over the band) is negligible joins the unanswered
  pool (it can change the credit only by reaching x);
* on [x0, x1) H is a binomial tail stepped in x by recurrence (O(1) per x) with one class left; else exact in the
  top class and to first or second order in the others (``_top_and_pairs``: the Moebius expansion over the other
  classes that reach x; exact with two classes at first order and with three at second, a bounded remainder with
  more) wherever that remainder is negligible; on the x between the first and the last where it is not, from one
  sweep (``_sweep_kernel.credit_sweep``) where that is the cheaper route (``prefer_sweep``), else from the
  per-class kernel at each x (``_majority_kernel.credit_given_x``).
Each of the three cuts is below eps / 4 for every row that uses the profile; the windows of pi leave out at most
eps / 8 on each side; H itself is off by at most eps / 16 in sum_x pi(x) H(x) on the x the first- or second-order
route keeps, and by at most 3 eps / 4 (the sweep) or eps / 2 (the per-class kernel, run at eps / (2 N) for its N
values of x) on the others: 2 eps in all.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from harness.estimators._loader_pmf import _log_binom_pmf, binomial_window
from harness.estimators._majority_kernel import TIE_WEAK, _kl, credit_given_x, tie_credit
from harness.estimators._screen_kernel import _binom_split
from harness.estimators._sweep_kernel import credit_sweep, prefer_sweep

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def mixture_window(support: FloatArray, weights: FloatArray, k: int, log_tail: float) -> tuple[int, int, IntArray]:
    """(lo, hi, windows): the x where ``mixture_into`` writes pi(x) = sum_g weights[g] Bin(x; k, support[g]), the
    union of the components' windows, and those windows (row g: lo_g, hi_g; empty when lo_g > hi_g): each leaves
    out at most exp(log_tail) / G of mass on each side (G components; ``_component_window``)."""
    windows = np.empty((support.shape[0], 2), np.int64)
    lo, hi = k, 0
    for g in range(support.shape[0]):
        c_lo, c_hi = _component_window(support[g], weights[g], k, log_tail - math.log(max(support.shape[0], 1)))
        windows[g, 0], windows[g, 1] = c_lo, c_hi
        if c_lo <= c_hi:
            lo, hi = min(lo, c_lo), max(hi, c_hi)
    return lo, hi, windows


@njit(cache=True, nogil=True)
def mixture_into(support: FloatArray, weights: FloatArray, k: int, windows: IntArray, lo: int, out: FloatArray
                 ) -> None:
    """out[x - lo] += pi(x) = sum_g weights[g] Bin(x; k, support[g]) over each component's window from
    ``mixture_window`` (so pi leaves out at most exp(log_tail) on each side)."""
    for g in range(support.shape[0]):
        p, wt = support[g], weights[g]
        c_lo, c_hi = windows[g, 0], windows[g, 1]
        if c_lo > c_hi:
            continue
        if p <= 0.0 or p >= 1.0:
            out[c_lo - lo] += wt
            continue
        f = 0.0
        for x in range(c_lo, c_hi + 1):
            if (x - c_lo) % 64 == 0:
                f = math.exp(_log_binom_pmf(x, k, p))
            out[x - lo] += wt * f
            f *= (k - x) / (x + 1.0) * p / (1.0 - p)


@njit(cache=True)
def _component_window(p: float, wt: float, k: int, log_tail: float) -> tuple[int, int]:
    """x range of wt Bin(x; k, p) leaving out at most exp(log_tail) of mass on each side (empty, lo > hi, when wt
    itself is below that)."""
    if wt <= 0.0 or math.log(wt) <= log_tail:
        return 1, 0
    if p <= 0.0:
        return 0, 0
    if p >= 1.0:
        return k, k
    lo, hi = binomial_window(k, p, log_tail - math.log(wt))
    return lo - 1, hi  # binomial_window starts at 1; x = 0 is below the left tail's mass when lo > 1


@njit(cache=True)
def _log_hit(x: int, k: int, q_top: float) -> float:
    """log of a bound on H(x): P(Y_top <= x) for Y_top ~ Bin(k - x, q_top) (0 where no bound applies)."""
    m = k - x
    if m <= 0 or x >= m * q_top:
        return 0.0
    return -m * _kl(x / m, q_top)


@njit(cache=True)
def _log_miss(x: int, k: int, w: IntArray, nonc: int) -> float:
    """log of a bound on 1 - H(x): sum_j P(Y_j >= x) (0 where no bound applies, -inf when no draw is left)."""
    m = k - x
    if m <= 0:
        return -np.inf
    total = 0.0
    for v in w:
        q = v / nonc
        if x <= m * q:
            return 0.0
        total += _chernoff_tail(x, m, q)
    return math.log(total) if total > 0.0 else -np.inf


@njit(cache=True, nogil=True)
def structured_credits(
    w_sizes: IntArray, w_ptr: IntArray, free: IntArray, users_ptr: IntArray, users_row: IntArray,
    pi_lo: IntArray, pi_ptr: IntArray, pi_val: FloatArray, pi_tail: FloatArray, tail_ptr: IntArray,
    pi_peak: FloatArray, k: int,
    ties: int,
    log_eps: float, gl_nodes: FloatArray, gl_weights: FloatArray, units: IntArray, out: FloatArray,
    status: FloatArray,
) -> None:
    """For each profile u in ``units`` and each row r = users_row[e] that uses it (e in users_ptr[u] ..
    users_ptr[u + 1]): out[e] = sum_x pi_r(x) H_u(x) (module docstring). pi_r(x) = pi_val[pi_ptr[r] + x -
    pi_lo[r]] on its window, pi_tail[tail_ptr[r] + j] its mass from pi_lo[r] + 64 j on (``block_tails``),
    pi_peak[r] its largest value. status[u] < 0 asks for a larger Gauss-Legendre table (the per-class kernel),
    else 0."""
    for u in units:
        w = w_sizes[w_ptr[u] : w_ptr[u + 1]]
        nonc = free[u]
        for v in w:
            nonc += v
        users = users_row[users_ptr[u] : users_ptr[u + 1]]
        x_lo = k
        x_hi = 1
        for r in users:
            x_lo = min(x_lo, max(pi_lo[r], 1))
            x_hi = max(x_hi, pi_lo[r] + pi_ptr[r + 1] - pi_ptr[r] - 1)
        status[u] = 0.0
        if x_hi < x_lo:  # no row puts mass on a correct vote
            for e in range(users_ptr[u], users_ptr[u + 1]):
                out[e] = 0.0
            continue
        peak = 0.0
        for r in users:
            peak = max(peak, pi_peak[r])
        log_skip = log_eps - math.log(4.0 * (x_hi - x_lo + 1)) - math.log(peak)
        x0 = _first(x_lo, x_hi + 1, k, w, nonc, log_skip, True)  # H negligible below
        x1 = _first(x0, x_hi + 1, k, w, nonc, log_skip, False)  # 1 - H negligible from here on
        if x1 > x0:  # the same cuts against the largest pi at each x rather than its peak
            lw = _log_largest(users, x0, x1, pi_lo, pi_ptr, pi_val)
            cut_lo, cut_hi = _narrow(lw, x0, k, w, nonc, log_skip + math.log(peak))
            lw = lw[cut_lo:cut_hi]
            x0, x1 = x0 + cut_lo, x0 + cut_hi
        h = np.ones(max(x1 - x0, 0))
        if x1 > x0:
            kept, pooled = _keep(w, nonc, k, x0, log_skip - math.log(w.shape[0] + 2.0))
            if kept.shape[0] == 1:
                _one_wrong_class(kept[0] / nonc, k, ties, x0, h)
            else:  # first order where its remainder is negligible, the sweep or the per-class kernel in between
                a, b = _top_and_pairs(kept, nonc, k, ties, x0, lw, log_skip + math.log(peak) - math.log(4.0), h)
                if a >= b:
                    pass
                elif prefer_sweep(kept, k):
                    credit_sweep(kept, free[u] + pooled, k, ties, log_eps, x0 + a, lw[a:b], h[a:b])
                else:  # its H(x) is within eps' / wt(x) at each x: eps' = eps / (2 (b - a)) keeps the sum below eps / 2
                    status[u] = credit_given_x(kept, free[u] + pooled, k, ties, x0 + a, lw[a:b],
                                               log_eps - math.log(2.0 * (b - a)), gl_nodes, gl_weights, h[a:b])
        for e in range(users_ptr[u], users_ptr[u + 1]):
            out[e] = _expect(users_row[e], x0, x1, h, pi_lo, pi_ptr, pi_val, pi_tail, tail_ptr)


@njit(cache=True)
def _narrow(lw: FloatArray, x0: int, k: int, w: IntArray, nonc: int, log_allow: float) -> tuple[int, int]:
    """(lo, hi): the band x0 + lo .. x0 + hi - 1 left once x = x0 + i with lw[i] + (log bound on H(x)) <= log_allow
    is cut from the bottom and x with lw[i] + (log bound on 1 - H(x)) <= log_allow from the top (lw the log of the
    largest pi(x); each cut x leaves out at most exp(log_allow), as the bisection's cuts)."""
    lo = 0
    hi = lw.shape[0]
    while lo < hi and lw[lo] + _log_hit(x0 + lo, k, w[0] / nonc) <= log_allow:
        lo += 1
    while hi > lo and lw[hi - 1] + _log_miss(x0 + hi - 1, k, w, nonc) <= log_allow:
        hi -= 1
    return lo, hi


@njit(cache=True)
def _log_largest(
    users: IntArray, x0: int, x1: int, pi_lo: IntArray, pi_ptr: IntArray, pi_val: FloatArray
) -> FloatArray:
    """log max_r pi_r(x) over the rows ``users``, x = x0 .. x1 - 1 (-inf where every pi is 0)."""
    largest = np.zeros(x1 - x0)
    for r in users:
        lo = pi_lo[r]
        for x in range(max(lo, x0), min(lo + pi_ptr[r + 1] - pi_ptr[r], x1)):
            largest[x - x0] = max(largest[x - x0], pi_val[pi_ptr[r] + x - lo])
    out = np.full(x1 - x0, -np.inf)
    for i in range(x1 - x0):
        if largest[i] > 0.0:
            out[i] = math.log(largest[i])
    return out


@njit(cache=True)
def _one_wrong_class(q: float, k: int, ties: int, x0: int, h: FloatArray) -> None:
    """H(x) = P(Y < x) + c P(Y = x), Y ~ Bin(k - x, q), for x = x0 .. x0 + len(h) - 1 (c the credit of a tie).

    O(1) per x: with m = k - x, P(Bin(m - 1, q) < x + 1) = P(Bin(m, q) < x) + q b(x - 1; m - 1) + b(x; m - 1)
    (P(Bin(m, q) <= j) = P(Bin(m - 1, q) <= j) - q b(j; m - 1)), every term positive, the pmfs b by their ratios;
    ``_binom_split`` anew every 64 values, after an underflow and for the last draws."""
    tie = tie_credit(1, ties)
    below = at_prev = at = 0.0  # P(Y < x), b(x - 1; m), b(x; m)
    for i in range(h.shape[0]):
        x = x0 + i
        m = k - x
        if q >= 1.0:  # every other draw votes for the wrong class
            h[i] = 1.0 if m < x else (tie if m == x else 0.0)
            continue
        if i % 64 == 0 or m < x + 2 or at == 0.0:
            below, at_prev, at = _binom_split(x, m, q)
        h[i] = min(below + tie * at, 1.0)
        if m >= x + 2:  # step to x + 1, m - 1
            below, at_prev, at = _one_above(*_one_trial_fewer(below, at_prev, at, m, x, q), m - 1, x, q)


@njit(cache=True)
def _one_trial_fewer(cdf: float, f_prev: float, f_at: float, t: int, x: int, q: float) -> tuple[float, float, float]:
    """(P(Bin(t, q) < x), b(x - 1; t), b(x; t)) -> the same with t - 1 trials (t >= 1): the pmfs by their ratios and
    P(Bin(t - 1, q) < x) = P(Bin(t, q) < x) + q b(x - 1; t - 1), a positive term."""
    f_prev = f_prev * (t - x + 1) / (t * (1.0 - q))
    f_at = f_at * (t - x) / (t * (1.0 - q))
    return cdf + q * f_prev, f_prev, f_at


@njit(cache=True)
def _one_above(cdf: float, f_prev: float, f_at: float, t: int, x: int, q: float) -> tuple[float, float, float]:
    """(P(Bin(t, q) < x), b(x - 1; t), b(x; t)) -> the same at x + 1: P(< x + 1) = P(< x) + b(x; t)."""
    return cdf + f_at, f_at, f_at * (t - x) / (x + 1.0) * q / (1.0 - q)


@njit(cache=True)
def _top_and_pairs(kept: IntArray, nonc: int, k: int, ties: int, x0: int, log_wt: FloatArray, log_allow: float,
                   h: FloatArray) -> tuple[int, int]:
    """H(x) for x = x0 .. x0 + len(h) - 1, exact in the top class 1 and in the other classes to first order, or to
    second where the first-order remainder is not negligible at x.

    With A_j = {Y_j >= x}, S the set of them, C_B the credit counting only the classes of B among S (the others as
    if below x) and D_B = sum_{B' in B} (-1)^|B - B'| C_B' (Moebius inversion: C = C_S = sum_{B in S} D_B),
    H(x) = sum_B E[D_B; A_B]. D_B = 0 when Y_1 > x; else, with e classes of B at x and g above it,
    D_B = (-1)^g Delta^e f(0), f(t) = c_(t + [Y_1 = x]) and c_t the credit with t others tied (``_moebius``).
    Order 1 is M(x) - sum_j sum_{y >= x} b_j(y) [P(T_y < x) + c_1 P(T_y = x)] + sum_j b_j(x) [c_1 P(T_x < x) + c_2
    P(T_x = x)], M(x) = P(Y_1 < x) + c_1 P(Y_1 = x) the top class alone and T_y ~ Bin(m - y, q_1 / (1 - q_j)) class
    1 given Y_j = y; order 2 adds E[D_ab; A_a, A_b] over the pairs of other classes (``_pair_term``).

    The rest after order r counts only outcomes with Y_1 <= x and |S| > r, where it is at most C(|S|, r + 1)
    (f(t) = int u^t dmu(u) with mu a sub-probability on [0, 1], and the rest is a tail of the expansion of
    (1 - u)^e (1 - 1)^g, within Bonferroni's bounds; docs/methods/estimators.md). So it is at most
    sum_{|B| = r + 1} P(Y_1 <= x, A_B) <= sum_{|B| = r + 1} min(P(Y_1 <= x), prod_B P(A_j)) (the counts are
    negatively associated, Joag-Dev & Proschan 1983; ``_bound``); |D_B| <= 1, so a pair whose bound is negligible is
    left out and its bound counted instead. Order 1 is exact with two classes, order 2 with three. The order-1 sums
    run over the upper tail of Y_j from y = x, its conditional cdf stepped down in trials, P(Bin(t - 1, q) < x) =
    P(Bin(t, q) < x) + q b(x - 1; t - 1) (positive terms), until the rest of the tail is below 1e-18; their starting
    values follow x the same way (``_start``). Returns (a, b): the indices a .. b - 1 span every x where wt(x) times
    the bound after order 2 may exceed exp(log_allow) (a = b: none); h is 1 there, for another route. (Order 3 was
    tried: its O(L^2) terms per triple cost more than the sweep they replace.)"""
    c1, c2 = tie_credit(1, ties), tie_credit(2, ties)
    n_kept = kept.shape[0]
    _one_wrong_class(kept[0] / nonc, k, ties, x0, h)
    top_le = np.empty(h.shape[0]) if n_kept > 2 else h  # P(Y_1 <= x), for the bounds
    if n_kept > 2:
        _one_wrong_class(kept[0] / nonc, k, TIE_WEAK, x0, top_le)
    start = np.zeros((n_kept, 4))  # per class: P(T_x < x), P(T_x = x - 1), P(T_x = x), b_j(x)
    other = np.zeros((n_kept, 4))  # per class: P(U_x < x), P(U_x = x - 1), P(U_x = x), b_1(x) (U_x: j given Y_1 = x)
    phi = np.zeros(n_kept)  # per class: P(Y_j >= x, Y_1 < x)
    stepped = np.zeros(n_kept, np.bool_)  # phi was stepped from x - 1 (else it is summed anew)
    tail_j = np.zeros(n_kept)  # P(A_j) at the current x, or an upper bound on it
    order = np.ones(h.shape[0], np.int64)  # the order each x needs (3: neither suffices)
    tails = np.zeros((h.shape[0] if n_kept > 2 else 0, n_kept))  # P(A_j) at each x of order 2
    fail_lo, fail_hi = h.shape[0], 0
    for i in range(h.shape[0]):
        x = x0 + i
        m = k - x
        exact = True
        for j in range(1, n_kept):
            q = kept[j] / nonc
            q_top = kept[0] / (nonc - kept[j])  # exactly 1 when no one else draws
            q_other = kept[j] / (nonc - kept[0])
            _start(x, m, q, q_top, i % 64 == 0, start[j])
            _start(x, m, kept[0] / nonc, q_other, i % 64 == 0, other[j])
            if stepped[j] and i % 64 != 0:
                tail_j[j] = _chernoff_tail(x, m, q)
                exact = False
            else:
                phi[j], _, tail_j[j] = _given_class(x, m, q, q_top, 0.0, c2, start[j])
            st = start[j]
            h[i] += st[3] * (c1 * st[0] + c2 * st[2]) - phi[j] - c1 * other[j, 3] * (1.0 - other[j, 0])
            stepped[j] = _steppable(x, m, q, q_top, q_other, st, other[j])
            if stepped[j]:
                phi[j] = _phi_step(phi[j], x, m, q, kept[0] / nonc, q_top, q_other, st, other[j])
        if n_kept > 2:
            order[i] = _order_needed(tail_j, top_le[i], log_wt[i], log_allow)
            if order[i] > 1 and not exact:  # the Chernoff bounds were too loose: the tails themselves
                for j in range(1, n_kept):
                    tail_j[j] = _upper_tail(x, m, kept[j] / nonc)
                order[i] = _order_needed(tail_j, top_le[i], log_wt[i], log_allow)
            if order[i] > 1:
                tails[i] = tail_j
            if order[i] > 2:
                fail_lo, fail_hi = min(fail_lo, i), i + 1
    d_two = _moebius(ties, 2)
    for i in range(h.shape[0]):  # the pairs' terms where needed, outside the range left to other routes
        if order[i] == 2 and not fail_lo <= i < fail_hi:
            x = x0 + i
            for a in range(1, n_kept):
                for b in range(a + 1, n_kept):
                    if _needed(log_wt[i], top_le[i], tails[i, a] * tails[i, b], log_allow, n_kept - 1):
                        h[i] += _pair_term(x, k - x, kept[a], kept[b], kept[0], nonc, d_two)
        h[i] = min(max(h[i], 0.0), 1.0)
    if fail_lo < fail_hi:
        h[fail_lo:fail_hi] = 1.0  # as the caller leaves h for the other routes
    return fail_lo, max(fail_hi, fail_lo)


@njit(cache=True)
def _steppable(x: int, m: int, q: float, q_top: float, q_other: float, st: FloatArray, ot: FloatArray) -> bool:
    """Whether ``_phi_step`` applies at x: trials left for both conditional counts, shares strictly inside (0, 1),
    and no pmf underflowed."""
    return (m - x >= 2 and 0.0 < q < 1.0 and q_top < 1.0 and q_other < 1.0 and st[3] > 0.0 and ot[3] > 0.0
            and st[2] > 0.0 and ot[2] > 0.0)


@njit(cache=True)
def _phi_step(phi: float, x: int, m: int, q_j: float, q_1: float, q_top: float, q_other: float, st: FloatArray,
              ot: FloatArray) -> float:
    """Phi(m - 1, x + 1) from Phi(m, x) = P(Y_j >= x, Y_1 < x), (Y_j, Y_1) from a multinomial of m draws: by the last
    draw, Phi(m - 1, x) = Phi(m, x) - q_j P(Y_j = x - 1, Y_1 < x) + q_1 P(Y_j >= x, Y_1 = x - 1), and moving both
    thresholds up, Phi(m - 1, x + 1) = Phi(m - 1, x) + P(Y_j >= x, Y_1 = x) - P(Y_j = x, Y_1 <= x) (those on m - 1
    draws). Each edge is a pmf times a conditional binomial cdf: st = ``_start`` for class 1 given Y_j (share q_top)
    with b_j(x; m), ot the same for class j given Y_1 (share q_other) with b_1(x; m)."""
    t = m - x
    bj = st[3] * t / (m * (1.0 - q_j))  # b_j(x; m - 1)
    bj_prev = bj * x * (1.0 - q_j) / (t * q_j)  # b_j(x - 1; m - 1)
    b1 = ot[3] * t / (m * (1.0 - q_1))
    b1_prev = b1 * x * (1.0 - q_1) / (t * q_1)
    top_lt, _, top_at = _one_trial_fewer(st[0], st[1], st[2], t, x, q_top)  # class 1 on t - 1 draws
    other_lt, _, _ = _one_trial_fewer(ot[0], ot[1], ot[2], t, x, q_other)  # class j on t - 1 draws
    down = phi - q_j * bj_prev * st[0] + q_1 * b1_prev * (1.0 - ot[0])
    out: float = down + b1 * (1.0 - other_lt) - bj * (top_lt + top_at)
    return out


@njit(cache=True)
def _chernoff_tail(x: int, m: int, q: float) -> float:
    """An upper bound on P(Bin(m, q) >= x): exp(-m KL(x / m || q)) above the mean, else 1."""
    if x > m:
        return 0.0
    if x <= m * q:
        return 1.0
    return math.exp(-m * _kl(x / m, q))


@njit(cache=True)
def _upper_tail(x: int, m: int, q: float) -> float:
    """P(Bin(m, q) >= x), summed from x upwards (pmfs by their ratios, anew every 64 values) until the rest is below
    1e-18, or as 1 - the lower tail when x is not above the mean."""
    if x > m:
        return 0.0
    if x <= 0:
        return 1.0
    if x - 1 <= m * q:
        return 1.0 - _binom_split(x, m, q)[0]
    odds = q / (1.0 - q)
    total = 0.0
    b = 0.0
    for y in range(x, m + 1):
        if (y - x) % 64 == 0:
            b = math.exp(_log_binom_pmf(y, m, q))
        total += b
        ratio = (m - y) / (y + 1.0) * odds
        if b * ratio <= 1e-18 * (1.0 - ratio):
            break
        b *= ratio
    return total


@njit(cache=True)
def _order_needed(tail: FloatArray, top_le: float, log_wt: float, log_allow: float) -> int:
    """1 if wt times the bound after order 1 (over pairs) is at most exp(log_allow), else 2 if wt times the bound
    after order 2 (over triples, plus the pairs ``_needed`` leaves out) is, else 3."""
    if log_wt + math.log(max(_bound(tail, top_le, 2, -1.0), 1e-300)) <= log_allow:
        return 1
    pairs = _comb(tail.shape[0] - 1, 2)
    left = _bound(tail, top_le, 2, math.exp(log_allow - log_wt) / (2.0 * pairs))
    return 2 if log_wt + math.log(max(left + _bound(tail, top_le, 3, -1.0), 1e-300)) <= log_allow else 3


@njit(cache=True)
def _needed(log_wt: float, top_le: float, both: float, log_allow: float, others: int) -> bool:
    """Whether a pair's term must be computed: wt times its bound min(P(Y_1 <= x), P(A_a) P(A_b)) exceeds
    exp(log_allow) / (2 C(others, 2)) (the threshold of ``_order_needed``)."""
    return log_wt + math.log(max(min(top_le, both), 1e-300)) > log_allow - math.log(2.0 * _comb(others, 2))


@njit(cache=True)
def _bound(tail: FloatArray, top_le: float, size: int, below: float) -> float:
    """sum over the sets B of ``size`` (2 or 3) classes among 1 .. len(tail) - 1 of min(P(Y_0 <= x), prod_B
    P(A_j)), P(A_j) = tail[j]; with below >= 0, only the terms at most ``below`` (those ``_needed`` leaves out)."""
    total = 0.0
    n = tail.shape[0]
    for a in range(1, n):
        for b in range(a + 1, n):
            if size == 2:
                term = min(top_le, tail[a] * tail[b])
                total += term if below < 0.0 or term <= below else 0.0
                continue
            for c in range(b + 1, n):
                total += min(top_le, tail[a] * tail[b] * tail[c])
    return total


@njit(cache=True)
def _comb(n: int, r: int) -> float:
    """The binomial coefficient C(n, r) as a float (0 when r > n)."""
    out = 1.0
    for i in range(r):
        out *= (n - i) / (i + 1.0)
    return max(out, 0.0)


@njit(cache=True)
def _moebius(ties: int, r: int) -> FloatArray:
    """(2, r + 1): D_B for |B| = r with e = 0 .. r classes at x and r - e above it, row 0 with class 1 below x, row
    1 with it at x: (-1)^(r - e) Delta^e f(0), f(t) = c_(t + row), c_t the credit with t others tied."""
    out = np.zeros((2, r + 1))
    for row in range(2):
        for e in range(r + 1):
            diff = 0.0
            for t in range(e + 1):
                diff += _comb(e, t) * (-1.0) ** (e - t) * tie_credit(t + row, ties)
            out[row, e] = (-1.0) ** (r - e) * diff
    return out


@njit(cache=True)
def _pair_term(x: int, m: int, v_a: int, v_b: int, v_top: int, nonc: int, d: FloatArray) -> float:
    """E[D_ab; A_a, A_b] of ``_top_and_pairs`` (d = ``_moebius``(ties, 2)), summed over s = Y_a + Y_b ~ Bin(m, q_a +
    q_b): given s, Y_a = U ~ Bin(s, rho), rho = v_a / (v_a + v_b), and class 1 is T ~ Bin(m - s, u), u = v_top /
    (nonc - v_a - v_b). With W_e = P(T < x) d[0, e] + P(T = x) d[1, e] (e classes at x),

        E = sum_{s > 2x} b(s) {P(x < U < s - x) W_0 + [P(U = x) + P(U = s - x)] W_1} + b(2x) P(U = x) W_2.

    Each s costs O(1): P(Bin(s + 1, rho) < x) = P(Bin(s, rho) < x) - rho b(x - 1; s) for U and s - U, T's cdf one
    trial fewer, the pmfs by their ratios, all anew every 64 values; the sum stops where the rest of b's tail is
    below 1e-18."""
    if 2 * x > m:
        return 0.0
    q_ab = (v_a + v_b) / nonc
    odds_ab = q_ab / (1.0 - q_ab)
    rho = v_a / (v_a + v_b)
    u = v_top / (nonc - v_a - v_b)  # exactly 1 when no one else draws
    b_s = lo_a = prev_a = at_a = lo_b = prev_b = at_b = g_lt = g_prev = g_eq = 0.0
    total = 0.0
    s = 2 * x
    while s <= m:
        t = m - s
        if (s - 2 * x) % 64 == 0 or b_s == 0.0:
            b_s = math.exp(_log_binom_pmf(s, m, q_ab))
            lo_a, prev_a, at_a = _binom_split(x, s, rho)  # P(U < x), P(U = x - 1), P(U = x)
            lo_b, prev_b, at_b = _binom_split(x, s, 1.0 - rho)  # the same for s - U
            g_lt, g_prev, g_eq = _top_given(x, t, u)
        if u >= 1.0:
            g_lt, g_prev, g_eq = _top_given(x, t, u)
        if s > 2 * x:
            inner = (1.0 - lo_a - lo_b - at_a - at_b) * _w(d, 0, g_lt, g_eq) + (at_a + at_b) * _w(d, 1, g_lt, g_eq)
        else:
            inner = at_a * _w(d, 2, g_lt, g_eq)
        total += b_s * inner
        ratio = (m - s) / (s + 1.0) * odds_ab
        if ratio < 1.0 and b_s * ratio <= 1e-18 * (1.0 - ratio):
            break
        b_s *= ratio
        lo_a, prev_a, at_a = _one_trial_more(lo_a, prev_a, at_a, s, x, rho)
        lo_b, prev_b, at_b = _one_trial_more(lo_b, prev_b, at_b, s, x, 1.0 - rho)
        if u < 1.0 and t >= 1:
            g_lt, g_prev, g_eq = _one_trial_fewer(g_lt, g_prev, g_eq, t, x, u)
        s += 1
    return total


@njit(cache=True)
def _w(d: FloatArray, e: int, g_lt: float, g_eq: float) -> float:
    """W_e = P(T < x) d[0, e] + P(T = x) d[1, e]: the expected D_B given e classes at x and the rest above it."""
    out: float = g_lt * d[0, e] + g_eq * d[1, e]
    return out


@njit(cache=True)
def _top_given(x: int, t: int, u: float) -> tuple[float, float, float]:
    """(P(T < x), P(T = x - 1), P(T = x)) for class 1 given the others, T ~ Bin(t, u) (T = t when u = 1)."""
    if u >= 1.0:
        return (1.0 if t < x else 0.0), (1.0 if t == x - 1 else 0.0), (1.0 if t == x else 0.0)
    if t <= 0:
        return 1.0, 0.0, 0.0
    return _binom_split(x, t, u)


@njit(cache=True)
def _one_trial_more(cdf: float, f_prev: float, f_at: float, t: int, x: int, q: float) -> tuple[float, float, float]:
    """(P(Bin(t, q) < x), b(x - 1; t), b(x; t)) -> the same with t + 1 trials: P(Bin(t + 1, q) < x) = P(Bin(t, q)
    < x) - q b(x - 1; t), the pmfs by their ratios."""
    return (max(cdf - q * f_prev, 0.0), f_prev * (t + 1.0) / (t + 2.0 - x) * (1.0 - q),
            f_at * (t + 1.0) / (t + 1.0 - x) * (1.0 - q))


@njit(cache=True)
def _start(x: int, m: int, q: float, q_top: float, anchor: bool, st: FloatArray) -> None:
    """st = (P(T < x), P(T = x - 1), P(T = x), P(Y = x)) for T ~ Bin(m - x, q_top), Y ~ Bin(m, q), from st at x - 1
    (two trials fewer for T, one for Y, all by ratios and positive additions) or anew where ``anchor``, after an
    underflow, or near the ends."""
    t = m - x
    if anchor or q_top >= 1.0 or t < 2 or x > m or st[2] == 0.0 or st[3] == 0.0:
        st[3] = math.exp(_log_binom_pmf(x, m, q)) if x <= m else 0.0
        st[0], st[1], st[2] = _top_given(x, t, q_top)
        return
    # from x - 1 (t + 2 trials for T, m + 1 for Y) to x
    xp, mp = x - 1, m + 1
    cdf, f_prev, f_at = _one_trial_fewer(st[0], st[1], st[2], t + 2, xp, q_top)
    st[0], st[1], st[2] = _one_above(*_one_trial_fewer(cdf, f_prev, f_at, t + 1, xp, q_top), t, xp, q_top)
    st[3] *= (mp - xp) / (mp * (1.0 - q)) * (mp - 1 - xp) / (xp + 1.0) * q / (1.0 - q)


@njit(cache=True)
def _given_class(x: int, m: int, q: float, q_top: float, c1: float, c2: float, st: FloatArray
                 ) -> tuple[float, float, float]:
    """(sum_{y >= x} b(y) [P(T_y < x) + c1 P(T_y = x)], b(x) [c1 P(T_x < x) + c2 P(T_x = x)], P(Y >= x)) for
    Y ~ Bin(m, q) with pmf b and T_y ~ Bin(m - y, q_top) (see ``_top_and_pairs``), from st = ``_start`` at x; sums
    cut below 1e-18, pmfs re-anchored every 64 values."""
    if x > m:
        return 0.0, 0.0, 0.0
    odds = q / (1.0 - q)
    cdf, f_prev, f_at, b = st[0], st[1], st[2], st[3]
    tie = b * (c1 * cdf + c2 * f_at)
    below = tail = 0.0
    y = x
    while y <= m:
        t = m - y
        if y > x and ((y - x) % 64 == 0 or b == 0.0):  # Loader's pmfs again (the cdf keeps its sum)
            b = math.exp(_log_binom_pmf(y, m, q))
            if q_top < 1.0:
                f_prev = math.exp(_log_binom_pmf(x - 1, t, q_top)) if x - 1 <= t else 0.0
                f_at = math.exp(_log_binom_pmf(x, t, q_top)) if x <= t else 0.0
        below += b * (cdf + c1 * f_at)
        tail += b
        ratio = (m - y) / (y + 1.0) * odds
        if ratio < 1.0 and b * ratio <= 1e-18 * (1.0 - ratio):
            break
        b *= ratio
        if q_top >= 1.0:  # T_(y + 1) = t - 1
            cdf, _, f_at = _top_given(x, t - 1, q_top)
        elif t > 0:  # T_(y + 1) has t - 1 trials
            cdf, f_prev, f_at = _one_trial_fewer(cdf, f_prev, f_at, t, x, q_top)
        y += 1
    return below, tie, tail


@njit(cache=True)
def _first(start: int, stop: int, k: int, w: IntArray, nonc: int, log_skip: float, hit: bool) -> int:
    """Smallest x in [start, stop) whose bound (on H(x) when ``hit``, else on 1 - H(x)) is not below
    exp(log_skip) when hit, or is below it when not; ``stop`` if none (the bounds are monotone: bisection)."""
    lo, hi = start, stop
    while lo < hi:
        mid = (lo + hi) // 2
        ok = _log_hit(mid, k, w[0] / nonc) > log_skip if hit else _log_miss(mid, k, w, nonc) <= log_skip
        if ok:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _keep(w: IntArray, nonc: int, k: int, x0: int, log_drop: float) -> tuple[IntArray, int]:
    """(classes kept, samples pooled): a class whose Chernoff bound on P(Y_j >= x0) is below exp(log_drop) joins
    the unanswered pool (the bound falls as x grows, so it holds over the whole band)."""
    keep = np.empty(w.shape[0], np.int64)
    kept = 0
    pooled = 0
    m = k - x0
    for v in w:
        q = v / nonc
        if kept > 0 and x0 > m * q and -m * _kl(min(x0 / m, 1.0), q) <= log_drop:
            pooled += v
        else:
            keep[kept] = v
            kept += 1
    return keep[:kept], pooled


@njit(cache=True)
def _expect(
    r: int, x0: int, x1: int, h: FloatArray, pi_lo: IntArray, pi_ptr: IntArray, pi_val: FloatArray,
    pi_tail: FloatArray, tail_ptr: IntArray,
) -> float:
    """sum_{x0 <= x < x1} pi_r(x) h(x) + pi_r(x >= x1)."""
    lo = pi_lo[r]
    hi = lo + pi_ptr[r + 1] - pi_ptr[r] - 1
    total = 0.0
    for x in range(max(x0, lo), min(x1 - 1, hi) + 1):
        total += pi_val[pi_ptr[r] + x - lo] * h[x - x0]
    if x1 <= hi:
        i = max(x1 - lo, 0)  # pi_r(x >= x1): the block tail from the next multiple of TAIL_BLOCK, the rest by hand
        j = (i + TAIL_BLOCK - 1) // TAIL_BLOCK
        total += pi_tail[tail_ptr[r] + j]
        for t in range(i, min(j * TAIL_BLOCK, hi - lo + 1)):
            total += pi_val[pi_ptr[r] + t]
    return min(max(total, 0.0), 1.0)


TAIL_BLOCK = 64
"""pi's mass above x is kept at every TAIL_BLOCK-th x only (``block_tails``): 1/64 of the memory of pi itself."""


def block_tails(vals: FloatArray) -> FloatArray:
    """t[j] = sum(vals[TAIL_BLOCK j:]) for j = 0 .. ceil(len / TAIL_BLOCK) (the last one 0), summed from the end."""
    blocks = np.add.reduceat(vals, np.arange(0, len(vals), TAIL_BLOCK)) if len(vals) else np.zeros(0)
    return np.append(np.cumsum(blocks[::-1])[::-1], 0.0)
