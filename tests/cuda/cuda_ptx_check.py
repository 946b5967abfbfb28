"""Compile the CUDA backend's generated kernels for a real GPU (PTX, compute
capability 9.0), without a GPU: what the CUDA simulator cannot check
(Numba-CUDA's typing: `np.exp` on a number, `np.zeros` in a kernel, ...).

Run as a script in a process of its own (test_cuda_ptx.py does), since the
simulator, once chosen, replaces numba.cuda for the whole process. Needs
libNVVM and libNVRTC (the CUDA toolkit, or the nvidia-cuda-nvcc /
nvidia-cuda-nvrtc wheels); prints `SKIP <reason>` when they are missing.
numba-cuda asks the driver for the device's compute capability when a
kernel calls another jitted function; with no driver, that one call is
answered with (9, 0) (NUMBA_FACTS.md, "GPU-less compile check").

Output: one `OK <kernel> <output dtypes> <PTX bytes>` line per kernel.
"""
import os
import sys
import time
import traceback
from types import SimpleNamespace

os.environ["NUMBA_ENABLE_CUDASIM"] = "0"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import numba  # noqa: E402
from numba import cuda  # noqa: E402

import transpile as tp  # noqa: E402
import cuda_examples as ex  # noqa: E402

CC = (9, 0)


def toolchain_reason():
    """None when compile_ptx works here, else why not."""
    def k(x):
        x[0] = 1.0
    try:
        cuda.compile_ptx(k, (numba.float64[::1],), cc=CC)
    except Exception as exc:        # libNVVM / libNVRTC not found
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def cases():
    x = np.linspace(-1, 2, 6)
    y = np.linspace(1, 2, 6)
    keys = tp.random.split(tp.random.PRNGKey(0), 6)
    w = np.ones((6, 3))
    return [
        (tp.jit(ex.selu, backend="cuda"), (x,)),
        (tp.jit(ex.inner, backend="cuda"), (x, 0.5)),
        (tp.jit(ex.ufuncs, backend="cuda"), (x, y)),
        (tp.jit(tp.vmap(ex.branchy), backend="cuda"), (x, y)),
        (tp.jit(tp.vmap(tp.grad(ex.branchy, argnums=(0, 1))), backend="cuda"), (x, y)),
        (tp.jit(tp.vmap(ex.jvp_inner), backend="cuda"), (x, y)),
        (tp.jit(tp.vmap(ex.newton_sqrt), backend="cuda"), (x,)),
        (tp.jit(tp.vmap(ex.rowdot, in_axes=(0, 1)), backend="cuda"), (w, w.T.copy())),
        (tp.jit(tp.vmap(ex.local_buffer), backend="cuda"), (x,)),
        (tp.jit(tp.vmap(ex.draw), backend="cuda"), (keys, y)),
        (tp.jit(tp.vmap(ex.draw32), backend="cuda"), (keys,)),
    ]


def kernel_args(gen, args):
    """The kernel's inputs as the launcher passes them (element-wise: flat)."""
    plan = gen.program.cuda_plan
    values = [args[i] for i in gen.dyn_index] + [h.getter() for h in gen.hidden]
    if plan.kind == "elementwise":
        n = int(np.prod(np.broadcast_shapes(*(np.shape(v) for v in values))))
        values = [np.ascontiguousarray(np.broadcast_to(v, (n,))) if np.ndim(v) else v for v in values]
    return values


def main():
    reason = toolchain_reason()
    if reason is not None:
        print(f"SKIP no CUDA compiler libraries ({reason})")
        return 0
    import numba.cuda.dispatcher as dispatcher
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=CC)
    failed = 0
    for jitted, args in cases():
        try:
            gen = jitted.generated(*args)
            values = kernel_args(gen, args)
            t = time.perf_counter()
            dtypes = gen.entry._typed(values)       # the launcher's real-target typing
            sig = tuple(numba.typeof(v) for v in values) + tuple(
                numba.types.Array(numba.from_dtype(d), 1, "C") for d in dtypes)
            kernel = getattr(gen.module, gen.program.cuda_plan.kernel)
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=CC)
            print(f"OK {gen.program.cuda_plan.kernel} {','.join(d.name for d in dtypes)} {len(ptx)} "
                  f"{time.perf_counter() - t:.2f}s")
        except Exception:
            failed += 1
            print(f"FAIL {jitted!r}")
            traceback.print_exc(file=sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
