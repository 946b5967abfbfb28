"""Numba overloads of the product twins of runtime.npx: matmul, dot, inner,
tensordot, kron; plus heaviside.  Imported by runtime.numba_npx.

Every product becomes ``mm(A, B, out)``: ``out[:] = A @ B`` for C-contiguous
2-D operands of the result dtype, with BLAS (Numba's ``np.dot``) for float
and complex results and a scalar loop for int and bool (BLAS has none).

Each overload's impl is generated source with the twin's signature, one per
call pattern (ndims, result dtype): the contracted axes are moved with
``gather_perm`` (a loop; no copy when they are already in place), the
operands are cast to the result dtype (NumPy's type promotion, so mixed
float32 / float64 works) and handed to ``mm``.  No impl calls another
generated function: each call level costs compile time (Numba re-optimizes
everything a function calls, at every level).
"""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, overload, npx, types, njit, fail, const, reject, is_array, is_scalar,
    is_int_type, dtype_of, int_seq, norm_axis, prod_range, gather_perm,
    to_fixed_tuple, NpxValueError)


@functools.lru_cache(maxsize=None)
def _mm(rt):
    """njit ``mm(A, B, out)``: out[:] = A @ B for C-contiguous 2-D arrays of
    dtype ``rt``."""
    if np.dtype(rt).kind in 'fc':
        @njit
        def mm(A, B, out):
            if A.shape[1] == 0:
                out.fill(0)
            elif out.size:
                np.dot(A, B, out)
        return mm
    RT = np.dtype(rt).type
    ACC = np.int64 if np.dtype(rt).kind == 'b' else RT

    @njit
    def mm(A, B, out):
        M, K = A.shape
        N = B.shape[1]
        acc = np.empty(N, ACC)
        for m in range(M):
            for n in range(N):
                acc[n] = 0
            for k in range(K):
                av = ACC(A[m, k])
                if av != 0:
                    for n in range(N):
                        acc[n] += av * ACC(B[k, n])
            for n in range(N):
                out[m, n] = RT(acc[n])
    return mm


def _operands(name, a, b, scalars=True):
    """Typing-time check; returns the result dtype."""
    for t in (a, b):
        if not (is_array(t) or (scalars and is_scalar(t))):
            fail(name, 'expected arrays%s, got %s'
                 % (' or numbers' if scalars else '', t))
    return np.result_type(dtype_of(a), dtype_of(b))


_MISMATCH = {
    'tensordot': ["raise ValueError('shape-mismatch for sum')"],
    'matmul': ["raise NpxValueError('matmul: Input operand 1 has a mismatch "
               "in its core dimension 0, with gufunc signature (n?,k),(k,m?)"
               "->(n?,m?) (size %d is different from %d)', b.shape[kb], "
               "a.shape[ka])"],
    'dot': ["raise NpxValueError('shapes %s and %s not aligned: %d (dim %d) "
            "!= %d (dim %d)', a.shape, b.shape, a.shape[ka], ka, "
            "b.shape[kb], kb)"],
}
_MISMATCH['inner'] = _MISMATCH['dot']


def _generate(name, sig, body, glbs):
    src = 'def %s(%s):\n    %s\n' % (name, sig, '\n    '.join(body))
    g = {'np': np, 'to_fixed_tuple': to_fixed_tuple}
    g.update(glbs)
    exec(compile(src, '<npx.%s>' % name, 'exec'), g)
    fn = g[name]
    fn.source = src
    return fn


def _contract_src(nda, ndb, nc, style, ca, cb):
    """Source lines: ``res`` = a and b (int64 arrays ``axa``, ``axb`` of nc
    axes already set) contracted; result shape free(a) + free(b)."""
    out_nd = nda + ndb - 2 * nc
    L = ['ca = np.zeros(%d, np.bool_)' % nda, 'cb = np.zeros(%d, np.bool_)' % ndb,
         'K = 1', 'for j in range(%d):' % nc,
         '    ka = norm_axis(axa[j], %d)' % nda,
         '    kb = norm_axis(axb[j], %d)' % ndb,
         '    if ca[ka] or cb[kb]:',
         "        raise ValueError('repeated axis in tensordot axes')",
         '    ca[ka] = True', '    cb[kb] = True', '    axa[j] = ka',
         '    axb[j] = kb', '    if a.shape[ka] != b.shape[kb]:']
    L += ['        ' + x for x in _MISMATCH[style]]
    L += ['    K *= a.shape[ka]',
          'pa = np.empty(%d, np.int64)' % nda, 'pb = np.empty(%d, np.int64)' % ndb,
          's = np.ones(%d, np.int64)' % max(out_nd, 1), 'p = 0', 'M = 1',
          'for d in range(%d):' % nda, '    if not ca[d]:',
          '        pa[p] = d', '        s[p] = a.shape[d]', '        M *= a.shape[d]',
          '        p += 1',
          'for j in range(%d):' % nc, '    pa[%d + j] = axa[j]' % (nda - nc),
          '    pb[j] = axb[j]',
          'q = %d' % nc, 'N = 1',
          'for d in range(%d):' % ndb, '    if not cb[d]:',
          '        pb[q] = d', '        s[p] = b.shape[d]', '        N *= b.shape[d]',
          '        q += 1', '        p += 1',
          'A = gather_perm(a, pa).reshape((M, K))',
          'B = gather_perm(b, pb).reshape((K, N))',
          'res = np.empty((M, N), RT)',
          'mm(%s, %s, res)' % (ca % 'A', cb % 'B')]
    if out_nd == 0:
        return L + ['return res[0, 0]']
    return L + ['return res.reshape(to_fixed_tuple(s, %d))' % out_nd]


