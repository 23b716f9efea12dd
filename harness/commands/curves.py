"""`harness curves INPUT... --out FILE.csv`: the tidy curve table (measured and i.i.d.)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness._atomic import frame_to_csv, write_text_atomic
from harness._terminal import clean
from harness._validation import HarnessInputError, bootstrap_replicates, comma_list, seed_value
from harness.commands._common import add_input_options, load_inputs, progress_printer
from harness.curves import KINDS, METRICS, compute_curves, parse_ks
from harness.estimators.majority import TIES


def add_parser(sub: Any) -> None:
    p = sub.add_parser("curves", help="exact accuracy-vs-compute curves as a tidy CSV",
                       description="Exact pass@k, maj@k, pass^k, best@k curves, measured and i.i.d.-predicted.")
    add_input_options(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV ('-' for stdout)")
    p.add_argument("--metrics", default="pass@k,maj@k,pass^k", type=comma_list(choices=METRICS, what="metrics"),
                   help=f"comma-separated, from {', '.join(METRICS)} (default pass@k,maj@k,pass^k)")
    p.add_argument("--k", default="default", help="'default' (powers of two up to n, plus n), 'all', or 1,2,4")
    p.add_argument("--ties", default="random", choices=TIES, help="maj@k tie rule (default random)")
    p.add_argument("--kinds", default="measured,iid", type=comma_list(choices=KINDS, what="kinds"),
                   help="measured and/or iid")
    p.add_argument("--compute", default="samples", choices=("samples", "tokens", "flops"))
    p.add_argument("--bootstrap", type=bootstrap_replicates, default=1000,
        help="bootstrap replicates over questions (0: none)")
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for m in metrics:
        if m not in METRICS:
            raise HarnessInputError(f"--metrics: unknown metric {m!r}", fix=f"use {', '.join(METRICS)}")
    for k in kinds:
        if k not in KINDS:
            raise HarnessInputError(f"--kinds: unknown kind {k!r}", fix=f"use {', '.join(KINDS)}")
    loaded = load_inputs(args)
    counts = loaded.counts
    ks = parse_ks(args.k, int(counts.n.max()))
    scores = None
    if "best@k" in metrics:
        from harness.estimators.bestk import scores_by_model

        scores = scores_by_model(loaded.rollouts, counts)
    table = compute_curves(counts, metrics=metrics, ks=ks, ties=args.ties, kinds=kinds, compute=args.compute,
                           scores=scores, bootstrap=args.bootstrap, seed=args.seed,
                           progress=progress_printer(args.quiet))
    text = frame_to_csv(table)
    if args.out == "-":
        sys.stdout.write(clean(text, keep_newlines=True) if sys.stdout.isatty() else text)
    else:
        write_text_atomic(args.out, text)
        if not args.quiet:
            print(clean(f"wrote {len(table)} rows to {args.out}"), file=sys.stderr)
    return 0
