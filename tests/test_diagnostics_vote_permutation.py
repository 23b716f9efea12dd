"""The permutation D(k) for maj@k across a group column (harness.diagnostics.dependence): exact against
brute-force enumeration, null mean exactly 0 over every within-question relabelling, size within its binomial
bound and power against strong batch correlation (small fixed seeds)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analysis import analyse
from harness.diagnostics.dependence import (
    _encode,
    dependence_tests,
    maj_curve_permutation_summary,
    vote_slots,
)
from harness.diagnostics.simulate import simulate_rollouts
from harness.tables import rollouts_to_counts, validate_rollouts

# three questions: answers (None = no answer, casts no vote), accepted answers, group of each sample
TINY = (
    (["a", "a", "b", "c", "a", None, "b", "b"], {"a"}, [0, 1, 0, 1, 2, 2, 0, 1]),
    (["x", "y", "y", "z", "x", "x"], {"x", "z"}, [0, 0, 1, 1, 1, 0]),  # two correct classes: two votes
    (["r", "s", "s", "t", "r", "u", "s"], {"u"}, [1, 0, 1, 0, 1, 0, 1]),
)


def _brute_maj(labels: list[str | None], accepted: set[str], k: int, ties: str) -> float:
    """maj@k by enumerating every k-subset: plurality over the answers given; ties by the rule."""
    total, subsets = 0.0, 0
    for sub in itertools.combinations(range(len(labels)), k):
        subsets += 1
        votes: dict[str, int] = {}
        for i in sub:
            label = labels[i]
            if label is not None:
                votes[label] = votes.get(label, 0) + 1
        if not votes:
            continue
        top = max(votes.values())
        c = sum(1 for a, v in votes.items() if v == top and a in accepted)
        w = sum(1 for a, v in votes.items() if v == top and a not in accepted)
        total += {"random": c / (c + w), "strict": float(c == 1 and w == 0), "weak": float(c > 0)}[ties]
    return total / subsets


def _encode_tiny(
    questions: tuple[tuple[list[str | None], set[str], list[int]], ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    qidx, cls, correct, abstain, grp = [], [], [], [], []
    for q, (labels, accepted, groups) in enumerate(questions):
        codes: dict[str, int] = {}
        for label, g in zip(labels, groups, strict=True):
            key = label if label is not None else "\x00"
            codes.setdefault(key, len(codes))
            qidx.append(q)
            cls.append(codes[key])
            correct.append(label in accepted)
            abstain.append(label is None)
            grp.append(g)
    return np.array(qidx), np.array(cls), np.array(correct), np.array(abstain), np.array(grp)


@pytest.mark.parametrize("ties", ["random", "strict", "weak"])
def test_maj_d_matches_brute_force_enumeration_on_a_tiny_table(ties: str) -> None:
    """D(k) = mean_q [mean over groups of within-group maj@k - pooled maj@k], every maj@k by enumeration; unequal
    group sizes (so D(1) != 0), a sample with no answer, a question with two accepted answers."""
    qidx, cls, correct, abstain, grp = _encode_tiny(TINY)
    ks = np.array([1, 2])
    out = maj_curve_permutation_summary(
        vote_slots(qidx, cls, correct, abstain), grp, ks, permutations=30, rng=np.random.default_rng(0), ties=ties
    )
    expected = []
    for k in ks.tolist():
        d_q = []
        for labels, accepted, groups in TINY:
            within = [
                _brute_maj([a for a, g in zip(labels, groups, strict=True) if g == h], accepted, k, ties)
                for h in sorted(set(groups))
            ]
            d_q.append(np.mean(within) - _brute_maj(labels, accepted, k, ties))
        expected.append(np.mean(d_q))
    np.testing.assert_allclose(out.d, expected, rtol=0, atol=1e-12)
    assert abs(expected[0]) > 1e-3  # the table is not degenerate: D(1) moves with unequal groups
    assert out.permutations == 30 and 0 < out.p_value <= 1


def test_maj_d_has_exact_null_mean_zero_over_every_relabelling() -> None:
    """E D(k) = 0 under the null: averaged over every distinct within-question arrangement of the group labels
    (all 8!/(3! 3! 2!) = 560 for the first question, 6!/(3! 3!) = 20 and 7!/(4! 3!) = 35 for the others)
    each question's D_q(k) is 0 to rounding, for every k up to the smallest group."""
    for labels, accepted, groups in TINY:
        ks = np.arange(1, min(np.bincount(groups)) + 1)  # every k up to the smallest group
        qidx, cls, correct, abstain, _ = _encode_tiny(((labels, accepted, groups),))
        slots = vote_slots(qidx, cls, correct, abstain)
        arrangements = sorted(set(itertools.permutations(groups)))
        ds = [
            maj_curve_permutation_summary(
                slots, np.array(g), ks, permutations=0, rng=np.random.default_rng(0)
            ).d
            for g in arrangements
        ]
        assert np.abs(np.asarray(ds)).max() > 1e-3  # D_q itself varies
        np.testing.assert_allclose(np.mean(ds, axis=0), 0.0, rtol=0, atol=1e-12)


