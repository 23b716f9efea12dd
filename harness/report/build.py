"""Build a report from loaded data: curves, i.i.d. predictions, slopes, the analysis and tests, figures,
headline.

:func:`build_report` is pure apart from rendering figures in memory; :func:`harness.report.write.write_report`
writes the files. The headline (harness.report.headline) answers the mission question for the data first, with a
verdict per model and metric from tests that could fail; the sections (harness.report.sections) give the evidence.
Every number shown is a cell of a table that is also written as CSV with the way it was made.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from harness import __version__
from harness._validation import HarnessInputError, check_choice
from harness.analysis import DEFAULT_EXTRAPOLATE, Analysis, ModelPrefetch, analyse, first_block_counts
from harness.curves import CURVE_COLUMNS, compute_curves, default_ks, model_parts
from harness.diagnostics.verdict import DEFAULT_MARGIN_PP
from harness.estimators.majority import TIES
from harness.loaders import Loaded
from harness.models.spread import FIT_NAMES
from harness.report import figures as fig_lib
from harness.report import sections as sec
from harness.report.document import Report, ReportFigure, ReportTable, Section
from harness.report.headline import SIGMOID_WIDTH_DECADES, data_line, headline_lines, verdict_section
from harness.report.order_figure import first_k_figure
from harness.report.tables import SLOPE_COLUMNS, binary_extreme_curves, p_spread, sigmoid_table, slope_table
from harness.tables import QuestionCounts

Progress = Callable[[str], None] | None
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
MODEL_ORDERS = ("given", "name")


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
    """Per-model figures are drawn for the first this-many models; every model still gets its section, which says
    where its numbers are when its figures are not drawn."""
    title: str | None = None
    fits: tuple[str, ...] | None = None
    """Distributions of p the analysis fits (None: all it offers)."""
    margin_pp: float = DEFAULT_MARGIN_PP
    """The verdict's practical margin (pp per decade of slope; pp of accuracy at any k)."""
    reference: str | None = None
    """The model every other is compared with (None: the first in the stated order)."""
    order: str = "given"
    """Model order: 'given' (as the inputs list them) or 'name' (alphabetical); the reference goes first."""
    order_test: bool = True
    """Run the sample-order tests where per-sample rows exist."""


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


def ordered(counts: QuestionCounts, order: str, reference: str | None) -> tuple[QuestionCounts, str]:
    """The counts with models in the stated order (reference first) and a sentence saying which rule applied."""
    check_choice("order", order, MODEL_ORDERS)
    names = counts.models
    if reference is not None and reference not in names:
        raise HarnessInputError(
            f"--reference {reference!r} is not a model of these data", fix=f"use one of: {', '.join(names)}"
        )
    seq = sorted(names, key=lambda m: (m.casefold(), m)) if order == "name" else list(names)
    if reference is not None:
        seq = [reference, *[m for m in seq if m != reference]]
    rank = {m: i for i, m in enumerate(seq)}
    codes, names_seen = pd.factorize(counts.model)  # one hash pass; a rank per distinct name, not per row
    idx = np.argsort(np.array([rank[m] for m in names_seen], np.int64)[codes], kind="stable")
    rule = (
        f"Models in {'alphabetical' if order == 'name' else 'input'} order (--order {order}); reference "
        f"{seq[0]}" + (" (--reference)" if reference is not None else " (the first; set it with --reference)") + "."
    )
    return counts.take(idx), rule


# --------------------------------------------------------------------------------------------- analysis
@dataclass(frozen=True)
class AnalysisOutcome:
    """The analysis' result (or None) and, when it failed or was not run, the plain reason."""

    analysis: Analysis | None
    reason: str


