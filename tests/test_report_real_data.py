"""`harness report` on every dataset in ../shared/data; headline numbers checked against each PROVENANCE.md.

The data are read in place (never copied into the repository); the Pythia checkpoint file holds two benchmarks
with overlapping problem ids, so its test writes a two-checkpoint GSM8K subset to a temporary file first.
Bootstrap replicates and fitted distributions are reduced to keep the run short; the numbers checked are exact
estimators that do not depend on either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.cli import main

FAST = ["--bootstrap", "20", "--fits", "beta_binomial", "--quiet"]
"""Reduced for speed; per-model figures are drawn for the ESC case only (figure rendering is most of the time)."""


@dataclass(frozen=True)
class Case:
    source: str
    args: tuple[str, ...] = ()
    check: Callable[[dict[str, Any], Path, Path], None] | None = None
    error: str | None = None
    """For data the report cannot use: a fragment of the one-line error (exit status 2)."""
    prepare: Callable[[Path, Path], Path] | None = field(default=None)


def model_row(summary: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    rows = summary["models"]
    return rows[0] if name is None else next(r for r in rows if r["model"] == name)


def check_esc(s: dict[str, Any], _: Path, out: Path) -> None:  # PROVENANCE: mean p 0.804, pass@40 0.926, maj@40 0.832
    m = model_row(s)
    assert (m["questions"], m["n_min"], m["pass_k"], m["maj_k"]) == (500, 40, 40, 40)
    assert round(m["mean_p"], 3) == 0.804 and round(m["pass_at_k"], 3) == 0.926 and round(m["maj_at_k"], 3) == 0.832
    assert "Data: 500 questions, n = 40 samples each, mean p̂ = 0.804, pass@40 = 0.926, maj@40 = 0.832" in " ".join(
        s["headline"]
    )


def check_faithful(
    s: dict[str, Any], _: Path, out: Path
) -> None:  # PROVENANCE: 359 questions, mean p 0.771 = maj@40 0.772
    m = model_row(s)
    assert m["questions"] == 359 and round(m["mean_p"], 3) == 0.771 and round(m["maj_at_k"], 3) == 0.772


def check_activeprompt(s: dict[str, Any], _: Path, out: Path) -> None:  # mean p 0.562, pass@10 0.909, maj@10 ≈ 0.737
    m = model_row(s)
    assert m["questions"] == 1000 and m["n_min"] == 10
    assert round(m["mean_p"], 3) == 0.562 and round(m["pass_at_k"], 3) == 0.909 and round(m["maj_at_k"], 3) == 0.737


def check_monkeys(
    s: dict[str, Any], _: Path, out: Path
) -> None:  # mean p 0.0006 (70M) .. 0.023 (12B); coverage 27% .. 88%
    assert len(s["models"]) == 7
    small, large = model_row(s, "Pythia 70M"), model_row(s, "Pythia 12B")
    assert round(small["mean_p"], 4) == 0.0006 and round(large["mean_p"], 3) == 0.023
    assert large["pass_k"] == 10_000 and round(small["pass_at_k"], 2) == 0.27 and round(large["pass_at_k"], 2) == 0.88


def check_bon_llama(
    s: dict[str, Any], _: Path, out: Path
) -> None:  # 159 behaviours, blocks of 60, stop after first success
    m = model_row(s)
    questions = pd.read_csv(out / "questions.csv")
    assert m["questions"] == 159 and m["n_min"] == 60 and int(questions["n"].sum()) == 29_880  # the file's lines
    assert (questions["n"] % 60 == 0).all()
    assert m["stopping"] == "first-success-block:60"
    assert any("outcome-dependent stopping rule" in line for line in s["headline"])


def check_bon_counts(s: dict[str, Any], _: Path, out: Path) -> None:  # 7 models x 159 behaviours, n 60 .. 10,020
    assert len(s["models"]) == 7 and {m["questions"] for m in s["models"]} == {159}
    assert min(m["n_min"] for m in s["models"]) == 60 and max(m["n_max"] for m in s["models"]) == 10_020


def check_matharena(s: dict[str, Any], data: Path, out: Path) -> None:  # sum(n_correct)/60 reproduces acc_pct per model
    acc = pd.read_csv(data / "matharena_aime2025i_feb2025" / "model_summary.csv").set_index("model")["acc_pct"]
    assert len(s["models"]) == 16
    for m in s["models"]:
        assert m["questions"] == 15 and m["n_min"] == 4
        assert m["mean_p"] == pytest.approx(acc[m["model"]] / 100, abs=1e-9), m["model"]


PYTHIA_MODELS = ("Pythia_1.4B_200B", "Pythia_12B_300B")


def prepare_pythia(data: Path, tmp: Path) -> Path:
    df = pd.read_parquet(data / "pythia_checkpoints_gsm8k_math" / "counts.parquet")
    sub = df[(df["benchmark"] == "GSM8K") & df["model"].isin(PYTHIA_MODELS)]
    path = tmp / "pythia_gsm8k_two_checkpoints.parquet"
    sub.to_parquet(path)
    return path


def check_pythia(
    s: dict[str, Any], data: Path, out: Path
) -> None:  # n varies per problem (128 ... millions); FLOPs axis
    df = pd.read_parquet(data / "pythia_checkpoints_gsm8k_math" / "counts.parquet")
    for name in PYTHIA_MODELS:
        rows = df[(df["benchmark"] == "GSM8K") & (df["model"] == name)]
        m = model_row(s, name)
        assert m["questions"] == len(rows) == 130 or m["questions"] == len(rows)
        assert (m["n_min"], m["n_max"]) == (rows["n_samples"].min(), rows["n_samples"].max())
        assert m["mean_p"] == pytest.approx((rows["n_correct"] / rows["n_samples"]).mean())
    assert s["options"]["compute"] == "flops"


CASES: dict[str, Case] = {
    "esc_gpt35_last_letters": Case("T0.7.jsonl.gz", check=check_esc),
    "faithfulcot_codex_date_n40": Case("samples.parquet", ("--sample-col", "sample_idx"), check=check_faithful),
    "activeprompt_gsm8k_train_hist10": Case("answer_histograms.parquet", check=check_activeprompt),
    "llmonkeys_pythia_math_10k": Case("counts.parquet", check=check_monkeys),
    "bon_jailbreaking_text": Case(
        "meta-llama-Meta-Llama-3-8B-Instruct_text_t1.0_n10000.jsonl.gz", check=check_bon_llama
    ),
    "bon_jailbreaking_text:counts": Case(
        "counts.parquet", ("--stopping", "first-success-block=60"), check=check_bon_counts
    ),
    "matharena_aime2025i_feb2025": Case("result_data.json", check=check_matharena),
    "pythia_checkpoints_gsm8k_math": Case("", ("--compute", "flops"), check=check_pythia, prepare=prepare_pythia),
    "codet_humaneval_codegen16b_n100_UNLABELED": Case(
        "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_code_solution.jsonl.gz",
        error="without correctness labels",
    ),
    # aggregate published numbers, no samples: that is `harness audit`'s input, not a log
    "published_curves": Case("o1mini_aime2024_majority_vote_curve.json", error="not per-sample logs"),
}


def test_every_shared_dataset_has_a_case(shared_data: Path) -> None:
    folders = {p.name for p in shared_data.iterdir() if p.is_dir()}
    assert folders == {name.split(":")[0] for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_report_on_shared_data(
    name: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    folder = shared_data / name.split(":")[0]
    source = case.prepare(shared_data, tmp_path) if case.prepare else folder / case.source
    out = tmp_path / "report"
    figures = "1" if name == "esc_gpt35_last_letters" else "0"
    status = main(["report", str(source), "--out", str(out), *case.args, *FAST, "--figures-for", figures])
    err = capsys.readouterr().err
    if case.error is not None:
        assert status == 2 and case.error in err and err.count("\n") <= 2, err
        assert not (out / "report.html").exists()
        return
    assert status == 0, err
    for fname in ("report.html", "report.md", "curves.csv", "questions.csv", "fits.csv", "summary.json"):
        assert (out / fname).stat().st_size > 0, fname
    if figures == "1":
        assert len(list((out / "figures").glob("*.png"))) >= 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"][0].startswith("Does each accuracy-vs-samples curve show more")
    # every model has a verdict per metric, and "explained" is never asserted
    verdicts = summary["verdicts"]
    assert {v["model"] for v in verdicts} == {m["model"] for m in summary["models"]}
    assert {v["outcome"] for v in verdicts} <= {"not tested", "consistent", "negligible", "unresolved", "departs"}
    assert "explained" not in " ".join(summary["headline"])
    assert case.check is not None
    case.check(summary, shared_data, out)
