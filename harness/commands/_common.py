"""Options shared by several subcommands: inputs and column mapping, progress, and the output rules.

Output rules, the same for every command (``check_output_dir`` / ``staged_output_dir`` for folders,
``check_output_file`` / ``write_output_file`` for one file):

- nothing is created before the inputs have loaded and the work is done: the check at the start only reads;
- an existing non-empty folder (or an existing file) is refused unless ``--force``;
- a folder is written into a temporary sibling folder first; only when every file is written is it moved into
  place (a rename when the target is new or empty), so a failed or interrupted run leaves the folder as it found
  it;
- ``--force`` replaces the files of the earlier run: the new files replace the old ones one by one (each an
  atomic rename), files the earlier harness run wrote and this one did not (e.g. a figure of a model no longer
  shown) are removed, and files the harness did not write are left alone. The list of files a run wrote is kept
  in ``.harness-files`` inside the folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness._terminal import clean
from harness._validation import HarnessInputError, column_names, positive_int

if TYPE_CHECKING:
    from harness.loaders import Loaded

FORMATS: tuple[str, ...] = (
    "csv", "tsv", "jsonl", "json", "parquet", "counts", "histogram", "lists", "esc", "faithful-cot",
    "monkey_business", "search-and-learn", "hf", "lm-eval", "inspect", "lighteval", "nemo-skills", "evalplus",
    "human-eval", "simple-evals", "activeprompt", "bon", "matharena", "class-counts",
)
"""``harness.loaders.FORMATS``: the choices of ``--format``, here so that building a parser imports neither pandas
nor the loaders (a test checks the copies equal the library's)."""
EXTRACTORS: tuple[str, ...] = (
    "auto", "boxed", "hash", "answer-is", "last-number", "esc-letters", "faithful-cot", "none",
)
"""``harness.answers.EXTRACTORS``."""
NORMALISERS: tuple[str, ...] = ("math", "plain", "none")
"""``harness.answers.NORMALISERS``."""
FIT_NAMES: tuple[str, ...] = ("beta_binomial", "zoi_beta_binomial", "scaled_beta", "npmle")
"""``harness.models.spread.FIT_NAMES`` (importing harness.models imports scipy.stats, about a second)."""


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
        help="reduce tabular rollouts to counts with DuckDB (--no-stream: keep them in memory)",
    )
    p.add_argument("--engine", default=None, choices=("duckdb", "spark", "memory"),
                   help="reduction engine for per-sample tables (default: duckdb unless rows are needed)")
    p.add_argument("--spark-master", default="local[*]", metavar="URL", help="Spark master for --engine spark")


def load_inputs(args: argparse.Namespace) -> Loaded:
    from harness.loaders import ColumnMap, LoadOptions, load_many, parse_where

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
        engine=args.engine,
        spark_master=args.spark_master,
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
            print(f"harness: {clean(note)}", file=sys.stderr)
    return loaded


PLACEHOLDER_MODEL = "model"
"""The model name the loaders give a file without a model column."""


def source_stem(source: str) -> str:
    """A model name from an input: the file name without folders and extensions (``runs/a.jsonl.gz`` -> ``a``)."""
    base = os.path.basename(source.rstrip("/").removeprefix("hf:").split("@")[0])
    return base.split(".")[0] or base or source


def name_placeholder_model(loaded: Loaded, inputs: list[str]) -> Loaded:
    """One input whose rows carry no model name: name the model after the file (not "model"), with a note.

    (The loaders name such rows "model"; several inputs are told apart by file name in ``load_many``.)
    """
    from dataclasses import replace

    import numpy as np

    if len(inputs) != 1 or loaded.counts.models != [PLACEHOLDER_MODEL]:
        return loaded
    name = source_stem(inputs[0])
    if name == PLACEHOLDER_MODEL:
        return loaded
    note = f"model named {name!r} after its file (the input has no model column; --model-col names one)"
    counts = replace(
        loaded.counts,
        model=np.full(loaded.counts.n_questions, name, dtype=object),
        notes=(*loaded.counts.notes, note),
    )
    rollouts = None if loaded.rollouts is None else loaded.rollouts.assign(model=name)
    return replace(loaded, counts=counts, rollouts=rollouts, notes=(*loaded.notes, note))


