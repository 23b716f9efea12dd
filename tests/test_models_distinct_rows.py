"""The fits and predictions computed over distinct (n, c, stopping) rows with multiplicities equal the same
computations done question by question (the former code path, kept as ``_make_grid(..., collapse=False)``) and
brute-force per-question formulas, up to rounding."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import special

from harness.estimators.majority import maj_at_k_one
from harness.models import fit_spread, npmle_weights
from harness.models.predict import (
    _PSEUDO,
    _round_p,
    _structured_by_profile,
    plateau_rows,
    posterior_quantiles,
    predict_maj_binary,
    predict_maj_structured,
    predict_maj_structured_many,
    predict_pass,
    prediction_rows,
    structured_maj_workload,
)
from harness.models.spread import (
    FIT_NAMES,
    SpreadFit,
    _bb_loglik,
    _fit_grid,
    _gof,
    _Grid,
    _grid_loglik,
    _make_grid,
    _posterior,
)
from harness.tables import QuestionCounts, first_success_block
from tests.test_estimators_sweep import exact_credit_given_x
from tests.test_models import first_success_blocks

RTOL = 1e-9  # "identical up to rounding": sums over ~10^2-10^3 terms in another order


def _table(seed: int, q: int = 300, adaptive: float = 0.0) -> QuestionCounts:
    """Questions with n in {20, 50}, so most (n, c) rows repeat; a share of 'adaptive' stopping rows."""
    rng = np.random.default_rng(seed)
    n = rng.choice([20, 50], q)
    c = rng.binomial(n, rng.beta(0.4, 1.5, q))
    stop = np.where(rng.random(q) < adaptive, "adaptive", "fixed").astype(object)
    return QuestionCounts.from_binary(n, c, stopping=stop)


def _grids(counts: QuestionCounts) -> tuple[_Grid, _Grid]:
    n, c = counts.n.astype(float), counts.correct.astype(float)
    assert counts.stopping is not None
    return _make_grid(n, c, counts.stopping), _make_grid(n, c, counts.stopping, collapse=False)


@pytest.mark.parametrize("adaptive", [0.0, 0.2])
def test_fits_over_distinct_rows_match_the_row_by_row_fits(adaptive: float) -> None:
    counts = _table(1, adaptive=adaptive)
    grid_c, grid_q = _grids(counts)
    assert grid_c.weight.sum() == counts.n_questions and len(grid_c.n) < counts.n_questions / 3
    collapsed = fit_spread(counts)
    by_row = _fit_grid(grid_q, FIT_NAMES)
    for a, b in zip(collapsed, by_row, strict=True):
        assert a.posterior.shape[0] == len(grid_c.n) and b.posterior.shape[0] == counts.n_questions
        # the optimisers stop at their tolerances (L-BFGS-B with finite differences, Nelder-Mead xatol 1e-4 in
        # log space), so the parameters agree to those, the maximised log-likelihoods to rounding
        assert a.loglik == pytest.approx(b.loglik, rel=RTOL)
        for k in a.params:
            if k not in ("pi1", "kkt_gap"):  # pi1 ~ 1e-13 here: no relative precision; the gap is a residual
                assert a.params[k] == pytest.approx(b.params[k], rel=1e-4), (a.name, k)
        assert a.gof_df == b.gof_df and a.gof_stat == pytest.approx(b.gof_stat, rel=1e-3)
        # the same fitted G checked on both grids: the weighted histogram is the per-question histogram
        assert _gof(a, grid_c) == pytest.approx(_gof(a, grid_q), rel=RTOL, nan_ok=True)


def test_maximised_loglik_is_the_per_question_sum_at_the_fitted_parameters() -> None:
    counts = _table(2, adaptive=0.2)
    n, c = counts.n.astype(float), counts.correct.astype(float)
    _, grid_q = _grids(counts)
    fits = {f.name: f for f in fit_spread(counts)}
    bb = fits["beta_binomial"]
    assert bb.loglik == pytest.approx(_bb_loglik(n, c, bb.params["a"], bb.params["b"]).sum(), rel=1e-12)
    z = fits["zoi_beta_binomial"].params
    per_q = np.log(
        (1 - z["pi0"] - z["pi1"]) * np.exp(_bb_loglik(n, c, z["a"], z["b"])) + z["pi0"] * (c == 0) + z["pi1"] * (c == n)
    )
    assert fits["zoi_beta_binomial"].loglik == pytest.approx(per_q.sum(), rel=1e-12)
    sb = fits["scaled_beta"]
    mass = sb.mass  # the cell masses of the fitted scaled beta
    assert sb.loglik == pytest.approx(_grid_loglik(grid_q, mass).sum(), rel=1e-12)
    npm = fits["npmle"]
    lik = np.exp(
        (special.gammaln(n + 1) - special.gammaln(c + 1) - special.gammaln(n - c + 1))[:, None]
        + special.xlogy(c[:, None], npm.support[None, :]) + special.xlog1py((n - c)[:, None], -npm.support[None, :])
    ) @ npm.mass
    assert npm.loglik == pytest.approx(np.log(lik).sum(), rel=1e-12)


def test_posteriors_over_distinct_rows_are_the_per_question_posteriors() -> None:
    counts = _table(3)
    grid_c, grid_q = _grids(counts)
    bb = fit_spread(counts, fits=("beta_binomial",))[0]
    for atoms in ((0.0, 0.0), (0.05, 0.02)):
        _, _, post_c = _posterior(grid_c, bb.mass, atoms)
        _, _, post_q = _posterior(grid_q, bb.mass, atoms)
        np.testing.assert_allclose(post_c[bb.row], post_q, rtol=1e-12, atol=1e-300)


def test_weighted_npmle_equals_the_npmle_of_the_repeated_rows() -> None:
    rng = np.random.default_rng(4)
    L = rng.random((20, 15)) ** 3
    m = rng.integers(1, 6, 20)
    w_weighted, gap_w, ok_w = npmle_weights(L, weights=m.astype(float))
    w_repeated, gap_r, ok_r = npmle_weights(np.repeat(L, m, axis=0))
    assert ok_w and ok_r and gap_w < 1e-6 and gap_r < 1e-6
    ll = (m * np.log(L @ w_weighted)).sum()
    assert ll == pytest.approx(np.log(np.repeat(L, m, axis=0) @ w_repeated).sum(), rel=1e-9)
    # Lindsay's gradient with weights: the KKT gap of the weighted problem evaluated on the repeated rows
    assert gap_w == pytest.approx(float((np.repeat(L, m, axis=0).T @ (1 / (np.repeat(L, m, axis=0) @ w_weighted))).max()
                                        / m.sum() - 1), abs=1e-12)


def test_blocks_check_under_a_first_success_rule_is_the_per_question_histogram() -> None:
    rng = np.random.default_rng(5)
    q, block, cap = 200, 10, 200
    p = rng.beta(0.6, 20.0, size=q)
    n_out, c_out = first_success_blocks(rng, p, block, cap)
    counts = QuestionCounts.from_binary(n_out, c_out, stopping=np.array([first_success_block(block)] * q, object))
    grid_c, grid_q = _grids(counts)
    assert grid_c.block == block and len(grid_c.n) < q / 2
    bb = fit_spread(counts, fits=("beta_binomial",))[0]
    assert bb.gof_df > 0
    assert _gof(bb, grid_c) == pytest.approx(_gof(bb, grid_q), rel=RTOL)
    by_row = _fit_grid(grid_q, ("beta_binomial",))[0]
    assert bb.loglik == pytest.approx(by_row.loglik, rel=RTOL)


def _expanded(fit: SpreadFit) -> SpreadFit:
    """The same fit with one posterior row per question (the former layout)."""
    return SpreadFit(
        fit.name, fit.params, fit.n_params, fit.loglik, fit.converged, fit.support, fit.mass,
        fit.posterior[fit.row], np.arange(len(fit.row), dtype=np.intp),
    )


def _class_table(seed: int, q: int = 60) -> QuestionCounts:
    """n = 12 with a few wrong classes (many profiles repeat), some questions with two correct classes."""
    rng = np.random.default_rng(seed)
    correct: list[list[int]] = []
    wrong: list[list[int]] = []
    abstain: list[int] = []
    for _ in range(q):
        sizes = rng.multinomial(12, rng.dirichlet([0.7, 0.5, 0.5, 0.3]))
        two = rng.random() < 0.2 and sizes[0] >= 2
        correct.append([int(sizes[0]) - 1, 1] if two else [int(sizes[0])])
        wrong.append([int(v) for v in sorted(sizes[1:3], reverse=True)])
        abstain.append(int(sizes[3]))
    return QuestionCounts.from_classes(correct, wrong, abstain=abstain)


def _credit_given_x(x: int, m: int, wrong: np.ndarray, free: int, ties: str) -> float:
    """P(credit | x correct votes): the other m draws multinomial over the wrong classes (shares wrong_j / nonc)
    and the unanswered samples, enumerated over every count vector with no wrong class above x (those give none)."""
    if x == 0:
        return 0.0
    nonc = int(wrong.sum()) + free
    q = np.asarray(wrong, float) / nonc
    ys = np.indices((min(m, x) + 1,) * len(wrong)).reshape(len(wrong), -1)
    rest = m - ys.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logw = (special.gammaln(m + 1) - special.gammaln(ys + 1).sum(axis=0) - special.gammaln(np.maximum(rest, 0) + 1)
                + special.xlogy(ys, q[:, None]).sum(axis=0) + special.xlogy(np.maximum(rest, 0), free / nonc))
    pmf = np.where(rest >= 0, np.exp(logw), 0.0)
    tied = (ys == x).sum(axis=0)
    credit = {"random": 1.0 / (1 + tied), "strict": (tied == 0) * 1.0, "weak": np.ones(len(tied))}[ties]
    return float((pmf * credit).sum())


def _structured_brute(fit: SpreadFit, counts: QuestionCounts, ks: np.ndarray, ties: str = "random") -> np.ndarray:
    """Question by question: with several correct classes, the former loop over three posterior quantiles (one
    exact maj@k each); otherwise sum_x pi(x) H(x), pi(x) = sum_g post(g) Bin(x; k, p_g) from scipy and H(x) the
    conditional credit by enumeration (1 - pi(0) when no wrong class was seen)."""
    from scipy import stats

    assert counts.wrong is not None and counts.correct_classes is not None
    post = fit.posterior[fit.row]
    order = np.argsort(fit.support)
    cdf = np.cumsum(post[:, order], axis=1)
    out = np.zeros((counts.n_questions, len(ks)))
    for i in range(counts.n_questions):
        nonc = counts.n[i] - counts.correct[i]
        wrong = counts.wrong[i][counts.wrong[i] > 0]
        cc = counts.correct_classes[i][counts.correct_classes[i] > 0]
        if len(cc) <= 1:
            for j, k in enumerate(ks.tolist()):
                pi = post[i] @ stats.binom.pmf(np.arange(k + 1)[None, :], k, fit.support[:, None])
                if len(wrong) == 0:
                    out[i, j] = 1.0 - pi[0]
                else:
                    free = int(nonc - wrong.sum())
                    out[i, j] = sum(pi[x] * _credit_given_x(x, k - x, wrong, free, ties) for x in range(k + 1))
            continue
        qs = [fit.support[order][min(int((cdf[i] < pr).sum()), len(order) - 1)] for pr in (1 / 6, 1 / 2, 5 / 6)]
        shares = cc / cc.sum()
        for p in _round_p(np.array(qs)):
            if p <= 0:
                continue
            a0 = round(p * _PSEUDO)
            rest = _PSEUDO - a0
            w = [round(rest * v / nonc) for v in wrong.tolist()] if nonc > 0 else []
            corr = [max(round(a0 * v), 1) for v in shares.tolist()]
            out[i] += maj_at_k_one(corr, w, max(rest - sum(w), 0), ks, ties=ties, kind="iid") / 3
    return out


def test_structured_prediction_is_maj_at_k_at_a_point_mass_posterior() -> None:
    """A posterior that is a point mass at p = j/8 makes the prediction maj@k of the multinomial with shares p
    and (1 - p) w_l / nonc: the exact kernels on integer class sizes (8 nonc samples), every tie rule, k to 1,000,
    to 3e-12 (the prediction leaves out at most 2 x PREDICTION_EPS = 2e-12)."""
    counts = QuestionCounts.from_classes(
        [3, 5, 0, 7, 2, 1], [[4, 2], [3, 1, 1], [6, 2, 2, 1], [2], [3, 3, 2], [5, 5, 5, 2, 2, 1, 1, 1]],
        abstain=[1, 0, 2, 1, 0, 3],
    )
    assert counts.wrong is not None
    fit = fit_spread(counts, fits=("beta_binomial",))[0]
    ks = np.array([1, 2, 3, 5, 8, 33, 100, 1000])
    for j in range(1, 8):
        point = replace(fit, support=np.array([j / 8]), mass=np.ones(1), posterior=np.ones((fit.posterior.shape[0], 1)))
        for ties in ("random", "strict", "weak"):
            got = predict_maj_structured_many([point], counts, ks, ties=ties)[0]
            for i in range(counts.n_questions):
                nonc = int(counts.n[i] - counts.correct[i])
                w = counts.wrong[i][counts.wrong[i] > 0].tolist()
                want = maj_at_k_one([j * nonc], [(8 - j) * v for v in w], (8 - j) * (nonc - sum(w)), ks, ties=ties,
                                    kind="iid")
                np.testing.assert_allclose(got[i], want, rtol=0, atol=3e-12, err_msg=f"{ties} question {i} p={j}/8")


def test_predictions_from_distinct_rows_equal_the_per_question_predictions() -> None:
    counts = _class_table(6)
    ks = np.array([1, 2, 3, 8, 12, 40, 90])
    fits = fit_spread(counts)
    assert all(f.posterior.shape[0] < counts.n_questions for f in fits)
    assert (counts.correct == counts.n).any()  # the closed-form branch (no wrong answer seen) is exercised too
    for f in fits:
        e = _expanded(f)
        np.testing.assert_allclose(predict_pass(f, ks), predict_pass(e, ks), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(predict_maj_binary(f, ks), predict_maj_binary(e, ks), rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(posterior_quantiles(f, (0.1, 0.5, 0.9)), posterior_quantiles(e, (0.1, 0.5, 0.9)))
        # plateaus against the per-question formula mean_i sum_g post_ig [p_g > thr_i] (+ credit at p_g = thr_i)
        got = plateau_rows("m", [f], counts).iloc[0]
        post = f.posterior[f.row]
        assert got["pass_inf"] == pytest.approx(post[:, f.support > 0].sum(axis=1).mean(), rel=1e-12)
        s = counts.top_wrong() / np.maximum(counts.n - counts.correct, 1)
        assert counts.correct_classes is not None
        c_top = np.where(counts.correct > 0, counts.correct_classes[:, 0] / np.maximum(counts.correct, 1), 1.0)
        thr = s / (c_top + s)
        above = (post * (f.support[None, :] > thr[:, None])).sum(axis=1)
        at = (post * (f.support[None, :] == thr[:, None])).sum(axis=1)
        assert got["maj_inf"] >= above.mean() - 1e-12 and got["maj_inf"] <= (above + at).mean() + 1e-12
        if not at.any():
            assert got["maj_inf"] == pytest.approx(above.mean(), rel=1e-12)
        np.testing.assert_allclose(predict_maj_structured(f, counts, ks), _structured_brute(f, counts, ks),
                                   rtol=0, atol=3e-12)  # 2 x PREDICTION_EPS and rounding
    many = predict_maj_structured_many(fits, counts, ks)
    for f, m in zip(fits, many, strict=True):  # shared H: pruned against every fit's weights, so rounding differs
        np.testing.assert_allclose(m, predict_maj_structured(f, counts, ks), rtol=0, atol=3e-12)
    load = structured_maj_workload(fits, counts)
    assert 0 < load["quantile_questions"] < counts.n_questions  # both branches run
    assert load["exact_questions"] + load["quantile_questions"] <= counts.n_questions
    assert load["profiles"] <= load["pairs"] <= len(fits) * load["exact_questions"]
    assert load["profiles"] < load["exact_questions"]  # profiles repeat: H is computed once for all of them
    assert load["quantile_rows"] <= 3 * len(fits) * load["quantile_questions"]


def test_report_rows_carry_the_exact_structured_prediction() -> None:
    """The report's fit:NAME maj@k rows are the question means of predict_maj_structured_many (the exact
    expectation), not of the three-quantile rows: on this table the two differ by more than 1e-4 at some k."""
    counts = _class_table(6)
    ks = np.array([1, 2, 3, 8, 12, 40, 90])
    fits = fit_spread(counts)
    rows, mats = prediction_rows("m", fits, counts, ks)
    exact = predict_maj_structured_many(fits, counts, ks)
    quantiles = [vals[inverse] for vals, inverse in _structured_by_profile(fits, counts, ks, "random")]
    assert max(np.abs(e.mean(axis=0) - q.mean(axis=0)).max() for e, q in zip(exact, quantiles, strict=True)) > 1e-4
    for f, e in zip(fits, exact, strict=True):
        got = rows[(rows["kind"] == f"fit:{f.name}") & (rows["metric"] == "maj@k")].sort_values("k")
        np.testing.assert_array_equal(got["k"], ks)
        np.testing.assert_allclose(got["value"], e.mean(axis=0), rtol=0, atol=1e-15)
        np.testing.assert_array_equal(mats[(f.name, "maj@k")], e)


def test_one_wrong_class_credits_by_recurrence_match_scipy() -> None:
    """H(x) = P(Y < x) + c P(Y = x), Y ~ Bin(k - x, q), stepped in x by the O(1) recurrence (re-anchored every
    64 values): against scipy's binomial cdf and pmf, every tie rule, k to 10^5, runs of up to 3,000 x, to 1e-13."""
    from scipy import stats

    from harness.models._structured_kernel import _one_wrong_class

    rng = np.random.default_rng(11)
    for _ in range(200):
        k = int(rng.choice([2, 3, 7, 50, 1000, 10_000, 100_000]))
        q = float(rng.choice([rng.uniform(0.001, 0.999), 0.5, 1 / 3, 1.0]))
        x0 = int(rng.integers(1, k + 1))
        xs = np.arange(x0, min(k, x0 + int(rng.integers(1, 3000))) + 1)
        for code, credit in ((0, 0.5), (1, 0.0), (2, 1.0)):
            h = np.zeros(len(xs))
            _one_wrong_class(q, k, code, x0, h)
            want = stats.binom.cdf(xs - 1, k - xs, q) + credit * stats.binom.pmf(xs, k - xs, q)
            np.testing.assert_allclose(h, np.minimum(want, 1.0), rtol=0, atol=1e-13, err_msg=f"k={k} q={q} x0={x0}")


