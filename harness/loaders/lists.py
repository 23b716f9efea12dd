"""One row per question holding lists of samples (JSONL, JSON, Parquet or a Hugging Face dataset).

Known schemas (field names checked against the sources named):

* ``monkey_business`` — ScalingIntelligence/monkey_business on the Hugging Face hub; the large_language_monkeys
  evaluation script (``llmonk/evaluate``, read via a code excerpt: ``result["is_corrects"] = corrects`` after
  ``is_correct(sample, result["gt_answer"], dset)`` per sample) and third-party readers of the hub data
  (``ds["is_corrects"]``, ``ds["orig_dset_idx"]``): ``samples`` (list of completions), ``is_corrects`` (list of
  bool), ``gt_answer`` (gold), ``question`` (the text; used as the question id so that files of several
  models align), ``orig_dset_idx`` (the index in the original dataset; the question id when ``question`` is
  absent).
* ``search-and-learn`` — huggingface/search-and-learn ``src/sal/search/best_of_n.py`` (read via a code
  excerpt: ``x["completions"]``, ``x["scores"] = prm.score(...)``, ``x["pred"]``, ``x["completion_tokens"]``)
  output datasets: ``completions`` (list of str), ``scores`` (list of per-step PRM score lists; the last step
  is the completion's score, as the repo's ``aggregate_scores(..., "last")``), ``completion_tokens`` (list of
  int, ``len(output.token_ids)``), ``pred``, plus the input's ``answer`` (gold), ``problem``, ``unique_id``
  (MATH-500).
* ``esc`` — Yiwei98/ESC ``GPT3.5_result/*/T*.jsonl``: ``question``, ``answer`` (gold), ``generated_answer``
  (list of completions); default extractor ``esc-letters`` (the repo's ``consistency_last.py`` rule).
* ``faithful-cot`` — veronica320/Faithful-COT ``output_dir/<dataset>/test/<config>/predictions.jsonl``:
  ``id``, ``answer`` (the authors' VOTED answer, not gold), ``completion``, ``completions`` (list); gold from
  ``data/<dataset>/test.jsonl`` (``id``, ``answer`` = "#### gold") via ``--gold``; extractor ``faithful-cot``.

Any other list layout maps with ``--text-col`` (or ``--answer-col``), ``--correct-col``, ``--gold-col``,
``--tokens-col``, ``--score-col``, ``--question-col`` (all naming list columns except question and gold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders.gold import attach_gold


@dataclass(frozen=True)
class ListSchema:
    name: str
    signature: frozenset[str]
    """Columns whose presence identifies the schema."""
    text: str | None = None
    answer: str | None = None
    correct: str | None = None
    gold: str | None = None
    tokens: str | None = None
    score: str | None = None
    question: str | None = None
    extractor: str = "auto"


SCHEMAS: tuple[ListSchema, ...] = (
    ListSchema(
        "monkey_business",
        frozenset({"samples", "is_corrects"}),
        text="samples",
        correct="is_corrects",
        gold="gt_answer",
        question="question",
    ),
    ListSchema(
        "search-and-learn",
        frozenset({"completions", "scores", "answer"}),
        text="completions",
        score="scores",
        tokens="completion_tokens",
        gold="answer",
        question="unique_id",
        extractor="boxed",
    ),
    ListSchema(
        "esc",
        frozenset({"question", "answer", "generated_answer"}),
        text="generated_answer",
        gold="answer",
        extractor="esc-letters",
    ),
    ListSchema(
        "faithful-cot",
        frozenset({"id", "answer", "completion", "completions"}),
        text="completions",
        question="id",
        extractor="faithful-cot",
    ),
)
QUESTION_ID_COLUMNS = ("question_id", "id", "unique_id", "task_id", "doc_id", "problem_id", "idx", "orig_dset_idx")


def detect_schema(columns: Sequence[str]) -> ListSchema | None:
    """The known list schema whose signature columns are all present (most specific first)."""
    cols = set(columns)
    for s in sorted(SCHEMAS, key=lambda s: -len(s.signature)):
        if s.signature <= cols:
            return s
    return None


def _as_list(v: Any) -> list[Any] | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.ndarray):
        return list(v)
    if isinstance(v, (list, tuple)):
        return list(v)
    return None


def _last_score(v: Any) -> float:
    """A completion's score: a number, or the last element of a per-step list (search-and-learn 'last')."""
    lst = _as_list(v)
    if lst is None:
        return float(v) if v is not None else float("nan")
    return float(lst[-1]) if lst else float("nan")


