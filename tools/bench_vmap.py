"""vmap benchmark (not a test): tp.jit(tp.vmap(...)) against hand-written Numba and JAX.

    python tools/bench_vmap.py [--repeat N] [--only a,b] [--small] [--cold]

Workloads (issue 5):
  relu_grad  jit(vmap(grad(relu))) over 1e6 points
  matvec     vmap of a matvec over 4096 vectors (A 512x512), vs a hand-written matmul
  newton     vmap of a while-loop Newton iteration over 1e5 inputs
  euler      vmap over 1,000 parameters of the gradient of a 2,000-step Euler loop

For each: the strategy the jitted vmap used (lanes, vectorized, or the
per-example loop), the first call of the jitted vmap (generation + Numba
compile, or a disk-cache hit) and of JAX's, the steady-state time of the
jitted vmap, of the hand-written Numba version and of
`jax.jit(jax.vmap(...))` when JAX is installed (float64), and the ratios
tp/Numba and tp/JAX. Steady-state times are medians (and ranges) over rounds
that each time every implementation, interleaved in one process, so that the
load of a shared machine falls on all alike; the eager vmap (the same vmap
run with NumPy) is timed too where it is quick. `--small` divides the sizes
by 10 (a quick check).
"""
import argparse
import os
import statistics
import time

import numpy as np

from bench import _jax, _table, fmt, interleaved, machine, spread  # tools/bench.py (tools/ is on sys.path)

import numba

import transpile as tp

SCALE = 1


# -- the user's functions ----------------------------------------------------------------
def relu(x):
    return np.maximum(0, x)


def matvec(A, x):
    return A @ x


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def euler(k):
    x = 1.0
    v = 0.0
    dt = 0.01
    for i in range(2000):
        acc = -k * x - 0.1 * v
        x = x + dt * v
        v = v + dt * acc
    return x


# -- hand-written Numba ------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def relu_grad_numba(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = 1.0 if v > 0.0 else (0.5 if v == 0.0 else 0.0)
    return out


@numba.njit(cache=True)
def matmul_numba(A, X):
    return X @ np.ascontiguousarray(A.T)


@numba.njit(cache=True, error_model="numpy")
def newton_numba(a):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        ai = a[i]
        x = ai
        while abs(x * x - ai) > 1e-12 * ai:
            x = 0.5 * (x + ai / x)
        out[i] = x
    return out


@numba.njit(cache=True, error_model="numpy")
def euler_grad_numba(ks):
    """d x_final / d k by forward mode (dual numbers), one k at a time."""
    out = np.empty_like(ks)
    dt = 0.01
    for j in range(ks.shape[0]):
        k = ks[j]
        x, v, dx, dv = 1.0, 0.0, 0.0, 0.0
        for i in range(2000):
            acc = -k * x - 0.1 * v
            dacc = -x - k * dx - 0.1 * dv
            x, dx = x + dt * v, dx + dt * dv
            v, dv = v + dt * acc, dv + dt * dacc
        out[j] = dx
    return out


# -- JAX ---------------------------------------------------------------------------------
def jax_versions(jax, jnp):
    def relu_j(x):
        return jnp.maximum(0.0, x)

    def newton_j(a):
        def cond(x):
            return jnp.abs(x * x - a) > 1e-12 * a
        return jax.lax.while_loop(cond, lambda x: 0.5 * (x + a / x), a)

    def euler_j(k):
        def step(i, s):
            x, v = s
            acc = -k * x - 0.1 * v
            return x + 0.01 * v, v + 0.01 * acc
        return jax.lax.fori_loop(0, 2000, step, (1.0, 0.0))[0]

    return {
        "relu_grad": jax.jit(jax.vmap(jax.grad(relu_j))),
        "matvec": jax.jit(jax.vmap(lambda A, x: A @ x, in_axes=(None, 0))),
        "newton": jax.jit(jax.vmap(newton_j)),
        "euler": jax.jit(jax.vmap(jax.grad(euler_j))),
    }


