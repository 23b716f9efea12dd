"""Properties of the p intervals and the fits' predictions that must hold for every input (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.models import (
    clopper_pearson_interval,
    fit_spread,
    jeffreys_interval,
    likelihood_ratio_interval,
    predict_pass,
    wilson_interval,
)
from harness.tables import QuestionCounts

counts_strategy = st.integers(1, 2000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))


@given(counts_strategy)
def test_intervals_contain_p_hat_and_jeffreys_lies_inside_clopper_pearson(nc: tuple[int, int]) -> None:
    n, c = nc
    ph = c / n
    for lo, hi in (wilson_interval([n], [c]), clopper_pearson_interval([n], [c]), likelihood_ratio_interval([n], [c])):
        assert 0.0 <= lo[0] <= ph + 1e-12 and ph - 1e-12 <= hi[0] <= 1.0
    # Beta(c, n-c+1) <=st Beta(c+1/2, n-c+1/2) <=st Beta(c+1, n-c): Jeffreys is inside Clopper-Pearson
    jl, jh = jeffreys_interval([n], [c])
    cl, ch = clopper_pearson_interval([n], [c])
    assert cl[0] <= jl[0] + 1e-12 and jh[0] <= ch[0] + 1e-12


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=3, max_size=25), st.sampled_from(["beta_binomial", "npmle"]))
def test_predicted_pass_at_k_is_completely_monotone_in_k(cs: list[int], fit_name: str) -> None:
    # 1 - E[(1-p)^k] under any mixture: first differences >= 0, second <= 0, third >= 0 (Hausdorff)
    counts = QuestionCounts.from_binary(np.full(len(cs), 20), cs)
    fit = fit_spread(counts, fits=(fit_name,))[0]
    curve = predict_pass(fit, np.arange(1, 41)).mean(axis=0)
    d1, d2, d3 = np.diff(curve), np.diff(curve, 2), np.diff(curve, 3)
    assert (d1 >= -1e-12).all() and (d2 <= 1e-12).all() and (d3 >= -1e-12).all()
    assert 0.0 <= curve[0] <= curve[-1] <= 1.0
