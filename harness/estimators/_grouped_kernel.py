"""Compiled maj@k kernel over *groups* of exchangeable answer classes (several correct classes; any class structure).

See :mod:`harness.estimators.majority` for the method and its proof; this module holds the numerics.

Representation. Classes are grouped by (size a, correct or not) with a multiplicity r. Under one global tilt every
class count is an independent Binomial(a, theta), theta = k / n (``measured``) or Poisson(lam a), lam = k / n
(``iid``); conditioned on the total (abstentions included) being k the law is exactly the multivariate
hypergeometric (multinomial) one. A polynomial in z is a window ``(lo, coefficients)``: coefficient i is the
weight of total count lo + i. Every polynomial handled is a sub-probability measure (times u <= 1 or a factor
<= the number of correct classes for the derivative part), so dropping a coefficient of value v changes the final
coefficient at z^k by at most v times that factor; the caller chooses the cut ``log_tau`` accordingly.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from harness.estimators._majority_kernel import TIE_RANDOM, TIE_STRICT, TIE_WEAK, _kl, _log_choose, _log_tilted


@njit(cache=True)
def _logaddexp(a: float, b: float) -> float:
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a < b:
        a, b = b, a
    return a + math.log1p(math.exp(b - a))


@njit(cache=True)
def _trim(lo: int, c: npt.NDArray[np.float64], tau: float) -> tuple[int, npt.NDArray[np.float64]]:
    """Drop leading and trailing coefficients below tau."""
    a = 0
    b = c.shape[0]
    while a < b and c[a] < tau:
        a += 1
    while b > a and c[b - 1] < tau:
        b -= 1
    return lo + a, c[a:b].copy()


@njit(cache=True)
def _conv(
    alo: int, a: npt.NDArray[np.float64], blo: int, b: npt.NDArray[np.float64], kmax: int, tau: float
) -> tuple[int, npt.NDArray[np.float64]]:
    """Product of two windows, degrees above kmax dropped (they cannot reach z^k), ends below tau trimmed."""
    if a.shape[0] == 0 or b.shape[0] == 0:
        return 0, np.zeros(0)
    lo = alo + blo
    if lo > kmax:
        return 0, np.zeros(0)
    width = min(a.shape[0] + b.shape[0] - 1, kmax - lo + 1)
    c = np.zeros(width)
    for i in range(a.shape[0]):
        ai = a[i]
        if ai == 0.0:
            continue
        jmax = min(b.shape[0], width - i)
        for j in range(jmax):
            c[i + j] += ai * b[j]
    return _trim(lo, c, tau)


@njit(cache=True)
def _add(
    alo: int, a: npt.NDArray[np.float64], blo: int, b: npt.NDArray[np.float64], sign: float
) -> tuple[int, npt.NDArray[np.float64]]:
    """a + sign * b on the union window (negative results, rounding only, clipped to 0)."""
    if b.shape[0] == 0:
        return alo, a.copy()
    if a.shape[0] == 0:
        if sign > 0:
            return blo, b.copy()
        return 0, np.zeros(0)
    lo = min(alo, blo)
    hi = max(alo + a.shape[0], blo + b.shape[0])
    c = np.zeros(hi - lo)
    for i in range(a.shape[0]):
        c[alo - lo + i] += a[i]
    for i in range(b.shape[0]):
        c[blo - lo + i] += sign * b[i]
    for i in range(c.shape[0]):
        if c[i] < 0.0:
            c[i] = 0.0
    return lo, c


@njit(cache=True)
def _power(
    lo: int, p: npt.NDArray[np.float64], r: int, kmax: int, tau: float
) -> tuple[int, npt.NDArray[np.float64]]:
    """p^r by binary exponentiation (closed form binomial when p has one or two coefficients)."""
    if r == 0:
        return 0, np.ones(1)
    if p.shape[0] == 0:
        return 0, np.zeros(0)
    if p.shape[0] == 1:
        if p[0] <= 0.0 or lo * r > kmax:
            return 0, np.zeros(0)
        return lo * r, np.array([math.exp(r * math.log(p[0]))])
    if p.shape[0] == 2 and p[0] > 0.0 and p[1] > 0.0:
        # (p0 + p1 z)^r = sum_t C(r, t) p0^(r-t) p1^t z^t, on the window where the terms reach tau
        l0 = math.log(p[0])
        l1 = math.log(p[1])
        top = min(r, kmax - lo * r)
        if top < 0:
            return 0, np.zeros(0)
        mode = min(max(math.floor((r + 1) * p[1] / (p[0] + p[1])), 0), top)
        log_tau = math.log(tau) if tau > 0.0 else -np.inf
        t_lo = mode
        while t_lo > 0 and _log_choose(r, t_lo - 1) + (r - t_lo + 1) * l0 + (t_lo - 1) * l1 >= log_tau:
            t_lo -= 1
        t_hi = mode
        while t_hi < top and _log_choose(r, t_hi + 1) + (r - t_hi - 1) * l0 + (t_hi + 1) * l1 >= log_tau:
            t_hi += 1
        out = np.empty(t_hi - t_lo + 1)
        for t in range(t_lo, t_hi + 1):
            out[t - t_lo] = math.exp(_log_choose(r, t) + (r - t) * l0 + t * l1)
        return _trim(lo * r + t_lo, out, tau)
    if r >= 32 and p[0] > 0.0:
        mlo, mp, ok = _power_miller(lo, p, r, kmax, tau)
        if ok:
            return mlo, mp
    res_lo = 0
    res = np.ones(1)
    base_lo = lo
    base = p
    first = True
    while r > 0:
        if r & 1:
            if first:
                res_lo, res = base_lo, base.copy()
                first = False
            else:
                res_lo, res = _conv(res_lo, res, base_lo, base, kmax, tau)
        r >>= 1
        if r > 0:
            base_lo, base = _conv(base_lo, base, base_lo, base, kmax, tau)
    return res_lo, res


@njit(cache=True)
def _pow_scaled(p: float, r: int) -> tuple[float, int]:
    """p^r as mantissa * 2^exponent by binary powering (about 2 log2(r) roundings; no overflow or underflow)."""
    mant = 1.0
    e2 = 0
    bm, be = math.frexp(p)
    while r > 0:
        if r & 1:
            mant *= bm
            e2 += be
            mant, e = math.frexp(mant)
            e2 += e
        r >>= 1
        if r > 0:
            bm *= bm
            be *= 2
            bm, e = math.frexp(bm)
            be += e
    return mant, e2


@njit(cache=True)
def _power_miller(
    lo: int, p: npt.NDArray[np.float64], r: int, kmax: int, tau: float
) -> tuple[int, npt.NDArray[np.float64], bool]:
    """p^r by J.C.P. Miller's recurrence where every term is non-negative (no cancellation).

    With q = p^r (p shifted to start at degree 0), n p_0 q_n = sum_{i=1..d} ((r+1) i - n) p_i q_(n-i) (Knuth,
    TAOCP vol. 2, 4.7, exercise on power series): for n <= r + 1 all terms are non-negative, so each q_n is a sum of
    positive terms and its relative rounding error grows at most by d + 2 units per step. Values are carried with a
    power-of-two scale (exact rescaling). Returns ok = False (the caller squares instead) when the coefficients
    above tau reach beyond n = r + 1.
    """
    d = p.shape[0] - 1
    top = min(r * d, kmax - lo * r)
    if top < 0:
        return 0, np.zeros(0), True
    mant, e0 = _pow_scaled(p[0], r)  # q_0 = p_0^r = mant 2^e0; q below is in units of 2^(e0 + shift)
    log2_tau = math.log2(tau) if tau > 0.0 else -np.inf
    q = np.empty(top + 1)
    q[0] = mant
    shift = 0
    peak = math.log2(mant) + e0
    end = top
    for m in range(1, top + 1):
        if m > r + 1:
            return 0, np.zeros(0), False
        tot = 0.0
        for i in range(1, min(d, m) + 1):
            c = (r + 1) * i - m
            if c > 0:
                tot += c * p[i] * q[m - i]
        q[m] = tot / (m * p[0])
        if q[m] > 1e250:
            for j in range(m + 1):
                q[j] = math.ldexp(q[j], -800)
            shift += 800
        lv = math.log2(q[m]) + e0 + shift if q[m] > 0.0 else -np.inf
        peak = max(peak, lv)
        # past the peak and below tau for d consecutive terms: the rest is smaller still (log-concave in n)
        if m >= d and lv < peak and lv < log2_tau:
            below = True
            for i in range(d):
                below = below and (q[m - i] == 0.0 or math.log2(q[m - i]) + e0 + shift < log2_tau)
            if below:
                end = m
                break
    out = np.empty(end + 1)
    for m in range(end + 1):
        out[m] = math.ldexp(q[m], e0 + shift)
    tlo, tp = _trim(lo * r, out, tau)
    return tlo, tp, True


@njit(cache=True)
def _base(
    a: int, x: int, theta: float, lam: float, measured: bool, u: float, top: bool, log_cut: float
) -> tuple[int, npt.NDArray[np.float64]]:
    """The class's tilted pmf on [lo, x - 1] (plus u times its value at x when ``top``), tails below e^log_cut cut."""
    hi = x if top else x - 1
    mean = lam * a
    if measured:
        hi = min(hi, a)
        mode = math.floor((a + 1) * theta)
    else:
        mode = math.floor(mean)
    if hi < 0:
        return 0, np.zeros(0)
    start = min(max(mode, 0), hi)
    lo = start
    while lo > 0 and _log_tilted(lo - 1, a, theta, mean, measured) >= log_cut:
        lo -= 1
    up = start
    while up < hi and _log_tilted(up + 1, a, theta, mean, measured) >= log_cut:
        up += 1
    out = np.empty(up - lo + 1)
    for i in range(lo, up + 1):
        out[i - lo] = math.exp(_log_tilted(i, a, theta, mean, measured))
    if top and up == x:
        out[x - lo] *= u
    return _trim(lo, out, math.exp(log_cut))


