"""The fuzz campaign in CI: generated and mutated inputs through the CLI, in process; plus the fixed failures.

A run is acceptable when it ends in the one-line error (exit 2, one stderr line, no warning, no raw control
character) or in a success whose outputs read back and hold the known answer (pass@1 = mean of c/n over the
input's questions; the question ids). ``benchmarks/fuzz_campaign.py`` runs the same cases by the ten thousand.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness._terminal import clean, is_clean
from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"

_spec = importlib.util.spec_from_file_location("fuzz_campaign", ROOT / "benchmarks" / "fuzz_campaign.py")
assert _spec is not None and _spec.loader is not None
fc: Any = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_campaign"] = fc
_spec.loader.exec_module(fc)


def run(tmp: Path, case: Any) -> tuple[str, str]:
    return fc.run_in_process(case, str(tmp))  # type: ignore[no-any-return]


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI; assert exit 2 with exactly one clean stderr line; return it."""
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("  ")]  # "  ": progress lines
    assert len(lines) == 1 and is_clean(err), err
    return lines[0]


# ----------------------------------------------------------------------------------- the campaign sample
CI_CASES = [i for i in range(120) if "bomb" not in fc.make_case(7, i).note]


@pytest.mark.parametrize("index", CI_CASES)
def test_campaign_case(tmp_path: Path, index: int) -> None:
    case = fc.make_case(7, index)
    cls, detail = run(tmp_path, case)
    assert cls not in fc.FAILURES, f"case {index} [{case.family} {case.note}]: {cls}: {detail}"
    if case.expect == "success":
        assert cls == "correct success", detail
    if case.expect == "error":
        assert cls == "clean error", detail


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gzip", "eval"])
def test_bombs_stop_at_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """A gzip stream / .eval member inflating past the limit: one line naming the limit and the variable."""
    monkeypatch.setenv("HARNESS_MAX_DECOMPRESSED", "32M")
    if kind == "gzip":
        src = tmp_path / "bomb.csv.gz"
        src.write_bytes(fc._gzip_bomb(64 << 20))
    else:
        src = tmp_path / "bomb.eval"
        src.write_bytes(fc._eval_bomb(64 << 20))
    line = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
    assert "33,554,432 bytes" in line and "HARNESS_MAX_DECOMPRESSED" in line


# ------------------------------------------------------------------------------- hypothesis strategies
ids = st.one_of(st.sampled_from(fc.HOSTILE), st.text(min_size=1, max_size=12)).filter(
    lambda s: s.strip() == s and s != "" and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)
)


@st.composite
def rollout_tables(draw: Any) -> tuple[list[dict[str, Any]], dict[str, float], list[tuple[str, str]]]:
    """Rollout rows with hostile ids and answers; the true pass@1 per model and the question ids."""
    qids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    rows: list[dict[str, Any]] = []
    ps = []
    for q in qids:
        flags = draw(st.lists(st.booleans(), min_size=1, max_size=5))
        answers = draw(st.lists(ids, min_size=len(flags), max_size=len(flags)))
        for s, (ok, a) in enumerate(zip(flags, answers, strict=True)):
            rows.append({"question_id": q, "sample_id": s, "answer": ("right" if ok else "w:" + a), "correct": ok})
        ps.append(sum(flags) / len(flags))
    return rows, {"model": sum(ps) / len(ps)}, sorted(("model", q) for q in qids)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=rollout_tables(), fmt=st.sampled_from(fc.FORMATS))
def test_rollout_tables_in_every_format(tmp_path_factory: pytest.TempPathFactory, table: Any, fmt: str) -> None:
    rows, pass1, questions = table
    case = fc.Case("rollouts", {f"in.{fmt}": fc._write_table(rows, fmt)},
                   ["curves", f"{{d}}/in.{fmt}", "--out", "{d}/out.csv", "--quiet", "--bootstrap", "0",
                    "--normalizer", "none"], "success", {"pass1": pass1, "questions": questions, "command": "curves"})
    cls, detail = run(tmp_path_factory.mktemp("h"), case)
    assert cls == "correct success", detail


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ns=st.lists(st.integers(1, 10**6), min_size=1, max_size=6), data=st.data(),
       fmt=st.sampled_from(["csv", "jsonl", "json", "parquet"]))
