"""Helpers of the derivative rules (:mod:`runtime.rules`): the NumPy versions.

Templates inline calls to these into generated code, so each helper runs
eagerly here and under ``@njit`` through the overloads that
:mod:`runtime.numba_adjoint` registers (imported by ``runtime.numba_impl``).
Branching on types, axes or ndims lives here, not in the straight-line
templates.

Conventions every helper keeps, so that adjoints have stable types in
compiled loops:

* a cotangent of a scalar -- a Python or NumPy number, **or a 0-d array** --
  is a Python ``float`` (Numba: float64); a cotangent of an array is an array
  of the array's shape and float dtype (its own dtype when floating, else
  float64);
* array results may alias their inputs (``unbroadcast`` returns ``g`` itself
  when nothing is summed): never write into a cotangent in place;
* axes follow NumPy: ``None``, an int (negative counts from the end) or a
  tuple of ints.

Helpers whose value is piecewise constant in their array arguments
(:func:`extremum_mask`, :func:`tie_weight`) have zero derivative there,
which is what makes second derivatives of max/min/abs/clip right.

Must not import numba, nor anything from ``transpile``.
"""
import functools
import string

import numpy as np

__all__ = [
    # cotangent plumbing
    'zeros_like', 'unbroadcast', 'unreduce', 'reshape_like', 'like_dtype',
    # reductions
    'reduced_size', 'demean', 'extremum_mask', 'prod_others',
    'reverse_cumsum',
    # element-wise
    'tie_weight', 'safe_log',
    # shapes and indexing
    'untranspose', 'split_like', 'unstack_like', 'add_at',
    # products and linear algebra
    'einsum_vjp', 'einsum_vjps', 'dot_grad_a', 'dot_grad_b',
    'matmul_grad_a', 'matmul_grad_b', 'trace_grad', 'matrix_transpose',
    'expand_matrix_dims', 'as_columns', 'norm_grad',
]


# --- cotangent plumbing -------------------------------------------------------

def _float_dtype(x):
    """The dtype of the cotangent of ``x``: its own when inexact, else
    float64."""
    dt = np.result_type(x)
    return dt if dt.kind in 'fc' else np.dtype(np.float64)


def _is_scalar(x):
    """A number or a 0-d array: its cotangent is a float."""
    return np.ndim(x) == 0


def zeros_like(x):
    """The zero cotangent of ``x``: 0.0 for a scalar (0-d arrays included), a
    float array of x's shape otherwise, a tuple (list) of those for a tuple
    (list)."""
    if isinstance(x, (tuple, list)):
        return type(x)(zeros_like(e) for e in x)
    if _is_scalar(x):
        return 0.0
    return np.zeros(np.shape(x), _float_dtype(x))


def _to_scalar(g):
    return float(np.sum(g))


def unbroadcast(g, like):
    """``g`` summed down to the shape of ``like`` (undoes broadcasting):
    leading axes and axes where ``like`` has size 1 are summed.  A float when
    ``like`` is a scalar; ``g`` itself when its shape and dtype already fit."""
    if _is_scalar(like):
        return _to_scalar(g)
    shape = np.shape(like)
    dt = _float_dtype(like)
    g = np.asarray(g)
    if g.shape != shape:
        full = np.broadcast_shapes(g.shape, shape)
        if full != g.shape:
            g = np.broadcast_to(g, full)
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + k for k, n in enumerate(shape)
            if n == 1 and g.shape[lead + k] != 1)
        g = g.sum(axis=axes).reshape(shape)
    return g if g.dtype == dt else g.astype(dt)


