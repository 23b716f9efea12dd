"""Shared loader types: the column map and the loaded result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from harness._validation import HarnessInputError
from harness.tables import QuestionCounts, concat_counts


@dataclass(frozen=True)
class ColumnMap:
    """Names of the source columns holding each canonical field (None: the canonical name)."""

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

    def renames(self) -> dict[str, str]:
        """source name -> canonical name for every mapped field."""
        canon = {
            "question": "question_id", "answer": "answer", "correct": "correct", "sample": "sample_id",
            "model": "model", "tokens": "tokens", "score": "score", "group": "group", "budget": "budget",
            "n": "n", "c": "c",
        }
        return {getattr(self, f): canon[f] for f in canon if getattr(self, f) is not None}


@dataclass(frozen=True)
class Loaded:
    """What a loader read: the counts (always), the per-sample rollouts (when the source has samples)."""

    counts: QuestionCounts
    rollouts: pd.DataFrame | None
    source: str
    format: str
    notes: tuple[str, ...] = field(default=())


def merge_loaded(parts: Sequence[Loaded]) -> Loaded:
    """Stack several loaded sources into one."""
    if not parts:
        raise HarnessInputError("no input given", fix="name at least one input file")
    if len(parts) == 1:
        return parts[0]
    rollouts = None
    if all(p.rollouts is not None for p in parts):
        rollouts = pd.concat([p.rollouts for p in parts], ignore_index=True)
    return Loaded(
        counts=concat_counts([p.counts for p in parts]), rollouts=rollouts,
        source=", ".join(p.source for p in parts), format="+".join(dict.fromkeys(p.format for p in parts)),
        notes=tuple(n for p in parts for n in p.notes),
    )
