"""Generic long tables (CSV, TSV, JSONL, Parquet) with canonical or mapped column names, and count tables.

A table with ``question_id`` and ``correct`` columns is a Rollouts table (one row per sample); a table with
``question_id``, ``n`` and ``c`` columns is a count table (one row per question).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError, check_counts
from harness.loaders._base import ColumnMap, Loaded
from harness.tables import FIXED, QuestionCounts, rollouts_to_counts, validate_rollouts


def _detect_format(path: str) -> str:
    name = path.lower().removesuffix(".gz")
    for ext, fmt in ((".csv", "csv"), (".tsv", "tsv"), (".jsonl", "jsonl"), (".json", "jsonl"),
                     (".parquet", "parquet")):
        if name.endswith(ext):
            return fmt
    raise HarnessInputError(
        "cannot tell the format from the file name", source=path,
        fix="name it .csv, .tsv, .jsonl(.gz) or .parquet, or pass --format",
    )


def read_frame(path: str, fmt: str) -> pd.DataFrame:
    """Read a generic table; errors name the file and the line."""
    if not os.path.exists(path):
        raise HarnessInputError("no such file", source=path)
    if os.path.getsize(path) == 0:
        raise HarnessInputError("the file is empty", source=path, fix="it holds no samples")
    try:
        if fmt in ("csv", "tsv"):
            return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", encoding="utf-8")
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "jsonl":
            import gzip

            opener = gzip.open if path.lower().endswith(".gz") else open
            records = []
            with opener(path, "rt", encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise HarnessInputError(
                            f"malformed JSON ({exc.msg} at column {exc.colno})", source=path, line=lineno,
                            fix="each line must be one JSON object",
                        ) from None
            if not records:
                raise HarnessInputError("the file holds no JSON records", source=path)
            return pd.DataFrame.from_records(records)
    except UnicodeDecodeError as exc:
        raise HarnessInputError(
            f"bytes that are not UTF-8 at byte offset {exc.start}", source=path, fix="re-encode the file as UTF-8"
        ) from None
    except HarnessInputError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise HarnessInputError(f"cannot read the file as {fmt}: {exc}", source=path) from None
    raise HarnessInputError(f"unknown format {fmt!r}", source=path)


def counts_from_frame(df: pd.DataFrame, *, source: str, stopping: str | None = None) -> QuestionCounts:
    """A count table (question_id, n, c, optional model/tokens/flops) as QuestionCounts."""
    n, c = check_counts(df["n"].to_numpy(), df["c"].to_numpy(), source=source)
    model = df["model"].astype(str).to_numpy(object) if "model" in df.columns else np.full(len(df), "model", object)
    qid = df["question_id"].astype(str).to_numpy(object)
    tokens = pd.to_numeric(df["tokens"], errors="coerce").to_numpy(float) if "tokens" in df.columns else None
    flops = (pd.to_numeric(df["flops_per_sample"], errors="coerce").to_numpy(float)
             if "flops_per_sample" in df.columns else None)
    dup = pd.DataFrame({"m": model, "q": qid}).duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise HarnessInputError(
            f"question {qid[i]!r} appears twice", source=source, row=i, column="question_id",
            fix="a count table has one row per (model, question)",
        )
    return QuestionCounts(model=model, question_id=qid, n=n, correct=c, tokens=tokens, flops_per_sample=flops,
                          stopping=np.full(len(df), stopping or FIXED, dtype=object))


def load_table(source: str, *, format: str | None, columns: ColumnMap, stopping: str | None) -> Loaded:
    """Load a generic rollouts or count table."""
    fmt = format if format not in (None, "counts") else _detect_format(source)
    assert fmt is not None
    df = read_frame(source, fmt)
    renames = columns.renames()
    for src in renames:
        if src not in df.columns:
            from harness._validation import require_columns

            require_columns(list(df.columns), [src], source=source)
    df = df.rename(columns=renames)
    if len(df) == 0:
        raise HarnessInputError("the table has no rows", source=source, fix="the file holds no samples")
    if {"question_id", "n", "c"} <= set(df.columns) and "correct" not in df.columns:
        counts = counts_from_frame(df, source=source, stopping=stopping)
        return Loaded(counts=counts, rollouts=None, source=source, format="counts")
    rollouts = validate_rollouts(df, source=source)
    counts = rollouts_to_counts(rollouts, source=source, stopping=stopping or FIXED, validated=True)
    return Loaded(counts=counts, rollouts=rollouts, source=source, format=fmt, notes=counts.notes)