def _norm_axes(axis, nd):
    """``axis`` (None, int, tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(_norm_tuple(axis, nd)))
    return (_norm_one(axis, nd),)


def _norm_one(ax, nd):
    ax = int(ax)
    if not -nd <= ax < nd:
        raise np.exceptions.AxisError(ax, nd)
    return ax % nd if nd else ax


def _norm_tuple(axis, nd):
    axes = [_norm_one(a, nd) for a in axis]
    if len(set(axes)) != len(axes):
        raise ValueError("duplicate value in 'axis'")
    return axes


def unreduce(g, a, axis=None, keepdims=False):
    """The cotangent ``g`` of a reduction of ``a`` over ``axis`` broadcast
    back to a's shape (a new array; a float when ``a`` is a scalar)."""
    if _is_scalar(a):
        return _to_scalar(g)
    shape = np.shape(a)
    g = np.asarray(g, _float_dtype(a))
    if not keepdims and g.ndim != len(shape):
        g = g.reshape([1 if k in _norm_axes(axis, len(shape)) else n
                       for k, n in enumerate(shape)])
    return np.array(np.broadcast_to(g, shape))


def reshape_like(g, a, order='C'):
    """``g`` reshaped to a's shape (a float when ``a`` is a scalar): the VJP
    of reshape, ravel, squeeze, expand_dims."""
    if _is_scalar(a):
        return _to_scalar(g)
    g = np.asarray(g)
    if g.ndim == 0:
        return np.full(np.shape(a), g, _float_dtype(a))
    return np.reshape(g, np.shape(a), order=order).astype(_float_dtype(a),
                                                           copy=False)


def _is_inexact(dtype):
    return np.dtype(dtype).kind in 'fc'


def like_dtype(g, a, dtype):
    """VJP of ``a.astype(dtype)``: ``g`` as a's cotangent when ``dtype`` is a
    floating (or complex) type, zero otherwise (casting to int or bool is
    not differentiable)."""
    if _is_inexact(dtype):
        return unbroadcast(g, a)
    return zeros_like(a)


# --- reductions -----------------------------------------------------------------

def reduced_size(a, axis=None):
    """How many elements of ``a`` each output of a reduction over ``axis``
    combines, as a float (mean's divisor)."""
    shape = np.shape(a)
    n = 1
    for k in _norm_axes(axis, len(shape)):
        n *= shape[k]
    return float(n)


def demean(a, axis=None):
    """``a - mean(a, axis, keepdims=True)``: the centred values of var/std
    (0.0 for a scalar)."""
    if _is_scalar(a):
        return 0.0
    a = np.asarray(a, _float_dtype(a))
    return a - np.mean(a, axis=axis, keepdims=True)


def extremum_mask(a, ans, axis=None, keepdims=False):
    """Where ``a`` attains the max/min ``ans`` of its slice along ``axis``: 1/k
    at each of the k tying positions, 0 elsewhere (JAX splits ties evenly).
    A NaN extremum picks the NaNs."""
    if _is_scalar(a):
        return 1.0
    a = np.asarray(a, _float_dtype(a))
    m = unreduce(ans, a, axis, keepdims)
    eq = ((a == m) | ((m != m) & (a != a))).astype(a.dtype)
    return eq / np.sum(eq, axis=axis, keepdims=True)


def prod_others(a, axis=None):
    """For each element of ``a``, the product of the other elements of its
    slice along ``axis`` (the derivative of prod; exact with zeros)."""
    if _is_scalar(a):
        return 1.0
    a = np.asarray(a, _float_dtype(a))
    nd = a.ndim
    red = _norm_axes(axis, nd)
    keep = [k for k in range(nd) if k not in red]
    perm = keep + list(red)
    t = np.transpose(a, perm)
    t2 = t.reshape(t.shape[:len(keep)] + (-1,))
    left = np.ones_like(t2)
    right = np.ones_like(t2)
    left[..., 1:] = np.cumprod(t2[..., :-1], axis=-1)
    right[..., :-1] = np.cumprod(t2[..., :0:-1], axis=-1)[..., ::-1]
    r = (left * right).reshape(t.shape)
    return np.ascontiguousarray(np.transpose(r, np.argsort(perm)))


