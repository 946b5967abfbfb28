"""tp.random against numbers recorded from JAX (tools/make_random_reference.py,
JAX with x64; classic and partitionable Threefry).  JAX is not needed here.

Bit for bit: keys, split, fold_in, bits, uniform (with bounds), randint,
bernoulli, permutation, choice, categorical, and in float32 and float64
normal, exponential, gumbel, truncated_normal (XLA's erfinv, log1p, erf and
float32 log, with its FMAs) and gamma.  Two exceptions: float32 gamma uses
XLA's float32 rsqrt, which is the CPU's approximate ``rsqrtss`` plus Newton
steps, so it is exact on a CPU like the one that recorded the data and
within a few ulp on others (as JAX's own numbers are); multivariate_normal
(JAX's LAPACK Cholesky factor and matrix product) to 1e-14.
"""
import json
import os
import sys

import numpy as np
import pytest

import transpile as tp
from llvmlite import binding
from runtime import random_kernels

sys.path.insert(0, os.path.dirname(__file__))
import random_cases  # noqa: E402

DATA = np.load(os.path.join(os.path.dirname(__file__), "reference_data.npz"))
NAMES = json.loads(str(DATA["__cases__"]))
ERRORS = json.loads(str(DATA["__errors__"]))


def make_key(seed, kind, scheme):
    if kind == "raw":
        return tp.random.PRNGKey(seed)
    return tp.random.key(seed, impl="threefry2x32_partitionable"
                         if scheme == "partitionable" else None)


def ulps(got, want):
    """Largest distance in units in the last place (float arrays)."""
    it = np.int32 if want.dtype == np.float32 else np.int64
    a = got.view(it).astype(np.int64)
    b = want.view(it).astype(np.int64)
    lo = np.iinfo(it).min
    a = np.where(a < 0, lo - a, a)        # monotone integer order of floats
    b = np.where(b < 0, lo - b, b)
    return int(np.abs(a - b).max()) if a.size else 0


ABOUT = json.loads(str(DATA["__about__"]))
#: the data's CPU computed XLA's float32 rsqrt as this one does
SAME_RSQRT = ABOUT["rsqrt32_steps"] == random_kernels.RSQRT32_STEPS and \
    ABOUT["cpu"] == binding.get_host_cpu_name()
#: function -> (max ulp in float32, max ulp in float64); others are exact
ULPS = {"gamma": (0 if SAME_RSQRT else 8, 0)}
#: function -> (rtol, atol) per dtype
CLOSE = {"multivariate_normal": {"float32": (2e-6, 2e-6), "float64": (1e-14, 1e-14)}}


def test_the_case_table_is_the_recorded_one():
    assert NAMES == [c[0] for c in random_cases.CASES]
    assert len(NAMES) > 1000


def check(i, case):
    want = DATA[f"c{i:04d}"]
    got = random_cases.run(tp.random, make_key, case)
    fn = case[4]
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    if fn in ULPS:
        limit = ULPS[fn][0 if want.dtype == np.float32 else 1]
        assert ulps(got, want) <= limit, (ulps(got, want), got, want)
    elif fn in CLOSE:
        rtol, atol = CLOSE[fn][str(want.dtype)]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(got, want)


GROUPS = sorted({c[4] for c in random_cases.CASES})


@pytest.mark.parametrize("fn", GROUPS)
def test_matches_jax(fn):
    cases = [(i, c) for i, c in enumerate(random_cases.CASES) if c[4] == fn]
    assert cases
    for i, case in cases:
        if f"c{i:04d}" in ERRORS:
            with pytest.raises(Exception):
                random_cases.run(tp.random, make_key, case)
            continue
        try:
            check(i, case)
        except AssertionError as exc:
            raise AssertionError(f"{case[0]}: {exc}") from None


def test_lecture_and_docs_values():
    key = tp.random.PRNGKey(0)
    np.testing.assert_array_equal(key, [0, 0])
    np.testing.assert_array_equal(tp.random.split(key), [[4146024105, 967050713],
                                                         [2718843009, 1272950319]])
    np.testing.assert_array_equal(tp.random.PRNGKey(2 ** 32 + 5), [1, 5])
    np.testing.assert_array_equal(tp.random.PRNGKey(-1), [2 ** 32 - 1, 2 ** 32 - 1])
    np.testing.assert_array_equal(tp.random.PRNGKey(np.int32(-1)), [0, 2 ** 32 - 1])
