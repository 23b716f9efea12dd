"""Answer extraction, normalisation, equivalence classes and grading (harness.answers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness._validation import HarnessInputError
from harness.answers import (
    AnswerRecord,
    answers_equivalent,
    classify,
    extract_answer,
    grade,
    group_answers,
    math_verify_available,
    normalize_answer,
)


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