def reverse_cumsum(g, a, axis=None):
    """VJP of ``np.cumsum(a, axis)``: the cumulative sum of ``g`` from the
    end, shaped like ``a`` (axis None: ``g`` is the flat cumsum's)."""
    g = np.asarray(g)
    if axis is None:
        r = np.cumsum(g.ravel()[::-1])[::-1]
        return reshape_like(r, a)
    r = np.flip(np.cumsum(np.flip(g, axis), axis), axis)
    return reshape_like(r, a)


# --- element-wise ---------------------------------------------------------------

def tie_weight(x, y):
    """1.0 where x > y, 0.5 where x == y, 0.0 elsewhere (NaN: 0.0): the share
    of ``maximum(x, y)``'s cotangent that goes to x.  1.0 when either is
    None (an absent clip bound)."""
    if x is None or y is None:
        return 1.0
    return np.greater(x, y) + 0.5 * np.equal(x, y)


def safe_log(x):
    """log(x) for x > 0, 0.0 at x == 0, NaN below, without warnings: the
    factor of ``x ** y``'s derivative in y (JAX's choice at x == 0)."""
    if _is_scalar(x):
        x = float(x)
        return np.log(x) if x > 0 else (0.0 if x == 0 else np.nan)
    x = np.asarray(x, _float_dtype(x))
    pos = x > 0
    r = np.log(np.where(pos, x, 1.0))
    return np.where(pos | (x == 0), r, np.nan)


# --- shapes and indexing --------------------------------------------------------

def untranspose(g, axes=None):
    """VJP of ``np.transpose(a, axes)``: ``g`` transposed back (C order)."""
    g = np.asarray(g)
    if axes is None:
        return np.ascontiguousarray(np.transpose(g))
    inv = np.argsort([_norm_one(k, g.ndim) for k in axes])
    return np.ascontiguousarray(np.transpose(g, inv))


def split_like(g, arrays, axis=0):
    """VJP of ``np.concatenate(arrays, axis)``: ``g`` cut into a tuple of
    cotangents, one per element of ``arrays``."""
    if axis is None:
        sizes = [np.size(x) for x in arrays]
        parts = np.split(np.asarray(g).ravel(), np.cumsum(sizes)[:-1])
        return tuple(reshape_like(p, x) for p, x in zip(parts, arrays))
    ax = _norm_one(axis, np.ndim(g))
    sizes = [np.shape(x)[ax] for x in arrays]
    parts = np.split(g, np.cumsum(sizes)[:-1], axis=ax)
    return tuple(reshape_like(p, x) for p, x in zip(parts, arrays))


def unstack_like(g, arrays, axis=0):
    """VJP of ``np.stack(arrays, axis)``: the slices of ``g`` along ``axis``,
    one cotangent per element of ``arrays``."""
    ax = _norm_one(axis, np.ndim(g))
    return tuple(reshape_like(np.take(g, k, axis=ax), x)
                 for k, x in enumerate(arrays))


# --- sequences (lists and tuples of differentiable values) -------------------------
#
# The cotangent of a list is a list with one cotangent per element. The adjoint of
# `lst.append(v)` pops the last one, so while the adjoint sweep runs backwards the
# cotangent list has the length the list had at that point of the forward sweep.

def zeros_like_list(x):
    """The zero cotangent of a list or tuple: a list, one zero per element."""
    return [zeros_like(e) for e in x]


def add_seq(bar, parts):
    """``bar[k] += parts[k]`` for every element (``parts``: a sequence, or an array whose
    first axis runs over the elements); returns ``bar``."""
    if len(parts) != len(bar):
        raise ValueError(f"internal: {len(parts)} cotangents for a sequence of {len(bar)}")
    for k in range(len(bar)):
        if isinstance(bar[k], (list, tuple)):      # a list of lists: item by item
            bar[k] = add_seq(list(bar[k]), parts[k])
        else:
            bar[k] = bar[k] + unbroadcast(parts[k], bar[k])
    return bar


def pop_item(bar, like):
    """The adjoint of ``lst.append(v)``: the last cotangent, removed, shaped like ``v``."""
    return unbroadcast(bar.pop(), like)


