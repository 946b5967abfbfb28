"""tp.random under tp.vmap over a batch of keys: eager vmap == tp.jit(vmap)
== a Python loop calling the sampler on each key (which is what JAX's vmap
of a sampler gives), for raw keys (uint32[n, 2]), typed keys and the
partitionable scheme, with other mapped arguments, the key batch on another
axis, nested vmaps, and functions that split their key and sample twice.

Eager vmap costs no compile, so every sampler is checked eagerly in the
default run; under tp.jit one compiled function covers several samplers,
and the compile of every sampler for every kind of key is marked slow.
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
N = 4
KEYS = {
    "raw": lambda: R.split(R.PRNGKey(7), N),
    "typed": lambda: R.split(R.key(7), N),
    "partitionable": lambda: R.split(R.key(7, impl="threefry2x32_partitionable"), N),
}
KINDS = list(KEYS)
LOGITS = np.array([0.5, -1.0, 2.0, 0.0])
P = np.array([0.2, 0.5, 0.3])
MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])

#: what every_sampler returns, in order
NAMES = ("bits", "bits8", "uniform", "normal", "normal32", "exponential", "gumbel", "bernoulli",
         "randint", "choice", "choice_p", "permutation", "categorical", "truncated_normal",
         "gamma", "multivariate_normal", "split", "fold_in", "key_data")


def every_sampler(k):
    """One call of every sampler and key function, on one key."""
    return (R.bits(k, (3,)), R.bits(k, (5,), np.uint8), R.uniform(k, (3,), np.float32, -2.0, 5.0),
            R.normal(k, (2, 3)), R.normal(k, (5,), np.float32), R.exponential(k, (3,)),
            R.gumbel(k, (3,), np.float32, "high"), R.bernoulli(k, 0.3, (5,)),
            R.randint(k, (4,), -5, 50), R.choice(k, 7, (3,), False), R.choice(k, 3, (4,), True, P),
            R.permutation(k, 6), R.categorical(k, LOGITS, -1, (3,)),
            R.truncated_normal(k, -1.0, 2.0, (3,)), R.gamma(k, 0.7, (3,)),
            R.multivariate_normal(k, MEAN, COV, (2,)), R.split(k, 3), R.fold_in(k, 17),
            R.key_data(R.fold_in(k, 1)))


def normal32(k):
    return R.normal(k, (5,), np.float32)


def loop(f, keys, *args):
    """What vmap must give: f on each key (and the args' examples), stacked."""
    outs = [f(keys[i], *(a[i] for a in args)) for i in range(len(keys))]
    return stack(outs)


def stack(outs):
    if isinstance(outs[0], tuple):
        return tuple(stack(list(parts)) for parts in zip(*outs))
    if isinstance(outs[0], R.KeyArray):
        return R.wrap_key_data(np.stack([R.key_data(o) for o in outs]),
                               impl=R.key_impl(outs[0]))
    return np.stack(outs)


@pytest.mark.parametrize("kind", KINDS)
def test_every_sampler_vmapped_eagerly_equals_the_loop(kind):
    keys = KEYS[kind]()
    got = tp.vmap(every_sampler)(keys)
    want = loop(every_sampler, keys)
    assert len(got) == len(want) == len(NAMES)
    for name, g, w in zip(NAMES, got, want):
        same(g, w, f"{name} {kind}")


def noisy(k, mu):
    return mu + R.normal(k, (3,))


def two_draws(k, mu):
    """Split the key and sample twice; return the new key too."""
    k, sub = R.split(k)
    a = R.normal(sub, (3,))
    k, sub = R.split(k)
    b = R.uniform(sub, (3,), minval=-1.0, maxval=mu[0])
    return mu + a, b, k, R.fold_in(sub, 5)


def test_other_mapped_arguments():
    keys = KEYS["raw"]()
    mus = np.arange(12.0).reshape(N, 3)
    same(tp.vmap(noisy)(keys, mus), loop(noisy, keys, mus))
    # the keys mapped, mu shared; mu mapped, the key shared (every example
    # draws the same numbers)
    same(tp.vmap(noisy, in_axes=(0, None))(keys, mus[0]), loop(lambda k: noisy(k, mus[0]), keys))
    k = R.PRNGKey(3)
    same(tp.vmap(noisy, in_axes=(None, 0))(k, mus), mus + R.normal(k, (3,)))


@pytest.mark.parametrize("kind", KINDS)
def test_split_and_sample_twice(kind):
    keys = KEYS[kind]()
    before = R.key_data(keys).copy()
    mus = np.arange(1.0, 13.0).reshape(N, 3)
    same(tp.vmap(two_draws)(keys, mus), loop(two_draws, keys, mus), kind)
    np.testing.assert_array_equal(R.key_data(keys), before)      # keys are values


def test_key_batch_on_another_axis_and_output_axis():
    keys = KEYS["raw"]()
    f = normal32
    same(tp.vmap(f, in_axes=1)(np.ascontiguousarray(keys.T)), loop(f, keys))
    same(tp.vmap(f, out_axes=1)(keys), loop(f, keys).T.copy())
    grid = R.split(R.key(5), (2, N))          # typed keys, the batch on axis 1
    same(tp.vmap(pair, in_axes=1)(grid), stack([pair(grid[:, i]) for i in range(N)]))


def pair(ks):
    return R.normal(ks[0], (2,)) - R.normal(ks[1], (2,))


@pytest.mark.parametrize("kind", ["raw", "typed"])
def test_nested_vmap_over_a_grid_of_keys(kind):
    root = R.PRNGKey(11) if kind == "raw" else R.key(11)
    grid = R.split(root, (3, 2))
    got = tp.vmap(tp.vmap(two_draws, in_axes=(0, None)), in_axes=(0, None))(grid, np.ones(3))
    want = stack([loop(lambda k: two_draws(k, np.ones(3)), grid[i]) for i in range(3)])
    same(got, want)


def test_a_batch_of_floats_is_not_a_batch_of_keys():
    with pytest.raises(TypeError, match="PRNG key"):
        tp.vmap(normal32)(np.zeros((N, 2)))
    with pytest.raises(TypeError, match="PRNG key"):
        tp.vmap(normal32)(np.zeros(N))
    with pytest.raises(TypeError, match=r"shape \(2,\).*\n.*line \d+, in normal32"):
        tp.vmap(normal32)(np.zeros((N, 3), np.uint32))


# ---- under tp.jit: compiled once per function, shared by the tests below ----

@functools.lru_cache(maxsize=None)
def jitted(fn, **kw):
    return tp.jit(tp.vmap(fn, **kw))


def test_jit_of_vmap_splitting_twice_typed_keys():
    """The representative compiled case: typed keys in and out, a mapped
    argument, split twice, normal, uniform with a mapped bound, fold_in."""
    keys = KEYS["typed"]()
    mus = np.arange(1.0, 13.0).reshape(N, 3)
    same(jitted(two_draws)(keys, mus), loop(two_draws, keys, mus))
    same(jitted(two_draws)(keys[:2], mus[:2]), loop(two_draws, keys[:2], mus[:2]))
    assert jitted(two_draws).num_compiled == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["raw", "partitionable"])
def test_jit_of_vmap_splitting_twice_other_keys(kind):
    keys = KEYS[kind]()
    mus = np.arange(1.0, 13.0).reshape(N, 3)
    same(jitted(two_draws)(keys, mus), loop(two_draws, keys, mus), kind)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_jit_of_vmap_of_every_sampler(kind):
    keys = KEYS[kind]()
    want = loop(every_sampler, keys)
    got = jitted(every_sampler)(keys)
    for name, g, w in zip(NAMES, got, want):
        same(g, w, f"{name} {kind}")
