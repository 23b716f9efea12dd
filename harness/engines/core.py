"""Run the reduction on an engine and finish it in Python: errors naming file and row, answer normalisation on the
distinct (model, question, raw answer) rows only, the stopping rule, and :func:`counts_from_class_table`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import (
    AnswerRecord,
    MergeConflict,
    classify_graded,
    conflict_warning,
    extract_answer,
    math_verify_available,
    normalize_answer,
)
from harness.engines.sources import Inputs, expand_inputs, resolve_spec
from harness.engines.sql import BAD_ROW_CONDITIONS, Spec, duplicate_bucket_sql, duplicate_in_sql, duplicate_sql
from harness.loaders._base import ColumnMap
from harness.loaders._build import describe_conflict
from harness.loaders._stopping import first_block_warning, varying_n_notes
from harness.tables import FIXED, QuestionCounts, counts_from_class_table, parse_stopping

ENGINES: tuple[str, ...] = ("duckdb", "spark", "memory")
"""``duckdb`` (embedded, default), ``spark`` (PySpark, any master), ``memory`` (pandas, the per-sample path)."""

CLASS_COLUMNS: tuple[str, ...] = ("model", "question_id", "answer", "correct", "size", "tokens_sum", "tokens_n")
"""Columns of the class table a reduction returns (plus ``group`` and ``budget`` when the input has them)."""

BOOL_FIX = "accepted: true/false, 1/0, yes/no, correct/incorrect, C/I"


class Runner(Protocol):
    """What an engine does: read the schema, run the class query, the first row of a query, name a bad file."""

    name: str

    def describe(self) -> list[str]: ...

    def classes(self, spec: Spec) -> pd.DataFrame: ...

    def first(self, text: str) -> tuple[Any, ...] | None: ...

    def integer_column(self, name: str) -> bool: ...

    def bad_file(self, condition: str) -> str | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Reduced:
    """The reduction's result: the counts, the class table behind them (with group/budget keys) and provenance."""

    counts: QuestionCounts
    classes: pd.DataFrame
    """One row per (model, question, [group, budget,] normalised answer, correct): size, tokens_sum, tokens_n."""
    provenance: dict[str, Any]
    answers: AnswerRecord | None = None
    notes: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------------------------------- normalisation
def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


_INTEGER = re.compile(r"-?\d+")
"""A canonical integer as :func:`harness.answers.normalize_answer` writes one: two different such strings are two
different numbers, which math-verify never merges."""


