"""Audit one published claim: distribution-free checks, family fits, moment bounds, implied shape, verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.audit._claims import Claim
from harness.audit._fit import BOOT_GRID, Fit, fit_family, grid_means, predict_curve, specs, within_bound
from harness.audit._kernels import ABSTAIN_GRID, PHI_GRID, grid_kernel, kernel, p_grid
from harness.audit._lp import ALPHA, LPSolveError, min_max_deviation, value_range, z_crit
from harness.audit._pool import (
    Check,
    CovTest,
    cov_check,
    first_success_test,
    hard_checks,
    hull_check,
    separate_runs_test,
)
from harness.audit._shape import points_straight_window, slope_r2, straight_window

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FloatArray = npt.NDArray[np.float64]
VERDICTS = ("consistent", "inconsistent", "passes by construction", "not testable")
CHI2_MISS = 6.63  # chi-square(1) 99% point: a family with df <= 0 that misses by more cannot reach the points
FIT_COLUMNS = (
    "claim_id",
    "family",
    "wrong_answers",
    "mean",
    "concentration",
    "w0",
    "w1",
    "phi",
    "chi2",
    "df",
    "n_params",
    "p_value",
    "status",
    "region_mean_low",
    "region_mean_high",
    "region_conc_low",
    "region_conc_high",
    "slope_per_decade",
    "r2",
    "straight_decades",
    "claim_slope_per_decade",
    "claim_r2",
    "claim_straight_decades",
    "statistic",
)
CURVE_COLUMNS = ("claim_id", "kind", "metric", "k", "x", "value", "ci_low", "ci_high")
POINT_OUT_COLUMNS = (
    "claim_id",
    "label",
    "metric",
    "k",
    "x",
    "value",
    "sigma",
    "allowed_low",
    "allowed_high",
    "verified",
    "verification",
    "notes",
)
STRUCTURE_NAMES = {
    "none": "n/a",
    "differ": "all differ (phi=0)",
    "agree": "all agree (phi=1)",
    "free": "share phi fitted",
}


@dataclass(frozen=True)
class ClaimAudit:
    """The audit of one claim (values in percent)."""

    claim_id: str
    title: str
    verdict: str
    summary: str
    evidence: tuple[str, ...]
    fits: pd.DataFrame
    points: pd.DataFrame
    curves: pd.DataFrame
    source: str = ""
    citation: str = ""
    x_label: str = "samples per question, k (log scale)"
    checks: tuple[Check, ...] = field(default=())
    basis: str = ""
    """What the verdict rests on, in a few words (the summary table's column)."""

    def figure(self) -> Figure:
        """Published points, fitted sampling curves and their band, on a log compute axis."""
        from harness.audit._report import claim_figure

        return claim_figure(self)


# ----------------------------------------------------------------------------- helpers
def lp_sigma(points: pd.DataFrame, q: float) -> FloatArray:
    """Distribution-free within-question standard error of each point (fraction).

    For a fixed question set the published mean of per-question success indicators has variance
    sum_q f_q (1 - f_q) / Q^2 <= y (1 - y) / Q (concavity), divided by n/k when each question's number
    comes from n >= k samples; plus rounding^2/12 and the digitisation error^2 (``_fit.within_bound``).
    """
    return np.asarray(np.sqrt(within_bound(points, q)) + 1e-6, dtype=np.float64)


def vote_structures(has_maj: bool) -> list[tuple[float, float]]:
    """(phi, abstention share) pairs of the LP atoms: the wrong-answer share grid times the abstention grid
    when a majority-vote number is present (abstention 1 leaves no wrong answer, so phi is moot there), else
    one structure."""
    if not has_maj:
        return [(0.0, 0.0)]
    return [(float(ph), float(ab)) for ab in ABSTAIN_GRID for ph in (PHI_GRID if ab < 1.0 else PHI_GRID[:1])]


def design(points: pd.DataFrame, structs: list[tuple[float, float]], grid: FloatArray) -> FloatArray:
    """A[i, (structure, p)] = kernel of point i at atom (p, phi, abstention); atoms ordered structure-major."""
    return np.vstack(
        [np.concatenate([kernel(metric, k, m, ph, grid, ab) for ph, ab in structs]) for metric, k, m in specs(points)]
    )


def target_row(metric: str, k: float, structs: list[tuple[float, float]], grid: FloatArray) -> FloatArray:
    return np.concatenate([grid_kernel(metric, float(k), 0, ph, ab, len(grid)) for ph, ab in structs])


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.1f}%"


def _k_grid(kmax: float, integer: bool, n: int = 30) -> FloatArray:
    ks = np.logspace(0, math.log10(max(10 * kmax, 10)), n)
    if integer:
        ks = np.unique(np.rint(ks))
    return np.asarray(ks, dtype=np.float64)


def _x_scale(points: pd.DataFrame) -> tuple[float, str]:
    unit = points["compute_unit"].astype(str)
    comp = points["compute"].to_numpy()
    k = points["k"].to_numpy()
    if (unit == "tokens").all() and np.isfinite(comp).all() and np.isfinite(k).all():
        tps = float(np.median(comp / k))
        return tps, f"tokens per question (k samples x ~{tps:,.0f} tokens; log scale)"
    return 1.0, "samples per question, k (log scale)"


