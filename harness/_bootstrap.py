"""Resampling questions with replacement: the one place the bootstrap replicates are drawn.

The questions are the independent units, so every interval in the package resamples them (Efron & Tibshirani
1993, ch. 6). Replicate b draws Q question indices i_b1..i_bQ uniformly with replacement; its mean of a per-question
value v is (1/Q) sum_j v[i_bj] = (1/Q) sum_q N_bq v_q with N_b = bincount(i_b) ~ Multinomial(Q, 1/Q), so the
replicate means of every column (every k) at once are ``N @ V / Q``.

:class:`Resampler` never holds the dense (B, Q) matrix: it walks the replicates in chunks (memory
O(chunk x Q), ``chunk_bytes``), and replicate block j (``BLOCK`` consecutive replicates) is always drawn from child
j of the seed (``numpy.random.SeedSequence.spawn``). So the replicates are a function of the seed alone: the same
for any chunk size, any number of columns, any call order, and the first B' of B replicates are the replicates of
B'. Two matrices resampled by one Resampler (or two Resamplers with the same seed and Q) share their replicates,
which is what paired statistics need (differences between metrics, between measured and i.i.d., slopes).

Indices: exact uniform integers on [0, Q) from the raw 64-bit output of PCG64, each 64-bit word split into two
32-bit halves, by Lemire's multiply-and-reject method (Lemire 2019, "Fast random integer generation in an
interval", ACM TOMACS 29(1)): x * Q >> 32 with the halves whose low product word is below 2^32 mod Q rejected, so
every index has probability exactly 1/Q. The counting is fused into the same compiled loop (no index array).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SeedLike = int | Sequence[int] | np.random.SeedSequence | np.random.Generator

BLOCK = 8
"""Replicates drawn from one child seed (the unit of determinism; chunks are whole blocks)."""
CHUNK_BYTES = 32 * 2**20
"""Default memory for one chunk of float64 counts (chunk x Q x 8 bytes, at least one block)."""
CACHE_BYTES = 64 * 2**20
"""Counts are kept (as uint8 or uint16) between calls when B x Q x itemsize fits here; otherwise redrawn."""


@njit(cache=True, nogil=True)
def _count_from_words(
    words: npt.NDArray[np.uint64], q: int, out: npt.NDArray[np.integer], row: int, col: int, limit: int
) -> tuple[int, int, bool]:
    """Add the indices drawn from ``words`` to ``out`` (rows x q small-integer counts), starting at (row, col) =
    (replicate of the block, index within it); returns where it stopped (row == rows when the block is complete)
    and whether a count reached ``limit`` (the caller then recounts in a wider type: the counts are exact)."""
    rows = out.shape[0]
    qq = np.uint64(q)
    thresh = np.uint64((2**32 - q) % q)
    mask = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    full = False
    for w in words:
        for half in range(2):
            if row >= rows:
                return row, col, full
            m = ((w >> (s32 * np.uint64(half))) & mask) * qq
            if (m & mask) < thresh:
                continue
            i = np.int64(m >> s32)
            out[row, i] += 1
            if out[row, i] >= limit:
                full = True
            col += 1
            if col == q:
                col = 0
                row += 1
    return row, col, full


@njit(cache=True, nogil=True)
def _indices_from_words(words: npt.NDArray[np.uint64], q: int, out: IntArray, pos: int) -> int:
    """The same accept/reject walk as :func:`_count_from_words`, writing the indices themselves (for tests)."""
    n = out.shape[0]
    qq = np.uint64(q)
    thresh = np.uint64((2**32 - q) % q)
    mask = np.uint64(0xFFFFFFFF)
    for w in words:
        for half in range(2):
            if pos >= n:
                return pos
            x = (w >> np.uint64(32 * half)) & mask
            m = x * qq
            if (m & mask) < thresh:
                continue
            out[pos] = np.int64(m >> np.uint64(32))
            pos += 1
    return pos


def _seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """A SeedSequence from an int / int sequence / SeedSequence, or one drawn from a Generator (advancing it)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4, dtype=np.int64).tolist())
    return np.random.SeedSequence(seed)


