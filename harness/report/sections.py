"""The report's sections after the headline, each a small pure function from tidy tables to a :class:`Section`.

Typed against :class:`harness.analysis.Analysis` (None when the analysis did not run, with the reason).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis import Analysis
from harness.curves import model_parts
from harness.diagnostics.verdict import fmt
from harness.loaders import Loaded
from harness.report.document import ReportTable, Section
from harness.tables import QuestionCounts

SHAPE_SHOWN = (
    "model",
    "metric",
    "kind",
    "compute_min",
    "compute_max",
    "slope_per_decade",
    "slope_per_decade_ci_low",
    "slope_per_decade_ci_high",
    "r2",
    "max_residual",
    "curvature",
    "straight_window_1pp_decades",
    "rise_1pp",
)
"""Columns of the analysis' shape table shown in the report (shape.csv keeps them all)."""


def interval_text(level: float, bootstrap: int, seed: int) -> str:
    if bootstrap <= 0:
        return "no intervals (bootstrap 0)"
    return f"{level:.0%} percentile bootstrap over questions, {bootstrap} replicates, seed {seed}"


def stopping_note(counts: QuestionCounts) -> str:
    """What an outcome-dependent stopping rule does to the numbers ('' for fixed n)."""
    assert counts.stopping is not None
    rules = sorted(set(map(str, counts.stopping.tolist())))
    if rules == ["fixed"]:
        return ""
    return (
        f"Sample sizes follow an outcome-dependent stopping rule ({', '.join(rules)}): c/n over all samples is "
        "biased upward, so the measured curves use each question's first block only (exact: under "
        "first-success-block every earlier block has no success) and stop at the block size; beyond it the "
        "curves are the fitted distributions' predictions."
    )


def data_section(loaded: Loaded, counts: QuestionCounts, facts: pd.DataFrame, ties: str) -> Section:
    par = [
        f"Read {loaded.source} as {loaded.format}: {len(counts.models)} model(s), {counts.n_questions} "
        f"(model, question) rows, {int(counts.n.sum()):,} samples.",
        "Answer classes are known, so majority vote is defined."
        if counts.answers_known
        else "Only correct counts are known (no answers), so the measured majority vote is not defined for these "
        "data; the maj@k panels show what voting would give from p alone at the two wrong-answer extremes.",
        *loaded.notes,
    ]
    note = stopping_note(counts)
    if note:
        par.append(note)
    table = ReportTable(
        facts.drop(columns=["estimator"]),
        "Per model: questions, samples per question, mean p̂, and the exact measured pass@k / maj@k at the largest "
        f"k every question reaches (ties {ties}).",
        csv="models.csv",
        max_rows=200,
    )
    return Section("Data", tuple(par), tables=(table,), anchor="data")


def slopes_section(slopes: pd.DataFrame, spread: pd.DataFrame, interval: str) -> Section:
    return Section(
        "Slopes per decade: measured and independent sampling",
        (
            "Least-squares slope of the mean curve on log10 k over the measured range, for the measured curve and the "
            f"i.i.d. prediction from the same samples. Intervals: {interval}. The two agree by construction up to "
            "O(k/n) (the plug-in i.i.d. curve is biased near k = n), so their difference is not shown as evidence. "
            "Straight window: the longest run of k values whose own line stays within 1 pp of every point. "
            "decades_cap: log10 n, the most decades p̂ can span with n samples.",
        ),
        tables=(
            ReportTable(
                slopes.drop(columns=["estimator"]), "Slopes, intervals, residuals and rises in pp.", csv="slopes.csv"
            ),
            ReportTable(
                spread.drop(columns=["estimator"]), "Spread of per-question p̂.", csv="p_spread.csv", max_rows=200
            ),
        ),
        anchor="slopes",
    )


