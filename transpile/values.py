"""What the staging boundary sees of a runtime value.

A value is *dynamic* (numbers and arrays: they stay variables in the generated
code and the backend sees only their types) or *static* (functions, modules,
strings, None, objects: resolved while generating code, by identity or value).
`signature_key` is what a specialization is keyed on: for a dynamic value its
type (arrays by dtype and ndim), for a static one its identity or value.
"""
import types

import numpy as np

_SCALARS = (bool, int, float, complex)
_VALUE_STATICS = (str, bytes, type(None), bool, int, float, complex)


def is_dynamic(value):
    """Numbers, NumPy scalars and arrays, tuples of them, objects whose
    class sets ``__transpile_dynamic__`` (Numba types them: tp.random keys),
    and GPU arrays."""
    if isinstance(value, (np.ndarray, np.generic) + _SCALARS):
        return True
    if getattr(type(value), "__transpile_dynamic__", False):   # e.g. tp.random key arrays
        return True
    if getattr(type(value), "__cuda_ndarray__", False) or hasattr(type(value), "__cuda_array_interface__"):
        return True     # a GPU array (numba.cuda, CuPy, PyTorch), which backend 'cuda' takes in place
    if type(value) is tuple and value:
        return all(is_dynamic(v) for v in value)
    return False


def dynamic_key(value):
    """Type key of a dynamic value: ('array', dtype, ndim), a Python type, ..."""
    t = type(value)
    if t is np.ndarray:
        return ("array", value.dtype.str, value.ndim)
    if t in (float, int, bool, complex):
        return t
    if t is tuple:
        return ("tuple",) + tuple(dynamic_key(v) for v in value)
    if isinstance(value, np.ndarray):  # subclasses
        return ("array", value.dtype.str, value.ndim)
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str)
    if isinstance(value, _SCALARS):  # subclasses of float/int
        return t.__mro__[1] if t.__mro__[1] in _SCALARS else t
    raise TypeError(f"not a dynamic value: {value!r}")


def static_key(value):
    """Key of a static value: by value when hashable and simple, else by identity."""
    if isinstance(value, _VALUE_STATICS):
        return ("value", type(value), value)
    return ("id", id(value))


def is_module(value):
    return isinstance(value, types.ModuleType)


def describe(value):
    """A short phrase naming the kind of `value`, for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of {value.dtype} with shape {value.shape}"
    return f"{type(value).__name__} object"


#: what static evaluation returns for a value known only at run time
NOT_STATIC = object()

#: the usual types of dynamic values (a set lookup on the dispatcher's fast path)
_DYNAMIC_TYPES = frozenset((float, int, bool, complex, np.ndarray, np.float64, np.float32,
                            np.int64, np.int32, np.bool_, np.complex128))

#: the signature key of every dynamic argument (api.py: Numba keys on its type)
_DYN = "dyn"
