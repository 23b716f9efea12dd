"""The class-count file: one Parquet row per (model, question, [group, budget,] answer class, correct) with its size
and token sums; how it was made (inputs, engine, normaliser, rows read and excluded, stopping rule, notes) in the
Parquet key-value metadata under :data:`CLASS_COUNTS_KEY`. Written atomically; read back as counts.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np
import pandas as pd

from harness._atomic import write_bytes_atomic
from harness._validation import HarnessInputError, require_columns
from harness.engines.core import Reduced, counts_from_table
from harness.loaders._base import Loaded

CLASS_COUNTS_KEY = b"harness.class_counts"
"""Parquet metadata key whose value (JSON) marks a class-count file and records its provenance."""


def write_class_counts(path: str, reduced: Reduced, *, force: bool = False) -> None:
    """Write the class table with its provenance to ``path`` (Parquet), atomically; refuse to overwrite."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if os.path.exists(path) and not force:
        raise HarnessInputError("the output file exists", source=path, fix="pass --force to replace it")
    table = reduced.classes.copy()
    table["model"] = table["model"].astype(str)
    table["question_id"] = table["question_id"].astype(str)
    tokens = pd.DataFrame({
        "model": reduced.counts.model.astype(str), "question_id": reduced.counts.question_id.astype(str),
        "tokens": reduced.counts.tokens,
    })
    prov = dict(reduced.provenance)
    prov["question_tokens"] = None if tokens["tokens"].isna().all() else "per class: tokens_sum, tokens_n"
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[CLASS_COUNTS_KEY] = json.dumps(prov, default=str).encode()
    arrow = arrow.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(arrow, buf)
    write_bytes_atomic(path, buf.getvalue())


def class_counts_provenance(path: str) -> dict[str, Any] | None:
    """The provenance of a class-count file, or None when the Parquet file is not one."""
    from harness.loaders._io import parquet_file

    meta = parquet_file(path).schema_arrow.metadata or {}
    if CLASS_COUNTS_KEY not in meta:
        return None
    value: dict[str, Any] = json.loads(meta[CLASS_COUNTS_KEY])
    return value


def read_class_counts(path: str) -> Loaded:
    """A class-count file as :class:`Loaded` counts (classes summed over group and budget; no rollouts)."""
    from harness.loaders._io import read_parquet

    prov = class_counts_provenance(path)
    if prov is None:
        raise HarnessInputError(
            "not a class-count file (no harness.class_counts metadata)", source=path,
            fix="write it with 'harness reduce', or load it as a plain table with --format parquet",
        )
    df = read_parquet(path)
    require_columns(list(df.columns), ("model", "question_id", "answer", "correct", "size"), source=path)
    keys = ["model", "question_id"]
    rows = None
    if "tokens_n" in df.columns:
        g = df.groupby(keys, sort=False).agg(n=("size", "sum"), s=("tokens_sum", "sum"), k=("tokens_n", "sum"))
        g = g.reset_index()
        if (g["k"] > 0).any():
            rows = g[keys].assign(tokens=np.where(g["k"] == g["n"], g["s"], np.nan))
    notes = [f"{path}: class counts reduced by {prov.get('engine')} from {prov.get('rows_read')} rows of "
             f"{', '.join(map(str, prov.get('inputs', [])))} (normaliser {prov.get('normalizer')})",
             *[str(n) for n in prov.get("notes", []) if not str(n).startswith(("answers:", "warning:"))]]
    if "answer" in df.columns and df["answer"].notna().any():
        counts = counts_from_table(df, rows=rows, stopping=str(prov.get("stopping", "fixed")), source=path,
                                   notes=notes)
    else:
        from harness.tables import QuestionCounts

        g = df.assign(c=df["size"].where(df["correct"].astype(bool), 0)).groupby(keys, sort=False)
        per = g.agg(n=("size", "sum"), c=("c", "sum")).reset_index()
        tok = None if rows is None else rows["tokens"].to_numpy(float)
        counts = QuestionCounts(
            model=per["model"].to_numpy(object), question_id=per["question_id"].to_numpy(object),
            n=per["n"].to_numpy(np.int64), correct=per["c"].to_numpy(np.int64), tokens=tok,
            stopping=np.full(len(per), str(prov.get("stopping", "fixed")), dtype=object), notes=tuple(notes),
        )
    return Loaded(counts=counts, rollouts=None, source=path, format="class-counts", notes=counts.notes)
