"""Power of the one-pool verdict on majority-vote claims against sequential refinement (simulated, cached).

The named alternative for votes (issue 11): attempt j = 0, 1, ... of a question is correct with probability
1 - (1 - p)(1 - boost)^j; a wrong attempt gives the question's dominant wrong answer with probability phi and
otherwise an answer that never repeats (the vote model of ``_kernels``, without unparsed samples). p ~
Beta(mean, concentration) and phi are the fitted null: the beta member with a fitted wrong-answer share that
best matches the claim's own points (the coarse grid of ``_fit._grid_start``, diagonal binomial covariance).
Numbers are reported as "majority of the first k attempts" (ties split evenly; pass@k, when published beside
the votes, as solved within the first k). Each simulated claim has the claim's number of questions, metrics,
k grid and rounding, and goes through the claim's own one-pool decision (:func:`vote_rejects_many`, the same
checks as ``_audit.run_tests``, checked against it in the tests).

The exact one-pool constraints (maj@k <= pass@k', monotone coverage, maj@1 = pass@1) hold for every ordered
run, refined or not: they have no power against this alternative by construction; any power comes from the LP
box test and the z-checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import comb, roots_jacobi
from scipy.stats import beta as beta_dist
from scipy.stats import chi2 as chi2_dist

from harness.audit._fit import _grid_start
from harness.audit._kernels import grid_kernel
from harness.audit._lp import ALPHA, LPSolveError, _rows, _solve, min_max_deviation, z_crit
from harness.audit._pool import COV_GRID, _cell_design, _cov, _project, coverage_points, doubling_grid, tolerance

FloatArray = npt.NDArray[np.float64]
Template = tuple[tuple[str, float, float, float, float, float], ...]
"""Per point: (metric, k, half_res, err, n_samples, sd_extra) - everything the decision needs besides the values
(sd_extra, the rounding and digitisation standard deviation the noise uses, is only set when the claim states
its rounding; half_res, the exact constraints' tolerance, also comes from the decimals written)."""


def simulate_votes_first_k(
    rng: np.random.Generator,
    q: int,
    spec: tuple[tuple[str, float], ...],
    boost: float,
    mean: float,
    conc: float,
    phi: float,
    reps: int,
) -> FloatArray:
    """(reps, len(spec)) published numbers of simulated refinement claims, as fractions: maj@k = majority of
    the first k attempts (ties split evenly), pass@k = solved within the first k."""
    kmax = int(max(k for _m, k in spec))
    a, b = max(mean * conc, 1e-8), max((1 - mean) * conc, 1e-8)
    p = rng.beta(a, b, size=(reps, q))
    j = np.arange(kmax)
    pj = 1.0 - (1.0 - p[..., None]) * (1.0 - boost) ** j
    u = rng.random((reps, q, kmax))
    correct = u < pj
    # given a wrong attempt, u is uniform on [pj, 1): the dominant wrong answer with probability phi
    dominant = ~correct & (u < pj + phi * (1.0 - pj))
    cx = np.cumsum(correct, axis=-1, dtype=np.int32)
    cy = np.cumsum(dominant, axis=-1, dtype=np.int32)
    out = np.empty((reps, len(spec)))
    for c, (metric, kk) in enumerate(spec):
        x, y = cx[..., int(kk) - 1], cy[..., int(kk) - 1]
        if metric == "pass@k":
            out[:, c] = (x >= 1).mean(axis=1)
            continue
        # x >= 2 ties only with the dominant answer; a single correct vote ties with the k - 1 one-vote classes
        # when the dominant answer has at most one vote (without unparsed samples 1 + U + [Y = 1] = k)
        credit = np.where(x >= 2, (x > y) + 0.5 * (x == y), np.where((x == 1) & (y <= 1), 1.0 / kk, 0.0))
        out[:, c] = credit.mean(axis=1)
    return out


def claim_template(pts: pd.DataFrame) -> Template:
    """A claim's points as a :data:`Template` (in the given row order)."""
    return tuple(
        (str(m), float(k), float(h), float(e), float(n), float(x))
        for m, k, h, e, n, x in zip(
            pts["metric"].tolist(),
            pts["k"].tolist(),
            pts["half_res"].tolist(),
            pts["err"].tolist(),
            pts["n_samples"].tolist(),
            pts["sd_extra"].tolist(),
            strict=True,
        )
    )


def template_points(template: Template, vals: FloatArray) -> pd.DataFrame:
    """A points table (the columns the checks read) for one row of values."""
    metric = [t[0] for t in template]
    k = np.array([t[1] for t in template])
    half_res = np.array([t[2] for t in template])
    err = np.array([t[3] for t in template])
    return pd.DataFrame(
        {
            "metric": metric,
            "k": k,
            "m": 0,
            "y": vals,
            "half_res": half_res,
            "err": err,
            "sd_extra": np.array([t[5] for t in template]),
            "n_samples": np.array([t[4] for t in template]),
            "label": [f"{m.replace('@k', '')}@{kk:g}" for m, kk in zip(metric, k, strict=True)],
            "pooled": False,
        }
    )


@dataclass(frozen=True)
class _Decision:
    """The one-pool decision's structure for one template (as ``_audit.run_tests`` builds it per claim)."""

    tol: FloatArray
    ratio: FloatArray
    extra: FloatArray
    zc: float
    level: float
    non_cov: bool
    mono: tuple[tuple[int, int], ...]  # (i, j): coverage at k_i <= coverage at k_j (exact)
    p1_m1: tuple[int, int] | None  # maj@1 = pass@1 (exact)
    maj_cov: tuple[tuple[int, int], ...]  # (j, i): maj@k_j <= coverage at k_i >= k_j (exact)
    one_two: tuple[int, int] | None  # maj@1 <= maj@2 <= 2 maj@1 - maj@1^2 (z)
    z_pairs: tuple[tuple[int, int], ...]  # (j, i): maj@k_j <= pass@k_i (z)
    keep: npt.NDArray[np.int64] | None  # coverage points of the joint first-success test
    A_cov: FloatArray
    D_round: FloatArray
    A: FloatArray  # the LP design


@lru_cache(maxsize=64)
def _design(template: Template) -> FloatArray:
    """The LP design of ``_audit.run_tests`` for this template (atoms: p grid x vote structures), from the
    cached grid kernels."""
    from harness.audit._audit import vote_structures

    has_maj = any(t[0] == "maj@k" for t in template)
    structs = vote_structures(has_maj)
    size = 200 if has_maj else 300
    A = np.vstack([np.concatenate([grid_kernel(t[0], t[1], 0, ph, ab, size) for ph, ab in structs]) for t in template])
    A.setflags(write=False)
    return A


@lru_cache(maxsize=64)
def _prepare(template: Template, q: float) -> _Decision:
    pts = template_points(template, np.zeros(len(template)))
    metric = pts["metric"].to_numpy()
    k = pts["k"].to_numpy(dtype=float)
    J = len(pts)
    nsamp = pts["n_samples"].to_numpy(dtype=float)
    ok = np.isfinite(nsamp) & (nsamp > 0)
    cov_pts = coverage_points(pts)
    has_cov_test = len(cov_pts) >= 2 and np.isfinite(q)
    non_cov = bool(((metric != "pass@k") & ~((metric == "maj@k") & (k == 1))).any())
    level = ALPHA / max(int(has_cov_test) + int(non_cov), 1)
    cov = [i for i in range(J) if metric[i] == "pass@k" or (metric[i] == "maj@k" and k[i] == 1)]
    p1 = [i for i in range(J) if metric[i] == "pass@k" and k[i] == 1]
    m1 = [i for i in range(J) if metric[i] == "maj@k" and k[i] == 1]
    one = [i for i in range(J) if metric[i] in ("pass@k", "maj@k") and k[i] == 1]
    two = [i for i in range(J) if metric[i] == "maj@k" and k[i] == 2]
    keep = A_cov = D_round = None
    if has_cov_test:
        keep = cov_pts.index.to_numpy()[doubling_grid(cov_pts["k"].to_numpy(dtype=float))]
        A_cov = _cell_design(k[keep], COV_GRID)
        var_y = (2 * pts["half_res"].to_numpy(dtype=float)[keep]) ** 2 / 12.0 + pts["err"].to_numpy(dtype=float)[
            keep
        ] ** 2
        Dm = np.eye(len(keep)) - np.eye(len(keep), k=-1)
        D_round = Dm @ np.diag(var_y) @ Dm.T
    return _Decision(
        tol=tolerance(pts),
        ratio=np.where(ok, np.minimum(1.0, k / np.where(ok, nsamp, 1.0)), 1.0),
        extra=pts["sd_extra"].to_numpy(dtype=float) ** 2,
        zc=z_crit(J, level),
        level=level,
        non_cov=non_cov,
        mono=tuple((i, j) for i in cov for j in cov if k[i] < k[j]),
        p1_m1=(p1[0], m1[0]) if p1 and m1 else None,
        maj_cov=tuple((j, i) for j in range(J) if metric[j] == "maj@k" and k[j] > 1 for i in cov if k[i] >= k[j]),
        one_two=(one[0], two[0]) if non_cov and one and two else None,
        z_pairs=tuple(
            (j, i)
            for j in range(J)
            if non_cov and metric[j] == "maj@k"
            for i in range(J)
            if metric[i] == "pass@k" and k[i] >= k[j]
        ),
        keep=keep,
        A_cov=np.zeros((0, 0)) if A_cov is None else A_cov,
        D_round=np.zeros((0, 0)) if D_round is None else D_round,
        A=_design(template),
    )


def _exact_fail(dec: _Decision, y: FloatArray) -> bool:
    """An exact one-pool constraint fails beyond rounding (``_pool.hard_checks``)."""
    t = dec.tol
    if any(y[i] - y[j] - t[i] - t[j] > 0 for i, j in dec.mono):
        return True
    if dec.p1_m1 is not None and abs(y[dec.p1_m1[0]] - y[dec.p1_m1[1]]) > t[dec.p1_m1[0]] + t[dec.p1_m1[1]]:
        return True
    return any(y[j] - y[i] - t[i] - t[j] > 0 for j, i in dec.maj_cov)


def _z_fail(dec: _Decision, y: FloatArray, sig: FloatArray) -> bool:
    """A z-check fails (``_audit._specific_checks``: the maj@2 bracket and maj@k <= pass@k')."""
    if dec.one_two is not None:
        i, j = dec.one_two
        sd = float(np.hypot(sig[i], sig[j]))
        if max((y[i] - y[j]) / sd, (y[j] - (2 * y[i] - y[i] ** 2)) / sd) > dec.zc:
            return True
    return any((y[j] - y[i]) / np.hypot(sig[i], sig[j]) > dec.zc for j, i in dec.z_pairs)


def _first_success_fail(dec: _Decision, y: FloatArray, q: float) -> bool:
    if dec.keep is None:
        return False
    d = np.diff(np.concatenate([[0.0], y[dec.keep]]))
    stat, _fit = _project(d, dec.A_cov, _cov(d, q, dec.D_round))
    return float(chi2_dist.sf(stat, len(dec.keep))) < dec.level


def _box_lp(A: FloatArray, y: FloatArray, sig: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """``_lp.min_max_deviation`` (the same programme and solver), returning s*, the fitted values A w and the
    dual direction r (r_i = multiplier of the upper row minus that of the lower row of point i)."""
    n = A.shape[1]
    G, h = _rows(A, y, sig, np.zeros(len(y), dtype=bool), None)
    c = np.zeros(n + 1)
    c[-1] = 1.0
    A_eq = np.concatenate((np.ones(n), [0.0]))[None, :]
    res = _solve(c=c, A_ub=G, b_ub=h, A_eq=A_eq, b_eq=[1.0], bounds=[(0, None)] * (n + 1))
    x = np.asarray(res.x)
    m = np.asarray(res.ineqlin.marginals, dtype=np.float64)
    return float(x[-1]), np.asarray(A @ x[:-1]), np.asarray(m[0::2] - m[1::2])


@dataclass
class _Certificates:
    """Per template, what earlier LPs proved (speed only; each decision is the LP's own):

    * fitted values A w of earlier solutions: s* <= max_i |A_i w - y_i| / sigma_i for any w in the simplex;
    * dual directions r with m = min over atoms of r' A_atom: s* >= (m - r' y) / sum_i |r_i| sigma_i for any r
      (for w in the simplex r'(A w - y) >= m - r' y, while |A w - y| <= s sigma gives r'(A w - y) <= s sum |r_i|
      sigma_i), with equality at the LP's own dual (minimax duality)."""

    fitted: list[FloatArray]
    duals: list[tuple[FloatArray, float]]


_CERTS: dict[Template, _Certificates] = {}
MAX_CERTS = 100


def _box_rejects(dec: _Decision, template: Template, y: FloatArray, sig: FloatArray) -> bool:
    """s* > z for the LP box test, from stored certificates when they settle it, else from the LP."""
    cert = _CERTS.setdefault(template, _Certificates([], []))
    if cert.fitted and float(np.max(np.abs(np.vstack(cert.fitted) - y) / sig, axis=1).min()) <= dec.zc:
        return False
    for r, m in cert.duals:
        if (m - float(r @ y)) / float(np.abs(r) @ sig) > dec.zc:
            return True
    try:
        s_star, fit, r = _box_lp(dec.A, y, sig)
    except LPSolveError:
        return False  # a numerical failure is not a rejection (as in run_tests)
    if s_star <= dec.zc and len(cert.fitted) < MAX_CERTS:
        cert.fitted.append(fit)
    if s_star > dec.zc and len(cert.duals) < MAX_CERTS and np.abs(r).sum() > 0:
        for rr in (r, -r):
            cert.duals.append((rr, float((rr @ dec.A).min())))
    return s_star > dec.zc


def vote_rejects_many(vals: FloatArray, template: Template, q: float) -> npt.NDArray[np.bool_]:
    """``run_tests(...).pool_rejects`` for many first-k claims of pass@k / maj@k points on one template (rows of
    ``vals``), with the design, critical values and tolerances computed once.

    The LP box test is decided exactly but cheaply (:class:`_Certificates`): a claim is within tolerance when an
    earlier LP solution is within z standard errors of every point, and beyond it when an earlier LP's dual
    direction already bounds s* above z; only the others solve the LP, whose solution joins the certificates."""
    dec = _prepare(template, q)
    out = np.zeros(len(vals), dtype=bool)
    for r, y in enumerate(vals):
        yc = np.clip(y, 0.5 / q, 1 - 0.5 / q)
        sig = np.sqrt(yc * (1 - yc) * dec.ratio / q + dec.extra) + 1e-6  # _audit.lp_sigma
        if _exact_fail(dec, y) or _z_fail(dec, y, sig) or _first_success_fail(dec, y, q):
            out[r] = True
        elif dec.non_cov:
            out[r] = _box_rejects(dec, template, y, sig)
    return out


def fitted_null(pts: pd.DataFrame, q: float) -> tuple[float, float, float]:
    """(mean, concentration, phi) of the beta member with a fitted wrong-answer share closest to the claim's
    points (coarse grid, diagonal binomial covariance; ``_fit._grid_start``)."""
    y = pts["y"].to_numpy(dtype=float)
    yc = np.clip(y, 0.5 / q, 1 - 0.5 / q)
    S0 = np.diag(yc * (1 - yc) / q + pts["sd_extra"].to_numpy(dtype=float) ** 2)
    eq = np.ones(len(pts), dtype=bool)
    mean, conc, phi = _grid_start(pts, S0, eq, "free", 0.0)
    return round(mean, 3), float(f"{conc:.3g}"), phi


@lru_cache(maxsize=128)
def vote_refinement_power(
    q: int, template: Template, boost: float, mean: float, conc: float, phi: float, sims: int
) -> float:
    """Share of simulated refinement claims the one-pool decision rejects (seeded by the inputs)."""
    spec = tuple((t[0], t[1]) for t in template)
    rng = np.random.default_rng([q, len(spec), int(1000 * boost), int(1000 * mean), int(100 * phi), 7])
    vals = simulate_votes_first_k(rng, q, spec, boost, mean, conc, phi, sims)
    step = 2 * np.array([t[2] for t in template])
    vals = np.where(step > 0, np.round(vals / np.where(step > 0, step, 1)) * step, vals)
    return float(np.mean(vote_rejects_many(vals, template, float(q))))


@lru_cache(maxsize=64)
def pooled_maj_table(k: int, n: int) -> FloatArray:
    """T[c, d] = the majority-vote U-statistic over the k-subsets of a pool of n samples with c correct, d on the
    dominant wrong answer and n - c - d on answers that never repeat (ties split evenly): the expectation over a
    uniformly random k-subset, whose (correct, dominant) counts are multivariate hypergeometric. Its mean under
    (c, d) ~ Multinomial(n; p, (1-p) phi, (1-p)(1-phi)) is the maj@k kernel (checked in the tests)."""
    x = np.arange(k + 1)[:, None]
    y = np.arange(k + 1)[None, :]
    credit = np.where(x >= 2, (x > y) + 0.5 * (x == y), np.where((x == 1) & (y <= 1), 1.0 / k, 0.0))
    credit = np.where(x + y <= k, credit, 0.0)
    out = np.full((n + 1, n + 1), np.nan)
    total = comb(n, k, exact=False)
    for c in range(n + 1):
        for d in range(n + 1 - c):
            w = comb(c, x) * comb(d, y) * comb(n - c - d, k - x - y) / total
            out[c, d] = float(np.sum(np.where(x + y <= k, w, 0.0) * credit))
    out.setflags(write=False)
    return out


def expected_refinement(
    spec: tuple[tuple[str, float], ...], boost: float, mean: float, conc: float, phi: float
) -> FloatArray:
    """The noise-free numbers of the alternative (infinitely many questions), exactly: a recursion over
    attempts on the joint law of (correct votes, dominant wrong votes) after j attempts, per p; each number is a
    polynomial of degree <= max k in p, so Gauss-Jacobi quadrature for the Beta spread with max k / 2 + 2 nodes
    integrates it exactly (up to rounding; checked against the closed form at boost 0 in the tests). Above
    concentration 500 the midpoint rule on 200 quantiles instead."""
    a, b = max(mean * conc, 1e-8), max((1 - mean) * conc, 1e-8)
    kmax = int(max(k for _m, k in spec))
    if conc <= 500.0:
        with np.errstate(invalid="ignore", divide="ignore"):  # scipy evaluates an unused 0/0 branch at a + b = 1
            x_nodes, w_nodes = roots_jacobi(kmax // 2 + 2, b - 1.0, a - 1.0)  # weight (1-x)^(b-1) (1+x)^(a-1)
        p = np.clip((x_nodes + 1.0) / 2.0, 0.0, 1.0)
        weights = w_nodes / w_nodes.sum()
    else:  # the Jacobi weights overflow; so narrow a spread is integrated by the midpoint rule on its quantiles
        p = beta_dist.ppf((np.arange(200) + 0.5) / 200, a, b)
        weights = np.full(200, 1 / 200)
    nodes = len(p)
    law = np.zeros((nodes, kmax + 1, kmax + 1))
    law[:, 0, 0] = 1.0
    surv = np.ones(nodes)
    at: dict[int, tuple[FloatArray, FloatArray]] = {}
    wanted = {int(k) for _m, k in spec}
    x = np.arange(kmax + 1)[:, None]
    y = np.arange(kmax + 1)[None, :]
    for j in range(kmax):
        pc = (1.0 - (1.0 - p) * (1.0 - boost) ** j)[:, None, None]
        nxt = law * (1.0 - pc) * (1.0 - phi)  # a wrong answer that never repeats
        nxt[:, 1:, :] += law[:, :-1, :] * pc  # correct
        nxt[:, :, 1:] += law[:, :, :-1] * (1.0 - pc) * phi  # the dominant wrong answer
        law = nxt
        surv = surv * (1.0 - pc[:, 0, 0])
        kk = j + 1
        if kk in wanted:
            credit = np.where(x >= 2, (x > y) + 0.5 * (x == y), np.where((x == 1) & (y <= 1), 1.0 / kk, 0.0))
            at[kk] = (np.asarray((law * credit).sum(axis=(1, 2))), 1.0 - surv)
    return np.array([float(weights @ at[int(k)][0 if m == "maj@k" else 1]) for m, k in spec])


@lru_cache(maxsize=128)
def refinement_distance(template: Template, boost: float, mean: float, conc: float, phi: float) -> float:
    """:func:`null_distance` of the alternative's noise-free numbers (:func:`expected_refinement`)."""
    spec = tuple((t[0], t[1]) for t in template)
    return null_distance(template, expected_refinement(spec, boost, mean, conc, phi))


def null_distance(template: Template, values: FloatArray) -> float:
    """The largest deviation (fraction) of the closest i.i.d. vote model (any spread of p, wrong-answer share and
    abstentions, the audit's LP atoms) from noise-free numbers ``values`` on this template."""
    s, _w = min_max_deviation(_design(template), values, np.ones(len(values)), np.zeros(len(values), dtype=bool))
    return s
