"""Vectorised log-pmfs over integer grids (gammaln based), shared by the exact estimators."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln, xlog1py, xlogy

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def log_choose(a: ArrayLike, i: ArrayLike) -> FloatArray:
    """log C(a, i), -inf outside 0 <= i <= a."""
    a_ = np.asarray(a, dtype=np.float64)
    i_ = np.asarray(i, dtype=np.float64)
    ok = (i_ >= 0) & (i_ <= a_)
    with np.errstate(invalid="ignore"):
        val = gammaln(a_ + 1) - gammaln(i_ + 1) - gammaln(np.maximum(a_ - i_, 0) + 1)
    return np.where(ok, val, -np.inf)


def log_hypergeom(i: ArrayLike, pool: ArrayLike, size: ArrayLike, draws: ArrayLike) -> FloatArray:
    """log P(X = i): X drawn from a class of ``size`` in ``draws`` draws without replacement from ``pool``."""
    pool_ = np.asarray(pool, dtype=np.float64)
    size_ = np.asarray(size, dtype=np.float64)
    draws_ = np.asarray(draws, dtype=np.float64)
    i_ = np.asarray(i, dtype=np.float64)
    return log_choose(size_, i_) + log_choose(pool_ - size_, draws_ - i_) - log_choose(pool_, draws_)


def log_binom(i: ArrayLike, trials: ArrayLike, prob: ArrayLike) -> FloatArray:
    """log P(X = i) for X ~ Binomial(trials, prob), exact at prob 0 and 1."""
    t = np.asarray(trials, dtype=np.float64)
    p = np.asarray(prob, dtype=np.float64)
    i_ = np.asarray(i, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        val = log_choose(t, i_) + xlogy(i_, p) + xlog1py(t - i_, -p)
    return np.where(np.isnan(val), -np.inf, val)
