"""Numba overloads of the rule helpers in :mod:`runtime.adjoint`.

Importing this module (``runtime.numba_impl`` does) lets generated code that
calls ``unbroadcast(g, x)`` & co. compile under ``@njit``.  Each overload
dispatches at typing time on ndims, axis kinds and constant arguments, so
that the straight-line templates stay free of branches.  A scalar or 0-d
cotangent is a float64, as in the NumPy versions.

Compile time is what these overloads are written for (it adds up in every
generated gradient): scalar loops over the flat C-order buffer instead of
array expressions, one *group index* per reduction for every axis kind
(``_groups``), ``v = x[i]; v += r`` instead of ``x[i] += r`` (2.7 s to
compile on a 2-vCPU box), a loop instead of Numba's np.outer (2.5 s) and
np.transpose(a, axes) (``_permute``).  Axes and flags are runtime values:
one compile per type, not per literal value.
"""
import functools

import numpy as np
from numba.core.errors import TypingError

from runtime import adjoint as A
from runtime import npx
from runtime._nb_common import (
    JIT, axes_tuple, axis_kind,
    const, dtype_of, is_array, is_none, is_scalar, njit, norm_axis, overload,
    to_fixed_tuple, types)


def _fail(name, msg):
    raise TypingError('adjoint.%s: %s' % (name, msg))


def _sc(t):
    """A number or a 0-d array (its cotangent is a float)."""
    return is_scalar(t) or (is_array(t) and t.ndim == 0)


def _fdt(t):
    """The cotangent dtype of type ``t`` (float64 unless inexact)."""
    dt = dtype_of(t)
    return dt if dt.kind in 'fc' else np.dtype(np.float64)


def _ol(fn, literal=False):
    """Register an overload of ``fn``.  Axes and flags are runtime values
    (one compile per type, not per literal value: NUMBA_FACTS rule 4);
    ``literal`` for overloads that dispatch on constant values.  Never
    inline='always': it made the tests' compiles ~20% slower."""
    return overload(fn, prefer_literal=literal, jit_options=JIT)


def _gen(name, src, jit=False, **glbs):
    """Exec the source of one generated function (named ``name``): an
    overload impl, or with ``jit`` an njit function that impls call."""
    g = {'np': np, 'npx': npx, 'to_fixed_tuple': to_fixed_tuple,
         'norm_axis': norm_axis, 'unbroadcast': A.unbroadcast,
         'unreduce': A.unreduce, 'to_float': to_float,
         'einsum_vjp': A.einsum_vjp, 'extremum_mask': A.extremum_mask,
         'zeros_like': A.zeros_like, 'reshape_like': A.reshape_like}
    g.update(glbs)
    exec(compile(src, '<adjoint.%s>' % name, 'exec'), g)
    fn = g[name]
    fn.source = src
    return njit(**JIT)(fn) if jit else fn


def _loops(dims, body, ind=1):
    """Nested ``for i<k> in range(<dim k>)`` lines around ``body``."""
    L = []
    for k, n in enumerate(dims):
        L.append('    ' * (ind + k) + 'for i%d in range(%s):' % (k, n))
    L.append('    ' * (ind + len(dims)) + body)
    return L


# --- cotangent plumbing ---------------------------------------------------------

def to_float(g):
    """float(sum(g)) for a number or an array (njit only)."""
    raise NotImplementedError


@_ol(to_float)
def _to_float(g):
    if is_array(g):
        return lambda g: np.float64(np.sum(g))
    return lambda g: np.float64(g)


@_ol(A.zeros_like)
def _zeros_like(x):
    if isinstance(x, types.BaseTuple):
        items = ', '.join('zeros_like(x[%d])' % k for k in range(len(x)))
        return _gen('zl', 'def zl(x):\n    return (%s%s)\n'
                    % (items, ',' if len(x) == 1 else ''))
    if isinstance(x, (types.List, types.ListType)):
        return lambda x: [A.zeros_like(e) for e in x]
    if _sc(x):
        return lambda x: 0.0
    if is_array(x):
        dt = _fdt(x)
        return lambda x: np.zeros(x.shape, dt)
    _fail('zeros_like', 'expected an array, a number or a tuple, got %s' % x)


@functools.lru_cache(maxsize=None)
def _sum_to(gnd, lnd, dt, fast):
    """g (gnd dims) summed down to like's shape (lnd dims), broadcasting
    either way; ``fast``: return g itself when the shapes are equal."""
    B = max(gnd, lnd)
    L = ['def sum_to(g, like):', '    gs = g.shape', '    ls = like.shape']
    if fast:
        L += ['    if gs == ls:', '        return g']
    for k in range(B):
        gk = 'gs[%d]' % (k - B + gnd) if k >= B - gnd else '1'
        lk = 'ls[%d]' % (k - B + lnd) if k >= B - lnd else '1'
        L += ['    g%d = %s' % (k, gk), '    l%d = %s' % (k, lk),
              '    if g%d == l%d or g%d == 1 or l%d == 1:' % (k, k, k, k),
              '        b%d = max(g%d, l%d)' % (k, k, k), '    else:',
              '        raise ValueError("unbroadcast: shapes do not match")']
    L.append('    out = np.zeros(ls, DT)')
    oi = ', '.join('i%d * (l%d != 1)' % (k, k) for k in range(B - lnd, B))
    gi = ', '.join('i%d * (g%d != 1)' % (k, k) for k in range(B - gnd, B))
    L += _loops(['b%d' % k for k in range(B)],
                'out[%s] += g[%s]' % (oi, gi))
    L.append('    return out')
    return _gen('sum_to', '\n'.join(L) + '\n', DT=np.dtype(dt).type)


