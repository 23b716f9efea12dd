"""maj@k with several correct answer classes (issue 9, section 1) and the grouped kernel (issue 15).

The brute force lists every k-subset (measured) or k-sequence (iid) of the labelled samples, counts the votes of
each class and applies the tie rule literally: ``random`` credits (correct classes on top) / (classes on top),
``strict`` needs one class alone on top and correct, ``weak`` a correct class among the top; no vote, no credit.
It shares no code with the estimators. Monte Carlo checks draw k-subsets with numpy at n = 10,000.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import numpy.typing as npt
import pytest

from harness import QuestionCounts, maj_all_wrong_agree, maj_all_wrong_differ, maj_at_k, maj_at_k_one
from harness.estimators import majority

TOL = 1e-12
TIES = ("random", "strict", "weak")


@cache
def _draws(n: int, k: int, kind: str) -> npt.NDArray[np.int64]:
    if kind == "measured":
        return np.array(list(itertools.combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
    return np.array(list(itertools.product(range(n), repeat=k)), dtype=np.int64).reshape(-1, k)


def brute(correct: list[int], wrong: list[int], abstain: int, k: int, ties: str, kind: str) -> float:
    sizes = correct + wrong
    if not sizes:
        return 0.0
    labels = np.array([j for j, a in enumerate(sizes) for _ in range(a)] + [-1] * abstain, dtype=np.int64)
    d = labels[_draws(len(labels), k, kind)]
    votes = np.stack([(d == j).sum(axis=1) for j in range(len(sizes))], axis=1)
    top = votes.max(axis=1)
    on_top = votes == top[:, None]
    c = on_top[:, : len(correct)].sum(axis=1)
    t = on_top.sum(axis=1)
    credit = {
        "random": c / np.maximum(t, 1),
        "strict": ((t == 1) & (c == 1)).astype(float),
        "weak": (c >= 1).astype(float),
    }[ties]
    return float(np.mean(np.where(top > 0, credit, 0.0)))


def random_question(rng: np.random.Generator, max_n: int) -> tuple[list[int], list[int], int]:
    """0 to 3 correct and 0 to 3 wrong classes of sizes 1..3 (equal sizes frequent), sometimes abstentions."""
    while True:
        correct = [int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 4)))]
        wrong = [int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 4)))]
        abstain = int(rng.integers(0, 3)) if rng.random() < 0.4 else 0
        if 1 <= sum(correct) + sum(wrong) + abstain <= max_n:
            return correct, wrong, abstain


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_several_correct_classes_match_brute_force(kind: str) -> None:
    rng = np.random.default_rng(9 if kind == "measured" else 10)
    checked = 0
    for _ in range(300 if kind == "measured" else 250):
        correct, wrong, abstain = random_question(rng, 8 if kind == "measured" else 6)
        n = sum(correct) + sum(wrong) + abstain
        ks = [k for k in range(1, n + 1) if kind == "measured" or n**k <= 5000]
        for ties in TIES:
            got = maj_at_k_one(correct, wrong, abstain, ks, ties=ties, kind=kind)
            want = [brute(correct, wrong, abstain, k, ties, kind) for k in ks]
            np.testing.assert_allclose(got, want, atol=TOL, rtol=0, err_msg=f"{correct} {wrong} {abstain} {ties}")
            checked += len(ks)
    assert checked > 2000


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_both_kernels_match_brute_force(kind: str) -> None:
    """Each kernel forced on small tables: the grouped one at roots of unity ('grouped', with the coefficient kernel
    at x = 1 under random ties), the coefficient grouped kernel alone ('poly'), and the per-class one summed over
    correct anchors ('one')."""
    rng = np.random.default_rng(11)
    for _ in range(120):
        correct, wrong, abstain = random_question(rng, 8 if kind == "measured" else 6)
        correct = (correct[:1] or [1]) if kind == "iid" else (correct or [1])
        c, w = tuple(sorted(correct, reverse=True)), tuple(sorted(wrong, reverse=True))
        n = sum(c) + sum(w) + abstain
        for k in [k for k in range(1, n + 1) if kind == "measured" or n**k <= 5000]:
            for ties in TIES:
                want = brute(list(c), list(w), abstain, k, ties, kind)
                assert abs(majority._maj_one(c, w, abstain, k, ties, kind, "grouped") - want) < TOL
                assert abs(majority._maj_one(c, w, abstain, k, ties, kind, "poly") - want) < TOL
                if ties != "weak" or len(c) == 1:  # anchors summed: random and strict with several correct classes
                    assert abs(majority._maj_one(c, w, abstain, k, ties, kind, "one") - want) < TOL


def test_issue_9_example_two_correct_strings_lose_to_one_wrong_string() -> None:
    """A (correct, 7), B (correct, 6), W (wrong, 10): a vote over all 23 samples picks W under every tie rule."""
    table = QuestionCounts.from_classes(correct=[[7, 6]], wrong=[[10]])
    for ties in TIES:
        assert maj_at_k(table, [23], ties=ties)[0, 0] == 0.0
        assert maj_at_k_one([7, 6], [10], 0, [23], ties=ties)[0] == 0.0
    # pooled into one class of 13 the same samples would win: the split is what loses the vote
    assert maj_at_k_one(13, [10], 0, [23])[0] == 1.0
    # at k = 1 the vote is the share of correct samples, 13/23, under every rule
    for ties in TIES:
        assert abs(maj_at_k(table, [1], ties=ties)[0, 0] - 13 / 23) < TOL


def test_table_path_uses_vote_classes_with_abstentions() -> None:
    table = QuestionCounts.from_classes(correct=[[3, 2], 4, [1, 1, 1]], wrong=[[4], [2, 2], [2]], abstain=[1, 0, 2])
    ks = [1, 2, 3, 5, 7]
    for ties in TIES:
        got = maj_at_k(table, ks, ties=ties, threads=1)
        for i, (c, w, a) in enumerate([([3, 2], [4], 1), ([4], [2, 2], 0), ([1, 1, 1], [2], 2)]):
            want = [brute(c, w, a, k, ties, "measured") for k in ks]
            np.testing.assert_allclose(got[i], want, atol=TOL, rtol=0)


def test_no_correct_class_gets_zero_and_old_call_form_still_works() -> None:
    assert maj_at_k_one([], [3, 2], 1, [1, 3])[0] == 0.0
    assert maj_at_k_one(0, [3], 0, [2], kind="iid")[0] == 0.0
    np.testing.assert_allclose(maj_at_k_one(3, [2, 1], 0, [1, 2, 3]), maj_at_k_one([3], [2, 1], 0, [1, 2, 3]))


@pytest.mark.parametrize("kind", ["measured", "iid"])
@pytest.mark.parametrize("ties", TIES)
def test_binary_closed_forms_agree_with_the_grouped_kernel(kind: str, ties: str) -> None:
    n, c = 40, 17
    ks = [1, 2, 5, 10, 21, 40]
    agree = [majority._maj_one((c,), (n - c,), 0, k, ties, kind, "grouped") for k in ks]
    differ = [majority._maj_one((c,), (1,) * (n - c), 0, k, ties, kind, "grouped") for k in ks]
    np.testing.assert_allclose(agree, maj_all_wrong_agree(n, c, ks, ties=ties, kind=kind), atol=1e-12)
    if kind == "measured":  # with replacement, "all wrong differ" is the limit of infinitely many wrong classes
        np.testing.assert_allclose(differ, maj_all_wrong_differ(n, c, ks, ties=ties, kind=kind), atol=1e-12)


def _monte_carlo(
    correct: list[int], wrong: list[int], k: int, draws: int, rng: np.random.Generator, kind: str
) -> dict[str, tuple[float, float]]:
    colors = np.array(correct + wrong, dtype=np.int64)
    if kind == "measured":
        x = rng.multivariate_hypergeometric(colors, k, size=draws, method="count")
    else:
        x = rng.multinomial(k, colors / colors.sum(), size=draws)
    top = x.max(axis=1)
    on_top = x == top[:, None]
    c = on_top[:, : len(correct)].sum(axis=1)
    t = on_top.sum(axis=1)
    out = {}
    for ties, credit in (("random", c / t), ("strict", ((t == 1) & (c == 1)) * 1.0), ("weak", (c >= 1) * 1.0)):
        v = np.where(top > 0, credit, 0.0)
        out[ties] = (float(v.mean()), float(v.std(ddof=1) / np.sqrt(draws)))
    return out


def _adversarial_shapes() -> dict[str, tuple[list[int], list[int]]]:
    rng = np.random.default_rng(15)
    near = rng.multinomial(10_000 - 40, np.full(999, 1 / 999))
    near3 = rng.multinomial(10_000 - 30, np.full(997, 1 / 997))
    return {
        "almost every wrong answer distinct": ([60], [40, 30, *([2] * 40), *([1] * 9790)]),
        "1,000 near-equal classes, correct close": ([40], sorted(near.tolist(), reverse=True)),
        "several correct classes": ([20, 15, 15, 5], [30, 20, *([10] * 50), *([1] * 9395)]),
        "3 correct classes among 1,000 near-equal classes": ([10, 10, 10], sorted(near3.tolist(), reverse=True)),
    }


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(_adversarial_shapes()))
def test_adversarial_shapes_agree_with_monte_carlo_at_n_10000(shape: str) -> None:
    correct, wrong = _adversarial_shapes()[shape]
    assert sum(correct) + sum(wrong) == 10_000
    rng = np.random.default_rng(2)
    draws = 2000
    z_max = 0.0
    for kind in ("measured", "iid"):
        for k in (64, 512, 2048):
            mc = _monte_carlo(correct, wrong, k, draws, rng, kind)
            for ties in TIES:
                exact = maj_at_k_one(correct, wrong, 0, [k], ties=ties, kind=kind)[0]
                mean, se = mc[ties]
                z = abs(exact - mean) / max(se, 1.0 / draws)
                z_max = max(z_max, z)
                assert z < 4.0, (shape, kind, k, ties, exact, mean, se)
    assert z_max > 0.0


def test_maj_infinity_threshold_uses_the_strongest_correct_class() -> None:
    """maj@inf: the correct classes' largest share against the largest wrong share (not the pooled correct share).

    Correct classes 6 and 4 of the 10 correct samples (c = 0.6), one wrong class holding all wrong samples (s = 1):
    a correct class leads iff 0.6 p > (1 - p), p > 1/1.6 = 0.625. The exact iid maj@k at large k agrees on each
    side of the threshold.
    """
    from harness.models.predict import _wrong_threshold

    table = QuestionCounts.from_classes(correct=[[6, 4], [5]], wrong=[[5], [3, 2]])
    got = _wrong_threshold(table)
    assert got is not None
    thr, at = got
    np.testing.assert_allclose(thr, [1 / 1.6, 0.6 / 1.6], atol=1e-15)
    np.testing.assert_allclose(at, [0.5, 0.5], atol=1e-15)
    above = maj_at_k_one([396, 264], [340], 0, [4096], kind="iid")[0]  # p = 0.66 > 0.625
    below = maj_at_k_one([354, 236], [410], 0, [4096], kind="iid")[0]  # p = 0.59 < 0.625
    assert above > 0.99 and below < 0.01


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_batch_path_equals_the_per_call_path(kind: str) -> None:
    """``maj_at_k`` (distinct shapes, one compiled loop over questions and k) gives the per-call values to 1e-15
    (rounding): small random tables with 0-3 correct and 0-3 wrong classes, abstentions and repeated shapes, wide
    questions (the grouped kernel) and k beyond n (NaN when measured)."""
    rng = np.random.default_rng(21 if kind == "measured" else 22)
    correct, wrong, abstain = [], [], []
    for _ in range(150):
        c, w, a = random_question(rng, 9)
        correct.append(c)
        wrong.append(w)
        abstain.append(a)
    correct += [[40], [12, 12], [30, 5]]
    wrong += [[1] * 80, [*rng.multinomial(600, np.full(60, 1 / 60)).tolist()], [20] * 70]
    abstain += [3, 0, 1]
    correct += correct[:20]  # repeated shapes
    wrong += wrong[:20]
    abstain += abstain[:20]
    table = QuestionCounts.from_classes(correct, wrong, abstain=abstain)
    ks = [1, 2, 3, 4, 5, 7, 9, 16, 64, 700]
    sizes, is_correct = table.vote_classes()
    for ties in TIES:
        got = maj_at_k(table, ks, ties=ties, kind=kind, threads=2)
        want = np.array([
            majority._maj_row(sizes[i][is_correct[i]].tolist(), sizes[i][~is_correct[i]].tolist(),
                              int(abstain[i]), ks, ties, kind)
            for i in range(table.n_questions)
        ])
        # the kernels compiled into the batch loop may round differently in the last place (vectorisation)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
        small = [i for i in range(150) if sum(correct[i]) + sum(wrong[i]) + abstain[i] <= 6]
        for i in small[:5]:  # and both against the brute force where it is cheap
            n = sum(correct[i]) + sum(wrong[i]) + abstain[i]
            for j, k in enumerate(ks):
                if k <= n and (kind == "measured" or n**k <= 5000):
                    assert abs(got[i, j] - brute(correct[i], wrong[i], abstain[i], k, ties, kind)) < TOL


def test_batch_path_grows_the_quadrature_rule_when_a_kernel_asks() -> None:
    """Thousands of near-equal classes tie at small x under random ties: the kernel needs a Gauss-Legendre rule of
    more than 64 nodes, returns its size, and the batch path recomputes that value through the per-call path."""
    near = np.random.default_rng(3).multinomial(100_000 - 11, np.full(9_999, 1 / 9_999))
    table = QuestionCounts.from_classes([11, 11], [sorted(near[near > 0].tolist(), reverse=True)] * 2)
    got = maj_at_k(table, [4096], kind="iid", threads=1)
    c = (11,)
    w = tuple(sorted(near[near > 0].tolist(), reverse=True))
    want = majority._maj_one(c, w, 0, 4096, "random", "iid")
    assert got[0, 0] == got[1, 0]  # one distinct shape, computed once
    assert abs(got[0, 0] - want) < 1e-15
    assert 0.0 < want < 1e-3


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_tail_bounds_are_upper_bounds_on_exact_tails(kind: str) -> None:
    """``_log_tail`` (used to cut the range of top counts) never falls below the exact hypergeometric or binomial
    tail (scipy.stats), and is within 1 % of it where the tail is not negligible."""
    from scipy import stats

    from harness.estimators._dft_kernel import _log_tail

    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(2, 5000))
        a = int(rng.integers(1, n + 1))
        k = int(rng.integers(1, n + 1))
        x = int(rng.integers(0, min(a, k) + 2))
        dist = stats.hypergeom(n, a, k) if kind == "measured" else stats.binom(k, a / n)
        for upper, exact in ((True, dist.sf(x - 1)), (False, dist.cdf(x))):
            bound = _log_tail(x, a, n, k, kind == "measured", upper)
            if exact > 0:
                assert bound >= np.log(exact) - 1e-9, (n, a, k, x, upper)
                if exact > 1e-250:
                    assert bound <= np.log(exact) + 0.01, (n, a, k, x, upper, bound, np.log(exact))


def test_many_questions_at_once_equal_one_by_one() -> None:
    """``maj_at_k_many`` (lists of class sizes, the batch path) gives ``maj_at_k_one``'s values (to 1e-15),
    with zeros among the sizes (dropped) and large pseudo-count questions like the model predictions use."""
    rng = np.random.default_rng(31)
    correct, wrong, abstain = [], [], []
    for _ in range(60):
        c, w, a = random_question(rng, 9)
        correct.append([*c, 0])
        wrong.append([*w, 0])
        abstain.append(a)
    correct += [[400_000, 100_000], [1_000]]
    wrong += [[300_000, 150_000, 49_000], [990_000, 4_000]]
    abstain += [1_000, 5_000]
    ks = [1, 2, 3, 5, 8, 64, 512]
    for ties in TIES:
        got = majority.maj_at_k_many(correct, wrong, abstain, ks, ties=ties, kind="iid")
        for i in range(len(correct)):
            want = maj_at_k_one(correct[i], wrong[i], abstain[i], ks, ties=ties, kind="iid")
            np.testing.assert_allclose(got[i], want, rtol=0, atol=1e-15)