def _cast(t, rt):
    """Format string: an array of ``t``'s dtype cast to ``rt``."""
    return '%s' if dtype_of(t) == rt else '%s.astype(RT)'


def _contract_impl(name, sig, a, b, rt, nc, style, axes_src):
    """The generated impl of a contraction of ``nc`` axes of a and b;
    ``axes_src`` (source lines) set ``axa`` and ``axb``."""
    L = list(axes_src) + _contract_src(a.ndim, b.ndim, nc, style,
                                       _cast(a, rt), _cast(b, rt))
    return _generate(name, sig, L, {
        'RT': rt.type, 'mm': _mm(rt.str), 'gather_perm': gather_perm,
        'norm_axis': norm_axis, 'int_seq': int_seq,
        'NpxValueError': NpxValueError})


def _const_axes(axa, axb):
    """Source lines setting ``axa``/``axb`` to constant axes."""
    L = ['axa = np.empty(%d, np.int64)' % len(axa),
         'axb = np.empty(%d, np.int64)' % len(axb)]
    L += ['axa[%d] = %d' % (j, k) for j, k in enumerate(axa)]
    return L + ['axb[%d] = %d' % (j, k) for j, k in enumerate(axb)]


@functools.lru_cache(maxsize=None)
def _scaled(rt, both_scalar, sig='a, b'):
    """NumPy's dot/inner/kron of a number: a multiply."""
    body = ['return RT(a) * RT(b)'] if both_scalar else [
        'return (np.asarray(a) * np.asarray(b)).astype(RT)']
    return _generate('scaled', sig, body, {'RT': np.dtype(rt).type})


@overload(npx.tensordot, prefer_literal=True, jit_options=JIT)
def _tensordot(a, b, axes=2):
    rt = _operands('tensordot', a, b, scalars=False)
    nda, ndb = a.ndim, b.ndim
    sig = 'a, b, axes=2'
    n = const(axes)
    if isinstance(n, int) and not isinstance(n, bool):
        if n < 0 or n > min(nda, ndb):
            fail('tensordot', 'axes=%d is out of range' % n)
        return _contract_impl('tensordot', sig, a, b, rt, n, 'tensordot',
                              _const_axes(range(nda - n, nda), range(n)))
    if is_int_type(axes):
        fail('tensordot', 'an int axes= must be a compile-time constant')
    if not (isinstance(axes, types.BaseTuple) and len(axes.types) == 2):
        fail('tensordot', 'axes must be an int or a pair of sequences, got %s'
             % (axes,))
    lens = []
    for t in axes.types:
        if is_int_type(t):
            lens.append(1)
        elif isinstance(t, types.BaseTuple) and all(
                isinstance(e, types.Integer) for e in t.types):
            lens.append(len(t.types))
        else:
            fail('tensordot', 'axes sequences must be ints or tuples of ints, '
                 'got %s' % (t,))
    if lens[0] != lens[1]:
        fail('tensordot', 'shape-mismatch for sum')
    if lens[0] > min(nda, ndb):
        fail('tensordot', 'too many axes')
    return _contract_impl('tensordot', sig, a, b, rt, lens[0], 'tensordot',
                          ['axa = int_seq(axes[0])', 'axb = int_seq(axes[1])'])


