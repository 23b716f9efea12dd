"""Predictions of each spread fit beyond the logged n, plateaus, and the power-law exponent of -log pass@k.

Each fit G gives every question a posterior over its p (empirical Bayes: posterior ∝ G(dp) x p^c (1-p)^(n-c)).
Predicted per-question values are posterior expectations, averaged over questions:

* pass@k = 1 - E[(1-p)^k | c, n];
* binary maj@k = E[P(Bin(k, p) > k/2) + P(Bin(k, p) = k/2)/2 | c, n] (one wrong answer class);
* structured maj@k: the correct mass p split over the question's observed correct classes and the wrong mass
  1-p over its observed wrong classes, each in their observed shares (unanswered samples vote for nobody; each
  correct answer string is its own vote), multinomial plurality under the tie rule. With one correct class
  (or none seen) this is the exact posterior expectation sum_x pi(x) H(x): given x correct draws the other k - x
  do not depend on p, so H(x), the credit given x, is computed once per answer profile and k for every fit and
  row, and pi(x) = sum_g post(g) Bin(x; k, p_g) once per posterior row (``_structured_kernel``; within 2 x
  PREDICTION_EPS = 2e-12 per question). With several correct classes (the split of the correct draws matters) it
  is still the average of exact maj@k at three posterior quantiles of p (1/6, 1/2, 5/6), a quadrature (measured on a
  generated table against the exact expectation: up to 0.18 off per question at k >> n, 0.1 points on the mean
  curve; docs/methods/null_model.md).

For k <= n these agree with the measured U-statistics up to O(k/n) (ARCHITECTURE.md, fact 1); for k > n the
fits disagree and their spread is the extrapolation uncertainty (fact 2: a pass@k table to K identifies only K
moments of G).

Plateaus: pass@inf = mean_i P(p_i > 0 | data) and maj@inf = mean_i P(p_i c_i > s_i (1 - p_i) | data), s_i the
share of the strongest wrong class among the wrong samples and c_i that of the strongest correct class among the
correct samples (1 with one correct class; 1/2 and 1 for the binary vote). As k grows the class with the largest
share wins with probability -> 1 under every tie rule; where the strongest correct and wrong shares are exactly
equal the limit is c / (c + w), c and w the numbers of correct and wrong classes of that share (exact ties vanish).

Power law (Brown et al. 2024; Schaeffer et al. 2025): -log(pass@k) ~ a k^(-b); b is minus the OLS slope of
log(-log mean pass@k) on log k.

Cost: every posterior quantity is computed on the fit's distinct (n, c, stopping) rows (``SpreadFit.posterior``,
(D, G)) and expanded to questions by ``SpreadFit.row`` only where a (Q, K) result is returned; structured maj@k
is computed per distinct answer profile and posterior row (docs/methods/null_model.md, "Distinct rows").
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from harness.curves import CURVE_COLUMNS
from harness.estimators._majority_kernel import gauss_legendre_table
from harness.estimators.majority import _GL_TABLE, _TIE_CODES, maj_at_k_many
from harness.models._structured_kernel import (
    TAIL_BLOCK,
    block_tails,
    mixture_into,
    mixture_window,
    structured_credits,
)
from harness.models.spread import SpreadFit
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
STRUCTURED_MAJ_MAX_FACTOR = 100
"""Structured maj@k predictions stop at this multiple of n (the default covers the whole prediction range;
lower it if the exact multinomial kernel, O(k) per question, becomes the bottleneck)."""
_PSEUDO = 1_000_000  # pseudo-count scale for multinomial probabilities in the exact maj@k kernel


def predict_pass(fit: SpreadFit, ks: npt.NDArray[np.int64]) -> FloatArray:
    """(Q, K) posterior-predictive pass@k per question (computed once per distinct row of the fit)."""
    with np.errstate(divide="ignore"):
        log_fail = np.log1p(-np.minimum(fit.support, 1.0))
    surv = np.exp(np.outer(log_fail, ks.astype(np.float64)))  # (G, K)
    surv[fit.support >= 1.0, :] = 0.0
    return np.asarray(1.0 - fit.posterior @ surv, np.float64)[fit.row]


def marginal_pass(fit: SpreadFit, ks: npt.NDArray[np.int64]) -> FloatArray:
    """(K,) pass@k of a new question drawn from the fitted G: 1 - E_G[(1-p)^k] (no conditioning on the data)."""
    with np.errstate(divide="ignore"):
        log_fail = np.log1p(-np.minimum(fit.support, 1.0))
    surv = np.exp(np.outer(log_fail, ks.astype(np.float64)))
    surv[fit.support >= 1.0, :] = 0.0
    return np.asarray(1.0 - fit.mass @ surv, np.float64)


DISTRIBUTIONAL_KS = np.unique(np.logspace(0, 5, 25).astype(np.int64))
"""k grid of Schaeffer et al.'s distributional exponent estimator (their repository's
``compute_scaling_exponent_from_distributional_fit`` default, ``np.logspace(0, 5, 25, dtype=int)``)."""


def distributional_exponent(fit: SpreadFit) -> float:
    """Power-law exponent of the fit's marginal pass@k over k = 1..1e5 (Schaeffer et al. 2025's estimator)."""
    return float(power_law_exponent(DISTRIBUTIONAL_KS, marginal_pass(fit, DISTRIBUTIONAL_KS))[0])


def binary_maj_kernel(p: FloatArray, ks: npt.NDArray[np.int64]) -> FloatArray:
    """(G, K) P(Bin(k, p) > k/2) + P(Bin(k, p) = k/2)/2."""
    out = np.empty((len(p), len(ks)))
    for j, k in enumerate(ks.tolist()):
        win = stats.binom.sf(k // 2, k, p)
        tie = stats.binom.pmf(k // 2, k, p) if k % 2 == 0 else 0.0
        out[:, j] = win + 0.5 * tie
    return out


def predict_maj_binary(fit: SpreadFit, ks: npt.NDArray[np.int64]) -> FloatArray:
    """(Q, K) posterior-predictive binary maj@k (computed once per distinct row of the fit)."""
    return np.asarray(fit.posterior @ binary_maj_kernel(fit.support, ks), np.float64)[fit.row]


def posterior_quantiles(fit: SpreadFit, probs: Sequence[float]) -> FloatArray:
    """(Q, len(probs)) posterior quantiles of each question's p."""
    return _row_quantiles(fit, probs)[fit.row]