def _normalise_distinct(
    frame: pd.DataFrame, normalizer: str
) -> tuple[list[str | None], int, list[tuple[str, MergeConflict]]]:
    """Voting-class labels for distinct (model, question, raw answer, correct) rows; merged strings; conflicts.

    ``frame`` has ``model``, ``question_id``, ``answer`` (raw, null: none), ``correct``, ``size`` (samples) and
    ``first_sample``. Each question's distinct answers go, in order of first appearance and weighted by their
    sample counts, through :func:`harness.answers.classify_graded` (extractor ``none``): the same classes as the
    per-sample path, formed by the normaliser alone, with merges across the log's grades refused. This is the one
    place that calls the normaliser.

    Fast path (same labels): each distinct raw string of the whole log is normalised once; a question whose
    normalised strings are all different (and, for ``math``, all canonical integers, which math-verify cannot
    merge) has nothing to merge or refuse, so its labels are those strings. Only the other questions go through
    ``classify_graded``.
    """
    raw = frame["answer"].to_numpy(object)
    uniq = pd.unique(frame["answer"].dropna().astype(str))
    norm = {a: extract_answer(a, "none") for a in uniq.tolist()}
    if normalizer != "none":
        norm = {a: normalize_answer(x) for a, x in norm.items()}
    labels = frame["answer"].map(norm, na_action="ignore").astype(object).tolist()
    labels = [None if _missing(x) else x for x in labels]
    if normalizer == "none":  # the raw strings are the classes: nothing merges, nothing is refused
        return labels, 0, []
    keys = frame[["model", "question_id"]].assign(label=pd.Series(labels, index=frame.index, dtype=object))
    slow_row = keys.duplicated(["model", "question_id", "label"], keep=False).to_numpy().copy()
    slow_row &= keys["label"].notna().to_numpy()
    if normalizer == "math" and math_verify_available():
        simple = {lab: bool(_INTEGER.fullmatch(lab)) for lab in set(norm.values()) if lab is not None}
        slow_row |= np.array([lab is not None and not simple[lab] for lab in labels], dtype=bool)
    correct = frame["correct"].to_numpy(np.int64) == 1
    size = frame["size"].to_numpy(np.int64)
    first = frame["first_sample"].to_numpy(float)
    qids = frame["question_id"].to_numpy(object)
    merged = 0
    conflicts: list[tuple[str, MergeConflict]] = []
    if not slow_row.any():
        return labels, 0, []
    slow_q = pd.Series(slow_row, index=frame.index).groupby([frame["model"], frame["question_id"]], sort=False)
    slow = slow_q.transform("any").to_numpy(bool)
    sub = frame[slow]
    for idx in sub.groupby(["model", "question_id"], sort=False).indices.values():
        rows = np.flatnonzero(slow)[np.asarray(idx)]
        ii = rows[np.argsort(np.nan_to_num(first[rows], nan=math.inf), kind="stable")]
        g = classify_graded(
            raw[ii].tolist(), correct[ii].tolist(), extractor="none", normalizer=normalizer, weights=size[ii].tolist()
        )
        for j, lab in zip(ii.tolist(), g.labels, strict=True):
            labels[j] = lab
        merged += g.n_merged
        if g.conflict is not None:
            conflicts.append((str(qids[ii[0]]), g.conflict))
    return labels, merged, conflicts


def _raise_graded_both_ways(marg: pd.DataFrame, source: str) -> None:
    """The same raw answer string graded right and wrong: the input contradicts itself."""
    answered = marg[marg["answer"].notna()]
    both = answered.groupby(["model", "question_id", "answer"], sort=False)["correct"].nunique()
    if (both > 1).any():
        _model, qid, answer = both[both > 1].index[0]
        raise HarnessInputError(
            f"answer {str(answer)[:80]!r} of question {qid!r} is graded right in some samples and wrong in others",
            source=source, column="correct",
            fix="one answer string is either right or wrong; fix the grading, or vote on another column with "
            "--answer-col",
        )


# ----------------------------------------------------------------------------------------- bad rows
def _raise_bad_row(
    runner: Runner, inputs: Inputs, spec: Spec, kind: str, *, key: tuple[str, str, str | None] | None = None
) -> None:
    """Find the first row behind a bad value (or the second of a duplicated key) and raise naming file and row."""
    from harness.engines.duck import locate_rows

    if kind == "duplicate":
        assert key is not None
        m, q, s = (None if v is None else v.replace("'", "''") for v in key)
        same_id = "sample_id IS NULL" if s is None else f"sample_id = '{s}'"
        cond = f"model = '{m}' AND question_id = '{q}' AND {same_id}"
        files = list(inputs.paths) if inputs.local else []
        hit = locate_rows(inputs, spec, cond, files=files, want=2, columns=["raw_s"]) if files else None
        sid: Any = key[2] if hit is None else hit[2][0]
        raise HarnessInputError(
            f"duplicate sample id {sid!r} for question {key[1]!r}", source=hit[0] if hit else _given(inputs),
            row=hit[1] if hit else None, column="sample_id",
            fix="each (model, question, sample) must appear once; drop the repeated row or fix its id",
        )
    cond = BAD_ROW_CONDITIONS[kind]
    bad = runner.bad_file(cond)
    path = _local_path(bad) if bad is not None else None
    cols = {"correct": ["raw_c"], "tokens": ["raw_t"], "budget": ["raw_b"]}.get(kind, [])
    hit = locate_rows(inputs, spec, cond, files=[path], columns=cols) if path and os.path.exists(path) else None
    source = hit[0] if hit else (path or bad or _given(inputs))
    row = hit[1] if hit else None
    value = hit[2][0] if hit and hit[2] else None
    if kind == "question_id":
        raise HarnessInputError("empty question id", source=source, row=row, column="question_id")
    if kind == "correct":
        empty = value is None or str(value).strip() == ""
        problem = "empty correctness value" if empty else f"correctness value {value!r} is not boolean-like"
        raise HarnessInputError(problem, source=source, row=row, column="correct", fix=BOOL_FIX)
    if kind in ("tokens", "budget"):
        raise HarnessInputError(f"{value!r} is not a number", source=source, row=row, column=kind)
    raise HarnessInputError(
        "a sample with no answer is marked correct", source=source, row=row, column="answer",
        fix="a missing answer counts as wrong; give the answer or mark the sample incorrect",
    )


