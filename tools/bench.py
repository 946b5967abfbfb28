"""Benchmarks: NumPy eager vs transpile vs JAX, in one process (not a test).

    python tools/bench.py                      every workload, a table of medians
    python tools/bench.py --only selu,mlp      some of them (--list names them)
    python tools/bench.py --repeat 11          more samples per median
    python tools/bench.py --cold-warm          first call in a fresh process:
                                               cold (empty cache) vs warm (disk cache)

A workload is an entry of WORKLOADS, added with `register(...)`:

    setup()           -> (fn, args): a plain NumPy function and its arguments
    transpiled(fn)    -> the transpile callable to time (default `tp.jit(fn)`;
                         a gradient workload passes `lambda f: tp.jit(tp.grad(f))`)
    eager(fn)         -> the baseline run without compiling (default `fn`
                         itself, NumPy; a gradient workload passes `tp.grad`)
    jax(jax, jnp)     -> the same computation written with jax.numpy; the
                         harness wraps it in `jax.jit` (only when jax imports)

Each column is the median over `--repeat` samples of one call's time (a
sample loops the call long enough to be measured); every implementation's
result is checked against the eager one. JAX runs with float64 enabled, as
NumPy and transpile do. Ratios above 1 mean transpile is faster.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

# The checkout these tools belong to comes first (after tools/ itself, where the
# other tools find this module as `from bench import ...`), before an installed copy.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)
import transpile as tp  # noqa: E402


def _identity(fn):
    return fn


@dataclass
class Workload:
    name: str
    what: str
    setup: Callable[[], tuple]
    transpiled: Callable = tp.jit
    eager: Callable = _identity
    jax: Optional[Callable] = None


WORKLOADS = {}


def register(name, what, *, transpiled=tp.jit, eager=_identity, jax=None):
    """Decorator: register `setup` (returning (fn, args)) as workload `name`."""
    def deco(setup):
        WORKLOADS[name] = Workload(name, what, setup, transpiled, eager, jax)
        return setup
    return deco


# -- workloads --------------------------------------------------------------------
def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * np.where(x > 0, x, alpha * np.exp(x) - alpha)


def _selu_jax(jax, jnp):
    def selu_jax(x, alpha=1.67, lmbda=1.05):
        return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)
    return selu_jax


@register("selu", "selu over 1e6 float64 (lecture)", jax=_selu_jax)
def _selu_setup():
    return selu, (np.random.default_rng(0).normal(size=1_000_000),)


def escape_time(c_re, c_im, max_iter):
    out = np.zeros(c_re.shape[0], dtype=np.int64)
    for i in range(c_re.shape[0]):
        zr = 0.0
        zi = 0.0
        k = 0
        while zr * zr + zi * zi <= 4.0 and k < max_iter:  # stops on a value
            zr, zi = zr * zr - zi * zi + c_re[i], 2.0 * zr * zi + c_im[i]
            k += 1
        out[i] = k
    return out


def _escape_time_jax(jax, jnp):
    def one(cr, ci, max_iter):
        def cond(s):
            zr, zi, k = s
            return (zr * zr + zi * zi <= 4.0) & (k < max_iter)

        def body(s):
            zr, zi, k = s
            return zr * zr - zi * zi + cr, 2.0 * zr * zi + ci, k + 1
        return jax.lax.while_loop(cond, body, (0.0, 0.0, 0))[2]

    def escape_time_jax(c_re, c_im, max_iter):
        return jax.vmap(one, in_axes=(0, 0, None))(c_re, c_im, max_iter)
    return escape_time_jax


@register("while", "value-dependent while loop: escape times of 1000 points, <= 100 steps",
          jax=_escape_time_jax)
def _while_setup():
    rng = np.random.default_rng(1)
    return escape_time, (rng.uniform(-2.0, 1.0, 1000), rng.uniform(-1.5, 1.5, 1000), 100)


def ema(x, alpha):
    out = np.empty_like(x)
    acc = x[0]
    for i in range(x.shape[0]):
        acc = alpha * x[i] + (1.0 - alpha) * acc
        out[i] = acc  # in-place update
    return out


def _ema_jax(jax, jnp):
    def ema_jax(x, alpha):
        def step(acc, xi):
            acc = alpha * xi + (1.0 - alpha) * acc
            return acc, acc
        return jax.lax.scan(step, x[0], x)[1]
    return ema_jax


@register("inplace", "loop with in-place updates: moving average of 1e5", jax=_ema_jax)
def _inplace_setup():
    return ema, (np.random.default_rng(2).normal(size=100_000), 0.1)


def mlp(x, W1, b1, W2, b2, W3, b3):
    h = np.maximum(x @ W1 + b1, 0.0)
    h = np.maximum(h @ W2 + b2, 0.0)
    return h @ W3 + b3


def _mlp_jax(jax, jnp):
    def mlp_jax(x, W1, b1, W2, b2, W3, b3):
        h = jnp.maximum(x @ W1 + b1, 0.0)
        h = jnp.maximum(h @ W2 + b2, 0.0)
        return h @ W3 + b3
    return mlp_jax


@register("mlp", "MLP forward, widths 1-128-128-1, batch 128 (lecture)", jax=_mlp_jax)
def _mlp_setup():
    rng = np.random.default_rng(3)
    widths = [1, 128, 128, 1]
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        params += [rng.normal(size=(n_in, n_out)) * np.sqrt(2 / n_in), np.ones(n_out)]
    return mlp, (rng.uniform(-1.0, 1.0, size=(128, 1)), *params)


# -- timing -----------------------------------------------------------------------
def _jax():
    """(jax, jnp) with float64 enabled, or None when jax is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def median_time(call, repeat, min_seconds=0.05):
    """Median over `repeat` samples of one call's time (call() once before)."""
    start = time.perf_counter()
    call()
    once = time.perf_counter() - start
    number = max(1, int(min_seconds / max(once, 1e-9)))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            call()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def interleaved(calls, rounds, min_seconds=0.05):
    """{name: [seconds per call, one per round]} of `calls` ({name: callable}),
    measured round-robin: each round times every callable (looped long enough
    to be measured), so that the load of a shared machine falls on all of them
    alike. Each is called once first (compiles, warms caches)."""
    number = {}
    for name, call in calls.items():
        start = time.perf_counter()
        call()
        number[name] = max(1, int(min_seconds / max(time.perf_counter() - start, 1e-9)))
    samples = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            for _ in range(number[name]):
                call()
            samples[name].append((time.perf_counter() - start) / number[name])
    return samples


