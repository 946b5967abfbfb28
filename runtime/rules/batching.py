"""Rules for `vmap`'s runtime helpers (:mod:`runtime.batching`).

Tangent templates, so that batched code can be differentiated like any
generated code (``grad(vmap(f))``, ``jacfwd(vmap(f))``): moving an axis and
broadcasting over the batch are linear, so their tangent is the same helper
applied to the tangent; the size and shape checks and the allocation of an
output (which the per-example loop then fills) carry no derivative.
"""
from runtime import adjoint as A
from runtime import batching as B
from runtime import tangent as T
from runtime import tape as TP
from runtime.rules.registry import d, nondifferentiable, t, tangent

# ---- tangents of the helpers that batched code calls ----


@tangent(B.moveaxis)
def moveaxis(ans, a, source, destination):
    d[a] = B.moveaxis(t(a), source, destination)


@tangent(B.broadcast)
def broadcast(ans, v, n):
    d[v] = B.broadcast(t(v), n)


@tangent(B.match_rank)
def match_rank(ans, a, other):
    d[a] = B.match_rank(t(a), other)
    d[other] = None


@tangent(B.match_rank_b)
def match_rank_b(ans, a, other):
    d[a] = B.match_rank_b(t(a), other)
    d[other] = None


@tangent(B.flatten_examples)
def flatten_examples(ans, a):
    d[a] = B.flatten_examples(t(a))


@tangent(B.squeeze_examples)
def squeeze_examples(ans, a):
    d[a] = B.squeeze_examples(t(a))


@tangent(B.transpose_examples)
def transpose_examples(ans, a, axes=None):
    d[a] = B.transpose_examples(t(a), axes)


@tangent(B.broadcast_examples)
def broadcast_examples(ans, a, shape):
    d[a] = B.broadcast_examples(t(a), shape)


@tangent(B.fit_examples)
def fit_examples(ans, v, like):
    d[v] = B.fit_examples(t(v), like)
    d[like] = None


@tangent(B.unbroadcast_examples)
def unbroadcast_examples(ans, g, like):
    d[g] = B.unbroadcast_examples(t(g), like)
    d[like] = None


@tangent(B.unreduce_examples)
def unreduce_examples(ans, g, a, axis=None, keepdims=False):
    d[g] = B.unreduce_examples(t(g), a, axis, keepdims)
    d[a] = None


@tangent(B.add_at_examples)
def add_at_examples(ans, target, index, g):
    d[target, g] = B.add_at_examples(t(target), index, t(g))


@tangent(B.merge_examples)
def merge_examples(ans, a):
    d[a] = B.merge_examples(t(a))


@tangent(B.split_examples)
def split_examples(ans, r, like):
    d[r] = B.split_examples(t(r), like)
    d[like] = None


@tangent(B.index_examples)
def index_examples(ans, a, index):
    d[a] = B.index_examples(t(a), index)
    d[index] = None


nondifferentiable(B.example_like, B.seed_examples)


@tangent(B.as_float)
def as_float(ans, a):
    d[a] = B.as_float(t(a))


@tangent(B.matmul_bu)
def matmul_bu(ans, a, b):
    d[a] = B.matmul_bu(t(a), b)
    d[b] = B.matmul_bu(a, t(b))


@tangent(B.matmul_ub)
def matmul_ub(ans, a, b):
    d[a] = B.matmul_ub(t(a), b)
    d[b] = B.matmul_ub(a, t(b))


@tangent(B.matmul_bb)
def matmul_bb(ans, a, b):
    d[a] = B.matmul_bb(t(a), b)
    d[b] = B.matmul_bb(a, t(b))


@tangent(B.outer_examples)
def outer_examples(ans, a, b):
    d[a] = B.outer_examples(t(a), b)
    d[b] = B.outer_examples(a, t(b))


@tangent(B.copy_if_numbers)
def copy_if_numbers(ans, r, depth):
    d[r] = B.copy_if_numbers(t(r), depth)
    d[depth] = None


nondifferentiable(B.axis_size, B.check_size, B.check_nonempty, B.alloc, B.example_axis, B.example_axes,
                  B.example_shape, B.example_len, B.example_shape_of, B.example_ndim, B.example_size,
                  B.as_int, B.einsum_subscripts, B.check_unpack_examples)


