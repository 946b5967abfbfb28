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
from runtime.rules import adjoint, d, nondifferentiable

# ---- Sums ----


@adjoint(np.sum)
def sum(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims)


@adjoint(np.mean)
def mean(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(g, a, axis, keepdims) / reduced_size(a, axis)


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


# ---- Non-differentiable ----

nondifferentiable(
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.any, np.all, np.searchsorted, np.digitize,
    np.bincount, np.unique, np.lexsort, np.nanargmax, np.nanargmin,
)
