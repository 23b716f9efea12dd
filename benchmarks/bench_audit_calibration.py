"""Size and power of the whole audit verdict on simulated published claims (issue 11).

    python benchmarks/bench_audit_calibration.py [--claims 100] [--seed 0] [--questions 30,200,500]

Each simulated claim: Q questions, p ~ Beta(0.3, 0.6), 32 attempts per question, published pass@1..32 rounded
to 0.1 points. Scenarios: i.i.d.; batch dependence (attempts in 4 batches of 8 share a batch effect, logit p +
N(0, 1.5^2) per batch); sequential refinement (attempt j = 0..31 succeeds with 1 - (1 - p)(1 - boost)^j, boost
0.05 / 0.1 / 0.2). Reporting: "pooled" = unbiased pass@k from the 32 attempts, samples_per_question = 32 stated;
"first-k" = share solved within the first k attempts, samples_per_question not stated. The verdict is
:func:`harness.audit._audit.audit_claim` (detail and power off); the table is the share called "inconsistent"
with its Monte Carlo standard error, and the shares called "passes by construction".
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit, logit

from harness.audit._audit import audit_claim
from harness.audit._calibration import claim_table
from harness.audit._claims import split_claims, validate_claims
from harness.estimators.passk import pass_at_k

FloatArray = npt.NDArray[np.float64]
N_ATTEMPTS = 32
KS = list(range(1, N_ATTEMPTS + 1))
SCENARIOS = ("iid", "batch", "refine 0.05", "refine 0.1", "refine 0.2")


def attempts(rng: np.random.Generator, q: int, scenario: str) -> npt.NDArray[np.bool_]:
    """(q, 32) success indicators of each question's attempts, in order."""
    p = rng.beta(0.3, 0.6, q)
    if scenario == "iid":
        pj = np.repeat(p[:, None], N_ATTEMPTS, axis=1)
    elif scenario == "batch":
        lp = logit(np.clip(p, 1e-9, 1 - 1e-9))
        shift = rng.normal(0.0, 1.5, (q, 4))
        pj = expit(lp[:, None] + np.repeat(shift, N_ATTEMPTS // 4, axis=1))
    else:
        boost = float(scenario.split()[1])
        j = np.arange(N_ATTEMPTS)
        pj = 1 - (1 - p[:, None]) * (1 - boost) ** j[None, :]
    return np.asarray(rng.random((q, N_ATTEMPTS)) < pj)


def published(success: npt.NDArray[np.bool_], reporting: str) -> list[float]:
    """pass@1..32 in percent, rounded to 0.1."""
    q = success.shape[0]
    if reporting == "pooled":
        vals = pass_at_k(np.full(q, N_ATTEMPTS), success.sum(axis=1), KS).mean(axis=0)
    else:
        vals = (np.cumsum(success, axis=1) > 0).mean(axis=0)
    return [round(100 * float(v), 1) for v in vals]


def verdict(q: int, vals: list[float], reporting: str) -> str:
    n = N_ATTEMPTS if reporting == "pooled" else None
    table = claim_table("sim", q, [("pass@k", k, v, n) for k, v in zip(KS, vals, strict=True)])
    table["rounding"] = 0.1
    return audit_claim(split_claims(validate_claims(table))[0], detail=False, power=False).verdict


def calibrate(n_claims: int, seed: int, questions: list[int]) -> pd.DataFrame:
    rows = []
    for q in questions:
        for scen in SCENARIOS:
            for rep in ("first-k", "pooled"):
                rng = np.random.default_rng([seed, q, SCENARIOS.index(scen), rep == "pooled"])
                got = [verdict(q, published(attempts(rng, q, scen), rep), rep) for _ in range(n_claims)]
                rej = float(np.mean([g == "inconsistent" for g in got]))
                rows.append(
                    {
                        "questions": q,
                        "scenario": scen,
                        "reporting": rep,
                        "inconsistent": rej,
                        "mc_se": float(np.sqrt(max(rej * (1 - rej), 1.0 / n_claims) / n_claims)),
                        "by_construction": float(np.mean([g == "passes by construction" for g in got])),
                        "claims": n_claims,
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--claims", type=int, default=100, help="simulated claims per cell (default 100)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--questions", default="30,200,500", help="comma-separated numbers of questions")
    args = ap.parse_args()
    t0 = time.perf_counter()
    table = calibrate(args.claims, args.seed, [int(v) for v in args.questions.split(",")])
    wide = table.pivot_table(index=["scenario", "reporting"], columns="questions", values="inconsistent", sort=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print("share called inconsistent (rows: scenario, reporting; columns: questions):")
    print(wide.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\n{args.claims} claims per cell, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
