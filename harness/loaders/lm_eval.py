"""lm-evaluation-harness ``--log_samples`` output: ``samples_<task>_<date>.jsonl``.

Checked against EleutherAI/lm-evaluation-harness ``lm_eval/evaluator.py`` (the ``example`` dict built in
``evaluate()`` when ``log_samples`` is on), ``lm_eval/loggers/evaluation_tracker.py``
(``save_results_samples``: file ``<output>/<model>/samples_<task>_<date_id>.jsonl``) and ``lm_eval/utils.py``
(``sanitize_list``). Fields: ``doc_id``, ``doc``, ``target`` (written as ``str(target)``), ``arguments``
(written as ``{"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}, ...}``), ``resps``, ``filtered_resps``,
``doc_hash``, ``prompt_hash``, ``target_hash``, plus one key per metric (e.g. ``exact_match``); later
v0.4.x releases also write ``filter`` and ``metrics`` (the metric names). ``resps`` is one list per request,
each the request's responses, every leaf turned into a string by ``sanitize_list``. Generation tasks make one request
per doc, which ``repeats: N`` in the task config (e.g. ``gsm8k-cot-self-consistency``) clones N times, so
``resps`` is ``[[r_1, ..., r_N]]``; loglikelihood tasks give ``[[["-1.2", "False"]], ...]`` (one
``[loglikelihood, is_greedy]`` pair per choice), which hold no generated text and are refused. A task with
several filters (``score-first``, ``maj@64``, ...) writes one line per (doc, filter) with the same ``resps``;
the first line of each doc is used and the rest counted in a note (logs without ``filter`` are matched on
identical ``resps``).

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
    """The N repeat texts of one doc from ``resps`` ([[r1..rN]] or [[r1],[r2],...] or [r1..rN]).

    None unless every response is a string (loglikelihood pairs ``[ll, is_greedy]`` are not texts).
    """
    if not isinstance(resps, list) or not resps:
        return None
    if len(resps) == 1 and isinstance(resps[0], list):
        inner = resps[0]
        return list(inner) if all(isinstance(x, str) for x in inner) else None
    if all(isinstance(x, list) and len(x) == 1 and isinstance(x[0], str) for x in resps):
        return [x[0] for x in resps]
    if all(isinstance(x, str) for x in resps):
        return list(resps)
    return None


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load an lm-eval samples file: one rollout per (doc_id, repeat)."""
    rows: dict[str, list[Any]] = {"question_id": [], "sample_id": [], "text": [], "gold": []}
    first_filter: dict[Any, Any] = {}
    first_resps: dict[Any, Any] = {}
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
            if ("filter" in rec and first_filter[doc] == filt) or (
                "filter" not in rec and first_resps[doc] != rec["resps"]
            ):
                raise HarnessInputError(
                    f"doc_id {doc!r} appears twice "
                    + (f"with filter {filt!r}" if "filter" in rec else "with different resps and no 'filter'"),
                    source=source,
                    line=lineno,
                    column="doc_id",
                    fix="each doc is logged once per filter",
                )
            skipped += 1
            continue
        first_filter[doc] = filt
        first_resps[doc] = rec["resps"]
        reps = _repeats(rec["resps"])
        if reps is None:
            raise HarnessInputError(
                "'resps' is not a list of generated texts",
                source=source,
                line=lineno,
                column="resps",
                fix="only generate_until tasks have answers to extract (loglikelihood resps are "
                "[loglikelihood, is_greedy] pairs)",
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