def explode(df: pd.DataFrame, schema: ListSchema, *, source: str, notes: list[str]) -> pd.DataFrame:
    """One row per (question, sample) from one row per question with list-valued columns."""
    list_cols = {
        "text": schema.text,
        "answer": schema.answer,
        "correct": schema.correct,
        "tokens": schema.tokens,
        "score": schema.score,
    }
    list_cols = {k: v for k, v in list_cols.items() if v is not None and v in df.columns}
    lead = schema.text if schema.text in df.columns else schema.answer
    if lead is None or lead not in df.columns:
        raise HarnessInputError(
            f"no list column of samples ({schema.text or schema.answer!r})",
            source=source,
            fix=f"columns present: {', '.join(map(str, df.columns))}; map it with --text-col or --answer-col",
        )
    if schema.question and schema.question in df.columns:
        qcol: str | None = schema.question
    else:
        qcol = next((c for c in QUESTION_ID_COLUMNS if c in df.columns), None)
    if qcol is None:
        notes.append(f"{source}: no question id column; questions are numbered by row (0-based)")
        qids = np.arange(len(df)).astype(str)
    else:
        qids = df[qcol].astype(str).to_numpy()
    out: dict[str, list[Any]] = {"question_id": [], "sample_id": []}
    for k in list_cols:
        out[k] = []
    golds: list[Any] = []
    has_gold = schema.gold is not None and schema.gold in df.columns
    has_model = "model" in df.columns
    models: list[Any] = []
    for i in range(len(df)):
        lead_vals = _as_list(df[lead].iloc[i])
        if lead_vals is None:
            raise HarnessInputError(
                f"{df[lead].iloc[i]!r} is not a list of samples",
                source=source,
                row=i,
                column=lead,
                fix="each row must hold a list (one entry per sample)",
            )
        if len(lead_vals) == 0:
            raise HarnessInputError(
                f"question {qids[i]!r} has zero samples",
                source=source,
                row=i,
                column=lead,
                fix="every question needs at least one sample; drop the row",
            )
        m = len(lead_vals)
        for k, col in list_cols.items():
            vals = lead_vals if col == lead else _as_list(df[col].iloc[i])
            if vals is None or len(vals) != m:
                raise HarnessInputError(
                    f"{len(vals) if vals is not None else 'no'} entries where {lead!r} has {m}",
                    source=source,
                    row=i,
                    column=col,
                    fix="the list columns of one row must have one entry per sample",
                )
            out[k].extend(_last_score(v) for v in vals) if k == "score" else out[k].extend(vals)
        out["question_id"].extend([qids[i]] * m)
        out["sample_id"].extend(range(m))
        if has_gold:
            golds.extend([df[schema.gold].iloc[i]] * m)
        if has_model:
            models.extend([df["model"].iloc[i]] * m)
    frame = pd.DataFrame(out)
    if has_gold:
        frame["gold"] = pd.Series(golds, dtype=object)
    if has_model:
        frame["model"] = models
    return frame


def schema_from_columns(columns: ColumnMap, present: Sequence[str]) -> ListSchema | None:
    """A schema built from the user's column options (when they name a text/answer list column)."""
    if columns.text is None and columns.answer is None:
        return None
    return ListSchema(
        "mapped",
        frozenset(),
        text=columns.text,
        answer=columns.answer,
        correct=columns.correct,
        gold=columns.gold,
        tokens=columns.tokens,
        score=columns.score,
        question=columns.question if columns.question in present else None,
    )


def load_lists(
    df: pd.DataFrame,
    *,
    source: str,
    fmt: str,
    columns: ColumnMap,
    stopping: str | None,
    options: LoadOptions,
    schema: ListSchema | None = None,
) -> Loaded:
    """Long Rollouts from a list-per-question frame, with answers extracted and graded as needed."""
    present = [str(c) for c in df.columns]
    schema = schema_from_columns(columns, present) or schema or detect_schema(present)
    if schema is None:
        raise HarnessInputError(
            "rows hold no recognised list-of-samples columns",
            source=source,
            fix=f"columns present: {', '.join(present)}; name the list of completions with --text-col "
            "(or of answers with --answer-col) and the correctness list with --correct-col",
        )
    notes: list[str] = [f"{source}: read as {schema.name} (one row per question, lists of samples)"]
    long = explode(df, schema, source=source, notes=notes)
    if "correct" not in long.columns and "gold" not in long.columns and options.gold is None:
        raise HarnessInputError(
            f"the {schema.name} rows have no correctness flags and no gold answer",
            source=source,
            fix="give the gold answers with --gold FILE (a table of question id and gold answer)",
        )
    if options.gold is not None:
        long = attach_gold(long, options.gold, source=source, notes=notes)
    return finish(
        long,
        source=source,
        fmt=f"{fmt}:{schema.name}" if fmt != schema.name else fmt,
        options=options,
        stopping=stopping,
        notes=notes,
        default_extractor=schema.extractor,
    )
