"""The screening before the exact maj@k kernels (``_screen_kernel``): pooled classes, decided votes and the
two-class path agree with the kernels run without it (a forced method skips the screening), with a 40-digit
reference and with the brute force of test_estimators_kernel."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from harness.estimators import majority
from harness.estimators._screen_kernel import (
    DECIDED,
    REDUCED,
    SWEPT,
    TWO_CLASS,
    log_chernoff,
    screen,
    two_class_iid,
)
from harness.estimators._sweep_kernel import sweep_iid
from tests.test_estimators_kernel import TIES, brute, random_question

LOG_EPS = math.log(1e-14)


def _forced(correct: tuple[int, ...], wrong: tuple[int, ...], rest: int, k: int, ties: str, kind: str) -> float:
    """The same value without the screening: the per-class kernel where it applies, else the grouped one."""
    method = "one" if ties != "weak" or len(correct) == 1 else "grouped"
    return majority._maj_one(correct, wrong, rest, k, ties, kind, method)


def _trinomial_mp(a: int, b: int, n: int, k: int, credit: str) -> mpmath.mpf:
    """maj@k of a against b (rest unanswered), k draws with replacement, as the plain double sum over (x, y) of the
    trinomial probabilities at 40 digits (no conditioning: an independent formula)."""
    mpmath.mp.dps = 40
    pa, pb = mpmath.mpf(a) / n, mpmath.mpf(b) / n
    pr = 1 - pa - pb
    total = mpmath.mpf(0)
    for x in range(1, k + 1):
        for y in range(0, min(x, k - x) + 1):
            w = mpmath.factorial(k) / (mpmath.factorial(x) * mpmath.factorial(y) * mpmath.factorial(k - x - y))
            p = w * pa**x * pb**y * pr ** (k - x - y)
            total += p * (mpmath.mpf(credit) if y == x else 1)
    return total


@pytest.mark.parametrize(("a", "b", "rest", "k"), [(30, 29, 41, 150), (10, 31, 0, 120), (7, 7, 86, 101)])
def test_two_class_path_matches_a_40_digit_double_sum(a: int, b: int, rest: int, k: int) -> None:
    n = a + b + rest
    for ties, credit in (("random", "0.5"), ("strict", "0"), ("weak", "1")):
        want = float(_trinomial_mp(a, b, n, k, credit))
        got = two_class_iid(a / n, b / n, k, float(credit), LOG_EPS - math.log(4.0))
        assert abs(got - want) < 5e-14, (ties, got, want)
        assert abs(majority._maj_one((a,), (b,), rest, k, ties, "iid") - want) < 5e-14


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_screened_values_match_brute_force_on_small_tables(kind: str) -> None:
    """Every small random table (0-3 correct, 0-3 wrong classes, abstentions) at every k the brute force reaches:
    the 'auto' path (screened) against the literal enumeration."""
    rng = np.random.default_rng(31 if kind == "measured" else 32)
    checked = 0
    for _ in range(60):
        c, w, a = random_question(rng, 7)
        n = sum(c) + sum(w) + a
        for k in range(3, n + 1 if kind == "measured" else 6):
            if kind == "iid" and n**k > 20_000:
                break
            cs, ws = tuple(sorted(c, reverse=True)), tuple(sorted(w, reverse=True))
            for ties in TIES:
                got = majority._maj_one(cs, ws, a, k, ties, kind)
                assert abs(got - brute(c, w, a, k, ties, kind)) < 1e-12
                checked += 1
    assert checked > 300


def _large_tables(rng: np.random.Generator) -> list[tuple[tuple[int, ...], tuple[int, ...], int]]:
    """Large questions where the screening acts: a clear winner, a clear loser, near ties between two classes with
    many small classes (pooled), several correct classes, near-equal classes, and no wrong class."""
    out = [
        ((5000,), (3000, 800, 300, 100), 800),  # decided win at large k
        ((900,), (4000, 2000, 100), 3000),  # decided loss
        ((2600,), (2500, *[5] * 200), 3900),  # two classes + 200 pooled singletons-ish
        ((2000, 1900), (2100, 30, 20), 0),  # several correct classes near the top
        ((1500,), (1400, 1450, 1480), 4000),  # three near-equal competitors
    ]
    for _ in range(6):
        sizes = rng.multinomial(10_000, rng.dirichlet(np.full(6, 0.6)))
        c = tuple(int(v) for v in sizes[:2] if v > 0) or (1,)
        w = tuple(sorted((int(v) for v in sizes[2:5] if v > 0), reverse=True))
        out.append((tuple(sorted(c, reverse=True)), w, int(sizes[5])))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_screened_values_match_the_unscreened_kernels_on_large_tables(kind: str) -> None:
    """n = 10,000 and k up to 4,096 (measured) or 20,000 (iid): every status of the screening (decided, two-class,
    reduced) against the kernels forced past it, to 2e-11 (1e-10 at iid k = 20,000): the unscreened kernels' own
    rounding at this size reaches 1e-11, and 4e-11 at iid k = 20,000 (see the 30-digit test below); a decided vote
    that they sum to 1 - 3.9e-12 from ~4,000 terms is 1 to within its Chernoff bound, e^-105."""
    seen = set()
    ks = [3, 17, 128, 1024, 4096] + ([20_000] if kind == "iid" else [])
    for c, w, rest in _large_tables(np.random.default_rng(41)):
        for k in ks:
            for ties in TIES:
                if ties == "strict" and len(c) > 1 and not w:
                    continue
                got = majority._maj_one(c, w, rest, k, ties, kind)
                want = _forced(c, w, rest, k, ties, kind)
                assert abs(got - want) < (1e-10 if k > 10_000 else 2e-11), (c[:3], w[:3], rest, k, ties, got, want)
                status = screen(np.array(c, np.int64), np.array(w, np.int64), rest, k, 0, kind == "measured",
                                LOG_EPS)[0]
                seen.add(int(status))
    assert seen == ({DECIDED, TWO_CLASS, SWEPT, REDUCED} if kind == "iid" else {DECIDED, REDUCED})


def test_two_class_path_at_k_20000_matches_a_30_digit_reference() -> None:
    """a = 2,600 against b = 2,500 of n = 10,000 (4,900 unanswered, or 3,900 and 200 classes of 5, pooled), k = 20,000
    with replacement, random ties. Reference 0.976172211430686519792116324299: computed with mpmath at 30 digits as
    1 - (1 - s)^k - sum_t P(T = t) [P(Bin(t, r) < t/2) + P(Bin(t, r) = t/2) / 2] over t within 12 standard
    deviations of ks (T ~ Bin(k, s), s = 0.51, r = 26/51), each tail summed term by term to 1e-40. The per-class and
    root-of-unity kernels, forced, are 2.9e-11 and 4.2e-11 off."""
    reference = 0.976172211430686519792116324299
    assert abs(majority._maj_one((2600,), (2500,), 4900, 20_000, "random", "iid") - reference) < 1e-14
    assert abs(majority._maj_one((2600,), (2500, *[5] * 200), 3900, 20_000, "random", "iid") - reference) < 1e-14


def _four_way_mp(a: int, b1: int, b2: int, n: int, k: int, c1: str, c2: str) -> mpmath.mpf:
    """maj@k of a against b1 and b2 (the rest unanswered), k draws with replacement, summed over every (x, y1, y2)
    of the multinomial at 40 digits (c1, c2: credit when one or two wrong classes tie with a)."""
    mpmath.mp.dps = 40
    pa, p1, p2 = (mpmath.mpf(v) / n for v in (a, b1, b2))
    pr = 1 - pa - p1 - p2
    f = mpmath.factorial
    total = mpmath.mpf(0)
    for x in range(1, k + 1):
        for y1 in range(0, min(x, k - x) + 1):
            for y2 in range(0, min(x, k - x - y1) + 1):
                w = f(k) / (f(x) * f(y1) * f(y2) * f(k - x - y1 - y2))
                ties = (y1 == x) + (y2 == x)
                credit = 1 if ties == 0 else mpmath.mpf(c1 if ties == 1 else c2)
                total += credit * w * pa**x * p1**y1 * p2**y2 * pr ** (k - x - y1 - y2)
    return total


@pytest.mark.parametrize(("a", "b1", "b2", "rest", "k"), [(30, 29, 28, 13, 45), (10, 12, 9, 0, 40), (5, 5, 5, 85, 33)])
def test_sweep_with_two_wrong_classes_matches_a_40_digit_triple_sum(
    a: int, b1: int, b2: int, rest: int, k: int
) -> None:
    n = a + b1 + b2 + rest
    for code, (ties, c1, c2) in enumerate((("random", "0.5", "1/3"), ("strict", "0", "0"), ("weak", "1", "1"))):
        want = float(_four_way_mp(a, b1, b2, n, k, c1, mpmath.mpf(1) / 3 if c2 == "1/3" else c2))
        got = sweep_iid(a, np.array([b1, b2], np.int64), rest, n, k, code, LOG_EPS)
        assert abs(got - want) < 5e-14, (ties, got, want)
        assert abs(majority._maj_one((a,), (b1, b2), rest, k, ties, "iid") - want) < 5e-14


def test_no_wrong_class_is_one_minus_all_unanswered_exactly() -> None:
    """Two correct classes and 50 unanswered samples of 3,150: the credit is 1 - C(50, k) / C(3150, k) (measured)
    or 1 - (50 / 3150)^k (iid), exactly (fractions); the per-class kernel, forced, is 1.1e-11 off at k = 3."""
    from fractions import Fraction
    from math import comb

    for k in (3, 4, 10, 50):
        exact = float(1 - Fraction(comb(50, k), comb(3150, k)))
        assert abs(majority._maj_one((3000, 100), (), 50, k, "random", "measured") - exact) < 1e-15
        exact_iid = float(1 - Fraction(50, 3150) ** k)
        for ties in ("random", "weak"):
            assert abs(majority._maj_one((3000, 100), (), 50, k, ties, "iid") - exact_iid) < 1e-15


def test_chernoff_bound_is_an_upper_bound_on_the_exact_pairwise_probability() -> None:
    """P(Y_j >= X_top) for two classes of a multinomial, computed exactly, never exceeds the bound used to pool and
    to decide; checked on a grid of shares and k."""
    from scipy import stats

    for top, other in [(0.5, 0.3), (0.3, 0.29), (0.2, 0.01), (0.6, 0.4)]:
        for k in [3, 10, 50, 200]:
            x = np.arange(k + 1)
            # P(Y >= X): X ~ Bin(k, top); given X = x, Y ~ Bin(k - x, other / (1 - top))
            p_x = stats.binom.pmf(x, k, top)
            tail = np.array([stats.binom.sf(v - 1, k - v, other / (1 - top)) if v <= k - v else 0.0 for v in x])
            exact = float(p_x @ tail)
            assert exact <= math.exp(log_chernoff(top, other, k)) + 1e-15


def test_binomial_pmf_is_exact_to_rounding_at_every_size() -> None:
    """Loader's saddle-point pmf against exact fractions: every (t, i) for t <= 40 (the table and each branch of
    the Stirling series) and spot values up to t = 100,000, within 1e-14 relative."""
    from fractions import Fraction
    from math import comb

    from harness.estimators._screen_kernel import _log_binom_pmf

    q = Fraction(3, 10)
    cases = [(t, i) for t in range(1, 41) for i in range(t + 1)]
    cases += [(100, 37), (501, 200), (2_000, 600), (20_000, 6_000), (100_000, 30_123)]
    mpmath.mp.dps = 50
    for t, i in cases:
        exact = comb(t, i) * q**i * (1 - q) ** (t - i)
        log_exact = float(mpmath.log(exact.numerator) - mpmath.log(exact.denominator))
        assert abs(_log_binom_pmf(i, t, 0.3) - log_exact) < 1e-14 * max(1.0, abs(log_exact)) + 1e-14
