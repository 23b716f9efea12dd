"""Calibration of the audit on simulated claims: size under i.i.d. sampling, power against refinement.

    python -m harness.audit._calibration [--null 150] [--power 40] [--fits 60]

Prints the share of i.i.d. claims the distribution-free check rejects (should be <= 5%), the share of
sequential-refinement claims it rejects (power), and the share of beta-family GLS fits rejected at 5% when the
truth is a beta member (the chi-square reference is approximate). The numbers in docs/methods/audit.md.
"""

from __future__ import annotations

import argparse

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.estimators.passk import pass_at_k

FloatArray = npt.NDArray[np.float64]


def claim_table(cid: str, q: int, pts: list[tuple[str, int, float, int | None]]) -> pd.DataFrame:
    """A claims table from (metric, k, value %, samples per question or None) tuples."""
    return pd.DataFrame(
        [
            {
                "claim_id": cid,
                "metric": m,
                "k": k,
                "value": v,
                "n_questions": q,
                "samples_per_question": "" if n is None else n,
            }
            for m, k, v, n in pts
        ]
    )


def simulate_iid_passk(rng: np.random.Generator, q: int, ks: list[int], n: int) -> list[float]:
    """Unbiased pass@k (%) of q questions with p ~ 0.15 delta_0 + 0.85 Beta(0.4, 1.2), n samples each."""
    p = np.where(rng.random(q) < 0.15, 0.0, rng.beta(0.4, 1.2, q))
    c = rng.binomial(n, p)
    return [100 * float(v) for v in pass_at_k(np.full(q, n), c, ks).mean(axis=0)]


def simulate_refinement_passk(rng: np.random.Generator, q: int, ks: list[int], boost: float) -> list[float]:
    """Sequential refinement: attempt j succeeds with 1 - (1 - p0)(1 - boost)^j (feedback from failures);
    pass@k = share of questions solved within their first k attempts (one run)."""
    p0 = rng.beta(0.5, 3.0, q)
    kmax = max(ks)
    j = np.arange(kmax)
    pj = 1 - (1 - p0[:, None]) * (1 - boost) ** j[None, :]
    solved = np.cumsum(rng.random((q, kmax)) < pj, axis=1) > 0
    return [100 * float(solved[:, k - 1].mean()) for k in ks]


def calibrate(n_null: int = 150, n_power: int = 40, n_fits: int = 60, seed: int = 0) -> pd.DataFrame:
    from harness.audit._audit import audit_claim
    from harness.audit._claims import split_claims, validate_claims
    from harness.audit._fit import fit_family

    rows = []
    ks = [1, 2, 4, 8, 16, 32]
    rej = 0
    for s in range(n_null):
        rng = np.random.default_rng(seed + 1000 + s)
        vals = simulate_iid_passk(rng, 60, ks, 32)
        c = split_claims(
            validate_claims(claim_table("x", 60, [("pass@k", k, v, 32) for k, v in zip(ks, vals, strict=True)]))
        )
        rej += audit_claim(c[0], detail=False).verdict == "inconsistent"
    rows.append(("LP check, i.i.d. claims (Q=60, pass@1..32 from 32 samples)", "rejection rate", rej / n_null))
    for boost in (0.05, 0.1, 0.2):
        rej = 0
        for s in range(n_power):
            rng = np.random.default_rng(seed + 2000 + s)
            vals = simulate_refinement_passk(rng, 100, [1, 2, 4, 8], boost)
            tab = claim_table("x", 100, [("pass@k", k, v, None) for k, v in zip([1, 2, 4, 8], vals, strict=True)])
            rej += audit_claim(split_claims(validate_claims(tab))[0], detail=False).verdict == "inconsistent"
        rows.append((f"LP check, refinement boost {boost} (Q=100, pass@1..8, one run)", "power", rej / n_power))
    pv = []
    for s in range(n_fits):
        rng = np.random.default_rng(seed + 3000 + s)
        p = rng.beta(0.4, 0.8, 60)
        cnt = rng.binomial(32, p)
        vals = 100 * pass_at_k(np.full(60, 32), cnt, ks).mean(axis=0)
        tab = claim_table("x", 60, [("pass@k", k, float(v), 32) for k, v in zip(ks, vals, strict=True)])
        pv.append(fit_family(split_claims(validate_claims(tab))[0].points, 60.0, "beta", "none", seed=s).p_value)
    pva = np.array(pv)
    rows.append(("beta GLS fit, true beta member (Q=60, pass@1..32)", "share p < 0.05", float((pva < 0.05).mean())))
    rows.append(("beta GLS fit, true beta member (Q=60, pass@1..32)", "share p < 0.01", float((pva < 0.01).mean())))
    return pd.DataFrame(rows, columns=["experiment", "quantity", "value"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--null", type=int, default=150)
    ap.add_argument("--power", type=int, default=40)
    ap.add_argument("--fits", type=int, default=60)
    args = ap.parse_args()
    print(calibrate(args.null, args.power, args.fits).to_string(index=False))


if __name__ == "__main__":
    main()
