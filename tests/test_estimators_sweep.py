"""The sweep kernel (one correct class against 1-6 wrong classes, draws with replacement): against an exact
enumeration of the multinomial, a 40-digit quadruple sum, and the per-class kernel forced past the screening."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from harness.estimators import majority
from harness.estimators._sweep_kernel import credit_sweep, sweep_iid
from tests.test_estimators_kernel import TIES

LOG_EPS = majority._LOG_EPS
TIE_CODE = {"random": 0, "strict": 1, "weak": 2}


def _credit(x: int, ys: tuple[int, ...], ties: str) -> Fraction:
    """Credit of the correct class with x votes against wrong counts ys (no vote at all: 0)."""
    top = max((x, *ys))
    if top == 0 or x < top:
        return Fraction(0)
    tied = sum(y == top for y in ys)
    return {"random": Fraction(1, 1 + tied), "strict": Fraction(int(tied == 0)), "weak": Fraction(1)}[ties]


def _exact(a: int, wrong: tuple[int, ...], free: int, k: int, ties: str) -> Fraction:
    """maj@k by enumerating every count vector of the multinomial (exact fractions)."""
    n = a + sum(wrong) + free
    shares = [Fraction(v, n) for v in (a, *wrong, free)]
    total = Fraction(0)
    for counts in itertools.product(range(k + 1), repeat=len(shares) - 1):
        rest = k - sum(counts)
        if rest < 0:
            continue
        full = (*counts, rest)
        weight = Fraction(math.factorial(k))
        for c, s in zip(full, shares, strict=True):
            weight *= s**c / math.factorial(c)
        total += weight * _credit(full[0], full[1:-1], ties)
    return total


def _random_case(rng: np.random.Generator, most: int) -> tuple[int, tuple[int, ...], int]:
    wrong = tuple(sorted((int(v) for v in rng.integers(1, 12, size=int(rng.integers(1, most + 1)))), reverse=True))
    return int(rng.integers(1, 15)), wrong, int(rng.integers(0, 6)) if rng.random() < 0.6 else 0


@pytest.mark.parametrize("ties", TIES)
def test_sweep_matches_exact_enumeration(ties: str) -> None:
    """1-4 wrong classes (equal sizes frequent), with and without unanswered samples, k = 1..6: to 1e-14."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        a, wrong, free = _random_case(rng, 4)
        n = a + sum(wrong) + free
        for k in (1, 2, 3, 5) if len(wrong) > 2 else (1, 2, 3, 4, 6):
            want = float(_exact(a, wrong, free, k, ties))
            got = sweep_iid(a, np.array(wrong, np.int64), free, n, k, TIE_CODE[ties], LOG_EPS)
            assert abs(got - want) < 1e-14, (a, wrong, free, k, got, want)


def test_sweep_with_three_wrong_classes_matches_a_40_digit_sum() -> None:
    """a = 30 against 28, 27 and 20, 15 unanswered, k = 24: every count vector summed at 40 digits."""
    a, wrong, free, k = 30, (28, 27, 20), 15, 24
    n = a + sum(wrong) + free
    mpmath.mp.dps = 40
    shares = [mpmath.mpf(v) / n for v in (a, *wrong, free)]
    for ties in TIES:
        total = mpmath.mpf(0)
        for y in itertools.product(range(k + 1), repeat=3):
            for x in range(k + 1 - sum(y)):
                rest = k - x - sum(y)
                credit = _credit(x, y, ties)
                if credit == 0:
                    continue
                w = mpmath.factorial(k) / (mpmath.factorial(x) * mpmath.factorial(rest))
                w *= shares[0] ** x * shares[4] ** rest
                for c, s in zip(y, shares[1:4], strict=True):
                    w *= s**c / mpmath.factorial(c)
                total += w * mpmath.mpf(credit.numerator) / credit.denominator
        got = sweep_iid(a, np.array(wrong, np.int64), free, n, k, TIE_CODE[ties], LOG_EPS)
        assert abs(got - float(total)) < 5e-15, (ties, got, total)


def test_sweep_matches_the_per_class_kernel_on_larger_tables() -> None:
    """Up to six wrong classes, shares from 10^6 pseudo-counts, k up to 2,048: within 1e-11 of the per-class
    kernel forced past the screening (whose own rounding reaches 1e-11 at this size)."""
    rng = np.random.default_rng(3)
    for _ in range(12):
        nw = int(rng.integers(1, 9))
        shares = rng.dirichlet(np.ones(nw + 2))
        sizes = np.maximum(np.rint(shares * 1_000_000).astype(np.int64), 1)
        a, free = int(sizes[0]), int(sizes[-1])
        wrong = tuple(sorted(sizes[1:-1].tolist(), reverse=True))
        n = a + sum(wrong) + free
        for k in (7, 64, 300, 2048):
            for ties in TIES:
                want = majority._maj_one((a,), wrong, free, k, ties, "iid", "one")
                got = sweep_iid(a, np.array(wrong, np.int64), free, n, k, TIE_CODE[ties], LOG_EPS)
                assert abs(got - want) < 1e-11, (a, wrong, free, k, ties, got, want)


