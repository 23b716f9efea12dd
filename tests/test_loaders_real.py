"""The real logs in ../shared/data, read in their ORIGINAL formats: row counts and one documented figure each.

Each expected figure is quoted from the folder's PROVENANCE.md (named next to it). The data are read in place
(never copied); every test skips with a reason when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.estimators.majority import maj_at_k
from harness.estimators.passk import pass_at_k
from harness.loaders import ColumnMap, load


def test_esc_original_jsonl_reproduces_provenance(shared_data: Path) -> None:
    got = load(str(shared_data / "esc_gpt35_last_letters" / "T0.7.jsonl.gz"))
    c = got.counts
    assert got.format == "esc" and c.n_questions == 500 and int(c.n.sum()) == 20_000
    # PROVENANCE.md: Mean p = 0.804; pass@40 = 0.926; maj@40 (ties split) = 0.832
    assert round(float(c.p_hat.mean()), 3) == 0.804
    assert round(float(pass_at_k(c.n, c.correct, [40]).mean()), 3) == 0.926
    assert round(float(maj_at_k(c, [40], ties="random").mean()), 3) == 0.832
    assert got.answers is not None and got.answers.extractor == "esc-letters" and got.answers.n_unparsed == 40


def test_esc_converted_parquet_agrees(shared_data: Path) -> None:
    got = load(str(shared_data / "esc_gpt35_last_letters" / "samples.parquet"))
    assert got.counts.n_questions == 500 and round(float(got.counts.p_hat.mean()), 3) == 0.804


def test_activeprompt_histogram_text_with_gsm8k_gold(shared_data: Path) -> None:
    folder = shared_data / "activeprompt_gsm8k_train_hist10"
    got = load(
        str(folder / "gsm8k_fair_few_shot_k=10.txt.gz"), gold=str(folder / "answer_histograms.parquet")
    )
    c = got.counts
    assert got.format == "activeprompt" and c.n_questions == 1000 and set(c.n.tolist()) == {10}
    # PROVENANCE.md: Mean p 0.562, pass@10 0.909
    assert round(float(c.p_hat.mean()), 3) == 0.562
    assert round(float(pass_at_k(c.n, c.correct, [10]).mean()), 3) == 0.909
    # and the converted histogram parquet gives the same per-question correct counts
    conv = load(str(folder / "answer_histograms.parquet")).counts
    ours = dict(zip(c.question_id, c.correct, strict=True))
    assert all(ours[q] == k for q, k in zip(conv.question_id, conv.correct, strict=True))


def test_faithful_cot_predictions_with_gold(shared_data: Path) -> None:
    folder = shared_data / "faithfulcot_codex_date_n40"
    got = load(str(folder / "code002_LtM_n40_predictions.jsonl.gz"), gold=str(folder / "date_test.jsonl.gz"))
    c = got.counts
    assert got.format == "faithful-cot" and c.n_questions == 359 and int(c.n.sum()) == 14_360
    # PROVENANCE.md: Mean p 0.771 = maj@40 0.772; only 5 questions have 0<p<1
    assert round(float(c.p_hat.mean()), 3) == 0.771
    assert round(float(maj_at_k(c, [40]).mean()), 3) == 0.772
    assert int(((c.correct > 0) & (c.correct < c.n)).sum()) == 5


def test_bon_gemini_per_attempt_parquet_detects_stopping_rule(shared_data: Path) -> None:
    folder = shared_data / "bon_jailbreaking_text"
    got = load(str(folder / "best_of_n_jailbreaking_gemini-1.5-flash-001_per_attempt.parquet"))
    c = got.counts
    # PROVENANCE.md: 747,420 rows = attempts; 159 behaviours; blocks of 60, cap 10,020
    assert c.n_questions == 159 and int(c.n.sum()) == 747_420 and int(c.n.max()) == 10_020
    assert set(c.stopping.tolist()) == {"first-success-block:60"}
    assert any(n.startswith("warning:") and "first block of 60" in n for n in got.notes)
    ref = pd.read_parquet(folder / "counts.parquet")
    ref = ref[ref["model"] == "Gemini 1.5 Flash"]
    assert int(c.correct.sum()) == int(ref["n_correct"].sum())


def test_bon_llama_raw_jsonl(shared_data: Path) -> None:
    folder = shared_data / "bon_jailbreaking_text"
    got = load(str(folder / "meta-llama-Meta-Llama-3-8B-Instruct_text_t1.0_n10000.jsonl.gz"))
    c = got.counts
    assert c.n_questions == 159 and int(c.n.sum()) == 29_880  # PROVENANCE.md: 29,880 lines
    assert set(c.stopping.tolist()) == {"first-success-block:60"}
    ref = pd.read_parquet(folder / "counts.parquet")
    ref = ref[ref["model"] == "Llama 3 8B IT"].sort_values("problem_idx")
    order = np.argsort(c.question_id.astype(int))
    assert (
        c.n[order].tolist() == ref["n_samples"].tolist()
        and c.correct[order].tolist() == ref["n_correct"].tolist()
    )


def test_matharena_result_json(shared_data: Path) -> None:
    folder = shared_data / "matharena_aime2025i_feb2025"
    got = load(str(folder / "result_data.json"))
    c = got.counts
    assert c.n_questions == 240 and len(c.models) == 16  # PROVENANCE.md: 16 models x 15 problems
    # PROVENANCE.md / model_summary.csv: o3-mini (high) acc 80.0%
    o3 = c.select("o3-mini (high)")
    assert round(100 * float(o3.correct.sum() / o3.n.sum()), 1) == 80.0
    # PROVENANCE.md: average output tokens per run, o3-mini high 12,047 (from secondary_data.json)
    assert round(o3.mean_tokens_per_sample()) == 12_047


def test_pythia_checkpoint_counts_with_flops(shared_data: Path) -> None:
    folder = shared_data / "pythia_checkpoints_gsm8k_math"
    got = load(str(folder / "counts.parquet"), columns=ColumnMap(question="benchmark,problem_idx"))
    c = got.counts
    # PROVENANCE.md: 19,370 rows; n from 128 to 3,720,320; flops_per_sample given
    assert c.n_questions == 19_370 and int(c.n.min()) == 128 and int(c.n.max()) == 3_720_320
    assert np.isfinite(c.flops_per_sample).all() and c.flops_per_sample.min() > 0
    assert any("varies between questions" in n for n in got.notes)
    adaptive = load(
        str(folder / "counts.parquet"),
        columns=ColumnMap(question="benchmark,problem_idx"),
        stopping="adaptive",
    )
    assert not adaptive.counts.fixed_n


def test_llmonkeys_counts(shared_data: Path) -> None:
    got = load(str(shared_data / "llmonkeys_pythia_math_10k" / "counts.parquet"))
    c = got.counts
    # PROVENANCE.md: 896 rows, 10,000 samples each; mean p from 0.0006 (70M) to 0.023 (12B)
    assert c.n_questions == 896 and set(c.n.tolist()) == {10_000}
    assert round(float(c.select("Pythia 12B").p_hat.mean()), 3) == 0.023


def test_codet_unlabeled_is_refused_clearly(shared_data: Path) -> None:
    from harness._validation import HarnessInputError

    folder = shared_data / "codet_humaneval_codegen16b_n100_UNLABELED"
    with pytest.raises(
        HarnessInputError, match=r"code_solution.jsonl.gz: code samples without correctness labels"
    ):
        load(str(folder / "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_code_solution.jsonl.gz"))
