"""Run the reduction on an engine and finish it in Python: errors naming file and row, answer normalisation on the
distinct (model, question, raw answer) rows only, the stopping rule, and :func:`counts_from_class_table`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
from harness.engines.finish import (
    AnyInt,
    ClassRows,
    Rows,
    combine,
    frame,
    group_first,
    group_sum,
    pack_classes,
    question_rows,
    text_rank,
)
from harness.engines.sources import Inputs, expand_inputs, resolve_spec
from harness.engines.sql import (
    BAD_ROW_CONDITIONS,
    Spec,
    duplicate_bucket_sql,
    duplicate_in_sql,
    duplicate_sql,
    literal,
)
from harness.loaders._base import ColumnMap
from harness.loaders._build import describe_conflict
from harness.loaders._stopping import first_block_warning, varying_n_notes
from harness.tables import FIXED, QuestionCounts, class_notes, counts_from_class_table, parse_stopping

ENGINES: tuple[str, ...] = ("duckdb", "spark", "memory")
"""``duckdb`` (embedded, default), ``spark`` (PySpark, any master), ``memory`` (pandas, the per-sample path)."""

CLASS_COLUMNS: tuple[str, ...] = ("model", "question_id", "answer", "correct", "size", "tokens_sum", "tokens_n")
"""Columns of the class table a reduction returns (plus ``group`` and ``budget`` when the input has them)."""

BOOL_FIX = "accepted: true/false, 1/0, yes/no, correct/incorrect, C/I"


class Runner(Protocol):
    """What an engine does: read the schema, run the class query, the first row of a query, name a bad file."""

    name: str

    def describe(self) -> list[str]: ...

    def typed(self, spec: Spec) -> tuple[str, ...]: ...

    def classes(self, spec: Spec, *, duplicates: bool = False) -> Any: ...

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
_INTEGER = re.compile(r"-?\d+")
"""A canonical integer as :func:`harness.answers.normalize_answer` writes one: two different such strings are two
different numbers, which math-verify never merges."""


def _obj(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values[codes]`` as an object array, None where the code is -1."""
    out = np.full(len(codes), None, dtype=object)
    has = codes >= 0
    out[has] = values[codes[has]]
    return out


