"""Numba overloads of the NumPy twins in :mod:`runtime.npx`.

Importing this module registers a ``numba.extending.overload`` for every
twin, so that generated code calling ``npx.max(x, axis=0)`` compiles under
``@njit``.  The compiler imports it (through :mod:`runtime.numba_impl`)
before compiling anything.

Reductions live here; shape functions in :mod:`runtime.numba_shapes` and
:mod:`runtime.numba_tile_pad`, boolean masks in :mod:`runtime.numba_masks`,
products in :mod:`runtime.numba_products`, einsum in
:mod:`runtime.numba_einsum` (all imported at the end).

How a reduction compiles (Numba compile time is the cost to watch: each
compiled function costs ~0.1 s plus ~0.05-0.3 s per array operation, and
every caller re-emits the machine code of what it calls):

* ``_prep(x, axes)`` (one compile per input array type) views the input as
  C-order ``(outer, n, inner)``: the reduced axes, if adjacent, need no copy;
  otherwise the array is copied with the reduced axes moved last;
* a fold kernel (one compile per op and dtype) reduces the middle axis with
  scalar loops over the flat buffer;
* the overload's impl (one small function per call pattern: axis kind, ndim,
  keepdims) glues them and reshapes the result to NumPy's shape.

Integer ``axis`` values are passed on as ``np.int64`` so that literal axes
(``axis=0`` vs ``axis=1``) share the helpers.
"""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, INNER, overload, npx, types, njit, to_fixed_tuple, fail, const, const_bool,
    reject, is_array, is_scalar, is_none, dtype_of, acc_dtype, axis_kind,
    int_seq, norm_axis, AxisError, gather_perm)

# --- shared runtime helpers ----------------------------------------------------


@njit(**INNER)
def prep(x, axes):
    """(xf, O, N, I, red): ``x`` as a flat C-order buffer seen as
    (O, N, I), N the product of the reduced ``axes`` (ints, negative ok);
    ``red`` flags the reduced axes."""
    nd = x.ndim
    red = np.zeros(nd, np.bool_)
    for a in axes:
        k = norm_axis(a, nd)
        if red[k]:
            raise ValueError("duplicate value in 'axis'")
        red[k] = True
    lo = nd
    hi = nd - 1
    for d in range(nd):
        if red[d]:
            if lo == nd:
                lo = d
            hi = d
    block = True
    for d in range(lo, hi + 1):
        if not red[d]:
            block = False
    O = 1
    N = 1
    I = 1
    if block:                   # adjacent axes: no copy
        for d in range(nd):
            if d < lo:
                O *= x.shape[d]
            elif d > hi:
                I *= x.shape[d]
            else:
                N *= x.shape[d]
        return np.ascontiguousarray(x).reshape(-1), O, N, I, red
    perm = np.empty(nd, np.int64)
    p = 0
    for d in range(nd):
        if not red[d]:
            perm[p] = d
            p += 1
            O *= x.shape[d]
    for d in range(nd):
        if red[d]:
            perm[p] = d
            p += 1
            N *= x.shape[d]
    return gather_perm(x, perm), O, N, I, red


@njit(**INNER)
def prep_int(x, axis):
    """``prep`` for one int axis: never copies a C-contiguous input."""
    nd = x.ndim
    k = norm_axis(axis, nd)
    red = np.zeros(nd, np.bool_)
    red[k] = True
    O = 1
    I = 1
    for d in range(k):
        O *= x.shape[d]
    for d in range(k + 1, nd):
        I *= x.shape[d]
    return np.ascontiguousarray(x).reshape(-1), O, x.shape[k], I, red


@njit(**INNER)
def prep_all(x):
    """``prep`` for axis=None: (xf, 1, size, 1)."""
    one = np.int64(1)
    return np.ascontiguousarray(x).reshape(-1), one, np.int64(x.size), one


@njit(**INNER)
def out_shape(shp, red, keep):
    """NumPy's output shape (int64 array) of a reduction over ``red``."""
    n = 0
    for d in range(len(shp)):
        if keep or not red[d]:
            n += 1
    s = np.empty(n, np.int64)
    p = 0
    for d in range(len(shp)):
        if keep or not red[d]:
            s[p] = 1 if red[d] else shp[d]
            p += 1
    return s


