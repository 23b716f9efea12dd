"""The SQL reduction on DuckDB gives the in-memory path's counts on every tabular layout, names bad rows, spills.

The in-memory path (pandas, per-sample rows through ``harness.loaders._build.finish``) is the reference: every
comparison is of the full count table (n, c, class sizes, abstentions, tokens, the labels of the correct and the
top wrong class) row by row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from harness._validation import HarnessInputError
from harness.engines import read_class_counts, reduce_inputs, write_class_counts
from harness.engines.sources import expand_inputs, hf_parquet_glob
from harness.loaders import ColumnMap, load
from harness.tables import QuestionCounts

VALUE = {"0": 0, "1": 1, "2": 2, "2.0": 2, "\\sqrt{4}": 2}


def make_rollouts(n_q: int = 40, n_s: int = 25, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    q = np.repeat(np.arange(n_q), n_s)
    ans = rng.integers(0, 5, size=q.size)
    # "2" and "2.0" normalise to one string; "\\sqrt{4}" joins them by math-verify
    answers = np.array(["0", "1", "2", "2.0", "x", "\\sqrt{4}"], dtype=object)[np.where(ans == 4, 4 + (q % 2), ans)]
    answers[rng.random(q.size) < 0.1] = None
    return pd.DataFrame({
        "model": np.where(q % 2 == 0, "m-even", "m-odd"),
        "question_id": q,
        "sample_id": np.tile(np.arange(n_s), n_q),
        "answer": answers,
        "correct": [VALUE.get(a) == qq % 3 for a, qq in zip(answers, q, strict=True)],
        "tokens": rng.integers(5, 50, q.size),
    })


def frame_of(counts: QuestionCounts) -> pd.DataFrame:
    f = counts.to_frame().drop(columns=["stopping"], errors="ignore")
    f["question_id"] = f["question_id"].astype(str)
    f = f.sort_values(["model", "question_id"]).reset_index(drop=True)
    f["classes"] = [
        tuple(sorted(np.concatenate([r_c[r_c > 0], -w[w > 0]]).tolist()))
        for r_c, w in zip(counts_sorted(counts, "correct_classes"), counts_sorted(counts, "wrong"), strict=True)
    ]
    return f


def counts_sorted(counts: QuestionCounts, name: str) -> list[np.ndarray]:
    order = np.lexsort((counts.question_id.astype(str), counts.model.astype(str)))
    mat = getattr(counts, name)
    return [np.zeros(0, np.int64)] * counts.n_questions if mat is None else [mat[i] for i in order]


def assert_same(a: QuestionCounts, b: QuestionCounts) -> None:
    pd.testing.assert_frame_equal(frame_of(a), frame_of(b), check_dtype=False)


def write(df: pd.DataFrame, path: Path) -> Path:
    name = path.name
    if name.endswith(".parquet"):
        df.to_parquet(path, index=False)
    elif name.endswith((".jsonl", ".jsonl.gz")):
        df.to_json(path, orient="records", lines=True, compression="gzip" if name.endswith(".gz") else None)
    else:
        df.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    return path


def quoting_rollouts() -> pd.DataFrame:
    """Answers that test a reader's quoting (commas, doubled quotes, line breaks, backslashes, LaTeX, spaces) and
    ids that read as numbers but are not the same text ('7' and '007', '1' and '1.0')."""
    answers = ["a, b", 'say "hi"', "line1\nline2", "\\frac{1}{2}", "ends with \\", '\\"q\\"', "2", "2.0", "007",
               "NA", " x ", "\tt"]
    rows = []
    for qi, q in enumerate(["7", "007", "1.0", "1", "NA-q"]):
        for s in range(12):
            a = answers[(s * (qi + 1)) % len(answers)]
            rows.append({"model": "m", "question_id": q, "sample_id": s, "answer": a, "correct": a == answers[qi]})
    return pd.DataFrame(rows)


def damaged_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    """Damaged files and the one-line error each must raise on every engine (file and line, or row and column)."""
    df = make_rollouts(n_q=3, n_s=4)
    out: dict[str, tuple[Path, str]] = {}
    p = write(df, folder / "cut.jsonl")
    lines = p.read_text().splitlines()
    lines[6] = lines[6][:25]
    p.write_text("\n".join(lines) + "\n")
    out["malformed JSON line"] = (p, r"cut\.jsonl, line 7: malformed JSON")
    data = write(df, folder / "whole.jsonl.gz").read_bytes()
    (folder / "short.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    out["gzip cut short"] = (folder / "short.jsonl.gz", r"short\.jsonl\.gz: the gzip stream is truncated or corrupt")
    for name, edit, fields in (("extra.csv", lambda v: v + ",zzz", 7), ("short.csv", lambda v: v[: v.index(",")], 1)):
        p = write(df, folder / name)
        lines = p.read_text().splitlines()
        lines[5] = edit(lines[5])
        p.write_text("\n".join(lines) + "\n")
        pattern = rf"{name.replace('.', '[.]')}, line 6: {fields} fields where the header has 6"
        out[f"{fields} CSV fields"] = (p, pattern)
    bad = df.copy()
    bad.loc[2, ["answer", "correct"]] = [None, True]
    out["unanswered marked correct"] = (
        write(bad, folder / "u.parquet"), r"u\.parquet, row 2, column 'answer': a sample with no answer is marked"
    )
    bad = df.astype({"question_id": str})
    bad.loc[3, "question_id"] = ""
    out["empty question id"] = (write(bad, folder / "q.csv"), r"q\.csv, row 3, column 'question_id': empty question id")
    bad = df.astype({"tokens": object})
    bad.loc[5, "tokens"] = "many"
    out["tokens not a number"] = (write(bad, folder / "t.jsonl"), r"t\.jsonl, row 5, column 'tokens': 'many' is not a")
    graded = pd.DataFrame({"question_id": [1, 1, 2, 1], "answer": ["7", "8", "7", "7"], "correct": [1, 0, 0, 0]})
    out["graded both ways"] = (write(graded, folder / "g.csv"), r"g\.csv, row 3, column 'correct': answer '7' "
                               r"(of question '1' )?is graded right in row 0 and wrong here")
    return out


def assert_damaged_inputs_named(folder: Path, engines: tuple[str, ...], **options: Any) -> None:
    for case, (path, pattern) in damaged_inputs(folder).items():
        for engine in engines:
            with pytest.raises(HarnessInputError, match=pattern) as info:
                reduce_inputs([str(path)], engine=engine, **options)
            assert "\n" not in str(info.value), (case, engine)


@pytest.mark.parametrize("name", ["r.parquet", "r.jsonl", "r.jsonl.gz", "r.csv", "r.tsv"])
def test_duckdb_equals_in_memory(tmp_path: Path, name: str) -> None:
    p = write(make_rollouts(), tmp_path / name)
    ref = reduce_inputs([str(p)], engine="memory")
    got = reduce_inputs([str(p)], engine="duckdb")
    assert_same(ref.counts, got.counts)
    assert got.answers is not None and ref.answers is not None
    assert (got.answers.n_unparsed, got.answers.n_merged) == (ref.answers.n_unparsed, ref.answers.n_merged)
    assert got.answers.n_merged > 0  # math-verify merged strings, on the distinct rows only
    assert got.provenance["rows_read"] == 1000 and got.provenance["engine"] == "duckdb"


def test_globs_folders_and_hive_partitions(tmp_path: Path) -> None:
    df = make_rollouts()
    ref = reduce_inputs([str(write(df, tmp_path / "all.parquet"))], engine="memory")
    shards = tmp_path / "shards"
    shards.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(df)), 4)):
        write(df.iloc[part], shards / f"part-{i}.parquet")
    hive = tmp_path / "hive"
    for model, part in df.groupby("model"):
        (hive / f"model={model}").mkdir(parents=True)
        write(part.drop(columns=["model"]), hive / f"model={model}" / "data.parquet")
    for items in ([str(shards / "*.parquet")], [str(shards)], [str(hive)]):
        got = reduce_inputs(items, engine="duckdb")
        assert_same(ref.counts, got.counts)
        assert_same(ref.counts, reduce_inputs(items, engine="memory").counts)
    assert expand_inputs([str(hive)]).hive and not expand_inputs([str(shards)]).hive


def test_column_mapping_and_composite_question_ids(tmp_path: Path) -> None:
    df = make_rollouts().rename(columns={"correct": "ok", "answer": "pred"})
    df["ok"] = np.where(df["ok"], "yes", "no")
    df["bench"] = np.where(df["question_id"] < 20, "a", "b")
    df["pid"] = df["question_id"] % 20
    df = df.drop(columns=["question_id"])
    p = write(df, tmp_path / "m.csv")
    cols = ColumnMap(question="bench,pid", correct="ok", answer="pred")
    ref = reduce_inputs([str(p)], columns=cols, engine="memory")
    got = reduce_inputs([str(p)], columns=cols, engine="duckdb")
    assert_same(ref.counts, got.counts)
    assert "a/3" in set(got.counts.question_id.tolist())


def test_without_answers_only_correct_counts(tmp_path: Path) -> None:
    df = make_rollouts().drop(columns=["answer"])
    p = write(df, tmp_path / "b.parquet")
    got = reduce_inputs([str(p)])
    assert got.counts.wrong is None
    assert_same(reduce_inputs([str(p)], engine="memory").counts, got.counts)


def test_tokens_known_only_when_every_sample_has_them(tmp_path: Path) -> None:
    df = make_rollouts().astype({"tokens": float})
    df.loc[df["question_id"] == 3, "tokens"] = np.nan
    df.loc[df.index[df["question_id"] == 5][0], "tokens"] = np.nan
    got = reduce_inputs([str(write(df, tmp_path / "t.parquet"))]).counts
    tok = dict(zip(got.question_id.tolist(), got.tokens.tolist(), strict=True))
    assert np.isnan(tok["3"]) and np.isnan(tok["5"])
    assert tok["4"] == df.loc[df["question_id"] == 4, "tokens"].sum()


def test_group_and_budget_are_keys_of_the_class_table(tmp_path: Path) -> None:
    df = make_rollouts()
    df["seed"] = df["sample_id"] % 3
    df["budget"] = np.where(df["sample_id"] < 12, 1000, 4000)
    p = write(df, tmp_path / "g.parquet")
    got = reduce_inputs([str(p)], columns=ColumnMap(group="seed"))
    assert {"group", "budget"} <= set(got.classes.columns)
    per = got.classes.groupby(["model", "question_id", "group", "budget"])["size"].sum()
    expect = df.groupby(["model", "question_id", "seed", "budget"]).size()
    assert sorted(per.tolist()) == sorted(expect.tolist())
    assert_same(reduce_inputs([str(p)], engine="memory").counts, got.counts)  # marginal over group and budget


def test_first_success_block_rule_detected_from_the_class_table(tmp_path: Path) -> None:
    rows = []
    for q, first in enumerate([3, 7, None, 0, 11]):  # block 4: stop after the block holding the first success
        n = 12 if first is None else (first // 4 + 1) * 4
        for s in range(n):
            rows.append({"question_id": q, "sample_id": s, "correct": s == first})
    p = write(pd.DataFrame(rows), tmp_path / "bon.parquet")
    ref = reduce_inputs([str(p)], engine="memory").counts
    got = reduce_inputs([str(p)]).counts
    assert ref.stopping is not None and got.stopping is not None
    assert set(got.stopping.tolist()) == set(ref.stopping.tolist()) == {"first-success-block:4"}


@pytest.mark.parametrize("name", ["bad.parquet", "bad.csv", "bad.jsonl"])
def test_bad_values_name_file_and_row(tmp_path: Path, name: str) -> None:
    df = make_rollouts(n_q=3, n_s=4).astype({"correct": object, "tokens": object})
    cases = {
        "correct": (df.assign(correct=df["correct"].astype(str)), 7, "perhaps", r"row 7, column 'correct'.*boolean"),
        "tokens": (df.assign(tokens=df["tokens"].astype(str)), 5, "many", r"row 5, column 'tokens'.*not a number"),
    }
    for col, (frame, row, value, pattern) in cases.items():
        frame = frame.copy()
        frame.loc[row, col] = value
        p = write(frame, tmp_path / name)
        for engine in ("duckdb", "memory"):
            with pytest.raises(HarnessInputError, match=pattern) as info:
                reduce_inputs([str(p)], engine=engine)
            assert str(p) in str(info.value) and "\n" not in str(info.value)


FIXTURE_TABLES: dict[str, ColumnMap] = {
    **{f"rollouts.{ext}": ColumnMap() for ext in ("csv", "tsv", "jsonl", "jsonl.gz", "parquet")},
    "bon-model_text_t1.0_n9.jsonl": ColumnMap(question="i", correct="flagged", sample="n"),
}
"""The per-sample tables among tests/fixtures (the others are tool logs, count tables or one row per question)."""


@pytest.mark.parametrize("name", sorted(FIXTURE_TABLES))
def test_fixture_tables_same_counts_on_duckdb_and_in_memory(name: str) -> None:
    path = str(Path(__file__).parent / "fixtures" / name)
    ref = reduce_inputs([path], columns=FIXTURE_TABLES[name], engine="memory")
    got = reduce_inputs([path], columns=FIXTURE_TABLES[name], engine="duckdb")
    assert_same(ref.counts, got.counts)
    assert ref.counts.n_questions >= 3


def test_damaged_files_name_their_line_on_duckdb_as_in_memory(tmp_path: Path) -> None:
    """Where DuckDB cannot read a file (a cut-short line, gzip stream or CSV row), the line-by-line readers name the
    line, as the in-memory path does; bad values name their row."""
    assert_damaged_inputs_named(tmp_path, ("duckdb", "memory"))


@pytest.mark.parametrize("name", ["q.csv", "q.tsv", "q.jsonl", "q.parquet"])
def test_quoting_and_number_like_ids_read_alike(tmp_path: Path, name: str) -> None:
    p = write(quoting_rollouts(), tmp_path / name)
    ref = reduce_inputs([str(p)], engine="memory", normalizer="none")
    got = reduce_inputs([str(p)], engine="duckdb", normalizer="none")
    assert_same(ref.counts, got.counts)
    assert sorted(ref.counts.question_id.astype(str).tolist()) == ["007", "1", "1.0", "7", "NA-q"]


def test_duplicates_and_unanswered_correct_name_the_row(tmp_path: Path) -> None:
    df = make_rollouts(n_q=3, n_s=4)
    shards = tmp_path / "s"
    shards.mkdir()
    write(df, shards / "a.parquet")
    write(df.iloc[[5]], shards / "b.parquet")  # the repeated sample sits in the second file, row 0
    with pytest.raises(HarnessInputError, match=r"b\.parquet, row 0, column 'sample_id': duplicate sample id 1"):
        reduce_inputs([str(shards)])
    got = reduce_inputs([str(shards)], check_duplicates=False)  # the check can be skipped (then nothing guards it)
    assert int(got.counts.n.sum()) == 13
    bad = df.copy()
    bad.loc[2, ["answer", "correct"]] = [None, True]
    with pytest.raises(HarnessInputError, match=r"row 2, column 'answer': a sample with no answer is marked correct"):
        reduce_inputs([str(write(bad, tmp_path / "u.parquet"))])


@pytest.mark.parametrize("ext", ["jsonl.gz", "csv"])
def test_a_duplicate_found_by_the_folded_check_names_file_and_row(tmp_path: Path, ext: str) -> None:
    """JSON lines and CSV carry the duplicate check inside the class query's scan (a second grouping set): the
    repeated sample is still named by its file and row (the in-memory path also refuses it), and skipping the
    check counts it twice."""
    from harness.engines.core import fold_duplicate_check

    df = make_rollouts(n_q=3, n_s=4)
    shards = tmp_path / "s"
    shards.mkdir()
    write(df, shards / f"a.{ext}")
    extra = df.iloc[[5, 5]].assign(sample_id=[99, 1])  # row 1 of the second file repeats sample 1 of question 1
    write(extra, shards / f"b.{ext}")
    assert fold_duplicate_check(expand_inputs([str(shards)]))
    with pytest.raises(HarnessInputError, match=rf"b\.{ext.replace('.', '[.]')}, row 1, column 'sample_id': "
                       "duplicate sample id 1 for question '1'"):
        reduce_inputs([str(shards)])
    with pytest.raises(HarnessInputError, match="duplicate sample id"):  # (it names the row of the joined table)
        reduce_inputs([str(shards)], engine="memory")
    assert int(reduce_inputs([str(shards)], check_duplicates=False).counts.n.sum()) == 14


@pytest.mark.parametrize("normalizer", ["math", "plain", "none"])
def test_fast_labels_equal_the_per_question_grouping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, normalizer: str
) -> None:
    """Questions whose normalised answers are distinct canonical integers skip classify_graded; the counts equal
    the in-memory path's (every question through classify_graded), and only the other questions are grouped."""
    import harness.engines.core as core

    rng = np.random.default_rng(5)
    q = np.repeat(np.arange(30), 40)
    pool = np.array(["7", "8", " 9 ", "10", "-3", "007", "7.0", "\\frac{14}{2}", "x", ""], dtype=object)
    # questions 0-19: integers only (" 9 " and "-3" still integers once normalised); 20-29 may merge or hold text
    ans = np.where(q < 20, pool[rng.integers(0, 5, q.size)], pool[rng.integers(0, 10, q.size)])
    ans[rng.random(q.size) < 0.05] = None
    df = pd.DataFrame({"question_id": q, "sample_id": np.tile(np.arange(40), 30), "answer": ans,
                       "correct": [a is not None and a.strip() in ("7", "7.0", "007") for a in ans]})
    p = write(df, tmp_path / "f.parquet")
    calls: list[int] = []
    real = core.classify_graded

    def counting(texts: list[object], *args: object, **kw: object) -> object:
        calls.append(len(texts))
        return real(texts, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "classify_graded", counting)
    got = reduce_inputs([str(p)], normalizer=normalizer)
    monkeypatch.undo()
    ref = reduce_inputs([str(p)], engine="memory", normalizer=normalizer)
    assert_same(ref.counts, got.counts)
    assert got.answers is not None and ref.answers is not None
    assert (got.answers.n_merged, got.answers.n_unparsed) == (ref.answers.n_merged, ref.answers.n_unparsed)
    # math: only questions 20-29 can merge ("7", "007", "7.0", "\\frac{14}{2}") or hold text; plain: only those
    # where two strings normalise alike; none: no question is grouped
    assert len(calls) <= 10 and (normalizer == "none") == (len(calls) == 0)


