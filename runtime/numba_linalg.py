"""Numba overloads of the linear-algebra twins of runtime.npx: trace and
norm.  Imported by runtime.numba_npx.

``norm``: vector norms (any ``ord``) along an int axis, over the whole array
(``axis=None``, ``ord=None``: the 2-norm of the flattened array, any ndim), or
of a 1-D array; the Frobenius norm over a pair of axes; the other matrix
norms of a 2-D array with ``axis=None`` (Numba's own ``np.linalg.norm``, and
an SVD for 'nuc').  The result dtype is NumPy's (float32 stays float32).
"""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, overload, npx, types, njit, INNER, fail, const, reject, is_array,
    is_scalar, is_none, dtype_of, axis_kind, const_bool, norm_axis, int_seq,
    to_fixed_tuple)
from runtime.numba_folds import prep, prep_int, prep_all, out_shape


# --- trace -------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _trace_impl(acc, rt):
    ACC, RT = np.dtype(acc).type, np.dtype(rt).type

    def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        n1, n2 = a.shape
        ax1 = norm_axis(axis1, 2)
        ax2 = norm_axis(axis2, 2)
        if ax1 == ax2:
            raise ValueError('axis1 and axis2 cannot be the same')
        s = ACC(0)
        if ax1 == 0:
            for i in range(n1):
                j = i + offset
                if 0 <= j < n2:
                    s += a[i, j]
        else:
            for i in range(n2):
                j = i + offset
                if 0 <= j < n1:
                    s += a[j, i]
        return RT(s)
    return trace


@functools.lru_cache(maxsize=None)
def _stack_trace_impl(acc, rt):
    """The traces of a stack of matrices (3-D ``a``, one matrix per index
    of the axis that is neither axis1 nor axis2), as ``vmap`` of trace."""
    RT = np.dtype(rt).type
    one = njit(**INNER)(_trace_impl(acc, rt))

    def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        ax1 = norm_axis(axis1, 3)
        ax2 = norm_axis(axis2, 3)
        if ax1 == ax2:
            raise ValueError('axis1 and axis2 cannot be the same')
        t = np.swapaxes(a, ax2, 2)          # axis2 last, then axis1 before it:
        if ax1 == 2:                        # the other axis is left first
            ax1 = ax2
        t = np.swapaxes(t, ax1, 1)
        res = np.empty(t.shape[0], RT)
        for k in range(t.shape[0]):
            res[k] = one(t[k], offset, 0, 1)
        return res
    return trace


@overload(npx.trace, jit_options=JIT)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    reject('trace', dtype=dtype, out=out)
    if not (is_array(a) and a.ndim in (2, 3)):
        fail('trace', 'compiled code takes the trace of a matrix (2-D array) or of a stack of '
             'matrices (3-D), got %s' % (a,))
    for name, t in (('offset', offset), ('axis1', axis1), ('axis2', axis2)):
        if not isinstance(types.unliteral(t), types.Integer) and not isinstance(const(t), int):
            fail('trace', '%s must be an int, got %s' % (name, t))
    rt = np.sum(np.zeros(1, dtype_of(a))).dtype
    acc = np.float64 if rt.kind == 'f' else rt
    if a.ndim == 3:
        return _stack_trace_impl(np.dtype(acc).str, rt.str)
    return _trace_impl(np.dtype(acc).str, rt.str)


# --- norm --------------------------------------------------------------------------

@njit(**INNER)
def vnorm_fold(xf, O, N, I, p):
    """Vector p-norms of the middle axis of xf seen as (O, N, I): flat (O*I)
    float64.  p = 2, 1, inf, -inf, 0 (count of nonzeros) or any other float
    (sum |x|**p) ** (1/p), as NumPy computes them."""
    inf = np.inf
    acc = np.empty(O * I)
    init = inf if p == -inf else 0.0
    for k in range(O * I):
        acc[k] = init
    for o in range(O):
        base = o * I
        for n in range(N):
            row = (o * N + n) * I
            for i in range(I):
                v = abs(xf[row + i])
                if p == 2.0:
                    acc[base + i] += v * v
                elif p == 1.0:
                    acc[base + i] += v
                elif p == inf:
                    if v > acc[base + i] or v != v:
                        acc[base + i] = v
                elif p == -inf:
                    if v < acc[base + i] or v != v:
                        acc[base + i] = v
                elif p == 0.0:
                    acc[base + i] += v != 0
                else:
                    acc[base + i] += v ** p
    if p == 2.0:
        for k in range(O * I):
            acc[k] = np.sqrt(acc[k])
    elif not (p == 1.0 or p == inf or p == -inf or p == 0.0):
        for k in range(O * I):
            acc[k] = acc[k] ** (1.0 / p)
    return acc


