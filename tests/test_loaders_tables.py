"""The table a user hands over: partition columns, --where, --models, --model-col a,b, aliases, file-stem models."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.loaders import ColumnMap, LoadOptions, load, load_many, parse_where

PYTHIA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pythia_checkpoints_gsm8k_math"


def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    rc = main(["curves", *args, "--out", str(tmp_path / "o.csv"), "--quiet", "--bootstrap", "0"])
    return rc, [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


def two_tasks(tmp_path: Path, *, extra_b: bool = False) -> Path:
    """Questions 0..2 with 8 samples in task A; task B reuses the ids (all 8 samples, or one sample of q0)."""
    rows = [
        {"model": "m", "task": "A", "problem_idx": q, "sample_idx": s, "correct": (q + s) % 3 == 0}
        for q in range(3)
        for s in range(8)
    ]
    b = [(0, 8)] if extra_b else [(q, s) for q in range(3) for s in range(8)]
    rows += [{"model": "m", "task": "B", "problem_idx": q, "sample_idx": s, "correct": s % 2 == 0} for q, s in b]
    p = tmp_path / "runs.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_partition_column_that_doubles_n_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = two_tasks(tmp_path)
    rc, err = cli(capsys, tmp_path, str(p))
    assert rc == 2 and len(err) == 1, err
    line = err[0]
    assert "runs.csv" in line and "column 'task'" in line and "16 samples per question against 8" in line
    assert "--where task=A" in line and "--model-col model,task" in line
    assert "--question-col problem_idx,task" in line
    # each fix loads
    both = load(str(p), columns=ColumnMap(question="problem_idx,task"))
    assert both.counts.n_questions == 6 and set(both.counts.n.tolist()) == {8}
    per_task = load(str(p), columns=ColumnMap(model="model,task"))
    assert sorted(per_task.counts.models) == ["m/A", "m/B"]
    only_a = load(str(p), options=LoadOptions(where=parse_where(["task=A"])))
    assert only_a.counts.n_questions == 3 and any("kept 24 of 48 rows (24 excluded)" in n for n in only_a.notes)


def test_partition_column_with_few_extra_samples_is_a_warning(tmp_path: Path) -> None:
    got = load(str(two_tasks(tmp_path, extra_b=True)))
    warn = [n for n in got.notes if n.startswith("warning:") and "'task'" in n]
    assert len(warn) == 1 and "pooled" in warn[0] and "--where task=A" in warn[0]
    assert sorted(got.counts.n.tolist()) == [8, 8, 9]


def test_sample_idx_alias_and_file_stem_model(tmp_path: Path) -> None:
    p = tmp_path / "my_run.csv"
    pd.DataFrame(
        {"problem_idx": [0, 0, 1, 1], "sample_idx": [1, 0, 0, 1], "correct": [1, 0, 1, 1]}
    ).to_csv(p, index=False)
    got = load(str(p))
    assert got.counts.models == ["my_run"]
    assert got.rollouts is not None and sorted(got.rollouts["sample_id"].tolist()) == [0, 0, 1, 1]
    assert any("'sample_idx' read as sample_id" in n for n in got.notes)


def test_where_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = two_tasks(tmp_path)
    rc, err = cli(capsys, tmp_path, str(p), "--where", "tsak=A")
    assert rc == 2 and len(err) == 1 and "no column 'tsak' (given to --where)" in err[0] and "'task'" in err[0]
    rc, err = cli(capsys, tmp_path, str(p), "--where", "task=Z")
    assert rc == 2 and len(err) == 1 and "task='Z'" in err[0] and "values present: A, B" in err[0]
    rc, err = cli(capsys, tmp_path, str(p), "--where", "task")
    assert rc == 2 and len(err) == 1 and "COLUMN=VALUE" in err[0]
    rc, err = cli(capsys, tmp_path, str(p), "--where", "task=A", "--where", "problem_idx=0,2")
    assert rc == 0
    got = load(str(p), options=LoadOptions(where=parse_where(["task=A", "problem_idx=0,2"])))
    assert sorted(got.counts.question_id.tolist()) == ["0", "2"]


def test_models_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = two_tasks(tmp_path)
    rc, err = cli(capsys, tmp_path, str(p), "--model-col", "model,task", "--models", "m/C")
    assert rc == 2 and len(err) == 1 and "no model 'm/C'" in err[0] and "models present: m/A, m/B" in err[0]
    got = load_many([str(p)], columns=ColumnMap(model="model,task"), options=LoadOptions(models=("m/B",)))
    assert got.counts.models == ["m/B"] and any("kept 1 of 2 models" in n for n in got.notes)


@pytest.mark.skipif(not PYTHIA.exists(), reason="shared Pythia checkpoints data absent")
def test_pythia_duplicate_hint_names_the_benchmark_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old hint (--question-col benchmark,problem_idx) pooled GSM8K and MATH into one curve."""
    path = str(PYTHIA / "counts.parquet")
    rc, err = cli(capsys, tmp_path, path)
    assert rc == 2 and len(err) == 1
    assert "'benchmark' ('GSM8K' vs 'MATH')" in err[0] and "--where benchmark=GSM8K" in err[0]
    assert "--model-col model,benchmark" in err[0] and "--question-col" not in err[0]
    rc, _ = cli(capsys, tmp_path, path, "--where", "benchmark=MATH", "--models", "Pythia_12B_300B")
    assert rc == 0


def test_models_with_a_command_that_loads_files_one_by_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("run_a", "run_b", "run_c"):
        frame = pd.DataFrame({"question_id": [1, 1, 2, 2], "correct": [1, 0, 1, 1]})
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    files = [str(tmp_path / f"run_{x}.csv") for x in "abc"]
    out = str(tmp_path / "cmp")
    rc = main(["compare", *files[:2], "--models", "run_a,run_b", "--out", out, "--bootstrap", "10", "--quiet"])
    assert rc == 0
    rc = main(["compare", *files, "--models", "run_a,run_b", "--out", out, "--bootstrap", "10", "--quiet", "--force"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(err) == 1 and "run_c.csv" in err[0] and "models present: run_c" in err[0]
