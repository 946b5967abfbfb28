"""Adjoint templates of element-wise NumPy functions (ufuncs, clip, where)
and of the builtin ``pow``; the ``math`` module and the other scalar builtins
are in :mod:`runtime.rules.scalar`.

Binary rules undo broadcasting with ``unbroadcast``; unary rules keep the
shape of their argument.  ``max``/``min``/``clip`` split the cotangent of a
tie evenly (0.5 each), like JAX.  See :mod:`runtime.rules` for the template
format.
"""
import builtins
import math

import numpy as np

from runtime.adjoint import safe_log, tie_weight, unbroadcast
from runtime.rules.registry import adjoint, d, nondifferentiable, pointwise

# ---- Binary ufuncs ----


@adjoint(np.add)
def add(g, ans, x1, x2):
    d[x1] = unbroadcast(g, x1)
    d[x2] = unbroadcast(g, x2)


@adjoint(np.subtract)
def subtract(g, ans, x1, x2):
    d[x1] = unbroadcast(g, x1)
    d[x2] = unbroadcast(-g, x2)


@adjoint(np.multiply)
def multiply(g, ans, x1, x2):
    d[x1] = unbroadcast(g * x2, x1)
    d[x2] = unbroadcast(g * x1, x2)


@adjoint(np.true_divide)
def true_divide(g, ans, x1, x2):
    d[x1] = unbroadcast(g / x2, x1)
    d[x2] = unbroadcast(-g * ans / x2, x2)


@adjoint(np.power)
def power(g, ans, x1, x2):
    # x2 * x1 ** (x2 - 1), and 0 where x2 == 0 (x ** 0 is constant, even at
    # x == 0): there the exponent is 0 instead of -1
    d[x1] = unbroadcast(g * x2 * np.power(x1, x2 - np.not_equal(x2, 0)), x1)
    d[x2] = unbroadcast(g * ans * safe_log(x1), x2)


@adjoint(builtins.pow)
def pow(g, ans, base, exp):
    d[base] = unbroadcast(
        g * exp * np.power(base, exp - np.not_equal(exp, 0)), base)
    d[exp] = unbroadcast(g * ans * safe_log(base), exp)


@adjoint(np.maximum, np.fmax)
def maximum(g, ans, x1, x2):
    d[x1] = unbroadcast(g * tie_weight(x1, x2), x1)
    d[x2] = unbroadcast(g * tie_weight(x2, x1), x2)


@adjoint(np.minimum, np.fmin)
def minimum(g, ans, x1, x2):
    d[x1] = unbroadcast(g * tie_weight(x2, x1), x1)
    d[x2] = unbroadcast(g * tie_weight(x1, x2), x2)


@adjoint(np.arctan2)
def arctan2(g, ans, x1, x2):
    d[x1] = unbroadcast(g * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] = unbroadcast(-g * x1 / (x1 * x1 + x2 * x2), x2)


@adjoint(np.hypot)
def hypot(g, ans, x1, x2):
    d[x1] = unbroadcast(g * x1 / ans, x1)
    d[x2] = unbroadcast(g * x2 / ans, x2)


@adjoint(np.logaddexp)
def logaddexp(g, ans, x1, x2):
    d[x1] = unbroadcast(g * np.exp(x1 - ans), x1)
    d[x2] = unbroadcast(g * np.exp(x2 - ans), x2)


@adjoint(np.remainder)
def remainder(g, ans, x1, x2):
    d[x1] = unbroadcast(g, x1)
    d[x2] = unbroadcast(-g * np.floor_divide(x1, x2), x2)


@adjoint(np.fmod)
def fmod(g, ans, x1, x2):
    d[x1] = unbroadcast(g, x1)
    d[x2] = unbroadcast(-g * np.trunc(x1 / x2), x2)


# ---- Unary ufuncs ----


@adjoint(np.negative)
def negative(g, ans, x):
    d[x] = -g


@adjoint(np.positive)
def positive(g, ans, x):
    d[x] = g


@adjoint(np.absolute, np.fabs)
def absolute(g, ans, x):
    d[x] = g * np.sign(x)