@_ol(A.unbroadcast)
def _unbroadcast(g, like):
    if _sc(like):
        return lambda g, like: to_float(g)
    if not is_array(like):
        _fail('unbroadcast', 'cannot unbroadcast to %s' % like)
    dt = _fdt(like)
    if _sc(g):
        return lambda g, like: np.full(like.shape, to_float(g), dt)
    fast = g.dtype == dt and g.layout == 'C' and g.mutable and \
        g.ndim == like.ndim
    return _sum_to(g.ndim, like.ndim, dt.str, fast)


# --- reduction groups ---------------------------------------------------------------
# Reduction helpers work on the flat C-order buffer: each element's *group*
# is the flat index of the output it reduces into (its keepdims position).
# One scalar loop serves every axis kind and ndim, and compiles fast.

@njit(**JIT)
def _groups(shape, red):
    """(group of each flat element, number of groups) for an array of
    ``shape`` reduced over the axes where ``red`` is True."""
    nd = len(shape)
    stride = np.zeros(nd, np.int64)
    ng = 1
    n = 1
    for k in range(nd - 1, -1, -1):
        n *= shape[k]
        if not red[k]:
            stride[k] = ng
            ng *= shape[k]
    out = np.empty(n, np.int64)
    idx = np.zeros(nd, np.int64)
    o = 0
    for i in range(n):
        out[i] = o
        k = nd - 1
        while k >= 0:
            idx[k] += 1
            o += stride[k]
            if idx[k] < shape[k]:
                break
            o -= stride[k] * shape[k]
            idx[k] = 0
            k -= 1
    return out, ng


def grouping(a, axis):
    """(groups, count) of ``a`` reduced over ``axis`` (njit only)."""
    raise NotImplementedError


@_ol(grouping)
def _grouping(a, axis):
    kind, _ = axis_kind('grouping', axis)
    nd = a.ndim
    if kind == 'none':
        return lambda a, axis: _groups(a.shape, np.ones(nd, np.bool_))
    if kind == 'int':
        def impl(a, axis):
            red = np.zeros(nd, np.bool_)
            red[norm_axis(axis, nd)] = True
            return _groups(a.shape, red)
        return impl

    def impl_tuple(a, axis):
        red = np.zeros(nd, np.bool_)
        for k in axes_tuple(axis, nd):
            red[k] = True
        return _groups(a.shape, red)
    return impl_tuple


def flat(v):
    """v's elements as a C-order 1-D array (a number: one element)."""
    raise NotImplementedError


@_ol(flat)
def _flat(v):
    if is_array(v):
        return lambda v: np.ascontiguousarray(v).ravel()
    return lambda v: np.full(1, v)


@_ol(A.unreduce)
def _unreduce(g, a, axis=None, keepdims=False):
    if _sc(a):
        return lambda g, a, axis=None, keepdims=False: to_float(g)
    if not is_array(a):
        _fail('unreduce', 'expected an array, got %s' % a)
    dt = _fdt(a)
    if _sc(g):
        return lambda g, a, axis=None, keepdims=False: np.full(
            a.shape, to_float(g), dt)

    def impl(g, a, axis=None, keepdims=False):
        grp, ng = grouping(a, axis)
        gf = flat(g)
        if gf.size != ng:
            raise ValueError('unreduce: the cotangent does not fit the '
                             'reduction')
        out = np.empty(grp.size, dt)
        for i in range(grp.size):
            out[i] = gf[grp[i]]
        return out.reshape(a.shape)
    return impl


@_ol(A.reshape_like, literal=True)
def _reshape_like(g, a, order='C'):
    if _sc(a):
        return lambda g, a, order='C': to_float(g)
    dt = _fdt(a)
    if _sc(g):
        return lambda g, a, order='C': np.full(a.shape, to_float(g), dt)
    if const(order) != 'C':
        _fail('reshape_like', "only order='C' compiles")
    if g.dtype == dt:
        return lambda g, a, order='C': np.ascontiguousarray(g).reshape(
            a.shape)
    return lambda g, a, order='C': np.ascontiguousarray(g).reshape(
        a.shape).astype(dt)


def _dtype_arg(t):
    """The np.dtype a ``dtype`` argument type denotes (typing time)."""
    if isinstance(t, types.NumberClass):
        return np.dtype(t.instance_type.name)
    if isinstance(t, types.DType):
        return np.dtype(t.dtype.name)
    if isinstance(t, types.Function) and t.typing_key in (float, int, bool,
                                                          complex):
        return np.dtype(t.typing_key)
    v = const(t)
    if isinstance(v, str):
        return np.dtype(v)
    _fail('like_dtype', 'dtype must be a constant NumPy type, got %s' % t)


