"""Reverse-mode benchmark (not a test): grad vs primal under jit, and JAX's grad.

    python tools/bench_grad.py [--repeat N] [--only a,b]

For each workload: the primal compiled with `tp.jit`, its gradient compiled
with `tp.jit(tp.grad(f))`, their ratio (target: grad <= 3x primal), the
eager gradient (`tp.grad`, NumPy), and when JAX is installed (the 'bench'
extra; float64) `jax.jit(f)` and `jax.jit(jax.grad(f))` written as a JAX user
would (jax.numpy, lax.fori_loop, .at[].set), with JAX's own grad/primal ratio
and JAX's grad time over ours (> 1: ours is faster). The candidates are timed
in interleaved rounds in one process, so a busy machine slows them alike.
"same grads": eager == jit (1e-9) and JAX agrees (1e-7).
"""
import argparse
import statistics

import numpy as np

from bench import _jax, _table, fmt, interleaved, machine, median_time  # tools/bench.py (tools/ is on sys.path)

import transpile as tp


def mlp_loss(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def regression_loss(b, X, y, lam):
    r = y - X @ b
    return np.mean(r ** 2) + lam * np.sum(b ** 2)


def overwrite_loop(x):
    y = x
    for t in range(1000):
        y = y + 0.001 * (np.sin(y) * x - 0.5 * y)
    return np.sum(y ** 2)


def inplace_loop(x):
    y = np.zeros(x.shape[0])
    for i in range(1, x.shape[0]):
        y[i] = 0.9 * y[i - 1] + np.sin(x[i]) * x[i - 1]
    return np.sum(y * y)


def _setups():
    rng = np.random.default_rng(0)
    n, d, h = 256, 16, 64
    W1, b1 = rng.normal(size=(d, h)) / 4, np.zeros(h)
    W2, b2 = rng.normal(size=(h, 1)) / 8, np.zeros(1)
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, 1))
    X = rng.normal(size=(500, 8))
    return {
        "mlp_loss": (mlp_loss, (W1, b1, W2, b2, x, y), (0, 1, 2, 3)),
        "regression": (regression_loss, (rng.normal(size=8), X, X @ np.arange(8.0), 0.1), 0),
        "overwrite_1000": (overwrite_loop, (rng.normal(size=100),), 0),
        "inplace_loop": (inplace_loop, (rng.normal(size=2000),), 0),
    }


def _jax_version(name, jnp):
    if name == "mlp_loss":
        return lambda W1, b1, W2, b2, x, y: jnp.mean((jnp.tanh(x @ W1 + b1) @ W2 + b2 - y) ** 2)
    if name == "regression":
        return lambda b, X, y, lam: jnp.mean((y - X @ b) ** 2) + lam * jnp.sum(b ** 2)
    if name == "overwrite_1000":
        import jax

        def f(x):
            body = lambda t, y: y + 0.001 * (jnp.sin(y) * x - 0.5 * y)
            return jnp.sum(jax.lax.fori_loop(0, 1000, body, x) ** 2)
        return f
    if name == "inplace_loop":
        import jax

        def f(x):
            def body(i, y):
                return y.at[i].set(0.9 * y[i - 1] + jnp.sin(x[i]) * x[i - 1])
            y = jax.lax.fori_loop(1, x.shape[0], body, jnp.zeros(x.shape[0]))
            return jnp.sum(y * y)
        return f
    return None


def _interleaved(calls, repeat, stat):
    """`stat` ('median' or 'min') of `repeat` interleaved rounds of each of `calls` (bench.interleaved)."""
    pick = min if stat == "min" else statistics.median
    return {k: pick(v) for k, v in interleaved(calls, repeat).items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--only", default="")
    p.add_argument("--stat", choices=("median", "min"), default="median",
                   help="statistic of the interleaved rounds (min is steadier on a busy machine)")
    p.add_argument("--no-eager", action="store_true", help="skip the eager gradient (slow loops)")
    a = p.parse_args(argv)
    setups = _setups()
    names = [n for n in a.only.split(",") if n] or list(setups)
    jaxmods = _jax()
    print(machine())
    print(f"{a.stat} of {a.repeat} interleaved rounds")
    rows = []
    for name in names:
        fn, args, argnums = setups[name]
        primal = tp.jit(fn)
        primal(*args)
        grad_jit = tp.jit(tp.grad(fn, argnums=argnums))
        g = grad_jit(*args)
        g_eager = tp.grad(fn, argnums=argnums)(*args)
        ok = all(np.allclose(u, v, rtol=1e-9, atol=1e-12) for u, v in
                 zip(g if isinstance(g, tuple) else (g,), g_eager if isinstance(g_eager, tuple) else (g_eager,)))
        calls = {"primal": lambda: primal(*args), "grad": lambda: grad_jit(*args)}
        if jaxmods is not None:
            jax, jnp = jaxmods
            jf = _jax_version(name, jnp)
            jp = jax.jit(jf)
            jg = jax.jit(jax.grad(jf, argnums=argnums))
            jargs = tuple(jnp.asarray(v) if isinstance(v, np.ndarray) else v for v in args)
            jax.block_until_ready(jp(*jargs))
            jax.block_until_ready(jg(*jargs))
            jg_out = jg(*jargs)
            ok = ok and all(np.allclose(np.asarray(u), v, rtol=1e-7, atol=1e-10) for u, v in
                            zip(jg_out if isinstance(jg_out, tuple) else (jg_out,),
                                g if isinstance(g, tuple) else (g,)))
            calls["jax primal"] = lambda: jax.block_until_ready(jp(*jargs))
            calls["jax grad"] = lambda: jax.block_until_ready(jg(*jargs))
        t = _interleaved(calls, a.repeat, a.stat)
        t_eager = None if a.no_eager else median_time(lambda: tp.grad(fn, argnums=argnums)(*args),
                                                      max(3, a.repeat // 2))
        jp_t, jg_t = t.get("jax primal"), t.get("jax grad")
        rows.append([name, fmt(t["primal"]), fmt(t["grad"]), f"{t['grad'] / t['primal']:.2f}x",
                     fmt(t_eager), fmt(jp_t), fmt(jg_t),
                     "-" if jg_t is None else f"{jg_t / jp_t:.2f}x",
                     "-" if jg_t is None else f"{jg_t / t['grad']:.2f}x", "ok" if ok else "MISMATCH"])
    _table(["workload", "primal jit", "grad jit", "grad/primal", "grad eager", "JAX primal",
            "JAX grad", "JAX grad/primal", "JAX grad/tp grad", "same grads"], rows)


if __name__ == "__main__":
    main()