def push_item(bar, g, like):
    """The adjoint of ``v = lst.pop()``: ``v``'s cotangent back on the end of ``lst``'s
    cotangent list, shaped like ``v``; returns ``bar``."""
    bar.append(unbroadcast(g, like))
    return bar


def zero_item(bar, index):
    """``bar[index] = 0`` for a list of cotangents; returns ``bar``."""
    bar[index] = zeros_like(bar[index])
    return bar


def setitem_cotangent(bar, index):
    """The cotangent of ``v`` in ``y[index] = v``: ``bar[index]``, zero where a later entry
    of ``index`` writes the same element (NumPy keeps the last write)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(p, (np.ndarray, list)) and np.asarray(p).dtype.kind in "iu" for p in parts):
        return bar[index]       # ints, slices, masks: each element written once
    out = np.array(bar[index], dtype=np.result_type(bar, np.float64), copy=True)
    pos = np.arange(np.size(bar)).reshape(np.shape(bar))[index]     # shaped like bar[index]
    if np.ndim(pos) == 0:
        return out
    flat = pos.reshape(-1)
    last = {}
    for k, p in enumerate(flat):
        last[int(p)] = k
    keep = np.array([last[int(p)] == k for k, p in enumerate(flat)]).reshape(np.shape(pos))
    return np.where(keep, out, 0.0)


def add_at(target, index, g):
    """Scatter-add: ``target[index] += g`` where repeated indices accumulate
    (``np.add.at``); returns ``target``.  The VJP of ``a[index]`` is
    ``add_at(zeros_like(a), index, g)``.  ``index``: an int, a slice, an
    integer array, a boolean mask or a tuple of those."""
    if isinstance(target, list):  # a list's cotangent: one entry per element
        target[index] = target[index] + unbroadcast(g, target[index])
        return target
    if _is_scalar(target):        # zeros_like of a 0-d array: target[()]
        return float(target) + _to_scalar(g)
    np.add.at(target, index, g)
    return target


# --- einsum -----------------------------------------------------------------------

def _einsum_terms(subscripts, ndims):
    """Parse ``subscripts`` for operands of ``ndims``: (input label strings,
    output label string), ``...`` replaced by unused letters (right-aligned),
    implicit output made explicit."""
    s = subscripts.replace(' ', '')
    ins, arrow, out = s.partition('->')
    terms = ins.split(',')
    if len(terms) != len(ndims):
        raise ValueError('einsum: %d operands for %d subscript terms in %r'
                         % (len(ndims), len(terms), subscripts))
    free = [c for c in string.ascii_letters if c not in s]
    ell = max([nd - len(t.replace('...', '')) for t, nd in zip(terms, ndims)
               if '...' in t] or [0])
    fill = ''.join(free[:ell])
    terms = [t.replace('...', fill[ell - (nd - len(t) + 3):])
             if '...' in t else t for t, nd in zip(terms, ndims)]
    if arrow:
        out = out.replace('...', fill)
    else:
        seen = ''.join(terms)
        out = fill + ''.join(sorted(c for c in set(seen) if c not in fill
                                    and seen.count(c) == 1))
    return terms, out


@functools.lru_cache(maxsize=None)
def einsum_vjp_plan(subscripts, ndims, i):
    """How the VJP of einsum operand ``i`` is one einsum: (subscripts, the
    other operands' indices, extra operands).  Extra operands are
    ``('eye', p)`` (an identity over axis p of operand i: puts the cotangent
    on the diagonal of a repeated label) or ``('ones', p)`` (a label only
    operand i has, summed in the primal: broadcast back)."""
    terms, out = _einsum_terms(subscripts, ndims)
    mine = terms[i]
    others = [k for k in range(len(terms)) if k != i]
    have = set(out).union(*[terms[k] for k in others])
    spare = [c for c in string.ascii_letters
             if c not in ''.join(terms) + out]
    target, extra_terms, extras = '', [], []
    for p, c in enumerate(mine):
        if c in mine[:p]:                          # repeated: a diagonal
            c2 = spare.pop(0)
            extra_terms.append(c + c2)
            extras.append(('eye', p))
            target += c2
            continue
        target += c
        if c not in have and mine.count(c) == 1:   # summed only here
            extra_terms.append(c)
            extras.append(('ones', p))
    lhs = ','.join([out] + [terms[k] for k in others] + extra_terms)
    return lhs + '->' + target, tuple(others), tuple(extras)


def einsum_vjp(subscripts, i, g, operands):
    """The cotangent of ``operands[i]`` of ``np.einsum(subscripts,
    *operands)`` given the output cotangent ``g``: one einsum of ``g`` with
    the other operands (``i`` a constant int)."""
    ndims = tuple(np.ndim(x) for x in operands)
    spec, others, extras = einsum_vjp_plan(subscripts, ndims, i)
    x = operands[i]
    ext = [np.eye(np.shape(x)[p]) if kind == 'eye' else np.ones(np.shape(x)[p])
           for kind, p in extras]
    r = np.einsum(spec, g, *[operands[k] for k in others], *ext)
    return unbroadcast(r, x)


def einsum_vjps(subscripts, g, operands):
    """The tuple of ``einsum_vjp(subscripts, i, g, operands)`` for every
    operand."""
    return tuple(einsum_vjp(subscripts, i, g, operands)
                 for i in range(len(operands)))


# --- products and linear algebra ----------------------------------------------------

def _dot_subscripts(nda, ndb):
    """np.dot(a, b) as einsum subscripts for a.ndim, b.ndim >= 1."""
    la = string.ascii_lowercase[:nda - 1]
    if ndb == 1:
        return '%sz,z->%s' % (la, la)
    lb = string.ascii_uppercase[:ndb - 2]
    return '%sz,%szY->%s%sY' % (la, lb, la, lb)


def dot_grad_a(g, a, b):
    """Cotangent of ``a`` in ``np.dot(a, b)``."""
    if _is_scalar(a) or _is_scalar(b):
        return unbroadcast(np.multiply(g, b), a)
    return einsum_vjp(_dot_subscripts(np.ndim(a), np.ndim(b)), 0, g, (a, b))


def dot_grad_b(g, a, b):
    """Cotangent of ``b`` in ``np.dot(a, b)``."""
    if _is_scalar(a) or _is_scalar(b):
        return unbroadcast(np.multiply(g, a), b)
    return einsum_vjp(_dot_subscripts(np.ndim(a), np.ndim(b)), 1, g, (a, b))


def matrix_transpose(x):
    """``x`` with its last two axes swapped, C-contiguous."""
    return np.ascontiguousarray(np.swapaxes(x, -1, -2))


def _matmul_parts(g, a, b):
    """Promote 1-D operands of matmul to matrices (and g with them)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.asarray(g)
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2 if b.ndim > 1 else 0)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    return g2, a2, b2


