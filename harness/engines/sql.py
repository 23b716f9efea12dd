"""The reduction, written once as SQL: per-sample rows -> one row per (model, question, group, budget, raw answer,
correctness) with the class size, token sums and the first sample index.

The text below is run unchanged by DuckDB and by Spark SQL. It uses only functions both dialects share
(``CAST(x AS STRING)``, ``TRY_CAST``, ``lower``, ``trim``, ``concat_ws``, ``CASE``, ``COUNT``, ``SUM``,
``MIN``, ``MAX``) and only the plain identifiers of the projected view ``harness_src``; the engine-specific part
is only how files become that view (:func:`projection`, which quotes the source column names the engine's way).

``harness_src`` columns (absent optional ones are simply not projected): ``q0``..``qK`` (the question id, or
the parts of a composite id joined by ``/``), ``m`` (model), ``s`` (sample id), ``a`` (raw answer), ``c``
(correctness flag), ``t`` (tokens), ``g`` (group), ``b`` (budget), ``harness_file`` (the file a row came from).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness._validation import FALSE_STRINGS, TRUE_STRINGS

VIEW = "harness_src"
CANON = "harness_canon"


@dataclass(frozen=True)
class Spec:
    """Which source column feeds each canonical field (None: absent). ``question`` may hold several parts."""

    question: tuple[str, ...]
    correct: str
    model: str | None = None
    sample: str | None = None
    answer: str | None = None
    tokens: str | None = None
    group: str | None = None
    budget: str | None = None
    typed: tuple[str, ...] = ()
    """Short names (``q0``, ``m``, ``a``, ``c``, ``g``, ``b``, ``t``, ``s``) whose source type the engine reports
    as already canonical (:func:`typed_fields`): the class query then needs no second aggregation level, no
    check for non-numbers, and integer sample ids allow the bitmap duplicate check inside the class query."""

    def fields(self) -> dict[str, str]:
        """Short view name -> source column, for the projection."""
        out = {f"q{i}": col for i, col in enumerate(self.question)}
        out["c"] = self.correct
        for short, col in (
            ("m", self.model), ("s", self.sample), ("a", self.answer), ("t", self.tokens), ("g", self.group),
            ("b", self.budget),
        ):
            if col is not None:
                out[short] = col
        return out

    @property
    def keys(self) -> tuple[str, ...]:
        """The grouping keys of the class table (group and budget only where present)."""
        extra = tuple(k for k, col in (("grp", self.group), ("budget", self.budget)) if col is not None)
        return ("model", "question_id", *extra, "answer", "correct")


STRING_TYPES = frozenset({"string", "varchar"})
INTEGER_TYPES = frozenset({
    "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "ubigint", "byte", "short",
    "long", "int",
})
FLOAT_TYPES = frozenset({"float", "double", "real"})


def typed_fields(spec: Spec, kind: Callable[[str], str]) -> tuple[str, ...]:
    """The short names whose source column's type (``kind(column)``: the engine's type name, lower case, without
    parameters) needs no canonicalising: key columns of strings or integers (their cast to a string is one-to-one,
    so nothing merges in a second aggregation), a correctness flag of booleans or integers (1/0; any other integer
    becomes NULL, which is an error anyway), numeric tokens and budgets (never "not a number"), integer sample ids.
    """
    out = []
    for short, col in spec.fields().items():
        t = kind(col).split("(")[0].strip().lower()
        if short.startswith("q") or short in ("m", "a", "g"):
            ok = t in STRING_TYPES or t in INTEGER_TYPES
        elif short == "c":
            ok = t == "boolean" or t in INTEGER_TYPES
        elif short in ("t", "b"):
            ok = t in INTEGER_TYPES or t in FLOAT_TYPES or t == "decimal"
        else:  # s
            ok = t in INTEGER_TYPES
        if ok:
            out.append(short)
    return tuple(out)


def projection(spec: Spec, quote: Callable[[str], str], file_expr: str) -> str:
    """``SELECT <source col> AS q0, ...`` list for the engine's source view (its quoting, its file column)."""
    cols = [f"{quote(src)} AS {short}" for short, src in spec.fields().items()]
    return ", ".join([*cols, f"{file_expr} AS harness_file"])


