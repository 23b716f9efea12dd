"""The report's first screen: the verdict per model and metric, the shape facts, a glossary, the limits.

Pure functions from tidy tables (and the analysis' verdicts) to plain-text lines; no I/O. Every model appears:
one line per model when there are few, one line per outcome listing every model's name when there are many
(the verdict table right below the headline holds every number). "Explained by", "consistent with" and "departs
from" appear only where a test ran (harness.diagnostics.verdict).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harness.analysis import Analysis
from harness.diagnostics.verdict import Verdict, fmt, fmt_ci
from harness.report.document import ReportTable, Section
from harness.tables import QuestionCounts

SIGMOID_WIDTH_DECADES = math.log10(math.log(10) / math.log(10 / 9))
"""Decades of k over which one question's pass@k = 1-(1-p)^k rises from 10% to 90% (for small p): 1.34."""
MAX_MODEL_LINES = 8
"""Up to this many models get a line each in the headline; beyond, one line per outcome names them all."""

GLOSSARY: tuple[str, ...] = (
    "p̂ (p-hat): a question's share of correct samples, c correct out of n; it estimates the chance that one "
    "sample is right.",
    "decade: a factor of 10 in the number of samples k (1 to 10, 10 to 100); slope per decade: how many "
    "percentage points (pp, hundredths of accuracy) the curve gains per decade.",
    "R²: how close the points lie to a straight line on the log-k axis (1 = exactly); meaningless for a flat "
    "curve, which is called flat instead.",
    "O(k/n): a difference that shrinks like k divided by the logged n, the size of the plug-in i.i.d. "
    "prediction's bias near k = n.",
    "first-k curve: the accuracy a user gets by running each question's samples in the logged order and "
    "stopping after k; under independent sampling it matches, on average, the curve over all k-subsets.",
)


def verdict_short(v: Verdict) -> str:
    """One verdict in a few words with its key numbers: the axis, the Holm p, the tests' measured size and what
    the test could have seen (consistent) or the effect with its interval and the rejecting test (otherwise)."""
    if v.outcome == "not tested":
        return f"{v.metric} not tested"
    size = f", size <= {v.measured_size:.1%}" if np.isfinite(v.measured_size) else ""
    if v.outcome == "consistent":
        mde = f", could have seen ±{fmt(v.mde_pp_per_decade)} pp/decade" if np.isfinite(v.mde_pp_per_decade) else ""
        return f"{v.metric} consistent with independent sampling ({v.axis} axis, p = {v.p_value:.2g}{size}{mde})"
    lo, hi = v.slope_diff_ci_pp
    ci = f" ({fmt_ci(lo, hi)})" if np.isfinite(lo) and np.isfinite(hi) else ""
    gap = fmt(v.effect_pp, *v.effect_ci_pp, unit="signed")
    effect = f"slope {fmt(v.slope_diff_pp, lo, hi, unit='signed')} pp/decade{ci}, gap {gap} pp at k = {v.effect_k}"
    test = f"{v.test.split(', ')[0]} ({v.axis} axis) p = {v.p_value:.2g}{size}"
    if v.outcome == "departs":
        return f"{v.metric} departs from independent sampling ({effect}; {test})"
    if v.outcome == "unresolved":
        return f"{v.metric} rejects exchangeability, effect on the curve unresolved ({effect}; {test})"
    margin = fmt(v.margin_pp)
    return f"{v.metric} significant but negligible ({effect}, within the {margin} pp margin; {test})"


