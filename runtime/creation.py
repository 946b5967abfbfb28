"""Helpers of the derivative rules of array creation and selection
(:mod:`runtime.rules.creation`): ``np.linspace``, ``np.arange``, ``np.full``,
``np.full_like``, ``np.array``, ``np.bincount``, ``np.unique``.  NumPy
versions; :mod:`runtime.numba_creation` registers their overloads.

The values these functions create depend on their float arguments (the
bounds of ``linspace``, the start and step of ``arange``, a fill value, the
weights of ``bincount``, the values ``unique`` keeps), so they have
derivatives, zero only where the output is an integer array (piecewise
constant).

* ``linspace(start, stop, num)`` is ``start * (1 - w) + stop * w`` with
  ``w[i] = i / (num - 1)`` (``i / num`` without the endpoint), along ``axis``;
* ``arange(start, stop, step)`` is ``start + i * step`` (``stop`` only sets
  the length: no derivative);
* ``unique(ar)`` is ``ar.flat[first]``, ``first`` the index of each sorted
  distinct value's first occurrence: its cotangent goes to that occurrence
  (JAX's ``jnp.unique``, a sort followed by a mask, does the same).  Where
  values tie, ``unique`` is not differentiable (moving one copy makes a new
  value); the rule is exact wherever the values are distinct.

Must not import numba, nor anything from ``transpile``.
"""
import numpy as np

from runtime.adjoint import unbroadcast, zeros_like

__all__ = ['inexact_weight', 'linspace_grad', 'linspace_tangent',
           'arange_weights', 'unique_grad', 'unique_tangent']


def _first(ans):
    """The array output of a function that may return a tuple (retstep,
    return_index, ...)."""
    return ans[0] if isinstance(ans, tuple) else ans


def inexact_weight(ans):
    """1.0 when ``ans`` (its first item, for a tuple) is float or complex,
    0.0 when it is an integer or boolean array: the factor by which a
    creation function passes derivatives on (integer outputs have none)."""
    return 1.0 if np.result_type(_first(ans)).kind in 'fc' else 0.0


def _linspace_w(num, endpoint, which):
    """The weight of start (``which`` 0) or stop (1) in each of the ``num``
    values of ``np.linspace``."""
    num = int(num)
    div = num - 1 if endpoint else num
    w = np.arange(num) / div if div > 0 else np.zeros(num)
    return 1.0 - w if which == 0 else w


def linspace_grad(g, ans, like, num=50, endpoint=True, retstep=False, axis=0,
                  which=0):
    """The cotangent of ``start`` (``which`` 0, shaped like ``like``) or of
    ``stop`` (1) in ``ans = np.linspace(start, stop, num, endpoint, retstep,
    dtype, axis)`` given the output's cotangent ``g`` (a pair with
    ``retstep``: the samples', the step's)."""
    g_step = None
    if retstep:
        g, g_step = g
    if inexact_weight(ans) == 0.0:
        return zeros_like(like)
    g = np.moveaxis(np.asarray(g, float), axis, 0)
    r = np.tensordot(_linspace_w(num, endpoint, which), g, axes=(0, 0))
    div = int(num) - 1 if endpoint else int(num)
    if g_step is not None and div > 0:     # step = (stop - start) / div
        r = r + (1.0 if which else -1.0) / div * np.asarray(g_step)
    return unbroadcast(r, like)


def linspace_tangent(t_start, t_stop, ans, num=50, endpoint=True,
                     retstep=False, axis=0):
    """The tangent of ``np.linspace(start, stop, num, endpoint, retstep,
    dtype, axis)`` (value ``ans``) along the tangents of start and stop: the
    same linspace of the tangents (it is linear in them)."""
    a = _first(ans)
    if inexact_weight(a) == 0.0:
        out = np.zeros(np.shape(a))
    else:
        out = np.linspace(t_start, t_stop, int(num), endpoint, axis=axis)
        out = out.astype(np.result_type(a), copy=False)
    if not retstep:
        return out
    div = int(num) - 1 if endpoint else int(num)
    step = (np.subtract(t_stop, t_start) / div if div > 0
            else np.zeros_like(np.subtract(t_stop, t_start), float))
    return out, step


def arange_weights(ans, stop=None, which=0):
    """d ans / d argument for ``ans = np.arange(start_or_stop, stop, step)``:
    ones for the start (zeros when the only positional argument is the
    stop), zeros for the stop (it sets the length only), ``0, 1, 2, ...``
    for the step; zeros for an integer ``ans``."""
    n = np.shape(ans)[0]
    if inexact_weight(ans) == 0.0 or which == 1 or (which == 0 and stop is None):
        return np.zeros(n)
    if which == 0:
        return np.ones(n)
    return np.arange(n, dtype=np.float64)


def _unique_first(ar):
    """The flat index of the first occurrence of each distinct value of
    ``ar``, in the order of ``np.unique(ar)``."""
    return np.unique(np.ravel(ar), return_index=True)[1]


def _unique_checks(axis):
    if axis is not None:
        raise NotImplementedError(
            "the derivative of np.unique(..., axis=...) is not supported: "
            "use np.unique without axis, or tp.stop_gradient(...) on its argument")


def unique_grad(g, ar, return_index=False, return_inverse=False,
                return_counts=False, axis=None):
    """The cotangent of ``ar`` in ``np.unique(ar, ...)``: the cotangent of
    each unique value goes to its first occurrence in ``ar``."""
    _unique_checks(axis)
    if return_index or return_inverse or return_counts:
        g = g[0]            # the other outputs are integers
    if np.ndim(ar) == 0:
        return float(np.sum(g))
    out = np.zeros(np.size(ar), np.result_type(ar) if np.result_type(ar).kind in 'fc'
                   else np.float64)
    out[_unique_first(ar)] = g
    return out.reshape(np.shape(ar))


def unique_tangent(t, ar, ans, return_index=False, return_inverse=False,
                   return_counts=False, axis=None):
    """The tangent of ``np.unique(ar, ...)`` (value ``ans``) along the
    tangent ``t`` of ``ar``: ``t`` at the first occurrences; zeros for the
    integer outputs of the ``return_*`` flags."""
    _unique_checks(axis)
    u = np.ravel(t)[_unique_first(ar)]
    if return_index or return_inverse or return_counts:
        return (u,) + tuple(np.zeros(np.shape(a)) for a in ans[1:])
    return u
