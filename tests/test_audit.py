"""harness audit: kernels vs the foundation closed forms, simulated i.i.d. and non-i.i.d. claims, moment
bounds against the truth, bundled verdicts under rounding, the CLI's outputs and its one-line errors."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import harness.audit as audit
from harness import maj_all_wrong_agree, maj_all_wrong_differ, pass_at_k
from harness.audit._audit import design, lp_sigma
from harness.audit._calibration import claim_table, simulate_iid_passk, simulate_refinement_passk
from harness.audit._claims import split_claims, validate_claims
from harness.audit._fit import Member, fit_family, predict
from harness.audit._kernels import beta_expect, kernel, p_grid
from harness.audit._lp import value_range, z_crit
from harness.audit._power import simulate_first_k
from harness.cli import main


def claim_rows(cid: str, q: int, pts: list[tuple[str, int, float, int | None]], **extra: object) -> pd.DataFrame:
    """A claims table: (metric, k, value %, samples per question) per point, plus constant columns."""
    table = claim_table(cid, q, pts)
    for key, val in extra.items():
        table[key] = val
    return table


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("k", [1, 2, 3, 8, 33])
def test_maj_kernel_matches_closed_forms(k: int) -> None:
    # reference: harness.maj_all_wrong_agree / maj_all_wrong_differ (binary, all-distinct votes; random ties)
    for c in (50, 300, 500, 910):
        p = np.array([c / 1000])
        agree = maj_all_wrong_agree(1000, c, [k], kind="iid")[0]
        differ = maj_all_wrong_differ(1000, c, [k], kind="iid")[0]
        assert kernel("maj@k", k, 0, 1.0, p)[0] == pytest.approx(agree, abs=1e-12)
        assert kernel("maj@k", k, 0, 0.0, p)[0] == pytest.approx(differ, abs=1e-12)


@pytest.mark.parametrize(
    ("metric", "k", "m", "phi"),
    [("pass@k", 64, 0, 0.0), ("maj@k", 16, 0, 0.5), ("g-pass@k", 16, 12, 0.0), ("maj@k", 5, 0, 1.0)],
)
def test_beta_closed_forms_match_quadrature(metric: str, k: int, m: int, phi: float) -> None:
    a, b = 0.6, 1.4  # Beta(0.6, 1.4) = mean 0.3, concentration 2
    ref = integrate.quad(
        lambda t: kernel(metric, k, m, phi, np.array([t]))[0] * stats.beta.pdf(t, a, b), 0, 1, limit=200
    )[0]
    assert float(beta_expect(metric, k, m, phi, np.array(0.3), np.array(2.0))) == pytest.approx(ref, abs=1e-7)


def test_maj2_equals_maj1_for_every_p() -> None:
    # with ties split evenly, two votes give p^2 + p(1-p) = p, whatever the wrong answers do
    p = p_grid(50)
    for phi in (0.0, 0.3, 1.0):
        np.testing.assert_allclose(kernel("maj@k", 2, 0, phi, p), p, atol=1e-12)


# ----------------------------------------------------------------------------- simulated claims
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_iid_pass_curve_is_accepted(seed: int) -> None:
    # unbiased pass@k from 32 samples (stated): pooled numbers pass by construction; the same questions reported
    # as solved within the first k attempts (n not stated) are tested, and i.i.d. attempts pass the test
    rng = np.random.default_rng(seed)
    ks = [1, 2, 4, 8, 16, 32]
    vals = simulate_iid_passk(rng, 120, ks, 32)
    table = claim_rows("iid", 120, [("pass@k", k, v, 32) for k, v in zip(ks, vals, strict=True)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "passes by construction", res.summary
    first = 100 * simulate_first_k(rng, 120, np.array(ks, float), 0.0, 0.3, 1)[0]
    table = claim_rows("iid-first-k", 120, [("pass@k", k, float(v), None) for k, v in zip(ks, first, strict=True)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "consistent", res.summary


@pytest.mark.parametrize("seed", [1, 2])
def test_sequential_refinement_is_rejected(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ks = [1, 2, 4, 8]
    vals = simulate_refinement_passk(rng, 100, ks, boost=0.5)
    table = claim_rows("refine", 100, [("pass@k", k, v, None) for k, v in zip(ks, vals, strict=True)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "inconsistent", res.summary
    assert "first-success" in res.summary


def test_iid_two_points_are_not_testable() -> None:
    # two i.i.d. points against two parameters: no exact constraint fails and nothing is claimed
    rng = np.random.default_rng(5)
    vals = 100 * simulate_first_k(rng, 100, np.array([1.0, 4.0]), 0.0, 0.3, 1)[0]
    table = claim_rows("two", 100, [("pass@k", 1, float(vals[0]), None), ("pass@k", 4, float(vals[1]), None)])
    assert audit.audit_claims(table, detail=False).claims[0].verdict == "not testable"


def test_maj2_above_maj1_is_rejected() -> None:
    # a second attempt that sees the first (p 0.3 -> 0.9) gives maj@2 = (0.3 + 0.9)/2 = 0.6 > maj@1 = 0.3; even with
    # unparsed samples i.i.d. voting allows at most 2 maj@1 - maj@1^2 = 51% (1,000 questions: 4 standard errors)
    table = claim_rows(
        "maj-refine",
        1000,
        [
            ("maj@k", 1, 30.0, None),
            ("maj@k", 2, 60.0, None),
            ("maj@k", 4, 70.0, None),
            ("maj@k", 8, 75.0, None),
        ],
    )
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "inconsistent"
    assert any(c.name == "maj@1 <= maj@2 <= 2 maj@1 - maj@1^2" and c.status == "fail" for c in res.checks)


def test_iid_majority_curve_is_accepted() -> None:
    # exact expectations of a member with Q = 30: every check must pass and the verdict is consistent
    mb = Member(mean=0.5, conc=1.0, phi=0.4)
    pts = pd.DataFrame({"metric": "maj@k", "k": [1.0, 2.0, 4.0, 8.0], "m": 0})
    vals = 100 * predict(pts, mb)
    table = claim_rows("maj-iid", 30, [("maj@k", int(k), v, None) for k, v in zip(pts["k"], vals, strict=True)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "consistent", res.summary


def test_gls_fit_recovers_the_member() -> None:
    mb = Member(mean=0.35, conc=0.8)
    pts = split_claims(validate_claims(claim_rows("fit", 200, [("pass@k", k, 1.0, None) for k in (1, 4, 16, 64)])))[
        0
    ].points
    pts["y"] = predict(pts, mb)
    fit = fit_family(pts, 200.0, "beta", "none", seed=0)
    assert fit.member.mean == pytest.approx(0.35, abs=0.01)
    assert math.log(fit.member.conc) == pytest.approx(math.log(0.8), abs=0.1)
    assert fit.chi2 < 0.01 and fit.df == 2
    assert fit.region[0] <= 0.35 <= fit.region[1] and fit.region[2] <= 0.8 <= fit.region[3]


def test_moment_bounds_contain_the_truth() -> None:
    # 12 simulated 60-question sets, pass@1/4/16 from 16 samples each; bounds at k = 64 and 512 hold the truth
    grid = p_grid(300)
    misses = 0
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        p = np.where(rng.random(60) < 0.2, 0.0, rng.beta(0.3, 0.9, 60))
        c = rng.binomial(16, p)
        ks = [1, 4, 16]
        y = pass_at_k(np.full(60, 16), c, ks).mean(axis=0)
        pts = pd.DataFrame(
            {"metric": "pass@k", "k": np.array(ks, float), "m": 0, "y": y, "n_samples": 16.0, "sd_extra": 0.0}
        )
        A = design(pts, [(0.0, 0.0)], grid)
        sig = lp_sigma(pts, 60.0)
        for big in (64, 512):
            truth = float(np.mean(1 - (1 - p) ** big))
            lo, hi = value_range(kernel("pass@k", big, 0, 0.0, grid), A, y, sig, np.zeros(3, bool), z_crit(3))
            misses += not (lo - 1e-3 <= truth <= hi + 1e-3)
    assert misses == 0


# ----------------------------------------------------------------------------- bundled claims
def test_bundled_claims_load_from_package_data() -> None:
    from harness.audit._claims import bundled_path

    path = bundled_path()
    assert Path(path).parts[-3:] == ("_data", "published", "claims.csv")
    table = audit.load_claims()
    assert table["claim_id"].nunique() >= 40
    assert (table["citation"] != "").all() and (table["verification"] != "").all()
    assert table["value"].between(0, 100).all()


def test_bundled_csv_matches_package_copy() -> None:
    root = Path(__file__).resolve().parents[1]
    assert (root / "data/published/claims.csv").read_bytes() == (
        root / "harness/_data/published/claims.csv"
    ).read_bytes()


def test_bundled_verdicts_stable_under_stated_rounding() -> None:
    # claims whose numbers are exact (rounding 0: counts out of 30, verbatim) have nothing to perturb
    table = audit.load_claims()
    rounded = table.groupby("claim_id")["rounding"].transform(lambda r: r.fillna(0).max() > 0)
    table = table[rounded]
    assert table["claim_id"].nunique() >= 30
    base = audit.audit_claims(table, detail=False).verdicts().set_index("claim_id")["verdict"]
    assert set(base) <= set(audit.VERDICTS)
    for sign in (-0.5, 0.5):
        shifted = table.copy()
        shifted["value"] = (shifted["value"] + sign * shifted["rounding"].fillna(0)).clip(0, 100)
        got = audit.audit_claims(shifted, detail=False).verdicts().set_index("claim_id")["verdict"]
        changed = got[got != base]
        assert changed.empty, f"verdicts move under rounding: {changed.to_dict()}"


def test_bundled_token_budget_curve_is_not_testable_and_says_why() -> None:
    table = audit.load_claims()
    sub = table[table["claim_id"] == "zhang-o1-mini-aime2024-token-budget"]
    res = audit.audit_claims(sub).claims[0]
    assert res.verdict == "not testable"
    assert "reasoning length" in res.summary
    assert any(e.startswith("matched compute") for e in res.evidence)


def test_unverified_numbers_are_flagged() -> None:
    table = audit.load_claims()
    sub = table[table["claim_id"] == "openai-o1-aime2024-text"]
    res = audit.audit_claims(sub, detail=False).claims[0]
    assert not res.points["verified"].any()
    assert sum("UNVERIFIED" in e for e in res.evidence) == 3
    assert "unverified as reported: pass@1, maj@64, rerank@1000" in res.summary


def test_public_names() -> None:
    assert set(audit.__all__) == {
        "VERDICTS",
        "AuditResult",
        "Check",
        "ClaimAudit",
        "audit_claims",
        "load_claims",
        "write_audit",
    }
    fields = audit.ClaimAudit.__dataclass_fields__
    assert list(fields)[:8] == [
        "claim_id",
        "title",
        "verdict",
        "summary",
        "evidence",
        "fits",
        "points",
        "curves",
    ]


# ----------------------------------------------------------------------------- output and CLI
def test_cli_writes_escaped_html_markdown_csv_and_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "claims.csv"
    table = claim_rows(
        "user<script>",
        50,
        [("pass@k", 1, 20.0, None), ("pass@k", 4, 41.0, None), ("pass@k", 10, 55.0, None)],
        title="<script>alert(1)</script> & co",
        citation="arXiv 0000.00000",
        verification="verified",
    )
    table.to_csv(f, index=False)
    out = tmp_path / "out"
    assert main(["audit", str(f), "--out", str(out), "--quiet"]) == 0
    html_text = (out / "audit.html").read_text()
    assert "<script>" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html_text
    assert "data:image/png;base64," in html_text and "src='figures" not in html_text
    md = (out / "audit.md").read_text()
    assert "## &lt;script&gt;" in md and "figures/user-script.png" in md
    fits = pd.read_csv(out / "audit_fits.csv")
    assert {"family", "chi2", "df", "p_value", "region_mean_low", "slope_per_decade"} <= set(fits.columns)
    assert (out / "figures" / "user-script.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in os.listdir(out) if p.startswith(".tmp-")]
    assert capsys.readouterr().err == ""


def test_digitised_points_are_audited(tmp_path: Path) -> None:
    f = tmp_path / "chart.csv"
    f.write_text("compute,value,error,n_questions\n1,30,1,100\n4,52,1,100\n16,70,1,100\n64,80,1,100\n")
    table = audit.load_claims(str(f))
    assert list(table["metric"].unique()) == ["pass@k"] and table["claim_id"].iat[0] == "chart"
    assert audit.audit_claims(table, detail=False).claims[0].verdict == "consistent"


def test_digitised_points_take_n_questions_from_the_command_line(tmp_path: Path) -> None:
    f = tmp_path / "chart.csv"
    f.write_text("compute,value\n1,30\n4,52\n16,70\n")
    out = tmp_path / "o"
    assert main(["audit", str(f), "--out", str(out), "--n-questions", "200", "--quiet"]) == 0
    assert "chart" in (out / "audit.md").read_text()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("claim_id,metric,k,n_questions\nx,pass@k,1,30\n", "missing required column 'value'"),
        ("claim_id,metric,k,value,n_questions\nx,pass@k,1,120,30\nx,pass@k,2,50,30\n", "outside [0, 100]"),
        ("claim_id,metric,k,value,n_questions\nx,pass@k,0,20,30\nx,pass@k,2,50,30\n", "k=0 is not positive"),
        ("claim_id,metric,k,value,n_questions\nx,pass@k,1,20,30\n", "needs at least 2"),
        (
            "claim_id,metric,k,value,n_questions\nx,pass@k,1,20,30\nx,best@k,2,50,30\n",
            "unknown metric 'best@k'",
        ),
        ("claim_id,metric,k,value,n_questions,tau\nx,g-pass@k,16,20,30,\nx,g-pass@k,16,5,30,1\n", "tau"),
        ("compute,value\n1,20\n4,40\n", "n_questions is empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, needle: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(body)
    assert main(["audit", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "bad.csv" in err
    assert not (tmp_path / "o").exists()


def test_claim_figure_has_labelled_log_axis() -> None:
    table = claim_rows("fig", 40, [("pass@k", 1, 20.0, None), ("pass@k", 8, 50.0, None), ("pass@k", 64, 70.0, None)])
    fig = audit.audit_claims(table).claims[0].figure()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "samples" in ax.get_xlabel() and "%" in ax.get_ylabel()


def test_pair_rules_out_agreeing_wrong_answers() -> None:
    # if all wrong answers agreed, maj@64 <= P(p > ~1/2) <= 2 pass@1 (Markov) = 40% < 90%; if they differ,
    # one correct vote among 64 distinct wrong ones can win, so 90% is reachable
    table = claim_rows("pair", 100, [("pass@k", 1, 20.0, 64), ("maj@k", 64, 90.0, 64)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "not testable"
    info = next(c for c in res.checks if c.name == "maj@64 bounds given pass@1")
    agree = info.detail.split("if all wrong answers agree: ")[1]
    differ = info.detail.split("if all wrong answers differ: ")[1].split(";")[0]
    assert "ruled out" in agree and "ruled out" not in differ
    assert "rule out a structure" in res.summary


def simulate_iid_majority(rng: np.random.Generator, q: int, ks: list[int], phi: float) -> list[float]:
    """One independent run per k: each question draws k samples (correct w.p. p, the dominant wrong answer
    w.p. (1-p) phi, otherwise a never-repeated wrong answer); plurality vote, ties split evenly (%)."""
    p = rng.beta(0.8, 0.7, q)
    out = []
    for k in ks:
        u = rng.random((q, k))
        correct = (u < p[:, None]).sum(axis=1)
        dominant = ((u >= p[:, None]) & (u < p[:, None] + (1 - p[:, None]) * phi)).sum(axis=1)
        singles = k - correct - dominant
        top_other = np.maximum(dominant, (singles > 0).astype(int))
        tied = (dominant == correct).astype(int) + np.where(correct == 1, singles, 0)
        credit = np.where(correct > top_other, 1.0, np.where(correct == top_other, 1.0 / (1 + tied), 0.0))
        out.append(100 * float(np.where(correct == 0, 0.0, credit).mean()))
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_simulated_iid_majority_votes_are_accepted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ks = [1, 2, 4, 8, 16]
    vals = simulate_iid_majority(rng, 60, ks, phi=0.4)
    table = claim_rows("maj-sim", 60, [("maj@k", k, v, None) for k, v in zip(ks, vals, strict=True)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "consistent", res.summary


def test_majority_simulator_matches_the_kernel() -> None:
    # the simulator above and the closed-form kernel agree on one question (p = 0.45, phi = 0.4), k = 1..6
    rng = np.random.default_rng(0)
    for k in range(1, 7):
        u = rng.random((200_000, k))
        p, phi = 0.45, 0.4
        correct = (u < p).sum(axis=1)
        dominant = ((u >= p) & (u < p + (1 - p) * phi)).sum(axis=1)
        singles = k - correct - dominant
        top_other = np.maximum(dominant, (singles > 0).astype(int))
        tied = (dominant == correct).astype(int) + np.where(correct == 1, singles, 0)
        credit = np.where(correct > top_other, 1.0, np.where(correct == top_other, 1.0 / (1 + tied), 0.0))
        mc = float(np.where(correct == 0, 0.0, credit).mean())
        assert mc == pytest.approx(kernel("maj@k", k, 0, phi, np.array([p]))[0], abs=4e-3)


def test_majority_above_coverage_is_rejected() -> None:
    # a majority can only be right if some sample is: maj@8 = 80% with pass@8 = 60% (300 questions) is impossible
    table = claim_rows("cov", 300, [("pass@k", 1, 30.0, None), ("pass@k", 8, 60.0, None), ("maj@k", 8, 80.0, None)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "inconsistent"
    assert any(c.name.startswith("maj@8 <= pass@8") and c.status == "fail" for c in res.checks)


def test_rerank_beyond_reachable_coverage_is_rejected() -> None:
    # pass@10 = 5% caps pass@100 near 10 x 5% = 50% (each question's 1-(1-p)^100 <= 10 (1-(1-p)^10)), so a
    # re-ranked 95% at 100 samples cannot come from i.i.d. samples; 92% of coverage would need pass@10 >= 9.2%
    table = claim_rows("rr", 300, [("pass@k", 1, 1.0, None), ("pass@k", 10, 5.0, None), ("rerank@k", 100, 95.0, None)])
    res = audit.audit_claims(table, detail=False).claims[0]
    assert res.verdict == "inconsistent"
    assert any(c.name == "re-ranking as a lower bound on pass@100" and c.status == "fail" for c in res.checks)


def test_straight_windows() -> None:
    from harness.audit._shape import points_straight_window, slope_r2, straight_window

    x = np.linspace(0, 3, 31)
    line = 10 + 15 * x
    assert straight_window(x, line) == pytest.approx(3.0)
    assert slope_r2(x, line) == pytest.approx((15.0, 1.0))
    # one question's pass@k = 1 - (1-p)^k is a sigmoid in log k, about 1.3 decades wide (ARCHITECTURE.md): no
    # 2-point straight window spans the 3 decades around its centre
    sig = 100 * (1 - (1 - 0.01) ** (10**x))
    assert 0.2 < straight_window(x, sig) < 1.5
    assert points_straight_window(x[::10], line[::10], np.full(4, 1.0)) == pytest.approx(3.0)
    assert points_straight_window(x[::10], sig[::10], np.full(4, 1.0)) < 3.0
