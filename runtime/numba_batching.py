"""Numba overloads of the `vmap` helpers in :mod:`runtime.batching`.

Imported by `runtime.numba_impl`. Axes that generated code passes as
constants (`moveaxis(x, 1, 0)`, `alloc(r, n, 1)`) are read at typing time
(literal dispatch), so each overload is straight code building shape and
stride tuples: a view, no `np.transpose(a, axes)` (seconds to compile).
"""
import numpy as np
from numba import types
from numba.core import ir_utils
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable
from numba.np.numpy_support import as_dtype

from runtime import adjoint as A
from runtime import batching as B
from runtime import checks, npx
from runtime import tangent as T
from runtime import tape as TP
from runtime._nb_common import JIT, const, is_array, is_scalar

_R = B.RANK_MESSAGE
_S = B.SIZE_MESSAGE


# ---- writes through views that helpers return ----------------------------------
#
# Numba removes a store into an array as dead code when it believes no live
# name can see it (`ir_utils.find_potential_aliases`, run when calls are
# inlined): it knows that `np.reshape`, `np.ravel`, `np.transpose` and `a.T`
# return views, but not `np.lib.stride_tricks.as_strided` (our views:
# moveaxis, transpose_examples, match_rank), `npx.reshape`, nor a generated
# function that returns a view of its argument. So `v = h(y); v[0] = 1.0;
# return y` lost the store. Here every call whose result is mutable may
# share the arrays of its arguments: a store through its result stays.

def _alias_arguments(lhs, args, alias_map, arg_aliases):
    for a in args:
        ir_utils._add_alias(lhs, a.name, alias_map, arg_aliases)


class _CallsMayAlias(dict):
    """`ir_utils.alias_func_extensions` answering for every call: an entry
    registered by Numba (or later) first, else "the result may view any
    argument"."""

    def __init__(self, registered):
        super().__init__(registered)
        self.registered = registered

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self.registered.get(key, _alias_arguments)


if not isinstance(ir_utils.alias_func_extensions, _CallsMayAlias):
    ir_utils.alias_func_extensions = _CallsMayAlias(ir_utils.alias_func_extensions)


def _fail(name, msg):
    raise TypingError("batching.%s: %s" % (name, msg))


def _dtype(t):
    """The NumPy scalar type of an array or number type."""
    t = types.unliteral(t)
    return t.dtype if is_array(t) else t


def _exec(src, name, glbs=None):
    g = {"np": np, "B": B, "VmapError": B.VmapError, "_R": _R, "_S": _S}
    g.update(glbs or {})
    exec(compile(src, "<batching:%s>" % name, "exec"), g)
    return g[name]


def _int_const(t):
    v = const(t)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@overload(B.axis_size, prefer_literal=True, jit_options=JIT)
def _axis_size(x, axis):
    nd = x.ndim if is_array(x) else 0
    if not (is_array(x) or is_scalar(x)):
        _fail("axis_size", "cannot map over a %s" % (x,))
    if nd == 0:
        def impl(x, axis):
            raise B.VmapError(_R, axis, axis + 1 if axis >= 0 else -axis, 0, ())
        return impl
    ax = _int_const(axis)
    if ax is not None and -nd <= ax < nd:
        k = ax + nd if ax < 0 else ax
        return lambda x, axis: x.shape[k]

    def impl(x, axis):
        a = axis + nd if axis < 0 else axis
        if a < 0 or a >= nd:
            raise B.VmapError(_R, axis, axis + 1 if axis >= 0 else -axis, nd, x.shape)
        return x.shape[a]
    return impl


@overload(B.check_size, prefer_literal=True, jit_options=JIT)
def _check_size(x, axis, n):
    def impl(x, axis, n):
        size = B.axis_size(x, axis)
        if size != n:
            raise B.VmapError(_S, axis, x.shape, size, n)
    if is_scalar(x):
        def impl_scalar(x, axis, n):   # noqa: F811  (axis_size raises)
            B.axis_size(x, axis)
        return impl_scalar
    return impl


