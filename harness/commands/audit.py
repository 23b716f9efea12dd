"""`harness audit [FILE] --out DIR`: are published accuracy-vs-compute numbers consistent with sampling?"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from harness._validation import HarnessInputError, positive_int, seed_value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="audit published test-time-compute numbers against plain i.i.d. sampling",
        description="Given only published numbers (no logs), say whether they are consistent with "
        "independent "
        "sampling from some spread of per-question difficulty, what they rule in or out, and what "
        "cannot be concluded. With no FILE, audits the bundled published claims.",
    )
    p.add_argument(
        "file",
        nargs="?",
        default=None,
        metavar="FILE",
        help="claims CSV (one row per number: claim_id, metric, k, value in percent, n_questions, optional "
        "samples_per_question, source, model, benchmark, compute, note), a published-numbers table (source, "
        "model, benchmark, n_questions, metric, compute, value_pct), or digitised chart points (compute, "
        "value[, error, n_questions]); default: the bundled published claims",
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="output folder, new or empty (audit.md, audit.html, CSV, PNGs)"
    )
    p.add_argument("--force", action="store_true", help="write into an existing non-empty folder")
    p.add_argument("--claim", action="append", default=None, metavar="ID", help="audit only this claim id (repeatable)")
    p.add_argument(
        "--n-questions",
        type=positive_int(maximum=10**9, what="a number of questions, 1 to 10^9"),
        default=None,
        metavar="N",
        help="number of questions, for rows (or digitised points) that do not give it",
    )
    p.add_argument(
        "--metric",
        default=None,
        choices=("pass@k", "maj@k"),
        help="metric of digitised chart points (default pass@k at k = compute)",
    )
    p.add_argument("--seed", type=seed_value, default=0, help="seed of the parametric bootstrap (default 0)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness._terminal import clean
    from harness.audit import audit_claims, load_claims, write_audit
    from harness.audit._claims import conversion_notes
    from harness.commands._common import check_output_dir, progress_printer, staged_output_dir

    start = time.perf_counter()
    claims = load_claims(args.file, n_questions=args.n_questions, metric=args.metric)
    if args.claim:
        unknown = sorted(set(args.claim) - set(claims["claim_id"]))
        if unknown:
            raise HarnessInputError(
                f"--claim {unknown[0]!r} is not in the table",
                fix=f"claims: {', '.join(list(dict.fromkeys(claims['claim_id']))[:8])}, ...",
            )
        claims = claims[claims["claim_id"].isin(args.claim)]
    check_output_dir(args.out, force=args.force)  # after the inputs load, before any work; creates nothing
    if not args.quiet:
        for note in conversion_notes(claims):
            print(f"harness: {clean(note)}", file=sys.stderr)
    result = audit_claims(claims, seed=args.seed, progress=progress_printer(args.quiet))
    with staged_output_dir(args.out, force=args.force) as staging:  # complete, or nothing, in args.out
        paths = write_audit(result, staging)
    if not args.quiet:
        counts = result.verdicts()["verdict"].value_counts()
        print(
            f"audited {len(result.claims)} claims: " + ", ".join(f"{v} {n}" for v, n in counts.items()),
            file=sys.stderr,
        )
        print(
            f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - start:.1f} s; open "
            f"{os.path.join(args.out, 'audit.html')}",
            file=sys.stderr,
        )
    return 0

