"""The canonical tables: Rollouts (one row per sample, a DataFrame) and QuestionCounts (the sufficient statistic).

QuestionCounts holds, per (model, question), the number of samples ``n``, the number of correct samples, the counts
of each correct answer class and of each wrong answer class (each sorted descending, zero padded) and the number of
samples with no answer. Classes are formed by the answer normaliser alone, identically for right and wrong answers,
so a question may have several correct classes (several strings a grader accepts); each is its own vote. A missing
answer is a sample that is wrong and casts no vote. When answers are unknown (count tables), ``wrong`` is None and
only pass@k-type metrics are defined; majority vote needs the answer classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness._validation import HarnessInputError, check_counts, require_columns, to_bool_array

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

ROLLOUT_COLUMNS: tuple[str, ...] = (
    "model", "question_id", "sample_id", "answer", "correct", "tokens", "score", "group", "budget", "flops",
)
"""Canonical Rollouts columns; ``question_id`` and ``correct`` are required, the rest optional."""

FIXED = "fixed"
"""Stopping rule: n was fixed in advance (c/n is an unbiased binomial estimate)."""


def first_success_block(block: int) -> str:
    """Stopping rule label: samples drawn in blocks of ``block``, stopping after the first block with a success."""
    return f"first-success-block:{int(block)}"


def parse_stopping(rule: str) -> tuple[str, int | None]:
    """('fixed', None), ('first-success-block', B) or ('adaptive', None) from a stopping-rule label."""
    if rule == FIXED or rule == "adaptive":
        return rule, None
    if rule.startswith("first-success-block"):
        _, _, b = rule.replace("=", ":").partition(":")
        if b.isdigit() and int(b) > 0:
            return "first-success-block", int(b)
    raise HarnessInputError(
        f"unknown stopping rule {rule!r}", fix="use 'fixed', 'adaptive' or 'first-success-block=B' (B samples a block)"
    )


@dataclass(frozen=True, eq=False)
class QuestionCounts:
    """Per (model, question) answer-class counts: the sufficient statistic for every exchangeable-sample metric.

    Arrays are aligned by row (one row per model and question). ``wrong[i]`` lists the sizes of the wrong answer
    classes of row i in descending order, padded with zeros; ``correct_classes[i]`` does the same for the correct
    classes (several strings a grader accepts split the vote); ``abstain[i]`` counts samples with no answer.
    ``correct == correct_classes.sum(1)`` and ``n == correct + wrong.sum(1) + abstain`` whenever ``wrong`` is not
    None. Without ``correct_classes`` every row has one correct class holding all its correct samples.
    """

    model: ObjArray
    question_id: ObjArray
    n: IntArray
    correct: IntArray
    wrong: IntArray | None = None
    abstain: IntArray | None = None
    tokens: FloatArray | None = None
    """Total tokens over the row's n samples (NaN where unknown)."""
    flops_per_sample: FloatArray | None = None
    stopping: ObjArray | None = None
    """Stopping-rule label per row (``fixed`` unless the log says otherwise)."""
    correct_label: ObjArray | None = None
    wrong_labels: ObjArray | None = None
    """(Q, W) labels of the wrong classes aligned with ``wrong`` ('' for padding)."""
    correct_classes: IntArray | None = None
    """(Q, C) sizes of the correct answer classes, descending, zero padded (None when answers are unknown)."""
    correct_labels: ObjArray | None = None
    """(Q, C) labels of the correct classes aligned with ``correct_classes`` ('' for padding)."""
    notes: tuple[str, ...] = field(default=())
    """What the loader excluded or decided, in words, for the report."""

    def __post_init__(self) -> None:
        q = len(self.n)
        n, c = check_counts(self.n, self.correct)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "correct", c)
        for name in ("model", "question_id"):
            arr = np.asarray(getattr(self, name), dtype=object)
            if arr.shape != (q,):
                raise HarnessInputError(f"{name} has {arr.shape} entries for {q} questions")
            object.__setattr__(self, name, arr)
        if self.wrong is not None:
            w = np.asarray(self.wrong, dtype=np.int64).reshape(q, -1)
            if (w < 0).any():
                raise HarnessInputError("negative wrong-class count")
            w = -np.sort(-w, axis=1)
            object.__setattr__(self, "wrong", w)
            ab = np.zeros(q, np.int64) if self.abstain is None else np.asarray(self.abstain, np.int64)
            object.__setattr__(self, "abstain", ab)
            self._set_correct_classes(c)
            total = c + w.sum(axis=1) + ab
            if (total != n).any():
                i = int(np.argmax(total != n))
                raise HarnessInputError(
                    f"class counts add up to {int(total[i])} but n={int(n[i])}", row=i,
                    fix="n must equal correct + wrong classes + unanswered",
                )
        else:
            if self.correct_classes is not None:
                raise HarnessInputError(
                    "correct answer classes given without the wrong classes",
                    fix="give every answer class (right and wrong) or only the correct counts",
                )
            if self.abstain is not None:
                object.__setattr__(self, "abstain", np.asarray(self.abstain, np.int64))
        for name in ("tokens", "flops_per_sample"):
            val = getattr(self, name)
            object.__setattr__(self, name, np.full(q, np.nan) if val is None else np.asarray(val, np.float64))
        stop = np.full(q, FIXED, dtype=object) if self.stopping is None else np.asarray(self.stopping, object)
        for rule in set(stop.tolist()):
            parse_stopping(str(rule))
        object.__setattr__(self, "stopping", stop)

    def _set_correct_classes(self, c: IntArray) -> None:
        """Validate ``correct_classes`` (default: one class of size c per row) and sort it with its labels."""
        q = len(c)
        if self.correct_classes is None:
            cc = c[:, None].copy()
            labels = None if self.correct_label is None else np.asarray(self.correct_label, object)[:, None].copy()
        else:
            cc = np.asarray(self.correct_classes, dtype=np.int64).reshape(q, -1)
            labels = None if self.correct_labels is None else np.asarray(self.correct_labels, object).reshape(q, -1)
        if (cc < 0).any():
            raise HarnessInputError("negative correct-class count")
        if (cc.sum(axis=1) != c).any():
            i = int(np.argmax(cc.sum(axis=1) != c))
            raise HarnessInputError(
                f"correct classes add up to {int(cc[i].sum())} but the correct count is {int(c[i])}", row=i,
                fix="the correct count must equal the sum of the correct answer classes",
            )
        order = np.argsort(-cc, axis=1, kind="stable")
        cc = np.take_along_axis(cc, order, axis=1)
        object.__setattr__(self, "correct_classes", cc)
        if labels is not None:
            labels = np.take_along_axis(labels, order, axis=1)
            labels[cc == 0] = ""
            object.__setattr__(self, "correct_labels", labels)
            if self.correct_label is None and cc.shape[1]:
                top = labels[:, 0].copy()
                top[cc[:, 0] == 0] = None
                object.__setattr__(self, "correct_label", top)

    # ----------------------------------------------------------------- derived quantities
    @property
    def n_questions(self) -> int:
        return len(self.n)

    @property
    def answers_known(self) -> bool:
        """True when the wrong-answer classes are known (majority vote is defined)."""
        return self.wrong is not None

    @property
    def p_hat(self) -> FloatArray:
        """Per-row share of correct samples c/n (biased under an outcome-dependent stopping rule)."""
        return self.correct / self.n

    @property
    def models(self) -> list[str]:
        """Model names in order of first appearance."""
        return list(dict.fromkeys(self.model.tolist()))

    @property
    def fixed_n(self) -> bool:
        """True when every row's n was fixed in advance."""
        assert self.stopping is not None
        return bool(np.all(self.stopping == FIXED))

    @property
    def n_correct_classes(self) -> IntArray:
        """Number of distinct correct answer classes per row (0 or 1 when answers are unknown: c > 0)."""
        if self.correct_classes is None:
            return (self.correct > 0).astype(np.int64)
        counts: IntArray = (self.correct_classes > 0).sum(axis=1).astype(np.int64)
        return counts

    def vote_classes(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """(Q, C + W) voting class sizes and whether each is correct: the correct classes first, then the wrong.

        Abstentions (no answer) are excluded: they cast no vote. Padding columns have size 0.
        """
        self.class_matrix()  # raises the usual error when answers are unknown
        assert self.correct_classes is not None and self.wrong is not None
        sizes = np.concatenate([self.correct_classes, self.wrong], axis=1)
        is_correct = np.zeros(sizes.shape, dtype=bool)
        is_correct[:, : self.correct_classes.shape[1]] = True
        return sizes, is_correct

    def class_matrix(self) -> IntArray:
        """(Q, 1 + W) counts: column 0 all correct samples pooled, then the wrong classes (abstentions excluded).

        Pooling the correct classes is right for pass@k-type metrics, not for majority vote: use
        :meth:`vote_classes` there.
        """
        if self.wrong is None:
            raise HarnessInputError(
                "majority vote needs the answer of each sample, but this table has only correct counts",
                fix="load per-sample answers or an answer histogram, or use pass@k-type metrics",
            )
        return np.concatenate([self.correct[:, None], self.wrong], axis=1)

    def top_wrong(self) -> IntArray:
        """Size of the strongest wrong class per row (0 when none or unknown)."""
        if self.wrong is None or self.wrong.shape[1] == 0:
            return np.zeros(self.n_questions, np.int64)
        return self.wrong[:, 0].copy()

    def take(self, rows: npt.ArrayLike) -> QuestionCounts:
        """The sub-table of the given row indices or boolean mask."""
        idx = np.arange(self.n_questions)[np.asarray(rows)]

        def sub(a: Any) -> Any:
            return None if a is None else a[idx]

        return replace(
            self,
            model=self.model[idx], question_id=self.question_id[idx], n=self.n[idx], correct=self.correct[idx],
            wrong=sub(self.wrong), abstain=sub(self.abstain), tokens=sub(self.tokens),
            flops_per_sample=sub(self.flops_per_sample), stopping=sub(self.stopping),
            correct_label=sub(self.correct_label), wrong_labels=sub(self.wrong_labels),
            correct_classes=sub(self.correct_classes), correct_labels=sub(self.correct_labels),
        )

    def select(self, model: str) -> QuestionCounts:
        """Rows of one model."""
        mask = self.model == model
        if not mask.any():
            raise HarnessInputError(f"no model {model!r}", fix=f"models present: {', '.join(self.models)}")
        return self.take(mask)

    def mean_tokens_per_sample(self) -> float:
        """Mean tokens per sample over rows with token counts (NaN when none)."""
        assert self.tokens is not None
        ok = np.isfinite(self.tokens)
        return float(self.tokens[ok].sum() / self.n[ok].sum()) if ok.any() else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per (model, question): n, c, p_hat, wrong-class summary, tokens, stopping rule."""
        df = pd.DataFrame({
            "model": self.model, "question_id": self.question_id, "n": self.n, "c": self.correct,
            "p_hat": self.p_hat,
        })
        if self.wrong is not None:
            assert self.abstain is not None
            df["n_correct_classes"] = self.n_correct_classes
            df["n_wrong_classes"] = (self.wrong > 0).sum(axis=1)
            df["top_wrong"] = self.top_wrong()
            df["unanswered"] = self.abstain
            if self.wrong_labels is not None and self.wrong_labels.shape[1] > 0:
                df["top_wrong_answer"] = self.wrong_labels[:, 0]
        if self.correct_label is not None:
            df["correct_answer"] = self.correct_label
        df["tokens"] = self.tokens
        df["flops_per_sample"] = self.flops_per_sample
        df["stopping"] = self.stopping
        return df

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_binary(
        cls, n: npt.ArrayLike, c: npt.ArrayLike, *, model: str | Sequence[str] = "model",
        question_id: Sequence[Any] | None = None, **kwargs: Any,
    ) -> QuestionCounts:
        """Counts with only the number of correct samples known (no answer classes)."""
        n_arr, c_arr = check_counts(n, c)
        q = len(n_arr)
        models = np.full(q, model, dtype=object) if isinstance(model, str) else np.asarray(model, object)
        qids = np.arange(q).astype(str).astype(object) if question_id is None else np.asarray(question_id, object)
        return cls(model=models, question_id=qids, n=n_arr, correct=c_arr, **kwargs)

    @classmethod
    def from_classes(
        cls, correct: npt.ArrayLike | Sequence[Sequence[int]], wrong: Sequence[Sequence[int]] | npt.NDArray[np.int64],
        abstain: npt.ArrayLike | None = None, *, model: str = "model", **kwargs: Any,
    ) -> QuestionCounts:
        """Counts from the class sizes per question (ragged lists allowed).

        ``correct`` is one correct-class size per question, or a list of correct-class sizes per question when a
        grader accepts several distinct answers (each its own vote).
        """
        items: list[Any] = [] if isinstance(correct, np.ndarray) else list(correct)  # type: ignore[arg-type]
        if any(isinstance(r, (list, tuple)) for r in items):
            cc = _ragged_matrix([list(r) if isinstance(r, (list, tuple)) else [int(r)] for r in items])
            c_arr = cc.sum(axis=1)
        else:
            c_arr = np.atleast_1d(np.asarray(correct, dtype=np.int64))
            cc = c_arr[:, None]
        q = len(c_arr)
        w = wrong.astype(np.int64).reshape(q, -1) if isinstance(wrong, np.ndarray) else _ragged_matrix(wrong, rows=q)
        ab = np.zeros(q, np.int64) if abstain is None else np.atleast_1d(np.asarray(abstain, np.int64))
        n = c_arr + w.sum(axis=1) + ab
        return cls(
            model=np.full(q, model, dtype=object), question_id=np.arange(q).astype(str).astype(object),
            n=n, correct=c_arr, wrong=w, abstain=ab, correct_classes=cc, **kwargs,
        )


def _ragged_matrix(lists_in: Sequence[Sequence[int]], *, rows: int | None = None) -> IntArray:
    """Zero-padded (len(rows), max width) matrix from ragged lists of counts."""
    lists = [list(r) for r in lists_in]
    if rows is not None and len(lists) != rows:
        raise HarnessInputError(f"{len(lists)} rows of wrong classes for {rows} questions")
    width = max((len(r) for r in lists), default=0)
    out = np.zeros((len(lists), width), np.int64)
    for i, r in enumerate(lists):
        out[i, : len(r)] = r
    return out


def concat_counts(tables: Sequence[QuestionCounts]) -> QuestionCounts:
    """Stack several QuestionCounts (e.g. one per input file); answer classes kept only if all have them."""
    if not tables:
        raise HarnessInputError("no input tables")
    if len(tables) == 1:
        return tables[0]
    known = all(t.wrong is not None for t in tables)

    def cat(name: str) -> Any:
        return np.concatenate([getattr(t, name) for t in tables])

    def cat_padded(sizes: str, labels: str) -> tuple[IntArray | None, ObjArray | None]:
        if not known:
            return None, None
        mats = [getattr(t, sizes) for t in tables]
        width = max(m.shape[1] for m in mats)
        w = np.zeros((sum(len(m) for m in mats), width), np.int64)
        lab = np.full(w.shape, "", dtype=object)
        row = 0
        for t, m in zip(tables, mats, strict=True):
            w[row : row + len(m), : m.shape[1]] = m
            if getattr(t, labels) is not None:
                lab[row : row + len(m), : m.shape[1]] = getattr(t, labels)
            row += len(m)
        return w, lab

    wrong, wrong_labels = cat_padded("wrong", "wrong_labels")
    correct_classes, correct_labels = cat_padded("correct_classes", "correct_labels")
    labels = [t.correct_label for t in tables]
    return QuestionCounts(
        model=cat("model"), question_id=cat("question_id"), n=cat("n"), correct=cat("correct"),
        wrong=wrong, abstain=cat("abstain") if known else None, tokens=cat("tokens"),
        flops_per_sample=cat("flops_per_sample"), stopping=cat("stopping"),
        correct_label=np.concatenate(labels) if all(lab is not None for lab in labels) else None,  # type: ignore[arg-type]
        wrong_labels=wrong_labels, correct_classes=correct_classes, correct_labels=correct_labels,
        notes=tuple(n for t in tables for n in t.notes),
    )


def _pack_classes(pos: IntArray, size: IntArray, label: ObjArray, q: int) -> tuple[IntArray, ObjArray]:
    """Place classes (row position, size, label) into a (q, width) matrix, each row sorted by (-size, label)."""
    order = np.lexsort((label.astype(str), -size, pos))
    return pack_sorted_classes(pos[order], size[order], label[order], q)


def class_notes(notes: Sequence[str], abstain: IntArray, n: IntArray, correct_classes: IntArray) -> list[str]:
    """The notes of a class table: unanswered samples, and questions with more than one correct class."""
    all_notes = list(notes)
    if abstain.sum():
        all_notes.append(f"{int(abstain.sum())} of {int(n.sum())} samples have no answer: counted as wrong, no vote")
    multi = int(((correct_classes > 0).sum(axis=1) > 1).sum())
    if multi:
        q = correct_classes.shape[0]
        all_notes.append(
            f"{multi} of {q} questions have more than one correct answer class: each is its own vote in maj@k"
        )
    return all_notes


def pack_sorted_classes(pos: IntArray, size: IntArray, label: ObjArray, q: int) -> tuple[IntArray, ObjArray]:
    """Classes already ordered by row and, within a row, as they should appear, into (q, width) size and label
    matrices."""
    per_row = np.bincount(pos, minlength=q)
    width = int(per_row.max()) if len(per_row) else 0
    starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.int64)
    col = np.arange(len(pos)) - starts[pos]
    sizes = np.zeros((q, width), np.int64)
    sizes[pos, col] = size
    labels = np.full((q, width), "", dtype=object)
    labels[pos, col] = label
    return sizes, labels


def counts_from_class_table(
    classes: pd.DataFrame, *, rows: pd.DataFrame | None = None, stopping: str = FIXED, source: str | None = None,
    notes: Sequence[str] = (),
) -> QuestionCounts:
    """QuestionCounts from one row per (model, question, answer class): the reduction's output.

    ``classes`` has columns ``model``, ``question_id``, ``answer`` (null: the samples with no answer), ``size``
    (samples in the class) and ``correct`` (bool: the class is graded right); (model, question, answer) must be
    unique. Classes are kept as given: each correct class is its own vote. ``rows`` (optional, one row per (model,
    question), any order) adds ``tokens`` (total over the row's samples, NaN unknown) and ``flops_per_sample``.
    Rows appear in order of first appearance in ``classes``.
    """
    parse_stopping(stopping)
    keys = ["model", "question_id"]
    require_columns(list(classes.columns), (*keys, "answer", "size", "correct"), source=source)
    d = classes[classes["size"] > 0]
    base = d[keys].drop_duplicates().reset_index(drop=True)
    q = len(base)
    if q == 0:
        raise HarnessInputError("the table has no samples", source=source, fix="the input holds no answered rows")
    row_index = pd.MultiIndex.from_frame(base)
    pos = row_index.get_indexer(pd.MultiIndex.from_frame(d[keys])).astype(np.int64)
    size = d["size"].to_numpy(np.int64)
    is_none = d["answer"].isna().to_numpy()
    is_corr = d["correct"].to_numpy(bool)
    if (is_none & is_corr).any():
        i = int(np.argmax(is_none & is_corr))
        raise HarnessInputError(
            f"samples with no answer are marked correct (question {d['question_id'].iloc[i]!r})", source=source,
            column="answer", fix="a missing answer counts as wrong; give the answer or mark the sample incorrect",
        )
    labels = d["answer"].to_numpy(object)
    abstain = np.bincount(pos[is_none], weights=size[is_none], minlength=q).astype(np.int64)
    correct_classes, correct_labels = _pack_classes(pos[is_corr], size[is_corr], labels[is_corr], q)
    w = ~is_corr & ~is_none
    wrong, wrong_labels = _pack_classes(pos[w], size[w], labels[w], q)
    if correct_classes.shape[1] == 0:
        correct_classes = np.zeros((q, 1), np.int64)
        correct_labels = np.full((q, 1), "", dtype=object)
    correct = correct_classes.sum(axis=1)
    n = correct + wrong.sum(axis=1) + abstain
    extra: dict[str, Any] = {}
    if rows is not None:
        aligned = rows.set_index(keys).reindex(row_index)
        for name in ("tokens", "flops_per_sample"):
            if name in aligned.columns:
                extra[name] = aligned[name].to_numpy(np.float64)
    all_notes = class_notes(notes, abstain, n, correct_classes)
    return QuestionCounts(
        model=base["model"].to_numpy(object), question_id=base["question_id"].to_numpy(object), n=n,
        correct=correct, wrong=wrong, abstain=abstain, stopping=np.full(q, stopping, dtype=object),
        correct_classes=correct_classes, correct_labels=correct_labels, wrong_labels=wrong_labels,
        notes=tuple(all_notes), **extra,
    )


# --------------------------------------------------------------------------- Rollouts
def validate_rollouts(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a Rollouts table and return it with canonical dtypes (a copy; the input is not modified).

    Required: ``question_id``, ``correct``. Optional: ``model``, ``sample_id``, ``answer`` (null = no answer),
    ``tokens``, ``score``, ``group``, ``budget``, ``flops``. Errors name the row and column.
    """
    require_columns(list(df.columns), ("question_id", "correct"), source=source)
    if len(df) == 0:
        raise HarnessInputError("the table has no rows", source=source, fix="the file holds no samples")
    out = df.copy()
    if "model" not in out.columns:
        out["model"] = "model"
    out["model"] = out["model"].astype(str)
    qnull = out["question_id"].isna().to_numpy()
    if qnull.any():
        raise HarnessInputError("empty question id", source=source, row=int(np.argmax(qnull)), column="question_id")
    out["question_id"] = out["question_id"].astype(str)
    out["correct"] = to_bool_array(out["correct"].to_numpy(), source=source, column="correct")
    if "sample_id" not in out.columns:
        out["sample_id"] = out.groupby(["model", "question_id"], sort=False).cumcount()
    dup = out.duplicated(["model", "question_id", "sample_id"]).to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise HarnessInputError(
            f"duplicate sample id {out['sample_id'].iloc[i]!r} for question {out['question_id'].iloc[i]!r}",
            source=source, row=i, column="sample_id",
            fix="each (model, question, sample) must appear once; drop the repeated row or fix its id",
        )
    for name in ("tokens", "score", "flops", "budget"):
        if name in out.columns:
            vals = pd.to_numeric(out[name], errors="coerce")
            bad = (vals.isna() & out[name].notna()).to_numpy()
            if bad.any():
                i = int(np.argmax(bad))
                raise HarnessInputError(
                    f"{out[name].iloc[i]!r} is not a number", source=source, row=i, column=name,
                )
            out[name] = vals.astype(float)
    if "answer" in out.columns:
        ans = out["answer"]
        out["answer"] = ans.where(ans.isna(), ans.astype(str)).astype(object)
        out.loc[out["answer"].isna(), "answer"] = None
    return out


def rollouts_to_counts(
    df: pd.DataFrame, *, source: str | None = None, stopping: str = FIXED, validated: bool = False
) -> QuestionCounts:
    """Reduce a Rollouts table to QuestionCounts.

    Answer classes come from the ``answer`` column (already normalised); a null answer is wrong and casts no
    vote. An answer marked correct in some rows and incorrect in others is an error naming question and answer.
    Without an ``answer`` column (or with every answer null) only correct counts are kept.
    """
    parse_stopping(stopping)
    r = df if validated else validate_rollouts(df, source=source)
    keys = ["model", "question_id"]
    grouped = r.groupby(keys, sort=False)
    base = grouped.agg(n=("correct", "size"), c=("correct", "sum")).reset_index()
    q = len(base)
    tokens = None
    if "tokens" in r.columns:  # total per row; NaN unless every sample of the row has a token count
        has_all = grouped["tokens"].count().to_numpy() == base["n"].to_numpy()
        tokens = np.where(has_all, grouped["tokens"].sum().to_numpy(), np.nan)
    flops = grouped["flops"].mean().to_numpy() if "flops" in r.columns else None
    has_answers = "answer" in r.columns and r["answer"].notna().any()
    if not has_answers:
        return QuestionCounts(
            model=base["model"].to_numpy(object), question_id=base["question_id"].to_numpy(object),
            n=base["n"].to_numpy(), correct=base["c"].to_numpy(), tokens=tokens, flops_per_sample=flops,
            stopping=np.full(q, stopping, dtype=object),
        )
    wrong_ok = r["answer"].isna() & r["correct"]
    if wrong_ok.any():
        i = int(np.argmax(wrong_ok.to_numpy()))
        raise HarnessInputError(
            "a sample with no answer is marked correct", source=source, row=i, column="answer",
            fix="a missing answer counts as wrong; give the answer or mark the sample incorrect",
        )
    cls = r.groupby([*keys, "answer"], sort=False, dropna=False)["correct"].agg(["size", "sum"]).reset_index()
    mixed = (cls["sum"] > 0) & (cls["sum"] < cls["size"])
    if mixed.any():
        row = cls[mixed].iloc[0]
        raise HarnessInputError(
            f"answer {row['answer']!r} of question {row['question_id']!r} is marked correct in {int(row['sum'])} "
            f"and incorrect in {int(row['size'] - row['sum'])} samples",
            source=source, column="correct",
            fix="an answer class is either right or wrong; fix the grading or the answer normalisation",
        )
    classes = pd.DataFrame({
        "model": cls["model"], "question_id": cls["question_id"], "answer": cls["answer"],
        "size": cls["size"].to_numpy(np.int64), "correct": cls["sum"].to_numpy() > 0,
    })
    rows = base[keys].copy()
    if tokens is not None:
        rows["tokens"] = tokens
    if flops is not None:
        rows["flops_per_sample"] = flops
    counts = counts_from_class_table(classes, rows=rows, stopping=stopping, source=source)
    # keep the row order of first appearance in the rollouts (counts_from_class_table orders by class rows)
    order = pd.MultiIndex.from_frame(pd.DataFrame({"model": counts.model, "question_id": counts.question_id}))
    return counts.take(order.get_indexer(pd.MultiIndex.from_frame(base[keys])))
