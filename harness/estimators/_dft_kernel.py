"""Grouped maj@k kernel evaluated at roots of unity: [z^k] of the product by a discrete Fourier sum at one index.

Same representation as :mod:`harness.estimators._grouped_kernel` (groups of exchangeable classes, one global tilt,
condition on the top count x; docs/methods/estimators.md has the proof), but every polynomial is held by its values
at the N-th roots of unity w^j instead of its coefficients:

* a class's truncated tilted pmf L(z) (counts < x) is a sum of coefficients times w^(j i), updated by one term per
  step of x (so over all x a group costs O(N x its window), not O(N x window) per x);
* a group of r exchangeable classes is the scalar power P(w^j)^r (binary powering), the tie term T = f(x) z^x is
  f(x) w^(j x), and the free pool (classes that cannot reach x, abstentions) is (1 - theta + theta w^j)^m
  (Binomial) or exp(mu (w^j - 1)) (Poisson) in closed form;
* the coefficient at z^k is (1/N) sum_j F(w^j) w^(-j k): one dot product, no FFT and no convolution.

Aliasing. The sum returns sum_m [z^(k + m N)] F, not [z^k] F. Every coefficient of F is at most cmax P(S = s) (S the
tilted total of all samples, Binomial(n, theta) or Poisson(k); cmax the largest credit weight), so the aliases add
at most cmax P(|S - k| >= N) / P(S = k), bounded by Chernoff; N is chosen so that this is below its share of eps.

Rounding: |F(w^j)| <= F(1) <= cmax, and the sum has about (G + 2 log2 r) roundings per term, so the absolute error of
a value is about that many units of 1e-16 times cmax / (N P(S = k)) times the number of terms that are not tiny
(|F(w^j)| decays like the characteristic function of S): in practice a few units of 1e-16 relative to cmax.

x = 1 under random ties (every class on top has one vote, credit = correct / voting total) is left to the
coefficient kernel, which applies the 1/s identity there.
"""

from __future__ import annotations

import cmath
import math

import numpy as np
import numpy.typing as npt
from numba import njit

from harness.estimators._grouped_kernel import (
    _known_credit,
    _log_marginal,
    _log_tail_bound,
    _logaddexp,
    group_totals,
    grouped_kernel,
)
from harness.estimators._majority_kernel import TIE_RANDOM, TIE_STRICT, TIE_WEAK, _kl, _log_tilted


@njit(cache=True)
def _log_alias_bound(k: int, n: int, theta: float, measured: bool, dist: int) -> float:
    """Chernoff bound on log P(|S - k| >= dist), S ~ Binomial(n, theta) (measured) or Poisson(k) (iid)."""
    if measured:
        up = -np.inf if k + dist > n else -n * _kl((k + dist) / n, theta)
        lo = -np.inf if k - dist < 0 else -n * _kl((k - dist) / n, theta)
        return _logaddexp(up, lo)
    m = k + dist
    up = -(m * math.log(m / k) - dist)
    m2 = k - dist
    if m2 < 0:
        lo = -np.inf
    elif m2 == 0:
        lo = -float(k)
    else:
        lo = -(m2 * math.log(m2 / k) + dist)
    return _logaddexp(up, lo)


@njit(cache=True)
def _log_walk(i0: int, d: int, a: int, n: int, k: int, measured: bool, bound: bool) -> float:
    """log of sum over i = i0, i0 + d, i0 + 2d, ... of P(Y = i) for one class's count Y (hypergeometric or
    Binomial(k, a / n)), by the ratio of successive terms, until a term is below 1e-6 of the sum while falling. With
    ``bound`` the rest is added as a geometric series of the last ratio (an upper bound: the pmf is log-concave, so
    the ratios only fall outward), else left out (a lower bound)."""
    lp0 = _log_marginal(i0, a, n, k, measured)
    if lp0 == -np.inf:
        return -np.inf
    q = a / n
    s = 1.0
    t = 1.0
    i = i0
    while True:
        if d > 0:
            num = (a - i) * (k - i) if measured else (k - i) * q
            den = (i + 1) * (n - a - k + i + 1) if measured else (i + 1) * (1.0 - q)
        else:
            num = i * (n - a - k + i) if measured else i * (1.0 - q)
            den = (a - i + 1) * (k - i + 1) if measured else (k - i + 1) * q
        if num <= 0 or den <= 0:
            break
        rho = num / den
        t *= rho
        i += d
        s += t
        if rho < 1.0 and t < 1e-6 * s:
            if bound:
                s += t * rho / (1.0 - rho)
            break
    return lp0 + math.log(s)


