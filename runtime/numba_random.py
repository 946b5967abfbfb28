"""Numba implementations of :mod:`runtime.random` (``tp.random`` inside
``tp.jit``).

Generated code calls ``runtime_random.normal(key, (3,))``; the overloads
here make those calls compile.  They call the kernels of
:mod:`runtime.random_kernels`, the very ones the eager functions call, so a
jitted function draws the same bits as the same code run eagerly.

How keys cross into compiled code: a raw key is a ``uint32`` array of shape
(2,); a typed key (:class:`runtime.random.KeyArray`) is the Numba extension
type :class:`KeyArrayType` -- a struct holding the C-contiguous uint32 words
(shape ``batch + (2,)``), with the scheme in the type, so it is known at
compile time.  It is unboxed from the KeyArray's words, boxed back into a
KeyArray, indexes and iterates (so ``k1, k2 = split(k)`` unpacks) into key
arrays.  Keys made in compiled code are of the kind of the key they came
from.

Typing-time checks give the eager messages: a float or a key batch is a
TypingError (the dispatcher reports it as ``TranspileTypingError``, a
TypeError); a raw key of the wrong length is a ``KeyShapeError`` at run
time.  Shapes are tuples of integers (a runtime value, so ``(n, 3)`` with
``n`` from an argument compiles once for all n); dtypes are compile-time
constants.  What compiled code does not support (listed in each overload's
error) is a TypingError saying so: call the function outside ``tp.jit``.
"""
import math
import operator

import numpy as np
from numba import njit, typeof, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.imputils import RefType, impl_ret_new_ref, iternext_impl, lower_builtin
from numba.extending import (NativeValue, box, intrinsic, models, overload,
                             overload_attribute, register_model,
                             typeof_impl, unbox)
from numba.np.numpy_support import as_dtype

from runtime import batching as B
from runtime import random as R
from runtime import random_kernels as K
from runtime.random import KeyShapeError

_JIT = {"error_model": "numpy"}
_MAX_WORDS = 0xFFFFFFFF


def _fail(name, msg):
    raise TypingError(f"tp.random.{name}: {msg}")


def _t(t):
    """The type of an argument, a default (Omitted) typed by its value."""
    if isinstance(t, types.Omitted):
        t = t.value
    if t is None:
        return types.none
    if not isinstance(t, types.Type):
        return typeof(t)
    return t


_NOLIT = object()


def _lit(t):
    """The compile-time value of an argument (a default or a literal), else
    _NOLIT."""
    if isinstance(t, types.Omitted):
        return t.value
    if not isinstance(t, types.Type):
        return t
    if isinstance(t, types.Literal):
        return t.literal_value
    if isinstance(t, types.NoneType):
        return None
    return _NOLIT


def _none(t):
    return isinstance(_t(t), types.NoneType)


# --------------------------------------------------------------------------
# typed keys: KeyArray as a Numba extension type

class KeyArrayType(types.IterableType):
    """Numba type of :class:`runtime.random.KeyArray`: ``ndim`` batch
    dimensions over C-contiguous uint32 words, and the scheme.  Iterable
    (``k1, k2 = split(k)``) when ndim >= 1."""

    def __init__(self, ndim, part):
        self.ndim = ndim
        self.part = bool(part)
        self.data_type = types.Array(types.uint32, ndim + 1, "C")
        scheme = "partitionable" if part else "classic"
        super().__init__(name=f"KeyArray({ndim}d, threefry2x32 {scheme})")

    @property
    def iterator_type(self):
        return KeyArrayIterType(self)


class KeyArrayIterType(types.SimpleIteratorType):
    def __init__(self, keys):
        self.keys = keys
        super().__init__(f"iter({keys})", KeyArrayType(keys.ndim - 1, keys.part))


@typeof_impl.register(R.KeyArray)
def _typeof_keyarray(val, c):
    return KeyArrayType(val._data.ndim - 1, val._part)


@register_model(KeyArrayType)
class _KeyArrayModel(models.StructModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, [("data", fe_type.data_type)])


@register_model(KeyArrayIterType)
class _KeyArrayIterModel(models.StructModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, [("index", types.EphemeralPointer(types.intp)),
                                        ("keys", fe_type.keys)])


@unbox(KeyArrayType)
def _unbox_keyarray(typ, obj, c):
    data_obj = c.pyapi.object_getattr_string(obj, "_data")
    arr = c.unbox(typ.data_type, data_obj)
    c.pyapi.decref(data_obj)
    keys = cgutils.create_struct_proxy(typ)(c.context, c.builder)
    keys.data = arr.value
    return NativeValue(keys._getvalue(), is_error=arr.is_error)


def _box_keys(data, part):
    return R.KeyArray(data, part)


@box(KeyArrayType)
def _box_keyarray(typ, val, c):
    keys = cgutils.create_struct_proxy(typ)(c.context, c.builder, value=val)
    data_obj = c.box(typ.data_type, keys.data)
    fn = c.pyapi.unserialize(c.pyapi.serialize_object(_box_keys))
    part_obj = c.pyapi.bool_from_bool(c.context.get_constant(types.boolean, typ.part))
    res = c.pyapi.call_function_objargs(fn, (data_obj, part_obj))
    c.pyapi.decref(data_obj)
    c.pyapi.decref(part_obj)
    c.pyapi.decref(fn)
    return res


def _make_wrap(part, key_type=KeyArrayType, min_ndim=1):
    """An intrinsic wrapping C-contiguous uint32 words (..., 2) of at least
    ``min_ndim`` dimensions as keys of ``key_type`` (KeyArrayType, or
    KeyBatchType for vmap's output buffer)."""

    @intrinsic
    def wrap(typingctx, data):
        if not (isinstance(data, types.Array) and data.dtype == types.uint32 and
                data.layout == "C" and data.ndim >= min_ndim):
            return None
        kt = key_type(data.ndim - 1, part)

        def codegen(context, builder, sig, args):
            keys = cgutils.create_struct_proxy(kt)(context, builder)
            keys.data = args[0]
            context.nrt.incref(builder, sig.args[0], args[0])
            return keys._getvalue()
        return kt(data), codegen
    return wrap


