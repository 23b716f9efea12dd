"""Parametric families of i.i.d. sampling fitted by generalised least squares, with a parametric bootstrap.

Family members: p ~ w0 delta_0 + w1 delta_1 + (1 - w0 - w1) Beta(mean, concentration), wrong-answer share phi.
Criterion: chi2(theta) = r' S^-1 r over the equality points (r = published - predicted) plus (max(0, y -
m)/sigma)^2
for lower-bound (re-ranking) points. S is the covariance of the published numbers under the member: a
parametric
bootstrap over the stated number of questions Q (draw Q values of p, average each metric's per-question
success
probability) plus the within-question sampling variance E f(1 - f) min(1, k/n) / Q plus rounding^2/12 plus the
digitisation error^2. Two stages: fit with a diagonal binomial covariance, recompute S at the fit, refit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.optimize import minimize
from scipy.special import expit, logit
from scipy.stats import chi2 as chi2_dist

from harness.audit._kernels import beta_expect, beta_expect_scalar, kernel, p_grid

FloatArray = npt.NDArray[np.float64]
BOOT_GRID = p_grid(400)
B_REPS = 400


@dataclass(frozen=True)
class Member:
    """One member of the family: the spread of p and the wrong-answer share."""

    mean: float
    conc: float
    w0: float = 0.0
    w1: float = 0.0
    phi: float = 0.0


@dataclass(frozen=True)
class Fit:
    family: str
    structure: str
    member: Member
    chi2: float
    df: int
    n_params: int
    p_value: float
    region: tuple[float, float, float, float]  # mean lo, mean hi, conc lo, conc hi (beta family) or nan
    boot_p: FloatArray  # (B, Q) draws of p under the member, for bands
    cov: FloatArray


Spec = tuple[str, float, int]


def specs(points: pd.DataFrame) -> list[Spec]:
    """(metric, k, m) per point, as plain Python values (the optimiser's inner loop avoids pandas)."""
    return [
        (str(a), float(b), int(c))
        for a, b, c in zip(points["metric"].tolist(), points["k"].tolist(), points["m"].tolist(), strict=True)
    ]


def predict(points: pd.DataFrame | list[Spec], mb: Member) -> FloatArray:
    """Each point's expected value under the member."""
    sp = specs(points) if isinstance(points, pd.DataFrame) else points
    phi = round(mb.phi, 4)
    e = np.array([beta_expect_scalar(metric, k, m, phi, mb.mean, mb.conc) for metric, k, m in sp])
    return np.asarray(mb.w1 + (1.0 - mb.w0 - mb.w1) * e, dtype=np.float64)


def predict_curve(metric: str, ks: FloatArray, mb: Member) -> FloatArray:
    return np.array(
        [
            mb.w1
            + (1 - mb.w0 - mb.w1)
            * float(beta_expect(metric, float(k), 0, mb.phi, np.array(mb.mean), np.array(mb.conc)))
            for k in ks
        ]
    )


def draw_p(mb: Member, q: int, reps: int, seed: int) -> FloatArray:
    rng = np.random.default_rng(seed)
    u = rng.random((reps, q))
    a, b = mb.mean * mb.conc, (1 - mb.mean) * mb.conc
    p = rng.beta(max(a, 1e-8), max(b, 1e-8), size=(reps, q))
    return np.where(u < mb.w0, 0.0, np.where(u < mb.w0 + mb.w1, 1.0, p))


def grid_means(p: FloatArray, K: FloatArray) -> FloatArray:
    """Per replicate, the mean over questions of each column of K (kernels on BOOT_GRID, nearest point)."""
    idx = np.clip(np.searchsorted(BOOT_GRID, p), 0, len(BOOT_GRID) - 1)
    lo = np.clip(idx - 1, 0, len(BOOT_GRID) - 1)
    near = np.where(np.abs(BOOT_GRID[lo] - p) < np.abs(BOOT_GRID[idx] - p), lo, idx)
    counts = np.stack([np.bincount(row, minlength=len(BOOT_GRID)) for row in near]).astype(np.float64)
    return np.asarray(counts @ K / p.shape[1], dtype=np.float64)


def point_kernels(points: pd.DataFrame, phi: float, grid: FloatArray = BOOT_GRID) -> FloatArray:
    return np.column_stack([kernel(metric, k, m, phi, grid) for metric, k, m in specs(points)])


def _shared_counts_n(points: pd.DataFrame) -> int | None:
    """n when every point is a pass@k / G-Pass estimate from the same n samples per question, else None."""
    if not points["metric"].isin(["pass@k", "g-pass@k"]).all():
        return None
    n = points["n_samples"].to_numpy(dtype=float)
    k = points["k"].to_numpy(dtype=float)
    if np.isfinite(n).all() and len(set(n.tolist())) == 1 and (k <= n).all():
        return int(n[0])
    if (~np.isfinite(n)).all() and len(set(k.tolist())) == 1 and float(k[0]).is_integer():
        return int(k[0])  # one realisation of k samples per question (G-Pass with n not stated)
    return None


def _estimator_table(metric: str, k: int, m: int, n: int) -> FloatArray:
    """The unbiased estimator's value for c = 0..n correct of n (pass@k: 1 - C(n-c,k)/C(n,k); G-Pass:
    hypergeometric tail P(at least m of k))."""
    c = np.arange(n + 1)
    if metric == "pass@k":
        return np.asarray(1.0 - stats.hypergeom.pmf(0, n, c, k), dtype=np.float64)
    return np.asarray(stats.hypergeom.sf(m - 1, n, c, k), dtype=np.float64)


def bootstrap_cov(points: pd.DataFrame, mb: Member, q: float, seed: int) -> tuple[FloatArray, FloatArray]:
    """Covariance of the published points under the member (see the module docstring), and the p draws.

    When every point is an unbiased pass@k / G-Pass estimate from the same n samples per question, the
    replicates draw c ~ Bin(n, p) per question and apply the estimators, so the within-question noise enters
    with its exact correlation across points. Otherwise the between-question part comes from the replicates
    and the within-question part is the distribution-free bound at the published values (``within_bound``),
    which keeps S away from singular when the member puts its mass near p = 0 and 1.
    """
    J = len(points)
    extra = np.diag(points["sd_extra"].to_numpy() ** 2)
    if not np.isfinite(q):
        return extra + 1e-12 * np.eye(J), np.full((1, 1), mb.mean)
    qi = int(q)
    p = draw_p(mb, qi, B_REPS, seed)
    n_shared = _shared_counts_n(points)
    if n_shared is not None:
        rng = np.random.default_rng(seed + 1)
        c = rng.binomial(n_shared, p)
        tables = np.column_stack([_estimator_table(mt, int(k), m, n_shared) for mt, k, m in specs(points)])
        means = np.stack([tables[c[:, :]].mean(axis=1)[:, j] for j in range(J)], axis=1)
        total = np.atleast_2d(np.cov(means, rowvar=False))
        return total + extra + 1e-10 * np.eye(J), p
    K = point_kernels(points, mb.phi)
    means = grid_means(p, K)
    between = np.atleast_2d(np.cov(means, rowvar=False))
    return between + np.diag(within_bound(points, q)) + 1e-10 * np.eye(J), p


def within_bound(points: pd.DataFrame, q: float) -> FloatArray:
    """Distribution-free within-question variance of each point (fraction^2) plus rounding and digitisation:
    y (1 - y) min(1, k/n) / Q + rounding^2/12 + error^2 (n = k when the number of samples is not stated)."""
    y = points["y"].to_numpy(dtype=float)
    k = points["k"].to_numpy(dtype=float)
    n = points["n_samples"].to_numpy(dtype=float)
    ok = np.isfinite(n) & (n > 0)
    ratio = np.where(ok, np.minimum(1.0, k / np.where(ok, n, 1.0)), 1.0)
    extra = points["sd_extra"].to_numpy(dtype=float) ** 2
    if not np.isfinite(q):
        return np.asarray(extra, dtype=np.float64)
    yc = np.clip(y, 0.5 / q, 1 - 0.5 / q)
    return np.asarray(yc * (1 - yc) * ratio / q + extra, dtype=np.float64)


def _unpack(u: FloatArray, family: str, structure: str, phi_fixed: float) -> Member:
    mean = float(np.clip(expit(u[0]), 1e-4, 1 - 1e-4))
    conc = float(np.exp(np.clip(u[1], np.log(1e-2), np.log(1e4))))
    w0 = w1 = 0.0
    j = 2
    if family == "beta+masses":
        e = np.exp(np.concatenate(([0.0], np.clip(u[2:4], -30, 30))))
        w0, w1 = float(e[1] / e.sum()), float(e[2] / e.sum())
        j = 4
    phi = float(expit(u[j])) if structure == "free" else phi_fixed
    return Member(mean, conc, w0, w1, phi)


def _chi2(
    sp: list[Spec],
    y: FloatArray,
    mb: Member,
    Sinv: FloatArray,
    eq: npt.NDArray[np.bool_],
    sd_lower: FloatArray,
) -> float:
    pred = predict(sp, mb)
    r = (y - pred)[eq]
    val = float(r @ Sinv @ r) if eq.any() else 0.0
    low = ~eq
    if low.any():
        val += float(np.sum((np.maximum(0.0, y[low] - pred[low]) / sd_lower[low]) ** 2))
    return val if np.isfinite(val) else 1e12


def fit_family(points: pd.DataFrame, q: float, family: str, structure: str, *, seed: int = 0) -> Fit:
    """GLS fit of one family ('beta' or 'beta+masses') under one wrong-answer structure ('differ', 'agree',
    'free'
    or 'none' when no majority-vote point is present)."""
    y = points["y"].to_numpy()
    eq = (points["metric"] != "rerank@k").to_numpy()
    phi_fixed = {"differ": 0.0, "agree": 1.0}.get(structure, 0.0)
    qq = q if np.isfinite(q) else 1e6
    yc = np.clip(y, 0.5 / qq, 1 - 0.5 / qq)
    S0 = np.diag(yc * (1 - yc) / qq + points["sd_extra"].to_numpy() ** 2)
    n_params = 2 + (2 if family == "beta+masses" else 0) + (1 if structure == "free" else 0)
    g_mean, g_conc, g_phi = _grid_start(points, S0, eq, structure, phi_fixed)
    starts = []
    for m0, c0, w in ((g_mean, g_conc, -4.0), (g_mean, g_conc, -1.0)):
        u = [float(logit(m0)), float(np.log(c0))]
        if family == "beta+masses":
            u += [w, w]
        elif w != -4.0:
            continue
        if structure == "free":
            u += [float(logit(np.clip(g_phi, 0.02, 0.98)))]
        starts.append(np.array(u))

    def run(S: FloatArray, inits: list[FloatArray]) -> tuple[FloatArray, float]:
        Sinv = np.asarray(np.linalg.inv(S[np.ix_(eq, eq)]) if eq.any() else np.zeros((0, 0)), dtype=np.float64)
        sd = np.sqrt(np.diag(S))
        sp = specs(points)
        best_u, best = inits[0], np.inf
        for u0 in inits:
            res = minimize(
                lambda u: _chi2(sp, y, _unpack(u, family, structure, phi_fixed), Sinv, eq, sd),
                u0,
                method="Nelder-Mead",
                options={"xatol": 1e-3, "fatol": 1e-4, "maxiter": 250 * len(u0)},
            )
            if res.fun < best:
                best_u, best = np.asarray(res.x), float(res.fun)
        return best_u, best

    u1, _ = run(S0, starts)
    mb1 = _unpack(u1, family, structure, phi_fixed)
    S1, pdraw = bootstrap_cov(points, mb1, q, seed)
    u2, chi = run(S1, [u1, *starts])
    mb = _unpack(u2, family, structure, phi_fixed)
    J_eq = int(eq.sum())
    df = J_eq - n_params
    pval = float(chi2_dist.sf(chi, df)) if df >= 1 else float("nan")
    region = (float("nan"),) * 4
    if family == "beta":
        region = _region(points, S1, eq, mb, chi)
    if mb != mb1:
        _, pdraw = bootstrap_cov(points, mb, q, seed)
    return Fit(family, structure, mb, chi, df, n_params, pval, region, pdraw, S1)


def _grid_start(
    points: pd.DataFrame, S: FloatArray, eq: npt.NDArray[np.bool_], structure: str, phi_fixed: float
) -> tuple[float, float, float]:
    """The best (mean, concentration, phi) on a coarse grid: a start for Nelder-Mead."""
    means = np.linspace(0.02, 0.98, 25)
    concs = np.logspace(-1.5, 3, 19)
    M, C = np.meshgrid(means, concs, indexing="ij")
    y = points["y"].to_numpy()
    best = (np.inf, 0.5, 1.0, phi_fixed)
    Sinv = np.linalg.inv(S[np.ix_(eq, eq)]) if eq.any() else np.zeros((0, 0))
    sd = np.sqrt(np.diag(S))
    for phi in (0.0, 0.25, 0.5, 0.75, 1.0) if structure == "free" else (phi_fixed,):
        pred = np.stack([beta_expect(mt, k, m, phi, M, C) for mt, k, m in specs(points)], axis=-1)
        r = y - pred
        val = np.einsum("...i,ij,...j->...", r[..., eq], Sinv, r[..., eq])
        if (~eq).any():
            val = val + np.sum((np.maximum(0.0, r[..., ~eq]) / sd[~eq]) ** 2, axis=-1)
        i = np.unravel_index(int(np.nanargmin(val)), val.shape)
        if val[i] < best[0]:
            best = (float(val[i]), float(M[i]), float(C[i]), phi)
    return best[1], best[2], best[3]


def _region(
    points: pd.DataFrame, S: FloatArray, eq: npt.NDArray[np.bool_], mb: Member, chi_min: float
) -> tuple[float, float, float, float]:
    """Range of (mean, concentration) with chi2 <= min + chi2_0.95(2), the rest of the member held fixed."""
    means = np.linspace(0.005, 0.995, 60)
    concs = np.logspace(-2, 3, 41)
    M, C = np.meshgrid(means, concs, indexing="ij")
    y = points["y"].to_numpy()
    pred = np.stack(
        [mb.w1 + (1 - mb.w0 - mb.w1) * beta_expect(metric, k, m, mb.phi, M, C) for metric, k, m in specs(points)],
        axis=-1,
    )
    r = y - pred
    Sinv = np.linalg.inv(S[np.ix_(eq, eq)]) if eq.any() else np.zeros((0, 0))
    re = r[..., eq]
    val = np.einsum("...i,ij,...j->...", re, Sinv, re)
    low = ~eq
    if low.any():
        sd = np.sqrt(np.diag(S))[low]
        val = val + np.sum((np.maximum(0.0, r[..., low]) / sd) ** 2, axis=-1)
    ok = val <= chi_min + float(chi2_dist.ppf(0.95, 2))
    if not ok.any():
        return (mb.mean, mb.mean, mb.conc, mb.conc)
    return (float(M[ok].min()), float(M[ok].max()), float(C[ok].min()), float(C[ok].max()))
