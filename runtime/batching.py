"""Helpers that `vmap`'s generated code calls (see transpile/batching).

Batched code keeps the batch axis of every batched value first (axis 0); the
wrappers move it from and to the axes that `in_axes`/`out_axes` name. Each
helper runs under NumPy here and under Numba through `runtime.numba_batching`;
each has a tangent rule in `runtime.rules.batching`, so that batched code can
itself be differentiated (`grad(vmap(f))`, `jacfwd(vmap(f))`).

This module must not import numba, nor anything from `transpile`.
"""
import numpy as np

from runtime.adjoint import _float_dtype, _norm_axes, add_at
from runtime.checks import check_unpack
from runtime.random import KeyArray, key_batch
from runtime.tape import grad_seed

__all__ = ["axis_size", "check_size", "check_nonempty", "alloc", "moveaxis", "broadcast",
           "number_lanes", "set_lane", "copy_lanes", "guard_divisor", "zero_divisor", "check_zero_divisor",
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
    """An uninitialised array for `n` results shaped like `r`, batch axis first
    (of typed PRNG keys: a key array that takes each example's keys once)."""
    if isinstance(r, KeyArray):
        return key_batch(r, n)
    return np.empty((n,) + np.shape(r), dtype=np.result_type(r))


def moveaxis(a, source, destination):
    """`np.moveaxis` for one axis."""
    return np.moveaxis(a, source, destination)


def broadcast(v, n):
    """A new array holding `v` for each of `n` examples (batch axis first)."""
    out = np.empty((n,) + np.shape(v), dtype=np.result_type(v))
    out[...] = v
    return out


# ---- helpers of the lanes strategy (transpile/batching/lanes.py) -------------
#
# Examples that are numbers, one array slot per example ("lane"): generated
# code loads `x = x_lanes[b]`, computes on numbers, and stores the result back.

def number_lanes(x, n):
    """An uninitialised array for the values of the number `x` in `n` examples
    (its dtype); anything but a number is a TypeError (an array per example
    would need copies that break aliasing: such code runs example by example)."""
    if not isinstance(x, (bool, int, float, complex, np.bool_, np.number)):
        raise TypeError(f"number_lanes: one example's value must be a number, not {type(x).__name__}")
    return np.empty(n, dtype=np.result_type(x))


def set_lane(lanes, b, x):
    """`lanes[b] = x`, where `x` must have the dtype of `lanes` already (no
    cast: a store that would cast is a TypeError)."""
    if np.result_type(x) != lanes.dtype:
        raise TypeError(f"set_lane: a {np.result_type(x)} value into {lanes.dtype} lanes")
    lanes[b] = x


def copy_lanes(lanes):
    """A copy of `lanes` that generated code may write (an input is never written)."""
    return np.array(lanes)


# A masked loop (transpile/batching/masked.py) runs its body for finished
# examples too and discards their values: their divisions must not fail, and
# the ZeroDivisionError of an active example is raised after the pass.

def guard_divisor(b, active):
    """`b`, or 1 where the example is finished (`active` false) and `b` is 0."""
    return b if active or b != 0 else 1


def zero_divisor(flag, b, active):
    """`flag`, or True if the example is active and divides by `b == 0`."""
    return flag | (bool(active) & (b == 0))


def check_zero_divisor(flag, where):
    """Python's ZeroDivisionError at `where` (file:line) if `flag`."""
    if flag:
        raise ZeroDivisionError(f"division by zero (at {where})")


# ---- helpers of vectorized code (transpile/batching/vectorize.py) ------------
#
# Vectorized code keeps the batch axis of every batched value first. "Example
# rank" is the rank of one example: `a.ndim - 1` for a batched `a`.

def match_rank(a, other):
    """Batched `a` with unit axes after the batch axis, so that its examples
    have at least the rank of the unbatched `other` (NumPy broadcasting then
    lines the examples up with `other`)."""
    missing = np.ndim(other) - (np.ndim(a) - 1)
    if missing <= 0:
        return a
    a = np.asarray(a)
    return a.reshape(a.shape[:1] + (1,) * missing + a.shape[1:])


def match_rank_b(a, other):
    """`match_rank` against a batched `other` (whose examples have rank
    `other.ndim - 1`)."""
    missing = np.ndim(other) - np.ndim(a)
    if missing <= 0:
        return a
    a = np.asarray(a)
    return a.reshape(a.shape[:1] + (1,) * missing + a.shape[1:])


def example_axis(axis):
    """An axis of one example as an axis of the batch (negative axes count
    from the end, so they stay)."""
    return axis + 1 if axis >= 0 else axis


def example_axes(axis, a):
    """The `axis` argument of a reduction of each example of batched `a`:
    None (all the example's axes) becomes the tuple of every axis but the
    first; ints and tuples move by one."""
    if axis is None:
        return tuple(range(1, np.ndim(a)))
    if isinstance(axis, tuple):
        return tuple(example_axis(k) for k in axis)
    return example_axis(axis)


def example_shape(shape, a):
    """The `shape` argument of a reshape of each example of batched `a`."""
    if isinstance(shape, (tuple, list)):
        return (np.shape(a)[0],) + tuple(shape)
    return (np.shape(a)[0], shape)


def flatten_examples(a):
    """Each example of batched `a` flattened: shape (batch, example size)."""
    a = np.asarray(a)
    return a.reshape(a.shape[0], -1)


def squeeze_examples(a):
    """`np.squeeze` of each example (the batch axis stays, even of size 1)."""
    a = np.asarray(a)
    return a.reshape(a.shape[:1] + tuple(s for s in a.shape[1:] if s != 1))


def transpose_examples(a, axes=None):
    """`np.transpose(example, axes)` of each example of batched `a`."""
    nd = np.ndim(a) - 1
    if axes is None:
        perm = (0,) + tuple(range(nd, 0, -1))
    else:
        perm = (0,) + tuple((k % nd) + 1 for k in axes)
    return np.transpose(a, perm)


def example_len(a):
    """`len(example)` of batched `a`."""
    return np.shape(a)[1]


def example_shape_of(a):
    """`example.shape` of batched `a`."""
    return np.shape(a)[1:]


def example_ndim(a):
    """`example.ndim` of batched `a`."""
    return np.ndim(a) - 1


def example_size(a):
    """`example.size` of batched `a`."""
    size = 1
    for s in np.shape(a)[1:]:
        size *= s
    return size


def as_float(a):
    """`float(example)` of each example."""
    return np.asarray(a).astype(np.float64)


def as_int(a):
    """`int(example)` of each example (truncation toward zero, as int())."""
    return np.asarray(a).astype(np.int64)


def _unit_axes(a, k):
    """Batched `a` with `k` unit axes after the batch axis."""
    return a.reshape(a.shape[:1] + (1,) * k + a.shape[1:]) if k > 0 else a


def _check_matmul_ranks(ra, rb):
    if ra == 0 or rb == 0:
        raise ValueError("matmul: Input operand %d does not have enough dimensions" % (0 if ra == 0 else 1))


def matmul_bu(a, b):
    """`example @ b` for each example of batched `a` (`b` unbatched), as
    one matrix product where the shapes allow. The stacks of matrices of
    an example line up with those of `b` after the batch axis; a vector
    example is a row (its axis dropped after)."""
    a = np.asarray(a)
    ra, rb = a.ndim - 1, np.ndim(b)
    _check_matmul_ranks(ra, rb)
    if ra == 2 and rb in (1, 2):                    # (B, m, n) @ (n[, k])
        out = a.reshape(-1, a.shape[2]) @ b
        return out.reshape(a.shape[:2] + np.shape(b)[1:])
    if rb == 1 or (ra == 1 and rb == 2):            # (B, ..., n) @ (n,), (B, n) @ (n, k)
        return np.matmul(a, b)
    if ra == 1:                                     # a row against a stack of matrices
        out = np.matmul(_unit_axes(a[:, None, :], rb - 2), b)
        return out[..., 0, :]
    return np.matmul(_unit_axes(a, rb - ra), b)


def matmul_ub(a, b):
    """`a @ example` for each example of batched `b` (`a` unbatched): a
    batched matrix-vector product is one matrix product."""
    b = np.asarray(b)
    ra, rb = np.ndim(a), b.ndim - 1
    _check_matmul_ranks(ra, rb)
    if rb == 1:                                     # examples are vectors
        if ra == 1:
            return b @ a
        if ra == 2:
            return b @ np.transpose(a)
        return np.moveaxis(np.matmul(a, b.T), -1, 0)        # (..., m, n) @ (n, B)
    if ra == 1:
        return np.matmul(a, b)
    return np.matmul(a, _unit_axes(b, ra - rb))


def matmul_bb(a, b):
    """`example_a @ example_b` for each pair of examples."""
    a, b = np.asarray(a), np.asarray(b)
    ra, rb = a.ndim - 1, b.ndim - 1
    _check_matmul_ranks(ra, rb)
    if ra == 1 and rb == 1:                         # vector . vector
        return np.einsum("bi,bi->b", a, b)
    a2 = a[:, None, :] if ra == 1 else a            # a row
    b2 = b[..., None] if rb == 1 else b             # a column
    ea, eb = a2.ndim - 1, b2.ndim - 1
    out = np.matmul(_unit_axes(a2, eb - ea), _unit_axes(b2, ea - eb))
    if rb == 1:
        return out[..., 0]
    if ra == 1:
        return out[..., 0, :]
    return out


def copy_if_numbers(r, depth):
    """`r`, read from a batch with integer indices (`a[:, i]`), copied where
    each example read a number (NumPy gives a copy there, the batch a view
    that a later write into `a` would change): where `r` has only its
    `depth` batch axes."""
    r = np.asarray(r)
    return r.copy() if r.ndim == depth else r


def einsum_subscripts(subscripts, batched):
    """Einsum `subscripts` made explicit, with a batch letter added to the
    batched operands (`batched`: one flag per operand) and to the output.
    Implicit subscripts (no `->`) have NumPy's output: the labels that appear
    once, in the order of their character codes, after `...` if any."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs = subscripts
        labels = [c for c in inputs if c.isalpha()]
        output = ("..." if "..." in inputs else "") + "".join(sorted(c for c in set(labels)
                                                                       if labels.count(c) == 1))
    if len(inputs.split(",")) != len(batched):
        raise ValueError("einsum: %d operands for the subscripts %r" % (len(batched), subscripts))
    used = set(subscripts)
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in used)
    parts = [letter + p if flag else p for p, flag in zip(inputs.split(","), batched)]
    return ",".join(parts) + "->" + letter + output


def index_examples(a, index):
    """`example[index]` for each example of batched `a` (`index`, an integer
    array or a boolean mask, is shared): `a[:, index]`."""
    return np.asarray(a)[:, index]


def outer_examples(a, b):
    """`np.outer(example_a, example_b)` for each pair of examples."""
    a, b = flatten_examples(a), flatten_examples(b)
    return a[:, :, None] * b[:, None, :]


def broadcast_examples(a, shape):
    """`np.broadcast_to(example, shape)` for each example of batched `a`."""
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    a = match_rank(a, np.empty((0,) * len(shape)))
    return np.broadcast_to(a, (np.shape(a)[0],) + shape)


def check_unpack_examples(v, n, where):
    """`checks.check_unpack` of each example of batched `v` (they share a shape)."""
    if np.shape(v)[0]:
        check_unpack(v[0], n, where)


# ---- derivative helpers on batches (vmap of a JVP or VJP: jacfwd, jacrev) ----
#
# Each is the helper of runtime.adjoint / runtime.tangent applied to every
# example of its batched first argument, the other arguments shared.

def fit_examples(v, like):
    """`tangent.fit(example, like)` for each example of batched `v`."""
    v = np.asarray(v)
    n = v.shape[0]
    if np.ndim(like) == 0 and not isinstance(like, np.ndarray):
        return v.reshape(n, -1).sum(axis=1).astype(np.float64)
    dt = np.result_type(like)
    dt = dt if dt.kind in "fc" else np.dtype(np.float64)
    if v.shape[1:] == np.shape(like) and v.dtype == dt:
        return v
    out = np.empty((n,) + np.shape(like), dt)
    out[...] = match_rank(v, like)
    return out


def example_like(a):
    """An uninitialised array shaped like one example of batched `a` (every
    example has that shape): the `like` of a helper whose like is batched."""
    a = np.asarray(a)
    return np.empty(a.shape[1:], a.dtype)


def seed_examples(ans):
    """`tape.grad_seed` of each example of batched `ans`: JAX's TypeError
    unless the examples are numbers, else a batch of 1.0."""
    ans = np.asarray(ans)
    grad_seed(example_like(ans))
    return np.ones(ans.shape[0])


def unbroadcast_examples(g, like):
    """`adjoint.unbroadcast(example, like)` for each example of batched `g`."""
    g = np.asarray(g)
    n = g.shape[0]
    dt = np.result_type(like)
    dt = dt if dt.kind in "fc" else np.dtype(np.float64)
    if np.ndim(like) == 0:
        return g.reshape(n, -1).sum(axis=1).astype(np.float64)
    shape = np.shape(like)
    g = match_rank(g, like)
    full = np.broadcast_shapes(g.shape[1:], shape)
    if full != g.shape[1:]:
        g = np.broadcast_to(g, (n,) + full)
    lead = len(full) - len(shape)
    axes = tuple(1 + k for k in range(lead)) + tuple(
        1 + lead + k for k, m in enumerate(shape) if m == 1 and full[lead + k] != 1)
    if axes:
        g = g.sum(axis=axes).reshape((n,) + shape)
    return g if g.dtype == dt else g.astype(dt)


def unreduce_examples(g, a, axis=None, keepdims=False):
    """`adjoint.unreduce(example, a, axis, keepdims)` for each example of batched `g`."""
    g = np.asarray(g)
    n = g.shape[0]
    if np.ndim(a) == 0:
        return g.reshape(n, -1).sum(axis=1).astype(np.float64)
    shape = np.shape(a)
    g = g.astype(_float_dtype(a), copy=False)
    if not keepdims and g.ndim - 1 != len(shape):
        g = g.reshape((n,) + tuple(1 if k in _norm_axes(axis, len(shape)) else m
                                   for k, m in enumerate(shape)))
    return np.array(np.broadcast_to(g, (n,) + shape))


def add_at_examples(target, index, g):
    """`adjoint.add_at(example_t, index, example_g)` for each pair of
    examples (scatter-add into batched `target`, in place; returns it)."""
    target = np.asarray(target)
    g = np.asarray(g)
    n = target.shape[0]
    if target.ndim == 1:                        # examples are numbers
        return target + g.reshape(n, -1).sum(axis=1)
    full = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    try:
        if np.ndim(target[full]) == g.ndim:
            np.add.at(target, full, g)
            return target
    except (IndexError, ValueError):
        pass
    for b in range(n):                          # index or shapes the batch form cannot take
        add_at(target[b], index, g[b])
    return target


def merge_examples(a):
    """Batched `a` of batched examples, shape (m, n, ...), as one batch of
    m * n examples (vmap of vmapped helpers)."""
    a = np.ascontiguousarray(a)
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])


def split_examples(r, like):
    """`r`, a batch of m * n examples, as m batches of n like `like` (the
    inverse of `merge_examples`)."""
    r = np.ascontiguousarray(r)
    return r.reshape(np.shape(like)[:2] + r.shape[1:])
