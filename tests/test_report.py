"""harness report: the report value, its files, escaping of log strings, the CLI contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import HarnessInputError, load
from harness.cli import main
from harness.report import ReportOptions, build_report, write_report
from harness.report.render import escape_markdown, render_html, render_markdown

EVIL = "<script>alert(1)</script>"


def write_rollouts(path: Path, *, questions: int = 12, n: int = 16, seed: int = 0, evil: bool = True) -> Path:
    """A small per-sample log; question q0's most frequent answer is a wrong answer that is an HTML script."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(questions):
        p = 10 ** rng.uniform(-1.5, 0)
        for s in range(n):
            ok = rng.random() < p
            wrong = EVIL if (evil and q == 0) else f"w{rng.integers(0, 2)}"
            rows.append({"question_id": f"q{q}", "sample_id": s, "answer": "right" if ok else wrong, "correct": ok})
    if evil:  # make sure the script answer beats the correct one on q0
        for r in rows[:n]:
            r["answer"], r["correct"] = EVIL, False
        rows[0]["answer"], rows[0]["correct"] = "right", True
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    src = write_rollouts(tmp / "log.csv")
    out = tmp / "out"
    status = main(["report", str(src), "--out", str(out), "--bootstrap", "30", "--fits", "beta_binomial", "--quiet"])
    assert status == 0
    return out


def test_report_writes_every_promised_file(report_dir: Path) -> None:
    for name in (
        "report.html",
        "report.md",
        "curves.csv",
        "questions.csv",
        "fits.csv",
        "summary.json",
        "slopes.csv",
    ):
        assert (report_dir / name).stat().st_size > 0, name
    pngs = sorted(p.stem for p in (report_dir / "figures").glob("*.png"))
    svgs = sorted(p.stem for p in (report_dir / "figures").glob("*.svg"))
    assert pngs == svgs and len(pngs) >= 4
    assert not [p for p in report_dir.rglob(".tmp-*")]  # atomic writes leave no temporary files
    assert oct((report_dir / "report.html").stat().st_mode & 0o777) != oct(0o600)


def test_headline_comes_first_and_its_numbers_are_in_the_csv(report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text())
    head = summary["headline"]
    assert head[0].startswith("Does each accuracy-vs-samples curve show more than independent repeated sampling?")
    shape = head[1]
    slopes = pd.read_csv(report_dir / "slopes.csv")
    meas = slopes[(slopes["metric"] == "pass@k") & (slopes["kind"] == "measured")].iloc[0]
    assert "measured - iid" not in set(slopes["kind"])  # plug-in differences are not shown as evidence
    # printed to the precision its interval supports (half-width >= 5 pp: whole pp)
    half = (meas["ci_high_pp"] - meas["ci_low_pp"]) / 2
    digits = 0 if half >= 5 else 1 if half >= 0.5 else 2
    assert f"pass@k rises {meas['slope_pp_per_decade']:.{digits}f} pp per decade" in shape
    # every verdict line names its test; the sample order of this per-sample log was tested
    verdicts = pd.read_csv(report_dir / "verdict.csv")
    assert set(verdicts["metric"]) == {"pass@k", "maj@k"} and "not tested" not in set(verdicts["outcome"])
    assert all(t in " ".join(head) for t in verdicts["text"])
    html = (report_dir / "report.html").read_text()
    assert html.index('id="answer"') < html.index("<h2>")  # the answer is on the first screen
    assert html.index('id="verdict"') < html.index('id="data"')  # the verdict table comes first
    assert sum(line.startswith("Glossary — ") for line in head) == 5
    assert len(list((report_dir / "figures").glob("first-k-*.png"))) == 1  # the first-k curve is drawn
    curves = pd.read_csv(report_dir / "curves.csv")
    assert set(curves[curves["kind"] == "first-k"]["metric"]) == {"pass@k", "maj@k"}


def test_curves_csv_rows_say_how_they_were_made(report_dir: Path) -> None:
    curves = pd.read_csv(report_dir / "curves.csv")
    for col in ("estimator", "ties", "n_questions", "interval", "kind"):
        assert curves[col].notna().any(), col
    assert {"measured", "iid", "iid-binary:agree", "iid-binary:differ"} <= set(curves["kind"])
    assert curves["interval"].str.contains("bootstrap over questions, 30 replicates").any()
    assert set(curves.loc[curves["metric"] == "maj@k", "ties"]) == {"random"}