# ----------------------------------------------------------------------------- the audit
@dataclass(frozen=True)
class Tests:
    """Everything the verdict rests on (see :func:`run_tests`)."""

    checks: tuple[Check, ...]
    pool_rejects: bool
    sep_rejects: bool
    lp_failed: bool
    s_star: float
    z_pool: float
    z_sep: float
    w_star: FloatArray
    cov: CovTest | None
    sep_p: float = float("nan")
    z_lp: float = float("nan")
    """The critical value the LP box test's own line uses (one pool with other numbers: z_pool; else z_sep)."""


def run_tests(pts: pd.DataFrame, q: float, A: FloatArray, sig: FloatArray, grid: FloatArray, reading: str) -> Tests:
    """The checks of one sampling claim under both readings.

    One pool (the default when the source does not say): exact constraints (hard), the joint first-success
    test of the coverage points, and, when other numbers are present (maj@k, rerank@k, G-Pass), the LP box
    test over all points; the two statistical tests share alpha (Bonferroni). Separate runs: the LP box test
    (valid whatever the correlation between points) and the joint chi-square with independent noise, sharing
    alpha."""
    J = len(pts)
    y = pts["y"].to_numpy()
    lower = (pts["metric"] == "rerank@k").to_numpy()
    metric = pts["metric"].to_numpy()
    k = pts["k"].to_numpy(dtype=float)
    checks: list[Check] = []
    pool = reading != "separate runs"
    hard = hard_checks(pts)
    hull = hull_check(pts)
    if hull is not None:
        hard.append(hull)
    if not pool:
        hard = [Check(c.name, "info", c.detail + " (not applied: the points are separate runs)") for c in hard]
    checks += hard
    cov = first_success_test(pts, q) if pool else None
    non_cov = bool(((metric != "pass@k") & ~((metric == "maj@k") & (k == 1))).any())
    # separate runs: the LP box test and, without lower bounds, the joint chi-square share alpha (Bonferroni)
    sep_chi = bool(not lower.any() and J >= 2)
    level_sep = ALPHA / (1 + sep_chi)
    z_sep = z_crit(J, level_sep)
    n_stat = (cov is not None) + non_cov if pool else 1 + sep_chi
    level = ALPHA / max(n_stat, 1)
    z_pool = z_crit(J, level) if pool else z_sep
    if cov is not None:
        checks.append(cov_check(cov, level))
    lp_failed = False
    try:
        s_star, w_star = min_max_deviation(A, y, sig, lower)
    except LPSolveError as exc:
        lp_failed = True
        s_star, w_star = float("nan"), np.full(A.shape[1], np.nan)
        checks.append(Check(_lp_name(pts), "error", str(exc)))
    if not lp_failed:
        worst = int(np.argmax(np.abs(A @ w_star - y) / sig)) if J else 0
        zc = z_pool if pool and non_cov else z_sep
        checks.append(
            Check(
                _lp_name(pts),
                ("pass" if s_star <= zc else "fail") if (non_cov or not pool) else "info",
                f"the closest spread of p comes within {s_star:.2f} standard errors of every point "
                f"(Bonferroni critical value {zc:.2f} for {J} points at "
                f"{level if pool and non_cov else level_sep:.3g}; "
                f"farthest point {pts['label'].iat[worst]})",
            )
        )
    if non_cov:
        checks += _specific_checks(pts, sig, z_pool if pool else z_sep, grid, A, y, lower)
    hard_ids = {id(c) for c in hard}
    sep_p = float("nan")
    if sep_chi:
        _, sep_p = separate_runs_test(A, y, sig)
        if not pool:
            checks.append(
                Check(
                    "joint test of separate runs",
                    "fail" if sep_p < level_sep else "pass",
                    f"independent noise per point: chi-square to the closest i.i.d. spread, p = {sep_p:.3g}",
                )
            )
    stat_fail = any(c.status == "fail" for c in checks if id(c) not in hard_ids)
    hard_fail = any(c.status == "fail" for c in hard)
    pool_rejects = pool and (hard_fail or stat_fail)
    # as separate runs: the LP at alpha, and the named z-checks (computed at the stricter one-pool level)
    sep_rejects = (
        (not lp_failed and s_star > z_sep)
        or (sep_p < level_sep)
        or any(c.status == "fail" for c in checks if id(c) not in hard_ids and "first-success" not in c.name)
    )
    z_lp = z_pool if pool and non_cov else z_sep
    return Tests(tuple(checks), pool_rejects, sep_rejects, lp_failed, s_star, z_pool, z_sep, w_star, cov, sep_p, z_lp)


def _lp_name(pts: pd.DataFrame) -> str:
    return (
        "complete monotonicity of 1 - pass@k (LP)"
        if set(pts["metric"]) <= {"pass@k", "rerank@k"}
        else "binomial mixture of G-Pass thresholds (LP)"
        if set(pts["metric"]) == {"g-pass@k"}
        else "i.i.d. mixture over p, the wrong-answer share and abstentions (LP)"
    )


