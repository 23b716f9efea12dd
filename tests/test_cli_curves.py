"""`harness curves`: the stable CSV contract and one-line errors with exit status 2."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import pass_at_k
from harness.cli import main

REQUIRED = ["model", "metric", "k", "compute", "value", "kind", "estimator", "ties", "n_questions"]


def _write_rollouts(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for q in range(12):
        p = rng.uniform(0.05, 0.9)
        for s in range(16):
            ok = rng.random() < p
            rows.append({"question_id": f"q{q}", "sample_id": s, "answer": "42" if ok else str(rng.integers(0, 3)),
                         "correct": ok, "tokens": 100 + s, "score": float(rng.normal() + ok)})
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return df


def test_curves_csv_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "samples.csv"
    df = _write_rollouts(src)
    out = tmp_path / "curves.csv"
    assert main(["curves", str(src), "--out", str(out), "--quiet", "--bootstrap", "50",
                 "--metrics", "pass@k,maj@k,pass^k,best@k"]) == 0
    table = pd.read_csv(out)
    assert set(REQUIRED) <= set(table.columns)
    assert set(table["metric"]) == {"pass@k", "maj@k", "pass^k", "best@k"}
    assert set(table["kind"]) == {"measured", "iid"}
    assert sorted(table["k"].unique().tolist()) == [1, 2, 4, 8, 16]  # powers of two up to n, plus n
    measured = table[(table.metric == "pass@k") & (table.kind == "measured")].set_index("k")["value"]
    c = df.groupby("question_id")["correct"].sum().to_numpy()
    np.testing.assert_allclose(measured.to_numpy(), pass_at_k(np.full(12, 16), c, [1, 2, 4, 8, 16]).mean(axis=0))
    assert (table["ci_low"] <= table["value"] + 1e-12).all() and (table["value"] <= table["ci_high"] + 1e-12).all()


def test_curves_to_stdout_with_explicit_k_and_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "samples.csv"
    _write_rollouts(src)
    assert main(["curves", str(src), "--out", "-", "--k", "1,3", "--compute", "tokens", "--metrics", "pass@k",
                 "--bootstrap", "0", "--quiet"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["k"].unique().tolist() == [1, 3]
    assert (table["compute_unit"] == "tokens").all()
    np.testing.assert_allclose(table.loc[table.k == 3, "compute"], 3 * 107.5)  # mean tokens 107.5 per sample


def test_count_table_loads_with_no_options(tmp_path: Path) -> None:
    src = tmp_path / "counts.csv"
    pd.DataFrame({"question_id": ["a", "b"], "n": [10, 10], "c": [1, 9]}).to_csv(src, index=False)
    out = tmp_path / "c.csv"
    assert main(["curves", str(src), "--out", str(out), "--quiet", "--bootstrap", "0"]) == 0
    table = pd.read_csv(out)
    assert set(table["metric"]) == {"pass@k", "pass^k"}  # no answer classes: no majority vote


@pytest.mark.parametrize(
    ("content", "args", "pattern"),
    [
        ("question_id,answer\nq1,3\n", [], r"missing required column 'correct'"),
        ("question_id,correct\nq1,perhaps\n", [], r"row 0, column 'correct'.*not boolean-like"),
        ("qid,n,c\na,10,3\n", ["--question-col", "qid", "--k", "0"], r"k=0 is not positive"),
        ("question_id,correct\nq1,1\n", ["--metrics", "pass@k,vote@k"], r"unknown metric 'vote@k'"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, args: list[str], pattern: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(content)
    code = main(["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    import re

    assert re.search(pattern, err), err
    assert "Traceback" not in err


def test_an_empty_item_in_k_is_refused_not_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    """--k 1,,2 was read as k = 1, 2 (the empty item silently dropped); like --metrics it is now an error."""
    from harness.cli import main

    assert main(["curves", str(Path(__file__).parent / "fixtures" / "counts.csv"), "--k", "1,,2"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and "--k '1,,2' is not a list of whole numbers" in errors[0]


def test_an_unknown_option_points_at_the_commands_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["report", "x", "--out", "y", "--no-such-option"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--no-such-option" in err[0] and err[0].endswith("(see harness report --help)")
