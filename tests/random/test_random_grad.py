"""tp.random under tp.grad: samples are constants with respect to the inputs,
the key is not differentiable, and reparameterized paths differentiate
(loc + scale * normal; uniform's minval/maxval; gamma's shape by implicit
reparameterization, as JAX)."""
import os
import sys

import numpy as np
import pytest
from scipy import special

import transpile as tp
from runtime import random as RR

sys.path.insert(0, os.path.dirname(__file__))
import random_cases  # noqa: E402

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
    return np.sum(R.gamma(key, a, (40,)))


def gamma_squares(a, key):
    return np.sum(R.gamma(key, a, (40,)) ** 2)


def gamma_vector(a, key):
    x = R.gamma(key, a, (3, 2))            # a of shape (2,) broadcast to (3, 2)
    return np.sum(np.log(x) * np.array([1.0, -2.0]))


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


def truncated_of_param(lo, key):
    return np.sum(R.truncated_normal(key, lo, 2.0, (3,)))


def test_a_sampler_without_a_rule_is_a_named_error():
    with pytest.raises(tp.TranspileError, match="truncated_normal"):
        tp.grad(truncated_of_param)(-1.0, R.PRNGKey(0))


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


# ---- gamma: implicit reparameterization (JAX's random_gamma_grad) ----------

def quantile_derivative(a, x, h=1e-6):
    """How x moves with a at its fixed quantile P(a, x): central finite
    differences of the inverse CDF (scipy), the definition of the implicit
    reparameterization gradient."""
    q = special.gammainc(a, x)
    return (special.gammaincinv(a + h, q) - special.gammaincinv(a - h, q)) / (2 * h)


@pytest.mark.parametrize("a", [0.3, 1.0, 1.7, 6.5])
def test_gamma_gradient_moves_each_sample_along_its_quantile(a):
    key = R.PRNGKey(11)
    x = R.gamma(key, a, (40,))
    fd = quantile_derivative(a, x)
    ok = (x > 1e-8) & (special.gammainc(a, x) < 1 - 1e-6)   # where the quantile moves x
    np.testing.assert_allclose(RR.random_gamma_grad(a, x)[ok], fd[ok], rtol=2e-6)
    np.testing.assert_allclose(tp.grad(gamma_of_param)(a, key), np.sum(fd), rtol=2e-6)
    np.testing.assert_allclose(tp.grad(gamma_squares)(a, key), np.sum(2 * x * fd), rtol=2e-6)


def test_gamma_gradient_has_the_expected_mean():
    """E[x] = a and E[x**2] = a (a + 1): the mean gradients are 1 and 2a + 1
    (within 5 standard errors over 20000 samples)."""
    a, n = 2.5, 20000
    key = R.key(5)
    x = R.gamma(key, a, (n,))
    g = RR.random_gamma_grad(a, x)
    assert abs(g.mean() - 1.0) < 5 * g.std() / np.sqrt(n)
    g2 = 2 * x * g
    assert abs(g2.mean() - (2 * a + 1)) < 5 * g2.std() / np.sqrt(n)


def test_gamma_gradient_is_not_the_fixed_key_derivative_of_the_sampler():
    """Marsaglia-Tsang's sampler with the key held fixed moves its accepted
    proposal, not its quantile: its finite differences differ from JAX's
    gradient (so they are not what the rule is checked against)."""
    key, a, h = R.PRNGKey(0), 0.3, 1e-6
    fd_sampler = (R.gamma(key, a + h, (5,)) - R.gamma(key, a - h, (5,))) / (2 * h)
    grad = RR.random_gamma_grad(a, R.gamma(key, a, (5,)))
    assert np.max(np.abs(fd_sampler - grad) / np.abs(grad)) > 0.1


GAMMA_REF = np.load(os.path.join(os.path.dirname(__file__), "gamma_grad_reference.npz"))


@pytest.mark.parametrize("i", range(len(random_cases.GAMMA_GRAD_SEEDS)))
def test_gamma_gradient_matches_jax(i):
    key = R.PRNGKey(random_cases.GAMMA_GRAD_SEEDS[i])
    n = random_cases.GAMMA_GRAD_N
    for j, a in enumerate(random_cases.GAMMA_GRAD_ALPHAS):
        x = GAMMA_REF[f"x_{i}_{j}"]
        np.testing.assert_array_equal(R.gamma(key, np.full(n, a)), x)
        np.testing.assert_allclose(RR.random_gamma_grad(a, x), GAMMA_REF[f"dx_{i}_{j}"],
                                   rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(tp.grad(gamma_squares)(a, key), GAMMA_REF[f"dsq_{i}_{j}"],
                                   rtol=1e-9)


def test_gamma_gradient_of_an_array_shape_forward_and_reverse():
    key = R.key(8)
    a = np.array([0.7, 3.0])
    g = tp.grad(gamma_vector)(a, key)
    x = R.gamma(key, a, (3, 2))
    want = np.sum(RR.random_gamma_grad(a, x) / x * np.array([1.0, -2.0]), axis=0)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    np.testing.assert_allclose(tp.jacfwd(gamma_vector)(a, key), g, rtol=1e-12)   # forward mode


def test_gamma_gradient_in_float32():
    key = R.PRNGKey(2)
    x = R.gamma(key, 1.7, (40,), np.float32)
    g = RR.random_gamma_grad(1.7, x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, RR.random_gamma_grad(1.7, x.astype(np.float64)), rtol=1e-6)


@pytest.mark.slow
def test_jit_of_gamma_gradient():
    key = R.PRNGKey(4)
    np.testing.assert_allclose(tp.jit(tp.grad(gamma_squares))(1.7, key),
                               tp.grad(gamma_squares)(1.7, key), rtol=1e-13)
    a = np.array([0.7, 3.0])
    np.testing.assert_allclose(tp.jit(tp.grad(gamma_vector))(a, R.key(8)),
                               tp.grad(gamma_vector)(a, R.key(8)), rtol=1e-13)
