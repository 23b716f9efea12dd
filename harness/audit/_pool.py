"""Points from one pool of samples: exact constraints, the joint first-success test, pooled estimators.

Published numbers of one claim (pass@k at several k, maj@k beside pass@k) are usually computed from one set
of samples per question, so they are strongly correlated and some relations hold for them exactly, whatever
the model did. Two ways of turning one pool into numbers are covered:

* first-k reporting: question q's samples in order, number = share of questions solved within the first k
  (one run, "solved within k attempts");
* pooled symmetric estimators: the unbiased pass@k 1 - C(n-c, k)/C(n, k) from n >= k samples (Chen et al.
  2021, arXiv 2107.03374), the hypergeometric G-Pass@k (Liu et al. 2024, arXiv 2412.13147), the U-statistic
  maj@k over k-subsets. These are expectations over a uniformly random order of the pool, i.e. the law of a
  finite exchangeable sequence of length n.

Exact for both (checked as hard constraints up to the published rounding): pass@k is non-decreasing in k;
maj@k <= pass@k' for k' >= k (a majority is right only if some sample is); maj@1 = pass@1; G-Pass@k at one k
is non-increasing in its threshold.

Exact for pooled estimators only (a_k = 1 - pass@k on the integer grid, n samples per question): every
finite difference alternates in sign, (-1)^j Delta^j a_k >= 0 for k + j <= n, because (-1)^j Delta^j a_k is
the probability that k given draws of the pool fail and j other given draws succeed (inclusion-exclusion
over an exchangeable sequence). The set of values the estimator can take, averaged over questions, is the
convex hull of the per-question vectors at c = 0..n correct (checked by a feasibility LP). It contains
pass@2 <= 2 pass@1 (j = 2, k = 0) and pass@2 <= 2 pass@1 - pass@1 (n pass@1 - 1)/(n - 1) (Jensen over the
questions' c), which tends to the i.i.d. bound 2 pass@1 - pass@1^2 only as n grows: the i.i.d. bound itself
holds for the U-statistic in expectation, not exactly. So pooled numbers pass the moment checks by
construction; a violation of the hull is a reporting error, not evidence about sampling.

Statistical test for one pool (first-k or pooled): the first-success index T of a question (the first
successful attempt; T > K if none) falls in the cells (k_{i-1}, k_i] of the published grid; the cell shares
d_i = pass@k_i - pass@k_{i-1} are a mean of independent, non-identical categorical vectors, whose covariance
(diag(pi) - mean_q pi_q pi_q') / Q is bounded above in PSD order by the multinomial covariance
(diag(pi) - pi pi') / Q at the mean pi (Cauchy-Schwarz). A pooled estimator is the conditional expectation
of the first-k numbers given the pool (a random order), so its covariance is smaller still (Rao-Blackwell).
Under i.i.d. sampling with spread F, d_i = E[(1-p)^{k_{i-1}} - (1-p)^{k_i}]: the statistic
T = min_F (d - d_F)' S^-1 (d - d_F) is at most the quadratic form at the true F, which is asymptotically
at most chi-square with J degrees of freedom (J published coverage points), so chi2_J is a conservative
reference. S is evaluated at the published cell shares (floored at 0.5/Q) and adds rounding (r^2/12) and
digitisation error. The cells are the published k thinned to a doubling grid (:func:`doubling_grid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.optimize import nnls
from scipy.stats import chi2 as chi2_dist

from harness.audit._kernels import p_grid
from harness.audit._lp import LPSolveError, _solve

FloatArray = npt.NDArray[np.float64]
COV_GRID = p_grid(300)


@dataclass(frozen=True)
class Check:
    """One check: status 'pass', 'fail', 'info' (reports a range, cannot fail) or 'error' (not computed)."""

    name: str
    status: str
    detail: str


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.1f}%"


def tolerance(pts: pd.DataFrame) -> FloatArray:
    """Per point, the half-width a published number may sit from its exact value: half the rounding
    resolution plus three digitisation standard deviations (fraction)."""
    return np.asarray(
        pts["half_res"].to_numpy(dtype=float) + 3.0 * pts["err"].to_numpy(dtype=float) + 1e-9, dtype=np.float64
    )


def coverage_points(pts: pd.DataFrame) -> pd.DataFrame:
    """pass@k points (and maj@1, which is pass@1) with distinct k, sorted by k (first of duplicates kept)."""
    metric = pts["metric"].to_numpy()
    k = pts["k"].to_numpy(dtype=float)
    keep = (metric == "pass@k") | ((metric == "maj@k") & (k == 1))
    cov = pts[keep].assign(_order=np.where(pts.loc[keep, "metric"] == "pass@k", 0, 1))
    cov = cov.sort_values(["k", "_order"], kind="stable").drop_duplicates("k")
    return pd.DataFrame(cov.drop(columns="_order"))


# ----------------------------------------------------------------------------- exact constraints
def hard_checks(pts: pd.DataFrame) -> list[Check]:
    """Constraints exact for any one pool (first-k or pooled), up to rounding; one Check per kind."""
    out: list[Check] = []
    y = pts["y"].to_numpy(dtype=float)
    k = pts["k"].to_numpy(dtype=float)
    m = pts["m"].to_numpy()
    metric = pts["metric"].to_numpy()
    tol = tolerance(pts)
    label = pts["label"].astype(str).to_numpy()
    cov_idx = [i for i in range(len(pts)) if metric[i] == "pass@k" or (metric[i] == "maj@k" and k[i] == 1)]
    pairs = [(i, j) for i in cov_idx for j in cov_idx if k[i] < k[j]]
    if pairs:
        gap = [(y[i] - y[j] - tol[i] - tol[j], i, j) for i, j in pairs]
        worst, i, j = max(gap)
        out.append(
            Check(
                "pass@k non-decreasing in k (one pool)",
                "fail" if worst > 0 else "pass",
                f"solved within {k[i]:g} attempt{'s' if k[i] != 1 else ''} implies solved within {k[j]:g}; "
                + (
                    f"{label[i]} = {_pct(y[i])} exceeds {label[j]} = {_pct(y[j])} beyond rounding"
                    if worst > 0
                    else f"every pair ordered within rounding (closest: {label[i]} {_pct(y[i])} vs "
                    f"{label[j]} {_pct(y[j])})"
                ),
            )
        )
    p1 = [i for i in range(len(pts)) if metric[i] == "pass@k" and k[i] == 1]
    m1 = [i for i in range(len(pts)) if metric[i] == "maj@k" and k[i] == 1]
    if p1 and m1:
        i, j = p1[0], m1[0]
        bad = abs(y[i] - y[j]) > tol[i] + tol[j]
        out.append(
            Check(
                "maj@1 = pass@1 (one pool)",
                "fail" if bad else "pass",
                f"one vote is one sample: {_pct(y[j])} vs {_pct(y[i])}",
            )
        )
    maj_pairs = [
        (y[j] - y[i] - tol[i] - tol[j], j, i)
        for j in range(len(pts))
        if metric[j] == "maj@k" and k[j] > 1
        for i in cov_idx
        if k[i] >= k[j]
    ]
    if maj_pairs:
        worst, j, i = max(maj_pairs)
        out.append(
            Check(
                f"maj@{k[j]:g} <= pass@{k[i]:g} (one pool)",
                "fail" if worst > 0 else "pass",
                f"a majority of the first {k[j]:g} (or of any {k[j]:g}-subset) is right only if one of them is: "
                f"maj@{k[j]:g} = {_pct(y[j])} vs coverage pass@{k[i]:g} = {_pct(y[i])}",
            )
        )
    gp = [i for i in range(len(pts)) if metric[i] == "g-pass@k"]
    gpairs = [(y[j] - y[i] - tol[i] - tol[j], i, j) for i in gp for j in gp if k[i] == k[j] and m[j] > m[i]]
    if gpairs:
        worst, i, j = max(gpairs)
        out.append(
            Check(
                "G-Pass non-increasing in its threshold (one pool)",
                "fail" if worst > 0 else "pass",
                f"at least {m[j]} of {k[j]:g} correct implies at least {m[i]}: {label[j]} = {_pct(y[j])} vs "
                f"{label[i]} = {_pct(y[i])}",
            )
        )
    return out


def pooled_n(pts: pd.DataFrame) -> int | None:
    """Samples per question behind a claim's pooled pass@k / G-Pass points (stated n, or the largest k when
    n is not stated: the weakest exact constraint); None when no point is a pooled estimator."""
    sel = pts["pooled"].to_numpy(dtype=bool) & pts["metric"].isin(["pass@k", "g-pass@k"]).to_numpy()
    if not sel.any():
        return None
    n = pts.loc[sel, "n_samples"].to_numpy(dtype=float)
    kmax = int(pts.loc[sel, "k"].max())
    stated = n[np.isfinite(n)]
    return int(max(kmax, int(stated.min()) if len(stated) else kmax))


def estimator_table(metric: str, k: int, m: int, n: int) -> FloatArray:
    """The pooled estimator's value for c = 0..n correct of n (pass@k: 1 - C(n-c,k)/C(n,k); G-Pass:
    hypergeometric tail P(at least m of k))."""
    c = np.arange(n + 1)
    if metric == "pass@k":
        return np.asarray(1.0 - stats.hypergeom.pmf(0, n, c, k), dtype=np.float64)
    return np.asarray(stats.hypergeom.sf(m - 1, n, c, k), dtype=np.float64)


def hull_check(pts: pd.DataFrame) -> Check | None:
    """Can the pooled points be produced by their estimator from any pool of n samples per question?

    A feasibility LP over the share of questions with c = 0..n correct (exact up to rounding)."""
    n = pooled_n(pts)
    if n is None:
        return None
    sel = pts["pooled"].to_numpy(dtype=bool) & pts["metric"].isin(["pass@k", "g-pass@k"]).to_numpy()
    sub = pts[sel]
    if len(sub) < 2:
        return None
    n = min(n, 2000)
    A = np.vstack(
        [estimator_table(str(r.metric), int(r.k), int(r.m), n) for r in sub.itertuples()]  # type: ignore[arg-type]
    )
    y = sub["y"].to_numpy(dtype=float)
    tol = tolerance(sub)
    name = f"pooled-estimator hull at n = {n} (exact)"
    try:
        res = _solve(
            c=np.zeros(n + 1),
            A_ub=np.vstack([A, -A]),
            b_ub=np.concatenate([y + tol, -y + tol]),
            A_eq=np.ones((1, n + 1)),
            b_eq=[1.0],
            bounds=[(0, None)] * (n + 1),
        )
    except LPSolveError as exc:
        return Check(name, "error", str(exc))
    ok = res.status == 0
    return Check(
        name,
        "pass" if ok else "fail",
        (
            f"the {len(sub)} pooled numbers are averages over questions of their estimator at some counts of "
            f"correct samples out of {n}"
            if ok
            else f"no mix of questions with 0..{n} correct out of {n} samples gives these {len(sub)} numbers "
            "within rounding: they cannot come from the stated estimator (a reporting error)"
        ),
    )


# ----------------------------------------------------------------------------- the joint first-success test
@dataclass(frozen=True)
class CovTest:
    """The first-success (joint covariance) test of one claim's coverage points."""

    statistic: float
    df: int
    p_value: float
    ks: tuple[float, ...]


