"""Inputs of a reduction: files, globs, folders (hive-partitioned or not) and ``hf://`` Parquet paths, all of one
tabular format; and the mapping of their columns to the canonical fields (:class:`harness.engines.sql.Spec`).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness._validation import HarnessInputError, closest
from harness.engines.sql import Spec
from harness.loaders._base import ColumnMap

TABULAR: dict[str, str] = {
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
}
"""File endings (``.gz`` stripped) of the formats the engines read."""

QUESTION_ALIASES: tuple[str, ...] = (
    "question_id", "question_idx", "problem_idx", "problem_id", "doc_id", "task_id", "qid", "prompt_idx",
    "question", "problem",
)
"""Columns read as the question id when it is not mapped (the in-memory loader's aliases, same order)."""

NEEDS_ROWS: tuple[str, ...] = ("score", "text", "gold", "n", "c", "count", "flops_per_sample")
"""Canonical fields the reduction does not handle (per-sample scores for best@k, free text to extract answers
from, gold answers to grade, count or histogram tables): such inputs stay on the in-memory path."""


def table_format(path: str) -> str | None:
    """parquet/csv/tsv/jsonl from a path's ending (``.gz`` stripped), or None."""
    name = path.lower().removesuffix(".gz")
    for ext, fmt in TABULAR.items():
        if name.endswith(ext):
            return fmt
    return None


def hf_parquet_glob(repo: str, *, config: str = "default", split: str = "train", revision: str = "~parquet") -> str:
    """The ``hf://`` glob of a Hub dataset's Parquet files (the auto-converted branch by default).

    ``hf://datasets/ORG/NAME@~parquet/CONFIG/SPLIT/*.parquet`` is the path DuckDB's httpfs and ``huggingface_hub``'s
    fsspec both read (``@~parquet`` is ``refs/convert/parquet``).
    """
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise HarnessInputError(f"{repo!r} is not a Hub dataset name", fix="write it as ORG/NAME")
    return f"hf://datasets/{repo}@{revision}/{config}/{split}/*.parquet"


@dataclass(frozen=True)
class Inputs:
    """What one reduction reads: the expanded paths (files or remote globs), their format, hive partitioning."""

    paths: tuple[str, ...]
    format: str
    hive: bool
    given: tuple[str, ...]

    @property
    def local(self) -> bool:
        return not any("://" in p for p in self.paths)


def _expand_one(item: str) -> list[str]:
    if "://" in item:
        return [item]
    if os.path.isdir(item):
        found = sorted(
            p for p in glob.glob(os.path.join(item, "**", "*"), recursive=True)
            if os.path.isfile(p) and table_format(p) is not None and not os.path.basename(p).startswith((".", "_"))
        )
        if not found:
            raise HarnessInputError(
                "the folder holds no .parquet, .csv, .tsv or .jsonl(.gz) files", source=item, fix="check the path"
            )
        return found
    if any(ch in item for ch in "*?["):
        found = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
        if not found:
            raise HarnessInputError("the pattern matches no files", source=item, fix="check the pattern")
        return found
    if not os.path.exists(item):
        raise HarnessInputError("no such file or directory", source=item, fix="check the path")
    if os.path.getsize(item) == 0:
        raise HarnessInputError("the file is empty", source=item, fix="it holds no samples; give a file with data")
    return [item]


def expand_inputs(items: Sequence[str]) -> Inputs:
    """Files, globs, folders and ``hf://`` paths -> one list of paths of one format."""
    if not items:
        raise HarnessInputError("no input given", fix="name at least one input file, folder or glob")
    paths = [p for item in items for p in _expand_one(item)]
    formats = {table_format(p) for p in paths}
    if None in formats:
        bad = next(p for p in paths if table_format(p) is None)
        raise HarnessInputError(
            "not a tabular file the engines read", source=bad,
            fix="give .parquet, .csv, .tsv or .jsonl(.gz) files; tool logs (inspect_ai, lm-eval, lighteval, "
            "NeMo-Skills, evalplus) are read by report, curves and compare through their own loaders",
        )
    if len(formats) > 1:
        raise HarnessInputError(
            f"inputs of several formats ({', '.join(sorted(str(f) for f in formats))}) in one reduction",
            fix="reduce each format separately",
        )
    fmt = str(formats.pop())
    hive = any(re.search(r"(^|/)[^/=]+=[^/]+/", p) for p in paths)
    return Inputs(paths=tuple(paths), format=fmt, hive=hive, given=tuple(items))


def _pick(name: str | None, canon: str, present: list[str], source: str) -> str | None:
    if name is None:
        return canon if canon in present else None
    if name not in present:
        hint = closest(name, present)
        raise HarnessInputError(
            f"no column {name!r} (given for {canon})", source=source,
            fix=f"columns present: {', '.join(present)}" + (f"; closest match: {hint!r}" if hint else ""),
        )
    return name


def resolve_spec(names: Sequence[str], columns: ColumnMap, *, source: str) -> tuple[Spec, list[str]]:
    """The source column of each canonical field, by the column map, the canonical names and the aliases."""
    present = [str(n) for n in names if str(n) != "harness_file"]
    notes: list[str] = []
    parts = columns.question_parts()
    if parts:
        for p in parts:
            _pick(p, "question_id", present, source)
        question: tuple[str, ...] = tuple(parts)
    else:
        q = _pick(columns.question, "question_id", present, source)
        if q is None:
            q = next((a for a in QUESTION_ALIASES if a in present), None)
            if q is not None:
                notes.append(f"{os.path.basename(source)}: column {q!r} read as question_id")
        if q is None:
            raise HarnessInputError(
                "no question id column", source=source,
                fix=f"map it with --question-col; columns present: {', '.join(present)}",
            )
        question = (q,)
    correct = _pick(columns.correct, "correct", present, source)
    if correct is None:
        raise HarnessInputError(
            "no correctness column", source=source,
            fix=f"map it with --correct-col (logs graded against gold answers need --engine memory); "
            f"columns present: {', '.join(present)}",
        )
    spec = Spec(
        question=question, correct=correct,
        model=_pick(columns.model, "model", present, source),
        sample=_pick(columns.sample, "sample_id", present, source),
        answer=_pick(columns.answer, "answer", present, source),
        tokens=_pick(columns.tokens, "tokens", present, source),
        group=_pick(columns.group, "group", present, source),
        budget=_pick(columns.budget, "budget", present, source),
    )
    return spec, notes


def needs_rows(names: Sequence[str], columns: ColumnMap) -> list[str]:
    """Canonical fields present that only the in-memory path handles (see :data:`NEEDS_ROWS`)."""
    renames = columns.renames()
    canon = {renames.get(str(n), str(n)) for n in names}
    found = [f for f in NEEDS_ROWS if f in canon]
    if "flops" in canon:
        found.append("flops_per_sample")
    return found


def raise_bad_line(inputs: Inputs) -> None:
    """After an engine failed to read local inputs: raise the line-by-line readers' error for the first bad line
    (malformed JSON, a CSV/TSV row whose field count differs from the header's, bad bytes, a cut-short gzip
    stream) or damaged Parquet footer, naming the file and line; return when every file reads cleanly."""
    if not inputs.local:
        return
    from harness.loaders._io import check_delimited, iter_jsonl, parquet_file

    for path in inputs.paths:
        if inputs.format == "jsonl":
            for _ in iter_jsonl(path):
                pass
        elif inputs.format in ("csv", "tsv"):
            check_delimited(path, sep="\t" if inputs.format == "tsv" else ",")
        else:
            parquet_file(path)
