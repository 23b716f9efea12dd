"""The input options of the CLI (harness/commands/_common.py) reach the loaders; warnings go to stderr."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main

FIX = Path(__file__).parent / "fixtures"


def curves(tmp_path: Path, *args: str) -> tuple[int, pd.DataFrame | None]:
    out = tmp_path / "c.csv"
    rc = main(["curves", *args, "--out", str(out), "--force", "--quiet", "--bootstrap", "0", "--kinds", "measured"])
    return rc, (pd.read_csv(out) if out.exists() else None)


def test_detected_stopping_rule_is_announced_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, table = curves(tmp_path, str(FIX / "bon-model_text_t1.0_n9.jsonl"), "--metrics", "pass@k", "--k", "1")
    err = capsys.readouterr().err
    assert rc == 0 and table is not None
    assert "warning:" in err and "first block of 3" in err and "--stopping first-success-block=3" in err
    rc, _ = curves(
        tmp_path,
        str(FIX / "bon-model_text_t1.0_n9.jsonl"),
        "--metrics",
        "pass@k",
        "--k",
        "1",
        "--stopping",
        "first-success-block=3",
    )
    assert rc == 0 and "warning" not in capsys.readouterr().err


def test_mapping_extractor_gold_and_n_questions_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, table = curves(
        tmp_path,
        str(FIX / "mapped_text.jsonl"),
        "--question-col",
        "problem_id",
        "--sample-col",
        "run",
        "--text-col",
        "completion",
        "--gold-col",
        "reference",
        "--model-col",
        "llm",
        "--metrics",
        "pass@k",
        "--k",
        "1",
    )
    assert rc == 0 and table is not None
    assert table["model"].unique().tolist() == ["m1"]
    assert table["value"].iloc[0] == pytest.approx((3 / 4 + 2 / 4) / 2)
    rc, table = curves(
        tmp_path,
        str(FIX / "math_gpt-4o-mini_allresults.json"),
        "--n-questions",
        "2",
        "--metrics",
        "pass@k",
        "--k",
        "1",
    )
    assert rc == 0 and table is not None and table["n_questions"].iloc[0] == 2
    rc, table = curves(
        tmp_path,
        str(FIX / "activeprompt_k3.txt"),
        "--gold",
        str(FIX / "gsm8k_gold.jsonl"),
        "--metrics",
        "maj@k",
        "--k",
        "3",
    )
    assert rc == 0 and table is not None and table["value"].iloc[0] == pytest.approx(1.0)
    capsys.readouterr()


def test_several_seed_files_pool_by_question(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, table = curves(
        tmp_path,
        str(FIX / "nemo" / "output-rs0.jsonl"),
        str(FIX / "nemo" / "output-rs1.jsonl"),
        "--metrics",
        "pass@k",
        "--k",
        "2",
    )
    assert rc == 0 and table is not None
    assert table["n_questions"].iloc[0] == 2 and table["value"].iloc[0] == pytest.approx(1.0)
    capsys.readouterr()


def test_unknown_format_is_an_argparse_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["curves", str(FIX / "rollouts.csv"), "--format", "xml", "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and err.count("\n") == 1
