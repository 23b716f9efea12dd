"""Where the sweep kernel beats the per-class kernel: one correct class against J wrong classes, i.i.d.

Questions like the structured predictions' kernel rows (10^6 pseudo-counts: correct share ~ Beta(0.5, 0.5),
1 + Poisson(4) wrong classes with Dirichlet(0.5) shares), screened as the library does; for each (k, J left after
the screening) the mean time of one call of each kernel (second of two calls, compiled), their ratio, and what
``prefer_sweep`` chooses. Used to fit ``_sweep_kernel.SWEEP_COST``.

Run: ``PYTHONPATH=. python benchmarks/bench_sweep_route.py``
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from harness.estimators import majority
from harness.estimators._majority_kernel import maj_kernel
from harness.estimators._screen_kernel import DECIDED, TWO_CLASS, screen
from harness.estimators._sweep_kernel import prefer_sweep, sweep_iid


def main() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(3000):
        p = rng.beta(0.5, 0.5)
        shares = (1 - p) * rng.dirichlet(np.full(1 + rng.poisson(4), 0.5))
        sizes = np.rint(np.concatenate([[p], shares]) * 1_000_000).astype(np.int64)
        rows.append((max(int(sizes[0]), 1), np.sort(sizes[1:][sizes[1:] > 0])[::-1].copy()))
    nodes, weights = majority._GL_TABLE[0]
    res: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for k in (16, 32, 64, 128, 256, 512, 2048):
        for a, w in rows:
            status, _, _, kept, _ = screen(np.array([a]), w, 0, k, 0, False, majority._LOG_EPS)
            if status in (DECIDED, TWO_CLASS) or kept.shape[0] < 2:
                continue
            n = a + int(w.sum())
            free = n - a - int(kept.sum())
            for _ in range(2):
                t0 = time.perf_counter()
                sweep_iid(a, kept, free, n, k, 0, majority._LOG_EPS)
                t1 = time.perf_counter()
                maj_kernel(a, kept, free, k, 0, False, majority._LOG_EPS, nodes, weights)
                t2 = time.perf_counter()
            cell = res[(k, kept.shape[0])]
            cell[0] += t1 - t0
            cell[1] += t2 - t1
            cell[2] += 1
            cell[3] += prefer_sweep(kept, k)
    print("| k | J | calls | sweep (us) | per-class (us) | per-class / sweep | chosen: sweep share |")
    print("|---|---|---|---|---|---|---|")
    for (k, j), (s, m, count, chose) in sorted(res.items()):
        print(f"| {k} | {j} | {int(count)} | {1e6 * s / count:.0f} | {1e6 * m / count:.0f} | {m / s:.2f} | "
              f"{chose / count:.2f} |")


if __name__ == "__main__":
    main()
