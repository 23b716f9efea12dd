"""The sampling null model for a whole table: one call, :func:`analyse`, returning an :class:`Analysis`.

Pure: no I/O, no printing (``progress`` receives short status strings). Every table is tidy; every interval is
a percentile bootstrap over questions. See docs/methods/null_model.md for formulas, citations and what each
number can and cannot show.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from harness._validation import HarnessInputError
from harness.curves import CURVE_COLUMNS, ESTIMATOR_NAMES, default_ks, model_parts, per_question_metric
from harness.diagnostics.decomposition import decade_points, decompose
from harness.diagnostics.shape import (
    line_fit,
    local_slopes,
    percentile,
    replicate_means,
    straight_window,
    straight_window_reps,
)
from harness.diagnostics.verdict import DEFAULT_MARGIN_PP, Verdict, decide, shape_source, verdict_inputs, verdict_table
from harness.models.pestimates import question_table
from harness.models.predict import (
    distributional_exponent,
    fit_spread_between,
    marginal_pass,
    plateau_rows,
    power_law_exponent,
    predict_pass,
    prediction_rows,
    structured_predictions,
)
from harness.models.spread import FIT_NAMES, SpreadFit, fit_spread
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
SHAPE_METRICS = ("pass@k", "maj@k")
DEFAULT_EXTRAPOLATE = 100
"""The fits predict to this multiple of the largest n."""
LOCAL_SLOPE_COLUMNS = (
    "model",
    "metric",
    "kind",
    "compute",
    "compute_from",
    "compute_to",
    "local_slope_per_decade",
    "ci_low",
    "ci_high",
)
DECOMPOSITION_COLUMNS = (
    "model",
    "metric",
    "kind",
    "decade_start",
    "decade_end",
    "p_bin",
    "n_questions",
    "slope_contribution",
    "share_of_slope",
)


@dataclass(frozen=True)
class Analysis:
    """Everything the null model says about one QuestionCounts table (one row set per model)."""

    questions: pd.DataFrame
    """Per (model, question_id): n, c, p_hat, Wilson/Jeffreys/LR intervals, p_correct, p_top_wrong, margin,
    stopping."""
    fits: pd.DataFrame
    """Per (model, fit): params (JSON), n_params, loglik, aic, gof_stat, gof_df, gof_p, converged, note."""
    predictions: pd.DataFrame
    """Curve rows (harness.curves.CURVE_COLUMNS) with kind 'fit:<name>', k up to ``extrapolate`` x n."""
    plateaus: pd.DataFrame
    """Per model: pass_inf, maj_inf (observed shares), power-law exponent with interval, fit ranges."""
    shape: pd.DataFrame
    """Per (model, metric, kind): slope_per_decade, r2, max_residual, curvature (+ci), straight windows."""
    local_slope: pd.DataFrame
    """Per (model, metric, kind, compute): local slope per decade (+ci)."""
    decomposition: pd.DataFrame
    """Per (model, metric, kind, decade_start, p_bin): slope_contribution, share_of_slope."""
    dependence: pd.DataFrame | None
    dependence_reason: str
    budget: pd.DataFrame | None
    budget_reason: str
    notes: tuple[str, ...]
    curves: pd.DataFrame | None = None
    """The measured / iid curve table used (given or computed)."""
    plateaus_by_fit: pd.DataFrame | None = None
    """Per (model, fit): pass_inf, maj_inf_binary, maj_inf, power_law_exponent (posterior prediction over
    k in [n, 100 n]) and power_law_exponent_distributional (Schaeffer et al.'s estimator: the fitted G's pass@k
    over k = 1..1e5)."""
    fit_range: pd.DataFrame | None = None
    """Per (model, metric, k): min, max and range of the fits' predictions (extrapolation uncertainty)."""
    order: pd.DataFrame | None = None
    """Per (model, metric, test): the sample-order tests (harness.diagnostics.order.ORDER_COLUMNS)."""
    order_reason: str = ""
    order_curves: pd.DataFrame | None = None
    """Curve rows of kind 'first-k': the curve a user running each question's samples in logged order sees."""
    verdicts: tuple[Verdict, ...] = ()
    """One verdict per (model, metric) (harness.diagnostics.verdict.decide)."""
    verdict: pd.DataFrame | None = None
    """The verdicts as a tidy table."""


