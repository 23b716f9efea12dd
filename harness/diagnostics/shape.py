"""Is a curve log-linear, and over how much of it? Shape diagnostics of value vs log10(compute).

For a curve y_j at x_j = log10(compute_j):

* OLS line y = a + b x: ``slope_per_decade`` b, ``r2``, ``max_residual`` max_j |y_j - a - b x_j|;
* ``curvature``: the coefficient q of x^2 in the fit a + b x + q x^2 (per decade^2; negative = concave);
* straight windows: the widest run of consecutive points (at least 3) whose own OLS line leaves every point
  within 1 (2) percentage points, its width in decades and the rise of that line over it;
* ``local_slope``: (y_{j+1} - y_j)/(x_{j+1} - x_j) between neighbouring points, placed at their geometric mid.

Intervals: percentile bootstrap over questions (the questions are the independent units; all k points of a
curve share them, and measured and i.i.d. curves of a model use the same resamples). A per-question sigmoid
1-(1-p)^k rises over about 1.3 decades around k = 1/p, so a test set whose p spreads over several decades
yields a straight-looking aggregate (ARCHITECTURE.md): compare the diagnostics of the measured curve with those
of the i.i.d. prediction before reading meaning into a straight line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from harness._bootstrap import Resampler

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LineFit:
    """OLS and quadratic summaries of y against x, vectorised over rows of y (replicates)."""

    slope: FloatArray
    intercept: FloatArray
    r2: FloatArray
    max_residual: FloatArray
    curvature: FloatArray


def line_fit(x: npt.ArrayLike, y: npt.ArrayLike) -> LineFit:
    """OLS line and quadratic curvature for each row of ``y`` (shape (R, K)) against ``x`` (K,)."""
    x_ = np.asarray(x, np.float64)
    y_ = np.atleast_2d(np.asarray(y, np.float64))
    xc = x_ - x_.mean()
    sxx = float(xc @ xc)
    ym = y_.mean(axis=1, keepdims=True)
    slope = ((y_ - ym) @ xc) / sxx if sxx > 0 else np.full(y_.shape[0], np.nan)
    intercept = ym[:, 0] - slope * x_.mean()
    resid = y_ - (intercept[:, None] + slope[:, None] * x_[None, :])
    sst = ((y_ - ym) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(sst > 0, 1 - (resid**2).sum(axis=1) / sst, np.nan)
    if len(x_) >= 3:
        X = np.vstack([np.ones_like(x_), xc, xc**2]).T
        coef = np.linalg.lstsq(X, y_.T, rcond=None)[0]
        curv = coef[2]
    else:
        curv = np.full(y_.shape[0], np.nan)
    return LineFit(slope, intercept, r2, np.abs(resid).max(axis=1), np.asarray(curv, np.float64))


def straight_window(x: npt.ArrayLike, y: npt.ArrayLike, tol: float) -> tuple[float, float, float, float]:
    """Widest run of >= 3 consecutive points within ``tol`` of its own OLS line.

    Returns (width in decades, rise, x0, x1); NaNs when no such run exists.
    """
    x_ = np.asarray(x, np.float64)
    y_ = np.asarray(y, np.float64)
    best = (float("nan"), float("nan"), float("nan"), float("nan"))
    best_w = -1.0
    n = len(x_)
    for i in range(n):
        for j in range(n - 1, i + 1, -1):
            w = round(float(x_[j] - x_[i]), 9)  # rounded: equal widths tie exactly, the leftmost is kept
            if w <= best_w:
                break
            xs, ys = x_[i : j + 1], y_[i : j + 1]
            xc = xs - xs.mean()
            b = float(xc @ (ys - ys.mean()) / (xc @ xc))
            resid = ys - ys.mean() - b * xc
            if float(np.abs(resid).max()) <= tol:
                best_w = w
                best = (float(w), b * float(w), float(x_[i]), float(x_[j]))
                break
    return best


def straight_window_reps(x: npt.ArrayLike, y: npt.ArrayLike, tol: float) -> tuple[FloatArray, FloatArray]:
    """:func:`straight_window` width and rise for every row of ``y`` (R, K), vectorised over rows."""
    x_ = np.asarray(x, np.float64)
    y_ = np.atleast_2d(np.asarray(y, np.float64))
    r, n = y_.shape
    width = np.full(r, np.nan)
    rise = np.full(r, np.nan)
    # widest first; among equal widths the leftmost, as in straight_window
    spans = sorted(
        ((x_[j] - x_[i], i, j) for i in range(n) for j in range(i + 2, n)), key=lambda t: (-round(t[0], 9), t[1])
    )
    todo = np.ones(r, bool)
    for w, i, j in spans:
        if not todo.any():
            break
        xs = x_[i : j + 1]
        xc = xs - xs.mean()
        ys = y_[todo, i : j + 1]
        ym = ys.mean(axis=1, keepdims=True)
        b = (ys - ym) @ xc / (xc @ xc)
        ok = np.abs(ys - ym - b[:, None] * xc[None, :]).max(axis=1) <= tol
        rows = np.flatnonzero(todo)[ok]
        width[rows] = w
        rise[rows] = b[ok] * w
        todo[rows] = False
    return width, rise


def local_slopes(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Mid points and slopes per decade between neighbouring points; ``y`` may be (R, K)."""
    x_ = np.asarray(x, np.float64)
    y_ = np.atleast_2d(np.asarray(y, np.float64))
    dx = np.diff(x_)
    return (x_[:-1] + x_[1:]) / 2, np.diff(y_, axis=1) / dx[None, :]


def replicate_means(mats: Sequence[FloatArray], q: int, replicates: int, seed: int) -> list[FloatArray]:
    """(R, K_i) bootstrap replicate means over the q questions of each (q, K_i) matrix, all on the same replicates
    (paired; NaN counts as 0); (0, K_i) when there is no bootstrap (R = 0 or q < 2)."""
    if replicates <= 0 or q < 2:
        return [np.zeros((0, m.shape[1])) for m in mats]
    return Resampler(seed, q, replicates).means_many([np.nan_to_num(m) for m in mats])


def percentile(reps: FloatArray, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed percentile interval over axis 0 (NaN-aware)."""
    a = (1 - level) / 2
    lo = np.full(reps.shape[1:], np.nan)
    hi = np.full(reps.shape[1:], np.nan)
    if reps.shape[0] == 0:
        return lo, hi
    ok = np.isfinite(reps).any(axis=0)
    if ok.any():
        q = np.nanquantile(reps[:, ok], [a, 1 - a], axis=0)
        lo[ok], hi[ok] = q[0], q[1]
    return lo, hi
