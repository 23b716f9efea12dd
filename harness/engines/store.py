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


SAMPLE_ORDER_ATTR = "sample_order"
"""``DataFrame.attrs`` key set to ``"lost"`` on per-sample rows rebuilt from class counts: the analysis then runs
the group and budget tests on them but not the order test (``harness.analysis``)."""

MAX_EXPANDED_SAMPLES = 20_000_000
"""Largest number of samples rebuilt as rows from a class-count file for the group/budget tests (their cost is
that of the per-sample path: permutations of every sample's group label)."""


def expand_class_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Per-sample rows rebuilt from a class table with a group and/or budget column: ``size`` copies of each
    (model, question, group, budget, answer class, correct) row; questions in the table's order, within a question
    sorted by group, budget, answer (no answer first) and correctness.

    The within-question permutation tests of ``harness.diagnostics.dependence`` depend only on the multiset of
    (question, class, group) cells, which the class table holds exactly, so their statistics equal those on the
    logged samples (and so do their p-values when the logged rows come in the same order; otherwise the seed
    draws other permutations of the same cells). ``tokens`` is the class's mean tokens per sample when every
    sample had a count (so the mean per budget, all the budget comparison uses, is exact), else missing. The
    order in which samples were drawn is not in the table: the rows carry no ``sample_id`` and are marked
    ``attrs[SAMPLE_ORDER_ATTR] = "lost"``, so the order test is not run on them.
    """
    key = pd.DataFrame({
        "q": pd.factorize(df["model"].astype(str) + "\x00" + df["question_id"].astype(str))[0],
        "g": df["group"].astype(str) if "group" in df.columns else "",
        "b": df["budget"].astype(float) if "budget" in df.columns else 0.0,
        "a": df["answer"].astype(object).where(df["answer"].notna(), "").astype(str),
        "c": df["correct"].astype(bool),
    })
    df = df.iloc[key.sort_values(["q", "g", "b", "a", "c"], kind="stable").index.to_numpy()]
    size = df["size"].to_numpy(np.int64)
    idx = np.repeat(np.arange(len(df)), size)
    cols = [c for c in ("model", "question_id", "group", "budget", "answer", "correct") if c in df.columns]
    out = pd.DataFrame({c: df[c].to_numpy(object if c != "budget" else float)[idx] for c in cols})
    out["correct"] = out["correct"].astype(bool)
    if "tokens_n" in df.columns and "tokens_sum" in df.columns:
        known = df["tokens_n"].to_numpy(np.int64) == size
        per = np.where(known, df["tokens_sum"].to_numpy(float) / np.maximum(size, 1), np.nan)
        out["tokens"] = per[idx]
    out.attrs[SAMPLE_ORDER_ATTR] = "lost"
    return out


def _rollouts_from_classes(df: pd.DataFrame, path: str) -> tuple[pd.DataFrame | None, list[str]]:
    """The rebuilt per-sample rows when the table has a group or budget column (and not too many samples)."""
    axes = [c for c in ("group", "budget") if c in df.columns and df[c].notna().any()]
    if not axes:
        return None, []
    total = int(df["size"].sum())
    if total > MAX_EXPANDED_SAMPLES:
        return None, [f"{path}: the {' and '.join(axes)} tests were not run: {total:,} samples exceed the "
                      f"{MAX_EXPANDED_SAMPLES:,} rebuilt from class counts for them (report on a subset, e.g. "
                      "--models, or on the per-sample log)"]
    return expand_class_rows(df), [
        f"{path}: per-sample rows rebuilt from the class counts for the {' and '.join(axes)} tests (each sample's "
        "group, budget and answer class are kept; the order it was drawn in is not, so no order test)"
    ]


def read_class_counts(path: str) -> Loaded:
    """A class-count file as :class:`Loaded` counts (classes summed over group and budget); with a group or
    budget column, also per-sample rows rebuilt from the classes (:func:`expand_class_rows`) for the dependence
    tests and the budget comparison."""
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
    rollouts, more = _rollouts_from_classes(df, path)
    notes_all = (*counts.notes, *more)
    return Loaded(counts=counts, rollouts=rollouts, source=path, format="class-counts", notes=notes_all)
