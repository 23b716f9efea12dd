"""The bootstrap over questions (harness._bootstrap.Resampler): replicate means against brute force from the same
drawn indices, the multinomial law of the counts, determinism across chunk sizes, pairing, and the call sites."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from harness._bootstrap import BLOCK, Resampler, _indices_from_words
from harness.compare import _bootstrap_difference
from harness.curves import bootstrap_intervals, bootstrap_means


def _values(q: int, k: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((q, k))


@pytest.mark.parametrize(("q", "b"), [(1, 5), (2, 9), (50, 21), (257, 17), (1000, 8)])
def test_means_equal_brute_force_from_the_same_indices(q: int, b: int) -> None:
    r = Resampler(3, q, b)
    idx = r.indices()
    assert idx.shape == (b, q) and idx.min() >= 0 and idx.max() < q
    v = _values(q, 4)
    brute = v[idx].mean(axis=1)  # replicate b: the plain mean of the resampled rows
    np.testing.assert_allclose(r.means(v), brute, rtol=0, atol=1e-14)
    counts = np.stack([np.bincount(i, minlength=q) for i in idx])
    assert np.array_equal(r.counts(), counts)
    assert (r.counts().sum(axis=1) == q).all()
    np.testing.assert_allclose(r.means(v[:, 0]), brute[:, 0], rtol=0, atol=1e-14)  # (Q,) -> (B,)


def test_counts_are_multinomial() -> None:
    """N_bq ~ Multinomial(Q, 1/Q): per question mean 1 and variance 1 - 1/Q, between two questions covariance
    -1/Q; 4,000 replicates at Q = 40, each of the 40 means and variances within 4.5 standard errors (the chance
    that any of 40 normal deviates exceeds 4.5 is 3e-4), and one question's count against Binomial(Q, 1/Q) by a
    chi-square goodness-of-fit test."""
    q, b = 40, 4000
    n = Resampler(11, q, b).counts()
    p = 1 / q
    s2 = q * p * (1 - p)  # = 1 - 1/Q
    assert np.abs((n.mean(axis=0) - 1) / np.sqrt(s2 / b)).max() < 4.5
    # standard error of a sample variance: sqrt((mu4 - s2^2 (b - 3) / (b - 1)) / b), mu4 the binomial 4th moment
    mu4 = s2 * (1 + 3 * (q - 2) * p * (1 - p))
    sd_var = np.sqrt((mu4 - s2**2 * (b - 3) / (b - 1)) / b)
    assert np.abs((n.var(axis=0, ddof=1) - s2) / sd_var).max() < 4.5
    # covariance of two counts: -1/Q; its standard error ~ sqrt(Var(N_1 N_2)) / sqrt(b) ~ s2 / sqrt(b)
    assert abs(np.cov(n[:, 0], n[:, 1])[0, 1] + 1 / q) < 4 * s2 / np.sqrt(b)
    obs = np.bincount(np.minimum(n[:, 3].astype(int), 3), minlength=4)  # cells 0, 1, 2, >= 3
    pmf = stats.binom.pmf([0, 1, 2], q, p)
    assert stats.chisquare(obs, b * np.append(pmf, 1 - pmf.sum())).pvalue > 1e-4


@pytest.mark.parametrize("q", [3, 1000, 3 * 2**30 + 1])
def test_index_kernel_is_lemires_method(q: int) -> None:
    """Each 32-bit half x of a word is rejected iff (x Q mod 2^32) < 2^32 mod Q, else gives floor(x Q / 2^32)
    (Lemire 2019): that leaves exactly floor(2^32 / Q) accepted x per index, so every index has probability 1/Q.
    Checked half by half against Python integers on random words plus halves that must be rejected."""
    t = 2**32 % q
    rng = np.random.default_rng(q % 1000)
    halves = [int(x) for x in rng.integers(0, 2**32, 2000)]
    # x with x Q mod 2^32 < t: x = ceil(j 2^32 / Q) for j = 1.. (x Q - j 2^32 is then in [0, Q))
    bad = [x for j in range(1, 200) if ((x := -(-(j * 2**32) // q)) * q) % 2**32 < t and x < 2**32]
    halves = halves + bad + [0]
    if len(halves) % 2:
        halves.append(12345)
    words = np.array([lo | (hi << 32) for lo, hi in zip(halves[::2], halves[1::2], strict=True)], np.uint64)
    expect = [x * q >> 32 for x in halves if (x * q) % 2**32 >= t]
    assert len(expect) < len(halves)  # some halves are rejected at each of these Q
    out = np.empty(len(expect), np.int64)
    assert _indices_from_words(words, q, out, 0) == len(expect)
    assert out.tolist() == expect
    # preimage count per index, exactly, for a 2^8 analogue of the method: floor(2^8 / Q') each
    for qq in (3, 7, 100, 255):
        acc = [x * qq >> 8 for x in range(256) if (x * qq) % 256 >= 256 % qq]
        assert set(np.bincount(acc, minlength=qq).tolist()) == {256 // qq}


def test_same_replicates_for_any_chunk_size_k_and_call() -> None:
    """The counts are identical whatever the chunk size, cache and call; the means agree to rounding (BLAS may
    sum a different number of rows or columns in a different order)."""
    q, b = 300, 45  # 45 replicates: the last block is partial
    v = _values(q, 6)
    base = Resampler(7, q, b)
    ref, ref_counts = base.means(v), base.counts()
    for chunk_bytes in (1, BLOCK * q * 8, 3 * BLOCK * q * 8, 10**9):
        r = Resampler(7, q, b, chunk_bytes=chunk_bytes, cache_bytes=0)
        assert np.array_equal(r.counts(), ref_counts)
        assert np.array_equal(r.counts(), ref_counts)  # second call, redrawn (no cache)
        np.testing.assert_allclose(r.means(v), ref, rtol=0, atol=1e-14)
        np.testing.assert_allclose(r.means(v[:, 2]), ref[:, 2], rtol=0, atol=1e-14)  # any K
    assert base._cache is not None and base._cache.dtype == np.uint8
    assert np.array_equal(base.counts(), ref_counts)  # from the cache
    # the first B' replicates of B are the replicates of B'
    assert np.array_equal(Resampler(7, q, 20).counts(), ref_counts[:20])
    assert not np.array_equal(Resampler(8, q, b).counts(), ref_counts)
    # a SeedSequence: its children as spawn numbers them, and the same replicates when passed again
    ss = np.random.SeedSequence(7)
    assert np.array_equal(Resampler(ss, q, b).counts(), ref_counts)
    assert np.array_equal(Resampler(ss, q, b).counts(), ref_counts)
    spawned = np.random.SeedSequence(7).spawn(-(-b // BLOCK))
    mine = Resampler(7, q, b)._children
    assert [c.generate_state(4).tolist() for c in mine] == [c.generate_state(4).tolist() for c in spawned]
    child = ss.spawn(1)[0]
    assert np.array_equal(Resampler(child, q, b).counts(), Resampler(child, q, b).counts())


def test_wide_count_path_gives_the_same_counts() -> None:
    """A count reaching the uint8 limit recounts the chunk in int64 from the same words (forced here with a
    limit of 2)."""
    r = Resampler(9, 64, 24)
    wide = Resampler(9, 64, 24)
    wide._limit = 2
    assert np.array_equal(r.counts(), wide.counts())
    assert wide._cache is not None and wide._cache.dtype == np.int64


def test_generator_seed_is_drawn_from_the_generator() -> None:
    v = _values(30, 2)
    a = Resampler(np.random.default_rng(4), 30, 16).means(v)
    b = Resampler(np.random.default_rng(4), 30, 16).means(v)
    assert np.array_equal(a, b)
    rng = np.random.default_rng(4)
    first = Resampler(rng, 30, 16).means(v)
    second = Resampler(rng, 30, 16).means(v)  # the generator advanced: new replicates
    assert not np.array_equal(first, second)


def test_pairing_many_matrices_share_replicates() -> None:
    """means_many draws once: replicate b of every matrix uses the same resampled questions, so the difference
    of two replicate means is the replicate mean of the difference, and matches brute force."""
    q, b = 80, 33
    r = Resampler(2, q, b)
    x, y = _values(q, 3, 1), _values(q, 3, 2)
    mx, my, md = r.means_many([x, y, x - y])
    np.testing.assert_allclose(mx - my, md, atol=1e-14)
    idx = r.indices()
    np.testing.assert_allclose(mx, x[idx].mean(axis=1), atol=1e-14)
    np.testing.assert_allclose(my, y[idx].mean(axis=1), atol=1e-14)
    # a second Resampler with the same seed is the same replicates (the call sites' pairing by seed)
    assert np.array_equal(Resampler(2, q, b).means(y), my)


def test_bootstrap_means_nan_as_zero_and_shared_draw() -> None:
    q = 60
    v = _values(q, 4)
    v[3, 1] = np.nan
    lo, hi = bootstrap_means(v, replicates=200, level=0.9, seed=5)
    reps = Resampler(5, q, 200).means(np.nan_to_num(v))
    np.testing.assert_allclose(lo, np.quantile(reps, 0.05, axis=0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(hi, np.quantile(reps, 0.95, axis=0), rtol=0, atol=1e-15)
    both = bootstrap_intervals([v, v[:, :2] * 2], replicates=200, level=0.9, seed=5)
    np.testing.assert_allclose(both[0][0], lo, rtol=0, atol=1e-15)
    np.testing.assert_allclose(both[1][1], 2 * hi[:2], atol=1e-14)  # same replicates, linear in v
    nan_lo, nan_hi = bootstrap_means(v[:1], replicates=200, level=0.9, seed=5)
    assert np.isnan(nan_lo).all() and np.isnan(nan_hi).all()


def test_compare_difference_paired_and_independent() -> None:
    q = 70
    va, vb = _values(q, 3, 1), _values(q, 3, 2)
    lo, hi = _bootstrap_difference(va, vb, paired=True, replicates=300, level=0.95, seed=1)
    reps = Resampler(1, q, 300).means(va - vb)
    np.testing.assert_allclose(lo, np.quantile(reps, 0.025, axis=0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(hi, np.quantile(reps, 0.975, axis=0), rtol=0, atol=1e-15)
    # independent question sets: a paired draw of identical values would give a zero-width interval; independent
    # replicates do not
    lo_i, hi_i = _bootstrap_difference(va, va.copy(), paired=False, replicates=300, level=0.95, seed=1)
    lo_p, hi_p = _bootstrap_difference(va, va.copy(), paired=True, replicates=300, level=0.95, seed=1)
    assert (hi_i - lo_i > 0.05).all() and np.allclose(hi_p - lo_p, 0)


def test_interval_coverage_of_a_known_mean() -> None:
    """Percentile intervals of the mean of Q = 200 Uniform(0, 1) draws cover 1/2 in about 95% of 300 data sets
    (binomial 4-sigma band around 0.95, widened by the percentile bootstrap's known undercoverage at this Q of
    about 1 point; Efron & Tibshirani 1993, ch. 13)."""
    hits = 0
    sets = 300
    for s in range(sets):
        v = np.random.default_rng(1000 + s).random((200, 1))
        lo, hi = bootstrap_means(v, replicates=400, level=0.95, seed=s)
        hits += int(lo[0] <= 0.5 <= hi[0])
    share = hits / sets
    assert abs(share - 0.95) < 4 * np.sqrt(0.95 * 0.05 / sets) + 0.01
