"""The retired streaming entry point (now the DuckDB reduction): same counts as the in-memory path, same errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness._validation import HarnessInputError
from harness.loaders import ColumnMap, LoadOptions, load
from harness.loaders.streaming import stream_counts


def make_rollouts(n_q: int = 40, n_s: int = 25, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    q = np.repeat(np.arange(n_q), n_s)
    ans = rng.integers(0, 4, size=q.size)
    return pd.DataFrame(
        {
            "model": np.where(q % 2 == 0, "m-even", "m-odd"),
            "question_id": q,
            "sample_id": np.tile(np.arange(n_s), n_q),
            "answer": np.where(ans == 3, None, ans.astype(str)),
            "correct": ans == (q % 3),
            "tokens": rng.integers(5, 50, q.size),
        }
    )


def frame_of(counts) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    f = counts.to_frame().drop(columns=["top_wrong_answer", "correct_answer"], errors="ignore")
    return f.sort_values(["model", "question_id"]).reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_streaming_equals_in_memory(tmp_path: Path, fmt: str) -> None:
    df = make_rollouts()
    path = tmp_path / f"r.{fmt}"
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_json(path, orient="records", lines=True)
    eager = load(str(path), stream=False)
    lazy = stream_counts(str(path), fmt=fmt, columns=ColumnMap(), stopping=None, options=LoadOptions(), batch_rows=97)
    assert lazy.rollouts is None and any("reduced to counts by duckdb" in n for n in lazy.notes)
    pd.testing.assert_frame_equal(frame_of(eager.counts), frame_of(lazy.counts), check_dtype=False)
    assert lazy.counts.abstain is not None and int(lazy.counts.abstain.sum()) == int(df["answer"].isna().sum())


def test_streaming_through_load_with_mapped_columns(tmp_path: Path) -> None:
    df = make_rollouts().rename(columns={"question_id": "pid", "correct": "ok"})
    df["ok"] = df["ok"].map({True: "yes", False: "no"})
    path = tmp_path / "r.parquet"
    df.to_parquet(path, index=False)
    got = load(str(path), columns=ColumnMap(question="pid", correct="ok"), stream=True)
    assert got.counts.n_questions == 40 and int(got.counts.n.sum()) == 1000


def test_streaming_errors_name_rows(tmp_path: Path) -> None:
    df = make_rollouts(n_q=3, n_s=4)
    dup = pd.concat([df, df.iloc[[5]]], ignore_index=True)
    p = tmp_path / "dup.parquet"
    dup.to_parquet(p, index=False)
    with pytest.raises(HarnessInputError, match=r"row 12.*sample_id.*duplicate"):
        stream_counts(str(p), fmt="parquet", columns=ColumnMap(), stopping=None, options=LoadOptions(), batch_rows=5)
    bad = df.astype({"correct": object})
    bad.loc[7, "correct"] = "perhaps"
    p2 = tmp_path / "bad.parquet"
    bad.astype({"correct": str}).to_parquet(p2, index=False)
    with pytest.raises(HarnessInputError, match=r"row 7.*'correct'.*accepted"):
        stream_counts(str(p2), fmt="parquet", columns=ColumnMap(), stopping=None, options=LoadOptions(), batch_rows=5)
    p3 = tmp_path / "bad.jsonl"
    p3.write_text(json.dumps({"question_id": 1, "correct": True}) + "\n{oops\n")
    with pytest.raises(HarnessInputError, match="line 2"):
        stream_counts(str(p3), fmt="jsonl", columns=ColumnMap(), stopping=None, options=LoadOptions())


def test_streaming_mixed_class_is_an_error(tmp_path: Path) -> None:
    df = pd.DataFrame({"question_id": [1, 1], "answer": ["7", "7"], "correct": [True, False]})
    p = tmp_path / "m.parquet"
    df.to_parquet(p, index=False)
    with pytest.raises(HarnessInputError, match=r"m\.parquet, row 1, column 'correct': answer '7' of question '1' is "
                       r"graded right in row 0 and wrong here"):
        load(str(p), stream=True)


def test_automatic_duckdb_only_for_plain_rollouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.loaders.generic.ENGINE_THRESHOLD_BYTES", 0)  # every file counts as large
    df = make_rollouts(n_q=3, n_s=4)
    p = tmp_path / "big.parquet"
    df.to_parquet(p, index=False)
    got = load(str(p))
    assert got.rollouts is None and any("reduced to counts by duckdb" in n for n in got.notes)
    text = pd.DataFrame({"question_id": [1, 1], "text": ["\\boxed{2}", "\\boxed{3}"], "gold": ["2", "2"]})
    p2 = tmp_path / "big_text.parquet"
    text.to_parquet(p2, index=False)
    got2 = load(str(p2))
    assert got2.rollouts is not None and got2.counts.correct.tolist() == [1]
