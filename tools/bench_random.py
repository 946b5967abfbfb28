"""Benchmark of tp.random: 1e7 normals, side by side in one process (not a test).

    python tools/bench_random.py                 float64 and float32, 1e7 values
    python tools/bench_random.py --n 1000000 --repeat 7
    /tmp/jaxvenv/bin/python tools/bench_random.py   # with JAX installed: JAX too

Columns (median seconds per call over --repeat rounds, after one warm-up call
that compiles; each round calls every column once, so load hits all alike):
    numpy    np.random.default_rng(0).standard_normal(n, dtype)  (ziggurat, NOT
             JAX's numbers: the yardstick for speed only)
    eager    tp.random.normal(key, (n,), dtype) called from Python
    jit      a tp.jit function that calls tp.random.normal
    jax      jax.jit(lambda k: jax.random.normal(k, (n,), dtype)), x64, classic
             Threefry (jax_threefry_partitionable=False), block_until_ready
Ratios are numpy / X and jax / X: above 1 means X (tp.random) is faster.
The first printed line says whether tp's numbers equal JAX's for this run.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np

from bench import tp  # tools/bench.py: this checkout's transpile


def draw(key, n, dtype):
    return tp.random.normal(key, (n,), dtype)


def draw32(key, n):
    return tp.random.normal(key, (n,), np.float32)


def draw64(key, n):
    return tp.random.normal(key, (n,))


def timeit_all(fns, repeat):
    """Median seconds per call of each of ``fns`` (a dict), the calls
    interleaved round-robin so that a busy machine slows all of them alike."""
    for fn in fns.values():
        fn()                               # warm-up: compiles
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            time.sleep(0.2)                # let the previous call's thread pool go idle
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    n, repeat = args.n, args.repeat
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_threefry_partitionable", False)
        import jax.random as jr
    except ImportError:
        jax = None
    print(f"# {n:.0e} normals, median of {repeat}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus; numpy {np.__version__}"
          + (f", jax {jax.__version__}" if jax else ", jax not installed"))
    key = tp.random.PRNGKey(0)
    rows = []
    for dtype, jitted in ((np.float64, tp.jit(draw64)), (np.float32, tp.jit(draw32))):
        rng = np.random.default_rng(0)
        fns = {
            "numpy": lambda: rng.standard_normal(n, dtype),
            "eager": lambda: tp.random.normal(key, (n,), dtype),
            "jit": lambda: jitted(key, n),
        }
        if jax is not None:
            jkey = jr.PRNGKey(0)
            f = jax.jit(lambda k: jr.normal(k, (n,), dtype))
            fns["jax"] = lambda: f(jkey).block_until_ready()
        res = timeit_all(fns, repeat)
        same_jit = np.array_equal(jitted(key, n), tp.random.normal(key, (n,), dtype))
        note = f"jit == eager: {same_jit}"
        if jax is not None:
            ours = tp.random.normal(key, (n,), dtype)
            theirs = np.asarray(f(jkey))
            it = np.int32 if dtype == np.float32 else np.int64
            ulp = np.abs(ours.view(it).astype(np.int64) - theirs.view(it).astype(np.int64))
            note += f"; vs JAX: {int((ulp == 0).sum())}/{n} identical, max {int(ulp.max())} ulp"
        rows.append((np.dtype(dtype).name, res, note))
    cols = ["numpy", "eager", "jit"] + (["jax"] if jax is not None else [])
    print(f"{'dtype':8}" + "".join(f"{c:>10}" for c in cols) + "   numpy/eager numpy/jit"
          + ("  jax/eager  jax/jit" if jax is not None else ""))
    for name, res, note in rows:
        line = f"{name:8}" + "".join(f"{res[c]:10.4f}" for c in cols)
        line += f"   {res['numpy'] / res['eager']:11.2f} {res['numpy'] / res['jit']:9.2f}"
        if jax is not None:
            line += f"  {res['jax'] / res['eager']:9.2f} {res['jax'] / res['jit']:8.2f}"
        print(line)
        print(f"#   {name}: {note}")


if __name__ == "__main__":
    main()
