"""Compiled pieces of the reductions of runtime.npx (see runtime.numba_npx):

* ``prep(x, axes)`` / ``prep_int`` / ``prep_all`` (one compile per input
  array type) view the input as a flat C-order buffer seen as
  ``(outer, n, inner)``: reduced axes that are adjacent need no copy;
  otherwise the array is copied with the reduced axes moved last;
* ``fold_kernel(op, rt, acc)``: an njit kernel per op and dtypes reducing
  the middle axis with scalar loops (``fold(xf, O, N, I) -> flat (O * I)``);
* ``out_shape``: NumPy's result shape.

All are njit functions without CPython wrappers: only compiled code calls
them.
"""
import functools

import numpy as np

from runtime._nb_common import (
    INNER, njit, to_fixed_tuple, norm_axis, AxisError, gather_perm)

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


def indent(code, n):
    return code.replace('\n', '\n' + ' ' * n)


def exec_src(src, name, glbs):
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
                          '                    ' + indent(update, 20))
        src = src.replace('                UPDATE',
                          '                ' + indent(update, 16))
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
    fn = exec_src(src, 'fold', {'RT': np.dtype(rt).type,
                             'ACC': np.dtype(acc).type})
    return njit(error_model='numpy', **INNER)(fn)


