"""Gold answers from a side file (``--gold FILE``) for logs that have neither correctness flags nor gold.

The file is any generic table (CSV, TSV, JSONL[.gz], Parquet) with a question id column (first present of
``question_id``, ``question_idx``, ``id``, ``problem_idx``, ``task_id``, ``doc_id``, ``idx``) and a gold
column (first present of ``gold``, ``expected_answer``, ``gt_answer``, ``target``, ``answer``). A gold text
holding a GSM8K-style ``#### 72`` (openai/grade-school-math ``train.jsonl`` / ``test.jsonl`` ``answer`` field,
Faithful-CoT ``data/*/test.jsonl``) is reduced to the text after ``####``. Several rows per question (e.g. an
answer-histogram parquet with a ``gold`` column) must agree.
"""

from __future__ import annotations

import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import extract_hash

GOLD_QUESTION = ("question_id", "question_idx", "id", "problem_idx", "task_id", "doc_id", "idx", "unique_id")
GOLD_VALUE = ("gold", "expected_answer", "gt_answer", "target", "answer")


def read_gold(path: str) -> dict[str, str]:
    """question id -> gold answer string."""
    from harness.loaders.generic import read_frame, table_format_from_name

    fmt = table_format_from_name(path)
    if fmt is None:
        raise HarnessInputError(
            "cannot tell the gold file's format from its name",
            source=path,
            fix="name it .csv, .tsv, .jsonl(.gz) or .parquet",
        )
    df = read_frame(path, fmt)
    cols = [str(c) for c in df.columns]
    q = next((c for c in GOLD_QUESTION if c in cols), None)
    g = next((c for c in GOLD_VALUE if c in cols), None)
    if q is None or g is None:
        raise HarnessInputError(
            f"the gold file needs a question id column ({', '.join(GOLD_QUESTION)}) and a gold column "
            f"({', '.join(GOLD_VALUE)})",
            source=path,
            fix=f"columns present: {', '.join(cols)}",
        )
    out: dict[str, str] = {}
    for i, (qid, gold) in enumerate(zip(df[q].astype(str), df[g], strict=True)):
        text = None if gold is None else str(gold)
        if text is not None and "####" in text:
            text = extract_hash(text)
        if text is None:
            raise HarnessInputError("empty gold answer", source=path, row=i, column=g)
        if qid in out and out[qid] != text:
            raise HarnessInputError(
                f"question {qid!r} has two different gold answers ({out[qid]!r}, {text!r})",
                source=path,
                row=i,
                column=g,
                fix="one gold answer per question",
            )
        out[qid] = text
    return out


def attach_gold(long: pd.DataFrame, path: str, *, source: str, notes: list[str]) -> pd.DataFrame:
    """Add a ``gold`` column to a long frame by question id (every question must have one)."""
    gold = read_gold(path)
    qids = long["question_id"].astype(str)
    missing = ~qids.isin(list(gold))
    if missing.any():
        i = int(missing.to_numpy().argmax())
        raise HarnessInputError(
            f"question {qids.iloc[i]!r} has no gold answer in {path}",
            source=source,
            row=i,
            column="question_id",
            fix="the gold file must cover every question of the log (same question ids)",
        )
    out = long.copy()
    out["gold"] = qids.map(gold).astype(object)
    notes.append(f"gold answers for {qids.nunique()} questions read from {path}")
    return out