def _row_quantiles(fit: SpreadFit, probs: Sequence[float]) -> FloatArray:
    """(D, len(probs)) posterior quantiles of p for each distinct row of the fit: the smallest support point at
    which the posterior CDF reaches the level."""
    order = np.argsort(fit.support)
    cdf = np.cumsum(fit.posterior[:, order], axis=1)
    sup = fit.support[order]
    out = np.empty((fit.posterior.shape[0], len(probs)))
    for j, pr in enumerate(probs):
        idx = np.minimum((cdf < pr).sum(axis=1), len(sup) - 1)
        out[:, j] = sup[idx]
    return out


def predict_maj_structured(
    fit: SpreadFit, counts: QuestionCounts, ks: npt.NDArray[np.int64], *, ties: str = "random"
) -> FloatArray:
    """(Q, K) posterior-predictive maj@k with the observed answer shares (module docstring): the exact posterior
    expectation for questions with one correct class, three posterior quantiles for those with several."""
    return predict_maj_structured_many([fit], counts, ks, ties=ties)[0]


def predict_maj_structured_many(
    fits: Sequence[SpreadFit], counts: QuestionCounts, ks: npt.NDArray[np.int64], *, ties: str = "random",
    stop: threading.Event | None = None,
) -> list[FloatArray]:
    """:func:`predict_maj_structured` for several fits of the same questions, sharing the work: the conditional
    credits H per answer profile serve every fit and row; the quantile rows of questions with several correct
    classes are deduplicated by value over all fits. Once ``stop`` is set it raises :class:`StopRequestedError` at
    the next k of the exact expectation."""
    assert counts.wrong is not None and counts.correct_classes is not None
    out = [np.zeros((counts.n_questions, len(ks))) for _ in fits]
    several = counts.n_correct_classes > 1
    one = np.flatnonzero(~several)
    if len(one):
        for res, vals in zip(out, _structured_exact(fits, counts, one, ks, ties, stop), strict=True):
            res[one] = vals
    many = np.flatnonzero(several)
    if len(many):
        sub = counts.take(many)
        sub_fits = [replace(f, row=f.row[many]) for f in fits]
        for res, (vals, inverse) in zip(out, _structured_by_profile(sub_fits, sub, ks, ties), strict=True):
            res[many] = vals[inverse]
    return out