@pytest.mark.parametrize("ties", ["random", "strict", "weak"])
def test_top_class_and_pairs_credits_match_enumeration(ties: str) -> None:
    """``_top_and_pairs``: exact in the top class, in the others to first or second order (where the first-order
    remainder is not negligible), with a bound on the rest. With two wrong classes it is exact at any weight (also
    when they take every other draw, q_top = 1); with three to five, wt(x) |H(x) - enumerated| stays within the
    allowance (1e-14) at every x it accepts, wt(x) = Bin(x; k, 0.8) (the enumeration's own rounding reaches 3e-14
    at weight 1; the next test checks three classes exactly); near-equal classes make it refuse a range of x, and h
    is left as ones there for the other routes."""
    from scipy import stats

    from harness.models._structured_kernel import _top_and_pairs

    code = {"random": 0, "strict": 1, "weak": 2}[ties]
    cases = [([5, 3], 0, 14), ([5, 3], 2, 17), ([4, 4], 0, 12), ([9, 1], 3, 20), ([12, 1, 1], 0, 30),
             ([6, 1, 1], 2, 40), ([4, 1, 1], 5, 60), ([3, 3, 3], 0, 12), ([6, 3, 1], 0, 13), ([4, 3, 3], 1, 15),
             ([8, 3, 2, 1], 2, 30), ([6, 2, 2, 2], 0, 40), ([3, 3, 3, 3], 0, 14), ([2, 2, 2, 2], 0, 16),
             ([8, 3, 2, 2, 1], 2, 30), ([2, 2, 2, 2, 2], 0, 14), ([6, 3, 3, 3, 3], 0, 24)]
    accepted = refused = 0
    for kept, free, k in cases:
        xs = np.arange(1, k)
        wt = stats.binom.pmf(xs, k, 0.8) if len(kept) > 2 else np.ones(k - 1)
        h = np.ones(k - 1)
        a, b = _top_and_pairs(np.array(kept, np.int64), sum(kept) + free, k, code, 1, np.log(wt), math.log(1e-14), h)
        want = np.array([_credit_given_x(x, k - x, np.array(kept), free, ties) for x in xs])
        outside = np.ones(k - 1, bool)
        outside[a:b] = False
        if a < b:  # refused there: left as ones for the other routes
            refused += 1
            np.testing.assert_array_equal(h[a:b], 1.0)
        else:
            accepted += 1
        assert (wt * np.abs(h - want))[outside].max(initial=0.0) <= 1e-14 + 1e-15, f"{kept} free={free} k={k}"
    assert (accepted, refused) == (13, 4)