def analyse(
    counts: QuestionCounts,
    *,
    curves: pd.DataFrame | None = None,
    rollouts: pd.DataFrame | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    level: float = 0.95,
    extrapolate: int = DEFAULT_EXTRAPOLATE,
    fits: tuple[str, ...] = FIT_NAMES,
    ties: str = "random",
    exact_intervals: bool = False,
    blas_threads: int | None = 1,
    margin_pp: float = DEFAULT_MARGIN_PP,
    order_test: bool = True,
    permutations: int = 999,
    prefetched: ModelPrefetch | None = None,
) -> Analysis:
    """Run the whole null-model analysis: p per question, spread fits, predictions, shape, decomposition,
    tests.

    ``curves`` is harness.curves.compute_curves output (computed here for pass@k and maj@k if None).
    ``rollouts`` (the canonical per-sample table) enables the dependence tests (``group`` column) and the
    think-longer-vs-sample-more comparison (``budget`` column) and, by default (``order_test``), the sample-order
    tests (``sample_id`` taken as the order drawn). ``margin_pp`` is the verdict's practical margin (pp per decade
    of slope, pp of accuracy). ``blas_threads`` caps the BLAS thread pool
    while it runs (the matrices are small; on a shared 2-core machine a multi-threaded BLAS made the Pythia
    benchmark 13x slower); None leaves it alone. ``prefetched``: a :class:`ModelPrefetch` of these counts, fits,
    ``extrapolate`` and ties, whose work is taken instead of being done again.
    """
    limit = nullcontext() if blas_threads is None else threadpool_limits(limits=blas_threads, user_api="blas")
    with limit:
        base = _analyse(
            counts, curves, rollouts, bootstrap, seed, progress, level, extrapolate, fits, ties, exact_intervals,
            permutations, prefetched,
        )
        return _with_verdicts(
            base, counts, rollouts, bootstrap, seed, level, ties, margin_pp, order_test, permutations, progress
        )


def _with_verdicts(
    base: Analysis,
    counts: QuestionCounts,
    rollouts: pd.DataFrame | None,
    bootstrap: int,
    seed: int,
    level: float,
    ties: str,
    margin_pp: float,
    order_test: bool,
    permutations: int,
    progress: Callable[[str], None] | None,
) -> Analysis:
    """Add the order tests and the verdict per (model, metric) to an analysis."""
    from dataclasses import replace

    order = order_curves = None
    if rollouts is None:
        order_reason = "no per-sample rows: the sample order is unknown"
    elif rollouts.attrs.get("sample_order") == "lost":  # rows rebuilt from class counts (harness.engines.store)
        order_reason = (
            "the per-sample rows were rebuilt from class counts, which keep each sample's group, budget and answer "
            "class but not the order it was drawn in, so the order test was not run (report on the per-sample log "
            "for it)"
        )
    elif not order_test:
        order_reason = "the order test was switched off"
    else:
        from harness.diagnostics.order import order_tests
        from harness.tables import validate_rollouts

        if progress is not None:
            progress("sample-order tests (first-k curve against exchangeable, blocks as groups)")
        order, order_curves, order_reason = order_tests(
            validate_rollouts(rollouts),
            counts.models,
            permutations=permutations,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            ties=ties,
        )
    inputs = verdict_inputs(order, base.dependence)
    targets = [
        (m, metric)
        for m in counts.models
        for metric in SHAPE_METRICS
        if metric == "pass@k" or model_parts(counts)[m].answers_known
    ]
    untested = {}
    for m in counts.models:
        sub = model_parts(counts)[m]
        need = (
            "A test needs what these data lack: per-sample rows in the order they were drawn (sample_id), a group "
            "column (batch, seed, prompt variant) or a budget column"
            if rollouts is None
            else f"The per-sample rows allowed no test here ({order_reason}; {base.dependence_reason})"
        )
        untested[m] = f"The curve's shape is {shape_source(sub.p_hat, int(sub.n.max()))}. {need}."
    verdicts = decide(inputs, targets, untested=untested, margin_pp=margin_pp, alpha=1 - level)
    return replace(
        base,
        order=order,
        order_reason=order_reason,
        order_curves=order_curves,
        verdicts=verdicts,
        verdict=verdict_table(verdicts),
    )


