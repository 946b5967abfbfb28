"""tp.random keys: raw and typed, explicit and immutable; argument errors."""
import pickle

import numpy as np
import pytest

import transpile as tp

R = tp.random


def test_prngkey_is_a_uint32_pair():
    k = R.PRNGKey(1234)
    assert isinstance(k, np.ndarray) and k.dtype == np.uint32 and k.shape == (2,)
    np.testing.assert_array_equal(k, [0, 1234])
    np.testing.assert_array_equal(R.PRNGKey(np.uint64(2 ** 64 - 1)), [2 ** 32 - 1, 2 ** 32 - 1])
    np.testing.assert_array_equal(R.PRNGKey(True), [0, 1])


def test_typed_key_shape_dtype_and_data():
    k = R.key(0)
    assert isinstance(k, R.KeyArray) and k.shape == () and k.ndim == 0
    assert repr(k.dtype) == "key<fry>" and k.dtype.name == "key<fry>"
    np.testing.assert_array_equal(R.key_data(k), [0, 0])
    ks = R.split(k, 4)
    assert ks.shape == (4,) and len(ks) == 4
    assert R.split(k, (2, 3)).shape == (2, 3)
    first, *rest = ks
    assert isinstance(first, R.KeyArray) and first.shape == () and len(rest) == 3
    np.testing.assert_array_equal(R.key_data(ks[1]), R.key_data(ks)[1])
    back = R.wrap_key_data(R.key_data(ks))
    assert np.all(back == ks) and back.shape == (4,)
    assert "overlaying" in repr(ks)
    assert R.key_impl(k) == "threefry2x32" and R.key_impl(R.PRNGKey(0)) == "threefry2x32"


def test_typed_and_raw_keys_give_the_same_numbers():
    raw, typed = R.PRNGKey(7), R.key(7)
    np.testing.assert_array_equal(R.normal(raw, (5,)), R.normal(typed, (5,)))
    np.testing.assert_array_equal(R.split(raw), R.key_data(R.split(typed)))
    np.testing.assert_array_equal(R.fold_in(raw, 3), R.key_data(R.fold_in(typed, 3)))


def test_partitionable_scheme_is_part_of_the_key():
    k = R.key(7, impl="threefry2x32_partitionable")
    assert R.key_impl(k) == "threefry2x32_partitionable"
    sub = R.split(k)[1]
    assert R.key_impl(sub) == "threefry2x32_partitionable"
    assert not np.array_equal(R.normal(sub, (4,)), R.normal(R.split(R.key(7))[1], (4,)))
    assert R.key_impl(R.wrap_key_data(R.key_data(k), impl="threefry2x32_partitionable")) \
        == "threefry2x32_partitionable"
    with pytest.raises(ValueError, match="typed key"):
        R.PRNGKey(0, impl="threefry2x32_partitionable")
    with pytest.raises(ValueError, match="unknown PRNG"):
        R.key(0, impl="rbg")


def test_keys_are_values_no_global_state():
    k = R.PRNGKey(5)
    before = k.copy()
    a = R.normal(k, (3,))
    R.split(k)
    R.uniform(k, (10,))
    b = R.normal(k, (3,))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(k, before)
    t = R.key(5)
    words = R.key_data(t)           # a copy: changing it changes no key
    words[0] = 99
    np.testing.assert_array_equal(R.key_data(t), [0, 5])


def test_typed_keys_are_not_numbers():
    k = R.key(0)
    with pytest.raises(TypeError):
        k + 1
    with pytest.raises(TypeError, match="key_data"):
        np.asarray(k)
    with pytest.raises(TypeError):
        len(k)
    with pytest.raises(TypeError):
        iter(k)
    assert np.all(pickle.loads(pickle.dumps(R.split(k))) == R.split(k))


@pytest.mark.parametrize("bad", [1.5, [0, 1], np.array([0.0, 1.0]), np.zeros(2, np.int64), "key",
                                 None, np.zeros(3, np.uint32), np.zeros((), np.uint32)])
def test_a_non_key_is_a_type_error(bad):
    with pytest.raises(TypeError):
        R.normal(bad, (2,))
    with pytest.raises(TypeError):
        R.split(bad)


def test_a_batch_of_keys_says_vmap():
    for keys in (R.split(R.PRNGKey(0), 3), R.split(R.key(0), 3)):
        with pytest.raises(TypeError, match="vmap"):
            R.normal(keys, (2,))
        with pytest.raises(ValueError, match="vmap"):     # JAX's exception type too
            R.split(keys)
    assert R.key_data(R.split(R.key(0), 3)).shape == (3, 2)   # key_data takes batches


