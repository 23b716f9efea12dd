"""Structured maj@k predictions: the exact posterior expectation against the three-quantile rows, same process.

Generated table (``bench_majority.report_table``: correct share ~ Beta(0.5, 0.5), 1 + Poisson(4) wrong classes with
Dirichlet(0.5) shares, n = 100), the report's four fits and its prediction grid (k = 1, 2, 4, ..., 8,192, 100,
10,000). Prints CPU and wall time of each path (both compiled and warmed up first; both spread over the machine's
cores), their ratio, and how far the quadrature is from the exact expectation: per question and on the mean curve,
per fit.

Run: ``PYTHONPATH=. python benchmarks/bench_structured.py --questions 10000``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_majority import report_table  # benchmarks/ is on the path when run as a script

from harness.curves import default_ks
from harness.models.predict import _structured_by_profile, predict_maj_structured_many
from harness.models.spread import fit_spread
from harness.tables import QuestionCounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = 100
    correct, wrong = report_table(args.questions, n, args.seed)
    counts = QuestionCounts.from_classes(correct, wrong)
    fits = fit_spread(counts)
    ks = np.unique(np.append(default_ks(100 * n), n))
    warm = QuestionCounts.from_classes(correct[:200], wrong[:200])
    warm_fits = fit_spread(warm)
    predict_maj_structured_many(warm_fits, warm, ks)
    _structured_by_profile(warm_fits, warm, ks, "random")

    t0, w0 = time.process_time(), time.perf_counter()
    exact = predict_maj_structured_many(fits, counts, ks)
    t_exact, w_exact = time.process_time() - t0, time.perf_counter() - w0
    t0, w0 = time.process_time(), time.perf_counter()
    quant = [vals[inverse] for vals, inverse in _structured_by_profile(fits, counts, ks, "random")]
    t_quant, w_quant = time.process_time() - t0, time.perf_counter() - w0
    print(f"{args.questions} questions x n = {n}, 4 fits, k = {ks.tolist()}")
    print(f"exact expectation: {t_exact:.1f} CPU-s, {w_exact:.1f} s wall")
    print(f"three quantiles:   {t_quant:.1f} CPU-s, {w_quant:.1f} s wall")
    print(f"ratio exact / quantiles: {t_exact / t_quant:.2f} CPU, {w_exact / w_quant:.2f} wall")
    print("\n| fit | max per-question |exact - quantiles| | at k | max mean-curve difference (points) | at k |")
    print("|---|---|---|---|---|")
    for f, e, q in zip(fits, exact, quant, strict=True):
        d = np.abs(e - q)
        m = np.abs(e.mean(axis=0) - q.mean(axis=0)) * 100
        print(f"| {f.name} | {d.max():.4f} | {ks[d.max(axis=0).argmax()]} | {m.max():.3f} | {ks[m.argmax()]} |")


if __name__ == "__main__":
    main()
