"""Speed of exact maj@k against a numpy Monte Carlo baseline in the same process, and on adversarial shapes.

Parts (each printed as a table; timings on one thread unless said otherwise, as CPU time of this process
(``time.process_time``), which other jobs on a shared machine inflate far less than wall time; still compare ratios
measured in the same run, not absolute seconds):

1. ``grid``: issue 2's workload, 500 questions, n = 10,000, 50 answer classes (correct share p ~ Beta(0.5, 0.5),
   wrong answers ~ Dirichlet(0.3) over 49 classes), 17 log-spaced k from 1 to 10,000, random ties, measured.
   Baseline: 1,000 draws per (question, k) with ``Generator.multivariate_hypergeometric``. Timed: the library
   default (``maj_at_k``), the grouped kernel at roots of unity forced, and the coefficient grouped kernel forced.
2. ``several``: the same grid with the correct samples split over 3 correct classes (Dirichlet(1) shares).
3. ``shapes``: single (question, k) timings on issue 15's adversarial shapes, every tie rule, both kinds.
4. ``report``: maj@k over a generated class table of 100,000 questions x n = 100 (measured and iid, the
   default k grid of ``harness curves``), time and peak memory.

Run: ``python benchmarks/bench_majority.py [--parts grid,several,shapes,report] [--questions 500]``.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numpy as np

from harness.curves import default_ks
from harness.estimators import majority
from harness.tables import QuestionCounts

TIES = ("random", "strict", "weak")


def make_table(questions: int, n: int, classes: int, seed: int, correct_split: int = 1) -> QuestionCounts:
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 0.5, questions)
    wrong_shares = rng.dirichlet(np.full(classes - 1, 0.3), size=questions)
    probs = np.concatenate([p[:, None], (1 - p)[:, None] * wrong_shares], axis=1)
    counts = np.array([rng.multinomial(n, pr) for pr in probs])
    if correct_split == 1:
        return QuestionCounts.from_classes(counts[:, 0], counts[:, 1:])
    split = [rng.multinomial(c, rng.dirichlet(np.ones(correct_split))).tolist() for c in counts[:, 0]]
    return QuestionCounts.from_classes(split, counts[:, 1:])


def monte_carlo(table: QuestionCounts, ks: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Random-tie maj@k by simulation over the vote classes: ``draws`` k-subsets per (question, k)."""
    rng = np.random.default_rng(seed)
    sizes, is_correct = table.vote_classes()
    out = np.empty((table.n_questions, len(ks)))
    for i, colors in enumerate(sizes):
        for j, k in enumerate(ks):
            x = rng.multivariate_hypergeometric(colors, int(k), size=draws)
            top = x.max(axis=1)
            on_top = x == top[:, None]
            c = (on_top & is_correct[i]).sum(axis=1)
            out[i, j] = np.mean(np.where(top > 0, c / on_top.sum(axis=1), 0.0))
    return out


def _exact(table: QuestionCounts, ks: np.ndarray, method: str) -> np.ndarray:
    """One thread, the given kernel choice ('auto' as the library does, or forced 'grouped')."""
    sizes, is_correct = table.vote_classes()
    assert table.abstain is not None
    out = np.empty((table.n_questions, len(ks)))
    for i in range(table.n_questions):
        c = tuple(sorted((int(v) for v in sizes[i][is_correct[i]] if v > 0), reverse=True))
        w = tuple(sorted((int(v) for v in sizes[i][~is_correct[i]] if v > 0), reverse=True))
        out[i] = [majority._maj_one(c, w, int(table.abstain[i]), int(k), "random", "measured", method) for k in ks]
    return out


