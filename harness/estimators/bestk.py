"""best-of-k by a per-sample score (reward-model / verifier selection), exact over all k-subsets.

Rank a question's n samples by score, highest first. Without replacement the top-scored member of a uniformly
random k-subset is the sample of rank i with probability C(n-i, k-1)/C(n, k) (the other k-1 members come from the
n-i lower ranks). With replacement (``iid``) the maximum rank lies in the top i with probability (i/n)^k.

Score ties: among samples with equal score the pick is uniform (equivalently, ties broken by a fresh random order),
so the credit of a tie block is the share of correct samples in it, times the probability that the subset's best
score falls in that block. The result does not depend on the order of the samples in the log.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness._validation import HarnessInputError, check_choice, check_ks
from harness.estimators._pmf import log_choose
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
KINDS = ("measured", "iid")


def best_at_k_one(
    scores: npt.ArrayLike, correct: npt.ArrayLike, ks: npt.ArrayLike, *, kind: str = "measured"
) -> FloatArray:
    """Expected correctness of the top-scored sample of a random k-subset, for each k (NaN if measured, k > n)."""
    check_choice("kind", kind, KINDS)
    k_ = check_ks(ks)
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if s.shape != y.shape or s.ndim != 1 or len(s) == 0:
        raise HarnessInputError("scores and correctness must be equal-length, non-empty 1-D arrays")
    if not np.all(np.isfinite(s)):
        raise HarnessInputError("a score is not a finite number", column="score", fix="drop or fix NaN scores")
    n = len(s)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # tie blocks over ranks 1..n: block b covers ranks start_b+1 .. end_b
    new_block = np.concatenate([[True], s_sorted[1:] != s_sorted[:-1]])
    block_id = np.cumsum(new_block) - 1
    ends = np.flatnonzero(np.concatenate([new_block[1:], [True]])) + 1  # rank of each block's last member
    starts = np.concatenate([[0], ends[:-1]])
    share = np.bincount(block_id, weights=y_sorted) / np.bincount(block_id)
    out = np.empty(len(k_))
    for j, k in enumerate(k_.tolist()):
        if kind == "measured":
            if k > n:
                out[j] = np.nan
                continue
            # P(best rank > e) = C(n-e, k)/C(n, k): the whole subset avoids the top e ranks
            def above(e: npt.NDArray[np.int64], k: int = k) -> FloatArray:
                return np.exp(log_choose(n - e, k) - log_choose(n, k))
        else:
            def above(e: npt.NDArray[np.int64], k: int = k) -> FloatArray:
                return np.asarray((1.0 - e / n) ** k, dtype=np.float64)
        p_block = above(starts) - above(ends)
        out[j] = float(np.clip((p_block * share).sum(), 0.0, 1.0))
    return out


def best_at_k(
    scores: Sequence[npt.ArrayLike], correct: Sequence[npt.ArrayLike], ks: npt.ArrayLike, *, kind: str = "measured"
) -> FloatArray:
    """best@k per question (rows) and k (columns) from ragged per-question score and correctness arrays."""
    k_ = check_ks(ks)
    return np.array([best_at_k_one(s, y, k_, kind=kind) for s, y in zip(scores, correct, strict=True)]).reshape(
        len(scores), len(k_)
    )


def scores_by_model(
    rollouts: pd.DataFrame | None, counts: QuestionCounts
) -> dict[str, tuple[Sequence[FloatArray], Sequence[FloatArray]]]:
    """Per model, the per-question score and correctness arrays, aligned with the rows of ``counts``."""
    if rollouts is None or "score" not in rollouts.columns:
        raise HarnessInputError("best@k needs per-sample scores", column="score",
                                fix="log a score column (map it with --score-col) or drop best@k from --metrics")
    groups = {key: g for key, g in rollouts.groupby(["model", "question_id"], sort=False)}
    out: dict[str, tuple[Sequence[FloatArray], Sequence[FloatArray]]] = {}
    for model in counts.models:
        sub = counts.select(model)
        s_list: list[FloatArray] = []
        y_list: list[FloatArray] = []
        for qid in sub.question_id.tolist():
            g = groups[(model, qid)]
            s_list.append(g["score"].to_numpy(np.float64))
            y_list.append(g["correct"].to_numpy(np.float64))
        out[model] = (s_list, y_list)
    return out