@overload(B.check_nonempty, jit_options=JIT)
def _check_nonempty(n):
    def impl(n):
        if n < 1:
            raise B.VmapError(B.EMPTY_MESSAGE)
    return impl


@overload(B.alloc, jit_options=JIT)
def _alloc(r, n):
    if is_array(r):
        dt = r.dtype
        return lambda r, n: np.empty((n,) + r.shape, dt)
    if is_scalar(r):
        dt = types.unliteral(r)
        return lambda r, n: np.empty(n, dt)
    _fail("alloc", "a per-example result must be a number or an array, not %s" % (r,))


@overload(B.broadcast, jit_options=JIT)
def _broadcast(v, n):
    if is_array(v):
        dt = v.dtype
        if v.ndim == 0:
            def impl0(v, n):
                out = np.empty(n, dt)
                out[:] = v[()]
                return out
            return impl0

        def impl(v, n):
            out = np.empty((n,) + v.shape, dt)
            for i in range(n):
                out[i] = v
            return out
        return impl
    if is_scalar(v):
        dt = types.unliteral(v)

        def impl_s(v, n):
            out = np.empty(n, dt)
            out[:] = v
            return out
        return impl_s
    _fail("broadcast", "cannot broadcast a %s over the batch" % (v,))


@overload(B.number_lanes, jit_options=JIT)
def _number_lanes(x, n):
    if not is_scalar(x):
        _fail("number_lanes", "one example's value must be a number, not %s" % (x,))
    dt = types.unliteral(x)
    return lambda x, n: np.empty(n, dt)


@overload(B.set_lane, jit_options=JIT)
def _set_lane(lanes, b, x):
    if not is_array(lanes) or types.unliteral(x) != lanes.dtype:
        _fail("set_lane", "a %s value into %s lanes (the example's type changed)" % (x, lanes))

    def impl(lanes, b, x):
        lanes[b] = x
    return impl


@overload(B.copy_lanes, jit_options=JIT)
def _copy_lanes(lanes):
    return lambda lanes: lanes.copy()


@overload(B.guard_divisor, jit_options=JIT)
def _guard_divisor(b, active):
    one = as_dtype(types.unliteral(b)).type(1)      # branch-free: the loop over the examples vectorizes
    return lambda b, active: b if active | (b != 0) else one


@overload(B.zero_divisor, jit_options=JIT)
def _zero_divisor(flag, b, active):
    return lambda flag, b, active: flag | (active & (b == 0))


@overload(B.check_zero_divisor, jit_options=JIT)
def _check_zero_divisor(flag, where):
    def impl(flag, where):
        if flag:
            raise ZeroDivisionError("division by zero (at " + where + ")")
    return impl


def _perm(nd, s, d):
    order = [k for k in range(nd) if k != s]
    order.insert(d, s)
    return order


@overload(B.moveaxis, prefer_literal=True, jit_options=JIT)
def _moveaxis(a, source, destination):
    if not is_array(a):
        _fail("moveaxis", "expected an array, got %s" % (a,))
    nd = a.ndim
    s, d = _int_const(source), _int_const(destination)
    if s is not None and d is not None:
        if not (-nd <= s < nd and -nd <= d < nd):
            _fail("moveaxis", "axis %d or %d out of range for an array of rank %d" % (s, d, nd))
        order = _perm(nd, s % nd, d % nd)
        if order == list(range(nd)):
            return lambda a, source, destination: a
        shape = "(" + "".join("a.shape[%d], " % k for k in order) + ")"
        strides = "(" + "".join("a.strides[%d], " % k for k in order) + ")"
        src = ("def impl(a, source, destination):\n"
               "    return np.lib.stride_tricks.as_strided(a, %s, %s)\n" % (shape, strides))
        return _exec(src, "impl")
    # runtime axes: the permutation is computed in the loop, then the same view
    lines = ["def impl(a, source, destination):",
             "    s = source + %d if source < 0 else source" % nd,
             "    d = destination + %d if destination < 0 else destination" % nd,
             "    if s < 0 or s >= %d or d < 0 or d >= %d:" % (nd, nd),
             "        raise ValueError('moveaxis: axis out of range')",
             "    order = np.empty(%d, np.int64)" % nd,
             "    j = 0",
             "    for k in range(%d):" % nd,
             "        if k == s:",
             "            continue",
             "        if j == d:",
             "            j += 1",
             "        order[j] = k",
             "        j += 1",
             "    order[d] = s"]
    shape = "(" + "".join("a.shape[order[%d]], " % k for k in range(nd)) + ")"
    strides = "(" + "".join("a.strides[order[%d]], " % k for k in range(nd)) + ")"
    lines.append("    return np.lib.stride_tricks.as_strided(a, %s, %s)" % (shape, strides))
    return _exec("\n".join(lines) + "\n", "impl")


