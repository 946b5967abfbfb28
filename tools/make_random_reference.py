"""Record JAX's numbers for tp.random's reference tests (needs JAX; the tests
do not).

    python -m venv --system-site-packages /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install jax jaxlib
    /tmp/jaxvenv/bin/python tools/make_random_reference.py

Runs every case of tests/random/random_cases.py with jax.random (float64
enabled; ``jax_threefry_partitionable`` False for the classic scheme, True
for the partitionable one) and writes tests/random/reference_data.npz: one
array per case (``c0000``, ...), the case names as JSON under ``__cases__``
and the JAX version, the CPU and the Newton steps of XLA's float32
rsqrt on it under ``__about__``.  A case JAX rejects is
recorded as the exception's type name (``__errors__``), so the tests check
that tp.random rejects it too.
"""
import json
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# tools/coverage.py would shadow the `coverage` package that Numba probes for
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "random"))

import random_cases  # noqa: E402


def main():
    import jax
    jax.config.update("jax_enable_x64", True)
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


if __name__ == "__main__":
    main()
