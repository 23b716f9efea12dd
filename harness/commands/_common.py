"""Options shared by several subcommands: inputs and column mapping, progress, atomic output."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from harness._terminal import clean
from harness._validation import column_names, positive_int
from harness.answers import EXTRACTORS, NORMALISERS
from harness.loaders import FORMATS, ColumnMap, Loaded, LoadOptions, load_many


def add_input_options(p: argparse.ArgumentParser) -> None:
    """INPUT... plus --format, the column-mapping options, answer handling and --stopping."""
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="files (CSV, TSV, JSONL[.gz], Parquet, eval logs) or hf:ORG/NAME[:CONFIG][@SPLIT]",
    )
    p.add_argument(
        "--format",
        default=None,
        choices=FORMATS,
        metavar="NAME",
        help=f"force the input format instead of detecting it: {', '.join(FORMATS)}",
    )
    for field, help_ in (
        ("question", "question id"),
        ("answer", "final answer"),
        ("correct", "correctness flag"),
        ("sample", "sample id"),
        ("model", "model name"),
        ("tokens", "tokens per sample"),
        ("score", "per-sample score (best@k)"),
        ("group", "dependence axis: batch, seed, prompt"),
        ("budget", "reasoning budget"),
        ("n", "samples per question (count table)"),
        ("c", "correct samples per question (count table)"),
        ("count", "class size (answer histogram)"),
        ("flops", "FLOPs per sample (count table)"),
        ("text", "free-text completion to extract the answer from"),
        ("gold", "reference answer to grade against"),
    ):
        p.add_argument(f"--{field}-col", default=None, type=column_names, metavar="NAME",
                       help=f"column holding the {help_}")
    p.add_argument(
        "--stopping",
        default=None,
        metavar="RULE",
        help="how n was chosen: fixed (default), adaptive, first-success-block=B "
        "(detected from per-attempt logs when unambiguous)",
    )
    p.add_argument(
        "--extractor",
        default=None,
        choices=EXTRACTORS,
        help="how to find the final answer in free text (default: per format, usually auto)",
    )
    p.add_argument(
        "--normalizer",
        default="math",
        choices=NORMALISERS,
        help="how answers form voting classes: math (math-verify, default), plain, none",
    )
    p.add_argument(
        "--gold",
        default=None,
        metavar="FILE",
        help="gold answers (question id + gold) for logs without correctness or gold",
    )
    p.add_argument(
        "--n-questions",
        type=positive_int(maximum=10**9, what="a number of questions, 1 to 10^9"),
        default=None,
        metavar="N",
        help="simple-evals: number of distinct questions (rows repeat with period N)",
    )
    p.add_argument(
        "--samples-per-question",
        type=positive_int(maximum=10**9, what="a number of runs, 1 to 10^9"),
        default=None,
        metavar="N",
        help="MathArena: runs per problem (default 4)",
    )
    p.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="reduce JSONL/Parquet rollouts to counts in batches (default: above 256 MiB)",
    )


def load_inputs(args: argparse.Namespace) -> Loaded:
    columns = ColumnMap(
        question=args.question_col,
        answer=args.answer_col,
        correct=args.correct_col,
        sample=args.sample_col,
        model=args.model_col,
        tokens=args.tokens_col,
        score=args.score_col,
        group=args.group_col,
        budget=args.budget_col,
        n=args.n_col,
        c=args.c_col,
        count=args.count_col,
        flops=args.flops_col,
        text=args.text_col,
        gold=args.gold_col,
    )
    stopping = args.stopping.replace("=", ":") if args.stopping else None
    options = LoadOptions(
        extractor=args.extractor,
        normalizer=args.normalizer,
        gold=args.gold,
        n_questions=args.n_questions,
        samples_per_question=args.samples_per_question,
        stream=args.stream,
    )
    loaded = load_many(args.inputs, format=args.format, columns=columns, stopping=stopping, options=options)
    for note in loaded.notes:
        if note.startswith("warning:"):
            print(f"harness: {clean(note)}", file=sys.stderr)
    return loaded


def progress_printer(quiet: bool) -> Callable[[str], None] | None:
    """A progress callback printing to stderr, or None when quiet."""
    if quiet:
        return None

    def emit(msg: str) -> None:
        print(f"  {clean(msg)}", file=sys.stderr, flush=True)

    return emit


def write_and_announce(
    report: Any, out_dir: str, *, quiet: bool, start: float, progress: Callable[[str], None] | None,
    headline_lines: int | None = None,
) -> int:
    """Write ``report`` (a :class:`harness.report.Report`) to ``out_dir`` and say on stderr where it is."""
    from harness.report import write_report

    written = write_report(report, out_dir, force=True, progress=progress)
    if not quiet:
        print(
            clean(f"wrote {len(written)} files to {out_dir} in {time.perf_counter() - start:.1f} s; open "
                  f"{os.path.join(out_dir, 'report.html')}"),
            file=sys.stderr,
        )
        for line in report.headline[:headline_lines]:
            print(clean(line), file=sys.stderr)
    return 0