# ---- helpers of vectorized code ------------------------------------------------

def _ndim(t):
    return t.ndim if is_array(t) else 0


def _view(name, shape_items, stride_items, args="a"):
    """An impl returning the as_strided view of `a` with these shape and
    stride expressions."""
    shape = "(" + "".join(s + ", " for s in shape_items) + ")"
    strides = "(" + "".join(s + ", " for s in stride_items) + ")"
    src = ("def impl(%s):\n    return np.lib.stride_tricks.as_strided(a, %s, %s)\n"
           % (args, shape, strides))
    return _exec(src, "impl")


def _unit_axes_view(a, missing, args):
    nd = a.ndim
    shape = ["a.shape[0]"] + ["1"] * missing + ["a.shape[%d]" % k for k in range(1, nd)]
    strides = ["a.strides[0]"] + ["0"] * missing + ["a.strides[%d]" % k for k in range(1, nd)]
    return _view("match_rank", shape, strides, args)


@overload(B.match_rank, jit_options=JIT)
def _match_rank(a, other):
    if not is_array(a):
        _fail("match_rank", "a batched value must be an array, got %s" % (a,))
    missing = _ndim(other) - (a.ndim - 1)
    if missing <= 0:
        return lambda a, other: a
    return _unit_axes_view(a, missing, "a, other")


@overload(B.match_rank_b, jit_options=JIT)
def _match_rank_b(a, other):
    if not is_array(a):
        _fail("match_rank_b", "a batched value must be an array, got %s" % (a,))
    missing = _ndim(other) - a.ndim
    if missing <= 0:
        return lambda a, other: a
    return _unit_axes_view(a, missing, "a, other")


@overload(B.example_axis, jit_options=JIT)
def _example_axis(axis):
    return lambda axis: axis + 1 if axis >= 0 else axis


@overload(B.example_axes, prefer_literal=True, jit_options=JIT)
def _example_axes(axis, a):
    nd = _ndim(a)
    v = const(axis)
    if v is None:
        items = "".join("%d, " % k for k in range(1, nd))
        return _exec("def impl(axis, a):\n    return (%s)\n" % items, "impl")
    if isinstance(axis, types.BaseTuple):
        items = "".join("(axis[%d] + 1 if axis[%d] >= 0 else axis[%d]), " % (k, k, k)
                        for k in range(len(axis.types)))
        return _exec("def impl(axis, a):\n    return (%s)\n" % items, "impl")
    return lambda axis, a: axis + 1 if axis >= 0 else axis


@overload(B.example_shape, jit_options=JIT)
def _example_shape(shape, a):
    if isinstance(shape, types.BaseTuple):
        return lambda shape, a: (a.shape[0],) + shape
    return lambda shape, a: (a.shape[0], shape)


@overload(B.flatten_examples, jit_options=JIT)
def _flatten_examples(a):
    if is_array(a) and a.layout == "C":
        return lambda a: a.reshape(a.shape[0], -1)
    return lambda a: np.ascontiguousarray(a).reshape(a.shape[0], -1)


