"""Numba implementations of `runtime.at` for integer and 1-D integer-array indices."""
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable

from . import at


@register_jitable
def _norm(i, n, mode):
    """Normalized index, or -1 to drop it."""
    if mode == "clip":
        if i < 0:
            i += n
        return min(max(i, 0), n - 1)
    if i < -n or i >= n:
        if mode == "drop":
            return -1
        raise IndexError("index out of bounds in .at[] update")
    return i + n if i < 0 else i


def _make(combine):
    combine = register_jitable(combine)

    def typer(a, idx, v, mode="raise"):
        if not isinstance(a, types.Array):
            return None
        scalar_v = isinstance(v, (types.Number, types.Boolean))
        if isinstance(idx, types.Integer):
            def impl(a, idx, v, mode="raise"):
                j = _norm(idx, a.shape[0], mode)
                if j >= 0:
                    a[j] = combine(a[j], v)
            return impl
        if isinstance(idx, types.Array) and isinstance(idx.dtype, types.Integer) and idx.ndim == 1:
            if scalar_v:
                def impl(a, idx, v, mode="raise"):
                    for k in range(idx.shape[0]):
                        j = _norm(idx[k], a.shape[0], mode)
                        if j >= 0:
                            a[j] = combine(a[j], v)
                return impl

            def impl(a, idx, v, mode="raise"):
                for k in range(idx.shape[0]):
                    j = _norm(idx[k], a.shape[0], mode)
                    if j >= 0:
                        a[j] = combine(a[j], v[k])
            return impl
        raise TypingError(".at[] updates with mode= or array indices support an integer or a 1-D "
                          "integer array index under jit")
    return typer


overload(at.at_set)(_make(lambda old, new: new))
overload(at.at_add)(_make(lambda old, new: old + new))
overload(at.at_multiply)(_make(lambda old, new: old * new))
overload(at.at_divide)(_make(lambda old, new: old / new))
overload(at.at_power)(_make(lambda old, new: old ** new))
overload(at.at_min)(_make(lambda old, new: min(old, new)))
overload(at.at_max)(_make(lambda old, new: max(old, new)))


@overload(at.at_get)
def _at_get(a, idx, mode="fill", fill_value=np.nan):
    if isinstance(idx, types.Integer):
        def impl(a, idx, mode="fill", fill_value=np.nan):
            n = a.shape[0]
            if mode == "clip":
                return a[_norm(idx, n, "clip")]
            if idx < -n or idx >= n:
                if mode == "raise":
                    raise IndexError("index out of bounds in .at[].get()")
                return fill_value
            return a[idx]
        return impl
    if isinstance(idx, types.Array) and isinstance(idx.dtype, types.Integer) and idx.ndim == 1 and a.ndim == 1:
        def impl(a, idx, mode="fill", fill_value=np.nan):
            n = a.shape[0]
            out = np.empty(idx.shape[0], a.dtype)
            for k in range(idx.shape[0]):
                i = idx[k]
                if mode == "clip":
                    out[k] = a[_norm(i, n, "clip")]
                elif i < -n or i >= n:
                    if mode == "raise":
                        raise IndexError("index out of bounds in .at[].get()")
                    out[k] = fill_value
                else:
                    out[k] = a[i]
            return out
        return impl
    raise TypingError(".at[].get(mode=...) supports an integer or a 1-D integer array index under jit")