def prediction_ks(sub: QuestionCounts, extrapolate: int) -> npt.NDArray[np.int64]:
    """The k grid of a model's fit predictions: powers of two to ``extrapolate`` x n, and n itself."""
    n_max = int(sub.n.max())
    return np.unique(np.append(default_ks(extrapolate * n_max), n_max))


class ModelPrefetch:
    """The spread fits and structured maj@k predictions of each model of a table, computed one model ahead in a
    background thread while the caller does other work (the report's curves), then taken by :func:`analyse`.

    The two share the cores: the prediction kernels release the GIL, so the caller's single-threaded stages run
    beside them. One model ahead at most, so that with many models the fits' posteriors are not all held at once.
    The values are those :func:`analyse` computes itself (the same functions on the same rows).
    """

    def __init__(self, counts: QuestionCounts, fits: tuple[str, ...], extrapolate: int, ties: str) -> None:
        self._key = (fits, extrapolate, ties)
        self._todo = list(model_parts(counts).values())  # split here, in the caller's thread
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness-prefetch")
        self._ahead: tuple[QuestionCounts, Future[tuple[list[SpreadFit], list[FloatArray]]]] | None = None
        self._submit_next()

    def _submit_next(self) -> None:
        if self._todo:
            sub = self._todo.pop(0)
            self._ahead = (sub, self._pool.submit(_fits_and_structured, sub, *self._key, self._stop))
        else:
            self._ahead = None

    def take(
        self, sub: QuestionCounts, fits: tuple[str, ...], extrapolate: int, ties: str
    ) -> tuple[list[SpreadFit], list[FloatArray]] | None:
        """The work for ``sub`` (None if it was prefetched for other rows or settings), and the next model's
        started. An error raised in the background is raised here."""
        if self._ahead is None or self._ahead[0] is not sub or self._key != (fits, extrapolate, ties):
            return None
        future = self._ahead[1]
        self._submit_next()
        return future.result()

    def close(self) -> None:
        """Stop: a model not yet started is dropped, one running stops at its next k (or once its fits are done)
        and is waited for, so that an error or an interrupt in the caller is not held up for the whole model."""
        self._todo.clear()
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _fits_and_structured(
    sub: QuestionCounts, fits: tuple[str, ...], extrapolate: int, ties: str, stop: threading.Event
) -> tuple[list[SpreadFit], list[FloatArray]]:
    fitted = fit_spread(sub, fits=fits)
    return fitted, structured_predictions(fitted, sub, prediction_ks(sub, extrapolate), ties, stop)


