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

import io
from dataclasses import replace

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError, check_counts, require_columns
from harness.answers import group_answers
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import apply_column_map, counts_from_classes, finish, take_alias
from harness.loaders._io import check_file, decode_utf8, iter_jsonl, read_bytes, read_json, read_parquet
from harness.loaders._stopping import varying_n_notes
from harness.tables import FIXED, QuestionCounts

TABLE_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "json", "parquet")


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
        try:
            return pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else ",")
        except pd.errors.EmptyDataError:
            raise HarnessInputError("the file is empty", source=path, fix="it holds no samples") from None
        except pd.errors.ParserError as exc:
            raise HarnessInputError(
                f"cannot parse the {fmt.upper()} ({exc})".replace("\n", " "),
                source=path,
                fix="every line needs the same number of fields as the header",
            ) from None
    if fmt == "parquet":
        return pd.DataFrame(read_parquet(path))
    if fmt == "jsonl":
        return pd.DataFrame.from_records([obj for _, obj in iter_jsonl(path)])
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
        notes.extend(varying_n_notes(pd.Series(n, index=pd.MultiIndex.from_arrays([model, qid])), source, c))
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


def _header(path: str, fmt: str) -> list[str]:
    """Column names of a tabular file without reading its rows (CSV/TSV header, first JSON record, Parquet
    schema)."""
    from harness.loaders._io import iter_jsonl, parquet_file

    if fmt == "parquet":
        return list(parquet_file(path).schema_arrow.names)
    if fmt == "jsonl":
        return list(dict(next(iter_jsonl(path))[1]))
    head = decode_utf8(read_bytes_head(path), path).splitlines()
    return [h.strip().strip('"') for h in head[0].split("\t" if fmt == "tsv" else ",")] if head else []


def choose_engine(path: str, fmt: str, columns: ColumnMap, options: LoadOptions) -> str:
    """duckdb, spark or memory for a generic table.

    An explicit ``engine`` (or ``stream``) wins. Otherwise DuckDB reduces every plain per-sample table (a question
    id and a correctness flag; answers and tokens optional), and the in-memory path keeps the rows where something
    downstream needs them per sample: ``score`` (best@k), ``group`` / ``budget`` (dependence and budget tests),
    free ``text`` to extract answers from, ``gold`` answers to grade, list-valued cells, count or histogram
    tables.
    """
    if options.engine is not None:
        return options.engine
    if options.stream is not None:
        return "duckdb" if options.stream and fmt in ("jsonl", "parquet", "csv", "tsv") else "memory"
    if fmt not in ("jsonl", "parquet", "csv", "tsv"):
        return "memory"
    from harness.engines.sources import QUESTION_ALIASES

    try:
        names = _header(path, fmt)
    except HarnessInputError:
        return "memory"  # the in-memory readers name the bad line
    renames = columns.renames()
    canon = {renames.get(n, n) for n in names}
    has_q = columns.question_parts() is not None or bool(canon & set(QUESTION_ALIASES))
    per_row = {"score", "group", "budget", "text", "gold", "n", "c", "count", "flops", "flops_per_sample"}
    return "duckdb" if has_q and "correct" in canon and not (per_row & canon) else "memory"


def read_bytes_head(path: str, size: int = 1 << 16) -> bytes:
    """The first bytes of a (possibly gzip) file, cut at the last full line."""
    from harness.loaders._io import open_binary

    with open_binary(path) as fh:
        data = fh.read(size)
    return data[: data.rfind(b"\n") + 1] if b"\n" in data else data


def load_reduced(
    source: str, *, fmt: str, columns: ColumnMap, stopping: str | None, options: LoadOptions, engine: str
) -> Loaded:
    """A per-sample table reduced to counts by an engine (the rows are not kept: ``rollouts`` is None)."""
    from harness.engines import reduce_inputs

    red = reduce_inputs(
        [source], columns=columns, engine=engine, spark_master=options.spark_master,
        normalizer=options.normalizer, stopping=stopping,
    )
    note = f"{source}: {red.provenance['rows_read']} rows reduced to counts by {engine} (per-sample rows not kept)"
    notes = (note, *red.notes)
    counts = replace(red.counts, notes=notes)
    return Loaded(counts=counts, rollouts=None, source=source, format=fmt, notes=notes, answers=red.answers)


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
    engine = "memory" if format in ("counts", "histogram") else choose_engine(source, fmt, columns, options)
    if engine != "memory":
        return load_reduced(source, fmt=fmt, columns=columns, stopping=stopping, options=options, engine=engine)
    df = read_frame(source, fmt)
    if len(df) == 0:
        raise HarnessInputError("the table has no rows", source=source, fix="the file holds no samples")
    if format not in ("counts", "histogram") and _holds_sample_lists(df, columns):
        from harness.loaders.lists import load_lists

        return load_lists(df, source=source, fmt=fmt, columns=columns, stopping=stopping, options=options)
    notes: list[str] = []
    df = normalise_frame(df, columns, source=source, notes=notes)
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
