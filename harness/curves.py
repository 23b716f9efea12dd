"""Tidy accuracy-vs-compute curves from QuestionCounts (and per-sample scores for best@k).

Every row says how it was made: ``model, metric, k, compute, compute_unit, value, ci_low, ci_high, kind,
estimator, ties, n_questions, interval``. ``value`` is the mean over questions of the per-question exact value;
the interval is a percentile bootstrap over questions (the questions are the independent units; all k points
share them).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness._bootstrap import Resampler, percentile_interval
from harness._validation import HarnessInputError, check_choice, check_ks
from harness.estimators.bestk import best_at_k
from harness.estimators.majority import TIES, maj_at_k
from harness.estimators.passk import pass_at_k, pass_hat_k
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
CURVE_COLUMNS: tuple[str, ...] = (
    "model", "metric", "k", "compute", "compute_unit", "value", "ci_low", "ci_high", "kind", "estimator",
    "ties", "n_questions", "interval",
)
METRICS = ("pass@k", "maj@k", "pass^k", "best@k")
KINDS = ("measured", "iid")
COMPUTE_AXES = ("samples", "tokens", "flops")

ESTIMATOR_NAMES = {
    ("pass@k", "measured"): "unbiased 1-C(n-c,k)/C(n,k) (Chen et al. 2021)",
    ("pass@k", "iid"): "binomial 1-(1-c/n)^k",
    ("pass^k", "measured"): "unbiased C(c,k)/C(n,k)",
    ("pass^k", "iid"): "binomial (c/n)^k",
    ("maj@k", "measured"): "exact mean over all k-subsets (U-statistic)",
    ("maj@k", "iid"): "exact multinomial from answer shares",
    ("best@k", "measured"): "exact mean over all k-subsets of the top-scored sample",
    ("best@k", "iid"): "exact with replacement, top-scored sample",
}


_PARTS: weakref.WeakKeyDictionary[QuestionCounts, dict[str, QuestionCounts]] = weakref.WeakKeyDictionary()


def model_parts(counts: QuestionCounts) -> dict[str, QuestionCounts]:
    """Every model's rows, ``{model: counts.select(model)}`` in the order of ``counts.models``, split in one pass and
    kept for as long as ``counts`` lives (a table is immutable), so that the report's many per-model loops do not
    each rescan and copy the whole table: with M models that was M scans of all rows per loop."""
    parts = _PARTS.get(counts)
    if parts is None:
        codes, names = pd.factorize(counts.model)  # codes in order of first appearance, as counts.models
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        parts = {str(m): counts.take(order[bounds[j] : bounds[j + 1]]) for j, m in enumerate(names)}
        _PARTS[counts] = parts
    return parts


def default_ks(n_max: int) -> npt.NDArray[np.int64]:
    """Powers of two up to n, plus n itself."""
    if n_max < 1:
        raise HarnessInputError(f"n={n_max} samples: nothing to sample", fix="each question needs samples")
    powers = 2 ** np.arange(int(np.floor(np.log2(n_max))) + 1)
    return np.unique(np.append(powers, n_max)).astype(np.int64)


def parse_ks(spec: str | Sequence[int] | None, n_max: int) -> npt.NDArray[np.int64]:
    """k values from a CLI spec: None/'default' (powers of two up to n, plus n), 'all' (1..n), or '1,2,8'."""
    if spec is None or spec == "default":
        return default_ks(n_max)
    if isinstance(spec, str):
        if spec == "all":
            return np.arange(1, n_max + 1, dtype=np.int64)
        try:
            values = [int(v) for v in spec.replace(" ", "").split(",")]  # an empty item is an error, not skipped
        except ValueError:
            raise HarnessInputError(
                f"--k {spec!r} is not a list of whole numbers", fix="use e.g. --k 1,2,4,8, --k all or --k default"
            ) from None
        return check_ks(values)
    return check_ks(spec)


def bootstrap_means(
    per_question: FloatArray, *, replicates: int, level: float, seed: int
) -> tuple[FloatArray, FloatArray]:
    """Percentile bootstrap interval of the column means, resampling rows (questions) with replacement."""
    return bootstrap_intervals([per_question], replicates=replicates, level=level, seed=seed)[0]


def bootstrap_intervals(
    per_question: Sequence[FloatArray], *, replicates: int, level: float, seed: int
) -> list[tuple[FloatArray, FloatArray]]:
    """:func:`bootstrap_means` of several (Q, K_i) matrices of the same questions on the same replicates (one
    draw; the same intervals as separate calls with this seed). NaN counts as 0, as in the point estimates'
    callers."""
    q = per_question[0].shape[0] if per_question else 0
    if replicates <= 0 or q < 2:
        return [(np.full(m.shape[1], np.nan), np.full(m.shape[1], np.nan)) for m in per_question]
    reps = Resampler(seed, q, replicates).means_many([np.nan_to_num(m) for m in per_question])
    return [percentile_interval(r, level) for r in reps]


def per_question_metric(
    counts: QuestionCounts, metric: str, kind: str, ks: npt.NDArray[np.int64], *, ties: str = "random",
    scores: tuple[Sequence[FloatArray], Sequence[FloatArray]] | None = None,
) -> FloatArray:
    """(questions x k) matrix of one metric for one table (NaN where undefined, e.g. k > n when measured)."""
    if metric == "pass@k":
        return pass_at_k(counts.n, counts.correct, ks, kind=kind)
    if metric == "pass^k":
        return pass_hat_k(counts.n, counts.correct, ks, kind=kind)
    if metric == "maj@k":
        return _maj_matrix(counts, kind, ks, ties)
    if metric == "best@k":
        if scores is None:
            raise HarnessInputError("best@k needs a per-sample score column", column="score")
        return best_at_k(scores[0], scores[1], ks, kind=kind)
    raise HarnessInputError(f"unknown metric {metric!r}", fix=f"use one of {', '.join(METRICS)}")


_MAJ: weakref.WeakKeyDictionary[QuestionCounts, dict[tuple[str, bytes, str], FloatArray]] = (
    weakref.WeakKeyDictionary()
)


def _maj_matrix(counts: QuestionCounts, kind: str, ks: npt.NDArray[np.int64], ties: str) -> FloatArray:
    """maj@k per question and k, computed once per (table, kind, k grid, tie rule) while the table lives.

    The report asks for the same matrix of the same per-model table up to three times (the curves, the slopes, the
    analysis' shape diagnostics); only an identical request is served from the cache (never a subset of k), and a
    copy is returned, so the values are those of :func:`maj_at_k` and a caller may change its matrix."""
    key = (kind, np.asarray(ks, np.int64).tobytes(), ties)
    done = _MAJ.setdefault(counts, {})
    if key not in done:
        done[key] = maj_at_k(counts, ks, ties=ties, kind=kind)
    return done[key].copy()


def compute_curves(
    counts: QuestionCounts,
    *,
    metrics: Sequence[str] = ("pass@k", "maj@k", "pass^k"),
    ks: npt.ArrayLike | None = None,
    ties: str = "random",
    kinds: Sequence[str] = KINDS,
    compute: str = "samples",
    scores: dict[str, tuple[Sequence[FloatArray], Sequence[FloatArray]]] | None = None,
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The tidy curve table for every model in ``counts``.

    Metrics that the data cannot support are skipped with no row (maj@k without answer classes, best@k without
    scores); ``measured`` rows stop at the smallest n of the model's questions. ``compute`` is ``samples`` (k),
    ``tokens`` (k x mean tokens per sample) or ``flops`` (k x mean FLOPs per sample).
    """
    check_choice("ties", ties, TIES)
    check_choice("compute", compute, COMPUTE_AXES)
    for m in metrics:
        check_choice("metric", m, METRICS)
    for kd in kinds:
        check_choice("kind", kd, KINDS)
    rows: list[pd.DataFrame] = []
    for model, sub in model_parts(counts).items():
        k_all = default_ks(int(sub.n.max())) if ks is None else check_ks(ks)
        scale, unit = _compute_scale(sub, compute)
        done: list[tuple[str, str, npt.NDArray[np.int64], FloatArray]] = []
        for metric in metrics:
            if metric == "maj@k" and not sub.answers_known:
                continue
            if metric == "best@k" and (scores is None or model not in scores):
                continue
            for kind in kinds:
                k_use = k_all[k_all <= sub.n.min()] if kind == "measured" else k_all
                if len(k_use) == 0:
                    continue
                if progress is not None:
                    progress(f"{model}: {metric} ({kind})")
                mat = per_question_metric(
                    sub, metric, kind, k_use, ties=ties, scores=None if scores is None else scores.get(model)
                )
                done.append((metric, kind, k_use, mat))
        # one draw of the replicates for all of the model's curves (as before: every curve used this seed)
        cis = bootstrap_intervals([d[3] for d in done], replicates=bootstrap, level=level, seed=seed)
        for (metric, kind, k_use, mat), (lo, hi) in zip(done, cis, strict=True):
            rows.append(pd.DataFrame({
                "model": model, "metric": metric, "k": k_use, "compute": k_use * scale,
                "compute_unit": unit, "value": mat.mean(axis=0), "ci_low": lo, "ci_high": hi, "kind": kind,
                "estimator": ESTIMATOR_NAMES[(metric, kind)],
                "ties": ties if metric == "maj@k" else "", "n_questions": sub.n_questions,
                "interval": f"{level:.0%} percentile bootstrap over questions, {bootstrap} replicates"
                if bootstrap > 0 and sub.n_questions > 1 else "none",
            }))
    if not rows:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    return pd.concat(rows, ignore_index=True)[list(CURVE_COLUMNS)]


def _compute_scale(counts: QuestionCounts, compute: str) -> tuple[float, str]:
    if compute == "samples":
        return 1.0, "samples"
    if compute == "tokens":
        t = counts.mean_tokens_per_sample()
        if not np.isfinite(t):
            raise HarnessInputError("--compute tokens needs token counts", column="tokens",
                                    fix="log a tokens column or use --compute samples")
        return t, "tokens"
    assert counts.flops_per_sample is not None
    f = counts.flops_per_sample
    if not np.isfinite(f).any():
        raise HarnessInputError("--compute flops needs FLOPs per sample", column="flops",
                                fix="give a flops column or use --compute samples")
    return float(np.nanmean(f)), "FLOPs"
