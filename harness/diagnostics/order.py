"""Sample order as a test axis: the first-k curve against the exchangeable curve, and consecutive blocks as
groups.

Assumption (stated in every row): within a question, ``sample_id`` gives the order in which the samples were
drawn (numeric ids sorted as numbers; loaders number samples in file order when the log has no id). Under the
sampling null the samples of a question are exchangeable, so every ordering is equally likely and

* the **first-k curve** (pass@k: share of questions solved within their first k samples; maj@k: the vote over
  the first k samples) has expectation equal to the exchangeable curve, the U-statistic over all k-subsets
  (its mean over the m! orderings). D(k) = first-k minus exchangeable therefore has mean 0, and its null
  distribution is obtained exactly by permuting each question's samples independently (the questions are
  independent units). Statistic: T = max(max_k |D(k)| / sd(k), |S| / sd(S)), where S is the least-squares slope
  of D on log10 k (the slope-per-decade difference of the two curves) and sd are permutation standard
  deviations; p = (1 + #{T* >= T}) / (1 + R). Sequential refinement and drift move S; batch correlation moves
  the middle of D.
* **consecutive blocks as groups**: the m first samples cut into 4 blocks of equal size feed the within-question
  permutation tests of :mod:`harness.diagnostics.dependence` (Tarone's Z for correctness, X^2 of answer class x
  block for the vote).

Effect on the curve (what a user who runs samples in order sees): D at the k where |D| is largest, and S, each
with a percentile bootstrap interval over questions. Minimum detectable slope difference at 80% power:
(c + z_0.8) sd(S), c the permutation critical value of T at the family's level (a normal approximation for an
alternative that moves only the slope; the benchmark measures the real power).

Samples beyond the smallest n are not used (each question contributes its first m = min n samples), so a
stopping rule with blocks contributes the first block only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from harness._bootstrap import Resampler
from harness.curves import default_ks, per_question_metric
from harness.diagnostics._order_kernel import (
    TIE_RANDOM,
    TIE_STRICT,
    TIE_WEAK,
    observed_curves,
    permutation_null,
)
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_TIE_CODES = {"random": TIE_RANDOM, "strict": TIE_STRICT, "weak": TIE_WEAK}
MIN_ORDER_SAMPLES = 4
"""Fewest samples per question for the order test (fewer give at most two k values)."""
BLOCKS = 4
ORDER_ASSUMPTION = (
    "sample_id is the order in which each question's samples were drawn (file order when the log has no id)"
)
ORDER_COLUMNS: tuple[str, ...] = (
    "model",
    "metric",
    "axis",
    "test",
    "statistic",
    "p_value",
    "effect_pp",
    "effect_k",
    "effect_ci_low_pp",
    "effect_ci_high_pp",
    "slope_alt_pp",
    "slope_exch_pp",
    "slope_diff_pp",
    "slope_diff_ci_low_pp",
    "slope_diff_ci_high_pp",
    "mde_pp_per_decade",
    "n_questions",
    "n_samples",
    "calibration",
    "assumption",
)


@dataclass(frozen=True)
class OrderData:
    """Each question's first m samples in logged order, as class codes: 0 correct, 1.. wrong answers, -1 none."""

    model: str
    question_id: npt.NDArray[np.object_]
    cls: IntArray
    answers_known: bool

    @property
    def m(self) -> int:
        return int(self.cls.shape[1])

    def counts(self) -> QuestionCounts:
        """The exchangeable sufficient statistic of the same m samples per question."""
        c = (self.cls == 0).sum(axis=1)
        if not self.answers_known:
            return QuestionCounts.from_binary(np.full(len(c), self.m), c, model=self.model)
        n_cls = int(self.cls.max()) + 1
        wrong = np.stack([(self.cls == j).sum(axis=1) for j in range(1, max(n_cls, 2))], axis=1)
        return QuestionCounts.from_classes(c, wrong, (self.cls < 0).sum(axis=1), model=self.model)


