"""Per-question success probability p: point estimates, intervals and the answer distribution for voting.

Intervals for a binomial proportion c/n (Brown, Cai & DasGupta 2001, "Interval Estimation for a Binomial
Proportion", Statistical Science 16:101-133):

* Wilson score: (c + z^2/2)/(n + z^2) +- z/(n + z^2) * sqrt(c(n-c)/n + z^2/4);
* Jeffreys: quantiles of Beta(c + 1/2, n - c + 1/2), with the lower end 0 at c = 0 and the upper end 1 at c =
  n;
* Clopper-Pearson (exact, conservative): Beta(c, n-c+1) and Beta(c+1, n-c) quantiles.

Stopping rules. Under ``first-success-block:B`` (blocks of B draws until the first block with a success) the
probability of the observed (n, c) is (1-p)^(n-B) * C(B, c) p^c (1-p)^(B-c) for c >= 1 and (1-p)^n at the cap,
i.e. proportional to p^c (1-p)^(n-c): the stopping rule is ignorable for the likelihood (Berger & Wolpert
1988, *The Likelihood Principle*), so the MLE is still c/n and the likelihood-ratio interval (``lr_low``,
``lr_high``) is the same function of (n, c) under both designs. What the rule does break is the sampling
distribution of c/n (it is biased upward) and the coverage of Wilson-type intervals, which assume n fixed in
advance; rows with a stopping rule carry ``interval_valid = False`` for those columns.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

from harness.tables import FIXED, QuestionCounts, parse_stopping

FloatArray = npt.NDArray[np.float64]


def wilson_interval(n: npt.ArrayLike, c: npt.ArrayLike, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval (Wilson 1927) for each (n, c)."""
    n_ = np.asarray(n, np.float64)
    c_ = np.asarray(c, np.float64)
    z = float(stats.norm.ppf(0.5 + level / 2))
    centre = (c_ + z * z / 2) / (n_ + z * z)
    half = z / (n_ + z * z) * np.sqrt(c_ * (n_ - c_) / n_ + z * z / 4)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def jeffreys_interval(
    n: npt.ArrayLike, c: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed Jeffreys interval, Beta(c+1/2, n-c+1/2) quantiles (Brown et al. 2001, sec. 4.1.2)."""
    n_ = np.asarray(n, np.float64)
    c_ = np.asarray(c, np.float64)
    a = (1 - level) / 2
    lo = np.where(c_ > 0, special.betaincinv(c_ + 0.5, n_ - c_ + 0.5, a), 0.0)
    hi = np.where(c_ < n_, special.betaincinv(c_ + 0.5, n_ - c_ + 0.5, 1 - a), 1.0)
    return np.asarray(lo, np.float64), np.asarray(hi, np.float64)


def clopper_pearson_interval(
    n: npt.ArrayLike, c: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Exact Clopper-Pearson interval (Clopper & Pearson 1934)."""
    n_ = np.asarray(n, np.float64)
    c_ = np.asarray(c, np.float64)
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lo = np.where(c_ > 0, special.betaincinv(np.maximum(c_, 1e-300), n_ - c_ + 1, a), 0.0)
        hi = np.where(c_ < n_, special.betaincinv(c_ + 1, np.maximum(n_ - c_, 1e-300), 1 - a), 1.0)
    return np.asarray(lo, np.float64), np.asarray(hi, np.float64)


def likelihood_ratio_interval(
    n: npt.ArrayLike, c: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """{p : 2[l(c/n) - l(p)] <= chi2_1(level)}, l(p) = c log p + (n-c) log(1-p) (design-free)."""
    n_ = np.asarray(n, np.float64)
    c_ = np.asarray(c, np.float64)
    cut = float(stats.chi2.ppf(level, 1)) / 2
    phat = c_ / n_

    def loglik(p: FloatArray) -> FloatArray:
        return np.asarray(special.xlogy(c_, p) + special.xlog1py(n_ - c_, -p), np.float64)

    lmax = loglik(phat)

    def solve(lo: FloatArray, hi: FloatArray, rising: bool) -> FloatArray:
        # bisection for loglik(p) = lmax - cut on [lo, hi]; loglik is monotone there
        a, b = lo.copy(), hi.copy()
        for _ in range(80):
            mid = (a + b) / 2
            inside = loglik(mid) >= lmax - cut
            if rising:
                b = np.where(inside, mid, b)
                a = np.where(inside, a, mid)
            else:
                a = np.where(inside, mid, a)
                b = np.where(inside, b, mid)
        return (a + b) / 2

    zeros, ones = np.zeros_like(phat), np.ones_like(phat)
    lo = np.where(c_ > 0, solve(zeros, phat, rising=True), 0.0)
    hi = np.where(c_ < n_, solve(phat, ones, rising=False), 1.0)
    return lo, hi


def question_table(counts: QuestionCounts, *, level: float = 0.95, exact: bool = False) -> pd.DataFrame:
    """Per (model, question): n, c, p_hat, Wilson/Jeffreys (and Clopper-Pearson if ``exact``) and LR
    intervals,
    the voting summary p_correct, p_top_wrong, margin (NaN without answer classes) and the stopping rule."""
    n, c = counts.n, counts.correct
    wl, wh = wilson_interval(n, c, level)
    jl, jh = jeffreys_interval(n, c, level)
    ll, lh = likelihood_ratio_interval(n, c, level)
    assert counts.stopping is not None
    fixed = np.array([parse_stopping(str(s))[0] == FIXED for s in counts.stopping])
    df = pd.DataFrame(
        {
            "model": counts.model,
            "question_id": counts.question_id,
            "n": n,
            "c": c,
            "p_hat": c / n,
            "wilson_low": wl,
            "wilson_high": wh,
            "jeffreys_low": jl,
            "jeffreys_high": jh,
        }
    )
    if exact:
        cl, ch = clopper_pearson_interval(n, c, level)
        df["clopper_pearson_low"], df["clopper_pearson_high"] = cl, ch
    df["lr_low"], df["lr_high"] = ll, lh
    df["interval_valid"] = fixed
    if counts.wrong is not None:
        top = counts.top_wrong()
        df["p_correct"] = c / n
        df["p_top_wrong"] = top / n
        df["margin"] = (c - top) / n
        df["top_wrong_beats_correct"] = top > c
    else:
        df["p_correct"] = c / n
        df["p_top_wrong"] = np.nan
        df["margin"] = np.nan
        df["top_wrong_beats_correct"] = pd.array([pd.NA] * len(n), dtype="boolean")
    df["stopping"] = counts.stopping
    df["level"] = level
    return df
