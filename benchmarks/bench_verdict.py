"""Size and power of every order and group-axis test and of the verdict rule, by simulation.

Run: ``python benchmarks/bench_verdict.py [--reps-null 200] [--reps-alt 40] [--permutations 199]
[--settings 30x16,500x100] [--processes iid,batch]``.

Settings: 30 and 500 questions, n = 16 and 100 samples per question, p_q ~ Beta(0.4, 1.2), three wrong-answer
classes. Processes (harness.diagnostics.simulate): i.i.d. (size), batch correlation (4 batches per question,
logit shift sd 1 shared by the samples of a (question, batch)), sequential refinement (each earlier failure
shrinks the chance of failing again by 10%, a solved question repeats its solution with probability 0.9) and
drift (logit p rises by 1.5 over the run). Every simulated log has a ``group`` column, the batch (4 consecutive
blocks of n // 4 samples), so both axes are tested: the order tests (first-k curve, blocks) and the group tests
of harness.diagnostics.dependence (X^2 of class x group, Tarone's Z, permutation D(k) of pass@k and of maj@k,
the last with its sequential Besag-Clifford stop).
Prints one row per (process, questions, n): the rejection rate of each test at alpha = 0.05; the verdict's
rejection rate ("negligible", "unresolved" or "departs") for pass@k and maj@k from the order axis alone, the
group axis alone and both axes (one Holm family); the rate of "departs" with both axes; the Monte Carlo error
sqrt(r (1 - r) / reps) of the largest rate. The table in docs/methods/verdict.md is this output.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from harness.diagnostics.dependence import dependence_tests
from harness.diagnostics.order import order_tests
from harness.diagnostics.simulate import simulate_rollouts
from harness.diagnostics.verdict import REJECTS, decide, verdict_inputs
from harness.tables import rollouts_to_counts, validate_rollouts

STRENGTH = {"iid": 0.0, "batch": 1.0, "sequential": 0.1, "drift": 1.5}
SETTINGS = ((30, 16), (30, 100), (500, 16), (500, 100))


def one_run(process: str, q: int, n: int, seed: int, permutations: int) -> dict[str, float]:
    """Rejections (1/0) of each test and the verdict outcomes for one simulated log with a group column."""
    r = validate_rollouts(simulate_rollouts(process, q, n, strength=STRENGTH[process], seed=seed, group_column=True))
    order, _, _ = order_tests(r, ["sim"], permutations=permutations, bootstrap=200, seed=seed)
    counts = rollouts_to_counts(r, validated=True)
    dep, _ = dependence_tests(counts, r, bootstrap=0, seed=seed, permutations=permutations)
    out: dict[str, float] = {}
    for table in (order, dep):
        if table is None:
            continue
        for test, p in table.groupby("test", sort=False)["p_value"].first().items():
            key = "group:" + str(test) if table is dep else str(test).split("_of_")[0]
            out[key.replace("(", "[").replace(")", "]")] = float(p < 0.05)
    targets = [("sim", "pass@k"), ("sim", "maj@k")]
    for axis, inputs in (
        ("order", verdict_inputs(order, None)),
        ("group", verdict_inputs(None, dep)),
        ("both", verdict_inputs(order, dep)),
    ):
        for v in decide(inputs, targets, untested={}):
            m = v.metric.replace("@k", "")
            out[f"verdict_{axis}_{m}:rejects"] = float(v.outcome in REJECTS)
            if axis == "both":
                out[f"verdict_{axis}_{m}:departs"] = float(v.outcome == "departs")
    return out


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table (no optional dependency)."""
    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps-null", type=int, default=200)
    ap.add_argument("--reps-alt", type=int, default=40)
    ap.add_argument(
        "--large-share", type=float, default=1.0, help="fraction of the replicates run at 500 questions (time budget)"
    )
    ap.add_argument("--permutations", type=int, default=199)
    ap.add_argument("--processes", default=",".join(STRENGTH))
    ap.add_argument("--out", help="also write the table as CSV here (to merge runs made in parallel)")
    ap.add_argument("--settings", default=",".join(f"{q}x{n}" for q, n in SETTINGS), help="questions x n, e.g. 30x16")
    args = ap.parse_args(argv)
    rows = []
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        for process in args.processes.split(","):
            reps = args.reps_null if process == "iid" else args.reps_alt
            for q, n in (tuple(int(v) for v in cell.split("x")) for cell in args.settings.split(",")):
                share = args.large_share * (0.6 if n >= 100 else 1.0) if q >= 500 else 1.0
                reps_here = max(10, round(reps * share))
                t0 = time.perf_counter()
                runs = pd.DataFrame(
                    [one_run(process, q, n, 1000 * i + 17, args.permutations) for i in range(reps_here)]
                )
                rate = runs.mean()
                worst = float(rate.max())
                rows.append(
                    {
                        "process": process,
                        "questions": q,
                        "n": n,
                        "reps": reps_here,
                        **{k: round(float(v), 3) for k, v in rate.items()},
                        "mc_se_max": round(float(np.sqrt(worst * (1 - worst) / reps_here)), 3),
                        "seconds_per_rep": round((time.perf_counter() - t0) / reps_here, 2),
                    }
                )
                print(pd.DataFrame(rows[-1:]).to_string(index=False), file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    print(markdown(table))
    null = table[table["process"] == "iid"]
    if len(null):
        meta = ("process", "questions", "n", "reps", "mc_se_max", "seconds_per_rep")
        cols = [c for c in null.columns if c not in meta]
        w = null["reps"].to_numpy(np.float64)
        pooled = (null[cols].fillna(0).mul(w, axis=0).sum() / w.sum()).rename("rate")
        print(f"\npooled size under i.i.d. (all settings, {int(w.sum())} data sets, weighted by replicates):")
        print(pooled.round(3).to_string())
    print(f"\ntotal {time.perf_counter() - start:.0f} s (shared machine: read timings as rough)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
