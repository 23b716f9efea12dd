"""inspect_ai eval logs: ``.eval`` (zip) and ``.json``; one rollout per (sample id, epoch).

Layout (UKGovernmentBEIS/inspect_ai ``src/inspect_ai/log/_log.py`` ``EvalLog``/``EvalSample``/``EvalSpec`` and
``src/inspect_ai/log/_recorders/eval.py`` for the zip members; docs reference ``inspect_ai.log``):

* ``.eval`` zip: ``header.json`` (the EvalLog without samples: ``version``, ``status``, ``eval`` with ``task``
  and ``model``, ``results``, ``stats``) and one member per sample ``samples/<id>_epoch_<epoch>.json``
  (``_journal/*`` and ``summaries.json`` are ignored).
* ``.json``: the whole EvalLog, samples under ``samples``.
* Each EvalSample: ``id``, ``epoch``, ``target``, ``output`` (``completion``, ``usage`` with ``input_tokens``,
  ``output_tokens``, ``total_tokens``), ``scores`` (scorer name -> Score ``{value, answer, explanation}``),
  ``model_usage`` (model name -> ModelUsage with ``output_tokens``, ...).

Correctness is the value of one scorer (``--correct-col NAME``; default the first scorer of each sample):
``C`` correct; ``I`` incorrect; ``N`` no answer (incorrect); ``P`` partial (counted as incorrect, noted);
booleans and 0/1 as themselves. The sample's answer is the scorer's ``answer`` when it set one, otherwise the
extractor (``auto``) applied to ``output.completion``. Tokens per sample = ``output_tokens`` summed over
``model_usage`` (falling back to ``output.usage.output_tokens``). The epoch is the sample id within a
question.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import extract_answer
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import ZIP_MAGIC, check_file, decode_utf8, head_bytes, read_json

_SAMPLE = re.compile(r"^samples/.+_epoch_\d+\.json$")
VALUE_MAP = {"C": True, "I": False, "N": False, "P": False}


def _iter_zip(path: str) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HarnessInputError(
            f"not a readable .eval zip ({exc})",
            source=path,
            fix="the file is truncated or damaged; copy it again",
        ) from None

    def load_member(name: str) -> dict[str, Any]:
        try:
            raw = zf.read(name)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise HarnessInputError(
                f"cannot read member {name} ({exc})",
                source=path,
                fix="the file is truncated or damaged; copy it again",
            ) from None
        try:
            obj = json.loads(decode_utf8(raw, f"{path}:{name}"))
        except json.JSONDecodeError as exc:
            raise HarnessInputError(
                f"malformed JSON in member {name} ({exc.msg})", source=path, line=exc.lineno
            ) from None
        if not isinstance(obj, dict):
            raise HarnessInputError(f"member {name} is not a JSON object", source=path)
        return obj

    names = zf.namelist()
    header = load_member("header.json") if "header.json" in names else {}
    members = sorted(n for n in names if _SAMPLE.match(n))
    if not members:
        raise HarnessInputError(
            "the .eval log holds no samples/*.json members",
            source=path,
            fix="the eval did not finish or logged no samples",
        )

    def gen() -> Iterator[tuple[str, dict[str, Any]]]:
        for n in members:
            yield n, load_member(n)

    return header, gen()


def _correct(value: Any, *, source: str, where: str) -> tuple[bool, bool]:
    """(correct, partial) from a Score value."""
    if isinstance(value, bool):
        return value, False
    if isinstance(value, str) and value in VALUE_MAP:
        return VALUE_MAP[value], value == "P"
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), False
    raise HarnessInputError(
        f"score value {value!r} is not boolean-like",
        source=source,
        column=where,
        fix="accepted: C/I/N/P (inspect_ai CORRECT/INCORRECT/NOANSWER/PARTIAL), true/false, 1/0; "
        "choose another scorer with --correct-col",
    )


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load an inspect_ai log."""
    check_file(source)
    if head_bytes(source, 4) == ZIP_MAGIC:
        header, samples = _iter_zip(source)
    else:
        log = read_json(source)
        if not isinstance(log, dict) or not isinstance(log.get("samples"), list):
            raise HarnessInputError(
                "an inspect_ai .json log needs a 'samples' list",
                source=source,
                fix="the eval logged no samples (or this is not an inspect log)",
            )
        header = log
        samples = ((f"samples[{i}]", s) for i, s in enumerate(log["samples"]))
    model = str((header.get("eval") or {}).get("model", "model"))
    rows: dict[str, list[Any]] = {k: [] for k in ("question_id", "sample_id", "text", "correct", "tokens")}
    partial = 0
    scorer_used: set[str] = set()
    for where, s in samples:
        if "id" not in s or "epoch" not in s:
            raise HarnessInputError(
                f"{where} lacks 'id' or 'epoch'", source=source, fix="inspect_ai samples carry id and epoch"
            )
        scores = s.get("scores") or {}
        if not scores:
            raise HarnessInputError(
                f"sample {s['id']!r} epoch {s['epoch']} has no scores",
                source=source,
                column="scores",
                fix="score the log (inspect score) before loading it",
            )
        name = columns.correct if columns.correct is not None else next(iter(scores))
        if name not in scores:
            raise HarnessInputError(
                f"no scorer {name!r} in sample {s['id']!r}",
                source=source,
                column="scores",
                fix=f"scorers present: {', '.join(scores)}",
            )
        scorer_used.add(name)
        score = scores[name] or {}
        corr, part = _correct(score.get("value"), source=source, where=f"scores.{name}.value")
        partial += part
        answer = score.get("answer")
        if isinstance(answer, str) and answer.strip():
            text: str | None = answer
        else:
            text = extract_answer((s.get("output") or {}).get("completion"), options.extractor or "auto")
        usage = s.get("model_usage") or {}
        tok = sum(float(u.get("output_tokens") or 0) for u in usage.values()) if usage else None
        if tok is None:
            out_usage = (s.get("output") or {}).get("usage") or {}
            tok = out_usage.get("output_tokens")
        rows["question_id"].append(str(s["id"]))
        rows["sample_id"].append(int(s["epoch"]))
        rows["text"].append(text)
        rows["correct"].append(corr)
        rows["tokens"].append(np.nan if tok is None else float(tok))
    df = pd.DataFrame(rows)
    df["model"] = model
    if df["tokens"].isna().all():
        df = df.drop(columns=["tokens"])
    notes = [
        f"{source}: inspect_ai log, model {model}, scorer {', '.join(sorted(scorer_used))}, "
        f"{df['sample_id'].nunique()} epochs"
    ]
    if partial:
        notes.append(f"{partial} samples scored PARTIAL counted as incorrect")
    df = df.rename(columns={"text": "answer"})
    return finish(df, source=source, fmt="inspect", options=options, stopping=stopping, notes=notes)