def model_section(
    model: str, stem: str, slopes: pd.DataFrame, spread: pd.DataFrame, figures: tuple[str, ...], figures_for: int
) -> Section:
    """Every model gets one: its numbers, and its figures or where to find its numbers without them."""
    par: list[str] = []
    sp = spread[spread["model"] == model]
    if len(sp):
        r = sp.iloc[0]
        par.append(
            f"{int(r['questions'])} questions; mean p̂ {r['mean_p']:.3f}; p̂ = 0 for {r['share_p0']:.0%}, 0 < p̂ < 1 "
            f"for {r['share_between']:.0%}, p̂ = 1 for {r['share_p1']:.0%}."
        )
    for metric in ("pass@k", "maj@k"):
        s = slopes[(slopes["model"] == model) & (slopes["metric"] == metric)]
        if len(s) < 2:
            continue
        m = s[s["kind"] == "measured"].iloc[0]
        i = s[s["kind"] == "iid"].iloc[0]
        par.append(
            f"{metric}: measured slope {fmt(m['slope_pp_per_decade'], m['ci_low_pp'], m['ci_high_pp'])} pp/decade "
            f"(95% CI {fmt(m['ci_low_pp'], m['ci_low_pp'], m['ci_high_pp'])} to "
            f"{fmt(m['ci_high_pp'], m['ci_low_pp'], m['ci_high_pp'])}), i.i.d. prediction "
            f"{fmt(i['slope_pp_per_decade'], i['ci_low_pp'], i['ci_high_pp'])} over k = "
            f"{int(m['k_min'])}–{int(m['k_max'])} (equal by construction up to O(k/n); not a test)."
        )
    if not figures:
        par.append(
            f"Figures are drawn for the first {figures_for} models only (--figures-for {figures_for}); this model's "
            "numbers are in verdict.csv, slopes.csv, curves.csv, p_spread.csv and the tables above."
        )
    return Section(f"Evidence for {model}", tuple(par), figures=figures, anchor=f"model-{stem}")


def extrapolation_sentences(analysis: Analysis, counts: QuestionCounts, factor: int = 100) -> tuple[str, ...]:
    """Per model: how far the fits disagree beyond n, how well they reproduce the measured pass@n, and the plateau
    range that keeps the never-solved questions open."""
    out = []
    fit_range = analysis.fit_range
    for model in counts.models:
        n_max = int(model_parts(counts)[model].n.max())
        if fit_range is not None and len(fit_range):
            part = fit_range[(fit_range["model"] == model) & (fit_range["metric"] == "pass@k")]
            beyond = part[part["k"] >= factor * n_max]
            if len(beyond) == 0:
                beyond = part[part["k"] > n_max]
            if len(beyond):
                row = beyond.sort_values("k").iloc[0]
                out.append(
                    f"{model}: at k = {int(row['k']):,} samples ({int(row['k']) / n_max:.0f} × the logged n) the "
                    f"fitted distributions predict pass@k from {float(row['fit_min']):.3f} to "
                    f"{float(row['fit_max']):.3f} ({100 * float(row['fit_range']):.1f} pp apart)."
                )
        fits = analysis.fits
        if "pass_at_n_miss_pp" in fits.columns:
            part = fits[fits["model"] == model]
            misses = ", ".join(
                f"{r['fit']} {float(r['pass_at_n_miss_pp']):+.1f}"
                for _, r in part.iterrows()
                if np.isfinite(float(r["pass_at_n_miss_pp"]))
            )
            if misses:
                out.append(f"{model}: fitted minus measured pass@n (pp, k ≤ n must agree): {misses}.")
        pl = analysis.plateaus
        if "pass_inf_low" in pl.columns:
            r = pl[pl["model"] == model].iloc[0]
            out.append(
                f"{model}: pass@∞ lies between {float(r['pass_inf_low']):.3f} (every never-solved question has p = 0) "
                f"and {float(r['pass_inf_high']):.3f} (they have 0 < p below ~3/n, which {n_max} samples cannot tell "
                "from 0)."
            )
    return tuple(out)


def fits_section(analysis: Analysis | None, reason: str, counts: QuestionCounts, fits: pd.DataFrame) -> Section:
    if analysis is None:
        return Section(
            "Spread of p: fits and extrapolation",
            (
                f"Not computed: {reason}. Without a fitted distribution of p there is no extrapolation beyond the "
                "logged n in this report; fits.csv is written with its header only.",
            ),
            anchor="fits",
        )
    tables = [
        ReportTable(
            fits,
            "Fits of the distribution of p across questions (log-likelihood, AIC, goodness of fit of the histogram "
            "of c, fitted minus measured pass@n).",
            csv="fits.csv",
        ),
        ReportTable(
            analysis.plateaus,
            "Plateaus pass@inf and maj@inf (observed share and the range that keeps never-solved questions open) and "
            "the power-law exponent of -log(pass@k).",
            csv="plateaus.csv",
        ),
    ]
    shown = [c for c in SHAPE_SHOWN if c in analysis.shape.columns]
    tables.append(
        ReportTable(
            analysis.shape[shown],
            "Shape diagnostics (slope and curvature per decade of compute, as fractions; the full table with every "
            "interval is in shape.csv).",
            csv="shape.csv",
        )
    )
    return Section(
        "Spread of p: fits and extrapolation",
        (
            "A pass@k table up to n identifies only n moments of the distribution of p; beyond the logged n every "
            "number comes from a model, and the spread between the fits is the extrapolation uncertainty.",
            *extrapolation_sentences(analysis, counts),
        ),
        tables=tuple(tables),
        anchor="fits",
    )


