"""Tidy tables the report adds to the curve table: binary-vote extremes, per-question sigmoids, slopes per
decade.

Pure functions over QuestionCounts and curve tables (no I/O). Every row says how it was made.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.curves import CURVE_COLUMNS, bootstrap_intervals, model_parts, per_question_metric
from harness.diagnostics.shape import straight_window as shape_window
from harness.estimators.majority import maj_all_wrong_agree, maj_all_wrong_differ
from harness.estimators.passk import pass_at_k
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BINARY_EXTREMES = {
    "iid-binary:agree": (
        "binomial from c/n alone; every wrong answer the same (Condorcet 1785)",
        maj_all_wrong_agree,
    ),
    "iid-binary:differ": ("binomial from c/n alone; every wrong answer different", maj_all_wrong_differ),
}

SLOPE_COLUMNS: tuple[str, ...] = (
    "model",
    "metric",
    "kind",
    "k_min",
    "k_max",
    "decades",
    "slope_pp_per_decade",
    "ci_low_pp",
    "ci_high_pp",
    "r2",
    "max_residual_pp",
    "window_k_min",
    "window_k_max",
    "window_decades",
    "window_rise_pp",
    "n_questions",
    "estimator",
    "interval",
)


def _interval_text(level: float, replicates: int, questions: int) -> str:
    if replicates <= 0 or questions < 2:
        return "none"
    return f"{level:.0%} percentile bootstrap over questions, {replicates} replicates"


def binary_extreme_curves(
    counts: QuestionCounts,
    ks_by_model: dict[str, IntArray],
    *,
    ties: str = "random",
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    compute_scale: dict[str, tuple[float, str]] | None = None,
) -> pd.DataFrame:
    """maj@k predicted from each question's c/n alone at the two wrong-answer extremes, as curve rows.

    ``iid-binary:agree``: all wrong samples give one answer (a binary vote, Condorcet's jury theorem);
    ``iid-binary:differ``: every wrong sample a different answer, so two correct votes always win. Between
    them lies every wrong-answer structure; the measured maj@k need not (it also depends on the observed
    answer classes).
    """
    rows = []
    done: dict[tuple[str, int, int, bytes], FloatArray] = {}  # shared by models with the same n and k grid
    for model, sub in model_parts(counts).items():
        ks = ks_by_model[model]
        key = ks.astype(np.int64).tobytes()
        scale, unit = (compute_scale or {}).get(model, (1.0, "samples"))
        # the curves depend on (n, c) only: computed once per distinct pair (at most n + 1 of them per n) over all
        # models, so M checkpoints of one test set cost what one does
        pairs, inverse = np.unique(np.stack([sub.n, sub.correct], axis=1), axis=0, return_inverse=True)
        for n, c in pairs.tolist():
            for kind, (_, fn) in BINARY_EXTREMES.items():
                if (kind, n, c, key) not in done:
                    done[(kind, n, c, key)] = fn(n, c, ks, ties=ties, kind="iid")
        mats = [
            np.stack([done[(kind, n, c, key)] for n, c in pairs.tolist()])[inverse.reshape(-1)]
            for kind in BINARY_EXTREMES
        ]
        cis = bootstrap_intervals(mats, replicates=bootstrap, level=level, seed=seed)  # one draw, both extremes
        for (kind, (estimator, _)), mat, (lo, hi) in zip(BINARY_EXTREMES.items(), mats, cis, strict=True):
            rows.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "metric": "maj@k",
                        "k": ks,
                        "compute": ks * scale,
                        "compute_unit": unit,
                        "value": mat.mean(axis=0),
                        "ci_low": lo,
                        "ci_high": hi,
                        "kind": kind,
                        "estimator": estimator,
                        "ties": ties,
                        "n_questions": sub.n_questions,
                        "interval": _interval_text(level, bootstrap, sub.n_questions),
                    }
                )
            )
    if not rows:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    return pd.concat(rows, ignore_index=True)[list(CURVE_COLUMNS)]


def sigmoid_table(counts: QuestionCounts, ks: npt.ArrayLike) -> pd.DataFrame:
    """Per-question i.i.d. pass@k = 1 - (1 - p̂)^k at each k, one row per (model, distinct p̂ = c/n, k):
    ``model, p, k, value, questions`` (``questions``: how many of the model's questions have this p̂).

    The value depends on the question only through p̂, so the table has at most (distinct p̂) x k rows per model
    whatever the number of questions (at most n + 1 distinct p̂ per n); the mean over questions is the
    ``questions``-weighted mean of ``value``.
    """
    k_arr = np.asarray(ks, dtype=np.int64)
    frames = []
    for model, sub in model_parts(counts).items():
        p, first, weight = np.unique(sub.p_hat, return_index=True, return_counts=True)
        # p̂ = c/n is a correctly rounded quotient, so equal ratios give the same double, and pass_at_k's iid form
        # uses c/n only: the first question of each p̂ gives the value of all of them
        mat = pass_at_k(sub.n[first], sub.correct[first], k_arr, kind="iid")
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "p": np.repeat(p, len(k_arr)),
                    "k": np.tile(k_arr, len(p)),
                    "value": mat.reshape(-1),
                    "questions": np.repeat(weight.astype(np.int64), len(k_arr)),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["model", "p", "k", "value", "questions"])
    return pd.concat(frames, ignore_index=True)


def fixed_p_table(ps: npt.ArrayLike, ks: npt.ArrayLike, *, ties: str = "random") -> pd.DataFrame:
    """One question at constant p: exact pass@k and maj@k at both wrong-answer extremes (``p, k, metric,
    value``).

    Computed with p as the share of a large virtual pool (n = 10^6 samples, c = p n) and ``kind='iid'``, which
    is exactly binomial sampling at p.
    """
    k_arr = np.asarray(ks, dtype=np.int64)
    pool = 1_000_000
    frames = []
    for p in np.asarray(ps, dtype=float):
        c = round(p * pool)
        frames.append(
            pd.DataFrame({"p": p, "k": k_arr, "metric": "pass@k", "value": 1.0 - (1.0 - p) ** k_arr.astype(float)})
        )
        frames.append(
            pd.DataFrame(
                {
                    "p": p,
                    "k": k_arr,
                    "metric": "maj@k (all wrong answers agree)",
                    "value": maj_all_wrong_agree(pool, c, k_arr, ties=ties, kind="iid"),
                }
            )
        )
        frames.append(
            pd.DataFrame(
                {
                    "p": p,
                    "k": k_arr,
                    "metric": "maj@k (all wrong answers differ)",
                    "value": maj_all_wrong_differ(pool, c, k_arr, ties=ties, kind="iid"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def slope_table(
    counts: QuestionCounts,
    ks_by_model: dict[str, IntArray],
    *,
    metrics: tuple[str, ...] = ("pass@k", "maj@k"),
    ties: str = "random",
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    tolerance_pp: float = 1.0,
) -> pd.DataFrame:
    """Least-squares slope per decade of samples of the mean curve, measured and i.i.d., with intervals.

    Slopes, intervals, residuals and rises are in percentage points (pp; 1 pp = 0.01 of accuracy).

    The slope of the mean curve over k_1..k_m is linear in the per-question values: slope = mean_q sum_j w_j
    v_qj with w_j = (x_j - mean x) / sum (x - mean x)^2 and x = log10 k. So the bootstrap over questions
    resamples the per-question slope contributions. No "measured - iid" difference is given: on the same pooled
    samples the two agree by construction up to the plug-in's O(k/n) bias near k = n, which is no evidence
    (docs/methods/verdict.md). Only k up to the smallest n of the model (where the measured curve exists) is used,
    so both
    kinds cover the same range. The straight window is that of
    :func:`harness.diagnostics.shape.straight_window` (the widest run of at least 3 points within the
    tolerance of its own least-squares line), so it matches the analysis' shape table.
    """
    rows: list[dict[str, object]] = []
    for model, sub in model_parts(counts).items():
        ks = ks_by_model[model]
        ks = ks[ks <= sub.n.min()]
        if len(ks) < 3:
            continue
        x = np.log10(ks.astype(float))
        w = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
        mats = {
            (metric, kind): per_question_metric(sub, metric, kind, ks, ties=ties)
            for metric in metrics
            if metric != "maj@k" or sub.answers_known
            for kind in ("measured", "iid")
        }
        # every slope of the model on the same replicates (one draw; as before, each used this seed)
        slopes = [(m @ w)[:, None] for m in mats.values()]
        cis = dict(zip(mats, bootstrap_intervals(slopes, replicates=bootstrap, level=level, seed=seed), strict=True))
        for metric in metrics:
            if metric == "maj@k" and not sub.answers_known:
                continue
            per_kind: dict[str, FloatArray] = {kind: mats[(metric, kind)] for kind in ("measured", "iid")}
            for kind, mat in per_kind.items():
                contrib = mat @ w
                lo, hi = cis[(metric, kind)]
                mean_curve = mat.mean(axis=0)
                slope, intercept = np.polyfit(x, mean_curve, 1)
                resid = mean_curve - (intercept + slope * x)
                total = ((mean_curve - mean_curve.mean()) ** 2).sum()
                r2 = float(1.0 - (resid**2).sum() / total) if total > 0 else float("nan")
                is_diff = False
                width, rise, x0, x1 = shape_window(x, mean_curve, tolerance_pp / 100.0)
                has_window = not is_diff and bool(np.isfinite(width))
                rows.append(
                    {
                        "model": model,
                        "metric": metric,
                        "kind": kind,
                        "k_min": int(ks[0]),
                        "k_max": int(ks[-1]),
                        "decades": float(x[-1] - x[0]),
                        "slope_pp_per_decade": float(100 * contrib.mean()),
                        "ci_low_pp": float(100 * lo[0]),
                        "ci_high_pp": float(100 * hi[0]),
                        "r2": np.nan if is_diff else r2,
                        "max_residual_pp": np.nan if is_diff else float(100 * np.abs(resid).max()),
                        "window_k_min": round(10**x0) if has_window else 0,
                        "window_k_max": round(10**x1) if has_window else 0,
                        "window_decades": float(width) if has_window else np.nan,
                        "window_rise_pp": float(100 * rise) if has_window else np.nan,
                        "n_questions": sub.n_questions,
                        "estimator": "least squares of the mean curve on log10 k at k = " + ", ".join(map(str, ks)),
                        "interval": _interval_text(level, bootstrap, sub.n_questions),
                    }
                )
    return pd.DataFrame(rows, columns=list(SLOPE_COLUMNS))


def p_spread(counts: QuestionCounts) -> pd.DataFrame:
    """Per model: questions, share with p̂ = 0, 0 < p̂ < 1, p̂ = 1, and the decades spanned by the middle 80% of
    log10 p̂ among questions with 0 < p̂ < 1 (a sigmoid in log k is about 1.3 decades wide)."""
    rows = []
    for model, sub in model_parts(counts).items():
        p = sub.p_hat
        inner = p[(p > 0) & (p < 1)]
        decades = float(np.diff(np.quantile(np.log10(inner), [0.1, 0.9]))[0]) if len(inner) >= 2 else float("nan")
        rows.append(
            {
                "model": model,
                "questions": len(p),
                "mean_p": float(p.mean()),
                "share_p0": float((p == 0).mean()),
                "share_between": float(((p > 0) & (p < 1)).mean()),
                "share_p1": float((p == 1).mean()),
                "decades_10_90": decades,
                "decades_cap": float(np.log10(max(int(sub.n.max()), 1))),
                "estimator": "p̂ = c/n per question; decades = log10 p̂ at the 90th minus the 10th percentile "
                "over questions with 0 < p̂ < 1; decades_cap = log10 n, the most a solved question's p̂ >= 1/n allows",
            }
        )
    return pd.DataFrame(rows)
