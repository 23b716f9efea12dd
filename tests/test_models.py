"""Per-question intervals, spread fits, predictions and plateaus against reference values and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from harness.models import (
    clopper_pearson_interval,
    fit_spread,
    jeffreys_interval,
    likelihood_ratio_interval,
    npmle_weights,
    power_law_exponent,
    predict_pass,
    question_table,
    wilson_interval,
)
from harness.models.predict import plateau_rows, predict_maj_binary
from harness.models.spread import _bb_loglik, _beta_cell_mass, _grid_loglik, _make_grid
from harness.tables import QuestionCounts, first_success_block

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857-872, Table I:
# method 3 (Wilson score, no continuity correction) and method 5 (Clopper-Pearson exact), 95%.
NEWCOMBE = [
    # (c, n, wilson_low, wilson_high, cp_low, cp_high)
    (81, 263, 0.2553, 0.3662, 0.2527, 0.3676),
    (15, 148, 0.0624, 0.1605, 0.0578, 0.1617),
    (0, 20, 0.0000, 0.1611, 0.0000, 0.1684),
    (1, 29, 0.0061, 0.1718, 0.0009, 0.1776),
]


@pytest.mark.parametrize(("c", "n", "wl", "wh", "cl", "ch"), NEWCOMBE)
def test_wilson_and_clopper_pearson_match_newcombe(
    c: int, n: int, wl: float, wh: float, cl: float, ch: float
) -> None:
    lo, hi = wilson_interval([n], [c])
    assert lo[0] == pytest.approx(wl, abs=6e-5) and hi[0] == pytest.approx(wh, abs=6e-5)
    lo, hi = clopper_pearson_interval([n], [c])
    assert lo[0] == pytest.approx(cl, abs=6e-5) and hi[0] == pytest.approx(ch, abs=6e-5)


def test_jeffreys_is_beta_half_quantiles_with_boundary_rule() -> None:
    # Brown, Cai & DasGupta (2001), sec. 4.1.2: Beta(c+1/2, n-c+1/2) quantiles; lower 0 at c = 0, upper 1 at
    # c = n.
    lo, hi = jeffreys_interval([10, 10, 10], [0, 3, 10])
    assert lo[0] == 0.0 and hi[2] == 1.0
    assert lo[1] == pytest.approx(stats.beta.ppf(0.025, 3.5, 7.5), rel=1e-10)
    assert hi[1] == pytest.approx(stats.beta.ppf(0.975, 3.5, 7.5), rel=1e-10)
    # closed form at c = 0: the Clopper-Pearson upper end is 1 - (alpha/2)^(1/n)
    assert clopper_pearson_interval([10], [0])[1][0] == pytest.approx(1 - 0.025**0.1, rel=1e-10)


def test_likelihood_ratio_interval_solves_the_deviance_equation() -> None:
    n, c = np.array([40, 10_000, 50]), np.array([7, 3, 0])
    lo, hi = likelihood_ratio_interval(n, c)

    def dev(p: np.ndarray) -> np.ndarray:
        ph = c / n
        return 2 * (
            special.xlogy(c, ph)
            + special.xlog1py(n - c, -ph)
            - special.xlogy(c, p)
            - special.xlog1py(n - c, -p)
        )

    cut = stats.chi2.ppf(0.95, 1)
    d_lo = dev(np.where(lo > 0, lo, 0.5))
    assert np.allclose(dev(hi), cut, atol=1e-6)
    assert np.allclose(d_lo[:2], cut, atol=1e-6) and lo[2] == 0.0
    assert hi[2] == pytest.approx(1 - np.exp(-cut / 2 / 50), rel=1e-6)  # c = 0: (1-p)^n = exp(-cut/2)


def test_question_table_voting_summary_and_stopping_flag() -> None:
    counts = QuestionCounts.from_classes([5, 1, 0], [[3, 2], [6, 1], [2]], abstain=[0, 2, 0])
    t = question_table(counts)
    assert t["p_top_wrong"].tolist() == pytest.approx([0.3, 0.6, 1.0])
    assert t["margin"].tolist() == pytest.approx([0.2, -0.5, -1.0])
    assert t["top_wrong_beats_correct"].tolist() == [False, True, True]
    assert t["interval_valid"].all()
    stop = QuestionCounts.from_binary(
        [60, 120], [1, 2], stopping=np.array([first_success_block(60)] * 2, object)
    )
    assert not question_table(stop)["interval_valid"].any()


def _sim_counts(a: float, b: float, q: int, n: int, seed: int) -> QuestionCounts:
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, size=q)
    return QuestionCounts.from_binary(np.full(q, n), rng.binomial(n, p))


def test_grid_integration_matches_beta_binomial_closed_form() -> None:
    counts = _sim_counts(0.3, 5.0, 60, 500, seed=3)
    n, c = counts.n.astype(float), counts.correct.astype(float)
    grid = _make_grid(n, c, counts.stopping)  # type: ignore[arg-type]
    grid_ll = _grid_loglik(grid, _beta_cell_mass(0.3, 5.0, grid))[grid.row]  # distinct rows -> questions
    exact = _bb_loglik(n, c, 0.3, 5.0)
    assert np.max(np.abs(grid_ll - exact)) < 5e-3


def test_beta_binomial_fit_recovers_parameters_and_fits_well() -> None:
    counts = _sim_counts(0.5, 4.0, 400, 100, seed=4)
    fits = {f.name: f for f in fit_spread(counts)}
    bb = fits["beta_binomial"]
    assert bb.converged
    assert bb.params["a"] / (bb.params["a"] + bb.params["b"]) == pytest.approx(0.5 / 4.5, rel=0.15)
    assert bb.params["a"] == pytest.approx(0.5, rel=0.25)
    assert bb.gof_p > 0.01
    # nested models cannot fit worse; the NPMLE (any G on its grid) is at least as good as every parametric
    # fit
    assert fits["zoi_beta_binomial"].loglik >= bb.loglik - 1e-6
    assert fits["scaled_beta"].loglik >= bb.loglik - 0.05
    assert fits["npmle"].loglik >= max(f.loglik for f in fits.values() if f.name != "npmle") - 1e-6
    assert bb.aic == pytest.approx(4 - 2 * bb.loglik)


def test_gof_rejects_a_two_point_truth_under_the_beta_binomial() -> None:
    rng = np.random.default_rng(5)
    p = np.where(rng.random(300) < 0.5, 0.05, 0.6)
    counts = QuestionCounts.from_binary(np.full(300, 200), rng.binomial(200, p))
    fits = {f.name: f for f in fit_spread(counts)}
    assert fits["beta_binomial"].gof_p < 1e-3
    assert fits["npmle"].loglik > fits["beta_binomial"].loglik + 20


def test_npmle_matches_slow_em_and_satisfies_kkt() -> None:
    rng = np.random.default_rng(6)
    L = rng.random((50, 30)) ** 3
    w, gap, ok = npmle_weights(L)
    assert ok and gap < 1e-6 and w.sum() == pytest.approx(1.0)
    v = np.full(30, 1 / 30)
    for _ in range(20_000):  # EM (Laird 1978) as the slow reference
        v = v * (L.T @ (1 / (L @ v))) / 50
    assert np.log(L @ w).sum() >= np.log(L @ v).sum() - 1e-6
    assert np.log(L @ w).sum() == pytest.approx(np.log(L @ v).sum(), abs=1e-4)


def test_npmle_leaves_out_only_likelihoods_that_cannot_move_the_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """At n = 1,000 most entries of the likelihood matrix are far below 1e-100 of their row's largest; the Newton
    steps leave them out (their products were subnormal and slow). The weights and gap are those of the steps over
    the whole matrix, and still the NPMLE's (gap below 1e-6)."""
    from harness.estimators._pmf import log_binom
    from harness.models import spread

    rng = np.random.default_rng(61)
    n = np.full(300, 1000.0)
    c = rng.binomial(1000, rng.beta(0.5, 0.5, 300)).astype(float)
    atoms = np.unique(np.concatenate([[0.0, 1.0], np.linspace(0.001, 0.999, 60), c / n]))
    logl = log_binom(c[:, None], n[:, None], atoms[None, :])
    L = np.exp(logl - logl.max(axis=1, keepdims=True))
    assert (L < 1e-100).mean() > 0.3  # the case at hand: most entries negligible
    w, gap, ok = npmle_weights(L)
    monkeypatch.setattr(spread, "_NEGLIGIBLE_LIKELIHOOD", 0.0)
    w_all, gap_all, ok_all = npmle_weights(L)
    assert ok and ok_all and gap < 1e-6
    np.testing.assert_allclose(w, w_all, rtol=0, atol=1e-12)
    assert gap == pytest.approx(gap_all, abs=1e-12)