def _p_value(process: str, q: int, n: int, strength: float, seed: int, permutations: int) -> float:
    r = validate_rollouts(simulate_rollouts(process, q, n, strength=strength, seed=seed, group_column=True))
    qidx, cls, grp, correct, abstain = _encode(r, True)
    ks = np.array([k for k in (1, 2, 4, 8, 10) if k <= n // 4])
    out = maj_curve_permutation_summary(
        vote_slots(qidx, cls, correct, abstain), grp, ks, permutations=permutations, rng=np.random.default_rng(seed)
    )
    return out.p_value


@pytest.mark.slow
def test_maj_d_size_stays_within_its_binomial_bound() -> None:
    """100 i.i.d. data sets (30 questions x 16 samples in 4 groups, 99 permutations with the sequential stop):
    the rejection rate at 5% stays below the 99.5% binomial bound, and the p-values are not piled at 1."""
    sets = 100
    p = np.array([_p_value("iid", 30, 16, 0.0, seed, 99) for seed in range(sets)])
    bound = stats.binom.ppf(0.995, sets, 0.05) / sets
    assert (p < 0.05).mean() <= bound
    assert 0.3 < np.median(p) < 0.7


@pytest.mark.slow
def test_maj_d_power_against_strong_batch_correlation_is_high() -> None:
    """Batch shocks of logit sd 2 shared by the 10 samples of each (question, batch), 200 questions x 40
    samples: the test rejects in at least 16 of 20 data sets (about 0.95 in a 20-set pilot)."""
    p = np.array([_p_value("batch", 200, 40, 2.0, 100 + seed, 99) for seed in range(20)])
    assert (p < 0.05).sum() >= 16


@pytest.mark.slow
def test_dependence_tests_report_the_maj_d_and_the_verdict_uses_it() -> None:
    """The row 'curve_D_perm(maj@k)' (one per k, with its detectable slope difference) is in the dependence table
    and in the group-axis maj@k Holm family of the verdict, also without bootstrap replicates."""
    r = validate_rollouts(simulate_rollouts("batch", 60, 16, strength=2.0, seed=5, group_column=True))
    table, _ = dependence_tests(rollouts_to_counts(r, validated=True), r, bootstrap=0, permutations=99)
    assert table is not None
    rows = table[table["test"] == "curve_D_perm(maj@k)"]
    assert rows["k"].tolist() == [1, 2, 4]
    assert rows["p_value"].nunique() == 1 and np.isfinite(rows["mde_pp_per_decade"]).all()
    assert np.isfinite(rows["estimate"]).all() and rows["ci_low"].isna().all()
    a = analyse(
        rollouts_to_counts(r, validated=True), rollouts=r, bootstrap=0, fits=("beta_binomial",), permutations=99
    )
    v = {x.metric: x for x in a.verdicts}
    assert "curve_D_perm(maj@k)" in v["maj@k"].test and "chi2_class_by_group" in v["maj@k"].test
    assert "curve_D_perm(maj@k)" not in v["pass@k"].test
    assert pd.notna(v["maj@k"].slope_diff_pp)  # the effect comes from the permutation rows without bootstrap


def test_unanimous_questions_give_no_maj_d_test() -> None:
    """When every question is unanimous D(k) is 0 under every relabelling: no p-value (NaN, left out of the
    verdict family), and the run stops after the first batch instead of drawing all permutations."""
    q = np.repeat(np.arange(3), 8)
    g = np.tile(np.repeat([0, 1], 4), 3)
    slots = vote_slots(q, np.zeros(24, np.int64), np.ones(24, bool), np.zeros(24, bool))
    out = maj_curve_permutation_summary(slots, g, np.array([1, 2, 4]), permutations=999, rng=np.random.default_rng(0))
    assert np.isnan(out.p_value) and (out.d == 0).all() and out.permutations == 100
