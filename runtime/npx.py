"""NumPy twins: NumPy functions that Numba's nopython mode lacks or only partly supports.

The twin convention
-------------------
Each public function here has the NumPy name and (the supported prefix of) the
NumPy signature, in NumPy's positional order, and is implemented by calling
NumPy.  Generated code calls ``npx.max(x, axis=0)`` instead of
``np.max(x, axis=0)``:

* run eagerly, the twin *is* NumPy (same results, dtypes and errors);
* under ``@njit``, :mod:`runtime.numba_npx` (imported by the compiler before it
  compiles anything) registers a ``numba.extending.overload`` for every twin
  with the same semantics, written as loops.

Arguments that the compiled version does not support (``out=``, ``where=``,
``initial=``, ...) are accepted here (passed on to NumPy when given) and
rejected at Numba typing time with a ``TypingError`` naming the argument.

Extra helpers with no NumPy function of their own: :func:`mask_select` and
:func:`mask_assign` spell ``a[mask]`` and ``a[mask] = v`` for boolean masks.

This module must not import numba (the eager path must not pay for it), nor
anything from ``transpile``.
"""
import numpy as np

__all__ = [
    # reductions
    'sum', 'max', 'min', 'mean', 'prod', 'var', 'std', 'any', 'all',
    'argmax', 'argmin', 'cumsum', 'cumprod',
    # shapes
    'squeeze', 'squeeze_all', 'expand_dims', 'reshape', 'concatenate',
    'stack', 'vstack', 'hstack', 'tile', 'repeat', 'pad',
    # products and linear algebra
    'einsum', 'inner', 'tensordot', 'kron', 'matmul', 'dot', 'trace', 'norm',
    # element-wise and indexing
    'heaviside', 'mask_select', 'mask_assign',
]


# --- reductions -------------------------------------------------------------

def _given(**kw):
    """The keyword arguments that were given (not None)."""
    return {k: v for k, v in kw.items() if v is not None}


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
        where=None):
    """np.sum."""
    return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                  **_given(initial=initial, where=where))


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """np.max (NaN propagates)."""
    return np.max(a, axis=axis, out=out, keepdims=keepdims,
                  **_given(initial=initial, where=where))


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """np.min (NaN propagates)."""
    return np.min(a, axis=axis, out=out, keepdims=keepdims,
                  **_given(initial=initial, where=where))


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    """np.mean."""
    return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                   **_given(where=where))


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
         where=None):
    """np.prod."""
    return np.prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                   **_given(initial=initial, where=where))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False,
        where=None, mean=None, correction=None):
    """np.var."""
    return np.var(a, axis=axis, dtype=dtype, out=out, ddof=ddof,
                  keepdims=keepdims,
                  **_given(where=where, mean=mean, correction=correction))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False,
        where=None, mean=None, correction=None):
    """np.std."""
    return np.std(a, axis=axis, dtype=dtype, out=out, ddof=ddof,
                  keepdims=keepdims,
                  **_given(where=where, mean=mean, correction=correction))


def any(a, axis=None, out=None, keepdims=False, where=None):
    """np.any."""
    return np.any(a, axis=axis, out=out, keepdims=keepdims,
                  **_given(where=where))


def all(a, axis=None, out=None, keepdims=False, where=None):
    """np.all."""
    return np.all(a, axis=axis, out=out, keepdims=keepdims,
                  **_given(where=where))


