"""The structured prediction's credit routes against the ones they replace, on the same inputs, same process.

For the wrong-class profiles of the report benchmark's questions (``bench_majority.report_table``, n = 100) and
each k, the band where H(x) = P(credit | x correct of k) is neither negligible nor negligibly below 1 at weight 1
(the bisection of ``_structured_kernel``), and the classes kept there. Then per route:

* one class left: the O(1)-per-x recurrence (``_one_wrong_class``) against the binomial tail summed anew at each x
  (the previous code, ``_tail_each_x`` below);
* two or more: the top class exactly and the others to first or second order (``_top_and_pairs``), where it accepts the
  whole band, against the sweep (``credit_sweep``) on the same band.

Prints per (k, route, J) the profiles, the share accepted, the time per x of each and their ratio (second of two
runs, compiled), and the largest difference between the two answers.

Run: ``PYTHONPATH=. python benchmarks/bench_credit_routes.py [--questions 2000]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_majority import report_table

from harness.estimators._screen_kernel import _binom_split
from harness.estimators._sweep_kernel import credit_sweep, sweep_states
from harness.models._structured_kernel import _first, _keep, _one_wrong_class, _top_and_pairs

EPS = 1e-12


@njit(cache=True)
def _tail_each_x(q: float, k: int, x0: int, h: np.ndarray) -> None:
    """The previous one-class route: P(Bin(k - x, q) < x) + P(= x) / 2 from a fresh tail sum at each x."""
    for i in range(h.shape[0]):
        x = x0 + i
        m = k - x
        if q >= 1.0:  # every other draw votes for the wrong class
            h[i] = 1.0 if m < x else (0.5 if m == x else 0.0)
        else:
            below, _, at = _binom_split(x, m, q)
            h[i] = min(below + 0.5 * at, 1.0)


def _timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    fn(*args)
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    _, wrong = report_table(args.questions, 100, 0)
    profiles = {tuple(sorted(w, reverse=True)) for w in wrong if len(w) > 0}
    print(f"{len(profiles)} wrong-class profiles from {args.questions} questions (n = 100, all answered)")
    print(f"{'k':>6} {'route':<6} {'J':>2} {'profiles':>8} {'accepted':>8} {'x':>8} {'new us/x':>9} {'old us/x':>9} "
          f"{'old/new':>7} {'max diff':>9}")
    for k in (128, 1024, 10_000):
        acc: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0.0, 0.0])
        for prof in sorted(profiles):
            w = np.array(prof, np.int64)
            nonc = int(w.sum())
            log_skip = math.log(EPS / (4.0 * k))
            x0 = _first(1, k, k, w, nonc, log_skip, True)
            x1 = _first(x0, k, k, w, nonc, log_skip, False)
            if x1 <= x0:
                continue
            kept, pooled = _keep(w, nonc, k, x0, log_skip - math.log(len(w) + 2.0))
            new, old, lw = np.ones(x1 - x0), np.ones(x1 - x0), np.zeros(x1 - x0)
            route = "one" if len(kept) == 1 else "pairs"
            row = acc[(route, min(len(kept), 5))]
            row[0] += 1
            if route == "one":
                t_new = _timed(_one_wrong_class, kept[0] / nonc, k, 0, x0, new)
                t_old = _timed(_tail_each_x, kept[0] / nonc, k, x0, old)
            else:
                a, b = _top_and_pairs(kept, nonc, k, 0, x0, lw, log_skip, new)
                if a < b or sweep_states(kept) > 256:  # timed only where it takes the whole band
                    continue
                t_new = _timed(_top_and_pairs, kept, nonc, k, 0, x0, lw, log_skip, new)
                t_old = _timed(credit_sweep, kept, pooled, k, 0, math.log(EPS), x0, lw, old)
            row[1] += 1
            row[2] += x1 - x0
            row[3] += t_new
            row[4] += t_old
            row[5] = max(row[5], float(np.abs(new - old).max()))
        for (route, j), (n_prof, n_acc, xs, t_new, t_old, diff) in sorted(acc.items()):
            j_label = f"{j}+" if j == 5 else str(j)
            if n_acc == 0:
                print(f"{k:>6} {route:<6} {j_label:>2} {n_prof:>8} {0:>8}")
                continue
            print(f"{k:>6} {route:<6} {j_label:>2} {n_prof:>8} {n_acc:>8} {xs:>8} {1e6 * t_new / xs:>9.3f} "
                  f"{1e6 * t_old / xs:>9.3f} {t_old / t_new:>7.1f} {diff:>9.1e}")


if __name__ == "__main__":
    main()