@njit(**INNER)
def axes0(axis):
    """A ufunc reduction of a 0-d array accepts axis 0 or -1 (NumPy quirk)."""
    if axis < -1 or axis > 0:
        raise AxisError(axis, 0)
    return np.empty(0, np.int64)


# --- fold kernels: (xf, O, N, I) -> flat (O * I) result --------------------------

_FOLD = """def fold(xf, O, N, I):
    out = np.empty(O * I, RT)
    if O * I and N == 0 and EMPTY:
        raise ValueError(MSG)
    acc = np.empty(I, ACC)
    for o in range(O):
        ob = o * I
        xb = o * N * I
        if I == 1:
            r = INIT0
            for j in range(START, N):
                v = xf[xb + j]
                UPDATE
            out[ob] = FINAL
        else:
            for i in range(I):
                acc[i] = INITI
            for j in range(START, N):
                xj = xb + j * I
                for i in range(I):
                    v = xf[xj + i]
                    r = acc[i]
                    UPDATE
                    acc[i] = r
            for i in range(I):
                r = acc[i]
                out[ob + i] = FINAL
    return out
"""

# op: (init, first j, update, final, name in the empty-input error)
_FOLDS = {
    'sum': ('ACC(0)', '0', 'r = r + ACC(v)', 'RT(r)', None),
    'prod': ('ACC(1)', '0', 'r = r * ACC(v)', 'RT(r)', None),
    'mean': ('ACC(0)', '0', 'r = r + ACC(v)', 'RT(r / N)', None),
    'any': ('False', '0', 'r = r or v != 0', 'r', None),
    'all': ('True', '0', 'r = r and v != 0', 'r', None),
    'max': ('ACC(xf[X0])', '1', 'if v > r or v != v:\n    r = ACC(v)',
            'RT(r)', 'maximum'),
    'min': ('ACC(xf[X0])', '1', 'if v < r or v != v:\n    r = ACC(v)',
            'RT(r)', 'minimum'),
}

_VAR = """def fold(xf, O, N, I, ddof):
    out = np.empty(O * I, RT)
    den = max(N - ddof, 0)
    for o in range(O):
        for i in range(I):
            xb = o * N * I + i
            s = ACC(0)
            for j in range(N):
                s += ACC(xf[xb + j * I])
            m = s / N
            q = 0.0
            for j in range(N):
                d = ACC(xf[xb + j * I]) - m
                q += ABS2
            out[o * I + i] = RT(SQRT(q / den))
    return out
"""

_ARG = """def fold(xf, O, N, I):
    out = np.empty(O * I, np.int64)
    if O * I and N == 0:
        raise ValueError("attempt to get NAME of an empty sequence")
    for o in range(O):
        for i in range(I):
            xb = o * N * I + i
            best = xf[xb]
            kbest = 0
            if best == best:
                for j in range(1, N):
                    v = xf[xb + j * I]
                    if v CMP best:
                        best = v
                        kbest = j
                    elif v != v:
                        kbest = j
                        break
            out[o * I + i] = kbest
    return out
"""

_CUM = """def fold(xf, O, N, I):
    res = np.empty(O * N * I, RT)
    for o in range(O):
        xb = o * N * I
        if N:
            for i in range(I):
                res[xb + i] = RT(xf[xb + i])
        for j in range(1, N):
            row = xb + j * I
            for i in range(I):
                res[row + i] = res[row - I + i] OP RT(xf[row + i])
    return res
"""


def _indent(code, n):
    return code.replace('\n', '\n' + ' ' * n)


def _exec(src, name, glbs):
    g = {'np': np, 'AxisError': AxisError, 'to_fixed_tuple': to_fixed_tuple}
    g.update(glbs)
    exec(compile(src, '<npx.%s>' % name, 'exec'), g)
    fn = g[name]
    fn.source = src
    return fn


