"""Speed of exact maj@k (without replacement) against a numpy Monte Carlo baseline, in the same process.

Workload (issue 2): 500 questions, n = 10,000 samples, 50 answer classes (correct share p ~ Beta(0.5, 0.5), wrong
answers ~ Dirichlet(0.3) over 49 wrong classes), 17 log-spaced k from 1 to 10,000. Baseline: 1,000 draws per
(question, k) with ``Generator.multivariate_hypergeometric``. Goal: exact time <= half the Monte Carlo time.

Run: ``python benchmarks/bench_majority.py [--questions 500] [--draws 1000]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from harness.estimators import majority
from harness.tables import QuestionCounts


def make_table(questions: int, n: int, classes: int, seed: int) -> QuestionCounts:
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 0.5, questions)
    wrong_shares = rng.dirichlet(np.full(classes - 1, 0.3), size=questions)
    probs = np.concatenate([p[:, None], (1 - p)[:, None] * wrong_shares], axis=1)
    counts = np.array([rng.multinomial(n, pr) for pr in probs])
    return QuestionCounts.from_classes(counts[:, 0], counts[:, 1:])


def monte_carlo(table: QuestionCounts, ks: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Random-tie maj@k by simulation: ``draws`` k-subsets per (question, k)."""
    rng = np.random.default_rng(seed)
    classes = table.class_matrix()
    out = np.empty((table.n_questions, len(ks)))
    for i, colors in enumerate(classes):
        for j, k in enumerate(ks):
            x = rng.multivariate_hypergeometric(colors, int(k), size=draws)
            top = x.max(axis=1)
            ties = (x == top[:, None]).sum(axis=1)
            out[i, j] = np.mean(np.where((x[:, 0] == top) & (top > 0), 1.0 / ties, 0.0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--classes", type=int, default=50)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    table = make_table(args.questions, args.n, args.classes, args.seed)
    ks = np.unique(np.round(np.logspace(0, np.log10(args.n), 17)).astype(np.int64))

    majority.maj_at_k_one(3, [2, 1], 0, [2])  # load the compiled kernel before timing
    majority._maj_one.cache_clear()
    t0 = time.perf_counter()
    exact_one = majority.maj_at_k(table, ks, ties="random", kind="measured", threads=1)
    t_one = time.perf_counter() - t0
    majority._maj_one.cache_clear()
    t0 = time.perf_counter()
    exact = majority.maj_at_k(table, ks, ties="random", kind="measured")
    t_exact = time.perf_counter() - t0
    assert np.array_equal(exact, exact_one)
    t0 = time.perf_counter()
    mc = monte_carlo(table, ks, args.draws, args.seed + 1)
    t_mc = time.perf_counter() - t0

    se = np.sqrt(np.maximum(mc * (1 - mc), 1e-12) / args.draws)
    z = np.abs(exact - mc) / np.maximum(se, 1.0 / args.draws)
    print(f"workload: {args.questions} questions x n={args.n} x {args.classes} classes x {len(ks)} k values")
    print(f"exact maj@k (without replacement), 1 thread: {t_one:8.2f} s")
    print(f"exact maj@k, {os.cpu_count()} CPUs (default threads): {t_exact:8.2f} s")
    print(f"Monte Carlo, {args.draws} draws/(q,k) (numpy, 1 thread): {t_mc:8.2f} s")
    print(f"ratio exact / Monte Carlo: {t_exact / t_mc:.3f} (goal <= 0.5); single-threaded {t_one / t_mc:.3f}")
    print(f"agreement: max |z| = {z.max():.2f}, share |z| > 4: {(z > 4).mean():.4f}")
    print(f"curve (mean over questions): exact {np.round(exact.mean(0), 4).tolist()}")


if __name__ == "__main__":
    main()
