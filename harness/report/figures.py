"""Figures: each function takes a finished tidy table, checks the columns it needs, and returns the figure.

Matplotlib is used through :class:`matplotlib.figure.Figure` with an Agg canvas (no pyplot global state).
Every figure reads in greyscale: series differ by line style and marker as well as by colour, axes carry
units, and a log compute axis is labelled as such.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness._validation import HarnessInputError

# Colour-blind safe (Okabe-Ito) and of distinct lightness, each with its own dash and marker.
SERIES_STYLES: tuple[dict[str, Any], ...] = (
    {"color": "#000000", "linestyle": "-", "marker": "o"},
    {"color": "#0072B2", "linestyle": "--", "marker": "s"},
    {"color": "#D55E00", "linestyle": ":", "marker": "^"},
    {"color": "#7f7f7f", "linestyle": "-.", "marker": "D"},
    {"color": "#009E73", "linestyle": (0, (5, 1, 1, 1, 1, 1)), "marker": "v"},
    {"color": "#CC79A7", "linestyle": (0, (1, 1)), "marker": "P"},
    {"color": "#56B4E9", "linestyle": (0, (8, 2)), "marker": "X"},
    {"color": "#E69F00", "linestyle": (0, (3, 1, 3, 3)), "marker": "*"},
)
KIND_STYLES: dict[str, dict[str, Any]] = {
    "measured": {
        "color": "#000000",
        "linestyle": "-",
        "marker": "o",
        "label": "measured (exact over k-subsets)",
    },
    "iid": {
        "color": "#0072B2",
        "linestyle": "--",
        "marker": "s",
        "label": "i.i.d. prediction from each question's answer shares",
    },
    "iid-binary:agree": {
        "color": "#D55E00",
        "linestyle": ":",
        "marker": "^",
        "label": "binomial from p alone, all wrong answers agree (Condorcet)",
    },
    "iid-binary:differ": {
        "color": "#7f7f7f",
        "linestyle": "-.",
        "marker": "v",
        "label": "binomial from p alone, all wrong answers differ",
    },
}
BAND_ALPHA = 0.18
Z_BAND, Z_LINE, Z_MEASURED = 1.0, 2.0, 3.0
"""Drawing order: bootstrap bands behind every line, the measured line on top of the predictions."""
MIN_SPAN_SHARE = 0.10
"""Smallest y-range of an accuracy axis (a share): a curve that moves 0.7 pp must look flat, not steep."""
MIN_SPAN_PP = 10.0
"""Smallest y-range, in percentage points, of a difference axis."""


def ensure_min_span(ax: Axes, span: float, *, floor: float | None = None, ceiling: float | None = None) -> None:
    """Widen the y-limits to at least ``span`` around their centre, kept within [floor, ceiling] when given.

    Autoscaling stretches any curve to the full height, so a 0.7 pp rise would look as steep as a 70 pp one;
    with a minimum span the eye reads the slope against a fixed scale.
    """
    lo, hi = ax.get_ylim()
    if hi - lo >= span:
        return
    mid = (lo + hi) / 2
    lo, hi = mid - span / 2, mid + span / 2
    if floor is not None and lo < floor:
        lo, hi = floor, floor + span
    if ceiling is not None and hi > ceiling:
        lo, hi = ceiling - span, ceiling
        if floor is not None:
            lo = max(lo, floor)
    ax.set_ylim(lo, hi)


def new_figure(
    width: float = 7.0, height: float = 4.2, nrows: int = 1, ncols: int = 1, **subplot_kw: Any
) -> tuple[Figure, Any]:
    """A figure with an Agg canvas and constrained layout (so labels never overlap), and its axes."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def require_columns(table: pd.DataFrame, columns: Sequence[str], *, figure: str) -> None:
    """Raise naming the figure, the missing columns and the columns present."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise HarnessInputError(
            f"{figure}: the table lacks column(s) {', '.join(map(repr, missing))}",
            fix=f"columns present: {', '.join(map(str, table.columns))}",
        )
    if len(table) == 0:
        raise HarnessInputError(f"{figure}: the table has no rows", fix="pass the rows to plot")


def _one_model(table: pd.DataFrame, model: str | None, *, figure: str) -> tuple[str, pd.DataFrame]:
    names = table["model"].astype(str)
    models = [str(m) for m in names.unique()]  # in order of appearance, hashed in C (not a Python loop per row)
    if model is None:
        if len(models) != 1:
            raise HarnessInputError(
                f"{figure}: the table holds {len(models)} models",
                fix=f"pass model= one of {', '.join(models[:10])}",
            )
        model = models[0]
    sub = table[names == model]
    if len(sub) == 0:
        raise HarnessInputError(f"{figure}: no rows for model {model!r}", fix=f"models: {', '.join(models[:10])}")
    return model, sub


def _log_axis(ax: Axes, unit: str) -> None:
    ax.set_xscale("log")
    ax.set_xlabel(f"compute ({unit}, log scale)")
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)


def _title(text: str, width: int = 75) -> str:
    """A title wrapped onto lines of at most ``width`` characters (long names never run off the figure)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _chars(fig: Figure) -> int:
    """About how many characters of a 10-point title fit across the figure."""
    return max(30, int(fig.get_figwidth() * 13))


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _styles() -> Iterator[dict[str, Any]]:
    while True:
        yield from SERIES_STYLES