def workloads():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1_000_000 // SCALE)
    x[::1000] = 0.0                     # some points on the kink
    A = rng.normal(size=(512, 512))
    X = rng.normal(size=(4096 // SCALE, 512))
    a = rng.uniform(0.5, 100.0, size=100_000 // SCALE)
    ks = rng.uniform(0.5, 2.0, size=1000 // SCALE)
    return [
        # name, what, vmap object, its arguments, hand-written, its arguments, time eagerly too
        ("relu_grad", "jit(vmap(grad(relu))) over 1e6 points", tp.vmap(tp.grad(relu)), (x,),
         relu_grad_numba, (x,), False),
        ("matvec", "vmap(A @ x) over 4096 vectors, A 512x512", tp.vmap(matvec, in_axes=(None, 0)), (A, X),
         matmul_numba, (A, X), True),
        ("newton", "vmap of a while-loop Newton sqrt over 1e5", tp.vmap(newton_sqrt), (a,),
         newton_numba, (a,), False),
        ("euler", "vmap over 1000 k of grad of a 2000-step Euler loop", tp.vmap(tp.grad(euler)), (ks,),
         euler_grad_numba, (ks,), False),
    ]


def strategy_of(compiled, args):
    """What tp.jit(tp.vmap(...)) generated: the lanes form, vectorizing rules
    or the per-example loop (fwd: the gradient by forward mode)."""
    src = compiled.source(*args)
    kind = "lanes" if "def lanes_" in src else "vectorized" if "def vec_" in src else "loop"
    return kind + (" (fwd)" if "def jvp_" in src else "")


def main(argv=None):
    global SCALE
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=11, help="rounds (each times every implementation)")
    p.add_argument("--only", default="")
    p.add_argument("--small", action="store_true", help="sizes / 10")
    p.add_argument("--cold", action="store_true", help="first calls with an empty cache directory "
                                                       "(generation and Numba compile, no disk cache)")
    ns = p.parse_args(argv)
    if ns.small:
        SCALE = 10
    if ns.cold:
        import tempfile
        os.environ["TRANSPILE_CACHE_DIR"] = tempfile.mkdtemp(prefix="tp-bench-vmap-")
    only = {s for s in ns.only.split(",") if s}
    print(machine())
    jaxmods = _jax()
    jx = jax_versions(*jaxmods) if jaxmods else {}
    rows, notes = [], []
    for name, what, vm, args, hand, hargs, eager_too in workloads():
        if only and name not in only:
            continue
        print(f"# {name}: {what}", flush=True)
        expected = hand(*hargs)
        compiled = tp.jit(vm)
        start = time.perf_counter()
        got = compiled(*args)
        first = time.perf_counter() - start
        ok = bool(np.allclose(got, expected, rtol=1e-9, atol=1e-12))
        calls = {"tp": lambda: compiled(*args), "numba": lambda: hand(*hargs)}
        j_first = None
        if name in jx:
            jax, jnp = jaxmods
            jargs = tuple(jnp.asarray(v) for v in args)
            start = time.perf_counter()
            jgot = jax.block_until_ready(jx[name](*jargs))
            j_first = time.perf_counter() - start
            ok &= bool(np.allclose(np.asarray(jgot), expected, rtol=1e-9, atol=1e-12))
            calls["jax"] = lambda: jax.block_until_ready(jx[name](*jargs))
        if eager_too:
            calls["eager"] = lambda: vm(*args)
        t = interleaved(calls, ns.repeat)
        med = {k: statistics.median(v) for k, v in t.items()}
        rows.append([name, strategy_of(compiled, args), fmt(first), fmt(j_first), spread(t["tp"]),
                     spread(t["numba"]), spread(t.get("jax")), f"{med['tp'] / med['numba']:.2f}",
                     f"{med['tp'] / med['jax']:.2f}" if "jax" in med else "-", "yes" if ok else "NO"])
        if eager_too:
            notes.append(f"  {name}: tp eager (the same vmap, NumPy) {spread(t['eager'])}")
    print()
    _table(["workload", "strategy", "tp 1st", "jax 1st", "tp.jit", "numba", "jax", "tp/numba", "tp/jax",
            "same"], rows)
    print(f"  steady state: median (min-max) of {ns.repeat} interleaved rounds; ratios of the medians "
          f"(below 1: tp faster)")
    print("  1st: the first call in this process (tp: generation + Numba compile" +
          (", empty cache directory" if ns.cold else ", or Numba's disk cache from an earlier run") +
          "; jax: trace + XLA compile)")
    for line in notes:
        print(line)


if __name__ == "__main__":
    main()
