"""Shared loader types: the column map, the load options and the loaded result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import EXTRACTORS, NORMALISERS, AnswerRecord
from harness.tables import QuestionCounts, concat_counts

CANONICAL: dict[str, str] = {
    "question": "question_id",
    "answer": "answer",
    "correct": "correct",
    "sample": "sample_id",
    "model": "model",
    "tokens": "tokens",
    "score": "score",
    "group": "group",
    "budget": "budget",
    "n": "n",
    "c": "c",
    "count": "count",
    "flops": "flops_per_sample",
    "text": "text",
    "gold": "gold",
}


@dataclass(frozen=True)
class ColumnMap:
    """Names of the source columns holding each canonical field (None: the canonical name or a known alias).

    ``question`` may name several columns joined by commas (``benchmark,problem_idx``): the question id is
    then their values joined by ``/``. ``text`` names a column of free-text completions to extract answers
    from; ``gold`` a column with the reference answer to grade against when there is no correctness flag.
    """

    question: str | None = None
    answer: str | None = None
    correct: str | None = None
    sample: str | None = None
    model: str | None = None
    tokens: str | None = None
    score: str | None = None
    group: str | None = None
    budget: str | None = None
    n: str | None = None
    c: str | None = None
    count: str | None = None
    flops: str | None = None
    text: str | None = None
    gold: str | None = None

    def renames(self) -> dict[str, str]:
        """source name -> canonical name for every mapped single-column field."""
        out = {}
        for f, canon in CANONICAL.items():
            src = getattr(self, f)
            if src is not None and not (f in ("question", "model") and "," in src):
                out[src] = canon
        return out

    def question_parts(self) -> list[str] | None:
        """The columns making up a composite question id, or None."""
        if self.question is not None and "," in self.question:
            return [p.strip() for p in self.question.split(",") if p.strip()]
        return None

    def model_parts(self) -> list[str] | None:
        """The columns making up a composite model name (``--model-col model,task``), or None."""
        if self.model is not None and "," in self.model:
            return [p.strip() for p in self.model.split(",") if p.strip()]
        return None


@dataclass(frozen=True)
class LoadOptions:
    """Choices a loader needs beyond the columns (all have safe defaults)."""

    extractor: str | None = None
    """How to pull a final answer out of free text (see ``harness.answers.EXTRACTORS``); None: format
    default."""
    normalizer: str = "math"
    """How answers are grouped into voting classes (``math``, ``plain``, ``none``)."""
    gold: str | None = None
    """A file of gold answers (question id + gold), for logs without correctness or gold."""
    n_questions: int | None = None
    """simple-evals: the number of distinct questions (rows repeat with period N)."""
    samples_per_question: int | None = None
    """MathArena: runs per problem (percentages -> counts)."""
    stream: bool | None = None
    """Generic tabular rollouts: True reduces them with DuckDB, False keeps the in-memory path (None: automatic)."""
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Generic tables: keep only rows whose column COL holds one of the values (``--where COL=V1,V2``)."""
    models: tuple[str, ...] | None = None
    """Keep only these models (``--models A,B``); an unknown name is an error listing the models present."""
    filter: str | None = None
    """lm-eval: the filter whose ``filtered_resps`` are voted on (None: the task's first per-sample filter)."""
    progress: Callable[[int, int], None] | None = field(default=None, compare=False, repr=False)
    """Called as ``progress(done, total)`` while answers are grouped, question by question."""
    engine: str | None = None
    """Reduction engine for generic tabular rollouts: duckdb, spark or memory (None: automatic, see
    ``harness.loaders.generic.choose_engine``)."""
    spark_master: str = "local[*]"
    """Spark master URL for ``engine='spark'``."""

    def __post_init__(self) -> None:
        if self.extractor is not None and self.extractor not in EXTRACTORS:
            raise HarnessInputError(
                f"unknown extractor {self.extractor!r}", fix=f"use one of {', '.join(EXTRACTORS)}"
            )
        if self.normalizer not in NORMALISERS:
            raise HarnessInputError(
                f"unknown normaliser {self.normalizer!r}", fix=f"use one of {', '.join(NORMALISERS)}"
            )
        if self.engine is not None and self.engine not in ("duckdb", "spark", "memory"):
            raise HarnessInputError(f"unknown engine {self.engine!r}", fix="use one of duckdb, spark, memory")
        for name in ("n_questions", "samples_per_question"):
            v = getattr(self, name)
            if v is not None and int(v) < 1:
                raise HarnessInputError(f"{name}={v} is not positive", fix="give a positive whole number")