@_ol(A.like_dtype, literal=True)
def _like_dtype(g, a, dtype):
    if _dtype_arg(dtype).kind in 'fc':
        return lambda g, a, dtype: A.unbroadcast(g, a)
    return lambda g, a, dtype: A.zeros_like(a)


# --- reductions -------------------------------------------------------------------

@_ol(A.reduced_size)
def _reduced_size(a, axis=None):
    if _sc(a):
        return lambda a, axis=None: 1.0
    kind, _ = axis_kind('reduced_size', axis)
    nd = a.ndim
    if kind == 'none':
        return lambda a, axis=None: np.float64(a.size)
    if kind == 'int':
        return lambda a, axis=None: np.float64(a.shape[norm_axis(axis, nd)])

    def impl(a, axis=None):
        n = 1
        for k in axes_tuple(axis, nd):
            n *= a.shape[k]
        return np.float64(n)
    return impl


@_ol(A.demean)
def _demean(a, axis=None):
    if _sc(a):
        return lambda a, axis=None: 0.0
    dt = _fdt(a)

    def impl(a, axis=None):
        grp, ng = grouping(a, axis)
        x = flat(a)
        s = np.zeros(ng, dt)
        c = np.zeros(ng, dt)
        for i in range(x.size):
            s[grp[i]] += x[i]
            c[grp[i]] += 1
        out = np.empty(x.size, dt)
        for i in range(x.size):
            out[i] = x[i] - s[grp[i]] / c[grp[i]]
        return out.reshape(a.shape)
    return impl


@_ol(A.extremum_mask)
def _extremum_mask(a, ans, axis=None, keepdims=False):
    if _sc(a):
        return lambda a, ans, axis=None, keepdims=False: 1.0
    dt = _fdt(a)

    def impl(a, ans, axis=None, keepdims=False):
        grp, ng = grouping(a, axis)
        x = flat(a)
        m = flat(ans)
        cnt = np.zeros(ng, dt)
        out = np.empty(x.size, dt)
        for i in range(x.size):
            v = x[i]
            mv = m[grp[i]]
            e = 1.0 if v == mv or (v != v and mv != mv) else 0.0
            out[i] = e
            cnt[grp[i]] += e
        for i in range(x.size):
            out[i] /= cnt[grp[i]]
        return out.reshape(a.shape)
    return impl


@_ol(A.prod_others)
def _prod_others(a, axis=None):
    if _sc(a):
        return lambda a, axis=None: 1.0
    dt = _fdt(a)

    def impl(a, axis=None):
        grp, ng = grouping(a, axis)
        x = flat(a)
        p = np.ones(ng, dt)
        out = np.empty(x.size, dt)
        for i in range(x.size):
            out[i] = p[grp[i]]
            p[grp[i]] *= x[i]
        p[:] = 1.0
        for i in range(x.size - 1, -1, -1):
            out[i] *= p[grp[i]]
            p[grp[i]] *= x[i]
        return out.reshape(a.shape)
    return impl


@_ol(A.reverse_cumsum)
def _reverse_cumsum(g, a, axis=None):
    if not is_array(g):
        _fail('reverse_cumsum', 'expected an array cotangent, got %s' % g)
    dt = _fdt(g)
    if is_none(axis):
        def flat_impl(g, a, axis=None):
            x = flat(g)
            out = np.empty(x.size, dt)
            s = 0.0
            for i in range(x.size - 1, -1, -1):
                s += x[i]
                out[i] = s
            return A.reshape_like(out, a)
        return flat_impl

    def impl(g, a, axis=None):
        grp, ng = grouping(g, axis)
        x = flat(g)
        s = np.zeros(ng, dt)
        out = np.empty(x.size, dt)
        for i in range(x.size - 1, -1, -1):
            s[grp[i]] += x[i]
            out[i] = s[grp[i]]
        return A.reshape_like(out.reshape(g.shape), a)
    return impl


# --- element-wise -------------------------------------------------------------------

@_ol(A.tie_weight)
def _tie_weight(x, y):
    if is_none(x) or is_none(y):
        return lambda x, y: 1.0
    if all(isinstance(t, (types.Integer, types.Float, types.Boolean)) for t in (x, y)):
        # the same numbers as a select, which a loop over examples vectorizes
        return lambda x, y: 1.0 if x > y else (0.5 if x == y else 0.0)
    return lambda x, y: np.greater(x, y) + 0.5 * np.equal(x, y)


@_ol(A.safe_log)
def _safe_log(x):
    if _sc(x):
        def impl(x):
            v = to_float(x)
            if v > 0:
                return np.log(v)
            return 0.0 if v == 0 else np.nan
        return impl

    def impl_arr(x):
        xf = np.ascontiguousarray(x).ravel()
        out = np.empty(xf.size, np.float64)
        for k in range(xf.size):
            v = xf[k]
            out[k] = np.log(v) if v > 0 else (0.0 if v == 0 else np.nan)
        return out.reshape(x.shape)
    return impl_arr


