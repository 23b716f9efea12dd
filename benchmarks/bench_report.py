"""Where ``harness report`` spends its time on large count tables: a per-stage breakdown.

Two parts:

1. ``--write PATH``: a generated class-count table (the format ``harness reduce`` writes, see
   :data:`harness.engines.store.CLASS_COUNTS_KEY`) of ``--models`` x ``--questions`` x ``--n`` samples, one row
   per (model, question, answer class): correct share p ~ Beta(0.5, 0.5) shifted per model, 1 + Poisson(W - 1)
   wrong classes (``--wrong``, default 25) with Dirichlet(0.5) shares. E.g. issue 12's 20 checkpoints x 5,000
   questions x n = 1,000 (10^8 samples) is ``--models 20 --questions 5000 --n 1000``.
2. ``PATH`` (a class-count file or any input ``harness report`` reads): load it, build the report and write it
   into a temporary folder, timing each stage from the report's own progress messages (the time from one message
   to the next is charged to the first), then print the stages, the total wall time and the peak resident memory
   of this process. ``--bootstrap``, ``--fits`` and ``--figures-for`` are the report's options (defaults as the
   CLI's).

Timings are wall time on a shared machine (other jobs inflate them): compare runs made back to back, as ratios.

Run: ``python benchmarks/bench_report.py --write /tmp/t.parquet --models 20 --questions 5000 --n 1000`` then
``python benchmarks/bench_report.py /tmp/t.parquet``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed harness


def write_table(path: str, models: int, questions: int, n: int, wrong: int, seed: int) -> None:
    """The generated class-count table (see the module docstring), written with pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.engines.store import CLASS_COUNTS_KEY

    rng = np.random.default_rng(seed)
    rows = models * questions
    shift = np.repeat(rng.normal(0.0, 0.5, models), questions)  # models differ in mean logit of p
    p = np.clip(rng.beta(0.5, 0.5, rows), 1e-12, 1.0 - 1e-12)
    p = 1.0 / (1.0 + np.exp(-(np.log(p) - np.log1p(-p) + shift)))
    classes = 1 + rng.poisson(max(wrong - 1, 0), rows)
    width = int(classes.max())
    shares = rng.gamma(0.5, size=(rows, width))
    shares[np.arange(width)[None, :] >= classes[:, None]] = 0.0
    shares /= shares.sum(axis=1, keepdims=True)
    probs = np.concatenate([p[:, None], (1.0 - p)[:, None] * shares], axis=1)
    probs /= probs.sum(axis=1, keepdims=True)
    sizes = rng.multinomial(n, probs)  # (rows, 1 + width)
    row_i, cls = np.nonzero(sizes)
    model_i, question_i = np.divmod(row_i, questions)
    model_names = np.array([f"checkpoint-{m:02d}" for m in range(models)], dtype=object)
    answer_names = np.array(["c", *[f"w{j}" for j in range(1, width + 1)]], dtype=object)
    question_names = np.array([f"q{i}" for i in range(questions)], dtype=object)
    table = pa.table(
        {
            "model": pa.array(model_names[model_i], pa.string()),
            "question_id": pa.array(question_names[question_i], pa.string()),
            "answer": pa.array(answer_names[cls], pa.string()),
            "correct": pa.array(cls == 0),
            "size": pa.array(sizes[row_i, cls].astype(np.int64)),
        }
    )
    prov = {
        "engine": "bench_report",
        "rows_read": rows * n,
        "inputs": ["generated"],
        "normalizer": "none",
        "stopping": "fixed",
        "notes": [],
    }
    table = table.replace_schema_metadata({CLASS_COUNTS_KEY: json.dumps(prov)})
    pq.write_table(table, path)
    print(f"wrote {path}: {models} models x {questions} questions x n = {n}, {table.num_rows:,} class rows")


def _stage_of(message: str) -> str:
    """A progress message without its model prefix and counts, so that the stages of every model add up."""
    text = re.sub(r"^checkpoint-\d+: |^generated: |^model: ", "", message)
    text = re.sub(r"\d[\d,]*", "#", text)
    return text[:70]