def audit_claim(claim: Claim, *, seed: int = 0, detail: bool = True, power: bool = True) -> ClaimAudit:
    """Audit one claim. ``detail=False`` skips fits, bands and shape (the verdict and checks only);
    ``power=False`` skips the simulated power of a 'consistent' verdict."""
    if not claim.sampling:
        return _audit_non_sampling(claim)
    pts = claim.points.reset_index(drop=True)
    q = claim.n_questions
    J = len(pts)
    y = pts["y"].to_numpy()
    lower = (pts["metric"] == "rerank@k").to_numpy()
    has_maj = bool((pts["metric"] == "maj@k").any())
    structs = vote_structures(has_maj)
    grid = p_grid(200 if has_maj else 300)
    A = design(pts, structs, grid)
    sig = lp_sigma(pts, q)
    tests = run_tests(pts, q, A, sig, grid, claim.reading)
    checks = list(tests.checks)
    zc = tests.z_pool
    # leave-one-out allowed ranges
    lo_hi: list[tuple[float, float]] = []
    pooled_all = bool(pts["pooled"].astype(bool).all())
    for i in range(J):
        keep = np.arange(J) != i
        if not detail or (pooled_all and not tests.pool_rejects):  # i.i.d. ranges are met by construction
            lo_hi.append((float("nan"), float("nan")))
        else:
            lo_hi.append(value_range(A[i], A[keep], y[keep], sig[keep], lower[keep], zc))
    eq_points = int((~lower).sum())
    n_params = 2 + (1 if has_maj else 0)
    power_text = ""
    if tests.pool_rejects or (claim.reading == "separate runs" and tests.sep_rejects):
        verdict = "inconsistent"
    elif pooled_all and not has_maj:  # proven for coverage (the hull); not for pooled maj@k, which is tested
        verdict = "passes by construction"
    elif (tests.lp_failed and tests.cov is None) or eq_points <= n_params:
        verdict = "not testable"
    else:
        verdict = "consistent"
        if power:
            from harness.audit._power import power_text as _power_text

            power_text = _power_text(pts, q, claim.reading)
    scale, x_label = _x_scale(pts)
    points_out = pd.DataFrame(
        {
            "claim_id": claim.claim_id,
            "label": pts["label"],
            "metric": pts["metric"],
            "k": pts["k"],
            "x": pts["k"] * scale,
            "value": pts["value"],
            "sigma": 100 * sig,
            "allowed_low": [100 * a for a, _b in lo_hi],
            "allowed_high": [100 * b for _a, b in lo_hi],
            "verified": pts["verified"],
            "verification": pts["verification"],
            "notes": pts["notes"],
        }
    )[list(POINT_OUT_COLUMNS)]
    s_star = tests.s_star
    fits_rows: list[dict[str, object]] = [
        {
            "claim_id": claim.claim_id,
            "family": "any spread of p (LP)",
            "wrong_answers": "any share phi, abstentions" if has_maj else "n/a",
            "df": eq_points,
            "n_params": np.nan,
            "status": "numerical failure" if tests.lp_failed else "fits" if s_star <= tests.z_lp else "rejected",
            "statistic": f"max |z| = {s_star:.2f} (critical {tests.z_lp:.2f})",
        }
    ]
    curves = pd.DataFrame(columns=list(CURVE_COLUMNS))
    # parametric families only where they can say something: not for numbers that pass by construction (the
    # fit would describe the urn) and not when no family has a degree of freedom left (an exact fit says nothing)
    fit_families = verdict not in ("passes by construction",) and eq_points > n_params
    fits: list[Fit] = []
    bounds_text: list[str] = []
    shape_text: list[str] = []
    if detail and verdict != "passes by construction":
        fits, fit_rows, curves, bounds_text, shape_text = _details(
            claim, pts, structs, has_maj, grid, A, y, sig, lower, zc, scale, seed, fit=fit_families
        )
        fits_rows += fit_rows
    fits_df = pd.DataFrame(fits_rows, columns=list(FIT_COLUMNS))
    evidence = _readings_text(claim, tests, verdict) + _evidence(
        claim, pts, checks, fits, lo_hi, bounds_text, shape_text, eq_points, n_params
    )
    if power_text:
        evidence.insert(0, power_text)
    summary = _summary(verdict, tests, fits, eq_points, n_params, has_maj, pts, claim.reading)
    if power_text.startswith("power: against"):
        from harness.audit._power import power_summary

        summary = summary.rstrip(".") + ". " + power_summary(power_text)
    elif power_text:
        summary = summary.rstrip(".") + ". Power against a named alternative: " + power_text.split(": ", 1)[1] + "."
    if verdict in ("consistent", "passes by construction"):
        summary += (
            " Exchangeable dependence (shared batches or seeds) is invisible in aggregate curves: a question whose "
            "samples share a batch effect looks like a spread of p."
        )
    summary = _flag_unverified(summary, pts)
    return ClaimAudit(
        claim.claim_id,
        claim.title,
        verdict,
        summary,
        tuple(evidence),
        fits_df,
        points_out,
        curves,
        source=claim.source,
        citation=claim.citation,
        x_label=x_label,
        checks=tuple(checks),
        basis=_basis(verdict, tests, pts, eq_points, n_params, has_maj, power_text),
    )


