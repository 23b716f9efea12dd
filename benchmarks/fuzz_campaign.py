"""Fuzz campaign: generated and mutated inputs through ``harness curves`` / ``harness report``, each outcome classed.

Usage::

    python benchmarks/fuzz_campaign.py --cases 10000 --workers 2          # the on-demand campaign
    python benchmarks/fuzz_campaign.py --cases 10000 --results run.jsonl  # one JSON line per case; rerun resumes
    python benchmarks/fuzz_campaign.py --summarize run.jsonl              # table, time by family, failures
    python benchmarks/fuzz_campaign.py --indices cases.txt --results rerun.jsonl   # only the listed cases
    python benchmarks/fuzz_campaign.py --cases 300 --seed 1 --root /path/to/other/checkout   # another version

Each case is a small folder of input files plus an argv; case ``i`` of seed ``s`` is the same on every run
(``random.Random(s * 1_000_003 + i)``). Families (weights in :data:`FAMILIES`):

* ``rollouts``: a rollouts table (one row per sample) with hostile strings as question ids, answers and model
  names (CR/LF, tabs, quotes, separators, ANSI/OSC escapes, RTL marks, ``=cmd``-style formula prefixes, numbers
  that lose leading zeros, ``NA``/``None``), written as CSV, TSV, JSONL, JSONL.gz, JSON or Parquet. The expected
  answer is known: per model pass@1 = mean over questions of c/n, and the set of question ids.
* ``counts`` / ``histogram``: count tables (question, n, c) and answer histograms, sometimes with one bad cell
  (``inf``, 1e20, -1, 2.5, ``abc``), which must be refused.
* ``structure``: broken structure that must be refused or read exactly: ragged CSV rows, a JSON list or object
  as an id, deep nesting, NUL bytes, duplicate headers, gzip bombs, an ``.eval`` member inflating to gigabytes.
* ``mutation``: byte-level mutations (flip, delete, insert, truncate, duplicate, splice hostile bytes) of the
  real fixtures in ``tests/fixtures``; a success is checked only for invariants (every output parses, values in
  [0, 1], pass@k non-decreasing in k), and counted in its own column.
* ``options``: valid inputs with hostile or out-of-range options (``--seed -1``, ``--bootstrap 200000000``,
  ``--fits ,,,``, ``--out afile/sub``, ...).

Outcome classes: ``clean error`` (exit 2, exactly one stderr line, no warning, no raw control character),
``correct success`` (exit 0 and every check passed), ``success (invariants)`` (mutations: exit 0, invariants
held), ``silent corruption`` (exit 0 but a check failed, or a bad input accepted), ``messy error`` (exit 2 but
more than one line, a warning, or a raw control character on the terminal), ``traceback`` (an exception escaped
``main``), ``hang / memory`` (the per-case timeout or the address-space limit was hit).

Each case runs in a forked worker process (``multiprocessing`` "fork" context, so the parent's imports and numba
compilations are shared) with ``resource.setrlimit(RLIMIT_AS)`` and a wall-clock timeout; the parent kills a
worker that overruns. Timings depend on machine load; only the classification is the result.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import gzip
import io
import json
import math
import multiprocessing as mp
import multiprocessing.connection
import os
import random
import shutil
import struct
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

CLASSES = (
    "clean error",
    "correct success",
    "success (invariants)",
    "silent corruption",
    "messy error",
    "traceback",
    "hang / memory",
)
FAILURES = ("silent corruption", "messy error", "traceback", "hang / memory")

HOSTILE = [
    "plain",
    "with space",
    "a,b",
    'say "hi"',
    "tab\there",
    "line\nbreak",
    "bare\rcr",
    "crlf\r\nend",
    "\x1b]0;TITLE\x07\x1b[2J",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
    "\u200fRTL",
    "=1+1",
    "+cmd",
    "-2",
    "@SUM(A1)",
    "007",
    "7",
    "7.0",
    "1e5",
    "NA",
    "None",
    "null",
    "nan",
    "True",
    "|pipe|",
    "`tick`",
    "<b>&amp;</b>",
    "#hash",
    "back\\slash",
    " lead",
    "trail ",
    "日本語",
    "emoji 🎲",
    "\u2028sep",
    "semi;colon",
    "'quote",
    "x" * 300,
]
FORMATS = ("csv", "tsv", "jsonl", "jsonl.gz", "json", "parquet")
FAMILIES = {"rollouts": 30, "counts": 14, "histogram": 12, "structure": 16, "mutation": 20, "options": 8}
FIXTURE_NAMES = (
    "rollouts.csv",
    "rollouts.tsv",
    "rollouts.jsonl",
    "rollouts.jsonl.gz",
    "rollouts.parquet",
    "counts.csv",
    "histogram.csv",
    "inspect_log.eval",
    "inspect_log.json",
    "bon-model_text_t1.0_n9.jsonl",
    "search_and_learn.jsonl",
    "mapped_text.jsonl",
)


@dataclass
class Case:
    """One run: files to write (name -> bytes), the argv (``{d}`` is the case folder) and what to check."""

    family: str
    files: dict[str, bytes]
    argv: list[str]
    expect: str  # "success" (checked against `truth`), "error" (must be refused), "either", "invariants"
    truth: dict[str, Any] = field(default_factory=dict)
    note: str = ""


# ------------------------------------------------------------------------------------------ generation
def _string(rng: random.Random, hostile: float = 0.5) -> str:
    if rng.random() < hostile:
        return rng.choice(HOSTILE)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(rng.randint(1, 8)))


def _distinct(rng: random.Random, n: int, hostile: float) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        s = _string(rng, hostile)
        if s not in out:
            out.append(s)
    return out


def _write_table(rows: list[dict[str, Any]], fmt: str) -> bytes:
    import pandas as pd

    df = pd.DataFrame(rows)
    if fmt in ("csv", "tsv"):
        # RFC 4180: a field holding CR must be quoted; pandas' minimal quoting only quotes LF, so quote all text
        # fields when any holds a CR (as harness._atomic.frame_to_csv does for the project's own outputs)
        has_cr = any(isinstance(v, str) and "\r" in v for r in rows for v in r.values())
        quoting = csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL
        return df.to_csv(index=False, sep="," if fmt == "csv" else "\t", quoting=quoting).encode("utf-8")
    if fmt in ("jsonl", "jsonl.gz"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        return gzip.compress(text, mtime=0) if fmt == "jsonl.gz" else text
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def gen_rollouts(rng: random.Random) -> Case:
    fmt = rng.choice(FORMATS)
    models = _distinct(rng, rng.choice([1, 1, 2]), 0.5)
    nq = rng.randint(1, 6)
    rows: list[dict[str, Any]] = []
    truth_p: dict[str, float] = {}
    qids_all: set[tuple[str, str]] = set()
    for m in models:
        qids = _distinct(rng, nq, 0.6)
        ps = []
        for q in qids:
            n = rng.randint(1, 6)
            answers = _distinct(rng, rng.randint(1, 3), 0.6)
            good = rng.choice(answers)
            c = 0
            for s in range(n):
                a = rng.choice(answers)
                c += a == good
                row: dict[str, Any] = {"question_id": q, "sample_id": s, "answer": a, "correct": a == good}
                if len(models) > 1:
                    row["model"] = m
                rows.append(row)
            ps.append(c / n)
            qids_all.add((m if len(models) > 1 else "model", q))
        truth_p[m if len(models) > 1 else "model"] = sum(ps) / len(ps)
    rng.shuffle(rows)
    name = f"in.{fmt}"
    command = "report" if rng.random() < REPORT_SHARE else "curves"
    extra = ["--normalizer", "none"]
    return Case("rollouts", {name: _write_table(rows, fmt)}, _argv(rng, command, [name], extra), "success",
                {"pass1": truth_p, "questions": sorted(qids_all), "command": command}, fmt)


def _argv(rng: random.Random, command: str, inputs: list[str], extra: list[str]) -> list[str]:
    out = "{d}/out.csv" if command == "curves" else "{d}/report"
    argv = [command, *("{d}/" + i for i in inputs), "--out", out, *extra]
    argv += ["--bootstrap", str(rng.choice([0, 0, 20]))]
    if rng.random() < 0.7:
        argv.append("--quiet")
    if command == "curves" and "--k" not in extra and rng.random() < 0.3:  # a second --k would override
        argv += ["--k", rng.choice(["all", "1,2", "default"])]
    return argv


BAD_NUMBERS = ["inf", "-inf", "nan", "1e20", "99999999999999999999", "-1", "2.5", "abc", "", "1e400", "0x10"]


def gen_counts(rng: random.Random) -> Case:
    nq = rng.randint(1, 8)
    qids = _distinct(rng, nq, 0.4)
    ns = [rng.choice([1, 2, 5, 10, 100, 1000]) for _ in qids]
    cs = [rng.randint(0, n) for n in ns]
    cells: list[list[str]] = [[q, str(n), str(c)] for q, n, c in zip(qids, ns, cs, strict=True)]
    bad = rng.random() < 0.4
    if bad:
        i = rng.randrange(nq)
        j = rng.choice([1, 2])
        cells[i][j] = rng.choice(BAD_NUMBERS)
    fmt = rng.choice(("csv", "jsonl", "json"))
    rows = [{"question_id": r[0], "n": r[1], "c": r[2]} for r in cells]
    if fmt != "csv":
        for r in rows:
            for k in ("n", "c"):
                v = r[k]
                with contextlib.suppress(ValueError):
                    r[k] = int(v) if v.lstrip("-").isdigit() else float(v) if v not in ("", "0x10") else v
                if isinstance(r[k], float) and not math.isfinite(r[k]):
                    r[k] = str(v)
    data = _write_table(rows, fmt)
    truth = {"pass1": {"model": sum(c / n for n, c in zip(ns, cs, strict=True)) / nq},
             "questions": sorted(("model", q) for q in qids)}
    command = "report" if rng.random() < REPORT_SHARE else "curves"
    # a bad cell that still reads as the right whole number (e.g. "" never) is an error either way
    return Case("counts", {f"in.{fmt}": data}, _argv(rng, command, [f"in.{fmt}"], []),
                "error" if bad else "success", {**truth, "command": command}, f"{fmt} bad={bad}")


def gen_histogram(rng: random.Random) -> Case:
    nq = rng.randint(1, 5)
    qids = _distinct(rng, nq, 0.5)
    rows: list[dict[str, Any]] = []
    ps = []
    for q in qids:
        answers = _distinct(rng, rng.randint(1, 4), 0.5)
        good = rng.choice(answers)
        counts = [rng.randint(0, 9) for _ in answers]
        if sum(counts) == 0:
            counts[0] = 1
        for a, k in zip(answers, counts, strict=True):
            rows.append({"question_id": q, "answer": a, "count": k, "correct": a == good})
        ps.append(sum(k for a, k in zip(answers, counts, strict=True) if a == good) / sum(counts))
    bad = rng.random() < 0.35
    if bad:
        rows[rng.randrange(len(rows))]["count"] = rng.choice(["inf", "1e20", "99999999999999999999", "-3", "1.5",
                                                               "x", float("inf"), 2**70])
    fmt = rng.choice(("csv", "tsv", "jsonl", "json"))
    if fmt == "json" or fmt == "jsonl":
        for r in rows:
            if isinstance(r["count"], float) and not math.isfinite(r["count"]):
                r["count"] = "inf"
    command = "report" if rng.random() < REPORT_SHARE else "curves"
    return Case("histogram", {f"in.{fmt}": _write_table(rows, fmt)},
                _argv(rng, command, [f"in.{fmt}"], ["--normalizer", "none"]),
                "error" if bad else "success",
                {"pass1": {"model": sum(ps) / nq}, "questions": sorted(("model", q) for q in qids),
                 "command": command}, f"{fmt} bad={bad}")


class _RepeatingDeflate:
    """Raw deflate that ends every write with a full flush, so a repeated block is compressed once.

    After ``Z_FULL_FLUSH`` the output is byte-aligned and the compressor's dictionary is empty, so an identical
    block always compresses to identical bytes: they are computed on the first write and reused. The stream is
    ordinary deflate (any inflater reads it); building a 4 GiB bomb costs its CRC instead of compressing 4 GiB
    (13-17 s per 1.5 GiB bomb under load, paid in the campaign's parent while its workers waited).
    """

    def __init__(self) -> None:
        self._co = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._cache: dict[bytes, bytes] = {}

    def compress(self, data: bytes) -> bytes:
        out = self._cache.get(data)
        if out is None:
            out = self._co.compress(data) + self._co.flush(zlib.Z_FULL_FLUSH)
            if len(data) >= 1 << 16:
                self._cache[data] = out
        return out

    def flush(self, mode: int = zlib.Z_FINISH) -> bytes:
        return self._co.flush(mode)


BOMB_SIZES = (3 << 29, 4 << 30)  # 1.5 and 4 GiB, both above the 1 GiB default limit


@functools.lru_cache(maxsize=4)
def _gzip_bomb(size: int) -> bytes:
    """A gzip file whose CSV (a header, then ``q,1`` rows) inflates to more than ``size`` bytes (RFC 1952)."""
    head = b"question_id,correct\n"
    chunk = b"q,1\n" * (1 << 18)
    co = _RepeatingDeflate()
    out = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", co.compress(head)]
    crc, total = zlib.crc32(head), len(head)
    for _ in range(size // len(chunk) + 1):
        out.append(co.compress(chunk))
        crc, total = zlib.crc32(chunk, crc), total + len(chunk)
    out.append(co.flush())
    out.append(struct.pack("<II", crc, total & 0xFFFFFFFF))
    return b"".join(out)


@functools.lru_cache(maxsize=4)
def _eval_bomb(size: int) -> bytes:
    src = zipfile.ZipFile(FIXTURES / "inspect_log.eval")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "samples/s1_epoch_1.json":
                obj = json.loads(data)
                obj["padding"] = ""
                text = json.dumps(obj).encode()
                i = text.rindex(b'"padding": ""') + len(b'"padding": "')
                with dst.open(info.filename, "w", force_zip64=True) as fh:
                    fh._compressor = _RepeatingDeflate()  # type: ignore[attr-defined]  # same stream, faster
                    fh.write(text[:i])
                    block = b" " * (1 << 20)
                    for _ in range(size // len(block)):
                        fh.write(block)
                    fh.write(text[i:])
            else:
                dst.writestr(info.filename, data)
    return buf.getvalue()


def gen_structure(rng: random.Random) -> Case:
    kind = rng.choice(["ragged", "ragged_tsv", "list_id", "dict_id", "deep_json", "deep_jsonl", "nul", "dup_header",
                       "cr_id", "gzip_bomb", "eval_bomb", "bom", "only_header", "crlf_file", "extra_field",
                       "eval_hostile"])
    command = "report" if rng.random() < REPORT_SHARE else "curves"
    if kind in ("ragged", "ragged_tsv"):
        sep = "," if kind == "ragged" else "\t"
        lines = [sep.join(["question_id", "correct", "answer"])]
        for i in range(rng.randint(2, 6)):
            lines.append(sep.join([f"q{i}", rng.choice(["true", "false"]), str(i)]))
        j = rng.randrange(1, len(lines))
        lines[j] = sep.join(lines[j].split(sep)[:2])
        name = "in.csv" if sep == "," else "in.tsv"
        return Case("structure", {name: ("\n".join(lines) + "\n").encode()}, _argv(rng, command, [name], []),
                    "error", {}, kind)
    if kind == "extra_field":
        text = "question_id,correct\nq1,true\nq2,false,extra\n"
        return Case("structure", {"in.csv": text.encode()}, _argv(rng, command, ["in.csv"], []), "error", {}, kind)
    if kind in ("list_id", "dict_id"):
        fmt = rng.choice(["jsonl", "json", "jsonl.gz"])
        rows: list[dict[str, Any]] = [{"question_id": "a", "correct": True}, {"question_id": "b", "correct": False}]
        rows.insert(rng.randint(0, 2), {"question_id": ["a"] if kind == "list_id" else {"x": 1}, "correct": True})
        return Case("structure", {f"in.{fmt}": _write_table(rows, fmt)}, _argv(rng, command, [f"in.{fmt}"], []),
                    "error", {}, kind)
    if kind == "deep_json":
        depth = rng.choice([2000, 50000, 200000])
        return Case("structure", {"in.json": ("[" * depth + "]" * depth).encode()},
                    _argv(rng, command, ["in.json"], []), "error", {}, kind)
    if kind == "deep_jsonl":
        depth = rng.choice([2000, 100000])
        text = '{"question_id": "a", "correct": true, "x": ' + "[" * depth + "]" * depth + "}\n"
        return Case("structure", {"in.jsonl": text.encode()}, _argv(rng, command, ["in.jsonl"], []), "either",
                    {"pass1": {"model": 1.0}, "questions": [("model", "a")], "command": command}, kind)
    if kind == "nul":
        text = b"question_id,correct\nq\x001,true\nq2,false\n"
        return Case("structure", {"in.csv": text}, _argv(rng, command, ["in.csv"], []), "either",
                    {"pass1": {"model": 0.5}, "questions": [("model", "q\x001"), ("model", "q2")],
                     "command": command}, kind)
    if kind == "dup_header":
        text = "question_id,correct,correct\nq1,true,false\n"
        return Case("structure", {"in.csv": text.encode()}, _argv(rng, command, ["in.csv"], []), "error", {}, kind)
    if kind == "cr_id":
        rows = [{"question_id": "a\rb", "answer": "x\ry", "correct": True},
                {"question_id": "a\rb", "answer": "z", "correct": False},
                {"question_id": "c\r", "answer": "\r", "correct": False}]
        fmt = rng.choice(["jsonl", "json", "csv"])
        return Case("structure", {f"in.{fmt}": _write_table(rows, fmt)},
                    _argv(rng, "report", [f"in.{fmt}"], ["--normalizer", "none"]), "success",
                    {"pass1": {"model": 0.25}, "questions": [("model", "a\rb"), ("model", "c\r")],
                     "command": "report"}, kind)
    if kind == "gzip_bomb":
        return Case("structure", {"in.csv.gz": _gzip_bomb(rng.choice(BOMB_SIZES))},
                    _argv(rng, "curves", ["in.csv.gz"], []), "error", {}, kind)
    if kind == "eval_bomb":
        return Case("structure", {"in.eval": _eval_bomb(rng.choice(BOMB_SIZES))},
                    _argv(rng, "curves", ["in.eval"], []), "error", {}, kind)
    if kind == "bom":
        text = "\ufeffquestion_id,correct\nq1,true\nq2,false\n"
        return Case("structure", {"in.csv": text.encode()}, _argv(rng, command, ["in.csv"], []), "either",
                    {"pass1": {"model": 0.5}, "questions": [("model", "q1"), ("model", "q2")],
                     "command": command}, kind)
    if kind == "only_header":
        return Case("structure", {"in.csv": b"question_id,correct\n"}, _argv(rng, command, ["in.csv"], []),
                    "error", {}, kind)
    if kind == "crlf_file":
        text = "question_id,correct\r\nq1,true\r\nq2,false\r\n"
        return Case("structure", {"in.csv": text.encode()}, _argv(rng, command, ["in.csv"], []), "success",
                    {"pass1": {"model": 0.5}, "questions": [("model", "q1"), ("model", "q2")],
                     "command": command}, kind)
    # eval_hostile: the inspect log with a hostile model name and sample ids
    src = zipfile.ZipFile(FIXTURES / "inspect_log.eval")
    buf = io.BytesIO()
    evil = rng.choice(HOSTILE)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename in ("header.json", "_journal/start.json"):
                obj = json.loads(data)
                obj["eval"]["model"] = evil
                data = json.dumps(obj).encode()
            dst.writestr(info.filename, data)
    return Case("structure", {"in.eval": buf.getvalue()}, _argv(rng, command, ["in.eval"], []), "invariants",
                {"command": command}, kind)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(["flip", "delete", "insert", "truncate", "dup", "hostile", "byte"])
        if not b:
            b = bytearray(b"x")
        i = rng.randrange(len(b))
        if op == "flip":
            b[i] ^= 1 << rng.randrange(8)
        elif op == "byte":
            b[i] = rng.randrange(256)
        elif op == "delete":
            del b[i : i + rng.randint(1, 16)]
        elif op == "insert":
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == "truncate":
            del b[i:]
        elif op == "dup":
            j = min(len(b), i + rng.randint(1, 64))
            b[j:j] = b[i:j] * rng.randint(1, 3)
        else:
            b[i:i] = rng.choice([*HOSTILE, ",", "\t", '"', "\n", "{", "[", "\\"]).encode("utf-8", "surrogatepass")
    return bytes(b)


def gen_mutation(rng: random.Random) -> Case:
    name = rng.choice(FIXTURE_NAMES)
    data = (FIXTURES / name).read_bytes()
    if name.endswith(".gz") and rng.random() < 0.6:  # mutate the decompressed text, recompress
        data = gzip.compress(_mutate(rng, gzip.decompress(data)), mtime=0)
    elif name.endswith(".eval") and rng.random() < 0.6:  # mutate one member's JSON, re-zip
        src = zipfile.ZipFile(io.BytesIO(data))
        target = rng.choice(src.namelist())
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                d = src.read(info.filename)
                dst.writestr(info.filename, _mutate(rng, d) if info.filename == target else d)
        data = buf.getvalue()
    else:
        data = _mutate(rng, data)
    command = "report" if rng.random() < REPORT_SHARE else "curves"
    return Case("mutation", {name: data}, _argv(rng, command, [name], []), "invariants", {"command": command},
                name)


BAD_OPTIONS = [
    (["--seed", "-1"], "error"),
    (["--bootstrap", "200000000"], "error"),
    (["--bootstrap", "-5"], "error"),
    (["--bootstrap", "abc"], "error"),
    (["--question-col", ",,"], "error"),
    (["--question-col", ""], "error"),
    (["--k", "0"], "error"),
    (["--k", "1,,2"], "either"),
    (["--k", "-3"], "error"),
    (["--k", "99999999999999999999"], "either"),
    (["--k", "abc"], "error"),
    (["--n-questions", "0"], "error"),
    (["--stopping", "\x1b]0;T\x07"], "error"),
    (["--answer-col", "\x1b[2Jnope"], "error"),
    (["--seed", "18446744073709551616"], "error"),
    (["--seed", "3"], "success"),
]
REPORT_OPTIONS = [(["--fits", ",,,"], "error"), (["--fits", "nope"], "error"), (["--figures-for", "-1"], "error"),
                  (["--fits", "beta_binomial"], "success")]
CURVES_OPTIONS = [(["--metrics", ",,"], "error"), (["--metrics", "pass@k,bogus"], "error"),
                  (["--kinds", ""], "error"), (["--metrics", "pass@k"], "success")]


def gen_options(rng: random.Random) -> Case:
    rows = [{"question_id": f"q{i}", "correct": bool(i % 2), "answer": str(i % 2)} for i in range(6)]
    files = {"in.csv": _write_table(rows, "csv"), "afile": b"not a folder\n"}
    truth = {"pass1": {"model": 0.5}, "questions": sorted(("model", f"q{i}") for i in range(6))}
    roll = rng.random()
    command = "report" if rng.random() < 0.3 else "curves"
    if roll < 0.15:
        out = rng.choice(["{d}/afile/sub", "{d}/afile/sub/x.csv", "{d}/missing/deep/x"])
        argv = [command, "{d}/in.csv", "--out", out, "--quiet", "--bootstrap", "0"]
        expect = "error" if "afile" in out or command == "curves" else "success"
        return Case("options", files, argv, expect, {**truth, "command": command, "out": out}, "out")
    pool = BAD_OPTIONS + (REPORT_OPTIONS if command == "report" else CURVES_OPTIONS)
    opt, expect = rng.choice(pool)
    argv = _argv(rng, command, ["in.csv"], opt)
    return Case("options", files, argv, expect, {**truth, "command": command}, " ".join(opt))


GENERATORS = {"rollouts": gen_rollouts, "counts": gen_counts, "histogram": gen_histogram,
              "structure": gen_structure, "mutation": gen_mutation, "options": gen_options}
REPORT_SHARE = 0.01


def make_case(seed: int, index: int) -> Case:
    """Case ``index`` of campaign ``seed`` (deterministic)."""
    rng = random.Random(seed * 1_000_003 + index)
    family = rng.choices(list(FAMILIES), weights=list(FAMILIES.values()))[0]
    return GENERATORS[family](rng)


# ---------------------------------------------------------------------------------------- checking
def _read_csv(path: str) -> Any:
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"model": str, "question_id": str})


def check_success(case: Case, folder: str) -> tuple[bool, str]:
    """Checks on the outputs of a run that exited 0: (passed, why not)."""
    import numpy as np

    command = case.truth.get("command", case.argv[0])
    out = case.truth.get("out")
    if out is not None:
        target = out.format(d=folder)
        if command == "report":
            target = os.path.join(target, "curves.csv")
        if not os.path.exists(target):
            return False, f"exit 0 but {target} missing"
        curves_path = target
    else:
        curves_path = os.path.join(folder, "out.csv") if command == "curves" else os.path.join(folder, "report",
                                                                                              "curves.csv")
    try:
        curves = _read_csv(curves_path)
    except Exception as exc:
        return False, f"curves do not read back: {type(exc).__name__}: {exc}"
    need = {"model", "metric", "k", "value", "kind"}
    if not need <= set(curves.columns):
        return False, f"curves columns {sorted(curves.columns)}"
    vals = curves["value"].to_numpy(float)
    if not np.all(np.isfinite(vals)) or vals.min() < -1e-12 or vals.max() > 1 + 1e-12:
        return False, "a curve value outside [0, 1] or not finite"
    meas = curves[(curves["metric"] == "pass@k") & (curves["kind"] == "measured")]
    for _, g in meas.groupby("model"):
        v = g.sort_values("k")["value"].to_numpy(float)
        if np.any(np.diff(v) < -1e-12):
            return False, "measured pass@k decreases in k"
    if command == "report":
        folder_r = os.path.join(folder, "report") if out is None else out.format(d=folder)
        for name in sorted(os.listdir(folder_r)):
            p = os.path.join(folder_r, name)
            try:
                if name.endswith(".csv"):
                    _read_csv(p)
                elif name.endswith(".json"):
                    with open(p, encoding="utf-8") as fh:
                        json.load(fh)
            except Exception as exc:
                return False, f"{name} does not read back: {type(exc).__name__}"
    if case.expect == "invariants" or "pass1" not in case.truth:
        return True, ""
    p1 = meas[meas["k"] == 1].set_index("model")["value"]
    truth = dict(case.truth["pass1"])
    named = _file_named_model(case, list(map(str, p1.index)))
    if named is not None and set(truth) == {"model"}:  # an input without a model column is named after its file
        truth = {named: truth["model"]}
    if set(map(str, p1.index)) != set(truth):
        return False, f"models {sorted(map(repr, p1.index))[:4]} != {sorted(map(repr, truth))[:4]}"
    for m, v in truth.items():
        if abs(float(p1[m]) - v) > 1e-9:
            return False, f"pass@1 of {m!r} is {float(p1[m])} not {v}"
    if command == "report" and "questions" in case.truth:
        q = _read_csv(os.path.join(folder_r, "questions.csv"))
        got = sorted(zip(q["model"].astype(str), q["question_id"].astype(str), strict=True))
        want = sorted((named if named is not None and m == "model" else m, qq) for m, qq in case.truth["questions"])
        if got != want:
            return False, f"questions.csv ids differ: {len(got)} rows vs {len(want)} ({got[:2]!r} vs {want[:2]!r})"
    return True, ""


def _file_named_model(case: Case, models: list[str]) -> str | None:
    """The model name the loaders give the case's single input file when it has no model column (its stem)."""
    from harness.loaders.generic import model_from_stem

    inputs = [a.removeprefix("{d}/") for a in case.argv[1:] if a.removeprefix("{d}/") in case.files]
    if len(inputs) != 1 or models != [model_from_stem(inputs[0])]:
        return None
    return models[0]


def _is_clean_line(text: str) -> bool:
    return not any((ord(ch) < 32 and ch not in "\n") or 0x7F <= ord(ch) <= 0x9F for ch in text)


def run_in_process(case: Case, folder: str) -> tuple[str, str]:
    """Write the case's files into ``folder``, run ``harness.cli.main``, return (class, detail)."""
    from harness.cli import main

    for name, data in case.files.items():
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
    argv = [a.format(d=folder) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc: Any = main(argv)
        except SystemExit as exc:
            rc = exc.code
        except MemoryError:
            return "hang / memory", "MemoryError"
        except BaseException as exc:
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{os.path.basename(tb.filename)}:{tb.lineno}"
            return "traceback", f"{type(exc).__name__}: {str(exc)[:120]!r} at {where}"
    stderr = err.getvalue()
    warned = [str(w.message)[:80] for w in caught if not issubclass(w.category, (DeprecationWarning,))]
    if rc == 2:
        lines = [ln for ln in stderr.split("\n") if ln.strip() and not ln.startswith("  ")]  # "  ": progress
        one = len(lines) == 1 and lines[0].startswith("harness")
        if one and not warned and _is_clean_line(stderr) and "Traceback" not in stderr:
            if case.expect == "success":
                return "clean error", "refused a valid input: " + lines[0][:400]
            return "clean error", lines[0][:400]
        return "messy error", f"{len(lines)} lines, warnings {warned[:2]}: {stderr[:160]!r}"
    if rc != 0:
        return "traceback", f"exit {rc}: {stderr[-200:]!r}"
    if not _is_clean_line(stderr):
        return "silent corruption", f"raw control character on the terminal: {stderr[:120]!r}"
    if case.expect == "error":
        return "silent corruption", f"accepted a bad input ({case.note})"
    try:
        ok, why = check_success(case, folder)
    except Exception as exc:
        ok, why = False, f"checker: {type(exc).__name__}: {exc}"
    if not ok:
        return "silent corruption", why
    return ("success (invariants)" if case.expect == "invariants" else "correct success"), ""


# ------------------------------------------------------------------------------------------- driver
def _child(case: Case, folder: str, mem_bytes: int, timeout: float, conn: Any) -> None:
    import resource

    soft = mem_bytes
    resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
    try:
        result = run_in_process(case, folder)
    except MemoryError:
        result = ("hang / memory", "MemoryError outside main")
    conn.send(result)
    conn.close()
    os._exit(0)


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def warm_up() -> None:
    """Import and JIT-compile in the parent, so each forked case starts warm; build the bombs (a few seconds)."""
    import matplotlib

    for size in BOMB_SIZES:
        _gzip_bomb(size)
        _eval_bomb(size)

    matplotlib.use("Agg")
    with tempfile.TemporaryDirectory() as d:
        for argv in (
            ["curves", str(FIXTURES / "rollouts.csv"), "--out", f"{d}/o.csv", "--quiet", "--bootstrap", "20"],
            ["report", str(FIXTURES / "rollouts.csv"), "--out", f"{d}/r", "--quiet", "--bootstrap", "20"],
        ):
            from harness.cli import main

            with contextlib.redirect_stderr(io.StringIO()):
                main(argv)


def collect(proc: Any, recv: Any, started: float, timeout: float) -> tuple[str, str] | None:
    """The worker's result if it has finished, else ``None`` (still running, within the timeout).

    Race-free: liveness is read *before* the pipe is polled. A worker sends its result and then exits, so a
    worker seen dead has already written everything it ever will; if the pipe is still empty after that, the
    worker died without a result (the memory limit, a crash). Checking the pipe first and liveness second (the
    first version) misclassified a worker that sent and exited between the two checks (case 7596 of seed 0).
    """
    alive = proc.is_alive()
    if recv.poll():
        try:
            result: tuple[str, str] = recv.recv()
        except EOFError:  # the worker closed the pipe without sending
            proc.join(5)
            return ("hang / memory", f"worker died (exit {proc.exitcode})")
        proc.join(5)
        return result
    if not alive:
        proc.join()
        return ("hang / memory", f"worker died (exit {proc.exitcode}, likely the memory limit)")
    if time.time() - started > timeout:
        proc.kill()
        proc.join()
        return ("hang / memory", f"timeout after {timeout:.0f} s")
    return None


def done_cases(results: str | None) -> dict[int, dict[str, Any]]:
    """The cases already recorded in a results file (one JSON object per line; a torn last line is ignored)."""
    out: dict[int, dict[str, Any]] = {}
    if results is None or not os.path.exists(results):
        return out
    with open(results, encoding="utf-8") as fh:
        for line in fh:
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                out[int(rec["case"])] = rec
    return out


def run_campaign(n_cases: int, seed: int, workers: int, timeout: float, mem_extra: int, start: int = 0,
                 verbose: bool = False, results: str | None = None, indices: list[int] | None = None,
                 ) -> tuple[Counter[tuple[str, str]], list[tuple[int, str, str, str]]]:
    """Run cases ``start .. start+n_cases-1``; returns counts by (family, class) and the failures.

    With ``results``, each finished case is appended to that file as one JSON line (case, family, note, command,
    class, detail, seconds) as soon as it is classed, so a stopped campaign keeps its progress; cases already in
    the file are not run again, and the returned table covers only the cases run now. ``indices`` (e.g. the
    cases a fix could change) replaces the range.
    """
    ctx = mp.get_context("fork")
    warm_up()
    mem = _vm_size() + mem_extra
    table: Counter[tuple[str, str]] = Counter()
    failures: list[tuple[int, str, str, str]] = []
    base = tempfile.mkdtemp(prefix="harness-fuzz-")
    skip = done_cases(results)
    wanted = range(start, start + n_cases) if indices is None else indices
    pending = [i for i in wanted if i not in skip]
    n_cases = len(pending)
    sink = open(results, "a", encoding="utf-8") if results is not None else None  # noqa: SIM115
    running: dict[int, tuple[Any, Any, float, Case, str]] = {}
    done = 0
    t0 = time.time()
    try:
        while pending or running:
            while pending and len(running) < workers:
                i = pending.pop(0)
                case = make_case(seed, i)
                folder = os.path.join(base, f"c{i}")
                os.makedirs(folder)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(case, folder, mem, timeout, send))
                proc.start()
                send.close()
                running[i] = (proc, recv, time.time(), case, folder)
            # block until a worker's pipe is readable or a worker ends (no busy polling: the parent shares the
            # machine's cores with its workers); the timeout bounds how late a hang is noticed
            mp.connection.wait([r for _, r, *_ in running.values()] + [p.sentinel for p, *_ in running.values()],
                               timeout=1.0)
            for i in list(running):
                proc, recv, t, case, folder = running[i]
                result = collect(proc, recv, t, timeout)
                if result is None:
                    continue
                recv.close()
                del running[i]
                shutil.rmtree(folder, ignore_errors=True)
                cls, detail = result
                table[(case.family, cls)] += 1
                if sink is not None:
                    sink.write(json.dumps({"case": i, "family": case.family, "note": case.note,
                                           "command": case.truth.get("command", case.argv[0]), "class": cls,
                                           "detail": detail[:400], "seconds": round(time.time() - t, 3)},
                                          ensure_ascii=True) + "\n")
                    sink.flush()
                if cls in FAILURES:
                    failures.append((i, case.family, cls, f"{case.note}: {detail}"))
                    if verbose:
                        print(f"case {i} [{case.family} {case.note}] {cls}: {detail}", file=sys.stderr, flush=True)
                done += 1
                if done % 500 == 0:
                    print(f"  {done}/{n_cases} cases, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    finally:
        for proc, *_ in running.values():
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)
        if sink is not None:
            sink.close()
    return table, failures


def format_table(table: Counter[tuple[str, str]]) -> str:
    """Markdown table: one row per family, one column per outcome class, plus totals."""
    families = [f for f in FAMILIES if any(table[(f, c)] for c in CLASSES)]
    head = "| family | cases | " + " | ".join(CLASSES) + " |"
    rule = "|---|---:|" + "---:|" * len(CLASSES)
    lines = [head, rule]
    for f in [*families, "all"]:
        row = [sum(table[(g, c)] for g in families) if f == "all" else table[(f, c)] for c in CLASSES]
        lines.append(f"| {f} | {sum(row)} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def summarize(paths: list[str]) -> str:
    """Table, time by family and command, the slowest cases and every failure, from results files."""
    recs: dict[int, dict[str, Any]] = {}
    for path in paths:
        recs.update(done_cases(path))
    table: Counter[tuple[str, str]] = Counter((r["family"], r["class"]) for r in recs.values())
    lines = [format_table(table), "", f"{len(recs)} cases: indices {min(recs, default=0)}-{max(recs, default=0)}"]
    lines.append("\n| family / command | cases | worker seconds | mean s | max s |\n|---|---:|---:|---:|---:|")
    groups: dict[str, list[float]] = {}
    for r in recs.values():
        groups.setdefault(r["family"], []).append(r["seconds"])
        groups.setdefault("command " + r["command"], []).append(r["seconds"])
    for g, secs in groups.items():
        lines.append(f"| {g} | {len(secs)} | {sum(secs):.0f} | {sum(secs) / len(secs):.2f} | {max(secs):.1f} |")
    lines.append("\nslowest cases:")
    for r in sorted(recs.values(), key=lambda r: -r["seconds"])[:12]:
        lines.append(f"- case {r['case']} [{r['family']} {r['note'][:40]!r} {r['command']}] {r['seconds']:.1f} s")
    lines.append("\nfailures:")
    for r in sorted(recs.values(), key=lambda r: r["case"]):
        if r["class"] in FAILURES:
            lines.append(f"- case {r['case']} [{r['family']}] {r['class']}: {r['note'][:60]!r}: {r['detail'][:300]!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--start", type=int, default=0, help="first case index (to split a campaign into parts)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case before it counts as a hang")
    ap.add_argument("--memory-mb", type=int, default=3072, help="address space per case beyond the parent's")
    ap.add_argument("--root", default=str(ROOT), help="checkout whose harness package to test")
    ap.add_argument("--report-share", type=float, default=REPORT_SHARE, help="share of cases run as `report`")
    ap.add_argument("--json", default=None, help="also write the table and failures to this JSON file")
    ap.add_argument("--verbose", action="store_true", help="print each failure as it happens")
    ap.add_argument("--results", default=None,
                    help="append each case's outcome to this JSON-lines file as it finishes; cases already in it "
                         "are skipped (resume a stopped campaign)")
    ap.add_argument("--indices", default=None,
                    help="run only the case indices listed in this file (one per line) instead of --start/--cases")
    ap.add_argument("--summarize", nargs="+", default=None, metavar="RESULTS",
                    help="print the table, timings and failures of these results files and exit (runs nothing)")
    args = ap.parse_args(argv)
    if args.summarize:
        print(summarize(args.summarize))
        return 0
    sys.path.insert(0, args.root)
    globals()["REPORT_SHARE"] = args.report_share
    import harness

    print(f"harness from {os.path.dirname(harness.__file__)}; {args.cases} cases, seed {args.seed}, "
          f"{args.workers} workers, timeout {args.timeout:.0f} s, +{args.memory_mb} MiB address space",
          file=sys.stderr)
    t0 = time.time()
    indices = None if args.indices is None else [int(x) for x in Path(args.indices).read_text().split()]
    table, failures = run_campaign(args.cases, args.seed, args.workers, args.timeout, args.memory_mb << 20,
                                   args.start, args.verbose, args.results, indices)
    print(format_table(table))
    print(f"\n{args.cases} cases in {time.time() - t0:.0f} s (wall clock, machine shared; not a benchmark)")
    for i, fam, cls, detail in failures[:60]:
        print(f"- case {i} [{fam}] {cls}: {detail[:300]!r}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"table": [[f, c, n] for (f, c), n in sorted(table.items())], "failures": failures}, fh,
                      indent=1)
    return 0 if not any(table[(f, c)] for f in FAMILIES for c in FAILURES) else 1


if __name__ == "__main__":
    sys.exit(main())
