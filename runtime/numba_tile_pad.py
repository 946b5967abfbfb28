"""Numba overloads of the twins np.tile, np.repeat and np.pad (constant
mode).  Imported by runtime.numba_npx."""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, overload, npx, types, to_fixed_tuple, fail, const, is_array,
    is_scalar, is_none, is_int_type, dtype_of, exec_njit, int_seq,
    int_seq_int, norm_axis, as3d_one, prod_range, NpxValueError)


# --- tile / repeat -----------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _tile_core(nd, D, rt):
    RT = np.dtype(rt).type

    def tile(A, reps):
        xf = np.ascontiguousarray(np.asarray(A)).reshape(-1)
        r = int_seq(reps)
        sh = np.ones(D, np.int64)
        rp = np.ones(D, np.int64)
        for d in range(nd):
            sh[D - nd + d] = np.asarray(A).shape[d]
        for d in range(len(r)):
            if r[d] < 0:
                raise ValueError('negative dimensions are not allowed')
            rp[D - len(r) + d] = r[d]
        osh = np.empty(D, np.int64)
        for d in range(D):
            osh[d] = sh[d] * rp[d]
        out = np.empty(to_fixed_tuple(osh, D), RT)
        L = sh[D - 1]
        OL = osh[D - 1]
        of = out.reshape((out.size // OL if OL else 0, OL))
        for row in range(of.shape[0]):
            # source row of output row ``row``: unravel over osh[:-1]
            rem = row
            src = 0
            mul = 1
            for d in range(D - 2, -1, -1):
                q = rem % osh[d]
                rem //= osh[d]
                src += (q % sh[d]) * mul
                mul *= sh[d]
            base = src * L
            for c in range(OL):
                of[row, c] = xf[base + c % L]
        return out
    return tile


@overload(npx.tile, prefer_literal=True, jit_options=JIT)
def _tile(A, reps):
    if not (is_array(A) or is_scalar(A)):
        fail('tile', 'expected an array, got %s' % (A,))
    if is_int_type(reps):
        nr = 1
    elif isinstance(reps, types.BaseTuple) and all(
            isinstance(e, types.Integer) for e in reps.types):
        nr = len(reps.types)
    else:
        fail('tile', 'reps must be an int or a tuple of ints, got %s'
             % (reps,))
    nd = A.ndim if is_array(A) else 0
    D = max(nd, nr)
    if D == 0:
        fail('tile', 'reps=() of a scalar is not supported')
    return _tile_core(nd, D, dtype_of(A).str)


@functools.lru_cache(maxsize=None)
def _repeat_core(flat, nd, rt, int_reps):
    RT = np.dtype(rt).type
    seq = int_seq_int if int_reps else int_seq

    def repeat(a, repeats, axis=None):
        x = np.ascontiguousarray(np.asarray(a))
        if flat:
            x3 = x.reshape((1, x.size, 1))
            k = 0
        else:
            k = norm_axis(np.int64(axis), nd)
            x3 = as3d_one(x, int_seq(k))
        O, N, I = x3.shape
        r = seq(repeats)
        if len(r) != 1 and len(r) != N:
            raise NpxValueError('operands could not be broadcast together '
                                'with shape (%d,) (%d,)', N, len(r))
        tot = 0
        for j in range(N):
            rj = r[j] if len(r) > 1 else r[0]
            if rj < 0:
                raise ValueError('negative dimensions are not allowed')
            tot += rj
        out3 = np.empty((O, tot, I), RT)
        for o in range(O):
            p = 0
            for j in range(N):
                rj = r[j] if len(r) > 1 else r[0]
                for t in range(rj):
                    for i in range(I):
                        out3[o, p, i] = x3[o, j, i]
                    p += 1
        if flat:
            return out3.reshape(tot)
        s = np.empty(nd, np.int64)
        for d in range(nd):
            s[d] = x.shape[d]
        s[k] = tot
        return out3.reshape(to_fixed_tuple(s, nd))
    return repeat


@overload(npx.repeat, prefer_literal=True, jit_options=JIT)
def _repeat(a, repeats, axis=None):
    if not (is_array(a) or is_scalar(a)):
        fail('repeat', 'expected an array, got %s' % (a,))
    ok = is_int_type(repeats) or (
        isinstance(repeats, (types.BaseTuple, types.List, types.Array))
        and isinstance(getattr(repeats, 'dtype', types.int64), types.Integer))
    if not ok or (is_array(repeats) and repeats.ndim != 1):
        fail('repeat', 'repeats must be an int or a 1-d sequence of ints, '
             'got %s' % (repeats,))
    flat = is_none(axis)
    nd = a.ndim if is_array(a) else 0
    if not flat and (not is_int_type(axis) or nd == 0):
        fail('repeat', 'axis must be None or an int (and a has ndim >= 1)')
    return _repeat_core(flat, max(nd, 1), dtype_of(a).str,
                        is_int_type(repeats))


# --- pad -----------------------------------------------------------------------

def _pairs(name, arg, t, nd, scalar_type):
    """Typing time: njit ``f(t) -> (nd, 2) array`` for a pad_width /
    constant_values argument (NumPy broadcasts it to (ndim, 2))."""
    def num(e):
        return isinstance(e, (types.Number, types.Boolean)) or \
            isinstance(e, (int, float))

    if num(t):
        rows = [['t']]
    elif isinstance(t, types.BaseTuple) and all(num(e) for e in t.types):
        rows = [['t[%d]' % j for j in range(len(t.types))]]
    elif isinstance(t, types.BaseTuple) and all(
            isinstance(e, types.BaseTuple) and all(num(x) for x in e.types)
            for e in t.types):
        rows = [['t[%d][%d]' % (i, j) for j in range(len(e.types))]
                for i, e in enumerate(t.types)]
    else:
        fail(name, '%s must be a number or (nested) tuple, got %s' % (arg, t))
    if len(rows) not in (1, nd) or any(len(r) not in (1, 2) for r in rows):
        fail(name, '%s cannot be broadcast to (%d, 2)' % (arg, nd))
    src = 'def pairs(t):\n    r = np.empty((%d, 2), DT)\n' % nd
    for d in range(nd):
        row = rows[d if len(rows) > 1 else 0]
        for s in range(2):
            src += '    r[%d, %d] = %s\n' % (d, s, row[s if len(row) > 1 else 0])
    src += '    return r\n'
    return exec_njit(src, 'pairs', {'DT': scalar_type})


@functools.lru_cache(maxsize=None)
def _pad_core(nd, rt, PW, CV):
    RT = np.dtype(rt).type

    def pad(array, pad_width, mode='constant', constant_values=0):
        x = array
        pw = PW(pad_width)
        cv = CV(constant_values)
        osh = np.empty(nd, np.int64)
        for d in range(nd):
            if pw[d, 0] < 0 or pw[d, 1] < 0:
                raise ValueError("index can't contain negative values")
            osh[d] = x.shape[d] + pw[d, 0] + pw[d, 1]
        out = np.empty(to_fixed_tuple(osh, nd), RT)
        for d in range(nd):         # pad areas; later axes win the corners
            n = osh[d]
            o3 = out.reshape((prod_range(osh, 0, d), n, prod_range(osh, d + 1, nd)))
            for o in range(o3.shape[0]):
                for i in range(o3.shape[2]):
                    for j in range(pw[d, 0]):
                        o3[o, j, i] = cv[d, 0]
                    for j in range(n - pw[d, 1], n):
                        o3[o, j, i] = cv[d, 1]
        L = x.shape[nd - 1]
        if x.size == 0:
            return out
        x2 = np.ascontiguousarray(x).reshape((x.size // L, L))
        of = out.reshape(-1)
        for row in range(x2.shape[0]):
            rem = row
            dst = pw[nd - 1, 0]
            mul = osh[nd - 1]
            for d in range(nd - 2, -1, -1):
                q = rem % x.shape[d]
                rem //= x.shape[d]
                dst += (q + pw[d, 0]) * mul
                mul *= osh[d]
            for c in range(L):
                of[dst + c] = x2[row, c]
        return out
    return pad


@overload(npx.pad, prefer_literal=True, jit_options=JIT)
def _pad(array, pad_width, mode='constant', constant_values=0):
    if const(mode) != 'constant':
        fail('pad', "only mode='constant' is supported, got %s" % (mode,))
    if not is_array(array) or array.ndim == 0:
        fail('pad', 'expected an array with ndim >= 1, got %s' % (array,))
    nd = array.ndim
    rt = dtype_of(array)
    pw = _pairs('pad', 'pad_width', pad_width, nd, np.int64)
    cv = _pairs('pad', 'constant_values', constant_values, nd, rt.type)
    return _pad_core(nd, rt.str, pw, cv)