@adjoint(np.square)
def square(g, ans, x):
    d[x] = g * 2.0 * x


@adjoint(np.reciprocal)
def reciprocal(g, ans, x):
    d[x] = -g * ans * ans


@adjoint(np.sqrt)
def sqrt(g, ans, x):
    d[x] = g * 0.5 / ans


@adjoint(np.cbrt)
def cbrt(g, ans, x):
    d[x] = g / (3.0 * ans * ans)


@adjoint(np.exp)
def exp(g, ans, x):
    d[x] = g * ans


@adjoint(np.exp2)
def exp2(g, ans, x):
    d[x] = g * ans * math.log(2.0)


@adjoint(np.expm1)
def expm1(g, ans, x):
    d[x] = g * (ans + 1.0)


@adjoint(np.log)
def log(g, ans, x):
    d[x] = g / x


@adjoint(np.log2)
def log2(g, ans, x):
    d[x] = g / (x * math.log(2.0))


@adjoint(np.log10)
def log10(g, ans, x):
    d[x] = g / (x * math.log(10.0))


@adjoint(np.log1p)
def log1p(g, ans, x):
    d[x] = g / (1.0 + x)


@adjoint(np.sin)
def sin(g, ans, x):
    d[x] = g * np.cos(x)


@adjoint(np.cos)
def cos(g, ans, x):
    d[x] = -g * np.sin(x)


@adjoint(np.tan)
def tan(g, ans, x):
    d[x] = g * (1.0 + ans * ans)


@adjoint(np.arcsin)
def arcsin(g, ans, x):
    d[x] = g / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(g, ans, x):
    d[x] = -g / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(g, ans, x):
    d[x] = g / (1.0 + x * x)


@adjoint(np.sinh)
def sinh(g, ans, x):
    d[x] = g * np.cosh(x)


@adjoint(np.cosh)
def cosh(g, ans, x):
    d[x] = g * np.sinh(x)


@adjoint(np.tanh)
def tanh(g, ans, x):
    d[x] = g * (1.0 - ans * ans)


@adjoint(np.arcsinh)
def arcsinh(g, ans, x):
    d[x] = g / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def arccosh(g, ans, x):
    d[x] = g / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def arctanh(g, ans, x):
    d[x] = g / (1.0 - x * x)


@adjoint(np.deg2rad, np.radians)
def deg2rad(g, ans, x):
    d[x] = g * (math.pi / 180.0)


@adjoint(np.rad2deg, np.degrees)
def rad2deg(g, ans, x):
    d[x] = g * (180.0 / math.pi)


# ---- Selection ----


@adjoint(np.clip)
def clip(g, ans, a, a_min=None, a_max=None, out=None):
    # ans = minimum(maximum(a, a_min), a_max); a bound of None is absent
    d[a] = unbroadcast(g * tie_weight(a, a_min) * tie_weight(a_max, a), a)
    d[a_min] = unbroadcast(
        g * tie_weight(a_min, a) * tie_weight(a_max, a_min), a_min)
    d[a_max] = unbroadcast(g * tie_weight(a, a_max), a_max)


@adjoint(np.where)
def where(g, ans, condition, x, y):
    d[x] = unbroadcast(np.where(condition, g, 0.0), x)
    d[y] = unbroadcast(np.where(condition, 0.0, g), y)


# ---- Non-differentiable ----

nondifferentiable(
    np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc,
    np.fix, np.floor_divide, np.signbit, np.spacing,
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal,
    np.not_equal, np.logical_and, np.logical_or, np.logical_not,
    np.logical_xor, np.isnan, np.isinf, np.isfinite, np.isclose,
    np.allclose, np.array_equal, np.bitwise_and, np.bitwise_or,
    np.bitwise_xor, np.invert, np.left_shift, np.right_shift, np.gcd,
    np.lcm,
)

# Every template above is pointwise-linear in g: forward mode derives its
# tangent (the same factor times the argument's tangent).
pointwise(*[v for v in list(globals().values()) if hasattr(v, 'differentiates')])
