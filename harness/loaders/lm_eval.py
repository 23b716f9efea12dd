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

The vote is on the task's own extracted answers: ``filtered_resps`` of the filter chosen with ``--filter NAME``
(default: the task's first filter that keeps one answer per repeat, e.g. a ``regex`` filter without
``take_first``; lm-eval's ``[invalid]`` is no answer). A filter that keeps one answer per doc (``majority_vote``
+ ``take_first``, ``take_first``) cannot give per-sample votes: named with ``--filter`` it is an error, and when
no filter keeps one answer per repeat (``gsm8k-cot-self-consistency``) each repeat's answer is extracted from
the raw text (``--extractor``, default ``auto``; ``--filter resps`` forces this). Answers are graded against
``target`` (the normaliser decides equality, e.g. GSM8K ``#### 72`` targets reduce to ``72``); lm-eval logs no
per-sample correctness.
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


RAW = "resps"
"""``--filter resps``: ignore the task's filters and extract each repeat's answer from the raw text."""


def _per_sample(filtered: Any, n: int) -> list[str | None] | None:
    """The filter's answers, one per repeat, or None when the filter keeps another number (e.g. a majority
    vote followed by take_first keeps one answer per doc)."""
    if isinstance(filtered, list) and len(filtered) == 1 and isinstance(filtered[0], list):
        filtered = filtered[0]
    if not isinstance(filtered, list) or len(filtered) != n:
        return None
    if not all(x is None or isinstance(x, str) for x in filtered):
        return None
    return [None if x is None or x.strip() in ("", INVALID) else x for x in filtered]


INVALID = "[invalid]"
"""lm-eval's regex filter fallback when the pattern does not match (``lm_eval/filters/extraction.py``)."""


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load an lm-eval samples file: one rollout per (doc_id, repeat)."""
    docs: dict[Any, dict[Any, tuple[int, dict[str, Any]]]] = {}
    filters: list[Any] = []
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
        seen = docs.setdefault(doc, {})
        if filt in seen or ("filter" not in rec and seen):
            first = next(iter(seen.values()))[1]
            if "filter" in rec or first["resps"] != rec["resps"]:
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
        if seen:
            skipped += 1
        seen[filt] = (lineno, rec)
        if filt not in filters:
            filters.append(filt)
    name = os.path.basename(source)
    named = [f for f in filters if f is not None]
    chosen = _choose_filter(docs, named, options.filter, source=source)
    rows: dict[str, list[Any]] = {"question_id": [], "sample_id": [], "text": [], "gold": []}
    for doc, by_filter in docs.items():
        lineno, rec = by_filter[chosen] if chosen in by_filter else next(iter(by_filter.values()))
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
            raise HarnessInputError(f"doc {doc!r} has zero samples", source=source, line=lineno, column="resps")
        texts: list[str | None] = list(reps)
        if chosen != RAW:
            answers = _per_sample(rec.get("filtered_resps"), len(reps))
            if answers is None:
                raise HarnessInputError(
                    f"doc {doc!r}: filter {chosen!r} does not keep one answer per repeat",
                    source=source,
                    line=lineno,
                    column="filtered_resps",
                    fix=f"choose another filter with --filter, or --filter {RAW} to extract answers from the raw text",
                )
            texts = answers
        target = rec["target"]
        gold = extract_hash(target) if isinstance(target, str) and "####" in target else target
        for j, text in enumerate(texts):
            rows["question_id"].append(str(doc))
            rows["sample_id"].append(j)
            rows["text"].append(text)
            rows["gold"].append(None if gold is None else str(gold))
    df = pd.DataFrame(rows)
    notes = [f"{name}: lm-eval samples, {df['question_id'].nunique()} docs"]
    if chosen == RAW:
        why = "--filter resps" if options.filter == RAW else "no filter keeps one answer per repeat"
        notes.append(f"{name}: answers extracted from the raw text ({why}; extractor {options.extractor or 'auto'})")
        extractor = "auto"
    else:
        notes.append(f"{name}: votes on the answers of lm-eval filter {chosen!r} (filtered_resps)")
        df = df.rename(columns={"text": "answer"})
        extractor = "none"
    if skipped:
        notes.append(f"{name}: {skipped} lines of other filters not used (same resps)")
    return finish(
        df, source=source, fmt="lm-eval", options=options, stopping=stopping, notes=notes,
        default_extractor=extractor,
    )


def _choose_filter(
    docs: dict[Any, dict[Any, tuple[int, dict[str, Any]]]], named: list[Any], wanted: str | None, *, source: str
) -> Any:
    """The filter whose answers are voted on: ``wanted`` (checked), else the task's first filter that keeps one
    answer per repeat, else :data:`RAW` (extract from the raw text)."""
    if wanted == RAW:
        return RAW
    first_doc = next(iter(docs.values()))

    def per_sample(f: Any) -> bool:
        rec = first_doc[f][1] if f in first_doc else None
        reps = _repeats(rec["resps"]) if rec is not None else None
        return reps is not None and _per_sample(rec.get("filtered_resps") if rec else None, len(reps)) is not None

    if wanted is not None:
        if wanted not in named:
            raise HarnessInputError(
                f"no filter {wanted!r} in the samples file",
                source=source,
                column="filter",
                fix=f"filters present: {', '.join(map(str, named)) or 'none'}; or --filter {RAW}",
            )
        return wanted
    unnamed = [None] if None in first_doc else []
    for f in [*named, *unnamed]:
        if per_sample(f):
            return f
    return RAW
