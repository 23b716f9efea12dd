"""Think longer vs sample more: accuracy at each reasoning budget against the sampling null at matched
compute.

For budgets b_0 < b_1 < ... (the ``budget`` column) with mean tokens per sample t_b (the ``tokens`` column, or
the budget value itself when tokens are not logged), the matched number of base-budget samples is k_b = t_b /
t_0. The sampling null at that compute is maj@k_b (and, as an oracle-verifier bound, pass@k_b) of independent
samples from each question's base-budget answer distribution -- the unbiased U-statistic over the logged base
samples while k <= n (ARCHITECTURE.md, fact 1; the i.i.d. plug-in maj@k is biased by O(1/n), which made the
interval reject 20% of null datasets in simulation), the exact multinomial plug-in beyond -- interpolated
linearly in log k between the neighbouring whole numbers. The think-longer accuracy is the single-sample
accuracy at budget b. The difference is averaged over the questions logged at every budget, with a paired
percentile bootstrap over questions and its two-sided bootstrap p-value; "longer thinking beats voting" is
claimed only where that p-value, Holm-adjusted over the model's budgets (Holm 1979), is below 1 - level.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness._bootstrap import Resampler
from harness.curves import per_question_metric
from harness.diagnostics.verdict import holm
from harness.tables import QuestionCounts, rollouts_to_counts, validate_rollouts

FloatArray = npt.NDArray[np.float64]


def _at_real_k(counts: QuestionCounts, metric: str, k: float, ties: str) -> FloatArray:
    """Per-question metric at a real k: the unbiased U-statistic while k <= n, the i.i.d. plug-in beyond."""
    lo, hi = max(int(np.floor(k)), 1), max(int(np.ceil(k)), 1)
    ks = np.unique(np.array([lo, hi], np.int64))
    kind = "measured" if hi <= int(counts.n.min()) else "iid"
    m = per_question_metric(counts, metric, kind, ks, ties=ties)
    if len(ks) == 1:
        return np.asarray(m[:, 0], np.float64)
    w = (np.log(k) - np.log(lo)) / (np.log(hi) - np.log(lo))
    return np.asarray((1 - w) * m[:, 0] + w * m[:, 1], np.float64)


def compare_at_matched_compute(
    model: str,
    base: QuestionCounts,
    budgets: list[tuple[float, float, QuestionCounts]],
    *,
    base_tokens: float,
    rng: np.random.Generator,
    bootstrap: int = 1000,
    level: float = 0.95,
    ties: str = "random",
    compute_basis: str = "tokens column",
) -> list[dict[str, object]]:
    """Rows per budget from aligned counts: ``budgets`` lists (budget, tokens per sample, counts at that budget)
    with the same questions in the same order as ``base`` (the smallest budget)."""
    a = (1 - level) / 2
    q = base.n_questions
    resampler = Resampler(rng, q, max(bootstrap, 1))  # every budget and metric on the same replicates
    metric_vote = "maj@k" if base.answers_known else None
    rows: list[dict[str, object]] = []
    for budget, tokens, cb in budgets:
        k = max(tokens / base_tokens, 1.0)
        think = cb.p_hat
        row: dict[str, object] = {
            "model": model,
            "budget": float(budget),
            "tokens_per_sample": float(tokens),
            "matched_k": k,
            "think_longer": float(think.mean()),
            "n_questions": q,
            "compute_basis": compute_basis,
        }
        for name, metric in (("vote", metric_vote), ("pass", "pass@k")):
            if metric is None:
                row[f"sample_more_{name}"] = np.nan
                row[f"diff_{name}"] = row[f"diff_{name}_ci_low"] = row[f"diff_{name}_ci_high"] = np.nan
                continue
            null = _at_real_k(base, metric, k, ties)
            diff = think - null
            row[f"sample_more_{name}"] = float(null.mean())
            row[f"diff_{name}"] = float(diff.mean())
            reps = resampler.means(diff)
            lo, hi = np.quantile(reps, [a, 1 - a]) if bootstrap > 0 else (np.nan, np.nan)
            row[f"diff_{name}_ci_low"], row[f"diff_{name}_ci_high"] = float(lo), float(hi)
            # two-sided percentile-bootstrap p-value of "no difference" (the interval excludes 0 iff p < 1 - level)
            tail = min(float((reps <= 0).mean()), float((reps >= 0).mean())) if bootstrap > 0 else np.nan
            row[f"diff_{name}_p"] = float(min(1.0, 2 * tail))
        rows.append(row)
    if rows and metric_vote is not None and bootstrap > 0:
        adj = holm([float(r["diff_vote_p"]) for r in rows])  # type: ignore[arg-type]
        for r, p in zip(rows, adj, strict=True):
            r["diff_vote_p_holm"] = float(p)
    for r in rows:
        r["verdict"] = _verdict(metric_vote is not None, r, 1 - level)
    return rows


def _verdict(has_vote: bool, row: dict[str, object], alpha: float) -> str:
    """The budget's verdict, held at ``alpha`` over the model's budgets by Holm's step-down adjustment."""
    diff = float(row["diff_vote"])  # type: ignore[arg-type]
    p = float(row.get("diff_vote_p_holm", np.nan))  # type: ignore[arg-type]
    if not has_vote or not np.isfinite(p):
        return "no voting comparison (no answer classes or no interval)"
    if p < alpha and diff > 0:
        return "thinking longer beats majority voting at matched compute"
    if p < alpha and diff < 0:
        return "majority voting beats thinking longer at matched compute"
    return "no difference after Holm's adjustment over the budgets"


