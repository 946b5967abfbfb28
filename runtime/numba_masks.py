"""Numba overloads of npx.mask_select and npx.mask_assign: ``a[mask]`` and
``a[mask] = v`` for a boolean mask shaped like ``a`` or its leading
dimensions (Numba handles only 1-D masks itself).  Imported by
runtime.numba_npx and used by runtime.numba_checks."""
import functools

import numpy as np

from runtime._nb_common import (
    JIT, overload, npx, types, njit, to_fixed_tuple, fail, is_array,
    is_scalar, dtype_of, prod_range, NpxValueError, NpxIndexError)


# --- boolean masks -------------------------------------------------------------

def _check_mask(name, a, mask):
    if not is_array(a) or a.ndim == 0:
        fail(name, 'expected an array with ndim >= 1, got %s' % (a,))
    if not (is_array(mask) and isinstance(mask.dtype, types.Boolean)):
        fail(name, 'mask must be a boolean array, got %s' % (mask,))
    if mask.ndim == 0 or mask.ndim > a.ndim:
        fail(name, 'mask must have 1 to a.ndim dimensions, got %d'
             % mask.ndim)


@njit
def _mask_flat(a, mask):
    """The mask raveled after NumPy's shape check, and the inner size."""
    for d in range(mask.ndim):
        if mask.shape[d] != a.shape[d]:
            raise NpxIndexError(
                'boolean index did not match indexed array along axis %d; '
                'size of axis is %d but size of corresponding boolean axis '
                'is %d', d, a.shape[d], mask.shape[d])
    mf = np.ascontiguousarray(mask).reshape(-1)
    inner = prod_range(a.shape, mask.ndim, a.ndim)
    count = 0
    for m in mf:
        count += m
    return mf, inner, np.int64(count)


@functools.lru_cache(maxsize=None)
def _sel_core(out_nd, rt):
    RT = np.dtype(rt).type

    def mask_select(a, mask):
        mf, inner, count = _mask_flat(a, mask)
        x2 = np.ascontiguousarray(a).reshape((mf.size, inner))
        out = np.empty((count, inner), RT)
        p = 0
        for l in range(mf.size):
            if mf[l]:
                for i in range(inner):
                    out[p, i] = x2[l, i]
                p += 1
        s = np.empty(out_nd, np.int64)
        s[0] = count
        for d in range(1, out_nd):
            s[d] = a.shape[a.ndim - out_nd + d]
        return out.reshape(to_fixed_tuple(s, out_nd))
    return mask_select


@overload(npx.mask_select, prefer_literal=True, jit_options=JIT)
def _mask_select(a, mask):
    _check_mask('mask_select', a, mask)
    return _sel_core(1 + a.ndim - mask.ndim, dtype_of(a).str)


@functools.lru_cache(maxsize=None)
def _assign_core(out_nd, layout, rt, scalar):
    RT = np.dtype(rt).type

    def mask_assign(a, mask, v):
        mf, inner, count = _mask_flat(a, mask)
        if scalar:
            vv = np.full((1, 1), RT(v))
            vr = 0
            vc = 0
        else:
            s = np.empty(out_nd, np.int64)
            s[0] = count
            for d in range(1, out_nd):
                s[d] = a.shape[a.ndim - out_nd + d]
            vb = np.asarray(v)
            if vb.size != count * inner and vb.size != 1 and \
                    vb.size != inner:
                raise NpxValueError(
                    'NumPy boolean array indexing assignment cannot assign '
                    '%d input values to the %d output values where the mask '
                    'is true', vb.size, count * inner)
            vv = np.ascontiguousarray(np.broadcast_to(
                vb, to_fixed_tuple(s, out_nd))).reshape((count, inner))
            vr = 1
            vc = 1
        p = 0
        if layout == 'C':
            x2 = a.reshape((mf.size, inner))
            for l in range(mf.size):
                if mf[l]:
                    for i in range(inner):
                        x2[l, i] = vv[p * vr, i * vc]
                    p += 1
        else:
            for l in range(mf.size):
                if mf[l]:
                    for i in range(inner):
                        a.flat[l * inner + i] = vv[p * vr, i * vc]
                    p += 1
    return mask_assign


@overload(npx.mask_assign, prefer_literal=True, jit_options=JIT)
def _mask_assign(a, mask, v):
    _check_mask('mask_assign', a, mask)
    if not a.mutable:
        fail('mask_assign', 'array is read-only')
    out_nd = 1 + a.ndim - mask.ndim
    if is_array(v):
        if v.ndim > out_nd:
            fail('mask_assign', 'value has too many dimensions')
    elif not is_scalar(v):
        fail('mask_assign', 'value must be a number or an array, got %s'
             % (v,))
    return _assign_core(out_nd, a.layout, dtype_of(a).str, is_scalar(v))

