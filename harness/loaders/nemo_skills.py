"""NeMo-Skills generation outputs: ``output-rs<seed>.jsonl`` (one file per random seed; the seed is the
group).

Checked against NVIDIA/NeMo-Skills: ``nemo_skills/inference/generate.py`` writes the input problem's fields
(``problem``, ``expected_answer``, ...) plus ``generation`` (and ``num_generated_tokens``) to
``output-rs<seed>.jsonl``; ``nemo_skills/evaluation/math_grader.py`` (``batch_evaluate_results``) adds
``predicted_answer`` (the last ``\\boxed{}``, null if none) and ``symbolic_correct``, and keeps an empty ``{}``
line for a generation that did not finish; older releases wrote ``is_correct`` instead (read as
``symbolic_correct`` by ``nemo_skills/evaluation/metrics/math_metrics.py``). An LLM judge adds ``judgement``,
free text ending ``Judgement: Yes``/``Judgement: No``, which ``nemo_skills/evaluation/metrics/utils.py``
(``is_correct_judgement``) reads as correct when the text after the last ``Judgement:`` starts with ``yes``
(any case), else incorrect; ``judge_correct`` is only a metric name there, not a field. Lines of the seed files
are aligned by position (the same input file), so the question id is ``id`` if present, else the line number;
when ``problem`` is present its text must agree across seeds; empty ``{}`` lines are skipped and counted in a
note. Correctness: the first of ``symbolic_correct``, ``is_correct``, ``judgement`` present (``--correct-col``
chooses); otherwise ``predicted_answer`` is graded against ``expected_answer``. Tokens:
``num_generated_tokens``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import conflict_warning, group_graded
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import describe_conflict, finish
from harness.loaders._io import iter_jsonl
from harness.tables import FIXED, rollouts_to_counts

CORRECT_FIELDS = ("symbolic_correct", "is_correct", "judgement")


def judgement_correct(text: Any, *, source: str, line: int) -> bool:
    """A judge's verdict as NeMo-Skills' ``is_correct_judgement`` reads it (improper format = incorrect)."""
    if not isinstance(text, str):
        raise HarnessInputError(
            f"judgement {text!r} is not text",
            source=source,
            line=line,
            column="judgement",
            fix="the LLM judge writes free text ending 'Judgement: Yes' or 'Judgement: No'",
        )
    return "Judgement:" in text and text.split("Judgement:")[-1].strip().lower().startswith("yes")


def seed_of(path: str) -> int:
    """The random seed from an ``output-rs<seed>[-chunk..].jsonl`` file name (0 if absent)."""
    m = re.search(r"output-rs(\d+)", os.path.basename(path))
    return int(m.group(1)) if m else 0


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load one NeMo-Skills seed file (several files pool through ``load_many``)."""
    seed = seed_of(source)
    rows: dict[str, list[Any]] = {
        k: [] for k in ("question_id", "problem", "answer", "correct", "gold", "tokens")
    }
    field = columns.correct
    unfinished = 0
    for k, (lineno, rec) in enumerate(iter_jsonl(source)):
        if not rec:  # batch_evaluate_results keeps {} for a generation that did not finish
            unfinished += 1
            continue
        if field is None:
            field = next((f for f in CORRECT_FIELDS if f in rec), "")
        qid = rec.get("id", k)
        ans = rec.get("predicted_answer")
        if ans is None and "generation" in rec and not field:
            ans = None
        rows["question_id"].append(str(qid))
        rows["problem"].append(rec.get("problem"))
        rows["answer"].append(None if ans is None else str(ans))
        if field:
            if field not in rec:
                raise HarnessInputError(
                    f"missing field {field!r}",
                    source=source,
                    line=lineno,
                    column=field,
                    fix="every line of one file must be graded the same way",
                )
            value = rec[field]
            if field == "judgement":
                value = judgement_correct(value, source=source, line=lineno)
            rows["correct"].append(value)
        rows["gold"].append(rec.get("expected_answer"))
        rows["tokens"].append(rec.get("num_generated_tokens"))
    df = pd.DataFrame({k: v for k, v in rows.items() if v})
    if "correct" in df.columns:
        df = df.drop(columns=["gold"], errors="ignore")
    elif "gold" not in df.columns or df["gold"].isna().all():
        raise HarnessInputError(
            f"no correctness field ({', '.join(CORRECT_FIELDS)}) and no expected_answer",
            source=source,
            fix="run NeMo-Skills evaluation first, or map the flag with --correct-col",
        )
    if "tokens" in df.columns and df["tokens"].isna().all():
        df = df.drop(columns=["tokens"])
    df["sample_id"] = seed
    df["group"] = f"seed{seed}"
    problems = df.pop("problem") if "problem" in df.columns else None
    loaded = finish(
        df,
        source=source,
        fmt="nemo-skills",
        options=options,
        stopping=stopping,
        notes=[
            f"{source}: NeMo-Skills seed {seed}"
            + (f", correctness from {field!r}" if field else ", graded against expected_answer")
        ]
        + ([f"{source}: {unfinished} empty lines (unfinished generations) skipped"] if unfinished else []),
    )
    if problems is not None and loaded.rollouts is not None:
        r = loaded.rollouts.copy()
        r["problem"] = problems.to_numpy()
        loaded = replace(loaded, rollouts=r)
    return loaded


def pool_seeds(parts: Sequence[Loaded], *, stopping: str | None, normalizer: str = "math") -> Loaded:
    """Pool the rollouts of several seed files into one row per question (the seed is the group).

    Answer classes are formed again over the pooled samples of each question, so that equivalent answers
    from different seed files (grouped file by file at load time) land in one class.
    """
    frames = [p.rollouts for p in parts if p.rollouts is not None]
    r = pd.concat(frames, ignore_index=True)
    if "answer" in r.columns:
        labels = r["answer"].to_numpy(object).copy()
        flags = r["correct"].to_numpy(bool)
        refused: list[str] = []
        for idx in r.groupby(["model", "question_id"], sort=False).indices.values():
            ii = np.asarray(idx)
            lab, conflict = group_graded(
                [None if pd.isna(v) else str(v) for v in labels[ii]], flags[ii].tolist(), normalizer=normalizer
            )
            labels[ii] = lab
            if conflict is not None:
                refused.append(describe_conflict(str(r["question_id"].iloc[ii[0]]), conflict))
        r["answer"] = pd.Series(labels, index=r.index, dtype=object)
    if "problem" in r.columns:
        texts = r.groupby("question_id")["problem"].nunique(dropna=True)
        bad = texts[texts > 1]
        if len(bad):
            raise HarnessInputError(
                f"question {bad.index[0]!r} has different problem texts across the seed files",
                source=", ".join(p.source for p in parts),
                column="problem",
                fix="seed files must come from the same input file, line by line",
            )
        r = r.drop(columns=["problem"])
    counts = rollouts_to_counts(r, source=parts[0].source, stopping=(stopping or FIXED))
    extra = (conflict_warning(len(refused), refused[0]),) if "answer" in r.columns and refused else ()
    notes = tuple(n for p in parts for n in p.notes) + extra + counts.notes
    counts = replace(counts, notes=notes)
    return Loaded(
        counts=counts,
        rollouts=r,
        source=", ".join(p.source for p in parts),
        format="nemo-skills",
        notes=notes,
        answers=parts[0].answers,
    )