def _local_path(name: str) -> str:
    return name[len("file:"):] if name.startswith("file:") else name


def _given(inputs: Inputs) -> str:
    return ", ".join(inputs.given)


def _check(raw: pd.DataFrame, runner: Runner, inputs: Inputs, spec: Spec, check_duplicates: bool) -> None:
    if raw["question_id"].isna().any():
        _raise_bad_row(runner, inputs, spec, "question_id")
    if raw["correct"].isna().any():
        _raise_bad_row(runner, inputs, spec, "correct")
    answered = raw["answer"].notna()
    if spec.answer is not None and answered.any() and (~answered & (raw["correct"] == 1)).any():
        _raise_bad_row(runner, inputs, spec, "answer")
    if int(raw["n_bad"].sum()):
        tok_bad = runner.bad_file(BAD_ROW_CONDITIONS["tokens"]) if spec.tokens else None
        _raise_bad_row(runner, inputs, spec, "tokens" if tok_bad is not None else "budget")
    if spec.sample is not None and check_duplicates:
        dup = find_duplicate(raw, runner, spec)
        if dup is not None:
            _raise_bad_row(runner, inputs, spec, "duplicate", key=dup)


def find_duplicate(raw: pd.DataFrame, runner: Runner, spec: Spec) -> tuple[str, str, str | None] | None:
    """One repeated (model, question, sample id), or None: exact on every path.

    Integer sample ids (the usual 0..n-1): rows without an id are counted per question from the class table (two
    in one question repeat the null id), then :func:`duplicate_bucket_sql` checks every id with one bitmap per 62
    consecutive ids, and only when it fires is the offending bucket searched row by row. Other ids (strings):
    the group-by over every (model, question, sample id) key (:func:`duplicate_sql`).
    """
    assert spec.sample is not None
    if not runner.integer_column(spec.sample):
        row = runner.first(duplicate_sql(spec))
    else:
        nulls = (raw["size"] - raw["sample_n"]).groupby([raw["model"], raw["question_id"]], sort=False).sum()
        if (nulls > 1).any():
            m, q = nulls[nulls > 1].index[0]
            row = runner.first(duplicate_in_sql(spec, str(m), str(q), None))
        else:
            hit = runner.first(duplicate_bucket_sql(spec))
            row = None if hit is None else runner.first(duplicate_in_sql(spec, str(hit[0]), str(hit[1]), int(hit[2])))
    return None if row is None else (str(row[0]), str(row[1]), None if row[2] is None else str(row[2]))


# ----------------------------------------------------------------------------------------- stopping rule
def _detect_block(per_q: pd.DataFrame) -> tuple[int | None, str]:
    """The first-success-block rule from per-question (model, n, first success rank): same test as
    :func:`harness.loaders._stopping.detect_first_success_block`, which needs the per-sample rows."""
    n = per_q["n"].to_numpy(np.int64)
    if len(np.unique(n)) < 2:
        return None, "every question has the same n"
    b = 0
    for v in n.tolist():
        b = math.gcd(b, int(v))
    if b < 2:
        return None, "sample counts share no block size"
    first = per_q["first_rank"].to_numpy(float)
    has = np.isfinite(first)
    cap = per_q.groupby("model")["n"].transform("max").to_numpy()
    last_block_ok = np.all((np.floor(first[has] / b) + 1) * b == n[has])
    if not (last_block_ok and np.all(n[~has] == cap[~has]) and has.any()):
        return None, "successes do not end the sampling"
    if not np.any(n[has] > b):
        return None, "no question needed more than one block"
    return b, f"n is a multiple of {b}, each first success lies in the last block drawn, failures stop at the cap"


