"""Numba overloads of the shape twins of runtime.npx: squeeze, expand_dims,
reshape, concatenate/stack/vstack/hstack.  Imported by runtime.numba_npx.

Each overload returns, per call pattern, a plain function with the twin's
signature (constants of the pattern captured), not a wrapper around another
njit function: every call level costs compile time.  Int arguments are
passed on as ``np.int64(...)`` so that literal axes share the helpers.
"""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, INNER, overload, npx, types, njit, to_fixed_tuple, fail, const, reject,
    is_array, is_scalar, is_none, is_int_type, dtype_of, axis_kind,
    int_seq, int_seq_int, norm_axis, prod_range, NpxValueError)


@functools.lru_cache(maxsize=None)
def _view(layout, out_nd):
    """njit: a view of x with shape s and strides st (int64 arrays): reshape
    for C arrays, as_strided otherwise."""
    if layout == 'C':
        return njit(lambda x, s, st: x.reshape(to_fixed_tuple(s, out_nd)))
    return njit(lambda x, s, st: np.lib.stride_tricks.as_strided(
        x, to_fixed_tuple(s, out_nd), to_fixed_tuple(st, out_nd)))


def _axes_fn(kind):
    """njit: axis (int or tuple) -> int64 array, literal ints made plain."""
    return int_seq_int if kind == 'int' else int_seq


# --- squeeze / expand_dims ---------------------------------------------------

@functools.lru_cache(maxsize=None)
def _squeeze_impl(kind, layout, nd, out_nd):
    view = _view(layout, out_nd)
    axes = _axes_fn(kind)

    def squeeze(a, axis=None):
        ax = axes(axis)
        red = np.zeros(nd, np.bool_)
        for k in ax:
            k = norm_axis(k, nd)
            if a.shape[k] != 1:
                raise ValueError('cannot select an axis to squeeze out which '
                                 'has size not equal to one')
            red[k] = True
        s, st = _kept(a.shape, a.strides, red, out_nd)
        return view(a, s, st)
    return squeeze


@njit(**INNER)
def _kept(shape, strides, red, out_nd):
    """(shape, strides) of the axes not flagged in `red`, as int64 arrays."""
    s = np.empty(out_nd, np.int64)
    st = np.empty(out_nd, np.int64)
    p = 0
    for d in range(len(red)):
        if not red[d]:
            s[p] = shape[d]
            st[p] = strides[d]
            p += 1
    return s, st


@overload(npx.squeeze, prefer_literal=True, jit_options=JIT)
def _squeeze(a, axis=None):
    if not (is_array(a) or is_scalar(a)):
        fail('squeeze', 'expected an array, got %s' % (a,))
    kind, nax = axis_kind('squeeze', axis)
    nd = a.ndim if is_array(a) else 0
    if nd == 0:
        return lambda a, axis=None: np.asarray(a)
    if kind == 'none':
        return _squeeze_one_impl(a.layout, nd)
    return _squeeze_impl(kind, a.layout, nd, nd - nax)


@functools.lru_cache(maxsize=None)
def _squeeze_one_impl(layout, nd):
    """np.squeeze(a) without axis, compiled: the result's ndim is fixed when
    the code is compiled, so it removes exactly one axis of size 1 (the
    common ``(n, 1) -> (n,)``); a 1-D array is returned as it is. Any other
    count of unit axes is a ValueError asking for ``axis=``."""
    view = _view(layout, nd - 1)

    def squeeze(a, axis=None):
        if nd == 1:
            if a.shape[0] == 1:
                raise ValueError('np.squeeze without axis under jit: a 1-D array of size 1 '
                                 'would become 0-d (its ndim is fixed when compiling); '
                                 'pass axis=0')
            return a
        k = -1
        for d in range(nd):
            if a.shape[d] == 1:
                if k >= 0:
                    raise ValueError('np.squeeze without axis under jit removes exactly one '
                                     'axis of size 1 (the result ndim is fixed when '
                                     'compiling); this array has several: pass axis=')
                k = d
        if k < 0:
            raise ValueError('np.squeeze without axis under jit removes exactly one axis of '
                             'size 1 (the result ndim is fixed when compiling); this array '
                             'has none: pass axis=')
        red = np.zeros(nd, np.bool_)
        red[k] = True
        s, st = _kept(a.shape, a.strides, red, nd - 1)
        return view(a, s, st)
    return squeeze


