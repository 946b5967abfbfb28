"""CUDA backend benchmark (issue 8; not a test). Needs a GPU.

    python tools/bench_cuda.py [--repeat N] [--n-branchy 1e7] [--n-selu 1e8]
    python tools/bench_cuda.py --sim-smoke    # the same code on tiny sizes under the CUDA simulator

Workloads, inputs and outputs on the device (no host transfers timed):
  branchy_grad  tp.jit(tp.vmap(tp.grad(branchy)), backend="cuda") over 1e7 inputs:
                a 20-line scalar function with a loop and a branch, one GPU
                thread per example (forward mode in each thread), against
                jax.jit(jax.vmap(jax.grad(branchy_jax))) on the same GPU
                (lax.fori_loop + lax.cond, which vmap turns into a select
                that computes both branches)
  selu          tp.jit(selu, backend="cuda") over 1e8 elements, element-wise,
                against jax.jit(selu_jax)

For each: the time of a whole call (host launcher: output allocation, kernel
launch, synchronize), the kernel alone (CUDA events around a launch into
preallocated outputs), JAX's call (block_until_ready), and the effective
bandwidth of the kernel -- bytes the workload must move (inputs read once,
outputs written once) / kernel time -- against the device's peak (memory
clock x bus width x 2, from its attributes) and against a device-to-device
copy measured here. All columns come from one process, one after the other;
ratios are taken between them. Target (issue 8): selu >= 70% of peak
bandwidth; branchy_grad faster than JAX.

JAX is imported with XLA_PYTHON_CLIENT_PREALLOCATE=false so that it does not
take 75% of the GPU's memory before Numba allocates.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

from bench import ROOT, _table, fmt  # tools/bench.py (tools/ is on sys.path)

# Peak memory bandwidth (bytes/s) by device name, when the driver does not report
# the memory clock (recent CUDA releases deprecate that attribute).
PEAK_BY_NAME = {"H100 80GB HBM3": 3.35e12, "H100 PCIe": 2.0e12, "H100 NVL": 3.9e12, "H200": 4.8e12,
                "A100-SXM4-80GB": 2.039e12, "A100-SXM4-40GB": 1.555e12, "A100-PCIE-40GB": 1.555e12,
                "A100 80GB PCIe": 1.935e12, "L4": 3.0e11, "L40S": 8.64e11, "A10G": 6.0e11,
                "Tesla T4": 3.2e11, "Tesla V100-SXM2-16GB": 9.0e11, "Tesla V100-SXM2-32GB": 9.0e11}


# the user's functions (plain NumPy): those of the CUDA backend's tests
sys.path.insert(0, os.path.join(ROOT, "tests", "cuda"))
from cuda_examples import ALPHA, SCALE as LAMBDA, branchy, selu  # noqa: E402


# -- the same in JAX ---------------------------------------------------------------------
def jax_versions(jax, jnp):
    lax = jax.lax

    def branchy_jax(x, y):
        def step(i, state):
            acc, z = state

            def up(s):
                acc, z = s
                z = z - 0.1 * jnp.sin(z * y)
                return acc + z * z, z

            def down(s):
                acc, z = s
                z = z + 0.2 * jnp.tanh(y - z)
                return acc - jnp.log1p(z * z) / (i + 1), z

            acc, z = lax.cond(z * y > 0.5, up, down, (acc, z))
            # the double where keeps sqrt's gradient finite in the branch not taken
            safe = jnp.where(acc > 10.0, acc - 10.0, 1.0)
            acc = jnp.where(acc > 10.0, 10.0 + jnp.sqrt(safe), acc)
            return acc, z
        acc, z = lax.fori_loop(0, 6, step, (jnp.zeros_like(x), x))
        w = jnp.maximum(acc, -5.0)
        return w * x + jnp.exp(-y * y) * z

    def selu_jax(x):
        return LAMBDA * jnp.where(x > 0, x, ALPHA * (jnp.exp(x) - 1.0))

    return (jax.jit(jax.vmap(jax.grad(branchy_jax))), jax.jit(selu_jax))


def load_jax():
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    if not any(d.platform == "gpu" for d in jax.devices()):
        return None
    return jax, jnp


# -- measuring ---------------------------------------------------------------------------
def median_time(call, repeat, sync):
    """Median wall time of `call()` followed by `sync()` (one warm-up call first)."""
    call()
    sync()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        sync()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def kernel_time(cuda, launch, repeat):
    """Median time of `launch()` between two CUDA events (None under the simulator)."""
    launch()
    cuda.synchronize()
    samples = []
    for _ in range(repeat):
        start, stop = cuda.event(), cuda.event()
        start.record()
        launch()
        stop.record()
        stop.synchronize()
        samples.append(start.elapsed_time(stop) / 1e3)     # ms; the simulator gives -1
    t = statistics.median(samples)
    return t if t > 0 else None


def kernel_launch(cuda, jitted, args):
    """A launch of the kernel behind `jitted` into preallocated outputs."""
    from runtime import cuda_launch
    gen = jitted.generated(*args)
    launcher = gen.entry
    values = [args[i] for i in gen.dyn_index] + [h.getter() for h in gen.hidden]   # globals read
    dargs = [cuda_launch._device(a)[0] for a in values]
    if isinstance(launcher, cuda_launch.Elementwise):
        dargs = [d.reshape(d.size) if cuda_launch.is_device_array(d) else d for d in dargs]
    n = dargs[0].shape[0]
    outs = [cuda.device_array(n, dt) for dt in launcher.dtypes(dargs, n)]
    blocks = (n + cuda_launch.THREADS - 1) // cuda_launch.THREADS
    return lambda: launcher.kernel[blocks, cuda_launch.THREADS](*dargs, *outs)


def peak_bandwidth(cuda):
    """(bytes/s, how it was found) of the current device, or (None, why not)."""
    dev = cuda.get_current_device()
    try:
        clock_khz = dev.MEMORY_CLOCK_RATE
        bus_bits = dev.GLOBAL_MEMORY_BUS_WIDTH
        if clock_khz and bus_bits:
            return 2.0 * clock_khz * 1e3 * bus_bits / 8, "memory clock x bus width x 2"
    except Exception:       # the attribute is gone from recent drivers
        pass
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    for key, value in PEAK_BY_NAME.items():
        if key in name:
            return value, f"datasheet value for {key}"
    return None, f"unknown for {name}"


def copy_bandwidth(cuda, n, repeat):
    """A device-to-device copy of n float64: bytes read + written / time."""
    src = cuda.to_device(np.ones(n))
    dst = cuda.device_array(n)
    t = kernel_time(cuda, lambda: dst.copy_to_device(src), repeat)
    return None if t is None else 2 * 8 * n / t


def gbs(bw):
    return "-" if bw is None else f"{bw / 1e9:.0f} GB/s"


def pct(a, b):
    return "-" if a is None or b is None else f"{100 * a / b:.0f}%"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}x"


# -- the workloads -----------------------------------------------------------------------
def run(n_branchy, n_selu, repeat, sim):
    from numba import cuda
    import transpile as tp

    jaxmods = None if sim else load_jax()
    jitted = {"branchy_grad": tp.jit(tp.vmap(tp.grad(branchy)), backend="cuda"),
              "selu": tp.jit(selu, backend="cuda")}
    jfns = jax_versions(*jaxmods) if jaxmods else (None, None)
    rng = np.random.default_rng(0)
    host = {"branchy_grad": (rng.uniform(-2, 2, n_branchy), rng.uniform(-2, 2, n_branchy)),
            "selu": (rng.standard_normal(n_selu),)}
    moved = {"branchy_grad": 3 * 8 * n_branchy, "selu": 2 * 8 * n_selu}     # bytes in + out
    peak, how = (None, "simulator") if sim else peak_bandwidth(cuda)
    copy_bw = None if sim else copy_bandwidth(cuda, n_selu, repeat)
    rows, ok = [], True
    for (name, fn), jfn in zip(jitted.items(), jfns):
        args = tuple(cuda.to_device(a) for a in host[name])
        start = time.perf_counter()
        out = fn(*args)
        cuda.synchronize()
        first = time.perf_counter() - start
        # check against the CPU backend on a slice (the numba backend over all of it is slow)
        k = min(2000, len(host[name][0]))
        ref_fn = tp.jit(tp.vmap(tp.grad(branchy))) if name == "branchy_grad" else tp.jit(selu)
        ref = ref_fn(*(a[:k] for a in host[name]))
        same = np.allclose(out.copy_to_host()[:k], ref, rtol=1e-9, atol=1e-12)   # GPU libdevice vs libm
        t_call = median_time(lambda: fn(*args), repeat, cuda.synchronize)
        t_kernel = kernel_time(cuda, kernel_launch(cuda, fn, args), repeat)
        t_jax = None
        if jfn is not None:
            jax, jnp = jaxmods
            jargs = tuple(jnp.asarray(a) for a in host[name])
            jout = np.asarray(jfn(*jargs).block_until_ready())
            same &= np.allclose(out.copy_to_host(), jout, rtol=1e-9, atol=1e-12)
            t_jax = median_time(lambda: jfn(*jargs).block_until_ready(), repeat, lambda: None)
        bw = None if t_kernel is None else moved[name] / t_kernel
        ok &= bool(same)
        rows.append([name, f"{len(host[name][0]):.0e}", fmt(first), fmt(t_call), fmt(t_kernel), fmt(t_jax),
                     ratio(t_jax, t_call), gbs(bw), pct(bw, peak), pct(bw, copy_bw),
                     "ok" if same else "MISMATCH"])
    _table(["workload", "n", "tp 1st call", "tp call", "tp kernel", "jax call", "jax/tp",
           "kernel bw", "of peak", "of copy", "result"], rows)
    print(f"  peak bandwidth: {gbs(peak)} ({how}); device-to-device copy measured: {gbs(copy_bw)}")
    print("  jax/tp above 1: tp faster; 'of peak' and 'of copy' are the kernel's bytes moved / time "
          "(selu: 8 B read + 8 B written per element; branchy_grad: 16 B read + 8 B written)")
    if jaxmods is None and not sim:
        print("  JAX with a GPU backend is not installed: no JAX column (pip install 'jax[cuda12]')")
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--n-branchy", type=float, default=1e7)
    ap.add_argument("--n-selu", type=float, default=1e8)
    ap.add_argument("--sim-smoke", action="store_true",
                    help="run the benchmark's code on tiny sizes under the CUDA simulator")
    ns = ap.parse_args(argv)
    if ns.sim_smoke:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        from numba.cuda.core import config
        if not config.ENABLE_CUDASIM:
            print("--sim-smoke: numba.cuda was already imported without the simulator")
            return 1
        print("# CUDA simulator smoke run (tiny sizes; times mean nothing)")
        return run(64, 256, 2, sim=True)
    try:
        from numba import cuda
    except ImportError as exc:
        print(f"numba-cuda is not installed ({exc}): nothing to benchmark (pip install -e '.[cuda]')")
        return 0
    if not cuda.is_available():
        print("no CUDA GPU is available here: this benchmark needs one (try --sim-smoke to check "
              "that its code runs)")
        return 0
    dev = cuda.get_current_device()
    import numba
    import transpile as tp
    print(f"# {dev.name.decode() if isinstance(dev.name, bytes) else dev.name}, compute capability "
          f"{dev.compute_capability}, Numba {numba.__version__}, transpile {tp.__version__}, float64")
    return run(int(ns.n_branchy), int(ns.n_selu), ns.repeat, sim=False)


if __name__ == "__main__":
    sys.exit(main())
