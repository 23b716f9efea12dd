"""Speed of pass@k for every k: 10,000 questions x n = 10,000 samples (issue 2), against the reference formula.

Ours: ``pass_at_k_all`` (the mean pass@k over questions at every k = 1..n; a running product, O(n) per question)
and ``pass_at_k`` at 17 log-spaced k. Baseline, in the same process: a per-(question, k) loop over the reference
``estimate_pass_at_k`` of Chen et al. 2021 (human-eval, ``1 - prod(1 - k / arange(n - c + 1, n + 1))``). The
full baseline (10^8 calls) would take hours, so it is timed on a random sample of (question, k) pairs and the
per-pair cost is scaled to the whole grid; the report says so.

Run: ``python benchmarks/bench_passk.py [--questions 10000] [--n 10000] [--pairs 3000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harness.estimators.passk import pass_at_k, pass_at_k_all


def reference_estimator(n: int, c: int, k: int) -> float:
    """Chen et al. 2021, human-eval/evaluation.py: numerically stable unbiased pass@k for one question."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--pairs", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n = np.full(args.questions, args.n)
    c = rng.binomial(args.n, rng.beta(0.3, 3.0, args.questions))

    t0 = time.perf_counter()
    curve = pass_at_k_all(n, c)
    t_all = time.perf_counter() - t0
    ks = np.unique(np.round(np.logspace(0, np.log10(args.n), 17)).astype(np.int64))
    t0 = time.perf_counter()
    table = pass_at_k(n, c, ks)
    t_some = time.perf_counter() - t0

    qi = rng.integers(0, args.questions, args.pairs)
    kk = rng.integers(1, args.n + 1, args.pairs)
    t0 = time.perf_counter()
    ref = np.array([reference_estimator(int(n[i]), int(c[i]), int(k)) for i, k in zip(qi, kk, strict=True)])
    t_ref = time.perf_counter() - t0
    per_pair = t_ref / args.pairs
    full_ref = per_pair * args.questions * args.n
    ours = np.array([pass_at_k([n[i]], [c[i]], [k])[0, 0] for i, k in zip(qi[:300], kk[:300], strict=True)])
    agree = float(np.abs(ours - ref[:300]).max())
    print(f"workload: {args.questions} questions x n={args.n}")
    print(f"pass@k for every k = 1..n (mean curve): {t_all:.3f} s")
    print(f"pass@k at {len(ks)} k values, all questions: {t_some:.3f} s")
    print(f"reference loop: {per_pair * 1e6:.1f} us per (question, k) over {args.pairs} sampled pairs; "
          f"the full {args.questions}x{args.n} grid would take {full_ref:,.0f} s")
    print(f"speed-up for every k: {full_ref / t_all:,.0f}x (goal >= 100x; under 1 s: {t_all < 1.0})")
    print(f"max |ours - reference| on 300 pairs: {agree:.2e}; curve at k=1,100,10000: "
          f"{curve[0]:.4f}, {curve[99]:.4f}, {curve[-1]:.4f}; table shape {table.shape}")


if __name__ == "__main__":
    main()