MANIFEST = ".harness-files"
"""File in an output folder listing (JSON) the paths the last harness run wrote there, relative to the folder."""

TIES: tuple[str, ...] = ("random", "strict", "weak")
"""The maj@k tie rules (``harness.estimators.majority.TIES``; here so parsers need not import numba)."""
CURVE_METRICS: tuple[str, ...] = ("pass@k", "maj@k", "pass^k", "best@k")
"""``harness.curves.METRICS``."""
CURVE_KINDS: tuple[str, ...] = ("measured", "iid")
"""``harness.curves.KINDS``."""
COMPUTE_AXES: tuple[str, ...] = ("samples", "tokens", "flops")
"""``harness.curves.COMPUTE_AXES``."""


def _keep_models(loaded: Loaded, args: argparse.Namespace) -> Loaded:
    """``--models A,B``: an unknown name is an error when all inputs are loaded together; when a command loads
    them one file at a time, a file keeps the named models it holds (and must hold at least one)."""
    from harness.loaders import keep_models

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
        print(f"  {clean(msg)}", file=sys.stderr, flush=True)

    return emit


def _has_files(folder: str) -> bool:
    """Whether ``folder`` holds any file (empty subfolders, e.g. a ``figures/`` left by a check, do not count)."""
    return any(files for _, _, files in os.walk(folder))


def _refuse_file_ancestor(path: str) -> None:
    """A one-line error when a folder above ``path`` exists as a file (``--out afile/sub``)."""
    probe = os.path.dirname(os.path.abspath(path))
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        raise HarnessInputError(
            f"{probe} is a file, so the output cannot go below it", source=path, fix="choose another --out"
        )


def check_output_dir(out_dir: str, *, force: bool) -> None:
    """Refuse an ``--out`` that is a file, below a file, or a folder holding files, unless ``force``.

    Creates nothing.
    """
    _refuse_file_ancestor(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise HarnessInputError(
            "the output path exists and is not a folder", source=out_dir, fix="choose another --out"
        )
    if os.path.isdir(out_dir) and _has_files(out_dir) and not force:
        raise HarnessInputError(
            "the output folder exists and is not empty",
            source=out_dir,
            fix="choose a new --out folder or pass --force to replace the files of the earlier run",
        )


def check_output_file(path: str, *, force: bool) -> None:
    """Refuse an existing output file unless ``force``, and a path whose folder does not exist. Creates nothing."""
    if os.path.isdir(path):
        raise HarnessInputError("the output path is a folder", source=path, fix="give a file name to --out")
    if os.path.exists(path) and not force:
        raise HarnessInputError(
            "the output file exists", source=path, fix="choose another --out or pass --force to replace it"
        )
    _refuse_file_ancestor(path)  # `--out afile/sub/x.csv`: "create it first" cannot be followed
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise HarnessInputError("the output file's folder does not exist", source=path, fix="create it first")


def write_output_file(path: str, text: str, *, force: bool) -> None:
    """Write one output file atomically, under the rules of :func:`check_output_file`."""
    from harness._atomic import write_text_atomic

    check_output_file(path, force=force)
    write_text_atomic(path, text)


def _listed_files(folder: str) -> list[str]:
    out = []
    for root, _, files in os.walk(folder):
        for name in files:
            out.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(out)


def _earlier_files(out_dir: str) -> list[str]:
    """Files an earlier harness run wrote to ``out_dir``: its manifest, else the files its summary.json lists."""
    try:
        with open(os.path.join(out_dir, MANIFEST), encoding="utf-8") as fh:
            listed = json.load(fh)
        return [str(p) for p in listed if isinstance(p, str)]
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(out_dir, "summary.json"), encoding="utf-8") as fh:
            files = json.load(fh).get("files", {})
    except (OSError, ValueError, AttributeError):
        return []
    earlier = [str(p) for p in files.get("tables", {})]
    for png in files.get("figures", {}):
        earlier += [str(png), str(png).removesuffix(".png") + ".svg"]
    return earlier


