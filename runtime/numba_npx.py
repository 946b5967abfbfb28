"""Numba overloads of the NumPy twins in :mod:`runtime.npx`.

Importing this module registers a ``numba.extending.overload`` for every
twin, so that generated code calling ``npx.max(x, axis=0)`` compiles under
``@njit``.  The compiler imports it (through :mod:`runtime.numba_impl`)
before compiling anything.

Reductions live here; shape functions in :mod:`runtime.numba_shapes` and
:mod:`runtime.numba_tile_pad`, boolean masks in :mod:`runtime.numba_masks`,
products in :mod:`runtime.numba_products`, einsum in
:mod:`runtime.numba_einsum` (all imported at the end).

How a reduction compiles.  Numba compile time is the cost to watch: a
compiled function costs ~0.1 s plus ~0.05-0.3 s per array operation, and
LLVM re-optimizes everything a function calls at every call level.  The
overload's impl (one small generated function per call pattern: op, axis
kind, ndim, keepdims, dtypes) calls the compiled pieces of
:mod:`runtime.numba_folds`, shared by every pattern: ``prep*`` (the input as
``(outer, n, inner)``), a fold kernel per op and dtype, ``out_shape``; and
reshapes the result to NumPy's shape.

Integer ``axis`` values are passed on as ``np.int64`` so that literal axes
(``axis=0`` vs ``axis=1``) share the helpers.
"""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, overload, npx, types, to_fixed_tuple, fail, const, const_bool,
    reject, is_array, is_scalar, is_none, dtype_of, acc_dtype, axis_kind,
    int_seq, AxisError)
from runtime.numba_folds import (
    prep, prep_int, prep_all, out_shape, axes0, fold_kernel, indent,
    exec_src)

# --- per-pattern impls ----------------------------------------------------------

_SIG = {
    'sum': 'a, axis=None, dtype=None, out=None, keepdims=False, initial=None, '
           'where=None',
    'mean': 'a, axis=None, dtype=None, out=None, keepdims=False, where=None',
    'var': 'a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, '
           'where=None, mean=None, correction=None',
    'max': 'a, axis=None, out=None, keepdims=False, initial=None, where=None',
    'any': 'a, axis=None, out=None, keepdims=False, where=None',
    'argmax': 'a, axis=None, out=None, keepdims=False',
    'cumsum': 'a, axis=None, dtype=None, out=None',
}
_SIG.update(prod=_SIG['sum'], std=_SIG['var'], min=_SIG['max'],
            all=_SIG['any'], argmin=_SIG['argmax'], cumprod=_SIG['cumsum'])

_UFUNC_LIKE = ('sum', 'prod', 'max', 'min', 'any', 'all')
_AS_1D = ('argmax', 'argmin', 'cumsum', 'cumprod')  # 0-d input taken as 1-d


@functools.lru_cache(maxsize=None)
def _impl(op, kind, nax, nd, keep, rt, acc):
    """The impl of reduction ``op`` for one call pattern."""
    L = ['x = np.asarray(a)']
    if nd == 0 and op in _AS_1D:
        L = ['x = np.asarray(a).reshape(1)']
        nd = 1
    if kind == 'none':
        L += ['xf, O, N, I = prep_all(x)']
    elif kind == 'int' and nd == 0 and op in _UFUNC_LIKE:
        L += ['xf, O, N, I, red = prep(x, axes0(np.int64(axis)))']
    elif kind == 'int':
        L += ['xf, O, N, I, red = prep_int(x, np.int64(axis))']
    else:
        L += ['xf, O, N, I, red = prep(x, int_seq(axis))']
    L += ['res = fold(xf, O, N, I%s)' % (', ddof' if op in ('var', 'std')
                                          else '')]
    if op in ('cumsum', 'cumprod'):
        L += ['return res' if kind == 'none' else 'return res.reshape(x.shape)']
    else:
        out_nd = nd if keep else (0 if kind == 'none' else max(nd - nax, 0))
        if out_nd == 0:
            L += ['return res[0]']
        elif kind == 'none':
            L += ['return res.reshape((%s))' % ('1, ' * nd)]
        else:
            L += ['s = out_shape(x.shape, red, np.int64(%d))' % keep]
            L += ['return res.reshape(to_fixed_tuple(s, %d))' % out_nd]
    src = 'def %s(%s):\n    %s\n' % (op, _SIG[op], indent('\n'.join(L), 4))
    return exec_src(src, op, {'prep': prep, 'out_shape': out_shape,
                           'prep_int': prep_int, 'prep_all': prep_all,
                           'axes0': axes0, 'int_seq': int_seq,
                           'fold': fold_kernel(op, rt, acc)})


