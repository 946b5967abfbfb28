"""NumPy 2's rules for Python numbers (NEP 50), for code compiled by Numba.

NumPy 2 treats a Python `int`, `float` or `complex` as *weak*: it takes the
dtype of the array or NumPy scalar it meets (`x * 2.0` stays float32 for a
float32 `x`). Numba types every Python float as float64 and every Python int
as int64, so the same line gives float64 there. Python ints are unbounded;
Numba's wrap at 64 bits.

The `nep50` pass (transpile/transforms/nep50.py) knows which operands of each
operation are Python numbers in the user's program and routes the operation
through one of these helpers::

    x * 2.0          ->  nep50.mul_r(x, 2.0, 'f.py:3')      # right operand a Python number
    2 ** x           ->  nep50.pow_l(2, x, 'f.py:4')        # left operand a Python number
    n * n            ->  nep50.mul_py(n, n, 'f.py:5')       # both Python ints: overflow checked
    np.maximum(x, 0.0) -> nep50.maximum_r(x, 0.0, 'f.py:6')
    np.where(c, x, 0.0) -> nep50.where_r(c, x, 0.0, 'f.py:7')
    x += 0.1         ->  x += nep50.add_inplace(x, 0.1, 'f.py:8')  # in place: the operand, cast

Run by NumPy (backend 'python') each helper is the plain operation: NumPy and
Python already behave this way. `runtime.numba_nep50` gives the Numba
implementations, which cast the Python number to the dtype NumPy would use
(and check the range of a Python int cast to a narrower integer, raising
NumPy's OverflowError), and check Python int arithmetic for overflow
(`OverflowError`, where Python would give a bigger int).
"""
import operator

import numpy as np

from .errors import CheckError

# helper stem -> (the Python operator, the NumPy ufunc behind it)
OPERATORS = {
    "add": (operator.add, np.add), "sub": (operator.sub, np.subtract),
    "mul": (operator.mul, np.multiply), "truediv": (operator.truediv, np.true_divide),
    "floordiv": (operator.floordiv, np.floor_divide), "mod": (operator.mod, np.remainder),
    "pow": (operator.pow, np.power), "lshift": (operator.lshift, np.left_shift),
    "rshift": (operator.rshift, np.right_shift), "and": (operator.and_, np.bitwise_and),
    "or": (operator.or_, np.bitwise_or), "xor": (operator.xor, np.bitwise_xor),
    "lt": (operator.lt, np.less), "le": (operator.le, np.less_equal),
    "gt": (operator.gt, np.greater), "ge": (operator.ge, np.greater_equal),
    "eq": (operator.eq, np.equal), "ne": (operator.ne, np.not_equal),
}
COMPARISONS = frozenset(("lt", "le", "gt", "ge", "eq", "ne"))
# Binary ufuncs called as functions, `np.maximum(x, 0.0)`: helper stem -> ufunc.
UFUNCS = {u.__name__: u for u in (
    np.add, np.subtract, np.multiply, np.divide, np.floor_divide, np.remainder, np.fmod,
    np.power, np.maximum, np.minimum, np.fmax, np.fmin, np.arctan2, np.hypot, np.copysign,
    np.logaddexp, np.logaddexp2, np.greater, np.greater_equal, np.less, np.less_equal,
    np.equal, np.not_equal, np.logical_and, np.logical_or, np.logical_xor, np.nextafter)}
# Python int arithmetic that can overflow 64 bits (checked in `*_py`).
INT_CHECKED = ("add", "sub", "mul", "pow", "lshift")

__all__ = []


def _define(name, fn):
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    globals()[name] = fn
    __all__.append(name)
    return fn


def _binary(op):
    return lambda a, b, where: op(a, b)