@overload(B.transpose_examples, prefer_literal=True, jit_options=JIT)
def _transpose_examples(a, axes=None):
    nd = a.ndim - 1
    v = const(axes)
    if v is None or axes is None:
        order = [0] + list(range(nd, 0, -1))
    elif isinstance(v, tuple) and all(isinstance(k, int) for k in v):
        order = [0] + [(k % nd) + 1 for k in v]
    else:
        order = None
    if order is not None:
        return _view("transpose_examples", ["a.shape[%d]" % k for k in order],
                     ["a.strides[%d]" % k for k in order], "a, axes=None")
    # axes known only at run time
    lines = ["def impl(a, axes=None):",
             "    order = np.empty(%d, np.int64)" % (nd + 1),
             "    order[0] = 0"]
    lines += ["    order[%d] = (axes[%d] %% %d) + 1" % (k + 1, k, nd) for k in range(nd)]
    shape = "(" + "".join("a.shape[order[%d]], " % k for k in range(nd + 1)) + ")"
    strides = "(" + "".join("a.strides[order[%d]], " % k for k in range(nd + 1)) + ")"
    lines.append("    return np.lib.stride_tricks.as_strided(a, %s, %s)" % (shape, strides))
    return _exec("\n".join(lines) + "\n", "impl")


@overload(B.example_len, jit_options=JIT)
def _example_len(a):
    return lambda a: a.shape[1]


@overload(B.example_shape_of, jit_options=JIT)
def _example_shape_of(a):
    return lambda a: a.shape[1:]


@overload(B.example_ndim, jit_options=JIT)
def _example_ndim(a):
    nd = a.ndim - 1
    return lambda a: nd


@overload(B.example_size, jit_options=JIT)
def _example_size(a):
    def impl(a):
        size = 1
        for s in a.shape[1:]:
            size *= s
        return size
    return impl


@overload(B.as_float, jit_options=JIT)
def _as_float(a):
    return lambda a: a.astype(np.float64)


@overload(B.as_int, jit_options=JIT)
def _as_int(a):
    return lambda a: a.astype(np.int64)


def _blas(*ts):
    """Float arrays of one dtype: Numba's `@` (BLAS) takes them."""
    dts = {types.unliteral(t).dtype if is_array(t) else None for t in ts}
    return len(dts) == 1 and isinstance(next(iter(dts)), types.Float)


def _matmul_each(batched_a, batched_b):
    """`npx.matmul` example by example (one or both operands batched): the
    stacks of matrices of each example broadcast as NumPy's do."""
    pa = "a[i]" if batched_a else "a"
    pb = "b[i]" if batched_b else "b"
    n = "a.shape[0]" if batched_a else "b.shape[0]"
    src = ("def impl(a, b):\n"
           "    n = %s\n"
           "    B.check_nonempty(n)\n"
           "    i = 0\n"
           "    r0 = npx.matmul(%s, %s)\n"
           "    out = B.alloc(r0, n)\n"
           "    out[0] = r0\n"
           "    for i in range(1, n):\n"
           "        out[i] = npx.matmul(%s, %s)\n"
           "    return out\n" % (n, pa, pb, pa, pb))
    return _exec(src, "impl", {"npx": npx})


def _check_matmul(name, ra, rb):
    if ra == 0 or rb == 0:
        _fail(name, "matmul of a number (an operand of rank 0)")


@overload(B.matmul_bu, jit_options=JIT)
def _matmul_bu(a, b):
    na, nb = a.ndim, _ndim(b)
    _check_matmul("matmul_bu", na - 1, nb)
    if na == 2 and nb in (1, 2) and _blas(a, b):        # (B, n) @ (n[, k])
        return lambda a, b: np.dot(a, b)
    if na == 3 and nb == 1 and _blas(a, b):             # (B, m, n) @ (n,)
        def impl31(a, b):
            out = np.dot(np.ascontiguousarray(a).reshape(-1, a.shape[2]), b)
            return out.reshape(a.shape[0], a.shape[1])
        return impl31
    if na == 3 and nb == 2 and _blas(a, b):             # (B, m, n) @ (n, k)
        def impl32(a, b):
            out = np.dot(np.ascontiguousarray(a).reshape(-1, a.shape[2]), b)
            return out.reshape(a.shape[0], a.shape[1], b.shape[1])
        return impl32
    return _matmul_each(True, False)