def _stopping(marg: pd.DataFrame, spec: Spec, stopping: str | None, source: str) -> tuple[str, list[str]]:
    if stopping is not None:
        rule = stopping.replace("=", ":")
        parse_stopping(rule)
        return rule, []
    g = marg.groupby(["model", "question_id"], sort=False)
    n = g["size"].sum()
    per_q = pd.DataFrame({"model": n.index.get_level_values(0), "n": n.to_numpy()})
    notes: list[str] = []
    if spec.sample is not None and n.groupby(level=0).nunique().max() > 1:
        lo, hi, cnt = g["first_sample"].min(), g["last_sample"].max(), g["sample_n"].sum()
        contiguous = bool(((hi - lo + 1) == n).all() and (cnt == n).all())
        if contiguous:
            corr = marg[marg["correct"] == 1].groupby(["model", "question_id"], sort=False)["first_sample"].min()
            per_q["first_rank"] = (corr.reindex(n.index) - lo).to_numpy(float)
            b, _ = _detect_block(per_q)
            if b is not None:
                rule = f"first-success-block:{b}"
                notes.append(first_block_warning(source, b))
                return rule, notes
        else:
            notes.append(
                f"{source}: sample ids are not 0..n-1 per question, so the reduction did not test for a "
                "first-success-block stopping rule (--engine memory does, from the sample order)"
            )
    notes.extend(varying_n_notes(n, source))
    return FIXED, notes


# ----------------------------------------------------------------------------------------- the reduction
def _question_order(keys: pd.DataFrame) -> np.ndarray:
    """Row order: by model, then question id (numerically when every id is a whole number), then the id's text.

    The strings are ranked once per distinct value (``pd.factorize``), so the sort is over integer codes."""
    q = keys["question_id"].astype(str)
    qcode, quniq = pd.factorize(q, sort=False)
    qtext = np.asarray(quniq, dtype=object)
    num = pd.to_numeric(pd.Series(qtext), errors="coerce")
    primary = num.to_numpy(float) if num.notna().all() else None
    qorder = np.lexsort((qtext, primary)) if primary is not None else np.argsort(qtext, kind="stable")
    qrank = np.empty(len(qtext), np.int64)
    qrank[qorder] = np.arange(len(qtext))
    mcode, _ = pd.factorize(keys["model"].astype(str), sort=True)
    return np.lexsort((qrank[qcode], mcode))


