"""Statistical sanity of every tp.random sampler: moments and a
Kolmogorov-Smirnov (continuous) or chi-square (discrete) test against the
distribution's own CDF.  Keys are fixed, so the tests are deterministic; the
thresholds (p > 1e-4) would fail by chance for one seed in ten thousand."""
import numpy as np
import pytest
from scipy import stats

import transpile as tp

R = tp.random
N = 20000
ALPHA = 1e-4


def ks(sample, cdf, *args):
    p = stats.kstest(np.asarray(sample, np.float64).ravel(), cdf, args=args).pvalue
    assert p > ALPHA, p


def chi2(counts, probs):
    counts = np.asarray(counts, np.float64)
    expected = np.asarray(probs, np.float64) * counts.sum()
    p = stats.chisquare(counts, expected).pvalue
    assert p > ALPHA, (p, counts, expected)


KEYS = [R.PRNGKey(0), R.key(11), R.key(12, impl="threefry2x32_partitionable")]
IDS = ["raw", "typed", "partitionable"]


@pytest.mark.parametrize("key", KEYS, ids=IDS)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_uniform(key, dt):
    x = R.uniform(key, (N,), dt, -2.0, 3.0)
    assert x.dtype == dt and x.min() >= -2.0 and x.max() < 3.0
    ks(x, "uniform", -2.0, 5.0)
    assert abs(x.mean() - 0.5) < 0.05 and abs(x.var() - 25 / 12) < 0.1


@pytest.mark.parametrize("key", KEYS, ids=IDS)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_normal(key, dt):
    x = R.normal(key, (N,), dt)
    ks(x, "norm")
    assert abs(x.mean()) < 0.04 and abs(x.std() - 1) < 0.03
    assert abs(stats.skew(x)) < 0.1 and abs(stats.kurtosis(x)) < 0.2


def test_normal_tails_are_finite_and_symmetric():
    x = R.normal(R.PRNGKey(3), (10 ** 6,))
    assert np.isfinite(x).all() and 4 < x.max() < 6.5 and -6.5 < x.min() < -4
    assert abs((x > 3).mean() - stats.norm.sf(3)) < 3e-4


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_exponential(dt):
    x = R.exponential(R.PRNGKey(1), (N,), dt)
    assert x.min() >= 0
    ks(x, "expon")
    assert abs(x.mean() - 1) < 0.03


@pytest.mark.parametrize("mode", ["low", "high"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gumbel(mode, dt):
    x = R.gumbel(R.key(2), (N,), dt, mode)
    ks(x, "gumbel_r")
    assert abs(x.mean() - np.euler_gamma) < 0.04


@pytest.mark.parametrize("a", [0.2, 1.0, 3.5, 20.0])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gamma(a, dt):
    x = R.gamma(R.PRNGKey(4), a, (N,), dt)
    assert x.dtype == dt and (x >= 0).all()
    ks(x, "gamma", a)
    assert abs(x.mean() / a - 1) < 0.05


def test_gamma_elementwise_shapes():
    a = np.array([0.5, 2.0, 9.0])
    x = R.gamma(R.PRNGKey(5), a, (N, 3))
    for j in range(3):
        ks(x[:, j], "gamma", a[j])


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (0.5, 3.0), (-4.0, -2.5)])
def test_truncated_normal(lo, hi):
    x = R.truncated_normal(R.PRNGKey(6), lo, hi, (N,))
    assert x.min() > lo and x.max() < hi
    ks(x, "truncnorm", lo, hi)


@pytest.mark.parametrize("p", [0.05, 0.5, 0.9])
def test_bernoulli(p):
    x = R.bernoulli(R.PRNGKey(7), p, (N,))
    chi2([(~x).sum(), x.sum()], [1 - p, p])
    y = R.bernoulli(R.PRNGKey(7), p, (N,), mode="high")
    chi2([(~y).sum(), y.sum()], [1 - p, p])


@pytest.mark.parametrize("dt,lo,hi", [(np.int64, 0, 10), (np.int32, -3, 4), (np.int8, -100, 100),
                                      (np.uint8, 0, 256), (np.int64, -5, 10 ** 6)])
def test_randint(dt, lo, hi):
    x = R.randint(R.key(8), (N,), lo, hi, dt)
    assert x.dtype == dt and x.min() >= lo and x.max() < hi
    if hi - lo <= 256:
        chi2(np.bincount((x.astype(np.int64) - lo), minlength=hi - lo), np.full(hi - lo, 1 / (hi - lo)))
    else:
        ks(x, "uniform", lo, hi - lo)


def test_bits_are_fair():
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        x = R.bits(R.PRNGKey(9), (N,), dt)
        width = np.dtype(dt).itemsize * 8
        ones = [int(((x >> dt(b)) & dt(1)).sum()) for b in range(width)]
        for c in ones:
            assert abs(c / N - 0.5) < 0.015, (dt, ones)


def test_choice_and_categorical_frequencies():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    x = R.choice(R.PRNGKey(10), 4, (N,), p=p)
    chi2(np.bincount(x, minlength=4), p)
    y = R.choice(R.PRNGKey(10), 4, (N,))
    chi2(np.bincount(y, minlength=4), np.full(4, 0.25))
    logits = np.log(p) + 3.0
    z = R.categorical(R.key(10), logits, shape=(N,))
    chi2(np.bincount(z, minlength=4), p)
    zz = R.categorical(R.key(10), logits, shape=(N,), mode="high")
    chi2(np.bincount(zz, minlength=4), p)


def test_sampling_without_replacement_is_uniform_over_first_places():
    keys = R.split(R.PRNGKey(12), 4000)
    firsts = [int(R.permutation(k, 5)[0]) for k in keys[:2000]]
    chi2(np.bincount(firsts, minlength=5), np.full(5, 0.2))
    picks = [int(R.choice(k, 5, (2,), replace=False)[1]) for k in keys[2000:]]
    chi2(np.bincount(picks, minlength=5), np.full(5, 0.2))
    p = np.array([0.5, 0.25, 0.25])
    firsts = [int(R.choice(k, 3, (2,), False, p)[0]) for k in keys[:3000]]
    chi2(np.bincount(firsts, minlength=3), p)


def test_multivariate_normal_moments():
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    for method in ("cholesky", "svd", "eigh"):
        x = R.multivariate_normal(R.PRNGKey(13), mean, cov, (N,), method=method)
        np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
        np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)
        w = np.linalg.solve(np.linalg.cholesky(cov), (x - mean).T).T
        ks(w[:, 0], "norm")


def test_split_keys_are_independent():
    k1, k2 = R.split(R.PRNGKey(14))
    a, b = R.normal(k1, (N,)), R.normal(k2, (N,))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03
    f = [R.normal(R.fold_in(R.PRNGKey(14), i), (N // 4,)) for i in range(4)]
    assert np.abs(np.corrcoef(f) - np.eye(4)).max() < 0.05
    ks(np.concatenate(f), "norm")