def budget_comparison(
    counts: QuestionCounts,
    rollouts: pd.DataFrame,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    ties: str = "random",
) -> tuple[pd.DataFrame | None, str]:
    """Rows per (model, budget); see the module docstring."""
    r_all = validate_rollouts(rollouts)
    r_all = r_all[r_all["budget"].notna()]
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    skipped = []
    for model in counts.models:
        r = r_all[r_all["model"] == model]
        budgets = np.sort(r["budget"].unique())
        if len(budgets) < 2:
            skipped.append(f"{model}: fewer than two budgets")
            continue
        per_b = {b: rollouts_to_counts(r[r["budget"] == b], validated=True) for b in budgets}
        common = set(per_b[budgets[0]].question_id.tolist())
        for c in per_b.values():
            common &= set(c.question_id.tolist())
        qids = sorted(common)
        if len(qids) < 2:
            skipped.append(f"{model}: fewer than two questions logged at every budget")
            continue

        def aligned(c: QuestionCounts, qids: list[str] = qids) -> QuestionCounts:
            pos = {q: i for i, q in enumerate(c.question_id.tolist())}
            return c.take(np.array([pos[q] for q in qids]))

        has_tokens = "tokens" in r.columns and bool(r["tokens"].notna().all())

        def tokens_at(b: float, has_tokens: bool = has_tokens, r: pd.DataFrame = r) -> float:
            return float(r[r["budget"] == b]["tokens"].mean()) if has_tokens else float(b)

        rows.extend(
            compare_at_matched_compute(
                model,
                aligned(per_b[budgets[0]]),
                [(float(b), tokens_at(b), aligned(per_b[b])) for b in budgets],
                base_tokens=tokens_at(budgets[0]),
                rng=rng,
                bootstrap=bootstrap,
                level=level,
                ties=ties,
                compute_basis="tokens column" if has_tokens else "budget value as tokens per sample",
            )
        )
    if not rows:
        return None, "; ".join(skipped) or "no budgets"
    reason = "budget column present: accuracy per budget vs the sampling null at matched compute"
    if skipped:
        reason += "; skipped: " + "; ".join(skipped)
    return pd.DataFrame(rows), reason
