"""harness demo: the embedded default, small and fast here; the full run is timed by the gallery script."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.audit import VERDICTS
from harness.cli import main
from harness.report.demo import build_demo, demo_counts, fixed_p_summary


def test_demo_counts_are_reproducible_and_spread_over_decades() -> None:
    a, b = demo_counts(questions=50, n=100, seed=3), demo_counts(questions=50, n=100, seed=3)
    assert np.array_equal(a.correct, b.correct) and np.array_equal(a.wrong, b.wrong)
    assert (a.n == 100).all() and a.answers_known
    p = a.p_hat[a.p_hat > 0]
    assert np.log10(p.max() / p.min()) > 1.5


def test_sigmoid_width_is_1_34_decades_for_every_p() -> None:
    table = fixed_p_summary((1e-4, 1e-2, 0.3))
    assert table["k_at_50pct"].iloc[1] == pytest.approx(np.log(2) / -np.log(0.99))
    np.testing.assert_allclose(table["decades_10_to_90"].iloc[:2], np.log10(np.log(10) / np.log(10 / 9)), atol=1e-9)


def test_small_demo_has_three_parts_and_a_line() -> None:
    report = build_demo(bootstrap=10, questions=40, n=100, audit=False)
    anchors = [s.anchor for s in report.sections]
    assert anchors[:2] == ["part1", "part2"] and "part3" in anchors
    assert "Skipped" in next(s for s in report.sections if s.anchor == "part3").paragraphs[0]
    slopes = report.tables["part2_slopes"]
    meas = slopes[(slopes["metric"] == "pass@k") & (slopes["kind"] == "measured")].iloc[0]
    assert meas["slope_pp_per_decade"] > 10 and meas["r2"] > 0.9  # the straight-looking line
    assert {"part1_fixed_p", "curves", "questions", "fits"} <= set(report.tables)
    assert "sigmoid" in report.headline[0]


def test_demo_cli_refuses_existing_output_and_writes_with_force(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["demo", "--out", str(out), "--quiet", "--no-audit", "--bootstrap", "0"]) == 2
    assert (out / "keep.txt").read_text() == "x" and not (out / "report.html").exists()


def test_demo_audits_the_bundled_claims() -> None:
    report = build_demo(bootstrap=5, questions=30, n=50, audit=True)
    part3 = next(s for s in report.sections if s.anchor == "part3")
    verdicts = report.tables["audit_verdicts"]
    assert len(verdicts) > 10 and set(verdicts["verdict"]) <= set(VERDICTS)
    assert str(len(verdicts)) in part3.paragraphs[0]
    claim_sections = [s for s in report.sections if s.anchor.startswith("claim-")]
    assert claim_sections and all(s.paragraphs[0].startswith("Verdict: ") for s in claim_sections)
    assert all(report.figure(s.figures[0]).figure.axes for s in claim_sections)