def _cell_design(ks: FloatArray, grid: FloatArray) -> FloatArray:
    """A[i, atom] = (1-p)^{k_{i-1}} - (1-p)^{k_i}, k_0 = 0 (share of questions first solved in cell i)."""
    with np.errstate(divide="ignore"):
        lq = np.log1p(-np.minimum(grid, 1.0))
    surv = np.vstack([np.ones_like(grid)] + [np.where(grid >= 1.0, 0.0, np.exp(kk * lq)) for kk in ks])
    return np.asarray(surv[:-1] - surv[1:], dtype=np.float64)


def separate_runs_test(A: FloatArray, y: FloatArray, sigma: FloatArray) -> tuple[float, float]:
    """Chi-square of the closest i.i.d. mixture when every point is a separate run (independent noise):
    T = min_w sum ((y_i - A_i w) / sigma_i)^2 <= the same sum at the true mixture, ~ chi2_J; (T, p-value)."""
    stat, _ = _project(y, A, np.diag(sigma**2))
    return stat, float(chi2_dist.sf(stat, len(y)))


def _cov(pi: FloatArray, q: float, D_round: FloatArray) -> FloatArray:
    J = len(pi)
    floor = 0.5 / q
    p = np.clip(pi, floor, None)
    p = p * min(1.0, (1.0 - floor) / max(p.sum(), 1e-12))
    return np.asarray((np.diag(p) - np.outer(p, p)) / q + D_round + 1e-12 * np.eye(J), dtype=np.float64)