def _inside(folder: str, rel: str) -> bool:
    """Whether ``rel`` names a path inside ``folder`` (a manifest entry may never escape it)."""
    full = os.path.realpath(os.path.join(folder, rel))
    return full.startswith(os.path.realpath(folder) + os.sep)


def _move_into_place(staging: str, out_dir: str, written: list[str]) -> None:
    if not os.path.exists(out_dir):
        os.rename(staging, out_dir)  # atomic: the folder appears complete or not at all
        return
    if not _has_files(out_dir) and not os.path.islink(out_dir):
        shutil.rmtree(out_dir)  # only empty folders: nothing of the user's is lost
        os.rename(staging, out_dir)
        return
    earlier = [p for p in _earlier_files(out_dir) if _inside(out_dir, p)]
    for rel in written:
        target = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(os.path.join(staging, rel), target)
    for rel in sorted(set(earlier) - set(written)):
        path = os.path.join(out_dir, rel)
        if os.path.isfile(path):
            os.unlink(path)
    shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def staged_output_dir(out_dir: str, *, force: bool) -> Iterator[str]:
    """A fresh temporary folder beside ``out_dir`` to write into; moved into place when the block succeeds.

    Checks ``out_dir`` again (:func:`check_output_dir`); on any error the temporary folder and any parent
    folders created for it are removed and ``out_dir`` is left as it was. A manifest of the files written is
    added, so a later ``--force`` run can remove the ones it no longer writes.
    """
    from harness._atomic import lock_folder

    check_output_dir(out_dir, force=force)
    if os.path.isdir(out_dir):
        lock_folder(out_dir)  # a second run into the same folder stops with one line; released by the CLI
    parent = os.path.dirname(os.path.abspath(out_dir))
    created: list[str] = []
    probe = parent
    while not os.path.isdir(probe):
        created.append(probe)
        probe = os.path.dirname(probe)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.path.basename(os.path.abspath(out_dir))}-")
    try:
        yield staging
        written = [p for p in _listed_files(staging) if p != MANIFEST]
        with open(os.path.join(staging, MANIFEST), "w", encoding="utf-8") as fh:
            json.dump(written, fh, indent=0)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; give the folder the usual permissions
        _move_into_place(staging, out_dir, [*written, MANIFEST])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # innermost first
            try:
                os.rmdir(folder)
            except OSError:
                break
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_and_announce(
    report: Any,
    out_dir: str,
    *,
    quiet: bool,
    start: float,
    progress: Callable[[str], None] | None = None,
    headline_lines: int | None = None,
    force: bool = True,
) -> int:
    """Write ``report`` (a :class:`harness.report.Report`) to ``out_dir`` and say on stderr where it is.

    The files go to a temporary folder first (:func:`staged_output_dir`); ``progress`` is no longer used (the
    figures show as one progress step) and is kept for callers that pass it. ``force`` defaults to True
    because the command has already checked ``out_dir`` with :func:`check_output_dir` before its work.
    """
    from harness._progress import Progress
    from harness.report import write_report

    del progress
    shown = Progress(quiet=quiet)
    label = f"writing {len(report.figures)} figures and {len(report.tables)} tables"
    with staged_output_dir(out_dir, force=force) as staging, shown.messages(label, len(report.figures)) as on:
        on_figure = None if on is None or not shown.tty else on
        written = write_report(report, staging, force=True, progress=on_figure)
    if not quiet:
        print(
            clean(f"wrote {len(written)} files to {out_dir} in {time.perf_counter() - start:.1f} s; open "
                  f"{os.path.join(out_dir, 'report.html')}"),
            file=sys.stderr,
        )
        for line in report.headline[:headline_lines]:
            print(clean(line), file=sys.stderr)
    return 0