# --- shapes and indexing ------------------------------------------------------------

@njit(**JIT)
def _permute(g, ax):
    """``np.transpose(g, ax)`` as a new C-order array (``ax`` an int64 array
    of axes in [0, ndim)): one scalar loop, cheap to compile."""
    nd = g.ndim
    x = np.ascontiguousarray(g).ravel()
    gst = np.empty(nd, np.int64)
    s = 1
    for k in range(nd - 1, -1, -1):
        gst[k] = s
        s *= g.shape[k]
    shp = np.empty(nd, np.int64)
    st = np.empty(nd, np.int64)
    for k in range(nd):
        shp[k] = g.shape[ax[k]]
        st[k] = gst[ax[k]]
    out = np.empty(x.size, g.dtype)
    idx = np.zeros(nd, np.int64)
    o = 0
    for i in range(x.size):
        out[i] = x[o]
        k = nd - 1
        while k >= 0:
            idx[k] += 1
            o += st[k]
            if idx[k] < shp[k]:
                break
            o -= st[k] * shp[k]
            idx[k] = 0
            k -= 1
    return out.reshape(to_fixed_tuple(shp, nd))


@_ol(A.untranspose)
def _untranspose(g, axes=None):
    if _sc(g):
        return lambda g, axes=None: to_float(g)
    if not is_array(g):
        _fail('untranspose', 'expected an array, got %s' % g)
    nd = g.ndim
    if is_none(axes):
        return lambda g, axes=None: _permute(g, np.arange(nd)[::-1].copy())

    def impl(g, axes=None):
        inv = np.empty(nd, np.int64)
        for k in range(nd):
            inv[norm_axis(axes[k], nd)] = k
        return _permute(g, inv)
    return impl


@functools.lru_cache(maxsize=None)
def _take(nd, ranged):
    """njit-able ``take(g, ax, lo, n)``: g's slab [lo, lo+n) (ranged) or its
    slice lo along the runtime axis ``ax``, C-contiguous."""
    L = ['def take(g, ax, lo, n):']
    for k in range(nd):
        ix = ', '.join([':'] * k + ['lo:lo + n' if ranged else 'lo'])
        L += ['    %s ax == %d:' % ('if' if k == 0 else 'elif', k),
              '        return np.ascontiguousarray(g[%s])' % ix]
    L += ['    raise ValueError("axis out of range")']
    return _gen('take', '\n'.join(L) + '\n', jit=True)


def _seq(name, t):
    if isinstance(t, types.BaseTuple):
        return len(t)
    if isinstance(t, (types.List, types.ListType)):
        return None
    _fail(name, 'expected a tuple or a list, got %s' % t)


@_ol(A.split_like)
def _split_like(g, arrays, axis=0):
    n = _seq('split_like', arrays)
    nd = g.ndim
    if is_none(axis):
        one = ('np.ascontiguousarray(gf[off:off + x.size]).reshape(x.shape)')
        head = ['def split(g, arrays, axis=0):',
                '    gf = np.ascontiguousarray(g).ravel()', '    off = 0']
        size = 'x.size'
    else:
        one = 'take(g, ax, off, x.shape[ax])'
        head = ['def split(g, arrays, axis=0):',
                '    ax = norm_axis(axis, %d)' % nd, '    off = 0']
        size = 'x.shape[ax]'
    if n is None:
        L = head + ['    out = []', '    for x in arrays:',
                    '        out.append(%s)' % one,
                    '        off += %s' % size, '    return out']
    else:
        L = head[:]
        for k in range(n):
            L += ['    x = arrays[%d]' % k, '    r%d = %s' % (k, one),
                  '    off += %s' % size]
        L.append('    return (%s,)' % ', '.join('r%d' % k for k in range(n)))
    return _gen('split', '\n'.join(L) + '\n', take=_take(nd, True))


@_ol(A.unstack_like)
def _unstack_like(g, arrays, axis=0):
    n = _seq('unstack_like', arrays)
    nd = g.ndim
    elem = arrays.dtype if n is None else (arrays.types[0] if n else None)
    one = 'to_float(g[k])' if nd == 1 and elem is not None and _sc(elem) \
        else 'take(g, ax, k, 1)'
    L = ['def unstack(g, arrays, axis=0):', '    ax = norm_axis(axis, %d)' % nd]
    if n is None:
        L += ['    out = []', '    for k in range(len(arrays)):',
              '        out.append(%s)' % one, '    return out']
    else:
        for k in range(n):
            L.append('    k = %d' % k)
            L.append('    r%d = %s' % (k, one))
        L.append('    return (%s,)' % ', '.join('r%d' % k for k in range(n)))
    return _gen('unstack', '\n'.join(L) + '\n', take=_take(nd, False))


def _basic(t):
    """Basic indexing: ints, slices, None (np.newaxis), Ellipsis."""
    return isinstance(t, (types.Integer, types.SliceType, types.NoneType,
                          types.EllipsisType))