def run_analysis(
    counts: QuestionCounts,
    curves: pd.DataFrame,
    rollouts: pd.DataFrame | None,
    options: ReportOptions,
    progress: Progress,
    prefetched: ModelPrefetch | None = None,
) -> AnalysisOutcome:
    if progress is not None:
        progress("analysis: p intervals, fits of the spread of p, shape diagnostics, tests")
    result = analyse(
        counts,
        curves=curves,
        rollouts=rollouts,
        bootstrap=options.bootstrap,
        seed=options.seed,
        progress=progress,
        ties=options.ties,
        margin_pp=options.margin_pp,
        order_test=options.order_test,
        level=options.level,
        fits=options.fits if options.fits is not None else FIT_NAMES,
        prefetched=prefetched,
    )
    return AnalysisOutcome(result, "")


def _budget_sentence(analysis: Analysis | None) -> str:
    """One sentence per model on thinking longer vs sampling more at matched compute ('' when no table)."""
    budget = analysis.budget if analysis is not None else None
    if budget is None or len(budget) == 0 or "verdict" not in budget.columns:
        return ""
    out = []
    for model, part in budget.groupby("model", sort=False):
        wins = part[part["verdict"].astype(str).str.startswith("thinking longer beats")]
        loses = part[part["verdict"].astype(str).str.startswith("majority voting beats")]
        out.append(
            f"{model}: over {len(part)} budgets (Holm-adjusted), thinking longer beats majority voting at matched "
            f"compute at {len(wins)}, loses at {len(loses)}, and shows no difference at "
            f"{len(part) - len(wins) - len(loses)}."
        )
    return "Thinking longer vs sampling: " + " ".join(out)


def _model_facts(counts: QuestionCounts, curves: pd.DataFrame, ties: str) -> pd.DataFrame:
    """Per model: questions, n range, mean p̂, and the measured pass@n / maj@n at the largest common k."""
    rows = []
    for model, sub in model_parts(counts).items():
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


# --------------------------------------------------------------------------------------------- build
def build_report(loaded: Loaded, options: ReportOptions | None = None, *, progress: Progress = None) -> Report:
    """Every table, figure and sentence of the report for the loaded data (nothing is written).

    The spread fits and structured maj@k predictions, the costliest step, run in a background thread from the
    start (``ModelPrefetch``) while this one computes the curves. BLAS is held to one thread throughout: the fits
    set it so, and the limit is process-wide, so without it the bootstrap's matrix products would run on one or two
    threads by timing and change in their last digits from run to run (one thread also measured faster for them
    here)."""
    opt = options or ReportOptions()
    check_choice("ties", opt.ties, TIES)
    counts, order_rule = ordered(loaded.counts, opt.order, opt.reference)
    fits = opt.fits if opt.fits is not None else FIT_NAMES
    with threadpool_limits(limits=1, user_api="blas"):
        prefetched = ModelPrefetch(counts, fits, DEFAULT_EXTRAPOLATE, opt.ties) if set(fits) <= set(FIT_NAMES) else None
        try:
            return _build(loaded, opt, counts, order_rule, progress, prefetched)
        finally:
            if prefetched is not None:
                prefetched.close()


