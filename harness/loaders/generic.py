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
from dataclasses import replace

import numpy as np
import pandas as pd

from harness._validation import (
    HarnessInputError,
    check_counts,
    check_scalar_ids,
    closest,
    require_columns,
    to_bool_array,
)
from harness.answers import conflict_warning, group_answers, group_graded
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import ALIASES, apply_column_map, counts_from_classes, describe_conflict, finish, take_alias
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


def model_from_stem(path: str) -> str:
    """The file name without its extensions (``runs/gpt4_math.jsonl.gz`` -> ``gpt4_math``)."""
    base = os.path.basename(path)
    for ext in (".gz", ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq"):
        base = base.removesuffix(ext)
    return base or "model"


def read_frame(path: str, fmt: str) -> pd.DataFrame:
    """Read a generic table; errors name the file, the line or byte offset and the fix.

    In CSV/TSV every column keeps its exact strings unless all its cells read back as the same numbers
    (:func:`harness.loaders._io.read_delimited`), so ``72`` and ``72.0`` stay different answers.
    """
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
        first = int(np.flatnonzero((model == model[i]) & (qid == qid[i]))[0])
        raise HarnessInputError(
            f"question {qid[i]!r} appears twice (rows {first} and {i})",
            source=source,
            row=i,
            column="question_id",
            fix=_duplicate_fix(df, first, i),
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


PARTITION_NAMES: tuple[str, ...] = (
    "task", "task_name", "benchmark", "dataset", "subset", "split", "config", "suite", "data_source", "source",
)
"""Columns that usually split the samples into separate evaluations (never pooled silently)."""
_KEY_COLUMNS = frozenset({"question_id", "sample_id", "model", "n", "c", "correct", "answer", "text", "gold",
                          "tokens", "score", "group", "budget", "count", "flops_per_sample"})


def _duplicate_fix(df: pd.DataFrame, a: int, b: int) -> str:
    """How to tell two rows of one question apart: name the columns in which they differ."""
    differ = [
        str(c) for c in df.columns
        if str(c) not in _KEY_COLUMNS and str(df[c].iloc[a]) != str(df[c].iloc[b])
    ]
    if not differ:
        return "a count table has one row per (model, question); drop the repeated row"
    col = differ[0]
    va, vb = df[col].iloc[a], df[col].iloc[b]
    return (
        f"the rows differ in column {col!r} ({va!r} vs {vb!r}): analyse one at a time with --where {col}={va}, "
        f"or give each its own curve with --model-col model,{col}"
    )


def where_rows(df: pd.DataFrame, where: tuple[tuple[str, tuple[str, ...]], ...], *, source: str) -> tuple[
    pd.DataFrame, list[str]
]:
    """Keep the rows matching every ``--where COL=V1,V2`` (values compared as strings); count what is left out."""
    notes: list[str] = []
    if not where:
        return df, notes
    present = [str(c) for c in df.columns]
    keep = np.ones(len(df), dtype=bool)
    for col, values in where:
        if col not in present:
            hint = closest(col, present)
            raise HarnessInputError(
                f"no column {col!r} (given to --where)",
                source=source,
                fix=f"columns present: {', '.join(present)}" + (f"; closest match: {hint!r}" if hint else ""),
            )
        as_str = df[col].astype(str)
        hit = as_str.isin(values).to_numpy()
        missing = [v for v in values if not hit.any() or v not in set(as_str[hit])]
        if missing:
            seen = sorted(as_str.unique().tolist())
            raise HarnessInputError(
                f"no row has {col}={missing[0]!r}",
                source=source,
                column=col,
                fix=f"values present: {', '.join(seen[:20])}{' ...' if len(seen) > 20 else ''}",
            )
        keep &= hit
    if not keep.any():
        raise HarnessInputError(
            "--where leaves no rows", source=source, fix="the conditions exclude every row; relax one of them"
        )
    spec = "; ".join(f"{c}={','.join(v)}" for c, v in where)
    notes.append(f"{os.path.basename(source)}: --where {spec} kept {int(keep.sum())} of {len(df)} rows "
                 f"({int((~keep).sum())} excluded)")
    return df[keep].reset_index(drop=True), notes


def check_partitions(
    df: pd.DataFrame,
    *,
    source: str,
    shape: str,
    notes: list[str],
    chosen: tuple[str, ...] = (),
    question_col: str = "question_id",
) -> None:
    """Never pool a partition column silently (``task``, ``benchmark``, ``subset``, ``split``, ...).

    Rollouts where such a column varies inside one question (the question ids repeat across its values) are an
    error when that at least doubles the samples per question (median pooled n / median within-partition n
    >= 2), else a warning; a column with several values that does not vary inside a question pools several
    evaluations into one curve per model: a warning. Columns named in ``chosen`` (parts of a composite
    ``--model-col``) already keep the evaluations apart.
    """
    name = os.path.basename(source)
    keys = ["model", "question_id"] if "model" in df.columns else ["question_id"]
    cols = [c for c in map(str, df.columns) if c.lower() in PARTITION_NAMES and c not in _KEY_COLUMNS]
    for col in [c for c in cols if c not in chosen]:
        values = df[col].astype(str)
        k = values.nunique()
        if k < 2 or k > 50:
            continue
        fix = f"--where {col}={values.iloc[0]} (one at a time) or --model-col model,{col} (one curve each)"
        if shape == "rollouts":
            inside = df.assign(_p=values).groupby(keys, sort=False)["_p"].nunique()
            if (inside > 1).any():
                pooled = float(df.groupby(keys, sort=False).size().median())
                within = float(df.assign(_p=values).groupby([*keys, "_p"], sort=False).size().median())
                q = inside.index[int(np.argmax((inside > 1).to_numpy()))]
                what = (
                    f"column {col!r} ({k} values) varies inside question {q if isinstance(q, str) else q[-1]!r}: "
                    f"pooling gives {pooled:g} samples per question against {within:g} within one {col}"
                )
                fix += f", or --question-col {question_col},{col} (one question per value)"
                if pooled >= 2 * within:
                    raise HarnessInputError(what, source=source, column=col, fix=f"keep them apart with {fix}")
                notes.append(f"warning: {name}: {what}; pooled; {fix} keeps them apart")
                continue
        if "model" in df.columns and not (df.assign(_p=values).groupby("model", sort=False)["_p"].nunique() > 1).any():
            continue  # one value per model: nothing pooled
        notes.append(
            f"warning: {name}: column {col!r} has {k} values ({', '.join(sorted(values.unique())[:5])}) pooled into "
            f"one curve per model; {fix} keeps them apart"
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
    df = take_alias(df, "sample_id", notes, source=source)
    df = take_alias(df, "model", notes, source=source)
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
    flags = (
        to_bool_array(d["correct"].to_numpy(), source=source, column="correct") if "correct" in d.columns else None
    )
    conflicts: list[str] = []
    for idx in d.groupby(["model", "question_id"], sort=False).indices.values():
        ii = np.asarray(idx)
        answers = [None if raw.iloc[j] is None else str(raw.iloc[j]) for j in ii]
        if flags is None:
            lab = group_answers(answers, normalizer=options.normalizer)
        else:
            lab, conflict = group_graded(answers, flags[ii].tolist(), normalizer=options.normalizer)
            if conflict is not None:
                conflicts.append(describe_conflict(str(d["question_id"].iloc[ii[0]]), conflict))
        for j, v in zip(ii.tolist(), lab, strict=True):
            labels[j] = v
    if conflicts:
        notes.append(conflict_warning(len(conflicts), conflicts[0]))
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


ENGINE_THRESHOLD_BYTES = 64 << 20
"""Plain per-sample tables above this size are reduced by DuckDB by default (their rows are not kept)."""


def choose_engine(path: str, fmt: str, columns: ColumnMap, options: LoadOptions) -> str:
    """duckdb, spark or memory for a generic table.

    An explicit ``engine`` (or ``stream``) wins. Otherwise DuckDB reduces a plain per-sample table (a question
    id and a correctness flag; answers and tokens optional) larger than :data:`ENGINE_THRESHOLD_BYTES`, and the
    in-memory path keeps the rows of smaller tables, where the sample-order test, ``--where`` and the partition
    checks need them, and of tables where something downstream needs them per sample: ``score`` (best@k),
    ``group`` / ``budget`` (dependence and budget tests), free ``text`` to extract answers from, ``gold`` answers
    to grade, list-valued cells, count or histogram tables.
    """
    if options.where and options.engine in ("duckdb", "spark"):
        raise HarnessInputError(
            f"--where is applied to per-sample rows in memory, not by the {options.engine} reduction",
            source=path, fix="drop --engine (or use --engine memory), or filter the files before reducing them",
        )
    if options.engine is not None:
        return options.engine
    if options.stream is not None:
        return "duckdb" if options.stream and fmt in ("jsonl", "parquet", "csv", "tsv") else "memory"
    if fmt not in ("jsonl", "parquet", "csv", "tsv") or options.where:
        return "memory"
    if os.path.isfile(path) and os.path.getsize(path) <= ENGINE_THRESHOLD_BYTES:
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
    note = (
        f"{source}: {red.provenance['rows_read']} rows reduced to counts by {engine} (per-sample rows not kept: "
        "no sample-order test; --engine memory keeps them)"
    )
    notes: tuple[str, ...] = (note, *red.notes)
    counts = red.counts
    if columns.model is None and counts.models == ["model"] and "model" not in _header(source, fmt):
        stem = model_from_stem(source)
        counts = replace(counts, model=np.full(counts.n_questions, stem, dtype=object))
        notes = (*notes, f"{os.path.basename(source)}: no model column; model named {stem!r} after the file")
    counts = replace(counts, notes=notes)
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
    df, where_notes = where_rows(df, options.where, source=source)
    notes.extend(where_notes)
    raw_cols = [str(c) for c in df.columns]
    question_col = columns.question or next((a for a in ALIASES["question_id"] if a in raw_cols), "question_id")
    df = normalise_frame(df, columns, source=source, notes=notes)
    if "model" not in df.columns:
        stem = model_from_stem(source)
        df["model"] = stem
        notes.append(f"{os.path.basename(source)}: no model column; model named {stem!r} after the file")
    check_scalar_ids(df, ("question_id", "sample_id", "model"), source=source, lines=df.attrs.get("lines"))
    shape = format if format in ("counts", "histogram") else shape_of(set(map(str, df.columns)))
    chosen = tuple(columns.model_parts() or [])
    check_partitions(df, source=source, shape=shape, notes=notes, chosen=chosen, question_col=question_col)
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