def _timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    majority._maj_one.cache_clear()
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def part_grid(args: argparse.Namespace, split: int) -> None:
    table = make_table(args.questions, args.n, args.classes, args.seed, correct_split=split)
    ks = np.unique(np.round(np.logspace(0, np.log10(args.n), 17)).astype(np.int64))
    mc, t_mc = _timed(lambda: monte_carlo(table, ks, args.draws, args.seed + 1))
    label = "one correct class" if split == 1 else f"{split} correct classes"
    print(f"\n## {label}: {args.questions} questions x n={args.n} x {args.classes} classes x {len(ks)} k (random ties)")
    print(f"Monte Carlo, {args.draws} draws per (question, k), numpy, 1 thread: {t_mc:.2f} s")
    for method in ("library", "grouped", "poly"):
        if method == "library":  # maj_at_k: distinct shapes, one compiled loop over questions and k
            exact, t = _timed(lambda: majority.maj_at_k(table, ks, threads=1))
        else:
            exact, t = _timed(lambda m=method: _exact(table, ks, m))  # type: ignore[misc]
        # the credit lies in [0, 1], so its variance is at most v (1 - v) at the exact mean v (an SE from the Monte
        # Carlo's own mean is far too small when it saw no hit of a rare event)
        se = np.sqrt(np.maximum(exact * (1 - exact), 1e-12) / args.draws)
        z = np.abs(exact - mc) / np.maximum(se, 1.0 / args.draws)
        name = {"library": "library default, maj_at_k", "grouped": "grouped kernel at roots of unity forced",
                "poly": "coefficient grouped kernel forced (the previous grouped default)"}[method]
        print(f"exact ({name}), 1 thread: {t:.2f} s; ratio to Monte Carlo {t / t_mc:.3f}; "
              f"max |z| {z.max():.2f}, share |z| > 4: {(z > 4).mean():.4f}")


def adversarial_shapes() -> dict[str, tuple[list[int], list[int], int]]:
    """Issue 15's shapes (n = 10,000 unless named) plus several correct classes."""
    rng = np.random.default_rng(0)
    near = rng.multinomial(10_000 - 12 - 100, np.full(999, 1 / 999))
    near10k = rng.multinomial(10_000 - 2, np.full(9_999, 1 / 9_999))
    near_big = rng.multinomial(100_000 - 11, np.full(9_999, 1 / 9_999))
    diffuse = rng.multinomial(10_000 - 750, rng.dirichlet(np.full(200, 0.3)))
    near3 = rng.multinomial(10_000 - 30, np.full(999, 1 / 999))
    near_big5 = rng.multinomial(100_000 - 5 * 50, np.full(1_995, 1 / 1_995))
    pos = lambda a: sorted((int(v) for v in a if v > 0), reverse=True)  # noqa: E731
    return {
        "9,756 classes, almost all wrong answers distinct (c = 100)": ([100], [50, 50, *[2] * 47, *[1] * 9_706], 0),
        "9,998 classes, every wrong answer distinct (c = 3)": ([3], [1] * 9_997, 0),
        "1,000 near-equal classes (c = 12, 100 unanswered)": ([12], pos(near), 100),
        "10,000 near-equal classes (c = 2)": ([2], pos(near10k), 0),
        "10,000 near-equal classes, n = 100,000 (c = 11)": ([11], pos(near_big), 0),
        "3 correct classes 300/250/200 + 200 Dirichlet wrong": ([300, 250, 200], pos(diffuse), 0),
        "3 correct classes 10/10/10 + 1,000 near-equal wrong": ([10, 10, 10], pos(near3), 0),
        "5 correct classes of 50 + 1,995 near-equal wrong, n = 100,000": ([50] * 5, pos(near_big5), 0),
    }


def part_shapes(args: argparse.Namespace) -> float:
    """Single (question, k) timings; ``--method poly`` forces the coefficient grouped kernel (the previous default
    on these shapes), ``auto`` is the library's choice. Returns the slowest time (ms)."""
    ks = [128, 256, 512, 1024, 2048, 4096, 16384, 65536]
    print(f"\n## adversarial shapes: ms per single (question, k), 1 thread, method {args.method} (k = {ks}; '-' where"
          " measured k > n)")
    worst = 0.0
    for kind in ("measured", "iid"):
        for ties in TIES:
            print(f"\n{kind}, {ties} ties")
            for name, (c, w, r) in adversarial_shapes().items():
                n = sum(c) + sum(w) + r
                cc, ww = tuple(sorted(c, reverse=True)), tuple(w)
                row = []
                for k in ks:
                    if (kind == "measured" and k > n) or (args.method == "poly" and k > 4096):
                        row.append("      -")
                        continue
                    majority._maj_one.cache_clear()
                    t0 = time.process_time()
                    majority._maj_one(cc, ww, r, k, ties, kind, args.method)
                    dt = 1e3 * (time.process_time() - t0)
                    worst = max(worst, dt)
                    row.append(f"{dt:7.1f}")
                print(f"  {name:62s} " + " ".join(row), flush=True)
    print(f"\nslowest single (question, k): {worst:.0f} ms")
    return worst