# --------------------------------------------------------------------------------------------- curves
def curves_figure(
    curves: pd.DataFrame, *, model: str | None = None, metrics: Sequence[str] = ("pass@k", "maj@k")
) -> Figure:
    """Measured vs i.i.d.-predicted curves of one model on a log compute axis, one panel per metric.

    Needs the tidy curve columns ``model, metric, compute, compute_unit, value, ci_low, ci_high, kind``. Rows
    of kind ``measured`` and ``iid`` get their bootstrap band; ``iid-binary:agree`` / ``iid-binary:differ``
    (the binomial prediction from p alone at the two wrong-answer extremes) are drawn as lines.
    """
    need = ("model", "metric", "compute", "compute_unit", "value", "ci_low", "ci_high", "kind")
    require_columns(curves, need, figure="curves_figure")
    name, sub = _one_model(curves, model, figure="curves_figure")
    present = [m for m in metrics if (sub["metric"] == m).any()]
    if not present:
        raise HarnessInputError(f"curves_figure: model {name!r} has none of the metrics {', '.join(metrics)}")
    fig, axes = new_figure(width=5.2 * len(present) + 0.6, height=4.6, ncols=len(present), sharey=True)
    for ax, metric in zip(axes[0], present, strict=True):
        rows = sub[sub["metric"] == metric]
        for kind, style in KIND_STYLES.items():
            part = rows[rows["kind"] == kind].sort_values("compute")
            if len(part) == 0:
                continue
            x = part["compute"].to_numpy(float)
            ax.plot(
                x,
                part["value"],
                color=style["color"],
                linestyle=style["linestyle"],
                marker=style["marker"],
                markersize=4,
                linewidth=1.6,
                label=style["label"],
                zorder=Z_MEASURED if kind == "measured" else Z_LINE,
            )
            lo, hi = part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float)
            if np.isfinite(lo).any():
                ax.fill_between(x, lo, hi, color=style["color"], alpha=BAND_ALPHA, linewidth=0, zorder=Z_BAND)
        _log_axis(ax, str(rows["compute_unit"].iloc[0]))
        ax.set_title(metric)
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("accuracy (share of questions)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(
        handles, labels, loc="outside lower center", ncols=2 if len(present) > 1 else 1, fontsize=8, frameon=False
    )
    fig.suptitle(
        _title(
            f"{_short(name)}: measured vs independent sampling (bands: 95% bootstrap over questions)",
            _chars(fig),
        ),
        fontsize=10,
    )
    return fig