def test_count_tables(tmp_path_factory: pytest.TempPathFactory, ns: list[int], data: Any, fmt: str) -> None:
    cs = [data.draw(st.integers(0, n)) for n in ns]
    rows = [{"question_id": f"q{i}", "n": n, "c": c} for i, (n, c) in enumerate(zip(ns, cs, strict=True))]
    truth = {"pass1": {"model": float(np.mean(np.array(cs) / np.array(ns)))},
             "questions": sorted(("model", f"q{i}") for i in range(len(ns))), "command": "curves"}
    case = fc.Case("counts", {f"in.{fmt}": fc._write_table(rows, fmt)},
                   ["curves", f"{{d}}/in.{fmt}", "--out", "{d}/out.csv", "--quiet", "--bootstrap", "0"],
                   "success", truth)
    cls, detail = run(tmp_path_factory.mktemp("c"), case)
    assert cls == "correct success", detail


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.sampled_from(["inf", "-inf", "nan", "1e20", "99999999999999999999", "-1", "2.5", "abc", "",
                            "18446744073709551616"]),
       fmt=st.sampled_from(["csv", "tsv", "jsonl"]), column=st.sampled_from(["count", "n"]))
def test_bad_counts_are_one_line_errors(tmp_path_factory: pytest.TempPathFactory, bad: str, fmt: str,
                                        column: str) -> None:
    """Histogram counts and count-table n: inf, > 2^63, negative, fractional -> one line, no RuntimeWarning."""
    if column == "count":
        rows: list[dict[str, Any]] = [{"question_id": "a", "answer": "1", "count": 3, "correct": True},
                                      {"question_id": "a", "answer": "2", "count": bad, "correct": False}]
    else:
        rows = [{"question_id": "a", "n": 4, "c": 1}, {"question_id": "b", "n": bad, "c": 1}]
    case = fc.Case("counts", {f"in.{fmt}": fc._write_table(rows, fmt)},
                   ["curves", f"{{d}}/in.{fmt}", "--out", "{d}/out.csv", "--quiet", "--bootstrap", "0"],
                   "error", {})
    cls, detail = run(tmp_path_factory.mktemp("b"), case)
    assert cls == "clean error", detail
    assert "RuntimeWarning" not in detail and "-9223372036854775808" not in detail


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(fc.FIXTURE_NAMES), seed=st.integers(0, 2**32 - 1))
def test_mutated_fixtures(tmp_path_factory: pytest.TempPathFactory, name: str, seed: int) -> None:
    """Byte-level mutations of the real fixtures: the one-line error or a success whose outputs hold up."""
    import random

    data = fc._mutate(random.Random(seed), (FIX / name).read_bytes())
    case = fc.Case("mutation", {name: data}, ["curves", f"{{d}}/{name}", "--out", "{d}/out.csv", "--quiet",
                                              "--bootstrap", "0"], "invariants", {"command": "curves"})
    cls, detail = run(tmp_path_factory.mktemp("m"), case)
    assert cls in ("clean error", "success (invariants)"), detail


# --------------------------------------------------------------------------- the listed failures
def test_bare_cr_in_ids_round_trips_in_questions_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"question_id": "a\rb", "answer": "x\ry", "correct": True},
            {"question_id": "a\rb", "answer": "z", "correct": False},
            {"question_id": "c\r", "answer": "=1+1", "correct": False}]
    src = tmp_path / "cr.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "rep"
    assert main(["report", str(src), "--out", str(out), "--quiet", "--bootstrap", "0", "--normalizer", "none"]) == 0
    capsys.readouterr()
    q = pd.read_csv(out / "questions.csv")
    assert sorted(q["question_id"]) == ["a\rb", "c\r"]
    assert q.set_index("question_id").loc["a\rb", "correct_answer"] == "x\ry"
    assert q.set_index("question_id").loc["c\r", "top_wrong_answer"] == "=1+1"  # as written: no prefix