def _normalise_distinct(
    cr: ClassRows, row: np.ndarray, normalizer: str
) -> tuple[np.ndarray, np.ndarray, int, list[tuple[str, MergeConflict]], bool]:
    """Voting-class labels of the class rows (codes into the returned label values, -1: no label); the number of
    merged strings; the refused merges; whether the labels are one-to-one with the raw answers (no two raw
    strings share a label, none is unparsed, nothing went through ``classify_graded``).

    ``cr`` holds one row per (model, question, [group, budget,] raw answer, correct), sorted by ``row`` (the
    (model, question) index). Each question's distinct answers go, in order of first appearance and weighted by
    their sample counts, through :func:`harness.answers.classify_graded` (extractor ``none``): the same classes as
    the per-sample path, formed by the normaliser alone, with merges across the log's grades refused. This is the
    one place that calls the normaliser.

    Fast path (same labels): each distinct raw string of the whole log is normalised once (a dictionary from raw
    string to label); a question whose normalised strings are all different (and, for ``math``, all canonical
    integers, which math-verify cannot merge) has nothing to merge or refuse, so its labels are those strings.
    Only the other questions go through ``classify_graded``.
    """
    norm = [extract_answer(a, "none") for a in cr.answer_values.tolist()]
    if normalizer != "none":
        norm = [normalize_answer(x) for x in norm]
    a2l, lab_uniq = pd.factorize(pd.Series(norm, dtype=object), sort=False)
    lab_values = np.asarray(lab_uniq, dtype=object).reshape(-1)
    lab = np.full(len(cr), -1, np.int64)
    if len(a2l):
        lab = np.where(cr.answer >= 0, np.asarray(a2l, np.int64)[np.maximum(cr.answer, 0)], -1).astype(np.int64)
    a2l = np.asarray(a2l, np.int64)
    one_to_one = bool((a2l >= 0).all()) and len(lab_values) == len(a2l)
    if normalizer == "none":  # the raw strings are the classes: nothing merges, nothing is refused
        return lab, lab_values, 0, [], one_to_one
    has = lab >= 0
    slow = np.zeros(int(row.max()) + 1 if len(row) else 0, dtype=bool)
    if has.any() and not one_to_one:  # (one to one: a label repeats in a question only with another grade,
        rl = combine(row[has], lab[has])  # which _raise_graded_both_ways has refused already)
        repeated = np.bincount(rl)[rl] > 1
        slow[row[has][repeated]] = True
    if normalizer == "math" and math_verify_available():
        simple = np.array([bool(_INTEGER.fullmatch(v)) for v in lab_values.tolist()], dtype=bool)
        odd = has & ~simple[np.maximum(lab, 0)] if len(simple) else np.zeros(len(lab), bool)
        slow[row[odd]] = True
    if not slow.any():
        return lab, lab_values, 0, [], one_to_one
    index = {v: i for i, v in enumerate(lab_values.tolist())}
    values = lab_values.tolist()
    raw = _obj(cr.answer_values, cr.answer)
    correct = cr.correct == 1
    first = np.nan_to_num(cr.first, nan=math.inf)
    starts = np.searchsorted(row, np.arange(len(slow) + 1))
    merged = 0
    conflicts: list[tuple[str, MergeConflict]] = []
    for r in np.flatnonzero(slow).tolist():
        rows = np.arange(starts[r], starts[r + 1])
        ii = rows[np.argsort(first[rows], kind="stable")]
        g = classify_graded(
            raw[ii].tolist(), correct[ii].tolist(), extractor="none", normalizer=normalizer,
            weights=cr.size[ii].tolist(),
        )
        for j, label in zip(ii.tolist(), g.labels, strict=True):
            if label is None:
                lab[j] = -1
                continue
            if label not in index:
                index[label] = len(values)
                values.append(label)
            lab[j] = index[label]
        merged += g.n_merged
        if g.conflict is not None:
            conflicts.append((str(cr.question_values[cr.question[ii[0]]]), g.conflict))
    return lab, np.asarray(values, dtype=object).reshape(-1), merged, conflicts, False


GradeLocator = Callable[[str, str, str], tuple[tuple[str, int, bool], tuple[str, int]] | None]
"""(model, question id, raw answer) -> ((file, row, grade) of its first row, (file, row) of the first row graded
the other way), in file order; None where the rows cannot be read again (remote inputs)."""


def _raise_graded_both_ways(cr: ClassRows, row: np.ndarray, source: str, locate: GradeLocator | None) -> None:
    """The same raw answer string graded right and wrong: the input contradicts itself (naming the two rows where
    ``locate`` finds them, as the in-memory path does)."""
    ans = cr.answer >= 0
    if not ans.any():
        return
    ids = combine(row[ans], cr.answer[ans])
    k = int(ids.max()) + 1
    lo = np.full(k, 2, np.int64)
    hi = np.full(k, -2, np.int64)
    np.minimum.at(lo, ids, cr.correct[ans])
    np.maximum.at(hi, ids, cr.correct[ans])
    both = np.flatnonzero(lo != hi)
    if len(both):
        j = np.flatnonzero(ans)[int(group_first(ids, k)[both[0]])]
        model = str(cr.model_values[cr.model[j]])
        answer, qid = cr.answer_values[cr.answer[j]], cr.question_values[cr.question[j]]
        fix = ("one answer string is either right or wrong; fix the grading, or vote on another column with "
               "--answer-col")
        hit = locate(model, str(qid), str(answer)) if locate is not None else None
        if hit is not None:
            (path0, row0, grade0), (path1, row1) = hit
            where = f"row {row0}" if path0 == path1 else f"{path0}, row {row0}"
            raise HarnessInputError(
                f"answer {str(answer)[:80]!r} of question {qid!r} is graded {'right' if grade0 else 'wrong'} in "
                f"{where} and {'wrong' if grade0 else 'right'} here", source=path1, row=row1, column="correct",
                fix=fix,
            )
        raise HarnessInputError(
            f"answer {str(answer)[:80]!r} of question {qid!r} is graded right in some samples and wrong in others",
            source=source, column="correct", fix=fix,
        )