@_ol(A.setitem_cotangent)
def _setitem_cotangent(bar, index):
    if is_array(index) and isinstance(index.dtype, types.Integer) and index.ndim == 1 \
            and is_array(bar):
        dt = _fdt(bar)

        def impl(bar, index):
            n = bar.shape[0]
            out = bar[index].astype(dt)
            last = np.full(n, -1, np.int64)
            for k in range(index.shape[0]):
                j = index[k]
                if j < 0:
                    j += n
                last[j] = k
            for k in range(index.shape[0]):
                j = index[k]
                if j < 0:
                    j += n
                if last[j] != k:
                    out[k] = 0.0
            return out
        return impl
    if is_array(index) and isinstance(index.dtype, types.Boolean):
        if index.ndim > 1:      # (Numba's own indexing takes a mask of one axis only)
            return lambda bar, index: npx.mask_select(bar, index)
        return lambda bar, index: bar[index]        # a mask selects each element once
    basic = (types.Integer, types.SliceType, types.NoneType, types.EllipsisType)
    if isinstance(index, basic) or (isinstance(index, types.BaseTuple)
                                    and all(isinstance(t, basic) for t in index.types)):
        return lambda bar, index: bar[index]        # each element written once
    _fail('setitem_cotangent', 'compiled code differentiates writes through one 1-D integer '
          'index array (repeats keep the last write); got index %s' % index)


@_ol(A.zeros_like_list)
def _zeros_like_list(x):
    if isinstance(x, (types.List, types.ListType)):
        return lambda x: [A.zeros_like(e) for e in x]
    if isinstance(x, types.UniTuple):
        return lambda x: [A.zeros_like(e) for e in x]
    _fail('zeros_like_list', 'expected a list or a tuple of one type, got %s' % x)


@_ol(A.add_seq)
def _add_seq(bar, parts):
    if isinstance(bar, (types.List, types.ListType)) and isinstance(bar.dtype, (types.List, types.ListType)):
        def nested(bar, parts):     # a list of lists: item by item
            if len(parts) != len(bar):
                raise ValueError('internal: wrong number of cotangents for a sequence')
            for k in range(len(bar)):
                bar[k] = A.add_seq(bar[k], parts[k])
            return bar
        return nested

    def impl(bar, parts):
        if len(parts) != len(bar):
            raise ValueError('internal: wrong number of cotangents for a sequence')
        for k in range(len(bar)):
            bar[k] = bar[k] + A.unbroadcast(parts[k], bar[k])
        return bar
    return impl


@_ol(A.pop_item)
def _pop_item(bar, like):
    return lambda bar, like: A.unbroadcast(bar.pop(), like)


@_ol(A.push_item)
def _push_item(bar, g, like):
    def impl(bar, g, like):
        bar.append(A.unbroadcast(g, like))
        return bar
    return impl


@_ol(A.zero_item)
def _zero_item(bar, index):
    def impl(bar, index):
        bar[index] = A.zeros_like(bar[index])
        return bar
    return impl


@_ol(A.add_at)
def _add_at(target, index, g):
    if isinstance(target, (types.List, types.ListType)):
        def list_impl(target, index, g):
            target[index] = target[index] + A.unbroadcast(g, target[index])
            return target
        return list_impl
    if _sc(target):
        return lambda target, index, g: to_float(target) + to_float(g)
    nd = target.ndim
    if _basic(index) or (isinstance(index, types.BaseTuple) and all(
            _basic(t) for t in index.types)):
        ints = (isinstance(index, types.Integer) or isinstance(
            index, types.BaseTuple) and all(isinstance(
                t, types.Integer) for t in index.types)) and (
            1 if isinstance(index, types.Integer) else len(index)) == nd
        if ints:                    # one element
            def one(target, index, g):
                target[index] = target[index] + to_float(g)
                return target
            return one

        def basic(target, index, g):
            v = target[index]       # a view: += writes through (and
            v += g                  # compiles far faster than x[i] += g)
            return target
        return basic
    if is_array(index) and isinstance(index.dtype, types.Integer):
        def ints(target, index, g):
            idx = flat(index)
            n = target.shape[0]
            r = target.size // n if n else 0
            tf = target.reshape(target.size)
            gf = flat(g)
            for k in range(idx.size):
                j = idx[k]
                base = (j + n if j < 0 else j) * r
                for c in range(r):
                    tf[base + c] += gf[k * r + c]
            return target
        return ints
    if is_array(index) and isinstance(index.dtype, types.Boolean):
        def mask(target, index, g):
            mf = flat(index)
            r = target.size // mf.size if mf.size else 0
            tf = target.reshape(target.size)
            gf = flat(g)
            k = 0
            for q in range(mf.size):
                if mf[q]:
                    for c in range(r):
                        tf[q * r + c] += gf[k * r + c]
                    k += 1
            return target
        return mask
    if isinstance(index, types.BaseTuple):
        return _add_at_tuple(tuple(index.types), nd)
    _fail('add_at', 'unsupported index type %s' % index)