def order_data(rollouts: pd.DataFrame, model: str) -> OrderData | None:
    """The logged order of one model's samples (``rollouts`` validated); None with fewer than 4 samples each."""
    r = rollouts[rollouts["model"] == model]
    if len(r) == 0:
        return None
    sid = pd.to_numeric(r["sample_id"], errors="coerce")
    key = sid if bool(sid.notna().all()) else r["sample_id"].astype(str)
    r = r.assign(_key=key.to_numpy()).sort_values(["question_id", "_key"], kind="stable")
    sizes = r.groupby("question_id", sort=False).size()
    m = int(sizes.min())
    if m < MIN_ORDER_SAMPLES:
        return None
    pos = r.groupby("question_id", sort=False).cumcount().to_numpy()
    r = r[pos < m]
    answers = "answer" in r.columns and bool(r["answer"].notna().any())
    correct = r["correct"].to_numpy(bool)
    if answers:
        answered = r["answer"].notna().to_numpy()
        wrong = ~correct & answered
        qcode = pd.factorize(r["question_id"])[0]
        acode = pd.factorize(r["answer"].where(pd.Series(wrong, index=r.index)))[0]  # -1 where not a wrong answer
        # dense rank of the wrong answers within each question: 1, 2, ... (pairs sorted by question, answer code)
        pair = pd.factorize(pd.Series(qcode[wrong]).astype(str) + "\x00" + pd.Series(acode[wrong]).astype(str))[0]
        first_pair = pd.Series(pair).groupby(qcode[wrong]).transform("min").to_numpy()
        codes = np.where(correct, 0, -1).astype(np.int64)
        codes[wrong] = pair - first_pair + 1
    else:
        codes = np.where(correct, 0, 1).astype(np.int64)
    q = len(sizes)
    return OrderData(
        model=model,
        question_id=np.asarray(r["question_id"].to_numpy()[::m], object),
        cls=np.asarray(codes, np.int64).reshape(q, m),
        answers_known=answers,
    )


def _ols_slope(x: FloatArray, y: FloatArray) -> FloatArray:
    """Least-squares slope of each row of y (…, K) on x (K,)."""
    xc = x - x.mean()
    return np.asarray((y - y.mean(axis=-1, keepdims=True)) @ xc / float(xc @ xc), np.float64)


@dataclass(frozen=True)
class OrderTest:
    """One metric's first-k test: D(k), its permutation z, the p-value, slope and effect with intervals."""

    metric: str
    ks: IntArray
    first_k: FloatArray
    exchangeable: FloatArray
    d_ci: tuple[FloatArray, FloatArray]
    p_value: float
    statistic: float
    slope_diff: float
    slope_diff_ci: tuple[float, float]
    slope_alt: float
    slope_exch: float
    mde_slope: float
    effect_k: int
    effect: float
    effect_ci: tuple[float, float]
    first_k_ci: tuple[FloatArray, FloatArray]


@dataclass(frozen=True)
class PermutationNull:
    """Statistics of R within-question permutations of one model's samples, shared by every order test."""

    ks: IntArray
    pass_means: FloatArray
    """(R, K) mean over questions of the first-k pass@k of each permutation."""
    maj_means: FloatArray
    block_s: FloatArray
    """(R + 1,) Tarone's sum over consecutive blocks; entry 0 in the logged order."""
    block_x2: FloatArray
    blocks: int


def order_ks(m: int) -> IntArray:
    ks = default_ks(m)
    return np.asarray(ks[ks <= m], np.int64)


def permutation_draws(
    data: OrderData, *, permutations: int, seed: int, ties: str = "random", blocks: int = BLOCKS
) -> PermutationNull:
    """One compiled pass: every permutation statistic the order tests need (blocks = 0 when m < 2 x blocks)."""
    ks = order_ks(data.m)
    n_classes = max(int(data.cls.max()) + 1, 2)
    use_blocks = blocks if data.m // blocks >= 2 else 0
    pp, vv, s, x2 = permutation_null(data.cls, ks, n_classes, _TIE_CODES[ties], use_blocks, permutations, seed)
    return PermutationNull(ks, pp, vv, s, x2, use_blocks)


