"""Helpers that `vmap`'s generated code calls (see transpile/batching).

Batched code keeps the batch axis of every batched value first (axis 0); the
wrappers move it from and to the axes that `in_axes`/`out_axes` name. Each
helper runs under NumPy here and under Numba through `runtime.numba_batching`;
each has a tangent rule in `runtime.rules.batching`, so that batched code can
itself be differentiated (`grad(vmap(f))`, `jacfwd(vmap(f))`).

This module must not import numba, nor anything from `transpile`.
"""
import numpy as np

__all__ = ["axis_size", "check_size", "check_nonempty", "alloc", "moveaxis", "broadcast",
           "VmapError"]


class VmapError(ValueError):
    """ValueError raised from generated vmap code with JAX's wording:
    ``VmapError(fmt, *args)`` is ``fmt % args`` (compiled code passes the
    numbers, and the message is formatted when raised)."""

    def __init__(self, fmt, *args):
        super().__init__(fmt % tuple(tuple(a) if isinstance(a, tuple) else a for a in args)
                         if args else fmt)


RANK_MESSAGE = ("vmap was requested to map its argument along axis %d, which implies that its "
                "rank should be at least %d, but is only %d (its shape is %s)")
SIZE_MESSAGE = ("vmap got inconsistent sizes for array axes to be mapped: axis %d of an argument "
                "of shape %s has size %d, and another mapped axis has size %d")
EMPTY_MESSAGE = ("vmap over an axis of size 0 is not supported: the shape of the output is "
                 "taken from the first example")


def _shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def axis_size(x, axis):
    """The size of the mapped axis `axis` of `x` (negative counts from the end);
    JAX's ValueError when `x` has no such axis."""
    nd = np.ndim(x)
    ax = axis + nd if axis < 0 else axis
    if ax < 0 or ax >= nd:
        raise VmapError(RANK_MESSAGE, axis, axis + 1 if axis >= 0 else -axis, nd,
                        _shape_text(np.shape(x)))
    return np.shape(x)[ax]


def check_size(x, axis, n):
    """Raise JAX's ValueError unless axis `axis` of `x` has size `n`."""
    size = axis_size(x, axis)
    if size != n:
        raise VmapError(SIZE_MESSAGE, axis, _shape_text(np.shape(x)), size, n)


def check_nonempty(n):
    """Raise unless the batch size `n` is at least 1 (the per-example loop
    allocates its outputs from the first example's results)."""
    if n < 1:
        raise VmapError(EMPTY_MESSAGE)


def alloc(r, n):
    """An uninitialised array for `n` results shaped like `r`, batch axis first."""
    return np.empty((n,) + np.shape(r), dtype=np.result_type(r))


def moveaxis(a, source, destination):
    """`np.moveaxis` for one axis."""
    return np.moveaxis(a, source, destination)


def broadcast(v, n):
    """A new array holding `v` for each of `n` examples (batch axis first)."""
    out = np.empty((n,) + np.shape(v), dtype=np.result_type(v))
    out[...] = v
    return out