def _basis(
    verdict: str, tests: Tests, pts: pd.DataFrame, eq_points: int, n_params: int, has_maj: bool, power_text: str
) -> str:
    """A few words on what the verdict rests on."""
    if verdict == "inconsistent":
        c = next(c for c in tests.checks if c.status == "fail")
        return f"fails: {c.name}"
    if verdict == "passes by construction":
        kinds = sorted(set(pts["metric"]) - {"maj@k"})
        return "pooled estimator" + (" (G-Pass, hypergeometric)" if kinds == ["g-pass@k"] else " (unbiased pass@k)")
    if verdict == "not testable":
        if tests.lp_failed and tests.cov is None:
            return "LP failed numerically"
        if eq_points == 0:
            return "lower bounds on coverage only"
        return f"{eq_points} point{'s' if eq_points != 1 else ''} vs {n_params} parameters"
    passed = [c.name.split(" (")[0] for c in tests.checks if c.status == "pass"]
    pw = (
        "; power " + power_text.split("this check rejects ")[1].split(" of simulated")[0]
        if power_text.startswith("power: against")
        else "; power not computed"
    )
    if "no power by construction" in power_text:
        pw += " (none by construction up to boost " + power_text.split("; up to boost ")[1].split(" ")[0] + ")"
    return f"{len(passed)} check{'s' if len(passed) != 1 else ''} passed{pw}"


def _readings_text(claim: Claim, tests: Tests, verdict: str) -> list[str]:
    """Which reading of how the numbers were made the verdict rests on, and what the other one says."""
    if claim.reading == "separate runs":
        return [
            "reading: the source says each number is a separate run; exact one-pool constraints do not apply; the LP "
            f"box test gives max |z| {tests.s_star:.2f} against {tests.z_sep:.2f}"
            + (f", the joint chi-square p = {tests.sep_p:.3g}" if np.isfinite(tests.sep_p) else "")
        ]
    stated = (
        "the source says one pool"
        if claim.reading == "one pool"
        else "the source does not say how the points were made"
    )
    pool = "rejects i.i.d. sampling" if tests.pool_rejects else "does not reject"
    out = [
        f"reading: {stated}; the verdict rests on the one-pool reading (one set of samples per question, "
        f"first-k or pooled estimators), which {pool}"
    ]
    if claim.reading != "one pool":
        sep = (
            "not computed (the LP failed)"
            if tests.lp_failed
            else ("also rejects" if tests.sep_rejects else "does not reject")
            + f" (LP box test max |z| {tests.s_star:.2f} vs {tests.z_sep:.2f}"
            + (f"; joint chi-square p = {tests.sep_p:.3g}" if np.isfinite(tests.sep_p) else "")
            + ")"
        )
        out.append(f"if instead each number were a separate run: i.i.d. sampling {sep}")
    return out


def _specific_checks(
    pts: pd.DataFrame,
    sig: FloatArray,
    zc: float,
    grid: FloatArray,
    A: FloatArray,
    y: FloatArray,
    lower: npt.NDArray[np.bool_],
) -> list[Check]:
    out: list[Check] = []
    metric = pts["metric"].to_numpy()
    k = pts["k"].to_numpy()
    one = np.nonzero(((metric == "pass@k") | (metric == "maj@k")) & (k == 1))[0]
    two = np.nonzero((metric == "maj@k") & (k == 2))[0]
    if len(one) and len(two):
        i, j = int(one[0]), int(two[0])
        sd = math.hypot(sig[i], sig[j])
        z_lo, z_hi = (y[i] - y[j]) / sd, (y[j] - (2 * y[i] - y[i] ** 2)) / sd
        out.append(
            Check(
                "maj@1 <= maj@2 <= 2 maj@1 - maj@1^2",
                "pass" if max(z_lo, z_hi) <= zc else "fail",
                f"with ties split evenly maj@2 = maj@1 + E[p a] for a share a of unparsed samples (maj@2 = maj@1 "
                f"without abstentions), and E[p a] <= E[p (1 - p)]; published {_pct(y[i])} and {_pct(y[j])}, "
                f"z = {max(z_lo, z_hi):+.2f}",
            )
        )
    for j in np.nonzero(metric == "maj@k")[0].tolist():
        cov = np.nonzero(((metric == "pass@k") | (metric == "rerank@k")) & (k >= k[j]))[0]
        for i in cov.tolist():
            if metric[i] == "rerank@k":
                continue
            z = (y[j] - y[i]) / math.hypot(sig[i], sig[j])
            out.append(
                Check(
                    f"maj@{k[j]:g} <= pass@{k[i]:g}",
                    "pass" if z <= zc else "fail",
                    f"a majority can only be right if some sample is: {_pct(y[j])} vs coverage "
                    f"{_pct(y[i])}, z = {z:+.2f}",
                )
            )
    if len(one) and (metric == "maj@k").any():
        i = int(one[0])
        for j in np.nonzero((metric == "maj@k") & (k > 2))[0].tolist():
            parts = []
            for name, ph in (("all wrong answers differ", 0.0), ("all wrong answers agree", 1.0)):
                base = kernel("pass@k", 1.0, 0, 0.0, grid)[None, :]
                lo, hi = value_range(
                    kernel("maj@k", k[j], 0, ph, grid),
                    base,
                    y[i : i + 1],
                    sig[i : i + 1],
                    np.array([False]),
                    zc,
                )
                inside = lo - zc * sig[j] <= y[j] <= hi + zc * sig[j]
                parts.append(f"if {name}: [{_pct(lo)}, {_pct(hi)}]" + ("" if inside else " - ruled out"))
            out.append(
                Check(
                    f"maj@{k[j]:g} bounds given pass@1",
                    "info",
                    f"given pass@1 = {_pct(y[i])}, i.i.d. sampling allows maj@{k[j]:g} "
                    + "; ".join(parts)
                    + f" (published {_pct(y[j])})",
                )
            )
    for j in np.nonzero(lower)[0].tolist():
        keep = np.arange(len(y)) != j
        lo, hi = value_range(A[j], A[keep], y[keep], sig[keep], lower[keep], zc) if keep.any() else (0.0, 1.0)
        ok = hi >= y[j] - zc * sig[j]
        out.append(
            Check(
                f"re-ranking as a lower bound on pass@{k[j]:g}",
                "pass" if ok else "fail",
                f"an answer picked from {k[j]:g} samples is right only if some sample is, so coverage "
                f"pass@{k[j]:g} >= {_pct(y[j])}; the other points allow pass@{k[j]:g} in "
                f"[{_pct(lo)}, {_pct(hi)}]",
            )
        )
    return out