def report_table(q: int, n: int, seed: int) -> tuple[list[int], list[list[int]]]:
    """Correct class size and wrong class sizes of ``q`` generated questions of n samples: correct share
    ~ Beta(0.5, 0.5), 1 + Poisson(4) wrong classes with Dirichlet(0.5) shares."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 0.5, q)
    classes = 1 + rng.poisson(4, q)  # wrong answer classes per question
    correct, wrong = [], []
    for i in range(q):
        shares = np.concatenate([[p[i]], (1 - p[i]) * rng.dirichlet(np.full(classes[i], 0.5))])
        counts = rng.multinomial(n, shares)
        correct.append(int(counts[0]))
        wrong.append([int(v) for v in counts[1:] if v > 0])
    return correct, wrong


def write_class_counts(path: str, q: int, n: int, seed: int) -> None:
    """The report table as a class-count file (the format ``harness reduce`` writes), one model, for timing the
    whole ``harness report``: one row per (question, answer class) with its size; the correct class's answer is
    'c', the wrong ones 'w1', 'w2', ..."""
    import json

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.engines.store import CLASS_COUNTS_KEY

    correct, wrong = report_table(q, n, seed)
    rows: dict[str, list[object]] = {"model": [], "question_id": [], "answer": [], "correct": [], "size": []}
    for i, (c, w) in enumerate(zip(correct, wrong, strict=True)):
        for j, a in enumerate([c, *w]):
            if a == 0:
                continue
            rows["model"].append("generated")
            rows["question_id"].append(f"q{i}")
            rows["answer"].append("c" if j == 0 else f"w{j}")
            rows["correct"].append(j == 0)
            rows["size"].append(a)
    table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
    prov = {"engine": "bench_majority", "rows_read": q * n, "inputs": ["generated"], "normalizer": "none",
            "stopping": "fixed", "notes": []}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), CLASS_COUNTS_KEY: json.dumps(prov)})
    pq.write_table(table, path)
    print(f"wrote {path}: {q} questions x n = {n}, {table.num_rows} class rows")


def part_report(args: argparse.Namespace) -> None:
    q, n = args.report_questions, 100
    correct, wrong = report_table(q, n, args.seed)
    table = QuestionCounts.from_classes(correct, wrong)
    ks = default_ks(n)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    majority._maj_one.cache_clear()
    for threads in (1, 2):
        t0, w0 = time.process_time(), time.perf_counter()
        for kind in ("measured", "iid"):
            majority.maj_at_k(table, ks, kind=kind, threads=threads)
        t, w = time.process_time() - t0, time.perf_counter() - w0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"\n## report table: {q} questions x n = {n}, k = {ks.tolist()}, measured + iid, {threads} thread(s)")
        print(f"maj@k: {t:.1f} s CPU, {w:.1f} s wall; peak resident memory {rss / 1024:.0f} MiB "
              f"(before: {rss0 / 1024:.0f} MiB)")


def warm_up() -> None:
    """Load (or compile) every kernel for every tie rule and kind before timing."""
    for kind in ("measured", "iid"):
        for ties in TIES:
            for method in ("one", "grouped", "poly"):
                majority._maj_one((3, 2), (2, 2, 1), 1, 4, ties, kind, method)
            majority.maj_at_k_one(3, [2, 1], 0, [2, 3], ties=ties, kind=kind)
            majority.maj_at_k(QuestionCounts.from_classes([[3, 2], 2], [[2, 1], [1]]), [2, 3], ties=ties, kind=kind)
    majority._maj_one.cache_clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--parts", default="grid,several,shapes,report")
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--classes", type=int, default=50)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--report-questions", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default="auto", help="for shapes: comma-separated auto, grouped, poly (one table each)")
    ap.add_argument("--write-table", metavar="PATH", help="write the report table as a class-count file and exit")
    args = ap.parse_args()
    if args.write_table:
        write_class_counts(args.write_table, args.report_questions, 100, args.seed)
        return
    warm_up()
    parts = args.parts.split(",")
    if "grid" in parts:
        part_grid(args, 1)
    if "several" in parts:
        part_grid(args, 3)
    if "shapes" in parts:
        for method in args.method.split(","):
            part_shapes(argparse.Namespace(**{**vars(args), "method": method}))
    if "report" in parts:
        part_report(args)


if __name__ == "__main__":
    main()