def _literals(values: frozenset[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values) if v)


def _bool_expr(col: str) -> str:
    v = f"lower(trim(CAST({col} AS STRING)))"
    return (
        f"CASE WHEN {v} IN ({_literals(TRUE_STRINGS)}) THEN 1 "
        f"WHEN {v} IN ({_literals(FALSE_STRINGS)}) THEN 0 ELSE NULL END"
    )


def _key_exprs(spec: Spec) -> dict[str, str]:
    """The canonical key columns as expressions over the short source names (q0.., m, a, c, g, b)."""
    parts = [f"CAST(q{i} AS STRING)" for i in range(len(spec.question))]
    if len(parts) == 1:
        question = parts[0]
    else:
        nulls = " OR ".join(f"q{i} IS NULL" for i in range(len(parts)))
        question = f"CASE WHEN {nulls} THEN NULL ELSE concat_ws('/', {', '.join(parts)}) END"
    out = {
        "model": "CAST(m AS STRING)" if spec.model else "'model'",
        "question_id": question,
        "answer": "CAST(a AS STRING)" if spec.answer else "CAST(NULL AS STRING)",
        "correct": _bool_expr("c"),
    }
    if spec.group:
        out["grp"] = "CAST(g AS STRING)"
    if spec.budget:
        out["budget"] = "TRY_CAST(b AS DOUBLE)"
    return out


def _raw_keys(spec: Spec) -> list[str]:
    """The source columns the first aggregation groups by (typed as read: no per-row casts)."""
    return [k for k in spec.fields() if k not in ("s", "t")]


def _bad_expr(spec: Spec) -> str:
    checks = [f"{x} IS NOT NULL AND TRY_CAST({x} AS DOUBLE) IS NULL" for x, col in (("t", spec.tokens),
                                                                                  ("b", spec.budget))
              if col and x not in spec.typed]
    return " OR ".join(f"({c})" for c in checks) if checks else "false"


def canonical_sql(spec: Spec, carry: Sequence[str] = ()) -> str:
    """The canonical per-sample view over ``harness_src`` (typed columns, flags for bad values): used by the
    duplicate check's error path and the bad-row look-up.

    ``carry``: further expressions over ``harness_src`` kept in the view (row numbers, the raw values to quote).
    """
    cols = [f"{expr} AS {name}" for name, expr in _key_exprs(spec).items()]
    cols += [
        "c IS NULL OR trim(CAST(c AS STRING)) = '' AS correct_empty",
        ("TRY_CAST(s AS BIGINT)" if spec.sample else "CAST(NULL AS BIGINT)") + " AS sample_num",
        ("TRY_CAST(t AS DOUBLE)" if spec.tokens else "CAST(NULL AS DOUBLE)") + " AS tok",
        ("t IS NOT NULL AND TRY_CAST(t AS DOUBLE) IS NULL" if spec.tokens else "false") + " AS tok_bad",
        "harness_file",
    ]
    if spec.budget:
        cols.append("b IS NOT NULL AND TRY_CAST(b AS DOUBLE) IS NULL AS budget_bad")
    if spec.sample:
        cols.append("CAST(s AS STRING) AS sample_id")
    cols.extend(carry)
    return f"SELECT {', '.join(cols)} FROM {VIEW}"


def single_level(spec: Spec) -> bool:
    """True when the first aggregation's keys are already the canonical ones (one question column; every key's
    type in :attr:`Spec.typed`), so the second aggregation would merge nothing and is left out."""
    return len(spec.question) == 1 and all(k in spec.typed for k in _raw_keys(spec))


def folds_duplicates(spec: Spec) -> bool:
    """True when the class query can carry the bitmap duplicate check (integer sample ids)."""
    return spec.sample is not None and "s" in spec.typed