def _add_at_tuple(ts, nd):
    """Scatter-add for a tuple index holding integer arrays."""
    arr = [k for k, t in enumerate(ts) if is_array(t)]
    if not all(isinstance(ts[k].dtype, types.Integer) for k in arr):
        _fail('add_at', 'boolean masks inside a tuple index are not '
              'supported in compiled code')
    L = ['def add_at(target, index, g):']
    if all(is_array(t) or isinstance(t, types.Integer) for t in ts):
        # x[i, j] with integer arrays (and ints): one scatter loop
        p = len(ts)
        for k in arr:
            L.append('    a%d = np.ascontiguousarray(index[%d]).ravel()'
                     % (k, k))
        L += ['    n = a%d.size' % arr[0],
              '    gf = np.ascontiguousarray(g).reshape((n,) + '
              'target.shape[%d:])' % p, '    for q in range(n):']
        ix = ', '.join('a%d[q]' % k if k in arr else 'index[%d]' % k
                       for k in range(p))
        if p == nd:     # one element per q
            L.append('        target[%s] = target[%s] + gf[q]' % (ix, ix))
        else:           # a view: += writes through (compiles fast)
            L += ['        v = target[%s]' % ix, '        v += gf[q]']
    elif len(arr) == 1 and all(isinstance(t, types.SliceType)
                               for k, t in enumerate(ts) if k != arr[0]):
        # x[:, idx] (slices around one integer array)
        P = arr[0]
        Q = ts[P].ndim
        L += ['    a = np.ascontiguousarray(index[%d]).ravel()' % P,
              '    n = a.size',
              '    gr = np.ascontiguousarray(g).reshape(g.shape[:%d] + (n,) '
              '+ g.shape[%d:])' % (P, P + Q), '    for q in range(n):']
        ix = ', '.join('a[q]' if k == P else 'index[%d]' % k
                       for k in range(len(ts)))
        L += ['        v = target[%s]' % ix,
              '        v += gr[%s]' % ', '.join([':'] * P + ['q'])]
    else:
        _fail('add_at', 'tuple index %s is not supported in compiled code '
              '(integer arrays with ints, or slices around one integer '
              'array)' % (ts,))
    L.append('    return target')
    return _gen('add_at', '\n'.join(L) + '\n')


# --- einsum ---------------------------------------------------------------------------

def _operand_ndims(name, operands):
    if not isinstance(operands, types.BaseTuple):
        _fail(name, 'operands must be a tuple, got %s' % operands)
    for t in operands.types:
        if not (is_array(t) or is_scalar(t)):
            _fail(name, 'operands must be arrays or numbers, got %s' % t)
    return tuple(t.ndim if is_array(t) else 0 for t in operands.types)


def _subscripts(name, t):
    v = const(t)
    if not isinstance(v, str):
        _fail(name, 'subscripts must be a compile-time constant string, got '
              '%s' % t)
    return v


@_ol(A.einsum_vjp, literal=True)
def _einsum_vjp(subscripts, i, g, operands):
    subs = _subscripts('einsum_vjp', subscripts)
    k = const(i)
    if not isinstance(k, int):
        _fail('einsum_vjp', 'i must be a constant int, got %s' % i)
    ndims = _operand_ndims('einsum_vjp', operands)
    try:
        spec, others, extras = A.einsum_vjp_plan(subs, ndims, k)
    except ValueError as e:
        _fail('einsum_vjp', str(e))
    L = ['def ev(subscripts, i, g, operands):', '    x = operands[%d]' % k]
    args = ['g'] + ['operands[%d]' % j for j in others]
    for j, (kind, p) in enumerate(extras):
        L.append('    e%d = np.%s(x.shape[%d])' % (
            j, 'eye' if kind == 'eye' else 'ones', p))
        args.append('e%d' % j)
    L += ['    r = npx.einsum(%r, %s)' % (spec, ', '.join(args)),
          '    return unbroadcast(r, x)']
    return _gen('ev', '\n'.join(L) + '\n')


@_ol(A.einsum_vjps, literal=True)
def _einsum_vjps(subscripts, g, operands):
    _subscripts('einsum_vjps', subscripts)
    n = len(_operand_ndims('einsum_vjps', operands))
    items = ', '.join('einsum_vjp(subscripts, %d, g, operands)' % k
                      for k in range(n))
    return _gen('evs', 'def evs(subscripts, g, operands):\n    return (%s,)\n'
                % items)


# --- products and linear algebra ----------------------------------------------------------

@njit(**JIT)
def _outer(a, b):
    """np.outer of two vectors (Numba's np.outer takes ~2.5 s to compile)."""
    out = np.empty((a.size, b.size))
    for i in range(a.size):
        for j in range(b.size):
            out[i, j] = a[i] * b[j]
    return out


_DOT2 = {  # (a.ndim, b.ndim) -> (cotangent of a, cotangent of b)
    (1, 1): ('g * b', 'g * a'),
    (2, 2): ('np.dot(g, b.T)', 'np.dot(a.T, g)'),
    (2, 1): ('_outer(g, b)', 'np.dot(g, a)'),
    (1, 2): ('np.dot(b, g)', '_outer(a, g)'),
}