def matmul_grad_a(g, a, b):
    """Cotangent of ``a`` in ``a @ b`` (1-D promotion, batch broadcasting)."""
    a, b = np.asarray(a), np.asarray(b)
    g2, a2, b2 = _matmul_parts(g, a, b)
    return reshape_like(unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2), a)


def matmul_grad_b(g, a, b):
    """Cotangent of ``b`` in ``a @ b``."""
    a, b = np.asarray(a), np.asarray(b)
    g2, a2, b2 = _matmul_parts(g, a, b)
    return reshape_like(unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2), b)


def trace_grad(g, a, offset=0, axis1=0, axis2=1):
    """Cotangent of ``a`` in ``np.trace(a, offset, axis1, axis2)``: ``g`` on
    the chosen diagonal, zero elsewhere."""
    shape = np.shape(a)
    ax1, ax2 = _norm_one(axis1, len(shape)), _norm_one(axis2, len(shape))
    e = np.eye(shape[ax1], shape[ax2], k=offset, dtype=_float_dtype(a))
    r = np.asarray(g)[..., None, None] * e
    return np.ascontiguousarray(np.moveaxis(r, (-2, -1), (ax1, ax2)))


def expand_matrix_dims(v):
    """``v[..., None, None]`` (a number stays a number): scales a stack of
    matrices by per-matrix values, as in the VJP of det."""
    if _is_scalar(v):
        return v
    return np.asarray(v)[..., None, None]


