"""`harness curves INPUT... [--out FILE.csv]`: the tidy curve table (measured and i.i.d.), on stdout by default."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness._validation import HarnessInputError, bootstrap_replicates, comma_list, seed_value
from harness.commands._common import (
    COMPUTE_AXES,
    CURVE_KINDS,
    CURVE_METRICS,
    TIES,
    add_input_options,
    check_output_file,
    load_inputs,
    name_placeholder_model,
    write_output_file,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("curves", help="exact accuracy-vs-compute curves as a tidy CSV",
                       description="Exact pass@k, maj@k, pass^k, best@k curves, measured and i.i.d.-predicted. "
                       "The CSV goes to stdout unless --out names a file.")
    add_input_options(p)
    p.add_argument("--out", default=None, metavar="FILE.csv",
                   help="output CSV (default, or '-': stdout); an existing file needs --force")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--metrics", default="pass@k,maj@k,pass^k", type=comma_list(choices=CURVE_METRICS, what="metrics"),
                   help=f"comma-separated, from {', '.join(CURVE_METRICS)} (default pass@k,maj@k,pass^k)")
    p.add_argument("--k", default="default", help="'default' (powers of two up to n, plus n), 'all', or 1,2,4")
    p.add_argument("--ties", default="random", choices=TIES, help="maj@k tie rule (default random)")
    p.add_argument("--kinds", default="measured,iid", type=comma_list(choices=CURVE_KINDS, what="kinds"),
                   help="measured and/or iid")
    p.add_argument("--compute", default="samples", choices=COMPUTE_AXES)
    p.add_argument("--bootstrap", type=bootstrap_replicates, default=1000,
                   help="bootstrap replicates over questions (0: none)")
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness._atomic import frame_to_csv
    from harness._progress import Progress
    from harness._terminal import clean
    from harness.curves import compute_curves, parse_ks

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for m in metrics:
        if m not in CURVE_METRICS:
            raise HarnessInputError(f"--metrics: unknown metric {m!r}", fix=f"use {', '.join(CURVE_METRICS)}")
    for k in kinds:
        if k not in CURVE_KINDS:
            raise HarnessInputError(f"--kinds: unknown kind {k!r}", fix=f"use {', '.join(CURVE_KINDS)}")
    to_stdout = args.out is None or args.out == "-"
    if not to_stdout:
        check_output_file(args.out, force=args.force)  # before the work; creates nothing
    shown = Progress(quiet=args.quiet)
    with shown.step(f"loading {len(args.inputs)} input(s)"):
        loaded = name_placeholder_model(load_inputs(args), list(args.inputs))
    counts = loaded.counts
    ks = parse_ks(args.k, int(counts.n.max()))
    scores = None
    if "best@k" in metrics:
        from harness.estimators.bestk import scores_by_model

        scores = scores_by_model(loaded.rollouts, counts)
    with shown.messages(f"curves for {len(counts.models)} model(s)") as on_message:
        table = compute_curves(counts, metrics=metrics, ks=ks, ties=args.ties, kinds=kinds, compute=args.compute,
                               scores=scores, bootstrap=args.bootstrap, seed=args.seed, progress=on_message)
    text = frame_to_csv(table)
    if to_stdout:
        sys.stdout.write(clean(text, keep_newlines=True) if sys.stdout.isatty() else text)
    else:
        write_output_file(args.out, text, force=args.force)
        if not args.quiet:
            print(clean(f"wrote {len(table)} rows to {args.out}"), file=sys.stderr)
    return 0
