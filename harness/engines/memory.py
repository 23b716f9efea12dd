"""The in-memory engine: every file read into pandas, the per-sample Rollouts validated and reduced by
:func:`harness.loaders._build.finish` (today's default path; it keeps the rollouts for order, group and score tests).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from harness._validation import HarnessInputError
from harness.engines.sources import Inputs
from harness.loaders._base import ColumnMap, Loaded, LoadOptions

if TYPE_CHECKING:
    from harness.engines.core import Reduced


def hive_values(path: str) -> dict[str, str]:
    """``key=value`` folder names on a path (hive partitioning) as columns."""
    return {m.group(1): m.group(2) for m in re.finditer(r"(?:^|/)([^/=]+)=([^/]+)(?=/)", path)}


def read_rows(inputs: Inputs) -> pd.DataFrame:
    """All rows of all input files, columns united by name (hive partition values added as columns)."""
    from harness.loaders.generic import read_frame

    if not inputs.local:
        raise HarnessInputError(
            "the in-memory engine reads local files only", source=inputs.paths[0], fix="use --engine duckdb"
        )
    frames = []
    for path in inputs.paths:
        df = read_frame(path, inputs.format)
        if inputs.hive:
            for k, v in hive_values(path).items():
                if k not in df.columns:
                    df[k] = int(v) if v.isdigit() else v
        frames.append(df)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def load_rows(
    inputs: Inputs, *, columns: ColumnMap, normalizer: str, stopping: str | None, source: str
) -> Loaded:
    """The inputs as one per-sample table through the in-memory loader."""
    from harness.loaders._build import finish
    from harness.loaders.generic import normalise_frame

    df = read_rows(inputs)
    if len(df) == 0:
        raise HarnessInputError("the table has no rows", source=source, fix="the file holds no samples")
    notes: list[str] = []
    df = normalise_frame(df, columns, source=source, notes=notes)
    drop = [c for c in df.columns if c not in ("model", "question_id", "sample_id", "answer", "correct", "tokens",
                                                 "score", "group", "budget", "flops_per_sample", "text", "gold")]
    options = LoadOptions(normalizer=normalizer, extractor="none")
    return finish(df.drop(columns=drop), source=source, fmt=inputs.format, options=options, stopping=stopping,
                  notes=notes)


def reduce_in_memory(
    inputs: Inputs, *, columns: ColumnMap, normalizer: str, stopping: str | None, source: str
) -> Reduced:
    """The reduction by pandas over the per-sample rows (the reference the SQL engines are tested against)."""
    from harness.engines.core import Reduced, provenance

    loaded = load_rows(inputs, columns=columns, normalizer=normalizer, stopping=stopping, source=source)
    r = loaded.rollouts
    assert r is not None
    keys = ["model", "question_id", *[c for c in ("group", "budget") if c in r.columns]]
    d = r.assign(answer=r["answer"] if "answer" in r.columns else None)
    if "tokens" not in d.columns:
        d = d.assign(tokens=float("nan"))
    table = d.groupby([*keys, "answer", "correct"], sort=False, dropna=False).agg(
        size=("correct", "size"), tokens_sum=("tokens", "sum"), tokens_n=("tokens", "count"),
    ).reset_index()
    table["answer"] = table["answer"].astype(object).where(table["answer"].notna(), None)
    prov = provenance(inputs, engine="memory", spark_master=None, normalizer=normalizer, rows=len(r),
                      counts=loaded.counts, spec=None, duplicates_checked="sample_id" in r.columns)
    return Reduced(counts=loaded.counts, classes=table, provenance=prov, answers=loaded.answers, notes=loaded.notes)
