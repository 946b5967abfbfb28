"""Adjoint templates of reductions and scans: sum, mean, prod, max/min,
var/std, cumsum.

A reduction's cotangent is broadcast back over the reduced axes with
``unreduce`` (axis None, an int, negative or a tuple; keepdims either way).
max/min split a tie evenly among the maxima (JAX); prod is exact when some
elements are zero.  See :mod:`runtime.rules` for the template format.
"""
import numpy as np

from runtime.adjoint import (demean, extremum_mask, prod_others, reduced_size,
                             reverse_cumsum, unreduce)
from runtime import npx
from runtime.rules.registry import adjoint, d, nondifferentiable, t, tangent

# ---- Sums ----


@adjoint(np.sum)
def sum(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims)


@adjoint(np.mean)
def mean(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(np.divide(g, reduced_size(a, axis)), a, axis, keepdims)


@adjoint(np.prod)
def prod(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims) * prod_others(a, axis)


@adjoint(np.cumsum)
def cumsum(g, ans, a, axis=None, dtype=None, out=None):
    d[a] = reverse_cumsum(g, a, axis)


# ---- Extrema ----


@adjoint(np.max, np.amax)
def max(g, ans, a, axis=None, out=None, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims) * extremum_mask(a, ans, axis,
                                                          keepdims)


@adjoint(np.min, np.amin)
def min(g, ans, a, axis=None, out=None, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims) * extremum_mask(a, ans, axis,
                                                          keepdims)


# ---- Moments ----


@adjoint(np.var)
def var(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims) * demean(a, axis) * (
        2.0 / (reduced_size(a, axis) - ddof))


@adjoint(np.std)
def std(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[a] = unreduce(g / ans, a, axis, keepdims) * demean(a, axis) / (
        reduced_size(a, axis) - ddof)


# ---- Tangents (forward mode) ----


@tangent(np.sum)
def sum_tangent(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = npx.sum(t(a), axis, None, None, keepdims)


@tangent(np.mean)
def mean_tangent(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = npx.mean(t(a), axis, None, None, keepdims)


@tangent(np.prod)
def prod_tangent(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = npx.sum(t(a) * prod_others(a, axis), axis, None, None, keepdims)


@tangent(np.cumsum)
def cumsum_tangent(ans, a, axis=None, dtype=None, out=None):
    d[a] = npx.cumsum(t(a), axis)


@tangent(np.max, np.amax, np.min, np.amin)
def extremum_tangent(ans, a, axis=None, out=None, keepdims=False):
    d[a] = npx.sum(t(a) * extremum_mask(a, ans, axis, keepdims), axis, None,
                   None, keepdims)


@tangent(np.var)
def var_tangent(ans, a, axis=None, dtype=None, out=None, ddof=0,
                keepdims=False):
    d[a] = npx.sum(t(a) * demean(a, axis), axis, None, None, keepdims) * (
        2.0 / (reduced_size(a, axis) - ddof))


@tangent(np.std)
def std_tangent(ans, a, axis=None, dtype=None, out=None, ddof=0,
                keepdims=False):
    d[a] = npx.sum(t(a) * demean(a, axis), axis, None, None, keepdims) / (
        (reduced_size(a, axis) - ddof) * ans)


# ---- Non-differentiable ----

nondifferentiable(
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.any, np.all, np.searchsorted, np.digitize,
    np.lexsort, np.nanargmax, np.nanargmin,
)
# np.bincount (its weights) and np.unique (the values it keeps) have rules:
# runtime/rules/creation.py
