"""Active-Prompt uncertainty files: answer histograms over k few-shot-CoT samples per question.

Format (shizhediao/active-prompt ``generate_uncertainty.py`` at commit 1923e44, file
``final_test_uncertainty_result/gsm8k_fair_few_shot_k=10.txt``; checked against the copy in
../shared/data/activeprompt_gsm8k_train_hist10): one line per question, ``[question_idx, variance, {answer:
count, ...}], uncertainty: U, variance: V``, the list part a Python literal (read with ``ast.literal_eval``).
The answers are the repo's ``answer_extraction`` output; the file has no gold, so ``--gold FILE`` (question id
+ gold, e.g. GSM8K ``train.jsonl`` with ``#### 72`` answers, or a table with a ``gold`` column) is required,
and correctness is graded by the normaliser (numbers compare by value, as the repo's ``float(answer) ==
float(gold)``).
"""

from __future__ import annotations

import ast
import re

import pandas as pd

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._io import check_file, read_text
from harness.loaders.generic import histogram_counts
from harness.loaders.gold import attach_gold

_LINE = re.compile(r"^\s*(\[.*\])\s*,\s*uncertainty\s*:", re.DOTALL)


def looks_like_activeprompt(path: str) -> bool:
    """True when the first non-blank line has the Active-Prompt layout."""
    text = read_text(path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return bool(_LINE.match(first))


def parse_lines(text: str, *, source: str) -> pd.DataFrame:
    """Histogram rows (question_id, answer, count) from the file's text; errors name the line."""
    rows: list[tuple[str, str, int]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        try:
            item = ast.literal_eval(m.group(1)) if m else None
        except (ValueError, SyntaxError):
            item = None
        if not (isinstance(item, list) and len(item) >= 3 and isinstance(item[2], dict)):
            raise HarnessInputError(
                "not an Active-Prompt line ([question_idx, variance, {answer: count}], uncertainty: U, ...)",
                source=source,
                line=lineno,
                fix="repair or delete this line",
            )
        if not item[2]:
            raise HarnessInputError(
                f"question {item[0]!r} has zero samples",
                source=source,
                line=lineno,
                fix="every question needs at least one sample; delete the line",
            )
        for ans, cnt in item[2].items():
            if not isinstance(cnt, int) or cnt < 0:
                raise HarnessInputError(
                    f"count {cnt!r} of answer {ans!r} is not a whole number", source=source, line=lineno
                )
            rows.append((str(item[0]), str(ans), cnt))
    if not rows:
        raise HarnessInputError("the file holds no questions", source=source, fix="it holds no samples")
    return pd.DataFrame(rows, columns=["question_id", "answer", "count"])


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load an Active-Prompt histogram file (gold answers from ``options.gold``)."""
    check_file(source)
    df = parse_lines(read_text(source), source=source)
    if options.gold is None:
        raise HarnessInputError(
            "the Active-Prompt file has no gold answers",
            source=source,
            fix="give them with --gold FILE (question id + gold, e.g. GSM8K train.jsonl)",
        )
    notes: list[str] = []
    df = attach_gold(df, options.gold, source=source, notes=notes)
    counts = histogram_counts(df, source=source, options=options, stopping=stopping, notes=notes)
    return Loaded(counts=counts, rollouts=None, source=source, format="activeprompt", notes=counts.notes)