# ---- vmap's vectorizing rules --------------------------------------------------
#
# Vectorized code keeps the batch axis of every batched value first. A rule
# says how a call becomes the same call on whole batches. Element-wise
# functions are only declared (``vmap_elementwise``): the compiler lines up the
# ranks of their arguments after the batch axis (``B.match_rank``). The others
# are templates, written like the derivative templates::
#
#     @vmap_rule(np.sum, np.mean, ..., batched=("a",))
#     def reduction(fn, a, axis=None, *args, **kwargs):
#         return fn(a, B.example_axes(axis, a), *args, **kwargs)
#
# * ``fn`` is the function of the call (``npx.sum``, ``np.sum``); the other
#   parameters bind the call's arguments by NumPy's signature. ``*args`` and
#   ``**kwargs`` pass the remaining arguments through unchanged (they must
#   not be batched). ``batched=`` lists the parameters that may be batched;
#   a call with another batched argument is not vectorized (the per-example
#   loop runs it).
# * The body is evaluated while generating code: ``if`` tests are made of
#   ``batched(p)``, ``is_none(p)``, ``is_display(p)`` (a tuple/list display)
#   and ``rank(p)`` (the rank of one example, None when unknown);
#   ``raise NotVectorizable`` gives up; ``return expr`` is the batched value.
# * ``lift(p)`` is ``p`` broadcast over the batch when it is not batched (for
#   a display: element by element); helpers of :mod:`runtime.batching` whose
#   arguments are constants (``B.example_axes(0, a)``) are folded.
# * A list or tuple of mapped values (a display ``[a, b]`` or a variable
#   holding one) is not an array whose first axis is the batch: each item is
#   a batch. Where NumPy takes an array (``np.sum([a, b])``) the compiler
#   passes the batch of ``np.array([a, b])`` instead (the items stacked
#   along axis 1, after the batch axis); the parameters of
#   ``SEQUENCE_PARAMS`` take the sequence itself, and their rule says how:
#   ``is_sequence(p)`` tests for one, ``stacked(p)`` is that batch of
#   ``np.array(p)`` (nested lists too), ``items(p)`` a display of the
#   batches of its items (``np.asarray`` of each, nested lists stacked).

import math  # noqa: E402

import numpy as np  # noqa: E402

from runtime import checks, npx  # noqa: E402
from runtime.rules.registry import vmap_elementwise, vmap_rule  # noqa: E402


class NotVectorizable(Exception):
    """Template notation: this call has no vectorized form (never raised at run time)."""


def batched(p):
    """Template notation: whether argument ``p`` is batched (never called)."""
    raise TypeError('batched(p) is template notation (see runtime.rules.batching)')


def is_none(p):
    """Template notation: whether argument ``p`` is the constant None."""
    raise TypeError('is_none(p) is template notation (see runtime.rules.batching)')


def is_display(p):
    """Template notation: whether argument ``p`` is a tuple or list display."""
    raise TypeError('is_display(p) is template notation (see runtime.rules.batching)')


def rank(p):
    """Template notation: the rank of one example of ``p`` (None if unknown)."""
    raise TypeError('rank(p) is template notation (see runtime.rules.batching)')


def lift(p):
    """Template notation: ``p`` broadcast over the batch unless batched."""
    raise TypeError('lift(p) is template notation (see runtime.rules.batching)')


def is_sequence(p):
    """Template notation: whether ``p`` is a list/tuple (display or variable)."""
    raise TypeError('is_sequence(p) is template notation (see runtime.rules.batching)')


def stacked(p):
    """Template notation: the batch of ``np.array(p)`` of a list/tuple ``p``."""
    raise TypeError('stacked(p) is template notation (see runtime.rules.batching)')


def items(p):
    """Template notation: the batches of the items of a list/tuple ``p``."""
    raise TypeError('items(p) is template notation (see runtime.rules.batching)')


#: helpers the compiler evaluates while generating code when their arguments
#: are constants (and ``rank(a)`` is known where they read ``a``)
FOLDABLE = {B.example_axis, B.example_axes, B.einsum_subscripts}

