"""lighteval details parquet: ``details/<model_name>/<date_id>/details_<task>_<date_id>.parquet``.

The path is checked against huggingface/lighteval ``src/lighteval/logging/evaluation_tracker.py``
(``save_details``/``_get_details_sub_folder``): ``<model_name>`` is the model name as given, so a hub id such as
``org/model`` makes two folders; ``<task>`` is like ``lighteval|math_500|0`` and ``<date_id>`` is
``datetime.now().isoformat()`` with ``:`` replaced by ``-``. Columns are the ``DetailsLogger.Detail`` fields in
sorted order. Two layouts (``src/lighteval/logging/info_loggers.py`` ``DetailsLogger``):

* up to 0.8 (checked): one row per doc with ``example``, ``full_prompt``, ``predictions`` (the
  ``get_result_for_eval()`` of each model response, flattened, so the n generated texts of a sampling metric
  such as ``maj@n``/``pass@k``), ``gold`` (``doc.get_golds()``, a list of gold strings), ``metrics``,
  ``choices``, ``gold_index``, ``cont_tokens``, ...;
* from 0.9 (checked: ``DetailsLogger.Detail`` is ``doc: Doc``, ``model_response: ModelResponse``, ``metric:
  dict``; ``src/lighteval/models/model_output.py`` ``ModelResponse``; ``Doc`` in
  ``src/lighteval/tasks/requests.py``): ``doc`` (struct: ``query``, ``choices``, ``gold_index`` int or list,
  ``id``, ...; the golds are ``choices[gold_index]``), ``model_response`` (struct: ``text`` list of generated
  texts, ``output_tokens`` list of token-id lists, ``input_tokens``, ``logprobs``, ...), ``metric`` (struct of
  per-doc metric values).

lighteval keeps no per-sample correctness, so each generated text's answer is extracted (``--extractor``,
default ``auto``) and graded against the gold. The question id is the dataset's id when the task's prompt
function kept it in ``doc.specific`` (``id``, ``question_id``, ``problem_id``, ``task_id``, ``doc_id``, ``idx``),
else ``doc.id``, which lighteval 0.13 (``LightevalTask._get_docs_from_split``) sets to the row index in the
dataset split -- never the parquet row, because ``get_docs`` shuffles the docs (``random.Random(42)``) and
so two runs on differently ordered data would pair the wrong questions. The 0.8 layout logs no doc id: the
parquet row is used, with a warning. The model is the path
between the nearest ``details`` folder and the date folder (``org/model`` kept whole) when the path follows
lighteval's layout, else ``model``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import read_parquet


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, np.ndarray):
        return list(v)
    if isinstance(v, (list, tuple)):
        return list(v)
    return [v]


def _model_from_path(source: str) -> str:
    """``org/model`` from ``.../details/org/model/<date_id>/details_*.parquet`` (``model`` if not that layout)."""
    parts = os.path.normpath(os.path.abspath(source)).split(os.sep)
    above = parts[:-2]  # drop the file and the date folder
    if "details" not in above:
        return "model"
    top = len(above) - 1 - above[::-1].index("details")
    name = "/".join(above[top + 1 :])
    return name or "model"


ID_FIELDS = ("id", "question_id", "problem_id", "task_id", "doc_id", "idx")
"""Keys of ``doc.specific`` read as the dataset's own id (a prompt function may keep it there)."""


def _doc_id(doc: Any, row: int) -> tuple[str, str]:
    """(question id, where it came from): the dataset's id kept in ``doc.specific``, else ``doc.id`` (the row
    index in the dataset split, set by ``LightevalTask._get_docs_from_split``; not the parquet row, which
    follows lighteval's seeded shuffle), else the parquet row."""
    specific = doc.get("specific") if hasattr(doc, "get") else None
    if isinstance(specific, dict):
        for key in ID_FIELDS:
            v = specific.get(key)
            if v is not None and str(v) != "":
                return str(v), f"doc.specific.{key}"
    v = doc.get("id") if hasattr(doc, "get") else None
    if v is not None and str(v) != "":
        return str(v), "doc.id"
    return str(row), "row"


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a lighteval details parquet."""
    df = pd.DataFrame(read_parquet(source))
    cols = set(map(str, df.columns))
    rows: dict[str, list[Any]] = {k: [] for k in ("question_id", "sample_id", "text", "gold", "tokens")}
    id_from: set[str] = set()
    for i in range(len(df)):
        tokens: list[float] = []
        qid = str(i)
        if {"predictions", "gold"} <= cols:
            id_from.add("row")
            preds = _as_list(df["predictions"].iloc[i])
            gold: Any = [str(g) for g in _as_list(df["gold"].iloc[i])]
        elif {"doc", "model_response"} <= cols:
            doc = df["doc"].iloc[i] or {}
            resp = df["model_response"].iloc[i] or {}
            preds = _as_list(resp.get("text"))
            choices = _as_list(doc.get("choices"))
            idx = [int(g) for g in _as_list(doc.get("gold_index"))]
            gold = [str(choices[g]) for g in idx if 0 <= g < len(choices)]
            tokens = [float(len(_as_list(t))) for t in _as_list(resp.get("output_tokens"))]
            qid, how = _doc_id(doc, i)
            id_from.add(how)
        else:
            raise HarnessInputError(
                "not a lighteval details table",
                source=source,
                fix="expected columns predictions+gold or doc+model_response; "
                f"present: {', '.join(sorted(cols))}",
            )
        if not preds:
            raise HarnessInputError(
                "a doc with zero predictions",
                source=source,
                row=i,
                column="predictions",
                fix="every doc needs at least one generated text",
            )
        if not gold:
            raise HarnessInputError("a doc with no gold answer", source=source, row=i, column="gold")
        for j, p in enumerate(preds):
            rows["question_id"].append(qid)
            rows["sample_id"].append(j)
            rows["text"].append(None if p is None else str(p))
            rows["gold"].append(gold if len(gold) > 1 else gold[0])
            rows["tokens"].append(tokens[j] if len(tokens) == len(preds) else np.nan)
    out = pd.DataFrame(rows)
    if out["tokens"].isna().all():
        out = out.drop(columns=["tokens"])
    out["model"] = _model_from_path(source)
    dup = out.drop_duplicates(["question_id", "sample_id"]).shape[0] != len(out)
    if dup:
        raise HarnessInputError(
            "two docs share one id",
            source=source,
            column="doc.id",
            fix="the details hold one row per doc; give each dataset row its own id",
        )
    how = " and ".join(sorted(id_from))
    notes = [f"{source}: lighteval details, {len(df)} docs; answers graded against gold (question id = {how})"]
    if "row" in id_from:
        notes.append(
            f"warning: {source}: question ids are parquet row numbers (this lighteval layout logs no doc id); "
            "lighteval shuffles docs, so do not pair this file question by question with another run"
        )
    return finish(out, source=source, fmt="lighteval", options=options, stopping=stopping, notes=notes)
