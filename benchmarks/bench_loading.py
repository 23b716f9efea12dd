"""Benchmark: streaming reduction of a large rollouts file to counts vs a plain pandas read + groupby.

Usage::

    python benchmarks/bench_loading.py --rows 10000000 --format parquet
    python benchmarks/bench_loading.py --rows 2000000 --format jsonl

A synthetic rollouts file (model, question_id, sample_id, answer, correct, tokens; 2 models x 1,000 questions,
answers from a small set) is written to a temporary folder, then reduced twice in this one process:

1. ``harness.loaders.streaming.stream_counts`` (Arrow record batches, per-batch ``group_by``, 64-bit key
   hashes for the duplicate check; the result is a QuestionCounts),
2. the baseline: ``pandas.read_parquet`` / ``pandas.read_json(lines=True)`` of the whole file, then
   ``groupby([model, question_id, answer]).agg(size, sum)``.

Each method runs twice: once timed (no tracing), once under :class:`PeakMemory` (tracemalloc peak of the
Python/numpy heap plus the sampled peak of Arrow's memory pool, both relative to the start of the step; RSS is
useless here because freed pages stay in the process). Both results are checked to agree (n, c per model).
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class PeakMemory:
    """Peak bytes allocated while the block runs: Python/numpy heap (tracemalloc) + Arrow pool (sampled).

    tracemalloc sees every allocation made through Python's and numpy's allocators (pandas columns, Python
    objects); Arrow buffers bypass it, so ``pyarrow.total_allocated_bytes()`` is sampled every millisecond.
    The two peaks are added (an upper bound when they do not coincide).
    """

    def __enter__(self) -> PeakMemory:
        gc.collect()
        tracemalloc.start()
        tracemalloc.reset_peak()
        self._py0 = tracemalloc.get_traced_memory()[0]
        self._pa0 = pa.total_allocated_bytes()
        self.pa_peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.pa_peak = max(self.pa_peak, pa.total_allocated_bytes() - self._pa0)
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.py_peak = tracemalloc.get_traced_memory()[1] - self._py0
        tracemalloc.stop()

    @property
    def mib(self) -> float:
        return (self.py_peak + self.pa_peak) / 2**20


def write_file(path: str, rows: int, fmt: str, chunk: int = 1_000_000, seed: int = 0) -> None:
    """Write the synthetic rollouts in chunks (never all rows at once)."""
    rng = np.random.default_rng(seed)
    answers = np.array(["12", "13", "7", "1/2", "x"], dtype=object)
    n_q, per_q = 1000, max(1, rows // 2000)
    writer = None
    with open(path, "w") if fmt == "jsonl" else open(os.devnull, "w") as jfh:
        for start in range(0, rows, chunk):
            idx = np.arange(start, min(rows, start + chunk))
            model = np.where(idx % 2 == 0, "model-a", "model-b")
            q = (idx // 2) % n_q
            sample = (idx // 2) // n_q
            a = rng.integers(0, len(answers), idx.size)
            df = pd.DataFrame(
                {
                    "model": model,
                    "question_id": q,
                    "sample_id": sample,
                    "answer": answers[a],
                    "correct": a == (q % 3),
                    "tokens": rng.integers(50, 500, idx.size),
                }
            )
            if fmt == "parquet":
                tbl = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, tbl.schema)
                writer.write_table(tbl)
            else:
                jfh.write(df.to_json(orient="records", lines=True))
    if writer is not None:
        writer.close()
    del per_q


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB): one timed run without tracing, then one run under PeakMemory."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    del out
    with PeakMemory() as mem:
        out = fn()
    return out, dt, mem.mib


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows in the generated file (default 10M)")
    ap.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    ap.add_argument("--batch-rows", type=int, default=1 << 20, help="rows per streamed batch")
    args = ap.parse_args(argv)

    from harness.loaders import ColumnMap, LoadOptions
    from harness.loaders.streaming import stream_counts

    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        path = os.path.join(tmp, f"rollouts.{args.format}")
        t0 = time.perf_counter()
        write_file(path, args.rows, args.format)
        size = os.path.getsize(path) / 2**20
        print(
            f"generated {args.rows:,} rows, {args.format}, {size:.0f} MiB in {time.perf_counter() - t0:.1f} s"
        )

        loaded, t_stream, m_stream = measure(
            lambda: stream_counts(
                path,
                fmt=args.format,
                columns=ColumnMap(),
                stopping=None,
                options=LoadOptions(normalizer="plain"),
                batch_rows=args.batch_rows,
            )
        )
        counts = loaded.counts
        del loaded
        gc.collect()

        def baseline() -> pd.DataFrame:
            df = pd.read_parquet(path) if args.format == "parquet" else pd.read_json(path, lines=True)
            return (
                df.groupby(["model", "question_id", "answer"], dropna=False)
                .agg(n=("correct", "size"), c=("correct", "sum"), tokens=("tokens", "sum"))
                .reset_index()
            )

        ref, t_pandas, m_pandas = measure(baseline)
        a = (
            pd.DataFrame({"model": counts.model, "n": counts.n, "c": counts.correct})
            .groupby("model")[["n", "c"]]
            .sum()
        )
        b = ref.groupby("model")[["n", "c"]].sum()
        assert (a.to_numpy() == b.to_numpy()).all(), (a, b)
        print(f"{'method':<34}{'time (s)':>10}{'peak alloc (MiB)':>18}")
        print(f"{'harness streaming (stream_counts)':<34}{t_stream:>10.1f}{m_stream:>18.0f}")
        print(f"{'pandas read + groupby':<34}{t_pandas:>10.1f}{m_pandas:>18.0f}")
        print(
            f"questions {counts.n_questions}, samples {int(counts.n.sum()):,}; results agree (n, c per model)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
