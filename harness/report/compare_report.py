"""The report of ``harness compare``: runs side by side at matched compute, from the comparison table."""

from __future__ import annotations

import json

import pandas as pd

from harness import __version__
from harness.compare import Comparison
from harness.loaders import Loaded
from harness.report import figures as fig_lib
from harness.report.document import Report, ReportFigure, ReportTable, Section


def pair_sentence(part: pd.DataFrame, crossings: pd.DataFrame) -> str:
    """Who is ahead at how many of the budgets, counting only budgets the table holds (each on a logged k of
    at least one run) and saying how many of them needed interpolation between logged k of the other."""
    a, b = str(part["model_a"].iloc[0]), str(part["model_b"].iloc[0])
    metric, unit = str(part["metric"].iloc[0]), str(part["compute_unit"].iloc[0])
    total = len(part)
    a_ahead = int((part["ahead"] == a).sum())
    b_ahead = int((part["ahead"] == b).sum())
    lo_c, hi_c = float(part["compute"].min()), float(part["compute"].max())
    biggest = part.iloc[int(part["difference"].abs().to_numpy().argmax())]
    between = int(part["interpolated"].sum()) if "interpolated" in part.columns else 0
    logged = (
        f"{total} budget{'s' if total != 1 else ''}, all at logged k"
        if between == 0
        else f"{total} budgets, {between} of them between logged k of one run (interpolated in log k)"
    )
    text = (
        f"{metric} at matched {unit} ({lo_c:.3g} to {hi_c:.3g} per question, {logged}): {a} ahead at "
        f"{a_ahead}, {b} ahead at {b_ahead}, neither beyond the 95% interval at "
        f"{total - a_ahead - b_ahead}; largest gap {100 * float(biggest['difference']):+.1f} pp ({a} − {b}) "
        f"at {float(biggest['compute']):.3g} {unit}."
    )
    cross = crossings[(crossings["model_b"] == b) & (crossings["metric"] == metric)]
    if len(cross):
        where = ", ".join(f"{float(c):.3g}" for c in cross["crossing_compute"])
        text += f" The curves cross at about {where} {unit}."
    else:
        text += " The curves do not cross in this range."
    return text


def build_comparison_report(loaded: Loaded, comparison: Comparison, *, bootstrap: int, seed: int, ties: str) -> Report:
    """Headline sentences per pair and metric, the difference figure per metric, the tables."""
    table, crossings = comparison.table, comparison.crossings
    lines = [pair_sentence(part, crossings) for _, part in table.groupby(["model_b", "metric"], sort=False)]
    lines.extend(comparison.notes)  # samples differ in cost; which axis and why
    reference = str(table["model_a"].iloc[0]) if len(table) else ""
    lines.append(
        f"Reference run: {reference}. Compute per sample: "
        + "; ".join(f"{m} {v:.4g} {comparison.compute_unit}" for m, v in comparison.compute_per_sample.items())
        + ". A run is 'ahead' only where the 95% bootstrap interval of the difference excludes zero."
    )
    figs = []
    for metric in dict.fromkeys(table["metric"]):
        name = f"difference-{str(metric).replace('@', '-at-').replace('^', '-hat-')}"
        figs.append(
            ReportFigure(
                name,
                f"{metric}: difference at matched {comparison.compute_unit} with 95% bootstrap intervals "
                "over questions.",
                fig_lib.comparison_figure(table, metric=str(metric)),
            )
        )
    shown = table.drop(columns=["estimator", "interval"])
    sections = (
        Section(
            "Matched compute",
            (
                "Each run's value is the mean over its questions of the exact estimator at k = compute / "
                "(compute per sample). The budgets sit on logged k of the run with fewer logged k in the shared "
                "range; where the other run's k is not a whole number its curve is interpolated linearly in log "
                "k between its neighbouring whole k (column interpolated). "
                + (str(table["interval"].iloc[0]) + "." if len(table) else ""),
            ),
            figures=tuple(f.name for f in figs),
            tables=(
                ReportTable(
                    shown,
                    "Value of each run and their difference at each budget.",
                    csv="comparison.csv",
                    max_rows=60,
                ),
            ),
            anchor="matched",
        ),
        Section(
            "Crossings",
            ("Budgets between which the sign of the difference changes.",)
            if len(crossings)
            else ("The difference keeps its sign over the compared range.",),
            tables=(ReportTable(crossings, "Crossings.", csv="crossings.csv"),) if len(crossings) else (),
            anchor="crossings",
        ),
    )
    summary = {
        "harness_version": __version__,
        "source": loaded.source,
        "headline": lines,
        "options": {"bootstrap": bootstrap, "seed": seed, "ties": ties, "compute": comparison.compute_unit},
        "notes": list(comparison.notes),
        "compute_per_sample": comparison.compute_per_sample,
        "crossings": json.loads(crossings.to_json(orient="records")),
    }
    return Report(
        title="Who is ahead at matched compute?",
        subtitle=f"harness {__version__} · {loaded.source}",
        headline=tuple(lines),
        sections=sections,
        figures=tuple(figs),
        tables={"comparison": table, "crossings": crossings},
        summary=summary,
        table_notes={
            "comparison": "one row per (pair, metric, budget): both values, difference, interval, who is ahead",
            "crossings": "where the difference changes sign",
        },
    )