@pytest.mark.parametrize(("text", "sep", "line"), [
    ("question_id,correct,answer\nq1,true,1\nq2,false\nq3,true,3\n", ",", 3),
    ("question_id\tcorrect\tanswer\nq1\ttrue\t1\nq2\tfalse\t2\nq3\ttrue\n", "\t", 4),
    ("question_id,correct\nq1,true\nq2,false,extra\n", ",", 3),
])
def test_short_and_long_rows_name_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                           sep: str, line: int) -> None:
    src = tmp_path / ("in.csv" if sep == "," else "in.tsv")
    src.write_text(text)
    err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
    assert f"line {line}" in err and "fields where the header has" in err


@pytest.mark.parametrize("value", [["a"], {"x": 1}])
@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "json"])
def test_json_list_or_object_as_question_id(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any,
                                            fmt: str) -> None:
    rows: list[dict[str, Any]] = [{"question_id": "a", "correct": True}, {"question_id": value, "correct": False}]
    src = tmp_path / f"in.{fmt}"
    src.write_bytes(fc._write_table(rows, fmt))
    err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
    assert "column 'question_id'" in err and ("line 2" in err if fmt != "json" else "row 1" in err)


@pytest.mark.parametrize(("argv", "needle"), [
    (["--question-col", ",,"], "--question-col"),
    (["--seed", "-1"], "--seed"),
    (["--bootstrap", "200000000"], "maximum 100,000"),
    (["--bootstrap", "abc"], "--bootstrap"),
    (["--k", "0"], "k=0"),
    (["--metrics", "pass@k,,maj@k"], "--metrics"),
    (["--n-questions", "0"], "--n-questions"),
])
def test_options_are_validated_where_parsed(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                            needle: str) -> None:
    err = one_line_error(capsys, ["curves", str(FIX / "rollouts.csv"), "--out", str(tmp_path / "o.csv"), *argv])
    assert needle in err