def argmax(a, axis=None, out=None, keepdims=False):
    """np.argmax (first NaN wins, like NumPy)."""
    return np.argmax(a, axis=axis, out=out, keepdims=keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    """np.argmin (first NaN wins, like NumPy)."""
    return np.argmin(a, axis=axis, out=out, keepdims=keepdims)


def cumsum(a, axis=None, dtype=None, out=None):
    """np.cumsum."""
    return np.cumsum(a, axis=axis, dtype=dtype, out=out)


def cumprod(a, axis=None, dtype=None, out=None):
    """np.cumprod."""
    return np.cumprod(a, axis=axis, dtype=dtype, out=out)


# --- shapes -----------------------------------------------------------------

def squeeze(a, axis=None):
    """np.squeeze.  Compiled code needs ``axis`` (int or tuple): without it
    the result's ndim depends on the runtime shape."""
    return np.squeeze(a, axis=axis)


def squeeze_all(a, axis):
    """``np.squeeze(a)`` (no axis), where the compiler knows that the axes
    ``axis`` (an int or a tuple) of ``a`` have size 1.

    Eagerly this is NumPy's ``np.squeeze(a)``.  Compiled code removes the
    axes ``axis`` and raises ValueError if another axis has size 1 at run
    time: the result's number of dimensions must be known at compile time,
    and it never differs silently from NumPy's."""
    return np.squeeze(a)


def expand_dims(a, axis):
    """np.expand_dims, ``axis`` int or tuple."""
    return np.expand_dims(a, axis)


def reshape(a, shape=None, order='C', newshape=None, copy=None):
    """np.reshape; copies non-contiguous input like NumPy does.  ``newshape``
    is NumPy's deprecated spelling of ``shape``."""
    if newshape is not None:
        shape = newshape
    return np.reshape(a, shape, order=order, **_given(copy=copy))


def concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    """np.concatenate; ``arrays`` a tuple or a list."""
    return np.concatenate(arrays, axis=axis, out=out,
                          **_given(dtype=dtype, casting=casting))


def stack(arrays, axis=0, out=None, dtype=None, casting=None):
    """np.stack; ``arrays`` a tuple or a list."""
    return np.stack(arrays, axis=axis, out=out,
                    **_given(dtype=dtype, casting=casting))


def vstack(tup, dtype=None, casting=None):
    """np.vstack; ``tup`` a tuple or a list."""
    return np.vstack(tup, **_given(dtype=dtype, casting=casting))


def hstack(tup, dtype=None, casting=None):
    """np.hstack; ``tup`` a tuple or a list."""
    return np.hstack(tup, **_given(dtype=dtype, casting=casting))


def tile(A, reps):
    """np.tile, ``reps`` int or tuple."""
    return np.tile(A, reps)


def repeat(a, repeats, axis=None):
    """np.repeat with ``axis``."""
    return np.repeat(a, repeats, axis=axis)


def pad(array, pad_width, mode='constant', constant_values=0):
    """np.pad, constant mode only."""
    return np.pad(array, pad_width, mode=mode, constant_values=constant_values)


# --- products ---------------------------------------------------------------

def einsum(subscripts, *operands, **kwargs):
    """np.einsum.  Compiled code needs a constant ``subscripts`` string and
    takes no keyword arguments."""
    return np.einsum(subscripts, *operands, **kwargs)


def inner(a, b):
    """np.inner."""
    return np.inner(a, b)


def tensordot(a, b, axes=2):
    """np.tensordot; compiled code needs ``axes`` an int or a pair of
    tuples (or constant lists)."""
    return np.tensordot(a, b, axes=axes)


def kron(a, b):
    """np.kron."""
    return np.kron(a, b)


def matmul(x1, x2):
    """np.matmul (also ``x1 @ x2``): any dtype, stacked batches."""
    return np.matmul(x1, x2)


def dot(a, b, out=None):
    """np.dot: any dtype, mixed dtypes."""
    return np.dot(a, b, out=out)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """np.trace (also ``a.trace()``); compiled code takes a matrix."""
    return np.trace(a, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype,
                    out=out)


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm.  Compiled code takes every vector norm, along any
    axis; matrix norms (two axes, or a 2-D array with ``ord``) of a whole
    matrix, or any 'fro' norm."""
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


# --- element-wise and indexing ----------------------------------------------

def heaviside(x1, x2):
    """np.heaviside."""
    return np.heaviside(x1, x2)


def mask_select(a, mask):
    """``a[mask]`` for a boolean ``mask`` shaped like ``a`` or its leading
    dimensions."""
    return a[mask]


def mask_assign(a, mask, v):
    """``a[mask] = v`` in place; returns None."""
    a[mask] = v


# --- what the compiler rewrites ---------------------------------------------

#: NumPy function object -> twin, for rewriting calls such as ``np.max(...)``.
NUMPY_TWINS = {
    np.sum: sum, np.max: max, np.amax: max, np.min: min, np.amin: min,
    np.mean: mean, np.prod: prod, np.var: var, np.std: std,
    np.any: any, np.all: all, np.argmax: argmax, np.argmin: argmin,
    np.cumsum: cumsum, np.cumprod: cumprod,
    np.squeeze: squeeze, np.expand_dims: expand_dims, np.reshape: reshape,
    np.concatenate: concatenate, np.stack: stack, np.vstack: vstack,
    np.hstack: hstack, np.tile: tile, np.repeat: repeat, np.pad: pad,
    np.einsum: einsum, np.inner: inner, np.tensordot: tensordot,
    np.kron: kron, np.matmul: matmul, np.dot: dot, np.trace: trace,
    np.linalg.norm: norm, np.heaviside: heaviside,
}
if hasattr(np, 'concat'):           # NumPy >= 2.0 alias
    NUMPY_TWINS[np.concat] = concatenate

#: ndarray method name -> twin; ``x.m(*args, **kw)`` becomes ``twin(x, ...)``
#: (``x.reshape(2, 3)`` becomes ``reshape(x, (2, 3))``).
METHOD_TWINS = {
    'max': max, 'min': min, 'mean': mean, 'prod': prod, 'var': var,
    'std': std, 'sum': sum, 'any': any, 'all': all, 'argmax': argmax,
    'argmin': argmin, 'cumsum': cumsum, 'cumprod': cumprod,
    'squeeze': squeeze, 'reshape': reshape, 'trace': trace,
}
