"""Numba implementations of `runtime.checks` (inlined into generated code).

The error branch builds its message only when taken, so the check costs a
compare and a branch in a compiled loop (measured: same time as Numba's own
`boundscheck=True`).
"""
import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from . import checks, npx

_INT = (types.Integer,)


def _is_int(t):
    return isinstance(t, types.Integer) and not isinstance(t, types.Boolean)


@njit
def _check_int_array(i, size, axis, where):
    """Bounds of an integer index array (not inlined: Numba 0.68 fails to inline this body twice
    into one statement, `A[check_index(i, ...), check_index(j, ...)]`)."""
    if i.size > 0:
        lo = i.min()
        hi = i.max()
        if lo < -size or hi >= size:
            bad = lo if lo < -size else hi
            raise IndexError("index " + str(bad) + " is out of bounds for axis " + str(axis)
                             + " with size " + str(size) + " (at " + where + ")")


@overload(checks.check_index, inline="always")
def _check_index(i, a, axis, where):
    if not isinstance(a, types.Array):
        return lambda i, a, axis, where: i
    if _is_int(i):
        def impl(i, a, axis, where):
            if axis < a.ndim:
                size = a.shape[axis]
                if i < -size or i >= size:
                    raise IndexError("index " + str(i) + " is out of bounds for axis " + str(axis)
                                     + " with size " + str(size) + " (at " + where + ")")
            return i
        return impl
    if isinstance(i, types.Array) and isinstance(i.dtype, types.Integer) and i.ndim >= 1:
        def impl(i, a, axis, where):
            if axis < a.ndim:
                _check_int_array(i, a.shape[axis], axis, where)
            return i
        return impl
    if isinstance(i, types.Array) and isinstance(i.dtype, types.Boolean) and i.ndim == 1:
        def impl(i, a, axis, where):
            if axis < a.ndim and i.shape[0] != a.shape[axis]:
                raise IndexError("boolean index did not match indexed array along axis " + str(axis)
                                 + "; size of axis is " + str(a.shape[axis])
                                 + " but size of corresponding boolean axis is " + str(i.shape[0])
                                 + " (at " + where + ")")
            return i
        return impl
    return lambda i, a, axis, where: i


def _is_nd_mask(a, i):
    return (isinstance(a, types.Array) and isinstance(i, types.Array)
            and isinstance(i.dtype, types.Boolean) and i.ndim > 1)


@overload(checks.getitem, inline="always")
def _getitem(a, i, where):
    if _is_nd_mask(a, i):
        def impl(a, i, where):
            for d in range(i.ndim):
                if i.shape[d] != a.shape[d]:
                    raise IndexError("boolean index did not match indexed array (at " + where + ")")
            return npx.mask_select(a, i)
        return impl
    if isinstance(a, types.Array):
        return lambda a, i, where: a[checks.check_index(i, a, 0, where)]
    if isinstance(a, (types.List, types.UniTuple)) and _is_int(i):
        def impl(a, i, where):
            if i < -len(a) or i >= len(a):
                raise IndexError("index out of range (at " + where + ")")
            return a[i]
        return impl
    return lambda a, i, where: a[i]


@overload(checks.setitem, inline="always")
def _setitem(a, i, v, where):
    if _is_nd_mask(a, i):
        def impl(a, i, v, where):
            for d in range(i.ndim):
                if i.shape[d] != a.shape[d]:
                    raise IndexError("boolean index did not match indexed array (at " + where + ")")
            npx.mask_assign(a, i, v)
        return impl
    if isinstance(a, types.Array):
        def impl(a, i, v, where):
            a[checks.check_index(i, a, 0, where)] = v
        return impl
    if isinstance(a, types.List) and _is_int(i):
        def impl(a, i, v, where):
            if i < -len(a) or i >= len(a):
                raise IndexError("list assignment index out of range (at " + where + ")")
            a[i] = v
        return impl

    def impl(a, i, v, where):
        a[i] = v
    return impl


_NUMBER = (types.Integer, types.Float, types.Boolean)


@overload(checks.unwritten_view, inline="always")
def _unwritten_view(v, name, where):
    if isinstance(v, types.Array) and v.ndim > 0:
        def impl(v, name, where):
            raise checks.AliasError("`" + name + "` is a view of an array written afterwards, and it is "
                                    "read after the write: transformations cannot follow the write into "
                                    "it. Copy it where you take it (`" + name + " = ....copy()`) (at "
                                    + where + ")")
        return impl
    return lambda v, name, where: None


@overload(checks.view_index, inline="always")
def _view_index(i, name, where):
    if isinstance(i, (types.Array, types.List, types.BaseTuple, types.Boolean)):
        def impl(i, name, where):
            raise checks.AliasError("`" + name + "` is taken with an index that is an array here (NumPy "
                                    "copies), and it or its base is written in place: transformations "
                                    "cannot tell a copy from a view when the index is a variable. Copy it "
                                    "explicitly where you take it (`" + name + " = ....copy()`) (at "
                                    + where + ")")
        return impl
    return lambda i, name, where: None


@overload(checks.is_array, inline="always")
def _is_array(v):
    if isinstance(v, types.Array):
        return lambda v: True
    return lambda v: False


@overload(checks.rebinds_number, inline="always")
def _rebinds_number(v, name, other, where):
    if isinstance(v, (types.Number, types.Boolean)):
        return lambda v, name, other, where: None

    def impl(v, name, other, where):
        raise checks.AliasError("`" + name + "` holds an array here, which this in-place operator writes, "
                                "and it may share it with `" + other + "`, read later: the transformation "
                                "cannot follow the write. Copy it first (`" + name + " = " + name
                                + ".copy()`) (at " + where + ")")
    return impl


@overload(checks.check_divisor, inline="always")
def _check_divisor(a, b, where):
    if isinstance(b, _NUMBER) and isinstance(a, _NUMBER):
        def impl(a, b, where):
            if b == 0:
                raise ZeroDivisionError("division by zero (at " + where + ")")
            return b
        return impl
    return lambda a, b, where: b


@overload(checks.divide, inline="always")
def _divide(a, b, where):
    return lambda a, b, where: a / checks.check_divisor(a, b, where)


@overload(checks.floor_divide, inline="always")
def _floor_divide(a, b, where):
    return lambda a, b, where: a // checks.check_divisor(a, b, where)


@overload(checks.mod, inline="always")
def _mod(a, b, where):
    return lambda a, b, where: a % checks.check_divisor(a, b, where)


@overload(checks.check_unpack, inline="always")
def _check_unpack(v, n, where):
    if isinstance(v, types.BaseTuple):
        k = len(v.types)

        def impl_tuple(v, n, where):
            if k != n:
                raise checks.UnpackError(n, k, where)
        return impl_tuple

    def impl(v, n, where):
        k = len(v)
        if k != n:
            raise checks.UnpackError(n, k, where)
    return impl
