"""`harness reduce INPUT... --out counts.parquet`: per-sample rows -> the class-count table, on DuckDB or Spark.

The output (one row per answer class, provenance in the Parquet metadata) is read back by ``report``, ``curves``
and ``compare`` as format ``class-counts``: a cluster job's small output feeds the analysis on a laptop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from harness.answers import NORMALISERS
from harness.engines import ENGINES, reduce_inputs, write_class_counts
from harness.loaders import ColumnMap


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "reduce", help="reduce per-sample logs to answer-class counts (DuckDB or Spark)",
        description="Reduce per-sample rows (CSV/TSV, JSONL[.gz], Parquet; files, globs, folders, hive-partitioned "
        "folders, hf:// paths) to one row per answer class, written as Parquet with its provenance.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, globs or folders of one tabular format")
    p.add_argument("--out", required=True, metavar="FILE.parquet", help="the class-count file to write")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--engine", default="duckdb", choices=ENGINES, help="duckdb (default), spark or memory")
    p.add_argument("--spark-master", default="local[*]", metavar="URL", help="Spark master (default local[*])")
    for field, help_ in (
        ("question", "question id (several columns: a,b)"), ("answer", "final answer"),
        ("correct", "correctness flag"), ("sample", "sample id"), ("model", "model name"),
        ("tokens", "tokens per sample"), ("group", "dependence axis: batch, seed, prompt"),
        ("budget", "reasoning budget"),
    ):
        p.add_argument(f"--{field}-col", default=None, metavar="NAME", help=f"column holding the {help_}")
    p.add_argument("--normalizer", default="math", choices=NORMALISERS, help="how answers form voting classes")
    p.add_argument("--stopping", default=None, metavar="RULE", help="fixed, adaptive, first-success-block=B")
    p.add_argument("--no-duplicate-check", action="store_true",
                   help="skip the check that each (model, question, sample id) appears once (a second group-by)")
    p.add_argument("--memory-limit", default=None, metavar="SIZE", help="DuckDB memory limit, e.g. 1GB (spills)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="DuckDB threads (default 1: least CPU and memory; more cut wall time, each its own hash table)")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness._terminal import clean
    from harness._validation import HarnessInputError

    start = time.perf_counter()
    if os.path.exists(args.out) and not args.force:
        raise HarnessInputError("the output file exists", source=args.out, fix="pass --force to replace it")
    columns = ColumnMap(
        question=args.question_col, answer=args.answer_col, correct=args.correct_col, sample=args.sample_col,
        model=args.model_col, tokens=args.tokens_col, group=args.group_col, budget=args.budget_col,
    )
    extra: dict[str, object] = {}
    if args.memory_limit is not None:
        if args.engine != "duckdb":
            raise HarnessInputError(f"--memory-limit applies to DuckDB, not {args.engine}",
                                    fix="drop --memory-limit (Spark's memory is set by its own configuration)")
        extra["memory_limit"] = args.memory_limit
    if args.threads is not None:
        if args.engine != "duckdb":
            raise HarnessInputError(f"--threads applies to DuckDB, not {args.engine}",
                                    fix="drop --threads (Spark's parallelism follows --spark-master)")
        if args.threads < 1:
            raise HarnessInputError(f"--threads {args.threads} is below 1", fix="pass --threads 1 or more")
        extra["threads"] = args.threads
    reduced = reduce_inputs(
        args.inputs, columns=columns, engine=args.engine, spark_master=args.spark_master,
        normalizer=args.normalizer, stopping=args.stopping, check_duplicates=not args.no_duplicate_check, **extra,
    )
    write_class_counts(args.out, reduced, force=args.force)
    if not args.quiet:
        prov = reduced.provenance
        print(
            f"wrote {len(reduced.classes)} class rows ({reduced.counts.n_questions} question rows) to {args.out}: "
            f"{prov['rows_read']} rows of {prov['files']} file(s) reduced by {args.engine} in "
            f"{time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        for note in reduced.notes:
            if note.startswith("warning:"):
                print(f"harness: {clean(note)}", file=sys.stderr)
    return 0
