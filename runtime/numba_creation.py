"""Numba overloads of the helpers in :mod:`runtime.creation` (imported by
``runtime.numba_impl``).  What compiles is what Numba's NumPy takes in the
primal: ``np.linspace(start, stop, num)`` of numbers, ``np.arange`` of
numbers, ``np.unique(ar)`` without flags."""
import numpy as np

from runtime import creation as C
from runtime.adjoint import zeros_like
from runtime._nb_common import JIT, const, is_array, is_none, overload, types
from numba.core.errors import TypingError


def _fail(name, msg):
    raise TypingError('creation.%s: %s' % (name, msg))


def _inexact(t):
    if isinstance(t, types.BaseTuple):
        t = t.types[0]
    dt = t.dtype if isinstance(t, types.Array) else t
    return isinstance(dt, (types.Float, types.Complex))


def _ol(fn):
    return overload(fn, jit_options=JIT)


@_ol(C.inexact_weight)
def _inexact_weight(ans):
    w = 1.0 if _inexact(ans) else 0.0
    return lambda ans: w


def _no_retstep(name, retstep):
    if const(retstep) not in (False, 0):
        _fail(name, 'retstep=True does not compile (Numba has no np.linspace(..., retstep=True))')


@_ol(C.linspace_grad)
def _linspace_grad(g, ans, like, num=50, endpoint=True, retstep=False, axis=0,
                   which=0):
    _no_retstep('linspace_grad', retstep)
    if is_array(like) and like.ndim > 0:
        _fail('linspace_grad', 'compiled code takes numbers for start and stop')
    if not _inexact(ans):
        return lambda g, ans, like, num=50, endpoint=True, retstep=False, axis=0, which=0: 0.0

    def impl(g, ans, like, num=50, endpoint=True, retstep=False, axis=0, which=0):
        n = int(num)
        div = n - 1 if endpoint else n
        s = 0.0
        for i in range(n):
            w = i / div if div > 0 else 0.0
            if which == 0:
                w = 1.0 - w
            s += g[i] * w
        return s
    return impl


@_ol(C.linspace_tangent)
def _linspace_tangent(t_start, t_stop, ans, num=50, endpoint=True,
                      retstep=False, axis=0):
    _no_retstep('linspace_tangent', retstep)
    if not _inexact(ans):
        return lambda t_start, t_stop, ans, num=50, endpoint=True, retstep=False, axis=0: \
            np.zeros(ans.shape)
    dt = ans.dtype

    def impl(t_start, t_stop, ans, num=50, endpoint=True, retstep=False, axis=0):
        n = int(num)
        div = n - 1 if endpoint else n
        out = np.empty(n, dt)
        for i in range(n):
            w = i / div if div > 0 else 0.0
            out[i] = t_start * (1.0 - w) + t_stop * w
        return out
    return impl


@_ol(C.arange_weights)
def _arange_weights(ans, stop=None, which=0):
    if not _inexact(ans):
        return lambda ans, stop=None, which=0: np.zeros(ans.shape[0])
    no_stop = is_none(stop)

    def impl(ans, stop=None, which=0):
        n = ans.shape[0]
        if which == 1 or (which == 0 and no_stop):
            return np.zeros(n)
        if which == 0:
            return np.ones(n)
        return np.arange(n) * 1.0
    return impl


def _unique_flags(name, *flags):
    if any(const(f) not in (False, 0) for f in flags[:3]) or not is_none(flags[3]):
        _fail(name, 'only np.unique(ar) without flags or axis compiles')


@_ol(C._unique_first)
def _unique_first(ar):
    def impl(ar):
        flat = np.ravel(ar)
        order = np.argsort(flat, kind='mergesort')     # stable: first occurrences first
        keep = np.empty(flat.size, np.intp)
        m = 0
        for k in range(flat.size):
            if k == 0 or flat[order[k]] != flat[order[k - 1]]:
                keep[m] = order[k]
                m += 1
        return keep[:m]
    return impl


@_ol(C.unique_grad)
def _unique_grad(g, ar, return_index=False, return_inverse=False,
                 return_counts=False, axis=None):
    _unique_flags('unique_grad', return_index, return_inverse, return_counts, axis)
    if not is_array(ar) or ar.ndim == 0:
        _fail('unique_grad', 'expected an array, got %s' % ar)

    def impl(g, ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
        out = zeros_like(ar)
        flat = out.reshape(-1)
        first = C._unique_first(ar)
        for j in range(first.size):
            flat[first[j]] = g[j]
        return out
    return impl


@_ol(C.unique_tangent)
def _unique_tangent(t, ar, ans, return_index=False, return_inverse=False,
                    return_counts=False, axis=None):
    _unique_flags('unique_tangent', return_index, return_inverse, return_counts, axis)

    def impl(t, ar, ans, return_index=False, return_inverse=False, return_counts=False, axis=None):
        first = C._unique_first(ar)
        flat = np.ascontiguousarray(t).reshape(-1)
        out = np.empty(first.size, flat.dtype)
        for j in range(first.size):
            out[j] = flat[first[j]]
        return out
    return impl
