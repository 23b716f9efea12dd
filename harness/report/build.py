"""Build a report from loaded data: curves, i.i.d. predictions, slopes, the analysis and tests, figures,
headline.

:func:`build_report` is pure apart from rendering figures in memory; :func:`harness.report.write.write_report`
writes the files. The headline answers the mission question for the data first, then the sections give the
evidence; every number shown is a cell of a table that is also written as CSV with the way it was made.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness import __version__
from harness._validation import HarnessInputError, check_choice
from harness.curves import CURVE_COLUMNS, compute_curves, default_ks
from harness.estimators.majority import TIES
from harness.loaders import Loaded
from harness.report import figures as fig_lib
from harness.report.document import Report, ReportFigure, ReportTable, Section
from harness.report.tables import SLOPE_COLUMNS, binary_extreme_curves, p_spread, sigmoid_table, slope_table
from harness.tables import QuestionCounts

Progress = Callable[[str], None] | None
SIGMOID_WIDTH_DECADES = math.log10(math.log(10) / math.log(10 / 9))
"""Decades of k over which one question's pass@k = 1-(1-p)^k rises from 10% to 90% (for small p): 1.34."""
MAX_EXTREME_K = 2**14
"""Largest k of the binary-vote extremes (their exact binomial sums cost O(k) per question and k)."""
FIT_COLUMNS: tuple[str, ...] = (
    "model",
    "fit",
    "params",
    "n_params",
    "loglik",
    "aic",
    "gof_stat",
    "gof_df",
    "gof_p",
    "converged",
)


@dataclass(frozen=True)
class ReportOptions:
    """Knobs of a report; the defaults are what ``harness report`` uses."""

    bootstrap: int = 1000
    """Bootstrap replicates over questions for every interval (0: no intervals)."""
    seed: int = 0
    ties: str = "random"
    compute: str = "samples"
    level: float = 0.95
    max_model_figures: int = 4
    """Per-model figures are drawn for the first this-many models; the tables hold all of them."""
    title: str | None = None
    fits: tuple[str, ...] | None = None
    """Distributions of p the analysis fits (None: all it offers)."""


_SHAPE_SHOWN = (
    "model", "metric", "kind", "compute_min", "compute_max", "slope_per_decade", "slope_per_decade_ci_low",
    "slope_per_decade_ci_high", "r2", "max_residual", "curvature", "straight_window_1pp_decades", "rise_1pp",
)
"""Columns of the analysis' shape table shown in the report (shape.csv keeps them all)."""


def slug(text: str, used: set[str]) -> str:
    """A file-name-safe, unique stem for a model name taken from a log."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "model"
    name, i = base, 2
    while name in used:
        name, i = f"{base}-{i}", i + 1
    used.add(name)
    return name


def optional_module(name: str) -> tuple[Any, str]:
    """Import a sibling stage built by another part of the project; (None, reason) when it is absent."""
    try:
        return importlib.import_module(name), ""
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None, f"the module {name} is not part of this build"
        raise


def _ci(row: pd.Series) -> str:
    """'95% CI a to b' in pp from a slopes row, or 'no interval'."""
    if not np.isfinite(float(row["ci_low_pp"])):
        return "no interval"
    return f"95% CI {_pp(float(row['ci_low_pp']))} to {_pp(float(row['ci_high_pp']))}"


def _pp(x: float) -> str:
    """A value already in percentage points, to one decimal (never '-0.0')."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _stopping_note(counts: QuestionCounts) -> str:
    assert counts.stopping is not None
    rules = sorted(set(map(str, counts.stopping.tolist())))
    if rules == ["fixed"]:
        return ""
    return (
        f"Sample sizes follow an outcome-dependent stopping rule ({', '.join(rules)}): c/n is biased upward "
        "and measured curves beyond the first block mix questions with different n; read p̂ and the i.i.d. "
        "predictions with that in mind."
    )


# --------------------------------------------------------------------------------------------- analysis
@dataclass(frozen=True)
class AnalysisOutcome:
    """The analysis stage's result (or None) and, when absent or failed, the plain reason."""

    analysis: Any
    reason: str


def run_analysis(
    counts: QuestionCounts,
    curves: pd.DataFrame,
    rollouts: pd.DataFrame | None,
    options: ReportOptions,
    progress: Progress,
) -> AnalysisOutcome:
    module, reason = optional_module("harness.analysis")
    if module is None:
        return AnalysisOutcome(None, reason)
    if progress is not None:
        progress("analysis: p intervals, fits of the spread of p, shape diagnostics, tests")
    result = module.analyse(
        counts,
        curves=curves,
        rollouts=rollouts,
        bootstrap=options.bootstrap,
        seed=options.seed,
        progress=progress,
        ties=options.ties,
        **({"fits": options.fits} if options.fits is not None else {}),
    )
    return AnalysisOutcome(result, "")


def _frame(analysis: Any, name: str) -> pd.DataFrame | None:
    value = getattr(analysis, name, None) if analysis is not None else None
    return value if isinstance(value, pd.DataFrame) else None


