"""inspect_ai eval logs: ``.eval`` (zip) and ``.json``; one rollout per (sample id, epoch).

Layout, checked against UKGovernmentBEIS/inspect_ai ``src/inspect_ai/log/_log.py`` (``EvalLog``,
``EvalSample``, ``EvalSpec``), ``src/inspect_ai/log/_recorders/eval.py`` (zip members) and
``src/inspect_ai/scorer/_metric.py`` (``Score``, ``CORRECT``/``INCORRECT``/``PARTIAL``/``NOANSWER``,
``value_to_float``):

* ``.eval`` zip (members deflated, or Zstandard-compressed, ZIP method 93, in current releases, checked
  against inspect_ai 0.3.285 ``src/inspect_ai/_util/zipfile.py``): ``_journal/start.json`` (``version``,
  ``eval``, ``plan``; written when the eval starts),
  ``_journal/summaries/<n>.json``, one member per sample ``samples/<id>_epoch_<epoch>.json``, and when the eval
  finished ``summaries.json``, ``reductions.json`` and ``header.json`` (the EvalLog without samples:
  ``version``, ``status``, ``eval`` with ``task`` and ``model``, ``plan``, ``results``, ``stats``). The header
  is ``header.json``, else ``_journal/start.json`` (an eval still running or killed), else ``start.json`` (the
  first ``.eval`` releases wrote ``start.json``, ``results.json`` and ``summaries/<n>.json`` at the top level);
  summaries and reductions are ignored.
* ``.json``: the whole EvalLog, samples under ``samples``.
* Each EvalSample: ``id``, ``epoch``, ``input``, ``target``, ``messages``, ``output`` (ModelOutput:
  ``model``, ``choices``, ``completion``, ``usage`` with ``input_tokens``, ``output_tokens``,
  ``total_tokens``), ``scores`` (scorer name -> Score ``{value, answer, explanation, metadata}``; logs older
  than the ``scores`` dict hold one Score under ``score``), ``model_usage`` (model name -> ModelUsage with
  ``input_tokens``, ``output_tokens``, ``total_tokens``, ...), ``error`` (EvalError with ``message`` when the
  sample failed; such a sample has no scores and is refused with that message).

Correctness is the value of one scorer (``--correct-col NAME``; default the first scorer of each sample), read
as inspect's ``value_to_float`` reads it: ``C`` correct; ``I`` incorrect; ``N`` no answer (incorrect); ``P``
partial (counted as incorrect, noted); ``yes``/``true`` and ``no``/``false`` (any case); booleans, 0/1 and
the strings ``"1"``/``"0"``. The sample's answer is the scorer's ``answer`` when it set one that is not the
whole completion; otherwise (no answer, or the whole completion as ``includes()`` and ``match()`` log it) the
extractor (``--extractor``, default ``auto``) applied to ``output.completion`` (a completion where it finds
nothing votes as itself). Epoch reducers (``reductions.json``, the reduced scores in ``results``) are not read:
every epoch is one sample, so the counts do not depend on them. Tokens per sample = ``output_tokens`` of the evaluated
model's entry (``eval.model``) in ``model_usage`` (so a model-graded scorer's usage is not counted); without
that entry, the sum over ``model_usage``; without ``model_usage``, ``output.usage.output_tokens``. The epoch
is the sample id within a question.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError
from harness.answers import extract_answer
from harness.loaders._base import ColumnMap, Loaded, LoadOptions
from harness.loaders._build import finish
from harness.loaders._io import (
    ZIP_MAGIC,
    check_file,
    decode_utf8,
    decompressed_too_large,
    head_bytes,
    max_decompressed_bytes,
    parse_json,
    read_json,
    read_zip_member,
)

_SAMPLE = re.compile(r"^samples/.+_epoch_\d+\.json$")
VALUE_MAP = {"C": True, "I": False, "N": False, "P": False}
_TEXT_VALUES = {"yes": True, "true": True, "no": False, "false": False, "1": True, "0": False}
_START = "_journal/start.json"


ZIP_ZSTANDARD = 93
"""ZIP compression method 93 (Zstandard, APPNOTE 4.4.5): inspect_ai writes ``.eval`` members with it since
its 0.3.1xx releases (``inspect_ai/_util/zipfile.py``, several zstd frames per member)."""


def _zstd_decompress(data: bytes, size: int, *, source: str, name: str) -> bytes:
    """All frames of a Zstandard stream, at most ``size`` bytes (the size the zip directory declares)."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]  # Python >= 3.14

        out = bytes(zstd.ZstdDecompressor().decompress(data, max_length=size + 1))
    except ImportError:
        import zstandard

        try:
            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True) as r:
                out = r.read(size + 1)
        except zstandard.ZstdError as exc:
            raise HarnessInputError(
                f"member {name} is not a valid Zstandard stream ({exc})",
                source=source,
                fix="the file is truncated or damaged; copy it again",
            ) from None
    if len(out) != size:
        raise HarnessInputError(
            f"member {name} decompresses to {len(out)}{'+' if len(out) > size else ''} bytes, not the "
            f"{size} its zip directory declares",
            source=source,
            fix="the file is truncated or damaged; copy it again",
        )
    return out