def _analyse(
    counts: QuestionCounts,
    curves: pd.DataFrame | None,
    rollouts: pd.DataFrame | None,
    bootstrap: int,
    seed: int,
    progress: Callable[[str], None] | None,
    level: float,
    extrapolate: int,
    fits: tuple[str, ...],
    ties: str,
    exact_intervals: bool,
    permutations: int = 999,
    prefetched: ModelPrefetch | None = None,
) -> Analysis:
    if bootstrap < 0:
        raise HarnessInputError(f"bootstrap={bootstrap} is negative", fix="use 0 (no intervals) or more replicates")
    for f in fits:
        if f not in FIT_NAMES:
            raise HarnessInputError(f"unknown fit {f!r}", fix=f"use some of {', '.join(FIT_NAMES)}")

    def say(msg: str) -> None:
        if progress is not None:
            progress(msg)

    notes: list[str] = list(counts.notes)
    q_tables, fit_rows, pred_tables, plateau_rows_all, plateau_fit_tables = [], [], [], [], []
    shape_rows: list[dict[str, object]] = []
    local_tables, decomp_tables, curve_tables = [], [], []
    for mi, model in enumerate(counts.models):
        sub = model_parts(counts)[model]
        q_tables.append(question_table(sub, level=level, exact=exact_intervals))
        if not sub.fixed_n:
            rules = sorted({str(s) for s in np.asarray(sub.stopping).tolist()})
            notes.append(
                f"{model}: n was set by an outcome-dependent stopping rule ({', '.join(rules)}); the fits use "
                "the likelihood, which such a rule leaves unchanged up to a constant; c/n and Wilson/Jeffreys "
                "intervals assume a fixed n (see interval_valid), the fit check uses the blocks drawn until "
                "the first success where the rule says so, and the measured curve stops at the smallest n"
            )
        say(f"{model}: fitting the spread of p ({', '.join(fits)})")
        done = prefetched.take(sub, fits, extrapolate, ties) if prefetched is not None else None
        fitted, structured = done if done is not None else (fit_spread(sub, fits=fits), None)
        for sf in fitted:
            fit_rows.append(
                {
                    "model": model,
                    "fit": sf.name,
                    "params": sf.params_json(),
                    "n_params": sf.n_params,
                    "loglik": sf.loglik,
                    "aic": sf.aic,
                    "gof_stat": sf.gof_stat,
                    "gof_df": sf.gof_df,
                    "gof_p": sf.gof_p,
                    "gof_p_liberal": sf.gof_p_liberal,
                    "converged": sf.converged,
                    "note": "; ".join(sf.notes),
                }
            )
        n_max = int(sub.n.max())
        scale, unit = _compute_scale(curves, model)
        ks_pred = prediction_ks(sub, extrapolate)
        say(f"{model}: predictions to k = {int(ks_pred.max())}")
        pred, _ = prediction_rows(
            model, fitted, sub, ks_pred, compute_scale=scale, compute_unit=unit, ties=ties, matrices=False,
            structured=structured,
        )
        pred_tables.append(pred)
        pf = plateau_rows(model, fitted, sub)
        beyond = ks_pred[ks_pred >= n_max]
        pf["power_law_exponent_distributional"] = [distributional_exponent(f) for f in fitted]
        pf["power_law_exponent"] = [
            float(power_law_exponent(beyond, predict_pass(f, beyond).mean(axis=0))[0]) for f in fitted
        ]
        plateau_fit_tables.append(pf)

        # measured and iid per-question matrices for the shape diagnostics (one bootstrap draw for all)
        mats: dict[tuple[str, str], tuple[npt.NDArray[np.int64], FloatArray]] = {}
        curve_sub = first_block_counts(sub)  # sub itself unless a first-success-block rule applies
        for metric in SHAPE_METRICS:
            if metric == "maj@k" and not curve_sub.answers_known:
                continue
            for kind in ("measured", "iid"):
                ks = _curve_ks(curves, model, metric, kind, curve_sub)
                if len(ks) == 0:
                    continue
                say(f"{model}: {metric} ({kind}) per question")
                mats[(metric, kind)] = (ks, per_question_metric(curve_sub, metric, kind, ks, ties=ties))
        reps_list = replicate_means([m for _, m in mats.values()], sub.n_questions, bootstrap, seed + mi)
        reps_of = dict(zip(mats, reps_list, strict=True))
        if curves is None:
            curve_tables.append(_curve_rows(model, curve_sub, mats, reps_of, level, ties))
        _fit_misses(fit_rows[len(fit_rows) - len(fitted) :], fitted, mats.get(("pass@k", "measured")))
        # power law of the measured pass@k
        exp_pt = exp_lo = exp_hi = float("nan")
        if ("pass@k", "measured") in mats:
            ks, m = mats[("pass@k", "measured")]
            mean = np.nanmean(m, axis=0)
            exp_pt = float(power_law_exponent(ks, mean)[0])
            if reps_of[("pass@k", "measured")].shape[0]:
                reps = power_law_exponent(ks, reps_of[("pass@k", "measured")])
                lo, hi = percentile(reps[:, None], level)
                exp_lo, exp_hi = float(lo[0]), float(hi[0])
        obs_pass_inf = float((sub.correct > 0).mean())
        # p = 0 cannot be told from 0 < p < ~3/n (the 95% upper bound for c = 0): every never-solved question
        # may still be solvable, so pass@inf lies between the solved share and 1
        pass_inf_low, pass_inf_high = obs_pass_inf, 1.0
        obs_maj_inf = float((sub.correct > sub.top_wrong()).mean()) if sub.answers_known else float("nan")
        plateau_rows_all.append(
            {
                "model": model,
                "pass_inf": obs_pass_inf,
                "pass_inf_low": pass_inf_low,
                "pass_inf_high": pass_inf_high,
                "maj_inf": obs_maj_inf,
                "power_law_exponent": exp_pt,
                "exponent_ci_low": exp_lo,
                "exponent_ci_high": exp_hi,
                "pass_inf_fit_min": float(pf["pass_inf"].min()),
                "pass_inf_fit_max": float(pf["pass_inf"].max()),
                "maj_inf_fit_min": float(pf["maj_inf"].min()) if sub.answers_known else float("nan"),
                "maj_inf_fit_max": float(pf["maj_inf"].max()) if sub.answers_known else float("nan"),
                "n_questions": sub.n_questions,
                "n_max": n_max,
                "note": "pass_inf, maj_inf: observed shares (c > 0; correct class strictly largest); "
                "pass_inf_low/high: never-solved questions at p = 0 / at some 0 < p < ~3/n (not distinguishable "
                "with n samples); the fits' model-based plateaus are in plateaus_by_fit",
            }
        )
        say(f"{model}: shape diagnostics")
        for (metric, kind), (ks, m) in mats.items():
            x = np.log10(ks * scale)
            reps = reps_of[(metric, kind)]
            shape_rows.append(
                _shape_row(model, metric, kind, x, np.nanmean(m, axis=0), reps, level, x * 0 + ks * scale)
            )
            local_tables.append(_local_rows(model, metric, kind, x, np.nanmean(m, axis=0), reps, level))
        for _, prow in pred.groupby(["metric", "kind"], sort=False):
            x = np.log10(prow["compute"].to_numpy(np.float64))
            y = prow["value"].to_numpy(np.float64)
            met, knd = str(prow["metric"].iloc[0]), str(prow["kind"].iloc[0])
            shape_rows.append(
                _shape_row(model, met, knd, x, y, np.zeros((0, len(x))), level, prow["compute"].to_numpy(np.float64))
            )
        say(f"{model}: slope decomposition")
        decomp_tables.append(_decomposition(model, sub, ties, extrapolate))

    curves_used = (
        curves
        if curves is not None
        else (pd.concat(curve_tables, ignore_index=True)[list(CURVE_COLUMNS)] if curve_tables else None)
    )
    dependence, dep_reason = _dependence(counts, rollouts, bootstrap, seed, level, ties, permutations, say)
    budget, budget_reason = _budget(counts, rollouts, bootstrap, seed, level, ties, say)
    predictions = pd.concat(pred_tables, ignore_index=True) if pred_tables else pd.DataFrame(columns=CURVE_COLUMNS)
    fit_range = fit_spread_between(predictions)
    fits_df = pd.DataFrame(fit_rows)
    notes.extend(_reading_notes(fits_df, fit_range, level))
    return Analysis(
        questions=pd.concat(q_tables, ignore_index=True),
        fits=fits_df,
        predictions=predictions,
        plateaus=pd.DataFrame(plateau_rows_all),
        shape=pd.DataFrame(shape_rows),
        local_slope=_concat(local_tables, LOCAL_SLOPE_COLUMNS),
        decomposition=_concat(decomp_tables, DECOMPOSITION_COLUMNS),
        dependence=dependence,
        dependence_reason=dep_reason,
        budget=budget,
        budget_reason=budget_reason,
        notes=tuple(notes),
        curves=curves_used,
        plateaus_by_fit=pd.concat(plateau_fit_tables, ignore_index=True) if plateau_fit_tables else None,
        fit_range=fit_range,
    )


