"""Exact maj@k and best@k at n = 10,000 against Monte Carlo: agreement within 4 standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from harness import best_at_k, maj_at_k_one

DRAWS = 20_000


def _mc_vote(colors: np.ndarray, k: int, kind: str, rng: np.random.Generator) -> tuple[float, float]:
    if kind == "measured":
        x = rng.multivariate_hypergeometric(colors, k, size=DRAWS)
    else:
        x = rng.multinomial(k, colors / colors.sum(), size=DRAWS)
    x = x[:, :-1]  # last colour: unanswered samples, no vote
    top = x.max(axis=1)
    credit = np.where((x[:, 0] == top) & (top > 0), 1.0 / (x == top[:, None]).sum(axis=1), 0.0)
    return float(credit.mean()), float(credit.std(ddof=1) / np.sqrt(DRAWS))


@pytest.mark.parametrize("kind", ["measured", "iid"])
def test_maj_at_k_agrees_with_monte_carlo_at_n_10000(kind: str) -> None:
    rng = np.random.default_rng(99)
    # close contests (correct vs strongest wrong), a diffuse tail of wrong answers, and unanswered samples
    questions = [
        [3000, 2900, 1500, 700, 500, 400, 300, 200, 100, 400],
        [1200, 1300, 1250, 900, 800, 700, 600, 500, 450, 2300],
        [400, 980, 900, 800, 700, 650, 600, 550, 500, 3920],
        [5000, 100, 100, 100, 100, 100, 100, 100, 100, 4200],
    ]
    for colors_list in questions:
        colors = np.array(colors_list, dtype=np.int64)
        assert colors.sum() == 10_000
        ks = [3, 10, 64, 500, 3000]
        exact = maj_at_k_one(int(colors[0]), colors[1:-1].tolist(), int(colors[-1]), ks, kind=kind)
        for k, e in zip(ks, exact, strict=True):
            mean, se = _mc_vote(colors, k, kind, rng)
            assert abs(mean - e) <= 4 * max(se, 1e-4), (colors_list, k, mean, e, se)


def test_best_at_k_agrees_with_monte_carlo_at_n_10000() -> None:
    rng = np.random.default_rng(5)
    n = 10_000
    scores = np.round(rng.normal(size=n), 1)  # coarse scores: many ties
    correct = (rng.random(n) < 1 / (1 + np.exp(-2 * scores))).astype(float) * (rng.random(n) < 0.7)
    for k in (2, 16, 256):
        exact = best_at_k([scores], [correct], [k])[0, 0]
        vals = np.empty(4000)
        for i in range(len(vals)):
            idx = rng.choice(n, size=k, replace=False)
            s = scores[idx]
            vals[i] = correct[idx][s == s.max()].mean()
        se = vals.std(ddof=1) / np.sqrt(len(vals))
        assert abs(vals.mean() - exact) <= 4 * se, (k, vals.mean(), exact, se)
