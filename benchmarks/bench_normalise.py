"""Speed of answer grouping with the math normaliser (issue 9 section 2: 100 questions x 100 distinct answers).

Workload: Q questions, each with M distinct answers that read as mathematics (a mix of integers, decimals,
``\\frac{a}{b}``, ``a\\sqrt{b}``, ``\\frac{\\pi}{b}`` and polynomials in x, seeded), several spellings of some
values so that real merges happen. One process times:

1. before: the grouping of release 0.1 (every distinct string compared by math-verify with every earlier
   class representative: O(M^2) ``verify`` calls per question), on a few questions only (it needs minutes per
   question), scaled to Q questions;
2. after: :func:`harness.answers.group_answers` (cheap numeric fingerprints, math-verify only within a bucket).

Caches are cleared before each run. Timings on a shared 2-core machine are noisy; the ratio is what counts.
It also checks that both give the same classes on the questions timed by both.

Run (from any directory; the checkout holding this file is imported):
``python benchmarks/bench_normalise.py [--questions 100] [--answers 100] [--before-questions 2]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed harness
from harness import answers as ans


def question(rng: random.Random, m: int) -> list[str]:
    """M distinct answer strings for one question; about a fifth are other spellings of an earlier value."""
    out: list[str] = []
    while len(out) < m:
        kind = rng.randrange(6)
        a, b = rng.randint(1, 60), rng.randint(2, 40)
        if out and rng.random() < 0.2:  # another spelling of a value already there
            s = rng.choice([f"\\frac{{{2 * a}}}{{{2 * b}}}", f"{a}.0", f"\\sqrt{{{a * a}}}", f"{b}\\sqrt{{{a}}}"])
        elif kind == 0:
            s = str(rng.randint(-500, 5000))
        elif kind == 1:
            s = f"{a}.{rng.randint(1, 99)}"
        elif kind == 2:
            s = f"\\frac{{{a}}}{{{b}}}"
        elif kind == 3:
            s = f"{a}\\sqrt{{{b}}}"
        elif kind == 4:
            s = f"\\frac{{\\pi}}{{{b}}} + {a}"
        else:
            s = f"${a}x^2 + {b}x$"
        if s not in out:
            out.append(s)
    return out


def old_group(answers: Sequence[str | None]) -> list[str | None]:
    """Release 0.1's math grouping: greedy over representatives, one math-verify call per pair."""
    normed = [ans.normalize_answer(a) for a in answers]
    freq: dict[str, int] = {}
    for s in normed:
        if s is not None:
            freq[s] = freq.get(s, 0) + 1
    order = sorted(freq, key=lambda s: -freq[s])
    reps: list[str] = []
    label: dict[str, str] = {}
    for s in order:
        target = s
        for r in reps:
            if ans._mv_equal(r, s):
                target = r
                break
        if target == s:
            reps.append(s)
        label[s] = target
    return [None if s is None else label[s] for s in normed]


def clear() -> None:
    ans._mv_parse.cache_clear()
    ans._mv_equal.cache_clear()
    ans.normalize_answer.cache_clear()


def partition(labels: Sequence[str | None]) -> set[frozenset[int]]:
    groups: dict[str | None, set[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--answers", type=int, default=100)
    ap.add_argument("--before-questions", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    qs = [question(rng, args.answers) for _ in range(args.questions)]

    clear()
    t0 = time.perf_counter()
    new = [ans.group_answers(q) for q in qs]
    t_new = time.perf_counter() - t0

    merged = sum(len(q) - len(set(lab)) for q, lab in zip(qs, new, strict=True))
    print(f"workload: {len(qs)} questions x {args.answers} distinct answers (seed {args.seed})", flush=True)
    print(f"after  (fingerprint buckets): {t_new:8.2f} s  ({merged} strings merged into another class)", flush=True)

    nb = min(args.before_questions, len(qs))
    clear()
    t0 = time.perf_counter()
    old = [old_group(q) for q in qs[:nb]]
    t_old = (time.perf_counter() - t0) / nb * len(qs)

    same = sum(partition(o) == partition(n) for o, n in zip(old, new, strict=False))
    print(f"before (all pairs, {nb} questions timed, scaled to {len(qs)}): {t_old:8.1f} s")
    print(f"ratio before/after: {t_old / t_new:.0f}x; same classes on {same} of {nb} questions timed by both")


if __name__ == "__main__":
    main()