@pytest.mark.parametrize("ties", ["random", "strict", "weak"])
def test_second_order_is_exact_with_three_wrong_classes(ties: str) -> None:
    """With three wrong classes the pairs' terms leave no rest: H(x) from ``_top_and_pairs`` at weight 1 equals the
    multinomial sum in exact rational arithmetic (fractions) to 1e-14, at x below, near and above the top class's
    reach, including x where two of the classes reach x together."""
    from harness.models._structured_kernel import _top_and_pairs

    kept, free, k = [4, 2, 1], 5, 48
    h = np.ones(k - 1)
    a, b = _top_and_pairs(np.array(kept, np.int64), sum(kept) + free, k, {"random": 0, "strict": 1, "weak": 2}[ties],
                          1, np.zeros(k - 1), math.log(1e-14), h)
    assert a == b
    for x in (8, 12, 15, 18, 21):
        total = exact_credit_given_x(x, k - x, tuple(kept), free, ties)
        assert abs(h[x - 1] - float(total)) <= 1e-14, f"x={x} ties={ties}"


def _two_class_credit(kept: list[int], free: int, k: int, xs: np.ndarray, ties: str) -> np.ndarray:
    """H(x) with two wrong classes from scipy: sum over Y_2 = y <= x of P(Y_2 = y) times the credit given it, class 1
    then binomial on the m - y other draws with share q_1 / (1 - q_2)."""
    from scipy import stats

    c1, c2 = {"random": (1 / 2, 1 / 3), "strict": (0.0, 0.0), "weak": (1.0, 1.0)}[ties]
    nonc = sum(kept) + free
    out = np.empty(len(xs))
    for i, x in enumerate(xs.tolist()):
        m = k - x
        y = np.arange(min(x, m) + 1)
        b2 = stats.binom.pmf(y, m, kept[1] / nonc)
        below = stats.binom.cdf(x - 1, m - y, kept[0] / (nonc - kept[1]))
        at = stats.binom.pmf(x, m - y, kept[0] / (nonc - kept[1]))
        credit = np.where(y < x, below + c1 * at, c1 * below + c2 * at)
        out[i] = float(b2 @ credit)
    return out


