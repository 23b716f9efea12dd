"""Best-of-N jailbreaking per-attempt logs (one row per attempt, in draw order).

Two layouts, checked against ../shared/data/bon_jailbreaking_text (copied from
RylanSchaeffer/KoyejoLab-Large-How-Do-Language-Monkey-Power-Get-Their-Power at cd078ae):

* raw JSONL ``data/raw_data/best_of_n_jailbreaking/<model>_text_t1.0_n10000.jsonl``: ``i`` (behaviour index),
  ``flagged`` (bool: the reply was judged a successful jailbreak), ``n`` (attempt index), ``behavior_id``; the
  model comes from the file name (text before ``_text_``).
* processed parquet ``data/processed_data/best_of_n_jailbreaking.parquet``: ``Problem Idx``, ``Score`` (bool),
  ``Scaling Parameter`` (attempt index), ``behavior_id``, ``Model``, ``Modality``, ``Temperature``.

The attempt index is the sample id, so the first-success-block stopping rule (blocks of 60, Hughes et al.
2024) is detected from the data (see :mod:`harness.loaders._stopping`) unless ``--stopping`` says otherwise.
"""

from __future__ import annotations

import os

import pandas as pd

from harness._validation import require_columns
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import iter_jsonl, read_parquet


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a BoN per-attempt JSONL or parquet file."""
    if source.lower().removesuffix(".gz").endswith(".parquet"):
        df = pd.DataFrame(read_parquet(source))
        require_columns(list(df.columns), ("Problem Idx", "Score", "Scaling Parameter"), source=source)
        out = pd.DataFrame(
            {"question_id": df["Problem Idx"], "sample_id": df["Scaling Parameter"], "correct": df["Score"]}
        )
        out["model"] = df["Model"].astype(str) if "Model" in df.columns else "model"
    else:
        recs = [r for _, r in iter_jsonl(source)]
        df = pd.DataFrame.from_records(recs)
        require_columns(list(df.columns), ("i", "flagged", "n"), source=source)
        name = os.path.basename(source).split("_text_")[0]
        out = pd.DataFrame(
            {"model": name, "question_id": df["i"], "sample_id": df["n"], "correct": df["flagged"]}
        )
    if "behavior_id" in df.columns:
        out["group"] = df["behavior_id"].astype(str)
    out = out.drop(columns=["group"])  # one behaviour per question: no dependence axis to keep
    return finish(
        out,
        source=source,
        fmt="bon",
        options=options,
        stopping=stopping,
        notes=[f"{source}: Best-of-N per-attempt log (attempt index = sample id)"],
    )
