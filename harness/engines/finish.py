"""The engines' class rows (one per model, question, [group, budget,] raw answer, correctness) as integer codes, and
the finishing over those codes: answer labels from the distinct raw strings, the checks, the stopping rule and
QuestionCounts built from arrays.

Every string column is dictionary-encoded once (Arrow), so the per-class work is numpy over ``int64`` codes and
each distinct string (model, question id, raw answer, label) exists once as a Python object. This replaced a
pandas path that held the class table several times as object columns (docs/methods/engines.md, "Where the
harness path spends it").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.tables import pack_sorted_classes

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]
"""Dictionary codes (-1: null): 4 bytes a class row instead of 8 (the class table is what sets the peak)."""
AnyInt = npt.NDArray[np.integer[Any]]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]


def _as_arrow(raw: Any) -> Any:
    import pyarrow as pa

    if isinstance(raw, pd.DataFrame):
        return pa.Table.from_pandas(raw, preserve_index=False)
    return raw


def _codes(col: Any) -> tuple[CodeArray, ObjArray]:
    """(codes, distinct values) of an Arrow column; null -> code -1 (values as Python objects, each once)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_null(arr.type):
        return np.full(len(arr), -1, np.int32), np.empty(0, dtype=object)
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    codes = pc.fill_null(arr.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    values = np.asarray(arr.dictionary.to_pylist(), dtype=object).reshape(-1)
    return np.asarray(codes, np.int32), values


def _numbers(col: Any, dtype: type, fill: float) -> npt.NDArray[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_null(arr.type):
        return np.full(len(arr), fill, dtype)
    if pa.types.is_boolean(arr.type):
        arr = arr.cast(pa.int64())
    target = pa.float64() if dtype is float else pa.int64()
    out = pc.fill_null(arr.cast(target), fill if dtype is float else int(fill))
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype)


@dataclass(frozen=True, eq=False)
class ClassRows:
    """The engine's class rows as codes and numbers (one entry per row of the engine's output).

    ``model``/``question``/``answer``/``grp``/``budget`` are codes into the ``*_values`` arrays (-1: null);
    ``correct`` is 1, 0 or -1 (not boolean-like); ``first``/``last`` are NaN without a sample id.
    """

    model: CodeArray
    model_values: ObjArray
    question: CodeArray
    question_values: ObjArray
    answer: CodeArray
    answer_values: ObjArray
    correct: npt.NDArray[np.int8]
    size: IntArray
    tokens_sum: FloatArray
    tokens_n: IntArray
    first: FloatArray
    last: FloatArray
    sample_n: IntArray
    n_bad: IntArray
    grp: CodeArray | None = None
    grp_values: ObjArray | None = None
    budget: CodeArray | None = None
    budget_values: ObjArray | None = None

    @classmethod
    def from_engine(cls, raw: Any) -> ClassRows:
        """From the engine's output: an Arrow table (DuckDB) or a pandas DataFrame (Spark, tests)."""
        t = _as_arrow(raw)
        names = set(t.column_names)
        m, mv = _codes(t.column("model"))
        q, qv = _codes(t.column("question_id"))
        a, av = _codes(t.column("answer"))
        extra: dict[str, Any] = {}
        for name in ("grp", "budget"):
            if name in names:
                extra[name], extra[f"{name}_values"] = _codes(t.column(name))
        return cls(
            model=m, model_values=mv, question=q, question_values=qv, answer=a, answer_values=av,
            correct=_numbers(t.column("correct"), int, -1).astype(np.int8), size=_numbers(t.column("size"), int, 0),
            tokens_sum=_numbers(t.column("tokens_sum"), float, np.nan),
            tokens_n=_numbers(t.column("tokens_n"), int, 0),
            first=_numbers(t.column("first_sample"), float, np.nan),
            last=_numbers(t.column("last_sample"), float, np.nan),
            sample_n=_numbers(t.column("sample_n"), int, 0), n_bad=_numbers(t.column("n_bad"), int, 0), **extra,
        )

    def __len__(self) -> int:
        return len(self.size)

    def reorder(self, idx: IntArray) -> None:
        """Put the rows in the order ``idx`` (a permutation), in place: one array's temporary at a time instead of
        a second copy of the whole table (at 10^8 rows with 2.5 M classes, ~300 MB less at the peak)."""
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray) and not k.endswith("values") and v.shape == self.size.shape:
                if v.flags.writeable:
                    v[:] = v[idx]
                else:  # a view of an Arrow buffer: the new array replaces it (and the buffer is let go)
                    object.__setattr__(self, k, v[idx])


    def release(self, *names: str) -> None:
        """Let go of columns no longer needed (replaced by empty arrays), to lower the finishing's peak memory."""
        for name in names:
            object.__setattr__(self, name, np.empty(0, getattr(self, name).dtype))