class StopRequestedError(Exception):
    """The caller asked a prediction to stop (``predict_maj_structured_many``'s ``stop``)."""


def _structured_exact(
    fits: Sequence[SpreadFit], counts: QuestionCounts, idx: npt.NDArray[np.intp], ks: npt.NDArray[np.int64],
    ties: str, stop: threading.Event | None = None,
) -> list[FloatArray]:
    """Per fit, the (len(idx), K) exact posterior expectation of maj@k for questions with at most one correct
    class (module docstring): pass@k where no wrong class was seen; else sum_x pi(x) H(x), computed once per
    (answer profile, posterior row) pair (``_structured_kernel.structured_credits``)."""
    out = [np.asarray(predict_pass(replace(f, row=f.row[idx]), ks), np.float64) for f in fits]
    q, w_prof, free_prof, pair_key = _exact_pairs(fits, counts, idx)
    if not len(q):
        return out
    w_ptr = np.concatenate([[0], np.cumsum((w_prof > 0).sum(axis=1))]).astype(np.int64)
    pair_first, pair_of = _unique_rows(pair_key)
    order = np.lexsort((pair_key[pair_first, 1], pair_key[pair_first, 0]))  # pairs grouped by profile
    position = np.empty(len(order), np.intp)
    position[order] = np.arange(len(order))
    users_row = pair_key[pair_first[order], 1].astype(np.int64)
    users_ptr = np.searchsorted(pair_key[pair_first[order], 0], np.arange(len(w_prof) + 1)).astype(np.int64)
    keep = [f.posterior > _NEGLIGIBLE_POSTERIOR for f in fits]
    mixtures = [(f.support[kp[r]], f.posterior[r][kp[r]])  # each row's pi components, the same at every k
                for f, kp in zip(fits, keep, strict=True) for r in range(f.posterior.shape[0])]
    for j, k in enumerate(ks.tolist()):
        if stop is not None and stop.is_set():
            raise StopRequestedError
        vals = _credits_at_k(w_prof[w_prof > 0], w_ptr, free_prof, users_ptr, users_row, mixtures, int(k), ties)
        per_q = vals[position[pair_of]].reshape(len(q), len(fits))
        for fi, res in enumerate(out):
            res[q, j] = per_q[:, fi]
    return out


