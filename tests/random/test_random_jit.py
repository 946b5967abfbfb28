"""tp.random inside tp.jit: the same bits as the same code run eagerly, for
raw keys, typed keys and the partitionable scheme; typed keys cross the
boundary both ways; errors are TypeErrors at compile time.

Numba compiles dominate (tens of seconds for a function calling every
sampler), so each compiled function below is built once per module and
checked many ways; the full matrix of key kinds is marked slow.
"""
import functools
import os
import sys

import numpy as np
import pytest

import transpile as tp

sys.path.insert(0, os.path.dirname(__file__))
from random_checks import same  # noqa: E402

R = tp.random


def draw_core(key, n):
    """Keys, bits, uniform and normal: the common path."""
    key, sub = R.split(key)
    keys = R.split(sub, 3)
    k3 = R.fold_in(key, 7)
    return (key, sub, keys, k3, R.key_data(k3), R.bits(key, (n,)), R.bits(sub, (n, 2), np.uint8),
            R.uniform(key, (n,)), R.uniform(sub, (n, 3), np.float32, -2.0, 5.0),
            R.normal(key, (n,)), R.normal(sub, (2, n), np.float32), R.normal(key),
            R.threefry_2x32(key, np.arange(n, dtype=np.uint32)))


def draw_samplers(key, n, lo, p, logits, mean, cov):
    """Every other sampler, with array arguments."""
    k = R.split(key, 8)
    return (R.exponential(k[0], (n,)), R.exponential(k[0], (n,), np.float32),
            R.gumbel(k[1], (n,)), R.gumbel(k[1], (n,), np.float32, "high"),
            R.bernoulli(k[2], 0.3, (n,)), R.bernoulli(k[2], p, (3,)),
            R.randint(k[3], (n,), 0, 10), R.randint(k[3], (n,), -100, 100, np.int8),
            R.randint(k[3], (3,), lo, 1000),
            R.permutation(k[4], n), R.permutation(k[4], mean),
            R.choice(k[5], n, (4,)), R.choice(k[5], n + 4, (4,), False),
            R.choice(k[5], mean, (5,), True, p), R.choice(k[5], 3, (2,), False, p),
            R.categorical(k[6], logits), R.categorical(k[6], logits, -1, (7,)),
            R.categorical(k[6], logits, -1, (2,), False),
            R.truncated_normal(k[7], -1.0, 2.0, (n,)),
            R.truncated_normal(k[7], lo * 0.5, 3.0, (3,), np.float32),
            R.gamma(k[0], 2.5, (n,)), R.gamma(k[1], p, (3,), np.float32),
            R.multivariate_normal(k[2], mean, cov, (4,)), R.multivariate_normal(k[3], mean, cov))


def logits2(key, logits):
    return (R.categorical(key, logits), R.categorical(key, logits, 0),
            R.categorical(key, logits, 1))


@functools.lru_cache(maxsize=None)
def jitted(fn):
    return tp.jit(fn)


KEYS = {
    "raw": lambda: R.PRNGKey(1234),
    "typed": lambda: R.key(1234),
    "partitionable": lambda: R.key(1234, impl="threefry2x32_partitionable"),
}
LO = np.array([0, 10, 100])
P = np.array([0.2, 0.5, 0.3])
LOGITS = np.array([0.5, -1.0, 2.0, 0.0])
MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])


@pytest.mark.parametrize("kind", ["typed"])
def test_core_jit_equals_eager(kind):
    key = KEYS[kind]()
    for n in (1, 4, 7):                    # one compile for every n
        same(jitted(draw_core)(key, n), draw_core(key, n), f"{kind} n={n}")
    assert jitted(draw_core).num_compiled == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["raw", "partitionable"])
def test_core_jit_equals_eager_other_keys(kind):
    key = KEYS[kind]()
    for n in (1, 5):
        same(jitted(draw_core)(key, n), draw_core(key, n), f"{kind} n={n}")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["raw", "typed", "partitionable"])
def test_samplers_jit_equal_eager(kind):
    key = KEYS[kind]()
    for n in (3, 6):
        same(jitted(draw_samplers)(key, n, LO, P, LOGITS, MEAN, COV),
             draw_samplers(key, n, LO, P, LOGITS, MEAN, COV), f"{kind} n={n}")


@pytest.mark.slow
def test_categorical_2d_jit_equals_eager():
    lg = np.array([[0.0, 1.0, 2.0, 0.5], [3.0, 0.0, -3.0, 1.0], [0.1, 0.2, 0.3, 0.4]])
    for seed in range(3):
        key = R.PRNGKey(seed)
        same(jitted(logits2)(key, lg), logits2(key, lg))


def split_and_return(key):
    key, sub = R.split(key)
    return key, sub


def test_typed_keys_cross_the_boundary_both_ways():
    k = R.key(0)
    a, b = jitted(split_and_return)(k)
    assert isinstance(a, R.KeyArray) and a.shape == ()
    np.testing.assert_array_equal(R.key_data(a), [4146024105, 967050713])
    np.testing.assert_array_equal(R.key_data(b), [2718843009, 1272950319])
    a2, _ = jitted(split_and_return)(a)        # a key made in compiled code goes back in
    same(a2, split_and_return(a)[0])
    np.testing.assert_array_equal(R.key_data(k), [0, 0])   # not mutated


def float_key(x):
    return R.normal(x, (2,))


def test_a_float_key_is_a_type_error_under_jit():
    with pytest.raises(TypeError, match="PRNG key"):
        jitted(float_key)(1.5)
    with pytest.raises(TypeError, match="uint32"):
        jitted(float_key)(np.zeros(2))


def test_jitted_sampler_first_in_a_fresh_process(tmp_path):
    """Compiled code that links the (cached, parallel) kernels before any
    eager call: once aborted the process ('Symbol not found: allocate_sched')."""
    import subprocess
    import sys
    script = tmp_path / "first.py"
    script.write_text(
        "import numpy as np\n"
        "import transpile as tp\n"
        "def draw(key, n):\n"
        "    return tp.random.normal(key, (n,))\n"
        "x = tp.jit(draw)(tp.random.PRNGKey(0), 100000)\n"
        "assert np.array_equal(x, tp.random.normal(tp.random.PRNGKey(0), (100000,)))\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
