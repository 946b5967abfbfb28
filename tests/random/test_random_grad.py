"""tp.random under tp.grad: samples are constants with respect to the inputs,
the key is not differentiable, and reparameterized paths differentiate
(loc + scale * normal; uniform's minval/maxval)."""
import numpy as np
import pytest

import transpile as tp

R = tp.random


def reparam_loss(params, key):
    loc, scale = params[0], params[1]
    z = R.normal(key, (200,))
    x = loc + scale * z
    return np.mean(x ** 2)


def uniform_loss(lo, hi, key):
    x = R.uniform(key, (300,), minval=lo, maxval=hi)
    return np.sum(x * x)


def uniform_vector_bounds(lo, key):
    x = R.uniform(key, (4, 3), minval=lo, maxval=2.0)
    return np.sum(np.sin(x))


def key_inside(w, seed):
    key = R.PRNGKey(seed)
    k1, k2 = R.split(key)
    noise = R.normal(k1, (3,)) + R.exponential(k2, (3,)) + R.randint(k2, (3,), 0, 2)
    mask = R.bernoulli(k1, 0.5, (3,))
    return np.sum(w * noise * mask) + np.sum(w ** 2)


def gamma_of_param(a, key):
    return np.sum(R.gamma(key, a, (3,)))


def test_reparameterized_normal():
    key = R.PRNGKey(0)
    p = np.array([0.5, 2.0])
    z = R.normal(key, (200,))
    want = [np.mean(2 * (p[0] + p[1] * z)), np.mean(2 * (p[0] + p[1] * z) * z)]
    for k in (key, R.key(0)):
        g = tp.grad(reparam_loss)(p, k if k is key else R.wrap_key_data(R.key_data(key)))
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_uniform_bounds_against_closed_form_and_finite_differences():
    key = R.key(3)
    lo, hi = -1.0, 3.0
    glo, ghi = tp.grad(uniform_loss, argnums=(0, 1))(lo, hi, key)
    u = R.uniform(key, (300,))
    x = R.uniform(key, (300,), minval=lo, maxval=hi)
    np.testing.assert_allclose([glo, ghi], [np.sum(2 * x * (1 - u)), np.sum(2 * x * u)], rtol=1e-12)
    eps = 1e-6
    fd = (uniform_loss(lo + eps, hi, key) - uniform_loss(lo - eps, hi, key)) / (2 * eps)
    np.testing.assert_allclose(glo, fd, rtol=1e-6)


def test_uniform_array_bound_is_unbroadcast():
    key = R.PRNGKey(4)
    lo = np.array([-1.0, 0.0, 0.5])
    g = tp.grad(uniform_vector_bounds)(lo, key)
    assert g.shape == (3,)
    eps = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = eps
        fd = (uniform_vector_bounds(lo + e, key) - uniform_vector_bounds(lo - e, key)) / (2 * eps)
        np.testing.assert_allclose(g[j], fd, rtol=1e-6)


def test_samples_are_constants_and_keys_made_inside_work():
    w = np.array([0.1, -0.2, 0.3])
    g = tp.grad(key_inside)(w, 5)
    k1, k2 = R.split(R.PRNGKey(5))
    noise = R.normal(k1, (3,)) + R.exponential(k2, (3,)) + R.randint(k2, (3,), 0, 2)
    np.testing.assert_allclose(g, noise * R.bernoulli(k1, 0.5, (3,)) + 2 * w, rtol=1e-12)


def test_the_key_is_not_differentiable():
    with pytest.raises(TypeError):
        tp.grad(reparam_loss, argnums=1)(np.array([0.5, 2.0]), R.PRNGKey(0))


def test_a_sampler_without_a_rule_is_a_named_error():
    with pytest.raises(tp.TranspileError, match="gamma"):
        tp.grad(gamma_of_param)(2.0, R.PRNGKey(0))


def test_value_and_grad():
    key = R.PRNGKey(1)
    p = np.array([0.3, 1.5])
    v, g = tp.value_and_grad(reparam_loss)(p, key)
    assert v == pytest.approx(reparam_loss(p, key))
    np.testing.assert_allclose(g, tp.grad(reparam_loss)(p, key), rtol=0)


@pytest.mark.slow
def test_jit_of_grad():
    key = R.PRNGKey(1)
    p = np.array([0.3, 1.5])
    g = tp.grad(reparam_loss)(p, key)
    gj = tp.jit(tp.grad(reparam_loss))(p, key)
    np.testing.assert_allclose(gj, g, rtol=1e-12)
    glo, ghi = tp.jit(tp.grad(uniform_loss, argnums=(0, 1)))(-1.0, 3.0, R.key(3))
    np.testing.assert_allclose([glo, ghi], tp.grad(uniform_loss, argnums=(0, 1))(-1.0, 3.0, R.key(3)),
                               rtol=1e-12)