def finish_classes(
    raw: pd.DataFrame, spec: Spec, *, normalizer: str, stopping: str | None, source: str, notes: Sequence[str] = ()
) -> tuple[QuestionCounts, pd.DataFrame, AnswerRecord | None]:
    """Class rows of raw answers (the engines' output) -> normalised class table and QuestionCounts."""
    raw = raw.copy()
    for name in ("size", "tokens_sum", "tokens_n", "first_sample", "last_sample", "sample_n", "n_bad"):
        raw[name] = pd.to_numeric(raw[name]).astype(np.int64 if name in ("size", "tokens_n", "sample_n") else float)
    raw["correct"] = raw["correct"].astype(np.int64)
    raw["answer"] = raw["answer"].astype(object).where(raw["answer"].notna(), None)
    extra = [c for c in ("grp", "budget") if c in raw.columns]
    keys = ["model", "question_id"]
    if extra:  # the engines' rows are unique per (model, question, [group, budget,] answer, correct)
        marg = raw.groupby([*keys, "answer", "correct"], sort=False, dropna=False).agg(
            size=("size", "sum"), tokens_sum=("tokens_sum", "sum"), tokens_n=("tokens_n", "sum"),
            first_sample=("first_sample", "min"), last_sample=("last_sample", "max"), sample_n=("sample_n", "sum"),
        ).reset_index()
        marg["answer"] = marg["answer"].astype(object).where(marg["answer"].notna(), None)
    else:
        marg = raw[[*keys, "answer", "correct", "size", "tokens_sum", "tokens_n", "first_sample", "last_sample",
                    "sample_n"]]
    marg = marg.iloc[_question_order(marg)].reset_index(drop=True)
    rule, stop_notes = _stopping(marg, spec, stopping, source)
    all_notes = [*notes, *stop_notes]
    marg["csize"] = marg["size"].where(marg["correct"] == 1, 0)
    per_q = marg.groupby(keys, sort=False).agg(
        n=("size", "sum"), c=("csize", "sum"),
        tokens_sum=("tokens_sum", "sum"), tokens_n=("tokens_n", "sum"),
    ).reset_index()
    tokens = np.where(per_q["tokens_n"] == per_q["n"], per_q["tokens_sum"], np.nan) if spec.tokens else None
    has_answers = spec.answer is not None and marg["answer"].notna().any()
    if not has_answers:
        counts = QuestionCounts(
            model=per_q["model"].to_numpy(object), question_id=per_q["question_id"].to_numpy(object),
            n=per_q["n"].to_numpy(np.int64), correct=per_q["c"].to_numpy(np.int64), tokens=tokens,
            stopping=np.full(len(per_q), rule, dtype=object), notes=tuple(all_notes),
        )
        table = raw.rename(columns={"grp": "group"})[[*keys, *[{"grp": "group"}.get(c, c) for c in extra],
                                                       "answer", "correct", "size", "tokens_sum", "tokens_n"]]
        return counts, table.assign(correct=table["correct"].astype(bool)), None
    _raise_graded_both_ways(marg, source)
    labels, merged, conflicts = _normalise_distinct(marg, normalizer)
    marg["label"] = pd.Series(labels, index=marg.index, dtype=object)
    lab = marg.groupby([*keys, "label"], sort=False, dropna=True).agg(size=("size", "sum"), c=("csize", "sum"))
    lab = lab.reset_index()
    mixed = lab[(lab["c"] > 0) & (lab["c"] < lab["size"])]
    if len(mixed):
        row = mixed.iloc[0]
        raise HarnessInputError(
            f"answer {row['label']!r} of question {row['question_id']!r} is marked correct in {int(row['c'])} "
            f"and incorrect in {int(row['size'] - row['c'])} samples",
            source=source, column="correct",
            fix="an answer class is either right or wrong; fix the grading or the answer normalisation",
        )
    mk = [*keys, "answer", "correct"]
    if extra:
        raw = raw.merge(marg[[*mk, "label"]], on=mk, how="left", validate="many_to_one")
    table = (raw if extra else marg).groupby([*keys, *extra, "label", "correct"], sort=False, dropna=False).agg(
        size=("size", "sum"), tokens_sum=("tokens_sum", "sum"), tokens_n=("tokens_n", "sum"),
    ).reset_index().rename(columns={"label": "answer", "grp": "group"})
    table["correct"] = table["correct"].astype(bool)
    table["answer"] = table["answer"].astype(object).where(table["answer"].notna(), None)
    if extra:  # (without, the rows are already in marg's order: groups in order of first appearance)
        table = table.iloc[_question_order(table)].reset_index(drop=True)
    unparsed = int(marg.loc[marg["label"].isna(), "size"].sum())
    record = AnswerRecord(
        extractor="none", normalizer=normalizer, n_samples=int(marg["size"].sum()), n_unparsed=unparsed,
        n_merged=merged, n_conflicts=len(conflicts),
        conflict_example=describe_conflict(*conflicts[0]) if conflicts else None,
    )
    if conflicts and record.conflict_example:
        all_notes.insert(0, conflict_warning(len(conflicts), record.conflict_example))
    rows = per_q[keys].copy()
    if tokens is not None:
        rows["tokens"] = tokens
    counts = counts_from_table(table, rows=rows, stopping=rule, source=source, notes=[record.note(), *all_notes])
    return counts, table, record