def shape_sentence(model: str, slopes: pd.DataFrame, spread: pd.DataFrame, margin_pp: float) -> str:
    """The measured pass@k in plain words: its rise, a line only when it rises, and the spread of p̂ (with n's cap)."""
    s = slopes[(slopes["model"] == model) & (slopes["metric"] == "pass@k") & (slopes["kind"] == "measured")]
    sp = spread[spread["model"] == model]
    if len(s) == 0:
        return "too few k values for a slope"
    m = s.iloc[0]
    rise = float(m["slope_pp_per_decade"]) * float(m["decades"])
    k_range = f"k = {int(m['k_min'])}–{int(m['k_max'])}"
    if abs(rise) < margin_pp:
        text = f"pass@k is flat: it rises {fmt(rise)} pp over {k_range}, less than the {fmt(margin_pp)} pp margin"
    else:
        text = (
            f"pass@k rises {fmt(float(m['slope_pp_per_decade']), float(m['ci_low_pp']), float(m['ci_high_pp']))} pp "
            f"per decade of samples ({k_range}, {fmt_ci(float(m['ci_low_pp']), float(m['ci_high_pp']))}); R² "
            f"{float(m['r2']):.2f}"
        )
    if len(sp) and np.isfinite(float(sp.iloc[0]["decades_10_90"])):
        r = sp.iloc[0]
        text += (
            f"; p̂ spreads over {float(r['decades_10_90']):.1f} decades (at most {float(r['decades_cap']):.1f} "
            "with this n)"
        )
    if float(m["decades"]) < 1.0:
        text += f"; only {float(m['decades']):.1f} decades of k logged, too short to tell a line from an S-curve"
    return text


def verdict_lines(
    counts: QuestionCounts, verdicts: tuple[Verdict, ...], slopes: pd.DataFrame, spread: pd.DataFrame, margin_pp: float
) -> list[str]:
    """One line per model (few models) or per outcome (many), covering every model."""
    by_model: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_model.setdefault(v.model, []).append(v)
    models = counts.models
    if len(models) == 1:
        model = models[0]
        out = [f"What the curve looks like: {shape_sentence(model, slopes, spread, margin_pp)}."]
        out.extend(v.text for v in by_model.get(model, []))
        return out
    if len(models) <= MAX_MODEL_LINES:
        return [
            f"{m}: " + "; ".join(verdict_short(v) for v in by_model.get(m, [])) + f". Shape: "
            f"{shape_sentence(m, slopes, spread, margin_pp)}."
            for m in models
        ]
    groups: dict[str, list[str]] = {}
    for m in models:
        key = "; ".join(verdict_short(v).split(" (")[0] for v in by_model.get(m, []))
        groups.setdefault(key, []).append(m)
    return [f"{key} — {len(ms)} model(s): {', '.join(ms)}." for key, ms in groups.items()] + [
        "The table 'Verdict per model' right below gives every model's test, p-value, detectable effect and slope."
    ]


def data_line(facts: pd.DataFrame) -> str:
    """For one model: questions, n, mean p̂ and the measured pass@n / maj@n ('' for several models)."""
    if len(facts) != 1:
        return ""
    one = facts.iloc[0]
    bits = [
        f"{int(one['questions'])} questions",
        f"n = {int(one['n_min'])}"
        + (f"–{int(one['n_max'])}" if one["n_max"] != one["n_min"] else "")
        + " samples each",
        f"mean p̂ = {one['mean_p']:.3f}",
    ]
    for key in ("pass", "maj"):
        if f"{key}_at_k" in facts.columns and np.isfinite(float(one.get(f"{key}_at_k", np.nan))):
            bits.append(f"{key}@{int(one[f'{key}_k'])} = {float(one[f'{key}_at_k']):.3f}")
    return "Data: " + ", ".join(bits) + " (exact estimators over all k-subsets of the logged samples)."


def limits_line(verdicts: tuple[Verdict, ...], has_group: bool, has_budget: bool, has_rollouts: bool) -> str:
    """What the data could not test and what would allow it."""
    if any(v.outcome != "not tested" for v in verdicts):
        axes = sorted({a for v in verdicts for a in v.axis.split("+") if a})
        return (
            "Measured and i.i.d. curves computed from the same pooled samples agree by construction up to O(k/n), so "
            "their agreement is no evidence; the verdicts above come from tests along the "
            + " and ".join(axes)
            + " axis, whose size and power are in docs/methods/verdict.md."
        )
    needs = []
    if not has_rollouts:
        needs.append("per-sample rows in the order drawn (a sample_id), which allow the order test")
    if not has_group:
        needs.append("a group column (batch, seed or prompt variant)")
    if not has_budget:
        needs.append("a budget column (reasoning budget) to compare thinking longer with sampling")
    return (
        "Nothing here could have failed: on the pooled samples the measured curve is itself the unbiased "
        "i.i.d. estimator, so measured and predicted agree by construction up to O(k/n). A test needs "
        + "; ".join(needs)
        + "."
    )