@functools.lru_cache(maxsize=None)
def fold_kernel(op, rt, acc):
    """The njit fold kernel of ``op`` with result dtype ``rt`` and
    accumulator dtype ``acc`` (dtype strings)."""
    if op in _FOLDS:
        init, start, update, final, err = _FOLDS[op]
        src = _FOLD.replace('EMPTY', str(err is not None)).replace(
            'MSG', repr('zero-size array to reduction operation %s which has '
                        'no identity' % err))
        src = src.replace('INIT0', init.replace('X0', 'xb'))
        src = src.replace('INITI', init.replace('X0', 'xb + i'))
        src = src.replace('START', start)
        src = src.replace('                    UPDATE',
                          '                    ' + _indent(update, 20))
        src = src.replace('                UPDATE',
                          '                ' + _indent(update, 16))
        src = src.replace('FINAL', final)
    elif op in ('var', 'std'):
        cplx = np.dtype(acc).kind == 'c'
        src = _VAR.replace('ABS2', 'd.real * d.real + d.imag * d.imag'
                           if cplx else 'd * d')
        src = src.replace('SQRT', 'np.sqrt' if op == 'std' else '')
    elif op in ('argmax', 'argmin'):
        src = _ARG.replace('NAME', op).replace(
            'CMP', '>' if op == 'argmax' else '<')
    else:
        src = _CUM.replace('OP', '+' if op == 'cumsum' else '*')
    fn = _exec(src, 'fold', {'RT': np.dtype(rt).type,
                             'ACC': np.dtype(acc).type})
    return njit(error_model='numpy', **INNER)(fn)


# --- per-pattern impls ----------------------------------------------------------

_SIG = {
    'sum': 'a, axis=None, dtype=None, out=None, keepdims=False',
    'var': 'a, axis=None, dtype=None, out=None, ddof=0, keepdims=False',
    'max': 'a, axis=None, out=None, keepdims=False',
    'cumsum': 'a, axis=None, dtype=None, out=None',
}
for _k in ('prod', 'mean'):
    _SIG[_k] = _SIG['sum']
_SIG['std'] = _SIG['var']
for _k in ('min', 'any', 'all', 'argmax', 'argmin'):
    _SIG[_k] = _SIG['max']
_SIG['cumprod'] = _SIG['cumsum']

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
    src = 'def %s(%s):\n    %s\n' % (op, _SIG[op], _indent('\n'.join(L), 4))
    return _exec(src, op, {'prep': prep, 'out_shape': out_shape,
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


def reduction(op, a, axis, keepdims, dtype=None, out=None, ddof=0):
    """Typing time: the impl of reduction ``op`` for these argument types,
    or a TypingError naming the argument the twin doesn't support."""
    reject(op, out=out)
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
    def ol(a, axis=None, dtype=None, out=None, keepdims=False):
        return reduction(op, a, axis, keepdims, dtype, out)
    return ol


def _ol_var_like(op):
    def ol(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return reduction(op, a, axis, keepdims, dtype, out, ddof)
    return ol


def _ol_max_like(op):
    def ol(a, axis=None, out=None, keepdims=False):
        return reduction(op, a, axis, keepdims, None, out)
    return ol


def _ol_cum_like(op):
    def ol(a, axis=None, dtype=None, out=None):
        return reduction(op, a, axis, False, dtype, out)
    return ol


for _op, _ol in [('sum', _ol_sum_like), ('prod', _ol_sum_like),
                 ('mean', _ol_sum_like), ('var', _ol_var_like),
                 ('std', _ol_var_like), ('max', _ol_max_like),
                 ('min', _ol_max_like), ('any', _ol_max_like),
                 ('all', _ol_max_like), ('argmax', _ol_max_like),
                 ('argmin', _ol_max_like), ('cumsum', _ol_cum_like),
                 ('cumprod', _ol_cum_like)]:
    overload(getattr(npx, _op), prefer_literal=True, jit_options=JIT)(
        _ol(_op))


# Register the remaining overloads.
from runtime import (numba_shapes, numba_tile_pad, numba_masks,  # noqa: E402
                     numba_products, numba_einsum)  # noqa: F401,E402
