"""Distribution-free checks: linear programmes over a discretised distribution of p (and of the wrong-answer
share).

Every published number of a claim is a linear functional of the distribution F of per-question p (and phi):
value_i = integral of kernel_i dF. With F discretised on a grid of atoms (w >= 0, sum w = 1):

* feasibility with noise tolerance: s* = min_w max_i |A_i w - y_i| / sigma_i (rerank rows one-sided,
  A_i w >= y_i - s sigma_i). i.i.d. sampling is rejected when s* exceeds the Bonferroni critical value
  z = Phi^-1(1 - alpha / (2 J)): the true F is one feasible w, and it stays within z sigma of every point with
  probability >= 1 - alpha. For pass@k points this is the complete-monotonicity test of 1 - pass@k
  (Hausdorff 1921: a sequence is completely monotone iff it is a moment sequence E(1-p)^k).
* moment bounds: min and max of c' w over the same tolerance region (the range of any unobserved value that
some
  i.i.d. model within noise of every published point allows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog
from scipy.stats import norm

FloatArray = npt.NDArray[np.float64]
ALPHA = 0.05


def z_crit(n_points: int, alpha: float = ALPHA) -> float:
    """Bonferroni two-sided critical value for n_points simultaneous deviations."""
    return float(norm.isf(alpha / (2.0 * max(n_points, 1))))


def _rows(
    A: FloatArray, y: FloatArray, sigma: FloatArray, lower_only: npt.NDArray[np.bool_], tol: float | None
) -> tuple[FloatArray, FloatArray]:
    """Inequality rows G v <= h for v = (w, s) (tol None: s is a variable) or v = w (fixed tolerance)."""
    n = A.shape[1]
    rows: list[FloatArray] = []
    rhs: list[float] = []
    for i in range(A.shape[0]):
        s_col = [] if tol is not None else [-sigma[i]]
        slack = 0.0 if tol is None else tol * sigma[i]
        if not lower_only[i]:
            rows.append(np.concatenate((A[i], s_col)))
            rhs.append(y[i] + slack)
        rows.append(np.concatenate((-A[i], s_col)))
        rhs.append(-y[i] + slack)
    width = n + (0 if tol is not None else 1)
    G = np.vstack(rows) if rows else np.zeros((0, width))
    return G, np.asarray(rhs)


class LPSolveError(Exception):
    """A linear programme that HiGHS could not solve (numerical failure): reported in the verdict, one line."""


def _solve(**kw: Any) -> Any:
    """linprog with HiGHS (dual simplex, then interior point): the first run that reports success or a
    definite infeasibility; otherwise an :class:`LPSolveError` naming the solver's status and message."""
    res = None
    for method in ("highs-ds", "highs-ipm"):
        res = linprog(method=method, **kw)
        if res.status in (0, 2):
            return res
    msg = str(getattr(res, "message", "")).splitlines()[0] if res is not None else ""
    raise LPSolveError(f"the linear programme failed numerically (status {getattr(res, 'status', '?')}: {msg})")


def min_max_deviation(
    A: FloatArray, y: FloatArray, sigma: FloatArray, lower_only: npt.NDArray[np.bool_]
) -> tuple[float, FloatArray]:
    """s* = min over distributions of the largest standardised deviation, and the minimising weights.

    Raises :class:`LPSolveError` when the solver fails numerically (the programme itself is always feasible).
    """
    n = A.shape[1]
    G, h = _rows(A, y, sigma, lower_only, None)
    c = np.zeros(n + 1)
    c[-1] = 1.0
    A_eq = np.concatenate((np.ones(n), [0.0]))[None, :]
    res = _solve(c=c, A_ub=G, b_ub=h, A_eq=A_eq, b_eq=[1.0], bounds=[(0, None)] * (n + 1))
    x = np.asarray(res.x)
    return float(x[-1]), np.asarray(x[:-1])


def value_range(
    target: FloatArray,
    A: FloatArray,
    y: FloatArray,
    sigma: FloatArray,
    lower_only: npt.NDArray[np.bool_],
    tol: float,
) -> tuple[float, float]:
    """(min, max) of target . w over distributions within tol * sigma of every point (nan if infeasible or
    numerically failed)."""
    n = A.shape[1]
    G, h = _rows(A, y, sigma, lower_only, tol)
    A_eq = np.ones((1, n))
    out = []
    for sign in (1.0, -1.0):
        try:
            res = _solve(
                c=sign * target,
                A_ub=G if len(h) else None,
                b_ub=h if len(h) else None,
                A_eq=A_eq,
                b_eq=[1.0],
                bounds=[(0, None)] * n,
            )
        except LPSolveError:
            return float("nan"), float("nan")
        if res.status != 0:
            return float("nan"), float("nan")
        out.append(sign * float(res.fun))
    return float(np.clip(out[0], 0.0, 1.0)), float(np.clip(out[1], 0.0, 1.0))