@pytest.mark.parametrize("seed", range(6))
def test_bitmap_duplicate_check_equals_brute_force(tmp_path: Path, seed: int) -> None:
    """The bucketed bitmap check (integer ids) finds a repeated (model, question, sample id) exactly when pandas'
    ``duplicated`` does (nulls repeat too), on ids around bucket edges (0, 61, 62, negatives, large ids): both as a
    second query and folded into the class query's scan (a second grouping set), whose class rows are unchanged."""
    from dataclasses import replace

    from harness.engines.core import find_duplicate, split_buckets
    from harness.engines.duck import DuckRunner
    from harness.engines.sources import resolve_spec
    from harness.engines.sql import folds_duplicates

    rng = np.random.default_rng(seed)
    pool = np.array([0, 1, 60, 61, 62, 63, 123, 124, -1, -61, -62, -63, 2**40, 2**40 + 61, 2**40 + 62])
    seen = []
    for trial in range(8):
        n = int(rng.integers(4, 12))
        ids = pd.array(rng.choice(pool, n, replace=trial % 2 == 1), dtype="Int64")
        if trial % 4 == 2:
            ids[int(rng.integers(n))] = pd.NA
            if rng.random() < 0.5:
                ids[int(rng.integers(n))] = pd.NA
        df = pd.DataFrame({"model": rng.choice(["a", "b"], n), "question_id": rng.integers(0, 2, n),
                           "sample_id": ids, "correct": rng.random(n) < 0.5})
        p = write(df, tmp_path / f"d{seed}-{trial}.parquet")
        runner = DuckRunner(expand_inputs([str(p)]))
        try:
            spec, _ = resolve_spec(runner.describe(), ColumnMap(), source=str(p))
            assert runner.integer_column("sample_id")
            plain = runner.classes(spec)
            second_query = find_duplicate(plain, runner, spec)
            typed = replace(spec, typed=runner.typed(spec))
            assert folds_duplicates(typed)
            table, buckets = split_buckets(runner.classes(typed, duplicates=True))
            assert buckets is not None
            folded = find_duplicate(table, runner, typed, buckets=buckets)
            keys = ["model", "question_id", "answer", "correct"]
            assert table.to_pandas().sort_values(keys).reset_index(drop=True).equals(
                plain.to_pandas().sort_values(keys).reset_index(drop=True))
        finally:
            runner.close()
        expected = df.duplicated(["model", "question_id", "sample_id"])
        for got in (second_query, folded):  # with several repeats, each may name another (all real) one
            assert (got is not None) == bool(expected.any()), (df, got)
            if got is not None:
                sid = None if got[2] is None else int(got[2])
                same = (df["model"] == got[0]) & (df["question_id"].astype(str) == got[1])
                same &= df["sample_id"].isna() if sid is None else (df["sample_id"] == sid).fillna(False)
                assert int(same.sum()) >= 2
        seen.append(folded is not None)
    assert any(seen) and not all(seen)  # both outcomes were exercised


