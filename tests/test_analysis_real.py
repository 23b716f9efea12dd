"""The null model on the real logged data in ../shared/data (read only; skipped where absent).

Reference values are the facts written in each folder's PROVENANCE.md (computed by the data curators) and the
source repositories' own tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.analysis import analyse
from harness.diagnostics.dependence import dependence_tests
from harness.models import power_law_exponent
from harness.tables import QuestionCounts, first_success_block, rollouts_to_counts


def _pythia(shared: Path) -> QuestionCounts:
    d = pd.read_parquet(shared / "llmonkeys_pythia_math_10k" / "counts.parquet")
    return QuestionCounts.from_binary(
        d["n_samples"],
        d["n_correct"],
        model=d["model"].tolist(),
        question_id=d["problem_idx"].astype(str).tolist(),
    )


SIZES = ["Pythia 70M", "Pythia 160M", "Pythia 410M", "Pythia 1B", "Pythia 2.8B", "Pythia 6.9B", "Pythia 12B"]


def test_pythia_math_spread_plateaus_and_power_law(shared_data: Path) -> None:
    a = analyse(_pythia(shared_data), bootstrap=100, fits=("beta_binomial", "scaled_beta"))
    plat = a.plateaus.set_index("model").loc[SIZES]
    # PROVENANCE.md: coverage@10k from 27% (70M) to 88% (12B)
    assert plat["pass_inf"].iloc[0] == pytest.approx(0.27, abs=0.01)
    assert plat["pass_inf"].iloc[-1] == pytest.approx(0.88, abs=0.01)
    mean_p = a.questions.groupby("model")["p_hat"].mean().loc[SIZES]
    # PROVENANCE.md: mean per-sample success 0.0006 (70M) to 0.023 (12B)
    assert mean_p.iloc[0] == pytest.approx(0.0006, abs=0.00005)
    assert mean_p.iloc[-1] == pytest.approx(0.023, abs=0.0005)
    # the exponent of -log pass@k grows with model size (measured curve, bootstrap intervals around it)
    b = plat["power_law_exponent"].to_numpy()
    assert np.all(np.diff(b) > -0.02) and b[-1] > b[0] + 0.1
    assert (plat["exponent_ci_low"] < plat["power_law_exponent"]).all()
    # the same estimator on the Schaeffer repository's own pass@k table (101 k values, verbatim parquet)
    src = pd.read_parquet(
        shared_data / "llmonkeys_pythia_math_10k" / "large_language_monkeys_original_pass_at_k.parquet"
    )
    for model in ("Pythia 70M", "Pythia 12B"):
        curve = src[src["Model"] == model].groupby("Scaling Parameter")["Score"].mean()
        b_repo = power_law_exponent(curve.index.to_numpy(float), curve.to_numpy())[0]
        assert plat.loc[model, "exponent_ci_low"] - 0.03 < b_repo < plat.loc[model, "exponent_ci_high"] + 0.03
    # Schaeffer et al.'s distributional estimator (fitted G's pass@k over k = 1..1e5) lands near the measured b
    dist = a.plateaus_by_fit[a.plateaus_by_fit["fit"] == "scaled_beta"].set_index("model").loc[SIZES]
    assert np.all(np.abs(dist["power_law_exponent_distributional"].to_numpy() - b) < 0.03)
    # the scaled beta's left-tail exponent a is the asymptotic power-law exponent (Schaeffer et al. 2025)
    fits = a.fits[a.fits["fit"] == "scaled_beta"].set_index("model").loc[SIZES]
    alpha = fits["params"].map(lambda s: pd.read_json(pd.io.common.StringIO(s), typ="series")["a"]).to_numpy()
    assert np.all((alpha > 0.03) & (alpha < 0.5))
    assert fits["converged"].all()


def test_esc_majority_vote_and_strongest_wrong_answer(shared_data: Path) -> None:
    s = pd.read_parquet(shared_data / "esc_gpt35_last_letters" / "samples.parquet")
    r = pd.DataFrame(
        {
            "question_id": s["question_idx"].astype(str),
            "correct": s["correct"],
            "answer": s["answer"].where(s["answer"] != "", None),
        }
    )
    counts = rollouts_to_counts(r)
    a = analyse(counts, bootstrap=100, fits=("beta_binomial", "npmle"))
    cur = a.curves
    assert cur is not None
    meas = cur[cur["kind"] == "measured"].set_index(["metric", "k"])["value"]
    # PROVENANCE.md: mean p = 0.804; maj@40 (ties split) = 0.832; pass@40 = 0.926
    assert meas[("pass@k", 1)] == pytest.approx(0.804, abs=0.001)
    assert meas[("maj@k", 40)] == pytest.approx(0.832, abs=0.001)
    assert meas[("pass@k", 40)] == pytest.approx(0.926, abs=0.001)
    beats = a.questions["top_wrong_beats_correct"].astype(bool).mean()
    direct = (counts.top_wrong() > counts.correct).mean()
    assert beats == direct and 0 < beats < 0.2
    assert a.plateaus["maj_inf"].iloc[0] == pytest.approx(0.83, abs=0.01)


def test_active_prompt_histograms(shared_data: Path) -> None:
    h = pd.read_parquet(shared_data / "activeprompt_gsm8k_train_hist10" / "answer_histograms.parquet")
    correct = h[h["correct"]].groupby("question_idx")["count"].sum()
    wrong = h[~h["correct"]].groupby("question_idx")["count"].apply(list)
    qids = sorted(h["question_idx"].unique())
    counts = QuestionCounts.from_classes(
        [int(correct.get(q, 0)) for q in qids], [wrong.get(q, []) for q in qids], model="code-davinci-002"
    )
    a = analyse(counts, bootstrap=0, fits=("beta_binomial",))
    cur = a.curves
    assert cur is not None
    meas = cur[cur["kind"] == "measured"].set_index(["metric", "k"])["value"]
    # PROVENANCE.md: mean p 0.562, pass@10 0.909, maj@10 ~= 0.737 (ties broken arbitrarily there, split here)
    assert meas[("pass@k", 1)] == pytest.approx(0.562, abs=0.001)
    assert meas[("pass@k", 10)] == pytest.approx(0.909, abs=0.001)
    assert meas[("maj@k", 10)] == pytest.approx(0.737, abs=0.01)
    assert meas[("maj@k", 10)] > meas[("pass@k", 1)] + 0.15  # voting helps a lot here


def test_faithful_cot_control_and_its_batches_of_ten(shared_data: Path) -> None:
    s = pd.read_parquet(shared_data / "faithfulcot_codex_date_n40" / "samples.parquet")
    base = pd.DataFrame(
        {"question_id": s["question_id"].astype(str), "correct": s["correct"], "answer": s["answer"]}
    )
    counts = rollouts_to_counts(base)
    # control: labels assigned at random (fixed seed) satisfy the null by construction, so nothing may reject;
    # this checks the calibration on real answer distributions and is not a test of anything about the data
    rng = np.random.default_rng(0)
    control = base.assign(group=rng.permutation(np.where(s["sample_idx"] < 20, "a", "b")))
    a = analyse(counts, rollouts=control, bootstrap=200, fits=("beta_binomial", "zoi_beta_binomial"))
    cur = a.curves
    assert cur is not None
    meas = cur[cur["kind"] == "measured"].set_index(["metric", "k"])["value"]
    # PROVENANCE.md: mean p 0.771 = maj@40 0.772; 321 of 359 questions have 40 identical completions, and of
    # the other 38 only 16 differ in the extracted answer
    non_unanimous = (counts.class_matrix().max(axis=1) != counts.n).mean()
    assert non_unanimous == pytest.approx(16 / 359)
    assert abs(meas[("maj@k", 40)] - meas[("pass@k", 1)]) <= non_unanimous
    assert meas[("maj@k", 40)] == pytest.approx(0.772, abs=0.001)
    assert a.dependence is not None
    assert not a.dependence.groupby("test")["reject"].any().any()
    # near-degenerate p: the zero/one-inflated fit puts most mass on the two atoms
    zoi = a.fits[a.fits["fit"] == "zoi_beta_binomial"]["params"].iloc[0]
    params = pd.read_json(pd.io.common.StringIO(zoi), typ="series")
    assert params["pi0"] + params["pi1"] > 0.8
    # finding: consecutive blocks of 10 of the 40 logged completions are more alike than completions across
    # blocks (e.g. question 123: 0000000000 1110111110 1111111111 0000000000) -- a real batch axis
    blocks = base.assign(group=(s["sample_idx"] // 10).astype(str))
    dep, _ = dependence_tests(counts, blocks, bootstrap=200, permutations=999)
    assert dep is not None
    p = dep.groupby("test")["p_value"].first()
    assert p["chi2_class_by_group"] < 0.01 and p["overdispersion"] < 0.01
    assert p["curve_D_perm(pass@k)"] < 0.01


def test_best_of_n_jailbreaking_with_its_stopping_rule(shared_data: Path) -> None:
    d = pd.read_parquet(shared_data / "bon_jailbreaking_text" / "counts.parquet")
    counts = QuestionCounts.from_binary(
        d["n_samples"],
        d["n_correct"],
        model=d["model"].tolist(),
        question_id=d["problem_idx"].astype(str).tolist(),
        stopping=np.array([first_success_block(60)] * len(d), object),
    )
    a = analyse(counts, bootstrap=50, fits=("beta_binomial", "npmle"))
    assert any("stopping rule" in n for n in a.notes)
    assert not a.questions["interval_valid"].any()
    assert a.fits["converged"].all()
    # the goodness-of-fit check is the histogram of blocks drawn until the first success (c/n is not binomial)
    bb = a.fits[a.fits["fit"] == "beta_binomial"].set_index("model")
    assert bb["gof_p"].notna().all()
    assert bb.loc["GPT4o", "gof_p"] < 0.01 and bb.loc["Claude 3.5 Opus", "gof_p"] > 0.1
    cur = a.curves
    assert cur is not None
    assert cur[cur["kind"] == "measured"]["k"].max() == 60  # the measured curve stops at the block size
    # every behaviour without a success was run to the cap (PROVENANCE.md)
    assert (d.loc[d["n_correct"] == 0, "n_samples"] == 10_020).all()