def first_k_test(
    data: OrderData,
    metric: str,
    *,
    null: PermutationNull | None = None,
    permutations: int = 999,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    ties: str = "random",
    family_size: int = 2,
    power: float = 0.8,
) -> OrderTest | None:
    """The first-k curve of ``metric`` against the exchangeable curve, tested by within-question permutations."""
    ks = order_ks(data.m)
    if len(ks) < 3:
        return None
    if null is None:
        null = permutation_draws(data, permutations=permutations, seed=seed, ties=ties)
    permutations = null.pass_means.shape[0]
    n_classes = max(int(data.cls.max()) + 1, 2)
    obs_p, obs_m = observed_curves(data.cls, ks, n_classes, _TIE_CODES[ties])
    obs_q, perm = (obs_p, null.pass_means) if metric == "pass@k" else (obs_m, null.maj_means)
    exch_q = per_question_metric(data.counts(), metric, "measured", ks, ties=ties)
    d_q = obs_q - exch_q
    d = d_q.mean(axis=0)
    d_perm = perm - exch_q.mean(axis=0)[None, :]
    x = np.log10(ks.astype(np.float64))
    sd = d_perm.std(axis=0, ddof=1)
    ok = sd > 1e-12
    s_obs = float(_ols_slope(x, d))
    s_perm = _ols_slope(x, d_perm)
    sd_s = float(s_perm.std(ddof=1))
    if not ok.any() or sd_s <= 1e-12:
        return None

    def t_of(dd: FloatArray, ss: FloatArray) -> FloatArray:
        return np.asarray(np.maximum(np.abs(dd[..., ok] / sd[ok]).max(axis=-1), np.abs(ss) / sd_s), np.float64)

    t_obs = float(t_of(d, np.asarray(s_obs)))
    t_perm = t_of(d_perm, s_perm)
    p = float((1 + (t_perm >= t_obs - 1e-12).sum()) / (1 + permutations))
    alpha = (1 - level) / family_size
    crit = float(np.quantile(t_perm, 1 - alpha))
    mde = (crit + float(stats.norm.ppf(power))) * sd_s
    # D(k) and the first-k curve on the same replicates
    d_reps, fk_reps = Resampler(seed + 1, d_q.shape[0], max(bootstrap, 1)).means_many([d_q, obs_q])
    a = (1 - level) / 2
    s_reps = _ols_slope(x, d_reps)
    j = int(np.argmax(np.abs(d)))
    lo, hi = np.quantile(d_reps, [a, 1 - a], axis=0)
    fk_lo, fk_hi = np.quantile(fk_reps, [a, 1 - a], axis=0)
    return OrderTest(
        metric=metric,
        ks=ks,
        first_k=obs_q.mean(axis=0),
        exchangeable=exch_q.mean(axis=0),
        d_ci=(np.asarray(lo), np.asarray(hi)),
        p_value=p,
        statistic=t_obs,
        slope_diff=s_obs,
        slope_diff_ci=(float(np.quantile(s_reps, a)), float(np.quantile(s_reps, 1 - a))),
        slope_alt=float(_ols_slope(x, obs_q.mean(axis=0))),
        slope_exch=float(_ols_slope(x, exch_q.mean(axis=0))),
        mde_slope=float(mde),
        effect_k=int(ks[j]),
        effect=float(d[j]),
        effect_ci=(float(lo[j]), float(hi[j])),
        first_k_ci=(np.asarray(fk_lo), np.asarray(fk_hi)),
    )


