"""MathArena leaderboard data: per problem, each model's success rate in percent over a few runs.

Layout (eth-sri/matharena.ai at 8fdd9ab, ``static/js/table_data.js``: ``var result_data = [...]``; the JSON
array alone is kept in ../shared/data/matharena_aime2025i_feb2025/result_data.json): a list of objects, one
per problem, ``{"<model>": percent, ..., "question": <problem number>}``, followed by summary rows whose
``question`` is not a problem number (``"Avg"``, ``"Cost"``), which are skipped with a note. The site's method
(index.html) runs each model 4 times per problem, so ``--samples-per-question`` defaults to 4 and every
percentage must be a whole multiple of 100/N.
"""

from __future__ import annotations

import numpy as np

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._io import read_json
from harness.tables import FIXED, QuestionCounts

DEFAULT_RUNS = 4


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a MathArena result_data JSON array as count rows (one per model and problem)."""
    data = read_json(source)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise HarnessInputError("expected a JSON array of per-problem objects", source=source)
    runs = options.samples_per_question or DEFAULT_RUNS
    notes = (
        []
        if options.samples_per_question
        else [
            f"{source}: assumed {DEFAULT_RUNS} runs per problem (MathArena's published method); "
            "override with --samples-per-question"
        ]
    )
    models, qids, ns, cs = [], [], [], []
    skipped = []
    for i, row in enumerate(data):
        q = row.get("question")
        if not isinstance(q, int):
            skipped.append(str(q))
            continue
        for m, v in row.items():
            if m == "question":
                continue
            if not isinstance(v, (int, float)):
                raise HarnessInputError(
                    f"{v!r} is not a percentage",
                    source=source,
                    row=i,
                    column=m,
                    fix="per-problem entries are success rates in percent",
                )
            c = v * runs / 100.0
            if abs(c - round(c)) > 1e-6 or not 0 <= round(c) <= runs:
                raise HarnessInputError(
                    f"{v}% is not a whole number of successes out of {runs} runs",
                    source=source,
                    row=i,
                    column=m,
                    fix="give the true number of runs per problem with --samples-per-question",
                )
            models.append(m)
            qids.append(str(q))
            ns.append(runs)
            cs.append(round(c))
    if not qids:
        raise HarnessInputError("no per-problem rows", source=source, fix="rows need an integer 'question'")
    if skipped:
        notes.append(f"{source}: summary rows skipped: {', '.join(skipped)}")
    counts = QuestionCounts(
        model=np.array(models, object),
        question_id=np.array(qids, object),
        n=np.array(ns),
        correct=np.array(cs),
        stopping=np.full(len(qids), (stopping or FIXED), dtype=object),
        notes=tuple(notes),
    )
    return Loaded(counts=counts, rollouts=None, source=source, format="matharena", notes=counts.notes)