def class_sql(spec: Spec, *, duplicates: bool = False) -> str:
    """THE reduction: one row per class key with its size, token sum and count, and its first/last sample index.

    First an aggregation over the source columns as read (the per-row work is hashing typed values; no casts);
    then the resulting rows are cast to the canonical keys (strings, the correctness words to 1/0) and, unless
    the keys were canonical already (:func:`single_level`), aggregated again, so "true" and "TRUE", or 1 and "1",
    land in one class. ``tokens_n`` (samples with a token count) tells whether every sample had one; ``n_bad``
    counts rows whose tokens or budget are not numbers (0 when the columns are numeric), so bad values surface in
    the small output and only then is the offending row looked up. Rows whose correctness is not boolean-like
    form classes with ``correct`` NULL.

    ``duplicates`` (integer sample ids, :func:`folds_duplicates`): the same scan also runs the bitmap duplicate
    check of :func:`duplicate_bucket_sql` as a second grouping set; its rows have ``harness_set`` 0 and ``lo``
    the first id of a bucket holding a repeated id (none when there is no duplicate), the class rows
    ``harness_set`` 1. One pass over the input instead of two (a second parse of JSON lines).
    """
    raw = ", ".join(_raw_keys(spec))
    tok = "TRY_CAST(t AS DOUBLE)" if spec.tokens else "CAST(NULL AS DOUBLE)"
    smp = "TRY_CAST(s AS BIGINT)" if spec.sample else "CAST(NULL AS BIGINT)"
    bad = _bad_expr(spec)
    aggs = (
        f"COUNT(*) AS size, SUM({tok}) AS tokens_sum, COUNT({tok}) AS tokens_n, "
        f"MIN({smp}) AS first_sample, MAX({smp}) AS last_sample, COUNT({smp}) AS sample_n, "
        + ("CAST(0 AS BIGINT) AS n_bad" if bad == "false"
           else f"CAST(SUM(CASE WHEN {bad} THEN 1 ELSE 0 END) AS BIGINT) AS n_bad")
    )
    fold = duplicates and folds_duplicates(spec)
    if fold:
        ids = ", ".join(k for k in _raw_keys(spec) if k.startswith("q") or k == "m")
        r = f"((CAST(s AS BIGINT) % {BUCKET}) + {BUCKET}) % {BUCKET}"
        src = (f"(SELECT {VIEW}.*, CAST(s AS BIGINT) - {r} AS lo, CAST(1 AS BIGINT) << {r} AS bit "
               f"FROM {VIEW}) harness_b")
        inner = (
            f"SELECT {raw}, lo, GROUPING(lo) AS harness_set, {aggs}, bit_count(bit_or(bit)) AS harness_bits "
            f"FROM {src} GROUP BY GROUPING SETS (({raw}), ({ids}, lo))"
        )
        tail = carry = ", harness_set, lo"
        where = " WHERE harness_set = 1 OR sample_n > harness_bits"
    else:
        inner = f"SELECT {raw}, {aggs} FROM {VIEW} GROUP BY {raw}"
        tail = where = carry = ""
    keyed = ", ".join(f"{expr} AS {name}" for name, expr in _key_exprs(spec).items())
    middle = (
        f"SELECT {keyed}, size, tokens_sum, tokens_n, first_sample, last_sample, sample_n, n_bad{carry} "
        f"FROM ({inner}) harness_inner{where}"
    )
    if single_level(spec):
        return middle
    keys = ", ".join(spec.keys)
    return (
        f"SELECT {keys}, CAST(SUM(size) AS BIGINT) AS size, SUM(tokens_sum) AS tokens_sum, "
        f"CAST(SUM(tokens_n) AS BIGINT) AS tokens_n, MIN(first_sample) AS first_sample, "
        f"MAX(last_sample) AS last_sample, CAST(SUM(sample_n) AS BIGINT) AS sample_n, "
        f"CAST(SUM(n_bad) AS BIGINT) AS n_bad{tail} FROM ({middle}) harness_keyed GROUP BY {keys}{tail}"
    )