# element-wise: every ufunc, and the functions built from them
vmap_elementwise(*[f for f in vars(np).values() if isinstance(f, np.ufunc) and f.signature is None])
vmap_elementwise(np.where, np.clip, npx.heaviside, np.real, np.imag, np.conj, np.nan_to_num)

#: parameters that take a sequence of arrays (not one array-like): a list of
#: mapped values passed there goes to the rule as it is
SEQUENCE_PARAMS = {np.concatenate: ("arrays",), np.stack: ("arrays",), np.array: ("object",),
                   np.asarray: ("object",)}

#: functions of numbers (a list is a TypeError in each example)
SCALAR_FUNCTIONS = {math.log, max, min, float, int}

#: functions of scalars that become their NumPy ufunc on a batch
SCALAR_TO_NUMPY = {
    math.exp: np.exp, math.expm1: np.expm1, math.log1p: np.log1p, math.log2: np.log2,
    math.log10: np.log10, math.sqrt: np.sqrt, math.pow: np.power, math.sin: np.sin,
    math.cos: np.cos, math.tan: np.tan, math.asin: np.arcsin, math.acos: np.arccos,
    math.atan: np.arctan, math.atan2: np.arctan2, math.sinh: np.sinh, math.cosh: np.cosh,
    math.tanh: np.tanh, math.asinh: np.arcsinh, math.acosh: np.arccosh, math.atanh: np.arctanh,
    math.fabs: np.fabs, math.hypot: np.hypot, math.copysign: np.copysign,
    math.degrees: np.degrees, math.radians: np.radians, math.isnan: np.isnan,
    math.isinf: np.isinf, math.isfinite: np.isfinite, abs: np.abs,
}


@vmap_rule(math.log, batched=("x",))
def math_log(fn, x, base=math.e):
    if batched(base):
        raise NotVectorizable
    return np.log(x) / math.log(base)


@vmap_rule(max, batched=("a", "b"))
def builtin_max(fn, a, b):
    # max(a, b) of two numbers, example by example
    return np.maximum(a, b)


@vmap_rule(min, batched=("a", "b"))
def builtin_min(fn, a, b):
    return np.minimum(a, b)


@vmap_rule(float, batched=("x",))
def builtin_float(fn, x):
    return B.as_float(x)


@vmap_rule(int, batched=("x",))
def builtin_int(fn, x):
    return B.as_int(x)


@vmap_rule(len, batched=("x",))
def builtin_len(fn, x):
    return B.example_len(x)


# ---- reductions ----

@vmap_rule(np.sum, np.prod, np.mean, np.max, np.amax, np.min, np.amin, np.any, np.all, np.var,
          np.std, np.nansum, np.nanmean, np.nanmax, np.nanmin, batched=("a",))
def reduction(fn, a, axis=None, *args, **kwargs):
    return fn(a, B.example_axes(axis, a), *args, **kwargs)


@vmap_rule(np.argmax, np.argmin, batched=("a",))
def arg_extremum(fn, a, axis=None, *args, **kwargs):
    if is_none(axis):
        return fn(B.flatten_examples(a), 1, *args, **kwargs)
    return fn(a, B.example_axis(axis), *args, **kwargs)


@vmap_rule(np.cumsum, np.cumprod, batched=("a",))
def cumulative(fn, a, axis=None, *args, **kwargs):
    if is_none(axis):
        return fn(B.flatten_examples(a), 1, *args, **kwargs)
    return fn(a, B.example_axis(axis), *args, **kwargs)


# ---- products ----

@vmap_rule(np.matmul, batched=("x1", "x2"))
def matmul(fn, x1, x2):
    if batched(x1) and batched(x2):
        return B.matmul_bb(x1, x2)
    if batched(x1):
        return B.matmul_bu(x1, x2)
    return B.matmul_ub(x1, x2)


@vmap_rule(np.dot, batched=("a", "b"))
def dot(fn, a, b):
    # np.dot is np.matmul for examples of rank 1 and 2
    if rank(a) not in (1, 2) or rank(b) not in (1, 2):
        raise NotVectorizable
    if batched(a) and batched(b):
        return B.matmul_bb(a, b)
    if batched(a):
        return B.matmul_bu(a, b)
    return B.matmul_ub(a, b)


