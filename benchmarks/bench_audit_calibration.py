"""Size and power of the whole audit verdict on simulated published claims (issue 11).

    python benchmarks/bench_audit_calibration.py [--claims 200] [--seed 0] [--questions 30,200,500]
        [--families pass,maj] [--csv out.csv]

Each simulated claim: Q questions, p ~ Beta(0.3, 0.6), 32 attempts per question. Scenarios: i.i.d.; batch
dependence (attempts in 4 batches of 8 share a batch effect, logit p + N(0, 1.5^2) per batch); sequential
refinement (attempt j = 0..31 is correct with 1 - (1 - p)(1 - boost)^j, boost 0.05 / 0.1 / 0.2). A wrong attempt
gives the question's dominant wrong answer with probability phi ~ Uniform(0, 1) (drawn per question), else an
answer that never repeats (the vote model of harness.audit._kernels, no unparsed samples).

Families of published numbers: "pass" = pass@1..32 rounded to 0.1 points; "maj" = maj@1, 2, 4, 8, 16, 32
(majority vote, ties split evenly) rounded to 0.1 points. Reporting: "pooled" = the symmetric estimators from the
32 attempts (unbiased pass@k; the maj@k U-statistic over k-subsets), samples_per_question = 32 stated;
"first-k" = from the first k attempts (solved within k; majority of the first k), samples_per_question not
stated. The verdict is :func:`harness.audit._audit.audit_claim` (detail and power off; for maj@k cells its
one-pool decision replayed by ``vote_rejects_many``, identical and 10-40x cheaper, with each cell's first 3
claims checked against the full verdict; ``--exact`` for the full verdict throughout); each printed row is one
cell: the share called "inconsistent" with its Monte Carlo standard error, and the share called "passes by
construction". Rows are printed (and appended to --csv) as each cell finishes, so a long run can be read while it
goes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit, logit

from harness.audit._audit import audit_claim
from harness.audit._calibration import claim_table
from harness.audit._claims import split_claims, validate_claims
from harness.audit._vote_power import claim_template, pooled_maj_table, vote_rejects_many
from harness.estimators.passk import pass_at_k

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
N_ATTEMPTS = 32
KS = {"pass": list(range(1, N_ATTEMPTS + 1)), "maj": [1, 2, 4, 8, 16, 32]}
SCENARIOS = ("iid", "batch", "refine 0.05", "refine 0.1", "refine 0.2")


def attempts(rng: np.random.Generator, q: int, scenario: str) -> IntArray:
    """(q, 32) answer class of each question's attempts, in order: 0 correct, 1 the dominant wrong answer, 2 an
    answer that never repeats."""
    p = rng.beta(0.3, 0.6, q)
    phi = rng.random(q)
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
    u = rng.random((q, N_ATTEMPTS))
    # given a wrong attempt, u is uniform on [pj, 1): the dominant wrong answer with probability phi
    return np.asarray(np.where(u < pj, 0, np.where(u < pj + phi[:, None] * (1 - pj), 1, 2)), dtype=np.int64)


def _first_k_majority(cls: IntArray, k: int) -> float:
    x = (cls[:, :k] == 0).sum(axis=1)
    y = (cls[:, :k] == 1).sum(axis=1)
    credit = np.where(x >= 2, (x > y) + 0.5 * (x == y), np.where((x == 1) & (y <= 1), 1.0 / k, 0.0))
    return float(credit.mean())


def published(cls: IntArray, family: str, reporting: str) -> list[float]:
    """The family's numbers in percent, rounded to 0.1."""
    q = cls.shape[0]
    correct = cls == 0
    if family == "pass" and reporting == "pooled":
        vals = pass_at_k(np.full(q, N_ATTEMPTS), correct.sum(axis=1), KS["pass"]).mean(axis=0)
    elif family == "pass":
        vals = (np.cumsum(correct, axis=1) > 0).mean(axis=0)
    elif reporting == "pooled":
        c, d = correct.sum(axis=1), (cls == 1).sum(axis=1)
        vals = np.array([pooled_maj_table(k, N_ATTEMPTS)[c, d].mean() for k in KS["maj"]])
    else:
        vals = np.array([_first_k_majority(cls, k) for k in KS["maj"]])
    return [round(100 * float(v), 1) for v in vals]


def verdict(q: int, vals: list[float], family: str, reporting: str) -> str:
    n = N_ATTEMPTS if reporting == "pooled" else None
    metric = "pass@k" if family == "pass" else "maj@k"
    table = claim_table("sim", q, [(metric, k, v, n) for k, v in zip(KS[family], vals, strict=True)])
    table["rounding"] = 0.1
    return audit_claim(split_claims(validate_claims(table))[0], detail=False, power=False).verdict


