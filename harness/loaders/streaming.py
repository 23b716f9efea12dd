"""Retired: the hand-written Arrow batch reduction is replaced by the SQL reduction on DuckDB
(:mod:`harness.engines`). ``stream_counts`` keeps its signature and routes there; ``batch_rows`` is ignored
(DuckDB streams row groups and spills to disk past its memory limit).
"""

from __future__ import annotations

from harness.loaders._base import ColumnMap, Loaded, LoadOptions

BATCH_ROWS = 1 << 18


def stream_counts(
    path: str,
    *,
    fmt: str,
    columns: ColumnMap,
    stopping: str | None,
    options: LoadOptions,
    batch_rows: int = BATCH_ROWS,
) -> Loaded:
    """Reduce a JSONL, CSV/TSV or Parquet rollouts file to QuestionCounts without keeping its rows (DuckDB)."""
    from harness.loaders.generic import load_reduced

    del batch_rows
    return load_reduced(path, fmt=fmt, columns=columns, stopping=stopping, options=options, engine="duckdb")