def sigmoids_figure(sigmoids: pd.DataFrame, *, model: str | None = None, max_questions: int = 40) -> Figure:
    """Per-question pass@k sigmoids 1-(1-p)^k (thin) and their mean over all questions (bold) against log k.

    Needs ``model, p, k, value, questions`` (:func:`harness.report.tables.sigmoid_table`: one row per distinct p
    and k, ``questions`` sharing it). The questions drawn are spread evenly over the quantiles of p: the i-th of
    ``max_questions`` is the one at rank round(i (Q-1) / (max_questions-1)) among the Q questions sorted by p, found
    from the cumulative ``questions`` without listing the questions, so the cost does not grow with Q.
    """
    require_columns(sigmoids, ("model", "p", "k", "value", "questions"), figure="sigmoids_figure")
    name, sub = _one_model(sigmoids, model, figure="sigmoids_figure")
    fig, axes = new_figure(width=7.0, height=4.4)
    ax = axes[0][0]
    values = sub.pivot_table(index="p", columns="k", values="value", aggfunc="first")  # sorted by p, then k
    weight = sub.groupby("p")["questions"].first().reindex(values.index).to_numpy(np.int64)
    total = int(weight.sum())
    ranks = np.unique(np.linspace(0, total - 1, min(max_questions, total)).round().astype(np.int64))
    pick = np.searchsorted(np.cumsum(weight), ranks, side="right")  # the p of the question at each rank
    ks = values.columns.to_numpy(float)
    rows = values.to_numpy(float)
    for i in pick:
        ax.plot(ks, rows[i], color="#9a9a9a", linewidth=0.7, alpha=0.8)
    ax.plot([], [], color="#9a9a9a", linewidth=0.7, label=f"single questions ({len(pick)} of {total} shown)")
    ax.plot(
        ks,
        (weight @ rows) / total,
        color="#000000",
        linewidth=2.6,
        label="mean over all questions",
    )
    ax.set_xscale("log")
    ax.set_xlabel("samples per question k (log scale)")
    ax.set_ylabel("pass@k = 1 − (1 − p)^k")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(_title(f"{_short(name)}: each question is a sigmoid in log k; their mean need not be"), fontsize=10)
    return fig


def p_histogram_figure(
    questions: pd.DataFrame, *, model: str | None = None, densities: pd.DataFrame | None = None
) -> Figure:
    """The per-question success share p̂ = c/n: on a linear scale, and on log10 for 0 < p̂ < 1.

    Needs ``model, p_hat``. ``densities`` (optional; ``model, fit, p, density``) overlays fitted distributions
    of p on the linear panel, scaled to the histogram's counts.
    """
    require_columns(questions, ("model", "p_hat"), figure="p_histogram_figure")
    name, sub = _one_model(questions, model, figure="p_histogram_figure")
    p = sub["p_hat"].to_numpy(float)
    fig, axes = new_figure(width=9.0, height=3.8, ncols=2)
    ax_lin, ax_log = axes[0]
    bins = np.linspace(0.0, 1.0, 21)
    counts_per_bin, _, _ = ax_lin.hist(
        p, bins=bins, color="#bdbdbd", edgecolor="#333333", linewidth=0.6, label="questions"
    )
    if densities is not None and len(densities):
        require_columns(densities, ("model", "fit", "p", "density"), figure="p_histogram_figure densities")
        dens = densities[densities["model"].astype(str) == name]
        width = bins[1] - bins[0]
        for (fit, part), style in zip(dens.groupby("fit", sort=False), _styles(), strict=False):
            ax_lin.plot(
                part["p"],
                part["density"] * len(p) * width,
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=1.5,
                label=f"fit: {fit}",
            )
    ax_lin.set_ylim(0, 1.15 * max(counts_per_bin.max(), 1))  # a density spike at 0 or 1 must not flatten the bars
    ax_lin.set_xlabel("per-question success share p̂ = c/n")
    ax_lin.set_ylabel("questions")
    ax_lin.legend(fontsize=8, frameon=False, loc="upper center")
    inner = p[(p > 0) & (p < 1)]
    if len(inner):
        lo = np.floor(np.log10(inner.min()) * 2) / 2
        log_counts, _, _ = ax_log.hist(
            np.log10(inner),
            bins=np.arange(lo, 0.25, 0.25),
            color="#bdbdbd",
            edgecolor="#333333",
            linewidth=0.6,
        )
        if densities is not None and len(densities):
            dens = densities[densities["model"].astype(str) == name]
            for (fit, part), style in zip(dens.groupby("fit", sort=False), _styles(), strict=False):
                pp = part["p"].to_numpy(float)
                keep = pp >= 10**lo
                # density of log10 p is f(p) p ln 10; times questions and the 0.25-decade bin width
                ax_log.plot(
                    np.log10(pp[keep]),
                    part["density"].to_numpy(float)[keep] * pp[keep] * np.log(10) * len(p) * 0.25,
                    color=style["color"],
                    linestyle=style["linestyle"],
                    linewidth=1.5,
                    label=f"fit: {fit}",
                )
            ax_log.set_ylim(0, 1.15 * max(log_counts.max(), 1))
    ax_log.set_xlabel("log10 p̂ (questions with 0 < p̂ < 1)")
    ax_log.set_ylabel("questions")
    ax_log.set_title(_title(f"p̂ = 0: {int((p == 0).sum())} questions, p̂ = 1: {int((p == 1).sum())}"), fontsize=9)
    fig.suptitle(_title(f"{_short(name)}: spread of per-question success probability", _chars(fig)), fontsize=10)
    return fig