def _two_d(name, a, b, rt, transpose_b, sig='a, b'):
    """impl of dot / inner / matmul for operands of ndim 1 or 2: A (M, K) and
    B (K, N) need no axis moves (``b.T`` for inner)."""
    nda, ndb = a.ndim, b.ndim
    M = 'a.shape[0]' if nda == 2 else '1'
    N = ('b.shape[0]' if transpose_b else 'b.shape[1]') if ndb == 2 else '1'
    kb = (ndb - 1) if transpose_b else 0
    L = ['a, b = %s' % sig.replace(', out=None', ''), 'ka = %d' % (nda - 1),
         'kb = %d' % kb,
         'K = a.shape[ka]', 'if b.shape[kb] != K:']
    L += ['    ' + x for x in _MISMATCH[name]]
    L += ['A = np.ascontiguousarray(a).reshape((%s, K))' % M,
          'B = np.ascontiguousarray(b%s).reshape((K, %s))'
          % ('.T' if transpose_b and ndb == 2 else '', N),
          'res = np.empty((%s, %s), RT)' % (M, N),
          'mm(%s, %s, res)' % (_cast(a, rt) % 'A', _cast(b, rt) % 'B')]
    shape = ([M] if nda == 2 else []) + ([N] if ndb == 2 else [])
    if not shape:
        L += ['return res[0, 0]']
    else:
        L += ['return res.reshape((%s,))' % ', '.join(shape)]
    return _generate(name, sig, L, {
        'RT': rt.type, 'mm': _mm(rt.str), 'NpxValueError': NpxValueError})


def _dot_like(name, a, b, b_axis, sig='a, b'):
    """dot / inner: contract a's last axis with b's ``b_axis(ndim)``."""
    rt = _operands(name, a, b)
    nda, ndb = (t.ndim if is_array(t) else 0 for t in (a, b))
    if nda == 0 or ndb == 0:
        return _scaled(rt.str, not (is_array(a) or is_array(b)), sig)
    if nda <= 2 and ndb <= 2:
        return _two_d(name, a, b, rt, name == 'inner', sig)
    return _contract_impl(name, sig, a, b, rt, 1, name,
                          _const_axes([nda - 1], [b_axis(ndb)]))


@overload(npx.dot, prefer_literal=True, jit_options=JIT)
def _dot(a, b, out=None):
    reject('dot', out=out)
    return _dot_like('dot', a, b, lambda nd: max(nd - 2, 0), 'a, b, out=None')


@overload(npx.inner, prefer_literal=True, jit_options=JIT)
def _inner(a, b):
    return _dot_like('inner', a, b, lambda nd: nd - 1)


# --- matmul: stacked batches ------------------------------------------------

@functools.lru_cache(maxsize=None)
def _matmul_nd(nda, ndb, rt, cast_a, cast_b):
    """matmul with a batch: operands as (batch, rows, cols), batch shapes
    broadcast (right-aligned)."""
    nba, nbb = max(nda - 2, 0), max(ndb - 2, 0)
    nb = max(nba, nbb)
    out_nd = nb + (nda >= 2) + (ndb >= 2)
    A3 = {1: '(1, 1, a.shape[0])'}.get(
        nda, '(prod_range(a.shape, 0, %d), a.shape[%d], a.shape[%d])'
        % (nda - 2, nda - 2, nda - 1))
    B3 = {1: '(1, b.shape[0], 1)'}.get(
        ndb, '(prod_range(b.shape, 0, %d), b.shape[%d], b.shape[%d])'
        % (ndb - 2, ndb - 2, ndb - 1))
    L = ['A = ' + cast_a % ('np.ascontiguousarray(a).reshape(%s)' % A3),
         'B = ' + cast_b % ('np.ascontiguousarray(b).reshape(%s)' % B3),
         'ka = %d' % (nda - 1), 'kb = %d' % (0 if ndb == 1 else ndb - 2),
         'if A.shape[2] != B.shape[1]:'] + ['    ' + x for x in _MISMATCH['matmul']]
    L += ['sa = np.ones(%d, np.int64)' % (nb + 1),
          'sb = np.ones(%d, np.int64)' % (nb + 1)]
    L += ['sa[%d] = a.shape[%d]' % (nb - nba + d, d) for d in range(nba)]
    L += ['sb[%d] = b.shape[%d]' % (nb - nbb + d, d) for d in range(nbb)]
    L += ['s = np.empty(%d, np.int64)' % (out_nd + 1), 'T = 1',
          'for d in range(%d):' % nb,
          '    if sa[d] != sb[d] and sa[d] != 1 and sb[d] != 1:',
          "        raise ValueError('operands could not be broadcast together')",
          '    s[d] = max(sa[d], sb[d])', '    T *= s[d]',
          'M = A.shape[1]', 'N = B.shape[2]', 'res = np.empty((T, M, N), RT)',
          'for t in range(T):', '    rem = t', '    ia = 0', '    ib = 0',
          '    ma = 1', '    mb = 1', '    for d in range(%d, -1, -1):' % (nb - 1),
          '        q = rem % s[d]', '        rem //= s[d]',
          '        if sa[d] != 1:', '            ia += q * ma',
          '        if sb[d] != 1:', '            ib += q * mb',
          '        ma *= sa[d]', '        mb *= sb[d]',
          '    mm(A[ia], B[ib], res[t])']
    L += ['s[%d] = M' % nb] if nda >= 2 else []
    L += ['s[%d] = N' % (nb + (nda >= 2))] if ndb >= 2 else []
    L += ['return res.reshape(to_fixed_tuple(s, %d))' % out_nd]
    return _generate('matmul', 'x1, x2', ['a, b = x1, x2'] + L, {
        'RT': np.dtype(rt).type, 'mm': _mm(rt), 'prod_range': prod_range,
        'NpxValueError': NpxValueError})


