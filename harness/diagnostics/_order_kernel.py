"""Compiled kernel of the sample-order test (see :mod:`harness.diagnostics.order`).

For each replicate r and question q the kernel walks the question's samples in one order (the logged order for
r = -1, a uniform random permutation otherwise, Fisher-Yates), keeps the running class counts, the largest count
and how many classes hold it, and at every k of the grid records pass (a correct sample among the first k) and
the majority-vote credit of the first k (tie rule as in harness.estimators.majority: random 1/(number of classes
at the top), strict 0, weak 1; the correct class needs a vote; class -1 is a sample with no answer, no vote).
O(R Q m) time, O(m + classes) memory per thread.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

TIE_RANDOM, TIE_STRICT, TIE_WEAK = 0, 1, 2


@njit(cache=True)
def _walk(
    seq: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    ks: npt.NDArray[np.int64],
    tie: int,
    out_pass: npt.NDArray[np.float64],
    out_maj: npt.NDArray[np.float64],
) -> None:
    counts[:] = 0
    top = 0
    n_top = 0
    seen = False
    j = 0
    for i in range(seq.shape[0]):
        a = seq[i]
        if a == 0:
            seen = True
        if a >= 0:
            counts[a] += 1
            if counts[a] > top:
                top = counts[a]
                n_top = 1
            elif counts[a] == top:
                n_top += 1
        while j < ks.shape[0] and ks[j] == i + 1:
            out_pass[j] += 1.0 if seen else 0.0
            c0 = counts[0]
            if c0 > 0 and c0 == top:
                if n_top == 1:
                    out_maj[j] += 1.0
                elif tie == TIE_RANDOM:
                    out_maj[j] += 1.0 / n_top
                elif tie == TIE_WEAK:
                    out_maj[j] += 1.0
            j += 1


@njit(cache=True)
def observed_curves(
    cls: npt.NDArray[np.int64], ks: npt.NDArray[np.int64], n_classes: int, tie: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per-question first-k pass and maj credit in the logged order: two (Q, K) arrays."""
    q, _ = cls.shape
    kk = ks.shape[0]
    p = np.zeros((q, kk))
    m = np.zeros((q, kk))
    counts = np.zeros(n_classes, np.int64)
    for i in range(q):
        _walk(cls[i], counts, ks, tie, p[i], m[i])
    return p, m


@njit(cache=True)
def permuted_means(
    cls: npt.NDArray[np.int64], ks: npt.NDArray[np.int64], n_classes: int, tie: int, reps: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean over questions of first-k pass and maj credit, each question's samples permuted independently:
    two (reps, K) arrays."""
    np.random.seed(seed)
    q, m = cls.shape
    kk = ks.shape[0]
    p = np.zeros((reps, kk))
    v = np.zeros((reps, kk))
    counts = np.zeros(n_classes, np.int64)
    seq = np.empty(m, np.int64)
    for r in range(reps):
        for i in range(q):
            seq[:] = cls[i]
            for a in range(m - 1, 0, -1):  # Fisher-Yates
                b = np.random.randint(0, a + 1)
                t = seq[a]
                seq[a] = seq[b]
                seq[b] = t
            _walk(seq, counts, ks, tie, p[r], v[r])
        for j in range(kk):
            p[r, j] /= q
            v[r, j] /= q
    return p, v


@njit(cache=True)
def block_statistics(
    cls: npt.NDArray[np.int64], blocks: int, n_classes: int, reps: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Tarone's sum S = sum_qg (c_qg - b p_q)^2 / (p_q (1 - p_q)) (questions with 0 < p_q < 1) and Pearson's
    X^2 = sum_q [sum_{class, g} O^2 N_q / (row b) - N_q] with each question's first ``blocks`` x b samples cut into
    ``blocks`` consecutive blocks of b; entry 0 in the logged order, entries 1..reps with each question's samples
    permuted (the within-question permutation of block labels). Codes: 0 correct, 1.. wrong, n_classes - 1 the
    class of samples with no answer (callers map -1 there)."""
    np.random.seed(seed)
    q, m = cls.shape
    size = m // blocks
    used = size * blocks
    s_out = np.zeros(reps + 1)
    x_out = np.zeros(reps + 1)
    row = np.zeros((q, n_classes), np.int64)
    for i in range(q):
        for j in range(used):
            row[i, cls[i, j]] += 1
    seq = np.empty(used, np.int64)
    cnt = np.zeros(n_classes, np.int64)
    for r in range(reps + 1):
        s = 0.0
        x2 = 0.0
        for i in range(q):
            seq[:] = cls[i, :used]
            if r > 0:
                for a in range(used - 1, 0, -1):
                    b = np.random.randint(0, a + 1)
                    t = seq[a]
                    seq[a] = seq[b]
                    seq[b] = t
            p = row[i, 0] / used
            for g in range(blocks):
                cnt[:] = 0
                for j in range(g * size, (g + 1) * size):
                    cnt[seq[j]] += 1
                if 0.0 < p < 1.0:
                    d = cnt[0] - size * p
                    s += d * d / (p * (1.0 - p))
                for c in range(n_classes):
                    if row[i, c] > 0:
                        x2 += cnt[c] * cnt[c] * used / (row[i, c] * size)
            x2 -= used
        s_out[r] = s
        x_out[r] = x2
    return s_out, x_out
