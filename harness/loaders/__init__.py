"""Loaders: the only place that knows file formats. Each returns a :class:`Loaded` (canonical tables).

``load(source)`` detects the format where that is unambiguous; ``format=`` forces one. Column names map with
:class:`ColumnMap`. Errors are :class:`harness.HarnessInputError` naming file, line/row and column.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.loaders._base import ColumnMap, Loaded, merge_loaded
from harness.loaders.generic import load_table

__all__ = ["FORMATS", "ColumnMap", "Loaded", "load", "load_many"]

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "counts")


def load(
    source: str, *, format: str | None = None, columns: ColumnMap | None = None, stopping: str | None = None
) -> Loaded:
    """Read one source into canonical tables."""
    return load_table(source, format=format, columns=columns or ColumnMap(), stopping=stopping)


def load_many(
    sources: Sequence[str], *, format: str | None = None, columns: ColumnMap | None = None,
    stopping: str | None = None,
) -> Loaded:
    """Read several sources and stack them (a model column, or the file name, tells the runs apart)."""
    return merge_loaded([load(s, format=format, columns=columns, stopping=stopping) for s in sources])
