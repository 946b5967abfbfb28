"""Numba implementations of :mod:`runtime.tangent` (dispatch on Numba types at
compile time; the semantics are those of the NumPy versions)."""
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from . import npx
from . import tangent as T
from .numba_tape import check_output_type
from .tape import COMPLEX_ADVICE


def _scalar(x):
    return isinstance(x, (types.Float, types.Integer, types.Boolean)) or (
        isinstance(x, types.Array) and x.ndim == 0)


def _fdt(x):
    dt = x.dtype if isinstance(x, types.Array) else x
    return dt if isinstance(dt, (types.Float, types.Complex)) else types.float64


@overload(T.fit)
def _fit(v, like):
    if isinstance(like, (types.Float, types.Integer, types.Boolean)):
        if isinstance(v, types.Array):
            return lambda v, like: float(np.sum(v))
        return lambda v, like: float(v)
    if not isinstance(like, types.Array):
        raise TypingError('fit: expected an array or a number, got %s' % like)
    dt = _fdt(like)
    if isinstance(v, types.Array) and v.ndim == like.ndim:
        if v.dtype == dt:
            def impl(v, like):
                if v.shape == like.shape:
                    return v
                out = np.empty(like.shape, dt)
                out[...] = np.broadcast_to(v, like.shape)
                return out
            return impl

        def impl(v, like):
            out = np.empty(like.shape, dt)
            out[...] = np.broadcast_to(v, like.shape)
            return out
        return impl

    def impl(v, like):
        out = np.empty(like.shape, dt)
        out[...] = v
        return out
    return impl


def _is_complex(t):
    dt = t.dtype if isinstance(t, types.Array) else t
    return isinstance(dt, types.Complex)


@overload(T.real_tangent)
def _real_tangent(v, y):
    _check_real(v, y)
    return lambda v, y: v


def _check_real(v, y):
    """Typing time: `tangent.real_tangent`'s TypeError for these types."""
    if isinstance(y, types.BaseTuple):
        for ve, e in zip(v.types if isinstance(v, types.BaseTuple) else [v] * len(y), y.types):
            _check_real(ve, e)
        return
    if _is_complex(y):
        raise TypingError('jvp of a function with a complex output: ' + COMPLEX_ADVICE + '.')
    if _is_complex(v):
        raise TypingError(T._COMPLEX)


@overload(T.matrix_trace)
def _matrix_trace(m):
    if isinstance(m, types.Array) and m.ndim == 2:
        return lambda m: np.trace(m)
    raise TypingError('matrix_trace: compiled code takes a 2-D matrix, got %s' % m)


@overload(T.einsum_tangent)
def _einsum_tangent(subscripts, operands, tangents):
    n = len(operands)
    lines = ['def et(subscripts, operands, tangents):']
    terms = []
    for k in range(n):
        ops = ', '.join('tangents[%d]' % j if j == k else 'operands[%d]' % j for j in range(n))
        terms.append('npx.einsum(subscripts, %s)' % ops)
    lines.append('    return ' + ' + '.join(terms))
    g = {'npx': npx}
    exec('\n'.join(lines), g)
    return g['et']


@overload(T.cast)
def _cast(t, dtype):
    dt = getattr(dtype, 'dtype', None) or getattr(dtype, 'instance_type', None)
    if dt is None or not isinstance(dt, (types.Float, types.Complex)):
        if isinstance(t, types.Array):
            return lambda t, dtype: np.zeros(t.shape)
        return lambda t, dtype: 0.0
    if isinstance(t, types.Array):
        return lambda t, dtype: t.astype(dt)
    return lambda t, dtype: dt(t)


@overload(T.unit)
def _unit(x, k):
    check_output_type(x, 'jacrev', False)
    if _scalar(x) and not isinstance(x, types.Array):
        return lambda x, k: 1.0
    dt = _fdt(x)

    def impl(x, k):
        e = np.zeros(x.shape, dt)
        e.reshape(-1)[k] = 1.0
        return e
    return impl