@njit(cache=True)
def _log_marginal(i: int, a: int, n: int, k: int, measured: bool) -> float:
    """log P(Y = i) of one class of size a: hypergeometric (measured) or Binomial(k, a / n) (iid)."""
    if i < 0 or i > k:
        return -np.inf
    if measured:
        if i > a or k - i > n - a:
            return -np.inf
        return _log_choose(a, i) + _log_choose(n - a, k - i) - _log_choose(n, k)
    q = a / n
    if q >= 1.0:
        return 0.0 if i == k else -np.inf
    out = _log_choose(k, i)
    if i > 0:
        out += i * math.log(q)
    if k - i > 0:
        out += (k - i) * math.log1p(-q)
    return out


@njit(cache=True)
def _log_tail_bound(x: int, a: int, n: int, k: int, upper: bool) -> float:
    """Chernoff bound on log P(Y >= x) (upper) or log P(Y <= x) for one class (binomial or hypergeometric)."""
    frac = x / k
    q = a / n
    if upper and frac <= q:
        return 0.0
    if not upper and frac >= q:
        return 0.0
    return -k * _kl(frac, q)


@njit(cache=True)
def group_totals(
    sizes: npt.NDArray[np.int64], mult: npt.NDArray[np.int64], corr: npt.NDArray[np.bool_], rest: int
) -> tuple[int, int, int, int]:
    """(n samples, voting correct classes, voting classes, largest correct class) of a grouped question."""
    n = rest
    n_corr = 0
    n_cls = 0
    amax_corr = 0
    for g in range(sizes.shape[0]):
        n += sizes[g] * mult[g]
        if sizes[g] > 0:
            n_cls += mult[g]
        if corr[g] and mult[g] > 0 and sizes[g] > 0:
            n_corr += mult[g]
            amax_corr = max(amax_corr, sizes[g])
    return n, n_corr, n_cls, amax_corr


