"""Options shared by several subcommands: inputs and column mapping, progress, atomic output."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from harness.answers import EXTRACTORS, NORMALISERS
from harness.loaders import FORMATS, ColumnMap, Loaded, LoadOptions, keep_models, load_many, parse_where


class _KeepAllInputs(argparse.Action):
    """Store INPUT... and a copy under ``all_inputs``, so that a command loading its inputs one file at a time
    (``report.load_runs``) still lets :func:`load_inputs` check ``--models`` against the whole set."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.all_inputs = list(values)


def add_input_options(p: argparse.ArgumentParser) -> None:
    """INPUT... plus --format, the column-mapping options, answer handling and --stopping."""
    p.add_argument(
        "inputs",
        nargs="+",
        action=_KeepAllInputs,
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
        ("model", "model name; several comma-separated columns are joined (model,task)"),
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
        p.add_argument(f"--{field}-col", default=None, metavar="NAME", help=f"column holding the {help_}")
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
        type=int,
        default=None,
        metavar="N",
        help="simple-evals: number of distinct questions (rows repeat with period N)",
    )
    p.add_argument(
        "--samples-per-question",
        type=int,
        default=None,
        metavar="N",
        help="MathArena: runs per problem (default 4)",
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COL=VALUE[,VALUE]",
        help="tables: keep only rows whose column COL holds one of the values (repeatable; excluded rows are counted)",
    )
    p.add_argument(
        "--models",
        default=None,
        metavar="A,B",
        help="keep only these models (an unknown name is an error listing the models present)",
    )
    p.add_argument(
        "--filter",
        default=None,
        metavar="NAME",
        help="lm-eval: vote on the filtered_resps of this filter (default: the task's first filter that keeps one "
        "answer per repeat; 'resps' extracts from the raw text)",
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
        where=parse_where(args.where),
        models=None,
        filter=args.filter,
        progress=answer_progress(getattr(args, "quiet", False)),
    )
    loaded = load_many(args.inputs, format=args.format, columns=columns, stopping=stopping, options=options)
    if args.models:
        loaded = _keep_models(loaded, args)
    for note in loaded.notes:
        if note.startswith("warning:"):
            print(f"harness: {note}", file=sys.stderr)
    return loaded


def _keep_models(loaded: Loaded, args: argparse.Namespace) -> Loaded:
    """``--models A,B``: an unknown name is an error when all inputs are loaded together; when a command loads
    them one file at a time, a file keeps the named models it holds (and must hold at least one)."""
    wanted = tuple(m.strip() for m in args.models.split(",") if m.strip())
    whole = len(getattr(args, "all_inputs", None) or args.inputs) == len(args.inputs)
    if whole:
        return keep_models(loaded, wanted)
    here = tuple(m for m in wanted if m in loaded.counts.models)
    return keep_models(loaded, here or wanted)


def answer_progress(quiet: bool, *, every: float = 2.0) -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` callback for answer grouping: a line on stderr at most every ``every``
    seconds (and at the end when it took that long), or None when quiet."""
    if quiet:
        return None
    started = time.perf_counter()
    last = [started]

    def emit(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= every or (done == total and now - started >= every):
            last[0] = now
            print(f"  grouping answers: {done}/{total} questions ({now - started:.0f} s)", file=sys.stderr, flush=True)

    return emit


def progress_printer(quiet: bool) -> Callable[[str], None] | None:
    """A progress callback printing to stderr, or None when quiet."""
    if quiet:
        return None

    def emit(msg: str) -> None:
        print(f"  {msg}", file=sys.stderr, flush=True)

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
            f"wrote {len(written)} files to {out_dir} in {time.perf_counter() - start:.1f} s; open "
            f"{os.path.join(out_dir, 'report.html')}",
            file=sys.stderr,
        )
        for line in report.headline[:headline_lines]:
            print(line, file=sys.stderr)
    return 0
