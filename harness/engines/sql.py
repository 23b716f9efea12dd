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


def canonical_sql(spec: Spec, carry: Sequence[str] = ()) -> str:
    """The canonical per-sample view over ``harness_src``: typed columns plus flags for bad values.

    ``carry``: further expressions over ``harness_src`` kept in the view (the error path keeps row numbers and
    the raw values to quote).
    """
    parts = [f"CAST(q{i} AS STRING)" for i in range(len(spec.question))]
    if len(parts) == 1:
        question = parts[0]
    else:
        nulls = " OR ".join(f"q{i} IS NULL" for i in range(len(parts)))
        question = f"CASE WHEN {nulls} THEN NULL ELSE concat_ws('/', {', '.join(parts)}) END"
    cols = [
        ("CAST(m AS STRING)" if spec.model else "'model'") + " AS model",
        f"{question} AS question_id",
        ("CAST(a AS STRING)" if spec.answer else "CAST(NULL AS STRING)") + " AS answer",
        f"{_bool_expr('c')} AS correct",
        "c IS NULL OR trim(CAST(c AS STRING)) = '' AS correct_empty",
        ("TRY_CAST(s AS BIGINT)" if spec.sample else "CAST(NULL AS BIGINT)") + " AS sample_num",
        ("TRY_CAST(t AS DOUBLE)" if spec.tokens else "CAST(NULL AS DOUBLE)") + " AS tok",
        ("t IS NOT NULL AND TRY_CAST(t AS DOUBLE) IS NULL" if spec.tokens else "false") + " AS tok_bad",
        "harness_file",
    ]
    if spec.group:
        cols.append("CAST(g AS STRING) AS grp")
    if spec.budget:
        cols.append("TRY_CAST(b AS DOUBLE) AS budget")
        cols.append("b IS NOT NULL AND TRY_CAST(b AS DOUBLE) IS NULL AS budget_bad")
    if spec.sample:
        cols.append("CAST(s AS STRING) AS sample_id")
    cols.extend(carry)
    return f"SELECT {', '.join(cols)} FROM {VIEW}"


def class_sql(spec: Spec) -> str:
    """THE reduction: one row per class key with its size, token sum and count, and its first/last sample index.

    ``tokens_n`` (samples with a token count) tells whether every sample of the class had one; ``n_bad`` counts
    rows whose tokens (or budget) are not numbers, so bad values surface in the small output and only then is
    the offending row looked up. Rows whose correctness is not boolean-like form classes with ``correct`` NULL.
    """
    keys = ", ".join(spec.keys)
    bad = "tok_bad" + (" OR budget_bad" if spec.budget else "")
    return (
        f"SELECT {keys}, COUNT(*) AS size, SUM(tok) AS tokens_sum, COUNT(tok) AS tokens_n, "
        f"MIN(sample_num) AS first_sample, MAX(sample_num) AS last_sample, COUNT(sample_num) AS sample_n, "
        f"SUM(CASE WHEN {bad} THEN 1 ELSE 0 END) AS n_bad "
        f"FROM {CANON} GROUP BY {keys}"
    )


def duplicate_sql() -> str:
    """One repeated (model, question, sample id), if any (the check costs a second group-by over the rows)."""
    return (
        f"SELECT model, question_id, sample_id FROM {CANON} GROUP BY model, question_id, sample_id "
        f"HAVING COUNT(*) > 1 LIMIT 1"
    )


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
