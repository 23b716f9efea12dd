"""A class-count file with a group column feeds the same group tests as the per-sample log.

The within-question permutation tests of ``harness.diagnostics.dependence`` depend only on the multiset of
(question, class, group) cells, which the class table keeps: the statistics must be identical, and with the
per-sample rows in the rebuilt order (by question, group, answer, correctness) so must every p-value and interval
(the same seed then draws the same permutations and bootstrap resamples). The order test needs the sample order,
which counts lose: the analysis must say it was not run and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.diagnostics.dependence import dependence_tests
from harness.engines import reduce_inputs, write_class_counts
from harness.engines import store as store_module
from harness.loaders import load
from harness.loaders._base import Loaded

PERMUTATION_FREE = ["model", "test", "k", "estimate", "n_questions", "n_groups"]
"""Columns that do not depend on which permutations or resamples the seed draws (D(k) estimates, sizes); the
statistics of the chi-square and overdispersion tests are also permutation-free."""


def grouped_log(seed: int = 0) -> pd.DataFrame:
    """2 models x 10 questions x 45 samples in 3 groups; in model 'b' group 2 answers right more often."""
    rng = np.random.default_rng(seed)
    rows = []
    for model in ("a", "b"):
        for q in range(10):
            p = rng.uniform(0.1, 0.9)
            for s in range(45):
                g = s % 3
                pq = min(0.95, p + (0.3 if model == "b" and g == 2 else 0.0))
                right = rng.random() < pq
                ans = str(q % 5) if right else (None if rng.random() < 0.1 else str(5 + rng.integers(0, 3)))
                rows.append((model, q, s, f"seed-{g}", ans, right))
    return pd.DataFrame(rows, columns=["model", "question_id", "sample_id", "group", "answer", "correct"])


def in_rebuilt_order(df: pd.DataFrame) -> pd.DataFrame:
    """The per-sample rows in the order the class table rebuilds them (within a question: group, answer, correct)."""
    key = df.assign(_a=df["answer"].fillna("").astype(str), _g=df["group"].astype(str))
    order = key.sort_values(["model", "question_id", "_g", "_a", "correct"], kind="stable").index
    return df.loc[order].reset_index(drop=True)


def both_paths(df: pd.DataFrame, tmp_path: Path, **cols: str) -> tuple[pd.DataFrame, pd.DataFrame, Loaded]:
    from harness.loaders import ColumnMap

    p = tmp_path / "log.parquet"
    df.to_parquet(p, index=False)
    per_sample = load(str(p), columns=ColumnMap(**cols)) if cols else load(str(p))
    assert per_sample.rollouts is not None
    out = tmp_path / "counts.parquet"
    write_class_counts(str(out), reduce_inputs([str(p)], columns=ColumnMap(**cols) if cols else None))
    from_counts = load(str(out))
    assert from_counts.format == "class-counts" and from_counts.rollouts is not None
    kw = {"bootstrap": 20, "seed": 11, "permutations": 99}
    a, _ = dependence_tests(per_sample.counts, per_sample.rollouts, **kw)
    b, _ = dependence_tests(from_counts.counts, from_counts.rollouts, **kw)
    assert a is not None and b is not None
    return a, b, from_counts


@pytest.mark.slow
def test_group_tests_from_counts_equal_the_per_sample_log(tmp_path: Path) -> None:
    a, b, _ = both_paths(in_rebuilt_order(grouped_log()), tmp_path)
    # same cells in the same order, same seed: every column identical, p-values and intervals included
    pd.testing.assert_frame_equal(a, b)
    assert set(a["test"]) >= {"chi2_class_by_group", "overdispersion", "curve_D_perm(pass@k)"}
    # and the planted group effect in model 'b' is found on both paths (the test could have failed)
    od = b[(b["test"] == "overdispersion")].set_index("model")["p_value"]
    assert od["b"] < 0.05


@pytest.mark.slow
def test_shuffled_log_gives_the_same_statistics(tmp_path: Path) -> None:
    df = grouped_log(1).sample(frac=1.0, random_state=3).reset_index(drop=True)
    a, b, _ = both_paths(df, tmp_path)
    # other row order: the seed permutes other sequences of the same cells, so only what does not depend on the
    # draws must agree (the z of curve_D_perm is standardised by the permutation sd, curve_D's by the bootstrap's)
    pd.testing.assert_frame_equal(a[PERMUTATION_FREE], b[PERMUTATION_FREE])
    fixed = a["test"].isin(["chi2_class_by_group", "overdispersion"])
    np.testing.assert_allclose(a.loc[fixed, "statistic"], b.loc[fixed, "statistic"], rtol=1e-12)


@pytest.mark.slow
def test_real_esc_log_with_blocks_as_groups(tmp_path: Path, shared_data: Path) -> None:
    """No log in ../shared/data has a logged group column; the ESC samples (GPT-3.5, 500 questions x 40) get
    blocks of 10 consecutive samples as groups, only to check that both paths give identical tests on real
    answers (this is not a dependence claim about ESC)."""
    src = shared_data / "esc_gpt35_last_letters" / "samples.parquet"
    if not src.exists():
        pytest.skip(f"{src} not present")
    esc = pd.read_parquet(src, columns=["question_idx", "sample_idx", "answer", "correct"])
    esc = esc.assign(group=(esc["sample_idx"] // 10).map("block-{}".format))
    esc = esc.rename(columns={"question_idx": "question_id", "sample_idx": "sample_id"}).assign(model="gpt-3.5")
    a, b, _ = both_paths(in_rebuilt_order(esc), tmp_path)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_order_test_is_reported_as_not_run(tmp_path: Path) -> None:
    from harness.analysis import analyse

    df = in_rebuilt_order(grouped_log(2)[lambda d: (d["question_id"] < 4) & (d["model"] == "b")])
    _, _, loaded = both_paths(df, tmp_path)
    res = analyse(loaded.counts, rollouts=loaded.rollouts, bootstrap=20, fits=("beta_binomial",), permutations=99)
    assert res.order is None
    assert "rebuilt from class counts" in res.order_reason and "order test was not run" in res.order_reason
    assert res.dependence is not None
    from harness.report.sections import tests_section

    text = " ".join(tests_section(res, "", True, False, None).paragraphs)  # what the report prints
    assert "Sample order: the per-sample rows were rebuilt from class counts" in text
    assert any("rebuilt from the class counts" in n for n in loaded.notes)


def test_too_many_samples_are_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "log.parquet"
    grouped_log().to_parquet(p, index=False)
    out = tmp_path / "counts.parquet"
    write_class_counts(str(out), reduce_inputs([str(p)]))
    monkeypatch.setattr(store_module, "MAX_EXPANDED_SAMPLES", 500)
    loaded = load(str(out))
    assert loaded.rollouts is None
    assert any("group tests were not run: 900 samples exceed" in n for n in loaded.notes)
