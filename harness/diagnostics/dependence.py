"""Tests of exchangeability across a dependence axis (the ``group`` column: batch, seed, prompt variant,
time).

Under the sampling null the n samples of a question are i.i.d., so within a question the group labels carry no
information about the answers. Three tests, each calibrated without asymptotics:

* ``chi2_class_by_group``: Pearson X^2 of answer class x group, summed over questions; p-value from permuting
  the group labels within each question (exact conditional test; row and column totals are fixed by the
  permutation, so X^2 = sum O^2/E - n is cheap to recompute).
* ``overdispersion``: Tarone's (1979, Biometrika 66:585-590) score statistic for beta-binomial over-dispersion
  of correct counts across groups, stratified by question, Z = [sum_qg (c_qg - n_qg p_q)^2 / (p_q (1-p_q))
  - E_0] / sqrt(2 sum_qg n_qg (n_qg - 1)) over questions with 0 < p_q < 1, centred at its exact permutation mean
  E_0 = sum_q (N_q^2 - sum_g n_qg^2) / (N_q - 1) (Tarone's sum_qg n_qg is the binomial, not the conditional,
  mean); one-sided, calibrated by the same within-question permutations. The asymptotic normal p is reported
  beside it for reference only; every verdict uses the permutation p.
* ``curve_D``: D(k) = mean over questions of [within-group maj@k (average over groups) - pooled maj@k], both
  exact U-statistics, so E D(k) = 0 under exchangeability; paired percentile bootstrap over questions for each
  k and a max-|t| statistic across k, calibrated by the centred bootstrap (Romano & Wolf 2005 style step-0).

* ``curve_D_perm(pass@k)``: the same D(k) for pass@k (binary correctness), calibrated exactly by the
  within-question permutations: max_k |D(k)| / sd_perm(k) against its permutation distribution. Exact size and
  far more power than the bootstrap version (simulation: 0.40 vs 0.02 at intra-class correlation 0.05).

A random split of exchangeable samples satisfies the null by construction: such a "test" can only confirm the
assumption it starts from, so these tests are run only on a real group column and reported as what they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

from harness._bootstrap import Resampler
from harness.curves import default_ks, per_question_metric
from harness.estimators.majority import maj_at_k_one
from harness.tables import QuestionCounts, rollouts_to_counts, validate_rollouts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _permuted_groups(qidx: IntArray, grp: IntArray, reps: int, rng: np.random.Generator) -> IntArray:
    """(reps, N) group labels permuted within each question block (qidx sorted): argsort of U(0,1) + qidx."""
    keys = rng.random((reps, len(qidx))) + qidx[None, :]
    return np.asarray(grp[np.argsort(keys, axis=1)], np.int64)


def _batched(total: int, n: int) -> list[int]:
    """Split ``total`` permutations into batches of at most ~4M cells."""
    size = max(1, 4_000_000 // max(n, 1))
    return [min(size, total - i) for i in range(0, total, size)]


def chi2_permutation_test(
    qidx: IntArray, cls: IntArray, grp: IntArray, *, permutations: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Summed Pearson X^2 of class x group per question and its within-question permutation p-value.

    ``qidx`` sorted; ``cls`` class index within question (0..C-1); ``grp`` group index (0..G-1).
    """
    nq, nc, ng = int(qidx.max()) + 1, int(cls.max()) + 1, int(grp.max()) + 1
    base = (qidx * nc + cls) * ng
    row = np.bincount(qidx * nc + cls, minlength=nq * nc).reshape(nq, nc)
    col = np.bincount(qidx * ng + grp, minlength=nq * ng).reshape(nq, ng)
    tot = row.sum(axis=1)
    expected = row[:, :, None] * col[:, None, :] / tot[:, None, None]
    inv_e = np.where(expected > 0, 1.0 / np.where(expected > 0, expected, 1.0), 0.0).ravel()
    n = float(len(qidx))

    cells = nq * nc * ng

    def stat(g: IntArray) -> FloatArray:
        g2 = np.atleast_2d(g)
        flat = (np.arange(g2.shape[0])[:, None] * cells + base[None, :] + g2).ravel()
        o = np.bincount(flat, minlength=g2.shape[0] * cells).reshape(g2.shape[0], cells).astype(np.float64)
        return np.asarray((o * o) @ inv_e - n, np.float64)

    t_obs = float(stat(grp)[0])
    exceed = 0
    for size in _batched(permutations, len(qidx)):
        exceed += int((stat(_permuted_groups(qidx, grp, size, rng)) >= t_obs - 1e-9).sum())
    return t_obs, (1 + exceed) / (1 + permutations)


