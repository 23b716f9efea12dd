"""The canonical tables: reduction of rollouts to counts, and errors that name the row, column and fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import HarnessInputError, QuestionCounts, rollouts_to_counts


def _rollouts() -> pd.DataFrame:
    return pd.DataFrame({
        "question_id": ["q1"] * 6 + ["q2"] * 4,
        "answer": ["7", "7", "8", "9", None, "8", "a", "b", "b", "a"],
        "correct": [True, True, False, False, False, False, False, True, True, False],
    })


def test_rollouts_reduce_to_class_counts() -> None:
    counts = rollouts_to_counts(_rollouts())
    assert counts.question_id.tolist() == ["q1", "q2"]
    assert counts.n.tolist() == [6, 4]
    assert counts.correct.tolist() == [2, 2]
    assert counts.wrong is not None and counts.abstain is not None
    assert counts.wrong.tolist() == [[2, 1], [2, 0]]  # q1: '8' twice, '9' once; q2: 'a' twice
    assert counts.abstain.tolist() == [1, 0]  # the missing answer is wrong and casts no vote
    assert counts.wrong_labels is not None and counts.wrong_labels[0, 0] == "8"
    assert any("no answer" in note for note in counts.notes)


def test_reduction_does_not_depend_on_row_order() -> None:
    df = _rollouts()
    a = rollouts_to_counts(df)
    b = rollouts_to_counts(df.sample(frac=1.0, random_state=3))
    order = np.argsort(b.question_id)
    assert a.wrong is not None and b.wrong is not None
    np.testing.assert_array_equal(a.wrong, b.wrong[order])
    np.testing.assert_array_equal(a.correct, b.correct[order])


def test_answer_marked_correct_and_incorrect_names_question_and_answer() -> None:
    df = _rollouts()
    df.loc[1, "correct"] = False
    with pytest.raises(HarnessInputError, match=r"answer '7' of question 'q1'.*correct in 1 and incorrect in 1"):
        rollouts_to_counts(df, source="log.csv")


def test_duplicate_sample_ids_name_the_row() -> None:
    df = _rollouts().assign(sample_id=[0, 1, 2, 3, 4, 4, 0, 1, 2, 3])
    with pytest.raises(HarnessInputError, match=r"log\.csv, row 5, column 'sample_id': duplicate sample id"):
        rollouts_to_counts(df, source="log.csv")


def test_non_boolean_correctness_lists_accepted_values() -> None:
    df = _rollouts().assign(correct=["yes"] * 9 + ["maybe"])
    with pytest.raises(HarnessInputError, match=r"row 9, column 'correct'.*'maybe'.*accepted: true/false"):
        rollouts_to_counts(df, source="log.csv")


def test_missing_column_lists_present_columns_and_closest_match() -> None:
    df = _rollouts().rename(columns={"correct": "is_correct"})
    with pytest.raises(HarnessInputError, match=r"missing required column 'correct'.*closest match: 'is_correct'"):
        rollouts_to_counts(df, source="log.csv")


def test_count_invariants_are_checked() -> None:
    with pytest.raises(HarnessInputError, match=r"outside 0\.\.n"):
        QuestionCounts.from_binary([5, 5], [2, 6])
    with pytest.raises(HarnessInputError, match="a question with 0 samples"):
        QuestionCounts.from_binary([0], [0])
    with pytest.raises(HarnessInputError, match="add up to"):
        QuestionCounts(model=np.array(["m"]), question_id=np.array(["q"]), n=np.array([5]),
                       correct=np.array([2]), wrong=np.array([[1]]), abstain=np.array([0]))


def test_majority_vote_needs_answer_classes() -> None:
    counts = QuestionCounts.from_binary([10], [3])
    with pytest.raises(HarnessInputError, match="majority vote needs the answer of each sample"):
        counts.class_matrix()
