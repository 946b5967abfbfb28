"""Derivative rules of functions that create arrays from float arguments or
select values: ``np.linspace`` (start, stop), ``np.arange`` (start, step),
``np.full``/``np.full_like`` (the fill value), ``np.bincount`` (the
weights), ``np.heaviside`` (its value at 0) and ``np.unique`` (the values it
keeps).  The helpers are in :mod:`runtime.creation`; an integer output has
no derivative (``inexact_weight``).  See :mod:`runtime.rules` for the
template format.

Only functions whose outputs are integers or booleans (``argmax``,
comparisons, shapes) or piecewise constant (``floor``, ``sign``) are
declared non-differentiable; a function that selects or sorts values
(``np.sort``, ``np.partition``, ``np.median``) without a rule here is a
clear error when called with a differentiable argument.
"""
import numpy as np

from runtime import creation as C
from runtime import tangent as T
from runtime.adjoint import unbroadcast
from runtime.rules.registry import adjoint, d, nondifferentiable, pointwise, t, tangent

# ---- Ranges ----


@adjoint(np.linspace)
def linspace(g, ans, start, stop, num=50, endpoint=True, retstep=False,
             dtype=None, axis=0):
    d[start] = C.linspace_grad(g, ans, start, num, endpoint, retstep, axis, 0)
    d[stop] = C.linspace_grad(g, ans, stop, num, endpoint, retstep, axis, 1)


@tangent(np.linspace)
def linspace_tangent(ans, start, stop, num=50, endpoint=True, retstep=False,
                     dtype=None, axis=0):
    d[start, stop] = C.linspace_tangent(t(start), t(stop), ans, num, endpoint,
                                        retstep, axis)


@adjoint(np.arange)
def arange(g, ans, start_or_stop, stop=None, step=1, *, dtype=None):
    # arange(stop) has no derivative; arange(start, stop, step) is
    # start + i * step (stop only sets the length)
    d[start_or_stop] = unbroadcast(g * C.arange_weights(ans, stop, 0),
                                   start_or_stop)
    d[stop] = unbroadcast(g * C.arange_weights(ans, stop, 1), stop)
    d[step] = unbroadcast(g * C.arange_weights(ans, stop, 2), step)


# ---- Filled arrays ----


@adjoint(np.full)
def full(g, ans, shape, fill_value, dtype=None, order='C'):
    d[shape] = None
    d[fill_value] = unbroadcast(g * C.inexact_weight(ans), fill_value)


@tangent(np.full)
def full_tangent(ans, shape, fill_value, dtype=None, order='C'):
    d[shape] = None
    d[fill_value] = T.fit(t(fill_value) * C.inexact_weight(ans), ans)


@adjoint(np.full_like)
def full_like(g, ans, a, fill_value, dtype=None, order='K', subok=True,
              shape=None):
    d[a] = None                   # only its shape and dtype are read
    d[fill_value] = unbroadcast(g * C.inexact_weight(ans), fill_value)


@tangent(np.full_like)
def full_like_tangent(ans, a, fill_value, dtype=None, order='K', subok=True,
                      shape=None):
    d[a] = None
    d[fill_value] = T.fit(t(fill_value) * C.inexact_weight(ans), ans)


# ---- Counting and step functions ----


@adjoint(np.bincount)
def bincount(g, ans, x, weights=None, minlength=0):
    d[x] = None                   # integers
    d[weights] = g[x]


@tangent(np.bincount)
def bincount_tangent(ans, x, weights=None, minlength=0):
    d[x] = None
    d[weights] = np.bincount(x, t(weights), minlength)


@adjoint(np.heaviside)
def heaviside(g, ans, x1, x2):
    # 0 below 0, 1 above, x2 at 0: a step in x1 (zero derivative), x2's
    # value where x1 == 0
    d[x1] = None
    d[x2] = unbroadcast(g * np.equal(x1, 0.0), x2)


@tangent(np.heaviside)
def heaviside_tangent(ans, x1, x2):
    d[x1] = None
    d[x2] = T.fit(t(x2) * np.equal(x1, 0.0), ans)


# ---- Selection ----


@adjoint(np.unique)
def unique(g, ans, ar, return_index=False, return_inverse=False,
           return_counts=False, axis=None):
    d[ar] = C.unique_grad(g, ar, return_index, return_inverse, return_counts,
                          axis)


@tangent(np.unique)
def unique_tangent(ans, ar, return_index=False, return_inverse=False,
                   return_counts=False, axis=None):
    d[ar] = C.unique_tangent(t(ar), ar, ans, return_index, return_inverse,
                             return_counts, axis)


# arange: every d[p] is g times a factor, summed by unbroadcast
pointwise(arange)

# ---- The helpers, for derivatives of derivatives ----


@tangent(C.linspace_grad)
def linspace_grad_tangent(ans, g, ans_, like, num=50, endpoint=True,
                          retstep=False, axis=0, which=0):
    d[g] = C.linspace_grad(t(g), ans_, like, num, endpoint, retstep, axis,
                           which)
    d[ans_] = None
    d[like] = None


@tangent(C.linspace_tangent)
def linspace_tangent_tangent(ans, t_start, t_stop, ans_, num=50, endpoint=True,
                             retstep=False, axis=0):
    d[t_start, t_stop] = C.linspace_tangent(t(t_start), t(t_stop), ans_, num,
                                            endpoint, retstep, axis)
    d[ans_] = None


@tangent(C.unique_grad)
def unique_grad_tangent(ans, g, ar, return_index=False, return_inverse=False,
                        return_counts=False, axis=None):
    d[g] = C.unique_grad(t(g), ar, return_index, return_inverse,
                         return_counts, axis)
    d[ar] = None


@tangent(C.unique_tangent)
def unique_tangent_tangent(ans, t_, ar, ans_, return_index=False,
                           return_inverse=False, return_counts=False,
                           axis=None):
    d[t_] = C.unique_tangent(t(t_), ar, ans_, return_index, return_inverse,
                             return_counts, axis)
    d[ar] = None
    d[ans_] = None


nondifferentiable(C.inexact_weight, C.arange_weights)