def grade_locator(inputs: Inputs, spec: Spec) -> GradeLocator | None:
    """A :data:`GradeLocator` over local inputs (DuckDB re-reads them, file by file); None for remote ones."""
    if not inputs.local:
        return None
    from harness.engines.duck import locate_rows

    files = list(inputs.paths)

    def locate(model: str, qid: str, answer: str) -> tuple[tuple[str, int, bool], tuple[str, int]] | None:
        key = f"{_key_condition(model, qid)} AND answer = {literal(answer)} AND correct IS NOT NULL"
        first = locate_rows(inputs, spec, key, files=files, columns=["correct"])
        if first is None:
            return None
        grade = bool(first[2][0])
        other = locate_rows(inputs, spec, f"{key} AND correct = {0 if grade else 1}", files=files)
        return None if other is None else ((first[0], first[1], grade), (other[0], other[1]))

    return locate


# ----------------------------------------------------------------------------------------- bad rows
def _raise_bad_row(
    runner: Runner, inputs: Inputs, spec: Spec, kind: str, *, key: tuple[str, str, str | None] | None = None
) -> None:
    """Find the first row behind a bad value (or the second of a duplicated key) and raise naming file and row."""
    from harness.engines.duck import locate_rows

    if kind == "duplicate":
        assert key is not None
        same_id = "sample_id IS NULL" if key[2] is None else f"sample_id = {literal(key[2])}"
        cond = f"{_key_condition(key[0], key[1])} AND {same_id}"
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


def _key_condition(model: str, qid: str) -> str:
    """The rows of one (model, question) in the canonical view, as a WHERE condition."""
    return f"model = {literal(model)} AND question_id = {literal(qid)}"


def _local_path(name: str) -> str:
    """A file name as an engine reports it, as a local path: Spark's ``file:///dir/a%20b.csv`` is a URI (the
    scheme dropped and the percent escapes decoded); DuckDB's is the path itself."""
    if not name.startswith("file:"):
        return name
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(name).path)


def _given(inputs: Inputs) -> str:
    return ", ".join(inputs.given)


def _check(
    cr: ClassRows, runner: Runner, inputs: Inputs, spec: Spec, check_duplicates: bool,
    buckets: list[tuple[str, str, int]] | None = None,
) -> None:
    if (cr.question < 0).any():
        _raise_bad_row(runner, inputs, spec, "question_id")
    if (cr.correct < 0).any():
        _raise_bad_row(runner, inputs, spec, "correct")
    answered = cr.answer >= 0
    if spec.answer is not None and answered.any() and (~answered & (cr.correct == 1)).any():
        _raise_bad_row(runner, inputs, spec, "answer")
    if int(cr.n_bad.sum()):
        tok_bad = runner.bad_file(BAD_ROW_CONDITIONS["tokens"]) if spec.tokens else None
        _raise_bad_row(runner, inputs, spec, "tokens" if tok_bad is not None else "budget")
    if spec.sample is not None and check_duplicates:
        dup = find_duplicate(cr, runner, spec, buckets=buckets)
        if dup is not None:
            _raise_bad_row(runner, inputs, spec, "duplicate", key=dup)


