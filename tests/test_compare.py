"""Matched-compute comparison: who is ahead, with intervals, and where the curves cross."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import HarnessInputError, QuestionCounts, concat_counts, pass_at_k
from harness.cli import main
from harness.compare import compare_at_matched_compute


def binary(model: str, n: int, c: list[int], tokens_per_sample: float | None = None) -> QuestionCounts:
    counts = QuestionCounts.from_binary(
        np.full(len(c), n), c, model=model, question_id=[f"q{i}" for i in range(len(c))]
    )
    if tokens_per_sample is None:
        return counts
    from dataclasses import replace

    return replace(counts, tokens=np.full(len(c), n * tokens_per_sample))


def test_identical_runs_are_never_ahead() -> None:
    c = [1, 5, 20, 40, 60]
    both = concat_counts([binary("a", 64, c), binary("b", 64, c)])
    comp = compare_at_matched_compute(both, metrics=("pass@k",), bootstrap=50)
    assert np.allclose(comp.table["difference"], 0.0)
    assert set(comp.table["ahead"]) == {"neither (within interval)"}
    assert comp.table["paired"].all() and len(comp.crossings) == 0


def test_values_at_logged_k_are_the_exact_estimator() -> None:
    c = [1, 5, 20, 40, 60]
    both = concat_counts([binary("a", 64, c), binary("b", 64, [0, 1, 2, 3, 4])])
    comp = compare_at_matched_compute(both, metrics=("pass@k",), budgets=7, bootstrap=0)
    at_one = comp.table.iloc[0]
    assert at_one["compute"] == pytest.approx(1.0)
    assert at_one["value_a"] == pytest.approx(np.mean(c) / 64)
    last = comp.table.iloc[-1]
    assert last["k_a"] == pytest.approx(64)
    assert last["value_a"] == pytest.approx(float(np.nanmean(pass_at_k(np.full(5, 64), c, [64]))))


def test_matched_tokens_and_a_crossing() -> None:
    # a: cheap samples, low p; b: 16x the tokens per sample, high p on some questions and hopeless on others
    a = binary("cheap", 256, [3] * 8, tokens_per_sample=100)
    b = binary("long", 16, [12, 12, 12, 12, 0, 0, 0, 0], tokens_per_sample=1600)
    comp = compare_at_matched_compute(concat_counts([a, b]), metrics=("pass@k",), compute="tokens", bootstrap=200)
    t = comp.table
    assert comp.compute_unit == "tokens"
    assert np.allclose(t["k_a"] / t["k_b"], 16.0)
    assert t["compute"].min() == pytest.approx(1600) and t["compute"].max() == pytest.approx(25600)
    # at one long sample (16 cheap ones) the long run wins, at 16 long samples the cheap run has caught up
    assert t["difference"].iloc[0] < 0 and t["difference"].iloc[-1] > 0
    assert len(comp.crossings) == 1
    cross = comp.crossings.iloc[0]
    assert cross["compute_from"] < cross["crossing_compute"] < cross["compute_to"]


def test_errors_name_the_problem() -> None:
    with pytest.raises(HarnessInputError, match="at least two models"):
        compare_at_matched_compute(binary("a", 8, [1, 2]))
    with pytest.raises(HarnessInputError, match="no token counts"):
        compare_at_matched_compute(concat_counts([binary("a", 8, [1, 2]), binary("b", 8, [1, 2])]), compute="tokens")


def test_compare_cli_writes_report_and_tables(tmp_path: Path) -> None:
    pd.DataFrame({"question_id": ["x", "y", "z"], "n": 32, "c": [1, 8, 30]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"question_id": ["x", "y", "z"], "n": 32, "c": [4, 16, 31]}).to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "out"
    assert (
        main(
            [
                "compare",
                str(tmp_path / "a.csv"),
                str(tmp_path / "b.csv"),
                "--out",
                str(out),
                "--bootstrap",
                "50",
                "--quiet",
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["model_a"]) == {"a"} and set(table["model_b"]) == {"b"}
    assert (table["difference"] <= 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"][0].startswith("pass@k at matched samples")
    assert (out / "report.html").exists() and (out / "figures" / "difference-pass-at-k.png").exists()
    assert main(["compare", str(tmp_path / "a.csv"), "--out", str(tmp_path / "o2"), "--quiet"]) == 2


def test_different_question_sets_use_an_independent_bootstrap() -> None:
    a = binary("a", 32, [1, 8, 30, 16])
    b = QuestionCounts.from_binary(np.full(3, 32), [4, 16, 31], model="b", question_id=["x", "y", "z"])
    comp = compare_at_matched_compute(concat_counts([a, b]), metrics=("pass@k",), bootstrap=200)
    t = comp.table
    assert not t["paired"].any() and (t["n_questions_a"] == 4).all() and (t["n_questions_b"] == 3).all()
    assert np.isfinite(t["ci_low"]).all() and (t["ci_low"] <= t["difference"]).all()
    assert t["interval"].iloc[0].startswith("95% percentile bootstrap over questions (independent)")