def test_credit_curve_is_the_conditional_credit() -> None:
    """H(x) from the sweep (unit weights) against the exact conditional credit: the other k - x draws multinomial
    over the wrong classes and the unanswered pool, enumerated with fractions."""
    wrong, free, k = (5, 3, 3), 2, 9
    for ties in TIES:
        out = np.empty(k)
        credit_sweep(np.array(wrong, np.int64), free, k, TIE_CODE[ties], LOG_EPS, 1, np.zeros(k), out)
        for x in range(1, k + 1):
            want = exact_credit_given_x(x, k - x, wrong, free, ties)
            assert abs(out[x - 1] - float(want)) < 1e-14, (ties, x, out[x - 1], want)


def exact_credit_given_x(x: int, m: int, wrong: tuple[int, ...], free: int, ties: str) -> Fraction:
    """P(credit | x correct votes) in exact fractions: the other m draws multinomial over the wrong classes and the
    unanswered pool (shares v / nonc), every count vector with no wrong class above x (the others give no credit)."""
    nonc = sum(wrong) + free
    want = Fraction(0)
    for ys in itertools.product(range(min(m, x) + 1), repeat=len(wrong)):
        rest = m - sum(ys)
        if rest < 0:
            continue
        w = Fraction(math.factorial(m), math.factorial(rest)) * Fraction(free, nonc) ** rest
        for y, v in zip(ys, wrong, strict=True):
            w *= Fraction(v, nonc) ** y / math.factorial(y)
        want += w * _credit(x, ys, ties)
    return want


def test_sweep_route_refuses_thousands_of_classes_without_overflow() -> None:
    """2^1000 products would overflow a 64-bit count: the count stops once it exceeds the limit, and the route
    goes to the other kernels (a value is still computed, checked against the per-class kernel)."""
    from harness.estimators._sweep_kernel import MAX_SWEEP_STATES, prefer_sweep, sweep_states

    wrong = np.arange(2000, 1000, -1, dtype=np.int64)  # 1,000 distinct sizes
    assert sweep_states(wrong) > MAX_SWEEP_STATES
    assert not prefer_sweep(wrong, 4096)
    c, w, rest, k = (1990,), tuple(wrong[:40].tolist()), 100, 64
    want = majority._maj_one(c, w, rest, k, "random", "iid", "one")
    assert abs(majority._maj_one(c, w, rest, k, "random", "iid") - want) < 1e-12


def _walked(k: int, p: float, mu: float, log_tail: float) -> tuple[int, int]:
    """The window by the definition, one x at a time from the mode (binomial when mu < 0, else Poisson; x from 1
    for the binomial, 0 for the Poisson): each end the first x whose bound pmf x ratio / (1 - ratio) on the mass
    beyond is at most exp(log_tail), pmfs from scipy."""
    from scipy import stats

    if mu < 0:
        dist, lo_min, hi_max, mode = stats.binom(k, p), 1, k, min(max(math.floor((k + 1) * p), 1), k)
    else:
        dist, lo_min, hi_max, mode = stats.poisson(mu), 0, 2**62, math.floor(mu)

    def passes(x: int, step: int) -> bool:
        ratio = dist.pmf(x + step) / dist.pmf(x)
        return bool(ratio < 1.0 and dist.logpmf(x) + math.log(ratio) - math.log1p(-ratio) <= log_tail)

    hi = mode
    while hi < hi_max and not passes(hi, 1):
        hi += 1
    lo = mode
    while lo > lo_min and not passes(lo, -1):
        lo -= 1
    return lo, hi


def test_binomial_and_poisson_windows_are_the_walked_windows() -> None:
    """The windows found by doubling steps and bisection are those of the outward walk that defines them, and
    each leaves out at most exp(log_tail) on each side (scipy's tails; the walk took O(width) logs per call)."""
    from scipy import stats

    from harness.estimators._loader_pmf import binomial_window, poisson_window

    rng = np.random.default_rng(20261201)
    for _ in range(300):
        k = int(rng.choice([1, 2, 7, 40, 300, 5000]))
        p = float(rng.choice([rng.uniform(0.001, 0.999), 10 ** rng.uniform(-6, -1)]))
        mu = float(10 ** rng.uniform(-2, 3.5))
        log_tail = -float(rng.uniform(1.0, 45.0))
        lo, hi = binomial_window(k, p, log_tail)
        assert (lo, hi) == _walked(k, p, -1.0, log_tail), (k, p, log_tail)
        assert stats.binom.sf(hi, k, p) <= math.exp(log_tail) * (1 + 1e-9)
        assert stats.binom.pmf(np.arange(1, lo), k, p).sum() <= math.exp(log_tail) * (1 + 1e-9)  # on 1 .. lo - 1
        lo, hi = poisson_window(mu, log_tail)
        assert (lo, hi) == _walked(0, 0.0, mu, log_tail), (mu, log_tail)
        assert stats.poisson.sf(hi, mu) <= math.exp(log_tail) * (1 + 1e-9)
        assert lo == 0 or stats.poisson.cdf(lo - 1, mu) <= math.exp(log_tail) * (1 + 1e-9)