@overload(B.matmul_ub, jit_options=JIT)
def _matmul_ub(a, b):
    na, nb = _ndim(a), b.ndim
    _check_matmul("matmul_ub", na, nb - 1)
    if nb == 2 and na == 2 and _blas(a, b):             # A @ x for each x: X @ A.T
        return lambda a, b: np.dot(b, np.ascontiguousarray(a.T))
    if nb == 2 and na == 1 and _blas(a, b):
        return lambda a, b: np.dot(b, a)
    return _matmul_each(False, True)


@overload(B.matmul_bb, jit_options=JIT)
def _matmul_bb(a, b):
    na, nb = a.ndim, b.ndim
    _check_matmul("matmul_bb", na - 1, nb - 1)
    if na == 2 and nb == 2:
        from numba.np.numpy_support import as_dtype, from_dtype
        rt = from_dtype(np.result_type(as_dtype(a.dtype), as_dtype(b.dtype)))

        def impl(a, b):
            out = np.zeros(a.shape[0], rt)
            for i in range(a.shape[0]):
                s = out[i]
                for j in range(a.shape[1]):
                    s += a[i, j] * b[i, j]
                out[i] = s
            return out
        return impl
    if nb == 2 and na == 3:                             # matrix @ vector
        def impl_mv(a, b):
            return npx.matmul(a, b[:, :, np.newaxis])[:, :, 0]
        return impl_mv
    if na == 2 and nb == 3:                             # vector @ matrix
        def impl_vm(a, b):
            return npx.matmul(a[:, np.newaxis, :], b)[:, 0, :]
        return impl_vm
    if na == nb:                                        # stacks of one rank: one per example
        return lambda a, b: npx.matmul(a, b)
    return _matmul_each(True, True)


@overload(B.copy_if_numbers, prefer_literal=True, jit_options=JIT)
def _copy_if_numbers(r, depth):
    k = _int_const(depth)
    if k is None:
        _fail("copy_if_numbers", "the number of batch axes must be a constant")
    if not is_array(r):
        return lambda r, depth: r
    if r.ndim == k:
        return lambda r, depth: r.copy()
    return lambda r, depth: r


@overload(B.index_examples, jit_options=JIT)
def _index_examples(a, index):
    if is_array(index) and isinstance(index.dtype, types.Boolean) and index.ndim > 1:
        # Numba indexes with 1-D masks only: flatten each example and the mask
        def impl_mask(a, index):
            c = np.ascontiguousarray(a)
            return c.reshape((c.shape[0], -1))[:, np.ascontiguousarray(index).reshape(-1)]
        return impl_mask
    return lambda a, index: a[:, index]


@overload(B.outer_examples, jit_options=JIT)
def _outer_examples(a, b):
    from numba.np.numpy_support import as_dtype, from_dtype
    rt = from_dtype(np.result_type(as_dtype(_dtype(a)), as_dtype(_dtype(b))))

    def impl(a, b):
        fa = B.flatten_examples(a)
        fb = B.flatten_examples(b)
        n, p, q = fa.shape[0], fa.shape[1], fb.shape[1]
        out = np.empty((n, p, q), rt)
        for i in range(n):
            for j in range(p):
                for k in range(q):
                    out[i, j, k] = fa[i, j] * fb[i, k]
        return out
    return impl


@overload(B.broadcast_examples, jit_options=JIT)
def _broadcast_examples(a, shape):
    k = len(shape.types) if isinstance(shape, types.BaseTuple) else 1
    missing = k - (a.ndim - 1)
    nd = a.ndim
    shp = ["a.shape[0]"] + ["1"] * max(missing, 0) + ["a.shape[%d]" % j for j in range(1, nd)]
    strd = ["a.strides[0]"] + ["0"] * max(missing, 0) + ["a.strides[%d]" % j for j in range(1, nd)]
    target = "(a.shape[0],) + shape" if k != 1 or isinstance(shape, types.BaseTuple) \
        else "(a.shape[0], shape)"
    src = ("def impl(a, shape):\n"
           "    v = np.lib.stride_tricks.as_strided(a, (%s), (%s))\n"
           "    return np.broadcast_to(v, %s)\n"
           % ("".join(x + ", " for x in shp), "".join(x + ", " for x in strd), target))
    return _exec(src, "impl")


