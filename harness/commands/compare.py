"""`harness compare A B ... --out DIR`: runs side by side at matched compute; who is ahead; crossings."""

from __future__ import annotations

import argparse
import time
from typing import Any

from harness._validation import comma_list, positive_int
from harness.commands._common import add_input_options, check_output_dir, write_and_announce
from harness.commands.report import add_report_options


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="models or runs side by side at matched compute (samples, tokens or FLOPs)",
        description="Compare runs at equal total compute: which is ahead at each budget (paired bootstrap "
        "over questions when the runs share questions) and where the curves cross. Inputs: two or more "
        "files, or one file with a model column.",
    )
    add_input_options(p)
    add_report_options(p)
    p.add_argument(
        "--metrics",
        default="pass@k,maj@k",
        type=comma_list(choices=("pass@k", "maj@k", "pass^k"), what="metrics"),
        help="from pass@k, maj@k, pass^k (default pass@k,maj@k)",
    )
    p.add_argument(
        "--budgets",
        type=positive_int(maximum=1000, what="a number of budgets, 1 to 1000"),
        default=12,
        help="at most this many compute budgets, log-spaced on logged k (default 12)",
    )
    p.set_defaults(run=run, compute=None)  # no --compute: tokens when samples differ in cost, else samples


def run(args: argparse.Namespace) -> int:
    from harness._progress import Progress
    from harness.commands.report import load_runs
    from harness.compare import compare_at_matched_compute
    from harness.report.compare_report import build_comparison_report

    start = time.perf_counter()
    shown = Progress(quiet=args.quiet)
    check_output_dir(args.out, force=args.force)  # refuse before the work; creates nothing
    with shown.step(f"loading {len(args.inputs)} input(s)"):
        loaded = load_runs(args)
    metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    axis = "auto" if args.compute is None else args.compute
    with shown.step(
        f"comparing {len(loaded.counts.models)} runs at matched {axis if axis != 'auto' else 'compute'} "
        f"({args.bootstrap} bootstrap replicates)"
    ):
        comparison = compare_at_matched_compute(
            loaded.counts,
            metrics=metrics,
            compute=axis,
            ties=args.ties,
            budgets=args.budgets,
            bootstrap=args.bootstrap,
            seed=args.seed,
        )
    report = build_comparison_report(loaded, comparison, bootstrap=args.bootstrap, seed=args.seed, ties=args.ties)
    return write_and_announce(report, args.out, quiet=args.quiet, start=start, headline_lines=None, force=args.force)
