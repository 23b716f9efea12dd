"""Compiled loop over questions and k for maj@k: the same choices and kernels as ``majority._maj_one`` (method
'auto'), without a Python call per (question, k).

Questions come as CSR arrays: ``corr_sizes[corr_ptr[q]:corr_ptr[q + 1]]`` are question q's correct classes and
``wrong_sizes[wrong_ptr[q]:wrong_ptr[q + 1]]`` its wrong classes (each descending, no zeros), ``rest[q]`` its
samples without a vote. Each value is computed by the same kernels and operations as the per-call path; the two
agree to rounding (the compiler may vectorise a loop, or call a vector math library, differently when the kernels
are compiled into this loop: measured differences of one unit in the last place, 1e-16). A kernel that needs a
larger Gauss-Legendre rule leaves -N in ``out`` for the caller.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from harness.estimators._dft_kernel import dft_kernel
from harness.estimators._majority_kernel import TIE_RANDOM, TIE_STRICT, TIE_WEAK, maj_kernel
from harness.estimators._screen_kernel import REDUCED, screen

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@njit(cache=True)
def _maj_two(c: IntArray, w: IntArray, rest: int, ties: int, measured: bool) -> float:
    """maj@2 in closed form (``majority._maj_two``; integer arithmetic below 2^53, so the same rounding)."""
    sc = 0
    sw = 0
    for a in c:
        sc += a
    for a in w:
        sw += a
    n = sc + sw + rest
    denom = n * (n - 1) if measured else n * n
    if denom == 0:
        return 0.0
    v = sc + sw
    alone = 2 * rest * sc
    for a in c:
        alone += a * (a - 1) if measured else a * a
    if ties == TIE_STRICT:
        return alone / denom
    if ties == TIE_RANDOM:
        tot = alone
        for a in c:
            tot += a * (v - a)
        return tot / denom
    sq = 0
    for a in c:
        sq += a * a
    sqw = 0
    for a in w:
        sqw += a * a
    return (alone + (v * v - (sq + sqw)) - (sw * sw - sqw)) / denom


@njit(cache=True)
def _groups(c: IntArray, w: IntArray) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """(size, multiplicity, correct?) per distinct (size, correctness), sizes descending, correct first on ties."""
    m = c.shape[0] + w.shape[0]
    gs = np.empty(m, np.int64)
    gm = np.empty(m, np.int64)
    gc = np.empty(m, np.bool_)
    i = 0
    j = 0
    ng = 0
    while i < c.shape[0] or j < w.shape[0]:
        take_c = j >= w.shape[0] or (i < c.shape[0] and c[i] >= w[j])
        a = c[i] if take_c else w[j]
        if ng > 0 and gs[ng - 1] == a and gc[ng - 1] == take_c:
            gm[ng - 1] += 1
        else:
            gs[ng] = a
            gm[ng] = 1
            gc[ng] = take_c
            ng += 1
        if take_c:
            i += 1
        else:
            j += 1
    return gs[:ng], gm[:ng], gc[:ng]


@njit(cache=True)
def _one(
    c: IntArray, w: IntArray, rest: int, k: int, ties: int, measured: bool, log_eps: float, one_max: int,
    one_max_k: int, one_max_n: int, gl2_nodes: FloatArray, gl2_weights: FloatArray, gl_offset: IntArray,
    gl_nodes: FloatArray, gl_weights: FloatArray,
) -> float:
    """One (question, k): the 'auto' branch of ``majority._maj_one``."""
    if c.shape[0] == 0:
        return 0.0
    sc = 0
    sw = 0
    for a in c:
        sc += a
    for a in w:
        sw += a
    n = sc + sw + rest
    if k == 1:
        return sc / n
    if k == 2:
        return _maj_two(c, w, rest, ties, measured)
    if measured and k == n:
        top = c[0]
        if w.shape[0] > 0 and w[0] > top:
            top = w[0]
        nc = 0
        nw = 0
        for a in c:
            nc += a == top
        for a in w:
            nw += a == top
        if ties == TIE_RANDOM:
            return nc / (nc + nw)
        if ties == TIE_STRICT:
            return 1.0 if (nc == 1 and nw == 0) else 0.0
        return 1.0 if nc > 0 else 0.0
    status, value, c, w, rest = screen(c, w, rest, k, ties, measured, log_eps)
    if status != REDUCED:
        return value
    anchors_ok = ties != TIE_WEAK or c.shape[0] == 1
    anchors = 0
    for i in range(c.shape[0]):
        anchors += i == 0 or c[i] != c[i - 1]
    if anchors_ok and c.shape[0] + w.shape[0] <= one_max + 1 and (
        (n <= one_max_n and k <= 2 * one_max_n) or k * anchors * (c.shape[0] + w.shape[0]) <= one_max_k
    ):
        total = 0.0
        i = 0
        while i < c.shape[0]:
            a = c[i]
            mlt = 0
            while i < c.shape[0] and c[i] == a:
                mlt += 1
                i += 1
            # the other classes, descending: the wrong ones and the correct ones without one copy of a
            others = np.empty(c.shape[0] + w.shape[0] - 1, np.int64)
            p = 0
            removed = False
            for b in w:
                others[p] = b
                p += 1
            for b in c:
                if b == a and not removed:
                    removed = True
                    continue
                others[p] = b
                p += 1
            others = np.sort(others)[::-1].copy()
            v = maj_kernel(a, others, rest, k, ties, measured, log_eps, gl2_nodes, gl2_weights)
            if v < 0.0:
                return v
            total += mlt * v
        return min(total, 1.0)
    gs, gm, gc = _groups(c, w)
    return dft_kernel(gs, gm, gc, rest, k, ties, measured, log_eps, gl_offset, gl_nodes, gl_weights)


@njit(cache=True, nogil=True)
def maj_batch(
    corr_sizes: IntArray, corr_ptr: IntArray, wrong_sizes: IntArray, wrong_ptr: IntArray, rest: IntArray,
    ks: IntArray, ties: int, measured: bool, log_eps: float, one_max: int, one_max_k: int, one_max_n: int,
    gl2_nodes: FloatArray,
    gl2_weights: FloatArray, gl_offset: IntArray, gl_nodes: FloatArray, gl_weights: FloatArray, rows: IntArray,
    out: FloatArray,
) -> None:
    """Fill ``out[q, j]`` = maj@ks[j] of question q for q in ``rows`` (NaN where measured and k > n)."""
    for q in rows:
        c = corr_sizes[corr_ptr[q] : corr_ptr[q + 1]]
        w = wrong_sizes[wrong_ptr[q] : wrong_ptr[q + 1]]
        n = rest[q]
        for a in c:
            n += a
        for a in w:
            n += a
        for j in range(ks.shape[0]):
            k = ks[j]
            if measured and k > n:
                out[q, j] = np.nan
            else:
                out[q, j] = _one(
                    c, w, rest[q], k, ties, measured, log_eps, one_max, one_max_k, one_max_n, gl2_nodes, gl2_weights,
                    gl_offset, gl_nodes, gl_weights,
                )