# --------------------------------------------------------------------------------------------- headline
def _model_facts(counts: QuestionCounts, curves: pd.DataFrame, ties: str) -> pd.DataFrame:
    """Per model: questions, n range, mean p̂, and the measured pass@n / maj@n at the largest common k."""
    rows = []
    for model in counts.models:
        sub = counts.select(model)
        meas = curves[(curves["model"] == model) & (curves["kind"] == "measured")]
        row: dict[str, Any] = {
            "model": model,
            "questions": sub.n_questions,
            "n_min": int(sub.n.min()),
            "n_max": int(sub.n.max()),
            "mean_p": float(sub.p_hat.mean()),
        }
        for metric in ("pass@k", "maj@k"):
            part = meas[meas["metric"] == metric]
            if len(part):
                last = part.sort_values("k").iloc[-1]
                row[f"{metric.replace('@k', '')}_k"] = int(last["k"])
                row[f"{metric.replace('@k', '')}_at_k"] = float(last["value"])
        row["stopping"] = ", ".join(sorted(set(map(str, sub.stopping.tolist())))) if sub.stopping is not None else ""
        row["estimator"] = (
            "mean_p: mean of c/n over questions; pass/maj at k: exact mean over all k-subsets of the "
            f"logged samples (maj@k ties: {ties})"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _dependence_verdict(analysis: Any) -> tuple[str, bool | None]:
    """A sentence on the dependence tests, and True when one rejects exchangeability (None: no test ran).

    One entry per (model, test) of the analysis' dependence table; the family of tests is held at 5% by
    Bonferroni (a test rejects when its p-value is below 0.05 / number of tests), which the sentence says.
    """
    dep = _frame(analysis, "dependence")
    reason = str(getattr(analysis, "dependence_reason", "") or "") if analysis is not None else ""
    if dep is None or len(dep) == 0 or not {"test", "p_value"} <= set(dep.columns):
        return reason, None
    firsts = dep.groupby(["model", "test"], sort=False).first().reset_index()
    firsts = firsts[pd.to_numeric(firsts["p_value"], errors="coerce").notna()]
    if len(firsts) == 0:
        return reason or "the dependence tests gave no p-value.", None
    alpha = 0.05 / len(firsts)
    parts = []
    rejects = False
    for _, row in firsts.iterrows():
        p = float(row["p_value"])
        rej = p < alpha
        rejects |= rej
        who = f"{row['model']} " if firsts["model"].nunique() > 1 else ""
        parts.append(f"{who}{row['test']} p = {p:.3g}{' (rejects)' if rej else ''}")
    verdict = "rejects" if rejects else "does not reject"
    return (
        f"across the group column, exchangeable sampling: {verdict} ({'; '.join(parts)}; Bonferroni over "
        f"{len(firsts)} tests, each at {alpha:.3g})."
    ), rejects


def _budget_sentence(analysis: Any) -> str:
    """One sentence per model on thinking longer vs sampling more at matched compute ('' when no table)."""
    budget = _frame(analysis, "budget")
    if budget is None or len(budget) == 0 or "verdict" not in budget.columns:
        return ""
    out = []
    for model, part in budget.groupby("model", sort=False):
        wins = part[part["verdict"].astype(str).str.startswith("thinking longer beats")]
        loses = part[part["verdict"].astype(str).str.startswith("majority voting beats")]
        out.append(
            f"{model}: over {len(part)} budgets, thinking longer beats majority voting at matched compute "
            f"at {len(wins)}, loses at {len(loses)}, and is within the bootstrap interval at "
            f"{len(part) - len(wins) - len(loses)}."
        )
    return "Thinking longer vs sampling: " + " ".join(out)


def headline(
    counts: QuestionCounts,
    facts: pd.DataFrame,
    slopes: pd.DataFrame,
    spread: pd.DataFrame,
    analysis: AnalysisOutcome,
    has_group: bool,
    has_budget: bool,
    max_models: int = 10,
) -> tuple[str, ...]:
    """The first screen: the answer to the mission question for these data, then its support and limits."""
    lines: list[str] = []
    dep_text, dep_rejects = _dependence_verdict(analysis.analysis)
    models = counts.models
    if len(models) > 1:
        lines.append(
            f"For each of the {len(models)} models, the measured pass@k slope per decade of samples "
            + (
                "is NOT explained by sampling alone where the dependence test rejects"
                if dep_rejects is True
                else "is explained by independent sampling"
            )
            + f": one question's curve rises from 10% to 90% within {SIGMOID_WIDTH_DECADES:.2f} decades of "
            "k, and the spread of per-question p over decades lays those sigmoids into a line; sampling "
            "each question independently at its own success share predicts the slope below (pp = percentage "
            "points)."
        )
    for model in models[:max_models]:
        fact = facts[facts["model"] == model].iloc[0]
        sp = spread[spread["model"] == model].iloc[0]
        prefix = f"{model}: " if len(models) > 1 else ""
        s = slopes[(slopes["model"] == model) & (slopes["metric"] == "pass@k")]
        if len(s) < 2:
            lines.append(
                f"{prefix}only {int(fact['n_min'])} samples for some questions: too few k values for a "
                f"slope (mean p̂ = {fact['mean_p']:.3f})."
            )
            continue
        meas = s[s["kind"] == "measured"].iloc[0]
        iid = s[s["kind"] == "iid"].iloc[0]
        verdict = (
            "is NOT explained by sampling alone" if dep_rejects is True else "is explained by independent sampling"
        )
        spread_txt = (
            f"per-question p̂ spans {sp['decades_10_90']:.1f} decades (10th–90th percentile of the "
            f"{sp['share_between']:.0%} of questions with 0 < p̂ < 1)"
            if np.isfinite(sp["decades_10_90"])
            else f"only {sp['share_between']:.0%} of questions have 0 < p̂ < 1"
        )
        if len(models) == 1:
            text = (
                f"The measured pass@k slope of {_pp(meas['slope_pp_per_decade'])} percentage points per "
                f"decade of samples (k = {int(meas['k_min'])}–{int(meas['k_max'])}, {_ci(meas)}) {verdict}: "
                "sampling each question independently at its own success share predicts "
                f"{_pp(iid['slope_pp_per_decade'])} pp per decade, and {spread_txt}, while one question's "
                f"curve rises from 10% to 90% within {SIGMOID_WIDTH_DECADES:.2f} decades; the spread of "
                f"difficulty alone lays the sigmoids into a line (R² {meas['r2']:.3f}, within 1 pp of a "
                f"straight line over {meas['window_decades']:.1f} decades)."
            )
        else:
            decades = (
                f"p̂ spans {sp['decades_10_90']:.1f} decades"
                if np.isfinite(sp["decades_10_90"])
                else (f"{sp['share_between']:.0%} of questions with 0 < p̂ < 1")
            )
            text = (
                f"{prefix}pass@k {_pp(meas['slope_pp_per_decade'])} pp per decade (k = "
                f"{int(meas['k_min'])}–{int(meas['k_max'])}, {_ci(meas)}); i.i.d. "
                f"{_pp(iid['slope_pp_per_decade'])}; {decades}; R² {meas['r2']:.3f}; "
                f"{verdict.removeprefix('is ')}."
            )
        if float(meas["decades"]) < 1.0:
            text += (
                f" Caution: the logged samples cover only {float(meas['decades']):.1f} decades of k, too "
                "short to tell a line from a sigmoid."
            )
        m = slopes[(slopes["model"] == model) & (slopes["metric"] == "maj@k")]
        if len(m) >= 2:
            mm = m[m["kind"] == "measured"].iloc[0]
            mi = m[m["kind"] == "iid"].iloc[0]
            sub = counts.select(model)
            maj_inf = float((sub.correct > sub.top_wrong()).mean())
            text += (
                f" Majority vote: maj@k rises {_pp(mm['slope_pp_per_decade'])} pp per decade ({_ci(mm)}; "
                f"i.i.d. {_pp(mi['slope_pp_per_decade'])}) towards {maj_inf:.3f}, the share of questions "
                "whose correct answer is the most frequent one."
            )
        if dep_rejects is not None:
            text += f" Dependence: {dep_text}"
        lines.append(text)
    if len(models) > max_models:
        more = len(models) - max_models
        lines.append(f"… and {more} more model{'s' if more > 1 else ''}: see slopes.csv and the tables below.")
    one = facts.iloc[0]
    if len(models) == 1:
        bits = [
            f"{int(one['questions'])} questions",
            f"n = {int(one['n_min'])}"
            + (f"–{int(one['n_max'])}" if one["n_max"] != one["n_min"] else "")
            + " samples each",
            f"mean p̂ = {one['mean_p']:.3f}",
        ]
        if "pass_at_k" in facts.columns and np.isfinite(one.get("pass_at_k", np.nan)):
            bits.append(f"pass@{int(one['pass_k'])} = {one['pass_at_k']:.3f}")
        if "maj_at_k" in facts.columns and np.isfinite(one.get("maj_at_k", np.nan)):
            bits.append(f"maj@{int(one['maj_k'])} = {one['maj_at_k']:.3f}")
        lines.append("Data: " + ", ".join(bits) + " (exact estimators over all k-subsets of the logged samples).")
    if has_group or has_budget:
        limits = (
            "On the pooled samples the measured curve is itself the unbiased i.i.d. estimator, so measured "
            "and predicted agree by construction up to O(k/n); what can show more are the tests across the "
            + " and ".join(c for c, has in (("group", has_group), ("budget", has_budget)) if has)
            + " column(s) reported here."
        )
    else:
        limits = (
            "These data alone cannot show a gain beyond sampling: the measured curve is itself the unbiased "
            "i.i.d. estimator over the logged samples, so measured and predicted agree by construction up "
            "to O(k/n). A test that could say otherwise needs a group column (batch, seed or prompt "
            "variant) for the dependence test or a budget column (reasoning budget) to compare thinking "
            "longer with sampling at matched compute."
        )
    if not has_group and has_budget:
        limits += " A group column (batch, seed or prompt variant) would also allow the dependence test."
    if has_group and not has_budget:
        limits += " A budget column would also allow comparing thinking longer with sampling at matched compute."
    budget_text = _budget_sentence(analysis.analysis)
    if budget_text:
        lines.append(budget_text)
    if has_group and dep_rejects is None and dep_text:
        limits += f" Dependence test: {dep_text}"
    lines.append(limits)
    note = _stopping_note(counts)
    if note:
        lines.append(note)
    return tuple(lines)


# --------------------------------------------------------------------------------------------- build
def build_report(loaded: Loaded, options: ReportOptions | None = None, *, progress: Progress = None) -> Report:
    """Every table, figure and sentence of the report for the loaded data (nothing is written)."""
    opt = options or ReportOptions()
    check_choice("ties", opt.ties, TIES)
    counts = loaded.counts
    models = counts.models
    rollouts = loaded.rollouts
    has_group = _has_column(rollouts, "group")
    has_budget = _has_column(rollouts, "budget")
    if progress is not None:
        progress(f"curves for {len(models)} model(s), {counts.n_questions} question rows")
    metrics = ("pass@k", "maj@k", "pass^k") if counts.answers_known else ("pass@k", "pass^k")
    curves = compute_curves(
        counts,
        metrics=metrics,
        ties=opt.ties,
        compute=opt.compute,
        bootstrap=opt.bootstrap,
        level=opt.level,
        seed=opt.seed,
        progress=progress,
    )
    ks_by_model = {m: default_ks(int(counts.select(m).n.max())) for m in models}
    scale = {m: _scale_of(curves, m) for m in models}
    # maj@k from c/n alone at both wrong-answer extremes: defined even without answer classes (then it says what
    # voting would give at the two extremes); k capped, as the binomial pmf grows with k
    if progress is not None:
        progress("maj@k from p alone at both wrong-answer extremes")
    extremes = binary_extreme_curves(
        counts,
        {m: ks[ks <= MAX_EXTREME_K] for m, ks in ks_by_model.items()},
        ties=opt.ties,
        bootstrap=opt.bootstrap,
        level=opt.level,
        seed=opt.seed,
        compute_scale=scale,
    )
    curves_all = pd.concat([curves, extremes], ignore_index=True)
    if progress is not None:
        progress("slopes per decade with bootstrap intervals")
    slopes = slope_table(counts, ks_by_model, ties=opt.ties, bootstrap=opt.bootstrap, level=opt.level, seed=opt.seed)
    spread = p_spread(counts)
    facts = _model_facts(counts, curves, opt.ties)
    outcome = run_analysis(counts, curves, rollouts, opt, progress)
    analysis = outcome.analysis
    predictions = _frame(analysis, "predictions")
    if predictions is not None and len(predictions):
        curves_all = pd.concat([curves_all, predictions.reindex(columns=list(CURVE_COLUMNS))], ignore_index=True)
    questions = _questions_table(counts, analysis)
    fits = _frame(analysis, "fits")
    fits = fits if fits is not None else pd.DataFrame(columns=list(FIT_COLUMNS))

    if progress is not None:
        progress("figures")
    used: set[str] = set()
    figs: list[ReportFigure] = []
    per_model_sections: list[Section] = []
    primary = "pass@k"  # the straight-line figure: coverage is the curve that looks log-linear
    sigmoid_ks = np.unique(np.round(np.geomspace(1, max(2, int(counts.n.max())) * 10, 60)).astype(np.int64))
    for model in models[: opt.max_model_figures]:
        stem = slug(model, used)
        sub = counts.select(model)
        names = []
        figs.append(
            ReportFigure(
                f"curves-{stem}",
                f"{model}: measured curves and the i.i.d. predictions on a log compute axis, with 95% "
                "bootstrap bands over questions; for maj@k also the binomial prediction from p alone at "
                "both wrong-answer extremes.",
                fig_lib.curves_figure(curves_all[curves_all["kind"].isin(fig_lib.KIND_STYLES)], model=model),
            )
        )
        names.append(f"curves-{stem}")
        figs.append(
            ReportFigure(
                f"sigmoids-{stem}",
                f"{model}: each question's pass@k = 1-(1-p̂)^k is a sigmoid in log k; their mean over "
                "questions is the aggregate curve.",
                fig_lib.sigmoids_figure(sigmoid_table(sub, sigmoid_ks)),
            )
        )
        names.append(f"sigmoids-{stem}")
        figs.append(
            ReportFigure(
                f"p-histogram-{stem}",
                f"{model}: per-question success share p̂ = c/n, linear and log scale"
                + (
                    " (with the fitted beta-family densities of p; the nonparametric fit is discrete and is not drawn)"
                    if analysis is not None
                    else ""
                )
                + ".",
                fig_lib.p_histogram_figure(questions, model=model, densities=_densities(analysis, model)),
            )
        )
        names.append(f"p-histogram-{stem}")
        line_rows = curves[(curves["model"] == model) & (curves["metric"] == "pass@k") & (curves["kind"] == "measured")]
        srow = slopes[(slopes["model"] == model) & (slopes["metric"] == primary) & (slopes["kind"] == "measured")]
        if len(line_rows) >= 3:
            window = None
            if len(srow) and int(srow["window_k_min"].iloc[0]) > 0:  # 0: no run of 3 points within 1 pp
                sc = scale[model][0]
                window = (float(srow["window_k_min"].iloc[0]) * sc, float(srow["window_k_max"].iloc[0]) * sc)
            figs.append(
                ReportFigure(
                    f"straight-{stem}",
                    f"{model}: measured {primary} with its least-squares line in log10 compute, the "
                    "residuals, and the longest window within 1 pp of a straight line (shaded, dashed "
                    "edges).",
                    fig_lib.straight_line_figure(line_rows, window=window),
                )
            )
            names.append(f"straight-{stem}")
        decomposition = _frame(analysis, "decomposition")
        if (
            decomposition is not None
            and len(decomposition)
            and bool(
                (
                    (decomposition["model"] == model)
                    & (decomposition["metric"] == "pass@k")
                    & (decomposition["kind"] == "measured")
                ).any()
            )
        ):
            figs.append(
                ReportFigure(
                    f"decomposition-{stem}",
                    f"{model}: the slope of the measured pass@k in each decade of k, split by the "
                    "questions' p̂ (from the analysis' decomposition table): each decade's rise comes from "
                    "the questions whose sigmoid is centred there.",
                    fig_lib.decomposition_figure(decomposition, model=model),
                )
            )
            names.append(f"decomposition-{stem}")
        has_fit_rows = predictions is not None and bool(
            (
                (predictions["model"] == model)
                & predictions["kind"].astype(str).str.startswith("fit:")
                & (predictions["metric"] == "pass@k")
            ).any()
        )
        if has_fit_rows:
            figs.append(
                ReportFigure(
                    f"extrapolation-{stem}",
                    f"{model}: pass@k predicted by each fitted distribution of p beyond the logged n; the "
                    "spread between fits is the extrapolation uncertainty.",
                    fig_lib.extrapolation_figure(curves_all, model=model),
                )
            )
            names.append(f"extrapolation-{stem}")
        per_model_sections.append(
            Section(
                title=f"Evidence for {model}",
                anchor=f"model-{stem}",
                paragraphs=_model_paragraphs(model, slopes, spread, primary),
                figures=tuple(n for n in names if n),
            )
        )
    models_section, comparison_tables = _models_section(counts, curves, figs, opt) if len(models) > 1 else (None, {})
    dependence = _frame(analysis, "dependence")
    dep_fig = None
    if dependence is not None and {"test", "k", "estimate", "ci_low", "ci_high"} <= set(dependence.columns):
        curve_d = dependence[dependence["test"].astype(str).str.startswith("curve_D")]
        if len(curve_d):
            figs.append(
                ReportFigure(
                    "dependence",
                    "D(k) = within-group minus pooled curve for each curve-level test ("
                    + ", ".join(dict.fromkeys(curve_d["test"].astype(str)))
                    + "), with its bootstrap interval over questions; zero is what exchangeable sampling predicts.",
                    fig_lib.dependence_figure(curve_d.rename(columns={"estimate": "value"})),
                )
            )
            dep_fig = "dependence"

    tables: dict[str, pd.DataFrame] = {
        "curves": curves_all,
        "questions": questions,
        "fits": fits,
        "slopes": slopes,
        "p_spread": spread,
        "models": facts,
        **comparison_tables,
    }
    notes = {
        "curves": "tidy curves; each row names its estimator, tie rule, questions and interval method",
        "questions": "per (model, question): n, c, p̂ = c/n and (with the analysis) intervals and vote margin",
        "fits": "fitted distributions of p across questions" if analysis is not None else f"empty: {outcome.reason}",
        "slopes": "least-squares slope per decade of the mean curve: measured, i.i.d., paired difference",
        "p_spread": "shares of questions with p̂ = 0, between, = 1; decades of log10 p̂ (10th–90th pct)",
        "models": "headline numbers per model (measured at the largest k every question reaches)",
    }
    if comparison_tables:
        notes["comparison"] = "every model against the first at matched compute: values, difference, interval"
        notes["crossings"] = "where the difference changes sign between budgets"
    for name in ("plateaus", "shape", "local_slope", "decomposition", "dependence", "budget"):
        frame = _frame(analysis, name)
        if frame is not None:
            tables[name] = frame
            notes[name] = f"from harness.analysis ({name})"

    head = headline(counts, facts, slopes, spread, outcome, has_group, has_budget)
    sections = _sections(
        loaded,
        counts,
        facts,
        slopes,
        spread,
        fits,
        outcome,
        questions,
        per_model_sections,
        figs,
        has_group,
        has_budget,
        dep_fig,
        opt,
        models_section,
    )
    title = opt.title or (f"Is this test-time-compute curve more than repeated sampling? ({_source_name(loaded)})")
    summary = {
        "harness_version": __version__,
        "source": loaded.source,
        "format": loaded.format,
        "headline": list(head),
        "options": {
            "bootstrap": opt.bootstrap,
            "seed": opt.seed,
            "ties": opt.ties,
            "compute": opt.compute,
            "level": opt.level,
        },
        "models": json.loads(facts.to_json(orient="records")),
        "slopes": json.loads(slopes.to_json(orient="records")),
        "analysis": "included" if analysis is not None else outcome.reason,
        "tests": {
            "dependence": "needs a group column" if not has_group else _dependence_verdict(analysis)[0],
            "budget": "needs a budget column"
            if not has_budget
            else str(getattr(analysis, "budget_reason", "") or "see budget.csv"),
        },
        "notes": list(loaded.notes) + list(getattr(analysis, "notes", ()) or ()),
    }
    return Report(
        title=title,
        subtitle=_subtitle(loaded, counts),
        headline=head,
        sections=tuple(sections),
        figures=tuple(figs),
        tables=tables,
        summary=summary,
        table_notes=notes,
    )


MAX_COMPARED_MODELS = 8


def _models_section(
    counts: QuestionCounts, curves: pd.DataFrame, figs: list[ReportFigure], opt: ReportOptions
) -> tuple[Section, dict[str, pd.DataFrame]]:
    """Models side by side: their curves, and every model against the first at matched compute (appends the
    figures to ``figs``)."""
    from harness.compare import compare_at_matched_compute
    from harness.report.compare_report import pair_sentence

    names = []
    for metric in ("pass@k", "maj@k"):
        if (curves["metric"] == metric).any():
            name = f"models-{metric.replace('@', '-at-')}"
            figs.append(
                ReportFigure(
                    name,
                    f"{metric} measured for each model (first 8; 95% bootstrap bands for up to 3 models).",
                    fig_lib.models_figure(curves, metric=metric),
                )
            )
            names.append(name)
    paragraphs = [f"Measured curves of every model at matched {opt.compute}."]
    tables: tuple[ReportTable, ...] = ()
    out_tables: dict[str, pd.DataFrame] = {}
    models = counts.models
    if len(models) > MAX_COMPARED_MODELS:
        paragraphs.append(
            f"{len(models)} models: too many to compare pairwise here; run harness compare on the runs to compare."
        )
    else:
        metrics = ("pass@k", "maj@k") if counts.answers_known else ("pass@k",)
        try:
            comparison = compare_at_matched_compute(
                counts,
                metrics=metrics,
                compute=opt.compute,
                ties=opt.ties,
                bootstrap=opt.bootstrap,
                level=opt.level,
                seed=opt.seed,
            )
        except HarnessInputError as exc:
            paragraphs.append(f"No matched-compute comparison: {exc}")
        else:
            table = comparison.table
            paragraphs.append(
                f"Every model against {models[0]} at matched {comparison.compute_unit}; a model is ahead "
                "only where the 95% bootstrap interval of the difference excludes zero."
            )
            for _, part in table.groupby(["model_b", "metric"], sort=False):
                paragraphs.append(pair_sentence(part, comparison.crossings))
            for metric in dict.fromkeys(table["metric"]):
                name = f"comparison-{str(metric).replace('@', '-at-')}"
                figs.append(
                    ReportFigure(
                        name,
                        f"{metric}: difference from {models[0]} at matched {comparison.compute_unit}, 95% "
                        "bootstrap intervals over questions.",
                        fig_lib.comparison_figure(table, metric=str(metric)),
                    )
                )
                names.append(name)
            tables = (
                ReportTable(
                    table.drop(columns=["estimator", "interval"]),
                    "Values and differences at matched compute (interpolated linearly in log k between logged k).",
                    csv="comparison.csv",
                    max_rows=24,
                ),
            )
            out_tables = {"comparison": table, "crossings": comparison.crossings}
    section = Section("Models side by side", tuple(paragraphs), figures=tuple(names), tables=tables, anchor="models")
    return section, out_tables


def _has_column(rollouts: pd.DataFrame | None, name: str) -> bool:
    return bool(rollouts is not None and name in rollouts.columns and rollouts[name].notna().any())


def _scale_of(curves: pd.DataFrame, model: str) -> tuple[float, str]:
    part = curves[curves["model"] == model]
    if len(part) == 0:
        return 1.0, "samples"
    row = part.iloc[0]
    return float(row["compute"]) / float(row["k"]), str(row["compute_unit"])


def _source_name(loaded: Loaded) -> str:
    names = [s.strip().rstrip("/").split("/")[-1] for s in loaded.source.split(",")]
    text = ", ".join(names)
    return text if len(text) <= 70 else text[:69] + "…"


def _subtitle(loaded: Loaded, counts: QuestionCounts) -> str:
    return (
        f"harness {__version__} · source: {loaded.source} ({loaded.format}) · {len(counts.models)} "
        f"model(s), {counts.n_questions} (model, question) rows, {int(counts.n.sum()):,} samples"
    )


def _questions_table(counts: QuestionCounts, analysis: Any) -> pd.DataFrame:
    base = counts.to_frame()
    q = _frame(analysis, "questions")
    if q is None:
        return base
    extra = [c for c in base.columns if c not in q.columns or c in ("model", "question_id")]
    return q.merge(base[extra], on=["model", "question_id"], how="left")


def _densities(analysis: Any, model: str) -> pd.DataFrame | None:
    """Fitted densities of p from the analysis, when it offers them (``densities(model)`` or a table)."""
    if analysis is None:
        return None
    fn = getattr(analysis, "densities", None)
    if callable(fn):
        try:
            out = fn(model)
        except (TypeError, ValueError, KeyError):
            return None
        return out if isinstance(out, pd.DataFrame) else None
    return _density_from_fits(_frame(analysis, "fits"), model)


def _density_from_fits(fits: pd.DataFrame | None, model: str) -> pd.DataFrame | None:
    """Beta densities for fits whose params JSON has a, b (and optional point masses pi0/pi1, a scale)."""
    if fits is None or len(fits) == 0 or "params" not in fits.columns:
        return None
    from scipy import stats

    grid = np.concatenate([np.geomspace(1e-6, 0.01, 120, endpoint=False), np.linspace(0.01, 0.9975, 200)])
    frames = []
    for _, row in fits[fits["model"] == model].iterrows():
        try:
            params = json.loads(str(row["params"]))
        except (TypeError, ValueError):
            continue
        if not isinstance(params, dict):
            continue
        a = params.get("alpha", params.get("a"))
        b = params.get("beta", params.get("b"))
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or a <= 0 or b <= 0:
            continue
        scale = float(params.get("scale", 1.0) or 1.0)  # scaled beta: p = scale x Beta(a, b)
        mass = (
            1.0
            - float(params.get("pi0", params.get("w0", 0.0)) or 0.0)
            - float(params.get("pi1", params.get("w1", 0.0)) or 0.0)
        )
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "fit": str(row["fit"]),
                    "p": grid,
                    "density": mass * stats.beta.pdf(grid / scale, a, b) / scale,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else None


def _extrapolation_sentences(analysis: Any, counts: QuestionCounts, factor: int = 100) -> tuple[str, ...]:
    """Per model: how far the fitted distributions disagree about pass@k at ``factor`` x the largest n."""
    fit_range = getattr(analysis, "fit_range", None)
    if not isinstance(fit_range, pd.DataFrame) or len(fit_range) == 0:
        return ()
    out = []
    for model in counts.models[:10]:
        n_max = int(counts.select(model).n.max())
        part = fit_range[(fit_range["model"] == model) & (fit_range["metric"] == "pass@k")]
        beyond = part[part["k"] >= factor * n_max]
        if len(beyond) == 0:
            beyond = part[part["k"] > n_max]
        if len(beyond) == 0:
            continue
        row = beyond.sort_values("k").iloc[0]
        out.append(
            f"{model}: at k = {int(row['k']):,} samples ({int(row['k']) / n_max:.0f} × the logged n) the "
            f"fitted distributions predict pass@k from {float(row['fit_min']):.3f} to "
            f"{float(row['fit_max']):.3f} ({100 * float(row['fit_range']):.1f} pp apart)."
        )
    return tuple(out)


def _model_paragraphs(model: str, slopes: pd.DataFrame, spread: pd.DataFrame, primary: str) -> tuple[str, ...]:
    out = []
    sp = spread[spread["model"] == model]
    if len(sp):
        r = sp.iloc[0]
        out.append(
            f"{int(r['questions'])} questions; mean p̂ {r['mean_p']:.3f}; p̂ = 0 for {r['share_p0']:.0%}, 0 "
            f"< p̂ < 1 for {r['share_between']:.0%}, p̂ = 1 for {r['share_p1']:.0%}."
        )
    for metric in ("pass@k", "maj@k"):
        s = slopes[(slopes["model"] == model) & (slopes["metric"] == metric)]
        if len(s) < 3:
            continue
        m = s[s["kind"] == "measured"].iloc[0]
        i = s[s["kind"] == "iid"].iloc[0]
        d = s[s["kind"] == "measured - iid"].iloc[0]
        out.append(
            f"{metric}: measured slope {_pp(m['slope_pp_per_decade'])} pp/decade (95% CI "
            f"{_pp(m['ci_low_pp'])} to {_pp(m['ci_high_pp'])}), i.i.d. {_pp(i['slope_pp_per_decade'])} (CI "
            f"{_pp(i['ci_low_pp'])} to {_pp(i['ci_high_pp'])}), difference {_pp(d['slope_pp_per_decade'])} "
            f"(CI {_pp(d['ci_low_pp'])} to {_pp(d['ci_high_pp'])}) over k = "
            f"{int(m['k_min'])}–{int(m['k_max'])}. For pass@k the i.i.d. plug-in 1-(1-c/n)^k sits below the "
            "unbiased estimate near k = n (Jensen), so a small positive difference is expected and says "
            "nothing about dependence."
            if metric == "pass@k"
            else f"{metric}: measured slope {_pp(m['slope_pp_per_decade'])} pp/decade (95% CI "
            f"{_pp(m['ci_low_pp'])} to {_pp(m['ci_high_pp'])}), i.i.d. {_pp(i['slope_pp_per_decade'])} (CI "
            f"{_pp(i['ci_low_pp'])} to {_pp(i['ci_high_pp'])}), difference {_pp(d['slope_pp_per_decade'])} "
            f"(CI {_pp(d['ci_low_pp'])} to {_pp(d['ci_high_pp'])}) over k = "
            f"{int(m['k_min'])}–{int(m['k_max'])}."
        )
    return tuple(out)


def _vote_failures(questions: pd.DataFrame) -> pd.DataFrame | None:
    need = {"model", "question_id", "n", "c", "top_wrong"}
    if not need <= set(questions.columns):
        return None
    bad = questions[questions["top_wrong"] > questions["c"]].copy()
    if len(bad) == 0:
        return None
    bad["margin"] = bad["c"] - bad["top_wrong"]
    cols = [
        c
        for c in (
            "model",
            "question_id",
            "n",
            "c",
            "top_wrong",
            "margin",
            "correct_answer",
            "top_wrong_answer",
        )
        if c in bad.columns
    ]
    return bad.sort_values(["model", "margin"])[cols]


def _sections(
    loaded: Loaded,
    counts: QuestionCounts,
    facts: pd.DataFrame,
    slopes: pd.DataFrame,
    spread: pd.DataFrame,
    fits: pd.DataFrame,
    outcome: AnalysisOutcome,
    questions: pd.DataFrame,
    per_model: list[Section],
    figs: list[ReportFigure],
    has_group: bool,
    has_budget: bool,
    dep_fig: str | None,
    opt: ReportOptions,
    models_section: Section | None,
) -> list[Section]:
    analysis = outcome.analysis
    interval = (
        f"{opt.level:.0%} percentile bootstrap over questions, {opt.bootstrap} replicates, seed {opt.seed}"
        if opt.bootstrap > 0
        else "no intervals (bootstrap 0)"
    )
    sections: list[Section] = []
    data_par = [
        f"Read {loaded.source} as {loaded.format}: {len(counts.models)} model(s), {counts.n_questions} "
        f"(model, question) rows, {int(counts.n.sum()):,} samples."
    ]
    data_par.append(
        "Answer classes are known, so majority vote is defined."
        if counts.answers_known
        else "Only correct counts are known (no answers), so the measured majority vote is not defined for these "
        "data; the maj@k panels show what voting would give from p alone at the two wrong-answer extremes."
    )
    data_par.extend(loaded.notes)
    note = _stopping_note(counts)
    if note:
        data_par.append(note)
    sections.append(
        Section(
            "Data",
            tuple(data_par),
            tables=(
                ReportTable(
                    facts.drop(columns=["estimator"]),
                    "Per model: questions, samples per question, mean p̂, and the exact measured pass@k / "
                    f"maj@k at the largest k every question reaches (ties {opt.ties}).",
                    csv="models.csv",
                ),
            ),
            anchor="data",
        )
    )
    sections.append(
        Section(
            "Slopes per decade: measured against independent sampling",
            (
                "Least-squares slope of the mean curve on log10 k over the measured range; kind 'measured "
                f"- iid' is the paired difference. Intervals: {interval}. Straight window: the longest run "
                "of k values whose own line stays within 1 pp of every point.",
            ),
            tables=(
                ReportTable(
                    slopes.drop(columns=["estimator"]),
                    "Slopes, intervals, residuals and rises in percentage points (pp).",
                    csv="slopes.csv",
                ),
                ReportTable(spread.drop(columns=["estimator"]), "Spread of per-question p̂.", csv="p_spread.csv"),
            ),
            anchor="slopes",
        )
    )
    sections.extend(per_model)
    if models_section is not None:
        sections.append(models_section)
    # fits and extrapolation
    if analysis is None:
        sections.append(
            Section(
                "Spread of p: fits and extrapolation",
                (
                    f"Not computed: {outcome.reason}. Without a fitted distribution of p there is no "
                    "extrapolation beyond the logged n in this report; fits.csv is written with its header "
                    "only.",
                ),
                anchor="fits",
            )
        )
    else:
        plateaus = _frame(analysis, "plateaus")
        tables = [
            ReportTable(
                fits,
                "Fits of the distribution of p across questions (log-likelihood, AIC, goodness of fit of "
                "the histogram of c).",
                csv="fits.csv",
            )
        ]
        if plateaus is not None:
            tables.append(
                ReportTable(
                    plateaus,
                    "Plateaus pass@inf and maj@inf and the power-law exponent of -log(pass@k).",
                    csv="plateaus.csv",
                )
            )
        shape = _frame(analysis, "shape")
        if shape is not None:
            shown = [c for c in _SHAPE_SHOWN if c in shape.columns]
            tables.append(
                ReportTable(
                    shape[shown],
                    "Shape diagnostics from the analysis (slope and curvature per decade of compute, as fractions; "
                    "bootstrap intervals for measured and i.i.d. rows; the full table with every interval and the "
                    "2 pp windows is in shape.csv).",
                    csv="shape.csv",
                )
            )
        sections.append(
            Section(
                "Spread of p: fits and extrapolation",
                (
                    "A pass@k table up to n identifies only n moments of the distribution of p; beyond the "
                    "logged n every number comes from a model, and the spread between the fits is the "
                    "extrapolation uncertainty.",
                    *_extrapolation_sentences(analysis, counts),
                ),
                tables=tuple(tables),
                anchor="fits",
            )
        )
    # tests
    test_par = []
    dep_text, _ = _dependence_verdict(analysis)
    if has_group:
        test_par.append("Dependence across groups: " + (dep_text or outcome.reason or "no result."))
    else:
        test_par.append(
            "Dependence test: not run, the data have no group column (batch, seed, prompt variant or time). "
            "A random split of exchangeable samples would be no test, so none is shown."
        )
    if has_budget:
        budget = _frame(analysis, "budget")
        reason = str(getattr(analysis, "budget_reason", "") or "") if analysis is not None else outcome.reason
        test_par.append(
            "Thinking longer vs sampling at matched compute: "
            + ("see the budget table." if budget is not None else reason or "no result.")
        )
    else:
        test_par.append(
            "Budget test (thinking longer vs sampling at matched compute): not run, the data have no budget column."
        )
    test_tables = []
    for name, caption in (("dependence", "Dependence tests."), ("budget", "Longer thinking vs sampling.")):
        frame = _frame(analysis, name)
        if frame is not None:
            test_tables.append(ReportTable(frame, caption, csv=f"{name}.csv"))
    sections.append(
        Section(
            "Tests that could fail",
            tuple(test_par),
            figures=(dep_fig,) if dep_fig else (),
            tables=tuple(test_tables),
            anchor="tests",
        )
    )
    failures = _vote_failures(questions)
    if failures is not None:
        sections.append(
            Section(
                "Where the vote goes wrong",
                (
                    f"{len(failures)} (model, question) rows where the strongest wrong answer has more "
                    "votes than the correct one: maj@k tends to 0 for these as k grows. Answers are shown "
                    "as logged.",
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
        )
    sections.append(
        Section(
            "How every number was made",
            (
                "pass@k: unbiased 1 − C(n−c,k)/C(n,k) over all k-subsets (Chen et al. 2021); i.i.d.: 1 − (1 − c/n)^k.",
                "maj@k: exact mean over all k-subsets (a U-statistic, unbiased for i.i.d. maj@k); i.i.d.: "
                f"exact multinomial from the answer shares; ties: {opt.ties}. Binary extremes: all wrong "
                "answers agree (Condorcet) and all differ, from c/n alone.",
                "pass^k: C(c,k)/C(n,k); i.i.d.: (c/n)^k.",
                f"Intervals: {interval}; the questions are the independent units and every k point shares them.",
                "Files: "
                + ", ".join(f"{n}.csv" for n in ("curves", "questions", "fits", "slopes", "p_spread", "models"))
                + ", summary.json, figures/*.png and *.svg.",
            ),
            anchor="methods",
        )
    )
    return sections


__all__ = ["SLOPE_COLUMNS", "ReportOptions", "build_report", "headline"]
