"""The `analyse` interface other modules code against: names, columns and the no-group / no-budget reasons."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

from harness.analysis import Analysis, analyse
from harness.curves import CURVE_COLUMNS
from harness.tables import QuestionCounts, concat_counts, rollouts_to_counts


def _binary_counts() -> QuestionCounts:
    rng = np.random.default_rng(1)
    p = rng.beta(0.4, 3.0, size=40)
    n = np.full(40, 64)
    return QuestionCounts.from_binary(n, rng.binomial(n, p), model="m")


def test_analysis_fields_and_columns() -> None:
    a = analyse(_binary_counts(), bootstrap=50, seed=0)
    names = {f.name for f in dataclasses.fields(Analysis)}
    assert {
        "questions",
        "fits",
        "predictions",
        "plateaus",
        "shape",
        "local_slope",
        "decomposition",
        "dependence",
        "dependence_reason",
        "budget",
        "budget_reason",
        "notes",
    } <= names
    for col in (
        "n",
        "c",
        "p_hat",
        "wilson_low",
        "wilson_high",
        "jeffreys_low",
        "jeffreys_high",
        "p_correct",
        "p_top_wrong",
        "margin",
        "stopping",
    ):
        assert col in a.questions.columns
    for col in ("fit", "params", "n_params", "loglik", "aic", "gof_stat", "gof_df", "gof_p", "converged"):
        assert col in a.fits.columns
    assert list(a.predictions.columns) == list(CURVE_COLUMNS)
    assert a.predictions["kind"].str.startswith("fit:").all()
    assert a.predictions["k"].max() >= 100 * 64
    for col in ("pass_inf", "maj_inf", "power_law_exponent", "exponent_ci_low", "exponent_ci_high"):
        assert col in a.plateaus.columns
    for col in (
        "slope_per_decade",
        "slope_per_decade_ci_low",
        "r2",
        "max_residual",
        "curvature",
        "straight_window_1pp_decades",
        "rise_1pp",
        "straight_window_2pp_decades",
        "rise_2pp",
        "compute_min",
        "compute_max",
    ):
        assert col in a.shape.columns
    assert {"measured", "iid"} <= set(a.shape["kind"])
    assert {"local_slope_per_decade", "ci_low", "ci_high", "compute"} <= set(a.local_slope.columns)
    assert {"decade_start", "p_bin", "slope_contribution"} <= set(a.decomposition.columns)
    assert any("not a test" in n for n in a.notes)
    assert any("at k = 6400 the fits' pass@k ranges from" in n for n in a.notes)
    assert a.dependence is None and "rollouts" in a.dependence_reason
    assert a.budget is None and "rollouts" in a.budget_reason


def test_no_group_column_gives_reason_not_a_random_split() -> None:
    r = pd.DataFrame({"question_id": np.repeat(["a", "b", "c"], 8), "correct": np.tile([1, 0, 1, 1, 0, 0, 1, 0], 3)})
    counts = rollouts_to_counts(r)
    a = analyse(counts, rollouts=r, bootstrap=20)
    assert a.dependence is None
    assert "no group column" in a.dependence_reason
    assert a.budget is None and "no budget column" in a.budget_reason


def test_given_curves_on_a_token_axis_are_used_as_they_are() -> None:
    from harness.curves import compute_curves

    rng = np.random.default_rng(3)
    rows = []
    for i in range(30):
        p = rng.uniform(0.1, 0.9)
        for _ in range(16):
            ok = bool(rng.random() < p)
            rows.append(
                {"question_id": f"q{i}", "correct": ok, "answer": "a" if ok else f"w{rng.integers(3)}", "tokens": 500.0}
            )
    r = pd.DataFrame(rows)
    counts = rollouts_to_counts(r)
    curves = compute_curves(counts, metrics=("pass@k", "maj@k"), compute="tokens", bootstrap=50)
    a = analyse(counts, curves=curves, bootstrap=50)
    assert a.curves is curves
    assert (a.predictions["compute_unit"] == "tokens").all()
    assert np.allclose(a.predictions["compute"], a.predictions["k"] * 500.0)
    meas = a.shape[(a.shape["kind"] == "measured") & (a.shape["metric"] == "pass@k")].iloc[0]
    assert meas["compute_min"] == 500.0 and meas["compute_max"] == 16 * 500.0


def _class_counts(models: tuple[str, ...]) -> QuestionCounts:
    """Two models' questions with answer classes (so the structured maj@k prediction runs), n = 24."""
    rng = np.random.default_rng(7)
    parts = []
    for m in models:
        correct, wrong = [], []
        for _ in range(30):
            sizes = rng.multinomial(24, rng.dirichlet(np.full(4, 0.6)))
            correct.append(int(sizes[0]))
            wrong.append([int(v) for v in sizes[1:] if v > 0])
        parts.append(QuestionCounts.from_classes(correct, wrong, model=m))
    return concat_counts(parts)


def test_prefetched_fits_and_predictions_give_the_same_analysis() -> None:
    """Work done ahead in the background thread (``ModelPrefetch``) is what ``analyse`` computes itself: the same
    fits and prediction rows, to the bit; a prefetch made for another tie rule is not taken."""
    from harness.analysis import ModelPrefetch

    counts = _class_counts(("a", "b"))
    alone = analyse(counts, bootstrap=20, seed=0, order_test=False)
    for ties, taken in (("random", True), ("strict", False)):
        prefetch = ModelPrefetch(counts, ("beta_binomial", "zoi_beta_binomial", "scaled_beta", "npmle"), 100, ties)
        try:
            ahead = prefetch._ahead
            with_prefetch = analyse(counts, bootstrap=20, seed=0, order_test=False, prefetched=prefetch)
            assert (prefetch._ahead is not ahead) == taken
        finally:
            prefetch.close()
        assert with_prefetch.predictions is not None and alone.predictions is not None
        pd.testing.assert_frame_equal(with_prefetch.predictions, alone.predictions, check_exact=True)
        pd.testing.assert_frame_equal(with_prefetch.fits, alone.fits, check_exact=True)


def test_an_error_in_the_prefetch_is_raised_where_the_work_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import analysis
    from harness._validation import HarnessInputError

    counts = _class_counts(("a",))

    real = analysis.fit_spread

    def broken(*args: Any, **kwargs: Any) -> Any:  # fails only off the main thread: in the prefetch
        if threading.current_thread() is not threading.main_thread():
            raise HarnessInputError("a fit failed in the background", column="c")
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "fit_spread", broken)
    prefetch = analysis.ModelPrefetch(counts, analysis.FIT_NAMES, 100, "random")
    try:
        with pytest.raises(HarnessInputError, match="failed in the background"):
            analyse(counts, bootstrap=20, seed=0, order_test=False, prefetched=prefetch)
    finally:
        prefetch.close()


def test_a_closed_prefetch_stops_its_prediction_at_the_next_k() -> None:
    """``ModelPrefetch.close`` sets the event the structured prediction checks before each k, so an error or an
    interrupt in the report is not held up by a whole model's predictions."""
    from harness.models.predict import StopRequestedError, predict_maj_structured_many
    from harness.models.spread import fit_spread

    counts = _class_counts(("a",))
    fits = fit_spread(counts)
    stop = threading.Event()
    ks = np.array([1, 2, 4])
    assert len(predict_maj_structured_many(fits, counts, ks, stop=stop)) == len(fits)
    stop.set()
    with pytest.raises(StopRequestedError):
        predict_maj_structured_many(fits, counts, ks, stop=stop)
