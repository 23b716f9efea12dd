"""The report's shortcuts for large tables give what the direct computation gives (no timings asserted)."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest

from harness.curves import model_parts
from harness.diagnostics.decomposition import P_BIN_EDGES, p_bin_labels
from harness.tables import QuestionCounts, concat_counts


def _table() -> QuestionCounts:
    rng = np.random.default_rng(3)
    parts = []
    for name, q in (("b", 7), ("a", 5), ("c", 1)):
        c = rng.integers(0, 20, q)
        parts.append(QuestionCounts.from_classes(c, [[20 - x - (20 - x) // 2, (20 - x) // 2] for x in c], model=name))
    both = concat_counts(parts)
    return both.take(rng.permutation(both.n_questions))  # models interleaved


def test_model_parts_equal_select_for_every_model_and_are_made_once() -> None:
    counts = _table()
    parts = model_parts(counts)
    assert list(parts) == counts.models
    for model, part in parts.items():
        direct = counts.select(model)
        for f in dataclasses.fields(QuestionCounts):
            got, want = getattr(part, f.name), getattr(direct, f.name)
            if isinstance(want, np.ndarray):
                np.testing.assert_array_equal(got, want, err_msg=f"{model}: {f.name}")
            else:
                assert got == want, f"{model}: {f.name}"
    assert model_parts(counts) is parts  # the same table is split once
    assert model_parts(counts.take(np.arange(counts.n_questions))) is not parts  # another table: its own split


def test_p_bin_labels_name_each_bin_by_its_edges() -> None:
    p = np.array([0.0, 1e-5, 1e-4, 2e-4, 0.01, 0.5, 0.50001, 1.0])
    want = []
    for v in p:  # brute force: the first edge >= p closes the bin (lo, hi]
        if v == 0:
            want.append("0")
            continue
        i = next(j for j, e in enumerate(P_BIN_EDGES) if e >= v)
        want.append(f"({P_BIN_EDGES[i - 1]:g}, {P_BIN_EDGES[i]:g}]")
    assert p_bin_labels(p).tolist() == want


def test_binary_extremes_of_several_models_equal_each_model_alone() -> None:
    from harness.report.tables import binary_extreme_curves

    counts = _table()
    ks = {"a": np.array([1, 2, 4, 8, 16, 20]), "b": np.array([1, 2, 4, 8, 16, 20]), "c": np.array([1, 3, 20])}
    together = binary_extreme_curves(counts, ks, bootstrap=0)
    for model in counts.models:
        alone = binary_extreme_curves(counts.select(model), {model: ks[model]}, bootstrap=0)
        part = together[together["model"] == model].reset_index(drop=True)
        np.testing.assert_array_equal(part["value"].to_numpy(), alone["value"].to_numpy())
        np.testing.assert_array_equal(part["k"].to_numpy(), alone["k"].to_numpy())


def test_maj_matrix_is_computed_once_per_table_kind_and_grid_and_handed_out_as_a_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import harness.curves as curves
    from harness.curves import per_question_metric
    from harness.estimators.majority import maj_at_k

    calls: list[str] = []

    def counting(counts: QuestionCounts, ks: npt.ArrayLike, *, ties: str, kind: str) -> npt.NDArray[np.float64]:
        calls.append(kind)
        return maj_at_k(counts, ks, ties=ties, kind=kind)

    monkeypatch.setattr(curves, "maj_at_k", counting)
    counts = _table()
    ks = np.array([1, 2, 4, 8])
    first = per_question_metric(counts, "maj@k", "measured", ks)
    first[:] = -1.0  # the caller's copy: the next caller still gets the values
    again = per_question_metric(counts, "maj@k", "measured", ks)
    np.testing.assert_array_equal(again, maj_at_k(counts, ks, kind="measured"))
    per_question_metric(counts, "maj@k", "iid", ks)
    per_question_metric(counts, "maj@k", "measured", ks[:3])  # another grid: computed, never a subset of the first
    per_question_metric(counts, "maj@k", "measured", ks, ties="strict")
    per_question_metric(counts.take(np.arange(counts.n_questions)), "maj@k", "measured", ks)  # another table
    assert calls == ["measured", "iid", "measured", "measured", "measured"]
