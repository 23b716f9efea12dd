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
def permutation_null(
    cls: npt.NDArray[np.int64],
    ks: npt.NDArray[np.int64],
    n_classes: int,
    tie: int,
    blocks: int,
    reps: int,
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One pass over ``reps`` within-question permutations for every order statistic (each serves all tests; each
    test's p-value stays exact):

    * the mean over questions of the first-k pass and maj credit, (reps, K);
    * with ``blocks`` > 0, the first blocks x b samples cut into consecutive blocks of b: Tarone's sum
      S = sum_qg (c_qg - b p_q)^2 / (p_q (1 - p_q)) over questions with 0 < p_q < 1, and Pearson's
      X^2 = sum_q [sum_{class, g} O^2 N_q / (row b) - N_q], (reps + 1,) with entry 0 in the logged order. The
      block samples are taken in the permuted order of the full sequence, which permutes them uniformly.

    ``cls`` codes: 0 correct, 1.. wrong, -1 no answer (its own class for X^2)."""
    np.random.seed(seed)
    q, m = cls.shape
    kk = ks.shape[0]
    pp = np.zeros((reps, kk))
    vv = np.zeros((reps, kk))
    s_out = np.zeros(reps + 1)
    x_out = np.zeros(reps + 1)
    nc = n_classes + 1  # the last class: no answer
    size = m // blocks if blocks > 0 else 0
    used = size * blocks
    row = np.zeros((q, nc), np.int64)
    for i in range(q):
        for j in range(used):
            a = cls[i, j]
            row[i, a if a >= 0 else nc - 1] += 1
    idx = np.empty(m, np.int64)
    seq = np.empty(m, np.int64)
    blk = np.empty(max(used, 1), np.int64)
    counts = np.zeros(n_classes, np.int64)
    cnt = np.zeros(nc, np.int64)
    for r in range(reps + 1):
        s = 0.0
        x2 = 0.0
        for i in range(q):
            for j in range(m):
                idx[j] = j
            if r > 0:
                for a in range(m - 1, 0, -1):
                    b = int(np.random.random() * (a + 1))
                    t = idx[a]
                    idx[a] = idx[b]
                    idx[b] = t
                for j in range(m):
                    seq[j] = cls[i, idx[j]]
                _walk(seq, counts, ks, tie, pp[r - 1], vv[r - 1])
            if used == 0:
                continue
            # the block samples (originally the first `used`) in permuted order: a uniform permutation of them
            u = 0
            for j in range(m):
                if idx[j] < used:
                    blk[u] = cls[i, idx[j]]
                    u += 1
            p = row[i, 0] / used
            for g in range(blocks):
                cnt[:] = 0
                for j in range(g * size, (g + 1) * size):
                    a = blk[j]
                    cnt[a if a >= 0 else nc - 1] += 1
                if 0.0 < p < 1.0:
                    d = cnt[0] - size * p
                    s += d * d / (p * (1.0 - p))
                for c in range(nc):
                    if row[i, c] > 0:
                        x2 += cnt[c] * cnt[c] * used / (row[i, c] * size)
            x2 -= used
        s_out[r] = s
        x_out[r] = x2
    for r in range(reps):
        for j in range(kk):
            pp[r, j] /= q
            vv[r, j] /= q
    return pp, vv, s_out, x_out
