"""Checked indexing and division: NumPy's errors, with the user's line.

Numba's own bounds and zero-division errors carry no location. Generated code
routes indexing and division through these helpers, which raise what NumPy or
Python would raise, ending with ``(at file.py:LINE)``:

    x[i]         ->  getitem(x, i, 'f.py:3')
    x[i] = v     ->  setitem(x, i, v, 'f.py:4')
    A[i, :]      ->  A[check_index(i, A, 0, 'f.py:5'), :]
    a / b        ->  a / check_divisor(a, b, 'f.py:6')
    f(a) / b     ->  divide(f(a), b, 'f.py:7')      # a not a plain name

Each helper here is the NumPy twin; `runtime.numba_checks` registers the
Numba implementations (inlined, so a checked index costs no more than an
unchecked one in a compiled loop).
"""
import re

import numpy as np

from .errors import Location, TranspileError

__all__ = ["getitem", "setitem", "check_index", "check_divisor", "divide", "floor_divide", "mod",
           "check_unpack", "UnpackError", "unwritten_view", "view_index", "is_array", "rebinds_number", "AliasError"]


def _oob(i, size, axis, where):
    return IndexError(f"index {i} is out of bounds for axis {axis} with size {size} (at {where})")


def check_index(i, a, axis, where):
    """`i` if it is a valid index along `axis` of array `a`; IndexError otherwise."""
    if not isinstance(a, np.ndarray) or axis >= a.ndim:
        return i
    size = a.shape[axis]
    if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
        if i < -size or i >= size:
            raise _oob(i, size, axis, where)
    elif isinstance(i, np.ndarray) and i.dtype.kind in "iu" and i.size:
        lo, hi = i.min(), i.max()
        if lo < -size or hi >= size:
            raise _oob(lo if lo < -size else hi, size, axis, where)
    elif isinstance(i, np.ndarray) and i.dtype.kind == "b" and i.ndim == 1 and i.shape[0] != size:
        raise IndexError(
            f"boolean index did not match indexed array along axis {axis}; size of axis is "
            f"{size} but size of corresponding boolean axis is {i.shape[0]} (at {where})")
    return i


def _check_container(a, i, where):
    if isinstance(a, (list, tuple)) and isinstance(i, (int, np.integer)):
        if i < -len(a) or i >= len(a):
            raise IndexError(f"{type(a).__name__} index out of range (at {where})")


def getitem(a, i, where):
    """`a[i]` with NumPy's IndexError naming `where`."""
    if isinstance(a, np.ndarray):
        if isinstance(i, np.ndarray) and i.dtype.kind == "b" and i.ndim > 1:
            if i.shape != a.shape[: i.ndim]:
                raise IndexError(
                    f"boolean index did not match indexed array: shapes {i.shape} and {a.shape} (at {where})")
            return a[i]
        return a[check_index(i, a, 0, where)]
    _check_container(a, i, where)
    return a[i]


def setitem(a, i, v, where):
    """`a[i] = v` with NumPy's IndexError naming `where`."""
    if isinstance(a, np.ndarray):
        if isinstance(i, np.ndarray) and i.dtype.kind == "b" and i.ndim > 1:
            if i.shape != a.shape[: i.ndim]:
                raise IndexError(
                    f"boolean index did not match indexed array: shapes {i.shape} and {a.shape} (at {where})")
            a[i] = v
            return
        a[check_index(i, a, 0, where)] = v
        return
    _check_container(a, i, where)
    a[i] = v


class UnpackError(ValueError):
    """Python's ValueError for `a, b = v` when `v` has another length:
    `UnpackError(expected, got, where)` (compiled code raises it with those
    arguments; the message is formatted here)."""

    def __init__(self, expected, got, where):
        if got > expected:
            msg = f"too many values to unpack (expected {expected})"
        else:
            msg = f"not enough values to unpack (expected {expected}, got {got})"
        super().__init__(f"{msg} (at {where})")