def _details(
    claim: Claim,
    pts: pd.DataFrame,
    structs: list[tuple[float, float]],
    has_maj: bool,
    grid: FloatArray,
    A: FloatArray,
    y: FloatArray,
    sig: FloatArray,
    lower: npt.NDArray[np.bool_],
    zc: float,
    scale: float,
    seed: int,
    fit: bool = True,
) -> tuple[list[Fit], list[dict[str, object]], pd.DataFrame, list[str], list[str]]:
    structures = ["differ", "agree", "free"] if has_maj else ["none"]
    fits: list[Fit] = []
    if fit and (~lower).any():  # lower bounds alone pin down no member: no fits, no implied shape
        for st in structures:
            for fam in ("beta", "beta+masses"):
                fits.append(fit_family(pts, claim.n_questions, fam, st, seed=seed))
    metric = pts["metric"].to_numpy()
    curve_metrics = ["maj@k"] if has_maj else []
    if ((metric == "pass@k") & (pts["k"].to_numpy() > 1)).any() or (metric == "rerank@k").any() or not has_maj:
        curve_metrics.append("pass@k")
    kmax = float(pts["k"].max())
    kmax_maj = float(pts.loc[pts["metric"] == "maj@k", "k"].max()) if has_maj else kmax
    sampling_k = pts.loc[pts["metric"].isin(["pass@k", "maj@k"]), "k"].to_numpy()
    rows: list[pd.DataFrame] = []
    bounds_text: list[str] = []
    for met in curve_metrics:
        top = kmax_maj if met == "maj@k" else kmax
        ks = _k_grid(top, met == "maj@k")
        for f in fits:
            if f.family != "beta":
                continue
            val = predict_curve(met, ks, f.member)
            lo = hi = np.full(len(ks), np.nan)
            if f.boot_p.shape[1] > 1:
                K = np.column_stack([kernel(met, float(kk), 0, f.member.phi, BOOT_GRID) for kk in ks])
                reps = grid_means(f.boot_p, K)
                lo, hi = np.quantile(reps, [0.025, 0.975], axis=0)
            rows.append(
                pd.DataFrame(
                    {
                        "claim_id": claim.claim_id,
                        "kind": "fit:beta" + _wrong(f.structure, " ({})"),
                        "metric": met,
                        "k": ks,
                        "x": ks * scale,
                        "value": 100 * val,
                        "ci_low": 100 * lo,
                        "ci_high": 100 * hi,
                    }
                )
            )
        bks = np.unique(np.concatenate((_k_grid(top, True, 4), pts.loc[pts["metric"] == met, "k"].to_numpy())))
        blo, bhi = [], []
        for kk in bks:
            lo_, hi_ = value_range(target_row(met, kk, structs, grid), A, y, sig, lower, zc)
            blo.append(lo_)
            bhi.append(hi_)
        blo_a, bhi_a = np.array(blo), np.array(bhi)
        rows.append(
            pd.DataFrame(
                {
                    "claim_id": claim.claim_id,
                    "kind": "bound:any i.i.d. model",
                    "metric": met,
                    "k": bks,
                    "x": bks * scale,
                    "value": 50 * (blo_a + bhi_a),
                    "ci_low": 100 * blo_a,
                    "ci_high": 100 * bhi_a,
                }
            )
        )
        observed = set(pts.loc[pts["metric"].isin([met, "pass@k"] if met == "maj@k" else [met]), "k"].tolist())
        far = [kk for kk in bks if kk > kmax]
        show = [kk for kk in bks if kk not in observed and (kk == 1 or kk == far[-1] if far else kk == 1)]
        for kk in show:
            i = int(np.nonzero(bks == kk)[0][0])
            bounds_text.append(
                f"{met.replace('@k', '')}@{kk:g}: any i.i.d. model within noise of the published "
                f"points gives between {_pct(blo_a[i])} and {_pct(bhi_a[i])}"
            )
    curves = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(CURVE_COLUMNS))
    # implied shape over the claim's own compute range
    main = curve_metrics[0]
    # pass@1 is maj@1: it belongs to a majority-vote claim's own curve
    own = pts[(pts["metric"] == main) | ((main == "maj@k") & (pts["metric"] == "pass@k") & (pts["k"] == 1))]
    kr = (float(own["k"].min()), float(own["k"].max())) if len(own) else (1.0, kmax)
    if len(sampling_k):
        kr = (float(min(kr[0], sampling_k.min())), float(max(kr[1], sampling_k.max())))
    c_slope, c_r2 = slope_r2(np.log10(own["k"].to_numpy()), own["value"].to_numpy()) if len(own) else (np.nan,) * 2
    own_sorted = own.sort_values("k")
    c_win = (
        points_straight_window(
            np.log10(own_sorted["k"].to_numpy(dtype=float)),
            own_sorted["value"].to_numpy(dtype=float),
            1.96 * 100 * sig[own_sorted.index.to_numpy()],
        )
        if len(own) >= 3
        else float("nan")
    )
    shape_text: list[str] = []
    fit_rows: list[dict[str, object]] = []
    for f in fits:
        slope = r2 = win = float("nan")
        if kr[1] / kr[0] >= 2:
            kk = (
                np.unique(np.rint(np.logspace(math.log10(kr[0]), math.log10(kr[1]), 40)))
                if main == "maj@k"
                else np.logspace(math.log10(kr[0]), math.log10(kr[1]), 40)
            )
            v = 100 * predict_curve(main, kk, f.member)
            slope, r2 = slope_r2(np.log10(kk), v)
            win = straight_window(np.log10(kk), v)
        if f.df <= 0:
            status = "no test (df <= 0)" if f.chi2 < CHI2_MISS else "cannot reach the points"
        else:
            status = "fits" if f.p_value >= 0.01 else "rejected"
        fit_rows.append(
            {
                "claim_id": claim.claim_id,
                "family": f.family,
                "wrong_answers": STRUCTURE_NAMES[f.structure],
                "mean": f.member.mean,
                "concentration": f.member.conc,
                "w0": f.member.w0,
                "w1": f.member.w1,
                "phi": f.member.phi if has_maj else np.nan,
                "chi2": f.chi2,
                "df": f.df,
                "n_params": f.n_params,
                "p_value": f.p_value,
                "status": status,
                "region_mean_low": f.region[0],
                "region_mean_high": f.region[1],
                "region_conc_low": f.region[2],
                "region_conc_high": f.region[3],
                "slope_per_decade": slope,
                "r2": r2,
                "straight_decades": win,
                "claim_slope_per_decade": c_slope,
                "claim_r2": c_r2,
                "claim_straight_decades": c_win,
                "statistic": f"chi2 = {f.chi2:.2f} on {f.df} df" + (f", p = {f.p_value:.3f}" if f.df >= 1 else ""),
            }
        )
        if f.family == "beta" and np.isfinite(slope):
            shape_text.append(
                f"beta member{_wrong(f.structure, ' ({})')}: {slope:+.1f} points per decade of k over "
                f"k = {kr[0]:g}-{kr[1]:g} (R^2 {r2:.2f}; within 2 points of a straight line for {win:.1f} of "
                f"{math.log10(kr[1] / kr[0]):.1f} decades)"
            )
    if shape_text and np.isfinite(c_slope):
        shape_text.append(
            f"the claim's own {main} points: {c_slope:+.1f} points per decade"
            + (f" (R^2 {c_r2:.2f}" if np.isfinite(c_r2) else " (two points: no R^2)")
            + (
                f"; a straight line in log k fits within noise for {c_win:.1f} of "
                f"{math.log10(kr[1] / kr[0]):.1f} decades)"
                if np.isfinite(c_win)
                else (")" if np.isfinite(c_r2) else "")
            )
        )
    return fits, fit_rows, curves, bounds_text, shape_text


