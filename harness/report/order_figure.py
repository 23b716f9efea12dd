"""The first-k curve beside the exchangeable curve: what a user running each question's samples in logged order
sees, against the curve over all k-subsets (equal in expectation under independent sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.report.figures import new_figure, require_columns

STYLES = {
    "measured": ("#1f4e79", "-", "o", "exchangeable (all k-subsets)"),
    "first-k": ("#c0392b", "--", "s", "first k in logged order"),
}


def first_k_figure(curves: pd.DataFrame, *, model: str) -> Figure:
    """One panel per metric with both kinds and their 95% bootstrap bands (bands behind, lines on top); the
    y-axis spans at least 10 pp so a flat pair of curves looks flat."""
    require_columns(curves, ("model", "metric", "k", "value", "ci_low", "ci_high", "kind"), figure="first_k_figure")
    sub = curves[(curves["model"] == model) & curves["kind"].isin(list(STYLES))]
    metrics = [m for m in ("pass@k", "maj@k") if ((sub["metric"] == m) & (sub["kind"] == "first-k")).any()]
    fig, axes = new_figure(width=5.0 * max(len(metrics), 1) + 0.6, height=4.2, ncols=max(len(metrics), 1))
    for ax, metric in zip(axes[0], metrics, strict=False):
        rows = sub[sub["metric"] == metric]
        k_max = float(rows[rows["kind"] == "first-k"]["k"].max())
        lo_all, hi_all = [], []
        for kind, (color, ls, marker, label) in STYLES.items():
            part = rows[(rows["kind"] == kind) & (rows["k"] <= k_max)].sort_values("k")
            if len(part) == 0:
                continue
            x = part["k"].to_numpy(float)
            ax.fill_between(x, part["ci_low"], part["ci_high"], color=color, alpha=0.15, linewidth=0, zorder=1)
            ax.plot(x, part["value"], color=color, linestyle=ls, marker=marker, markersize=4, label=label, zorder=3)
            lo_all.append(float(np.nanmin(part[["value", "ci_low"]].to_numpy(float))))
            hi_all.append(float(np.nanmax(part[["value", "ci_high"]].to_numpy(float))))
        ax.set_xscale("log")
        ax.set_xlabel("k (samples)")
        ax.set_ylabel(metric)
        ax.set_title(f"{model}: {metric}", fontsize=10)
        if lo_all:
            lo, hi = min(lo_all), max(hi_all)
            mid, half = (lo + hi) / 2, max((hi - lo) / 2, 0.05)
            ax.set_ylim(max(0.0, mid - half * 1.1), min(1.0, mid + half * 1.1))
        ax.legend(fontsize=8, loc="lower right")
    return fig
