"""Models or runs side by side at matched compute: who is ahead at each budget, with intervals, and where curves
cross.

Compute per sample differs between runs (a reasoning model spends more tokens per sample), so runs are
compared at equal *total* compute C = k x (compute per sample): run A at k_A = C / c_A samples, run B at k_B =
C / c_B. The budgets are placed on the logged k of the run with fewer logged k in the shared range (at most
``budgets`` of them, log-spaced), so a run logged at 4 k is compared at 4 budgets, not at 12 made up between
them; the other run's per-question exact curve is interpolated linearly in log k between its neighbouring
integer k where C / c is not a whole number, and each row says whether it was (``interpolated``). Each
run's value is the mean over its questions of the exact (measured) estimator; the interval of the difference
is a percentile bootstrap over questions, paired when both runs answered the same questions (the same
resampled questions for both), independent otherwise. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness._bootstrap import Resampler
from harness._validation import HarnessInputError, check_choice
from harness.curves import COMPUTE_AXES, ESTIMATOR_NAMES, per_question_metric
from harness.estimators.majority import TIES
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]

COMPARISON_COLUMNS: tuple[str, ...] = (
    "model_a",
    "model_b",
    "metric",
    "compute",
    "compute_unit",
    "k_a",
    "k_b",
    "interpolated",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "ahead",
    "paired",
    "n_questions_a",
    "n_questions_b",
    "estimator",
    "interval",
)
CROSSING_COLUMNS: tuple[str, ...] = (
    "model_a",
    "model_b",
    "metric",
    "compute_unit",
    "compute_from",
    "compute_to",
    "crossing_compute",
    "ahead_before",
    "ahead_after",
)
COMPARE_METRICS = ("pass@k", "maj@k", "pass^k")


@dataclass(frozen=True)
class Comparison:
    """The matched-compute comparison: a row per (pair, metric, budget), and the crossings."""

    table: pd.DataFrame
    crossings: pd.DataFrame
    compute_per_sample: dict[str, float]
    compute_unit: str
    notes: tuple[str, ...] = ()
    """Sentences the reader needs beside the table, e.g. that samples differ in cost between the runs."""


COST_RATIO = 1.1
"""Runs whose mean tokens per sample differ by more than this factor are said to differ in cost per sample."""


def tokens_per_sample(counts: QuestionCounts, models: list[str] | None = None) -> dict[str, float] | None:
    """Mean tokens per sample of each model, or None unless every model logs tokens."""
    if counts.tokens is None:
        return None
    out = {}
    for model in counts.models if models is None else models:
        t = counts.select(model).mean_tokens_per_sample()
        if not np.isfinite(t) or t <= 0:
            return None
        out[model] = t
    return out


def cost_note(counts: QuestionCounts, models: list[str] | None = None) -> str | None:
    """'Samples differ in cost ...' when every run logs tokens and their tokens per sample differ, else None."""
    per = tokens_per_sample(counts, models)
    if per is None or len(per) < 2:
        return None
    lo, hi = min(per.values()), max(per.values())
    if hi / lo <= COST_RATIO:
        return None
    each = "; ".join(f"{m} {v:,.0f}" for m, v in per.items())
    return (
        f"Samples differ in cost: mean tokens per sample {each} (the most expensive {hi / lo:.1f}x the "
        "cheapest), so equal numbers of samples are not equal compute."
    )


def default_compute(counts: QuestionCounts, models: list[str] | None = None) -> tuple[str, str]:
    """The compute axis to use when none is asked for, and why: tokens when samples differ in cost, else samples."""
    if cost_note(counts, models) is not None:
        return "tokens", "compared at matched tokens (the default when samples differ in cost; --compute samples " \
            "to compare per sample)"
    if tokens_per_sample(counts, models) is not None:
        return "samples", "compared at matched samples (tokens per sample are within 10% across runs)"
    return "samples", "compared at matched samples (not every run logs tokens)"


def compute_per_sample(counts: QuestionCounts, compute: str) -> tuple[dict[str, float], str]:
    """Mean compute per sample for each model: 1 sample, mean tokens per sample, or mean FLOPs per sample."""
    check_choice("compute", compute, COMPUTE_AXES)
    out: dict[str, float] = {}
    for model in counts.models:
        sub = counts.select(model)
        if compute == "samples":
            out[model] = 1.0
        elif compute == "tokens":
            t = sub.mean_tokens_per_sample()
            if not np.isfinite(t) or t <= 0:
                raise HarnessInputError(
                    f"model {model!r} has no token counts",
                    column="tokens",
                    fix="log a tokens column for every run or compare at --compute samples",
                )
            out[model] = t
        else:
            assert sub.flops_per_sample is not None
            f = sub.flops_per_sample
            if not np.isfinite(f).any():
                raise HarnessInputError(
                    f"model {model!r} has no FLOPs per sample",
                    column="flops",
                    fix="give a flops column for every run or compare at --compute samples",
                )
            out[model] = float(np.nanmean(f))
    return out, {"samples": "samples", "tokens": "tokens", "flops": "FLOPs"}[compute]


def _logged_points(n: int, per_sample: float, lo: float, hi: float) -> FloatArray:
    """Compute values at which a run with ``n`` samples of cost ``per_sample`` sits at a whole k in [lo, hi]."""
    k_lo = max(1, int(np.ceil(lo / per_sample * (1 - 1e-12))))
    k_hi = min(n, int(np.floor(hi / per_sample * (1 + 1e-12))))
    return np.arange(k_lo, k_hi + 1, dtype=float) * per_sample


def budget_grid(
    n_a: int, per_a: float, n_b: int, per_b: float, lo: float, hi: float, budgets: int
) -> FloatArray:
    """At most ``budgets`` log-spaced compute budgets in [lo, hi], each on a logged k of the run that has
    fewer logged k in that range (so no budget is made up between that run's logged points)."""
    pa, pb = _logged_points(n_a, per_a, lo, hi), _logged_points(n_b, per_b, lo, hi)
    base = pa if len(pa) <= len(pb) else pb
    if len(base) == 0:
        return np.array([lo])
    if len(base) <= budgets:
        return np.asarray(base, dtype=float)  # every logged point of the coarser run
    targets = np.log(np.geomspace(lo, hi, max(1, min(budgets, len(base)))))
    nearest = np.abs(np.log(base)[:, None] - targets[None, :]).argmin(axis=0)
    return np.asarray(base[np.unique(nearest)], dtype=float)


def _whole(k: FloatArray) -> npt.NDArray[np.bool_]:
    return np.asarray(np.abs(k - np.round(k)) <= 1e-9 * np.maximum(k, 1.0))


def _metric_at(sub: QuestionCounts, metric: str, k_query: FloatArray, ties: str) -> FloatArray:
    """Per-question exact values at real k: exact at whole k, linear in log k between neighbouring whole k."""
    k_query = np.where(_whole(k_query), np.round(k_query), k_query)
    n_min = int(sub.n.min())
    ks = np.unique(np.clip(np.concatenate([np.floor(k_query), np.ceil(k_query)]), 1, n_min).astype(np.int64))
    full = per_question_metric(sub, metric, "measured", ks, ties=ties)
    return _interp_log_k(full, ks, np.clip(k_query, 1.0, float(n_min)))


def _interp_log_k(mat: FloatArray, ks: npt.NDArray[np.int64], k_query: FloatArray) -> FloatArray:
    """Per-question values at real k (within [1, max ks]) by linear interpolation in log k."""
    lx = np.log(ks.astype(float))
    lq = np.log(k_query)
    idx = (
        np.clip(np.searchsorted(lx, lq, side="right") - 1, 0, len(lx) - 2)
        if len(lx) > 1
        else np.zeros(len(lq), dtype=np.int64)
    )
    if len(lx) == 1:
        return np.repeat(mat[:, :1], len(lq), axis=1)
    t = (lq - lx[idx]) / (lx[idx + 1] - lx[idx])
    out: FloatArray = mat[:, idx] * (1 - t) + mat[:, idx + 1] * t
    return out


def compare_at_matched_compute(
    counts: QuestionCounts,
    *,
    models: list[str] | None = None,
    metrics: tuple[str, ...] = ("pass@k", "maj@k"),
    compute: str = "samples",
    ties: str = "random",
    budgets: int = 12,
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Every model against the first (the reference) at matched total compute, per metric the data allow.

    ``compute="auto"`` picks tokens when every run logs tokens and their tokens per sample differ by more than
    :data:`COST_RATIO`, else samples (:func:`default_compute`); the result's ``notes`` say which and why.
    """
    check_choice("ties", ties, TIES)
    for m in metrics:
        check_choice("metric", m, COMPARE_METRICS)
    names = counts.models if models is None else models
    if len(names) < 2:
        raise HarnessInputError(
            f"compare needs at least two models or runs, got {len(names)}: {', '.join(names)}",
            fix="give two or more input files, or one file with a model column holding several models",
        )
    notes: list[str] = []
    note = cost_note(counts, names)
    if compute == "auto":
        compute, why = default_compute(counts, names)
        notes.append(why[0].upper() + why[1:] + ".")
    if note is not None:
        notes.insert(0, note)
    per_sample, unit = compute_per_sample(counts, compute)
    subs = {m: counts.select(m) for m in names}
    rows: list[pd.DataFrame] = []
    crossings: list[dict[str, object]] = []
    reference = names[0]
    for other in names[1:]:
        a, b = subs[reference], subs[other]
        lo_c = max(per_sample[reference], per_sample[other])
        hi_c = min(a.n.min() * per_sample[reference], b.n.min() * per_sample[other])
        if hi_c < lo_c:
            raise HarnessInputError(
                f"{reference!r} and {other!r} share no compute range ({unit}: {reference} up to "
                f"{a.n.min() * per_sample[reference]:.3g}, {other} from {per_sample[other]:.3g})",
                fix="compare at --compute samples, or log more samples of the cheaper run",
            )
        grid = budget_grid(
            int(a.n.min()), per_sample[reference], int(b.n.min()), per_sample[other], lo_c, hi_c, budgets
        )
        interpolated = ~(_whole(grid / per_sample[reference]) & _whole(grid / per_sample[other]))
        paired = set(a.question_id.tolist()) == set(b.question_id.tolist()) and a.n_questions == b.n_questions
        if paired:
            order_b = pd.Index(b.question_id).get_indexer(pd.Index(a.question_id))
            b = b.take(order_b)
        for metric in metrics:
            if metric == "maj@k" and not (a.answers_known and b.answers_known):
                continue
            va = _metric_at(a, metric, grid / per_sample[reference], ties)
            vb = _metric_at(b, metric, grid / per_sample[other], ties)
            diff = va.mean(axis=0) - vb.mean(axis=0)
            lo, hi = _bootstrap_difference(va, vb, paired=paired, replicates=bootstrap, level=level, seed=seed)
            ahead = np.where(lo > 0, reference, np.where(hi < 0, other, "neither (within interval)"))
            interval = (
                (
                    f"{level:.0%} percentile bootstrap over questions "
                    f"({'paired' if paired else 'independent'}), {bootstrap} replicates"
                )
                if bootstrap > 0
                else "none"
            )
            rows.append(
                pd.DataFrame(
                    {
                        "model_a": reference,
                        "model_b": other,
                        "metric": metric,
                        "compute": grid,
                        "compute_unit": unit,
                        "k_a": grid / per_sample[reference],
                        "k_b": grid / per_sample[other],
                        "interpolated": interpolated,
                        "value_a": va.mean(axis=0),
                        "value_b": vb.mean(axis=0),
                        "difference": diff,
                        "ci_low": lo,
                        "ci_high": hi,
                        "ahead": ahead,
                        "paired": paired,
                        "n_questions_a": a.n_questions,
                        "n_questions_b": b.n_questions,
                        "estimator": [
                            ESTIMATOR_NAMES[(metric, "measured")]
                            + ("; interpolated linearly in log k between whole k" if i else "")
                            for i in interpolated
                        ],
                        "interval": interval,
                    }
                )
            )
            crossings.extend(_crossings(reference, other, metric, unit, grid, diff, ahead))
    table = (
        pd.concat(rows, ignore_index=True)[list(COMPARISON_COLUMNS)]
        if rows
        else pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    )
    return Comparison(
        table=table,
        crossings=pd.DataFrame(crossings, columns=list(CROSSING_COLUMNS)),
        compute_per_sample=per_sample,
        compute_unit=unit,
        notes=tuple(notes),
    )


def _bootstrap_difference(
    va: FloatArray, vb: FloatArray, *, paired: bool, replicates: int, level: float, seed: int
) -> tuple[FloatArray, FloatArray]:
    if replicates <= 0 or min(len(va), len(vb)) < 2:
        nan = np.full(va.shape[1], np.nan)
        return nan, nan.copy()
    if paired:
        reps = Resampler(seed, len(va), replicates).means(va - vb)
    else:  # independent question sets: independent replicates (two children of the seed)
        seed_a, seed_b = np.random.SeedSequence(seed).spawn(2)
        reps = Resampler(seed_a, len(va), replicates).means(va) - Resampler(seed_b, len(vb), replicates).means(vb)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(reps, [alpha, 1 - alpha], axis=0)
    return np.asarray(lo), np.asarray(hi)


def _crossings(
    a: str, b: str, metric: str, unit: str, grid: FloatArray, diff: FloatArray, ahead: npt.NDArray[np.str_]
) -> list[dict[str, object]]:
    """Where the difference changes sign between consecutive budgets (root interpolated in log)."""
    out: list[dict[str, object]] = []
    sign = np.sign(diff)
    for i in range(len(grid) - 1):
        if sign[i] != 0 and sign[i + 1] != 0 and sign[i] != sign[i + 1]:
            t = diff[i] / (diff[i] - diff[i + 1])
            root = float(np.exp(np.log(grid[i]) + t * (np.log(grid[i + 1]) - np.log(grid[i]))))
            out.append(
                {
                    "model_a": a,
                    "model_b": b,
                    "metric": metric,
                    "compute_unit": unit,
                    "compute_from": float(grid[i]),
                    "compute_to": float(grid[i + 1]),
                    "crossing_compute": root,
                    "ahead_before": str(ahead[i]),
                    "ahead_after": str(ahead[i + 1]),
                }
            )
    return out