@njit(**INNER)
def _nuclear(x):
    u, s, vt = np.linalg.svd(x, False)
    return np.sum(s)


_NORM_SIG = 'x, ord=None, axis=None, keepdims=False'


@functools.lru_cache(maxsize=None)
def _norm_impl(kind, nax, nd, keep, p, whole, rt):
    """kind: 'none' | 'int' | 'tuple'; p: the source of the float ord, or
    'matrix' (Numba's norm of a matrix) or 'nuc'; whole: the result is the
    norm of the whole array."""
    L = ['a = np.asarray(x)']
    if p == 'matrix':
        L += ['r = np.linalg.norm(np.ascontiguousarray(a).astype(np.float64), ord)']
    elif p == 'nuc':
        L += ['r = nuclear(np.ascontiguousarray(a).astype(np.float64))']
    else:
        if kind == 'none':
            L += ['xf, O, N, I = prep_all(a)']
        elif kind == 'int':
            L += ['xf, O, N, I, red = prep_int(a, np.int64(axis))']
        else:
            L += ['xf, O, N, I, red = prep(a, int_seq(axis))']
        L += ['res = fold(xf, O, N, I, %s)' % p]
        if whole:
            L += ['r = res[0]']
    if whole and not keep:
        L += ['return RT(r)']
    elif whole:
        L += ['out = np.empty((%s), RT)' % ('1, ' * nd), 'out.fill(r)', 'return out']
    else:
        out_nd = nd if keep else nd - nax
        L += ['s = out_shape(a.shape, red, np.int64(%d))' % keep,
              'return res.reshape(to_fixed_tuple(s, %d)).astype(RT)' % out_nd]
    src = 'def norm(%s):\n    %s\n' % (_NORM_SIG, '\n    '.join(L))
    g = {'np': np, 'RT': np.dtype(rt).type, 'prep': prep, 'prep_int': prep_int,
         'prep_all': prep_all, 'out_shape': out_shape, 'int_seq': int_seq,
         'to_fixed_tuple': to_fixed_tuple, 'fold': vnorm_fold, 'nuclear': _nuclear}
    exec(compile(src, '<npx.norm>', 'exec'), g)
    return g['norm']


@overload(npx.norm, prefer_literal=True, jit_options=JIT)
def _norm(x, ord=None, axis=None, keepdims=False):
    if not (is_array(x) or is_scalar(x)):
        fail('norm', 'expected an array or a number, got %s' % (x,))
    dt = dtype_of(x)
    rt = np.linalg.norm(np.zeros(2, dt)).dtype
    keep = const_bool('norm', 'keepdims', keepdims)
    nd = x.ndim if is_array(x) else 0
    kind, nax = axis_kind('norm', axis)
    o = const(ord)
    if kind == 'tuple' and nax != 2:
        fail('norm', 'improper number of dimensions to norm: axis=%s' % (axis,))
    if kind == 'tuple' and o is not None and o != 'fro':
        fail('norm', 'compiled code takes matrix norms with ord=%r over axis=None only' % (o,))
    if kind == 'none' and o is not None and nd not in (1, 2):
        fail('norm', 'improper number of dimensions to norm (ord=%r, %d-D)' % (o, nd))
    matrix = kind == 'tuple' or (kind == 'none' and nd == 2 and o is not None)
    if o is None or o == 'fro':
        if o == 'fro' and not matrix:
            fail('norm', "invalid norm order 'fro' for vectors")
        p = '2.0'
    elif o == 'nuc':
        if not matrix:
            fail('norm', "invalid norm order 'nuc' for vectors")
        p = 'nuc'
    elif isinstance(types.unliteral(ord), (types.Integer, types.Float)) and not \
            isinstance(types.unliteral(ord), types.Boolean):
        p = 'matrix' if matrix else 'np.float64(ord)'
    else:
        fail('norm', 'ord must be None, a number, \'fro\' or \'nuc\', got %s' % (ord,))
    whole = kind == 'none'
    return _norm_impl(kind, nax, nd, keep, p, whole, rt.str)
