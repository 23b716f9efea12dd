"""Exact majority vote maj@k (plurality over answer classes) with tie rules, without Monte Carlo.

Two kinds, for a question whose n logged samples fall into correct classes (several strings a grader accepts are
several votes), wrong classes and r unanswered samples (wrong, no vote):

* ``measured``: the expectation over all C(n, k) k-subsets (sampling without replacement; multivariate
  hypergeometric). This is the U-statistic, the unbiased estimator of maj@k under i.i.d. sampling.
* ``iid``: the prediction of sampling k times with replacement from the question's empirical answer
  distribution (multinomial with probabilities a_j / n).

Tie rules when c correct and w wrong classes share the most votes: ``random`` credits c/(c+w) (the default; what
"first seen wins" gives under exchangeable order), ``strict`` 1 only if c = 1 and w = 0, ``weak`` 1 if c >= 1. A
class needs at least one vote; if no sample votes the credit is 0.

Method (exact; docs/methods/estimators.md has the proofs, complexity and bounds). Two formulations, chosen for speed:

* per-class (``_majority_kernel.maj_kernel``): condition on one anchor class's count x; the other counts given x
  are a multivariate hypergeometric (multinomial) draw of m = k - x, written as independent Binomial(a_j, theta)
  (Poisson) variables conditioned on their sum (Johnson, Kotz & Balakrishnan, *Discrete Multivariate
  Distributions*, ch. 39), so P(credit | x) is a truncated convolution over the classes that can reach x; random
  ties by 1/(1+T) = int_0^1 u^T du and Gauss-Legendre quadrature. With several correct classes, random and strict
  ties are sums over the correct classes as anchors (P(i wins) summed is E[c/(c+w)]; "i alone on top" are
  disjoint events).
* grouped: classes of equal size and correctness are exchangeable and enter as powers of one truncated
  polynomial; condition on the top count x and extract [z^k] of a product of group powers under one global tilt;
  random ties through c/(c+w) = int_0^1 c u^(c+w-1) du, carried as the derivative part of a dual-number product.
  The default evaluates every polynomial at roots of unity and [z^k] as one Fourier sum
  (``_dft_kernel.dft_kernel``: aliases, skipped frequencies and the range of x bounded rigorously); the coefficient
  form (``_grouped_kernel.grouped_kernel``) serves x = 1 under random ties and the tests.

Before either (method 'auto'), ``_screen_kernel.screen`` pools with the unanswered samples every class whose
Chernoff bound on reaching the leaders is below eps / (classes + 2), returns votes that the same bound decides
(1 or 0), and computes a vote left between two classes (i.i.d.) in O(sqrt k) by conditioning on the two classes'
total, and one left between one correct and two wrong classes in O(k); the pooled mass adds at most ``EPS`` to the
error.

``maj_at_k`` computes each distinct question shape once, in one compiled loop over questions and k
(``_batch_kernel.maj_batch``).

Every neglected piece (classes that cannot reach x, x values that cannot matter, polynomial tails, tie degrees)
is bounded rigorously (Chernoff; Hoeffding 1963 for hypergeometric tails; negative association, Joag-Dev &
Proschan 1983) so that the total is below ``EPS`` = 1e-14 (2 ``EPS`` with the screening). The kernels are compiled
with numba (``cache=True``) and release the GIL, so questions run in parallel threads.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import roots_legendre

from harness._validation import check_choice, check_ks
from harness.estimators._batch_kernel import maj_batch
from harness.estimators._dft_kernel import dft_kernel
from harness.estimators._grouped_kernel import grouped_kernel
from harness.estimators._majority_kernel import TIE_RANDOM, TIE_STRICT, TIE_WEAK, gauss_legendre_table, maj_kernel
from harness.estimators._pmf import log_binom, log_hypergeom
from harness.estimators._screen_kernel import REDUCED, screen
from harness.tables import QuestionCounts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
TIES = ("random", "strict", "weak")
KINDS = ("measured", "iid")
EPS = 1e-14
_LOG_EPS = float(np.log(EPS))
_TIE_CODES = {"random": TIE_RANDOM, "strict": TIE_STRICT, "weak": TIE_WEAK}
_GL_TABLE = [gauss_legendre_table(64)]  # ties among up to 126 classes at once; grown on demand


ONE_CLASS_KERNEL_MAX_WRONG = 64
ONE_CLASS_KERNEL_MAX_K = 4000
ONE_CLASS_KERNEL_MAX_N = 1000
"""Questions with at most ``ONE_CLASS_KERNEL_MAX_WRONG`` classes besides one anchor use the per-class kernel
(``maj_kernel``, summed over the distinct correct sizes as anchors; for weak ties only with one correct class) when
n and k/2 <= ``ONE_CLASS_KERNEL_MAX_N`` or k x anchors x classes <= ``ONE_CLASS_KERNEL_MAX_K``; all others the grouped
kernel at roots of unity (``dft_kernel``). All are exact; the choice is speed only (measured in
benchmarks/bench_majority.py: the per-class kernel's cost grows with k, the anchors and the classes, the grouped
kernel's work per top count is nearly flat in k but has a larger constant)."""


def _call(fn: Callable[..., float], *args: object) -> float:
    """Run a kernel, growing the Gauss-Legendre table when it asks for more nodes (a negative return)."""
    while True:
        nodes, weights = _GL_TABLE[0]
        value = fn(*args, nodes, weights)
        if value >= 0.0:
            return float(value)
        _GL_TABLE[0] = gauss_legendre_table(max(2 * (nodes.shape[0] - 1), int(-value)))


class _GaussLegendreRules:
    """The Gauss-Legendre rules on [0, 1] that the grouped kernel asked for, packed flat and built on demand.

    ``table`` is replaced as a whole (under a lock), so a thread never sees an offset without its nodes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.table = (np.full(65, -1, np.int64), np.zeros(0), np.zeros(0))
        for n in range(1, 65):
            self.add(n)

    def add(self, n: int) -> None:
        with self._lock:
            offset, nodes, weights = self.table
            if n < len(offset) and offset[n] >= 0:
                return
            if n >= len(offset):
                offset = np.concatenate([offset, np.full(n + 1 - len(offset), -1, np.int64)])
            else:
                offset = offset.copy()
            x, w = roots_legendre(n)
            offset[n] = len(nodes)
            self.table = (offset, np.concatenate([nodes, (x + 1.0) / 2.0]), np.concatenate([weights, w / 2.0]))


_GL_RULES = _GaussLegendreRules()


def _call_grouped(
    sizes: IntArray, mult: IntArray, corr: BoolArray, rest: int, k: int, ties: int, measured: bool, dft: bool = True
) -> float:
    """Run the grouped kernel (root-of-unity form, or the coefficient form when ``dft`` is False), adding a
    Gauss-Legendre rule when it asks for one (a negative return)."""
    while True:
        offset, nodes, weights = _GL_RULES.table
        if dft:
            value = dft_kernel(sizes, mult, corr, rest, k, ties, measured, _LOG_EPS, offset, nodes, weights)
        else:
            value = grouped_kernel(sizes, mult, corr, rest, k, ties, measured, _LOG_EPS, offset, nodes, weights, 1, k)
        if value >= 0.0:
            return float(value)
        _GL_RULES.add(int(-value))


def _groups(correct: tuple[int, ...], wrong: tuple[int, ...]) -> tuple[IntArray, IntArray, BoolArray]:
    """Exchangeable groups: (size, multiplicity, correct?) for each distinct (size, correctness), sizes descending."""
    cnt = Counter([(a, True) for a in correct] + [(a, False) for a in wrong])
    keys = sorted(cnt, key=lambda t: (-t[0], not t[1]))
    return (
        np.array([a for a, _ in keys], np.int64),
        np.array([cnt[t] for t in keys], np.int64),
        np.array([c for _, c in keys], np.bool_),
    )


@lru_cache(maxsize=65536)
def _maj_one(
    correct: tuple[int, ...], wrong: tuple[int, ...], rest: int, k: int, ties: str, kind: str, method: str = "auto"
) -> float:
    """Exact maj@k for one question: correct classes and wrong classes (each descending, no zeros), ``rest``
    non-voting samples.

    ``method``: 'one' sums the per-class kernel over the correct classes taken as anchors (random and strict ties;
    weak ties with one correct class), 'grouped' runs the grouped kernel at roots of unity, 'poly' the coefficient
    grouped kernel, 'auto' uses closed forms at k = 1, 2 and (measured) k = n, else picks 'one' when there are at
    most ``ONE_CLASS_KERNEL_MAX_WRONG`` + 1 classes, n or k is small (``ONE_CLASS_KERNEL_MAX_N``,
    ``ONE_CLASS_KERNEL_MAX_K``) and the rule allows it, else 'grouped'. All are exact (a forced method skips the
    closed forms, so tests reach each kernel at every k).
    """
    if not correct:
        return 0.0
    if method == "auto" and k == 1:  # one sample votes alone: credit iff it is correct (every rule and kind)
        return sum(correct) / (sum(correct) + sum(wrong) + rest)
    if method == "auto" and k == 2:
        return _maj_two(correct, wrong, rest, ties, kind)
    if method == "auto" and kind == "measured" and k == sum(correct) + sum(wrong) + rest:  # the vote is known
        top = max(correct[0], wrong[0] if wrong else 0)
        c, w = correct.count(top), wrong.count(top)
        return {"random": c / (c + w), "strict": float(c == 1 and w == 0), "weak": float(c > 0)}[ties]
    if method == "auto":  # pool the classes that cannot matter; decided, two-class and swept votes at once
        status, value, c_left, w_left, rest = screen(
            np.asarray(correct, np.int64), np.asarray(wrong, np.int64), rest, k, _TIE_CODES[ties],
            kind == "measured", _LOG_EPS,
        )
        if status != REDUCED:
            return float(value)
        correct, wrong = tuple(c_left.tolist()), tuple(w_left.tolist())
    anchors_ok = ties != "weak" or len(correct) == 1
    n = sum(correct) + sum(wrong) + rest
    small = len(correct) + len(wrong) <= ONE_CLASS_KERNEL_MAX_WRONG + 1 and (
        (n <= ONE_CLASS_KERNEL_MAX_N and k <= 2 * ONE_CLASS_KERNEL_MAX_N)
        or k * len(set(correct)) * (len(correct) + len(wrong)) <= ONE_CLASS_KERNEL_MAX_K
    )
    if anchors_ok and (method == "one" or (method == "auto" and small)):
        # random: P(class i wins) = E[1{Y_i on top} / (classes on top)], summed over the correct classes i, is
        # E[(correct on top) / (classes on top)]; strict: the events "i alone on top" are disjoint. Each term is
        # the per-class kernel with class i as the anchor and every other voting class as a competitor.
        total = 0.0
        for a, mult in Counter(correct).items():
            others = list(wrong) + list(correct)
            others.remove(a)
            sizes = np.asarray(sorted(others, reverse=True), dtype=np.int64)
            total += mult * _call(maj_kernel, a, sizes, rest, k, _TIE_CODES[ties], kind == "measured", _LOG_EPS)
        return min(total, 1.0)
    g_size, g_mult, g_corr = _groups(correct, wrong)
    return _call_grouped(g_size, g_mult, g_corr, rest, k, _TIE_CODES[ties], kind == "measured", method != "poly")


def _maj_two(correct: tuple[int, ...], wrong: tuple[int, ...], rest: int, ties: str, kind: str) -> float:
    """maj@2 in closed form. Two draws: one class twice, or one class and an unanswered sample, wins alone; two
    different classes tie (random: credit = correct ones / 2). Ordered pairs weigh a_i a_j / (n (n-1)) without
    replacement (a_j (a_j - 1) for a class twice) and a_i a_j / n^2 with replacement."""
    n = sum(correct) + sum(wrong) + rest
    measured = kind == "measured"
    denom = n * (n - 1) if measured else n * n
    if denom == 0:
        return 0.0
    v = sum(correct) + sum(wrong)
    alone = sum(a * (a - 1) if measured else a * a for a in correct) + 2 * rest * sum(correct)
    if ties == "strict":
        return alone / denom
    if ties == "random":
        return (alone + sum(a * (v - a) for a in correct)) / denom
    sq = sum(a * a for a in correct) + sum(a * a for a in wrong)
    wrong_pairs = sum(wrong) ** 2 - sum(a * a for a in wrong)
    return (alone + (v * v - sq) - wrong_pairs) / denom


def maj_at_k_one(
    correct: int | Sequence[int], wrong: Sequence[int], abstain: int, ks: npt.ArrayLike,
    *, ties: str = "random", kind: str = "measured",
) -> FloatArray:
    """maj@k of one question for each k (NaN where kind is measured and k > n).

    ``correct`` is the size of the one correct class, or a list of the sizes of several correct classes (several
    answer strings a grader accepts: each is its own vote); ``wrong`` lists the wrong classes' sizes and
    ``abstain`` counts samples with no answer (wrong, no vote).
    """
    check_choice("ties", ties, TIES)
    check_choice("kind", kind, KINDS)
    corr = [int(correct)] if isinstance(correct, (int, np.integer)) else [int(v) for v in correct]
    return _maj_row(corr, wrong, int(abstain), check_ks(ks).tolist(), ties, kind)


def _maj_row(
    correct: Sequence[int], wrong: Sequence[int], abstain: int, ks: list[int], ties: str, kind: str
) -> FloatArray:
    """maj@k of one question at already validated ks, tie rule and kind."""
    c = tuple(sorted((int(v) for v in correct if v > 0), reverse=True))
    w = tuple(sorted((int(v) for v in wrong if v > 0), reverse=True))
    n = sum(c) + sum(w) + abstain
    return np.array([
        np.nan if (kind == "measured" and k > n) else _maj_one(c, w, abstain, k, ties, kind) for k in ks
    ])


def maj_at_k(
    counts: QuestionCounts, ks: npt.ArrayLike, *, ties: str = "random", kind: str = "measured",
    progress: Callable[[int, int], None] | None = None, threads: int | None = None,
) -> FloatArray:
    """Exact maj@k per question (rows) and k (columns) over the vote classes (each correct class its own vote);
    see the module docstring for the method.

    Questions with the same class sizes are computed once; the distinct ones run through one compiled loop over
    questions and k (``_batch_kernel.maj_batch``, the same kernels and choices as :func:`maj_at_k_one`, so the same
    values up to rounding, 1e-16), in chunks shared among ``threads`` worker threads (default: the number of CPUs, at
    most 8; the kernels release the GIL). The result does not depend on the thread count.
    """
    check_choice("ties", ties, TIES)
    check_choice("kind", kind, KINDS)
    k_ = check_ks(ks)
    sizes, is_correct = counts.vote_classes()
    assert counts.abstain is not None
    shapes, inverse = _distinct_shapes(sizes, is_correct, np.asarray(counts.abstain, np.int64))
    out_u = _maj_batch(*shapes, k_, ties, kind, progress, threads)
    return out_u[inverse]


def maj_at_k_many(
    correct: Sequence[Sequence[int]], wrong: Sequence[Sequence[int]], abstain: Sequence[int], ks: npt.ArrayLike,
    *, ties: str = "random", kind: str = "measured", threads: int | None = None,
) -> FloatArray:
    """:func:`maj_at_k_one` for many questions at once (rows), through the compiled batch path of
    :func:`maj_at_k`: the same values up to rounding (1e-16), without a Python call per question and k."""
    check_choice("ties", ties, TIES)
    check_choice("kind", kind, KINDS)
    k_ = check_ks(ks)
    q = len(correct)
    width_c = max((len(c) for c in correct), default=0)
    width_w = max((len(w) for w in wrong), default=0)
    sizes = np.zeros((q, width_c + width_w), np.int64)
    for i, (c, w) in enumerate(zip(correct, wrong, strict=True)):
        sizes[i, : len(c)] = c
        sizes[i, width_c : width_c + len(w)] = w
    is_correct = np.zeros(sizes.shape, np.bool_)
    is_correct[:, :width_c] = True
    shapes, inverse = _distinct_shapes(np.maximum(sizes, 0), is_correct, np.asarray(abstain, np.int64).reshape(q))
    return _maj_batch(*shapes, k_, ties, kind, None, threads)[inverse]


def _distinct_shapes(
    sizes: IntArray, is_correct: BoolArray, abstain: IntArray
) -> tuple[tuple[IntArray, IntArray, IntArray, IntArray, IntArray], IntArray]:
    """The distinct questions as CSR arrays (correct sizes, pointers, wrong sizes, pointers, abstentions; sizes
    descending, no zeros) and, per question, the index of its distinct shape."""
    sizes = np.asarray(sizes, np.int64)
    corr = np.where(is_correct, sizes, 0)
    wrong = np.where(is_correct, 0, sizes)
    corr = -np.sort(-corr, axis=1)
    wrong = -np.sort(-wrong, axis=1)
    corr = corr[:, : max(int((corr > 0).sum(axis=1).max(initial=0)), 1)]
    wrong = wrong[:, : max(int((wrong > 0).sum(axis=1).max(initial=0)), 1)]
    key = np.concatenate([corr, wrong, abstain[:, None]], axis=1)
    uniq, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    del uniq
    corr, wrong, rest = corr[first], wrong[first], abstain[first]
    c_ptr = np.concatenate([[0], np.cumsum((corr > 0).sum(axis=1))]).astype(np.int64)
    w_ptr = np.concatenate([[0], np.cumsum((wrong > 0).sum(axis=1))]).astype(np.int64)
    return (corr[corr > 0], c_ptr, wrong[wrong > 0], w_ptr, rest.astype(np.int64)), inverse.reshape(-1)


def _maj_batch(
    c_sizes: IntArray, c_ptr: IntArray, w_sizes: IntArray, w_ptr: IntArray, rest: IntArray, ks: IntArray,
    ties: str, kind: str, progress: Callable[[int, int], None] | None, threads: int | None,
) -> FloatArray:
    """maj@k of CSR questions (see :func:`_distinct_shapes`) at every k, compiled, in chunks over threads."""
    nq = rest.shape[0]
    out = np.empty((nq, ks.shape[0]))
    code, measured = _TIE_CODES[ties], kind == "measured"
    order = np.argsort(-(np.diff(c_ptr) + np.diff(w_ptr)), kind="stable")  # big questions first: even chunks
    chunks = [order[i : i + 256] for i in range(0, nq, 256)]

    def run(rows: IntArray) -> None:
        gl2_nodes, gl2_weights = _GL_TABLE[0]
        offset, nodes, weights = _GL_RULES.table
        maj_batch(c_sizes, c_ptr, w_sizes, w_ptr, rest, ks, code, measured, _LOG_EPS, ONE_CLASS_KERNEL_MAX_WRONG,
                  ONE_CLASS_KERNEL_MAX_K, ONE_CLASS_KERNEL_MAX_N, gl2_nodes, gl2_weights, offset, nodes, weights, rows,
                  out)

    workers = min(threads or os.cpu_count() or 1, 8, len(chunks))
    if workers <= 1:
        for done, rows in enumerate(chunks, start=1):
            run(rows)
            if progress is not None:
                progress(min(done * 256, nq), nq)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for done, _ in enumerate(pool.map(run, chunks), start=1):
                if progress is not None:
                    progress(min(done * 256, nq), nq)
    # a kernel that needed a larger Gauss-Legendre rule left a negative value: the per-call path grows the rule
    for q, j in zip(*np.nonzero(out < 0.0), strict=True):
        c = tuple(c_sizes[c_ptr[q] : c_ptr[q + 1]].tolist())
        w = tuple(w_sizes[w_ptr[q] : w_ptr[q + 1]].tolist())
        out[q, j] = _maj_one(c, w, int(rest[q]), int(ks[j]), ties, kind)
    return out


# ----------------------------------------------------------------------------- closed forms (binary answers)
def _closed_form(
    n: int, c: int, ks: npt.ArrayLike, ties: str, kind: str, credit: Callable[[FloatArray, int], float]
) -> FloatArray:
    """Apply ``credit(pmf of the correct count X, k)`` for each k (NaN where measured and k > n)."""
    check_choice("ties", ties, TIES)
    check_choice("kind", kind, KINDS)
    out = []
    for k in check_ks(ks).tolist():
        if kind == "measured" and k > n:
            out.append(np.nan)
            continue
        x = np.arange(0, k + 1, dtype=np.float64)
        pmf = np.exp(log_hypergeom(x, n, c, k) if kind == "measured" else log_binom(x, k, c / n))
        out.append(min(credit(pmf, k), 1.0))
    return np.array(out)


def maj_all_wrong_agree(n: int, c: int, ks: npt.ArrayLike, *, ties: str = "random", kind: str = "iid") -> FloatArray:
    """maj@k when every wrong sample gives the same wrong answer (binary vote; Condorcet 1785).

    Success iff the correct count X exceeds k/2; at X = k/2 the tie rule applies.
    """
    tie_credit = {"strict": 0.0, "weak": 1.0, "random": 0.5}.get(ties, 0.0)

    def credit(pmf: FloatArray, k: int) -> float:
        tie = pmf[k // 2] if k % 2 == 0 else 0.0
        return float(pmf[k // 2 + 1 :].sum() + tie_credit * tie)

    return _closed_form(n, c, ks, ties, kind, credit)


def maj_all_wrong_differ(n: int, c: int, ks: npt.ArrayLike, *, ties: str = "random", kind: str = "iid") -> FloatArray:
    """maj@k when every wrong sample gives a different answer (each wrong class has one vote).

    Two correct votes always win; one correct vote ties with the k-1 drawn wrong samples (credit 1/k under
    ``random``, 0 under ``strict`` unless k = 1, 1 under ``weak``). With replacement this is the limit of
    infinitely many wrong answers, each drawn at most once.
    """

    def credit(pmf: FloatArray, k: int) -> float:
        one = {"strict": 1.0 if k == 1 else 0.0, "weak": 1.0, "random": 1.0 / k}.get(ties, 0.0)
        return float(pmf[2:].sum() + one * pmf[1])

    return _closed_form(n, c, ks, ties, kind, credit)