@functools.lru_cache(maxsize=None)
def _squeeze_all_impl(kind, layout, nd, out_nd):
    view = _view(layout, out_nd)
    axes = _axes_fn(kind)

    def squeeze_all(a, axis):
        ax = axes(axis)
        red = np.zeros(nd, np.bool_)
        for k in ax:
            k = norm_axis(k, nd)
            if a.shape[k] != 1:
                raise ValueError('cannot select an axis to squeeze out which '
                                 'has size not equal to one')
            red[k] = True
        s = np.empty(out_nd, np.int64)
        st = np.empty(out_nd, np.int64)
        p = 0
        for d in range(nd):
            if not red[d]:
                if a.shape[d] == 1:
                    raise NpxValueError(
                        'np.squeeze without axis: axis %d has size 1 at run '
                        'time, and compiled code must know the number of '
                        'dimensions of the result; pass axis=', d)
                s[p] = a.shape[d]
                st[p] = a.strides[d]
                p += 1
        return view(a, s, st)
    return squeeze_all


@overload(npx.squeeze_all, prefer_literal=True, jit_options=JIT)
def _squeeze_all(a, axis):
    if not is_array(a):
        fail('squeeze_all', 'expected an array, got %s' % (a,))
    kind, nax = axis_kind('squeeze_all', axis)
    if kind == 'none':
        fail('squeeze_all', 'axis must be an int or a tuple of ints')
    return _squeeze_all_impl(kind, a.layout, a.ndim, a.ndim - nax)


@functools.lru_cache(maxsize=None)
def _expand_impl(kind, layout, out_nd):
    view = _view(layout, out_nd)
    axes = _axes_fn(kind)

    def expand_dims(a, axis):
        x = np.asarray(a)
        new = np.zeros(out_nd, np.bool_)
        for k in axes(axis):
            k = norm_axis(k, out_nd)
            if new[k]:
                raise ValueError('repeated axis')
            new[k] = True
        s = np.empty(out_nd, np.int64)
        st = np.empty(out_nd, np.int64)
        p = 0
        for d in range(out_nd):
            if new[d]:
                s[d] = 1
                st[d] = x.itemsize
            else:
                s[d] = x.shape[p]
                st[d] = x.strides[p]
                p += 1
        return view(x, s, st)
    return expand_dims


@overload(npx.expand_dims, prefer_literal=True, jit_options=JIT)
def _expand_dims(a, axis):
    if not (is_array(a) or is_scalar(a)):
        fail('expand_dims', 'expected an array, got %s' % (a,))
    kind, nax = axis_kind('expand_dims', axis)
    if kind == 'none':
        fail('expand_dims', 'axis must be an int or a tuple of ints')
    layout = a.layout if is_array(a) else 'C'
    nd = a.ndim if is_array(a) else 0
    return _expand_impl(kind, layout, nd + nax)


# --- reshape -----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _reshape_impl(kind, use_new, n):
    seq = _axes_fn(kind)

    def reshape(a, shape=None, order='C', newshape=None, copy=None):
        x = np.ascontiguousarray(np.asarray(a))
        s = seq(newshape if use_new else shape)
        unknown = -1
        known = 1
        for k in range(n):
            if s[k] == -1:
                if unknown >= 0:
                    raise ValueError('can only specify one unknown dimension')
                unknown = k
            elif s[k] < 0:
                raise ValueError('negative dimensions not allowed')
            else:
                known *= s[k]
        if unknown >= 0 and known != 0 and x.size % known == 0:
            s[unknown] = x.size // known
        elif unknown >= 0 or known != x.size:
            raise NpxValueError('cannot reshape array of size %d into shape '
                                '%s', x.size, to_fixed_tuple(s, n))
        return x.reshape(to_fixed_tuple(s, n))
    return reshape