def straight_line_figure(
    curve: pd.DataFrame, *, window: tuple[float, float] | None = None, tolerance_pp: float = 1.0
) -> Figure:
    """One curve (``compute, value``; one model, metric and kind) with its least-squares line in log10 compute.

    The lower panel shows the residuals in percentage points with the ±``tolerance_pp`` band; ``window``
    (compute from, to) shades the longest stretch within that tolerance of its own straight line.
    """
    require_columns(
        curve, ("model", "metric", "kind", "compute", "compute_unit", "value"), figure="straight_line_figure"
    )
    if curve[["model", "metric", "kind"]].drop_duplicates().shape[0] != 1:
        raise HarnessInputError("straight_line_figure: pass the rows of one model, metric and kind")
    part = curve.sort_values("compute")
    x = np.log10(part["compute"].to_numpy(float))
    y = part["value"].to_numpy(float)
    if len(x) < 2:
        raise HarnessInputError("straight_line_figure: a line needs at least two compute points")
    if window is not None and not 0 < window[0] < window[1]:
        raise HarnessInputError(f"straight_line_figure: window {window} is not an increasing compute range")
    slope, intercept = np.polyfit(x, y, 1)
    fitted = intercept + slope * x
    fig, axes = new_figure(width=7.0, height=5.2, nrows=2, sharex=True, height_ratios=(3, 1.4))
    top, bottom = axes[0][0], axes[1][0]
    comp = part["compute"].to_numpy(float)
    top.plot(
        comp,
        y,
        "o-",
        color="#000000",
        markersize=4,
        linewidth=1.4,
        label=f"{part['metric'].iloc[0]} ({part['kind'].iloc[0]})",
    )
    top.plot(
        comp,
        fitted,
        "--",
        color="#0072B2",
        linewidth=1.4,
        label=f"least squares: {100 * slope:.1f} pp per decade",
    )
    bottom.axhspan(-tolerance_pp, tolerance_pp, color="#dddddd", label=f"±{tolerance_pp:g} pp")
    bottom.plot(comp, 100 * (y - fitted), "o-", color="#000000", markersize=3, linewidth=1.0)
    bottom.axhline(0, color="#555555", linewidth=0.6)
    if window is not None:
        for ax in (top, bottom):
            ax.axvspan(window[0], window[1], facecolor="#E69F00", alpha=0.15, linewidth=0)
            for edge in window:
                ax.axvline(edge, color="#D55E00", linewidth=1.0, linestyle=(0, (4, 2)))
        top.plot(
            [],
            [],
            color="#E69F00",
            linewidth=6,
            alpha=0.3,
            label=f"longest window within {tolerance_pp:g} pp of a line "
            f"({np.log10(window[1] / window[0]):.1f} decades)",
        )
    top.set_ylabel("accuracy (share of questions)")
    ensure_min_span(top, MIN_SPAN_SHARE, floor=-0.02, ceiling=1.02)
    ensure_min_span(bottom, 4 * tolerance_pp)
    top.legend(fontsize=8, frameon=False, loc="upper left")
    top.grid(True, color="#dddddd", linewidth=0.6)
    top.set_xscale("log")
    bottom.set_ylabel("residual (pp)")
    _log_axis(bottom, str(part["compute_unit"].iloc[0]))
    top.set_title(
        _title(f"{_short(str(part['model'].iloc[0]))}: how straight is the curve in log compute?"),
        fontsize=10,
    )
    return fig