def _wrong(structure: str, template: str) -> str:
    """The wrong-answer structure in a label ('' when no majority-vote number is present)."""
    return "" if structure == "none" else template.format(STRUCTURE_NAMES[structure])


def _noise_line(pts: pd.DataFrame, q: float) -> str:
    if not np.isfinite(q):
        return "the number of questions is not given: only the stated digitisation error is used as noise"
    se = 100 * math.sqrt(0.25 / q)
    return (
        f"with {int(q)} questions one question is worth {100 / q:.1f} points; "
        "a single-sample accuracy near 50% "
        f"has a binomial standard error of {se:.1f} points"
    )


def _evidence(
    claim: Claim,
    pts: pd.DataFrame,
    checks: list[Check],
    fits: list[Fit],
    lo_hi: list[tuple[float, float]],
    bounds_text: list[str],
    shape_text: list[str],
    eq_points: int,
    n_params: int,
) -> list[str]:
    ev = [f"{c.name}: {c.status} - {c.detail}" if c.status != "info" else f"{c.name}: {c.detail}" for c in checks]
    for i, r in enumerate(pts.itertuples()):
        lo, hi = lo_hi[i]
        if np.isfinite(lo) and (lo > 0.005 or hi < 0.995):
            ev.append(
                f"given the other points, i.i.d. sampling allows {r.label} in [{_pct(lo)}, {_pct(hi)}] "
                f"(published {r.value:g}%)"
            )
    for f in fits:
        if f.family != "beta":
            continue
        mb = f.member
        phi = f", phi {mb.phi:.2f}" if f.structure == "free" else ""
        fit_txt = (
            f"chi-square {f.chi2:.2f} on {f.df} df, p = {f.p_value:.3f}"
            if f.df >= 1
            else f"{eq_points} points against {f.n_params} parameters: an exact fit is expected "
            f"(chi-square {f.chi2:.2f})"
            if f.chi2 < CHI2_MISS
            else f"{eq_points} points against {f.n_params} parameters, yet the closest member misses "
            f"(chi-square {f.chi2:.2f}): this member cannot reach the published points"
        )
        region = (
            (
                f"; parameters that fit: mean {f.region[0]:.2f}-{f.region[1]:.2f}, concentration "
                f"{f.region[2]:.2g}-{f.region[3]:.2g}"
            )
            if np.isfinite(f.region[0])
            else ""
        )
        ev.append(
            f"beta family{_wrong(f.structure, ', wrong answers {}')}: mean {mb.mean:.3f}, concentration "
            f"{mb.conc:.3g}{phi} ({fit_txt}){region}"
        )
    ev += [f"moment bound: {t}" for t in bounds_text]
    ev += [f"implied shape: {t}" for t in shape_text]
    ev.append(_noise_line(pts, claim.n_questions))
    for r in pts.itertuples():
        if not r.verified:
            ev.append(f"UNVERIFIED number: {r.label} = {r.value:g}% ({r.verification}); treat as reported, not as fact")
    return ev