def fast_verdicts(q: int, claims: list[list[float]], reporting: str) -> list[str]:
    """The verdicts of maj@k claims from the replayed one-pool decision (``_vote_power.vote_rejects_many``, the
    same decisions as ``run_tests``, tested in tests/test_audit_votes.py): 'inconsistent' when it rejects, else
    'passes by construction' when every point is a pooled estimator and 'consistent' otherwise (6 points against
    3 parameters, so never 'not testable'; a numerically failed LP counts as no rejection, as in the verdict)."""
    n = N_ATTEMPTS if reporting == "pooled" else None
    table = claim_table("sim", q, [("maj@k", k, 50.0, n) for k in KS["maj"]])
    table["rounding"] = 0.1
    pts = split_claims(validate_claims(table))[0].points
    rej = vote_rejects_many(np.asarray(claims) / 100.0, claim_template(pts), float(q))
    # maj@32 of the 32 attempts is the whole pool's majority, not a U-statistic over a larger pool: not pooled
    other = "passes by construction" if bool(pts["pooled"].astype(bool).all()) else "consistent"
    return ["inconsistent" if r else other for r in rej]


def cell(n_claims: int, seed: int, q: int, family: str, scen: str, rep: str, exact: bool = False) -> dict[str, object]:
    """One cell of the table (seeded by its coordinates, so cells can be run separately). maj@k cells use the
    replayed decision unless ``exact``; their first 3 claims are checked against the full verdict."""
    code = SCENARIOS.index(scen) if scen in SCENARIOS else 100 + round(1000 * float(scen.split()[1]))
    rng = np.random.default_rng([seed, q, code, rep == "pooled", family == "maj"])
    t0 = time.process_time()
    claims = [published(attempts(rng, q, scen), family, rep) for _ in range(n_claims)]
    if family == "maj" and not exact:
        got = fast_verdicts(q, claims, rep)
        full = [verdict(q, v, family, rep) for v in claims[:3]]
        if full != got[:3]:
            raise AssertionError(f"replayed decision differs from the verdict: {got[:3]} vs {full}")
    else:
        got = [verdict(q, v, family, rep) for v in claims]
    rej = float(np.mean([g == "inconsistent" for g in got]))
    return {
        "family": family,
        "questions": q,
        "scenario": scen,
        "reporting": rep,
        "inconsistent": rej,
        "mc_se": float(np.sqrt(rej * (1 - rej) / n_claims)),
        "upper95_if_zero": 1 - 0.05 ** (1 / n_claims) if rej == 0 else float("nan"),
        "by_construction": float(np.mean([g == "passes by construction" for g in got])),
        "claims": n_claims,
        "cpu_s": time.process_time() - t0,
    }


def calibrate(
    n_claims: int,
    seed: int,
    questions: list[int],
    families: list[str],
    csv: str | None = None,
    exact: bool = False,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> pd.DataFrame:
    rows = []
    for family in families:
        for q in questions:
            for scen in scenarios:
                for rep in ("first-k", "pooled"):
                    row = cell(n_claims, seed, q, family, scen, rep, exact)
                    rows.append(row)
                    line = pd.DataFrame([row])
                    print(line.to_string(index=False, header=len(rows) == 1, float_format=lambda v: f"{v:.3f}"))
                    sys.stdout.flush()
                    if csv:
                        line.to_csv(csv, mode="a", index=False, header=not os.path.exists(csv))
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--claims", type=int, default=200, help="simulated claims per cell (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--questions", default="30,200,500", help="comma-separated numbers of questions")
    ap.add_argument("--families", default="pass,maj", help="pass (pass@1..32), maj (maj@1..32) or both")
    ap.add_argument("--csv", default=None, help="append each finished cell to this CSV file")
    ap.add_argument("--exact", action="store_true", help="maj@k cells through the full verdict (slow)")
    ap.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated: iid, batch, refine B (any boost B)"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    fams = [f.strip() for f in args.families.split(",")]
    qs = [int(v) for v in args.questions.split(",")]
    scen = tuple(v.strip() for v in args.scenarios.split(","))
    table = calibrate(args.claims, args.seed, qs, fams, args.csv, args.exact, scen)
    wide = table.pivot_table(
        index=["family", "scenario", "reporting"], columns="questions", values="inconsistent", sort=False
    )
    print()
    print("share called inconsistent (rows: family, scenario, reporting; columns: questions):")
    print(wide.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\n{args.claims} claims per cell, {time.perf_counter() - t0:.0f} s wall, {time.process_time():.0f} s CPU")


if __name__ == "__main__":
    main()
