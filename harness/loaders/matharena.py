"""MathArena leaderboard data: per problem, each model's success rate in percent over a few runs.

Layout (eth-sri/matharena.ai at 8fdd9ab, ``static/js/table_data.js``: ``var result_data = [...]``; the JSON
array alone is kept in ../shared/data/matharena_aime2025i_feb2025/result_data.json): a list of objects, one
per problem, ``{"<model>": percent, ..., "question": <problem number>}``, followed by summary rows whose
``question`` is not a problem number (``"Avg"``, ``"Cost"``), which are skipped with a note. The site's method
(index.html) runs each model 4 times per problem, so ``--samples-per-question`` defaults to 4 and every
percentage must be a whole multiple of 100/N.
A ``secondary_data.json`` next to the file (``static/js/secondary.js``) supplies each model's average output
tokens per run, recorded as tokens = average x runs (a per-model compute axis, not per problem).
"""

from __future__ import annotations

import os

import numpy as np

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._io import read_json
from harness.tables import FIXED, QuestionCounts

DEFAULT_RUNS = 4


def _sibling_output_tokens(source: str, models: list[str], notes: list[str]) -> np.ndarray | None:
    """Average output tokens per run of each row's model from a ``secondary_data.json`` next to the file.

    MathArena's ``static/js/secondary.js`` (kept as secondary_data.json) has rows keyed ``question`` =
    ``"Output Tokens"`` with one average per model (over problems and runs): a per-model compute axis only.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(source)), "secondary_data.json")
    if not os.path.isfile(path):
        return None
    data = read_json(path)
    row = next((r for r in data if isinstance(r, dict) and r.get("question") == "Output Tokens"), None)
    if row is None:
        return None
    per_model = {m: v for m, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    notes.append(f"{path}: tokens = the model's average output tokens per run x runs (per model, not per problem)")
    return np.array([float(per_model.get(m, np.nan)) for m in models])


def load_source(source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions) -> Loaded:
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
    tokens = _sibling_output_tokens(source, models, notes)
    counts = QuestionCounts(
        model=np.array(models, object),
        question_id=np.array(qids, object),
        n=np.array(ns),
        correct=np.array(cs),
        tokens=None if tokens is None else tokens * np.array(ns, dtype=float),
        stopping=np.full(len(qids), (stopping or FIXED), dtype=object),
        notes=tuple(notes),
    )
    return Loaded(counts=counts, rollouts=None, source=source, format="matharena", notes=counts.notes)