def fold_duplicate_check(inputs: Inputs) -> bool:
    """Whether the duplicate check rides in the class query's scan (a second grouping set) or is a second query.

    Measured (docs/methods/engines.md): on JSON lines and CSV the scan is the parse, and folding saves the second
    parse (10^7 JSONL.gz rows: 13.6 CPU-s folded against 11.4 + 8.0 as two queries); on Parquet the scan is
    cheap and two hash tables in one pass cost more than two passes (10^8 rows, 2.5 M classes: 39.6 CPU-s folded
    against 21.8 + 11.1)."""
    return inputs.format != "parquet"


def split_buckets(table: Any) -> tuple[Any, list[tuple[str, str, int]] | None]:
    """The class rows and, when the class query carried the duplicate check (:func:`class_sql` with
    ``duplicates``), the (model, question, first id) of each bucket holding a repeated sample id (else None)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    if "harness_set" not in table.column_names:
        return table, None
    is_class = pc.equal(table.column("harness_set").cast(pa.int64()), 1)
    if pc.all(is_class).as_py():  # the usual case: no bucket fired; no copy of the class rows
        return table.drop_columns(["harness_set", "lo"]), []
    hits = table.filter(pc.invert(is_class)).select(["model", "question_id", "lo"]).to_pylist()
    rest = table.filter(is_class).drop_columns(["harness_set", "lo"])
    return rest, [(str(h["model"]), str(h["question_id"]), int(h["lo"])) for h in hits]


def find_duplicate(
    raw: Any, runner: Runner, spec: Spec, *, buckets: list[tuple[str, str, int]] | None = None
) -> tuple[str, str, str | None] | None:
    """One repeated (model, question, sample id), or None: exact on every path.

    ``raw``: the engine's class rows (:class:`ClassRows`, an Arrow table or a DataFrame). Integer sample ids (the
    usual 0..n-1): rows without an id are counted per question from the class table (two in one question repeat
    the null id), then :func:`duplicate_bucket_sql` checks every id with one bitmap per 62 consecutive ids, and
    only when it fires is the offending bucket searched row by row. ``buckets``: the buckets the class query
    already found (its folded check, :func:`split_buckets`), so no second scan. Other ids (strings): the group-by
    over every (model, question, sample id) key (:func:`duplicate_sql`).
    """
    assert spec.sample is not None
    cr = raw if isinstance(raw, ClassRows) else ClassRows.from_engine(raw)
    if not runner.integer_column(spec.sample):
        row = runner.first(duplicate_sql(spec))
    else:
        ids = combine(cr.model, cr.question)
        k = int(ids.max()) + 1 if len(ids) else 0
        nulls = group_sum(ids, cr.size - cr.sample_n, k)
        if (nulls > 1).any():
            j = int(group_first(ids, k)[int(np.argmax(nulls > 1))])
            m, q = cr.model_values[cr.model[j]], cr.question_values[cr.question[j]]
            row = runner.first(duplicate_in_sql(spec, str(m), str(q), None))
        else:
            found = [runner.first(duplicate_bucket_sql(spec))] if buckets is None else buckets
            hit = found[0] if found else None
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


def _group_extreme(ids: np.ndarray, values: np.ndarray, q: int, *, lowest: bool) -> np.ndarray:
    """Per-id minimum (``lowest``) or maximum of ``values`` ignoring NaN; NaN where an id has no number."""
    out = np.full(q, math.inf if lowest else -math.inf)
    (np.fmin if lowest else np.fmax).at(out, ids, values)
    out[np.isinf(out)] = np.nan
    return out


def _stopping(
    cr: ClassRows, row: np.ndarray, rows: Rows, n: np.ndarray, spec: Spec, stopping: str | None, source: str
) -> tuple[str, list[str]]:
    if stopping is not None:
        rule = stopping.replace("=", ":")
        parse_stopping(rule)
        return rule, []
    q = rows.count
    n_series = pd.Series(n, index=pd.MultiIndex.from_arrays([rows.model, np.arange(q)]))
    notes: list[str] = []
    if spec.sample is not None and n_series.groupby(level=0).nunique().max() > 1:
        lo = _group_extreme(row, cr.first, q, lowest=True)
        hi = _group_extreme(row, cr.last, q, lowest=False)
        cnt = group_sum(row, cr.sample_n, q)
        if bool(np.all((hi - lo + 1) == n) and np.all(cnt == n)):
            ok = cr.correct == 1
            corr = _group_extreme(row[ok], cr.first[ok], q, lowest=True)
            per_q = pd.DataFrame({"model": rows.model, "n": n, "first_rank": corr - lo})
            b, _ = _detect_block(per_q)
            if b is not None:
                notes.append(first_block_warning(source, b))
                return f"first-success-block:{b}", notes
        else:
            notes.append(
                f"{source}: sample ids are not 0..n-1 per question, so the reduction did not test for a "
                "first-success-block stopping rule (--engine memory does, from the sample order)"
            )
    notes.extend(varying_n_notes(n_series, source))
    return FIXED, notes


# ----------------------------------------------------------------------------------------- the reduction
def finish_classes(
    raw: Any, spec: Spec, *, normalizer: str, stopping: str | None, source: str, notes: Sequence[str] = (),
    locate: GradeLocator | None = None,
) -> tuple[QuestionCounts, pd.DataFrame, AnswerRecord | None]:
    """Class rows of raw answers (the engines' output) -> normalised class table and QuestionCounts.

    ``raw``: :class:`ClassRows`, an Arrow table or a DataFrame with the class query's columns. Works on integer
    codes (:mod:`harness.engines.finish`): rows ordered by model, then question id (numerically when every id is
    a number); labels from one normalisation per distinct raw string; QuestionCounts assembled as
    :func:`harness.tables.counts_from_class_table` does, from arrays. ``locate`` names the rows of a raw answer
    graded both ways (:func:`grade_locator`); without it the error names the answer and question only.
    """
    cr = raw if isinstance(raw, ClassRows) else ClassRows.from_engine(raw)
    rows = question_rows(cr)
    perm = np.argsort(rows.of_class, kind="stable")  # each question's classes contiguous, engine order within
    cr.reorder(perm)  # (in place: a ClassRows passed in comes back in this order)
    q = rows.count
    row: AnyInt = rows.of_class[perm].astype(np.int32) if q < 2**31 else rows.of_class[perm]
    del perm
    n = group_sum(row, cr.size, q)
    correct01 = (cr.correct == 1).astype(np.int8)
    c = group_sum(row, cr.size * correct01, q)
    model = cr.model_values[rows.model]
    qid = cr.question_values[rows.question]
    rule, stop_notes = _stopping(cr, row, rows, n, spec, stopping, source)
    all_notes = [*notes, *stop_notes]
    tokens = None
    if spec.tokens:
        tsum = group_sum(row, np.nan_to_num(cr.tokens_sum), q)
        tokens = np.where(group_sum(row, cr.tokens_n, q) == n, tsum, np.nan)
    extra = [(name, codes, values) for name, codes, values in (("group", cr.grp, cr.grp_values),
                                                               ("budget", cr.budget, cr.budget_values))
             if codes is not None and values is not None]
    if not (spec.answer is not None and (cr.answer >= 0).any()):
        counts = QuestionCounts(
            model=model, question_id=qid, n=n, correct=c, tokens=tokens, stopping=np.full(q, rule, dtype=object),
            notes=tuple(all_notes),
        )
        table = _table(cr, [*[codes for _, codes, _ in extra], np.full(len(cr), -1, np.int64)], correct01,
                       extra, np.empty(0, dtype=object), keep_nan=True)
        return counts, table, None
    _raise_graded_both_ways(cr, row, source, locate)
    lab, lab_values, merged, conflicts, one_to_one = _normalise_distinct(cr, row, normalizer)
    cr.release("first", "last", "sample_n", "n_bad")  # used up (stopping rule, checks, grouping order)
    # one to one: a label is graded both ways exactly when its raw string is (refused above), and without group or
    # budget keys the engine's rows are already one per (question, label, grade)
    unique = one_to_one and not extra
    if not one_to_one:
        _raise_mixed(cr, row, lab, lab_values, correct01, source)
    table = _table(cr, [*[codes for _, codes, _ in extra], lab], correct01, extra, lab_values, row=row,
                   unique=unique)
    unparsed = int(cr.size[lab < 0].sum())
    record = AnswerRecord(
        extractor="none", normalizer=normalizer, n_samples=int(cr.size.sum()), n_unparsed=unparsed,
        n_merged=merged, n_conflicts=len(conflicts),
        conflict_example=describe_conflict(*conflicts[0]) if conflicts else None,
    )
    if conflicts and record.conflict_example:
        all_notes.insert(0, conflict_warning(len(conflicts), record.conflict_example))
    counts = _counts(cr, row, q, lab, lab_values, correct01, model=model, qid=qid, tokens=tokens, stopping=rule,
                     source=source, notes=[record.note(), *all_notes], unique=unique)
    return counts, table, record


def _raise_mixed(
    cr: ClassRows, row: np.ndarray, lab: np.ndarray, lab_values: np.ndarray, correct01: np.ndarray, source: str
) -> None:
    """A normalised class graded right in some samples and wrong in others."""
    has = lab >= 0
    if not has.any():
        return
    ids = combine(row[has], lab[has])
    k = int(ids.max()) + 1
    size = group_sum(ids, cr.size[has], k)
    good = group_sum(ids, (cr.size * correct01)[has], k)
    mixed = np.flatnonzero((good > 0) & (good < size))
    if len(mixed):
        i = int(mixed[0])
        j = np.flatnonzero(has)[int(group_first(ids, k)[i])]
        raise HarnessInputError(
            f"answer {lab_values[lab[j]]!r} of question {cr.question_values[cr.question[j]]!r} is marked correct in "
            f"{int(good[i])} and incorrect in {int(size[i] - good[i])} samples",
            source=source, column="correct",
            fix="an answer class is either right or wrong; fix the grading or the answer normalisation",
        )


def _table(
    cr: ClassRows, keys: list[np.ndarray], correct01: np.ndarray, extra: list[tuple[str, Any, Any]],
    lab_values: np.ndarray, *, row: np.ndarray | None = None, keep_nan: bool = False, unique: bool = False,
) -> pd.DataFrame:
    """The class table: one row per (model, question, [group, budget,] label, correct), in question order.

    ``keys``: the codes of the extra columns, then the label codes. With ``keep_nan`` (no answers: the engine's
    rows as they are) a class's token sum stays NaN when no sample had one; otherwise sums skip NaN (pandas)."""
    base = [cr.model, cr.question] if row is None else [row]
    agg, first, k = _grouping(unique, lambda: combine(*base, *keys, correct01), len(cr))
    cols: list[tuple[str, np.ndarray]] = [
        ("model", cr.model_values[cr.model[first]]), ("question_id", cr.question_values[cr.question[first]]),
    ]
    for (name, codes, values), _ in zip(extra, keys, strict=False):
        taken = _obj(values, codes[first])
        cols.append((name, taken.astype(float) if name == "budget" else taken))
    cols.append(("answer", _obj(lab_values, keys[-1][first])))
    cols.append(("correct", correct01[first].astype(bool)))
    cols.append(("size", agg(cr.size)))
    keep = keep_nan and k == len(cr)  # one engine row per class: its sum as the engine gave it (NaN: none)
    cols.append(("tokens_sum", cr.tokens_sum[first] if keep else agg(np.nan_to_num(cr.tokens_sum))))
    cols.append(("tokens_n", agg(cr.tokens_n)))
    return frame(cols)


def _grouping(
    unique: bool, ids: Callable[[], np.ndarray], n: int
) -> tuple[Callable[[np.ndarray], np.ndarray], Any, int]:
    """(sum per group, index of each group's first row, number of groups); ``unique``: every row its own group
    (no ids, no copies: the sums are the columns themselves)."""
    if unique:
        return (lambda v: v), slice(None), n
    g = ids()
    k = int(g.max()) + 1 if len(g) else 0
    return (lambda v: group_sum(g, v, k)), group_first(g, k), k


def _counts(
    cr: ClassRows, row: np.ndarray, q: int, lab: np.ndarray, lab_values: np.ndarray, correct01: np.ndarray, *,
    model: np.ndarray, qid: np.ndarray, tokens: np.ndarray | None, stopping: str, source: str, notes: Sequence[str],
    unique: bool = False,
) -> QuestionCounts:
    """QuestionCounts from the labelled class rows: what :func:`harness.tables.counts_from_class_table` builds from
    the class table (each correct class its own vote; rows sorted by (-size, label); the same notes), from arrays.
    """
    agg, first, k = _grouping(unique, lambda: combine(row, lab, correct01), len(cr))
    pos, plab, pcorr = row[first], lab[first], correct01[first] == 1
    size = agg(cr.size)
    none = plab < 0
    if (none & pcorr).any():
        i = int(np.argmax(none & pcorr))
        raise HarnessInputError(
            f"samples with no answer are marked correct (question {qid[pos[i]]!r})", source=source,
            column="answer", fix="a missing answer counts as wrong; give the answer or mark the sample incorrect",
        )
    rank = text_rank(lab_values)[np.maximum(plab, 0)] if len(lab_values) else np.zeros(k, np.int64)
    labels = _obj(lab_values, plab)
    abstain = group_sum(pos[none], size[none], q)
    good = pcorr & ~none
    correct_classes, correct_labels = pack_classes(pos[good], size[good], rank[good], labels[good], q)
    bad = ~pcorr & ~none
    wrong, wrong_labels = pack_classes(pos[bad], size[bad], rank[bad], labels[bad], q)
    if correct_classes.shape[1] == 0:
        correct_classes = np.zeros((q, 1), np.int64)
        correct_labels = np.full((q, 1), "", dtype=object)
    correct = correct_classes.sum(axis=1)
    n = correct + wrong.sum(axis=1) + abstain
    all_notes = class_notes(notes, abstain, n, correct_classes)
    return QuestionCounts(
        model=model, question_id=qid, n=n, correct=correct, wrong=wrong, abstain=abstain, tokens=tokens,
        stopping=np.full(q, stopping, dtype=object), correct_classes=correct_classes,
        correct_labels=correct_labels, wrong_labels=wrong_labels, notes=tuple(all_notes),
    )


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
        spec = replace(spec, typed=runner.typed(spec))
        fold = bool(check_duplicates and spec.sample is not None and fold_duplicate_check(inputs))
        table, buckets = split_buckets(runner.classes(spec, duplicates=fold))
        cr = ClassRows.from_engine(table)
        del table
        if getattr(runner, "retried_single_thread", False):
            notes.append(f"{source}: DuckDB ran out of memory aggregating on several threads and reran the class "
                         "query on one (it spills there)")
        if len(cr) == 0:
            raise HarnessInputError("the input holds no rows", source=source, fix="it holds no samples")
        _check(cr, runner, inputs, spec, check_duplicates, buckets)
    finally:
        runner.close()
    counts, table, record = finish_classes(cr, spec, normalizer=normalizer, stopping=stopping, source=source,
                                           notes=notes, locate=grade_locator(inputs, spec))
    prov = provenance(inputs, engine=engine, spark_master=spark_master if engine == "spark" else None,
                      normalizer=normalizer, rows=int(cr.size.sum()), counts=counts, spec=spec,
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
