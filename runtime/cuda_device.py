"""Device versions of what per-example generated code calls, for the CUDA
backend (`tp.jit(..., backend="cuda")`, see transpile/codegen/numba_cuda.py).

Generated device code works on numbers: NumPy's element-wise functions
become `math.*` or the helpers here, and AD's bookkeeping helpers
(`zeros_like`, `unbroadcast`, `tangent.unit`, ...) are inlined by the
compiler. What is left are the functions whose NumPy meaning is not one
`math` call (NaN rules of `maximum`, `np.floor` returning a float) and the
one whose implementation differs between the CUDA simulator and a real GPU:
`elem(x, i)` is `x[i]` for an array and `x` for a number (the element-wise
kernel of a scalar function takes either).

Every helper is a `cuda.jit(device=True)` function or, where the real
target needs a type-directed implementation, a Python function (what the
simulator runs) with a Numba-CUDA overload. This module must not import
anything from `transpile`.
"""
import math

from numba import cuda
from numba.cuda.core import config

SIMULATOR = bool(config.ENABLE_CUDASIM)

__all__ = ["SIMULATOR", "elem", "where", "maximum", "minimum", "fmax", "fmin", "sign",
           "clip", "floor", "ceil", "trunc", "rint", "heaviside", "logaddexp", "tie_weight",
           "safe_log", "square", "reciprocal", "exp2", "power"]


def _device(fn):
    return cuda.jit(device=True)(fn)


# ---- a simulator and a GPU implementation ----

def elem(x, i):
    """`x[i]` when `x` is an array, else `x` (a number broadcast to every thread)."""
    return x[i] if getattr(x, "ndim", 0) else x


if not SIMULATOR:
    from numba.cuda import types
    from numba.cuda.extending import overload

    @overload(elem, target="cuda")
    def _elem(x, i):
        if isinstance(x, types.Array):
            return lambda x, i: x[i]
        return lambda x, i: x


# ---- NumPy's element-wise functions on numbers, where `math` has no twin ----

@_device
def where(condition, x, y):
    """`np.where` on numbers."""
    return x if condition else y


@_device
def maximum(x1, x2):
    """`np.maximum`: NaN when either is NaN (and x2 when they are equal, as NumPy)."""
    return x1 if x1 > x2 or x1 != x1 else x2


@_device
def minimum(x1, x2):
    """`np.minimum`: NaN when either is NaN (and x2 when they are equal)."""
    return x1 if x1 < x2 or x1 != x1 else x2


@_device
def fmax(x1, x2):
    """`np.fmax`: NaN only when both are NaN (x2 when they are equal, as NumPy's arrays)."""
    return x1 if x1 > x2 or x2 != x2 else x2


@_device
def fmin(x1, x2):
    """`np.fmin`: NaN only when both are NaN (x2 when they are equal)."""
    return x1 if x1 < x2 or x2 != x2 else x2


@_device
def sign(x):
    """`np.sign` of a number (NaN for NaN)."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    if x == 0:
        return 0.0
    return x + 0.0


@_device
def clip(a, a_min, a_max):
    """`np.clip` of a number."""
    return minimum(maximum(a, a_min), a_max)


@_device
def _integral(x):
    """Whether `x` is NaN, infinite or an integer already (|x| >= 2**52)."""
    return x != x or abs(x) >= 4503599627370496.0


@_device
def floor(x):
    """`np.floor`: a float (math.floor gives an int), -0.0 kept."""
    return x + 0.0 if _integral(x) else math.copysign(float(math.floor(x)), x)


@_device
def ceil(x):
    """`np.ceil`: a float."""
    return x + 0.0 if _integral(x) else math.copysign(float(math.ceil(x)), x)


@_device
def trunc(x):
    """`np.trunc`: a float."""
    return x + 0.0 if _integral(x) else math.copysign(float(math.trunc(x)), x)


@_device
def rint(x):
    """`np.rint`: the nearest integer, ties to even, as a float."""
    if _integral(x):
        return x + 0.0
    f = float(math.floor(x))
    d = x - f
    if d > 0.5 or (d == 0.5 and f % 2.0 != 0.0):
        f = f + 1.0
    return math.copysign(f, x)


@_device
def heaviside(x1, x2):
    """`np.heaviside` of numbers."""
    if x1 != x1:
        return x1 + 0.0
    if x1 < 0:
        return 0.0
    if x1 > 0:
        return 1.0
    return x2 * 1.0


@_device
def logaddexp(x1, x2):
    """`np.logaddexp`: log(exp(x1) + exp(x2)) without overflow."""
    if x1 == x2:
        return x1 + math.log(2.0)
    m = x1 if x1 > x2 else x2
    d = -abs(x1 - x2)
    if d != d:
        return x1 + x2
    return m + math.log1p(math.exp(d))


@_device
def square(x):
    return x * x


@_device
def reciprocal(x):
    return 1.0 / x


@_device
def exp2(x):
    return math.pow(2.0, x)


@_device
def power(x1, x2):
    """`np.power` / `**` of numbers."""
    return x1 ** x2


# ---- AD helpers that are more than a constant or a cast ----

@_device
def tie_weight(x, y):
    """1.0 where x > y, 0.5 where x == y, else 0.0 (`runtime.adjoint.tie_weight`)."""
    if x > y:
        return 1.0
    if x == y:
        return 0.5
    return 0.0


@_device
def safe_log(x):
    """log(x) for x > 0, 0.0 at 0, NaN below (`runtime.adjoint.safe_log`)."""
    if x > 0:
        return math.log(x)
    if x == 0:
        return 0.0
    return math.nan
