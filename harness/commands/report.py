"""`harness report INPUT... --out DIR`: the whole analysis as an HTML/Markdown report with CSVs."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness._validation import bootstrap_replicates, comma_list, seed_value, whole_number
from harness.commands._common import (
    FIT_NAMES,
    TIES,
    add_input_options,
    check_output_dir,
    load_inputs,
    name_placeholder_model,
    progress_printer,
    write_and_announce,
)

if TYPE_CHECKING:
    from harness.loaders import Loaded


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="full report: curves, i.i.d. predictions, fits, diagnostics, tests (HTML, Markdown, CSV)",
        description="Load logged samples (any format the loaders read), measure every curve exactly, "
        "compare it with independent sampling, run the tests the data allow, and write DIR/report.html, "
        "DIR/report.md, CSV tables, summary.json and the figures (PNG and SVG). Several inputs or a model "
        "column give one report comparing the models.",
    )
    add_input_options(p)
    add_report_options(p)
    p.add_argument(
        "--fits",
        default=None,
        type=comma_list(choices=FIT_NAMES, what="fits"),
        metavar="NAMES",
        help="distributions of p to fit, comma-separated (default: all the analysis offers, e.g. "
        "beta_binomial,zoi_beta_binomial,scaled_beta,npmle)",
    )
    p.add_argument(
        "--figures-for",
        type=whole_number(minimum=0, maximum=1000, what="a number of models, 0 to 1000"),
        default=4,
        metavar="N",
        help="draw the per-model figures for the first N models in the stated order (default 4); every model "
        "still gets its verdict, its section and its rows in every table, and its section says when its figures "
        "were not drawn",
    )
    p.add_argument(
        "--reference",
        default=None,
        metavar="MODEL",
        help="the model every other is compared with (default: the first in the stated order)",
    )
    p.add_argument(
        "--order",
        default="given",
        choices=("given", "name"),
        help="model order in the headline, tables and figures: as the inputs give them, or by name (the "
        "reference goes first either way; default given)",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=1.0,
        metavar="PP",
        help="practical margin of the verdict, in pp per decade of slope (and pp at any k): a rejected test is a "
        "departure when its effect exceeds the margin, significant but negligible when the effect's interval lies "
        "inside it, unresolved otherwise (default 1)",
    )
    p.add_argument(
        "--no-order-test",
        action="store_true",
        help="skip the sample-order test (run by default on per-sample logs; sample_id taken as the order drawn)",
    )
    p.set_defaults(run=run)


def add_report_options(p: argparse.ArgumentParser) -> None:
    """--out, --force, --bootstrap, --seed, --ties, --compute, --quiet (shared with compare)."""
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must be new or empty)")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty folder")
    p.add_argument("--bootstrap", type=bootstrap_replicates, default=1000,
        help="bootstrap replicates over questions (default 1000)")
    p.add_argument("--seed", type=seed_value, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--ties", default="random", choices=TIES, help="maj@k tie rule (default random)")
    p.add_argument(
        "--compute",
        default="samples",
        choices=("samples", "tokens", "flops"),
        help="compute axis (default samples)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def load_runs(args: argparse.Namespace) -> Loaded:
    """Load every input; a file without a model column is named after the file, so several runs stay apart."""
    import numpy as np
    import pandas as pd

    from harness.loaders import Loaded
    from harness.tables import concat_counts

    if len(args.inputs) == 1:
        return name_placeholder_model(load_inputs(args), list(args.inputs))
    parts = []
    for path in args.inputs:
        one = load_inputs(argparse.Namespace(**{**vars(args), "inputs": [path]}))
        if one.counts.models == ["model"]:
            name = os.path.basename(path).split(".")[0] or path
            counts = replace(one.counts, model=np.full(one.counts.n_questions, name, dtype=object))
            rollouts = None if one.rollouts is None else one.rollouts.assign(model=name)
            one = replace(one, counts=counts, rollouts=rollouts)
        parts.append(one)
    rollouts = (
        pd.concat([p.rollouts for p in parts], ignore_index=True)
        if all(p.rollouts is not None for p in parts)
        else None
    )
    return Loaded(
        counts=concat_counts([p.counts for p in parts]),
        rollouts=rollouts,
        source=", ".join(p.source for p in parts),
        format="+".join(dict.fromkeys(p.format for p in parts)),
        notes=tuple(n for p in parts for n in p.notes),
    )


def run(args: argparse.Namespace) -> int:
    from harness.report import ReportOptions, build_report

    start = time.perf_counter()
    progress = progress_printer(args.quiet)
    check_output_dir(args.out, force=args.force)  # fail before the work, not after; creates nothing
    if progress is not None:
        progress(f"loading {len(args.inputs)} input(s)")
    loaded = load_runs(args)
    fits = tuple(f.strip() for f in args.fits.split(",") if f.strip()) if args.fits else None
    options = ReportOptions(
        bootstrap=args.bootstrap,
        seed=args.seed,
        ties=args.ties,
        compute=args.compute,
        fits=fits,
        max_model_figures=args.figures_for,
        reference=args.reference,
        order=args.order,
        margin_pp=args.margin,
        order_test=not args.no_order_test,
    )
    report = build_report(loaded, options, progress=progress)
    return write_and_announce(
        report, args.out, quiet=args.quiet, start=start, progress=progress, headline_lines=1, force=args.force
    )