def _project(d: FloatArray, A: FloatArray, S: FloatArray) -> tuple[float, FloatArray]:
    """min over probability vectors w of (d - A w)' S^-1 (d - A w), and the minimising A w."""
    L = np.linalg.cholesky(S)
    M = np.linalg.solve(L, A)
    r = np.linalg.solve(L, d)
    lam = 100.0 * max(1.0, float(np.abs(M).max()))
    w, _ = nnls(np.vstack([M, lam * np.ones((1, A.shape[1]))]), np.concatenate([r, [lam]]), maxiter=50 * A.shape[1])
    w = w / max(w.sum(), 1e-300)
    fit = A @ w
    e = np.linalg.solve(L, d - fit)
    return float(e @ e), np.asarray(fit, dtype=np.float64)


def doubling_grid(ks: FloatArray) -> npt.NDArray[np.int64]:
    """Indices of the published k kept by the joint test: greedily from the smallest, each next k at least
    twice the last kept, and always the largest (k = 1..32 -> 1, 2, 4, 8, 16, 32). Fewer, wider cells
    concentrate the contrasts where feedback between attempts shows; the choice uses the k grid only, never the
    values. Measured on simulated claims (docs/methods/audit.md): with every k of 1..32 as a cell the test keeps
    its size but loses most of its power (0.025 instead of 0.55 at boost 0.1, 200 questions)."""
    keep = [0]
    for i in range(1, len(ks)):
        if ks[i] >= 2 * ks[keep[-1]]:
            keep.append(i)
    if keep[-1] != len(ks) - 1:
        keep.append(len(ks) - 1)
    return np.asarray(keep, dtype=np.int64)


