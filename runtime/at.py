"""`x.at[idx].op(v, mode=...)` helpers: scatter updates and gathers with a mode.

Generated code copies `x` first (JAX's out-of-place promise) and then calls
these in place. `mode`: 'raise' (NumPy: IndexError), 'drop' (skip
out-of-bounds indices), 'clip' (clamp them); for `at_get`, 'fill' returns
`fill_value` where an index is out of bounds. Repeated indices accumulate for
`add`/`multiply`/`min`/`max` (a scatter), as in JAX.
"""
import numpy as np

__all__ = ["at_set", "at_add", "at_multiply", "at_divide", "at_power", "at_min", "at_max", "at_get"]


def _fix(a, idx, mode):
    """(index along axis 0, keep-mask) after applying `mode`."""
    n = a.shape[0]
    i = np.asarray(idx)
    if i.dtype.kind not in "iu":
        if mode != "raise":
            raise TypeError("mode= is supported for integer indices only")
        return idx, None
    if mode == "clip":
        return np.clip(np.where(i < 0, i + n, i), 0, n - 1), None
    ok = (i >= -n) & (i < n)
    if mode == "drop":
        return i[ok] if i.ndim else (i if ok else i[()]), ok
    if not np.all(ok):
        bad = i[~ok].ravel()[0] if i.ndim else i
        raise IndexError(f"index {bad} is out of bounds for axis 0 with size {n}")
    return i, None


def _update(ufunc):
    def update(a, idx, v, mode="raise"):
        i, ok = _fix(a, idx, mode)
        if ok is not None:
            if np.ndim(ok) == 0:
                if not ok:
                    return
            elif np.ndim(v) and np.shape(v)[0] == np.shape(ok)[0]:
                v = np.asarray(v)[ok]
        if ufunc is None:
            a[i] = v
        else:
            ufunc.at(a, i, v)
    return update


at_set = _update(None)
at_add = _update(np.add)
at_multiply = _update(np.multiply)
at_divide = _update(np.divide)
at_power = _update(np.power)
at_min = _update(np.minimum)
at_max = _update(np.maximum)
for _f, _n in zip((at_set, at_add, at_multiply, at_divide, at_power, at_min, at_max), __all__):
    _f.__name__ = _f.__qualname__ = _n


def at_get(a, idx, mode="fill", fill_value=np.nan):
    """`a[idx]`, with out-of-bounds indices filled (mode='fill') or clamped ('clip')."""
    n = a.shape[0]
    i = np.asarray(idx)
    if mode == "clip":
        return a[np.clip(np.where(i < 0, i + n, i), 0, n - 1)]
    if mode == "raise":
        return a[idx]
    ok = (i >= -n) & (i < n)
    safe = np.where(ok, i, 0)
    out = a[safe].astype(np.result_type(a.dtype, np.asarray(fill_value).dtype), copy=True)
    if out.ndim > i.ndim:
        out[~ok] = fill_value
    elif i.ndim:
        out[~ok] = fill_value
    elif not ok:
        out = np.asarray(fill_value, dtype=out.dtype)[()]
    return out