def _tuple_impl(params, n, item, sizes=None, start='0'):
    """The implementation (exec'd) of a helper on a tuple of `n` items:
    `impl(params)` returns the tuple of `item` formatted for k = 0..n-1. With
    `sizes` (the size of item k, formatted), `o{k}` is item k's offset from
    `start`, the items laid one after the other."""
    lines = ['def impl(%s):' % ', '.join(params)]
    if sizes is not None:
        lines.append('    o0 = %s' % start)
        lines += ['    o%d = o%d + %s' % (k + 1, k, sizes.format(k=k)) for k in range(n)]
    items = ', '.join(item.format(k=k, k1=k + 1) for k in range(n))
    lines.append('    return (%s%s)' % (items, ',' if n == 1 else ''))
    g = {'T': T, 'np': np}
    exec('\n'.join(lines), g)
    return g['impl']


@overload(T.size)
def _size(x):
    if isinstance(x, types.BaseTuple):
        g = {'T': T}
        exec('def impl(x):\n    return 0%s' % ''.join(' + T.size(x[%d])' % k for k in range(len(x))), g)
        return g['impl']
    if isinstance(x, types.Array):
        return lambda x: x.size
    return lambda x: 1


@overload(T.basis_block)
def _basis_block(x, n, k):
    if isinstance(x, types.BaseTuple):
        return _tuple_impl(['x', 'n', 'k'], len(x), 'T.basis_block(x[{k}], n, o{k})', 'T.size(x[{k}])', 'k')
    dt = _fdt(x)
    if not isinstance(x, types.Array):
        def scalar(x, n, k):
            B = np.zeros(n, dt)
            B[k] = 1.0
            return B
        return scalar

    def impl(x, n, k):
        m = x.size
        B = np.zeros((n, m), dt)
        for i in range(m):
            B[k + i, i] = 1.0
        return B.reshape((n,) + x.shape)
    return impl


@overload(T.first_example)
def _first_example(Y):
    if isinstance(Y, types.BaseTuple):
        return _tuple_impl(['Y'], len(Y), 'T.first_example(Y[{k}])')
    return lambda Y: Y[0]


@overload(T.basis)
def _basis(x):
    check_output_type(x, 'jacrev', False)
    if isinstance(x, types.BaseTuple):
        return lambda x: T.basis_block(x, T.size(x), 0)
    if not isinstance(x, types.Array):
        return lambda x: np.ones((1,))
    dt = _fdt(x)

    def impl(x):
        n = x.size
        return np.eye(n, dtype=dt).reshape((n,) + x.shape)
    return impl


@overload(T.jac_from_cols)
def _jac_from_cols(T_, y, x):
    check_output_type(y, 'jacfwd', True)
    if not isinstance(y, types.BaseTuple) and _is_complex(T_):
        raise TypingError(T._COMPLEX)
    if isinstance(y, types.BaseTuple):
        return _tuple_impl(['T_', 'y', 'x'], len(y), 'T.jac_from_cols(T_[{k}], y[{k}], x)')

    def impl(T_, y, x):
        J = np.ascontiguousarray(np.ascontiguousarray(T_).reshape((T.size(x), T.size(y))).T)
        return T.jac_shape(J, y, x)
    return impl


@overload(T.jac_from_rows)
def _jac_from_rows(B, y, x):
    if isinstance(y, types.BaseTuple):     # the rows of each item, one after the other
        return _tuple_impl(['B', 'y', 'x'], len(y), 'T.jac_from_rows(B[o{k}:o{k1}], y[{k}], x)',
                           'T.size(y[{k}])')

    def impl(B, y, x):
        return T.jac_shape(np.ascontiguousarray(B).reshape((T.size(y), T.size(x))), y, x)
    return impl








def _nd(x):
    return x.ndim if isinstance(x, types.Array) else 0


@overload(T.jac_shape)
def _jac_shape(J, y, x):
    ny, nx = _nd(y), _nd(x)
    if ny == 0 and nx == 0:
        return lambda J, y, x: J[0, 0]
    if ny == 0:
        return lambda J, y, x: J.reshape(x.shape)
    if nx == 0:
        return lambda J, y, x: J.reshape(y.shape)
    return lambda J, y, x: J.reshape(y.shape + x.shape)