def extrapolation_figure(curves: pd.DataFrame, *, model: str | None = None, metric: str = "pass@k") -> Figure:
    """Measured points and each fitted model's prediction (kind ``fit:NAME``) beyond the logged n."""
    require_columns(
        curves, ("model", "metric", "kind", "compute", "compute_unit", "value"), figure="extrapolation_figure"
    )
    name, sub = _one_model(curves, model, figure="extrapolation_figure")
    sub = sub[sub["metric"] == metric]
    fits = [k for k in dict.fromkeys(sub["kind"]) if str(k).startswith("fit:")]
    if not fits:
        raise HarnessInputError(f"extrapolation_figure: no fit:* rows for {name!r} {metric}")
    fig, axes = new_figure(width=7.0, height=4.4)
    ax = axes[0][0]
    meas = sub[sub["kind"] == "measured"].sort_values("compute")
    if len(meas):
        ax.plot(meas["compute"], meas["value"], "o", color="#000000", markersize=5, label="measured", zorder=3)
        ax.axvline(float(meas["compute"].max()), color="#555555", linewidth=0.8, linestyle=":")
        ax.annotate(
            "logged n",
            (float(meas["compute"].max()), 0.02),
            fontsize=8,
            color="#555555",
            xytext=(3, 0),
            textcoords="offset points",
        )
    for kind, style in zip(fits, SERIES_STYLES[1:] + SERIES_STYLES[:1], strict=False):
        part = sub[sub["kind"] == kind].sort_values("compute")
        ax.plot(
            part["compute"],
            part["value"],
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=1.5,
            label=str(kind).removeprefix("fit:"),
        )
    _log_axis(ax, str(sub["compute_unit"].iloc[0]))
    ax.set_ylabel(f"{metric} (share of questions)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_title(
        _title(f"{_short(name)}: extrapolation beyond the logged samples (spread = model uncertainty)"),
        fontsize=10,
    )
    return fig


def models_figure(
    curves: pd.DataFrame, *, metric: str = "pass@k", kind: str = "measured", max_models: int = 8
) -> Figure:
    """Several models' curves of one metric and kind on one log compute axis.

    Bootstrap bands are drawn for up to ``MAX_BANDED_MODELS`` models (more overlapping bands hide the curves);
    the legend sits below the axes.
    """
    require_columns(
        curves,
        ("model", "metric", "kind", "compute", "compute_unit", "value", "ci_low", "ci_high"),
        figure="models_figure",
    )
    sub = curves[(curves["metric"] == metric) & (curves["kind"] == kind)]
    if len(sub) == 0:
        raise HarnessInputError(f"models_figure: no {kind} {metric} rows")
    models = list(dict.fromkeys(sub["model"].astype(str)))[:max_models]
    fig, axes = new_figure(width=7.4, height=5.0)
    ax = axes[0][0]
    for model, style in zip(models, _styles(), strict=False):
        part = sub[sub["model"].astype(str) == model].sort_values("compute")
        ax.plot(
            part["compute"], part["value"], markersize=4, linewidth=1.5, label=_short(model, 40), zorder=Z_LINE,
            **style,
        )
        if len(models) <= MAX_BANDED_MODELS and np.isfinite(part["ci_low"].to_numpy(float)).any():
            ax.fill_between(
                part["compute"],
                part["ci_low"],
                part["ci_high"],
                color=style["color"],
                alpha=BAND_ALPHA,
                linewidth=0,
                zorder=Z_BAND,
            )
    _log_axis(ax, str(sub["compute_unit"].iloc[0]))
    _plain_ticks_if_narrow(ax, sub["compute"].to_numpy(float))
    ax.set_ylabel(f"{metric} (share of questions)")
    ax.set_ylim(-0.02, 1.02)
    fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=min(4, len(models)))
    shown = f" (first {len(models)} models)" if len(models) < sub["model"].nunique() else ""
    bands = "95% bootstrap bands" if len(models) <= MAX_BANDED_MODELS else "bands omitted for legibility"
    ax.set_title(_title(f"{metric}, {kind}{shown}; {bands}"), fontsize=10)
    return fig


