"""Derivative rules of tp.random (:mod:`runtime.random`).

Random samples are constants with respect to the inputs of a transformed
function: keys are integers, and the samplers without float parameters
(normal, exponential, gumbel, bits) or whose output is discrete (randint,
bernoulli, categorical) have zero gradient, as in JAX.  So
``loc + scale * tp.random.normal(key, shape)`` differentiates through
``loc`` and ``scale`` -- the reparameterization trick -- with no rule here.

``uniform``'s bounds are differentiable, as in JAX:
``out = max(minval, u * (maxval - minval) + minval)`` with ``u`` the unit
sample, so where ``out > minval``, d/dmaxval = u and d/dminval = 1 - u, and
where ``out == minval`` (maxval <= minval, or u == 0) all of the gradient
goes to minval (JAX's ``max`` splits a tie evenly, which gives the same).
``u`` and minval in the output's dtype are redrawn from the same key in the
rule.

``gamma(key, a)`` differentiates through ``a`` by implicit
reparameterization, as in JAX: a sample x moves with a along its quantile,
dx/da = -(dP/da) / (dP/dx) with P(a, x) the regularized incomplete gamma
function (``R.random_gamma_grad``, JAX's ``lax.random_gamma_grad``).  This
is not the derivative of the Marsaglia-Tsang rejection sampler with the key
held fixed (which moves its accepted proposal, not its quantile); it is the
gradient whose expectation is d E[f(x)] / da.

``choice``, ``permutation`` (of a float array), ``truncated_normal`` and
``multivariate_normal`` have no rule: called with a differentiable argument
they are a clear error naming the function (use ``tp.stop_gradient`` or
write the sampler from ``normal`` and ``uniform``).
"""
import numpy as np

from runtime import random as R
from runtime.adjoint import unbroadcast
from runtime.rules.registry import adjoint, d, nondifferentiable, t, tangent

nondifferentiable(
    R.PRNGKey, R.key, R.key_data, R.wrap_key_data, R.key_impl, R.split, R.fold_in,
    R.threefry_2x32, R.bits, R.randint, R.bernoulli, R.categorical, R.normal,
    R.exponential, R.gumbel,
)


@adjoint(R.uniform)
def uniform(g, ans, key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    u = R.uniform(key, shape, dtype)
    lo = R.uniform(key, shape, dtype, minval, minval)
    v = np.where(ans > lo, u, 0.0 * u)
    d[minval] = unbroadcast(g * (1.0 - v), minval)
    d[maxval] = unbroadcast(g * v, maxval)


@tangent(R.uniform)
def uniform_tangent(ans, key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    u = R.uniform(key, shape, dtype)
    lo = R.uniform(key, shape, dtype, minval, minval)
    v = np.where(ans > lo, u, 0.0 * u)
    d[minval] = (1.0 - v) * t(minval)
    d[maxval] = v * t(maxval)


@adjoint(R.gamma)
def gamma(g, ans, key, a, shape=None, dtype=None):
    d[a] = unbroadcast(g * R.random_gamma_grad(a, ans), a)


@tangent(R.gamma)
def gamma_tangent(ans, key, a, shape=None, dtype=None):
    d[a] = R.random_gamma_grad(a, ans) * t(a)
