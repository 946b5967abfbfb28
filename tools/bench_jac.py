"""Forward-mode benchmark (not a test): jacfwd vs jacrev on tall and wide
Jacobians, the hessian of a 50-dimensional function, all under `tp.jit`, and
JAX's when installed.

    python tools/bench_jac.py [--repeat N] [--only a,b]

Tall: R^8 -> R^400 (jacfwd needs 8 JVPs, jacrev 400 VJPs); wide: R^400 ->
R^8 (the other way round). Times are medians measured side by side in one
process; the ratio columns are JAX time / transpile time (above 1: faster).
"""
import argparse

import numpy as np

from bench import _jax, _table, fmt, machine, median_time  # tools/bench.py (tools/ is on sys.path)

import transpile as tp

_A_TALL = np.random.default_rng(0).normal(size=(400, 8)) / 3
_A_WIDE = np.random.default_rng(1).normal(size=(8, 400)) / 20


def tall(x, A):
    return np.tanh(A @ x) * np.sum(x ** 2)


def wide(x, A):
    return np.tanh(A @ np.sin(x)) + np.sum(x) * 0.01


def rosen50(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _jax_fns(jnp):
    return {
        "tall": lambda x, A: jnp.tanh(A @ x) * jnp.sum(x ** 2),
        "wide": lambda x, A: jnp.tanh(A @ jnp.sin(x)) + jnp.sum(x) * 0.01,
        "rosen50": lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2),
    }


def _cases():
    rng = np.random.default_rng(2)
    return [
        ("tall 8->400", "tall", tall, (rng.normal(size=8), _A_TALL), ("jacfwd", "jacrev")),
        ("wide 400->8", "wide", wide, (rng.normal(size=400), _A_WIDE), ("jacfwd", "jacrev")),
        ("hessian 50", "rosen50", rosen50, (rng.normal(size=50),), ("hessian",)),
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--only", default="")
    a = p.parse_args(argv)
    jaxmods = _jax()
    print(machine())
    rows = []
    only = [s for s in a.only.split(",") if s]
    for label, key, fn, args, ops in _cases():
        if only and key not in only:
            continue
        ref = None
        for op in ops:
            f = tp.jit(getattr(tp, op)(fn))
            out = f(*args)
            eager = getattr(tp, op)(fn)(*args)
            ok = np.allclose(out, eager, rtol=1e-9, atol=1e-12)
            if ref is not None:
                ok = ok and np.allclose(out, ref, rtol=1e-9, atol=1e-12)
            ref = out
            t = median_time(lambda: f(*args), a.repeat)
            t_jax = None
            if jaxmods is not None:
                jax, jnp = jaxmods
                jf = getattr(jax, op)(_jax_fns(jnp)[key])
                jj = jax.jit(jf)
                jargs = tuple(jnp.asarray(v) for v in args)
                jout = np.asarray(jj(*jargs))
                ok = ok and np.allclose(out, jout, rtol=1e-9, atol=1e-12)
                t_jax = median_time(lambda: jax.block_until_ready(jj(*jargs)), a.repeat)
            rows.append([label, op, str(np.shape(out)), fmt(t), fmt(t_jax),
                         "-" if t_jax is None else f"{t_jax / t:.2f}x", "ok" if ok else "MISMATCH"])
    _table(["case", "op", "shape", "tp jit", "JAX jit", "JAX/tp", "agree"], rows)


if __name__ == "__main__":
    main()