# ----------------------------------------------------------------------------- helpers
def _fit_misses(
    rows: list[dict[str, object]], fitted: list[SpreadFit], measured: tuple[npt.NDArray[np.int64], FloatArray] | None
) -> None:
    """Add to each fit's row how far its pass@k misses the measured curve for k <= n (pp): at k = n and the
    largest miss over the logged k. The fit's curve here is E_G[1 - (1-p)^k] (marginal_pass), the quantity the
    measured U-statistic estimates; the posterior-predictive curve is for new samples of the same questions and
    differs by design (a question solved once has measured pass@n = 1)."""
    for row, f in zip(rows, fitted, strict=True):
        row["pass_at_n_miss_pp"] = row["pass_at_k_max_miss_pp"] = np.nan
        if measured is None:
            continue
        ks, m = measured
        diff = 100 * (marginal_pass(f, ks) - np.nanmean(m, axis=0))
        row["pass_at_n_miss_pp"] = float(diff[-1])
        row["pass_at_k_max_miss_pp"] = float(diff[np.nanargmax(np.abs(diff))])


def first_block_counts(counts: QuestionCounts) -> QuestionCounts:
    """Each question's first block under a first-success-block stopping rule (other rows unchanged).

    Under the rule every block before the last has no success, so the first block of B samples has c successes
    when n = B and none when n > B: exact, and a fixed-n sample whose U-statistics are unbiased (curves over all
    n samples are not: +6.5 to +11.3 pp at k = 60 in simulation). Answer classes of a cut row are unknown, so
    they are dropped when any row is cut (only pass@k-type curves then).
    """
    from dataclasses import replace

    from harness.tables import FIXED, parse_stopping

    assert counts.stopping is not None
    blocks = np.array(
        [parse_stopping(str(r))[1] if str(r).startswith("first-success-block") else 0 for r in counts.stopping],
        np.int64,
    )
    if not (blocks > 0).any():
        return counts
    cut = blocks > 0
    n = np.where(cut, blocks, counts.n)
    c = np.where(cut, np.where(counts.n == blocks, counts.correct, 0), counts.correct)
    tokens = None if counts.tokens is None else np.where(cut, counts.tokens * blocks / counts.n, counts.tokens)
    return replace(
        counts,
        n=n,
        correct=c,
        wrong=None,
        abstain=None,
        correct_label=None,
        wrong_labels=None,
        correct_classes=None,
        correct_labels=None,
        tokens=tokens,
        stopping=np.full(counts.n_questions, FIXED, dtype=object),
    )


