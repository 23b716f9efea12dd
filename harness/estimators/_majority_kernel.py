"""Compiled kernel of the exact maj@k computation (see :mod:`harness.estimators.majority` for the method).

For each count x of the correct class, the other classes' counts are conditioned on summing to m = k - x. With
the tilt theta = m / pool (without replacement: independent Binomial(a_j, theta)) or mean m a_j / pool (with
replacement: independent Poisson), the conditional law is exactly the multivariate hypergeometric (multinomial)
one, and P(all Y_j < x | sum = m) = [sum over configurations of prod f_j(y_j) g(m - sum y)] / P(S = m), a
truncated convolution computed by a dynamic programme over the *competitive* classes. A class is left out at x
(merged into the free pool g) only where a Chernoff bound (Hoeffding 1963) puts P(x) P(Y_j >= x) below
eps / (classes + 2); an x is skipped where P(X = x) < eps or where P(X = x) prod_j P(Y_j <= x), an upper bound
on its contribution by negative association, is below that.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

TIE_RANDOM, TIE_STRICT, TIE_WEAK = 0, 1, 2


@njit(cache=True)
def _log_choose(a: float, i: float) -> float:
    return math.lgamma(a + 1.0) - math.lgamma(i + 1.0) - math.lgamma(a - i + 1.0)


@njit(cache=True)
def _kl(x: float, q: float) -> float:
    """KL(Bernoulli(x) || Bernoulli(q)); infinite where x puts mass that q does not."""
    if q >= 1.0:
        return 0.0 if x >= 1.0 else np.inf
    if q <= 0.0:
        return 0.0 if x <= 0.0 else np.inf
    out = 0.0
    if x > 0.0:
        out += x * math.log(x / q)
    if x < 1.0:
        out += (1.0 - x) * math.log((1.0 - x) / (1.0 - q))
    return out


@njit(cache=True)
def _log_tilted(i: int, a: int, theta: float, mean: float, measured: bool) -> float:
    """log pmf at i of Binomial(a, theta) (measured) or Poisson(mean) (iid)."""
    if i < 0:
        return -np.inf
    if measured:
        if i > a:
            return -np.inf
        if theta >= 1.0:
            return 0.0 if i == a else -np.inf
        out = _log_choose(float(a), float(i))
        if i > 0:
            out += i * math.log(theta)
        if a - i > 0:
            out += (a - i) * math.log1p(-theta)
        return out
    if mean <= 0.0:
        return 0.0 if i == 0 else -np.inf
    return i * math.log(mean) - mean - math.lgamma(i + 1.0)


def gauss_legendre_table(max_nodes: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rows N = 1..max_nodes: the N-point Gauss-Legendre nodes and weights on [0, 1]; row 0 is u = 0, weight 1."""
    nodes = np.zeros((max_nodes + 1, max_nodes))
    weights = np.zeros((max_nodes + 1, max_nodes))
    weights[0, 0] = 1.0
    for n in range(1, max_nodes + 1):
        x, w = np.polynomial.legendre.leggauss(n)
        nodes[n, :n] = (x + 1.0) / 2.0
        weights[n, :n] = w / 2.0
    return nodes, weights


@njit(cache=True)
def tie_credit(t: int, ties: int) -> float:
    """The correct class's credit when t other classes tie with it at the top: random 1 / (1 + t), strict 1 only
    when t = 0, weak 1."""
    if ties == TIE_RANDOM:
        return 1.0 / (1.0 + t)
    return 1.0 if ties == TIE_WEAK or t == 0 else 0.0


@njit(cache=True)
def _credit(sizes: npt.NDArray[np.int64], x: int, ties: int) -> float:
    """Credit when every class count is known exactly (all samples drawn)."""
    t = 0
    for j in range(sizes.shape[0]):
        if sizes[j] > x:
            return 0.0
        if sizes[j] == x:
            t += 1
    return tie_credit(t, ties)


@njit(cache=True, nogil=True)
def maj_kernel(
    a0: int, sizes: npt.NDArray[np.int64], rest: int, k: int, ties: int, measured: bool, log_eps: float,
    gl_nodes: npt.NDArray[np.float64], gl_weights: npt.NDArray[np.float64],
) -> float:
    """Exact maj@k of one question: correct class a0, wrong classes ``sizes`` (descending), ``rest`` non-voting.

    ``gl_nodes[N, :N]`` / ``gl_weights[N, :N]`` are the N-point Gauss-Legendre rule on [0, 1] (row 0: u = 0,
    weight 1), see :func:`gauss_legendre_table`.
    """
    return _kernel(a0, sizes, rest, k, ties, measured, log_eps, gl_nodes, gl_weights, np.zeros(0), 0, np.zeros(0))