def spread(samples):
    """'median (min-max)' of a list of seconds."""
    if not samples:
        return "-"
    return f"{fmt(statistics.median(samples))} ({fmt(min(samples))}-{fmt(max(samples))})"


def fmt(seconds):
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.1f}x"


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-12)


def run_workload(w, repeat, jaxmods):
    fn, args = w.setup()
    eager = w.eager(fn)
    expected = eager(*args)
    row = {"name": w.name, "ok": True}

    row["numpy"] = median_time(lambda: eager(*args), repeat)

    compiled = w.transpiled(fn)
    start = time.perf_counter()
    got = compiled(*args)
    row["tp_first"] = time.perf_counter() - start
    row["ok"] &= _same(got, expected)
    row["tp"] = median_time(lambda: compiled(*args), repeat)

    row["jax"] = None
    if jaxmods is not None and w.jax is not None:
        jax, jnp = jaxmods
        jfn = jax.jit(w.jax(jax, jnp))
        jargs = tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
        got = jax.block_until_ready(jfn(*jargs))
        row["ok"] &= _same(got, expected)
        row["jax"] = median_time(lambda: jax.block_until_ready(jfn(*jargs)), repeat)
    return row


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(wd) if i == 0 else str(c).rjust(wd)
                               for i, (c, wd) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * wd for wd in widths))
    for r in rows:
        print(line(r))