@njit(cache=True)
def _log_tail(x: int, a: int, n: int, k: int, measured: bool, upper: bool) -> float:
    """Rigorous upper bound on log P(Y >= x) (``upper``) or log P(Y <= x) for one class's count Y: the pmf summed
    outward from x with a geometric bound on the rest (:func:`_log_walk`); where x lies on the mean's side, 1 minus a
    partial sum of the complement (a lower bound on it)."""
    d = 1 if upper else -1
    mean = k * a / n
    if (upper and x <= mean) or (not upper and x >= mean):
        part = math.exp(_log_walk(x - d, -d, a, n, k, measured, False))
        return math.log1p(-part) if part < 1.0 else -np.inf
    return _log_walk(x, d, a, n, k, measured, True)


@njit(cache=True)
def _x_range(
    sizes: npt.NDArray[np.int64], mult: npt.NDArray[np.int64], corr: npt.NDArray[np.bool_], n: int, k: int,
    measured: bool, xmax: int, log_share: float,
) -> tuple[int, int]:
    """[x_lo, x_hi]: top counts outside it carry at most e^log_share each side. Below: the terms of all x <= x_lo - 1
    sum to at most P(max <= x_lo - 1) <= prod_j P(Y_j <= x_lo - 1) (negative association); above: to at most
    P(some correct class >= x_hi + 1) <= sum over correct classes of P(Y >= x_hi + 1). Binary searches (monotone)."""
    lo, hi = 0, xmax  # largest x0 in [0, xmax] with prod P(Y_j <= x0) <= share (0 always qualifies: credit 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        s = 0.0
        for g in range(sizes.shape[0]):
            if sizes[g] > 0 and mult[g] > 0:
                s += mult[g] * _log_tail(mid, sizes[g], n, k, measured, False)
                if s < log_share:
                    break
        if s < log_share:
            lo = mid
        else:
            hi = mid - 1
    x_lo = lo + 1
    lo, hi = 1, xmax + 1  # smallest x1 with sum over correct of P(Y >= x1) <= share (xmax + 1 always qualifies)
    while lo < hi:
        mid = (lo + hi) // 2
        s = -np.inf
        for g in range(sizes.shape[0]):
            if corr[g] and sizes[g] > 0 and mult[g] > 0:
                s = _logaddexp(s, math.log(mult[g]) + _log_tail(mid, sizes[g], n, k, measured, True))
        if s <= log_share:
            hi = mid
        else:
            lo = mid + 1
    return x_lo, lo - 1


@njit(cache=True)
def _cpow(z: complex, r: int) -> complex:
    """z^r by binary powering (r >= 0)."""
    out = 1.0 + 0.0j
    b = z
    while r > 0:
        if r & 1:
            out *= b
        r >>= 1
        if r > 0:
            b *= b
    return out