@overload(B.check_unpack_examples, jit_options=JIT)
def _check_unpack_examples(v, n, where):

    def impl(v, n, where):
        if v.shape[0] > 0:
            checks.check_unpack(v[0], n, where)
    return impl


def _per_example(helper, params):
    """An implementation applying `helper` to each example of the first of
    `params` (batched), the others shared: the compiled form of the
    `*_examples` helpers, whose NumPy forms are vectorized."""
    names = [p.split("=")[0] for p in params]
    first, rest = names[0], "".join(", " + p for p in names[1:])
    src = ("def impl(%s):\n"
           "    n = %s.shape[0]\n"
           "    B.check_nonempty(n)\n"
           "    r0 = helper(%s[0]%s)\n"
           "    out = B.alloc(r0, n)\n"
           "    out[0] = r0\n"
           "    for b in range(1, n):\n"
           "        out[b] = helper(%s[b]%s)\n"
           "    return out\n" % (", ".join(params), first, first, rest, first, rest))
    return _exec(src, "impl", {"helper": helper})


@overload(B.example_like, jit_options=JIT)
def _example_like(a):
    dt = a.dtype
    return lambda a: np.empty(a.shape[1:], dt)


@overload(B.seed_examples, jit_options=JIT)
def _seed_examples(ans):

    def impl(ans):
        TP.grad_seed(B.example_like(ans))
        return np.ones(ans.shape[0])
    return impl


def _same_shape_first(g, like, helper, params):
    """`_per_example(helper, params)`, returning batched `g` itself when its
    examples already have the shape and dtype of `like` (the usual case)."""
    loop = _per_example(helper, params)
    if not (is_array(g) and is_array(like) and g.ndim == like.ndim + 1 and g.dtype == like.dtype
            and isinstance(like.dtype, types.Float)):
        return loop
    src = ("def impl(%s, %s):\n"
           "    if %s.shape[1:] == %s.shape:\n"
           "        return np.asarray(%s)\n"
           "    return np.asarray(loop(%s, %s))\n" % tuple(params[k] for k in (0, 1, 0, 1, 0, 0, 1)))
    return _exec(src, "impl", {"loop": register_jitable(loop)})


@overload(B.fit_examples, jit_options=JIT)
def _fit_examples(v, like):
    return _same_shape_first(v, like, T.fit, ["v", "like"])


@overload(B.unbroadcast_examples, jit_options=JIT)
def _unbroadcast_examples(g, like):
    return _same_shape_first(g, like, A.unbroadcast, ["g", "like"])


@overload(B.unreduce_examples, jit_options=JIT)
def _unreduce_examples(g, a, axis=None, keepdims=False):
    return _per_example(A.unreduce, ["g", "a", "axis=None", "keepdims=False"])


@overload(B.add_at_examples, jit_options=JIT)
def _add_at_examples(target, index, g):
    if is_array(target) and target.ndim == 1:
        def impl_s(target, index, g):
            for b in range(target.shape[0]):
                target[b] = A.add_at(target[b], index, g[b])
            return target
        return impl_s

    def impl(target, index, g):
        for b in range(target.shape[0]):
            A.add_at(target[b], index, g[b])
        return target
    return impl


@overload(B.merge_examples, jit_options=JIT)
def _merge_examples(a):
    def impl(a):
        c = np.ascontiguousarray(a)
        return c.reshape((c.shape[0] * c.shape[1],) + c.shape[2:])
    return impl


@overload(B.split_examples, jit_options=JIT)
def _split_examples(r, like):
    def impl(r, like):
        c = np.ascontiguousarray(r)
        return c.reshape((like.shape[0], like.shape[1]) + c.shape[1:])
    return impl