for _stem, (_op, _uf) in OPERATORS.items():
    _define(_stem + "_l", _binary(_op))     # the left operand is a Python number
    _define(_stem + "_r", _binary(_op))     # the right operand is a Python number
    if _stem in INT_CHECKED:
        _define(_stem + "_py", _binary(_op))    # both are Python numbers
    if _stem not in COMPARISONS:
        # `a op= b`, b a Python number: b as NumPy would convert it for `a op b`
        _define(_stem + "_inplace", lambda a, b, where: b)
    # `a op b` with one operand a Python number: that operand as NumPy converts it
    # (`a` or `b` may be a probe: an expression of the other operand's type)
    _define(_stem + "_lhs", lambda a, b, where: a)
    _define(_stem + "_rhs", lambda a, b, where: b)
for _stem, _uf in UFUNCS.items():
    _define(_stem + "_l", _binary(_uf))
    _define(_stem + "_r", _binary(_uf))
    _define(_stem + "_lhs", lambda a, b, where: a)
    _define(_stem + "_rhs", lambda a, b, where: b)


# `a op b` where an operand may be a list, tuple or str (an item of a list that is
# not a literal of numbers): Python's operator for those, NumPy's ufunc for
# arrays and numbers (compiled, Numba's operator computes bool + bool as an int)
for _stem, (_op, _uf) in OPERATORS.items():
    if _stem not in COMPARISONS:
        _define(_stem + "_any", _binary(_op))


# `a op= b`, `a` a local holding a NumPy value: in place for an array, else
# `a op b` settled to NumPy's dtype (a compiled int8 `t += v` computes in int64)
INPLACE = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lshift", "rshift", "and", "or", "xor")
for _stem in INPLACE:
    _define(_stem + "_iop", (lambda iop: lambda a, b, where: iop(a, b))(
        getattr(operator, "i" + OPERATORS[_stem][0].__name__.strip("_"))))


# `-x`, `~x`, `+x` as ufuncs (an operation inside an array expression: its ufunc form)
UNARY = {"negative": np.negative, "invert": np.invert, "positive": np.positive}


# `a op b` (or `op a`), NumPy values: its result, settled to NumPy's dtype
# (`weak`: the index of an operand that was a Python number, or -1)
for _stem in OPERATORS:
    if _stem not in COMPARISONS:
        _define(_stem + "_settle", lambda r, a, b, weak, where: r)
for _stem in UNARY:
    _define(_stem + "_settle1", lambda r, a, where: r)
# `a op b`, NumPy values: an array operand converted to the dtype NumPy computes in
# (`x * t`, float32 `x`, t = np.int64(2): `x.astype(np.float64)`); `b` a probe of the other
for _stem in OPERATORS:
    _define(_stem + "_promote_l", lambda a, b, fixed, where: a)    # fixed: whether the other
    _define(_stem + "_promote_r", lambda a, b, fixed, where: b)    # operand is promoted too


def narrow(x, result, name, where):
    """`x`, an operand of an operation inside an array expression whose
    result is `result` (a probe): compiled, a TranspileWarning where that
    is a signed integer narrower than 64 bits (NumPy wraps on overflow;
    under Numba the value is undefined there)."""
    return x


__all__ += ["narrow"]


def ufunc_arg(x, name, where):
    """`x`, the operand of `np.<name>(x)`: compiled, an error where NumPy
    computes that in float16 (Numba has none) or rejects it."""
    return x


__all__ += ["ufunc_arg"]


def ufunc_promote(a, b, index, name, fixed, where):
    """`(a, b)[index]`, an operand of `np.<name>(a, b)`, as `*_promote_l/r`."""
    return (a, b)[index]


def ufunc_settle2(r, a, b, name, where):
    """`np.<name>(a, b)` (its result `r`) settled to NumPy's dtype, as `*_settle`."""
    return r


__all__ += ["ufunc_promote", "ufunc_settle2"]


def ufunc_settle(r, a, name, where):
    """`np.<name>(a)` (its result `r`) settled to NumPy's dtype, as `*_settle`."""
    return r


__all__ += ["ufunc_settle"]


def probe(x):
    """Compiled: an empty array of `x`'s dtype and ndim (a number: itself), so
    that an expression over probes has the type of the expression over the
    values at almost no cost."""
    return x


