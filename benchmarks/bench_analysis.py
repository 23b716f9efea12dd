"""Speed of the whole null-model analysis on the Pythia MATH workload (issue 4: under 30 s on 2 cores).

Workload: 7 Pythia models x 128 MATH questions x 10,000 samples (../shared/data/llmonkeys_pythia_math_10k, or
a synthetic table of the same shape with p ~ Beta(0.2, 12) when the folder is absent). One process times:

1. baseline: ``harness.curves.compute_curves`` (measured and iid pass@k, 1,000 bootstrap replicates), the
   foundation's curve table alone;
2. ``harness.analysis.analyse(bootstrap=1000)``: four spread fits per model with goodness of fit, predictions
   to 100 n, plateaus, power-law exponent with interval, shape diagnostics on the measured, iid and fitted
   curves, local slopes, slope decomposition -- with the BLAS pool capped at one thread (the default);
3. the same with ``blas_threads=None`` (BLAS left multi-threaded), to show why the cap is the default.

Run: ``python benchmarks/bench_analysis.py [--repeat 3] [--bootstrap 1000] [--skip-uncapped]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from harness.analysis import analyse
from harness.curves import compute_curves
from harness.tables import QuestionCounts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "llmonkeys_pythia_math_10k"
DATA = DATA / "counts.parquet"


def workload() -> tuple[QuestionCounts, str]:
    if DATA.exists():
        d = pd.read_parquet(DATA)
        models = d["model"].tolist()
        return QuestionCounts.from_binary(d["n_samples"], d["n_correct"], model=models), str(DATA)
    rng = np.random.default_rng(0)
    p = rng.beta(0.2, 12.0, size=7 * 128)
    n = np.full(7 * 128, 10_000)
    models = np.repeat([f"model-{i}" for i in range(7)], 128).tolist()
    return QuestionCounts.from_binary(n, rng.binomial(n, p), model=models), "synthetic"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="time harness.analysis.analyse on the Pythia workload")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--skip-uncapped", action="store_true", help="do not time the multi-threaded BLAS run")
    args = ap.parse_args(argv)
    counts, source = workload()
    print(f"workload: {counts.n_questions} rows ({len(counts.models)} models), n = {int(counts.n.max())}")
    print(f"data: {source}; cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
    analyse(counts.select(counts.models[0]), bootstrap=10)  # warm-up (imports, caches)
    b = args.bootstrap
    base = timed(lambda: compute_curves(counts, metrics=("pass@k",), bootstrap=b), args.repeat)
    full = timed(lambda: analyse(counts, bootstrap=b), args.repeat)
    print(f"baseline compute_curves (pass@k, {b} bootstrap): best {min(base):.2f} s, "
          f"median {np.median(base):.2f} s")
    print(f"analyse ({b} bootstrap, BLAS capped at 1 thread): best {min(full):.2f} s, "
          f"median {np.median(full):.2f} s (goal < 30 s)")
    if not args.skip_uncapped:
        unc = timed(lambda: analyse(counts, bootstrap=b, blas_threads=None), 1)
        print(f"analyse ({b} bootstrap, BLAS threads uncapped): {unc[0]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