def block_groups(data: OrderData, blocks: int = BLOCKS) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """(question index, class, block index, correct) per sample, the m samples cut into ``blocks`` consecutive
    blocks of equal size (the last samples beyond blocks x floor(m / blocks) are left out)."""
    size = data.m // blocks
    used = data.cls[:, : size * blocks]
    q, m = used.shape
    qidx = np.repeat(np.arange(q, dtype=np.int64), m)
    grp = np.tile(np.arange(m, dtype=np.int64) // size, q)
    flat = used.reshape(-1)
    # class index within question for the X^2 table: the code itself (-1 "no answer" as its own class)
    cls = np.where(flat < 0, int(flat.max()) + 1, flat).astype(np.int64)
    return qidx, cls, grp, flat == 0


def block_tests(data: OrderData, null: PermutationNull) -> tuple[tuple[float, float], tuple[float, float]]:
    """((Tarone Z, p), (X^2, p)) with consecutive blocks as groups, from the shared permutations (the same
    statistics as harness.diagnostics.dependence's overdispersion and chi2 tests on these groups)."""
    blocks = null.blocks
    permutations = len(null.block_s) - 1
    size = data.m // blocks
    used = size * blocks
    c = (data.cls[:, :used] == 0).sum(axis=1)
    n_use = int(((c > 0) & (c < used)).sum())
    centre = n_use * (used**2 - blocks * size**2) / (used - 1)  # exact permutation mean of S
    denom = float(np.sqrt(2 * n_use * blocks * size * (size - 1)))
    s, x2 = null.block_s, null.block_x2
    z = (s[0] - centre) / denom if denom > 0 else float("nan")

    def p_of(v: FloatArray) -> float:
        return float((1 + (v[1:] >= v[0] - 1e-9).sum()) / (1 + permutations))

    return (float(z), p_of(s) if n_use else float("nan")), (float(x2[0]), p_of(x2))


def order_tests(
    rollouts: pd.DataFrame,
    models: list[str],
    *,
    permutations: int = 999,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    ties: str = "random",
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
    """Order tests and first-k curves for every model with per-sample rows; (tests, curves, reason)."""
    rows: list[dict[str, object]] = []
    curve_rows: list[pd.DataFrame] = []
    skipped: list[str] = []
    if "budget" in rollouts.columns and rollouts["budget"].notna().any():
        base = rollouts["budget"].min()  # samples at different budgets are not exchangeable by design
        rollouts = rollouts[rollouts["budget"] == base]
        skipped.append(f"only the smallest budget ({base:g}) is tested for order")
    for mi, model in enumerate(models):
        data = order_data(rollouts, model)
        if data is None:
            skipped.append(f"{model}: fewer than {MIN_ORDER_SAMPLES} ordered samples for some question")
            continue
        metrics = ("pass@k", "maj@k") if data.answers_known else ("pass@k",)
        size = data.m // BLOCKS
        null = permutation_draws(data, permutations=permutations, seed=seed + 7919 * mi, ties=ties)
        blocks = block_tests(data, null) if null.blocks else None
        for metric in metrics:
            test = first_k_test(
                data,
                metric,
                null=null,
                permutations=permutations,
                bootstrap=bootstrap,
                seed=seed + 7919 * mi,
                level=level,
                ties=ties,
            )
            if test is None:
                skipped.append(f"{model} {metric}: too few k values or no variation to permute")
                continue
            common = {
                "model": model,
                "metric": metric,
                "axis": "order",
                "effect_pp": 100 * test.effect,
                "effect_k": test.effect_k,
                "effect_ci_low_pp": 100 * test.effect_ci[0],
                "effect_ci_high_pp": 100 * test.effect_ci[1],
                "slope_alt_pp": 100 * test.slope_alt,
                "slope_exch_pp": 100 * test.slope_exch,
                "slope_diff_pp": 100 * test.slope_diff,
                "slope_diff_ci_low_pp": 100 * test.slope_diff_ci[0],
                "slope_diff_ci_high_pp": 100 * test.slope_diff_ci[1],
                "n_questions": int(data.cls.shape[0]),
                "n_samples": data.m,
                "assumption": ORDER_ASSUMPTION,
            }
            rows.append(
                {
                    **common,
                    "test": f"first_k_permutation({metric})",
                    "statistic": test.statistic,
                    "p_value": test.p_value,
                    "mde_pp_per_decade": 100 * test.mde_slope,
                    "calibration": f"max of |z| over k = {test.ks.tolist()} and of the slope difference; "
                    f"{permutations} within-question permutations of the sample order (exact)",
                }
            )
            if blocks is not None:
                stat, pv = blocks[0] if metric == "pass@k" else blocks[1]
                name = f"tarone_blocks_of_{size}" if metric == "pass@k" else f"chi2_class_by_block_of_{size}"
                rows.append(
                    {
                        **common,
                        "test": name,
                        "statistic": stat,
                        "p_value": pv,
                        "mde_pp_per_decade": np.nan,
                        "calibration": f"{BLOCKS} consecutive blocks of {size} samples as groups; {permutations} "
                        "within-question permutations (exact)",
                    }
                )
            curve_rows.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "metric": metric,
                        "k": test.ks,
                        "compute": test.ks.astype(np.float64),
                        "compute_unit": "samples",
                        "value": test.first_k,
                        "ci_low": test.first_k_ci[0],
                        "ci_high": test.first_k_ci[1],
                        "kind": "first-k",
                        "estimator": "share of questions solved within their first k logged samples"
                        if metric == "pass@k"
                        else "vote over each question's first k logged samples",
                        "ties": ties if metric == "maj@k" else "",
                        "n_questions": int(data.cls.shape[0]),
                        "interval": f"{level:.0%} percentile bootstrap over questions, {bootstrap} replicates",
                    }
                )
            )
    if not rows:
        return None, None, "; ".join(skipped) or "no per-sample rows"
    reason = f"sample order tested, assuming {ORDER_ASSUMPTION}"
    if skipped:
        reason += "; skipped: " + "; ".join(skipped)
    return pd.DataFrame(rows)[list(ORDER_COLUMNS)], pd.concat(curve_rows, ignore_index=True), reason