def test_a_repeated_missing_sample_id_is_a_duplicate_on_both_engines(tmp_path: Path) -> None:
    df = make_rollouts(n_q=2, n_s=4).astype({"sample_id": "Int64"})
    df.loc[[1, 3], "sample_id"] = pd.NA
    p = write(df, tmp_path / "n.parquet")
    for engine in ("duckdb", "memory"):
        with pytest.raises(HarnessInputError, match=r"n\.parquet, row 3, column 'sample_id': duplicate sample id"):
            reduce_inputs([str(p)], engine=engine)


def test_a_merge_across_grades_is_refused_and_a_string_graded_both_ways_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9: '7' (right) and '7.0' (wrong) stay apart with a warning; '7' graded both ways is an error."""
    df = pd.DataFrame({"question_id": [1, 1, 1], "answer": ["7", "7.0", "8"], "correct": [True, False, False]})
    p = write(df, tmp_path / "m.parquet")
    got = {engine: reduce_inputs([str(p)], engine=engine) for engine in ("duckdb", "memory")}
    for red in got.values():
        assert red.counts.correct.tolist() == [1] and red.counts.wrong.tolist() == [[1, 1]]  # type: ignore[union-attr]
        assert red.answers is not None and red.answers.n_conflicts == 1
        assert any("keep their exact answer strings" in n for n in red.notes)
    assert_same(got["duckdb"].counts, got["memory"].counts)
    both = write(df.assign(answer=["7", "7", "8"]), tmp_path / "b.parquet")
    for engine in ("duckdb", "memory"):  # both name the row graded the other way, and the first row
        with pytest.raises(HarnessInputError, match=r"b\.parquet, row 1, column 'correct': answer '7' "
                           r"(of question '1' )?is graded right in row 0 and wrong here"):
            reduce_inputs([str(both)], engine=engine)
    shards = tmp_path / "shards"  # the two rows in two files: the first one is named by its file
    shards.mkdir()
    write(df.iloc[[2, 0]], shards / "a.parquet")
    write(df.iloc[[2, 1]].assign(answer=["8", "7"]), shards / "b.parquet")
    with pytest.raises(HarnessInputError, match=r"b\.parquet, row 1, column 'correct': answer '7' of question '1' "
                       r"is graded right in \S*a\.parquet, row 1 and wrong here"):
        reduce_inputs([str(shards)], engine="duckdb")
    monkeypatch.setattr("harness.engines.core.grade_locator", lambda inputs, spec: None)  # rows not readable again
    with pytest.raises(HarnessInputError, match=r"answer '7' of question '1' is graded right in some samples and "
                       r"wrong in others"):
        reduce_inputs([str(shards)], engine="duckdb")


@pytest.mark.slow
def test_memory_limited_duckdb_spills_to_disk(tmp_path: Path) -> None:
    # string sample ids: the duplicate check is then the group-by over every (question, sample) key, whose hash
    # table (1.5 M keys) does not fit in 64 MB (integer ids take the bitmap check, which would fit)
    n = 1_500_000
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "question_id": np.repeat(np.arange(n // 500), 500),
        "sample_id": np.char.add("s", np.tile(np.arange(500), n // 500).astype(str)),
        "answer": rng.integers(0, 50, n).astype(str), "correct": rng.random(n) < 0.3,
    })
    df["correct"] = df["answer"] == "7"
    p = write(df, tmp_path / "big.parquet")
    spill = tmp_path / "spill"
    got = reduce_inputs([str(p)], normalizer="plain", memory_limit="64MB", temp_directory=str(spill), threads=1)
    ref = reduce_inputs([str(p)], normalizer="plain", threads=1)
    assert_same(ref.counts, got.counts)
    # the limit binds: the same run with spilling switched off (no temp directory) runs out of memory
    with pytest.raises(HarnessInputError, match="ran out of memory"):
        reduce_inputs([str(p)], normalizer="plain", memory_limit="64MB", temp_directory="", threads=1)


def test_class_count_file_round_trip(tmp_path: Path) -> None:
    p = write(make_rollouts(), tmp_path / "r.parquet")
    red = reduce_inputs([str(p)])
    out = tmp_path / "counts.parquet"
    write_class_counts(str(out), red)
    with pytest.raises(HarnessInputError, match=r"exists.*--force"):
        write_class_counts(str(out), red)
    back = load(str(out))
    assert back.format == "class-counts" and back.rollouts is None
    assert_same(red.counts, back.counts)
    assert_same(read_class_counts(str(out)).counts, reduce_inputs([str(p)], engine="memory").counts)
    assert np.allclose(back.counts.tokens, red.counts.tokens)
    import pyarrow.parquet as pq

    prov = json.loads(pq.read_schema(out).metadata[b"harness.class_counts"])
    assert prov["rows_read"] == 1000 and prov["rows_excluded"] == 0 and prov["normalizer"] == "math"
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


def test_load_uses_duckdb_for_plain_tables_and_memory_where_rows_are_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = make_rollouts()
    small = load(str(write(df, tmp_path / "p.parquet")))
    assert small.rollouts is not None  # below the size threshold the rows are kept (sample-order test, --where)
    monkeypatch.setattr("harness.loaders.generic.ENGINE_THRESHOLD_BYTES", 0)
    plain = load(str(tmp_path / "p.parquet"))
    assert plain.rollouts is None and any("reduced to counts by duckdb" in n for n in plain.notes)
    scored = load(str(write(df.assign(score=1.0), tmp_path / "s.parquet")))
    assert scored.rollouts is not None  # best@k needs each sample's score
    kept = load(str(tmp_path / "p.parquet"), engine="memory")
    assert kept.rollouts is not None
    assert_same(plain.counts, kept.counts)


def test_hf_paths_are_built_not_fetched() -> None:
    assert hf_parquet_glob("org/data", config="main", split="test") == (
        "hf://datasets/org/data@~parquet/main/test/*.parquet"
    )
    inputs = expand_inputs([hf_parquet_glob("org/data")])
    assert inputs.format == "parquet" and not inputs.local
    with pytest.raises(HarnessInputError, match="ORG/NAME"):
        hf_parquet_glob("not a name")


def test_an_unreadable_hf_path_is_a_one_line_error() -> None:
    """hf:// paths are read by DuckDB's httpfs where the network allows; where it does not (no network, no httpfs
    extension, no such dataset) the failure is one line naming the path and what to do, not a traceback."""
    path = hf_parquet_glob("harness-tests/no-such-dataset-x9")
    with pytest.raises(HarnessInputError) as info:
        reduce_inputs([path], engine="duckdb")
    message = str(info.value)
    assert message.startswith(path) and "\n" not in message
    assert "httpfs" in message or "network" in message


def test_cli_reduce_then_curves_equal_the_in_memory_curves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    p = write(make_rollouts(n_q=12, n_s=10), tmp_path / "r.parquet")
    out = tmp_path / "counts.parquet"
    assert main(["reduce", str(p), "--out", str(out), "--quiet"]) == 0
    assert main(["reduce", str(p), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    two = tmp_path / "two.parquet"  # more DuckDB threads: the same class rows (in another order)
    assert main(["reduce", str(p), "--out", str(two), "--quiet", "--threads", "2"]) == 0
    keys = ["model", "question_id", "answer", "correct"]
    one_t, two_t = (pd.read_parquet(f).sort_values(keys, na_position="first").reset_index(drop=True)
                    for f in (out, two))
    pd.testing.assert_frame_equal(two_t, one_t)
    assert main(["reduce", str(p), "--out", str(tmp_path / "zero.parquet"), "--threads", "0"]) == 2
    assert "--threads 0 is below 1" in capsys.readouterr().err and not (tmp_path / "zero.parquet").exists()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["curves", str(out), "--out", str(a), "--bootstrap", "0", "--quiet"]) == 0
    assert main(["curves", str(p), "--out", str(b), "--bootstrap", "0", "--quiet", "--engine", "memory"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))


def test_cli_reduce_memory_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--memory-limit reaches DuckDB (the same class rows under a small limit); a size DuckDB does not accept and
    the option on another engine are one-line errors that write nothing."""
    from harness.cli import main

    p = write(make_rollouts(n_q=12, n_s=10), tmp_path / "r.parquet")
    out, limited = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert main(["reduce", str(p), "--out", str(out), "--quiet"]) == 0
    assert main(["reduce", str(p), "--out", str(limited), "--quiet", "--memory-limit", "64MB"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(limited))
    for args, message in ((["--memory-limit", "lots"], "--memory-limit 'lots' is not a size DuckDB accepts"),
                          (["--memory-limit", "1GB", "--engine", "memory"], "--memory-limit applies to DuckDB")):
        bad = tmp_path / "bad.parquet"
        assert main(["reduce", str(p), "--out", str(bad), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and not bad.exists()


def test_reduce_refuses_a_tool_log_and_says_where_it_goes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    out = tmp_path / "c.parquet"
    log = str(Path(__file__).parent / "fixtures" / "inspect_log.eval")
    for engine in ("duckdb", "memory"):
        assert main(["reduce", log, "--out", str(out), "--engine", engine]) == 2
        err = capsys.readouterr().err
        assert "not a tabular file" in err and "read by report, curves and compare" in err and not out.exists()


@pytest.mark.parametrize("command", ["report", "compare"])
def test_cli_report_and_compare_from_a_class_count_file(tmp_path: Path, command: str) -> None:
    """A cluster job's class-count file feeds ``report`` and ``compare`` on a laptop: the same tables as from the
    per-sample log itself (read in memory)."""
    from harness.cli import main

    p = write(make_rollouts(n_q=12, n_s=10), tmp_path / "r.parquet")
    counts = tmp_path / "counts.parquet"
    assert main(["reduce", str(p), "--out", str(counts), "--quiet"]) == 0
    extra = ["--bootstrap", "50", "--quiet"] + (["--fits", "beta_binomial", "--figures-for", "0"]
                                                 if command == "report" else [])
    a, b = tmp_path / "from_counts", tmp_path / "from_rows"
    assert main([command, str(counts), "--out", str(a), *extra]) == 0
    assert main([command, str(p), "--out", str(b), *extra, "--engine", "memory"]) == 0
    table = "curves.csv" if command == "report" else "comparison.csv"
    left, right = pd.read_csv(a / table), pd.read_csv(b / table)
    if command == "report":  # the counts keep no sample order: no first-k curves, no order test (engines.md)
        assert (right["kind"] == "first-k").any() and not (left["kind"] == "first-k").any()
        assert (b / "order.csv").exists() and not (a / "order.csv").exists()
        right = right[right["kind"] != "first-k"].reset_index(drop=True)
    assert len(left) > 0
    pd.testing.assert_frame_equal(left, right)