def test_seed_and_fold_in_errors():
    with pytest.raises(TypeError, match="integer"):
        R.PRNGKey(1.0)
    with pytest.raises(TypeError, match="scalar"):
        R.PRNGKey(np.arange(2))
    with pytest.raises(OverflowError):
        R.PRNGKey(2 ** 64)
    with pytest.raises(TypeError, match="scalar seed"):
        R.key(R.key(0))
    with pytest.raises(OverflowError):
        R.fold_in(R.PRNGKey(0), -1)
    np.testing.assert_array_equal(R.fold_in(R.PRNGKey(0), np.int64(-1)),
                                  R.fold_in(R.PRNGKey(0), 2 ** 32 - 1))
    with pytest.raises(TypeError, match="scalar"):
        R.fold_in(R.PRNGKey(0), np.arange(3))


def test_argument_errors():
    k = R.PRNGKey(0)
    with pytest.raises(TypeError, match="shape"):
        R.normal(k, 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        R.normal(k, (2,), np.int32)
    with pytest.raises(TypeError, match="integer"):
        R.randint(k, (2,), 0, 5, np.float64)
    with pytest.raises(ValueError, match="unsigned"):
        R.bits(k, (2,), np.int32)
    with pytest.raises(TypeError, match="floating"):
        R.bernoulli(k, 1)
    with pytest.raises(ValueError, match="broadcast"):
        R.uniform(k, (2,), minval=np.zeros(3))
    with pytest.raises(ValueError, match="larger sample"):
        R.choice(k, 3, (4,), replace=False)
    with pytest.raises(ValueError, match="method"):
        R.multivariate_normal(k, np.zeros(2), np.eye(2), method="qr")


def test_defaults_are_float64_and_int64_and_uint64():
    k = R.key(0)
    assert R.uniform(k).dtype == np.float64 and R.uniform(k).shape == ()
    assert R.normal(k, (2,)).dtype == np.float64
    assert R.normal(k, (2,), np.float32).dtype == np.float32
    assert R.normal(k, (2,), "float32").dtype == np.float32
    assert R.randint(k, (2,), 0, 3).dtype == np.int64
    assert R.bits(k, (2,)).dtype == np.uint64
    assert R.bernoulli(k, 0.5, (2,)).dtype == np.bool_
    assert R.bernoulli(k, np.float32(0.5), (2,)).dtype == np.bool_
    assert R.categorical(k, np.zeros(3)).dtype == np.int64
    assert R.permutation(k, 4).dtype == np.int64


def test_shapes_follow_jax():
    k = R.key(1)
    assert R.bernoulli(k, np.full((2, 3), 0.5)).shape == (2, 3)
    assert R.categorical(k, np.zeros((4, 3))).shape == (4,)
    assert R.categorical(k, np.zeros((4, 3)), axis=0).shape == (3,)
    assert R.categorical(k, np.zeros(5), shape=(2, 3)).shape == (2, 3)
    assert R.choice(k, np.zeros((2, 5)), (3,), axis=1).shape == (2, 3)
    assert R.truncated_normal(k, np.zeros(3), 1.0).shape == (3,)
    assert R.gamma(k, np.ones((2, 2))).shape == (2, 2)
    assert R.multivariate_normal(k, np.zeros(3), np.eye(3)).shape == (3,)
    assert R.multivariate_normal(k, np.zeros(3), np.eye(3), (5,)).shape == (5, 3)
    assert R.permutation(k, np.zeros((4, 2)), axis=1).shape == (4, 2)
    assert R.split(R.PRNGKey(0), (2, 3)).shape == (2, 3, 2)
    assert R.uniform(k, (0,)).shape == (0,)
    assert R.choice(k, 5, (0,)).shape == (0,)


def test_permutation_and_choice_are_permutations_and_samples():
    k = R.PRNGKey(3)
    x = np.arange(12).reshape(3, 4)
    assert sorted(R.permutation(k, 1000)) == list(range(1000))
    assert sorted(R.permutation(k, x, axis=1, independent=True)[2]) == [8, 9, 10, 11]
    np.testing.assert_array_equal(np.sort(R.permutation(k, x), axis=0), x)
    c = R.choice(k, 10, (10,), replace=False)
    assert sorted(c) == list(range(10))
    assert set(R.choice(k, np.array([2.0, 4.0]), (20,))) <= {2.0, 4.0}
    assert set(R.choice(k, 4, (50,), p=np.array([0.5, 0.0, 0.5, 0.0]))) <= {0, 2}
    t = R.truncated_normal(k, -0.5, 0.25, (1000,))
    assert t.min() > -0.5 and t.max() < 0.25
