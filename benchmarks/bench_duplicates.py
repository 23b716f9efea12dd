"""Benchmark: the cost of the duplicate-sample check against the class query itself (same process, same run).

Usage::

    python benchmarks/bench_duplicates.py PARQUET_FOLDER_OR_GLOB [JSONL ...]

For each input, in one DuckDB connection (the reduction's default memory limit, spilling): the class query alone
(the reduction), the class query with the bitmap check folded into its scan (a second grouping set, the default
since issue 12's third session), the bitmap check as a second query (:func:`harness.engines.core.find_duplicate`
without the folded buckets: the second session's default) and the key group-by over every (model, question,
sample id) (:func:`harness.engines.sql.duplicate_sql`, the check before that), each twice in alternating order;
CPU seconds of the process (DuckDB's threads included) and wall seconds. Use the files written by
``bench_reduce.py --keep``.
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
    from dataclasses import replace

    from harness.engines.core import find_duplicate, split_buckets
    from harness.engines.duck import DuckRunner
    from harness.engines.finish import ClassRows
    from harness.engines.sources import expand_inputs, resolve_spec
    from harness.engines.sql import duplicate_sql
    from harness.loaders import ColumnMap

    runner = DuckRunner(expand_inputs([item]))
    spec, _ = resolve_spec(runner.describe(), ColumnMap(), source=item)
    spec = replace(spec, typed=runner.typed(spec))
    runner.prepare(spec)
    names = ("class query", "class query + folded check", "bitmap check (2nd query)", "key group-by")
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    raw = ClassRows.from_engine(runner.classes(spec))
    steps: dict[str, Callable[[], object]] = {
        "class query": lambda: runner.classes(spec),
        "class query + folded check": lambda: split_buckets(runner.classes(spec, duplicates=True)),
        "bitmap check (2nd query)": lambda: find_duplicate(raw, runner, spec),
        "key group-by": lambda: runner.first(duplicate_sql(spec)),
    }
    for order in (names, names[::-1]):
        for name in order:
            out[name].append(measure(steps[name]))
    table, buckets = split_buckets(runner.classes(spec, duplicates=True))
    assert runner.first(duplicate_sql(spec)) is None and find_duplicate(raw, runner, spec) is None
    assert buckets == [] and find_duplicate(table, runner, spec, buckets=buckets) is None
    rows = int(raw.size.sum())
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