def _build(
    loaded: Loaded, opt: ReportOptions, counts: QuestionCounts, order_rule: str, progress: Progress,
    prefetched: ModelPrefetch | None,
) -> Report:
    models = counts.models
    rollouts = loaded.rollouts
    has_group = _has_column(rollouts, "group")
    has_budget = _has_column(rollouts, "budget")
    if progress is not None:
        progress(f"curves for {len(models)} model(s), {counts.n_questions} question rows")
    measured_counts = first_block_counts(counts)  # = counts unless a first-success-block stopping rule applies
    metrics = ("pass@k", "maj@k", "pass^k") if measured_counts.answers_known else ("pass@k", "pass^k")
    curves = compute_curves(
        measured_counts,
        metrics=metrics,
        ties=opt.ties,
        compute=opt.compute,
        bootstrap=opt.bootstrap,
        level=opt.level,
        seed=opt.seed,
        progress=progress,
    )
    ks_by_model = {m: default_ks(int(sub.n.max())) for m, sub in model_parts(measured_counts).items()}
    scale = {m: _scale_of(curves, m) for m in models}
    if progress is not None:
        progress("maj@k from p alone at both wrong-answer extremes")
    extremes = binary_extreme_curves(
        measured_counts,
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
    slopes = slope_table(
        measured_counts, ks_by_model, ties=opt.ties, bootstrap=opt.bootstrap, level=opt.level, seed=opt.seed
    )
    spread = p_spread(measured_counts)
    facts = _model_facts(counts, curves, opt.ties)  # n and stopping as logged; the curves are first-block
    outcome = run_analysis(counts, curves, rollouts, opt, progress, prefetched)
    analysis = outcome.analysis
    for extra in (
        analysis.predictions if analysis is not None else None,
        analysis.order_curves if analysis is not None else None,
    ):
        if extra is not None and len(extra):
            curves_all = pd.concat([curves_all, extra.reindex(columns=list(CURVE_COLUMNS))], ignore_index=True)
    questions = _questions_table(counts, analysis)
    fits = analysis.fits if analysis is not None else pd.DataFrame(columns=list(FIT_COLUMNS))

    if progress is not None:
        progress("figures")
    used: set[str] = set()
    figs: list[ReportFigure] = []
    per_model_sections: list[Section] = []
    for i, model in enumerate(models):
        stem = slug(model, used)
        names: tuple[str, ...] = ()
        if i < opt.max_model_figures:
            model_figs = _model_figures(model, stem, counts, curves, curves_all, slopes, questions, analysis, scale)
            figs.extend(model_figs)
            names = tuple(f.name for f in model_figs)
        per_model_sections.append(sec.model_section(model, stem, slopes, spread, names, opt.max_model_figures))
    models_section, comparison_tables = (
        _models_section(counts, curves, figs, opt, order_rule) if len(models) > 1 else (None, {})
    )
    dep_fig = _dependence_figure(analysis, figs)

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
        "slopes": "least-squares slope per decade of the mean curve: measured and i.i.d. (equal up to O(k/n))",
        "p_spread": "shares of questions with p̂ = 0, between, = 1; decades of log10 p̂ (10th–90th pct) and log10 n",
        "models": "headline numbers per model (measured at the largest k every question reaches)",
    }
    if comparison_tables:
        notes["comparison"] = "every model against the reference at matched compute: values, difference, interval"
        notes["crossings"] = "where the difference changes sign between budgets"
    if analysis is not None:
        for name, frame in (
            ("verdict", analysis.verdict),
            ("order", analysis.order),
            ("plateaus", analysis.plateaus),
            ("shape", analysis.shape),
            ("local_slope", analysis.local_slope),
            ("decomposition", analysis.decomposition),
            ("dependence", analysis.dependence),
            ("budget", analysis.budget),
        ):
            if frame is not None:
                tables[name] = frame
                notes[name] = f"from harness.analysis ({name})"

    extra_lines = tuple(
        line
        for line in (
            data_line(facts),
            _budget_sentence(analysis),
            sec.stopping_note(counts),
            order_rule if len(models) > 1 else "",
        )
        if line
    )
    head = headline_lines(
        counts,
        analysis,
        outcome.reason,
        slopes,
        spread,
        has_group=has_group,
        has_budget=has_budget,
        has_rollouts=rollouts is not None,
        margin_pp=opt.margin_pp,
        extra=extra_lines,
    )
    interval = sec.interval_text(opt.level, opt.bootstrap, opt.seed)
    sections = [
        s
        for s in (
            verdict_section(analysis, slopes),
            sec.data_section(loaded, counts, facts, opt.ties),
            sec.slopes_section(slopes, spread, interval),
            *per_model_sections,
            models_section,
            sec.fits_section(analysis, outcome.reason, counts, fits),
            sec.tests_section(analysis, outcome.reason, has_group, has_budget, dep_fig),
            sec.vote_section(questions),
            sec.methods_section(opt.ties, interval),
        )
        if s is not None
    ]
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
            "margin_pp": opt.margin_pp,
            "order": opt.order,
            "reference": models[0],
        },
        "models": json.loads(facts.to_json(orient="records")),
        "slopes": json.loads(slopes.to_json(orient="records")),
        "verdicts": json.loads(analysis.verdict.to_json(orient="records"))
        if analysis is not None and analysis.verdict is not None
        else [],
        "analysis": "included" if analysis is not None else outcome.reason,
        "tests": {
            "order": analysis.order_reason if analysis is not None else outcome.reason,
            "dependence": "needs a group column"
            if not has_group
            else (analysis.dependence_reason if analysis is not None else outcome.reason),
            "budget": "needs a budget column"
            if not has_budget
            else (analysis.budget_reason if analysis is not None else outcome.reason),
        },
        "notes": list(loaded.notes) + list(analysis.notes if analysis is not None else ()),
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


