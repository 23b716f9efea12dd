"""From loader records to canonical tables: answer classes, grading, stopping rules, counts from class tables.

Every format module produces a pandas frame with canonical column names (``question_id``, ``sample_id``,
``text`` or ``answer``, ``correct`` or ``gold``, optional ``tokens``, ``score``, ``group``, ``model``) and
hands it to :func:`finish`, so that extraction, grading, validation and stopping-rule detection are the same
for all.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pandas as pd

from harness._validation import MAX_COUNT, HarnessInputError, closest, to_bool_array
from harness.answers import AnswerRecord, MergeConflict, classify_graded, conflict_warning, grade
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._stopping import resolve_stopping
from harness.tables import QuestionCounts, counts_from_class_table, rollouts_to_counts, validate_rollouts

ALIASES: dict[str, tuple[str, ...]] = {
    "question_id": (
        "question_id",
        "question_idx",
        "problem_idx",
        "problem_id",
        "doc_id",
        "task_id",
        "qid",
        "prompt_idx",
        "question",
        "problem",
    ),
    "sample_id": ("sample_id", "sample_idx", "sample_index", "attempt_idx", "completion_id", "repeat_idx"),
    "model": ("model", "model_name", "model_id"),
    "n": ("n", "n_samples", "num_samples", "n_runs", "num_samples_total"),
    "c": ("c", "n_correct", "num_correct", "num_samples_correct"),
    "count": ("count", "n_answer", "votes", "frequency"),
    "flops_per_sample": ("flops_per_sample", "flops"),
}


def apply_column_map(df: pd.DataFrame, columns: ColumnMap, *, source: str) -> pd.DataFrame:
    """Rename mapped columns to canonical names (missing ones are an error listing what exists)."""
    renames = columns.renames()
    present = [str(c) for c in df.columns]
    for src, canon in renames.items():
        if src not in present:
            hint = closest(src, present)
            fix = f"columns present: {', '.join(present)}"
            if hint is not None:
                fix += f"; closest match: {hint!r}"
            raise HarnessInputError(f"no column {src!r} (given for {canon})", source=source, fix=fix)
    out = df.rename(columns=renames)
    for canon, parts, option in (
        ("question_id", columns.question_parts(), "--question-col"),
        ("model", columns.model_parts(), "--model-col"),
    ):
        if parts:
            out[canon] = _joined_columns(df, parts, present, option=option, source=source)
    return out


def _joined_columns(df: pd.DataFrame, parts: list[str], present: list[str], *, option: str, source: str) -> pd.Series:
    """A composite key ``a/b/...`` from the columns ``parts`` (one missing is an error naming the closest)."""
    for p in parts:
        if p not in present:
            hint = closest(p, present)
            raise HarnessInputError(
                f"no column {p!r} (part of {option})",
                source=source,
                fix=f"columns present: {', '.join(present)}" + (f"; closest match: {hint!r}" if hint else ""),
            )
    key = df[parts[0]].astype(str)
    for p in parts[1:]:
        key = key + "/" + df[p].astype(str)
    return key


def take_alias(df: pd.DataFrame, canon: str, notes: list[str], *, source: str) -> pd.DataFrame:
    """Rename the first known alias of ``canon`` to it when the canonical column is absent (with a note)."""
    if canon in df.columns:
        return df
    for alias in ALIASES.get(canon, ()):
        if alias in df.columns and alias != canon:
            notes.append(f"{os.path.basename(source)}: column {alias!r} read as {canon}")
            return df.rename(columns={alias: canon})
    return df


def apply_answers(
    df: pd.DataFrame,
    options: LoadOptions,
    *,
    source: str,
    default_extractor: str = "auto",
) -> tuple[pd.DataFrame, AnswerRecord | None]:
    """Fill ``answer`` (voting class labels) from ``text`` or raw ``answer``; fill ``correct`` from ``gold``.

    Rows keep their order; unparsable answers become null (wrong, no vote) and are counted in the record.
    """
    has_text = "text" in df.columns
    if not has_text and "answer" not in df.columns:
        if "correct" not in df.columns and "gold" in df.columns:
            raise HarnessInputError(
                "there is a gold answer but no answer or completion column to grade",
                source=source,
                fix="map the column holding each sample's answer with --answer-col (or --text-col)",
            )
        return df, None
    extractor = options.extractor or (default_extractor if has_text else "none")
    col = "text" if has_text else "answer"
    out = df.copy()
    labels: list[str | None] = [None] * len(out)
    unparsed = merged = 0
    keys = ["model", "question_id"] if "model" in out.columns else ["question_id"]
    values = out[col].to_numpy(object)
    graded_by_log = "correct" in out.columns
    if graded_by_log:
        flags = to_bool_array(out["correct"].to_numpy(), source=source, column="correct")
        out["correct"] = flags
    conflicts: list[tuple[str, MergeConflict]] = []
    groups = list(out.groupby(keys, sort=False).indices.values())
    qids = out["question_id"].to_numpy(object)
    for done, idx in enumerate(groups, start=1):
        ii = np.asarray(idx)
        g = classify_graded(
            values[ii].tolist(),
            flags[ii].tolist() if graded_by_log else None,
            extractor=extractor,
            normalizer=options.normalizer,
        )
        if g.conflict is not None:
            conflicts.append((str(qids[ii[0]]), g.conflict))
        if graded_by_log:
            _check_consistent(g.labels, flags[ii], ii, source=source, extractor=extractor)
        for j, v in zip(ii.tolist(), g.labels, strict=True):
            labels[j] = v
        unparsed += g.n_unparsed
        merged += g.n_merged
        if options.progress is not None:
            options.progress(done, len(groups))
    out["answer"] = pd.Series(labels, index=out.index, dtype=object)
    graded = False
    if "correct" not in out.columns:
        if "gold" not in out.columns:
            raise HarnessInputError(
                "the log has neither a correctness column nor a gold answer",
                source=source,
                fix="map the correctness flag with --correct-col, the reference answer with --gold-col, "
                "or give a gold file with --gold",
            )
        cache: dict[tuple[object, str], bool] = {}
        corr = np.zeros(len(out), dtype=bool)
        golds = out["gold"].to_numpy(object)
        for i, (lab, g) in enumerate(zip(labels, golds, strict=True)):
            if lab is None or g is None or (isinstance(g, float) and np.isnan(g)):
                continue
            key = (tuple(g) if isinstance(g, (list, tuple, np.ndarray)) else g, lab)
            if key not in cache:
                cache[key] = grade(
                    lab, list(g) if isinstance(g, np.ndarray) else g, normalizer=options.normalizer
                )
            corr[i] = cache[key]
        out["correct"] = corr
        graded = True
    if has_text:
        out = out.drop(columns=["text"])
    record = AnswerRecord(
        extractor=extractor,
        normalizer=options.normalizer,
        n_samples=len(out),
        n_unparsed=unparsed,
        n_merged=merged,
        graded_against_gold=graded,
        n_conflicts=len(conflicts),
        conflict_example=describe_conflict(*conflicts[0]) if conflicts else None,
    )
    return out, record


def describe_conflict(question: str, c: MergeConflict) -> str:
    """'question q: '1/2' (graded right) and '0.5' (graded wrong); --normalizer plain keeps them apart'."""
    return (
        f"question {question!r}: {c.right[:60]!r} (graded right) and {c.wrong[:60]!r} (graded wrong); "
        f"--normalizer {c.option} keeps such answers apart everywhere"
    )


def _check_consistent(
    labels: list[str | None], flags: np.ndarray, rows: np.ndarray, *, source: str, extractor: str
) -> None:
    """The log must not grade one exact answer string both right and wrong (the input contradicts itself)."""
    first: dict[str, tuple[bool, int]] = {}
    for lab, f, r in zip(labels, flags.tolist(), rows.tolist(), strict=True):
        if lab is None:
            continue
        if lab in first and first[lab][0] != f:
            hint = (
                "vote on whole completions with --extractor none, or choose another extractor"
                if extractor != "none"
                else "fix the grading, or map another answer column with --answer-col"
            )
            raise HarnessInputError(
                f"answer {lab[:80]!r} is graded {'right' if first[lab][0] else 'wrong'} in row {first[lab][1]} "
                f"and {'right' if f else 'wrong'} here",
                source=source,
                row=int(r),
                column="correct",
                fix=f"one answer string is either right or wrong; {hint}",
            )
        first.setdefault(lab, (bool(f), int(r)))


def finish(
    df: pd.DataFrame,
    *,
    source: str,
    fmt: str,
    options: LoadOptions,
    stopping: str | None,
    notes: list[str] | None = None,
    default_extractor: str = "auto",
    keep_rollouts: bool = True,
) -> Loaded:
    """Canonical frame -> validated Rollouts -> QuestionCounts (with answer classes and stopping rule)."""
    notes = list(notes or [])
    if len(df) == 0:
        raise HarnessInputError("the log holds no samples", source=source, fix="it has no rows to count")
    df, record = apply_answers(df, options, source=source, default_extractor=default_extractor)
    drop = [c for c in ("gold",) if c in df.columns]
    rollouts = validate_rollouts(df.drop(columns=drop), source=source)
    rule, rule_notes = resolve_stopping(rollouts, stopping, source=source)
    notes.extend(rule_notes)
    counts = rollouts_to_counts(rollouts, source=source, stopping=rule, validated=True)
    if record is not None:
        notes.insert(0, record.note())
        if record.n_conflicts and record.conflict_example:
            notes.insert(1, conflict_warning(record.n_conflicts, record.conflict_example))
    all_notes = tuple(notes) + tuple(counts.notes)
    counts = replace(counts, notes=all_notes)
    return Loaded(
        counts=counts,
        rollouts=rollouts if keep_rollouts else None,
        source=source,
        format=fmt,
        notes=all_notes,
        answers=record,
    )


def counts_from_classes(
    df: pd.DataFrame,
    *,
    source: str,
    stopping: str | None,
    notes: list[str] | None = None,
) -> QuestionCounts:
    """QuestionCounts from a class table (model, question_id, answer [null: no answer], correct, count).

    Used for answer histograms and for the streaming reduction. Errors: a class both correct and incorrect,
    a class marked correct with no answer, a negative or fractional count, a question with zero samples.
    """
    notes = list(notes or [])
    d = df.copy()
    if "model" not in d.columns:
        d["model"] = "model"
    d["model"] = d["model"].astype(str)
    d["question_id"] = d["question_id"].astype(str)
    cnt = pd.to_numeric(d["count"], errors="coerce")
    bad = (cnt.isna() | (cnt < 0) | (cnt != np.round(cnt)) | ~(cnt.abs() <= MAX_COUNT)).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise HarnessInputError(
            f"count {d['count'].iloc[i]!r} is not a whole number from 0 to 2^53",
            source=source,
            row=i,
            column="count",
            fix="each answer class counts samples",
        )
    d["count"] = cnt.astype(np.int64)
    d["correct"] = to_bool_array(d["correct"].to_numpy(), source=source, column="correct")
    d["answer"] = d["answer"].where(d["answer"].notna(), None)
    answered = d[d["answer"].notna()]
    dup = answered.groupby(["model", "question_id", "answer"], sort=False)["correct"].agg(["min", "max"])
    mixed = dup[dup["min"] != dup["max"]]
    if len(mixed):
        _, q, a = mixed.index[0]
        raise HarnessInputError(
            f"answer {a!r} of question {q!r} is listed both as correct and as incorrect",
            source=source,
            column="correct",
            fix="an answer class is either right or wrong; fix the grading or merge the rows",
        )
    unans_ok = d["answer"].isna() & d["correct"] & (d["count"] > 0)
    if unans_ok.any():
        i = int(np.argmax(unans_ok.to_numpy()))
        raise HarnessInputError(
            "a class with no answer is marked correct",
            source=source,
            row=i,
            column="answer",
            fix="a missing answer counts as wrong",
        )
    keys = ["model", "question_id"]
    agg = (
        d.groupby([*keys, "answer"], sort=False, dropna=False)
        .agg(count=("count", "sum"), correct=("correct", "max"))
        .reset_index()
    )
    base = agg.groupby(keys, sort=False)["count"].sum().reset_index(name="n")
    zero = (base["n"] == 0).to_numpy()
    if zero.any():
        i = int(np.argmax(zero))
        raise HarnessInputError(
            f"question {base['question_id'].iloc[i]!r} has zero samples",
            source=source,
            column="count",
            fix="every question needs at least one sample; drop it or give its counts",
        )
    rows = base[keys].copy()
    if "tokens" in d.columns:
        rows["tokens"] = d.groupby(keys, sort=False)["tokens"].sum(min_count=1).reindex(
            pd.MultiIndex.from_frame(base[keys])
        ).to_numpy(float)
    rule = stopping or "fixed"
    classes = pd.DataFrame({
        "model": agg["model"], "question_id": agg["question_id"], "answer": agg["answer"],
        "size": agg["count"].to_numpy(np.int64), "correct": agg["correct"].to_numpy(bool) & agg["answer"].notna(),
    })
    return counts_from_class_table(classes, rows=rows, stopping=rule, source=source, notes=notes)
