"""Benchmark: the cost of the duplicate-sample check against the class query itself (same process, same run).

Usage::

    python benchmarks/bench_duplicates.py PARQUET_FOLDER_OR_GLOB [JSONL ...]

For each input, in one DuckDB connection (512 MB limit, spilling): the class query (the reduction), the key
group-by over every (model, question, sample id) (the check before issue 12's second session,
:func:`harness.engines.sql.duplicate_sql`) and the bucketed bitmap check that replaced it
(:func:`harness.engines.core.find_duplicate`), each twice in alternating order; CPU seconds of the process (DuckDB's
threads included) and wall seconds. Use the files written by ``bench_reduce.py --keep``.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    c0, t0 = cpu(), time.perf_counter()
    fn()
    return cpu() - c0, time.perf_counter() - t0


def bench_one(item: str) -> None:
    """Print the table rows of one input."""
    from harness.engines.core import find_duplicate
    from harness.engines.duck import DuckRunner
    from harness.engines.sources import expand_inputs, resolve_spec
    from harness.engines.sql import duplicate_sql
    from harness.loaders import ColumnMap

    runner = DuckRunner(expand_inputs([item]))
    spec, _ = resolve_spec(runner.describe(), ColumnMap(), source=item)
    runner.prepare(spec)
    out: dict[str, list[tuple[float, float]]] = {"class query": [], "key group-by": [], "bitmap check": []}
    raw = runner.classes(spec)
    steps: dict[str, Callable[[], object]] = {
        "class query": lambda: runner.classes(spec),
        "key group-by": lambda: runner.first(duplicate_sql(spec)),
        "bitmap check": lambda: find_duplicate(raw, runner, spec),
    }
    for order in (("class query", "key group-by", "bitmap check"), ("bitmap check", "key group-by", "class query")):
        for name in order:
            out[name].append(measure(steps[name]))
    assert runner.first(duplicate_sql(spec)) is None and find_duplicate(raw, runner, spec) is None
    rows = int(raw["size"].sum())
    runner.close()
    base = sum(c for c, _ in out["class query"])
    for name, runs in out.items():
        cpus = ", ".join(f"{c:.2f}" for c, _ in runs)
        walls = ", ".join(f"{w:.2f}" for _, w in runs)
        print(f"| {item} | {rows:,} | {name} | {cpus} | {walls} | {sum(c for c, _ in runs) / base:.2f} |", flush=True)


def main() -> None:
    print("| input | rows | step | CPU s (run 1, run 2) | wall s (run 1, run 2) | CPU vs class query |")
    print("|---|---|---|---|---|---|")
    for item in sys.argv[1:]:
        bench_one(item)


if __name__ == "__main__":
    main()
