"""The power-law exponent of -log(pass@k): each bootstrap row uses its own valid k."""

from __future__ import annotations

import numpy as np

from harness.analysis import analyse
from harness.models.predict import power_law_exponent
from harness.tables import QuestionCounts


def test_rows_with_pass_at_k_of_one_drop_that_k_only() -> None:
    ks = np.array([1, 2, 4, 8, 16])
    y = np.array([[0.1, 0.19, 0.34, 0.56, 0.8], [0.1, 0.19, 0.34, 0.56, 1.0]])
    x = np.log(ks)
    want_full = -np.polyfit(x, np.log(-np.log(y[0])), 1)[0]
    want_four = -np.polyfit(x[:4], np.log(-np.log(y[1, :4])), 1)[0]
    np.testing.assert_allclose(power_law_exponent(ks, y), [want_full, want_four], rtol=1e-12)
    assert np.isnan(power_law_exponent(ks[:3], np.array([[0.1, 1.0, 1.0]])))[0]


def test_exponent_interval_contains_its_estimate_when_some_questions_are_never_solved() -> None:
    """Regression: replicates that happened to solve every question at k = n once shifted the whole interval."""
    rng = np.random.default_rng(0)
    c = rng.binomial(1000, 10 ** rng.uniform(-3, 0, 200))
    assert (c == 0).sum() >= 3
    plateau = analyse(QuestionCounts.from_binary(np.full(200, 1000), c), bootstrap=300).plateaus.iloc[0]
    assert plateau["exponent_ci_low"] <= plateau["power_law_exponent"] <= plateau["exponent_ci_high"]