@pytest.mark.parametrize(("argv", "needle"), [
    (["--fits", ",,,"], "--fits"),
    (["--fits", "beta"], "unknown fit"),
    (["--figures-for", "-1"], "--figures-for"),
])
def test_report_options(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    err = one_line_error(capsys, ["report", str(FIX / "rollouts.csv"), "--out", str(tmp_path / "r"), *argv])
    assert needle in err and not (tmp_path / "r").exists()


def test_out_below_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both commands say the path goes through a file (``curves`` used to advise creating the folder)."""
    (tmp_path / "afile").write_text("x")
    for cmd, out in (("report", "afile/sub"), ("curves", "afile/sub.csv"), ("curves", "afile/sub/x.csv")):
        err = one_line_error(capsys, [cmd, str(FIX / "rollouts.csv"), "--out", str(tmp_path / out), "--quiet"])
        assert "afile is a file, so the output cannot go below it" in err and "choose another --out" in err
    err = one_line_error(capsys, ["curves", str(FIX / "rollouts.csv"), "--out", str(tmp_path / "no/x.csv")])
    assert "folder does not exist" in err


@pytest.mark.parametrize("doc", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 5000 + "1" + "}" * 5000])
def test_deep_json_names_the_nesting_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: str) -> None:
    for name, text in (("deep.json", doc), ("deep.jsonl", '{"question_id": "a", "correct": true}\n' + doc + "\n")):
        src = tmp_path / name
        src.write_text(text)
        err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
        assert "nested more than about" in err and "levels deep" in err
        assert ("line 2" in err) == name.endswith("l")


def test_lone_surrogate_in_json_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "s.jsonl"
    src.write_text('{"question_id": "a", "correct": true}\n{"question_id": "\\ud800x", "correct": false}\n')
    err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
    assert "line 2" in err and "surrogate" in err
    # a valid pair (an emoji written as two escapes) is text and loads
    src.write_text('{"question_id": "\\ud83c\\udfb2", "correct": true}\n')
    out = tmp_path / "rep"
    assert main(["report", str(src), "--out", str(out), "--quiet", "--bootstrap", "0"]) == 0
    capsys.readouterr()
    assert pd.read_csv(out / "questions.csv")["question_id"].tolist() == ["\U0001f3b2"]


def test_csv_values_keep_their_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ids 007 and 7 stay two questions; NA, None and nan are strings, not missing."""
    src = tmp_path / "ids.csv"
    src.write_text("question_id,answer,correct\n007,NA,1\n7,None,0\nnan,nan,1\n")
    out = tmp_path / "rep"
    assert main(["report", str(src), "--out", str(out), "--quiet", "--bootstrap", "0", "--normalizer", "none"]) == 0
    capsys.readouterr()
    q = pd.read_csv(out / "questions.csv", dtype={"question_id": str}, keep_default_na=False)
    assert sorted(q["question_id"]) == ["007", "7", "nan"]
    assert q.set_index("question_id").loc["007", "correct_answer"] == "NA"


# ---------------------------------------------------------------------------------------- hostile strings
EVIL = "\x1b]0;TITLE\x07\x1b[2J"


def test_terminal_escapes_are_shown_not_obeyed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"question_id": "q", "correct": True, "model": EVIL + "|m`\nx"},
            {"question_id": "q", "correct": "maybe" + EVIL, "model": EVIL + "|m`\nx"}]
    src = tmp_path / "evil.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv")])
    assert "\\x1b]0;TITLE\\x07" in err
    rows[1]["correct"] = False
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "rep"
    assert main(["report", str(src), "--out", str(out), "--bootstrap", "0"]) == 0  # with progress lines
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\\x1b" in err
    md = (out / "report.md").read_text()
    assert "\x1b" not in md
    for line in md.splitlines():  # every table row still has its columns: | and newline did not break them
        if line.startswith("| ") and "TITLE" in line:
            assert "\\|m\\`" in line
    for svg in (out / "figures").glob("*.svg"):
        text = svg.read_text()
        assert "\x1b" not in text and "\x07" not in text
    summary = json.loads((out / "summary.json").read_text())
    assert isinstance(summary, dict)
    assert pd.read_csv(out / "models.csv")["model"].tolist() == [EVIL + "|m`\nx"]  # data keep the exact name


def test_clean_escapes_controls_bidi_and_surrogates() -> None:
    assert clean(EVIL) == "\\x1b]0;TITLE\\x07\\x1b[2J"
    assert clean("a\rb\nc\td") == "a\\rb\\nc\\td"
    assert clean("a\nb", keep_newlines=True) == "a\nb"
    assert clean("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert clean("\udcff") == "\\udcff"
    assert clean("日本語 🎲 é") == "日本語 🎲 é"
    assert clean("\x9b31m") == "\\x9b31m"


def test_markdown_table_cells() -> None:
    from harness.report.render import escape_markdown

    cell = escape_markdown("a|b`c\nd\re" + EVIL, in_table=True)
    assert "\n" not in cell and "\r" not in cell and "\x1b" not in cell
    assert cell.count("|") == cell.count("\\|")


def test_figure_text_is_cleaned_and_bad_mathtext_drawn_plain() -> None:
    from matplotlib.figure import Figure

    from harness.report.write import figure_bytes

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1, 2], [0.1, 0.2], label=EVIL + "$\\frac$")
    ax.set_title("$x^$ " + EVIL)
    ax.legend()
    svg = figure_bytes(fig, "svg").decode()
    assert "\x1b" not in svg and "\x07" not in svg
    assert figure_bytes(fig, "png").startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------------ round trips
HOSTILE_CELLS = ["a\rb", "c\nd", "e\r\nf", "tab\there", 'q"uote', "com,ma", "=1+1", "+1", "-x", "@A1",
                 "\u200fRTL", "\u202eevil", "日本語", " lead", "", "NA", "None", "-0.5"]