def headline_lines(
    counts: QuestionCounts,
    analysis: Analysis | None,
    analysis_reason: str,
    slopes: pd.DataFrame,
    spread: pd.DataFrame,
    *,
    has_group: bool,
    has_budget: bool,
    has_rollouts: bool,
    margin_pp: float,
    extra: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The first screen, in order: the question, the verdicts, extra lines (budget, stopping rule), the limits,
    the glossary."""
    verdicts = analysis.verdicts if analysis is not None else ()
    n_models = len(counts.models)
    lines = [
        "Does each accuracy-vs-samples curve show more than independent repeated sampling? Verdict per model"
        + (f" ({n_models} models)" if n_models > 1 else "")
        + f" and metric, from tests that could have failed; practical margin {fmt(margin_pp)} pp per decade "
        "(and 1 pp at any k). "
        f"One question's curve rises from 10% to 90% within {SIGMOID_WIDTH_DECADES:.2f} decades of samples; "
        "a test set whose questions differ in difficulty averages those S-curves into a straight-looking line."
    ]
    if not verdicts:
        lines.append(f"No verdict: the analysis did not run ({analysis_reason}).")
    lines.extend(verdict_lines(counts, verdicts, slopes, spread, margin_pp))
    lines.extend(extra)
    lines.append(limits_line(verdicts, has_group, has_budget, has_rollouts))
    lines.extend(f"Glossary — {g}" for g in GLOSSARY)
    return tuple(lines)


def verdict_section(analysis: Analysis | None, slopes: pd.DataFrame) -> Section | None:
    """The compact table of every model's verdict (first section after the headline)."""
    if analysis is None or analysis.verdict is None or len(analysis.verdict) == 0:
        return None
    t = analysis.verdict
    meas = slopes[slopes["kind"] == "measured"][["model", "metric", "slope_pp_per_decade", "ci_low_pp", "ci_high_pp"]]
    shown = t.merge(meas, on=["model", "metric"], how="left")[
        [
            "model",
            "metric",
            "outcome",
            "test",
            "p_value",
            "measured_size",
            "mde_pp_per_decade",
            "slope_diff_pp",
            "effect_pp",
            "effect_k",
            "slope_pp_per_decade",
            "ci_low_pp",
            "ci_high_pp",
        ]
    ].rename(
        columns={
            "p_value": "p (Holm)",
            "measured_size": "size (largest of its tests)",
            "mde_pp_per_decade": "detectable slope diff (pp/decade, 80% power)",
            "slope_diff_pp": "slope diff (pp/decade)",
            "effect_pp": "largest gap (pp)",
            "effect_k": "at k",
            "slope_pp_per_decade": "measured slope (pp/decade)",
        }
    )
    three = ("p (Holm)", "size (largest of its tests)")
    digits = {c: 3 if c in three else 1 for c in shown.columns if c not in ("model", "metric", "outcome", "test")}
    shown = shown.round(digits)  # display only; verdict.csv keeps full precision
    return Section(
        "Verdict per model",
        (
            "One row per model and metric. outcome: 'not tested' (no axis along which independence could fail was "
            "logged), 'consistent' (the tests ran and did not reject), 'negligible' (a test rejected but the effect "
            "is shown within the margin), 'unresolved' (a test rejected; the effect's interval reaches beyond the "
            "margin, so neither a negligible nor a material effect is shown), 'departs' (rejected and beyond the "
            "margin). size: the largest rejection rate under independent sampling measured for the family's tests "
            "(benchmarks/bench_verdict.py). Full texts and intervals in verdict.csv; method, size and power in "
            "docs/methods/verdict.md.",
        ),
        tables=(ReportTable(shown, "Verdict per model and metric.", csv="verdict.csv", max_rows=200),),
        anchor="verdict",
    )
