"""Simulated multi-sample logs for calibrating the tests (benchmarks/bench_verdict.py and the tests).

Each question q has a base success probability p_q ~ Beta(a, b); wrong answers fall into ``wrong_classes``
classes with geometric weights (a strong distractor first). Processes, each drawing the n samples of a question
in order:

* ``iid``: every sample independent at p_q (the null).
* ``batch``: 4 consecutive batches per question share a batch effect: logit p = logit p_q + s e_b, e_b ~ N(0, 1).
* ``sequential``: each sample sees the earlier ones (refinement): while unsolved, the chance of failing again
  shrinks by the factor (1 - s) per earlier failure; once solved, the next sample repeats the solution with
  probability max(p_q, 0.9).
* ``drift``: p moves over the run: logit p = logit p_q + s (t / (n - 1) - 1/2).

``strength`` s sets the size of the departure (0 gives i.i.d. for every process).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

PROCESSES = ("iid", "batch", "sequential", "drift")


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(p / (1 - p)), np.float64)


def _expit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1 / (1 + np.exp(-x)), np.float64)


def correct_matrix(
    process: str, questions: int, n: int, *, strength: float, rng: np.random.Generator, a: float = 0.4, b: float = 1.2
) -> npt.NDArray[np.bool_]:
    """(questions, n) correctness in the order drawn."""
    p = rng.beta(a, b, questions)
    t = np.arange(n)
    if process == "iid" or strength == 0:
        return np.asarray(rng.random((questions, n)) < p[:, None])
    if process == "batch":
        size = _batch_size(n)
        eff = rng.standard_normal((questions, (n + size - 1) // size))[:, t // size]
        return np.asarray(rng.random((questions, n)) < _expit(_logit(p)[:, None] + strength * eff))
    if process == "drift":
        shift = strength * (t / max(n - 1, 1) - 0.5)
        return np.asarray(rng.random((questions, n)) < _expit(_logit(p)[:, None] + shift[None, :]))
    if process == "sequential":
        out = np.zeros((questions, n), bool)
        solved = np.zeros(questions, bool)
        fails = np.zeros(questions)
        for j in range(n):
            p_now = np.where(solved, np.maximum(p, 0.9), 1 - (1 - p) * (1 - strength) ** fails)
            out[:, j] = rng.random(questions) < p_now
            solved |= out[:, j]
            fails += ~out[:, j]
        return out
    raise ValueError(f"unknown process {process!r}; use one of {', '.join(PROCESSES)}")


def simulate_rollouts(
    process: str,
    questions: int,
    n: int,
    *,
    strength: float,
    seed: int,
    wrong_classes: int = 3,
    model: str = "sim",
    group_column: bool = False,
) -> pd.DataFrame:
    """A canonical Rollouts table (question_id, sample_id in the order drawn, answer, correct, model); with
    ``group_column`` also ``group``, the batch of each sample: 4 consecutive batches of n // 4 samples per
    question (the batches of the ``batch`` process, so its shocks are per (question, group))."""
    rng = np.random.default_rng(seed)
    ok = correct_matrix(process, questions, n, strength=strength, rng=rng)
    w = 0.5 ** np.arange(wrong_classes)
    wrong = rng.choice(wrong_classes, size=ok.shape, p=w / w.sum())
    answer = np.where(ok, "right", np.char.add("w", wrong.astype(str)))
    out = pd.DataFrame(
        {
            "model": model,
            "question_id": np.repeat(np.arange(questions), n).astype(str),
            "sample_id": np.tile(np.arange(n), questions),
            "answer": answer.ravel().astype(object),
            "correct": ok.ravel(),
        }
    )
    if group_column:
        out["group"] = (out["sample_id"] // _batch_size(n)).astype(str)
    return out


def _batch_size(n: int) -> int:
    """Samples per batch of the ``batch`` process: 4 batches per question (the last may be shorter)."""
    return max(n // 4, 1)