def test_beta_binomial_prediction_beyond_n_matches_closed_form() -> None:
    counts = _sim_counts(0.3, 6.0, 50, 40, seed=7)
    bb = next(f for f in fit_spread(counts, fits=("beta_binomial",)))
    a, b = bb.params["a"], bb.params["b"]
    ks = np.array([1, 40, 400, 4000])
    n, c = counts.n.astype(float), counts.correct.astype(float)
    # E[(1-p)^k | c] = B(a+c, b+n-c+k) / B(a+c, b+n-c) under the Beta posterior
    exact = 1 - np.exp(
        special.betaln(a + c[:, None], b + n[:, None] - c[:, None] + ks)
        - special.betaln(a + c, b + n - c)[:, None]
    )
    got = predict_pass(bb, ks)
    assert np.max(np.abs(got - exact)) < 3e-3


def test_binary_majority_and_plateaus_for_point_masses() -> None:
    counts = QuestionCounts.from_binary(np.full(4, 1000), [0, 300, 700, 1000])
    fit = next(f for f in fit_spread(counts, fits=("npmle",)))
    maj = predict_maj_binary(fit, np.array([1, 501]))
    assert maj[:, 0] == pytest.approx([0.0, 0.3, 0.7, 1.0], abs=0.02)
    assert maj[:, 1] == pytest.approx([0.0, 0.0, 1.0, 1.0], abs=1e-6)
    plat = plateau_rows("m", [fit], counts)
    assert plat["pass_inf"].iloc[0] == pytest.approx(0.75, abs=1e-3)
    assert plat["maj_inf_binary"].iloc[0] == pytest.approx(0.5, abs=1e-3)


