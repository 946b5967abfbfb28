"""``tp.random``: JAX's ``jax.random`` API on explicit, splittable Threefry-2x32
keys, giving JAX's numbers (see :mod:`runtime.random` for the scheme).

    key = tp.random.PRNGKey(0)                  # or tp.random.key(0), a typed key
    key, sub = tp.random.split(key)
    w = tp.random.normal(sub, (3, 4))           # float64 unless dtype=np.float32

The functions live in :mod:`runtime.random` (what generated code imports) and
are re-exported here; they work eagerly, inside ``tp.jit`` (same bits),
under ``tp.vmap`` over a batch of keys, and under ``tp.grad`` (samples are
constants; ``minval``/``maxval`` of ``uniform`` are differentiable, and
``gamma``'s shape ``a`` by implicit reparameterization, as in JAX).
"""
from runtime.random import (  # noqa: F401
    IMPLS, KeyArray, KeyDType, PRNGKey, bernoulli, bits, categorical, choice, exponential,
    fold_in, gamma, gumbel, key, key_data, key_impl, multivariate_normal, normal,
    permutation, randint, split, threefry_2x32, truncated_normal, uniform, wrap_key_data)

__all__ = [
    "PRNGKey", "key", "key_data", "wrap_key_data", "key_impl", "split", "fold_in",
    "threefry_2x32", "bits", "uniform", "normal", "bernoulli", "randint", "choice",
    "permutation", "categorical", "gumbel", "exponential", "gamma", "truncated_normal",
    "multivariate_normal", "KeyArray", "KeyDType", "IMPLS",
]