def _exact_pairs(
    fits: Sequence[SpreadFit], counts: QuestionCounts, idx: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The work of the exact expectation for the questions ``idx`` (one correct class at most): the positions q
    among them with a wrong class; the distinct answer profiles of those (wrong class sizes, zero padded, and
    unanswered count); and per (question, fit), question-major, the key (profile, row), rows numbering the fits'
    posterior rows one fit after another."""
    assert counts.wrong is not None
    wrong = np.asarray(counts.wrong[idx], np.int64)
    free = (counts.n[idx] - counts.correct[idx] - wrong.sum(axis=1)).astype(np.int64)
    q = np.flatnonzero(wrong[:, 0] > 0) if wrong.shape[1] else np.zeros(0, np.intp)
    first, profile = _unique_rows(np.concatenate([wrong[q], free[q, None]], axis=1))
    offsets = np.cumsum([0] + [f.posterior.shape[0] for f in fits])
    rows = np.stack([offsets[j] + f.row[idx][q] for j, f in enumerate(fits)], axis=1)  # (q, fits)
    pair_key = np.stack([np.repeat(profile, len(fits)), rows.reshape(-1)], axis=1).astype(np.int64)
    return q, wrong[q][first], free[q][first], pair_key


def _credits_at_k(
    w_sizes: npt.NDArray[np.int64], w_ptr: npt.NDArray[np.int64], free: npt.NDArray[np.int64],
    users_ptr: npt.NDArray[np.int64], users_row: npt.NDArray[np.int64],
    mixtures: list[tuple[FloatArray, FloatArray]], k: int, ties: str,
) -> FloatArray:
    """sum_x pi_r(x) H_u(x) for every (profile u, row r) pair at one k, profiles spread over threads; row r's pi is
    the mixture of binomials with the support points and weights mixtures[r]."""
    used = np.unique(users_row).tolist()
    pi_lo = np.zeros(len(mixtures), np.int64)
    pi_len = np.zeros(len(mixtures), np.int64)
    pi_peak = np.zeros(len(mixtures))
    log_tail = PRED_LOG_EPS - math.log(8.0)
    workers = max(1, min(os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:  # the mixture kernels release the GIL
        windows = dict(zip(used, pool.map(lambda r: mixture_window(*mixtures[r], k, log_tail), used), strict=True))
        for r, (lo, hi, _) in windows.items():
            pi_lo[r], pi_len[r] = lo, max(hi - lo + 1, 0)
        pi_ptr = np.concatenate([[0], np.cumsum(pi_len)]).astype(np.int64)
        pi_val = np.zeros(int(pi_ptr[-1]))  # pi is written once, in place (at k = 10^5 the largest array here)

        def fill(r: int) -> None:
            mixture_into(*mixtures[r], k, windows[r][2], int(pi_lo[r]), pi_val[pi_ptr[r] : pi_ptr[r + 1]])

        list(pool.map(fill, used))
    tail_ptr = np.concatenate([[0], np.cumsum(-(-pi_len // TAIL_BLOCK) + 1)]).astype(np.int64)
    pi_tail = np.zeros(int(tail_ptr[-1]))
    for r in used:
        vals = pi_val[pi_ptr[r] : pi_ptr[r + 1]]
        pi_peak[r] = vals.max(initial=0.0)
        pi_tail[tail_ptr[r] : tail_ptr[r + 1]] = block_tails(vals)
    out = np.zeros(len(users_row))
    status = np.zeros(len(free))
    code = _TIE_CODES[ties]

    def run(units: npt.NDArray[np.int64]) -> None:
        nodes, weights = _GL_TABLE[0]
        structured_credits(w_sizes, w_ptr, free, users_ptr, users_row, pi_lo, pi_ptr, pi_val, pi_tail, tail_ptr,
                           pi_peak, k, code, PRED_LOG_EPS, nodes, weights, units, out, status)

    units = np.argsort(-np.diff(w_ptr), kind="stable").astype(np.int64)  # more classes first: even chunks
    chunks = [units[i : i + 256] for i in range(0, len(units), 256)]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chunks)))) as pool:
        list(pool.map(run, chunks))
    while (status < 0).any():  # the per-class kernel asked for a larger Gauss-Legendre rule
        nodes, _ = _GL_TABLE[0]
        _GL_TABLE[0] = gauss_legendre_table(max(2 * (nodes.shape[0] - 1), int(-status.min())))
        run(np.flatnonzero(status < 0).astype(np.int64))
    return out


_NEGLIGIBLE_POSTERIOR = 1e-18
"""Posterior weights below this are left out of pi (at most G x 1e-18 of mass, within the eps budget)."""
PREDICTION_EPS = 1e-12
"""Bound on what the structured maj@k expectation leaves out per question (2 x this in all, rigorous; the
estimators' EPS is 1e-14). Measured on 10,000 generated questions (benchmarks/bench_structured.py, same process):
27.2 CPU-s at 1e-14, 17.3 at 1e-12, 15.1 at 1e-10."""
PRED_LOG_EPS = math.log(PREDICTION_EPS)


def _structured_by_profile(
    fits: Sequence[SpreadFit], counts: QuestionCounts, ks: npt.NDArray[np.int64], ties: str
) -> list[tuple[FloatArray, npt.NDArray[np.intp]]]:
    """Per fit: (U, K) structured maj@k per distinct profile and the (Q,) profile of each question."""
    plans, uniq, width_c, _ = _structured_plans(fits, counts)
    vals = np.zeros((0, len(ks)))
    if len(uniq):
        # 2-D integer arrays are sequences of rows (zero padding is no class for the kernel); no Python lists
        vals = maj_at_k_many(
            cast(Sequence[Sequence[int]], uniq[:, :width_c]),
            cast(Sequence[Sequence[int]], uniq[:, width_c:-1]),
            cast(Sequence[int], uniq[:, -1]),
            ks,
            ties=ties,
            kind="iid",
        )
    out = []
    for pl in plans:
        res = np.zeros((len(pl.first), len(ks)))
        for b in range(0, len(pl.profile), _CHUNK):  # added in quantile order per profile, as one by one
            np.add.at(res, pl.profile[b : b + _CHUNK], vals[pl.kernel[b : b + _CHUNK]] / 3)
        out.append((res, pl.inverse))
    return out


@dataclass(frozen=True, eq=False)
class _StructuredPlan:
    """The work of :func:`predict_maj_structured` for one fit: distinct profiles and their kernel rows."""

    first: npt.NDArray[np.intp]
    """(U,) first question of each distinct profile."""
    inverse: npt.NDArray[np.intp]
    """(Q,) each question's profile."""
    profile: npt.NDArray[np.intp]
    kernel: npt.NDArray[np.intp]
    """One entry per (profile, quantile) that needs the kernel, profile-major: the profile and the index of its
    kernel row among the distinct rows of all fits."""


_CHUNK = 32_768  # rows built or scattered per block (bounds the temporaries)


def _structured_plans(
    fits: Sequence[SpreadFit], counts: QuestionCounts
) -> tuple[list[_StructuredPlan], npt.NDArray[np.int32], int, list[int]]:
    """Kernel rows per distinct profile and posterior quantile of p (1/6, 1/2, 5/6), deduplicated by value over
    all fits: (plans, distinct rows, number of correct columns, distinct rows of each fit alone).

    Per quantile p of a profile with correct class shares s_j (one class of share 1 when none was seen), wrong
    class sizes v_l and nonc = n - c samples not correct: a0 = round(p M), correct pseudo-counts
    max(round(a0 s_j), 1), wrong round((M - a0) v_l / nonc), abstaining max(M - a0 - sum wrong, 0), M = 10^6.
    Each row is (correct pseudo-counts zero padded to the table's correct-class width, wrong pseudo-counts zero
    padded, abstaining). The fits of one table share their distinct rows, hence their profiles.
    """
    assert counts.wrong is not None and counts.correct_classes is not None
    width_c = max(counts.correct_classes.shape[1], 1)
    uniq = np.zeros((0, width_c + counts.wrong.shape[1] + 1), np.int32)
    plans: list[_StructuredPlan] = []
    per_fit: list[int] = []
    shared: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]] | None = None
    for fit in fits:
        if shared is None or not np.array_equal(shared[0], fit.row):
            shared = (fit.row, *_distinct_profiles(fit.row, counts.correct_classes, counts.wrong))
        plan, rows = _structured_plan(fit, counts, shared[1], shared[2])
        per_fit.append(len(rows))
        # merge into the distinct rows so far; earlier plans' indices follow the merged order
        both = np.concatenate([uniq, rows])
        first, where = _unique_rows(both)
        uniq = both[first]
        del both
        plans = [replace(pl, kernel=where[pl.kernel]) for pl in plans]
        plans.append(replace(plan, kernel=where[len(where) - len(rows) + plan.kernel]))
    return plans, uniq, width_c, per_fit