@njit(cache=True)
def _dft_size(k: int, n: int, theta: float, measured: bool, ldenom: float, log_share: float) -> int:
    """Smallest N (grown by ~6 %) whose aliases weigh below e^log_share after dividing by P(S = k)."""
    size = 8
    while True:
        if measured and size > max(k, n - k):
            return size
        if _log_alias_bound(k, n, theta, measured, size) - ldenom < log_share:
            return size
        size = size + max(1, size // 16)


@njit(cache=True, nogil=True)
def dft_kernel(
    sizes: npt.NDArray[np.int64], mult: npt.NDArray[np.int64], corr: npt.NDArray[np.bool_], rest: int, k: int,
    ties: int, measured: bool, log_eps: float, gl_offset: npt.NDArray[np.int64], gl_nodes: npt.NDArray[np.float64],
    gl_weights: npt.NDArray[np.float64],
) -> float:
    """Exact maj@k for groups (size, multiplicity, correct?) and ``rest`` non-voting samples (see module docstring).

    Gauss-Legendre rules as in :func:`grouped_kernel`; returns -N when rule N is missing (the caller adds it).
    """
    G = sizes.shape[0]
    n, n_corr, n_cls, amax_corr = group_totals(sizes, mult, corr, rest)
    if n_corr == 0 or k <= 0:
        return 0.0
    if measured and k == n:
        return _known_credit(sizes, mult, corr, ties)
    theta = k / n if measured else 0.0
    lam = k / n
    ldenom = _log_tilted(k, n, theta, 0.0, True) if measured else _log_tilted(k, 0, 0.0, float(k), False)
    xmax = min(k, amax_corr) if measured else k
    # eps in four quarters: top counts below x_lo, above x_hi, x = 1 under random ties (the coefficient kernel), and
    # the x in between, each of which splits its share five ways (neglected x and groups; dropped coefficients;
    # skipped frequencies; tie degrees; aliases)
    log_q = log_eps - math.log(4.0)
    x_lo, x_hi = _x_range(sizes, mult, corr, n, k, measured, xmax, log_q)
    if x_lo > x_hi:
        return 0.0
    log_piece = log_q - math.log(x_hi - x_lo + 1.0) - math.log(5.0)
    log_g = math.log(G + 1.0)
    cmax = 1.0 if ties == TIE_WEAK else float(n_corr)
    acc = 0.0
    x_start = x_lo
    if ties == TIE_RANDOM and x_lo <= 1:
        # x = 1: the coefficient kernel's 1/s identity (its whole error is below its log_eps)
        v = grouped_kernel(sizes, mult, corr, rest, k, ties, measured, log_q, gl_offset, gl_nodes, gl_weights, 1, 1)
        if v < 0.0:
            return v
        acc += v
        x_start = 2
    size = _dft_size(k, n, theta, measured, ldenom, log_piece - math.log(cmax))
    half = size // 2 + 1  # F(w^(N-j)) = conj F(w^j): real coefficients
    cw = np.full(half, 2.0)
    cw[0] = 1.0
    if size % 2 == 0:
        cw[half - 1] = 1.0
    tw = np.empty(size, np.complex128)
    for m in range(size):
        tw[m] = cmath.exp(2j * math.pi * m / size)
    ek = np.empty(half, np.complex128)
    for j in range(half):
        ek[j] = tw[(size - (j * k) % size) % size] * cw[j] / size
    # coefficients below e^cut0 (outside a class's mode) are dropped: at most n_cls (xmax + 1) of them
    cut0 = log_piece + ldenom - math.log(cmax) - math.log(n_cls + 1.0) - math.log(x_hi + 2.0)
    lhat = np.zeros((G, half), np.complex128)
    nxt = np.full(G, -1, np.int64)  # next degree to add to lhat[g] (-1: not started)
    top = np.full(G, -1, np.int64)  # degree past which every coefficient is dropped (-1: not known yet)
    mode = np.empty(G, np.int64)
    for g in range(G):
        a = sizes[g]
        mode[g] = min(math.floor((a + 1) * theta), a) if measured else math.floor(lam * a)
    comp = np.empty(G, np.int64)
    tx = np.empty(half, np.complex128)
    free_hat = np.empty(half, np.complex128)
    keep = np.empty(half, np.int64)
    dead = np.zeros(G, np.bool_)
    fxs_all = np.zeros(G)
    lmod = np.empty(half)  # log |1 - theta + theta w^j| (measured)
    for j in range(half):
        lmod[j] = math.log(abs(1.0 - theta + theta * tw[j])) if measured else 0.0
    vv = np.empty(half, np.complex128)
    dd = np.empty(half, np.complex128)
    v0 = np.empty(half, np.complex128)
    ww = np.empty(half, np.complex128)
    for x in range(x_start, x_hi + 1):
        lpx = -np.inf
        lct = -np.inf  # log of sum over correct classes of P(Y >= x) (Chernoff)
        for g in range(G):
            if corr[g] and sizes[g] > 0:
                lpx = _logaddexp(lpx, math.log(mult[g]) + _log_marginal(x, sizes[g], n, k, measured))
                lct = _logaddexp(lct, math.log(mult[g]) + _log_tail_bound(x, sizes[g], n, k, True))
        if lpx < log_piece:
            continue
        if measured:
            reach = rest
            for g in range(G):
                reach += mult[g] * min(sizes[g], x)
            if reach < k:
                continue  # the classes cannot hold k draws with none above x
        # competitive groups. A wrong group left untruncated errs only on draws with a correct class at x and one
        # of its classes >= x: P <= P(some correct >= x) r P(Y >= x) (negative association, Joag-Dev & Proschan).
        # That bound falls with x, so a wrong group once below it is left out for every larger x ("dead").
        ncomp = 0
        free = rest
        only = -1
        has_correct = False
        for g in range(G):
            a = sizes[g]
            if a == 0 or mult[g] == 0:
                continue
            if dead[g]:
                free += a * mult[g]
                continue
            need = x + 1 if (ties == TIE_WEAK and not corr[g]) else x
            lb = math.log(mult[g]) + _log_tail_bound(need, a, n, k, True)
            if (measured and a < need) or (not corr[g] and lct + lb < log_piece - log_g):
                dead[g] = True
                free += a * mult[g]
                continue
            if min(lpx, lb) < log_piece - log_g:
                free += a * mult[g]
                continue
            comp[ncomp] = g
            ncomp += 1
            only = g
            has_correct = has_correct or corr[g]
        if not has_correct:
            continue
        if ncomp == 1 and corr[only] and mult[only] == 1:
            acc += math.exp(_log_marginal(x, sizes[only], n, k, measured))
            alone = True
            for g in range(G):
                alone = alone and (g == only or dead[g] or sizes[g] == 0 or mult[g] == 0)
            if alone:  # every other class is out for good: the rest of the range is P(Y = x') each
                for x2 in range(x + 1, x_hi + 1):
                    acc += math.exp(_log_marginal(x2, sizes[only], n, k, measured))
                break
            continue
        # bring each competitive group's L (counts < x) up to date
        for c in range(ncomp):
            g = comp[c]
            a = sizes[g]
            mean = lam * a
            if nxt[g] < 0:
                lo = min(mode[g], x - 1)
                while lo > 0 and _log_tilted(lo - 1, a, theta, mean, measured) >= cut0:
                    lo -= 1
                nxt[g] = lo
            hi = min(x - 1, a) if measured else x - 1
            while nxt[g] <= hi and top[g] < 0:
                i = nxt[g]
                lf = _log_tilted(i, a, theta, mean, measured)
                if i > mode[g] and lf < cut0:
                    top[g] = i  # unimodal: every later coefficient is below the cut too
                    break
                f = math.exp(lf)
                step = i % size
                idx = 0
                for j in range(half):
                    lhat[g, j] += f * tw[idx]
                    idx += step
                    if idx >= size:
                        idx -= size
                nxt[g] = i + 1
        fm = lam * free
        # skipped frequencies: |integrand(w^j)| <= 2 n_corr |free(w^j)| prod_g (|L_g(w^j)| + f_g(x))^r_g, every factor
        # <= 1 (sub-probability); j is left out when that, times its weight in the sum / P(S = k), is below its
        # share / (N/2 + 1). The bound falls like the characteristic function of the total, so most j go.
        for c in range(ncomp):
            g = comp[c]
            fxs_all[g] = math.exp(_log_tilted(x, sizes[g], theta, lam * sizes[g], measured))
        by_r = comp[:ncomp][np.argsort(-(mult[comp[:ncomp]] * sizes[comp[:ncomp]]))]  # fastest decay first
        thr = log_piece - math.log(half) + ldenom - math.log(2.0 * n_corr)
        nkeep = 0
        for j in range(half):
            lb = (free * lmod[j] if measured else fm * (tw[j].real - 1.0)) + math.log(cw[j] / size)
            if lb >= thr:
                # the product in the linear domain (every factor <= 1, so it only falls: stop once below)
                lim = math.exp(thr - lb)
                pr = 1.0
                for g in by_r:
                    m = abs(lhat[g, j]) + fxs_all[g]
                    pr *= m if mult[g] == 1 else m ** mult[g]
                    if pr < lim:
                        break
                if pr >= lim:
                    keep[nkeep] = j
                    nkeep += 1
        for jj in range(nkeep):
            j = keep[jj]
            tx[j] = tw[(j * x) % size]
            if measured:
                free_hat[j] = cmath.exp(free * cmath.log(1.0 - theta + theta * tw[j])) if free > 0 else 1.0
            else:
                free_hat[j] = cmath.exp(fm * (tw[j] - 1.0))
        if ties == TIE_WEAK:
            for jj in range(nkeep):
                j = keep[jj]
                vv[j] = 1.0
                v0[j] = 1.0
                ww[j] = 1.0
            for c in range(ncomp):
                g = comp[c]
                r = mult[g]
                fx = fxs_all[g]
                for jj in range(nkeep):
                    j = keep[jj]
                    lj = lhat[g, j]
                    pj = _cpow(lj + fx * tx[j], r)
                    if corr[g]:
                        vv[j] *= pj
                        v0[j] *= _cpow(lj, r)
                    else:
                        ww[j] *= pj
            total = 0.0
            for jj in range(nkeep):
                j = keep[jj]
                total += ((vv[j] - v0[j]) * ww[j] * free_hat[j] * ek[j]).real
            acc += total / math.exp(ldenom)
            continue
        # strict and random: sum_g r_g T_g P_g^(r_g - 1) prod_(h != g) P_h^(r_h), P = L + u T, as a dual product
        if ties == TIE_STRICT:
            nodes = 1
            us = np.zeros(1)
            ws = np.ones(1)
        else:
            tcount = 0
            lsum = np.empty(ncomp)
            fval = np.empty(ncomp)
            for c in range(ncomp):
                g = comp[c]
                lsum[c] = lhat[g, 0].real
                fval[c] = math.exp(_log_tilted(x, sizes[g], theta, lam * sizes[g], measured))
                tcount += mult[g]
            # configurations with >= t classes on top weigh at most prod_j (l_j + f_j y) / y^t for any y >= 1
            # (Chernoff on the elementary symmetric sums), times cmax / P(S = k); Gauss-Legendre with N nodes
            # integrates u-degrees <= 2N - 1 exactly and errs on higher ones by at most their weight
            tmax = tcount - 1
            prod_y = np.zeros(16)  # log prod_j (l_j + f_j y) at y = 2^i
            for i in range(16):
                y = 2.0**i
                for c in range(ncomp):
                    s = lsum[c] + fval[c] * y
                    prod_y[i] += mult[comp[c]] * math.log(s) if s > 0 else -np.inf
            for t in range(1, tcount + 1):
                best = np.inf
                for i in range(16):
                    best = min(best, prod_y[i] - t * i * math.log(2.0))
                if math.log(cmax) + best - ldenom < log_piece:
                    tmax = min(tmax, t - 2) if t >= 2 else 0
                    break
            tmax = max(tmax, 0)
            if tmax == 0:
                nodes = 1
                us = np.zeros(1)
                ws = np.ones(1)
            else:
                nodes = (tmax + 2) // 2
                if nodes >= gl_offset.shape[0] or gl_offset[nodes] < 0:
                    return -float(nodes)
                o = gl_offset[nodes]
                us = gl_nodes[o : o + nodes].copy()
                ws = gl_weights[o : o + nodes].copy()
        fxs = np.empty(ncomp)
        for c in range(ncomp):
            g = comp[c]
            fxs[c] = math.exp(_log_tilted(x, sizes[g], theta, lam * sizes[g], measured))
        value = 0.0
        for t in range(nodes):
            u = us[t]
            for jj in range(nkeep):
                j = keep[jj]
                vv[j] = 1.0
                dd[j] = 0.0
            for c in range(ncomp):
                g = comp[c]
                r = mult[g]
                fx = fxs[c]
                for jj in range(nkeep):
                    j = keep[jj]
                    tj = fx * tx[j]
                    pj = lhat[g, j] + u * tj
                    q = _cpow(pj, r - 1)
                    pr = q * pj
                    if corr[g]:
                        dd[j] = dd[j] * pr + vv[j] * (r * tj) * q
                    else:
                        dd[j] = dd[j] * pr
                    vv[j] *= pr
            total = 0.0
            for jj in range(nkeep):
                j = keep[jj]
                total += (dd[j] * free_hat[j] * ek[j]).real
            value += ws[t] * total
        acc += value / math.exp(ldenom)
    return min(max(acc, 0.0), 1.0)