def probe_index(x, k):
    """Compiled: `probe(x[i1, ..., ik])` for k integer indices."""
    return x


__all__ += ["probe", "probe_index"]


def typed(template, *leaves):
    """Compiled: a value of the type of `template`, an expression over
    `leaves` (`_0`, `_1`, ...: `nep50.probe(_0) * nep50.mul_rhs(...)`),
    found while Numba types the call (each operation resolved as Numba
    types it); no operation runs and the value is a placeholder (zeros, an
    empty array), which the helpers given it never read. One call stands
    for a whole probe expression, which would otherwise be compiled and
    computed over empty arrays."""
    names = {f"_{k}": v for k, v in enumerate(leaves)}
    return eval(template, {"np": np, "nep50": _this()}, names)


def _this():
    import sys
    return sys.modules[__name__]


__all__ += ["typed"]


class JitDifferenceError(CheckError, TypeError):
    """Compiled code would compute another dtype (or other values) than NumPy
    here: the generated code refuses, when it runs, at the user's line."""


# A local assigned a Python number on some paths and NumPy values on others
# (`total = 0`, then `total += x[i]`) is *mixed*: NumPy changes its type as the
# program runs, Numba gives it one type (per assignment, merged where paths
# join: `total` is int64 for an int8 `x`, where NumPy makes it int8). Compiled,
# these check that the difference does not show, and raise JitDifferenceError
# where it would.
def mixed(m, other, kinds, op, left, name, where):
    """`m`, the value of mixed local(s) `name` (Python numbers of `kinds`:
    'i', 'f', 'b', 'c'), an operand of `op` (a helper stem: 'add', 'lt',
    'maximum', ...) with `other` (a probe; `m` is the left operand if `left`):
    compiled, an error where NumPy's result dtype with `m` a Python number
    differs from the one with `m` of its Numba type."""
    return m


def mixed_of(o, m, kinds, op, left, name, where):
    """`o`, the operand of `op` that is not the mixed local's value `m`
    (a probe): as `mixed`."""
    return o


def mixed_unary(m, kinds, op, name, where):
    """`m`, the value of mixed local(s) `name`, the operand of the ufunc `op`
    (`np.abs(s)`): compiled, an error where NumPy's result dtype with `m` a
    Python number (np.abs(1.0) is float64) differs from Numba's."""
    return m


def mixed_bound(t, weak, name, where):
    """After a mixed local `name` is assigned a NumPy value `t`: compiled, an
    error where that value's type, merged with the Numba types of its Python
    numbers (`weak`: 'int64,float32'), as Numba merges them where paths
    join, is another type (an int8 with a Python int: int64, where NumPy
    keeps int8). Returns `t`."""
    return t


def builtin_max(a, b, where):
    """Python's `max(a, b)`: one of them, unchanged (compiled: an error where
    their types differ, which Numba would convert both to)."""
    return max(a, b)


def builtin_min(a, b, where):
    """Python's `min(a, b)`, as `builtin_max`."""
    return min(a, b)


__all__ += ["JitDifferenceError", "mixed", "mixed_of", "mixed_unary", "mixed_bound", "builtin_max", "builtin_min"]


def _where_l(c, a, b, where):
    return np.where(c, a, b)


_define("where_l", _where_l)      # the second argument is a Python number
_define("where_r", lambda c, a, b, where: np.where(c, a, b))   # the third is


def _convert(v, conversion):
    return repr(v) if conversion == "r" else ascii(v) if conversion == "a" else str(v) if conversion == "s" else v


def format_py(v, spec, conversion):
    """`f"{v:spec}"` (`conversion` '', 's', 'r' or 'a'), `v` a Python number or str."""
    return format(_convert(v, conversion), spec)


def format_np(v, spec, conversion):
    """`f"{v:spec}"`, `v` a NumPy value (array or scalar) or anything else."""
    return format(_convert(v, conversion), spec)


__all__ += ["format_py", "format_np"]