def stand_in_majority() -> None:
    """Replace the exact maj@k batch kernel (another part of the project, timed by bench_majority.py) with a
    cheap stand-in of the same shape (each distinct question's correct share at every k), so that the rest of the
    report can be timed on tables where the kernel would dominate. The report's numbers are then wrong for maj@k;
    only its timings are of interest."""
    from harness.estimators import majority

    if not hasattr(majority, "_maj_batch"):
        raise SystemExit("bench_report: harness.estimators.majority has no _maj_batch to stand in for any more")

    def fake(c_sizes, c_ptr, w_sizes, w_ptr, rest, ks, ties, kind, progress, threads):  # type: ignore[no-untyped-def]
        correct = np.add.reduceat(np.append(c_sizes, 0), c_ptr[:-1]) * (np.diff(c_ptr) > 0)
        wrong = np.add.reduceat(np.append(w_sizes, 0), w_ptr[:-1]) * (np.diff(w_ptr) > 0)
        share = correct / np.maximum(correct + wrong + rest, 1)
        return np.repeat(share[:, None], len(ks), axis=1).astype(np.float64)

    majority._maj_batch = fake  # type: ignore[assignment]


def run(path: str, bootstrap: int, fits: str | None, figures_for: int, write: bool) -> None:
    from harness.cli import build_parser
    from harness.commands.report import load_runs
    from harness.report import ReportOptions, build_report, write_report

    stamps: list[tuple[float, str]] = []
    peaks: list[float] = []  # peak resident memory (MiB) of the process when each message arrived

    def progress(msg: str) -> None:
        stamps.append((time.perf_counter(), msg))
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    t0 = time.perf_counter()
    progress("import and load")
    args = build_parser("report").parse_args(["report", path, "--out", "unused"])
    loaded = load_runs(args)
    options = ReportOptions(
        bootstrap=bootstrap,
        fits=tuple(fits.split(",")) if fits else None,
        max_model_figures=figures_for,
    )
    report = build_report(loaded, options, progress=progress)
    if write:
        progress("writing figures and tables")
        with tempfile.TemporaryDirectory() as out:
            write_report(report, out, force=True, progress=None)
    end = time.perf_counter()
    peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    raised: dict[str, float] = defaultdict(float)  # by how much the stage raised the peak resident memory
    for i, ((t, msg), (t_next, _)) in enumerate(zip(stamps, [*stamps[1:], (end, "")], strict=True)):
        totals[_stage_of(msg)] += t_next - t
        calls[_stage_of(msg)] += 1
        raised[_stage_of(msg)] += peaks[i + 1] - peaks[i]
    peak = peaks[-1]
    print(f"{path}: {loaded.counts.n_questions:,} (model, question) rows, {len(loaded.counts.models)} model(s), "
          f"bootstrap {bootstrap}, figures for {figures_for} model(s)")
    print(f"{'stage (time to the next progress message)':72s} {'calls':>5s} {'seconds':>8s} {'share':>6s} "
          f"{'peak+MiB':>8s}")
    total = end - t0
    for stage, sec in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"{stage:72s} {calls[stage]:5d} {sec:8.2f} {sec / total:6.1%} {raised[stage]:8.0f}")
    print(f"{'total wall time':72s} {'':5s} {total:8.2f}")
    print(f"peak resident memory: {peak:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", help="table to write (with --write) or to report on")
    parser.add_argument("--write", action="store_true", help="write a generated class-count table to PATH")
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--wrong", type=int, default=25, help="mean wrong-answer classes per question")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--fits", default=None, help="comma-separated fits (default: all)")
    parser.add_argument("--figures-for", type=int, default=4)
    parser.add_argument("--no-files", action="store_true", help="build the report but do not write it")
    parser.add_argument("--stand-in-majority", action="store_true",
                        help="replace the exact maj@k kernel by a cheap stand-in (times the rest of the report)")
    parser.add_argument("--profile", metavar="FILE", help="also write a cProfile of the run to FILE")
    args = parser.parse_args()
    if args.stand_in_majority:
        stand_in_majority()
    if args.write:
        write_table(args.path, args.models, args.questions, args.n, args.wrong, args.seed)
        return
    if args.profile:
        import cProfile

        cProfile.runctx(
            "run(args.path, args.bootstrap, args.fits, args.figures_for, not args.no_files)",
            globals(), {"args": args}, args.profile,
        )
        return
    run(args.path, args.bootstrap, args.fits, args.figures_for, not args.no_files)


if __name__ == "__main__":
    main()