def test_every_csv_and_json_output_reads_back(tmp_path: Path) -> None:
    """Each writer path (report tables, curves CSV, audit CSV, summary.json) on hostile strings."""
    from harness._atomic import frame_to_csv

    frame = pd.DataFrame({
        "model": HOSTILE_CELLS,
        "value": np.linspace(-0.5, 1.0, len(HOSTILE_CELLS)),
        "k": np.arange(len(HOSTILE_CELLS)),
        "flag": [i % 2 == 0 for i in range(len(HOSTILE_CELLS))],
    })
    text = frame_to_csv(frame)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[])
    assert back["model"].tolist() == HOSTILE_CELLS
    np.testing.assert_array_equal(back["value"].to_numpy(float), frame["value"].to_numpy())
    assert back["value"].dtype.kind == "f" and back["k"].dtype.kind == "i" and back["flag"].dtype == bool
    import csv

    assert [r[0] for r in csv.reader(io.StringIO(text, newline=""))][1:] == HOSTILE_CELLS
    plain = pd.DataFrame({"x": ["-0.5", "=2"], "y": [-0.5, 2.0]})  # without CR: minimal quoting, -0.5 a number
    assert frame_to_csv(plain) == "x,y\n-0.5,-0.5\n=2,2.0\n"


@pytest.mark.slow
def test_report_outputs_round_trip_on_hostile_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for i, q in enumerate([*HOSTILE_CELLS[:-4], "x"]):
        for s in range(3):
            rows.append({"question_id": q or "empty", "answer": HOSTILE_CELLS[(i + s) % 10], "correct": s == i % 3,
                         "model": HOSTILE_CELLS[i % 3]})
    src = tmp_path / "h.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out = tmp_path / "rep"
    assert main(["report", str(src), "--out", str(out), "--quiet", "--bootstrap", "0", "--normalizer", "none"]) == 0
    capsys.readouterr()
    want = sorted({(r["model"], r["question_id"]) for r in rows})
    q = pd.read_csv(out / "questions.csv", keep_default_na=False, dtype={"model": str, "question_id": str})
    assert sorted(zip(q["model"], q["question_id"], strict=True)) == want
    for path in out.glob("*.csv"):
        frame = pd.read_csv(path, keep_default_na=False)
        assert frame_shape_ok(path, frame)
    json.loads((out / "summary.json").read_text(encoding="utf-8"))