class Resampler:
    """B bootstrap replicates over Q questions, a deterministic function of ``seed`` (see the module docstring).

    ``means(values)`` gives the (B, K) replicate means of a (Q, K) array ((B,) for (Q,)); ``means_many`` does
    several arrays on one pass over the replicates (same replicates for all: paired). Values are used as given
    (a NaN makes its column NaN in every replicate): callers that skip missing values pass ``np.nan_to_num``.
    """

    def __init__(
        self,
        seed: SeedLike,
        questions: int,
        replicates: int,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        if questions < 1 or questions >= 2**32:
            raise ValueError(f"questions={questions}: need 1 <= Q < 2^32")
        if replicates < 0:
            raise ValueError(f"replicates={replicates}: need >= 0")
        self.questions = int(questions)
        self.replicates = int(replicates)
        self.seed = _seed_sequence(seed)
        n_blocks = -(-self.replicates // BLOCK)
        # children 0..n-1 of the seed, as SeedSequence.spawn numbers them, without spawn's counter (a SeedSequence
        # passed twice gives the same replicates twice)
        ss = self.seed
        self._children = [
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, j), pool_size=ss.pool_size)
            for j in range(n_blocks)
        ]
        per_block = BLOCK * self.questions * 8
        self.chunk_blocks = max(1, int(chunk_bytes) // per_block)
        self._cache_ok = self.replicates * self.questions <= cache_bytes
        self._cache: npt.NDArray[np.integer] | None = None

    _limit = 255
    """A uint8 count that reaches this sends its chunk to the int64 path (tests lower it to exercise that)."""

    def _words(self, gen: np.random.Generator, needed: int) -> npt.NDArray[np.uint64]:
        # two candidate indices per word; a few spare words cover the (rare, < Q / 2^32 per half) rejections
        return np.asarray(gen.bit_generator.random_raw(needed // 2 + 1 + 16), np.uint64)

    def _block_counts(self, j: int, out: npt.NDArray[np.integer], limit: int) -> bool:
        """Counts of block j (its first out.shape[0] replicates) added to ``out`` (zeros); True if one reached
        ``limit``."""
        gen = np.random.Generator(np.random.PCG64(self._children[j]))
        rows = out.shape[0]
        row, col, full = 0, 0, False
        while row < rows:
            words = self._words(gen, (rows - row) * self.questions - col)
            row, col, f = _count_from_words(words, self.questions, out, row, col, limit)
            full = full or f
        return full

    def _small_counts(self, j0: int, j1: int) -> npt.NDArray[np.integer]:
        """(rows, Q) counts of blocks j0..j1-1 as uint8 (int64 in the astronomically rare case of a count >= 255
        at Q >= 255)."""
        start, stop = j0 * BLOCK, min(self.replicates, j1 * BLOCK)
        small: npt.NDArray[np.integer] = np.zeros((stop - start, self.questions), np.uint8)
        if any(  # a list, not a generator: every block is counted before the check
            [
                self._block_counts(j, small[j * BLOCK - start : j * BLOCK - start + BLOCK], self._limit)
                for j in range(j0, j1)
            ]
        ):
            small = np.zeros((stop - start, self.questions), np.int64)
            for j in range(j0, j1):
                self._block_counts(j, small[j * BLOCK - start : j * BLOCK - start + BLOCK], self.questions + 1)
        return small

    def _small_chunks(self) -> Iterator[tuple[int, npt.NDArray[np.integer]]]:
        """(first replicate, small-integer counts of the chunk) over all replicates, in order (cached if small)."""
        if self._cache is not None:
            for start in range(0, self.replicates, self.chunk_blocks * BLOCK):
                yield start, self._cache[start : start + self.chunk_blocks * BLOCK]
            return
        parts = []
        for j0 in range(0, len(self._children), self.chunk_blocks):
            small = self._small_counts(j0, min(j0 + self.chunk_blocks, len(self._children)))
            if self._cache_ok:
                parts.append(small)
            yield j0 * BLOCK, small
        if parts:
            self._cache = np.concatenate(parts)

    def _chunks(self) -> Iterator[tuple[int, FloatArray]]:
        """(first replicate, float64 counts of the chunk), reusing one buffer (do not keep the arrays)."""
        buf = np.empty((min(self.chunk_blocks * BLOCK, self.replicates), self.questions))
        for start, small in self._small_chunks():
            chunk = buf[: small.shape[0]]
            chunk[:] = small
            yield start, chunk

    def block_indices(self, j: int) -> IntArray:
        """The (rows, Q) question indices of block j, drawn exactly as its counts are (for checks)."""
        rows = min(BLOCK, self.replicates - j * BLOCK)
        gen = np.random.Generator(np.random.PCG64(self._children[j]))
        out = np.empty(rows * self.questions, np.int64)
        pos = 0
        while pos < out.shape[0]:
            pos = _indices_from_words(self._words(gen, out.shape[0] - pos), self.questions, out, pos)
        return out.reshape(rows, self.questions)

    def indices(self) -> IntArray:
        """All (B, Q) indices (dense: for tests and small Q only)."""
        if self.replicates == 0:
            return np.zeros((0, self.questions), np.int64)
        return np.concatenate([self.block_indices(j) for j in range(len(self._children))])

    def counts(self) -> FloatArray:
        """All (B, Q) counts as float64 (dense: for tests and small Q only); row b sums to Q."""
        out = np.zeros((self.replicates, self.questions))
        for start, chunk in self._chunks():
            out[start : start + chunk.shape[0]] = chunk
        return out

    def means(self, values: npt.ArrayLike) -> FloatArray:
        """Replicate means of ``values`` ((Q,) -> (B,), (Q, K) -> (B, K))."""
        return self.means_many([values])[0]

    def means_many(self, arrays: Sequence[npt.ArrayLike]) -> list[FloatArray]:
        """Replicate means of several (Q,) / (Q, K) arrays from one pass over the same replicates."""
        mats = [np.asarray(a, np.float64) for a in arrays]
        if not mats:
            return []
        for m in mats:
            if m.ndim not in (1, 2) or m.shape[0] != self.questions:
                raise ValueError(f"values of shape {m.shape}: need ({self.questions},) or ({self.questions}, K)")
        cols = [np.ascontiguousarray(m.reshape(self.questions, -1)) for m in mats]
        outs = [np.empty((self.replicates, c.shape[1])) for c in cols]
        for start, chunk in self._chunks():
            for c, o in zip(cols, outs, strict=True):
                o[start : start + chunk.shape[0]] = chunk @ c
        return [
            np.asarray((o / self.questions).reshape((self.replicates, *m.shape[1:])), np.float64)
            for o, m in zip(outs, mats, strict=True)
        ]


def percentile_interval(reps: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed percentile interval over axis 0 (``np.quantile``, linear interpolation)."""
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha], axis=0)
    return np.asarray(lo), np.asarray(hi)