# NumPy decides the result dtypes: op -> f(input dtype, dtype=) -> dtype.
_RESULT = {
    'sum': lambda dt, d: np.sum(np.zeros(1, dt), dtype=d).dtype,
    'prod': lambda dt, d: np.prod(np.zeros(1, dt), dtype=d).dtype,
    'mean': lambda dt, d: np.mean(np.zeros(1, dt), dtype=d).dtype,
    'var': lambda dt, d: np.var(np.zeros(2, dt), dtype=d).dtype,
    'std': lambda dt, d: np.std(np.zeros(2, dt), dtype=d).dtype,
    'max': lambda dt, d: np.dtype(dt),
    'min': lambda dt, d: np.dtype(dt),
    'any': lambda dt, d: np.dtype(np.bool_),
    'all': lambda dt, d: np.dtype(np.bool_),
    'argmax': lambda dt, d: np.dtype(np.int64),
    'argmin': lambda dt, d: np.dtype(np.int64),
    'cumsum': lambda dt, d: np.cumsum(np.zeros(1, dt), dtype=d).dtype,
    'cumprod': lambda dt, d: np.cumprod(np.zeros(1, dt), dtype=d).dtype,
}
_ORDERED = ('max', 'min', 'argmax', 'argmin')


def _req_dtype(name, dtype):
    """The np.dtype asked for by a ``dtype=`` argument, or None."""
    if is_none(dtype):
        return None
    if isinstance(dtype, types.NumberClass):
        return np.dtype(dtype.instance_type.name)
    if isinstance(dtype, types.DType):
        return np.dtype(dtype.dtype.name)
    fail(name, 'dtype= must be a NumPy dtype, got %s' % (dtype,))


def reduction(op, a, axis, keepdims, dtype=None, out=None, ddof=0, **unsupported):
    """Typing time: the impl of reduction ``op`` for these argument types,
    or a TypingError naming the argument the twin doesn't support."""
    reject(op, out=out, **unsupported)
    if not (is_array(a) or is_scalar(a)):
        fail(op, 'expected an array or a number, got %s' % (a,))
    if not isinstance(const(ddof), int) and not isinstance(ddof,
                                                           types.Integer):
        fail(op, 'ddof must be an int, got %s' % (ddof,))
    kind, nax = axis_kind(op, axis)
    keep = const_bool(op, 'keepdims', keepdims)
    if kind == 'tuple' and (op in _ORDERED[2:] or op in _AS_1D):
        fail(op, 'axis must be None or an int, got %s' % (axis,))
    nd = a.ndim if is_array(a) else 0
    dt = dtype_of(a)
    if op in _ORDERED and dt.kind == 'c':
        fail(op, 'complex input is not supported')
    if kind == 'tuple' and nax > nd:
        fail(op, 'axis %s is out of bounds for array of dimension %d'
             % (axis, nd))
    rt = _RESULT[op](dt, _req_dtype(op, dtype))
    if op in ('sum', 'prod', 'mean', 'var', 'std'):
        acc = acc_dtype(rt)
        if op in ('mean', 'var', 'std') and acc.kind in 'biu':
            acc = np.dtype(np.float64)
        if op in ('var', 'std') and dt.kind == 'c':
            acc = acc_dtype(np.result_type(dt, acc))
    else:
        acc = dt if op in ('max', 'min') else rt
    return _impl(op, kind, nax, nd, keep, rt.str, acc.str)


# --- the overloads -------------------------------------------------------------

def _ol_sum_like(op):
    def ol(a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
           where=None):
        return reduction(op, a, axis, keepdims, dtype, out, initial=initial,
                         where=where)
    return ol


def _ol_mean(op):
    def ol(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
        return reduction(op, a, axis, keepdims, dtype, out, where=where)
    return ol


def _ol_var_like(op):
    def ol(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False,
           where=None, mean=None, correction=None):
        return reduction(op, a, axis, keepdims, dtype, out, ddof, where=where,
                         mean=mean, correction=correction)
    return ol


def _ol_max_like(op):
    def ol(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        return reduction(op, a, axis, keepdims, None, out, initial=initial,
                         where=where)
    return ol


def _ol_any_like(op):
    def ol(a, axis=None, out=None, keepdims=False, where=None):
        return reduction(op, a, axis, keepdims, None, out, where=where)
    return ol


def _ol_arg_like(op):
    def ol(a, axis=None, out=None, keepdims=False):
        return reduction(op, a, axis, keepdims, None, out)
    return ol


def _ol_cum_like(op):
    def ol(a, axis=None, dtype=None, out=None):
        return reduction(op, a, axis, False, dtype, out)
    return ol


for _op, _ol in [('sum', _ol_sum_like), ('prod', _ol_sum_like),
                 ('mean', _ol_mean), ('var', _ol_var_like),
                 ('std', _ol_var_like), ('max', _ol_max_like),
                 ('min', _ol_max_like), ('any', _ol_any_like),
                 ('all', _ol_any_like), ('argmax', _ol_arg_like),
                 ('argmin', _ol_arg_like), ('cumsum', _ol_cum_like),
                 ('cumprod', _ol_cum_like)]:
    overload(getattr(npx, _op), prefer_literal=True, jit_options=JIT)(
        _ol(_op))


# Register the remaining overloads.
from runtime import (numba_shapes, numba_tile_pad, numba_masks,  # noqa: E402
                     numba_products, numba_einsum, numba_linalg)  # noqa: F401,E402
