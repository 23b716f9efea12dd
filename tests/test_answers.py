"""Answer extraction, normalisation, equivalence classes and grading (harness.answers)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness._validation import HarnessInputError
from harness.answers import (
    AnswerRecord,
    _mv_equal,
    answers_equivalent,
    classify,
    extract_answer,
    grade,
    group_answers,
    group_graded,
    math_verify_available,
    normalize_answer,
    reads_as_math,
)
from harness.loaders import LoadOptions, load


@pytest.mark.parametrize(
    ("text", "method", "expected"),
    [
        (r"so we get \boxed{\frac{1}{\sqrt{2}}} as claimed", "boxed", r"\frac{1}{\sqrt{2}}"),
        (r"first \boxed{1} then \boxed{{2}+{3}}", "boxed", "{2}+{3}"),
        (r"\boxed{unclosed", "boxed", None),
        ("Natalia sold 48/2 = 24 clips.\n#### 72", "hash", "72"),
        ("The answer is 18. Then the answer is 20.", "answer-is", "20"),
        ("So the final answer is: $1,000.\nQ: next", "answer-is", "$1,000"),
        ("no number here", "last-number", None),
        ("she had 5 then 7 apples", "last-number", "7"),
        (r"The answer is 3 but \boxed{4}", "auto", "4"),
        ("reasoning... #### 12", "auto", "12"),
        ("It is 3, so the answer is 9.", "auto", "9"),
        ("A: ... Concatenating them is 'yajo'. The answer is yajo.", "esc-letters", "yajo"),
        ("", "esc-letters", None),
        ("So the answer is 05/01/2021.\n\n", "faithful-cot", "05/01/2021"),
        ("no phrase", "faithful-cot", None),
    ],
)
def test_extract_answer(text: str, method: str, expected: str | None) -> None:
    assert extract_answer(text, method) == expected


def test_extract_answer_unknown_method_lists_choices() -> None:
    with pytest.raises(HarnessInputError, match="boxed"):
        extract_answer("x", "nope")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("72", "72"),
        ("72.0", "72"),
        ("$72", "72"),
        ("1,000", "1000"),
        (" 72. ", "72"),
        ("\\$72", "72"),
        ("\\frac{1}{2}", "1/2"),
        ("0.5", "1/2"),
        ("\\dfrac{2}{4}", "1/2"),
        ("\\frac12", "1/2"),
        ("-\\frac{3}{6}", "-1/2"),
        ("$\\frac{1}{2}$", "1/2"),
        ("x = 5", "5"),
        ("\\text{Yes}", "yes"),
        ("50\\%", "50"),
        ("  Hello   World ", "hello world"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_answer(raw: str | None, expected: str | None) -> None:
    assert normalize_answer(raw) == expected


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_integer_spellings_share_one_form(v: int) -> None:
    forms = {normalize_answer(str(v)), normalize_answer(f"{v}.0"), normalize_answer(f"{v:,}")}
    assert forms == {str(v)}


@given(st.text(max_size=30))
def test_normalize_is_idempotent(s: str) -> None:
    once = normalize_answer(s)
    assert normalize_answer(once) == once


@pytest.mark.skipif(not math_verify_available(), reason="math-verify not installed")
def test_math_verify_merges_equivalent_latex_but_not_words_or_dates() -> None:
    labels = group_answers(["\\sqrt{4}", "2", "3", "2.0", None])
    assert labels[0] == labels[1] == labels[3] and labels[2] != labels[1] and labels[4] is None
    # math-verify would read words as symbol products (yajo == yjao) and dates as quotients
    assert len(set(group_answers(["yajo", "yjao"]))) == 2
    assert len(set(group_answers(["05/01/2021", "5/1/2021"]))) == 2
    assert answers_equivalent("\\frac{1}{2}", "0.5")


def test_plain_normaliser_groups_spellings_only() -> None:
    labels = group_answers(["72", "$72", "72.0", "\\sqrt{4}", "2"], normalizer="plain")
    assert labels[:3] == ["72", "72", "72"] and labels[3] != labels[4]
    assert group_answers(["72", "72.0"], normalizer="none") == ["72", "72.0"]


def test_grade_against_gold_and_lists() -> None:
    assert grade("72", "72.0") and grade("1/2", "\\frac{1}{2}") and not grade("71", "72")
    assert grade("b", ["a", "B"]) and not grade(None, "1")


def test_classify_counts_unparsed_and_merged() -> None:
    labels, unparsed, merged = classify(
        ["\\boxed{1/2}", "\\boxed{0.5}", "nothing", "\\boxed{3}"], extractor="boxed"
    )
    assert unparsed == 1 and labels[2] is None and labels[0] == labels[1] == "1/2"
    assert merged == 0  # 1/2 and 0.5 already agree after normalisation
    rec = AnswerRecord("boxed", "math", n_samples=4, n_unparsed=unparsed)
    assert "1 of 4 samples had no parsable answer" in rec.note()


# ----------------------------------------------------------------------------- issue 9, section 2
@pytest.mark.parametrize(
    ("raw", "boxed", "expected"),
    [
        ("72", False, True),
        ("1,000", False, True),
        ("\\frac{1}{2}", False, True),
        ("$x^2+1$", False, True),
        ("x^2+1", True, True),  # from \boxed{}
        ("x^2+1", False, False),  # a bare expression: may be judged by value
        ("(3+4)*5", False, False),  # Countdown-style: never merged with 35
        ("[1, 2]", False, False),
        ("'abc'", False, False),
        ("def f(x):\n    return x", False, False),
        ("yajo", False, False),
        ("05/01/2021", False, False),
        ("10^{10^{10}}", True, False),  # a tower of powers: sympy could run for minutes
        ("1" * 201, True, False),
    ],
)
def test_reads_as_math(raw: str, boxed: bool, expected: bool) -> None:
    assert reads_as_math(raw, boxed=boxed) is expected


def test_code_literals_and_expressions_are_never_merged_and_keep_case() -> None:
    assert normalize_answer("'Abc'") == "'Abc'" and normalize_answer("'abc'") == "'abc'"
    assert normalize_answer("fooBar") == "fooBar" and normalize_answer("Hello World") == "hello world"
    assert normalize_answer("  [1, 2] ") == "[1, 2]"
    labels = group_answers(["(3+4)*5", "35", "5*(4+3)", "'Abc'", "'abc'", "[1, 2]", "[1,2]", "True", "true"])
    assert len(set(labels)) == 9
    assert not answers_equivalent("(3+4)*5", "35") and not answers_equivalent("'A'", "'a'")


@pytest.mark.skipif(not math_verify_available(), reason="math-verify not installed")
def test_math_merges_only_within_fingerprint_buckets() -> None:
    labels = group_answers(
        ["\\sqrt{12}", "2\\sqrt{3}", "\\frac{1}{2}", "0.5", "3", "\\frac{6}{2}", "$x^2+2x$", "$2x+x^2$"]
    )
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[4] == labels[5] and labels[6] == labels[7]
    assert len(set(labels)) == 4


@pytest.mark.skipif(not math_verify_available(), reason="math-verify not installed")
def test_math_verify_is_asked_about_colliding_pairs_only() -> None:
    """100 distinct values: the all-pairs grouping asked math-verify ~5,000 times; bucketing asks none."""
    answers = [f"\\frac{{{i}}}{{{i + 101}}}" for i in range(100)]
    _mv_equal.cache_clear()
    group_answers(answers)
    assert _mv_equal.cache_info().misses == 0
    group_answers(["\\sqrt{4}", "2", "\\frac{4}{2}", "3"])
    assert 1 <= _mv_equal.cache_info().misses <= 3


def test_grades_refuse_a_merge_but_never_form_classes() -> None:
    labels, conflict = group_graded(["\\frac{1}{2}", "0.5", "0.5", "3"], [True, False, False, False])
    assert labels == ["\\frac{1}{2}", "0.5", "0.5", "3"]  # the raw classes
    assert conflict is not None and conflict.right == "\\frac{1}{2}" and conflict.wrong == "0.5"
    assert conflict.option == "none"  # the plain normaliser already maps both to 1/2
    same, none = group_graded(["72", "72.0", "5"], [True, True, False])
    assert none is None and same[0] == same[1]  # agreeing grades: merged, exactly as without grades
    assert same == group_answers(["72", "72.0", "5"])


@pytest.mark.skipif(not math_verify_available(), reason="math-verify not installed")
def test_conflict_from_math_verify_names_the_plain_normaliser() -> None:
    _, conflict = group_graded(["\\sqrt{4}", "2"], [False, True])
    assert conflict is not None and conflict.option == "plain"


def test_progress_and_conflicts_through_a_loader(tmp_path: Path) -> None:
    rows = [{"question_id": q, "answer": a, "correct": c} for q in range(5) for a, c in (("72", True), ("72.0", False))]
    p = tmp_path / "x.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    calls: list[tuple[int, int]] = []
    got = load(str(p), options=LoadOptions(progress=lambda d, t: calls.append((d, t))))
    assert calls == [(i, 5) for i in range(1, 6)]
    assert got.answers is not None and got.answers.n_conflicts == 5
    assert "5 question(s) keep exact answer strings" in got.answers.note()


@pytest.mark.skipif(not math_verify_available(), reason="math-verify not installed")
def test_grouping_in_a_worker_thread_finishes() -> None:
    """Off the main thread math-verify has no timeout; the bomb guard keeps such strings away from it."""
    out: list[list[str | None]] = []
    t = threading.Thread(target=lambda: out.append(group_answers(["10^{10^{10^{10}}}", "\\sqrt{4}", "2"])))
    t.start()
    t.join(timeout=60)
    assert not t.is_alive() and out and out[0][1] == out[0][2] and out[0][0] != out[0][1]


@pytest.mark.skipif(not math_verify_available(), reason="math-verify not installed")
def test_grading_against_gold_is_wider_than_class_forming() -> None:
    """A gold answer may match a bare expression by math-verify (MATH graders do); the two still vote apart."""
    assert grade("1+x^2", "$x^2+1$") and not grade("x^2+2", "$x^2+1$")
    assert len(set(group_answers(["1+x^2", "x^2+1"]))) == 2


def test_grading_never_reads_a_number_out_of_free_text() -> None:
    assert not grade("5. i checked it 3 times", "3") and grade("3", "3.0")
