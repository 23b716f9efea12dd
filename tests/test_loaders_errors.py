"""Bad input: exit status 2 and ONE stderr line naming file, line/row, column and the fix (no traceback)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness._validation import HarnessInputError
from harness.cli import main
from harness.loaders import load

FIX = Path(__file__).parent / "fixtures"


def run_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> str:
    """Run `harness curves ARGS`, assert exit status 2 and one stderr line; return that line."""
    rc = main(["curves", *args, "--out", str(tmp_path / "out.csv"), "--quiet", "--bootstrap", "0"])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()
    return lines[0]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


GOOD = [{"question_id": "a", "sample_id": i, "answer": "1", "correct": True} for i in range(3)]


def test_malformed_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(
        json.dumps(GOOD[0]) + "\n" + json.dumps(GOOD[1]) + "\n" + '{"question_id": "a", "correct": \n'
    )
    line = run_cli(capsys, tmp_path, str(p))
    assert (
        "bad.jsonl" in line and "line 3" in line and "malformed JSON" in line and "repair or delete" in line
    )


def test_non_utf8_bytes_name_the_byte_offset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "latin1.csv"
    p.write_bytes(b"question_id,correct,answer\nq1,true,caf\xe9\n")
    line = run_cli(capsys, tmp_path, str(p))
    offset = len(b"question_id,correct,answer\nq1,true,caf")
    assert "latin1.csv" in line and f"byte offset {offset}" in line and "line 2" in line and "UTF-8" in line
    j = tmp_path / "latin1.jsonl"
    j.write_bytes(json.dumps(GOOD[0]).encode() + b"\n" + b'{"question_id": "\xff", "correct": 1}\n')
    line = run_cli(capsys, tmp_path, str(j))
    offset = len(json.dumps(GOOD[0])) + 1 + len(b'{"question_id": "')
    assert f"byte offset {offset}" in line and "line 2" in line


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("empty.csv", "empty.jsonl", "empty.parquet"):
        p = tmp_path / name
        p.write_bytes(b"")
        line = run_cli(capsys, tmp_path, str(p))
        assert name in line and "empty" in line


def test_missing_required_column_lists_columns_and_closest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "cols.csv"
    pd.DataFrame({"question": ["a"], "is_correct": [True]}).to_csv(p, index=False)
    line = run_cli(capsys, tmp_path, str(p), "--question-col", "question")
    assert "cols.csv" in line and "'correct'" in line and "columns present: question_id, is_correct" in line
    assert "closest match: 'is_correct'" in line
    line = run_cli(capsys, tmp_path, str(p), "--question-col", "qustion")
    assert "no column 'qustion'" in line and "closest match: 'question'" in line


def test_non_boolean_correctness_lists_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write_jsonl(
        tmp_path / "bool.jsonl", [*GOOD, {"question_id": "b", "sample_id": 0, "correct": "maybe"}]
    )
    line = run_cli(capsys, tmp_path, str(p))
    assert "bool.jsonl" in line and "row 3" in line and "column 'correct'" in line and "'maybe'" in line
    assert "accepted: true/false, 1/0" in line


def test_duplicate_question_sample_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write_jsonl(tmp_path / "dup.jsonl", [*GOOD, {"question_id": "a", "sample_id": 1, "correct": False}])
    line = run_cli(capsys, tmp_path, str(p))
    assert "dup.jsonl" in line and "row 3" in line and "column 'sample_id'" in line and "duplicate" in line


def test_question_with_zero_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "zero.csv"
    pd.DataFrame({"question_id": ["a", "b"], "n": [4, 0], "c": [1, 0]}).to_csv(p, index=False)
    line = run_cli(capsys, tmp_path, str(p))
    assert "zero.csv" in line and "row 1" in line and "column 'n'" in line and "at least one sample" in line
    h = tmp_path / "hist.csv"
    pd.DataFrame(
        {"question_id": ["a", "b"], "answer": ["1", "2"], "count": [3, 0], "correct": [1, 0]}
    ).to_csv(h, index=False)
    line = run_cli(capsys, tmp_path, str(h))
    assert "hist.csv" in line and "question 'b' has zero samples" in line
    lst = write_jsonl(tmp_path / "lists.jsonl", [{"samples": [], "is_corrects": [], "gt_answer": "1"}])
    line = run_cli(capsys, tmp_path, str(lst))
    assert "lists.jsonl" in line and "row 0" in line and "zero samples" in line


def test_one_answer_string_graded_both_ways_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"question_id": "a", "answer": "72", "correct": True},
            {"question_id": "a", "answer": "72", "correct": False},
        ],
    )
    line = run_cli(capsys, tmp_path, str(p))
    assert "mixed.jsonl" in line and "'72'" in line and "row 1" in line and "column 'correct'" in line


def test_normaliser_merge_across_grades_is_refused_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'72' right and '72.0' wrong: the normaliser would merge them; the question keeps its raw classes."""
    p = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"question_id": "a", "answer": "72", "correct": True},
            {"question_id": "a", "answer": "72.0", "correct": False},
            {"question_id": "b", "answer": "5", "correct": True},
            {"question_id": "b", "answer": "5.0", "correct": True},
        ],
    )
    loaded = load(str(p))
    c = loaded.counts
    a, b = list(c.question_id).index("a"), list(c.question_id).index("b")
    assert c.correct[a] == 1 and c.wrong[a].sum() == 1  # kept apart
    assert c.correct[b] == 2  # merged: both graded right
    assert loaded.answers is not None and loaded.answers.n_conflicts == 1
    warn = [n for n in loaded.notes if n.startswith("warning:")]
    assert len(warn) == 1 and "'72' (graded right) and '72.0' (graded wrong)" in warn[0]
    assert "--normalizer none" in warn[0]
    rc = main(["curves", str(p), "--out", str(tmp_path / "o.csv"), "--quiet", "--bootstrap", "0"])
    assert rc == 0 and "--normalizer none" in capsys.readouterr().err


