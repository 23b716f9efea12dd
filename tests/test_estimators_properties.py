"""Properties every exact estimator must have, checked with hypothesis on random count tables."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import maj_all_wrong_agree, maj_all_wrong_differ, maj_at_k_one, pass_at_k, pass_hat_k

KINDS = st.sampled_from(["measured", "iid"])
TIES = st.sampled_from(["random", "strict", "weak"])


@st.composite
def tables(draw: st.DrawFn, max_total: int = 60) -> tuple[int, list[int], int]:
    correct = draw(st.integers(0, 30))
    wrong = draw(st.lists(st.integers(1, 25), max_size=6))
    abstain = draw(st.integers(0, 5))
    if correct + sum(wrong) == 0:
        correct = 1  # at least one answered sample, so tests that drop the unanswered ones still have samples
    return correct, wrong, abstain


@settings(max_examples=150, deadline=None)
@given(tables(), KINDS, TIES)
def test_values_are_probabilities(table: tuple[int, list[int], int], kind: str, ties: str) -> None:
    c, w, a = table
    n = c + sum(w) + a
    ks = np.arange(1, n + 1)
    v = maj_at_k_one(c, w, a, ks, ties=ties, kind=kind)
    assert np.all((v >= 0) & (v <= 1))
    p = pass_at_k([n], [c], ks, kind=kind)[0]
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= -1e-15), "pass@k must not decrease in k"
    ph = pass_hat_k([n], [c], ks, kind=kind)[0]
    assert np.all(np.diff(ph) <= 1e-15), "pass^k must not increase in k"
    assert np.all(v <= p + 1e-12), "a vote can only pick the correct answer if some sample has it"


@settings(max_examples=150, deadline=None)
@given(tables(), KINDS)
def test_maj2_equals_maj1_under_random_ties_when_every_sample_answers(
    table: tuple[int, list[int], int], kind: str
) -> None:
    c, w, _ = table
    if c + sum(w) < 2:
        return
    v = maj_at_k_one(c, w, 0, [1, 2], ties="random", kind=kind)
    assert abs(v[0] - v[1]) < 1e-12


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), KINDS, st.integers(1, 10))
def test_binary_votes_even_k_equals_previous_odd_k(c: int, w: int, kind: str, m: int) -> None:
    if c + w < 2 * m:
        return
    v = maj_at_k_one(c, [w] if w else [], 0, [2 * m - 1, 2 * m], ties="random", kind=kind)
    assert abs(v[0] - v[1]) < 1e-12


@settings(max_examples=150, deadline=None)
@given(tables(), KINDS, TIES)
def test_maj_lies_between_the_two_wrong_answer_extremes(
    table: tuple[int, list[int], int], kind: str, ties: str
) -> None:
    """With the correct count fixed, any wrong-answer structure lies between 'all agree' and 'all differ'."""
    c, w, _ = table
    n = c + sum(w)
    ks = np.arange(1, n + 1)
    v = maj_at_k_one(c, w, 0, ks, ties=ties, kind=kind)
    lower = maj_all_wrong_agree(n, c, ks, ties=ties, kind=kind)
    upper = maj_all_wrong_differ(n, c, ks, ties=ties, kind=kind)
    assert np.all(lower <= v + 1e-12)
    assert np.all(v <= upper + 1e-12)


@settings(max_examples=60, deadline=None)
@given(tables(), KINDS)
def test_tie_rules_are_ordered(table: tuple[int, list[int], int], kind: str) -> None:
    c, w, a = table
    ks = np.arange(1, c + sum(w) + a + 1)
    strict = maj_at_k_one(c, w, a, ks, ties="strict", kind=kind)
    rand = maj_at_k_one(c, w, a, ks, ties="random", kind=kind)
    weak = maj_at_k_one(c, w, a, ks, ties="weak", kind=kind)
    assert np.all(strict <= rand + 1e-12) and np.all(rand <= weak + 1e-12)
