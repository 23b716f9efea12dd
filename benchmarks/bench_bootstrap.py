"""Benchmark: the bootstrap over questions, dense multinomial weights (before) against harness._bootstrap.Resampler.

Usage::

    python benchmarks/bench_bootstrap.py call [--questions 100000 --replicates 1000 --columns 17]
    python benchmarks/bench_bootstrap.py report TABLE --base OLD_CHECKOUT [--runs 2]
    python benchmarks/bench_bootstrap.py share TABLE --base OLD_CHECKOUT

``call``: one bootstrap use in one process, each method twice in alternating order: the code before this change
(``rng.multinomial(Q, 1/Q, size=B) / Q`` then ``weights @ values``, a dense (B, Q) float64 matrix) and
``Resampler(seed, Q, B).means(values)``; also ``means`` of one column and ``means_many`` of six (Q, 17) matrices
(what one model's curves ask). CPU seconds of the process, wall seconds, and the peak of numpy's allocations during
the call (tracemalloc; numpy reports its buffers to it).

``report``: the whole ``harness report TABLE --out DIR`` (default options) as a child process, once with the
checkout under test and once with ``--base`` (a copy of the package before the change, e.g. ``git archive BASE
harness | tar -x -C DIR``) on ``PYTHONPATH``, alternating; wall seconds, child CPU seconds and the child's peak
resident memory (``wait4``). Write TABLE with ``bench_majority.py --write-table PATH --report-questions N``.

``share``: the same report in one child per checkout with the bootstrap's drawing function timed (after:
``Resampler.means_many``, draws and products; before: ``resample_weights``, the draws only, its dense products not
counted): number of calls, process CPU seconds inside it, and the whole report's CPU seconds.

Timings on a shared machine are noisy: compare the ratios within one run, and read the load average printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not an installed harness


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(CPU s, wall s, peak MiB of traced allocations) of one call."""
    tracemalloc.start()
    c0, t0 = cpu(), time.perf_counter()
    fn()
    c1, t1 = cpu(), time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return c1 - c0, t1 - t0, peak


def old_means(values: npt.NDArray[np.float64], replicates: int, seed: int) -> npt.NDArray[np.float64]:
    """The code before the change (harness._bootstrap.resample_weights, then a dense product)."""
    q = values.shape[0]
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(q, np.full(q, 1.0 / q), size=replicates) / q
    return np.asarray(weights @ values, np.float64)


def part_call(args: argparse.Namespace) -> None:
    from harness._bootstrap import Resampler

    q, b, k = args.questions, args.replicates, args.columns
    values = np.random.default_rng(0).random((q, k))
    six = [np.random.default_rng(s).random((q, k)) for s in range(6)]
    Resampler(0, 50, 8).means(values[:50])  # compile the kernel outside the timings
    steps: dict[str, Callable[[], object]] = {
        "before: multinomial weights @ values": lambda: old_means(values, b, 1),
        "Resampler.means": lambda: Resampler(1, q, b).means(values),
        "Resampler.means, one column": lambda: Resampler(1, q, b).means(values[:, 0]),
        "Resampler.means_many, six matrices": lambda: Resampler(1, q, b).means_many(six),
    }
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in steps}
    for order in (list(steps), list(reversed(steps))):
        for name in order:
            runs[name].append(measure(steps[name]))
    print(f"Q = {q:,}, B = {b:,}, K = {k}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| method | CPU s (2 runs) | wall s (2 runs) | peak MiB | CPU vs before |")
    print("|---|---|---|---|---|")
    base = min(c for c, _, _ in runs["before: multinomial weights @ values"])
    for name, rs in runs.items():
        cpus = ", ".join(f"{c:.2f}" for c, _, _ in rs)
        walls = ", ".join(f"{w:.2f}" for _, w, _ in rs)
        ratio = min(c for c, _, _ in rs) / base
        print(f"| {name} | {cpus} | {walls} | {max(p for _, _, p in rs):.0f} | {ratio:.3f} |")


