"""Adjoint templates of scalar functions: the ``math`` module and the
builtins ``abs``, ``max``/``min`` of two numbers and ``float``.

Inputs are Python or NumPy floats (``abs`` also takes arrays); ``max``/``min``
split a tie evenly, like JAX.  See :mod:`runtime.rules` for the template
format.
"""
import builtins
import math

import numpy as np

from runtime.adjoint import safe_log, tie_weight
from runtime.rules.registry import adjoint, d, nondifferentiable, pointwise

# ---- math module ----


@adjoint(math.exp)
def math_exp(g, ans, x):
    d[x] = g * ans


@adjoint(math.expm1)
def math_expm1(g, ans, x):
    d[x] = g * (ans + 1.0)


@adjoint(math.log)
def math_log(g, ans, x, base=math.e):
    d[x] = g / (x * math.log(base))
    d[base] = -g * ans / (base * math.log(base))


@adjoint(math.log1p)
def math_log1p(g, ans, x):
    d[x] = g / (1.0 + x)


@adjoint(math.log2)
def math_log2(g, ans, x):
    d[x] = g / (x * math.log(2.0))


@adjoint(math.log10)
def math_log10(g, ans, x):
    d[x] = g / (x * math.log(10.0))


@adjoint(math.sqrt)
def math_sqrt(g, ans, x):
    d[x] = g * 0.5 / ans


@adjoint(math.pow)
def math_pow(g, ans, x, y):
    d[x] = g * y * np.power(x, y - np.not_equal(y, 0))
    d[y] = g * ans * safe_log(x)


@adjoint(math.sin)
def math_sin(g, ans, x):
    d[x] = g * math.cos(x)


@adjoint(math.cos)
def math_cos(g, ans, x):
    d[x] = -g * math.sin(x)


@adjoint(math.tan)
def math_tan(g, ans, x):
    d[x] = g * (1.0 + ans * ans)


@adjoint(math.asin)
def math_asin(g, ans, x):
    d[x] = g / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def math_acos(g, ans, x):
    d[x] = -g / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def math_atan(g, ans, x):
    d[x] = g / (1.0 + x * x)


@adjoint(math.atan2)
def math_atan2(g, ans, y, x):
    d[y] = g * x / (x * x + y * y)
    d[x] = -g * y / (x * x + y * y)


@adjoint(math.sinh)
def math_sinh(g, ans, x):
    d[x] = g * math.cosh(x)


@adjoint(math.cosh)
def math_cosh(g, ans, x):
    d[x] = g * math.sinh(x)


@adjoint(math.tanh)
def math_tanh(g, ans, x):
    d[x] = g * (1.0 - ans * ans)


@adjoint(math.asinh)
def math_asinh(g, ans, x):
    d[x] = g / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def math_acosh(g, ans, x):
    d[x] = g / math.sqrt(x * x - 1.0)


@adjoint(math.atanh)
def math_atanh(g, ans, x):
    d[x] = g / (1.0 - x * x)


@adjoint(math.erf)
def math_erf(g, ans, x):
    d[x] = g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.erfc)
def math_erfc(g, ans, x):
    d[x] = -g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.hypot)
def math_hypot(g, ans, x, y):
    d[x] = g * x / ans
    d[y] = g * y / ans


@adjoint(math.degrees)
def math_degrees(g, ans, x):
    d[x] = g * (180.0 / math.pi)


@adjoint(math.radians)
def math_radians(g, ans, x):
    d[x] = g * (math.pi / 180.0)


# ---- Builtins ----


@adjoint(math.fabs, builtins.abs)
def math_fabs(g, ans, x):
    d[x] = g * np.sign(x)


@adjoint(builtins.max)
def builtin_max(g, ans, a, b):
    d[a] = g * tie_weight(a, b)
    d[b] = g * tie_weight(b, a)


@adjoint(builtins.min)
def builtin_min(g, ans, a, b):
    d[a] = g * tie_weight(b, a)
    d[b] = g * tie_weight(a, b)


@adjoint(builtins.float)
def builtin_float(g, ans, x):
    d[x] = g


# ---- Non-differentiable ----

nondifferentiable(
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf,
    math.isfinite, math.isclose, math.factorial,
    builtins.round, builtins.int, builtins.bool, builtins.len,
)

# Every template above is pointwise-linear in g: forward mode derives its
# tangent (the same factor times the argument's tangent).
pointwise(*[v for v in list(globals().values()) if hasattr(v, 'differentiates')])