@overload(npx.matmul, prefer_literal=True, jit_options=JIT)
def _matmul(x1, x2):
    rt = _operands('matmul', x1, x2, scalars=False)
    if x1.ndim == 0 or x2.ndim == 0:
        fail('matmul', 'Input operand does not have enough dimensions')
    if x1.ndim <= 2 and x2.ndim <= 2:
        return _two_d('matmul', x1, x2, rt, False, 'x1, x2')
    return _matmul_nd(x1.ndim, x2.ndim, rt.str, _cast(x1, rt), _cast(x2, rt))


# --- kron --------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _kron_impl(nda, ndb, rt):
    RT = np.dtype(rt).type
    D = max(nda, ndb)

    def kron(a, b):
        x = np.asarray(a)
        y = np.asarray(b)
        af = np.ascontiguousarray(x).reshape(-1)
        bf = np.ascontiguousarray(y).reshape(-1)
        sa = np.ones(D, np.int64)
        sb = np.ones(D, np.int64)
        for d in range(nda):
            sa[D - nda + d] = x.shape[d]
        for d in range(ndb):
            sb[D - ndb + d] = y.shape[d]
        so = np.empty(D, np.int64)
        ost = np.ones(D, np.int64)          # C strides of the output
        for d in range(D - 1, -1, -1):
            so[d] = sa[d] * sb[d]
            if d < D - 1:
                ost[d] = ost[d + 1] * so[d + 1]
        offa = np.zeros(af.size, np.int64)
        for f in range(af.size):
            rem = f
            for d in range(D - 1, -1, -1):
                offa[f] += (rem % sa[d]) * sb[d] * ost[d]
                rem //= sa[d]
        offb = np.zeros(bf.size, np.int64)
        for g in range(bf.size):
            rem = g
            for d in range(D - 1, -1, -1):
                offb[g] += (rem % sb[d]) * ost[d]
                rem //= sb[d]
        out = np.empty(to_fixed_tuple(so, D), RT)
        of = out.reshape(-1)
        for f in range(af.size):
            av = RT(af[f])
            for g in range(bf.size):
                of[offa[f] + offb[g]] = av * RT(bf[g])
        return out
    return kron


@overload(npx.kron, prefer_literal=True, jit_options=JIT)
def _kron(a, b):
    rt = _operands('kron', a, b)
    nda, ndb = (t.ndim if is_array(t) else 0 for t in (a, b))
    if nda == 0 and ndb == 0:
        return _scaled(rt.str, not (is_array(a) or is_array(b)))
    return _kron_impl(nda, ndb, rt.str)


# --- heaviside -----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _heaviside_ufunc():
    from numba import vectorize

    @vectorize(['float32(float32, float32)', 'float64(float64, float64)'])
    def hv(x, h):
        if x != x:
            return x
        if x < 0:
            return 0.0
        if x > 0:
            return 1.0
        return h
    return hv


@overload(npx.heaviside, prefer_literal=True, jit_options=JIT)
def _heaviside(x1, x2):
    for t in (x1, x2):
        if not (is_array(t) or is_scalar(t)) or dtype_of(t).kind == 'c':
            fail('heaviside', 'expected real arrays or numbers, got %s' % (t,))
    hv = _heaviside_ufunc()
    # NumPy 2 (NEP 50): a number next to an array takes the array's dtype
    weak = [dtype_of(t) if is_array(t) else dtype_of(t).type(0).item()
            for t in (x1, x2)]
    if not (is_array(x1) or is_array(x2)):
        weak = [dtype_of(x1), dtype_of(x2)]
    RT = np.float32 if np.result_type(*weak) == np.float32 else np.float64
    if is_array(x1) and dtype_of(x1) != RT:
        c1 = njit(lambda x: x.astype(RT))
    else:
        c1 = njit(lambda x: x) if is_array(x1) else RT
    if is_array(x2) and dtype_of(x2) != RT:
        c2 = njit(lambda x: x.astype(RT))
    else:
        c2 = njit(lambda x: x) if is_array(x2) else RT
    return lambda x1, x2: hv(c1(x1), c2(x2))