#: (C-contiguous uint32 words of shape (..., 2)) -> KeyArray, per scheme
_wrap_classic = _make_wrap(False)
_wrap_part = _make_wrap(True)


@intrinsic
def _key_data_of(typingctx, keys):
    """The words of a KeyArray (a new reference)."""
    if not isinstance(keys, KeyArrayType):
        return None

    def codegen(context, builder, sig, args):
        k = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0])
        context.nrt.incref(builder, sig.return_type, k.data)
        return k.data
    return keys.data_type(keys), codegen


@overload(len)
def _len_keyarray(keys):
    if isinstance(keys, KeyArrayType) and keys.ndim >= 1:
        return lambda keys: _key_data_of(keys).shape[0]


@overload_attribute(KeyArrayType, "shape")
def _shape_keyarray(keys):
    return lambda keys: _key_data_of(keys).shape[:-1]


@overload_attribute(KeyArrayType, "ndim")
def _ndim_keyarray(keys):
    nd = keys.ndim
    return lambda keys: nd


@overload(operator.getitem)
def _getitem_keyarray(keys, idx):
    if not isinstance(keys, KeyArrayType) or keys.ndim == 0:
        return None
    if not isinstance(idx, types.Integer):
        raise TypingError(f"key arrays in compiled code take one integer index, got {idx}")
    wrap = _wrap_part if keys.part else _wrap_classic

    def impl(keys, idx):
        return wrap(_key_data_of(keys)[idx])
    return impl


@lower_builtin("getiter", KeyArrayType)
def _getiter_keyarray(context, builder, sig, args):
    (keys_t,), (keys,) = sig.args, args
    it = context.make_helper(builder, sig.return_type)
    it.index = cgutils.alloca_once_value(builder, context.get_constant(types.intp, 0))
    it.keys = keys
    context.nrt.incref(builder, keys_t, keys)
    return impl_ret_new_ref(context, builder, sig.return_type, it._getvalue())


@lower_builtin("iternext", KeyArrayIterType)
@iternext_impl(RefType.NEW)
def _iternext_keyarray(context, builder, sig, args, result):
    (it_t,), (it_v,) = sig.args, args
    it = context.make_helper(builder, it_t, value=it_v)
    index = builder.load(it.index)
    n = context.compile_internal(builder, lambda k: len(k), types.intp(it_t.keys), [it.keys])
    valid = builder.icmp_signed("<", index, n)
    result.set_valid(valid)
    with builder.if_then(valid):
        item = context.compile_internal(
            builder, lambda k, i: k[i], it_t.yield_type(it_t.keys, types.intp), [it.keys, index])
        result.yield_(item)
        builder.store(cgutils.increment_index(builder, index), it.index)


# --------------------------------------------------------------------------
# typed keys through vmap's per-example loop (runtime.batching's helpers)

class KeyBatchType(KeyArrayType):
    """The typed-key output buffer of vmap's per-example loop
    (``batching.alloc``): a KeyArray that, unlike the user's key arrays, takes
    each example's keys by ``out[b] = keys``; boxed as a KeyArray."""

    def __init__(self, ndim, part):
        super().__init__(ndim, part)
        self.name = "KeyBatch" + self.name[len("KeyArray"):]


register_model(KeyBatchType)(_KeyArrayModel)


_batch_classic = _make_wrap(False, KeyBatchType, 2)
_batch_part = _make_wrap(True, KeyBatchType, 2)


@overload(B.axis_size, prefer_literal=True, jit_options=_JIT)
def _axis_size_keys(x, axis):
    if not isinstance(x, KeyArrayType):
        return None
    nd = x.ndim

    def impl(x, axis):
        a = axis + nd if axis < 0 else axis
        if a < 0 or a >= nd:
            raise B.VmapError(B.RANK_MESSAGE, axis, axis + 1 if axis >= 0 else -axis, nd,
                              x.shape)
        return _key_data_of(x).shape[a]
    return impl


@overload(B.check_size, prefer_literal=True, jit_options=_JIT)
def _check_size_keys(x, axis, n):
    if not isinstance(x, KeyArrayType):
        return None

    def impl(x, axis, n):
        size = B.axis_size(x, axis)
        if size != n:
            raise B.VmapError(B.SIZE_MESSAGE, axis, x.shape, size, n)
    return impl


@overload(B.alloc, jit_options=_JIT)
def _alloc_keys(r, n):
    if not isinstance(r, KeyArrayType):
        return None
    wrap = _batch_part if r.part else _batch_classic
    return lambda r, n: wrap(np.zeros((n,) + _key_data_of(r).shape, np.uint32))


@overload(operator.setitem)
def _setitem_key_batch(keys, b, value):
    if not isinstance(keys, KeyBatchType):
        return None
    if not (isinstance(b, types.Integer) and isinstance(value, KeyArrayType)
            and value.ndim == keys.ndim - 1 and value.part == keys.part):
        raise TypingError(f"vmap: an example returned {value} where the first example "
                          f"returned a {KeyArrayType(keys.ndim - 1, keys.part)}")

    def impl(keys, b, value):
        _key_data_of(keys)[b] = _key_data_of(value)
    return impl


@njit(**_JIT)
def _raw_words(key):
    if key.shape[0] != 2:
        raise KeyShapeError("a raw PRNG key has shape (2,)")
    return np.int64(key[0]), np.int64(key[1])


@njit(**_JIT)
def _typed_words(keys):
    d = _key_data_of(keys)
    return np.int64(d[0]), np.int64(d[1])


class _Key:
    """What typing learned of a key argument: its kind, its scheme and an
    njit reader ``words(key) -> (k0, k1)``."""

    def __init__(self, kind, part, words):
        self.kind = kind        # 'raw' | 'typed'
        self.part = part
        self.words = words