def read_member(zf: zipfile.ZipFile, name: str, *, source: str) -> bytes:
    """A zip member's bytes; Zstandard members (method 93, which zipfile before 3.14 cannot read) included."""
    info = zf.getinfo(name)
    if info.compress_type != ZIP_ZSTANDARD:
        return read_zip_member(zf, name, source)  # refused unread above the decompressed-size limit
    limit = max_decompressed_bytes()
    if info.file_size > limit:
        raise decompressed_too_large(source, limit, f"member {name} ({info.file_size:,} bytes decompressed)")
    fp = zf.fp
    if fp is None:
        raise HarnessInputError("the zip file is closed", source=source)
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != ZIP_MAGIC:
        raise zipfile.BadZipFile(f"bad local header for {name}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    data = fp.read(info.compress_size)
    if len(data) != info.compress_size:
        raise EOFError(f"member {name} is cut short")
    return _zstd_decompress(data, info.file_size, source=source, name=name)


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
            raw = read_member(zf, name, source=path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise HarnessInputError(
                f"cannot read member {name} ({exc})",
                source=path,
                fix="the file is truncated or damaged; copy it again",
            ) from None
        try:
            obj = parse_json(decode_utf8(raw, f"{path}:{name}"), path)
        except json.JSONDecodeError as exc:
            raise HarnessInputError(
                f"malformed JSON in member {name} ({exc.msg})", source=path, line=exc.lineno
            ) from None
        if not isinstance(obj, dict):
            raise HarnessInputError(f"member {name} is not a JSON object", source=path)
        return obj

    names = zf.namelist()
    # header.json (finished), _journal/start.json (not finished), start.json (the first .eval releases)
    head = next((h for h in ("header.json", _START, "start.json") if h in names), None)
    header = load_member(head) if head is not None else {}
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
    if isinstance(value, str) and value.strip().lower() in _TEXT_VALUES:
        return _TEXT_VALUES[value.strip().lower()], False
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), False
    raise HarnessInputError(
        f"score value {value!r} is not boolean-like",
        source=source,
        column=where,
        fix="accepted: C/I/N/P (inspect_ai CORRECT/INCORRECT/NOANSWER/PARTIAL), yes/no, true/false, 1/0; "
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
    partial = n_whole = n_kept_whole = 0
    scorer_used: set[str] = set()
    for where, s in samples:
        if "id" not in s or "epoch" not in s:
            raise HarnessInputError(
                f"{where} lacks 'id' or 'epoch'", source=source, fix="inspect_ai samples carry id and epoch"
            )
        scores = s.get("scores") or {}
        if not scores and isinstance(s.get("score"), dict):
            scores = {"score": s["score"]}  # logs written before the scores dict (EvalSample.migrate_deprecated)
        if not scores and isinstance(s.get("error"), dict):  # EvalSample.error: EvalError (message, traceback)
            msg = str(s["error"].get("message") or "").strip().splitlines()
            raise HarnessInputError(
                f"sample {s['id']!r} epoch {s['epoch']} ended in an error ({msg[0][:120] if msg else 'no message'})"
                " and has no scores",
                source=source,
                column="error",
                fix="retry the errored samples (inspect eval-retry) so every epoch is scored",
            )
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
        completion = (s.get("output") or {}).get("completion")
        whole = isinstance(completion, str) and isinstance(answer, str) and answer.strip() == completion.strip()
        if isinstance(answer, str) and answer.strip() and not whole:
            text: str | None = answer
        else:
            # includes()/match() log the whole completion as the answer: vote on the extracted final answer
            text = extract_answer(completion, options.extractor or "auto")
            if whole:
                n_whole += 1
                if text is None:
                    text, n_kept_whole = answer, n_kept_whole + 1
        usage = s.get("model_usage") or {}
        tok: float | None
        if model in usage:
            tok = float((usage[model] or {}).get("output_tokens") or 0)
        else:
            tok = sum(float((u or {}).get("output_tokens") or 0) for u in usage.values()) if usage else None
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
    if n_whole:
        notes.append(
            f"{n_whole} samples: the scorer logged the whole completion as its answer (includes(), match()); "
            f"the final answer was extracted from it (--extractor {options.extractor or 'auto'})"
            + (f", {n_kept_whole} without one vote on the whole completion" if n_kept_whole else "")
        )
    df = df.rename(columns={"text": "answer"})
    return finish(df, source=source, fmt="inspect", options=options, stopping=stopping, notes=notes)