@njit(cache=True)
def _known_credit(
    sizes: npt.NDArray[np.int64], mult: npt.NDArray[np.int64], corr: npt.NDArray[np.bool_], ties: int
) -> float:
    """Credit when every sample is drawn (measured, k = n)."""
    top = 0
    for g in range(sizes.shape[0]):
        if mult[g] > 0:
            top = max(top, sizes[g])
    if top == 0:
        return 0.0
    c = 0
    w = 0
    for g in range(sizes.shape[0]):
        if sizes[g] == top:
            if corr[g]:
                c += mult[g]
            else:
                w += mult[g]
    if ties == TIE_STRICT:
        return 1.0 if (c == 1 and w == 0) else 0.0
    if ties == TIE_WEAK:
        return 1.0 if c > 0 else 0.0
    return c / (c + w)


@njit(cache=True)
def _extract(
    lo: int, poly: npt.NDArray[np.float64], k: int, free: int, theta: float, lam: float, measured: bool,
    ldenom: float, inv_s: bool,
) -> float:
    """[z^k] poly(z) g(z) / P(S = k), g the free pool's pmf; ``inv_s`` divides coefficient s by s first."""
    total = 0.0
    fmean = lam * free
    for i in range(poly.shape[0]):
        s = lo + i
        d = k - s
        if d < 0:
            break
        v = poly[i]
        if v == 0.0:
            continue
        lg = _log_tilted(d, free, theta, fmean, measured) if (measured or free > 0) else (0.0 if d == 0 else -np.inf)
        if lg == -np.inf:
            continue
        if inv_s:
            if s == 0:
                continue
            v /= s
        total += v * math.exp(lg - ldenom)
    return total


