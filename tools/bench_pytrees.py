"""Pytree benchmark (not a test): the lecture's programs, jitted, against JAX.

    python tools/bench_pytrees.py [--repeat N] [--steps N]

* FNN [1, 128, 128, 1] on 128 samples: one jitted SGD step (a list of dicts
  of parameters in and out), then a Python loop of 1,000 steps;
* the lecture's regression fit (250 gradient steps), jitted whole — JAX
  cannot jit it as written (it appends to a list and takes the loss as an
  argument), so JAX's column jits the step instead.

First call (generation + compile) and steady state are reported for both;
first calls are measured in this process, so the on-disk Numba cache of an
earlier run makes transpile's look faster: --cold uses a new, empty cache
directory (TRANSPILE_CACHE_DIR) instead. transpile imports Numba (and
through it SciPy's BLAS) at its first jitted call, JAX imports XLA at
`import jax`: the row "import + first call" times both from a fresh
process (median of --fresh runs after one untimed run that fills the cache).
Ratios are JAX time / transpile time (above 1: transpile is faster).

On a small shared machine, multi-threaded BLAS fights the other processes
for cores and matmuls get 10-30x slower at random: run with
OPENBLAS_NUM_THREADS=1 there (it applies to NumPy and Numba's np.dot).
"""
import argparse
import os
import sys
import time

import numpy as np

from bench import _jax, _ratio, _table, fmt, machine, median_time  # tools/bench.py (tools/ is on sys.path)

import transpile as tp


def forward(params, x):
    *hidden, last = params
    for layer in hidden:
        x = x @ layer["W"] + layer["b"]
        x = np.maximum(x, 0)
    return x @ last["W"] + last["b"]


def loss_fn(params, x, y):
    return np.mean((forward(params, x) - y) ** 2)


def step(params, x, y, lr=0.0001):
    grads = tp.grad(loss_fn)(params, x, y)
    return tp.tree_map(lambda p, g: p - lr * g, params, grads)


def reg_loss(b, X, y):
    return np.mean((y - (X @ b).squeeze()) ** 2)


def fit(b, X, y, loss, n=250, lr=0.01):
    val_grad = tp.value_and_grad(loss)
    losses = []
    for i in range(n):
        val, grad = val_grad(b, X, y)
        losses.append(val)
        b = b - lr * grad
    return b, losses


def _fnn_params(rng, widths=(1, 128, 128, 1)):
    return [dict(W=rng.normal(size=(a, b)) * np.sqrt(2 / a), b=np.ones(b))
            for a, b in zip(widths[:-1], widths[1:])]


def _timed_first(call):
    t0 = time.perf_counter()
    out = call()
    return out, time.perf_counter() - t0


# The FNN step's first call in a fresh process, imports included.
_FRESH_TP = """
import time
t0 = time.perf_counter()
import importlib.util
import os
import sys
sys.path.insert(0, os.path.dirname({path!r}))     # tools/: bench_pytrees imports bench
spec = importlib.util.spec_from_file_location("bench_pytrees", {path!r})
bp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bp)
import numpy as np
rng = np.random.default_rng(0)
params = bp._fnn_params(rng)
x = rng.uniform(-1, 1, size=(128, 1))
bp.tp.jit(bp.step)(params, x, x ** 2)
print(time.perf_counter() - t0)
"""
_FRESH_JAX = """
import time
t0 = time.perf_counter()
import numpy as np
import jax
import jax.numpy as jnp
jax.config.update("jax_enable_x64", True)


def forward(ps, v):
    *hidden, last = ps
    for layer in hidden:
        v = jnp.maximum(v @ layer["W"] + layer["b"], 0)
    return v @ last["W"] + last["b"]


@jax.jit
def step(ps, v, w):
    g = jax.grad(lambda q: jnp.mean((forward(q, v) - w) ** 2))(ps)
    return jax.tree_util.tree_map(lambda q, h: q - 0.0001 * h, ps, g)


rng = np.random.default_rng(0)
params = [dict(W=rng.normal(size=(a, b)) * np.sqrt(2 / a), b=np.ones(b))
          for a, b in zip((1, 128, 128), (128, 128, 1))]
x = rng.uniform(-1, 1, size=(128, 1))
jax.block_until_ready(step(params, x, x ** 2))
print(time.perf_counter() - t0)
"""