def _dot_grad(which, name, g, a, b, matmul):
    if _sc(a) or _sc(b):
        if matmul:
            _fail(name, 'matmul does not take scalars')
        other, mine = ('b', 'a') if which == 0 else ('a', 'b')
        src = 'def dg(g, a, b):\n    return unbroadcast(g * %s, %s)\n' % (
            other, mine)
    elif (a.ndim, b.ndim) in _DOT2:
        src = 'def dg(g, a, b):\n    return %s\n' % _DOT2[a.ndim, b.ndim][
            which]
    elif matmul:
        if not (a.ndim in (2, 3) and b.ndim in (2, 3)):
            _fail(name, 'compiled batched matmul takes 2-D and 3-D operands, '
                  'got %d-D and %d-D' % (a.ndim, b.ndim))
        ai = ('a[i if a.shape[0] != 1 else 0]' if a.ndim == 3 else 'a')
        bi = ('b[i if b.shape[0] != 1 else 0]' if b.ndim == 3 else 'b')
        me = (a, 'a', ai) if which == 0 else (b, 'b', bi)
        term = 'np.dot(g[i], %s.T)' % bi if which == 0 else \
            'np.dot(%s.T, g[i])' % ai
        L = ['def dg(g, a, b):', '    out = np.zeros(%s.shape)' % me[1],
             '    for i in range(g.shape[0]):',
             '        r = %s' % term]
        if me[0].ndim == 3:
            L += ['        j = i if %s.shape[0] != 1 else 0' % me[1],
                  '        v = out[j]', '        v += r']
        else:
            L += ['        out += r']
        src = '\n'.join(L + ['    return out']) + '\n'
    else:
        subs = A._dot_subscripts(a.ndim, b.ndim)
        src = 'def dg(g, a, b):\n    return einsum_vjp(%r, %d, g, (a, b))\n' \
            % (subs, which)
    return _gen('dg', src, _outer=_outer)


@_ol(A.dot_grad_a)
def _dot_grad_a(g, a, b):
    return _dot_grad(0, 'dot_grad_a', g, a, b, False)


@_ol(A.dot_grad_b)
def _dot_grad_b(g, a, b):
    return _dot_grad(1, 'dot_grad_b', g, a, b, False)


@_ol(A.matmul_grad_a)
def _matmul_grad_a(g, a, b):
    return _dot_grad(0, 'matmul_grad_a', g, a, b, True)


@_ol(A.matmul_grad_b)
def _matmul_grad_b(g, a, b):
    return _dot_grad(1, 'matmul_grad_b', g, a, b, True)


@_ol(A.matrix_transpose)
def _matrix_transpose(x):
    if not is_array(x) or x.ndim < 2:
        _fail('matrix_transpose', 'expected an array of ndim >= 2, got %s' % x)
    if x.ndim == 2:
        return lambda x: np.ascontiguousarray(x.T)
    nd = x.ndim

    def impl(x):
        ax = np.arange(nd)
        ax[-1], ax[-2] = nd - 2, nd - 1
        return _permute(x, ax)
    return impl


@_ol(A.expand_matrix_dims)
def _expand_matrix_dims(v):
    if _sc(v):
        return lambda v: to_float(v)
    return lambda v: np.ascontiguousarray(v).reshape(v.shape + (1, 1))


@_ol(A.as_columns)
def _as_columns(v):
    if is_array(v) and v.ndim == 1:
        return lambda v: np.ascontiguousarray(v).reshape((v.shape[0], 1))
    return lambda v: v


@_ol(A.trace_grad)
def _trace_grad(g, a, offset=0, axis1=0, axis2=1):
    if not (is_array(a) and a.ndim == 2):
        _fail('trace_grad', 'compiled code supports the trace of a matrix '
              'only, got %s' % a)
    dt = _fdt(a)

    def impl(g, a, offset=0, axis1=0, axis2=1):
        n1, n2 = a.shape
        ax1 = norm_axis(axis1, 2)
        ax2 = norm_axis(axis2, 2)
        if ax1 == ax2:
            raise ValueError('axis1 and axis2 cannot be the same')
        out = np.zeros(a.shape, dt)
        v = to_float(g)
        m1, m2 = (n1, n2) if ax1 == 0 else (n2, n1)
        for i in range(m1):
            j = i + offset
            if 0 <= j < m2:
                if ax1 == 0:
                    out[i, j] = v
                else:
                    out[j, i] = v
        return out
    return impl


# --- norms ---------------------------------------------------------------------------------
# d norm / dx, one small impl per (vector|matrix, ord); ord known at typing
# time picks one, a runtime ord (a variable, np.inf) branches over them.

def _scaled(x, w, p):
    """sign(x) * |x| ** p * w (element-wise, flat w), as x's shape; p == 0:
    sign(x) * w."""
    xf = flat(x)
    out = np.empty(xf.size)
    for i in range(xf.size):
        v = xf[i]
        s = 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
        out[i] = s * w[i] * (abs(v) ** p if p != 0 else 1.0)
    return out.reshape(x.shape)


def _v2(x, ans, ord=None, axis=None, keepdims=False):
    n = flat(A.unreduce(ans, x, axis, keepdims))
    w = np.empty(n.size)
    for i in range(n.size):
        w[i] = 1.0 / n[i] if n[i] != 0 else 0.0
    return _scaled(x, w, 1.0)