def _model_figures(
    model: str,
    stem: str,
    counts: QuestionCounts,
    curves: pd.DataFrame,
    curves_all: pd.DataFrame,
    slopes: pd.DataFrame,
    questions: pd.DataFrame,
    analysis: Analysis | None,
    scale: dict[str, tuple[float, str]],
) -> list[ReportFigure]:
    """The per-model figures: curves, sigmoids, p̂ histogram, straight line, decomposition, extrapolation."""
    sub = model_parts(counts)[model]
    sigmoid_ks = np.unique(np.round(np.geomspace(1, max(2, int(counts.n.max())) * 10, 60)).astype(np.int64))
    figs = [
        ReportFigure(
            f"curves-{stem}",
            f"{model}: measured curves and the i.i.d. predictions on a log compute axis, with 95% bootstrap bands "
            "over questions; for maj@k also the binomial prediction from p alone at both wrong-answer extremes.",
            fig_lib.curves_figure(curves_all[curves_all["kind"].isin(fig_lib.KIND_STYLES)], model=model),
        ),
        ReportFigure(
            f"sigmoids-{stem}",
            f"{model}: each question's pass@k = 1-(1-p̂)^k is a sigmoid in log k; their mean over questions is the "
            "aggregate curve.",
            fig_lib.sigmoids_figure(sigmoid_table(sub, sigmoid_ks)),
        ),
        ReportFigure(
            f"p-histogram-{stem}",
            f"{model}: per-question success share p̂ = c/n, linear and log scale"
            + (
                " (with the fitted beta-family densities of p; the nonparametric fit is discrete and is not drawn)"
                if analysis is not None
                else ""
            )
            + ".",
            fig_lib.p_histogram_figure(
                questions, model=model, densities=_density_from_fits(analysis.fits if analysis else None, model)
            ),
        ),
    ]
    line_rows = curves[(curves["model"] == model) & (curves["metric"] == "pass@k") & (curves["kind"] == "measured")]
    srow = slopes[(slopes["model"] == model) & (slopes["metric"] == "pass@k") & (slopes["kind"] == "measured")]
    if len(line_rows) >= 3:
        window = None
        if len(srow) and int(srow["window_k_min"].iloc[0]) > 0:  # 0: no run of 3 points within 1 pp
            sc = scale[model][0]
            window = (float(srow["window_k_min"].iloc[0]) * sc, float(srow["window_k_max"].iloc[0]) * sc)
        figs.append(
            ReportFigure(
                f"straight-{stem}",
                f"{model}: measured pass@k with its least-squares line in log10 compute, the residuals, and the "
                "longest window within 1 pp of a straight line (shaded, dashed edges).",
                fig_lib.straight_line_figure(line_rows, window=window),
            )
        )
    if analysis is None:
        return figs
    oc = analysis.order_curves
    if oc is not None and bool((oc["model"] == model).any()):
        figs.append(
            ReportFigure(
                f"first-k-{stem}",
                f"{model}: the first-k curve (each question's first k samples in logged order, what a user running "
                "them in order sees) beside the exchangeable curve over all k-subsets, with 95% bootstrap bands; "
                "independent sampling makes them equal in expectation (the order test in the verdict).",
                first_k_figure(curves_all, model=model),
            )
        )
    dec = analysis.decomposition
    if len(dec) and bool(((dec["model"] == model) & (dec["metric"] == "pass@k") & (dec["kind"] == "measured")).any()):
        figs.append(
            ReportFigure(
                f"decomposition-{stem}",
                f"{model}: the slope of the measured pass@k in each decade of k, split by the questions' p̂ (from the "
                "analysis' decomposition table): each decade's rise comes from the questions whose sigmoid is "
                "centred there.",
                fig_lib.decomposition_figure(dec, model=model),
            )
        )
    pred = analysis.predictions
    if bool(
        (
            (pred["model"] == model) & pred["kind"].astype(str).str.startswith("fit:") & (pred["metric"] == "pass@k")
        ).any()
    ):
        figs.append(
            ReportFigure(
                f"extrapolation-{stem}",
                f"{model}: pass@k predicted by each fitted distribution of p beyond the logged n; the spread between "
                "fits is the extrapolation uncertainty.",
                fig_lib.extrapolation_figure(curves_all, model=model),
            )
        )
    return figs


