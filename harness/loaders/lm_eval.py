"""lm-evaluation-harness ``--log_samples`` output: ``samples_<task>_<date>.jsonl``.

Fields (EleutherAI/lm-evaluation-harness ``lm_eval/evaluator.py``, the ``example`` dict built in
``evaluate()`` when ``log_samples`` is on; v0.4.x): ``doc_id``, ``doc``, ``target``, ``arguments``, ``resps``,
``filtered_resps``, ``filter``, ``metrics``, ``doc_hash``, ``prompt_hash``, ``target_hash``, plus one key per
metric. With ``repeats: N`` in the task config (e.g. ``gsm8k-cot-self-consistency``) each request is cloned N
times and ``resps`` is ``[[r_1, ..., r_N]]`` (one list per request, one entry per repeat). A task with several
filters (``score-first``, ``maj@64``, ...) writes one line per (doc, filter) with the same ``resps``; the
first filter's line of each doc is used and the rest counted in a note.

Each repeat's final answer is extracted from the raw text (``--extractor``, default ``auto``) and graded
against ``target`` (the normaliser decides equality, e.g. GSM8K ``#### 72`` targets reduce to ``72``).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import extract_hash
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import iter_jsonl


def _repeats(resps: Any) -> list[str] | None:
    """The N repeat texts of one doc from ``resps`` ([[r1..rN]] or [[r1],[r2],...] or [r1..rN])."""
    if not isinstance(resps, list) or not resps:
        return None
    if len(resps) == 1 and isinstance(resps[0], list):
        inner = resps[0]
        return [x if isinstance(x, str) else (x[0] if isinstance(x, list) and x else str(x)) for x in inner]
    if all(isinstance(x, list) and len(x) == 1 for x in resps):
        return [str(x[0]) for x in resps]
    if all(isinstance(x, str) for x in resps):
        return list(resps)
    return None


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load an lm-eval samples file: one rollout per (doc_id, repeat)."""
    rows: dict[str, list[Any]] = {"question_id": [], "sample_id": [], "text": [], "gold": []}
    first_filter: dict[Any, Any] = {}
    skipped = 0
    for lineno, rec in iter_jsonl(source):
        for key in ("doc_id", "resps", "target"):
            if key not in rec:
                raise HarnessInputError(
                    f"missing field {key!r}",
                    source=source,
                    line=lineno,
                    column=key,
                    fix="an lm-eval --log_samples line has doc_id, target and resps",
                )
        doc = rec["doc_id"]
        filt = rec.get("filter")
        if doc in first_filter:
            if first_filter[doc] == filt:
                raise HarnessInputError(
                    f"doc_id {doc!r} appears twice with filter {filt!r}",
                    source=source,
                    line=lineno,
                    column="doc_id",
                    fix="each doc is logged once per filter",
                )
            skipped += 1
            continue
        first_filter[doc] = filt
        reps = _repeats(rec["resps"])
        if reps is None:
            raise HarnessInputError(
                "'resps' is not a list of generated texts",
                source=source,
                line=lineno,
                column="resps",
                fix="only generate_until tasks have answers to extract",
            )
        if not reps:
            raise HarnessInputError(
                f"doc {doc!r} has zero samples", source=source, line=lineno, column="resps"
            )
        target = rec["target"]
        gold = extract_hash(target) if isinstance(target, str) and "####" in target else target
        for j, text in enumerate(reps):
            rows["question_id"].append(str(doc))
            rows["sample_id"].append(j)
            rows["text"].append(text)
            rows["gold"].append(None if gold is None else str(gold))
    df = pd.DataFrame(rows)
    name = os.path.basename(source)
    notes = [f"{name}: lm-eval samples, {df['question_id'].nunique()} docs"]
    if skipped:
        notes.append(f"{name}: {skipped} lines of further filters skipped (same resps as the first filter)")
    return finish(df, source=source, fmt="lm-eval", options=options, stopping=stopping, notes=notes)
