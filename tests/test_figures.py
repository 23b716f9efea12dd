"""Figure functions: each takes a tidy table, checks its columns, returns a labelled Figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from harness import HarnessInputError, QuestionCounts, compute_curves
from harness.report import figures as fig_lib
from harness.report.tables import binary_extreme_curves, fixed_p_table, sigmoid_table


@pytest.fixture(scope="module")
def counts() -> QuestionCounts:
    rng = np.random.default_rng(1)
    p = 10 ** rng.uniform(-2, 0, 30)
    c = rng.binomial(64, p)
    return QuestionCounts.from_classes(c, [[64 - x - (64 - x) // 3, (64 - x) // 3] for x in c], model="m")


@pytest.fixture(scope="module")
def curves(counts: QuestionCounts) -> pd.DataFrame:
    base = compute_curves(counts, metrics=("pass@k", "maj@k"), bootstrap=20)
    ks = {"m": np.array([1, 2, 4, 8, 16, 32, 64])}
    return pd.concat([base, binary_extreme_curves(counts, ks, bootstrap=20)], ignore_index=True)


def _labels(fig: Figure) -> list[str]:
    return [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]


def test_curves_figure_has_one_panel_per_metric_log_axis_and_units(curves: pd.DataFrame) -> None:
    fig = fig_lib.curves_figure(curves, model="m")
    assert len(fig.axes) == 2
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    assert "compute (samples, log scale)" in _labels(fig)
    assert fig.axes[0].get_ylabel() == "accuracy (share of questions)"
    # measured, iid, and the two binary extremes on the maj@k panel
    assert len(fig.axes[1].get_lines()) == 4
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("Condorcet" in t for t in legend_texts) and any("differ" in t for t in legend_texts)


def test_series_differ_by_line_style_or_marker_for_greyscale() -> None:
    keys = {(str(s["linestyle"]), s["marker"]) for s in fig_lib.SERIES_STYLES}
    assert len(keys) == len(fig_lib.SERIES_STYLES)
    kinds = {(str(s["linestyle"]), s["marker"]) for s in fig_lib.KIND_STYLES.values()}
    assert len(kinds) == len(fig_lib.KIND_STYLES)


def test_missing_columns_name_the_figure_and_the_columns(curves: pd.DataFrame) -> None:
    with pytest.raises(HarnessInputError, match=r"curves_figure.*'ci_low'"):
        fig_lib.curves_figure(curves.drop(columns=["ci_low"]), model="m")
    with pytest.raises(HarnessInputError, match="no rows for model 'other'"):
        fig_lib.curves_figure(curves, model="other")


def test_several_models_need_a_model_argument(curves: pd.DataFrame) -> None:
    two = pd.concat([curves, curves.assign(model="n")], ignore_index=True)
    with pytest.raises(HarnessInputError, match="holds 2 models"):
        fig_lib.curves_figure(two)
    assert isinstance(fig_lib.models_figure(two), Figure)


def test_sigmoids_histogram_straight_line(counts: QuestionCounts, curves: pd.DataFrame) -> None:
    ks = np.array([1, 10, 100, 1000])
    sig = sigmoid_table(counts, ks)
    assert len(sig) == len(np.unique(counts.p_hat)) * len(ks) and int(sig["questions"].sum()) == 30 * len(ks)
    fig = fig_lib.sigmoids_figure(sig, max_questions=5)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 5 + 2  # questions, the legend proxy, the mean
    assert lines[-2].get_label() == "single questions (5 of 30 shown)"
    # brute force over the 30 questions: the mean curve, and the questions at ranks 0, 7, 14, 22, 29 by p
    per_question = 1.0 - (1.0 - counts.p_hat[:, None]) ** ks[None, :]
    np.testing.assert_allclose(lines[-1].get_ydata(), per_question.mean(axis=0), rtol=1e-14)
    by_p = per_question[np.argsort(counts.p_hat, kind="stable")]
    for line, rank in zip(lines[:5], [0, 7, 14, 22, 29], strict=True):
        np.testing.assert_allclose(line.get_ydata(), by_p[rank], rtol=1e-14)
    hist = fig_lib.p_histogram_figure(counts.to_frame())
    assert hist.axes[1].get_xlabel().startswith("log10 p̂")
    one = curves[(curves["metric"] == "pass@k") & (curves["kind"] == "measured")]
    line = fig_lib.straight_line_figure(one, window=(2.0, 32.0))
    assert line.axes[1].get_ylabel() == "residual (pp)"
    with pytest.raises(HarnessInputError, match="one model, metric and kind"):
        fig_lib.straight_line_figure(curves[curves["metric"] == "pass@k"])


def test_fixed_p_figure_and_table_are_exact() -> None:
    table = fixed_p_table([0.1, 0.6], [1, 3, 10])
    got = table[(table["metric"] == "pass@k") & (table["p"] == 0.1)]["value"].to_numpy()
    np.testing.assert_allclose(got, 1 - 0.9 ** np.array([1, 3, 10]))
    agree = table[(table["metric"].str.contains("agree")) & (table["p"] == 0.6) & (table["k"] == 3)]["value"]
    assert agree.iloc[0] == pytest.approx(0.6**3 + 3 * 0.6**2 * 0.4)  # Condorcet: 2 of 3 votes
    fig = fig_lib.fixed_p_figure(table)
    assert len(fig.axes) == 3


def test_extrapolation_and_comparison_and_dependence_figures() -> None:
    rows = pd.DataFrame(
        {
            "model": "m",
            "metric": "pass@k",
            "kind": ["measured"] * 3 + ["fit:beta"] * 3,
            "compute": [1, 2, 4, 1, 10, 100],
            "compute_unit": "samples",
            "value": [0.1, 0.2, 0.3, 0.1, 0.4, 0.6],
        }
    )
    fig = fig_lib.extrapolation_figure(rows)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["measured", "beta"]
    with pytest.raises(HarnessInputError, match="no fit"):
        fig_lib.extrapolation_figure(rows[rows["kind"] == "measured"])
    comp = pd.DataFrame(
        {
            "model_a": "a",
            "model_b": "b",
            "metric": "pass@k",
            "compute": [1.0, 10.0],
            "compute_unit": "tokens",
            "difference": [0.1, -0.1],
            "ci_low": [0.0, -0.2],
            "ci_high": [0.2, 0.0],
        }
    )
    assert "tokens" in fig_lib.comparison_figure(comp).axes[0].get_xlabel()
    dep = pd.DataFrame({"model": "m", "k": [1, 2, 4], "value": 0.0, "ci_low": -0.01, "ci_high": 0.01})
    assert fig_lib.dependence_figure(dep).axes[0].get_xscale() == "log"


def test_straight_line_window_must_be_an_increasing_range(curves: pd.DataFrame) -> None:
    one = curves[(curves["metric"] == "pass@k") & (curves["kind"] == "measured")]
    with pytest.raises(HarnessInputError, match="not an increasing compute range"):
        fig_lib.straight_line_figure(one, window=(0.0, 0.0))


def test_decomposition_figure_stacks_the_bins_to_the_decade_slope() -> None:
    table = pd.DataFrame(
        {
            "model": "m",
            "metric": "pass@k",
            "kind": "measured",
            "decade_start": [1, 1, 10, 10],
            "decade_end": [10, 10, 100, 100],
            "p_bin": ["(0.1, 1]", "(0.01, 0.1]"] * 2,
            "slope_contribution": [0.2, 0.05, 0.02, 0.3],
        }
    )
    fig = fig_lib.decomposition_figure(table)
    ax = fig.axes[0]
    tops = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    assert tops == pytest.approx({0: 25.0, 1: 32.0})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1–10", "10–100"]
    assert len({bar.get_hatch() for bar in ax.patches}) == 2