def question_rank(values: ObjArray) -> IntArray:
    """Rank of each distinct question id: numerically when every id is a number, ties and others by text."""
    text = np.asarray([str(v) for v in values], dtype=object)
    num = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce")
    if len(text) and num.notna().all():
        order = np.lexsort((text, num.to_numpy(float)))
    else:
        order = np.argsort(text, kind="stable")
    rank = np.empty(len(text), np.int64)
    rank[order] = np.arange(len(text))
    return rank


def text_rank(values: ObjArray) -> IntArray:
    """Rank of each distinct string in Python's string order."""
    order = np.argsort(np.asarray([str(v) for v in values], dtype=object), kind="stable")
    rank = np.empty(len(values), np.int64)
    rank[order] = np.arange(len(values))
    return rank


def combine(*codes: AnyInt) -> IntArray:
    """One id per distinct tuple of codes (codes >= -1), numbered in order of first appearance."""
    ids = np.zeros(len(codes[0]), np.int64)
    bound = 1
    for c in codes:  # mixed radix while the key fits in int64, then renumber (one hash pass per overflow)
        width = int(c.max()) + 2 if len(c) else 1
        if bound * width >= 1 << 62:
            ids = pd.factorize(ids, sort=False)[0].astype(np.int64)
            bound = int(ids.max()) + 1 if len(ids) else 1
        ids = ids * width + (c.astype(np.int64) + 1)
        bound *= width
    return pd.factorize(ids, sort=False)[0].astype(np.int64)


@dataclass(frozen=True, eq=False)
class Rows:
    """The (model, question) rows: each class row's row index, in the output order (model, then question)."""

    of_class: IntArray
    model: CodeArray
    """Model code of each row."""
    question: CodeArray
    count: int


def question_rows(cr: ClassRows) -> Rows:
    """Rows ordered by model (text), then question id (numerically when all are numbers, else text)."""
    mrank = text_rank(cr.model_values)
    qrank = question_rank(cr.question_values)
    key = mrank[cr.model] * max(len(qrank), 1) + qrank[cr.question]
    uniq, inv = np.unique(key, return_inverse=True)
    first = np.zeros(len(uniq), np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    return Rows(of_class=inv.astype(np.int64), model=cr.model[first], question=cr.question[first], count=len(uniq))


def group_sum(ids: AnyInt, values: npt.NDArray[Any], n: int) -> npt.NDArray[Any]:
    """Sum of ``values`` per id (integers stay int64; summed as doubles, exact below 2^53)."""
    out = np.bincount(ids, weights=values, minlength=n)
    return np.rint(out).astype(np.int64) if values.dtype.kind in "iub" else out


def group_first(ids: AnyInt, n: int) -> IntArray:
    """Index of each id's first occurrence."""
    first = np.full(n, len(ids), np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    return first


def pack_classes(pos: IntArray, size: IntArray, rank: IntArray, label: ObjArray, q: int) -> tuple[IntArray, ObjArray]:
    """Place classes (row, size, label) into a (q, width) matrix, each row sorted by (-size, label): the layout of
    :func:`harness.tables.counts_from_class_table`, with labels ordered by their precomputed text ``rank``."""
    pos, size, rank = pos.astype(np.int64), size.astype(np.int64), rank.astype(np.int64)
    big = int(size.max()) + 1 if len(size) else 1
    ranks = int(rank.max()) + 1 if len(rank) else 1
    if q * big * ranks < 1 << 62:  # one int64 key, sorted once (the rows arrive nearly in order)
        order = np.argsort(pos * (big * ranks) + (big - 1 - size) * ranks + rank, kind="stable")
    else:
        order = np.lexsort((rank, -size, pos))
    return pack_sorted_classes(pos[order], size[order], label[order], q)


def frame(columns: Sequence[tuple[str, npt.NDArray[Any]]]) -> pd.DataFrame:
    """A DataFrame from (name, array) pairs (object arrays kept as object)."""
    return pd.DataFrame({name: pd.Series(arr, dtype=arr.dtype, copy=False) for name, arr in columns}, copy=False)