def run_report(table: str, pythonpath: str, out: str) -> tuple[float, float, float]:
    """(wall s, CPU s, peak resident MiB) of one ``harness report`` child process."""
    code = "import sys; from harness.cli import main; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": pythonpath}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "report", table, "--out", out],
        env=env,
        cwd=pythonpath,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"report with PYTHONPATH={pythonpath} failed ({status}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def part_report(args: argparse.Namespace) -> None:
    sides = {"before": str(Path(args.base).resolve()), "after": str(ROOT)}
    runs: dict[str, list[tuple[float, float, float]]] = {s: [] for s in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for side in (("before", "after") if i % 2 == 0 else ("after", "before")):
                runs[side].append(run_report(args.table, sides[side], os.path.join(tmp, f"{side}{i}")))
                print(f"{side} run {i}: {runs[side][-1]}; load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    print(f"harness report {args.table}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| code | wall s | CPU s | peak RSS MiB |")
    print("|---|---|---|---|")
    for side, rs in runs.items():
        walls = ", ".join(f"{w:.1f}" for w, _, _ in rs)
        cpus = ", ".join(f"{c:.1f}" for _, c, _ in rs)
        print(f"| {side} | {walls} | {cpus} | {max(m for _, _, m in rs):.0f} |")
    ratio = min(c for _, c, _ in runs["after"]) / min(c for _, c, _ in runs["before"])
    print(f"CPU after / before: {ratio:.3f}")


SHARE_CODE = """
import json, sys, time
import harness._bootstrap as b
stats = {"draws": 0, "cpu_s": 0.0}
name = "Resampler.means_many" if hasattr(b, "Resampler") else "resample_weights"
def timed(fn):
    def inner(*a, **k):
        t = time.process_time()
        out = fn(*a, **k)
        stats["draws"] += 1
        stats["cpu_s"] += time.process_time() - t
        return out
    return inner
if hasattr(b, "Resampler"):
    b.Resampler.means_many = timed(b.Resampler.means_many)
else:
    b.resample_weights = timed(b.resample_weights)  # before the modules that import it by name
from harness.cli import main
t0 = time.process_time()
try:
    main()
finally:
    print(json.dumps({"function": name, **stats, "total_cpu_s": time.process_time() - t0}), file=sys.stderr)
"""


def part_share(args: argparse.Namespace) -> None:
    """CPU inside the bootstrap against the whole report, in-process (one child per checkout)."""
    sides = {"before": str(Path(args.base).resolve()), "after": str(ROOT)}
    print(f"harness report {args.table}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| code | timed function | calls | CPU s in it | report CPU s | share |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for side, path in sides.items():
            proc = subprocess.run(
                [sys.executable, "-c", SHARE_CODE, "report", args.table, "--out", os.path.join(tmp, side)],
                env={**os.environ, "PYTHONPATH": path},
                cwd=path,
                capture_output=True,
                text=True,
                check=True,
            )
            st = json.loads(proc.stderr.strip().splitlines()[-1])
            share = st["cpu_s"] / st["total_cpu_s"]
            print(
                f"| {side} | {st['function']} | {st['draws']} | {st['cpu_s']:.1f} | {st['total_cpu_s']:.1f} | "
                f"{share:.1%} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="part", required=True)
    c = sub.add_parser("call")
    c.add_argument("--questions", type=int, default=100_000)
    c.add_argument("--replicates", type=int, default=1000)
    c.add_argument("--columns", type=int, default=17)
    r = sub.add_parser("report")
    r.add_argument("table")
    r.add_argument("--base", required=True, help="folder holding the package before the change (harness/)")
    r.add_argument("--runs", type=int, default=2)
    sh = sub.add_parser("share")
    sh.add_argument("table")
    sh.add_argument("--base", required=True, help="folder holding the package before the change (harness/)")
    args = ap.parse_args()
    {"call": part_call, "report": part_report, "share": part_share}[args.part](args)


if __name__ == "__main__":
    main()
