"""Record JAX's numbers for tp.random's reference tests (needs JAX; the tests
do not).

    python -m venv --system-site-packages /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install jax jaxlib
    /tmp/jaxvenv/bin/python tools/make_random_reference.py [samples] [gamma_grads]

Runs every case of tests/random/random_cases.py with jax.random (float64
enabled; ``jax_threefry_partitionable`` False for the classic scheme, True
for the partitionable one) and writes tests/random/reference_data.npz: one
array per case (``c0000``, ...), the case names as JSON under ``__cases__``
and the JAX version, the CPU and the Newton steps of XLA's float32
rsqrt on it under ``__about__``.  A case JAX rejects is
recorded as the exception's type name (``__errors__``), so the tests check
that tp.random rejects it too.  ``gamma_grads`` writes
tests/random/gamma_grad_reference.npz: JAX's gradients of ``gamma`` with
respect to its shape parameter (see :func:`gamma_grads`).
"""
import json
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "random"))

import random_cases  # noqa: E402


def samples():
    """reference_data.npz: every case of random_cases.CASES."""
    import jax
    from jax import random as jr

    def make_key(seed, kind, scheme):
        jax.config.update("jax_threefry_partitionable", scheme == "partitionable")
        return jr.PRNGKey(seed) if kind == "raw" else jr.key(seed)

    arrays, names, errors = {}, [], {}
    for i, case in enumerate(random_cases.CASES):
        names.append(case[0])
        try:
            out = random_cases.run(jr, make_key, case)
        except Exception as exc:  # recorded: the tests expect the same refusal
            errors[f"c{i:04d}"] = type(exc).__name__
            continue
        arrays[f"c{i:04d}"] = np.asarray(out)
    from llvmlite import binding
    from runtime import random_kernels
    # float32 gamma depends on the CPU (XLA's rsqrt is rsqrtss + Newton steps)
    about = {"jax": jax.__version__, "machine": platform.machine(),
             "cpu": binding.get_host_cpu_name(), "x64": True,
             "rsqrt32_steps": random_kernels.RSQRT32_STEPS}
    path = os.path.join(HERE, "..", "tests", "random", "reference_data.npz")
    np.savez_compressed(path, __cases__=np.array(json.dumps(names)),
                        __errors__=np.array(json.dumps(errors)),
                        __about__=np.array(json.dumps(about)), **arrays)
    print(f"wrote {len(arrays)} arrays ({len(errors)} errors) to {os.path.normpath(path)}")


def gamma_grads():
    """gamma_grad_reference.npz: JAX's implicit-reparameterization gradients
    of gamma (classic keys, float64): for each seed and shape parameter a,
    the samples x (GAMMA_N of them), each sample's dx/da, and
    d/da sum(x**2) with one scalar a."""
    import jax
    import jax.numpy as jnp
    from jax import random as jr
    jax.config.update("jax_threefry_partitionable", False)
    out = {"seeds": np.array(random_cases.GAMMA_GRAD_SEEDS),
           "alphas": np.array(random_cases.GAMMA_GRAD_ALPHAS)}
    n = random_cases.GAMMA_GRAD_N
    for i, seed in enumerate(random_cases.GAMMA_GRAD_SEEDS):
        key = jr.PRNGKey(seed)
        for j, a in enumerate(random_cases.GAMMA_GRAD_ALPHAS):
            av = jnp.full(n, a)
            out[f"x_{i}_{j}"] = np.asarray(jr.gamma(key, av))
            out[f"dx_{i}_{j}"] = np.asarray(jax.grad(lambda v: jnp.sum(jr.gamma(key, v)))(av))
            out[f"dsq_{i}_{j}"] = np.asarray(jax.grad(
                lambda s: jnp.sum(jr.gamma(key, s, (n,)) ** 2))(jnp.float64(a)))
    path = os.path.join(HERE, "..", "tests", "random", "gamma_grad_reference.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {len(out)} arrays to {os.path.normpath(path)}")


def main():
    import jax
    jax.config.update("jax_enable_x64", True)
    which = sys.argv[1:] or ["samples", "gamma_grads"]
    for name in which:
        {"samples": samples, "gamma_grads": gamma_grads}[name]()


if __name__ == "__main__":
    main()
