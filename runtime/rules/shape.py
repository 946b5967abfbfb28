"""Adjoint templates of shape functions: transpose (``x.T``), reshape, ravel,
squeeze, expand_dims, broadcast_to, concatenate, stack, copy, ``astype``.

They only move cotangent entries around: reshape-like functions reshape
``g`` back (``reshape_like``), broadcast_to sums it (``unbroadcast``),
concatenate/stack cut it into one cotangent per input (a tuple assigned to
``d[arrays]``, which the compiler splits).  See :mod:`runtime.rules`.
"""
import numpy as np

from runtime.adjoint import (like_dtype, reshape_like, split_like,
                             unbroadcast, unstack_like, untranspose)
from runtime import npx
from runtime.creation import inexact_weight
from runtime.rules.registry import adjoint, d, nondifferentiable, t, tangent, ts
from runtime.tangent import cast

# ---- Axes and shapes ----


@adjoint(np.transpose)
def transpose(g, ans, a, axes=None):
    d[a] = untranspose(g, axes)


@adjoint(np.reshape)
def reshape(g, ans, a, shape, order='C', *, copy=None):
    d[a] = reshape_like(g, a, order)


@adjoint(np.ravel)
def ravel(g, ans, a, order='C'):
    d[a] = reshape_like(g, a, order)


@adjoint(np.squeeze)
def squeeze(g, ans, a, axis=None):
    d[a] = reshape_like(g, a)


@adjoint(np.expand_dims)
def expand_dims(g, ans, a, axis):
    d[a] = reshape_like(g, a)


@adjoint(np.broadcast_to)
def broadcast_to(g, ans, array, shape, subok=False):
    d[array] = unbroadcast(g, array)


# ---- Joining ----


@adjoint(np.concatenate)
def concatenate(g, ans, arrays, axis=0, out=None):
    d[arrays] = split_like(g, arrays, axis)


@adjoint(np.stack)
def stack(g, ans, arrays, axis=0, out=None):
    d[arrays] = unstack_like(g, arrays, axis)


# ---- Copies and casts ----


@adjoint(np.copy)
def copy(g, ans, a, order='K', subok=False):
    d[a] = unbroadcast(g, a)


@adjoint(np.ndarray.astype)
def astype(g, ans, a, dtype):
    d[a] = like_dtype(g, a, dtype)


# ---- Non-differentiable ----

nondifferentiable(
    np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like,
    np.zeros, np.ones, np.empty, np.eye, np.identity, np.tri,
)
# np.full, np.full_like, np.linspace, np.arange: runtime/rules/creation.py


# ---- Array construction ----------------------------------------------------

@adjoint(np.array, np.asarray)
def array(g, ans, object, dtype=None):
    # `object` is a list of scalars or arrays (the compiler splits d[...] by
    # element: element k gets g[k]) or one array (it gets g whole); an
    # integer dtype has no derivative.
    d[object] = g * inexact_weight(ans)


# ---- Tangents (forward mode): shape functions are linear, so the tangent
# is the same function of the argument's tangent ----

@tangent(np.transpose)
def transpose_tangent(ans, a, axes=None):
    d[a] = np.transpose(t(a), axes)


@tangent(np.reshape)
def reshape_tangent(ans, a, shape, order='C', *, copy=None):
    d[a] = npx.reshape(t(a), shape, order)


@tangent(np.ravel)
def ravel_tangent(ans, a, order='C'):
    d[a] = npx.reshape(t(a), -1, order)


@tangent(np.squeeze)
def squeeze_tangent(ans, a, axis=None):
    d[a] = npx.squeeze(t(a), axis)


@tangent(np.expand_dims)
def expand_dims_tangent(ans, a, axis):
    d[a] = npx.expand_dims(t(a), axis)


@tangent(np.broadcast_to)
def broadcast_to_tangent(ans, array, shape, subok=False):
    d[array] = np.broadcast_to(t(array), shape)


@tangent(np.concatenate)
def concatenate_tangent(ans, arrays, axis=0, out=None):
    d[arrays] = npx.concatenate(ts(arrays), axis)


@tangent(np.stack)
def stack_tangent(ans, arrays, axis=0, out=None):
    d[arrays] = npx.stack(ts(arrays), axis)


@tangent(np.copy)
def copy_tangent(ans, a, order='K', subok=False):
    d[a] = np.copy(t(a))


@tangent(np.ndarray.astype)
def astype_tangent(ans, a, dtype):
    d[a] = cast(t(a), dtype)


@tangent(np.array)
def array_tangent(ans, object, dtype=None):
    d[object] = np.array(ts(object)) * inexact_weight(ans)


@tangent(np.asarray)
def asarray_tangent(ans, object, dtype=None):
    d[object] = np.asarray(ts(object)) * inexact_weight(ans)
