"""Real data: the exact estimators reproduce the numbers the data's authors (or its PROVENANCE.md) published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness import ColumnMap, compute_curves, load, pass_at_k


def test_esc_last_letters_reproduces_provenance_figures(shared_data: Path) -> None:
    """PROVENANCE.md of esc_gpt35_last_letters: mean p 0.804, pass@40 0.926, maj@40 (ties split) 0.832."""
    loaded = load(str(shared_data / "esc_gpt35_last_letters" / "samples.parquet"),
                  columns=ColumnMap(question="question_idx", sample="sample_idx"))
    counts = loaded.counts
    assert counts.n_questions == 500 and set(counts.n.tolist()) == {40}
    curves = compute_curves(counts, metrics=("pass@k", "maj@k"), ks=[1, 40], kinds=("measured",), bootstrap=0)
    value = curves.set_index(["metric", "k"])["value"]
    assert round(float(value[("pass@k", 1)]), 3) == 0.804
    assert round(float(value[("pass@k", 40)]), 3) == 0.926
    assert round(float(value[("maj@k", 40)]), 3) == 0.832


def test_llmonkeys_pythia_pass_at_k_matches_the_published_parquet(shared_data: Path) -> None:
    """Schaeffer et al.'s processed parquet lists the unbiased pass@k for 7 Pythia models and 101 k values."""
    folder = shared_data / "llmonkeys_pythia_math_10k"
    original = pd.read_parquet(folder / "large_language_monkeys_original_pass_at_k.parquet")
    n = original["Num. Samples Total"].to_numpy()
    c = original["Num. Samples Correct"].to_numpy().astype(np.int64)
    k = original["Scaling Parameter"].to_numpy()
    ours = np.empty(len(original))
    for kv in np.unique(k):
        rows = k == kv
        ours[rows] = pass_at_k(n[rows], c[rows], [int(kv)])[:, 0]
    assert original["Model"].nunique() == 7 and len(np.unique(k)) == 101
    np.testing.assert_allclose(ours, original["Score"].to_numpy(), rtol=1e-9, atol=1e-12)
