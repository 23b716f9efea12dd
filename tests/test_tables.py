"""The canonical tables: reduction of rollouts to counts, and errors that name the row, column and fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import HarnessInputError, QuestionCounts, rollouts_to_counts
from harness.tables import concat_counts, counts_from_class_table


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


# ----------------------------------------------------------------------------- several correct answer classes
def test_rollouts_keep_each_correct_answer_as_its_own_class() -> None:
    """Issue 9's example: A (correct, 7), B (correct, 6), W (wrong, 10) are three classes, two of them correct."""
    answers = ["A"] * 7 + ["B"] * 6 + ["W"] * 10 + [None] * 2
    df = pd.DataFrame({
        "question_id": "q1", "answer": answers, "correct": [a in ("A", "B") for a in answers],
    })
    counts = rollouts_to_counts(df)
    assert counts.correct.tolist() == [13]
    assert counts.correct_classes is not None and counts.correct_classes.tolist() == [[7, 6]]
    assert counts.correct_labels is not None and counts.correct_labels.tolist() == [["A", "B"]]
    assert counts.correct_label is not None and counts.correct_label.tolist() == ["A"]
    assert counts.wrong is not None and counts.wrong.tolist() == [[10]]
    assert counts.n_correct_classes.tolist() == [2]
    sizes, is_correct = counts.vote_classes()
    assert sizes.tolist() == [[7, 6, 10]] and is_correct.tolist() == [[True, True, False]]
    assert counts.to_frame()["n_correct_classes"].tolist() == [2]
    assert any("more than one correct answer class" in note for note in counts.notes)


def test_from_classes_ragged_correct_and_concat_keep_the_classes() -> None:
    one = QuestionCounts.from_classes([[3, 5], 2], [[4], [1, 1]], [0, 1])
    assert one.correct.tolist() == [8, 2]
    assert one.correct_classes is not None and one.correct_classes.tolist() == [[5, 3], [2, 0]]
    two = QuestionCounts.from_classes([1], [[2, 2, 2]])
    both = concat_counts([one, two])
    assert both.correct_classes is not None and both.correct_classes.tolist() == [[5, 3], [2, 0], [1, 0]]
    assert both.wrong is not None and both.wrong.tolist() == [[4, 0, 0], [1, 1, 0], [2, 2, 2]]
    assert both.take([2, 0]).correct_classes.tolist() == [[1, 0], [5, 3]]  # type: ignore[union-attr]


def test_correct_classes_must_add_up_to_the_correct_count() -> None:
    with pytest.raises(HarnessInputError, match="correct classes add up to 4"):
        QuestionCounts(
            model=np.array(["m"], object), question_id=np.array(["q"], object), n=np.array([6]),
            correct=np.array([5]), wrong=np.array([[1]]), correct_classes=np.array([[2, 2]]),
        )


def test_counts_from_class_table_orders_classes_and_rejects_a_correct_abstention() -> None:
    classes = pd.DataFrame({
        "model": "m", "question_id": ["a", "a", "a", "b", "b"], "answer": ["x", "y", None, "z", "w"],
        "size": [2, 3, 1, 4, 4], "correct": [True, True, False, False, True],
    })
    counts = counts_from_class_table(classes)
    assert counts.question_id.tolist() == ["a", "b"]
    assert counts.correct_classes.tolist() == [[3, 2], [4, 0]]  # type: ignore[union-attr]
    assert counts.abstain.tolist() == [1, 0]  # type: ignore[union-attr]
    assert counts.n.tolist() == [6, 8]
    bad = classes.assign(correct=[True, True, True, False, True])
    with pytest.raises(HarnessInputError, match="no answer are marked correct"):
        counts_from_class_table(bad)