def duplicate_sql(spec: Spec, where: str | None = None) -> str:
    """One repeated (model, question, sample id), if any: a group-by over the rows (by the source values as read)
    whose key count is the number of rows (as costly as the reduction; see :func:`duplicate_bucket_sql`).
    ``where`` restricts it to some rows (a condition over ``harness_src``)."""
    raw = ", ".join([k for k in spec.fields() if k.startswith("q") or k in ("m", "s")])
    ex = _key_exprs(spec)
    cond = f" WHERE {where}" if where else ""
    return (
        f"SELECT {ex['model']} AS model, {ex['question_id']} AS question_id, CAST(s AS STRING) AS sample_id "
        f"FROM (SELECT {raw} FROM {VIEW}{cond} GROUP BY {raw} HAVING COUNT(*) > 1 LIMIT 1) harness_dup"
    )


BUCKET = 62
"""Sample ids per bitmap in :func:`duplicate_bucket_sql` (62 bits: ``1 << 62`` is still a positive BIGINT)."""


def duplicate_bucket_sql(spec: Spec) -> str:
    """The cheap exact duplicate check for integer sample ids: one (model, question, first id of a bucket) whose
    bucket holds a repeated id, if any.

    Ids are cut into buckets of :data:`BUCKET` consecutive values; per (model, question, bucket) the query keeps
    the row count and the OR of ``1 << (id - bucket start)``. A bucket holds a repeated id exactly when its row
    count exceeds the number of bits set, so the check is exact, but its hash table has one entry per bucket
    (about rows / 62 for ids 0..n-1) instead of one per row. Rows without a sample id are not seen here (the
    class table counts them). The matching bucket is then searched with :func:`duplicate_sql` restricted to it.
    """
    raw = [k for k in spec.fields() if k.startswith("q") or k == "m"]
    keys = ", ".join(raw)
    r = f"((CAST(s AS BIGINT) % {BUCKET}) + {BUCKET}) % {BUCKET}"
    inner = (
        f"SELECT {keys}, CAST(s AS BIGINT) - {r} AS lo, CAST(1 AS BIGINT) << {r} AS bit "
        f"FROM {VIEW} WHERE s IS NOT NULL"
    )
    ex = _key_exprs(spec)
    return (
        f"SELECT {ex['model']} AS model, {ex['question_id']} AS question_id, lo FROM (SELECT {keys}, lo "
        f"FROM ({inner}) harness_bits GROUP BY {keys}, lo HAVING COUNT(*) > bit_count(bit_or(bit)) LIMIT 1) "
        "harness_dup"
    )


def literal(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled), for DuckDB and Spark SQL alike."""
    return "'" + value.replace("'", "''") + "'"


def duplicate_in_sql(spec: Spec, model: str, question: str, lo: int | None) -> str:
    """:func:`duplicate_sql` over the rows of one (model, question) and, given ``lo``, one bucket of sample ids
    (or, without, the rows with no sample id)."""
    ex = _key_exprs(spec)
    lit = [literal(v) for v in (model, question)]
    ids = "s IS NULL" if lo is None else f"CAST(s AS BIGINT) BETWEEN {int(lo)} AND {int(lo) + BUCKET - 1}"
    return duplicate_sql(spec, f"{ex['model']} = {lit[0]} AND {ex['question_id']} = {lit[1]} AND {ids}")


BAD_ROW_CONDITIONS: dict[str, str] = {
    "question_id": "question_id IS NULL",
    "correct": "correct IS NULL",
    "tokens": "tok_bad",
    "budget": "budget_bad",
    "answer": "answer IS NULL AND correct = 1",
}
"""WHERE clauses (over the canonical view) selecting the rows behind each kind of bad value."""


def bad_files_sql(condition: str) -> str:
    """The first file (by name) holding a row that meets ``condition``."""
    return f"SELECT MIN(harness_file) AS f FROM {CANON} WHERE {condition}"