def first_success_test(pts: pd.DataFrame, q: float) -> CovTest | None:
    """The joint test of a claim's coverage points from one pool (see the module docstring); None when fewer
    than 2 distinct k or no number of questions. Cells on :func:`doubling_grid`; covariance at the published
    cell shares (floored at half a question)."""
    cov = coverage_points(pts)
    if len(cov) < 2 or not np.isfinite(q):
        return None
    cov = cov.iloc[doubling_grid(cov["k"].to_numpy(dtype=float))]
    ks = cov["k"].to_numpy(dtype=float)
    y = cov["y"].to_numpy(dtype=float)
    J = len(ks)
    d = np.diff(np.concatenate([[0.0], y]))
    # rounding and digitisation of the published y enter the cell shares through differences
    var_y = (2 * cov["half_res"].to_numpy(dtype=float)) ** 2 / 12.0 + cov["err"].to_numpy(dtype=float) ** 2
    Dm = np.eye(J) - np.eye(J, k=-1)
    D_round = Dm @ np.diag(var_y) @ Dm.T
    A = _cell_design(ks, COV_GRID)
    stat, _fit = _project(d, A, _cov(d, q, D_round))
    return CovTest(stat, J, float(chi2_dist.sf(stat, J)), tuple(float(v) for v in ks))


def cov_check(test: CovTest, level: float) -> Check:
    return Check(
        "joint first-success test (one-pool reading)",
        "fail" if test.p_value < level else "pass",
        f"the shares of questions first solved in each interval of k differ from the closest i.i.d. spread of p "
        f"(k = {', '.join(f'{v:g}' for v in test.ks)}) by chi-square {test.statistic:.2f} "
        f"on at most {test.df} df (p = {test.p_value:.3g}; rejects below "
        f"{level:.3g}); multinomial covariance of the first success as an upper bound",
    )