def test_power_law_exponent_of_an_exact_power_law_and_of_a_beta_left_tail() -> None:
    ks = 2.0 ** np.arange(0, 15)
    assert power_law_exponent(ks, np.exp(-0.7 * ks**-0.35))[0] == pytest.approx(0.35, rel=1e-10)
    # p ~ Beta(a, b): E[(1-p)^k] = B(a, b+k)/B(a, b) ~ k^-a, so -log pass@k ~ k^-a for large k (Schaeffer et
    # al.)
    # (the approach is slow: the local exponent is 0.204 at k ~ 1e6-1e9 and 0.2007 at k ~ 1e10-1e13)
    big = 10.0 ** np.arange(10, 14)
    passk = 1 - np.exp(special.betaln(0.2, 3 + big) - special.betaln(0.2, 3))
    assert power_law_exponent(big, passk)[0] == pytest.approx(0.2, rel=0.01)


def test_distributional_exponent_matches_the_beta_marginal_closed_form() -> None:
    from harness.models.predict import DISTRIBUTIONAL_KS, distributional_exponent

    counts = _sim_counts(0.3, 6.0, 80, 200, seed=9)
    bb = next(f for f in fit_spread(counts, fits=("beta_binomial",)))
    a, b = bb.params["a"], bb.params["b"]
    # marginal pass@k under Beta(a, b): 1 - B(a, b+k)/B(a, b)
    exact = 1 - np.exp(special.betaln(a, b + DISTRIBUTIONAL_KS) - special.betaln(a, b))
    assert distributional_exponent(bb) == pytest.approx(power_law_exponent(DISTRIBUTIONAL_KS, exact)[0], abs=0.01)


def first_success_blocks(
    rng: np.random.Generator, p: np.ndarray, block: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """(n, c) per question drawn in blocks until the first block with a success, at most ``cap`` draws."""
    n_out, c_out = np.empty(len(p), np.int64), np.empty(len(p), np.int64)
    for i in range(len(p)):
        draws = rng.random(cap) < p[i]
        hits = draws.reshape(-1, block).any(axis=1)
        last = int(np.argmax(hits)) + 1 if hits.any() else cap // block
        n_out[i], c_out[i] = last * block, int(draws[: last * block].sum())
    return n_out, c_out


def test_stopping_rule_likelihood_recovers_the_spread() -> None:
    # blocks of 60 until the first block with a success, cap 6000 (bon_jailbreaking_text PROVENANCE.md)
    rng = np.random.default_rng(8)
    q, block, cap = 300, 60, 6000
    p = rng.beta(0.6, 60.0, size=q)
    n_out, c_out = first_success_blocks(rng, p, block, cap)
    stop = np.array([first_success_block(block)] * q, object)
    counts = QuestionCounts.from_binary(n_out, c_out, stopping=stop)
    bb = next(f for f in fit_spread(counts, fits=("beta_binomial",)))
    mean_true = 0.6 / 60.6
    assert bb.params["a"] / (bb.params["a"] + bb.params["b"]) == pytest.approx(mean_true, rel=0.2)
    # the check is the histogram of blocks drawn until the first success; the beta truth passes it
    assert bb.gof_df > 0 and bb.gof_p > 0.01
    # the naive per-question share c/n is biased upward under the rule (E[c/n] > p: small n come with
    # successes)
    assert (c_out / n_out).mean() > 1.15 * p.mean()


@pytest.mark.slow
def test_goodness_of_fit_size_brackets_the_nominal_level() -> None:
    # beta-binomial truth, 120 datasets: the conservative p (df = bins - 1) rejects at most about 5%, the liberal
    # one (df = bins - 1 - params) at least about that (Chernoff & Lehmann 1954: the truth lies between)
    rng = np.random.default_rng(5)
    cons = lib = 0
    for _ in range(120):
        c = rng.binomial(50, rng.beta(0.5, 4.0, size=150))
        f = fit_spread(QuestionCounts.from_binary(np.full(150, 50), c), fits=("beta_binomial",))[0]
        cons += f.gof_p < 0.05
        lib += f.gof_p_liberal < 0.05
    assert cons / 120 <= 0.05 + 0.02 and lib / 120 >= 0.05 - 0.03 and lib >= cons
