"""Streaming reduction of large JSONL / Parquet rollouts to counts, batch by batch, in Arrow.

Rows are never materialised as Python objects: each record batch (``pyarrow.parquet.ParquetFile.iter_batches``
or ``pyarrow.json.open_json``) is aggregated with ``pyarrow.Table.group_by`` per (model, question, answer,
correct) into sample counts and token sums; the partial aggregates are merged (and re-aggregated whenever they
grow) so memory is bounded by the number of distinct (model, question, answer) classes, not by the rows.
Duplicate (question, sample) ids are checked with 64-bit hashes of the key (8 bytes a row); a hash hit is
confirmed by a second pass that names the row. Answer equivalence (normalisation, math-verify) is applied once
to the distinct answer strings at the end. The per-sample rollouts are not kept (``Loaded.rollouts`` is None).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from harness._validation import FALSE_STRINGS, TRUE_STRINGS, HarnessInputError, require_columns
from harness.answers import AnswerRecord, conflict_warning, group_graded
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import counts_from_classes, describe_conflict
from harness.loaders._io import check_file, iter_jsonl, parquet_file
from harness.tables import FIXED, QuestionCounts, parse_stopping

BATCH_ROWS = 1 << 18
_COMPACT_EVERY = 16


def _batches(path: str, fmt: str, wanted: list[str] | None, batch_rows: int) -> Iterator[Any]:
    import pyarrow as pa

    if fmt == "parquet":
        pf = parquet_file(path)
        names = pf.schema_arrow.names
        cols = [c for c in wanted if c in names] if wanted else None
        try:
            yield from pf.iter_batches(batch_size=batch_rows, columns=cols)
        except (pa.ArrowInvalid, OSError) as exc:
            raise HarnessInputError(
                f"cannot read the Parquet data ({exc})", source=path, fix="the file is damaged; copy it again"
            ) from None
        return
    import pyarrow.json as pj

    check_file(path)
    try:
        stream = pa.input_stream(path, compression="detect")
        reader = pj.open_json(stream, read_options=pj.ReadOptions(block_size=16 << 20))
        yield from reader
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        # locate the bad line precisely with the line-by-line reader (raises a HarnessInputError)
        for _ in iter_jsonl(path):
            pass
        raise HarnessInputError(
            f"cannot read the JSON lines ({exc})",
            source=path,
            fix="each line must be one JSON object with consistent field types",
        ) from None


def _bool_column(arr: Any, *, source: str, row_offset: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_boolean(t):
        out = arr
    elif pa.types.is_integer(t) or pa.types.is_floating(t):
        ok = pc.is_in(arr, value_set=pa.array([0, 1], type=t))
        if not pc.all(ok).as_py():
            i = int(np.argmax(~np.asarray(ok.to_numpy(zero_copy_only=False), bool)))
            raise HarnessInputError(
                f"correctness value {arr[i].as_py()!r} is not boolean-like",
                source=source,
                row=row_offset + i,
                column="correct",
                fix="accepted: true/false, 1/0, yes/no, correct/incorrect, C/I",
            )
        out = pc.equal(arr, pa.scalar(1, type=t))
    else:
        low = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(arr, pa.string())))
        is_t = pc.is_in(low, value_set=pa.array(sorted(TRUE_STRINGS)))
        is_f = pc.is_in(low, value_set=pa.array(sorted(FALSE_STRINGS - {""})))
        ok = pc.or_(is_t, is_f)
        okn = np.asarray(ok.to_numpy(zero_copy_only=False), bool)
        if not okn.all():
            i = int(np.argmax(~okn))
            raise HarnessInputError(
                f"correctness value {arr[i].as_py()!r} is not boolean-like",
                source=source,
                row=row_offset + i,
                column="correct",
                fix="accepted: true/false, 1/0, yes/no, correct/incorrect, C/I",
            )
        out = is_t
    if out.null_count:
        i = int(np.argmax(np.asarray(out.is_null().to_numpy(zero_copy_only=False), bool)))
        raise HarnessInputError(
            "empty correctness value",
            source=source,
            row=row_offset + i,
            column="correct",
            fix="accepted: true/false, 1/0, yes/no, correct/incorrect, C/I",
        )
    return out


def stream_counts(
    path: str,
    *,
    fmt: str,
    columns: ColumnMap,
    stopping: str | None,
    options: LoadOptions,
    batch_rows: int = BATCH_ROWS,
) -> Loaded:
    """Reduce a JSONL or Parquet rollouts file to QuestionCounts without keeping its rows."""
    import pyarrow as pa

    renames = {v: k for k, v in columns.renames().items()}  # canonical -> source
    canon = ["model", "question_id", "sample_id", "answer", "correct", "tokens"]
    src = {c: renames.get(c, c) for c in canon}
    wanted = list(src.values()) if fmt == "parquet" else None
    parts: list[Any] = []
    hashes: list[np.ndarray] = []
    n_rows = 0
    have: set[str] = set()
    for batch in _batches(path, fmt, wanted, batch_rows):
        tbl = pa.Table.from_batches([batch])
        names = set(tbl.column_names)
        if n_rows == 0:
            require_columns(sorted(names), [src["question_id"], src["correct"]], source=path)
            have = {c for c in canon if src[c] in names}
        cols: dict[str, Any] = {}
        for c in have:
            if src[c] not in names:
                raise HarnessInputError(
                    f"column {src[c]!r} is missing from a later part of the file",
                    source=path,
                    row=n_rows,
                    fix="every row needs the same fields",
                )
            cols[c] = tbl.column(src[c]).combine_chunks()
        qid = cols["question_id"]
        if qid.null_count:
            i = int(np.argmax(np.asarray(qid.is_null().to_numpy(zero_copy_only=False), bool)))
            raise HarnessInputError("empty question id", source=path, row=n_rows + i, column="question_id")
        if not (pa.types.is_integer(qid.type) or pa.types.is_string(qid.type)):
            cols["question_id"] = qid.cast(pa.string())
        cols["correct"] = _bool_column(cols["correct"], source=path, row_offset=n_rows)
        if "model" in cols:
            cols["model"] = cols["model"].cast(pa.string())
        if "answer" in cols:
            cols["answer"] = cols["answer"].cast(pa.string())
        if "sample_id" in cols:
            hashes.append(_key_hash([cols[k] for k in ("model", "question_id", "sample_id") if k in cols]))
        keys = (
            (["model"] if "model" in cols else [])
            + ["question_id"]
            + (["answer"] if "answer" in cols else [])
        )
        data = {k: cols[k] for k in keys}
        data["correct"] = cols["correct"].cast(pa.int64())
        aggs = [("correct", "count"), ("correct", "sum")]
        if "tokens" in cols:
            data["tokens"] = cols["tokens"].cast(pa.float64())
            aggs.append(("tokens", "sum"))
        part = pa.table(data).group_by(keys, use_threads=False).aggregate(aggs)
        parts.append(part)
        n_rows += len(tbl)
        if len(parts) >= _COMPACT_EVERY:
            parts = [_merge(parts, keys)]
    if n_rows == 0:
        raise HarnessInputError("the file holds no rows", source=path, fix="it holds no samples")
    keys = (["model"] if "model" in have else []) + ["question_id"] + (["answer"] if "answer" in have else [])
    total = _merge(parts, keys).to_pandas()
    if "model" not in total.columns:
        total["model"] = "model"
    if hashes:
        h = np.sort(np.concatenate(hashes))
        dup = h[1:] == h[:-1]
        if dup.any():
            _locate_duplicate(path, fmt, src, batch_rows)
    notes = [f"{path}: {n_rows} rows reduced to counts in batches (streaming; per-sample rows not kept)"]
    rule = (stopping or FIXED).replace("=", ":")
    parse_stopping(rule)
    n = total["correct_count"].to_numpy(np.int64)
    c = total["correct_sum"].to_numpy(np.int64)
    tokens_col = total["tokens_sum"] if "tokens_sum" in total.columns else None
    if "answer" not in have:
        g = pd.DataFrame(
            {"model": total["model"], "question_id": total["question_id"].astype(str), "n": n, "c": c}
        )
        if tokens_col is not None:
            g["tokens"] = tokens_col.to_numpy(float)
        counts = QuestionCounts(
            model=g["model"].to_numpy(object),
            question_id=g["question_id"].to_numpy(object),
            n=g["n"].to_numpy(),
            correct=g["c"].to_numpy(),
            tokens=g["tokens"].to_numpy() if "tokens" in g else None,
            stopping=np.full(len(g), rule, dtype=object),
            notes=tuple(notes),
        )
        return Loaded(counts=counts, rollouts=None, source=path, format=fmt, notes=counts.notes)
    mixed = (c > 0) & (c < n) & total["answer"].notna().to_numpy()
    if mixed.any():
        i = int(np.argmax(mixed))
        raise HarnessInputError(
            f"answer {total['answer'].iloc[i]!r} of question {total['question_id'].iloc[i]!r} "
            f"is marked correct in {int(c[i])} and incorrect in {int(n[i] - c[i])} samples",
            source=path,
            column="correct",
            fix="an answer class is either right or wrong; fix the grading or the answer normalisation",
        )
    # split classes with no answer into their correct and wrong parts (no-answer + correct is an error later)
    cls = pd.DataFrame(
        {
            "model": total["model"],
            "question_id": total["question_id"],
            "answer": total["answer"],
            "count": n,
            "correct": c > 0,
        }
    )
    if tokens_col is not None:
        cls["tokens"] = tokens_col.to_numpy(float)
    labels: list[str | None] = [None] * len(cls)
    raw = [None if pd.isna(v) else str(v) for v in cls["answer"].to_numpy(object)]
    flags = cls["correct"].to_numpy(bool)
    conflicts: list[str] = []
    for idx in cls.groupby(["model", "question_id"], sort=False).indices.values():
        ii = np.asarray(idx)
        lab, conflict = group_graded([raw[j] for j in ii], flags[ii].tolist(), normalizer=options.normalizer)
        if conflict is not None:
            conflicts.append(describe_conflict(str(cls["question_id"].iloc[ii[0]]), conflict))
        for j, v in zip(ii.tolist(), lab, strict=True):
            labels[j] = v
    if conflicts:
        notes.insert(0, conflict_warning(len(conflicts), conflicts[0]))
    unparsed = int(cls.loc[[v is None for v in labels], "count"].sum())
    cls["answer"] = pd.Series(labels, index=cls.index, dtype=object)
    record = AnswerRecord(
        extractor="none",
        normalizer=options.normalizer,
        n_samples=n_rows,
        n_unparsed=unparsed,
        n_conflicts=len(conflicts),
        conflict_example=conflicts[0] if conflicts else None,
    )
    notes.insert(0, record.note())
    counts = counts_from_classes(cls, source=path, stopping=rule, notes=notes)
    return Loaded(counts=counts, rollouts=None, source=path, format=fmt, notes=counts.notes, answers=record)


def _key_hash(columns: list[Any]) -> np.ndarray:
    """A 64-bit hash per row of the key columns, without Python objects per row.

    Integer columns hash their values; other columns are dictionary-encoded in Arrow so only the distinct
    values are hashed (pandas' siphash), then gathered by the dictionary indices.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out: np.ndarray | None = None
    for col in columns:
        if pa.types.is_integer(col.type) and col.null_count == 0:
            h = pd.util.hash_array(col.to_numpy())
        else:
            enc = (
                pc.dictionary_encode(col.cast(pa.string())).combine_chunks()
                if isinstance(col, pa.ChunkedArray)
                else pc.dictionary_encode(col.cast(pa.string()))
            )
            dict_vals = np.asarray(enc.dictionary.to_pylist(), dtype=object)
            dh = pd.util.hash_array(dict_vals) if len(dict_vals) else np.zeros(0, np.uint64)
            idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            h = np.where(idx >= 0, dh[np.clip(idx, 0, None)] if len(dh) else 0, np.uint64(0x5EED)).astype(
                np.uint64
            )
        out = h if out is None else (out * np.uint64(0x9E3779B97F4A7C15)) ^ h
    assert out is not None
    return out


def _merge(parts: list[Any], keys: list[str]) -> Any:
    import pyarrow as pa

    if len({p.schema for p in parts}) > 1:  # e.g. JSON ids read as numbers in one batch, strings in another
        parts = [_keys_as_string(p, keys) for p in parts]
    tbl = pa.concat_tables(parts)
    sums = [c for c in tbl.column_names if c not in keys]
    merged = tbl.group_by(keys, use_threads=False).aggregate([(c, "sum") for c in sums])
    return merged.rename_columns(
        [c[:-4] if c.endswith("_sum") and c[:-4] in sums else c for c in merged.column_names]
    )


def _keys_as_string(tbl: Any, keys: list[str]) -> Any:
    import pyarrow as pa

    for k in keys:
        i = tbl.schema.get_field_index(k)
        tbl = tbl.set_column(i, k, tbl.column(k).cast(pa.string()))
    return tbl


def _locate_duplicate(path: str, fmt: str, src: dict[str, str], batch_rows: int) -> None:
    """Second pass after a hash hit: find the first repeated (model, question, sample) and name its row."""
    seen: set[tuple[str, str, str]] = set()
    row = 0
    wanted = [v for k, v in src.items() if k in ("model", "question_id", "sample_id")]
    for batch in _batches(path, fmt, wanted, batch_rows):
        d = batch.to_pandas()
        m = d[src["model"]].astype(str) if src["model"] in d.columns else pd.Series("model", index=d.index)
        for mm, q, s in zip(
            m, d[src["question_id"]].astype(str), d[src["sample_id"]].astype(str), strict=True
        ):
            key = (mm, q, s)
            if key in seen:
                raise HarnessInputError(
                    f"duplicate sample id {s!r} for question {q!r}",
                    source=path,
                    row=row,
                    column="sample_id",
                    fix="each (model, question, sample) must appear once; "
                    "drop the repeated row or fix its id",
                )
            seen.add(key)
            row += 1
