"""Class-count files written by ``harness reduce`` (format ``class-counts``): read back as counts."""

from __future__ import annotations

from harness.loaders._base import ColumnMap, Loaded, LoadOptions


def load_source(
    source: str, *, format: str | None, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """A class-count Parquet file as counts (the rows it was reduced from are not in it)."""
    from harness.engines.store import read_class_counts

    del format, columns, stopping, options
    return read_class_counts(source)