def check_unpack(v, n, where):
    """`a, b, ... = v` with `v` an array (or a tuple): Python's ValueError
    unless `len(v) == n`; the generated code then reads `v[0]`, `v[1]`, ..."""
    k = len(v)
    if k != n:
        raise UnpackError(n, k, where)


class AliasError(TranspileError, ValueError):
    """A value read after a write that may have changed it through a shared array: a
    transformation refusing, when the code runs, what it could not decide when generating it
    (a `TranspileError`, at the user's line, like every other refusal)."""

    def __init__(self, message, location=None):
        m = re.search(r"\(at ([^()]+):(\d+)\)$", message) if location is None else None
        if m is not None:
            message, location = message[:m.start()].rstrip(), Location(m.group(1), int(m.group(2)))
        super().__init__(message, location)


def unwritten_view(v, name, where):
    """After `y[j] = w`, a value read earlier as `v = y[i]` is a number (a copy) when `y` is
    1-D, but a view that the write may have changed otherwise: transformations follow
    values, not buffers, so an array here is an error (generated by transforms/alias.py)."""
    if isinstance(v, np.ndarray) and v.ndim > 0:
        raise AliasError(f"`{name}` is a view of an array written afterwards, and it is read "
                         f"after the write: transformations cannot follow the write into it. "
                         f"Copy it where you take it (`{name} = ....copy()`) (at {where})")


def view_index(i, name, where):
    """`v = y[i]` treated as a view of `y` (a write into `v` is written back into `y`, a write
    into `y` takes `v` again): right when `i` is an integer, but an array or a bool index makes
    NumPy copy, and then a view would be the wrong answer (generated by transforms/alias.py)."""
    if isinstance(i, (np.ndarray, list, tuple, bool, np.bool_)):
        raise AliasError(f"`{name}` is taken with an index that is an array here (NumPy copies), and "
                         f"it or its base is written in place: transformations cannot tell a copy from "
                         f"a view when the index is a variable. Copy it explicitly where you take it "
                         f"(`{name} = ....copy()`) (at {where})")


def is_array(v):
    """Whether `v` is a NumPy array: `w = x; w *= 2` then writes the array `x` holds, where for
    a number it rebinds `w` alone (generated by transforms/alias.py; Numba decides it when
    typing, vmap from the rank of one example)."""
    return isinstance(v, np.ndarray)


def rebinds_number(v, name, other, where):
    """Before `name op= value` where `name` may share its array with `other`: a number is
    rebound (nothing else changes); an array or a list would be written in place, which the
    transformation cannot follow (generated by transforms/alias.py)."""
    if not isinstance(v, (int, float, complex, np.generic)):
        with_ = f" with `{other}`" if other else ""
        raise AliasError(f"`{name}` holds an array here, which this in-place operator writes, and it may "
                         f"share it{with_}, read later: the transformation cannot follow the write. "
                         f"Copy it first (`{name} = {name}.copy()`), or write `{name} = {name} - ...` "
                         f"(at {where})")


_PY_NUMBERS = (int, float, bool)


def check_divisor(a, b, where):
    """`b`, or ZeroDivisionError if `a` and `b` are Python numbers and `b == 0`.

    Python raises on `x / 0`, `x // 0` and `x % 0` for its own numbers; when
    either side is a NumPy array or scalar, NumPy gives inf/nan instead, and so
    do these helpers.
    """
    if type(b) in _PY_NUMBERS and type(a) in _PY_NUMBERS and b == 0:
        raise ZeroDivisionError(f"division by zero (at {where})")
    return b


def divide(a, b, where):
    """`a / b` with Python's ZeroDivisionError for Python numbers."""
    return a / check_divisor(a, b, where)


def floor_divide(a, b, where):
    """`a // b` with Python's ZeroDivisionError for Python numbers."""
    return a // check_divisor(a, b, where)


def mod(a, b, where):
    """`a % b` with Python's ZeroDivisionError for Python numbers."""
    return a % check_divisor(a, b, where)
