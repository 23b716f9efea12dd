"""`harness demo --out DIR`: the embedded default, needing no data: sigmoids per question, a line in aggregate,
published claims audited. Writes the same kind of report as `harness report`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from harness._validation import bootstrap_replicates, seed_value
from harness.commands._common import check_output_dir, write_and_announce


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="the embedded default: sigmoids per question, a line in aggregate, published claims audited",
        description="Part 1: one question at constant p (pass@k and maj@k are sigmoids in log k). Part 2: a "
        "synthetic test set whose p spreads over decades (a straight-looking line, with the log-linear "
        "diagnostics). Part 3: the bundled published claims audited. No user data, no network.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must be new or empty)")
    p.add_argument(
        "--force", action="store_true", help="replace the files of an earlier run in a non-empty folder"
    )
    p.add_argument("--bootstrap", type=bootstrap_replicates, default=200,
                   help="bootstrap replicates over questions (default 200)")
    p.add_argument("--seed", type=seed_value, default=0, help="seed of the synthetic data and the bootstrap")
    p.add_argument("--no-audit", action="store_true", help="skip Part 3 (the audit of published claims)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness._progress import Progress

    start = time.perf_counter()
    check_output_dir(args.out, force=args.force)  # refuse before the work; creates nothing
    shown = Progress(quiet=args.quiet)
    with shown.messages("building the demo (parts 1-3)") as on_message:
        from harness.report.demo import build_demo

        report = build_demo(bootstrap=args.bootstrap, seed=args.seed, audit=not args.no_audit, progress=on_message)
    return write_and_announce(report, args.out, quiet=args.quiet, start=start, headline_lines=None, force=args.force)