@vmap_rule(np.einsum, batched=("operands",))
def einsum(fn, subscripts, *operands, **kwargs):
    return fn(B.einsum_subscripts(subscripts, batched(operands)), *operands, **kwargs)


@vmap_rule(np.outer, batched=("a", "b"))
def outer(fn, a, b):
    return B.outer_examples(lift(a), lift(b))


# ---- shapes ----

@vmap_rule(np.reshape, batched=("a",))
def reshape(fn, a, shape=None, *args, **kwargs):
    return fn(a, B.example_shape(shape, a), *args, **kwargs)


@vmap_rule(np.ravel, batched=("a",))
def ravel(fn, a, order='C'):
    return B.flatten_examples(a)


@vmap_rule(np.transpose, batched=("a",))
def transpose(fn, a, axes=None):
    return B.transpose_examples(a, axes)


@vmap_rule(np.expand_dims, batched=("a",))
def expand_dims(fn, a, axis):
    return fn(a, B.example_axes(axis, a))


@vmap_rule(np.squeeze, batched=("a",))
def squeeze(fn, a, axis=None):
    if is_none(axis):
        raise NotVectorizable       # which axes go depends on the sizes
    return fn(a, B.example_axes(axis, a))


@vmap_rule(np.concatenate, np.stack, batched=("arrays",))
def concatenate(fn, arrays, axis=0, *args, **kwargs):
    # each item's batch, nested lists stacked; the axis of one example moves by one
    if is_none(axis) or not is_sequence(arrays):
        raise NotVectorizable
    return fn(items(arrays), B.example_axis(axis), *args, **kwargs)


@vmap_rule(np.array, np.asarray, batched=("object",))
def array(fn, object, dtype=None, *args, **kwargs):
    if args or kwargs:
        raise NotVectorizable       # ndmin=, order=, ...: of each example
    if is_sequence(object) and is_none(dtype):
        return stacked(object)
    if is_sequence(object):
        return fn(stacked(object), dtype)
    return fn(object, dtype)


@vmap_rule(np.copy, np.zeros_like, np.ones_like, np.empty_like, np.ndarray.astype, batched=("a",))
def same(fn, a, *args, **kwargs):
    # example by example the same function: batch in, batch out
    return fn(a, *args, **kwargs)


@vmap_rule(np.full_like, batched=("a", "fill_value"))
def full_like(fn, a, fill_value, *args, **kwargs):
    if batched(fill_value):
        raise NotVectorizable
    return fn(a, fill_value, *args, **kwargs)


@vmap_rule(np.broadcast_to, batched=("array",))
def broadcast_to(fn, array, shape, *args, **kwargs):
    if args or kwargs:
        raise NotVectorizable
    return B.broadcast_examples(array, shape)


@vmap_rule(np.trace, batched=("a",))
def trace(fn, a, offset=0, axis1=0, axis2=1, *args, **kwargs):
    return fn(a, offset, B.example_axis(axis1), B.example_axis(axis2), *args, **kwargs)


@vmap_rule(np.linalg.norm, batched=("x",))
def norm(fn, x, ord=None, axis=None, keepdims=False):
    if not is_none(axis):
        return fn(x, ord, B.example_axes(axis, x), keepdims)
    if is_none(ord) and rank(x) == 1:
        return fn(x, ord, 1, keepdims)
    if is_none(ord) and rank(x) == 2:
        return fn(x, 'fro', (1, 2), keepdims)
    if rank(x) == 1:
        return fn(x, ord, 1, keepdims)
    if rank(x) == 2:
        return fn(x, ord, (1, 2), keepdims)
    raise NotVectorizable


@vmap_rule(B.copy_if_numbers, batched=("r",))
def copy_if_numbers(fn, r, depth):
    # vmap of vmapped code: one more batch axis in front
    return fn(r, B.example_axis(depth))


@vmap_rule(checks.check_unpack, batched=("v",))
def check_unpack(fn, v, n, where):
    # `a, b = v` of each example: the length of one example
    return B.check_unpack_examples(v, n, where)