def test_log_strings_are_escaped_in_html_and_markdown(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text()
    md = (report_dir / "report.md").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in md and "<script" not in md.lower()
    assert "http://" not in html and "https://" not in html  # nothing loads from the network


def test_existing_output_needs_force(report_dir: Path, tmp_path: Path) -> None:
    src = write_rollouts(tmp_path / "log.csv", evil=False)
    args = [
        "report",
        str(src),
        "--out",
        str(report_dir),
        "--bootstrap",
        "0",
        "--figures-for",
        "0",
        "--fits",
        "beta_binomial",
        "--quiet",
    ]
    assert main(args) == 2
    before = (report_dir / "report.html").read_bytes()
    assert (report_dir / "report.html").read_bytes() == before
    assert main([*args, "--force"]) == 0
    assert (report_dir / "report.html").read_bytes() != before


def test_progress_goes_to_stderr_and_quiet_silences_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_rollouts(tmp_path / "log.csv", questions=4, n=8, evil=False)
    assert (
        main(
            [
                "report",
                str(src),
                "--out",
                str(tmp_path / "a"),
                "--bootstrap",
                "0",
                "--figures-for",
                "0",
                "--fits",
                "beta_binomial",
            ]
        )
        == 0
    )
    loud = capsys.readouterr()
    assert "curves for 1 model" in loud.err and loud.out == ""
    assert (
        main(
            [
                "report",
                str(src),
                "--out",
                str(tmp_path / "b"),
                "--bootstrap",
                "0",
                "--figures-for",
                "0",
                "--fits",
                "beta_binomial",
                "--quiet",
            ]
        )
        == 0
    )
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == ""


def test_several_inputs_make_one_report_comparing_models(tmp_path: Path) -> None:
    a = write_rollouts(tmp_path / "run_a.csv", seed=1, evil=False)
    b = write_rollouts(tmp_path / "run_b.csv", seed=2, evil=False)
    out = tmp_path / "out"
    assert (
        main(
            [
                "report",
                str(a),
                str(b),
                "--out",
                str(out),
                "--bootstrap",
                "0",
                "--figures-for",
                "0",
                "--fits",
                "beta_binomial",
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert [m["model"] for m in summary["models"]] == ["run_a", "run_b"]
    assert (out / "figures" / "models-pass-at-k.png").exists()
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["model_a"]) == {"run_a"} and set(comparison["model_b"]) == {"run_b"}
    assert set(comparison["metric"]) == {"pass@k", "maj@k"} and comparison["paired"].all()
    assert "Every model against run\\_a at matched samples" in (out / "report.md").read_text()
    assert summary["headline"][1].startswith("run_a: ") and summary["headline"][2].startswith("run_b: ")
    rule = "Models in input order (--order given); reference run_a"
    assert any(line.startswith(rule) for line in summary["headline"])


def test_group_column_runs_the_dependence_test(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows = [
        {
            "question_id": f"q{q}",
            "sample_id": s,
            "correct": bool(rng.random() < 0.5),
            "group": s % 2,
            "answer": None,
        }
        for q in range(10)
        for s in range(8)
    ]
    for r in rows:
        r["answer"] = "a" if r["correct"] else "b"
    path = tmp_path / "grouped.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    report = build_report(load(str(path)), ReportOptions(bootstrap=30, fits=("beta_binomial",)))
    tests = next(s for s in report.sections if s.anchor == "tests")
    assert tests.paragraphs[1].startswith("Dependence across groups: group column present")
    assert "dependence" in report.tables
    assert "needs a group column" not in " ".join(report.headline)


def test_count_table_without_answers_says_majority_vote_is_undefined(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    pd.DataFrame({"question_id": ["a", "b", "c", "d"], "n": [100] * 4, "c": [1, 10, 50, 90]}).to_csv(path, index=False)
    report = build_report(load(str(path)), ReportOptions(bootstrap=0, fits=("beta_binomial",)))
    data = next(s for s in report.sections if s.anchor == "data")
    assert any("majority vote is not defined" in p for p in data.paragraphs)
    maj = report.tables["curves"][report.tables["curves"]["metric"] == "maj@k"]
    assert set(maj["kind"]) == {"iid-binary:agree", "iid-binary:differ"}  # no measured maj@k without answers
    assert report.tables["models"]["mean_p"].iloc[0] == pytest.approx(0.3775)


def test_renderers_escape_everything() -> None:
    assert escape_markdown("a|b <i>*x*</i>", in_table=True) == "a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt;"
    from harness.report.document import Report, ReportTable, Section

    rep = Report(
        title=EVIL,
        headline=(EVIL,),
        sections=(Section(EVIL, (EVIL,), tables=(ReportTable(pd.DataFrame({EVIL: [EVIL]}), EVIL),)),),
        figures=(),
        tables={},
        summary={},
    )
    assert "<script>" not in render_html(rep, {})
    assert "<script>" not in render_markdown(rep)


def test_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    from harness.report.write import prepare_output_dir

    with pytest.raises(HarnessInputError, match="not a folder"):
        prepare_output_dir(str(target), force=True)
    assert os.path.isfile(target)


def test_write_report_returns_relative_paths(tmp_path: Path) -> None:
    path = write_rollouts(tmp_path / "log.csv", questions=5, n=8, evil=False)
    report = build_report(load(str(path)), ReportOptions(bootstrap=0, fits=("beta_binomial",), max_model_figures=0))
    written = write_report(report, str(tmp_path / "out"))
    assert "report.html" in written and all(not os.path.isabs(w) for w in written)
    assert all((tmp_path / "out" / w).exists() for w in written)


def test_count_table_is_not_tested_and_says_what_would_allow_a_test(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    ns = [100] * 6
    pd.DataFrame({"question_id": list("abcdef"), "n": ns, "c": [0, 1, 3, 10, 50, 90]}).to_csv(path, index=False)
    report = build_report(load(str(path)), ReportOptions(bootstrap=20, fits=("beta_binomial",)))
    text = " ".join(report.headline)
    assert "pass@k: not tested" in text and "explained" not in text and "consistent with" not in text
    assert "with n = 100 samples p̂ cannot span more than log10 n = 2.0 decades" in text
    assert "per-sample rows in the order drawn" in text


def test_budget_column_gets_its_sentence_and_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for q in range(12):
        p0 = 10 ** rng.uniform(-1.5, 0)
        for budget, gain in ((1000, 1.0), (4000, 1.8)):
            for s in range(8):
                ok = bool(rng.random() < min(1.0, p0 * gain))
                rows.append(
                    {
                        "question_id": f"q{q}",
                        "sample_id": f"{budget}-{s}",
                        "answer": "r" if ok else "w",
                        "correct": ok,
                        "budget": budget,
                        "tokens": float(budget),
                    }
                )
    path = tmp_path / "budget.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    report = build_report(load(str(path)), ReportOptions(bootstrap=20, fits=("beta_binomial",), max_model_figures=0))
    assert any(line.startswith("Thinking longer vs sampling: ") for line in report.headline)
    assert "budget" in report.tables and len(report.tables["budget"]) == 2
    assert any("A test needs" in line or "verdicts above come from tests" in line for line in report.headline)


def test_fits_section_says_how_far_the_fits_disagree_beyond_n(tmp_path: Path) -> None:
    path = write_rollouts(tmp_path / "log.csv", questions=10, n=16, evil=False)
    report = build_report(
        load(str(path)), ReportOptions(bootstrap=0, fits=("beta_binomial", "zoi_beta_binomial"), max_model_figures=0)
    )
    fits = next(s for s in report.sections if s.anchor == "fits")
    assert any("(100 × the logged n) the fitted distributions predict pass@k from" in p for p in fits.paragraphs)
    assert set(report.tables["fits"]["fit"]) == {"beta_binomial", "zoi_beta_binomial"}


def test_dependence_figure_draws_one_d_per_metric() -> None:
    """Bootstrap D(k) rows win over the permutation rows of the same metric (the same D without an interval);
    a metric with permutation rows only is still drawn."""
    from harness.report.build import _one_d_per_metric

    rows = [
        {"test": "curve_D(pass@k)", "k": 1}, {"test": "curve_D(pass@k)", "k": 2},
        {"test": "curve_D_perm(pass@k)", "k": 1}, {"test": "curve_D_perm(pass@k)", "k": 2},
        {"test": "curve_D_perm(maj@k)", "k": 1}, {"test": "chi2_class_by_group", "k": None},
    ]
    got = _one_d_per_metric(pd.DataFrame(rows))
    assert got["test"].tolist() == ["curve_D(pass@k)", "curve_D(pass@k)", "curve_D_perm(maj@k)"]