def _structured_plan(
    fit: SpreadFit, counts: QuestionCounts, first: npt.NDArray[np.intp], inverse: npt.NDArray[np.intp]
) -> tuple[_StructuredPlan, npt.NDArray[np.int32]]:
    """One fit's plan (kernel indices into its own distinct rows) and those rows (see :func:`_structured_plans`)."""
    assert counts.wrong is not None and counts.correct_classes is not None
    qs = _round_p(_row_quantiles(fit, (1 / 6, 1 / 2, 5 / 6)))  # (D, 3): quantiles depend only on the row
    nonc = (counts.n[first] - counts.correct[first]).astype(np.int64)
    cc = counts.correct_classes[first].astype(np.int64)
    if cc.shape[1] == 0:
        cc = np.zeros((len(first), 1), np.int64)
    wrong_u = counts.wrong[first].astype(np.int64)
    p = qs[fit.row[first]]  # (U, 3)
    u, j = np.nonzero(p > 0)  # row-major: profile, then quantile (as one by one)
    blocks = [
        _kernel_rows(p[u[b : b + _CHUNK], j[b : b + _CHUNK]], cc[u[b : b + _CHUNK]], wrong_u[u[b : b + _CHUNK]],
                     nonc[u[b : b + _CHUNK]])
        for b in range(0, len(u), _CHUNK)
    ]
    key = np.concatenate(blocks) if blocks else np.zeros((0, cc.shape[1] + wrong_u.shape[1] + 1), np.int32)
    del blocks
    uniq_first, kernel = _unique_rows(key)
    return _StructuredPlan(first, inverse, u.astype(np.intp), kernel), key[uniq_first]