def _concat(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate non-empty parts; an empty table still has its columns."""
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True)[list(columns)] if parts else pd.DataFrame(columns=list(columns))


def _reading_notes(fits: pd.DataFrame, fit_range: pd.DataFrame, level: float) -> list[str]:
    """Plain sentences on how to read the tables (ARCHITECTURE.md facts) and what the fits could not settle."""
    out = [
        "measured and iid rows come from the same logged samples: the measured U-statistic and the i.i.d. "
        "prediction differ only by O(k/n), so their agreement is expected and is not a test of anything",
        "beyond the logged n the curve depends on the fitted distribution of p: read the spread between the "
        "fit:* rows (fit_range) as the extrapolation uncertainty",
    ]
    if not fits.empty:
        bad = fits[(fits["gof_p"] < 1 - level)]
        for model, part in bad.groupby("model", sort=False):
            names = ", ".join(part["fit"])
            out.append(f"{model}: the goodness-of-fit check rejects {names} at the {1 - level:.0%} level")
    if not fit_range.empty:
        pk = fit_range[fit_range["metric"] == "pass@k"]
        for model, part in pk.groupby("model", sort=False):
            last = part.sort_values("k").iloc[-1]
            out.append(
                f"{model}: at k = {int(last['k'])} the fits' pass@k ranges from {last['fit_min']:.3f} to "
                f"{last['fit_max']:.3f}"
            )
    return out


def _compute_scale(curves: pd.DataFrame | None, model: str) -> tuple[float, str]:
    if curves is None or curves.empty:
        return 1.0, "samples"
    rows = curves[(curves["model"] == model) & (curves["k"] > 0)]
    if rows.empty:
        return 1.0, "samples"
    return float((rows["compute"] / rows["k"]).iloc[0]), str(rows["compute_unit"].iloc[0])


def _curve_ks(
    curves: pd.DataFrame | None, model: str, metric: str, kind: str, sub: QuestionCounts
) -> npt.NDArray[np.int64]:
    if curves is not None:
        rows = curves[(curves["model"] == model) & (curves["metric"] == metric) & (curves["kind"] == kind)]
        return np.asarray(np.unique(rows["k"].to_numpy(np.int64)), np.int64)
    ks = default_ks(int(sub.n.max()))
    if kind == "measured":  # the measured curve stops at the smallest n; end it exactly there
        return np.asarray(np.unique(np.append(ks[ks <= sub.n.min()], sub.n.min())), np.int64)
    return np.asarray(ks, np.int64)


def _curve_rows(
    model: str,
    sub: QuestionCounts,
    mats: dict[tuple[str, str], tuple[npt.NDArray[np.int64], FloatArray]],
    reps_of: dict[tuple[str, str], FloatArray],
    level: float,
    ties: str,
) -> pd.DataFrame:
    """The curve rows compute_curves would give (samples axis), from matrices computed once."""
    out = []
    for (metric, kind), (ks, m) in mats.items():
        reps = reps_of[(metric, kind)]
        if reps.shape[0]:
            lo, hi = percentile(reps, level)
            interval = f"{level:.0%} percentile bootstrap over questions, {reps.shape[0]} replicates"
        else:
            lo = hi = np.full(len(ks), np.nan)
            interval = "none"
        out.append(
            pd.DataFrame(
                {
                    "model": model,
                    "metric": metric,
                    "k": ks,
                    "compute": ks.astype(np.float64),
                    "compute_unit": "samples",
                    "value": np.nanmean(m, axis=0),
                    "ci_low": lo,
                    "ci_high": hi,
                    "kind": kind,
                    "estimator": ESTIMATOR_NAMES[(metric, kind)],
                    "ties": ties if metric == "maj@k" else "",
                    "n_questions": sub.n_questions,
                    "interval": interval,
                }
            )
        )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=CURVE_COLUMNS)


def _shape_row(
    model: str,
    metric: str,
    kind: str,
    x: FloatArray,
    y: FloatArray,
    reps: FloatArray,
    level: float,
    compute: FloatArray,
) -> dict[str, object]:
    ok = np.isfinite(y)
    x, y, reps, compute = x[ok], y[ok], reps[:, ok], compute[ok]
    row: dict[str, object] = {
        "model": model,
        "metric": metric,
        "kind": kind,
        "n_points": len(x),
        "compute_min": float(compute.min()) if len(x) else np.nan,
        "compute_max": float(compute.max()) if len(x) else np.nan,
    }
    if len(x) < 2:
        return row
    f = line_fit(x, y)
    fr = line_fit(x, reps) if reps.shape[0] else None
    for name, val, rv in (
        ("slope_per_decade", f.slope, None if fr is None else fr.slope),
        ("r2", f.r2, None if fr is None else fr.r2),
        ("max_residual", f.max_residual, None if fr is None else fr.max_residual),
        ("curvature", f.curvature, None if fr is None else fr.curvature),
    ):
        row[name] = float(val[0])
        if rv is not None:
            lo, hi = percentile(rv[:, None], level)
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = float(lo[0]), float(hi[0])
        else:
            row[f"{name}_ci_low"] = row[f"{name}_ci_high"] = np.nan
    for tol, tag in ((0.01, "1pp"), (0.02, "2pp")):
        w, rise, x0, x1 = straight_window(x, y, tol)
        row[f"straight_window_{tag}_decades"] = w
        row[f"rise_{tag}"] = rise
        if reps.shape[0]:
            wr, rr = straight_window_reps(x, reps, tol)
            for name, vals in ((f"straight_window_{tag}_decades", wr), (f"rise_{tag}", rr)):
                lo, hi = percentile(vals[:, None], level)
                row[f"{name}_ci_low"], row[f"{name}_ci_high"] = float(lo[0]), float(hi[0])
        else:
            for name in (f"straight_window_{tag}_decades", f"rise_{tag}"):
                row[f"{name}_ci_low"] = row[f"{name}_ci_high"] = np.nan
        row[f"straight_window_{tag}_from"] = 10**x0 if np.isfinite(x0) else np.nan
        row[f"straight_window_{tag}_to"] = 10**x1 if np.isfinite(x1) else np.nan
    return row


def _local_rows(
    model: str, metric: str, kind: str, x: FloatArray, y: FloatArray, reps: FloatArray, level: float
) -> pd.DataFrame:
    ok = np.isfinite(y)
    x, y, reps = x[ok], y[ok], reps[:, ok]
    if len(x) < 2:
        return pd.DataFrame()
    mid, s = local_slopes(x, y)
    if reps.shape[0]:
        _, sr = local_slopes(x, reps)
        lo, hi = percentile(sr, level)
    else:
        lo = hi = np.full(len(mid), np.nan)
    return pd.DataFrame(
        {
            "model": model,
            "metric": metric,
            "kind": kind,
            "compute": 10**mid,
            "compute_from": 10 ** x[:-1],
            "compute_to": 10 ** x[1:],
            "local_slope_per_decade": s[0],
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def _decomposition(model: str, sub: QuestionCounts, ties: str, extrapolate: int) -> pd.DataFrame:
    parts = []
    n_min, n_max = int(sub.n.min()), int(sub.n.max())
    p_hat = sub.p_hat
    specs = [("pass@k", "measured", n_min), ("pass@k", "iid", extrapolate * n_max)]
    if sub.answers_known:
        specs += [("maj@k", "measured", n_min)]
    for metric, kind, kmax in specs:
        if kmax < 2:
            continue
        ks = decade_points(1, kmax)
        m = per_question_metric(sub, metric, kind, ks, ties=ties)
        d = decompose(m, ks, p_hat)
        d.insert(0, "kind", kind)
        d.insert(0, "metric", metric)
        d.insert(0, "model", model)
        parts.append(d)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _dependence(
    counts: QuestionCounts,
    rollouts: pd.DataFrame | None,
    bootstrap: int,
    seed: int,
    level: float,
    ties: str,
    permutations: int,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame | None, str]:
    if rollouts is None:
        return None, "no per-sample rollouts given: the dependence tests need each sample's group label"
    if "group" not in rollouts.columns:
        return None, (
            "no group column: nothing to test exchangeability against (a random split of exchangeable "
            "samples would be no test at all)"
        )
    from harness.diagnostics.dependence import dependence_tests

    say("dependence tests across the group column")
    return dependence_tests(
        counts, rollouts, bootstrap=bootstrap, seed=seed, level=level, ties=ties, permutations=permutations
    )


def _budget(
    counts: QuestionCounts,
    rollouts: pd.DataFrame | None,
    bootstrap: int,
    seed: int,
    level: float,
    ties: str,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame | None, str]:
    if rollouts is None:
        return (
            None,
            "no per-sample rollouts given: the budget comparison needs each sample's reasoning budget",
        )
    if "budget" not in rollouts.columns:
        return None, "no budget column: no 'think longer' axis to compare with sampling at matched compute"
    from harness.diagnostics.budget import budget_comparison

    say("think longer vs sample more at matched compute")
    return budget_comparison(counts, rollouts, bootstrap=bootstrap, seed=seed, level=level, ties=ties)
