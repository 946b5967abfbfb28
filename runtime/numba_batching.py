"""Numba overloads of the `vmap` helpers in :mod:`runtime.batching`.

Imported by `runtime.numba_impl`. Axes that generated code passes as
constants (`moveaxis(x, 1, 0)`, `alloc(r, n, 1)`) are read at typing time
(literal dispatch), so each overload is straight code building shape and
stride tuples: a view, no `np.transpose(a, axes)` (seconds to compile).
"""
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from runtime import batching as B
from runtime._nb_common import JIT, const, is_array, is_scalar

_R = B.RANK_MESSAGE
_S = B.SIZE_MESSAGE


def _fail(name, msg):
    raise TypingError("batching.%s: %s" % (name, msg))


def _dtype(t):
    """The NumPy scalar type of an array or number type."""
    t = types.unliteral(t)
    return t.dtype if is_array(t) else t


def _exec(src, name, glbs=None):
    g = {"np": np, "B": B, "VmapError": B.VmapError, "_R": _R, "_S": _S}
    g.update(glbs or {})
    exec(compile(src, "<batching:%s>" % name, "exec"), g)
    return g[name]


def _int_const(t):
    v = const(t)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@overload(B.axis_size, prefer_literal=True, jit_options=JIT)
def _axis_size(x, axis):
    nd = x.ndim if is_array(x) else 0
    if not (is_array(x) or is_scalar(x)):
        _fail("axis_size", "cannot map over a %s" % (x,))
    if nd == 0:
        def impl(x, axis):
            raise B.VmapError(_R, axis, axis + 1 if axis >= 0 else -axis, 0, ())
        return impl
    ax = _int_const(axis)
    if ax is not None and -nd <= ax < nd:
        k = ax + nd if ax < 0 else ax
        return lambda x, axis: x.shape[k]

    def impl(x, axis):
        a = axis + nd if axis < 0 else axis
        if a < 0 or a >= nd:
            raise B.VmapError(_R, axis, axis + 1 if axis >= 0 else -axis, nd, x.shape)
        return x.shape[a]
    return impl


@overload(B.check_size, prefer_literal=True, jit_options=JIT)
def _check_size(x, axis, n):
    def impl(x, axis, n):
        size = B.axis_size(x, axis)
        if size != n:
            raise B.VmapError(_S, axis, x.shape, size, n)
    if is_scalar(x):
        def impl_scalar(x, axis, n):   # noqa: F811  (axis_size raises)
            B.axis_size(x, axis)
        return impl_scalar
    return impl


@overload(B.check_nonempty, jit_options=JIT)
def _check_nonempty(n):
    def impl(n):
        if n < 1:
            raise B.VmapError(B.EMPTY_MESSAGE)
    return impl


@overload(B.alloc, jit_options=JIT)
def _alloc(r, n):
    if is_array(r):
        dt = r.dtype
        return lambda r, n: np.empty((n,) + r.shape, dt)
    if is_scalar(r):
        dt = types.unliteral(r)
        return lambda r, n: np.empty(n, dt)
    _fail("alloc", "a per-example result must be a number or an array, not %s" % (r,))


@overload(B.broadcast, jit_options=JIT)
def _broadcast(v, n):
    if is_array(v):
        dt = v.dtype
        if v.ndim == 0:
            def impl0(v, n):
                out = np.empty(n, dt)
                out[:] = v[()]
                return out
            return impl0

        def impl(v, n):
            out = np.empty((n,) + v.shape, dt)
            for i in range(n):
                out[i] = v
            return out
        return impl
    if is_scalar(v):
        dt = types.unliteral(v)

        def impl_s(v, n):
            out = np.empty(n, dt)
            out[:] = v
            return out
        return impl_s
    _fail("broadcast", "cannot broadcast a %s over the batch" % (v,))


def _perm(nd, s, d):
    order = [k for k in range(nd) if k != s]
    order.insert(d, s)
    return order


@overload(B.moveaxis, prefer_literal=True, jit_options=JIT)
def _moveaxis(a, source, destination):
    if not is_array(a):
        _fail("moveaxis", "expected an array, got %s" % (a,))
    nd = a.ndim
    s, d = _int_const(source), _int_const(destination)
    if s is not None and d is not None:
        if not (-nd <= s < nd and -nd <= d < nd):
            _fail("moveaxis", "axis %d or %d out of range for an array of rank %d" % (s, d, nd))
        order = _perm(nd, s % nd, d % nd)
        if order == list(range(nd)):
            return lambda a, source, destination: a
        shape = "(" + "".join("a.shape[%d], " % k for k in order) + ")"
        strides = "(" + "".join("a.strides[%d], " % k for k in order) + ")"
        src = ("def impl(a, source, destination):\n"
               "    return np.lib.stride_tricks.as_strided(a, %s, %s)\n" % (shape, strides))
        return _exec(src, "impl")
    # runtime axes: the permutation is computed in the loop, then the same view
    lines = ["def impl(a, source, destination):",
             "    s = source + %d if source < 0 else source" % nd,
             "    d = destination + %d if destination < 0 else destination" % nd,
             "    if s < 0 or s >= %d or d < 0 or d >= %d:" % (nd, nd),
             "        raise ValueError('moveaxis: axis out of range')",
             "    order = np.empty(%d, np.int64)" % nd,
             "    j = 0",
             "    for k in range(%d):" % nd,
             "        if k == s:",
             "            continue",
             "        if j == d:",
             "            j += 1",
             "        order[j] = k",
             "        j += 1",
             "    order[d] = s"]
    shape = "(" + "".join("a.shape[order[%d]], " % k for k in range(nd)) + ")"
    strides = "(" + "".join("a.strides[order[%d]], " % k for k in range(nd)) + ")"
    lines.append("    return np.lib.stride_tricks.as_strided(a, %s, %s)" % (shape, strides))
    return _exec("\n".join(lines) + "\n", "impl")
