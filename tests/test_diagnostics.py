"""Shape diagnostics, slope decomposition, dependence tests on rollouts and the budget comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analysis import analyse
from harness.diagnostics.budget import budget_comparison
from harness.diagnostics.decomposition import decade_points, decompose, p_bin_labels
from harness.diagnostics.dependence import dependence_tests
from harness.diagnostics.shape import line_fit, local_slopes, straight_window, straight_window_reps
from harness.estimators.passk import pass_at_k
from harness.tables import rollouts_to_counts


def test_line_fit_on_exact_line_and_parabola() -> None:
    x = np.linspace(0, 4, 9)
    f = line_fit(x, 0.1 + 0.2 * x)
    assert f.slope[0] == pytest.approx(0.2) and f.r2[0] == pytest.approx(1.0)
    assert f.max_residual[0] == pytest.approx(0.0, abs=1e-12) and f.curvature[0] == pytest.approx(
        0.0, abs=1e-12
    )
    g = line_fit(x, 0.3 * x - 0.05 * x**2)
    assert g.curvature[0] == pytest.approx(-0.05) and g.r2[0] < 1.0


def test_straight_window_finds_the_linear_part() -> None:
    x = np.linspace(0, 4, 17)
    y = np.where(x <= 2, 0.1 * x, 0.2)  # rises 0.1 per decade for 2 decades, then flat
    width, rise, x0, x1 = straight_window(x, y, 0.01)
    # the window may extend a little into the flat part while staying within 1 point of a straight line
    assert 2.0 <= width < 2.75 and x0 == 0.0 and x1 == pytest.approx(width)
    assert rise == pytest.approx(0.2, abs=0.03)
    assert np.isnan(straight_window(x[:2], y[:2], 0.01)[0])  # fewer than 3 points: no window
    mid, s = local_slopes(x, y)
    assert s[0, 0] == pytest.approx(0.1) and s[0, -1] == pytest.approx(0.0)
    assert mid[0] == pytest.approx(0.125)


def test_vectorised_straight_windows_match_the_single_curve_version() -> None:
    rng = np.random.default_rng(0)
    x = np.linspace(0, 4, 13)
    ys = np.cumsum(rng.uniform(0, 0.05, size=(25, 13)), axis=1)
    widths, rises = straight_window_reps(x, ys, 0.01)
    for row, w, r in zip(ys, widths, rises, strict=True):
        w1, r1, _, _ = straight_window(x, row, 0.01)
        assert w == pytest.approx(w1) and r == pytest.approx(r1)


def test_single_question_sigmoid_is_about_1_3_decades_wide() -> None:
    # ARCHITECTURE.md: 1-(1-p)^k rises from 10% to 90% over log10(ln 0.1 / ln 0.9) = 1.34 decades
    p = 1e-3
    k10, k90 = np.log(0.9) / np.log1p(-p), np.log(0.1) / np.log1p(-p)
    assert np.log10(k90 / k10) == pytest.approx(1.34, abs=0.01)


def test_sampling_alone_makes_a_straight_line() -> None:
    # p log-uniform over 4 decades: the average of per-question sigmoids is close to linear in log k
    p = 10 ** np.linspace(-5, -1, 400)
    ks = 2 ** np.arange(4, 14)
    curve = pass_at_k(np.full(400, 10**7), np.round(p * 10**7).astype(int), ks, kind="iid").mean(axis=0)
    f = line_fit(np.log10(ks), curve)
    assert f.r2[0] > 0.999
    assert f.slope[0] == pytest.approx(0.25, abs=0.02)  # 1 / 4 decades of spread


def test_decomposition_adds_up_to_the_chord_slope() -> None:
    rng = np.random.default_rng(2)
    p = 10 ** rng.uniform(-4, 0, 200)
    p[:20] = 0.0
    ks = decade_points(1, 10_000)
    assert ks.tolist() == [1, 10, 100, 1000, 10_000]
    m = 1 - (1 - p[:, None]) ** ks[None, :]
    d = decompose(m, ks, p)
    for k0, part in d.groupby("decade_start"):
        j = ks.tolist().index(k0)
        chord = m[:, j + 1].mean() - m[:, j].mean()
        assert part["slope_contribution"].sum() == pytest.approx(chord)
        assert part["share_of_slope"].sum() == pytest.approx(1.0)
    assert (d.loc[d["p_bin"] == "0", "slope_contribution"] == 0).all()
    # in the first decade the slope comes from the easy questions, in the last from the hard ones
    first = d[d["decade_start"] == 1].set_index("p_bin")["share_of_slope"]
    last = d[d["decade_start"] == 1000].set_index("p_bin")["share_of_slope"]
    assert first["(0.1, 0.5]"] + first["(0.5, 1]"] > 0.5
    assert last["(0.0001, 0.001]"] + last["(0.001, 0.01]"] > 0.5
    assert p_bin_labels([0.0, 5e-5, 0.7]).tolist() == ["0", "(0, 0.0001]", "(0.5, 1]"]


def _grouped_rollouts(rho: float, seed: int, q: int = 60, m: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(q):
        mu = rng.uniform(0.2, 0.8)
        for g in ("batch-a", "batch-b"):
            p = mu if rho == 0 else rng.beta(mu * (1 - rho) / rho, (1 - mu) * (1 - rho) / rho)
            for _ in range(m):
                ok = rng.random() < p
                rows.append(
                    {
                        "question_id": f"q{i}",
                        "group": g,
                        "correct": ok,
                        "answer": "right" if ok else f"wrong{rng.integers(2)}",
                    }
                )
    return pd.DataFrame(rows)


def test_dependence_tests_detect_batch_effects_and_pass_exchangeable_data() -> None:
    strong = _grouped_rollouts(0.3, seed=1)
    table, reason = dependence_tests(rollouts_to_counts(strong), strong, bootstrap=300, permutations=199)
    assert table is not None and "real dependence axis" in reason
    by_test = table.groupby("test")["p_value"].first()
    assert by_test["chi2_class_by_group"] < 0.01 and by_test["overdispersion"] < 0.01
    null = _grouped_rollouts(0.0, seed=2)
    table0, _ = dependence_tests(rollouts_to_counts(null), null, bootstrap=300, permutations=199)
    assert table0 is not None
    assert (table0.groupby("test")["p_value"].first() > 0.05).all()
    curve = table0[table0["test"] == "curve_D(maj@k)"]
    assert curve["k"].tolist() == [1, 2, 4, 8, 10]


def test_analyse_runs_the_dependence_tests_from_the_group_column() -> None:
    r = _grouped_rollouts(0.3, seed=3, q=30)
    a = analyse(rollouts_to_counts(r), rollouts=r, bootstrap=100)
    assert a.dependence is not None and set(a.dependence["test"]) >= {"chi2_class_by_group", "overdispersion"}


def _budget_rollouts(p_long: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(80):
        for budget, p, n in ((1000.0, 0.35, 40), (4000.0, p_long, 40)):
            for _ in range(n):
                ok = rng.random() < p
                ans = "right" if ok else f"w{rng.integers(4)}"  # wrong answers split over four classes
                rows.append(
                    {
                        "question_id": f"q{i}",
                        "budget": budget,
                        "correct": ok,
                        "answer": ans,
                        "tokens": budget * rng.uniform(0.9, 1.1),
                    }
                )
    return pd.DataFrame(rows)


def test_budget_comparison_says_where_thinking_longer_beats_voting() -> None:
    better = _budget_rollouts(0.9, seed=4)
    table, reason = budget_comparison(rollouts_to_counts(better), better, bootstrap=300)
    assert table is not None and "matched compute" in reason
    top = table[table["budget"] == 4000.0].iloc[0]
    assert top["matched_k"] == pytest.approx(4.0, rel=0.05)
    assert top["verdict"] == "thinking longer beats majority voting at matched compute"
    # same accuracy as the base budget: four voted samples (p = 0.35 against wrong shares of 0.16) win
    same = _budget_rollouts(0.35, seed=5)
    table2, _ = budget_comparison(rollouts_to_counts(same), same, bootstrap=300)
    assert table2 is not None
    assert table2[table2["budget"] == 4000.0]["verdict"].iloc[0] == (
        "majority voting beats thinking longer at matched compute"
    )
    base = table2[table2["budget"] == 1000.0].iloc[0]
    assert base["matched_k"] == 1.0 and base["diff_vote"] == pytest.approx(0.0, abs=0.02)