def test_top_class_and_pairs_credits_stay_exact_over_long_runs_of_steps() -> None:
    """Where ``_top_and_pairs`` steps P(Y_j >= x, Y_1 < x) from x to x + 1 (anew only every 64 values) and bounds the
    tails by Chernoff, long runs of steps are checked on the x around the top class's reach, x = k q / (1 + q)
    +- 8 sqrt(k) (q its share), at weight 1, every tie rule: two wrong classes against scipy's binomials (k = 600
    and 5,000) and three against the exact sweep (``credit_sweep``, k = 600), both to 1e-13."""
    from harness.estimators._sweep_kernel import credit_sweep
    from harness.models._structured_kernel import _top_and_pairs

    for kept, free, k in (([5, 3], 2, 600), ([5, 3], 2, 5000), ([4, 4], 0, 5000), ([6, 3, 1], 0, 600),
                          ([4, 2, 1], 5, 600)):
        q = kept[0] / (sum(kept) + free)
        lo = max(int(k * q / (1 + q) - 8 * math.sqrt(k)), 1)
        xs = np.arange(lo, int(k * q / (1 + q) + 8 * math.sqrt(k)))
        for ties, code in (("random", 0), ("strict", 1), ("weak", 2)):
            h = np.ones(len(xs))
            a, b = _top_and_pairs(np.array(kept, np.int64), sum(kept) + free, k, code, lo, np.zeros(len(xs)),
                                  math.log(1e-14), h)
            assert a == b
            if len(kept) == 2:
                want = _two_class_credit(kept, free, k, xs, ties)
            else:
                want = np.empty(len(xs))
                credit_sweep(np.array(kept, np.int64), free, k, code, math.log(1e-14), lo, np.zeros(len(xs)), want)
            np.testing.assert_allclose(h, want, rtol=0, atol=1e-13, err_msg=f"{kept} free={free} k={k} {ties}")
            assert want.min() < 1e-6 and want.max() > 1 - 1e-6  # the range spans the whole transition