@dataclass(frozen=True)
class Loaded:
    """What a loader read: the counts (always), the per-sample rollouts (when the source has samples)."""

    counts: QuestionCounts
    rollouts: pd.DataFrame | None
    source: str
    format: str
    notes: tuple[str, ...] = field(default=())
    answers: AnswerRecord | None = None
    """How answers were extracted and grouped (None when the log already held classes or only counts)."""


def parse_where(specs: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``["task=gsm8k", "split=test,dev"]`` -> ``(("task", ("gsm8k",)), ("split", ("test", "dev")))``."""
    out = []
    for spec in specs:
        col, sep, values = spec.partition("=")
        vals = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not col.strip() or not vals:
            raise HarnessInputError(
                f"--where {spec!r} is not COLUMN=VALUE[,VALUE...]",
                fix="e.g. --where task=gsm8k or --where split=test,dev",
            )
        out.append((col.strip(), vals))
    return tuple(out)


def keep_models(loaded: Loaded, models: Sequence[str]) -> Loaded:
    """Only the named models (an unknown name is an error listing the models present)."""
    present = loaded.counts.models
    unknown = [m for m in models if m not in present]
    if unknown:
        raise HarnessInputError(
            f"no model {unknown[0]!r} in the input",
            source=loaded.source,
            column="model",
            fix=f"models present: {', '.join(present[:20])}"
            + (f" ... ({len(present)} in all)" if len(present) > 20 else ""),
        )
    rows = np.flatnonzero(np.isin(loaded.counts.model.astype(str), list(models)))
    rollouts = loaded.rollouts
    if rollouts is not None:
        rollouts = rollouts[rollouts["model"].astype(str).isin(list(models))].reset_index(drop=True)
    dropped = len(present) - len(set(models))
    note = f"--models: kept {len(set(models))} of {len(present)} models ({dropped} left out)"
    counts = replace(loaded.counts.take(rows), notes=(*loaded.counts.notes, note))
    return replace(loaded, counts=counts, rollouts=rollouts, notes=(*loaded.notes, note))


def merge_loaded(parts: Sequence[Loaded]) -> Loaded:
    """Stack several loaded sources into one."""
    if not parts:
        raise HarnessInputError("no input given", fix="name at least one input file")
    if len(parts) == 1:
        return parts[0]
    rollouts = None
    if all(p.rollouts is not None for p in parts):
        rollouts = pd.concat([p.rollouts for p in parts], ignore_index=True)
    records = [p.answers for p in parts if p.answers is not None]
    answers = None
    if records:
        answers = AnswerRecord(
            extractor="+".join(dict.fromkeys(r.extractor for r in records)),
            normalizer="+".join(dict.fromkeys(r.normalizer for r in records)),
            n_samples=sum(r.n_samples for r in records),
            n_unparsed=sum(r.n_unparsed for r in records),
            n_merged=sum(r.n_merged for r in records),
            graded_against_gold=any(r.graded_against_gold for r in records),
            n_conflicts=sum(r.n_conflicts for r in records),
            conflict_example=next((r.conflict_example for r in records if r.conflict_example), None),
        )
    return Loaded(
        counts=concat_counts([p.counts for p in parts]),
        rollouts=rollouts,
        source=", ".join(p.source for p in parts),
        format="+".join(dict.fromkeys(p.format for p in parts)),
        notes=tuple(n for p in parts for n in p.notes),
        answers=answers,
    )
