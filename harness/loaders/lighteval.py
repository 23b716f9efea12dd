"""lighteval details parquet: ``details/<model>/<timestamp>/details_<task>_<timestamp>.parquet``.

Two layouts (huggingface/lighteval ``src/lighteval/logging/info_loggers.py`` ``DetailsLogger``):

* up to 0.8: one row per doc with ``example``/``full_prompt``, ``predictions`` (list of generated texts, n of
  them for sampling metrics such as ``maj@n``/``pass@k``), ``gold`` (list of gold strings), ``metrics``;
* from 0.9: ``doc`` (struct: ``query``, ``choices``, ``gold_index``, ...), ``model_response`` (struct:
  ``text`` list, ``output_tokens`` list of token lists), ``metric`` (struct of per-doc metric values).

lighteval keeps no per-sample correctness, so each generated text's answer is extracted (``--extractor``,
default ``auto``) and graded against the gold; the question id is the row number. The model is the folder name
two levels above the file when the path follows lighteval's layout.
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


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a lighteval details parquet."""
    df = pd.DataFrame(read_parquet(source))
    cols = set(map(str, df.columns))
    rows: dict[str, list[Any]] = {k: [] for k in ("question_id", "sample_id", "text", "gold", "tokens")}
    for i in range(len(df)):
        tokens: list[float] = []
        if {"predictions", "gold"} <= cols:
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
            rows["question_id"].append(str(i))
            rows["sample_id"].append(j)
            rows["text"].append(None if p is None else str(p))
            rows["gold"].append(gold if len(gold) > 1 else gold[0])
            rows["tokens"].append(tokens[j] if len(tokens) == len(preds) else np.nan)
    out = pd.DataFrame(rows)
    if out["tokens"].isna().all():
        out = out.drop(columns=["tokens"])
    parts = os.path.normpath(os.path.abspath(source)).split(os.sep)
    out["model"] = parts[-3] if len(parts) >= 3 and parts[-4:-3] == ["details"] else "model"
    notes = [f"{source}: lighteval details, {len(df)} docs; answers graded against gold (question id = row)"]
    return finish(out, source=source, fmt="lighteval", options=options, stopping=stopping, notes=notes)
