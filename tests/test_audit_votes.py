"""Issue 11, majority vote: the power of 'consistent' vote verdicts against sequential refinement.

Reference values: the maj@k kernel of harness.audit._kernels (ties split evenly; checked against the Condorcet
closed forms in tests/test_audit.py) and its closed form under a Beta spread (beta_expect); the multinomial law
of (correct, dominant wrong, never-repeating) answers among n i.i.d. samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multinomial

import harness.audit as audit
from harness.audit._audit import audit_claim
from harness.audit._calibration import claim_table
from harness.audit._claims import load_claims, split_claims, validate_claims
from harness.audit._kernels import beta_expect, kernel
from harness.audit._vote_power import (
    Template,
    claim_template,
    expected_refinement,
    pooled_maj_table,
    refinement_distance,
    simulate_votes_first_k,
    template_points,
    vote_rejects_many,
)

MAJ4 = [1, 2, 4, 8]


def claim(q: int, pts: list[tuple[str, int, float, int | None]], rounding: float | None = 0.1) -> audit.ClaimAudit:
    """The verdict of one claim; ``rounding`` None: not stated (the decimals give the constraints' tolerance, the
    noise gets no rounding term)."""
    table = claim_table("x", q, pts)
    if rounding is not None:
        table["rounding"] = rounding
    return audit_claim(split_claims(validate_claims(table))[0], detail=False, power=False)


def template(q: int, spec: tuple[tuple[str, float], ...], rounding: float | None = 0.1) -> Template:
    """The decision template of a claim with these points (values written with one decimal), as :func:`claim`."""
    table = claim_table("x", q, [(m, int(k), 50.1, None) for m, k in spec])
    if rounding is not None:
        table["rounding"] = rounding
    return claim_template(split_claims(validate_claims(table))[0].points)


def percent(vals: np.ndarray) -> list[float]:
    return [round(100 * float(v), 1) for v in vals]


def test_pooled_majority_table_is_the_vote_kernel_in_expectation() -> None:
    # E over (c, d) ~ Multinomial(8; p, (1-p) phi, (1-p)(1-phi)) of the U-statistic = maj@k of one question
    n = 8
    for k in (1, 2, 3, 5, 8):
        T = pooled_maj_table(k, n)
        for p, phi in ((0.3, 0.0), (0.5, 0.5), (0.2, 1.0), (0.7, 0.3)):
            e = sum(
                multinomial.pmf([c, d, n - c - d], n, [p, (1 - p) * phi, (1 - p) * (1 - phi)]) * T[c, d]
                for c in range(n + 1)
                for d in range(n + 1 - c)
            )
            assert e == pytest.approx(kernel("maj@k", k, 0, phi, np.array([p]))[0], abs=1e-12)


def test_refinement_curve_is_the_closed_form_without_boost_and_matches_simulation_with_it() -> None:
    spec = (("maj@k", 1.0), ("maj@k", 2.0), ("maj@k", 4.0), ("pass@k", 4.0), ("maj@k", 8.0), ("maj@k", 32.0))
    for mean, conc in ((0.4, 1.0), (0.1, 0.5), (0.7, 3.0)):
        exact = expected_refinement(spec, 0.0, mean, conc, 0.5)
        ref = [float(beta_expect(m, k, 0, 0.5, np.array(mean), np.array(conc))) for m, k in spec]
        assert np.max(np.abs(exact - ref)) < 1e-9  # Gauss-Jacobi is exact for these polynomials
    # boost 0.3: 4 x 50,000 simulated questions; a mean of [0, 1] outcomes has SE <= 0.5 / sqrt(200,000)
    exact = expected_refinement(spec, 0.3, 0.4, 1.0, 0.5)
    sim = simulate_votes_first_k(np.random.default_rng(0), 50_000, spec, 0.3, 0.4, 1.0, 0.5, 4).mean(axis=0)
    assert np.max(np.abs(exact - sim)) < 4 * 0.5 / np.sqrt(200_000)
    assert exact[1] - exact[0] == pytest.approx(0.3 * (1 - 0.4) / 2, abs=3e-4)  # maj@2 - maj@1 = boost E(1-p)/2


@pytest.mark.slow
def test_vote_decision_replays_the_claim_decision() -> None:
    rng = np.random.default_rng(3)
    cases = ((["maj@k"] * 4, 200, 0.1), (["pass@k", "maj@k", "maj@k", "pass@k"], 500, 0.1), (["maj@k"] * 4, 300, None))
    for metrics, q, rounding in cases:
        spec = tuple((m, float(k)) for m, k in zip(metrics, MAJ4, strict=True))
        vals = np.vstack([simulate_votes_first_k(rng, q, spec, b, 0.4, 1.0, 0.5, 3) for b in (0.0, 0.4, 0.8)])
        vals = np.round(vals, 3)
        # every value written with one nonzero decimal, so its resolution reads 0.1 when the rounding is not stated
        vals = np.where(np.round(vals * 1000) % 10 == 0, vals + np.where(vals >= 0.5, -0.001, 0.001), vals)
        slow = []
        for v in vals:
            res = claim(q, [(m, k, x, None) for (m, k), x in zip(spec, percent(v), strict=True)], rounding)
            slow.append(res.verdict == "inconsistent")
        fast = vote_rejects_many(vals, template(q, spec, rounding), float(q))
        assert fast.tolist() == slow and any(slow) and not all(slow)


def test_majority_vote_consistent_claims_state_their_power() -> None:
    c = next(c for c in split_claims(load_claims()) if c.claim_id == "zhang-o1-mini-aime2024-majority-vote")
    res = audit_claim(c, detail=False)
    assert res.verdict == "consistent", res.summary
    line = next(e for e in res.evidence if e.startswith("power: against"))
    assert "majority of the first k attempts" in line and "Monte Carlo SE" in line
    powers = [float(v) for v in line.split("this check rejects ")[1].split(" of simulated")[0].split(" / ")]
    assert len(powers) == 4 and all(0 <= v <= 1 for v in powers)
    # 30 AIME questions, maj@1..8: refinement up to boost 0.2 is reproduced by an i.i.d. vote model
    assert "no power by construction" in line and "Power against sequential refinement" in res.summary
    assert "no power by construction" in res.summary and "(none by construction up to boost 0.2)" in res.basis
    assert "Exchangeable dependence" in res.summary


@pytest.mark.slow
def test_iid_majority_claims_are_not_called_inconsistent() -> None:
    # 20 i.i.d. claims (500 questions, p ~ Beta(0.3, 0.6), phi 0.5, maj@1..32 first-k): at 5% more than 3
    # rejections has probability 0.016 (binomial(20, 0.05)); measured size 0 (docs/methods/audit.md)
    ks = [1, 2, 4, 8, 16, 32]
    spec = tuple(("maj@k", float(k)) for k in ks)
    vals = simulate_votes_first_k(np.random.default_rng(20261130), 500, spec, 0.0, 1 / 3, 0.9, 0.5, 20)
    got = [claim(500, [("maj@k", k, x, None) for k, x in zip(ks, percent(v), strict=True)]).verdict for v in vals]
    assert sum(g == "inconsistent" for g in got) <= 3
    assert set(got) <= {"consistent", "inconsistent"}


@pytest.mark.slow
def test_strong_refinement_votes_are_found_where_the_checks_can_see_them() -> None:
    # 500 questions, maj@1, 2, 4, 8 first-k, p ~ Beta(0.4, 0.6), phi 0.5. Boost 0.4: the noise-free numbers are
    # several points from every i.i.d. vote model and the verdict finds it (measured power 0.97; 10 of 10 claims
    # rejected at least 8 times). Boost 0.2: an i.i.d. vote model with unparsed samples reproduces the noise-free
    # numbers to within 0.1 points, so no check can see it (power about 0, the reason stated in the power line).
    spec = tuple(("maj@k", float(k)) for k in MAJ4)
    tm = template(500, spec)
    assert refinement_distance(tm, 0.4, 0.4, 1.0, 0.5) > 0.02
    assert refinement_distance(tm, 0.2, 0.4, 1.0, 0.5) < 0.001
    rng = np.random.default_rng(8)
    strong = simulate_votes_first_k(rng, 500, spec, 0.4, 0.4, 1.0, 0.5, 10)
    got = [claim(500, [("maj@k", k, x, None) for k, x in zip(MAJ4, percent(v), strict=True)]) for v in strong]
    assert sum(g.verdict == "inconsistent" for g in got) >= 8
    assert all("mixture over p" in g.summary for g in got if g.verdict == "inconsistent")
    mild = np.round(simulate_votes_first_k(rng, 500, spec, 0.2, 0.4, 1.0, 0.5, 40), 3)
    assert vote_rejects_many(mild, tm, 500.0).sum() <= 4


def test_the_template_keeps_every_noise_input_of_the_claim() -> None:
    # the replayed decision reads k, tolerance, digitisation error, samples per question and the rounding SD from
    # the template: they must be the claim's own (the rounding SD is set only when the rounding is stated)
    for path in (None, str(Path(__file__).resolve().parents[1] / "data" / "published" / "example_claims.csv")):
        for c in split_claims(load_claims(path)):
            pts = c.points.reset_index(drop=True)
            got = template_points(claim_template(pts), pts["y"].to_numpy())
            for col in ("k", "half_res", "err", "n_samples", "sd_extra"):
                np.testing.assert_array_equal(got[col].to_numpy(float), pts[col].to_numpy(float), err_msg=col)