def _key(key, name, batched=False):
    """Type-check a key argument (one key unless ``batched``)."""
    if isinstance(key, types.Array) and key.dtype == types.uint32:
        if key.ndim != 1 and not batched:
            _fail(name, f"accepts a single key (a uint32 array of shape (2,)), but was given a "
                        f"{key.ndim}-d array; use vmap for batching")
        return _Key("raw", False, _raw_words)
    if isinstance(key, KeyArrayType):
        if key.ndim != 0 and not batched:
            _fail(name, f"accepts a single key, but was given a {key.ndim}-d key array; use vmap "
                        f"for batching")
        return _Key("typed", key.part, _typed_words)
    if isinstance(key, types.Array):
        _fail(name, f"a PRNG key is a uint32 array of shape (2,) (from PRNGKey/split) or a "
                    f"typed key (from key); got an array of {key.dtype}")
    _fail(name, f"unexpected PRNG key type {key}: a key is a uint32[2] array from "
                f"PRNGKey/split or a typed key from key()")


def _key_maker(kind, part):
    """njit (w0, w1 int64 arrays, shape) -> keys of that shape."""
    if kind == "raw":
        @njit(**_JIT)
        def make_raw(w0, w1, shape):
            return _words_array(w0, w1).reshape(shape + (2,))
        return make_raw
    wrap = _wrap_part if part else _wrap_classic

    @njit(**_JIT)
    def make_typed(w0, w1, shape):
        return wrap(_words_array(w0, w1).reshape(shape + (2,)))
    return make_typed


@njit(**_JIT)
def _words_array(w0, w1):
    n = w0.size
    out = np.empty((n, 2), np.uint32)
    for i in range(n):
        out[i, 0] = np.uint32(w0[i])
        out[i, 1] = np.uint32(w1[i])
    return out


@njit(**_JIT)
def _pair(a, b):
    out = np.empty(2, np.uint32)
    out[0] = np.uint32(a)
    out[1] = np.uint32(b)
    return out


def _key_maker0(kind, part):
    """njit (a, b) -> one key."""
    if kind == "raw":
        return _pair
    wrap = _wrap_part if part else _wrap_classic

    @njit(**_JIT)
    def make_typed(a, b):
        return wrap(_pair(a, b))
    return make_typed


def _seed_type(seed, name):
    if isinstance(seed, types.Boolean):
        return 64
    if isinstance(seed, types.Integer):
        return 64 if seed.bitwidth == 64 else 32
    _fail(name, f"PRNG key seed must be an integer scalar; got {seed}")


@njit(**_JIT)
def _seed_words64(seed):
    u = np.uint64(np.int64(seed)) if seed < 0 else np.uint64(seed)
    return np.int64(u >> np.uint64(32)), np.int64(u & np.uint64(0xFFFFFFFF))


@njit(**_JIT)
def _seed_words32(seed):
    return np.int64(0), np.int64(seed) & 0xFFFFFFFF


@overload(R.PRNGKey, jit_options=_JIT)
def _prngkey(seed, impl=None):
    bits = _seed_type(seed, "PRNGKey")
    if not _none(impl):
        _fail("PRNGKey", "impl= is not supported in compiled code (raw keys are threefry2x32)")
    sw = _seed_words64 if bits == 64 else _seed_words32
    make = _key_maker0("raw", False)

    def impl_(seed, impl=None):
        a, b = sw(seed)
        return make(a, b)
    return impl_


def _impl_part(impl, name):
    if _none(impl):
        return False
    if _lit(impl) in R.IMPLS:
        return _lit(impl) == "threefry2x32_partitionable"
    _fail(name, f"impl= must be a literal 'threefry2x32' or 'threefry2x32_partitionable', got {impl}")


@overload(R.key, jit_options=_JIT)
def _key_ctor(seed, impl=None):
    bits = _seed_type(seed, "key")
    part = _impl_part(impl, "key")
    sw = _seed_words64 if bits == 64 else _seed_words32
    make = _key_maker0("typed", part)

    def impl_(seed, impl=None):
        a, b = sw(seed)
        return make(a, b)
    return impl_


@overload(R.key_data, jit_options=_JIT)
def _key_data(keys):
    if isinstance(keys, types.Array) and keys.dtype == types.uint32:
        def impl(keys):
            if keys.ndim == 0 or keys.shape[-1] != 2:
                raise KeyShapeError("a raw PRNG key has shape (2,)")
            return keys.copy()
        return impl
    if isinstance(keys, KeyArrayType):
        return lambda keys: _key_data_of(keys).copy()
    _key(keys, "key_data", batched=True)


@overload(R.wrap_key_data, jit_options=_JIT)
def _wrap_key_data(key_bits_array, impl=None):
    part = _impl_part(impl, "wrap_key_data")
    if not (isinstance(key_bits_array, types.Array) and key_bits_array.dtype == types.uint32
            and key_bits_array.ndim >= 1):
        _fail("wrap_key_data", f"key data must be a uint32 array of shape (..., 2), got "
                               f"{key_bits_array}")
    wrap = _wrap_part if part else _wrap_classic

    def impl_(key_bits_array, impl=None):
        if key_bits_array.shape[-1] != 2:
            raise KeyShapeError("wrap_key_data: key data must have shape (..., 2)")
        return wrap(np.ascontiguousarray(key_bits_array).copy())
    return impl_


def _num_shape(num, name):
    num = _t(num)
    if isinstance(num, types.Integer):
        return "int"
    if isinstance(num, types.BaseTuple) and all(isinstance(t, types.Integer) for t in num):
        return "tuple"
    _fail(name, f"num must be an integer or a tuple of integers, got {num}")