def _flag_unverified(summary: str, pts: pd.DataFrame) -> str:
    """Append which numbers are unverified, so no summary presents them as fact."""
    bad = pts.loc[~pts["verified"].astype(bool), "label"].astype(str).tolist()
    if not bad:
        return summary
    return f"{summary.rstrip('.')} (unverified as reported: {', '.join(bad)})."


def _summary(
    verdict: str,
    tests: Tests,
    fits: list[Fit],
    eq_points: int,
    n_params: int,
    has_maj: bool,
    pts: pd.DataFrame,
    reading: str,
) -> str:
    checks = list(tests.checks)
    if verdict == "inconsistent":
        hard = [c for c in checks if c.status == "fail" and (c.name.endswith("(one pool)") or "(exact)" in c.name)]
        c = hard[0] if hard else next(c for c in checks if c.status == "fail")
        if reading == "separate runs":
            rest = "reading: separate runs"
        elif hard:
            rest = "an exact constraint for numbers from one set of samples, up to rounding" + (
                "; read as separate runs it is rejected too"
                if tests.sep_rejects
                else "; read as separate runs the points would be within noise"
            )
        else:
            rest = "one-pool reading" + (
                "; read as separate runs it is rejected too"
                if tests.sep_rejects
                else "; read as separate runs the points would be within noise"
            )
        return f"Inconsistent with sampling alone: {c.name} fails ({rest}): {c.detail}."
    if verdict == "passes by construction":
        n = int(pts["n_samples"].max()) if np.isfinite(pts["n_samples"].to_numpy(dtype=float)).any() else None
        return (
            "Passes by construction: every number is a pooled symmetric estimator"
            + (f" (from {n} samples per question)" if n else " (hypergeometric over an unstated pool)")
            + ", which describes a finite exchangeable urn and meets every moment check whatever the model did; "
            "no check run here could have failed for a non-i.i.d. model, except through a reporting error."
        )
    if verdict == "not testable":
        if tests.lp_failed and tests.cov is None:
            err = next(c for c in checks if c.status == "error")
            return f"Not testable: {err.detail}; no other check applies."
        n_low = int((pts["metric"] == "rerank@k").sum())
        if eq_points == 0:
            return (
                f"Not testable: the {n_low} numbers are scores of answers selected from k samples by an "
                "unstated rule, i.e. only lower bounds on coverage, and some spread of difficulty reaches "
                "any such bounds. A test needs the coverage pass@k itself or the selection rule."
            )
        params = "mean and concentration of p" + (" and the wrong-answer share" if has_maj else "")
        low = f" (plus {n_low} lower bound{'s' if n_low > 1 else ''})" if n_low else ""
        ruled = [c.name.split(" bounds")[0] for c in checks if c.status == "info" and "ruled out" in c.detail]
        extra = f"; they do rule out a structure for {', '.join(ruled)} (see evidence)" if ruled else ""
        need = (
            "pass@k at the largest vote size (maj@k <= pass@k is exact for one pool) or maj@k at more k"
            if has_maj
            else "pass@k at a further k (each adds an exact monotonicity constraint and a cell of the joint "
            "first-success test) or the per-question counts"
        )
        return (
            f"Not testable: {eq_points} points{low} against {n_params} parameters ({params}); no "
            f"check fails, so these numbers neither support nor contradict plain repeated "
            f"sampling{extra}. A test needs more numbers from the same samples: {need}."
        )
    tested = [c.name for c in checks if c.status == "pass"]
    good = [f for f in fits if f.df >= 1 and f.p_value >= 0.01]
    lead = f"Consistent with sampling alone: no check fails ({', '.join(tested)})"
    if good:
        f = min(good, key=lambda f: f.n_params)
        fam = f"{f.family} ({STRUCTURE_NAMES[f.structure]})" if f.structure != "none" else f.family
        return f"{lead}, and the {fam} family fits (chi-square {f.chi2:.2f} on {f.df} df, p = {f.p_value:.2f})."
    if fits:
        return f"{lead}, although the beta family does not fit, so the spread of difficulty is not beta-shaped."
    return f"{lead}."