@vmap_rule(checks.is_array, batched=("v",))
def is_array(fn, v):
    # one example of a batch is an array when it has axes (a number of a batch is not)
    if rank(v) is None:
        raise NotVectorizable
    if rank(v) == 0:
        return False
    return True


@vmap_rule(checks.rebinds_number, batched=("v",))
def rebinds_number(fn, v, name, other, where):
    # a batch of numbers: each example is a number (an array is refused by the loop, per example)
    if rank(v) == 0:
        return None
    raise NotVectorizable


# ---- the helpers of generated derivative code (vmap of a JVP or VJP) ----
# A helper of runtime.adjoint/tangent/tape with no rule here, or whose rule
# gives up, loops over the examples of that one call (vectorize.py).

@vmap_rule(TP.grad_seed, batched=("ans",))
def grad_seed(fn, ans):
    return B.seed_examples(ans)


@vmap_rule(A.zeros_like, batched=("x",))
def zeros_like(fn, x):
    return fn(x)


@vmap_rule(TP.save, batched=("value",))
def save(fn, value):
    return fn(value)


@vmap_rule(T.cast, batched=("v",))
def cast(fn, v, dtype):
    return fn(v, dtype)


@vmap_rule(T.fit, batched=("v", "like"))
def fit(fn, v, like):
    if batched(like):       # examples of one shape: one stands for all
        return B.fit_examples(lift(v), B.example_like(like))
    return B.fit_examples(v, like)


@vmap_rule(A.unbroadcast, batched=("g", "like"))
def unbroadcast(fn, g, like):
    if batched(like):
        return B.unbroadcast_examples(lift(g), B.example_like(like))
    return B.unbroadcast_examples(g, like)


@vmap_rule(A.unreduce, batched=("g", "a"))
def unreduce(fn, g, a, axis=None, keepdims=False):
    if batched(a):
        return B.unreduce_examples(lift(g), B.example_like(a), axis, keepdims)
    return B.unreduce_examples(g, a, axis, keepdims)


@vmap_rule(A.matmul_grad_a, A.dot_grad_a, batched=("g",))
def matmul_grad_a(fn, g, a, b):
    # the cotangent of a in a @ b is g @ b.T (outer(g, b) for a vector b)
    if rank(a) == 2 and rank(b) == 1:
        return B.outer_examples(g, lift(b))
    if rank(b) == 2 and rank(a) in (1, 2):
        return B.matmul_bu(g, A.matrix_transpose(b))
    raise NotVectorizable


@vmap_rule(A.matmul_grad_b, A.dot_grad_b, batched=("g",))
def matmul_grad_b(fn, g, a, b):
    # the cotangent of b in a @ b is a.T @ g (outer(a, g) for a vector a)
    if rank(a) == 2 and rank(b) == 1:
        return B.matmul_bu(g, a)
    if rank(a) == 2 and rank(b) == 2:
        return B.matmul_ub(A.matrix_transpose(a), g)
    if rank(a) == 1 and rank(b) == 2:
        return B.outer_examples(lift(a), g)
    raise NotVectorizable


@vmap_rule(A.add_at, batched=("target", "g"))
def add_at(fn, target, index, g):
    # a scatter-add into a fresh batch (the target is broadcast when shared)
    if batched(index):
        raise NotVectorizable
    return B.add_at_examples(lift(target), index, lift(g))


# vmap of the helpers above (vmap of vmapped derivative code: hessian =
# jacfwd(jacrev)): the two batch axes merged into one and split again

@vmap_rule(B.fit_examples, B.unbroadcast_examples, batched=("g",))
def examples_like(fn, g, like):
    return B.split_examples(fn(B.merge_examples(g), like), g)


@vmap_rule(B.unreduce_examples, batched=("g",))
def unreduce_examples(fn, g, a, axis=None, keepdims=False):
    return B.split_examples(fn(B.merge_examples(g), a, axis, keepdims), g)


@vmap_rule(B.add_at_examples, batched=("target", "g"))
def add_at_examples(fn, target, index, g):
    if batched(index):
        raise NotVectorizable
    tt = lift(target)
    return B.split_examples(fn(B.merge_examples(tt), index, B.merge_examples(lift(g))), tt)
