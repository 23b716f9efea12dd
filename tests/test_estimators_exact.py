"""Exact estimators against brute-force enumeration over every k-subset (and every k-sequence for iid).

The brute force here shares no code with the estimators: it lists the subsets (itertools), counts votes and
applies the tie rule literally. Agreement is required to 1e-12 on thousands of small random count tables.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import numpy.typing as npt
import pytest

from harness import (
    QuestionCounts,
    at_least_m_of_k,
    best_at_k,
    maj_all_wrong_agree,
    maj_all_wrong_differ,
    maj_at_k,
    maj_at_k_one,
    pass_at_k,
    pass_at_k_all,
    pass_at_k_variance,
    pass_hat_k,
)

TOL = 1e-12


@cache
def _subsets(n: int, k: int, kind: str) -> npt.NDArray[np.int64]:
    """Index arrays of every k-subset (measured) or every k-sequence with repetition (iid) of range(n)."""
    if kind == "measured":
        return np.array(list(itertools.combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
    return np.array(list(itertools.product(range(n), repeat=k)), dtype=np.int64).reshape(-1, k)


def _labels(classes: list[int], abstain: int) -> npt.NDArray[np.int64]:
    """Sample labels: class index 0 (correct), 1.. (wrong), -1 for no answer."""
    out = [j for j, a in enumerate(classes) for _ in range(a)] + [-1] * abstain
    return np.array(out, dtype=np.int64)


def brute_vote(classes: list[int], abstain: int, k: int, ties: str, kind: str) -> float:
    labels = _labels(classes, abstain)
    draws = labels[_subsets(len(labels), k, kind)]
    votes = np.stack([(draws == j).sum(axis=1) for j in range(len(classes))], axis=1)
    top = votes.max(axis=1)
    wins = (votes[:, 0] == top) & (votes[:, 0] > 0)
    tied = (votes == top[:, None]).sum(axis=1)
    credit = {"strict": (tied == 1).astype(float), "weak": np.ones(len(top)), "random": 1.0 / tied}[ties]
    return float(np.mean(np.where(wins, credit, 0.0)))


def brute_correct_counts(n: int, c: int, k: int, kind: str) -> npt.NDArray[np.int64]:
    """Number of correct samples in each k-subset / k-sequence (samples 0..c-1 are the correct ones)."""
    return (_subsets(n, k, kind) < c).sum(axis=1)


def brute_best(scores: npt.NDArray[np.float64], correct: npt.NDArray[np.float64], k: int, kind: str) -> float:
    """Top-scored member of each subset; ties in score split uniformly among the tied members drawn."""
    total = 0.0
    subsets = _subsets(len(scores), k, kind)
    for sub in subsets:
        s = scores[sub]
        top = s == s.max()
        total += float(correct[sub][top].mean())
    return total / len(subsets)


def random_table(rng: np.random.Generator, max_n: int) -> tuple[list[int], int]:
    while True:
        wrong = [int(v) for v in rng.integers(1, 5, size=int(rng.integers(0, 4)))]
        classes = [int(rng.integers(0, 5)), *wrong]
        abstain = int(rng.integers(0, 3)) if rng.random() < 0.4 else 0
        if 1 <= sum(classes) + abstain <= max_n:
            return classes, abstain


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_maj_at_k_matches_enumeration_on_thousands_of_tables(kind: str) -> None:
    rng = np.random.default_rng(20261126 if kind == "measured" else 7)
    tables = 1500 if kind == "measured" else 700
    max_n, max_k = (9, None) if kind == "measured" else (6, 4)
    checked = 0
    for _ in range(tables):
        classes, abstain = random_table(rng, max_n)
        n = sum(classes) + abstain
        ks = list(range(1, (n if max_k is None else max_k) + 1))
        for ties in ("random", "strict", "weak"):
            got = maj_at_k_one(classes[0], classes[1:], abstain, ks, ties=ties, kind=kind)
            want = [brute_vote(classes, abstain, k, ties, kind) for k in ks]
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=f"{classes} +{abstain} {ties}")
            checked += len(ks)
    assert checked >= 3 * 4 * tables  # every table, tie rule and k was compared


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_pass_metrics_match_enumeration(kind: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(400):
        n = int(rng.integers(1, 9 if kind == "measured" else 6))
        c = int(rng.integers(0, n + 1))
        ks = np.arange(1, (n if kind == "measured" else 4) + 1)
        x = [brute_correct_counts(n, c, int(k), kind) for k in ks]
        np.testing.assert_allclose(pass_at_k([n], [c], ks, kind=kind)[0], [np.mean(v >= 1) for v in x], atol=TOL)
        np.testing.assert_allclose(
            pass_hat_k([n], [c], ks, kind=kind)[0], [np.mean(v == k) for v, k in zip(x, ks, strict=True)], atol=TOL
        )
        m = int(rng.integers(0, ks[-1] + 1))
        np.testing.assert_allclose(
            at_least_m_of_k([n], [c], ks, m, kind=kind)[0], [np.mean(v >= m) for v in x], atol=TOL
        )


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_best_at_k_matches_enumeration_with_score_ties(kind: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 8 if kind == "measured" else 6))
        scores = rng.integers(0, 4, size=n).astype(float)  # few distinct values: many ties
        correct = (rng.random(n) < 0.5).astype(float)
        ks = np.arange(1, (n if kind == "measured" else 4) + 1)
        got = best_at_k([scores], [correct], ks, kind=kind)[0]
        want = [brute_best(scores, correct, int(k), kind) for k in ks]
        np.testing.assert_allclose(got, want, atol=TOL)


def test_best_at_k_does_not_depend_on_sample_order() -> None:
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 5, 40).astype(float)
    correct = (rng.random(40) < 0.4).astype(float)
    perm = rng.permutation(40)
    ks = [1, 3, 10, 40]
    np.testing.assert_allclose(best_at_k([scores], [correct], ks), best_at_k([scores[perm]], [correct[perm]], ks),
                               atol=1e-14)


def test_measured_entries_beyond_n_are_nan() -> None:
    assert np.isnan(pass_at_k([3], [1], [4])[0, 0])
    assert np.isnan(maj_at_k_one(2, [1], 0, [4])[0])
    assert not np.isnan(maj_at_k_one(2, [1], 0, [4], kind="iid")[0])


@pytest.mark.parametrize("kind", ["measured", "iid"])
@pytest.mark.parametrize("ties", ["random", "strict", "weak"])
def test_closed_forms_equal_general_engine(kind: str, ties: str) -> None:
    """All wrong answers agree = one wrong class; all differ = singleton classes (without replacement)."""
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(2, 60))
        c = int(rng.integers(0, n + 1))
        ks = np.unique(rng.integers(1, n + 1, size=6))
        agree = maj_at_k_one(c, [n - c], 0, ks, ties=ties, kind=kind)
        np.testing.assert_allclose(maj_all_wrong_agree(n, c, ks, ties=ties, kind=kind), agree, atol=1e-12)
        if kind == "measured":
            differ = maj_at_k_one(c, [1] * (n - c), 0, ks, ties=ties, kind=kind)
            np.testing.assert_allclose(maj_all_wrong_differ(n, c, ks, ties=ties, kind=kind), differ, atol=1e-12)


@pytest.mark.parametrize("ties", ["random", "strict", "weak"])
def test_all_wrong_differ_iid_is_the_many_class_limit(ties: str) -> None:
    """With replacement, 'all wrong answers differ' means every wrong draw is a new answer: enumerate the 2^k
    correct/wrong sequences and give each wrong draw its own class."""
    for p in (0.1, 0.45, 0.8):
        for k in range(1, 9):
            total = 0.0
            for seq in itertools.product((0, 1), repeat=k):
                x = sum(seq)
                prob = p**x * (1 - p) ** (k - x)
                votes = [x] + [1] * (k - x)
                if x == 0 or x < max(votes):
                    continue
                tied = votes.count(x)
                total += prob * {"strict": float(tied == 1), "weak": 1.0, "random": 1.0 / tied}[ties]
            got = maj_all_wrong_differ(1000, int(p * 1000), [k], ties=ties, kind="iid")[0]
            assert got == pytest.approx(total, abs=1e-12)


def test_pass_at_k_all_k_equals_per_k_mean() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(50, 300, size=40)
    c = rng.binomial(n, rng.beta(0.3, 2.0, 40))
    curve = pass_at_k_all(n, c)
    ks = np.arange(1, n.min() + 1)
    np.testing.assert_allclose(curve[: n.min()], pass_at_k(n, c, ks).mean(axis=0), atol=1e-13)
    assert np.isnan(curve[n.min():]).all()


def test_pass_at_k_is_stable_for_large_n() -> None:
    """10,000 samples, 3 correct: 1 - C(9997, k)/C(10000, k) by exact rational arithmetic."""
    from fractions import Fraction
    from math import comb

    for k in (1, 10, 1000, 9000):
        exact = 1 - Fraction(comb(9997, k), comb(10000, k))
        assert pass_at_k([10000], [3], [k])[0, 0] == pytest.approx(float(exact), rel=1e-12, abs=0)


def test_pass_at_k_variance_exact_and_unbiased() -> None:
    """Var of the unbiased estimator by enumeration over c ~ Bin(n, p); the estimate's mean equals it."""
    from scipy import stats

    n, ks = 12, np.array([1, 2, 3, 6])
    for p in (0.05, 0.3, 0.8):
        cs = np.arange(n + 1)
        w = stats.binom.pmf(cs, n, p)
        est = pass_at_k(np.full(n + 1, n), cs, ks)
        want = (w[:, None] * est**2).sum(axis=0) - ((w[:, None] * est).sum(axis=0)) ** 2
        got = pass_at_k_variance([n], [0], ks, p=p)[0]
        np.testing.assert_allclose(got, want, atol=1e-13)
        unbiased = pass_at_k_variance(np.full(n + 1, n), cs, ks)
        np.testing.assert_allclose((w[:, None] * unbiased).sum(axis=0), want, atol=1e-12)
    assert np.isnan(pass_at_k_variance([5], [2], [3])[0, 0])  # 2k > n: no unbiased estimate


def test_table_level_maj_matches_rowwise() -> None:
    table = QuestionCounts.from_classes([3, 0, 5], [[2, 1], [4], [1, 1, 1]], abstain=[1, 0, 2])
    ks = [1, 2, 5]
    got = maj_at_k(table, ks)
    for i, (c, w, a) in enumerate([(3, [2, 1], 1), (0, [4], 0), (5, [1, 1, 1], 2)]):
        np.testing.assert_allclose(got[i], maj_at_k_one(c, w, a, ks), atol=1e-15)


def test_maj_at_k_is_the_same_with_any_number_of_threads() -> None:
    rng = np.random.default_rng(8)
    sizes = rng.multinomial(300, rng.dirichlet(np.full(6, 0.5)), size=40)
    table = QuestionCounts.from_classes(sizes[:, 0], sizes[:, 1:])
    ks = [1, 4, 16, 64, 300]
    for kind in ("measured", "iid"):
        one = maj_at_k(table, ks, kind=kind, threads=1)
        two = maj_at_k(table, ks, kind=kind, threads=2)
        np.testing.assert_array_equal(one, two)