def frame_shape_ok(path: Path, frame: pd.DataFrame) -> bool:
    """The CSV parses with the header's width on every row (csv module, strict)."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        widths = {len(r) for r in csv.reader(fh, strict=True)}
    return widths == {len(frame.columns)}


# --------------------------------------------------------------------------------------------------- faults
def test_full_disk_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while writing (os.fdopen's file replaced by one whose write fails): one line, no file left."""
    import errno
    import os

    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.fh = real_fdopen(fd, "wb")

        def write(self, b: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.fh.close()
            super().close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r": Full(fd))
    err = one_line_error(capsys, ["curves", str(FIX / "rollouts.csv"), "--out", str(tmp_path / "o.csv"),
                                  "--quiet", "--bootstrap", "0"])
    assert "No space left on device" in err and "free space" in err
    assert list(tmp_path.iterdir()) == []


def test_read_only_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """EACCES from creating the temporary file (simulated: the tests may run as root, who ignores modes)."""
    import errno
    import tempfile

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    err = one_line_error(capsys, ["report", str(FIX / "rollouts.csv"), "--out", str(tmp_path / "r"),
                                  "--quiet", "--bootstrap", "0"])
    assert "Permission denied" in err and "--out" in err


def test_two_runs_never_share_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """While one process holds the folder, a second run into it stops with one line before writing anything."""
    import subprocess

    out = tmp_path / "rep"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        err = one_line_error(capsys, ["report", str(FIX / "rollouts.csv"), "--out", str(out), "--force",
                                      "--quiet", "--bootstrap", "0"])
        assert "another harness run is writing into this folder" in err
        assert list(out.iterdir()) == []
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".csv":
        return frame_shape_ok(path, pd.read_csv(path, keep_default_na=False))
    if path.suffix == ".json" or path.name == ".harness-files":  # the manifest of the files a run wrote is JSON
        json.loads(data)
        return True
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    if path.suffix == ".svg":
        return data.rstrip().endswith(b"</svg>")
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    if path.suffix == ".md":
        return data.endswith(b"\n")
    return False


@pytest.mark.slow
def test_killed_report_leaves_no_truncated_file(tmp_path: Path) -> None:
    """`report` killed (SIGKILL) at random moments: every file under a final name is complete."""
    import random
    import subprocess
    import time

    rng = random.Random(3)
    env_code = "import sys; from harness.cli import main; sys.exit(main())"
    seen_files = 0
    for trial in range(4):
        out = tmp_path / f"r{trial}"
        proc = subprocess.Popen([sys.executable, "-c", env_code, "report", str(FIX / "rollouts.csv"), "--out",
                                 str(out), "--quiet", "--bootstrap", "50"], cwd=ROOT)
        # kill somewhere between loading and the last file written (a full run takes several seconds)
        time.sleep(rng.uniform(2.0, 9.0))
        proc.kill()
        proc.wait()
        if not out.exists():
            continue
        for path in out.rglob("*"):
            if path.is_dir():
                continue
            if path.name.startswith(".tmp-"):
                continue  # an interrupted write keeps its temporary name: it cannot be mistaken for output
            seen_files += 1
            assert _complete(path), path
    full = tmp_path / "full"  # the checker itself accepts a finished report
    subprocess.run([sys.executable, "-c", env_code, "report", str(FIX / "rollouts.csv"), "--out", str(full),
                    "--quiet", "--bootstrap", "50"], cwd=ROOT, check=True)
    files = [p for p in full.rglob("*") if p.is_file()]
    assert len(files) > 20 and all(_complete(p) for p in files)


def test_zip_member_declaring_a_huge_size_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_MAX_DECOMPRESSED", "1k")
    src = tmp_path / "log.eval"
    with zipfile.ZipFile(FIX / "inspect_log.eval") as zin, zipfile.ZipFile(src, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename) + (b" " * 2000 if "samples/" in info.filename
                                                                   else b""))
    err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
    assert "1,024 bytes" in err and "HARNESS_MAX_DECOMPRESSED" in err
    monkeypatch.setenv("HARNESS_MAX_DECOMPRESSED", "lots")
    err = one_line_error(capsys, ["curves", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"])
    assert "is not a size" in err


def test_gzip_within_the_limit_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv.gz"
    src.write_bytes(gzip.compress(b"question_id,correct\nq1,1\nq2,0\n"))
    assert main(["curves", str(src), "--out", "-", "--quiet", "--bootstrap", "0"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table.query("metric == 'pass@k' and kind == 'measured' and k == 1")["value"].item() == 0.5


@pytest.mark.parametrize(("index", "needle"), [(3591, "cannot read the Parquet data"),
                                              (4843, "cannot read the Parquet data"),
                                              (5074, "cannot read member"),
                                              (806, "afile is a file, so the output cannot go below it"),
                                              (8901, "pandas metadata is damaged (JSONDecodeError")])
def test_campaign_regressions(tmp_path: Path, index: int, needle: str) -> None:
    """Campaign cases (seed 0): pyarrow's UnicodeDecodeError and zlib.error escaping the readers (3591, 4843,
    5074); from the 10,000-case run: ``curves --out afile/sub/x.csv`` advising to create a folder below a file
    (806), and a mutated Parquet file whose pandas metadata is not JSON raising JSONDecodeError (8901)."""
    case = fc.make_case(0, index)
    cls, detail = run(tmp_path, case)
    assert cls == "clean error" and needle in detail, detail


# ------------------------------------------------------------------------------------- the driver itself
class _RacingWorker:
    """A stand-in process that sends its result and exits at the moment the parent asks whether it is alive.

    This is the interleaving that case 7596 (seed 0) hit: the worker sent and exited between the parent's pipe
    poll and its liveness check, and the old driver (poll first, liveness second) counted a dead worker with no
    result, "hang / memory".
    """

    def __init__(self, send: Any, result: tuple[str, str]) -> None:
        self.send, self.result, self.exitcode = send, result, None

    def is_alive(self) -> bool:
        if self.exitcode is None:
            self.send.send(self.result)
            self.send.close()
            self.exitcode = 0
        return False

    def join(self, timeout: float | None = None) -> None:
        return None

    def kill(self) -> None:  # pragma: no cover - must not be called
        raise AssertionError("a finished worker was killed")


def test_worker_exiting_right_after_sending_is_classed_by_its_result() -> None:
    import multiprocessing as mp
    import time

    recv, send = mp.get_context("fork").Pipe(duplex=False)
    result = ("clean error", "harness: a one-line error")
    assert fc.collect(_RacingWorker(send, result), recv, time.time(), 120.0) == result


def test_real_worker_that_sent_and_exited_is_classed_by_its_result() -> None:
    """A forked worker that has sent and exited (reaped before the parent looks): its result, not "died"."""
    import multiprocessing as mp
    import time

    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_send_and_exit, args=(send,))
    proc.start()
    send.close()
    proc.join()
    assert fc.collect(proc, recv, time.time(), 120.0) == ("correct success", "")
    recv2, send2 = ctx.Pipe(duplex=False)
    proc2 = ctx.Process(target=_exit_silently, args=(send2,))
    proc2.start()
    send2.close()
    proc2.join()
    cls, detail = fc.collect(proc2, recv2, time.time(), 120.0)
    assert cls == "hang / memory" and "worker died" in detail


def _send_and_exit(conn: Any) -> None:
    import os

    conn.send(("correct success", ""))
    conn.close()
    os._exit(0)


def _exit_silently(conn: Any) -> None:
    import os

    os._exit(3)


def test_bombs_are_valid_archives_of_the_stated_size() -> None:
    """The campaign's bombs (built block-wise with full flushes) are honest: they inflate completely, CRCs hold."""
    size = 16 << 20
    data = gzip.decompress(fc._gzip_bomb(size))  # checks the CRC-32 and ISIZE trailer
    assert data.startswith(b"question_id,correct\nq,1\n") and len(data) > size
    assert data.count(b"q,1\n") == (len(data) - len(b"question_id,correct\n")) // 4
    with zipfile.ZipFile(io.BytesIO(fc._eval_bomb(size))) as zf:
        assert zf.testzip() is None  # every member's CRC
        member = json.loads(zf.read("samples/s1_epoch_1.json"))
    assert member["padding"] == " " * size


@pytest.mark.parametrize("metadata", ["{}", "[]", "1", '{"columns": 5}', "{not json", "\udcff"])
def test_damaged_parquet_pandas_metadata_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     metadata: str) -> None:
    """Campaign case 8901: pyarrow parses the schema's b"pandas" JSON in ``to_pandas`` and raised from inside
    (JSONDecodeError; KeyError/TypeError for JSON of the wrong shape). Now the one-line error; intact data with
    intact metadata still reads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(pd.DataFrame({"question_id": ["a", "b"], "correct": [True, False]}))
    pq.write_table(table, tmp_path / "good.parquet")
    assert main(["curves", str(tmp_path / "good.parquet"), "--out", str(tmp_path / "o.csv"), "--quiet"]) == 0
    damaged = table.replace_schema_metadata({b"pandas": metadata.encode("utf-8", "surrogateescape")})
    pq.write_table(damaged, tmp_path / "bad.parquet")
    line = one_line_error(capsys, ["curves", str(tmp_path / "bad.parquet"), "--out", str(tmp_path / "p.csv")])
    assert "bad.parquet" in line and ("pandas metadata is damaged" in line or "cannot read" in line)
