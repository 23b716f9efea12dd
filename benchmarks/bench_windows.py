"""Binomial windows by doubling steps and bisection against the outward walk they replaced, same process.

``binomial_window(k, p, log_tail)`` finds where the bound pmf x ratio / (1 - ratio) on each tail falls below
exp(log_tail). Until the seventh session it walked there from the mode one x at a time, three logarithms per step
(O(width)); now it doubles its steps and bisects (O(log width) pmfs). The structured prediction calls it for every
support point of every posterior row at every k (the mixture windows of pi), which at n = 1,000 was a third of
the prediction's time. For each k: the mean time of one call of each (compiled, 2,000 values of p in (0, 1)), their
ratio, and whether every window agreed (best of five runs each).

Run: ``PYTHONPATH=. python benchmarks/bench_windows.py``
"""

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from harness.estimators._loader_pmf import _log_binom_pmf, binomial_window


@njit(cache=True)
def walked_window(k: int, p: float, log_tail: float) -> tuple[int, int]:
    """The window as the first six sessions computed it: from the mode outwards, the log pmf carried by its ratios."""
    odds = p / (1.0 - p)
    mode = min(max(math.floor((k + 1) * p), 1), k)
    lp_mode = _log_binom_pmf(mode, k, p)
    hi, lp = mode, lp_mode
    while hi < k:
        ratio = (k - hi) / (hi + 1.0) * odds
        if ratio < 1.0 and lp + math.log(ratio) - math.log1p(-ratio) <= log_tail:
            break
        lp += math.log(ratio)
        hi += 1
    lo, lp = mode, lp_mode
    while lo > 1:
        ratio = lo / (k - lo + 1.0) / odds
        if ratio < 1.0 and lp + math.log(ratio) - math.log1p(-ratio) <= log_tail:
            break
        lp += math.log(ratio)
        lo -= 1
    return lo, hi


def main() -> None:
    ps = np.linspace(0.0005, 0.9995, 2000)
    log_tail = math.log(1e-12) - math.log(8.0 * 200)  # the prediction's tail share for ~200 support points
    print(f"{'k':>9} {'walk us':>9} {'bisect us':>10} {'ratio':>7} agree")
    for k in (64, 1_024, 10_000, 100_000, 1_000_000):
        times = []
        windows = []
        for fn in (walked_window, binomial_window):
            fn(k, 0.3, log_tail)  # compiled
            best = math.inf
            for _ in range(5):  # best of five: single runs of a few ms catch the machine's pauses
                out = []
                t0 = time.perf_counter()
                for p in ps:
                    out.append(fn(k, float(p), log_tail))
                best = min(best, time.perf_counter() - t0)
            times.append(best / len(ps) * 1e6)
            windows.append(out)
        print(f"{k:>9} {times[0]:>9.2f} {times[1]:>10.2f} {times[0] / times[1]:>6.1f}x {windows[0] == windows[1]}")


if __name__ == "__main__":
    main()
