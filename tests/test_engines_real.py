"""Every per-sample tabular dataset in ../shared/data reduces to the same counts on DuckDB and in memory.

Counts are also checked against the numbers in each folder's PROVENANCE.md / reference count table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_engines import assert_same

from harness.engines import reduce_inputs
from harness.loaders import ColumnMap

REAL: dict[str, tuple[str, ColumnMap]] = {
    "esc": ("esc_gpt35_last_letters/samples.parquet", ColumnMap(sample="sample_idx")),
    "faithfulcot": ("faithfulcot_codex_date_n40/samples.parquet", ColumnMap(sample="sample_idx")),
    "bon-gemini": (
        "bon_jailbreaking_text/best_of_n_jailbreaking_gemini-1.5-flash-001_per_attempt.parquet",
        ColumnMap(question="Problem Idx", correct="Score", model="Model"),
    ),
    "bon-llama": (
        "bon_jailbreaking_text/meta-llama-Meta-Llama-3-8B-Instruct_text_t1.0_n10000.jsonl.gz",
        ColumnMap(question="i", correct="flagged", sample="n"),
    ),
}
"""Dataset -> (file, column map): the per-sample tables (the other folders hold counts, histograms or code)."""


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_same_counts_on_duckdb_and_in_memory(shared_data: Path, name: str) -> None:
    rel, cols = REAL[name]
    path = shared_data / rel
    if not path.exists():
        pytest.skip(f"{path} is absent")
    ref = reduce_inputs([str(path)], columns=cols, engine="memory")
    got = reduce_inputs([str(path)], columns=cols, engine="duckdb")
    assert_same(ref.counts, got.counts)
    if name == "bon-llama":  # sample ids 0..n-1: the stopping rule is detected from the class table too
        assert set(got.counts.stopping.tolist()) == set(ref.counts.stopping.tolist()) == {"first-success-block:60"}


def test_real_data_reference_numbers(shared_data: Path) -> None:
    folder = shared_data / "bon_jailbreaking_text"
    if not folder.exists():
        pytest.skip(f"{folder} is absent")
    rel, cols = REAL["bon-llama"]
    c = reduce_inputs([str(shared_data / rel)], columns=cols).counts
    ref = pd.read_parquet(folder / "counts.parquet")
    ref = ref[ref["model"] == "Llama 3 8B IT"].sort_values("problem_idx")  # PROVENANCE.md: 29,880 lines
    order = np.argsort(c.question_id.astype(int))
    assert int(c.n.sum()) == 29_880
    assert c.n[order].tolist() == ref["n_samples"].tolist() and c.correct[order].tolist() == ref["n_correct"].tolist()
    rel, cols = REAL["bon-gemini"]
    g = reduce_inputs([str(shared_data / rel)], columns=cols).counts
    assert g.n_questions == 159 and int(g.n.sum()) == 747_420 and int(g.n.max()) == 10_020
