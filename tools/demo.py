"""The transpile demo: jit a plain NumPy function that JAX's jit cannot take.

    python tools/demo.py [--repeat N] [-n LENGTH]      (or: transpile demo)

`resetting_mean` has an `if` on an array value and a loop that writes into an
array in place, so `jax.jit` would need `lax.cond`, `lax.fori_loop` and
`.at[].set`. Here it is written as NumPy and compiled from its source with
Numba. The demo prints the generated source, checks the compiled result
against the same function run by NumPy, and times the first call (generate +
compile, or a load from Numba's disk cache when a previous run left one), a
warm call, and NumPy eager, as medians over repeats.
"""
import argparse
import inspect
import os
import statistics
import sys
import time

import numpy as np

try:
    import transpile as tp
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import transpile as tp


def resetting_mean(x, threshold):
    """Running mean of x that starts again after every value above threshold."""
    out = np.empty_like(x)
    total = 0.0
    count = 0
    for i in range(x.shape[0]):
        if x[i] > threshold:  # an `if` on a value: no lax.cond needed
            total = 0.0
            count = 0
        total += x[i]
        count += 1
        out[i] = total / count  # an in-place update
    return out


def median_time(fn, args, repeat, min_seconds=0.02):
    """Median over `repeat` samples of the time of one call; each sample loops
    the call enough times to last about `min_seconds`."""
    start = time.perf_counter()
    fn(*args)
    once = time.perf_counter() - start
    number = max(1, int(min_seconds / max(once, 1e-9)))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="transpile demo", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (median reported)")
    parser.add_argument("-n", type=int, default=100_000, help="input length")
    ns = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    x = rng.normal(size=ns.n)
    threshold = 2.0

    f = tp.jit(resetting_mean)
    start = time.perf_counter()
    got = f(x, threshold)  # generates the source, writes it, compiles it with Numba
    first = time.perf_counter() - start
    gen = f.generated(x, threshold)  # what that call built (no new work)
    stats = getattr(gen.entry, "stats", None)
    from_disk = bool(stats and stats.cache_hits)

    print("# ---- the NumPy function (tools/demo.py) ----")
    print(inspect.getsource(resetting_mean))
    print(f"# ---- what tp.jit generated: {gen.path} ----")
    print(gen.text)

    expected = resetting_mean(x, threshold)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    print(f"# checked: tp.jit(resetting_mean)(x, {threshold}) equals NumPy's result "
          f"(n = {ns.n}, {int((x > threshold).sum())} resets)")

    warm = median_time(f, (x, threshold), ns.repeat)
    eager = median_time(resetting_mean, (x, threshold), max(1, min(ns.repeat, 3)))
    how = "loaded from Numba's disk cache" if from_disk else "generate + Numba compile"
    n_eager = max(1, min(ns.repeat, 3))
    print(f"first call ({how}): {fmt(first)}")
    print(f"warm call, tp.jit (median of {ns.repeat}): {fmt(warm)}")
    print(f"NumPy eager (median of {n_eager}):        {fmt(eager)}  "
          f"({eager / warm:.0f}x the warm tp.jit call)")
    return 0


if __name__ == "__main__":
    # Run as module `transpile_demo`, as `transpile demo` does, so both share
    # one generated file and Numba's disk cache of it.
    from transpile.cli import run_demo

    sys.exit(run_demo(sys.argv[1:]))
