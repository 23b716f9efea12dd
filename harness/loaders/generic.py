"""Generic tables (CSV, TSV, JSONL[.gz], JSON array, Parquet) in three shapes, told apart by their columns.

* Rollouts (one row per sample): ``question_id`` plus ``correct`` (or ``gold`` to grade against), optional
  ``sample_id``, ``answer`` (or ``text``: free-text completions to extract answers from), ``model``,
  ``tokens``, ``score``, ``group``, ``budget``.
* Count tables (one row per question): ``question_id``, ``n``, ``c``; optional ``model``, ``tokens`` (total
  over the row's samples), ``flops_per_sample``. Known aliases (``n_samples``, ``n_correct``, ``problem_idx``,
  ...) are accepted with a note; anything else maps with ``--question-col`` (comma-separated for a composite
  id), ``--n-col``, ``--c-col``.
* Answer histograms (one row per question and answer): ``question_id``, ``answer``, ``count``, ``correct`` (or
  ``gold``).

Columns are mapped with :class:`~harness.loaders.ColumnMap`. Large JSONL/Parquet rollouts are reduced in
batches (:mod:`harness.loaders.streaming`).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError, check_counts, check_scalar_ids, require_columns
from harness.answers import group_answers
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import apply_column_map, counts_from_classes, finish, take_alias
from harness.loaders._io import (
    check_file,
    decode_utf8,
    iter_jsonl,
    read_bytes,
    read_delimited,
    read_json,
    read_parquet,
)
from harness.loaders._stopping import varying_n_notes
from harness.tables import FIXED, QuestionCounts

TABLE_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "json", "parquet")
STREAM_THRESHOLD_BYTES = 256 * 1024 * 1024


def table_format_from_name(path: str) -> str | None:
    """csv/tsv/jsonl/json/parquet from the file name (``.gz`` stripped), or None."""
    name = path.lower().removesuffix(".gz")
    for ext, fmt in (
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "json"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
    ):
        if name.endswith(ext):
            return fmt
    return None


def read_frame(path: str, fmt: str) -> pd.DataFrame:
    """Read a generic table; errors name the file, the line or byte offset and the fix."""
    check_file(path)
    if fmt in ("csv", "tsv"):
        text = decode_utf8(read_bytes(path), path)
        return pd.DataFrame(read_delimited(text, path, sep="\t" if fmt == "tsv" else ","))
    if fmt == "parquet":
        return pd.DataFrame(read_parquet(path))
    if fmt == "jsonl":
        records = list(iter_jsonl(path))
        frame = pd.DataFrame.from_records([obj for _, obj in records])
        frame.attrs["lines"] = [line for line, _ in records]  # row -> line, for errors
        return frame
    if fmt == "json":
        data = read_json(path)
        if isinstance(data, dict):
            for key in ("samples", "data", "rows", "records"):
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise HarnessInputError(
                "expected a JSON array of objects (one per row)",
                source=path,
                fix="give JSON Lines or an array of row objects, or pass --format",
            )
        if not data:
            raise HarnessInputError("the JSON array is empty", source=path, fix="it holds no samples")
        return pd.DataFrame.from_records(data)
    raise HarnessInputError(f"unknown table format {fmt!r}", source=path, fix=f"use one of {', '.join(TABLE_FORMATS)}")


def counts_from_frame(
    df: pd.DataFrame, *, source: str, stopping: str | None = None, notes: list[str] | None = None
) -> QuestionCounts:
    """A count table (question_id, n, c, optional model/tokens/flops_per_sample) as QuestionCounts."""
    notes = list(notes or [])
    for col in ("n", "c"):
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = vals.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise HarnessInputError(
                f"{df[col].iloc[i]!r} is not a number",
                source=source,
                row=i,
                column=col,
                fix="sample counts are whole numbers",
            )
    n, c = check_counts(pd.to_numeric(df["n"]).to_numpy(), pd.to_numeric(df["c"]).to_numpy(), source=source)
    model = df["model"].astype(str).to_numpy(object) if "model" in df.columns else np.full(len(df), "model", object)
    qid = df["question_id"].astype(str).to_numpy(object)
    tokens = pd.to_numeric(df["tokens"], errors="coerce").to_numpy(float) if "tokens" in df.columns else None
    flops = (
        pd.to_numeric(df["flops_per_sample"], errors="coerce").to_numpy(float)
        if "flops_per_sample" in df.columns
        else None
    )
    dup = pd.DataFrame({"m": model, "q": qid}).duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise HarnessInputError(
            f"question {qid[i]!r} appears twice",
            source=source,
            row=i,
            column="question_id",
            fix="a count table has one row per (model, question); add the distinguishing column to "
            "--question-col (e.g. --question-col benchmark,problem_idx) or --model-col",
        )
    if stopping is None:
        notes.extend(varying_n_notes(pd.Series(n, index=pd.MultiIndex.from_arrays([model, qid])), source))
    return QuestionCounts(
        model=model,
        question_id=qid,
        n=n,
        correct=c,
        tokens=tokens,
        flops_per_sample=flops,
        stopping=np.full(len(df), (stopping or FIXED).replace("=", ":"), dtype=object),
        notes=tuple(notes),
    )


def shape_of(columns: set[str]) -> str:
    """'counts', 'histogram' or 'rollouts' from the canonical column names present."""
    if {"question_id", "n", "c"} <= columns and "correct" not in columns:
        return "counts"
    if {"question_id", "answer", "count"} <= columns and ({"correct", "gold"} & columns):
        return "histogram"
    return "rollouts"


def normalise_frame(df: pd.DataFrame, columns: ColumnMap, *, source: str, notes: list[str]) -> pd.DataFrame:
    """Map columns and accept the known aliases where the canonical names are absent."""
    df = apply_column_map(df, columns, source=source)
    df = take_alias(df, "question_id", notes, source=source)
    if "correct" not in df.columns:
        df = take_alias(df, "n", notes, source=source)
        df = take_alias(df, "c", notes, source=source)
    df = take_alias(df, "flops_per_sample", notes, source=source)
    if "answer" in df.columns:
        df = take_alias(df, "count", notes, source=source)
    return df


def histogram_counts(
    df: pd.DataFrame, *, source: str, options: LoadOptions, stopping: str | None, notes: list[str]
) -> QuestionCounts:
    """An answer histogram -> QuestionCounts, grouping equivalent answers and grading against gold if
    needed."""
    from harness.answers import grade

    d = df.copy()
    if "model" not in d.columns:
        d["model"] = "model"
    d["question_id"] = d["question_id"].astype(str)
    raw = pd.Series([None if pd.isna(v) else str(v) for v in d["answer"].to_numpy(object)], dtype=object)
    labels: list[str | None] = [None] * len(d)
    for idx in d.groupby(["model", "question_id"], sort=False).indices.values():
        lab = group_answers(
            [None if raw.iloc[j] is None else str(raw.iloc[j]) for j in idx], normalizer=options.normalizer
        )
        for j, v in zip(np.asarray(idx).tolist(), lab, strict=True):
            labels[j] = v
    unparsed = sum(1 for v in labels if v is None)
    d["answer"] = pd.Series(labels, index=d.index, dtype=object)
    if "correct" not in d.columns:
        golds = d["gold"].to_numpy(object)
        d["correct"] = [
            lab is not None and grade(lab, g, normalizer=options.normalizer)
            for lab, g in zip(labels, golds, strict=True)
        ]
        notes.append(f"histogram: correctness graded against the gold answer (normaliser {options.normalizer})")
    if unparsed:
        notes.append(f"histogram: {unparsed} answer rows are empty: counted as wrong, no vote")
    return counts_from_classes(d, source=source, stopping=stopping, notes=notes)


def _streamable(path: str, fmt: str, columns: ColumnMap) -> bool:
    """True when a large file is a plain rollouts table the batch reducer handles (flag, no text to grade)."""
    from harness.loaders._io import iter_jsonl, parquet_file

    first: dict[str, object] = {} if fmt == "parquet" else dict(next(iter_jsonl(path))[1])
    names = list(parquet_file(path).schema_arrow.names) if fmt == "parquet" else list(first)
    canon = {columns.renames().get(n, n) for n in names}
    return {"question_id", "correct"} <= canon and not ({"text", "gold", "n", "count"} & canon)


def _holds_sample_lists(df: pd.DataFrame, columns: ColumnMap) -> bool:
    """True when rows hold lists of samples (a known list schema, or a mapped text/answer list column)."""
    from harness.loaders.lists import detect_schema

    present = [str(c) for c in df.columns]
    if "question_id" in present and "correct" in present:
        return False
    if detect_schema(present) is not None:
        return True
    col = columns.text or columns.answer
    if col is None or col not in present or len(df) == 0:
        return False
    first = df[col].iloc[0]
    return isinstance(first, (list, tuple, np.ndarray))


def load_table(
    source: str,
    *,
    format: str | None,
    columns: ColumnMap,
    stopping: str | None,
    options: LoadOptions | None = None,
) -> Loaded:
    """Load a generic rollouts, count or histogram table."""
    options = options or LoadOptions()
    fmt = format if format not in (None, "counts", "histogram") else table_format_from_name(source)
    if fmt is None:
        raise HarnessInputError(
            "cannot tell the format from the file name",
            source=source,
            fix="name it .csv, .tsv, .jsonl(.gz), .json or .parquet, or pass --format",
        )
    check_file(source)
    stream = options.stream
    if stream is None:
        stream = (
            fmt in ("jsonl", "parquet")
            and os.path.getsize(source) > STREAM_THRESHOLD_BYTES
            and _streamable(source, fmt, columns)
        )
    if stream and fmt in ("jsonl", "parquet"):
        from harness.loaders.streaming import stream_counts

        return stream_counts(source, fmt=fmt, columns=columns, stopping=stopping, options=options)
    df = read_frame(source, fmt)
    if len(df) == 0:
        raise HarnessInputError("the table has no rows", source=source, fix="the file holds no samples")
    if format not in ("counts", "histogram") and _holds_sample_lists(df, columns):
        from harness.loaders.lists import load_lists

        return load_lists(df, source=source, fmt=fmt, columns=columns, stopping=stopping, options=options)
    notes: list[str] = []
    df = normalise_frame(df, columns, source=source, notes=notes)
    check_scalar_ids(df, ("question_id", "sample_id", "model"), source=source, lines=df.attrs.get("lines"))
    shape = format if format in ("counts", "histogram") else shape_of(set(map(str, df.columns)))
    if shape == "counts":
        require_columns(list(df.columns), ("question_id", "n", "c"), source=source)
        counts = counts_from_frame(df, source=source, stopping=stopping, notes=notes)
        return Loaded(counts=counts, rollouts=None, source=source, format="counts", notes=counts.notes)
    if shape == "histogram":
        require_columns(list(df.columns), ("question_id", "answer", "count"), source=source)
        counts = histogram_counts(df, source=source, options=options, stopping=stopping, notes=notes)
        return Loaded(counts=counts, rollouts=None, source=source, format="histogram", notes=counts.notes)
    need = ["question_id"] + ([] if {"gold"} & set(df.columns) else ["correct"])
    require_columns(list(df.columns), need, source=source)
    return finish(df, source=source, fmt=fmt, options=options, stopping=stopping, notes=notes)
