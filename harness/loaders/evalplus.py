"""Code-generation results: evalplus ``eval_results.json`` and human-eval ``<samples>.jsonl_results.jsonl``.

* evalplus (checked against evalplus/evalplus ``evalplus/evaluate.py`` and ``evalplus/eval/__init__.py``):
  ``eval_results.json`` in a samples folder, else ``<samples>.eval_results.json`` (legacy
  ``<samples>_eval_results.json``): ``{"date", "hash", "eval": {task_id: [ {"task_id", "solution",
  "base_status", "plus_status", "base_fail_tests", "plus_fail_tests"}, ... ]}, "pass_at_k"}`` with statuses
  ``PASS="pass"``, ``FAIL="fail"``, ``TIMEOUT="timeout"`` (``plus_status`` is null with ``--base-only``);
  older releases stored ``{"eval": {task_id: {"nfiles", "base": [[status, details], ...], "plus": [...]}}}``
  (``plus`` empty with ``--base-only``) with statuses ``SUCCESS="success"``, ``FAILED="failed"``,
  ``TIMEOUT="timed out"``. Correct = base and plus tests pass (EvalPlus's "plus" score); ``--correct-col
  base`` uses the base tests only.
* human-eval (checked against openai/human-eval ``human_eval/evaluation.py``
  ``evaluate_functional_correctness`` writes
  ``<sample_file>_results.jsonl``): each line the sample (``task_id``, ``completion``) plus ``result``
  (``"passed"``, ``"failed: ..."``, ``"timed out"``) and ``passed`` (bool).

Code has no voting answer here (execution-based clustering is out of scope), so only correctness is kept; the
completion order within a task is the sample id.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import iter_jsonl, read_json

STATUS = {
    "pass": True,
    "fail": False,
    "timeout": False,
    "success": True,
    "failed": False,
    "timed out": False,
    "passed": True,
}


def _status(v: Any, *, source: str, where: str) -> bool:
    s = v[0] if isinstance(v, list) and v else v
    if isinstance(s, bool):
        return s
    if isinstance(s, str) and s.lower() in STATUS:
        return STATUS[s.lower()]
    raise HarnessInputError(
        f"status {s!r} is not pass/fail",
        source=source,
        column=where,
        fix="accepted statuses: pass, fail, timeout (older evalplus: success, failed, timed out)",
    )


def _load_evalplus(source: str, columns: ColumnMap) -> pd.DataFrame:
    data = read_json(source)
    ev = data.get("eval") if isinstance(data, dict) else None
    if not isinstance(ev, dict) or not ev:
        raise HarnessInputError(
            "no 'eval' mapping of task ids to results", source=source, fix="give evalplus's eval_results.json"
        )
    base_only = columns.correct == "base"
    rows: dict[str, list[Any]] = {"question_id": [], "sample_id": [], "correct": []}
    for task, res in ev.items():
        if isinstance(res, list):
            items = [
                (
                    _status(r.get("base_status"), source=source, where=f"eval.{task}.base_status"),
                    None
                    if base_only or r.get("plus_status") is None
                    else _status(r.get("plus_status"), source=source, where=f"eval.{task}.plus_status"),
                )
                for r in res
            ]
        elif isinstance(res, dict) and "base" in res:
            plus = res.get("plus") or [None] * len(res["base"])
            items = [
                (
                    _status(b, source=source, where=f"eval.{task}.base"),
                    None if base_only or p is None else _status(p, source=source, where=f"eval.{task}.plus"),
                )
                for b, p in zip(res["base"], plus, strict=False)
            ]
        else:
            raise HarnessInputError(f"task {task!r}: unknown result layout", source=source, column="eval")
        if not items:
            raise HarnessInputError(f"task {task!r} has zero samples", source=source, column="eval")
        for j, (b, p) in enumerate(items):
            rows["question_id"].append(str(task))
            rows["sample_id"].append(j)
            rows["correct"].append(b and (p if p is not None else True))
    return pd.DataFrame(rows)


def _load_human_eval(source: str) -> pd.DataFrame:
    rows: dict[str, list[Any]] = {"question_id": [], "correct": []}
    for lineno, rec in iter_jsonl(source):
        if "task_id" in rec and "passed" not in rec and ("completion" in rec or "solution" in rec):
            raise HarnessInputError(
                "code samples that are not scored yet (no 'passed')",
                source=source,
                line=lineno,
                fix="run the scorer first: human-eval `evaluate_functional_correctness FILE` and load the "
                "FILE_results.jsonl it writes",
            )
        if "task_id" not in rec or "passed" not in rec:
            raise HarnessInputError(
                "missing field 'task_id' or 'passed'",
                source=source,
                line=lineno,
                fix="give the *_results.jsonl written by evaluate_functional_correctness",
            )
        rows["question_id"].append(str(rec["task_id"]))
        rows["correct"].append(rec["passed"])
    return pd.DataFrame(rows)


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load evalplus or human-eval results (pass/fail per completion)."""
    if format == "human-eval":
        df = _load_human_eval(source)
        note = f"{source}: human-eval results (passed per completion)"
    else:
        df = _load_evalplus(source, columns)
        note = f"{source}: evalplus results ({'base' if columns.correct == 'base' else 'base+plus'} tests)"
    return finish(df, source=source, fmt=format, options=options, stopping=stopping, notes=[note])
