"""The shape a curve of accuracy against log compute has: slope per decade, R^2, longest straight window."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
STRAIGHT_TOL = 2.0  # percentage points: a window is straight when the curve stays this close to its chord


def slope_r2(log10_x: FloatArray, value_pct: FloatArray) -> tuple[float, float]:
    """OLS slope (points per decade) and R^2 of value on log10 x; R^2 is nan with fewer than 3 distinct x."""
    x = np.asarray(log10_x, dtype=np.float64)
    v = np.asarray(value_pct, dtype=np.float64)
    if len(np.unique(x)) < 2:
        return float("nan"), float("nan")
    slope, icept = np.polyfit(x, v, 1)
    if len(np.unique(x)) < 3:
        return float(slope), float("nan")
    ss_res = float(np.sum((v - (slope * x + icept)) ** 2))
    ss_tot = float(np.sum((v - v.mean()) ** 2))
    return float(slope), (1.0 - ss_res / ss_tot) if ss_tot > 0 else float("nan")


def straight_window(log10_x: FloatArray, value_pct: FloatArray, tol: float = STRAIGHT_TOL) -> float:
    """Length in decades of the longest window over which the curve stays within tol points of its chord."""
    x = np.asarray(log10_x, dtype=np.float64)
    v = np.asarray(value_pct, dtype=np.float64)
    best = 0.0
    n = len(x)
    for i in range(n):
        for j in range(n - 1, i, -1):
            if x[j] - x[i] <= best:
                break
            chord = v[i] + (v[j] - v[i]) * (x[i : j + 1] - x[i]) / (x[j] - x[i])
            if np.max(np.abs(v[i : j + 1] - chord)) <= tol:
                best = float(x[j] - x[i])
                break
    return best


def points_straight_window(log10_x: FloatArray, value_pct: FloatArray, tol_pct: FloatArray) -> float:
    """Longest span (decades) of consecutive published points (at least 3) that a straight line in log x fits
    with every residual within its own tolerance (e.g. 1.96 standard errors); 0 when no 3 points do."""
    x = np.asarray(log10_x, dtype=np.float64)
    v = np.asarray(value_pct, dtype=np.float64)
    t = np.asarray(tol_pct, dtype=np.float64)
    best = 0.0
    for i in range(len(x)):
        for j in range(i + 2, len(x)):
            xs, vs = x[i : j + 1], v[i : j + 1]
            if len(np.unique(xs)) < 2:
                continue
            slope, icept = np.polyfit(xs, vs, 1)
            if np.all(np.abs(vs - (slope * xs + icept)) <= t[i : j + 1]):
                best = max(best, float(xs[-1] - xs[0]))
    return best
