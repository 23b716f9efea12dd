"""openai/simple-evals full results: ``<eval>_<model>[_DEBUG]_allresults.json``.

Layout, checked against openai/simple-evals ``simple_evals.py`` (``result_dict = {"score", "metrics",
"htmls", "convos", "metadata"}`` written to ``/tmp/{eval}_{model}{_DEBUG}_allresults.json``), ``common.py``
(``aggregate_results`` keeps one html per example; ``jinja_env`` autoescapes) and ``math_eval.py`` (its
``HTML_JINJA`` with ``<p>Correct Answer: ...</p>``, ``<p>Extracted Answer: ...</p>``, ``<p>Score: ...</p>``;
``score = float(...)``, rendered ``1.0``/``0.0``; an answer the regex does not find is ``None``, rendered as
the text ``None``). The evals repeat their examples as ``examples * n_repeats`` (e.g. ``math_eval.py``,
``gpqa_eval.py``), so there is no question id: row r belongs to question r mod N, and N must be confirmed with
``--n-questions`` (the row count must be a multiple of N). Correctness is the per-example ``Score`` (1/0,
true/false); the extracted answer (HTML-unescaped) is kept as the voting class, and ``None`` (nothing
extracted) counts as no answer.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import read_json

_FIELD = {
    k: re.compile(rf"<p>\s*{k}:\s*(.*?)\s*</p>", re.DOTALL | re.IGNORECASE)
    for k in ("Correct Answer", "Extracted Answer", "Score")
}


def _field(text: str, name: str) -> str | None:
    m = _FIELD[name].search(text)
    return html.unescape(m.group(1)).strip() if m else None


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a simple-evals allresults file (question = row index mod ``options.n_questions``)."""
    data = read_json(source)
    if not isinstance(data, dict) or not isinstance(data.get("htmls"), list):
        raise HarnessInputError(
            "no 'htmls' list", source=source, fix="give the *_allresults.json of simple-evals"
        )
    htmls: list[Any] = data["htmls"]
    if not htmls:
        raise HarnessInputError("the results hold no examples", source=source, column="htmls")
    n_q = options.n_questions
    if n_q is None:
        raise HarnessInputError(
            f"simple-evals logs have no question ids ({len(htmls)} rows = questions x repeats)",
            source=source,
            fix="confirm the number of distinct questions with --n-questions N (rows repeat with period N)",
        )
    if len(htmls) % n_q:
        raise HarnessInputError(
            f"{len(htmls)} rows is not a multiple of --n-questions {n_q}",
            source=source,
            fix="give the number of distinct questions the eval used (rows = questions x repeats)",
        )
    rows: dict[str, list[Any]] = {"question_id": [], "sample_id": [], "answer": [], "correct": [], "gold": []}
    for r, h in enumerate(htmls):
        text = str(h)
        score = _field(text, "Score")
        if score is None:
            raise HarnessInputError(
                "no 'Score:' in the example's HTML",
                source=source,
                row=r,
                column="htmls",
                fix="this eval does not record a per-example score",
            )
        rows["question_id"].append(str(r % n_q))
        rows["sample_id"].append(r // n_q)
        extracted = _field(text, "Extracted Answer")
        rows["answer"].append(None if extracted in (None, "", "None") else extracted)  # None: regex found nothing
        rows["correct"].append(score)
        rows["gold"].append(_field(text, "Correct Answer"))
    df = pd.DataFrame(rows)
    golds = df.groupby("question_id")["gold"].nunique(dropna=True)
    if (golds > 1).any():
        q = golds[golds > 1].index[0]
        raise HarnessInputError(
            f"question {q} (rows {q}, {q}+{n_q}, ...) has different correct answers across repeats",
            source=source,
            column="htmls",
            fix="--n-questions is wrong: rows of one question must share the answer",
        )
    df = df.drop(columns=["gold"])
    df["answer"] = df["answer"].where(df["answer"].notna(), None)
    return finish(
        df,
        source=source,
        fmt="simple-evals",
        options=options,
        stopping=stopping,
        notes=[
            f"{source}: simple-evals, {n_q} questions x {len(htmls) // n_q} repeats "
            "(question = row mod N, confirmed by --n-questions)"
        ],
    )