def _fresh(code, runs):
    """Median seconds printed by `code` run in `runs` fresh interpreters,
    after one untimed run (it compiles what the cache lacks)."""
    import subprocess
    times = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.split()[-1]))
    return float(np.median(times[1:]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--cold", action="store_true", help="first calls with an empty cache directory")
    p.add_argument("--fresh", type=int, default=3, help="fresh processes timed for import + first call "
                                                        "(0: skip)")
    a = p.parse_args(argv)
    if a.cold:
        import tempfile
        os.environ["TRANSPILE_CACHE_DIR"] = tempfile.mkdtemp(prefix="tp-bench-")
    jaxmods = _jax()
    print(machine())
    rng = np.random.default_rng(0)
    params = _fnn_params(rng)
    x = rng.uniform(-1, 1, size=(128, 1))
    y = x ** 2
    rows = []

    # -- FNN: one step --
    jstep = tp.jit(step)
    out, first = _timed_first(lambda: jstep(params, x, y))
    steady = median_time(lambda: jstep(params, x, y), a.repeat)

    def loop(f, ps):
        for _ in range(a.steps):
            ps = f(ps, x, y)
        return ps
    loop(jstep, params)     # warm: the step's own outputs may have another layout than the inputs
    t_loop = median_time(lambda: loop(jstep, params), max(1, a.repeat // 3))
    j_first = j_steady = j_loop = None
    if jaxmods is not None:
        jax, jnp = jaxmods

        def jforward(ps, v):
            *hidden, last = ps
            for layer in hidden:
                v = jnp.maximum(v @ layer["W"] + layer["b"], 0)
            return v @ last["W"] + last["b"]

        def jloss(ps, v, w):
            return jnp.mean((jforward(ps, v) - w) ** 2)

        @jax.jit
        def jstep_(ps, v, w):
            g = jax.grad(jloss)(ps, v, w)
            return jax.tree_util.tree_map(lambda q, h: q - 0.0001 * h, ps, g)
        jps = jax.tree_util.tree_map(jnp.asarray, params)
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        jout, j_first = _timed_first(lambda: jax.block_until_ready(jstep_(jps, jx, jy)))
        j_steady = median_time(lambda: jax.block_until_ready(jstep_(jps, jx, jy)), a.repeat)
        jax.block_until_ready(loop(jstep_, jps))
        j_loop = median_time(lambda: jax.block_until_ready(loop(jstep_, jps)), max(1, a.repeat // 3))
        ok = all(np.allclose(u, np.asarray(v), rtol=1e-9, atol=1e-12)
                 for u, v in zip(tp.tree_leaves(out), jax.tree_util.tree_leaves(jout)))
    else:
        ok = None
    agree = "-" if ok is None else ("ok" if ok else "MISMATCH")
    rows.append(["FNN step, first call", fmt(first), fmt(j_first), _ratio(j_first, first), agree])
    if a.fresh:
        f_tp = _fresh(_FRESH_TP.format(path=os.path.abspath(__file__)), a.fresh)
        f_jax = _fresh(_FRESH_JAX, a.fresh) if jaxmods is not None else None
        rows.append(["FNN step, import + first call", fmt(f_tp), fmt(f_jax), _ratio(f_jax, f_tp), agree])
    rows.append(["FNN step, steady", fmt(steady), fmt(j_steady), _ratio(j_steady, steady), agree])
    rows.append([f"FNN {a.steps} steps (Python loop)", fmt(t_loop), fmt(j_loop), _ratio(j_loop, t_loop),
                 agree])

    # -- regression fit, jitted whole --
    X = rng.normal(size=(500, 8))
    yy = X @ np.arange(8.0) + rng.normal(scale=0.5, size=500)
    b0 = np.zeros((8, 1))
    jfit = tp.jit(fit, static_argnames=["loss", "n"])
    (b_t, losses), first = _timed_first(lambda: jfit(b0, X, yy, reg_loss))
    steady = median_time(lambda: jfit(b0, X, yy, reg_loss), a.repeat)
    b_e, _ = fit(b0, X, yy, reg_loss)
    ok = np.allclose(b_t, b_e, rtol=1e-9)
    j_first = j_steady = None
    if jaxmods is not None:
        jax, jnp = jaxmods

        def jreg(b, X_, y_):
            return jnp.mean((y_ - (X_ @ b).squeeze()) ** 2)

        @jax.jit
        def jfit_(b, X_, y_):
            def body(i, b):
                return b - 0.01 * jax.grad(jreg)(b, X_, y_)
            return jax.lax.fori_loop(0, 250, body, b)
        jb, j_first = _timed_first(lambda: jax.block_until_ready(jfit_(jnp.asarray(b0), jnp.asarray(X),
                                                                       jnp.asarray(yy))))
        j_steady = median_time(lambda: jax.block_until_ready(jfit_(jnp.asarray(b0), jnp.asarray(X),
                                                                   jnp.asarray(yy))), a.repeat)
        ok = ok and np.allclose(b_t, np.asarray(jb), rtol=1e-8)
    rows.append(["regression fit 250, first call", fmt(first), fmt(j_first), _ratio(j_first, first),
                 "ok" if ok else "MISMATCH"])
    rows.append(["regression fit 250, steady", fmt(steady), fmt(j_steady), _ratio(j_steady, steady),
                 "ok" if ok else "MISMATCH"])
    _table(["workload", "transpile", "JAX", "JAX/tp", "agree"], rows)


if __name__ == "__main__":
    main()