def machine():
    import numba

    parts = [platform.processor() or platform.machine(), f"{os.cpu_count()} cores",
             f"Python {platform.python_version()}", f"NumPy {np.__version__}",
             f"Numba {numba.__version__}", f"transpile {tp.__version__}"]
    jaxmods = _jax()
    parts.append(f"JAX {jaxmods[0].__version__}" if jaxmods else "JAX not installed")
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {os.getloadavg()[0]:.2f}")
    return ", ".join(parts)


def bench(names, repeat):
    jaxmods = _jax()
    print(f"# {machine()}")
    print(f"# median of {repeat} samples per cell; ratios: time / tp.jit time (above 1: tp.jit faster)")
    rows = []
    for name in names:
        r = run_workload(WORKLOADS[name], repeat, jaxmods)
        rows.append([r["name"], fmt(r["numpy"]), fmt(r["tp"]), fmt(r["jax"]),
                     _ratio(r["numpy"], r["tp"]), _ratio(r["jax"], r["tp"]),
                     fmt(r["tp_first"]), "ok" if r["ok"] else "MISMATCH"])
    _table(["workload", "numpy eager", "tp.jit", "jax.jit", "numpy/tp", "jax/tp",
            "tp 1st call", "result"], rows)
    for name in names:
        print(f"  {name}: {WORKLOADS[name].what}")
    print("  (tp 1st call: in this process, from Numba's disk cache when an earlier run left "
          "one; see --cold-warm)")
    return 0 if all(r[-1] == "ok" for r in rows) else 1


# -- cold vs warm first call ------------------------------------------------------
def first_call(name):
    """In a fresh process: time import, setup and the first transpiled call (JSON)."""
    t0 = time.perf_counter()
    w = WORKLOADS[name]
    fn, args = w.setup()
    start = time.perf_counter()
    w.transpiled(fn)(*args)
    first = time.perf_counter() - start
    print(json.dumps({"first_call": first, "in_process": time.perf_counter() - t0}))
    return 0


def _child(name, cache):
    env = dict(os.environ, TRANSPILE_CACHE_DIR=cache)
    env.pop("NUMBA_CACHE_DIR", None)  # Numba's cache beside the generated files
    start = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--first-call", name],
                         env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"first-call run of {name} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process"] = wall
    return result


def cold_warm(names):
    print(f"# {machine()}")
    print("# first call of tp.jit(f) in a fresh process: cold = empty TRANSPILE_CACHE_DIR "
          "(generate + Numba compile); warm = a second process, same dir (Numba's disk cache)")
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="transpile-coldwarm-") as cache:
            cold = _child(name, cache)
            warm = _child(name, cache)
        rows.append([name, fmt(cold["first_call"]), fmt(warm["first_call"]),
                     f"{cold['first_call'] / warm['first_call']:.1f}x",
                     fmt(cold["process"]), fmt(warm["process"])])
    _table(["workload", "cold 1st call", "warm 1st call", "cold/warm",
            "cold process", "warm process"], rows)
    print("  (process: the whole `python` run, interpreter start and imports included)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="NumPy eager vs transpile vs JAX.")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="run only these workloads")
    parser.add_argument("--repeat", type=int, default=7, help="samples per median (default 7)")
    parser.add_argument("--cold-warm", action="store_true",
                        help="first-call time in fresh processes, cold vs warm disk cache")
    parser.add_argument("--list", action="store_true", help="list the workloads")
    parser.add_argument("--first-call", metavar="NAME", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.first_call:
        return first_call(ns.first_call)
    if ns.list:
        for w in WORKLOADS.values():
            print(f"{w.name:10s} {w.what}")
        return 0
    names = list(WORKLOADS)
    if ns.only:
        names = [n.strip() for n in ns.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    if ns.cold_warm:
        return cold_warm(names)
    return bench(names, ns.repeat)


if __name__ == "__main__":
    sys.exit(main())