@njit(cache=True, nogil=True)
def grouped_kernel(
    sizes: npt.NDArray[np.int64], mult: npt.NDArray[np.int64], corr: npt.NDArray[np.bool_], rest: int, k: int,
    ties: int, measured: bool, log_eps: float, gl_offset: npt.NDArray[np.int64], gl_nodes: npt.NDArray[np.float64],
    gl_weights: npt.NDArray[np.float64], x_first: int, x_last: int,
) -> float:
    """Exact maj@k for voting classes given as groups (size, multiplicity, correct?) and ``rest`` non-voting samples.

    Only top counts x in [x_first, x_last] are summed (1 and k for the whole value; the DFT kernel asks for x = 1).

    The N-point Gauss-Legendre rule on [0, 1] is ``gl_nodes[o:o + N]``, ``gl_weights[o:o + N]`` with
    o = ``gl_offset[N]`` (-1 where not yet built). Returns -N when rule N is missing (the caller adds it).
    """
    G = sizes.shape[0]
    n, n_corr, _, amax_corr = group_totals(sizes, mult, corr, rest)
    if n_corr == 0 or k <= 0:
        return 0.0
    if measured and k == n:
        return _known_credit(sizes, mult, corr, ties)
    theta = k / n if measured else 0.0
    lam = k / n
    ldenom = _log_tilted(k, n, theta, 0.0, True) if measured else _log_tilted(k, 0, 0.0, float(k), False)
    xmax = min(k, amax_corr) if measured else k
    log_piece = log_eps - math.log(xmax) - math.log(3.0)  # per x: neglected classes, trimming, tie degree
    log_g = math.log(G + 1.0)
    cmax = 1.0 if ties == TIE_WEAK else float(n_corr)
    acc = 0.0
    comp = np.empty(G, np.int64)
    for x in range(max(1, x_first), min(xmax, x_last) + 1):
        # credit needs a correct class at x: P <= sum over correct classes of P(Y = x) (exact marginals)
        lpx = -np.inf
        for g in range(G):
            if corr[g] and sizes[g] > 0:
                lpx = _logaddexp(lpx, math.log(mult[g]) + _log_marginal(x, sizes[g], n, k, measured))
        if lpx < log_piece:
            continue
        # and every class at most x: P <= prod_j P(Y_j <= x) (negative association), Chernoff on each factor
        lall = 0.0
        reach = rest
        for g in range(G):
            reach += mult[g] * min(sizes[g], x)
            lall += mult[g] * _log_tail_bound(x, sizes[g], n, k, False)
        if lall < log_piece or (measured and reach < k):
            continue
        # competitive groups: those that can reach x (weak, wrong: exceed x) with non-negligible probability
        ncomp = 0
        free = rest
        only = -1
        for g in range(G):
            a = sizes[g]
            if a == 0 or mult[g] == 0:
                continue
            need = x + 1 if (ties == TIE_WEAK and not corr[g]) else x
            if x == 1 and ties == TIE_RANDOM:
                need = 1  # the 1/s identity below needs every voting class at x = 1 in the product
            elif (measured and a < need) or (
                min(lpx, math.log(mult[g]) + _log_tail_bound(need, a, n, k, True)) < log_piece - log_g
            ):
                free += a * mult[g]
                continue
            comp[ncomp] = g
            ncomp += 1
            only = g
        # wrong groups first: the derivative (correct) part of the dual product starts at the first correct group
        order = np.argsort(corr[comp[:ncomp]].astype(np.int64), kind="mergesort")
        comp[:ncomp] = comp[:ncomp][order]
        if ncomp == 1 and corr[only] and mult[only] == 1:
            acc += math.exp(_log_marginal(x, sizes[only], n, k, measured))  # it alone can reach x: P(Y = x)
            continue
        has_correct = False
        for c in range(ncomp):
            has_correct = has_correct or corr[comp[c]]
        if not has_correct:
            continue  # no correct class can reach x
        ops = 4.0
        for c in range(ncomp):
            ops += 3.0 * (2.0 * math.log2(mult[comp[c]] + 1.0) + 3.0)
        log_tau = log_piece + ldenom - math.log(ops) - math.log(k + 1.0) - math.log(cmax)
        tau = math.exp(log_tau)
        if ties == TIE_WEAK:
            wlo, wpoly = 0, np.ones(1)
            c1lo, c1 = 0, np.ones(1)
            c0lo, c0 = 0, np.ones(1)
            for c in range(ncomp):
                g = comp[c]
                cut = log_tau - math.log(mult[g]) - math.log(x + 1.0)
                flo, fp = _base(sizes[g], x, theta, lam, measured, 1.0, True, cut)
                plo, pw = _power(flo, fp, mult[g], k, tau)
                if corr[g]:
                    c1lo, c1 = _conv(c1lo, c1, plo, pw, k, tau)
                    llo, lp = _base(sizes[g], x, theta, lam, measured, 1.0, False, cut)
                    plo, pw = _power(llo, lp, mult[g], k, tau)
                    c0lo, c0 = _conv(c0lo, c0, plo, pw, k, tau)
                else:
                    wlo, wpoly = _conv(wlo, wpoly, plo, pw, k, tau)
            dlo, dpoly = _add(c1lo, c1, c0lo, c0, -1.0)
            plo, poly = _conv(dlo, dpoly, wlo, wpoly, k, tau)
            acc += _extract(plo, poly, k, free, theta, lam, measured, ldenom, False)
            continue
        # strict and random: sum over correct groups g of r_g T_g P_g^(r_g - 1) prod_(h != g) P_h^(r_h), with
        # P = L + u T (u = 0 for strict), carried as the derivative part of a dual-number product
        inv_s = False
        if ties == TIE_STRICT:
            nodes = 1
            us = np.zeros(1)  # u = 0: no tie is credited
            ws = np.ones(1)
        elif x == 1:
            nodes = 1  # at x = 1 the number of classes on top is the voting total s: integral of u^(s-1) = 1/s
            us = np.ones(1)
            ws = np.ones(1)
            inv_s = True
        else:
            # configurations with t or more classes on top weigh at most cmax F^t / t! / P(S = k), F the summed
            # weight at x; the rule with N nodes integrates u-degrees <= 2N - 1 exactly, and its error on higher
            # degrees is at most their weight (positive weights summing to 1)
            # weight of configurations with >= t classes on top (all others below x) is at most
            # [y^>=t] prod_j (l_j + f_j y) <= prod_j (l_j + f_j y) / y^t for any y >= 1 (Chernoff), l_j = the
            # class's weight below x, f_j its weight at x; times cmax / P(S = k)
            tcount = 0
            lsum = np.empty(ncomp)
            fval = np.empty(ncomp)
            for c in range(ncomp):
                g = comp[c]
                blo, bp = _base(sizes[g], x, theta, lam, measured, 1.0, False, log_tau - 40.0)
                lsum[c] = bp.sum()
                fval[c] = math.exp(_log_tilted(x, sizes[g], theta, lam * sizes[g], measured))
                tcount += mult[g]
            tmax = tcount - 1  # u-degree of the integrand is (classes on top) - 1
            for t in range(1, tcount + 1):
                best = np.inf
                y = 1.0
                for _ in range(24):
                    lb = -t * math.log(y)
                    for c in range(ncomp):
                        lb += mult[comp[c]] * math.log(lsum[c] + fval[c] * y) if lsum[c] + fval[c] * y > 0 else -np.inf
                    best = min(best, lb)
                    y *= 1.5
                if math.log(cmax) + best - ldenom < log_piece:
                    tmax = min(tmax, t - 2) if t >= 2 else 0
                    break
            tmax = max(tmax, 0)
            nodes = (tmax + 2) // 2
            if tmax == 0:
                nodes = 1
                us = np.zeros(1)
                ws = np.ones(1)
            else:
                if nodes >= gl_offset.shape[0] or gl_offset[nodes] < 0:
                    return -float(nodes)
                o = gl_offset[nodes]
                us = gl_nodes[o : o + nodes].copy()
                ws = gl_weights[o : o + nodes].copy()
        value = 0.0
        for t in range(nodes):
            u = us[t]
            vlo, vp = 0, np.ones(1)
            dlo, dp = 0, np.zeros(0)
            for c in range(ncomp):
                g = comp[c]
                r = mult[g]
                cut = log_tau - math.log(r) - math.log(x + 1.0)
                blo, bp = _base(sizes[g], x, theta, lam, measured, u, True, cut)
                qlo, qp = _power(blo, bp, r - 1, k, tau)
                alo, ap = _conv(qlo, qp, blo, bp, k, tau)
                if corr[g]:
                    lf = _log_tilted(x, sizes[g], theta, lam * sizes[g], measured)
                    if lf > -np.inf and qp.shape[0] > 0:
                        tp = qp * (r * math.exp(lf))
                        d1lo, d1 = _conv(dlo, dp, alo, ap, k, tau)
                        d2lo, d2 = _conv(vlo, vp, qlo + x, tp, k, tau)
                        dlo, dp = _add(d1lo, d1, d2lo, d2, 1.0)
                    else:
                        dlo, dp = _conv(dlo, dp, alo, ap, k, tau)
                else:
                    dlo, dp = _conv(dlo, dp, alo, ap, k, tau)
                if c < ncomp - 1:
                    vlo, vp = _conv(vlo, vp, alo, ap, k, tau)
            value += ws[t] * _extract(dlo, dp, k, free, theta, lam, measured, ldenom, inv_s)
        acc += value
    return min(max(acc, 0.0), 1.0)