@overload(npx.reshape, prefer_literal=True, jit_options=JIT)
def _reshape(a, shape=None, order='C', newshape=None, copy=None):
    reject('reshape', copy=copy)
    if not (is_array(a) or is_scalar(a)):
        fail('reshape', 'expected an array, got %s' % (a,))
    if const(order) != 'C':
        fail('reshape', "only order='C' is supported, got %s" % (order,))
    use_new = is_none(shape)
    st = newshape if use_new else shape
    if is_int_type(st):
        kind, n = 'int', 1
    elif isinstance(st, types.BaseTuple) and all(
            isinstance(e, types.Integer) for e in st.types):
        kind, n = 'tuple', len(st.types)
    else:
        fail('reshape', 'shape must be an int or a tuple of ints, got %s'
             % (st,))
    return _reshape_impl(kind, use_new, n)


# --- concatenate / stack -----------------------------------------------------

def _seq_of_arrays(name, t):
    """(ndim, result dtype, n or None, convert): ``convert(arrays)`` gives a
    list or a homogeneous tuple of arrays (a tuple mixing layouts or dtypes
    is converted to C arrays of the result dtype)."""
    if isinstance(t, (types.List, types.ListType)):
        elems = [t.dtype]
    elif isinstance(t, types.BaseTuple) and len(t.types):
        elems = list(t.types)
    else:
        fail(name, 'expected a tuple or list of arrays, got %s' % (t,))
    if not all(is_array(e) for e in elems):
        fail(name, 'expected a tuple or list of arrays, got %s' % (t,))
    nds = {e.ndim for e in elems}
    if len(nds) != 1:
        fail(name, 'all the input arrays must have same number of dimensions')
    rt = np.result_type(*[dtype_of(e) for e in elems])
    if isinstance(t, (types.List, types.ListType, types.UniTuple)):
        return nds.pop(), rt, None
    return nds.pop(), rt, len(elems)


@functools.lru_cache(maxsize=None)
def _homog(n, rt):
    """njit-able: a heterogeneous tuple of n arrays as a tuple of C arrays
    of dtype rt."""
    src = 'def homog(t):\n    return (%s,)\n' % ', '.join(
        'np.ascontiguousarray(t[%d]).astype(RT)' % j for j in range(n))
    g = {'np': np, 'RT': np.dtype(rt).type}
    exec(compile(src, '<npx.homog>', 'exec'), g)
    from numba import njit
    return njit(g['homog'])


_CONCAT = '''def concat(arrays, axis):
    n = len(arrays)
    if n == 0:
        raise ValueError('need at least one array to concatenate')
    k = norm_axis(axis, ND)
    first = arrays[0].shape
    shp = np.empty(ND, np.int64)
    tot = 0
    for j in range(n):
        x = arrays[j]
        for d in range(ND):
            shp[d] = first[d]
            if d != k and x.shape[d] != first[d]:
                raise NpxValueError(
                    'all the input array dimensions except for the '
                    'concatenation axis must match exactly, but along '
                    'dimension %d, the array at index 0 has size %d and '
                    'the array at index %d has size %d', d, first[d], j,
                    x.shape[d])
        tot += x.shape[k]
    shp[k] = tot
    out = np.empty(to_fixed_tuple(shp, ND), RT)
    O = prod_range(shp, 0, k)
    I = prod_range(shp, k + 1, ND)
    out3 = out.reshape((O, tot, I))
    off = 0
    for j in range(n):
        x = arrays[j]
        nk = x.shape[k]
        x3 = np.ascontiguousarray(x).reshape((O, nk, I))
        for o in range(O):
            for q in range(nk):
                for i in range(I):
                    out3[o, off + q, i] = x3[o, q, i]
        off += nk
    return out
'''

_RAVEL = '''def concat(arrays, axis):
    tot = 0
    for j in range(len(arrays)):
        tot += arrays[j].size
    out = np.empty(tot, RT)
    off = 0
    for j in range(len(arrays)):
        xf = np.ascontiguousarray(arrays[j]).reshape(-1)
        for i in range(xf.size):
            out[off + i] = xf[i]
        off += xf.size
    return out
'''

