"""The canonical tables: Rollouts (one row per sample, a DataFrame) and QuestionCounts (the sufficient statistic).

QuestionCounts holds, per (model, question), the number of samples ``n``, the number of correct samples, the counts
of each wrong answer class (sorted descending, zero padded) and the number of samples with no answer. A missing
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
    classes of row i in descending order, padded with zeros; ``abstain[i]`` counts samples with no answer.
    ``n == correct + wrong.sum(1) + abstain`` whenever ``wrong`` is not None.
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
            total = c + w.sum(axis=1) + ab
            if (total != n).any():
                i = int(np.argmax(total != n))
                raise HarnessInputError(
                    f"class counts add up to {int(total[i])} but n={int(n[i])}", row=i,
                    fix="n must equal correct + wrong classes + unanswered",
                )
        elif self.abstain is not None:
            object.__setattr__(self, "abstain", np.asarray(self.abstain, np.int64))
        for name in ("tokens", "flops_per_sample"):
            val = getattr(self, name)
            object.__setattr__(self, name, np.full(q, np.nan) if val is None else np.asarray(val, np.float64))
        stop = np.full(q, FIXED, dtype=object) if self.stopping is None else np.asarray(self.stopping, object)
        for rule in set(stop.tolist()):
            parse_stopping(str(rule))
        object.__setattr__(self, "stopping", stop)

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

    def class_matrix(self) -> IntArray:
        """(Q, 1 + W) counts: column 0 the correct class, then the wrong classes (abstentions excluded)."""
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
        cls, correct: npt.ArrayLike, wrong: Sequence[Sequence[int]] | npt.NDArray[np.int64],
        abstain: npt.ArrayLike | None = None, *, model: str = "model", **kwargs: Any,
    ) -> QuestionCounts:
        """Counts from the correct-class size and the wrong-class sizes per question (ragged lists allowed)."""
        c_arr = np.atleast_1d(np.asarray(correct, dtype=np.int64))
        q = len(c_arr)
        if isinstance(wrong, np.ndarray):
            w = wrong.astype(np.int64).reshape(q, -1)
        else:
            rows = [list(r) for r in wrong]
            width = max((len(r) for r in rows), default=0)
            w = np.zeros((q, width), np.int64)
            for i, r in enumerate(rows):
                w[i, : len(r)] = r
        ab = np.zeros(q, np.int64) if abstain is None else np.atleast_1d(np.asarray(abstain, np.int64))
        n = c_arr + w.sum(axis=1) + ab
        return cls(
            model=np.full(q, model, dtype=object), question_id=np.arange(q).astype(str).astype(object),
            n=n, correct=c_arr, wrong=w, abstain=ab, **kwargs,
        )


def concat_counts(tables: Sequence[QuestionCounts]) -> QuestionCounts:
    """Stack several QuestionCounts (e.g. one per input file); answer classes kept only if all have them."""
    if not tables:
        raise HarnessInputError("no input tables")
    if len(tables) == 1:
        return tables[0]
    known = all(t.wrong is not None for t in tables)
    width = max(t.wrong.shape[1] for t in tables if t.wrong is not None) if known else 0

    def pad(t: QuestionCounts) -> tuple[IntArray, ObjArray]:
        assert t.wrong is not None
        w = np.zeros((t.n_questions, width), np.int64)
        w[:, : t.wrong.shape[1]] = t.wrong
        lab = np.full((t.n_questions, width), "", dtype=object)
        if t.wrong_labels is not None:
            lab[:, : t.wrong_labels.shape[1]] = t.wrong_labels
        return w, lab

    padded = [pad(t) for t in tables] if known else []

    def cat(name: str) -> Any:
        return np.concatenate([getattr(t, name) for t in tables])

    labels = [t.correct_label for t in tables]
    return QuestionCounts(
        model=cat("model"), question_id=cat("question_id"), n=cat("n"), correct=cat("correct"),
        wrong=np.concatenate([p[0] for p in padded]) if known else None,
        abstain=cat("abstain") if known else None, tokens=cat("tokens"), flops_per_sample=cat("flops_per_sample"),
        stopping=cat("stopping"),
        correct_label=np.concatenate(labels) if all(lab is not None for lab in labels) else None,  # type: ignore[arg-type]
        wrong_labels=np.concatenate([p[1] for p in padded]) if known else None,
        notes=tuple(n for t in tables for n in t.notes),
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
    answered = r[r["answer"].notna()]
    cls = answered.groupby([*keys, "answer"], sort=False)["correct"].agg(["size", "sum"]).reset_index()
    mixed = (cls["sum"] > 0) & (cls["sum"] < cls["size"])
    if mixed.any():
        row = cls[mixed].iloc[0]
        raise HarnessInputError(
            f"answer {row['answer']!r} of question {row['question_id']!r} is marked correct in {int(row['sum'])} "
            f"and incorrect in {int(row['size'] - row['sum'])} samples",
            source=source, column="correct",
            fix="an answer class is either right or wrong; fix the grading or the answer normalisation",
        )
    wrong_ok = r["answer"].isna() & r["correct"]
    if wrong_ok.any():
        i = int(np.argmax(wrong_ok.to_numpy()))
        raise HarnessInputError(
            "a sample with no answer is marked correct", source=source, row=i, column="answer",
            fix="a missing answer counts as wrong; give the answer or mark the sample incorrect",
        )
    row_index = pd.MultiIndex.from_frame(base[keys])
    pos = row_index.get_indexer(pd.MultiIndex.from_frame(cls[keys]))
    is_corr = cls["sum"].to_numpy() > 0
    sizes = cls["size"].to_numpy()
    labels = cls["answer"].to_numpy(object)
    n_abstain = base["n"].to_numpy() - np.bincount(pos, weights=sizes, minlength=q).astype(np.int64)
    corr_label = np.full(q, None, dtype=object)
    corr_label[pos[is_corr]] = labels[is_corr]
    # wrong classes: sort by (row, -size) and place them into a padded matrix
    wpos, wsize, wlab = pos[~is_corr], sizes[~is_corr], labels[~is_corr]
    order = np.lexsort((wlab.astype(str), -wsize, wpos))
    wpos, wsize, wlab = wpos[order], wsize[order], wlab[order]
    per_row = np.bincount(wpos, minlength=q)
    width = int(per_row.max()) if len(per_row) else 0
    starts = np.concatenate([[0], np.cumsum(per_row)[:-1]])
    col = np.arange(len(wpos)) - starts[wpos]
    wrong = np.zeros((q, width), np.int64)
    wrong[wpos, col] = wsize
    wlabels = np.full((q, width), "", dtype=object)
    wlabels[wpos, col] = wlab
    notes: tuple[str, ...] = ()
    total_abstain = int(n_abstain.sum())
    if total_abstain:
        notes = (f"{total_abstain} of {len(r)} samples have no answer: counted as wrong, casting no vote",)
    return QuestionCounts(
        model=base["model"].to_numpy(object), question_id=base["question_id"].to_numpy(object),
        n=base["n"].to_numpy(), correct=base["c"].to_numpy(), wrong=wrong, abstain=n_abstain,
        tokens=tokens, flops_per_sample=flops, stopping=np.full(q, stopping, dtype=object),
        correct_label=corr_label, wrong_labels=wlabels, notes=notes,
    )