def _dependence_figure(analysis: Analysis | None, figs: list[ReportFigure]) -> str | None:
    """D(k) across the group column with its bootstrap interval (appended to ``figs``), or None."""
    dependence = analysis.dependence if analysis is not None else None
    if dependence is None or not {"test", "k", "estimate", "ci_low", "ci_high"} <= set(dependence.columns):
        return None
    curve_d = _one_d_per_metric(dependence)
    if len(curve_d) == 0:
        return None
    figs.append(
        ReportFigure(
            "dependence",
            "D(k) = within-group minus pooled curve for each curve-level test ("
            + ", ".join(dict.fromkeys(curve_d["test"].astype(str)))
            + "), with its bootstrap interval over questions where replicates were drawn (the permutation rows "
            "carry none); zero is what exchangeable sampling predicts.",
            fig_lib.dependence_figure(curve_d.rename(columns={"estimate": "value"})),
        )
    )
    return "dependence"


def _one_d_per_metric(dependence: pd.DataFrame) -> pd.DataFrame:
    """The D(k) rows to draw: the bootstrap rows ``curve_D(metric)`` (with intervals), and the permutation rows
    ``curve_D_perm(metric)`` (same D, no interval) only for a metric without bootstrap rows."""
    test = dependence["test"].astype(str)
    boot = dependence[test.str.startswith("curve_D(")]
    perm = dependence[test.str.startswith("curve_D_perm(")]
    covered = {t.removeprefix("curve_D") for t in boot["test"].astype(str)}
    perm = perm[~perm["test"].astype(str).str.removeprefix("curve_D_perm").isin(covered)]
    return pd.concat([p for p in (boot, perm) if len(p)], ignore_index=True) if len(boot) + len(perm) else boot


MAX_COMPARED_MODELS = 8


def _models_section(
    counts: QuestionCounts, curves: pd.DataFrame, figs: list[ReportFigure], opt: ReportOptions, order_rule: str
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
    paragraphs = [f"Measured curves of every model at matched {opt.compute}. {order_rule}"]
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


def _questions_table(counts: QuestionCounts, analysis: Analysis | None) -> pd.DataFrame:
    base = counts.to_frame()
    if analysis is None:
        return base
    q = analysis.questions
    extra = [c for c in base.columns if c not in q.columns or c in ("model", "question_id")]
    return q.merge(base[extra], on=["model", "question_id"], how="left")


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


__all__ = ["SIGMOID_WIDTH_DECADES", "SLOPE_COLUMNS", "ReportOptions", "build_report", "optional_module"]