_STACK = '''def concat(arrays, axis):
    n = len(arrays)
    if n == 0:
        raise ValueError('need at least one array to stack')
    k = norm_axis(axis, ND + 1)
    first = arrays[0].shape
    shp = np.empty(ND + 1, np.int64)
    for d in range(ND):
        shp[d + (d >= k)] = first[d]
    shp[k] = n
    out = np.empty(to_fixed_tuple(shp, ND + 1), RT)
    O = prod_range(shp, 0, k)
    I = prod_range(shp, k + 1, ND + 1)
    out3 = out.reshape((O, n, I))
    for j in range(n):
        x = arrays[j]
        if x.shape != first:
            raise ValueError('all input arrays must have the same shape')
        x2 = np.ascontiguousarray(x).reshape((O, I))
        for o in range(O):
            for i in range(I):
                out3[o, j, i] = x2[o, i]
    return out
'''


@functools.lru_cache(maxsize=None)
def _joiner(kind, nd, rt, n_hetero, name, sig, seq, axis):
    """The impl of a concatenate-like twin: ``kind`` ('concat', 'ravel',
    'stack') of nd-dim arrays, ``seq`` and ``axis`` the source of the
    arrays and of the axis."""
    body = {'concat': _CONCAT, 'ravel': _RAVEL, 'stack': _STACK}[kind]
    body = body.split('\n', 1)[1].replace('ND', str(nd))
    arrs = 'homog(%s)' % seq if n_hetero else seq
    src = 'def %s(%s):\n    arrays = %s\n    axis = %s\n%s' % (
        name, sig, arrs, axis, body)
    g = {'np': np, 'RT': np.dtype(rt).type, 'norm_axis': norm_axis,
         'to_fixed_tuple': to_fixed_tuple, 'prod_range': prod_range,
         'NpxValueError': NpxValueError,
         'homog': _homog(n_hetero, rt) if n_hetero else None}
    exec(compile(src, '<npx.%s>' % name, 'exec'), g)
    return g[name]


@overload(npx.concatenate, prefer_literal=True, jit_options=JIT)
def _concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    reject('concatenate', out=out, dtype=dtype, casting=casting)
    nd, rt, nh = _seq_of_arrays('concatenate', arrays)
    if nd == 0:
        fail('concatenate', 'zero-dimensional arrays cannot be concatenated')
    if not is_int_type(axis) and const(axis) is not None:
        fail('concatenate', 'axis must be an int or None, got %s' % (axis,))
    kind = 'ravel' if const(axis) is None else 'concat'
    return _joiner(kind, nd, rt.str, nh, 'concatenate',
                   'arrays, axis=0, out=None, dtype=None, casting=None',
                   'arrays', '0' if kind == 'ravel' else 'np.int64(axis)')


@overload(npx.stack, prefer_literal=True, jit_options=JIT)
def _stack(arrays, axis=0, out=None, dtype=None, casting=None):
    reject('stack', out=out, dtype=dtype, casting=casting)
    nd, rt, nh = _seq_of_arrays('stack', arrays)
    if not is_int_type(axis):
        fail('stack', 'axis must be an int, got %s' % (axis,))
    return _joiner('stack', nd, rt.str, nh, 'stack',
                   'arrays, axis=0, out=None, dtype=None, casting=None',
                   'arrays', 'np.int64(axis)')


@overload(npx.vstack, prefer_literal=True, jit_options=JIT)
def _vstack(tup, dtype=None, casting=None):
    reject('vstack', dtype=dtype, casting=casting)
    nd, rt, nh = _seq_of_arrays('vstack', tup)
    if nd == 0:
        fail('vstack', '0-d arrays are not supported')
    return _joiner('stack' if nd == 1 else 'concat', nd, rt.str, nh, 'vstack',
                   'tup, dtype=None, casting=None', 'tup', 'np.int64(0)')


@overload(npx.hstack, prefer_literal=True, jit_options=JIT)
def _hstack(tup, dtype=None, casting=None):
    reject('hstack', dtype=dtype, casting=casting)
    nd, rt, nh = _seq_of_arrays('hstack', tup)
    if nd == 0:
        fail('hstack', '0-d arrays are not supported')
    return _joiner('concat', nd, rt.str, nh, 'hstack',
                   'tup, dtype=None, casting=None', 'tup',
                   'np.int64(%d)' % (0 if nd == 1 else 1))
