"""runtime/cuda_device.py: every name the compiler's tables name exists, and
the helpers give NumPy's numbers, edge cases included (NaN, infinities,
signed zeros, ties), computed by a kernel (on a GPU, or the simulator)."""
import math

import numpy as np
import pytest

from transpile.codegen import cuda_tables

cuda = pytest.importorskip("numba.cuda")     # a module global: the simulator swaps it in kernels

VALUES = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 1e300, -np.inf, np.inf, np.nan,
                   4503599627370497.0])
SECOND = np.array([1.0, np.nan, -np.inf, 0.5, -0.0])


def test_every_table_entry_exists():
    from runtime import cuda_device
    for name in cuda_tables.DEVICE.values():
        assert callable(getattr(cuda_device, name)), name
    for name in cuda_tables.MATH.values():
        assert callable(getattr(math, name)), name


def _kernel(helper, nargs):
    if nargs == 1:
        @cuda.jit
        def k(a, out):
            i = cuda.grid(1)
            if i < out.shape[0]:
                out[i] = helper(a[i])
    else:
        @cuda.jit
        def k(a, b, out):
            i = cuda.grid(1)
            if i < out.shape[0]:
                out[i] = helper(a[i], b[i])
    return k


@pytest.mark.parametrize("name, ref, nargs", [
    ("floor", np.floor, 1), ("ceil", np.ceil, 1), ("trunc", np.trunc, 1), ("rint", np.rint, 1),
    ("sign", np.sign, 1), ("maximum", np.maximum, 2), ("minimum", np.minimum, 2),
    ("fmax", np.fmax, 2), ("fmin", np.fmin, 2), ("heaviside", np.heaviside, 2),
    ("logaddexp", np.logaddexp, 2),
])
def test_helpers_match_numpy(name, ref, nargs):
    from runtime import cuda_device
    if nargs == 1:
        args = (VALUES,)
    else:
        a, b = np.meshgrid(VALUES, SECOND)
        args = (a.ravel(), b.ravel())
    out = np.empty(args[0].size)
    _kernel(getattr(cuda_device, name), nargs)[1, out.size](*args, out)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = ref(*args)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))