def as_columns(v):
    """A vector as an (n, 1) matrix; matrices unchanged (solve's VJP)."""
    v = np.asarray(v)
    return v[:, None] if v.ndim == 1 else v


def _vector_norm_grad(x, ans, n, ord, axis, keepdims):
    """d norm / dx for vector norms along ``axis`` (``n``: the norm ``ans``
    broadcast to x's shape)."""
    if ord is None or ord == 2:
        return np.divide(x, n, out=np.zeros_like(x), where=n != 0)
    s = np.sign(x)
    if ord == 1:
        return s
    if ord in (np.inf, -np.inf):
        return s * extremum_mask(np.abs(x), ans, axis, keepdims)
    if ord == 0:
        return np.zeros_like(x)
    p = float(ord)
    ax = np.abs(x)
    return s * np.divide(ax ** (p - 1), n ** (p - 1),
                         out=np.zeros_like(x), where=n != 0)


def _matrix_norm_grad(x, n, ord, axes):
    """d norm / dx for matrix norms over the two ``axes`` of ``x``."""
    r, c = axes
    if ord in (None, 'fro'):
        return np.divide(x, n, out=np.zeros_like(x), where=n != 0)
    xm = np.moveaxis(x, (r, c), (-2, -1))
    if ord in ('nuc', 2, -2):
        u, s, vt = np.linalg.svd(xm, full_matrices=False)
        if ord == 'nuc':
            gm = u @ vt
        else:
            k = 0 if ord == 2 else -1
            gm = u[..., :, k, None] * vt[..., k, None, :]
        return np.moveaxis(gm, (-2, -1), (r, c))
    if ord in (1, -1, np.inf, -np.inf):
        col = abs(ord) == 1                # column sums (ord 1), row sums (inf)
        sums = np.sum(np.abs(xm), axis=-2 if col else -1, keepdims=True)
        pick = np.max(sums, axis=-1 if col else -2, keepdims=True) if ord > 0 \
            else np.min(sums, axis=-1 if col else -2, keepdims=True)
        eq = (sums == pick).astype(x.dtype)
        eq = eq / np.sum(eq, axis=-1 if col else -2, keepdims=True)
        return np.moveaxis(np.sign(xm) * eq, (-2, -1), (r, c))
    raise ValueError('norm: invalid norm order %r for matrices' % (ord,))


def norm_grad(x, ans, ord=None, axis=None, keepdims=False):
    """The derivative of ``np.linalg.norm(x, ord, axis, keepdims)`` (value
    ``ans``) with respect to each element of ``x``, shaped like ``x``: the
    VJP is ``unreduce(g, x, axis, keepdims) * norm_grad(...)``.  0 where the
    norm is 0 (a subgradient; JAX gives NaN)."""
    if _is_scalar(x):
        return float(np.sign(x))
    x = np.asarray(x, _float_dtype(x))
    nd = x.ndim
    if axis is None:
        if ord is None:
            axes = tuple(range(nd))
        elif nd == 1:
            axes = (0,)
        else:
            axes = (0, 1)
    else:
        axes = tuple(_norm_one(k, nd) for k in
                     (axis if isinstance(axis, tuple) else (axis,)))
    n = unreduce(ans, x, axes, keepdims)
    if len(axes) == 2 and ord is not None:
        return _matrix_norm_grad(x, n, ord, axes)
    return _vector_norm_grad(x, ans, n, ord,
                             axes if len(axes) > 1 else axes[0], keepdims)