def _kernel_rows(
    p: FloatArray, cc: npt.NDArray[np.int64], wrong: npt.NDArray[np.int64], nonc: npt.NDArray[np.int64]
) -> npt.NDArray[np.int32]:
    """Pseudo-count rows (correct classes, wrong classes, abstaining) for p and the class sizes, one per row (every
    pseudo-count is at most M = 10^6, so int32)."""
    a0 = np.rint(p * _PSEUDO)
    rest = (_PSEUDO - a0).astype(np.int64)
    tot = cc.sum(axis=1)
    shares = cc / np.maximum(tot, 1)[:, None]
    shares[tot == 0, 0] = 1.0  # no correct answer seen: one correct class holding the whole correct mass
    correct = np.where(shares > 0, np.maximum(np.rint(a0[:, None] * shares), 1.0), 0.0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(nonc[:, None] > 0, np.rint((rest[:, None] * wrong) / nonc[:, None]), 0.0)
    w = np.where(wrong > 0, w, 0.0).astype(np.int64)
    abstain = np.maximum(rest - w.sum(axis=1), 0)
    return np.concatenate([correct, w, abstain[:, None]], axis=1).astype(np.int32)


def structured_maj_workload(fits: Sequence[SpreadFit], counts: QuestionCounts) -> dict[str, int]:
    """Size of the structured maj@k work of :func:`predict_maj_structured_many` over the fits: questions; those
    with one correct class at most and a wrong class (the exact expectation), their answer profiles and (profile,
    posterior row) pairs; those with several correct classes (the quantile rows), their (question, quantile) rows
    and the distinct kernel rows of all fits together."""
    q, w_prof, _, pair_key = _exact_pairs(fits, counts, np.flatnonzero(counts.n_correct_classes <= 1))
    out = {"questions": counts.n_questions, "exact_questions": len(q), "profiles": len(w_prof) if len(q) else 0,
           "pairs": len(_unique_rows(pair_key)[0]) if len(q) else 0}
    many = np.flatnonzero(counts.n_correct_classes > 1)
    out["quantile_questions"] = len(many)
    out["quantile_rows"] = 0
    if len(many):
        _, uniq, _, _ = _structured_plans([replace(f, row=f.row[many]) for f in fits], counts.take(many))
        out["quantile_rows"] = len(uniq)
    return out


def _distinct_profiles(
    row: npt.NDArray[np.intp], correct_classes: npt.NDArray[np.int64], wrong: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """First question of each distinct (fit row, correct class sizes, wrong class sizes) profile and each
    question's profile index (class sizes are sorted descending and zero padded, so equal rows are equal
    profiles)."""
    return _unique_rows(np.concatenate([row[:, None].astype(np.int64), correct_classes, wrong], axis=1))


_HASH_MULT = np.random.default_rng(20261130).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)


def _unique_rows(key_in: npt.NDArray[np.signedinteger[Any]]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(first, inverse) of the distinct rows of an integer matrix: ``key[first[inverse]] == key``.

    Rows are hashed to 64 bits (a random linear form mod 2^64), the hashes sorted, and every row checked against
    its representative; on a collision (probability about R^2 2^-64) it falls back to ``np.unique(axis=0)``.
    """
    key = np.ascontiguousarray(key_in)
    if key.shape[1] <= len(_HASH_MULT):
        h = np.zeros(len(key), np.uint64)
        for col in range(key.shape[1]):  # column by column: no (R, W) uint64 temporary
            h += key[:, col].astype(np.uint64) * _HASH_MULT[col]
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        if all(np.array_equal(key[first[inverse], col], key[:, col]) for col in range(key.shape[1])):
            return first.astype(np.intp), inverse.astype(np.intp)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return first.astype(np.intp), inverse.reshape(-1).astype(np.intp)


def _round_p(p: FloatArray) -> FloatArray:
    """p rounded to 1% steps in logit space (so different fits share the exact maj@k cache)."""
    with np.errstate(divide="ignore"):
        lg = np.log(p) - np.log1p(-p)
    r = np.round(lg * 100) / 100
    out = 1.0 / (1.0 + np.exp(-r))
    return np.asarray(np.where((p <= 0) | (p >= 1), p, out), np.float64)


def structured_predictions(
    fits: Sequence[SpreadFit], counts: QuestionCounts, ks: npt.NDArray[np.int64], ties: str,
    stop: threading.Event | None = None,
) -> list[FloatArray]:
    """Per fit, the (Q, K') structured maj@k of :func:`predict_maj_structured_many` at the ks up to
    STRUCTURED_MAJ_MAX_FACTOR x n (one call for all fits: they share the credits H); none without answer classes."""
    if not counts.answers_known:
        return []
    return predict_maj_structured_many(fits, counts, ks[ks <= STRUCTURED_MAJ_MAX_FACTOR * int(counts.n.max())],
                                       ties=ties, stop=stop)


def prediction_rows(
    model: str,
    fits: Sequence[SpreadFit],
    counts: QuestionCounts,
    ks: npt.NDArray[np.int64],
    *,
    compute_scale: float = 1.0,
    compute_unit: str = "samples",
    structured_maj: bool = True,
    ties: str = "random",
    matrices: bool = True,
    structured: Sequence[FloatArray] | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, str], FloatArray]]:
    """Tidy curve rows (kind 'fit:NAME') and the per-question (Q, K) matrices behind them (an empty dict with
    ``matrices=False``: a caller that needs only the curves then holds one matrix at a time, not 3 per fit).
    ``structured``: the structured maj@k of :func:`structured_predictions` for these fits and ks, if already
    computed."""
    rows = []
    mats: dict[tuple[str, str], FloatArray] = {}
    q = counts.n_questions
    if not structured_maj:
        structured = []
    elif structured is None:
        structured = structured_predictions(fits, counts, ks, ties)
    for fi, f in enumerate(fits):
        metrics: list[tuple[str, FloatArray, str]] = [
            ("pass@k", predict_pass(f, ks), f"posterior predictive 1-E[(1-p)^k | c, n] under {f.name}"),
            ("maj@k:binary", predict_maj_binary(f, ks), f"posterior predictive binary vote under {f.name}"),
        ]
        if structured:
            metrics.append(
                (
                    "maj@k",
                    structured[fi],
                    f"posterior p under {f.name} with observed wrong-answer shares (exact multinomial)",
                )
            )
        for metric, mat, est in metrics:
            if matrices:
                mats[(f.name, metric)] = mat
            kk = ks[: mat.shape[1]]
            rows.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "metric": metric,
                        "k": kk,
                        "compute": kk * compute_scale,
                        "compute_unit": compute_unit,
                        "value": mat.mean(axis=0),
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "kind": f"fit:{f.name}",
                        "estimator": est,
                        "ties": ties if metric.startswith("maj") else "",
                        "n_questions": q,
                        "interval": "none (see the spread between fits)",
                    }
                )
            )
    df = pd.concat(rows, ignore_index=True)[list(CURVE_COLUMNS)] if rows else pd.DataFrame(columns=CURVE_COLUMNS)
    return df, mats


def fit_spread_between(pred: pd.DataFrame) -> pd.DataFrame:
    """Per (model, metric, k): min, max and range of the fits' predictions (the extrapolation uncertainty)."""
    if pred.empty:
        return pd.DataFrame(columns=["model", "metric", "k", "fit_min", "fit_max", "fit_range"])
    g = pred.groupby(["model", "metric", "k"], sort=False)["value"]
    out = pd.DataFrame({"fit_min": g.min(), "fit_max": g.max()}).reset_index()
    out["fit_range"] = out["fit_max"] - out["fit_min"]
    return out


def plateau_rows(model: str, fits: Sequence[SpreadFit], counts: QuestionCounts) -> pd.DataFrame:
    """Per fit: pass@inf and maj@inf (binary and, with answers, structured)."""
    thr_struct = _wrong_threshold(counts)
    rows = []
    for f in fits:
        post, weight = f.posterior, f.row_count / max(len(f.row), 1)  # means over questions: weighted over rows
        pass_inf = float(weight @ post[:, f.support > 0].sum(axis=1))
        maj_bin = float(weight @ (post[:, f.support > 0.5].sum(axis=1) + 0.5 * post[:, f.support == 0.5].sum(axis=1)))
        maj_s = float("nan")
        if thr_struct is not None:
            thr, at_thr = thr_struct
            above, equal = _mass_above_and_at(f, thr)
            maj_s = float((above + at_thr * equal).mean())
        rows.append({"model": model, "fit": f.name, "pass_inf": pass_inf, "maj_inf_binary": maj_bin, "maj_inf": maj_s})
    return pd.DataFrame(rows)


def _mass_above_and_at(fit: SpreadFit, thr: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per question i, the posterior mass of p > thr_i and of p == thr_i, from tail sums of each distinct row's
    posterior over the sorted support (no (Q, G) matrix)."""
    order = np.argsort(fit.support, kind="stable")
    sup = fit.support[order]
    post = fit.posterior[:, order]
    tail = np.zeros((post.shape[0], len(sup) + 1))
    tail[:, :-1] = np.cumsum(post[:, ::-1], axis=1)[:, ::-1]  # tail[d, j] = sum of post[d, j:]
    gt = np.searchsorted(sup, thr, side="right")
    ge = np.searchsorted(sup, thr, side="left")
    above = tail[fit.row, gt]
    at = np.where(gt > ge, tail[fit.row, ge] - above, 0.0)
    return np.asarray(above, np.float64), np.asarray(at, np.float64)


def _wrong_threshold(counts: QuestionCounts) -> tuple[FloatArray, FloatArray] | None:
    """p above which a correct class has the largest share, s/(c+s), and the limit credit at that p.

    s = strongest wrong class / wrong samples, c = strongest correct class / correct samples (1 when none was
    seen); at equality the c_top correct and w_top wrong classes of the top share split the limit c_top/(c_top+w_top).
    """
    if counts.wrong is None or counts.correct_classes is None:
        return None
    nonc = (counts.n - counts.correct).astype(np.float64)
    s = np.where(nonc > 0, counts.top_wrong() / np.maximum(nonc, 1), 0.0)
    cc = counts.correct_classes
    c_top_size = cc[:, 0] if cc.shape[1] else np.zeros(counts.n_questions, np.int64)
    c = np.where(counts.correct > 0, c_top_size / np.maximum(counts.correct, 1), 1.0)
    n_c = np.where(counts.correct > 0, (cc == c_top_size[:, None]).sum(axis=1), 1)
    w_top = counts.top_wrong()
    n_w = np.where(w_top > 0, (counts.wrong == w_top[:, None]).sum(axis=1), 0)
    thr = np.asarray(s / (c + s), np.float64)
    at = np.asarray(np.where(n_w > 0, n_c / np.maximum(n_c + n_w, 1), 1.0), np.float64)
    return thr, at


def power_law_exponent(ks: npt.ArrayLike, pass_mean: npt.ArrayLike) -> FloatArray:
    """b in -log(pass@k) ~ a k^(-b) by OLS of log(-log pass@k) on log k; vectorised over rows of
    ``pass_mean``.

    Each row uses its own k with 0 < pass@k < 1 (a bootstrap replicate in which every question is solved at the
    largest k drops that k, as the estimator itself would); NaN for a row with fewer than 3 such k.
    """
    k = np.asarray(ks, np.float64)
    y = np.atleast_2d(np.asarray(pass_mean, np.float64))
    ok = (y > 0) & (y < 1)
    w = ok.astype(np.float64)
    x = np.broadcast_to(np.log(k), y.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(ok, np.log(-np.log(np.where(ok, y, 0.5))), 0.0)
        count = w.sum(axis=1)
        x_mean = (w * x).sum(axis=1) / count
        z_mean = (w * z).sum(axis=1) / count
        xc = (x - x_mean[:, None]) * w
        slope = (xc * (z - z_mean[:, None])).sum(axis=1) / (xc * (x - x_mean[:, None])).sum(axis=1)
    return np.asarray(np.where(count >= 3, -slope, np.nan), np.float64)