MAX_BANDED_MODELS = 3


def _plain_ticks_if_narrow(ax: Axes, x: npt.NDArray[np.float64]) -> None:
    """Plain numbers as tick labels on a log axis spanning less than two decades (not 2×10⁰)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    x = x[np.isfinite(x) & (x > 0)]
    if len(x) and x.max() / x.min() < 100:
        ax.set_xticks(np.unique(x))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())


def comparison_figure(comparison: pd.DataFrame, *, metric: str | None = None) -> Figure:
    """Differences between two runs at matched compute with their intervals; crossings marked.

    Needs ``model_a, model_b, metric, compute, compute_unit, difference, ci_low, ci_high``.
    """
    need = ("model_a", "model_b", "metric", "compute", "compute_unit", "difference", "ci_low", "ci_high")
    require_columns(comparison, need, figure="comparison_figure")
    sub = comparison if metric is None else comparison[comparison["metric"] == metric]
    if len(sub) == 0:
        raise HarnessInputError(f"comparison_figure: no rows for metric {metric!r}")
    pairs = list(dict.fromkeys(zip(sub["model_a"].astype(str), sub["model_b"].astype(str), strict=True)))[:6]
    fig, axes = new_figure(width=7.4, height=4.4)
    ax = axes[0][0]
    for (a, b), style in zip(pairs, _styles(), strict=False):
        part = sub[(sub["model_a"].astype(str) == a) & (sub["model_b"].astype(str) == b)].sort_values("compute")
        x = part["compute"].to_numpy(float)
        ax.plot(
            x,
            100 * part["difference"],
            markersize=4,
            linewidth=1.5,
            label=f"{_short(a, 28)} − {_short(b, 28)}",
            zorder=Z_LINE,
            **style,
        )
        ax.fill_between(
            x,
            100 * part["ci_low"],
            100 * part["ci_high"],
            color=style["color"],
            alpha=BAND_ALPHA,
            linewidth=0,
            zorder=Z_BAND,
        )
    ax.axhline(0, color="#555555", linewidth=0.8)
    ensure_min_span(ax, MIN_SPAN_PP)
    _log_axis(ax, str(sub["compute_unit"].iloc[0]))
    ax.set_ylabel(f"difference in {sub['metric'].iloc[0]} (percentage points)")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_title(_title("who is ahead at matched compute (bands: 95% bootstrap over questions)"), fontsize=10)
    return fig


def fixed_p_figure(table: pd.DataFrame) -> Figure:
    """One question at constant p: pass@k and maj@k against log k for several p (demo Part 1).

    Needs ``p, k, metric, value``; ``metric`` is ``pass@k``, ``maj@k (all wrong agree)`` or ``maj@k (all wrong
    differ)``, one panel each.
    """
    require_columns(table, ("p", "k", "metric", "value"), figure="fixed_p_figure")
    metrics = list(dict.fromkeys(table["metric"].astype(str)))
    fig, axes = new_figure(width=4.0 * len(metrics) + 0.6, height=4.2, ncols=len(metrics), sharey=True)
    for ax, metric in zip(axes[0], metrics, strict=True):
        part = table[table["metric"] == metric]
        for (p, rows), style in zip(part.groupby("p", sort=True), _styles(), strict=False):
            rows = rows.sort_values("k")
            ax.plot(
                rows["k"],
                rows["value"],
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=1.6,
                marker=style["marker"],
                markevery=max(1, len(rows) // 8),
                markersize=4,
                label=f"p = {p:g}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("samples k (log scale)")
        ax.set_title(metric, fontsize=10)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("probability the question is solved")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize=8, frameon=False)
    fig.suptitle(
        _title("one question at constant p: accuracy against log samples is a sigmoid", _chars(fig)), fontsize=10
    )
    return fig


def dependence_figure(dependence: pd.DataFrame) -> Figure:
    """Curve-level dependence test: D(k) = within-group minus pooled curve, with its interval, per model and
    test.

    Needs ``model, k, value, ci_low, ci_high`` (value = D(k) as a share); an optional ``test`` column names
    the curve test, one series each.
    """
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    require_columns(dependence, ("model", "k", "value", "ci_low", "ci_high"), figure="dependence_figure")
    keys = ["model", "test"] if "test" in dependence.columns else ["model"]
    fig, axes = new_figure(width=7.0, height=4.2)
    ax = axes[0][0]
    for key, style in zip(dependence.groupby(keys, sort=False), _styles(), strict=False):
        name, part = key
        label = " · ".join(_short(str(v), 40) for v in (name if isinstance(name, tuple) else (name,)))
        part = part.sort_values("k")
        ax.plot(part["k"], 100 * part["value"], markersize=4, linewidth=1.5, label=label, zorder=Z_LINE, **style)
        ok = np.isfinite(part["ci_low"].to_numpy(float))
        ax.fill_between(
            part["k"].to_numpy(float)[ok],
            100 * part["ci_low"].to_numpy(float)[ok],
            100 * part["ci_high"].to_numpy(float)[ok],
            color=style["color"],
            alpha=BAND_ALPHA,
            linewidth=0,
            zorder=Z_BAND,
        )
    ax.axhline(0, color="#555555", linewidth=0.8)
    ensure_min_span(ax, MIN_SPAN_PP)
    ax.set_xscale("log")
    ks = np.unique(dependence["k"].to_numpy(float))
    ax.set_xticks(ks)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("samples per group k (log scale)")
    ax.set_ylabel("within-group − pooled (percentage points)")
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(_title("dependence across groups: zero is what exchangeable sampling predicts"), fontsize=10)
    return fig


HATCHES: tuple[str, ...] = ("", "///", "...", "xx", "\\\\\\", "++", "oo", "--")


def decomposition_figure(
    decomposition: pd.DataFrame, *, model: str | None = None, metric: str = "pass@k", kind: str = "measured"
) -> Figure:
    """Which questions make the slope: per decade of k, the slope contribution of each p bin, stacked.

    Needs ``model, metric, kind, decade_start, decade_end, p_bin, slope_contribution`` (a share per decade).
    Bins differ by hatch as well as grey level, so the figure reads in greyscale.
    """
    need = ("model", "metric", "kind", "decade_start", "decade_end", "p_bin", "slope_contribution")
    require_columns(decomposition, need, figure="decomposition_figure")
    name, sub = _one_model(decomposition, model, figure="decomposition_figure")
    sub = sub[(sub["metric"] == metric) & (sub["kind"] == kind)]
    if len(sub) == 0:
        raise HarnessInputError(f"decomposition_figure: no {kind} {metric} rows for {name!r}")
    decades = sub[["decade_start", "decade_end"]].drop_duplicates().sort_values("decade_start")
    bins = [b for b in dict.fromkeys(sub["p_bin"].astype(str)) if b != "0"]
    table = sub.pivot_table(index="decade_start", columns="p_bin", values="slope_contribution", aggfunc="sum")
    table.columns = table.columns.astype(str)
    fig, axes = new_figure(width=7.4, height=4.4)
    ax = axes[0][0]
    x = np.arange(len(decades))
    bottom = np.zeros(len(decades))
    greys = np.linspace(0.85, 0.25, max(len(bins), 1))
    for i, b in enumerate(bins):
        vals = 100 * table.reindex(decades["decade_start"])[b].fillna(0.0).to_numpy(float)
        ax.bar(
            x,
            vals,
            bottom=bottom,
            color=str(greys[i]),
            edgecolor="#222222",
            linewidth=0.6,
            hatch=HATCHES[i % len(HATCHES)],
            label=f"p in {b}",
        )
        bottom += vals
    labels = [f"{_num(a)}–{_num(b)}" for a, b in zip(decades["decade_start"], decades["decade_end"], strict=True)]
    ax.set_xticks(x, labels)
    ax.set_xlabel("decade of samples k")
    ax.set_ylabel(f"slope of {metric} in that decade (pp per decade)")
    fig.legend(fontsize=8, frameon=False, loc="outside right upper", title="questions with", title_fontsize=8)
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    ax.set_title(
        _title(f"{_short(name)}: which questions make the slope in each decade ({kind} {metric})"), fontsize=10
    )
    return fig


def _num(v: float) -> str:
    v = float(v)
    return f"{v:,.0f}" if v >= 1 else f"{v:g}"
