"""Cost of the fits of the spread of p and of the predictions that read their posteriors, before and after
computing them over distinct (n, c, stopping) rows (issue 15's report table: Q questions x n = 100, answer
classes from ``bench_majority.report_table``).

Each implementation runs in its own child process (the package name is the same, so the old code cannot be
imported next to the new one): ``--old`` is a checkout with the former code (default /work/main), ``--new`` this
checkout. Per stage: CPU time of the child (``time.process_time``; other jobs on a shared machine inflate it far
less than wall time, but compare ratios from the same run, not absolute seconds) and the peak of memory traced by
``tracemalloc`` during the stage (numpy buffers included), plus the child's peak resident memory.

Stages: ``fit_spread`` (all four fits with goodness of fit); ``predict`` (pass@k and binary maj@k at 15 k up to
100 n, posterior quantiles, plateaus, for every fit); ``structured`` (the structured maj@k predictions of
``prediction_rows`` for every fit with the exact kernel ``maj_at_k_many`` replaced by a stub that records how many
rows it was given: everything except the kernel itself, and the kernel's workload; ``structured_curves_only``: the
same with ``matrices=False``, which keeps no (Q, K) matrix). ``--kernel`` also times the
real kernel on the structured rows at the measured k (k <= n) for both implementations.

Run: ``python benchmarks/bench_fits.py [--questions 10000,100000] [--old /work/main] [--kernel]``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def child(q: int, seed: int, kernel: bool) -> dict[str, Any]:
    """Measure the implementation importable as ``harness`` (run in a child with PYTHONPATH set)."""
    import resource

    import harness.models.predict as pred
    from harness.curves import default_ks
    from harness.models.spread import fit_spread
    from harness.tables import QuestionCounts

    sys.path.insert(0, str(HERE))
    from bench_majority import report_table

    correct, wrong = report_table(q, 100, seed)
    counts = QuestionCounts.from_classes(correct, wrong)
    ks = np.unique(np.append(default_ks(100 * 100), 100))
    out: dict[str, Any] = {"harness": str(Path(pred.__file__).parents[2]), "questions": q}
    tracemalloc.start()

    def stage(name: str, fn: Any) -> Any:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        t0 = time.process_time()
        res = fn()
        out[f"{name}_s"] = time.process_time() - t0
        out[f"{name}_peak_mb"] = (tracemalloc.get_traced_memory()[1] - base) / 1e6
        return res

    fits = stage("fit_spread", lambda: fit_spread(counts))
    out["posterior_mb"] = sum(f.posterior.nbytes for f in fits) / 1e6

    def predictions() -> None:
        for f in fits:
            pred.predict_pass(f, ks).mean(axis=0)
            pred.predict_maj_binary(f, ks).mean(axis=0)
            pred.posterior_quantiles(f, (1 / 6, 1 / 2, 5 / 6))
        pred.plateau_rows("m", fits, counts)

    stage("predict", predictions)

    rows_seen: list[int] = []
    real_kernel = pred.maj_at_k_many

    def stub(correct: Any, wrong: Any, abstain: Any, k: Any, **kw: Any) -> np.ndarray:
        rows_seen.append(len(correct))
        return np.zeros((len(correct), len(np.atleast_1d(k))))

    pred.maj_at_k_many = stub  # type: ignore[assignment]
    stage("structured", lambda: pred.prediction_rows("m", fits, counts, ks))
    out["kernel_calls"] = len(rows_seen)
    out["kernel_rows"] = int(sum(rows_seen))
    if "matrices" in inspect.signature(pred.prediction_rows).parameters:  # the curves only, as analysis uses them
        stage("structured_curves_only", lambda: pred.prediction_rows("m", fits, counts, ks, matrices=False))
    if kernel:
        pred.maj_at_k_many = real_kernel
        k_meas = default_ks(100)
        stage("kernel_k_le_n", lambda: [pred.predict_maj_structured(f, counts, k_meas) for f in fits])
        if hasattr(pred, "predict_maj_structured_many"):
            stage("kernel_k_le_n_shared", lambda: pred.predict_maj_structured_many(fits, counts, k_meas))
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(src: str, q: int, seed: int, kernel: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(q), "--seed", str(seed)]
    if kernel:
        cmd.append("--kernel")
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"child failed ({src}, Q = {q}):\n{res.stderr[-3000:]}")
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--questions", default="10000,100000")
    ap.add_argument("--old", default="/work/main", help="checkout with the former code ('' to skip)")
    ap.add_argument("--new", default=str(HERE.parent))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kernel", action="store_true", help="also time the real maj@k kernel at k <= n")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.seed, args.kernel)))
        return
    for q in (int(v) for v in args.questions.split(",")):
        results = {"new": run(args.new, q, args.seed, args.kernel)}
        if args.old:
            results["old"] = run(args.old, q, args.seed, args.kernel)
        print(f"\n## {q:,} questions x n = 100 (CPU s of one process; tracemalloc peak MB per stage)")
        keys = [k for k in results["new"] if k.endswith(("_s", "_mb")) or k.startswith("kernel_")]
        print("| quantity | " + " | ".join(results) + (" | old / new |" if "old" in results else " |"))
        print("|---|" + "---:|" * (len(results) + ("old" in results)))
        for k in keys:
            vals = [results[name].get(k, float("nan")) for name in results]
            cells = [f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" for v in vals]
            ratio = ""
            if "old" in results and isinstance(vals[0], (int, float)) and vals[0] and k in results["old"]:
                ratio = f" | {results['old'][k] / vals[0]:,.1f}"
            elif "old" in results:
                ratio = " | "
            print(f"| {k} | " + " | ".join(cells) + ratio + " |")


if __name__ == "__main__":
    main()