def _v1(x, ans, ord=None, axis=None, keepdims=False):
    return _scaled(x, np.ones(x.size), 0.0)


def _vinf(x, ans, ord=None, axis=None, keepdims=False):
    w = flat(A.extremum_mask(np.abs(x), ans, axis, keepdims))
    return _scaled(x, w, 0.0)


def _v0(x, ans, ord=None, axis=None, keepdims=False):
    return np.zeros(x.shape)


def _vp(x, ans, ord=None, axis=None, keepdims=False):
    p = ord - 1.0
    n = flat(A.unreduce(ans, x, axis, keepdims))
    w = np.empty(n.size)
    for i in range(n.size):
        w[i] = 1.0 / n[i] ** p if n[i] != 0 else 0.0
    return _scaled(x, w, p)


def _vany(x, ans, ord=None, axis=None, keepdims=False):
    if ord == 2:
        return _v2(x, ans, ord, axis, keepdims)
    if ord == 1:
        return _v1(x, ans, ord, axis, keepdims)
    if ord == np.inf or ord == -np.inf:
        return _vinf(x, ans, ord, axis, keepdims)
    if ord == 0:
        return _v0(x, ans, ord, axis, keepdims)
    return _vp(x, ans, ord, axis, keepdims)


def _msvd(x, ans, ord=None, axis=None, keepdims=False):
    u, s, vt = np.linalg.svd(x, False)
    k = 0 if ord == 2 else len(s) - 1
    return _outer(u[:, k], vt[k, :])


def _mnuc(x, ans, ord=None, axis=None, keepdims=False):
    u, s, vt = np.linalg.svd(x, False)
    return np.dot(u, vt)


def _msum(x, ans, ord=None, axis=None, keepdims=False):
    """ord 1/-1: max/min absolute column sum; inf/-inf: rows."""
    cols = ord == 1 or ord == -1
    n1, n2 = x.shape
    sums = np.zeros(n2 if cols else n1)
    for i in range(n1):
        for j in range(n2):
            sums[j if cols else i] += abs(x[i, j])
    pick = sums[0]
    for k in range(sums.size):
        if (sums[k] > pick) if ord > 0 else (sums[k] < pick):
            pick = sums[k]
    ties = 0.0
    for k in range(sums.size):
        ties += sums[k] == pick
    out = np.empty((n1, n2))
    for i in range(n1):
        for j in range(n2):
            v = x[i, j]
            w = (sums[j if cols else i] == pick) / ties
            out[i, j] = w if v > 0 else (-w if v < 0 else 0.0)
    return out


def _many(x, ans, ord=None, axis=None, keepdims=False):
    # a float ord known at run time only (np.inf): 2 and -2 must be int
    # literals, so that this branch does not compile an SVD
    if ord == 1 or ord == -1 or ord == np.inf or ord == -np.inf:
        return _msum(x, ans, ord, axis, keepdims)
    raise ValueError('norm: in compiled code a matrix ord must be 1, -1, '
                     'np.inf, -np.inf, or the int literals 2, -2')


_NORMS = [_scaled, _v2, _v1, _vinf, _v0, _vp, _vany, _msvd, _mnuc, _msum, _many]
_scaled, _v2, _v1, _vinf, _v0, _vp, _vany, _msvd, _mnuc, _msum, _many = [
    njit(**JIT)(f) for f in _NORMS]


@_ol(A.norm_grad, literal=True)
def _norm_grad(x, ans, ord=None, axis=None, keepdims=False):
    if _sc(x):
        return lambda x, ans, ord=None, axis=None, keepdims=False: \
            np.float64(np.sign(to_float(x)))
    kind, _ = axis_kind('norm_grad', axis)
    o = const(ord)
    if kind == 'tuple' and o is not None:
        _fail('norm_grad', 'compiled code takes matrix norms over axis=None '
              'only (ord=%s, axis=%s)' % (ord, axis))
    matrix = kind == 'none' and x.ndim == 2 and o is not None
    if o is None or (o == 'fro' and matrix):
        pick = _v2
    elif o == 'nuc' and matrix:
        pick = _mnuc
    elif not isinstance(ord, types.Number):
        _fail('norm_grad', 'unsupported ord %s' % ord)
    elif kind == 'none' and x.ndim != (2 if matrix else 1):
        _fail('norm_grad', 'ord= needs a vector or a matrix')
    elif not (isinstance(o, (int, float)) and not isinstance(o, bool)):
        pick = _many if matrix else _vany       # ord known at run time only
    elif matrix:
        if abs(o) not in (1, 2, np.inf):
            _fail('norm_grad', 'invalid norm order %r for matrices' % o)
        pick = _msvd if abs(o) == 2 else _msum
    else:
        pick = {2: _v2, 1: _v1, 0: _v0}.get(o) or (
            _vinf if abs(o) == np.inf else _vp)
    return lambda x, ans, ord=None, axis=None, keepdims=False: pick(
        x, ans, ord, axis, keepdims)
