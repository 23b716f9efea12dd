"""Which questions make the slope? The rise of a curve per decade of k split by per-question p bins.

The aggregate curve is the mean of per-question curves f_i(k) (for pass@k under sampling a sigmoid in log k,
1-(1-p_i)^k, centred near k = 1/p_i and about 1.3 decades wide). Over a decade [k0, k1] the aggregate rises by
(1/Q) sum_i [f_i(k1) - f_i(k0)]; grouping the terms by p_hat bin gives each bin's ``slope_contribution`` (rise
per decade; the bins add up to the chord slope of the aggregate over that decade).
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
P_BIN_EDGES: tuple[float, ...] = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 0.5, 1.0)


def p_bin_labels(p_hat: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """'0' for p_hat = 0, otherwise '(lo, hi]' from P_BIN_EDGES."""
    p = np.asarray(p_hat, np.float64)
    edges = np.asarray(P_BIN_EDGES)
    idx = np.clip(np.searchsorted(edges, p, side="left"), 1, len(edges) - 1)
    names = np.array(["0", *[f"({edges[i - 1]:g}, {edges[i]:g}]" for i in range(1, len(edges))]], dtype=object)
    return names[np.where(p == 0, 0, idx)]  # one label string per bin, indexed (no formatting per question)


def decade_points(k_min: int, k_max: int) -> npt.NDArray[np.int64]:
    """Powers of ten from k_min up to k_max, plus k_max if it is not one."""
    d0 = int(np.ceil(np.log10(max(k_min, 1)) - 1e-12))
    d1 = int(np.floor(np.log10(k_max) + 1e-12))
    pts = [10**d for d in range(d0, d1 + 1)]
    if not pts or pts[-1] < k_max:
        pts.append(int(k_max))
    if pts[0] > k_min:
        pts.insert(0, int(k_min))
    return np.unique(np.asarray(pts, np.int64))


def decompose(per_question: FloatArray, ks: npt.ArrayLike, p_hat: npt.ArrayLike) -> pd.DataFrame:
    """Rows per (decade_start, p_bin): decade_end, n_questions, slope_contribution, share_of_slope.

    ``per_question`` is (Q, K) at the k values ``ks`` (typically :func:`decade_points`).
    """
    k = np.asarray(ks, np.float64)
    labels = p_bin_labels(p_hat)
    q = per_question.shape[0]
    rows = []
    order = [
        lab
        for lab in ["0", *[f"({a:g}, {b:g}]" for a, b in itertools.pairwise(P_BIN_EDGES)]]
    ]
    for j in range(len(k) - 1):
        width = np.log10(k[j + 1]) - np.log10(k[j])
        rise = (per_question[:, j + 1] - per_question[:, j]) / q / width
        total = float(np.nansum(rise))
        for lab in order:
            sel = labels == lab
            if not sel.any():
                continue
            contrib = float(np.nansum(rise[sel]))
            rows.append(
                {
                    "decade_start": int(k[j]),
                    "decade_end": int(k[j + 1]),
                    "p_bin": lab,
                    "n_questions": int(sel.sum()),
                    "slope_contribution": contrib,
                    "share_of_slope": contrib / total if abs(total) > 1e-12 else np.nan,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "decade_start",
            "decade_end",
            "p_bin",
            "n_questions",
            "slope_contribution",
            "share_of_slope",
        ],
    )
