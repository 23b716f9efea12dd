"""Options shared by several subcommands: inputs and column mapping, progress, atomic output."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable

from harness._validation import HarnessInputError
from harness.loaders import ColumnMap, Loaded, load_many


def add_input_options(p: argparse.ArgumentParser) -> None:
    """INPUT... plus --format, the column-mapping options and --stopping."""
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files (CSV, TSV, JSONL[.gz], Parquet, logs)")
    p.add_argument("--format", default=None, help="force the input format instead of detecting it")
    for field, help_ in (
        ("question", "question id"), ("answer", "final answer"), ("correct", "correctness flag"),
        ("sample", "sample id"), ("model", "model name"), ("tokens", "tokens per sample"),
        ("score", "per-sample score (best@k)"), ("group", "dependence axis: batch, seed, prompt"),
        ("budget", "reasoning budget"), ("n", "samples per question (count table)"),
        ("c", "correct samples per question (count table)"),
    ):
        p.add_argument(f"--{field}-col", default=None, metavar="NAME", help=f"column holding the {help_}")
    p.add_argument("--stopping", default=None, metavar="RULE",
                   help="how n was chosen: fixed (default), adaptive, first-success-block=B")


def load_inputs(args: argparse.Namespace) -> Loaded:
    columns = ColumnMap(
        question=args.question_col, answer=args.answer_col, correct=args.correct_col, sample=args.sample_col,
        model=args.model_col, tokens=args.tokens_col, score=args.score_col, group=args.group_col,
        budget=args.budget_col, n=args.n_col, c=args.c_col,
    )
    stopping = args.stopping.replace("=", ":") if args.stopping else None
    return load_many(args.inputs, format=args.format, columns=columns, stopping=stopping)


def progress_printer(quiet: bool) -> Callable[[str], None] | None:
    """A progress callback printing to stderr, or None when quiet."""
    if quiet:
        return None

    def emit(msg: str) -> None:
        print(f"  {msg}", file=sys.stderr, flush=True)

    return emit


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise HarnessInputError("the output folder does not exist", source=path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
