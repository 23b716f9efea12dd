"""`harness demo`: the embedded default, needing no data (a curve table until the report lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from harness.curves import compute_curves
from harness.tables import QuestionCounts


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="the embedded default: sigmoids per question, a line in aggregate")
    p.add_argument("--out", default="-", help="output CSV ('-' for stdout)")
    p.set_defaults(run=run)


def demo_counts(n: int = 1024, questions: int = 200, seed: int = 0) -> QuestionCounts:
    """A synthetic test set whose per-question p spreads over decades (log10 p uniform on [-3, 0])."""
    rng = np.random.default_rng(seed)
    p = 10.0 ** rng.uniform(-3.0, 0.0, questions)
    c = rng.binomial(n, p)
    wrong = n - c
    return QuestionCounts.from_classes(c, [[w] for w in wrong], model="synthetic: log10 p ~ U(-3, 0)")


def run(args: argparse.Namespace) -> int:
    table = compute_curves(demo_counts(), metrics=("pass@k", "maj@k"), bootstrap=200)
    text = table.to_csv(index=False)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        from harness.commands._common import write_text_atomic

        write_text_atomic(args.out, text)
    return 0