def test_truncated_gzip_and_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = gzip.compress(("".join(json.dumps(r) + "\n" for r in GOOD * 50)).encode())
    g = tmp_path / "cut.jsonl.gz"
    g.write_bytes(data[: len(data) // 2])
    line = run_cli(capsys, tmp_path, str(g))
    assert "cut.jsonl.gz" in line and "truncated" in line
    raw = (FIX / "rollouts.parquet").read_bytes()
    p = tmp_path / "cut.parquet"
    p.write_bytes(raw[: len(raw) - 100])
    line = run_cli(capsys, tmp_path, str(p))
    assert "cut.parquet" in line and "truncated" in line
    z = tmp_path / "cut.eval"
    z.write_bytes((FIX / "inspect_log.eval").read_bytes()[:200])
    line = run_cli(capsys, tmp_path, str(z))
    assert "cut.eval" in line and "truncated or damaged" in line


def test_hf_dataset_config_split_and_path_that_do_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = run_cli(capsys, tmp_path, "hf:" + str(tmp_path / "no_such_dataset"))
    assert "no_such_dataset" in line and "no such local dataset path" in line
    local = tmp_path / "ds"
    shutil.copytree(FIX / "hf_monkey", local)
    line = run_cli(capsys, tmp_path, f"hf:{local}:nope")
    assert "BuilderConfig 'nope' not found" in line and "config name" in line
    line = run_cli(capsys, tmp_path, f"hf:{local}@test")
    assert "test" in line and "split" in line


def test_format_specific_requirements(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = run_cli(capsys, tmp_path, str(FIX / "math_gpt-4o-mini_allresults.json"))
    assert "--n-questions" in line
    line = run_cli(capsys, tmp_path, str(FIX / "math_gpt-4o-mini_allresults.json"), "--n-questions", "4")
    assert "not a multiple of --n-questions 4" in line
    line = run_cli(capsys, tmp_path, str(FIX / "math_gpt-4o-mini_allresults.json"), "--n-questions", "3")
    assert "different correct answers across repeats" in line
    line = run_cli(capsys, tmp_path, str(FIX / "activeprompt_k3.txt"))
    assert "--gold FILE" in line
    line = run_cli(capsys, tmp_path, str(FIX / "rollouts.csv"), "--stopping", "sometimes")
    assert "unknown stopping rule" in line


def test_library_errors_are_harness_input_errors(tmp_path: Path) -> None:
    with pytest.raises(HarnessInputError, match="no such file"):
        load(str(tmp_path / "missing.csv"))
    p = tmp_path / "x.weird"
    p.write_text("a")
    with pytest.raises(HarnessInputError, match="--format"):
        load(str(p))


def test_published_aggregate_files_point_to_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "curve.json"
    src.write_text('[{"token_limit": 16, "accuracy": 0.2}, {"token_limit": 32, "accuracy": 0.27}]')
    assert main(["curves", str(src), "--out", "-", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not per-sample logs" in err and "harness audit" in err and err.count("\n") == 1


def test_inspect_errored_sample_names_the_error(tmp_path: Path) -> None:
    log = json.loads((FIX / "inspect_log.json").read_text())
    smp = log["samples"][4]
    del smp["scores"]
    smp["error"] = {"message": "RateLimitError: too many requests\nmore", "traceback": "tb", "traceback_ansi": "tb"}
    p = tmp_path / "log.json"
    p.write_text(json.dumps(log))
    with pytest.raises(HarnessInputError, match=r"sample 's2' epoch 2 ended in an error \(RateLimitError.*eval-retry"):
        load(str(p))


def test_unreachable_hub_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No network in tests: the hub call is replaced by one that fails as datasets does offline."""
    import logging

    import datasets

    def offline(*args: object, **kwargs: object) -> None:
        logging.getLogger("huggingface_hub").warning("Retrying in 1s [Retry 1/5].")
        raise ConnectionError("Couldn't reach 'org/name' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    assert main(["curves", "hf:org/name", "--out", "-", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Hugging Face Hub" in err and "Retrying" not in err
