"""Loaders: the only place that knows file formats. Each returns a :class:`Loaded` (canonical tables).

``load(source)`` detects the format where that is unambiguous (file name patterns, magic bytes, the fields of
the first record); ``format=`` forces one of :data:`FORMATS`. Column names map with :class:`ColumnMap`. Errors
are :class:`harness.HarnessInputError` naming file, line/row and column. See ``docs/methods/loaders.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions, keep_models, merge_loaded, parse_where
from harness.loaders._io import ZIP_MAGIC, check_file, head_bytes, iter_jsonl, parquet_file, read_json

__all__ = [
    "FORMATS", "ColumnMap", "LoadOptions", "Loaded", "detect_format", "keep_models", "load", "load_many", "parse_where",
]

FORMATS: tuple[str, ...] = (
    "csv",
    "tsv",
    "jsonl",
    "json",
    "parquet",
    "counts",
    "histogram",
    "lists",
    "esc",
    "faithful-cot",
    "monkey_business",
    "search-and-learn",
    "hf",
    "lm-eval",
    "inspect",
    "lighteval",
    "nemo-skills",
    "evalplus",
    "human-eval",
    "simple-evals",
    "activeprompt",
    "bon",
    "matharena",
    "class-counts",
)
"""Format names accepted by ``format=`` / ``--format``."""

_LIST_FORMATS = ("esc", "faithful-cot", "monkey_business", "search-and-learn")


def _first_record(path: str) -> dict[str, Any]:
    for _, obj in iter_jsonl(path):
        return dict(obj)
    return {}


def detect_format(source: str) -> str:
    """The format of ``source`` where it is unambiguous; otherwise an error asking for ``--format``."""
    if source.startswith("hf:"):
        return "hf"
    check_file(source)
    if os.path.isdir(source):
        return "hf"
    base = os.path.basename(source).lower()
    stem = base.removesuffix(".gz")
    if head_bytes(source, 4) == ZIP_MAGIC or stem.endswith(".eval"):
        return "inspect"
    if re.match(r"samples_.+\.jsonl$", stem):
        return "lm-eval"
    if re.match(r"output-rs\d+.*\.jsonl$", stem):
        return "nemo-skills"
    if stem.endswith("_allresults.json"):
        return "simple-evals"
    if stem == "eval_results.json":
        return "evalplus"
    if stem.endswith("_results.jsonl") and "passed" in _first_record(source):
        return "human-eval"
    if stem.endswith(".txt"):
        from harness.loaders.activeprompt import looks_like_activeprompt

        if looks_like_activeprompt(source):
            return "activeprompt"
        raise HarnessInputError(
            "a text file in no known layout",
            source=source,
            fix="pass --format activeprompt if it is an Active-Prompt uncertainty file",
        )
    if stem.endswith(".jsonl") or stem.endswith(".ndjson"):
        return _detect_jsonl(_first_record(source), source=source)
    if stem.endswith(".json"):
        return _detect_json(read_json(source))
    if stem.endswith(".parquet") or stem.endswith(".pq"):
        return _detect_parquet(source)
    if stem.endswith(".csv"):
        return "csv"
    if stem.endswith(".tsv"):
        return "tsv"
    raise HarnessInputError(
        "cannot tell the format from the file name",
        source=source,
        fix=f"pass --format, one of {', '.join(FORMATS)}",
    )


_SCORED = {"passed", "result", "correct", "is_correct", "base_status", "plus_status", "score"}


def _detect_jsonl(rec: dict[str, Any], *, source: str | None = None) -> str:
    from harness.loaders.lists import detect_schema

    keys = set(rec)
    if "task_id" in keys and ({"completion", "solution"} & keys) and not (_SCORED & keys):
        raise HarnessInputError(
            "code samples that are not scored yet (task_id + " + ("completion" if "completion" in keys else "solution")
            + ", no pass/fail)",
            source=source,
            line=1,
            fix="run the scorer first: human-eval `evaluate_functional_correctness FILE` (load FILE_results.jsonl) "
            "or evalplus `evalplus.evaluate --samples FILE` (load its eval_results.json)",
        )
    if {"doc_id", "resps"} <= keys:
        return "lm-eval"
    if {"i", "flagged", "n"} <= keys:
        return "bon"
    if {"prompt", "samples"} <= keys and not ({"is_corrects", "passed", "correct"} & keys):
        raise HarnessInputError(
            "code samples without correctness labels (fields: " + ", ".join(sorted(keys)) + ")",
            fix="execute them in a sandbox first (e.g. human-eval's evaluate_functional_correctness) "
            "and load the *_results.jsonl it writes",
        )
    if {"task_id", "passed"} <= keys:
        return "human-eval"
    schema = detect_schema(list(keys))
    if schema is not None:
        return schema.name
    if "generation" in keys and ({"expected_answer", "predicted_answer"} & keys):
        return "nemo-skills"
    return "jsonl"


def _detect_json(data: Any) -> str:
    if isinstance(data, dict):
        keys = set(data)
        if {"htmls", "convos"} <= keys or {"score", "metrics", "htmls"} <= keys:
            return "simple-evals"
        if "eval" in keys and isinstance(data["eval"], dict) and ("samples" in keys or "version" in keys):
            return "inspect"
        if "eval" in keys and isinstance(data["eval"], dict):
            return "evalplus"
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        first = data[0]
        if "question" in first and sum(isinstance(v, (int, float)) for v in first.values()) >= 2:
            return "matharena"
        if "accuracy" in first and "question_id" not in first and ({"token_limit", "k", "compute"} & set(first)):
            raise HarnessInputError(
                "aggregate accuracy-vs-compute points (fields: " + ", ".join(sorted(first)) + "), not per-sample logs",
                fix="audit published numbers with 'harness audit FILE' (compute,value columns) instead",
            )
    if isinstance(data, dict) and data and all(
        isinstance(v, dict) and any(str(key).startswith("G-Pass@") for key in v) for v in data.values()
    ):
        raise HarnessInputError(
            "a table of published G-Pass@k results per model, not per-sample logs",
            fix="the bundled audit covers it: run 'harness audit'",
        )
    return "json"


def _detect_parquet(path: str) -> str:
    from harness.loaders.lists import detect_schema

    names = set(parquet_file(path).schema_arrow.names)
    if {"Problem Idx", "Score", "Scaling Parameter"} <= names:
        return "bon"
    if {"predictions", "gold", "metrics"} <= names or {"doc", "model_response", "metric"} <= names:
        return "lighteval"
    schema = detect_schema(sorted(names))
    if schema is not None:
        return schema.name
    from harness.engines.store import class_counts_provenance

    if class_counts_provenance(path) is not None:
        return "class-counts"
    return "parquet"


def _dispatch(fmt: str) -> Callable[..., Loaded]:
    if fmt in ("csv", "tsv", "jsonl", "json", "parquet", "counts", "histogram"):
        from harness.loaders.generic import load_table

        return load_table
    if fmt in ("lists", *_LIST_FORMATS):
        from harness.loaders.lists_file import load_list_file

        return load_list_file
    modules = {
        "hf": "hf",
        "lm-eval": "lm_eval",
        "inspect": "inspect_log",
        "lighteval": "lighteval",
        "nemo-skills": "nemo_skills",
        "evalplus": "evalplus",
        "human-eval": "evalplus",
        "simple-evals": "simple_evals",
        "activeprompt": "activeprompt",
        "bon": "bon",
        "matharena": "matharena",
        "class-counts": "class_counts",
    }
    import importlib

    mod = importlib.import_module(f"harness.loaders.{modules[fmt]}")
    fn: Callable[..., Loaded] = mod.load_source
    return fn


def load(
    source: str,
    *,
    format: str | None = None,
    columns: ColumnMap | None = None,
    stopping: str | None = None,
    options: LoadOptions | None = None,
    **option_kwargs: Any,
) -> Loaded:
    """Read one source into canonical tables.

    ``options`` (or keyword arguments of :class:`LoadOptions`: ``extractor``, ``normalizer``, ``gold``,
    ``n_questions``, ``samples_per_question``, ``stream``) steer extraction, grading and streaming.
    """
    opts = options if options is not None else LoadOptions(**option_kwargs)
    if options is not None and option_kwargs:
        opts = replace(options, **option_kwargs)
    if format is not None and format not in FORMATS:
        raise HarnessInputError(
            f"unknown format {format!r}", source=source, fix=f"use one of {', '.join(FORMATS)}"
        )
    if stopping is not None:
        stopping = stopping.replace("=", ":")
    if format is None and _is_table_set(source):
        return _load_table_set(source, columns=columns or ColumnMap(), stopping=stopping, options=opts)
    try:
        fmt = format or detect_format(source)
        if opts.where and fmt not in ("csv", "tsv", "jsonl", "json", "parquet", "counts", "histogram"):
            raise HarnessInputError(
                f"--where filters the rows of a table; this input is a {fmt} log",
                fix="drop --where (use --models to keep some models)",
            )
        return _dispatch(fmt)(
            source, format=fmt, columns=columns or ColumnMap(), stopping=stopping, options=opts
        )
    except HarnessInputError as exc:
        raise exc.located(source) from None


def _is_table_set(source: str) -> bool:
    """A glob or a folder of tabular files (not a ``datasets`` save_to_disk folder): one log in many files."""
    if any(ch in source for ch in "*?[") and not os.path.exists(source):
        return True
    if not os.path.isdir(source):
        return False
    if any(os.path.exists(os.path.join(source, f)) for f in ("state.json", "dataset_dict.json", "dataset_info.json")):
        return False
    from harness.engines.sources import table_format

    return any(table_format(f) for _, _, files in os.walk(source) for f in files)


def _load_table_set(source: str, *, columns: ColumnMap, stopping: str | None, options: LoadOptions) -> Loaded:
    """Every file of a glob or folder reduced together by the SQL engine (DuckDB unless --engine says otherwise)."""
    from harness.loaders.generic import load_reduced

    engine = options.engine or "duckdb"
    return load_reduced(source, fmt="table-set", columns=columns, stopping=stopping, options=options, engine=engine)


def load_many(
    sources: Sequence[str],
    *,
    format: str | None = None,
    columns: ColumnMap | None = None,
    stopping: str | None = None,
    options: LoadOptions | None = None,
    **option_kwargs: Any,
) -> Loaded:
    """Read several sources and stack them.

    Files whose rollouts share (model, question) keys (one file per seed, e.g. NeMo-Skills
    ``output-rs*.jsonl``)
    are pooled at the rollout level so each question keeps one row; other files are stacked, and files that
    would collide under the default model name are told apart by their file name (with a note).
    """
    opts = options if options is not None else LoadOptions(**option_kwargs)
    if options is not None and option_kwargs:
        opts = replace(options, **option_kwargs)
    parts = [load(s, format=format, columns=columns, stopping=stopping, options=opts) for s in sources]
    if opts.models:
        return keep_models(_merge(parts, stopping=stopping, normalizer=opts.normalizer), opts.models)
    return _merge(parts, stopping=stopping, normalizer=opts.normalizer)


def _merge(parts: list[Loaded], *, stopping: str | None, normalizer: str) -> Loaded:
    if len(parts) > 1 and all(p.format == "nemo-skills" for p in parts):
        from harness.loaders.nemo_skills import pool_seeds

        return pool_seeds(parts, stopping=stopping, normalizer=normalizer)
    keys = [set(zip(p.counts.model.tolist(), p.counts.question_id.tolist(), strict=True)) for p in parts]
    seen: set[tuple[str, str]] = set()
    clash = False
    for k in keys:
        if seen & k:
            clash = True
        seen |= k
    if clash:
        renamed = []
        for p in parts:
            if set(p.counts.model.tolist()) == {"model"}:
                name = os.path.basename(p.source)
                counts = replace(p.counts, model=[name] * p.counts.n_questions)  # type: ignore[arg-type]
                counts = replace(counts, notes=(*counts.notes, f"model named {name!r} after its file"))
                rollouts = p.rollouts.assign(model=name) if p.rollouts is not None else None
                p = replace(p, counts=counts, rollouts=rollouts, notes=counts.notes)
            renamed.append(p)
        parts = renamed
    return merge_loaded(parts)