def _audit_non_sampling(claim: Claim) -> ClaimAudit:
    pts = claim.points.reset_index(drop=True)
    unit = set(pts["compute_unit"].astype(str))
    comp = pts["compute"].to_numpy()
    ev: list[str] = []
    curves = pd.DataFrame(columns=list(CURVE_COLUMNS))
    q = claim.n_questions
    if "tokens" in unit and np.isfinite(comp).all():
        order = np.argsort(comp)
        p = pts.iloc[order]
        ev.append(
            "each point is one sample per question at a different requested reasoning length: compute varies "
            "the sampling distribution itself, so i.i.d. sampling makes no prediction about how p changes "
            "with length and the curve cannot be tested against it"
        )
        se = lp_sigma(p, q)
        d = np.diff(p["y"].to_numpy())
        sd = np.hypot(se[1:], se[:-1])
        worst = int(np.argmax(np.abs(d) / sd)) if len(d) else 0
        if len(d):
            ev.append(
                f"noise: the largest step between neighbouring budgets ({100 * d[worst]:+.1f} points) is "
                f"{abs(d[worst]) / sd[worst]:.1f} standard errors"
                + ("; every step is within noise" if abs(d[worst]) / sd[worst] < 1.96 else "")
            )
        slope, r2 = slope_r2(np.log10(p["compute"].to_numpy()), p["value"].to_numpy())
        ev.append(
            f"the claim's own shape: {slope:+.1f} points per decade of tokens (R^2 {r2:.2f}) over "
            f"{math.log10(comp.max() / comp.min()):.1f} decades"
        )
        # matched compute: repeated sampling at the cheapest budget
        yv, cv = p["y"].to_numpy(dtype=float), p["compute"].to_numpy(dtype=float)
        y0, c0 = float(yv[0]), float(cv[0])
        grid = p_grid(300)
        base = kernel("pass@k", 1.0, 0, 0.0, grid)[None, :]
        s0 = se[:1]
        kk = max(1.0, float(comp.max()) / c0)
        zc = z_crit(1)
        lo, hi = value_range(kernel("pass@k", kk, 0, 0.0, grid), base, np.array([y0]), s0, np.array([False]), zc)
        maj_range = value_range(
            np.concatenate([kernel("maj@k", round(kk), 0, ph, grid) for ph in (0.0, 1.0)]),
            np.concatenate([base, base], axis=1),
            np.array([y0]),
            s0,
            np.array([False]),
            zc,
        )
        mlo, mhi = min(maj_range), max(maj_range)
        ev.append(
            f"matched compute: {kk:.0f} samples at the cheapest budget ({c0:,.0f} tokens, {_pct(y0)}) "
            "cost as "
            f"much as the longest budget; i.i.d. sampling there allows coverage in [{_pct(lo)}, {_pct(hi)}] "
            f"and majority vote in [{_pct(mlo)}, {_pct(mhi)}], so the longest budget's "
            f"{_pct(float(yv[-1]))} "
            + (
                "does not show that longer thinking beats sampling at equal tokens"
                if float(yv[-1]) - zc * float(se[-1]) <= max(hi, mhi)
                else "is above anything sampling at the cheapest budget could give at equal tokens"
            )
        )
        summary = (
            "Not testable: the compute axis is reasoning length, not the number of samples, "
            "so i.i.d. sampling "
            "predicts nothing about this curve; the audit can only bound what sampling at equal tokens would "
            "give, and that range is too wide to decide. A test needs several samples per question at one "
            "length (pass@k or maj@k at several k)."
        )
    else:
        ev.append(
            "the numbers come from greedy or otherwise non-sampled decoding (no distribution of samples), so "
            "plain repeated sampling makes no prediction about them"
        )
        summary = (
            "Not testable: greedy or budget-controlled decoding is not repeated sampling, and "
            f"{len(pts)} numbers carry no sampling information. A test needs sampled decoding reported at "
            "several k (pass@k or maj@k)."
        )
    ev.append(_noise_line(pts, q))
    if np.isfinite(q) and len(pts) == 2:
        yy = pts["y"].to_numpy(dtype=float)
        gap = float(np.abs(yy[1] - yy[0]))
        ev.append(f"the difference of {100 * gap:.1f} points is {gap * q:.1f} questions")
    for r in pts.itertuples():
        if not r.verified:
            ev.append(f"UNVERIFIED number: {r.label} = {r.value:g}% ({r.verification}); treat as reported, not as fact")
    scale_label = "tokens per question (log scale)" if "tokens" in unit else "setting"
    x = comp if np.isfinite(comp).all() else np.arange(1, len(pts) + 1, dtype=np.float64)
    points_out = pd.DataFrame(
        {
            "claim_id": claim.claim_id,
            "label": pts["label"],
            "metric": pts["metric"],
            "k": pts["k"],
            "x": x,
            "value": pts["value"],
            "sigma": 100 * lp_sigma(pts, q),
            "allowed_low": np.nan,
            "allowed_high": np.nan,
            "verified": pts["verified"],
            "verification": pts["verification"],
            "notes": pts["notes"],
        }
    )[list(POINT_OUT_COLUMNS)]
    fits = pd.DataFrame(columns=list(FIT_COLUMNS))
    return ClaimAudit(
        claim.claim_id,
        claim.title,
        "not testable",
        _flag_unverified(summary, pts),
        tuple(ev),
        fits,
        points_out,
        curves,
        source=claim.source,
        citation=claim.citation,
        x_label=scale_label,
        basis="compute axis is reasoning length" if "tokens" in unit else "not repeated sampling (greedy/budget)",
    )