def test_mixture_pmf_in_place_and_its_block_tails_match_scipy() -> None:
    """pi(x) = sum_g w_g Bin(x; k, p_g) written in place over the union of the components' windows: never above
    scipy's mixture, and at most exp(log_tail) of mass left out on each side in all (light components, p = 0 and
    p = 1 included); block_tails gives the mass from every 64th x on."""
    from scipy import stats

    from harness.models._structured_kernel import TAIL_BLOCK, block_tails, mixture_into, mixture_window

    rng = np.random.default_rng(5)
    for k in (1, 7, 300, 10_000, 100_000):
        support = np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 30)])
        weights = np.concatenate([[1e-3, 1e-20], rng.dirichlet(np.full(30, 0.3))])
        weights /= weights.sum()
        log_tail = math.log(1e-13)
        lo, hi, windows = mixture_window(support, weights, k, log_tail)
        vals = np.zeros(hi - lo + 1)
        mixture_into(support, weights, k, windows, lo, vals)
        xs = np.arange(k + 1)
        full = (weights[:, None] * stats.binom.pmf(xs[None, :], k, support[:, None])).sum(axis=0)
        inside = full[lo : hi + 1]
        assert (vals <= inside * (1 + 1e-12) + 1e-300).all()  # each component is cut, never added to
        assert full.sum() - vals.sum() <= 2e-13 + 1e-15  # at most exp(log_tail) left out on each side
        np.testing.assert_allclose(vals, inside, rtol=1e-12, atol=2e-13)
        tails = block_tails(vals)
        assert len(tails) == -(-len(vals) // TAIL_BLOCK) + 1 and tails[-1] == 0.0
        for j in range(len(tails) - 1):
            assert tails[j] == pytest.approx(vals[j * TAIL_BLOCK :].sum(), rel=1e-12, abs=1e-300)


def test_unique_rows_groups_like_numpy_unique_and_survives_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.models.predict as pred

    rng = np.random.default_rng(7)
    key = rng.integers(0, 3, size=(500, 4)).astype(np.int32)
    first, inverse = pred._unique_rows(key)
    np.testing.assert_array_equal(key[first[inverse]], key)
    assert len(first) == len(np.unique(key, axis=0))
    # every hash equal: the check against the representatives fails and np.unique(axis=0) takes over
    monkeypatch.setattr(pred, "_HASH_MULT", np.zeros(4096, np.uint64))
    first_c, inverse_c = pred._unique_rows(key)
    np.testing.assert_array_equal(key[first_c[inverse_c]], key)
    assert len(first_c) == len(first)
