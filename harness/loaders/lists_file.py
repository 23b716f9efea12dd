"""A file (JSONL[.gz], JSON array, Parquet) of one row per question holding lists of samples.

The layouts and field names are documented in :mod:`harness.loaders.lists`.
"""

from __future__ import annotations

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders.lists import SCHEMAS, load_lists


def load_list_file(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a list-per-question file; ``format`` is ``lists`` or a schema name (``esc``, ``faithful-cot``,
    ...)."""
    from harness.loaders.generic import read_frame, table_format_from_name

    fmt = table_format_from_name(source)
    if fmt is None:
        raise HarnessInputError(
            "cannot tell the file type from its name",
            source=source,
            fix="name it .jsonl(.gz), .json or .parquet",
        )
    df = read_frame(source, fmt)
    schema = next((s for s in SCHEMAS if s.name == format), None)
    if schema is not None:
        missing = sorted(schema.signature - set(map(str, df.columns)))
        if missing:
            raise HarnessInputError(
                f"missing required column {missing[0]!r} for format {format}",
                source=source,
                fix=f"columns present: {', '.join(map(str, df.columns))}",
            )
    return load_lists(
        df, source=source, fmt=format, columns=columns, stopping=stopping, options=options, schema=schema
    )