def counts_from_table(
    table: pd.DataFrame, *, rows: pd.DataFrame | None, stopping: str, source: str, notes: Sequence[str]
) -> QuestionCounts:
    """A normalised class table (possibly split by group/budget) -> QuestionCounts via counts_from_class_table."""
    keys = ["model", "question_id"]
    classes = table.groupby([*keys, "answer", "correct"], sort=False, dropna=False)["size"].sum().reset_index()
    classes["answer"] = classes["answer"].astype(object).where(classes["answer"].notna(), None)
    return counts_from_class_table(classes, rows=rows, stopping=stopping, source=source, notes=notes)


def make_runner(engine: str, inputs: Inputs, *, spark_master: str = "local[*]", **kwargs: Any) -> Runner:
    """The runner of ``engine`` over ``inputs`` (``memory_limit``/``temp_directory``/``threads`` for DuckDB)."""
    if engine == "duckdb":
        from harness.engines.duck import DuckRunner

        return DuckRunner(inputs, **kwargs)
    if engine == "spark":
        from harness.engines.spark import SparkRunner

        return SparkRunner(inputs, master=spark_master)
    raise HarnessInputError(f"engine {engine!r} does not run SQL", fix="use duckdb or spark")


def reduce_inputs(
    items: Sequence[str], *, columns: ColumnMap | None = None, engine: str = "duckdb", spark_master: str = "local[*]",
    normalizer: str = "math", stopping: str | None = None, check_duplicates: bool = True,
    **engine_options: Any,
) -> Reduced:
    """Reduce per-sample rows in files, globs, folders or ``hf://`` paths to answer-class counts on ``engine``.

    All inputs form one table (columns united by name): a log split into many files is one log. Nothing is
    dropped: a bad row is an error naming its file and row.
    """
    if engine not in ENGINES:
        raise HarnessInputError(f"unknown engine {engine!r}", fix=f"use one of {', '.join(ENGINES)}")
    columns = columns or ColumnMap()
    inputs = expand_inputs(items)
    source = inputs.paths[0] if len(inputs.paths) == 1 else _given(inputs)
    if engine == "memory":
        from harness.engines.memory import reduce_in_memory

        return reduce_in_memory(inputs, columns=columns, normalizer=normalizer, stopping=stopping, source=source)
    runner = make_runner(engine, inputs, spark_master=spark_master, **engine_options)
    try:
        spec, notes = resolve_spec(runner.describe(), columns, source=source)
        raw = runner.classes(spec)
        if getattr(runner, "retried_single_thread", False):
            notes.append(f"{source}: DuckDB ran out of memory aggregating on several threads and reran the class "
                         "query on one (it spills there)")
        if len(raw) == 0:
            raise HarnessInputError("the input holds no rows", source=source, fix="it holds no samples")
        _check(raw, runner, inputs, spec, check_duplicates)
    finally:
        runner.close()
    counts, table, record = finish_classes(raw, spec, normalizer=normalizer, stopping=stopping, source=source,
                                           notes=notes)
    prov = provenance(inputs, engine=engine, spark_master=spark_master if engine == "spark" else None,
                      normalizer=normalizer, rows=int(raw["size"].sum()), counts=counts, spec=spec,
                      duplicates_checked=bool(spec.sample and check_duplicates))
    return Reduced(counts=counts, classes=table, provenance=prov, answers=record, notes=counts.notes)


def provenance(
    inputs: Inputs, *, engine: str, spark_master: str | None, normalizer: str, rows: int, counts: QuestionCounts,
    spec: Spec | None, duplicates_checked: bool,
) -> dict[str, Any]:
    """What a class-count file records about how it was made."""
    from harness import __version__

    assert counts.stopping is not None
    return {
        "format": "class-counts", "version": 1, "harness": __version__, "inputs": list(inputs.given),
        "files": len(inputs.paths), "input_format": inputs.format, "engine": engine, "spark_master": spark_master,
        "normalizer": normalizer, "rows_read": rows, "rows_excluded": 0,
        "columns": None if spec is None else spec.fields(), "duplicates_checked": duplicates_checked,
        "stopping": str(counts.stopping[0]) if counts.n_questions else FIXED, "notes": list(counts.notes),
    }