@overload(R.split, jit_options=_JIT)
def _split(key, num=2):
    k = _key(key, "split")
    words = k.words
    kind = _num_shape(num, "split")
    make = _key_maker(k.kind, k.part)
    part = k.part

    if kind == "int":
        def impl(key, num=2):
            k0, k1 = words(key)
            w0 = np.empty(num, np.int64)
            w1 = np.empty(num, np.int64)
            K.split_words(k0, k1, part, num, w0, w1)
            return make(w0, w1, (num,))
        return impl

    def impl_t(key, num=2):
        k0, k1 = words(key)
        n = _prod(num)
        w0 = np.empty(n, np.int64)
        w1 = np.empty(n, np.int64)
        K.split_words(k0, k1, part, n, w0, w1)
        return make(w0, w1, num)
    return impl_t


@overload(R.fold_in, jit_options=_JIT)
def _fold_in(key, data):
    k = _key(key, "fold_in")
    words = k.words
    if not isinstance(data, (types.Integer, types.Boolean)):
        _fail("fold_in", f"data must be an integer scalar, got {data}")
    make = _key_maker0(k.kind, k.part)

    def impl(key, data):
        k0, k1 = words(key)
        a, b = K.fold_in(k0, k1, np.int64(data) & 0xFFFFFFFF)
        return make(a, b)
    return impl


@overload(R.threefry_2x32, jit_options=_JIT)
def _threefry_2x32(key, count):
    k = _key(key, "threefry_2x32")
    words = k.words
    if not (isinstance(count, types.Array) and count.dtype == types.uint32):
        _fail("threefry_2x32", f"count must be a uint32 array, got {count}")

    def impl(key, count):
        k0, k1 = words(key)
        flat = np.ascontiguousarray(count).reshape(-1)
        n = flat.size
        half = (n + 1) // 2
        out = np.empty(n, np.uint32)
        for j in range(half):
            w = half + j
            a, b = K.threefry2x32(k0, k1, np.int64(flat[j]), np.int64(flat[w]) if w < n else 0)
            out[j] = np.uint32(a)
            if w < n:
                out[w] = np.uint32(b)
        return out.reshape(count.shape)
    return impl


@overload(R.key_impl, jit_options=_JIT)
def _key_impl(keys):
    k = _key(keys, "key_impl", batched=True)
    words = k.words
    name = "threefry2x32_partitionable" if k.part else "threefry2x32"
    return lambda keys: name


# --------------------------------------------------------------------------
# shapes, dtypes, sizes

def _prod(shape):
    return math.prod(shape)


@overload(_prod, jit_options=_JIT)
def _prod_ov(shape):
    if isinstance(shape, types.BaseTuple) and len(shape) == 0:
        return lambda shape: 1

    def impl(shape):
        n = 1
        for d in shape:
            n *= d
        return n
    return impl


def _shape(shape, name, allow_none=False):
    shape = _t(shape)
    if allow_none and _none(shape):
        return None
    if isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape):
        return len(shape)
    if isinstance(shape, types.Omitted) and shape.value == ():
        return 0
    _fail(name, f"shape must be a tuple of integers (a literal or built from ints), got {shape}")


def _float_dt(dtype, name, default=np.float64):
    if _none(dtype):
        return default
    if isinstance(dtype, types.NumberClass):
        t = dtype.instance_type
    elif isinstance(dtype, types.DType):
        t = dtype.dtype
    elif isinstance(dtype, types.StringLiteral):
        t = {"float32": types.float32, "float64": types.float64}.get(dtype.literal_value)
    else:
        t = None
    if t == types.float32:
        return np.float32
    if t == types.float64:
        return np.float64
    _fail(name, f"dtype must be float32 or float64, got {dtype}")


def _int_dt(dtype, name, default=np.int64):
    if _none(dtype):
        return default
    t = None
    if isinstance(dtype, types.NumberClass):
        t = dtype.instance_type
    elif isinstance(dtype, types.DType):
        t = dtype.dtype
    elif isinstance(dtype, types.StringLiteral):
        try:
            return np.dtype(dtype.literal_value).type
        except TypeError:
            t = None
    if isinstance(t, types.Integer):
        return as_dtype(t).type
    _fail(name, f"dtype must be an integer type, got {dtype}")


@njit(**_JIT)
def _check_words(n, bits, part):
    if not part and (bits * n + 31) // 32 > _MAX_WORDS:
        raise ValueError("too many random values from one key at once in the classic scheme; "
                         "split the key")


def _unit_kernel(dt):
    return K.unit32_fill if dt == np.float32 else K.unit64_fill


def _bound(v, dt, nd, name):
    """njit (v, shape) -> flat array of dtype dt of size 1 or prod(shape)."""
    v = _t(v)
    if isinstance(v, (types.Float, types.Integer, types.Boolean)):
        @njit(**_JIT)
        def scalar(v, shape):
            out = np.empty(1, dt)
            out[0] = v
            return out
        return scalar
    if isinstance(v, types.Array):
        if v.ndim > nd:
            _fail(name, f"a bound of {v.ndim} dimensions has more dimensions than the shape")

        @njit(**_JIT)
        def array(v, shape):
            if v.size == 1:
                return v.astype(dt).reshape(1)
            return np.ascontiguousarray(np.broadcast_to(v.astype(dt), shape)).reshape(-1)
        return array
    _fail(name, f"bounds must be numbers or arrays, got {v}")


# --------------------------------------------------------------------------
# samplers