@njit(cache=True, nogil=True)
def credit_given_x(
    sizes: npt.NDArray[np.int64], rest: int, k: int, ties: int, x_first: int, log_weight: npt.NDArray[np.float64],
    log_eps: float, gl_nodes: npt.NDArray[np.float64], gl_weights: npt.NDArray[np.float64],
    out: npt.NDArray[np.float64],
) -> float:
    """Fill ``out[i]`` with H(x), x = x_first + i: the credit of one correct class that holds x of k draws with
    replacement when the other k - x fall on the wrong classes ``sizes`` (descending) and ``rest`` in proportion to
    their sizes (a multinomial). maj@k is sum_x P(X = x) H(x) for every law of X; H(x) is within eps / w(x) of
    exact, w(x) = exp(log_weight[i]) the weight x will get (the kernel's cuts use it where they use P(X = x)). A
    negative return asks for a larger Gauss-Legendre table (as :func:`maj_kernel`), else 0."""
    return _kernel(1, sizes, rest, k, ties, False, log_eps, gl_nodes, gl_weights, out, x_first, log_weight)


@njit(cache=True, nogil=True)
def _kernel(
    a0: int, sizes: npt.NDArray[np.int64], rest: int, k: int, ties: int, measured: bool, log_eps: float,
    gl_nodes: npt.NDArray[np.float64], gl_weights: npt.NDArray[np.float64], out: npt.NDArray[np.float64],
    x_first: int, log_weight: npt.NDArray[np.float64],
) -> float:
    """maj_kernel, or with a non-empty ``out`` (i.i.d. only) the conditional credits H(x) of credit_given_x."""
    per_x = out.shape[0] > 0
    n_wrong = sizes.shape[0]
    pool = rest
    for j in range(n_wrong):
        pool += sizes[j]
    total = a0 + pool
    if per_x:
        out[:] = 0.0
        for x in range(max(x_first, 1), x_first + out.shape[0]):
            out[x - x_first] = 1.0 if pool == 0 or x == k else 0.0
        if pool == 0:
            return 0.0
    elif a0 == 0:
        return 0.0
    elif pool == 0:
        return 1.0
    log_w = math.log(n_wrong + 2.0)
    if per_x:
        xmin = max(x_first, 1)
        xmax = min(k - 1, x_first + out.shape[0] - 1)
        lnorm0 = 0.0
        lp = 0.0
        lq = 0.0
    elif measured:
        xmin = max(1, k - pool)
        xmax = min(k, a0)
        lnorm0 = _log_choose(float(total), float(k))
        lp = 0.0
        lq = 0.0
    else:
        xmin = 1
        xmax = k
        lnorm0 = 0.0
        lp = math.log(a0 / total)
        lq = math.log1p(-a0 / total)
    comp = np.empty(n_wrong, np.int64)
    # work arrays allocated once per call (grown on demand; every cell is written before it is read)
    los = np.empty(max(n_wrong, 1), np.int64)
    his = np.empty(max(n_wrong, 1), np.int64)
    sizes_kept = np.empty(max(n_wrong, 1), np.int64)
    kern_buf = np.empty((max(n_wrong, 1), 1))
    state_buf = np.empty((1, 1))
    new_buf = np.empty((1, 1))
    acc = 0.0
    for x in range(xmin, xmax + 1):
        m = k - x
        if per_x:
            lpx = max(log_weight[x - x_first], log_eps)  # H(x) to eps / (weight of x)
        elif measured:
            lpx = _log_choose(float(a0), float(x)) + _log_choose(float(pool), float(m)) - lnorm0
        else:
            lpx = _log_choose(float(k), float(x)) + x * lp + m * lq
        if lpx < log_eps:
            continue
        px = math.exp(lpx)
        if m == 0:
            acc += px
            continue
        if measured and m == pool:  # every sample drawn: the vote is known
            acc += px * _credit(sizes, x, ties)
            continue
        frac = x / m
        # P(all Y_j <= x) <= prod_j P(Y_j <= x): multinomial and multivariate hypergeometric counts are negatively
        # associated (Joag-Dev & Proschan 1983); with Chernoff bounds on each factor, skip x when negligible
        log_success_bound = lpx
        for j in range(n_wrong):
            q = sizes[j] / pool
            if frac >= q:
                break  # descending sizes: later classes have smaller means
            if measured and sizes[j] <= x:
                break
            log_success_bound -= m * _kl(frac, q)
            if log_success_bound < log_eps - log_w:
                break
        if log_success_bound < log_eps - log_w:
            continue
        ncomp = 0
        comp_total = 0
        if frac <= 1.0:
            for j in range(n_wrong):
                a = sizes[j]
                if measured and a < x:
                    break
                q = a / pool
                bound = 0.0 if frac <= q else -m * _kl(frac, q)
                if lpx + bound < log_eps - log_w:
                    break  # sizes are descending, so every later class is negligible too
                comp[ncomp] = a
                ncomp += 1
                comp_total += a
        if ncomp == 0:
            acc += px
            if per_x:
                out[x - x_first] = 1.0
            continue
        theta = m / pool
        free = pool - comp_total
        odds = theta / (1.0 - theta) if measured else 0.0  # binomial tilt: f(i+1)/f(i) = (a-i)/(i+1) * odds
        # pass 1: each competitive class's kernel f(i), i = lo..hi, around its mode; values whose weight is
        # negligible against what this x can contribute (px) are cut on both sides
        cut = log_eps - lpx - 12.0  # dropped weight <= e^cut x width / P(S=m) per class
        floor_weight = math.exp(cut)
        can_tie = 0
        ncut = 0
        for c in range(ncomp):
            a = comp[c]
            mean = m * a / pool
            hi = min(x, m)
            if measured:
                hi = min(hi, a)
            mode = math.floor((a + 1) * theta) if measured else math.floor(mean)
            mode = min(max(mode, 0), hi)
            f_mode = math.exp(_log_tilted(mode, a, theta, mean, measured))
            # walk down from the mode: f(i-1) = f(i) * i / (a-i+1) / odds, or f(i) * i / mean
            lo = mode
            f = f_mode
            while lo > 0:
                f *= lo / ((a - lo + 1.0) * odds) if measured else lo / mean
                if f < floor_weight:
                    break
                lo -= 1
            # walk up past x if need be: a class whose weight dies out below x is never truncated by the vote,
            # so it joins the free pool exactly (to the cut)
            up = mode
            f = f_mode
            limit = min(a, m) if measured else m
            while up < limit:
                f *= (a - up) * odds / (up + 1.0) if measured else mean / (up + 1.0)
                if f < floor_weight:
                    break
                up += 1
                if up > x:
                    break
            if up < x or (ties == TIE_WEAK and up <= x):
                free += a
                continue
            up = min(up, hi)
            c_new = ncut
            ncut += 1
            los[c_new] = lo
            his[c_new] = up
            sizes_kept[c_new] = a
            if up == x:
                can_tie += 1
        # kernels on their windows only (a window is far narrower than x when k is large)
        max_width = 1
        for c in range(ncut):
            max_width = max(max_width, his[c] - los[c] + 1)
        if kern_buf.shape[1] < max_width:
            kern_buf = np.empty((max(n_wrong, 1), max(max_width, 2 * kern_buf.shape[1])))
        kern = kern_buf
        for c in range(ncut):
            a = sizes_kept[c]
            mean = m * a / pool
            f = math.exp(_log_tilted(los[c], a, theta, mean, measured))
            for i in range(los[c], his[c] + 1):
                kern[c, i - los[c]] = f
                f *= (a - i) * odds / (i + 1.0) if measured else mean / (i + 1.0)
        ncomp = ncut
        # pass 2: the truncated convolution over classes; column j of the state is the sum base + j
        ldenom = _log_tilted(m, pool, theta, 0.0, True) if measured else _log_tilted(m, 0, 0.0, float(m), False)
        tmax = 0
        if ties == TIE_RANDOM and can_tie > 0:
            # configurations with more than tmax ties weigh at most e_{tmax+1}(f_c(x)) / P(S = m)
            # <= F^(tmax+1) / (tmax+1)! / P(S = m), F = sum of the classes' weights at x: cap tmax there
            tie_weight = 0.0
            for c in range(ncomp):
                if his[c] == x:
                    tie_weight += kern[c, x - los[c]]
            tmax = min(can_tie, m // x)
            if tie_weight > 0.0:
                log_f = math.log(tie_weight)
                for t in range(tmax):
                    if lpx - ldenom + (t + 1) * log_f - math.lgamma(t + 2.0) < log_eps - log_w:
                        tmax = t
                        break
        base_total = 0
        span_total = 0
        for c in range(ncomp):
            base_total += los[c]
            span_total += his[c] - los[c]
        if base_total > m:
            continue  # the competitive classes alone exceed the m draws: impossible
        width_all = min(span_total, m - base_total) + 1
        # ties: credit 1/(1+T) = integral over u in [0, 1] of u^T, and the product over classes is a polynomial
        # in u whose coefficients beyond degree tmax are negligible (bound above); Gauss-Legendre with
        # nodes = (tmax + 2) // 2 integrates degrees <= tmax exactly, and its error on higher degrees is at most
        # their (negligible) weight, since the rule's weights are positive and sum to 1
        if ties == TIE_RANDOM and tmax > 0:
            nodes = (tmax + 2) // 2
            if nodes >= gl_nodes.shape[0]:
                return -float(nodes)  # the caller builds a larger table and calls again
            us = gl_nodes[nodes, :nodes]
            ws = gl_weights[nodes, :nodes]
        else:
            nodes = 1
            us = gl_nodes[0, :1]  # u = 0: no tie is credited (strict, or ties negligible)
            ws = gl_weights[0, :1]
        if state_buf.shape[0] < nodes or state_buf.shape[1] < width_all:
            rows = max(nodes, state_buf.shape[0])
            cols = max(width_all, 2 * state_buf.shape[1])
            state_buf = np.empty((rows, cols))
            new_buf = np.empty((rows, cols))
        state = state_buf[:nodes, :width_all]
        new = new_buf[:nodes, :width_all]
        state[:, 0] = 1.0  # only column 0 is read before the first class writes ``new``
        base = 0
        span = 0
        for c in range(ncomp):
            lo = los[c]
            hi = his[c]
            top = hi if ties == TIE_WEAK else min(hi, x - 1)
            new[:, : min(span + hi - lo, width_all - 1) + 1] = 0.0
            room = min(m - base - lo, width_all - 1)  # largest column this class may write
            for t in range(nodes):
                # new[t, j + ii] += kern[ii] * state[t, j] for j + ii <= room: contiguous inner loops (SIMD)
                for ii in range(top - lo + 1):
                    coeff = kern[c, ii]
                    jmax = min(span, room - ii)
                    for j in range(jmax + 1):
                        new[t, j + ii] += coeff * state[t, j]
                if ties == TIE_RANDOM and hi == x and us[t] > 0.0:
                    coeff = us[t] * kern[c, x - lo]
                    jmax = min(span, room - (x - lo))
                    for j in range(jmax + 1):
                        new[t, j + x - lo] += coeff * state[t, j]
            state, new = new, state
            base += lo
            span = min(span + hi - lo, width_all - 1)
        s_lo = base
        s_hi = base + span
        # combine with the free pool g(d), d = m - s, by the recurrence g(d-1) = g(d) d / (free-d+1) / odds
        # (binomial) or g(d) d / mean (Poisson), rescaled so that no term underflows
        free_mean = m * free / pool
        s_start = max(s_lo, m - free) if (measured or free == 0) else s_lo
        s_end = min(s_hi, m)
        if s_start > s_end:
            continue
        d = m - s_start
        log_scale = _log_tilted(d, free, theta, 0.0, True) if measured else _log_tilted(d, 0, 0.0, free_mean, False)
        g = 1.0
        partial = 0.0
        contribution = 0.0
        for s in range(s_start, s_end + 1):
            row = 0.0
            for t in range(nodes):
                row += ws[t] * state[t, s - s_lo]
            partial += row * g
            d = m - s
            if d == 0:
                break
            g *= d / ((free - d + 1.0) * odds) if measured else d / free_mean
            if g > 1e100 or (g < 1e-100 and g > 0.0):
                contribution += partial * math.exp(log_scale - ldenom)
                log_scale += math.log(g)
                partial = 0.0
                g = 1.0
        contribution += partial * math.exp(log_scale - ldenom)
        acc += px * contribution
        if per_x:
            out[x - x_first] = min(max(contribution, 0.0), 1.0)
    if per_x:
        return 0.0
    return min(max(acc, 0.0), 1.0)