def tests_section(
    analysis: Analysis | None, reason: str, has_group: bool, has_budget: bool, figure: str | None
) -> Section:
    par: list[str] = []
    if analysis is None:
        par.append(f"No tests: the analysis did not run ({reason}).")
    else:
        par.append(
            "Sample order: "
            + (
                analysis.order_reason
                + ". The first-k curve (rows of kind 'first-k' in curves.csv) is what a user running the samples in "
                "order sees; its test permutes each question's samples (exact size)."
                if analysis.order is not None
                else analysis.order_reason + "."
            )
        )
        par.append(
            "Dependence across groups: "
            + (
                analysis.dependence_reason
                + ". Verdicts use the permutation tests only (Tarone's Z, X² of class × group, permutation D(k) of "
                "pass@k and of maj@k); "
                "the bootstrap D(k) is an effect size with an interval, not a test."
                if has_group
                else "not run, the data have no group column (batch, seed, prompt variant or time); a random split "
                "of exchangeable samples would be no test."
            )
        )
        if has_budget:
            par.append(
                "Thinking longer vs sampling at matched compute: "
                + (
                    "see the budget table (p-values Holm-adjusted over the budgets of each model)."
                    if analysis.budget is not None
                    else analysis.budget_reason
                )
            )
        else:
            par.append("Budget test (thinking longer vs sampling at matched compute): not run, no budget column.")
    tables = []
    if analysis is not None:
        for frame, caption, csv in (
            (analysis.order, "Sample-order tests (first-k curve against exchangeable, blocks as groups).", "order.csv"),
            (analysis.dependence, "Dependence tests across the group column.", "dependence.csv"),
            (analysis.budget, "Longer thinking vs sampling.", "budget.csv"),
        ):
            if frame is not None:
                tables.append(ReportTable(frame, caption, csv=csv))
    return Section(
        "Tests that could fail", tuple(par), figures=(figure,) if figure else (), tables=tuple(tables), anchor="tests"
    )


def vote_failures(questions: pd.DataFrame) -> pd.DataFrame | None:
    need = {"model", "question_id", "n", "c", "top_wrong"}
    if not need <= set(questions.columns):
        return None
    bad = questions[questions["top_wrong"] > questions["c"]].copy()
    if len(bad) == 0:
        return None
    bad["margin"] = bad["c"] - bad["top_wrong"]
    cols = [
        c
        for c in ("model", "question_id", "n", "c", "top_wrong", "margin", "correct_answer", "top_wrong_answer")
        if c in bad.columns
    ]
    return bad.sort_values(["model", "margin"])[cols]


def vote_section(questions: pd.DataFrame) -> Section | None:
    failures = vote_failures(questions)
    if failures is None:
        return None
    return Section(
        "Where the vote goes wrong",
        (
            f"{len(failures)} (model, question) rows where the strongest wrong answer has more votes than the "
            "correct one: maj@k tends to 0 for these as k grows. Answers are shown as logged.",
        ),
        tables=(
            ReportTable(
                failures,
                "Questions whose strongest wrong answer beats the correct one.",
                csv="questions.csv",
                max_rows=15,
            ),
        ),
        anchor="vote",
    )


def methods_section(ties: str, interval: str) -> Section:
    return Section(
        "How every number was made",
        (
            "pass@k: unbiased 1 − C(n−c,k)/C(n,k) over all k-subsets (Chen et al. 2021); i.i.d.: 1 − (1 − c/n)^k.",
            "maj@k: exact mean over all k-subsets (a U-statistic, unbiased for i.i.d. maj@k); i.i.d.: exact "
            f"multinomial from the answer shares; ties: {ties}. Binary extremes: all wrong answers agree (Condorcet) "
            "and all differ, from c/n alone.",
            "pass^k: C(c,k)/C(n,k); i.i.d.: (c/n)^k.",
            "first-k: the curve over each question's first k samples in logged order; verdicts: "
            "docs/methods/verdict.md.",
            f"Intervals: {interval}; the questions are the independent units and every k point shares them. Numbers "
            "are printed to the precision their interval supports.",
            "Files: "
            + ", ".join(f"{n}.csv" for n in ("verdict", "curves", "questions", "fits", "slopes", "p_spread", "models"))
            + ", summary.json, figures/*.png and *.svg.",
        ),
        anchor="methods",
    )