@overload(R.bits, jit_options=_JIT)
def _bits(key, shape=(), dtype=None):
    k = _key(key, "bits")
    words = k.words
    _shape(shape, "bits")
    dt = _int_dt(dtype, "bits", np.uint64)
    if np.dtype(dt).kind != "u":
        _fail("bits", f"dtype must be an unsigned integer type, got {dtype}")
    width = np.dtype(dt).itemsize * 8
    part = k.part
    small = np.uint8 if width == 8 else np.uint16

    def impl(key, shape=(), dtype=None):
        k0, k1 = words(key)
        n = _prod(shape)
        _check_words(n, width, part)
        if width == 64:
            out = np.empty(n, np.uint64)
            K.bits64_fill(k0, k1, part, out)
            return out.reshape(shape)
        if width == 32:
            out32 = np.empty(n, np.uint32)
            K.bits32_fill(k0, k1, part, out32)
            return out32.reshape(shape)
        if part:
            w = np.empty(n, np.uint32)
            K.bits32_fill(k0, k1, part, w)
            return w.astype(dt).reshape(shape)
        w = np.empty((width * n + 31) // 32, np.uint32)
        K.bits32_fill(k0, k1, part, w)
        return w.view(small)[:n].astype(dt).reshape(shape)
    return impl


@overload(R.uniform, jit_options=_JIT)
def _uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    k = _key(key, "uniform")
    words = k.words
    nd = _shape(shape, "uniform")
    dt = _float_dt(dtype, "uniform")
    fill = _unit_kernel(dt)
    bmin = _bound(minval, dt, nd, "uniform")
    bmax = _bound(maxval, dt, nd, "uniform")
    part = k.part
    width = np.dtype(dt).itemsize * 8

    def impl(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
        k0, k1 = words(key)
        n = _prod(shape)
        _check_words(n, width, part)
        out = np.empty(n, dt)
        fill(k0, k1, part, out)
        K.affine(out, bmin(minval, shape), bmax(maxval, shape))
        return out.reshape(shape)
    return impl


def _simple(name, kernel_of):
    """Overload of a sampler (key, shape=(), dtype=None) whose flat output is
    written by ``kernel_of(dt)(k0, k1, part, out)``."""
    def typer(key, shape=(), dtype=None):
        k = _key(key, name)
        words = k.words
        _shape(shape, name)
        dt = _float_dt(dtype, name)
        kern = kernel_of(dt)
        part = k.part
        width = np.dtype(dt).itemsize * 8

        def impl(key, shape=(), dtype=None):
            k0, k1 = words(key)
            n = _prod(shape)
            _check_words(n, width, part)
            out = np.empty(n, dt)
            kern(k0, k1, part, out)
            return out.reshape(shape)
        return impl
    return typer


@njit(**_JIT)
def _exponential_fill(k0, k1, part, out):
    K.unit_fill(k0, k1, part, out)
    K.neg_log1p_neg_inplace(out)


overload(R.normal, jit_options=_JIT)(_simple("normal", lambda dt: K.normal_fill))
overload(R.exponential, jit_options=_JIT)(_simple("exponential", lambda dt: _exponential_fill))


def _gumbel_mode(mode, name):
    if _none(mode):
        return "low"
    if _lit(mode) in ("low", "high"):
        return _lit(mode)
    _fail(name, f"mode must be a literal 'low' or 'high', got {mode}")


def _gumbel_filler(dt, mode):
    """njit (k0, k1, part, out) filling gumbel values of the flat out."""
    if mode == "low":
        return K.gumbel_low_fill
    fill = _unit_kernel(dt)

    @njit(**_JIT)
    def high(k0, k1, part, out):
        both = np.empty(2 * out.size, dt)
        fill(k0, k1, part, both)
        K.gumbel_high(both, out)
    return high


@overload(R.gumbel, jit_options=_JIT)
def _gumbel(key, shape=(), dtype=None, mode=None):
    k = _key(key, "gumbel")
    words = k.words
    _shape(shape, "gumbel")
    dt = _float_dt(dtype, "gumbel")
    kern = _gumbel_filler(dt, _gumbel_mode(mode, "gumbel"))
    part = k.part
    width = np.dtype(dt).itemsize * 8

    def impl(key, shape=(), dtype=None, mode=None):
        k0, k1 = words(key)
        n = _prod(shape)
        _check_words(2 * n, width, part)
        out = np.empty(n, dt)
        kern(k0, k1, part, out)
        return out.reshape(shape)
    return impl


def _fdtype_of(t, name):
    """Float dtype of a probability/logits argument (Python floats: float64)."""
    base = t.dtype if isinstance(t, types.Array) else t
    if base == types.float32:
        return np.float32
    if base == types.float64:
        return np.float64
    _fail(name, f"expected a float32 or float64 argument, got {t}")


@overload(R.bernoulli, jit_options=_JIT)
def _bernoulli(key, p=0.5, shape=None, mode="low"):
    k = _key(key, "bernoulli")
    words = k.words
    p_t = _t(p)
    dt = _fdtype_of(p_t, "bernoulli")
    nd = _shape(shape, "bernoulli", allow_none=True)
    pnd = p_t.ndim if isinstance(p_t, types.Array) else 0
    if nd is None and pnd:
        _fail("bernoulli", "with an array p, pass shape= explicitly in compiled code")
    if nd is not None and pnd > nd:
        _fail("bernoulli", "p has more dimensions than shape")
    m = _lit(mode)
    if m not in ("low", "high"):
        _fail("bernoulli", f"mode must be a literal 'low' or 'high', got {mode}")
    fill = _unit_kernel(dt)
    bp = _bound(p_t, dt, nd or 0, "bernoulli")
    part = k.part
    eps = dt(2.0 ** -np.finfo(dt).nmant)

    def impl(key, p=0.5, shape=None, mode="low"):
        k0, k1 = words(key)
        sh = _shape_or_empty(shape)
        n = _prod(sh)
        pp = bp(p, sh)
        sp = pp.size > 1
        res = np.empty(n, np.bool_)
        if m == "high":
            u = np.empty(2 * n, dt)
            fill(k0, k1, part, u)
            for i in range(n):
                res[i] = u[n + i] * eps < pp[i if sp else 0] - u[i]
        else:
            u = np.empty(n, dt)
            fill(k0, k1, part, u)
            for i in range(n):
                res[i] = u[i] < pp[i if sp else 0]
        return res.reshape(sh)
    return impl


def _shape_or_empty(shape):
    return () if shape is None else shape


@overload(_shape_or_empty, jit_options=_JIT)
def _shape_or_empty_ov(shape):
    if _none(shape):
        return lambda shape: ()
    return lambda shape: shape


def _int_bound(v, name):
    """njit (v, shape) -> int64 flat array (size 1 or prod(shape))."""
    v = _t(v)
    if isinstance(v, types.Float):
        @njit(**_JIT)
        def fscalar(v, shape):
            out = np.empty(1, np.int64)
            out[0] = np.int64(v)
            return out
        return fscalar
    if isinstance(v, (types.Integer, types.Boolean)):
        @njit(**_JIT)
        def iscalar(v, shape):
            out = np.empty(1, np.int64)
            out[0] = v
            return out
        return iscalar
    if isinstance(v, types.Array) and v.dtype != types.uint64:
        @njit(**_JIT)
        def array(v, shape):
            a = v.astype(np.int64)
            if a.size == 1:
                return a.reshape(1)
            return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)
        return array
    _fail(name, f"bounds must be integers or int arrays (not uint64) in compiled code, got {v}")


@overload(R.randint, jit_options=_JIT)
def _randint(key, shape, minval, maxval, dtype=None):
    k = _key(key, "randint")
    words = k.words
    _shape(shape, "randint")
    dt = _int_dt(dtype, "randint")
    info = np.iinfo(dt)
    nbits = info.bits
    bmin = _int_bound(minval, "randint")
    bmax = _int_bound(maxval, "randint")
    part = k.part
    if nbits < 32:      # JAX samples in int32 with clipped bounds
        s_nbits, s_min, s_max = 32, -2 ** 31, 2 ** 31 - 1
        pre_lo, pre_hi = info.min, info.max
    else:
        s_nbits, s_min, s_max = nbits, info.min, info.max
        pre_lo, pre_hi = info.min, info.max
    small = nbits < 32
    lo_clip = max(s_min, -2 ** 63)
    hi_clip = min(s_max, 2 ** 63 - 1)
    udt = np.dtype(f"uint{s_nbits}").type
    sdt = np.dtype(f"int{s_nbits}").type

    def impl(key, shape, minval, maxval, dtype=None):
        k0, k1 = words(key)
        n = _prod(shape)
        _check_words(n, s_nbits, part)
        mn = bmin(minval, shape)
        mx = bmax(maxval, shape)
        if small:
            mn = np.minimum(np.maximum(mn, pre_lo), pre_hi)
            mx = np.minimum(np.maximum(mx, pre_lo), pre_hi + 1)
        oor = mx > hi_clip
        mn = np.minimum(np.maximum(mn, lo_clip), hi_clip)
        mx = np.minimum(np.maximum(mx, lo_clip), hi_clip)
        a0, a1, b0, b1 = K.split2(k0, k1, part)
        hi = np.empty(n, np.uint64)
        lo = np.empty(n, np.uint64)
        if s_nbits == 64:
            K.bits64_fill(a0, a1, part, hi)
            K.bits64_fill(b0, b1, part, lo)
        else:
            h32 = np.empty(n, np.uint32)
            K.bits32_fill(a0, a1, part, h32)
            hi[:] = h32
            K.bits32_fill(b0, b1, part, h32)
            lo[:] = h32
        out = np.empty(n, np.uint64)
        K.randint_fill(hi, lo, mn, mx, oor, s_nbits, out)
        return out.astype(udt).view(sdt).astype(dt).reshape(shape)
    return impl


@overload(R.truncated_normal, jit_options=_JIT)
def _truncated_normal(key, lower, upper, shape=None, dtype=None):
    k = _key(key, "truncated_normal")
    words = k.words
    dt = _float_dt(dtype, "truncated_normal")
    nd = _shape(shape, "truncated_normal", allow_none=True)
    for b in (lower, upper):
        if isinstance(b, types.Array) and (nd is None or b.ndim > nd):
            _fail("truncated_normal", "with array bounds, pass shape= explicitly in compiled "
                                      "code (bounds may not have more dimensions than shape)")
        if not isinstance(b, (types.Array, types.Number)):
            _fail("truncated_normal", f"bounds must be numbers or arrays, got {b}")
    bl = _bound(lower, dt, nd or 0, "truncated_normal")
    bu = _bound(upper, dt, nd or 0, "truncated_normal")
    fill = _unit_kernel(dt)
    part = k.part
    inv = dt(1.0) / dt(np.sqrt(2))
    width = np.dtype(dt).itemsize * 8

    def impl(key, lower, upper, shape=None, dtype=None):
        k0, k1 = words(key)
        sh = _shape_or_empty(shape)
        n = _prod(sh)
        _check_words(n, width, part)
        lo = bl(lower, sh)
        up = bu(upper, sh)
        a = np.empty(lo.size, dt)
        b = np.empty(up.size, dt)
        K.erf_array(lo * inv, a)
        K.erf_array(up * inv, b)
        out = np.empty(n, dt)
        fill(k0, k1, part, out)
        K.affine(out, a, b)
        K.erfinv_inplace(out)
        sl = lo.size > 1
        su = up.size > 1
        for i in range(n):
            lo_i = np.nextafter(lo[i if sl else 0], dt(np.inf))
            hi_i = np.nextafter(up[i if su else 0], dt(-np.inf))
            v = out[i]
            out[i] = min(max(v, lo_i), hi_i)
        return out.reshape(sh)
    return impl


@overload(R.gamma, jit_options=_JIT)
def _gamma(key, a, shape=None, dtype=None):
    k = _key(key, "gamma")
    words = k.words
    dt = _float_dt(dtype, "gamma")
    nd = _shape(shape, "gamma", allow_none=True)
    if isinstance(a, types.Array) and (nd is None or a.ndim > nd):
        _fail("gamma", "with an array a, pass shape= explicitly in compiled code")
    ba = _bound(a, dt, nd or 0, "gamma")
    part = k.part

    def impl(key, a, shape=None, dtype=None):
        k0, k1 = words(key)
        sh = _shape_or_empty(shape)
        n = _prod(sh)
        alpha = ba(a, sh)
        if alpha.size != n:
            alpha = np.full(n, alpha[0])
        w0 = np.empty(n, np.int64)
        w1 = np.empty(n, np.int64)
        K.split_words(k0, k1, part, n, w0, w1)
        out = np.empty(n, dt)
        K.gamma_fill(w0, w1, part, alpha, out)
        return out.reshape(sh)
    return impl


@njit(**_JIT)
def _shuffle_1d(k0, k1, part, x):
    """JAX's _shuffle of a 1-D array (stable sorts by fresh 32-bit keys)."""
    n = x.size
    rounds = _num_rounds(n)
    keys = np.empty(n, np.uint32)
    for _ in range(rounds):
        k0, k1, s0, s1 = K.split2(k0, k1, part)
        K.bits32_fill(s0, s1, part, keys)
        order = np.argsort(keys, kind="mergesort")
        x = x[order]
    return x


@njit(**_JIT)
def _num_rounds(size):
    return int(np.ceil(3 * np.log(max(1, size)) / np.log(4294967295.0)))


@overload(R.permutation, jit_options=_JIT)
def _permutation(key, x, axis=0, independent=False):
    k = _key(key, "permutation")
    words = k.words
    part = k.part
    if isinstance(x, types.Integer):
        def impl_int(key, x, axis=0, independent=False):
            k0, k1 = words(key)
            return _shuffle_1d(k0, k1, part, np.arange(x))
        return impl_int
    if isinstance(x, types.Array) and x.ndim == 1:
        def impl_1d(key, x, axis=0, independent=False):
            k0, k1 = words(key)
            return _shuffle_1d(k0, k1, part, x.copy())
        return impl_1d
    if isinstance(x, types.Array):
        if _lit(independent) is not False:
            _fail("permutation", "independent=True on an array of 2 or more dimensions is not "
                                 "supported in compiled code")

        def impl_nd(key, x, axis=0, independent=False):
            if axis != 0:
                raise ValueError("tp.random.permutation under jit shuffles axis 0 only")
            k0, k1 = words(key)
            ind = _shuffle_1d(k0, k1, part, np.arange(x.shape[0]))
            return x[ind]
        return impl_nd
    _fail("permutation", f"x must be an integer or an array, got {x}")


@njit(**_JIT)
def _top_k_desc(g, k):
    order = np.argsort(-g, kind="mergesort")
    return order[:k]


@overload(R.choice, jit_options=_JIT)
def _choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    k = _key(key, "choice")
    words = k.words
    _shape(shape, "choice")
    part = k.part
    if isinstance(a, types.Integer):
        arr = False
    elif isinstance(a, types.Array) and a.ndim == 1:
        arr = True
    else:
        _fail("choice", "a must be an integer or a 1-D array in compiled code")
    if not isinstance(_t(replace), types.Boolean):
        _fail("choice", f"replace must be a bool, got {replace}")
    has_p = not _none(p)
    if has_p:
        pdt = _fdtype_of(p, "choice")
        if not (isinstance(p, types.Array) and p.ndim == 1):
            _fail("choice", "p must be a 1-D array")
        gmode = _gumbel_mode(mode, "choice")
        gum = _gumbel_filler(pdt, gmode)
        fill = _unit_kernel(pdt)
    else:
        pdt = np.float64
        gum = fill = None

    def impl(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
        k0, k1 = words(key)
        if arr:
            n_inputs = a.shape[0]
        else:
            n_inputs = a
        n = _prod(shape)
        if n == 0:
            return _take(a, np.zeros(0, np.int64), arr).reshape(shape)
        if n_inputs <= 0:
            raise ValueError("a must be greater than 0 unless no samples are taken")
        if not replace and n > n_inputs:
            raise ValueError("Cannot take a larger sample than population when 'replace=False'")
        ind = np.empty(n, np.int64)
        if not has_p:
            if replace:
                ind = R.randint(key, (n,), 0, n_inputs)
            else:
                ind = _shuffle_1d(k0, k1, part, np.arange(n_inputs))[:n].copy()
        else:
            pp = p
            if pp.shape[0] != n_inputs:
                raise ValueError("p must be None or a 1D vector with the same size as a.shape[axis]")
            if replace:
                cum = np.cumsum(pp)
                u = np.empty(n, pdt)
                fill(k0, k1, part, u)
                r = cum[-1] * (pdt(1.0) - u)
                ind = np.searchsorted(cum, r).astype(np.int64)
            else:
                g = np.empty(n_inputs, pdt)
                gum(k0, k1, part, g)
                logp = np.empty(n_inputs, pdt)
                K.log_array(pp, logp)        # XLA's float32 log, as eagerly
                g = g + logp
                ind = _top_k_desc(g, n).astype(np.int64)
        return _take(a, ind, arr).reshape(shape)
    return impl


def _take(a, ind, arr):
    return a[ind] if arr else ind


@overload(_take, jit_options=_JIT)
def _take_ov(a, ind, arr):
    if isinstance(a, types.Array):
        return lambda a, ind, arr: a[ind]
    return lambda a, ind, arr: ind


@overload(R.categorical, jit_options=_JIT)
def _categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    k = _key(key, "categorical")
    words = k.words
    part = k.part
    if not isinstance(logits, types.Array) or logits.ndim not in (1, 2):
        _fail("categorical", "logits must be a 1-D or 2-D float array in compiled code")
    dt = _fdtype_of(logits, "categorical")
    gum = _gumbel_filler(dt, _gumbel_mode(mode, "categorical"))
    nd_shape = _shape(shape, "categorical", allow_none=True)
    two_d = logits.ndim == 2
    if two_d and nd_shape not in (None, 1):
        _fail("categorical", "with 2-D logits, shape must be None or (rows,) in compiled code")
    if _lit(replace) is not True:
        if two_d:
            _fail("categorical", "replace=False needs 1-D logits in compiled code")
        no_replace = True
    else:
        no_replace = False

    if two_d:
        def impl2(key, logits, axis=-1, shape=None, replace=True, mode=None):
            k0, k1 = words(key)
            if axis == 0:
                lg = np.ascontiguousarray(logits.T)
            elif axis == 1 or axis == -1:
                lg = np.ascontiguousarray(logits)
            else:
                raise ValueError("categorical: axis out of range")
            rows, m = lg.shape
            gg = np.empty(rows * m, dt)
            gum(k0, k1, part, gg)            # in the layout of logits itself
            if axis == 0:
                g = np.ascontiguousarray(gg.reshape(m, rows).T).reshape(-1)
            else:
                g = gg
            return _argmax_rows(g, lg, rows, m)
        return impl2

    if no_replace:
        def impl_topk(key, logits, axis=-1, shape=None, replace=True, mode=None):
            k0, k1 = words(key)
            if axis != 0 and axis != -1:
                raise ValueError("categorical: axis out of range for 1-D logits")
            sh = _shape_or_empty(shape)
            n = _prod(sh)
            m = logits.shape[0]
            if n > m:
                raise ValueError("Number of samples without replacement cannot exceed number "
                                 "of categories")
            g = np.empty(m, dt)
            gum(k0, k1, part, g)
            ind = _top_k_desc(g + logits, n).astype(np.int32)   # int32, as JAX's
            return ind.reshape(sh)
        return impl_topk

    def impl1(key, logits, axis=-1, shape=None, replace=True, mode=None):
        k0, k1 = words(key)
        if axis != 0 and axis != -1:
            raise ValueError("categorical: axis out of range for 1-D logits")
        sh = _shape_or_empty(shape)
        n = _prod(sh)
        m = logits.shape[0]
        g = np.empty(n * m, dt)
        gum(k0, k1, part, g)
        lg = np.empty((n, m), logits.dtype)
        for r in range(n):
            lg[r] = logits
        return _argmax_rows(g, lg, n, m).reshape(sh)
    return impl1


@njit(**_JIT)
def _argmax_rows(g, lg, rows, m):
    """argmax_j of g[r*m + j] + lg[r, j] per row (the first maximum; a NaN
    wins, as np.argmax)."""
    out = np.empty(rows, np.int64)
    for r in range(rows):
        best = 0
        bv = g[r * m] + lg[r, 0]
        for j in range(1, m):
            v = g[r * m + j] + lg[r, j]
            if bv == bv and (v > bv or v != v):
                best = j
                bv = v
        out[r] = best
    return out


@overload(R.multivariate_normal, jit_options=_JIT)
def _multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    k = _key(key, "multivariate_normal")
    words = k.words
    part = k.part
    if not (isinstance(mean, types.Array) and mean.ndim == 1 and isinstance(cov, types.Array)
            and cov.ndim == 2):
        _fail("multivariate_normal", "compiled code takes a 1-D mean and a 2-D cov")
    if _lit(method) != "cholesky":
        _fail("multivariate_normal", "compiled code supports method='cholesky' only")
    common = np.result_type(as_dtype(mean.dtype), as_dtype(cov.dtype))
    if common.kind != "f":
        common = np.dtype(np.float64)
    dt = _float_dt(dtype, "multivariate_normal", common.type)
    odt = np.result_type(common, dt).type
    cdt = common.type
    nd = _shape(shape, "multivariate_normal", allow_none=True)
    if nd is None:
        def impl0(key, mean, cov, shape=None, dtype=None, method="cholesky"):
            return _mvn(words(key), part, mean.astype(cdt), cov.astype(cdt), (), dt, odt)
        return impl0

    def impl(key, mean, cov, shape=None, dtype=None, method="cholesky"):
        return _mvn(words(key), part, mean.astype(cdt), cov.astype(cdt), shape, dt, odt)
    return impl


def _mvn(words, part, mean, cov, shape, dt, odt):
    """Compiled-code helper of multivariate_normal (see its overload)."""


@overload(_mvn, jit_options=_JIT)
def _mvn_ov(words, part, mean, cov, shape, dt, odt):
    def impl(words, part, mean, cov, shape, dt, odt):
        k0, k1 = words
        n = mean.shape[0]
        if cov.shape[0] != n or cov.shape[1] != n:
            raise ValueError("multivariate_normal requires cov.shape == (n, n)")
        c = np.ascontiguousarray(cov).astype(odt)
        factor = np.empty((n, n), c.dtype)
        K.cholesky_lower(c, factor)
        nb = _prod(shape)
        z = np.empty(nb * n, dt)
        K.normal_fill(k0, k1, part, z)
        m = np.empty((nb, n), mean.dtype)
        for b in range(nb):
            m[b] = mean
        f = np.empty((nb, n, n), factor.dtype)
        for b in range(nb):
            f[b] = factor
        out = np.empty((nb, n), odt)
        K.affine_matvec(m.astype(odt), f.astype(odt), z.reshape(nb, n).astype(odt), out)
        return out.reshape(shape + (n,))
    return impl


@overload(R.random_gamma_grad, jit_options=_JIT)
def _random_gamma_grad(a, x):
    if not (isinstance(x, types.Array) and isinstance(x.dtype, types.Float)):
        _fail("random_gamma_grad", f"x must be a float array in compiled code, got {x}")
    nd = x.ndim
    ba = _bound(a, np.float64, nd, "random_gamma_grad")
    dt = as_dtype(x.dtype).type

    def impl(a, x):
        alpha = ba(a, x.shape)
        out = np.empty(x.size, np.float64)
        K.gamma_grad_fill(alpha, np.ascontiguousarray(x).astype(np.float64).reshape(-1), out)
        return out.astype(dt).reshape(x.shape)
    return impl