def overdispersion_test(
    qidx: IntArray,
    correct: npt.NDArray[np.bool_],
    grp: IntArray,
    *,
    permutations: int,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """Tarone's stratified over-dispersion Z, its permutation p-value and its asymptotic (normal) p-value."""
    nq, ng = int(qidx.max()) + 1, int(grp.max()) + 1
    y = correct.astype(np.float64)
    n_qg = np.bincount(qidx * ng + grp, minlength=nq * ng).reshape(nq, ng).astype(np.float64)
    n_q = n_qg.sum(axis=1)
    p_q = np.bincount(qidx, weights=y, minlength=nq) / n_q
    use = (p_q > 0) & (p_q < 1)
    if not use.any():
        return float("nan"), float("nan"), float("nan")
    denom = np.sqrt(2 * (n_qg[use] * (n_qg[use] - 1)).sum())
    pq = p_q[use][:, None]
    # exact permutation mean of the standardised sum of squares given the margins (hypergeometric cells:
    # Var c_qg = n_qg p_q (1 - p_q) (N_q - n_qg) / (N_q - 1)): sum_q (N_q^2 - sum_g n_qg^2) / (N_q - 1)
    centre = float(((n_q[use] ** 2 - (n_qg[use] ** 2).sum(axis=1)) / np.maximum(n_q[use] - 1, 1)).sum())

    def zstat(g: IntArray) -> FloatArray:
        g2 = np.atleast_2d(g)
        r = g2.shape[0]
        flat = (np.arange(r)[:, None] * (nq * ng) + qidx[None, :] * ng + g2).ravel()
        c_qg = np.bincount(flat, weights=np.tile(y, r), minlength=r * nq * ng).reshape(r, nq, ng)[:, use]
        num = ((c_qg - n_qg[use] * pq) ** 2 / (pq * (1 - pq))).sum(axis=(1, 2)) - centre
        return np.asarray(num / denom if denom > 0 else np.full(r, np.nan), np.float64)

    z = float(zstat(grp)[0])
    exceed = 0
    for size in _batched(permutations, len(qidx)):
        exceed += int((zstat(_permuted_groups(qidx, grp, size, rng)) >= z - 1e-9).sum())
    return z, (1 + exceed) / (1 + permutations), float(stats.norm.sf(z))


def curve_difference_test(
    within: FloatArray, pooled: FloatArray, *, bootstrap: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float, float]:
    """D(k) = mean_q (within - pooled): estimate, interval, t(k), max |t| and its bootstrap p-value."""
    d_q = within - pooled
    d_q = np.where(np.abs(d_q) < 1e-12, 0.0, d_q)  # k where D is identically 0 (e.g. k = 1, equal groups)
    q = d_q.shape[0]
    d = d_q.mean(axis=0)
    se = d_q.std(axis=0, ddof=1) / np.sqrt(q)
    se = np.where(se > 1e-12, se, np.nan)
    t = d / se
    # the mean and the mean square on the same replicates (each replicate's own standard error)
    m1, m2 = Resampler(rng, q, bootstrap).means_many([d_q, d_q**2])
    a = (1 - level) / 2
    lo, hi = np.quantile(m1, [a, 1 - a], axis=0)
    if not np.isfinite(t).any():
        return d, np.asarray(lo), np.asarray(hi), t, float("nan"), float("nan")
    t_max = float(np.nanmax(np.abs(t)))
    # studentized (bootstrap-t) replicates, each with its own standard error (Hall 1992, sec. 3.5)
    se_b = np.sqrt(np.maximum(m2 - m1**2, 0.0) / (q - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        t_b = np.abs((m1 - d) / np.where(se_b > 1e-12, se_b, np.nan))
    t_b[:, ~np.isfinite(t)] = np.nan
    t_star = np.nanmax(np.where(np.isfinite(t_b), t_b, -np.inf), axis=1)
    p = float((1 + (t_star >= t_max).sum()) / (1 + bootstrap))
    return d, np.asarray(lo), np.asarray(hi), t, t_max, p


def _clean(d: FloatArray) -> FloatArray:
    """Rounding residue (|D| < 1e-12, e.g. k = 1 with equal groups, where D is identically 0) printed as 0."""
    return np.asarray(np.where(np.abs(d) < 1e-12, 0.0, d), np.float64)


def _pass_matrix(n: FloatArray, c: FloatArray, ks: npt.NDArray[np.int64]) -> FloatArray:
    """1 - C(n-c, k)/C(n, k) elementwise over the leading axes of n, c and a trailing k axis (NaN where k > n)."""
    k = ks.astype(np.float64)
    n_ = n[..., None]
    c_ = c[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        lg = (
            special.gammaln(n_ - c_ + 1)
            - special.gammaln(n_ - c_ - k + 1)
            - special.gammaln(n_ + 1)
            + special.gammaln(n_ - k + 1)
        )
        out = 1.0 - np.where(n_ - c_ >= k, np.exp(lg), 0.0)
    return np.asarray(np.where(k <= n_, out, np.nan), np.float64)


@dataclass(frozen=True)
class CurvePermutation:
    """D(k) for pass@k with its permutation null: z(k), the max-|z| p-value and the detectable slope difference."""

    d: FloatArray
    z: FloatArray
    p_value: float
    slope: float
    """Least-squares slope of D(k) on log10 k (fraction per decade)."""
    mde_slope: float
    """(c + z_power) x the permutation sd of the slope, c the permutation critical value of max |z| at ``alpha``
    (normal approximation for an alternative that moves only the slope)."""
    permutations: int = 0
    """Permutations drawn (fewer than asked when a sequential Besag-Clifford stop ended the run)."""


def curve_permutation_summary(
    qidx: IntArray,
    correct: npt.NDArray[np.bool_],
    grp: IntArray,
    ks: npt.NDArray[np.int64],
    *,
    permutations: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    power: float = 0.8,
) -> CurvePermutation:
    """D(k) for pass@k (within-group minus pooled, exact U-statistics) with a within-question permutation null.

    The p-value is that of max_k |z(k)| (exact: the group labels are exchangeable within a question under the
    null).
    """
    nq, ng = int(qidx.max()) + 1, int(grp.max()) + 1
    y = correct.astype(np.float64)
    n_qg = np.bincount(qidx * ng + grp, minlength=nq * ng).reshape(nq, ng).astype(np.float64)
    n_q = n_qg.sum(axis=1)
    c_q = np.asarray(np.bincount(qidx, weights=y, minlength=nq), np.float64)
    pooled = _pass_matrix(n_q, c_q, ks)  # (Q, K), fixed under permutation

    def d_of(g: IntArray) -> FloatArray:
        g2 = np.atleast_2d(g)
        r = g2.shape[0]
        flat = (np.arange(r)[:, None] * (nq * ng) + qidx[None, :] * ng + g2).ravel()
        c_qg = np.asarray(np.bincount(flat, weights=np.tile(y, r), minlength=r * nq * ng), np.float64)
        c_qg = c_qg.reshape(r, nq, ng)
        within = _pass_matrix(np.broadcast_to(n_qg, c_qg.shape), c_qg, ks)  # (R, Q, G, K)
        weights = (n_qg > 0).astype(np.float64)
        w_mean = np.nansum(within * weights[None, :, :, None], axis=2) / weights.sum(axis=1)[None, :, None]
        return np.asarray(np.nanmean(w_mean - pooled[None], axis=1), np.float64)  # (R, K)

    d = _clean(d_of(grp)[0])
    perm = np.concatenate(
        [d_of(_permuted_groups(qidx, grp, size, rng)) for size in _batched(permutations, len(qidx) * len(ks))]
    )
    x = np.log10(ks.astype(np.float64))
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float((d - d.mean()) @ xc / sxx) if sxx > 0 else float("nan")
    sd = perm.std(axis=0, ddof=1)
    ok = sd > 1e-12
    if not ok.any():
        nan = float("nan")
        return CurvePermutation(d, np.full(len(ks), np.nan), nan, slope, nan, permutations)
    z = np.where(ok, d / np.where(ok, sd, 1.0), np.nan)
    t_obs = float(np.nanmax(np.abs(z)))
    t_perm = np.abs(perm[:, ok] / sd[ok]).max(axis=1)
    p = float((1 + (t_perm >= t_obs - 1e-12).sum()) / (1 + permutations))
    mde = float("nan")
    if sxx > 0:
        s_perm = (perm - perm.mean(axis=1, keepdims=True)) @ xc / sxx
        mde = float((np.quantile(t_perm, 1 - alpha) + stats.norm.ppf(power)) * s_perm.std(ddof=1))
    return CurvePermutation(d, z, p, slope, mde, permutations)


def curve_permutation_test(
    qidx: IntArray,
    correct: npt.NDArray[np.bool_],
    grp: IntArray,
    ks: npt.NDArray[np.int64],
    *,
    permutations: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, float]:
    """D(k), its permutation z(k) and the max-|z| p-value (see :func:`curve_permutation_summary`)."""
    out = curve_permutation_summary(qidx, correct, grp, ks, permutations=permutations, rng=rng)
    return out.d, out.z, out.p_value


@dataclass(frozen=True)
class VoteSlots:
    """Each sample's vote class as a slot of one layout shared by every question: the question's correct classes
    in slots 0 .. n_correct - 1, its wrong classes in n_correct .. n_correct + n_wrong - 1 and "no answer" (wrong,
    no vote) in the last slot. Which correct (or wrong) class gets which slot does not matter: a class table is
    sorted within each part before its maj@k is computed."""

    qidx: IntArray
    slot: IntArray
    n_correct: int
    n_wrong: int

    @property
    def width(self) -> int:
        return self.n_correct + self.n_wrong + 1


def vote_slots(
    qidx: IntArray, cls: IntArray, correct: npt.NDArray[np.bool_], abstain: npt.NDArray[np.bool_]
) -> VoteSlots:
    """:class:`VoteSlots` from the question index, the class index within the question (one class per distinct
    answer), each sample's correctness and whether it gave no answer."""
    width = int(cls.max()) + 1
    key = qidx * width + cls
    uniq, first = np.unique(key, return_index=True)
    role = np.where(abstain[first], 2, np.where(correct[first], 0, 1))
    q_of = uniq // width
    rank = pd.Series(np.zeros(len(uniq))).groupby([q_of, role]).cumcount().to_numpy(np.int64)
    n_correct = int(rank[role == 0].max()) + 1 if (role == 0).any() else 0
    n_wrong = int(rank[role == 1].max()) + 1 if (role == 1).any() else 0
    class_slot = np.where(role == 0, rank, np.where(role == 1, n_correct + rank, n_correct + n_wrong))
    slot = class_slot[np.searchsorted(uniq, key)]
    return VoteSlots(qidx, np.asarray(slot, np.int64), n_correct, n_wrong)


@lru_cache(maxsize=200_000)
def _maj_of_table(
    correct: tuple[int, ...], wrong: tuple[int, ...], abstain: int, ks: tuple[int, ...], ties: str
) -> tuple[float, ...]:
    """Exact maj@k (U-statistic over the k-subsets) of one class table, via the public estimator (memoised:
    permutations revisit the same tables)."""
    if sum(correct) + sum(wrong) + abstain == 0:
        return tuple(float("nan") for _ in ks)
    return tuple(float(v) for v in maj_at_k_one(list(correct), list(wrong), abstain, list(ks), ties=ties))


def _row_codes(rows: IntArray) -> IntArray:
    """Dense codes of the distinct rows of an integer matrix, exactly, by hashing: the columns are folded in as
    many at a time as fit in 62 bits beside the codes so far (mixed radix), then factorised (pd.factorize), so
    the work is linear in the cells; a row-wise sort (np.unique(axis=0)) was 10-50 times slower here."""
    codes = np.zeros(len(rows), np.int64)
    n_codes = 1
    radix = int(rows.max(initial=0)) + 1
    j = 0
    while j < rows.shape[1]:
        key = codes.copy()
        room = n_codes
        while j < rows.shape[1] and room * radix < 2**62:
            key = key * radix + rows[:, j]
            room *= radix
            j += 1
        fact, uniq = pd.factorize(key)
        codes, n_codes = np.asarray(fact, np.int64), len(uniq)
    return codes


def _maj_of_rows(rows: IntArray, n_correct: int, ks: tuple[int, ...], ties: str) -> FloatArray:
    """maj@k of each row of a (M, width) table of slot counts (rows already sorted within each part)."""
    inv = _row_codes(rows)
    first = np.empty(int(inv.max(initial=-1)) + 1, np.int64)
    first[inv] = np.arange(len(inv))  # any occurrence: rows with one code are equal
    uniq = rows[first]
    vals = np.empty((len(uniq), len(ks)))
    for i, u in enumerate(uniq.tolist()):
        vals[i] = _maj_of_table(
            tuple(v for v in u[:n_correct] if v > 0), tuple(v for v in u[n_correct:-1] if v > 0), u[-1], ks, ties
        )
    return np.asarray(vals[np.asarray(inv).reshape(-1)], np.float64)


def _canonical(tab: IntArray, n_correct: int, n_wrong: int) -> IntArray:
    """Sort each table's correct part and wrong part in descending order (maj@k depends on the sizes only)."""
    out = tab.copy()
    for lo, hi in ((0, n_correct), (n_correct, n_correct + n_wrong)):
        if hi - lo > 1:
            out[..., lo:hi] = -np.sort(-tab[..., lo:hi], axis=-1)
    return out


def maj_curve_permutation_summary(
    slots: VoteSlots,
    grp: IntArray,
    ks: npt.NDArray[np.int64],
    *,
    permutations: int,
    rng: np.random.Generator,
    ties: str = "random",
    alpha: float = 0.05,
    power: float = 0.8,
    batch: int = 100,
    stop_after: int = 20,
) -> CurvePermutation:
    """D(k) for maj@k across a group column with a within-question permutation null.

    D(k) = mean over questions of [mean over the question's groups of the within-group exact maj@k (U-statistic
    over that group's samples, :func:`harness.estimators.majority.maj_at_k_one`) - the pooled exact maj@k].
    Null mean exactly 0: under a within-question permutation a group's samples are a uniformly random subset of
    the question's, and a uniformly random k-subset of a uniformly random subset is a uniformly random k-subset
    of all, so E[within-group maj@k] is the pooled U-statistic for every group. Statistic max_k |D(k)| /
    sd_perm(k), as :func:`curve_permutation_summary` for pass@k.

    Cost: every permutation recomputes maj@k per (question, group). Class tables are deduplicated (sorted within
    their correct and wrong parts, then ``np.unique``) and their maj@k memoised across permutations, questions
    and calls, so the work is one estimator call per distinct table. Permutations run in batches of ``batch``;
    after each batch a sequential Besag & Clifford (1991, Biometrika 78:301-304) stop ends the run once
    ``stop_after`` permuted statistics reach the observed one, with p = stop_after / l (l the draws up to that
    exceedance); otherwise p = (1 + #exceed) / (1 + R). ``stop_after = 0`` draws all ``permutations``. The
    standardisation sd_perm(k) uses the permutations drawn so far (a plug-in, as in the fixed-R version).
    """
    qidx, width, nc, nw = slots.qidx, slots.width, slots.n_correct, slots.n_wrong
    nq, ng = int(qidx.max()) + 1, int(grp.max()) + 1
    k_t = tuple(int(k) for k in ks)
    n_qg = np.bincount(qidx * ng + grp, minlength=nq * ng).reshape(nq, ng).astype(np.float64)
    used = n_qg > 0
    if len(k_t) == 0 or min(k_t) < 1 or max(k_t) > n_qg[used].min():
        raise ValueError(f"ks must lie in 1..{int(n_qg[used].min())} (the smallest group of a question), got {k_t}")
    pooled_tab = np.bincount(qidx * width + slots.slot, minlength=nq * width).reshape(nq, width)
    pooled = _maj_of_rows(_canonical(pooled_tab, nc, nw), nc, k_t, ties).reshape(nq, len(k_t))
    base = qidx * (ng * width) + slots.slot

    def d_of(g: IntArray) -> FloatArray:
        g2 = np.atleast_2d(g)
        r = g2.shape[0]
        flat = (np.arange(r)[:, None] * (nq * ng * width) + base[None, :] + g2 * width).ravel()
        tab = np.bincount(flat, minlength=r * nq * ng * width).reshape(r, nq, ng, width)
        within = _maj_of_rows(_canonical(tab, nc, nw).reshape(-1, width), nc, k_t, ties).reshape(r, nq, ng, len(k_t))
        within = np.where(used[None, :, :, None], within, 0.0)
        w_mean = within.sum(axis=2) / used.sum(axis=1)[None, :, None]
        return np.asarray((w_mean - pooled[None]).mean(axis=1), np.float64)

    d = _clean(d_of(grp)[0])
    x = np.log10(ks.astype(np.float64))
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float((d - d.mean()) @ xc / sxx) if sxx > 0 else float("nan")
    step = max(1, min(batch, 4_000_000 // max(len(qidx), nq * ng * width, 1)))
    chunks: list[FloatArray] = []
    drawn, p = 0, float("nan")
    while drawn < permutations:
        size = min(step, permutations - drawn)
        chunks.append(d_of(_permuted_groups(qidx, grp, size, rng)))
        drawn += size
        perm = np.concatenate(chunks)
        sd = perm.std(axis=0, ddof=1) if drawn > 1 else np.zeros(len(k_t))
        ok = sd > 1e-12
        if not ok.any():
            break  # D(k) does not vary under relabelling (e.g. every question unanimous): nothing to test
        t_obs = float(np.max(np.abs(d[ok] / sd[ok])))
        hits = np.abs(perm[:, ok] / sd[ok]).max(axis=1) >= t_obs - 1e-12
        if stop_after and int(hits.sum()) >= stop_after and drawn < permutations:
            p = stop_after / (int(np.flatnonzero(hits)[stop_after - 1]) + 1)
            break
        p = (1 + int(hits.sum())) / (1 + drawn)
    perm = np.concatenate(chunks) if chunks else np.zeros((0, len(k_t)))
    sd = perm.std(axis=0, ddof=1) if len(perm) > 1 else np.zeros(len(k_t))
    ok = sd > 1e-12
    if not ok.any():
        nan = float("nan")
        return CurvePermutation(d, np.full(len(k_t), np.nan), nan, slope, nan, drawn)
    z = np.where(ok, d / np.where(ok, sd, 1.0), np.nan)
    t_perm = np.abs(perm[:, ok] / sd[ok]).max(axis=1)
    mde = float("nan")
    if sxx > 0:
        s_perm = (perm - perm.mean(axis=1, keepdims=True)) @ xc / sxx
        mde = float((np.quantile(t_perm, 1 - alpha) + stats.norm.ppf(power)) * s_perm.std(ddof=1))
    return CurvePermutation(d, z, p, slope, mde, drawn)


def _encode(
    r: pd.DataFrame, use_answers: bool
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(question index, class within question, group index, correct, no answer) per sample, sorted by question."""
    r = r.sort_values("question_id", kind="stable")
    qidx = pd.factorize(r["question_id"])[0].astype(np.int64)
    if use_answers:
        key = r["answer"].astype(object).where(r["answer"].notna(), "\x00no answer")
    else:
        key = r["correct"].astype(int)
    cls = (
        r.assign(_k=key)
        .groupby("question_id", sort=False)["_k"]
        .transform(lambda s: pd.factorize(s)[0])
        .to_numpy(np.int64)
    )
    grp = pd.factorize(r["group"].astype(str))[0].astype(np.int64)
    abstain = r["answer"].isna().to_numpy(bool) if "answer" in r.columns else np.zeros(len(r), bool)
    return qidx, cls, grp, r["correct"].to_numpy(bool), abstain


def dependence_tests(
    counts: QuestionCounts,
    rollouts: pd.DataFrame,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    ties: str = "random",
    permutations: int = 999,
) -> tuple[pd.DataFrame | None, str]:
    """All three tests per model; rows per (model, test[, k]). Returns (table, reason)."""
    r_all = validate_rollouts(rollouts)
    r_all = r_all[r_all["group"].notna()]
    rows: list[dict[str, object]] = []
    reasons = []
    rng = np.random.default_rng(seed)
    for model in counts.models:
        r = r_all[r_all["model"] == model]
        groups = r["group"].astype(str).unique()
        if len(groups) < 2:
            reasons.append(f"{model}: fewer than two groups")
            continue
        use_answers = "answer" in r.columns and bool(r["answer"].notna().any())
        qidx, cls, grp, corr, abstain = _encode(r, use_answers)
        n_q = int(qidx.max()) + 1
        alpha = 1 - level
        t, p = chi2_permutation_test(qidx, cls, grp, permutations=permutations, rng=rng)
        rows.append(
            {
                "model": model,
                "test": "chi2_class_by_group",
                "k": np.nan,
                "statistic": t,
                "p_value": p,
                "p_asymptotic": np.nan,
                "estimate": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "reject": p < alpha,
                "n_questions": n_q,
                "n_groups": len(groups),
                "calibration": f"{permutations} within-question permutations of group labels",
            }
        )
        z, pz, pa = overdispersion_test(qidx, corr, grp, permutations=permutations, rng=rng)
        rows.append(
            {
                "model": model,
                "test": "overdispersion",
                "k": np.nan,
                "statistic": z,
                "p_value": pz,
                "p_asymptotic": pa,
                "estimate": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "reject": bool(pz < alpha),
                "n_questions": n_q,
                "n_groups": len(groups),
                "calibration": f"{permutations} within-question permutations (Tarone's Z)",
            }
        )
        pooled_counts = counts.select(model)
        for metric in ("pass@k", "maj@k") if use_answers and pooled_counts.answers_known else ("pass@k",):
            rows.extend(_curve_rows(model, r, pooled_counts, metric, bootstrap, rng, level, ties))
        cell_sizes = np.bincount(qidx * (int(grp.max()) + 1) + grp)
        n_min_group = int(cell_sizes[cell_sizes > 0].min())
        ks = default_ks(max(n_min_group, 1))
        ks = ks[ks <= n_min_group]
        if len(ks):
            cp = curve_permutation_summary(qidx, corr, grp, ks, permutations=permutations, rng=rng, alpha=alpha / 2)
            d_k, z_k, p_k = cp.d, cp.z, cp.p_value
            for j, k in enumerate(ks.tolist()):
                rows.append(
                    {
                        "model": model,
                        "test": "curve_D_perm(pass@k)",
                        "k": k,
                        "statistic": float(z_k[j]),
                        "p_value": p_k,
                        "p_asymptotic": np.nan,
                        "estimate": float(d_k[j]),
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "reject": bool(p_k < alpha),
                        "mde_pp_per_decade": 100 * cp.mde_slope,
                        "n_questions": n_q,
                        "n_groups": len(groups),
                        "calibration": f"max-|z| over k = {ks.tolist()}; {permutations} within-question "
                        "permutations of group labels (exact)",
                    }
                )
        if len(ks) and use_answers and pooled_counts.answers_known:
            cm = maj_curve_permutation_summary(
                vote_slots(qidx, cls, corr, abstain),
                grp,
                ks,
                permutations=permutations,
                rng=rng,
                ties=ties,
                alpha=alpha / 2,
            )
            stop = (
                f"stopped after {cm.permutations} by the sequential Besag-Clifford rule (20 exceedances)"
                if cm.permutations < permutations
                else "all drawn"
            )
            for j, k in enumerate(ks.tolist()):
                rows.append(
                    {
                        "model": model,
                        "test": "curve_D_perm(maj@k)",
                        "k": k,
                        "statistic": float(cm.z[j]),
                        "p_value": cm.p_value,
                        "p_asymptotic": np.nan,
                        "estimate": float(cm.d[j]),
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "reject": bool(cm.p_value < alpha),
                        "mde_pp_per_decade": 100 * cm.mde_slope,
                        "n_questions": n_q,
                        "n_groups": len(groups),
                        "calibration": f"max-|z| over k = {ks.tolist()}; up to {permutations} within-question "
                        f"permutations of group labels ({stop}); exact maj@k per (question, group), ties {ties}",
                    }
                )
    if not rows:
        return None, "; ".join(reasons) or "no model has two or more groups"
    reason = (
        "group column present: tests of exchangeability across it (meaningful only if the group is a real "
        "dependence axis such as batch, seed, prompt variant or time; a random split is no test)"
    )
    if reasons:
        reason += "; skipped: " + "; ".join(reasons)
    return pd.DataFrame(rows), reason


def _curve_rows(
    model: str,
    r: pd.DataFrame,
    pooled_counts: QuestionCounts,
    metric: str,
    bootstrap: int,
    rng: np.random.Generator,
    level: float,
    ties: str,
) -> list[dict[str, object]]:
    """D(k) of ``metric`` with its bootstrap interval: an effect size with an interval, not a test (its max-|t|
    p-value is reported but stays out of every verdict: in simulation it had almost no power)."""
    by_group = {g: rollouts_to_counts(sub, validated=True) for g, sub in r.groupby(r["group"].astype(str))}
    qids = pooled_counts.question_id.tolist()
    pos = {q: i for i, q in enumerate(qids)}
    k_max = min(int(c.n.min()) for c in by_group.values())
    # questions present in every group
    common = set(qids)
    for c in by_group.values():
        common &= set(c.question_id.tolist())
    if k_max < 1 or len(common) < 2 or bootstrap < 2:
        return []
    keep = np.array(sorted(pos[q] for q in common))
    ks = default_ks(k_max)
    ks = ks[ks <= k_max]
    pooled = per_question_metric(pooled_counts.take(keep), metric, "measured", ks, ties=ties)
    within = np.zeros_like(pooled)
    for c in by_group.values():
        cpos = {q: i for i, q in enumerate(c.question_id.tolist())}
        idx = np.array([cpos[qids[i]] for i in keep])
        within += per_question_metric(c.take(idx), metric, "measured", ks, ties=ties)
    within /= len(by_group)
    d, lo, hi, t, t_max, p = curve_difference_test(within, pooled, bootstrap=bootstrap, rng=rng, level=level)
    out: list[dict[str, object]] = []
    for j, k in enumerate(ks.tolist()):
        out.append(
            {
                "model": model,
                "test": f"curve_D({metric})",
                "k": k,
                "statistic": float(t[j]),
                "p_value": p,
                "p_asymptotic": np.nan,
                "estimate": float(d[j]),
                "ci_low": float(lo[j]),
                "ci_high": float(hi[j]),
                "reject": bool(p < 1 - level),
                "n_questions": len(keep),
                "n_groups": len(by_group),
                "calibration": f"max-|t| over k = {ks.tolist()} (max |t| = {t_max:.2f}); studentized paired "
                f"bootstrap over questions, {bootstrap} replicates",
            }
        )
    return out
