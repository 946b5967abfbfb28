"""Explicit, splittable Threefry-2x32 PRNG keys that give JAX's numbers.

``transpile.random`` (``tp.random``) re-exports this module's public API.
Keys and key functions (``PRNGKey``, ``key``, ``split``, ``fold_in``, ...)
are NumPy code; the samplers check their arguments here and do their
arithmetic in the compiled kernels of :mod:`runtime.random_kernels`, which
the Numba overloads of :mod:`runtime.numba_random` call too, so generated
code calling ``runtime_random.normal(key, (3,))`` gives the same bits eagerly
and under ``@njit``.  There is no global state: a key is a value, never
mutated; the same key always gives the same numbers.

Keys
----
* A **raw key** is what ``PRNGKey(seed)`` returns: a ``uint32`` array of
  shape ``(2,)`` (JAX's legacy keys).  Functions returning keys return raw
  keys for raw keys: ``split(raw, 3)`` has shape ``(3, 2)``.
* A **typed key** is what ``key(seed)`` returns: a :class:`KeyArray` of shape
  ``()`` (``(n,)`` after ``split``), JAX's ``key<fry>`` arrays.  ``key_data``
  gives its ``uint32`` words (shape ``(..., 2)``), ``wrap_key_data`` makes
  keys of words.  It indexes and unpacks (``k1, k2 = split(k)``) into key
  arrays; arithmetic and ``np.asarray`` are TypeErrors, as in JAX.  The
  scheme is part of the key: ``key(seed, impl='threefry2x32_partitionable')``
  and every key made from it use JAX's partitionable scheme.
* Crossing into ``tp.jit``: a raw key is a uint32 array argument; a typed
  key is a Numba extension type (its words plus its scheme, known at compile
  time) that unpacks, indexes and comes back to Python as a KeyArray.
* Samplers, ``split`` and ``fold_in`` take one key (shape ``()`` typed, or
  ``(2,)`` raw); a batch of keys is a ``KeyShapeError`` (both a TypeError and
  the ValueError JAX raises) that says to use vmap.  A float, a list, or an
  array that is not ``uint32[..., 2]`` is a ``TypeError``.

The scheme (JAX with ``jax_enable_x64=True`` and
``jax_threefry_partitionable=False``)
---------------------------------------------------------------------------
``threefry2x32(k, (x0, x1))`` is the 20-round Threefry-2x32 block cipher of
Salmon et al. (2011) with rotations (13, 15, 26, 6), (17, 29, 16, 24) and a
key injection every 4 rounds.

* ``PRNGKey(seed)``: the seed as a 64-bit integer, words
  ``[seed >> 32, seed & 0xFFFFFFFF]`` (NumPy integers narrower than 64 bits
  give ``[0, seed & 0xFFFFFFFF]``, as in JAX).
* Counter blocks: n words of a key are ``threefry_2x32(key, iota(n))``: the
  counter ``0..n-1`` (padded with one 0 when n is odd) is cut in halves,
  the halves are the two cipher lanes, and the two output lanes are
  concatenated (the padding dropped).
* ``split(key, num)``: ``threefry_2x32(key, iota(2 num))`` reshaped
  ``(num, 2)``.  ``fold_in(key, d)``: ``threefry_2x32(key, [0, d])``.
* 32-bit values of shape s: the ``prod(s)`` words; 64-bit values: ``2 n``
  words, the first half the high words, the second half the low words.
* ``uniform``: the top ``nmant`` bits of a value become the mantissa of a
  float in [1, 2), minus 1; then ``max(minval, fma(u, maxval - minval,
  minval))`` -- XLA fuses that multiply-add, so it is one rounding.
  ``normal``: ``sqrt(2) * erfinv(uniform(key, lo=nextafter(-1, 0), hi=1))``
  with XLA's erfinv and log1p (ported, FMAs included), and XLA's own float32
  ``log`` (Cephes' logf, not libm's): JAX's bits in float32 and float64.
  The other samplers are JAX's bits too, with one exception: float32
  ``gamma`` uses XLA's float32 ``rsqrt``, the CPU's approximate ``rsqrtss``
  refined by Newton steps (one on AMD CPUs, two on others), which this
  module reproduces with the same instruction, so it is JAX's bits on the
  same CPU, as JAX's own numbers are CPU-dependent.

The partitionable scheme (``jax_threefry_partitionable=True``, the default
of recent JAX), chosen per key with ``key(seed,
impl='threefry2x32_partitionable')``: the value at flat index i is
``threefry2x32(key, (i >> 32, i & 0xFFFFFFFF))`` (32-bit values: the two
lanes xor-ed; 64-bit: high lane, low lane), and ``split`` gives key i as the
two lanes at counter i.  ``fold_in`` and seeding are the same in both.

dtype defaults are NumPy's (float64, int64, uint64), i.e. JAX's with x64
enabled; ``dtype=np.float32`` gives JAX's float32 numbers.
"""
import math
import operator

import numpy as np

__all__ = [
    "PRNGKey", "key", "key_data", "wrap_key_data", "key_impl", "split",
    "fold_in", "threefry_2x32", "bits", "uniform", "normal", "bernoulli",
    "randint", "choice", "permutation", "categorical", "gumbel",
    "exponential", "gamma", "truncated_normal", "multivariate_normal",
    "KeyArray", "KeyDType", "IMPLS",
]

#: the implementations (schemes) a typed key can have
IMPLS = ("threefry2x32", "threefry2x32_partitionable")

_U32 = np.uint32
_MASK32 = 0xFFFFFFFF
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA
#: words per call above which the classic scheme would need JAX's blocking
_MAX_WORDS = 0xFFFFFFFF


class KeyShapeError(TypeError, ValueError):
    """A key array of the wrong shape: a TypeError (not a key) that is also
    the ValueError JAX raises for a batch of keys."""


# --------------------------------------------------------------------------
# The cipher

def _threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 (20 rounds) of the counter lanes ``x0``, ``x1`` (uint32
    arrays, consumed) under key words ``k0``, ``k1`` (uint32 scalars or
    arrays broadcasting against the lanes).  Returns the two output lanes."""
    k0 = np.asarray(k0, _U32)
    k1 = np.asarray(k1, _U32)
    ks = (k0, k1, k0 ^ k1 ^ _U32(_PARITY))
    shape = np.broadcast_shapes(np.shape(x0), np.shape(x1), k0.shape, k1.shape)
    x0 = np.add(x0, ks[0], dtype=_U32)
    x1 = np.add(x1, ks[1], dtype=_U32)
    if x0.shape != shape:
        x0 = np.ascontiguousarray(np.broadcast_to(x0, shape))
    if x1.shape != shape:
        x1 = np.ascontiguousarray(np.broadcast_to(x1, shape))
    tmp = np.empty(shape, _U32)
    for group in range(5):
        for r in _ROTATIONS[group % 2]:
            x0 += x1
            np.left_shift(x1, _U32(r), out=tmp)
            x1 >>= _U32(32 - r)
            x1 |= tmp
            x1 ^= x0
        x0 += ks[(group + 1) % 3]
        x1 += ks[(group + 2) % 3]
        x1 += _U32(group + 1)
    return x0, x1


def threefry_2x32(key, count):
    """JAX's ``threefry_2x32(keypair, count)``: hash the uint32 array
    ``count`` under a key, the counter cut in two halves (padded with 0 to
    an even size) that are the cipher's two lanes.  Same shape as ``count``."""
    k0, k1, _ = _key_words(key, "threefry_2x32")
    count = np.asarray(count)
    if count.dtype != _U32:
        raise TypeError(f"threefry_2x32 requires uint32 counts, got {count.dtype}")
    flat = count.ravel()
    n = flat.size
    if n % 2:
        flat = np.concatenate([flat, np.zeros(1, _U32)])
    half = flat.size // 2
    y0, y1 = _threefry2x32(k0, k1, flat[:half].copy(), flat[half:].copy())
    return np.concatenate([y0, y1])[:n].reshape(count.shape)


def _words_classic(k0, k1, n):
    """The first n uint32 words of a key's classic stream."""
    if n > _MAX_WORDS:
        raise ValueError(f"cannot draw {n} 32-bit words from one key at once "
                         f"(the limit is {_MAX_WORDS}); split the key")
    half = (n + 1) // 2
    x0 = np.arange(half, dtype=_U32)
    x1 = np.arange(half, 2 * half, dtype=_U32)
    if n % 2:
        x1[-1] = 0
    y0, y1 = _threefry2x32(k0, k1, x0, x1)
    if n % 2:
        return np.concatenate([y0, y1[:-1]])
    return np.concatenate([y0, y1])


def _lanes_partitionable(k0, k1, n):
    """The two cipher lanes at counters 0..n-1 (counter i = (i >> 32, i))."""
    i = np.arange(n, dtype=np.uint64)
    return _threefry2x32(k0, k1, (i >> np.uint64(32)).astype(_U32), i.astype(_U32))


# --------------------------------------------------------------------------
# Keys

class KeyDType:
    """The dtype of typed keys, printed as JAX prints it (``key<fry>``)."""

    __slots__ = ("impl",)

    def __init__(self, impl):
        self.impl = impl

    @property
    def name(self):
        return "key<fry>"

    def __repr__(self):
        return "key<fry>" if self.impl == "threefry2x32" else "key<fry:partitionable>"

    def __eq__(self, other):
        return isinstance(other, KeyDType) and other.impl == self.impl

    def __hash__(self):
        return hash(("KeyDType", self.impl))


class KeyArray:
    """An array of typed PRNG keys (JAX's ``key<fry>`` arrays): shape
    ``data.shape[:-1]`` over ``uint32`` words ``data`` of shape (..., 2).

    Immutable; indexing and iteration give key arrays; arithmetic and
    conversion to a NumPy array are TypeErrors (use :func:`key_data`).  It
    crosses into ``tp.jit`` as a Numba extension type carrying its words and
    its scheme (:mod:`runtime.numba_random`)."""

    __slots__ = ("_data", "_part")
    #: the staging boundary treats key arrays as runtime values (transpile.values)
    __transpile_dynamic__ = True
    __array_priority__ = 1000

    def __init__(self, data, partitionable=False):
        data = np.ascontiguousarray(data)
        if data.dtype != _U32 or data.ndim == 0 or data.shape[-1] != 2:
            raise KeyShapeError(f"key data must be a uint32 array of shape (..., 2); got "
                                f"{data.dtype} of shape {data.shape}")
        data.flags.writeable = False
        self._data = data
        self._part = bool(partitionable)

    @property
    def shape(self):
        return self._data.shape[:-1]

    @property
    def ndim(self):
        return self._data.ndim - 1

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dtype(self):
        return KeyDType(_impl_name(self._part))

    def __len__(self):
        if not self.ndim:
            raise TypeError("len() of a 0-d key array")
        return self.shape[0]

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        if any(i is Ellipsis for i in idx):
            raise IndexError("key arrays do not take Ellipsis indices")
        if len(idx) > self.ndim:
            raise IndexError(f"too many indices for a key array of shape {self.shape}")
        return KeyArray(self._data[idx + (slice(None),)], self._part)

    def __iter__(self):
        if not self.ndim:
            raise TypeError("iteration over a 0-d key array")
        return (self[i] for i in range(self.shape[0]))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a typed PRNG key array cannot be converted to a NumPy array; "
                        "use tp.random.key_data(keys)")

    def __eq__(self, other):
        if not isinstance(other, KeyArray):
            return NotImplemented
        return np.all(self._data == other._data, axis=-1) & (self._part == other._part)

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else ~eq

    __hash__ = None

    def __reduce__(self):
        return (KeyArray, (self._data.copy(), self._part))

    def __repr__(self):
        body = np.array2string(self._data, prefix="  ")
        return f"KeyArray(shape={self.shape}, dtype={self.dtype!r}) overlaying:\n{body}"


class _KeyBatch(KeyArray):
    """The typed-key output of vmap's per-example loop: ``n`` key arrays
    shaped like one example's, written once each (``out[b] = keys``) and then
    immutable like any KeyArray (runtime.batching.alloc makes it)."""

    __slots__ = ("_left",)

    def __init__(self, like, n):
        data = np.zeros((n,) + like._data.shape, _U32)
        super().__init__(data, like._part)
        self._data.flags.writeable = n > 0
        self._left = n

    def __setitem__(self, b, keys):
        if not self._left:
            raise TypeError("'KeyArray' object does not support item assignment")
        if not (isinstance(keys, KeyArray) and keys._part == self._part and
                keys.shape == self.shape[1:]):
            raise TypeError(f"vmap: an example returned {keys!r} where the first example "
                            f"returned keys of shape {self.shape[1:]} and dtype {self.dtype!r}")
        self._data[b] = keys._data
        self._left -= 1
        if not self._left:
            self._data.flags.writeable = False


def key_batch(like, n):
    """The output buffer of ``n`` examples of typed keys like ``like``."""
    return _KeyBatch(like, n)


def _impl_name(part):
    return "threefry2x32_partitionable" if part else "threefry2x32"


def _key_words(key, name, allow_batched=False):
    """(k0, k1, partitionable) of one key: words as np.uint32 (arrays of the
    batch shape when ``allow_batched``)."""
    if isinstance(key, KeyArray):
        if key.ndim and not allow_batched:
            raise KeyShapeError(
                f"{name} accepts a single key, but was given a key array of shape "
                f"{key.shape} != (). Use vmap for batching.")
        return key._data[..., 0], key._data[..., 1], key._part
    if isinstance(key, np.ndarray):
        if key.dtype != _U32:
            raise TypeError(f"{name}: a PRNG key is a uint32 array of shape (2,) (from "
                            f"PRNGKey/split) or a typed key (from key); got an array of "
                            f"{key.dtype} with shape {key.shape}")
        if key.ndim == 0 or key.shape[-1] != 2:
            raise KeyShapeError(f"{name}: a raw PRNG key has shape (2,) (or (..., 2) for "
                                f"a batch); got shape {key.shape}")
        if key.ndim != 1 and not allow_batched:
            raise KeyShapeError(
                f"{name} accepts a single key, but was given a key array of shape "
                f"{key.shape[:-1]} != (). Use vmap for batching.")
        return key[..., 0].astype(_U32), key[..., 1].astype(_U32), False
    raise TypeError(f"{name}: unexpected PRNG key type {type(key).__name__}: a key is a "
                    f"uint32[2] array from PRNGKey/split or a typed key from key()")


def _is_typed(key):
    return isinstance(key, KeyArray)


def _make_keys(w0, w1, like_typed, part, shape):
    """Keys of ``shape`` from their words: a typed key array when
    ``like_typed``, else raw uint32 keys of shape ``shape + (2,)``."""
    out = np.empty(tuple(shape) + (2,), _U32)
    out[..., 0] = np.reshape(w0, shape)
    out[..., 1] = np.reshape(w1, shape)
    return KeyArray(out, part) if like_typed else out


def _seed_words(seed, name):
    """JAX's threefry_seed, with x64: (hi, lo) words of a 64-bit seed."""
    if _is_typed(seed):
        raise TypeError(f"{name} accepts a scalar seed, but was given a PRNG key.")
    if np.ndim(seed):
        raise TypeError(f"{name} accepts a scalar seed, but was given an array of shape "
                        f"{np.shape(seed)} != (). Use vmap for batching")
    if isinstance(seed, (bool, np.bool_)):
        seed = int(seed)
    if isinstance(seed, int):
        if not -2 ** 63 <= seed < 2 ** 63:
            raise OverflowError(f"seed {seed} does not fit in a 64-bit signed integer")
        u = seed % 2 ** 64
        return u >> 32, u & _MASK32
    value = np.asarray(seed)
    if not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    v = int(value)
    if value.dtype.itemsize < 8:        # a logical shift by 32 of a narrower int is 0
        return 0, v & _MASK32
    u = v % 2 ** 64
    return u >> 32, u & _MASK32


def PRNGKey(seed, *, impl=None):
    """A raw key (``uint32`` array of shape (2,)) from an integer seed, as
    ``jax.random.PRNGKey``.  Raw keys use the classic scheme."""
    if impl not in (None, "threefry2x32"):
        raise ValueError(f"raw keys use the classic threefry2x32 scheme; for impl={impl!r} "
                         f"make a typed key with key(seed, impl={impl!r})")
    hi, lo = _seed_words(seed, "PRNGKey")
    return np.array([hi, lo], dtype=_U32)


def key(seed, *, impl=None):
    """A typed key (a :class:`KeyArray` of shape ()) from an integer seed, as
    ``jax.random.key``.  ``impl='threefry2x32_partitionable'`` selects JAX's
    partitionable scheme for this key and every key made from it."""
    part = _impl_part(impl)
    hi, lo = _seed_words(seed, "key")
    return KeyArray(np.array([hi, lo], dtype=_U32), part)


def _impl_part(impl):
    if impl is None or impl == "threefry2x32":
        return False
    if impl == "threefry2x32_partitionable":
        return True
    if isinstance(impl, KeyDType):
        return impl.impl == "threefry2x32_partitionable"
    raise ValueError(f"unknown PRNG implementation {impl!r}; expected one of {sorted(IMPLS)}")


def key_data(keys):
    """The ``uint32`` words of keys: shape ``keys.shape + (2,)`` (of a raw
    key: a copy of it)."""
    k0, k1, _ = _key_words(keys, "key_data", allow_batched=True)
    return np.stack([k0, k1], axis=-1).astype(_U32)


def wrap_key_data(key_bits_array, *, impl=None):
    """Typed keys of the ``uint32`` words ``key_bits_array`` (shape
    ``(..., 2)``), as ``jax.random.wrap_key_data``."""
    data = np.asarray(key_bits_array)
    if data.dtype != _U32:
        raise TypeError(f"wrap_key_data: key data must be uint32, got {data.dtype}")
    return KeyArray(data.copy(), _impl_part(impl))


def key_impl(keys):
    """The scheme's name: 'threefry2x32' or 'threefry2x32_partitionable'."""
    _, _, part = _key_words(keys, "key_impl", allow_batched=True)
    return _impl_name(part)


def _shape_of(shape, name):
    if isinstance(shape, (int, np.integer)):
        raise TypeError(f"{name}: shape must be a tuple of integers, got {shape!r} "
                        f"(write ({shape},))")
    try:
        out = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a tuple of integers, got {shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"{name}: negative dimension in shape {out}")
    return out


def _split_words(k0, k1, part, n):
    """Words (w0, w1) of the n keys split from one key."""
    if part:
        return _lanes_partitionable(k0, k1, n)
    words = _words_classic(k0, k1, 2 * n)
    return words[0::2], words[1::2]


def split(key, num=2):
    """``num`` new keys (an int, or a tuple for a shape of keys), as
    ``jax.random.split``: shape ``(num,)`` typed keys or ``(num, 2)`` raw."""
    k0, k1, part = _key_words(key, "split")
    shape = tuple(num) if isinstance(num, (tuple, list)) else (operator.index(num),)
    shape = _shape_of(shape, "split")
    w0, w1 = _split_words(k0, k1, part, math.prod(shape))
    return _make_keys(w0, w1, _is_typed(key), part, shape)


def fold_in(key, data):
    """A new key from ``key`` and the integer ``data`` (taken as uint32:
    a Python int must be in [0, 2**32); NumPy integers wrap), as
    ``jax.random.fold_in``."""
    k0, k1, part = _key_words(key, "fold_in")
    if np.ndim(data):
        raise TypeError(f"fold_in accepts a scalar, but was given an array of shape "
                        f"{np.shape(data)} != (). Use vmap for batching.")
    if isinstance(data, (bool, np.bool_)):
        data = int(data)
    if isinstance(data, int):
        if not 0 <= data <= _MASK32:
            raise OverflowError(f"Python integer {data} out of bounds for uint32")
        d = _U32(data)
    else:
        value = np.asarray(data)
        if not np.issubdtype(value.dtype, np.integer):
            raise TypeError(f"fold_in: data must be an integer, got {data!r}")
        d = value.astype(_U32)
    y0, y1 = _threefry2x32(k0, k1, np.zeros(1, _U32), np.asarray(d, _U32).reshape(1))
    return _make_keys(y0, y1, _is_typed(key), part, ())


# --------------------------------------------------------------------------
# Samplers: argument handling here, arithmetic in runtime.random_kernels

def _kernels():
    from runtime import random_kernels
    return random_kernels


def _float_dtype(dtype, name):
    try:
        dt = np.dtype(np.float64 if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"dtype argument to `{name}` must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype argument to `{name}` must be float32 or float64, got {dt}")
    return dt


def _check_shape(name, shape, *param_shapes):
    if param_shapes:
        try:
            got = np.broadcast_shapes(shape, *param_shapes)
        except ValueError:
            got = None
        if got != shape:
            raise ValueError(f"{name} parameter shapes must be broadcast-compatible with shape "
                             f"argument, and the result of broadcasting the shapes must equal "
                             f"the shape argument, but got result {got} for shape argument {shape}.")


def _size(shape, bit_width, part):
    n = math.prod(shape)
    if not part and -(-bit_width * n // 32) > _MAX_WORDS:
        raise ValueError(f"cannot draw {n} values of {bit_width} bits from one key at once in "
                         f"the classic scheme (at most {_MAX_WORDS} 32-bit words); split the key")
    return n


def _random_bits(k0, k1, part, bit_width, shape):
    """Unsigned integers of ``bit_width`` bits and ``shape`` (JAX's
    ``_random_bits``)."""
    K = _kernels()
    n = _size(shape, bit_width, part)
    k0, k1 = int(k0), int(k1)
    if bit_width == 64:
        out = np.empty(n, np.uint64)
        K.bits64_fill(k0, k1, part, out)
        return out.reshape(shape)
    if bit_width == 32:
        out = np.empty(n, _U32)
        K.bits32_fill(k0, k1, part, out)
        return out.reshape(shape)
    udt = np.dtype(f"uint{bit_width}")
    if part:
        words = np.empty(n, _U32)
        K.bits32_fill(k0, k1, part, words)
        return words.astype(udt).reshape(shape)
    words = np.empty(-(-bit_width * n // 32), _U32)
    K.bits32_fill(k0, k1, part, words)
    return words.astype("<u4").view(f"<u{bit_width // 8}")[:n].astype(udt).reshape(shape)


def bits(key, shape=(), dtype=None):
    """Random unsigned integers (uint8/16/32/64; uint64 by default), as
    ``jax.random.bits``."""
    k0, k1, part = _key_words(key, "bits")
    try:
        dt = np.dtype(np.uint64 if dtype is None else dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "u":
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dtype}")
    return _random_bits(k0, k1, part, dt.itemsize * 8, _shape_of(shape, "bits"))


def _unit(k0, k1, part, shape, dt):
    """Floats in [0, 1): the top mantissa bits of random values (JAX's
    ``_uniform`` before scaling), flat."""
    K = _kernels()
    n = _size(shape, dt.itemsize * 8, part)
    out = np.empty(n, dt)
    (K.unit32_fill if dt == np.float32 else K.unit64_fill)(int(k0), int(k1), part, out)
    return out


def _bound(v, dt, shape, name):
    """minval/maxval as a flat array of size 1 or prod(shape), of dtype dt."""
    v = np.asarray(v).astype(dt)
    if v.ndim > len(shape):
        raise ValueError(f"{name}: a bound of shape {v.shape} has more dimensions than the "
                         f"shape {shape}")
    if v.size == 1 and math.prod(shape) != 0:
        return v.reshape(1)
    try:
        return np.ascontiguousarray(np.broadcast_to(v, shape)).reshape(-1)
    except ValueError:
        raise ValueError(f"{name}: a bound of shape {v.shape} does not broadcast to the shape "
                         f"{shape}") from None


def _uniform(k0, k1, part, shape, dt, minval, maxval, name="uniform"):
    out = _unit(k0, k1, part, shape, dt)
    _kernels().affine(out, _bound(minval, dt, shape, name), _bound(maxval, dt, shape, name))
    return out.reshape(shape)


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform floats in [minval, maxval), as ``jax.random.uniform``
    (float64 by default)."""
    k0, k1, part = _key_words(key, "uniform")
    return _uniform(k0, k1, part, _shape_of(shape, "uniform"), _float_dtype(dtype, "uniform"),
                    minval, maxval)


def normal(key, shape=(), dtype=None):
    """Standard normal floats, ``sqrt(2) erfinv(u)`` with u uniform in
    (-1, 1), as ``jax.random.normal`` (float64 by default)."""
    k0, k1, part = _key_words(key, "normal")
    return _normal(k0, k1, part, _shape_of(shape, "normal"), _float_dtype(dtype, "normal"))


def _normal(k0, k1, part, shape, dt):
    out = np.empty(_size(shape, dt.itemsize * 8, part), dt)
    _kernels().normal_fill(int(k0), int(k1), part, out)
    return out.reshape(shape)


def exponential(key, shape=(), dtype=None):
    """Exponential(1) floats, ``-log1p(-u)``, as ``jax.random.exponential``."""
    k0, k1, part = _key_words(key, "exponential")
    shape = _shape_of(shape, "exponential")
    out = _unit(k0, k1, part, shape, _float_dtype(dtype, "exponential"))
    _kernels().neg_log1p_neg_inplace(out)
    return out.reshape(shape)


def gumbel(key, shape=(), dtype=None, mode=None):
    """Gumbel floats, as ``jax.random.gumbel`` (modes 'low', the default, and
    'high')."""
    k0, k1, part = _key_words(key, "gumbel")
    return _gumbel(k0, k1, part, _shape_of(shape, "gumbel"), _float_dtype(dtype, "gumbel"),
                   _gumbel_mode(mode))


def _gumbel_mode(mode):
    if mode is None:
        return "low"
    if mode not in ("low", "high"):
        raise ValueError(f"gumbel mode must be 'low' or 'high', got {mode!r}")
    return mode


def _gumbel(k0, k1, part, shape, dt, mode):
    K = _kernels()
    n = _size(shape, dt.itemsize * 8, part)
    out = np.empty(n, dt)
    if mode == "high":
        K.gumbel_high(_unit(k0, k1, part, (2,) + tuple(shape), dt), out)
    else:
        K.gumbel_low_fill(int(k0), int(k1), part, out)
    return out.reshape(shape)


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability ``p``, compared in p's float
    dtype (float64 for a Python float), as ``jax.random.bernoulli``."""
    k0, k1, part = _key_words(key, "bernoulli")
    if mode not in ("high", "low"):
        raise ValueError(f"got mode={mode!r}, expected 'high' or 'low'")
    p = np.asarray(p)
    if not np.issubdtype(p.dtype, np.floating):
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {p.dtype}.")
    dt = _float_dtype(p.dtype, "bernoulli")
    shape = p.shape if shape is None else _shape_of(shape, "bernoulli")
    _check_shape("bernoulli", shape, p.shape)
    if mode == "high":
        u = _unit(k0, k1, part, (2,) + tuple(shape), dt).reshape((2,) + tuple(shape))
        u2 = u[1] * dt.type(2.0 ** -np.finfo(dt).nmant)
        return np.asarray(u2 < p - u[0])
    return np.asarray(_unit(k0, k1, part, shape, dt).reshape(shape) < p)


def _clip_convert(val, dtype):
    """JAX's _convert_and_clip_integer: clip to the intersection of both
    ranges, then convert."""
    vi, di = np.iinfo(val.dtype), np.iinfo(dtype)
    lo, hi = max(di.min, vi.min), min(di.max, vi.max)
    return np.clip(val, val.dtype.type(lo), val.dtype.type(hi)).astype(dtype)


def _as_int(v):
    v = np.asarray(v)
    if not np.issubdtype(v.dtype, np.integer):
        v = v.astype(np.int64)
    return v


def randint(key, shape, minval, maxval, dtype=None):
    """Integers in [minval, maxval), as ``jax.random.randint`` (int64 by
    default; JAX's modulus method on two draws of random bits)."""
    k0, k1, part = _key_words(key, "randint")
    try:
        dt = np.dtype(np.int64 if dtype is None else dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "iu":
        raise TypeError(f"randint only accepts integer dtypes, got {dtype}")
    shape = _shape_of(shape, "randint")
    info = np.iinfo(dt)
    if info.bits < 32:
        mn = np.clip(_as_int(minval).astype(np.int32), info.min, info.max)
        mx = np.clip(_as_int(maxval).astype(np.int32), info.min, info.max + 1)
        return _randint(k0, k1, part, shape, mn, mx, np.dtype(np.int32)).astype(dt)
    return _randint(k0, k1, part, shape, minval, maxval, dt)


def _randint(k0, k1, part, shape, minval, maxval, dt):
    minval, maxval = _as_int(minval), _as_int(maxval)
    _check_shape("randint", shape, minval.shape, maxval.shape)
    nbits = np.iinfo(dt).bits
    oor = maxval > _clip_convert(np.asarray(np.iinfo(dt).max, dt), maxval.dtype)
    minval = _clip_convert(minval, dt)
    maxval = _clip_convert(maxval, dt)
    a0, a1, b0, b1 = _kernels().split2(int(k0), int(k1), part)
    hi = _random_bits(a0, a1, part, nbits, shape).astype(np.uint64).reshape(-1)
    lo = _random_bits(b0, b1, part, nbits, shape).astype(np.uint64).reshape(-1)
    wide = np.uint64 if dt == np.uint64 else np.int64
    mn = _bound(minval.astype(wide), wide, shape, "randint")
    mx = _bound(maxval.astype(wide), wide, shape, "randint")
    oor = _bound(oor, np.bool_, shape, "randint")
    out = np.empty(hi.size, np.uint64)
    _kernels().randint_fill(hi, lo, mn, mx, oor, nbits, out)
    return out.astype(f"uint{nbits}").view(dt).reshape(shape)


def _num_rounds(size):
    return int(np.ceil(3 * np.log(max(1, size)) / np.log(_MASK32)))


def _shuffle(k0, k1, part, x, axis):
    """JAX's _shuffle: stable sorts of x along axis by fresh 32-bit keys."""
    K = _kernels()
    k0, k1 = int(k0), int(k1)
    for _ in range(_num_rounds(x.size)):
        k0, k1, s0, s1 = K.split2(k0, k1, part)
        sort_keys = _random_bits(s0, s1, part, 32, x.shape)
        order = np.argsort(sort_keys, axis=axis, kind="stable")
        x = np.take_along_axis(x, order, axis=axis)
    return x


def _norm_axis(axis, ndim, name):
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for array of "
                                      f"dimension {ndim}")
    return axis % ndim


def permutation(key, x, axis=0, independent=False):
    """A shuffled ``arange(x)`` (x an int) or a copy of the array ``x``
    shuffled along ``axis`` (each slice independently with
    ``independent=True``), as ``jax.random.permutation``."""
    k0, k1, part = _key_words(key, "permutation")
    if np.ndim(x) == 0:
        xv = np.asarray(x)
        if not np.issubdtype(xv.dtype, np.integer):
            raise TypeError("x must be an integer or at least 1-dimensional")
        _norm_axis(axis, 1, "permutation")
        return _shuffle(k0, k1, part, np.arange(int(xv)), 0)
    x = np.asarray(x)
    axis = _norm_axis(axis, x.ndim, "permutation")
    if independent or x.ndim == 1:
        return _shuffle(k0, k1, part, x, axis)
    ind = _shuffle(k0, k1, part, np.arange(x.shape[axis]), 0)
    return np.take(x, ind, axis=axis)


def _top_k(x, k):
    """Indices of the k largest along the last axis, largest first, ties by
    index (XLA's TopK)."""
    return np.argsort(-x, axis=-1, kind="stable")[..., :k]


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Random samples of ``a`` (an int means ``arange(a)``) along ``axis``,
    with or without replacement, uniform or with probabilities ``p``, as
    ``jax.random.choice``."""
    k0, k1, part = _key_words(key, "choice")
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape argument of choice must be a sequence, got {shape}")
    shape = _shape_of(shape, "choice")
    arr = np.asarray(a)
    if arr.ndim == 0:
        n_inputs = operator.index(a)
    else:
        axis = _norm_axis(axis, arr.ndim, "choice")
        n_inputs = arr.shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return np.zeros(shape, dtype=arr.dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population "
                         f"(size {n_inputs}) when 'replace=False'")
    if p is None:
        if replace:
            ind = _randint(k0, k1, part, shape, 0, n_inputs, np.dtype(np.int64))
            result = ind if arr.ndim == 0 else np.take(arr, ind, axis)
        else:
            perm = permutation(key, n_inputs if arr.ndim == 0 else arr, axis)
            result = perm[(slice(None),) * (axis if arr.ndim else 0) + (slice(n_draws),)]
    else:
        p_arr = np.asarray(p)
        if not np.issubdtype(p_arr.dtype, np.inexact):
            p_arr = p_arr.astype(np.float64)
        if p_arr.shape != (n_inputs,):
            raise ValueError(f"p must be None or a 1D vector with the same size as a.shape[axis]. "
                             f"p has shape {p_arr.shape} and a.shape[axis] is {n_inputs}.")
        dt = _float_dtype(p_arr.dtype, "choice")
        if replace:
            p_cuml = np.cumsum(p_arr)
            r = p_cuml[-1] * (dt.type(1) - _unit(k0, k1, part, shape, dt).reshape(shape))
            ind = np.searchsorted(p_cuml, r).astype(np.int64)
        else:
            logp = np.empty(n_inputs, dt)
            _kernels().log_array(p_arr, logp)
            g = _gumbel(k0, k1, part, (n_inputs,), dt, _gumbel_mode(mode)) + logp
            ind = _top_k(g, n_draws).astype(np.int64)
        result = ind if arr.ndim == 0 else np.take(arr, ind, axis)
    return np.asarray(result).reshape(shape if arr.ndim == 0 else
                                      arr.shape[0:axis] + tuple(shape) + arr.shape[axis + 1:])


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Indices sampled from the categorical distributions of ``logits``
    along ``axis`` (Gumbel max; top-k without replacement), as
    ``jax.random.categorical``."""
    k0, k1, part = _key_words(key, "categorical")
    logits = np.asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(np.float64)
    dt = _float_dtype(logits.dtype, "categorical")
    nd = logits.ndim
    axis = operator.index(axis)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"categorical: axis {axis} is out of bounds for logits "
                                      f"of dimension {nd}")
    batch_shape = logits.shape[:axis % nd] + logits.shape[axis % nd + 1:]
    if shape is None:
        shape = batch_shape
    else:
        shape = _shape_of(shape, "categorical")
        _check_shape("categorical", shape, batch_shape)
    mode = _gumbel_mode(mode)
    prefix = shape[:len(shape) - len(batch_shape)]
    if replace:
        lshape = list(shape[len(shape) - len(batch_shape):])
        lshape.insert(axis % nd, logits.shape[axis])
        g = _gumbel(k0, k1, part, (*prefix, *lshape), dt, mode)
        ax = axis - nd if axis >= 0 else axis
        return np.asarray(np.argmax(g + logits.reshape((1,) * len(prefix) + logits.shape),
                                    axis=ax))
    axis %= nd
    z = logits + _gumbel(k0, k1, part, logits.shape, dt, mode)
    k = math.prod(prefix)
    if k > logits.shape[axis]:
        raise ValueError(f"Number of samples without replacement ({k}) cannot exceed number "
                         f"of categories ({logits.shape[axis]}).")
    ind = _top_k(np.moveaxis(z, axis, -1), k)          # batch_shape + (k,)
    # int32, as JAX's (XLA's TopK indices)
    return np.asarray(np.moveaxis(ind, -1, 0).reshape(shape)).astype(np.int32)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal floats truncated to (lower, upper), as
    ``jax.random.truncated_normal`` (float64 by default)."""
    k0, k1, part = _key_words(key, "truncated_normal")
    dt = _float_dtype(dtype, "truncated_normal")
    lower = np.asarray(lower).astype(dt)
    upper = np.asarray(upper).astype(dt)
    if shape is None:
        shape = np.broadcast_shapes(lower.shape, upper.shape)
    else:
        shape = _shape_of(shape, "truncated_normal")
        _check_shape("truncated_normal", shape, lower.shape, upper.shape)
    K = _kernels()
    sqrt2 = dt.type(np.sqrt(2))
    a = np.empty(lower.size, dt)
    b = np.empty(upper.size, dt)
    inv = dt.type(1.0) / sqrt2        # XLA divides by a constant as x * (1 / c)
    K.erf_array((lower * inv).reshape(-1), a)
    K.erf_array((upper * inv).reshape(-1), b)
    out = _unit(k0, k1, part, shape, dt)
    K.affine(out, _bound(a.reshape(lower.shape), dt, shape, "truncated_normal"),
             _bound(b.reshape(upper.shape), dt, shape, "truncated_normal"))
    K.erfinv_inplace(out)
    lo = np.nextafter(lower, dt.type(np.inf))
    hi = np.nextafter(upper, dt.type(-np.inf))
    return np.asarray(np.clip(out.reshape(shape), lo, hi), dt)


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Samples ``mean + factor @ z`` with z standard normal and ``factor``
    the Cholesky factor of ``cov`` (or from 'svd' or 'eigh'), as
    ``jax.random.multivariate_normal``."""
    k0, k1, part = _key_words(key, "multivariate_normal")
    if method not in ("svd", "eigh", "cholesky"):
        raise ValueError("method must be one of {'svd', 'eigh', 'cholesky'}")
    mean = np.asarray(mean)
    cov = np.asarray(cov)
    common = np.result_type(mean.dtype, cov.dtype)
    if not np.issubdtype(common, np.inexact):
        common = np.dtype(np.float64)
    mean, cov = mean.astype(common), cov.astype(common)
    dt = _float_dtype(mean.dtype if dtype is None else dtype, "multivariate_normal")
    if mean.ndim < 1:
        raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == {mean.ndim}")
    if cov.ndim < 2:
        raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == {cov.ndim}")
    n = mean.shape[-1]
    if cov.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, "
                         f"but got cov.shape == {cov.shape}.")
    if shape is None:
        shape = np.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
    else:
        shape = _shape_of(shape, "multivariate_normal")
        _check_shape("normal", shape, mean.shape[:-1], cov.shape[:-2])
    K = _kernels()
    if method == "svd":
        u, s, _ = np.linalg.svd(cov)
        factor = u * np.sqrt(s[..., None, :])
    elif method == "eigh":
        w, v = np.linalg.eigh(cov)
        factor = v * np.sqrt(w[..., None, :])
    else:
        flat = np.ascontiguousarray(cov.reshape((-1, n, n)))
        factor = np.empty_like(flat)
        for i in range(flat.shape[0]):
            K.cholesky_lower(flat[i], factor[i])
        factor = factor.reshape(cov.shape)
    z = _normal(k0, k1, part, tuple(shape) + (n,), dt)
    full = tuple(shape) + (n,)
    f = np.ascontiguousarray(np.broadcast_to(factor, tuple(shape) + (n, n))).reshape(-1, n, n)
    m = np.ascontiguousarray(np.broadcast_to(mean, full)).reshape(-1, n)
    out = np.empty(m.shape, np.result_type(m.dtype, f.dtype, z.dtype))
    K.affine_matvec(m.astype(out.dtype), f.astype(out.dtype), z.reshape(-1, n).astype(out.dtype), out)
    return out.reshape(full)


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a, 1) floats by Marsaglia and Tsang's method, element i drawn
    with the key ``split(key, prod(shape))[i]``, as ``jax.random.gamma``."""
    k0, k1, part = _key_words(key, "gamma")
    dt = _float_dtype(dtype, "gamma")
    a = np.asarray(a)
    if shape is None:
        shape = a.shape
    else:
        shape = _shape_of(shape, "gamma")
        _check_shape("gamma", shape, a.shape)
    alpha = np.ascontiguousarray(np.broadcast_to(a.astype(dt), shape)).reshape(-1)
    n = alpha.size
    K = _kernels()
    w0 = np.empty(n, np.int64)
    w1 = np.empty(n, np.int64)
    K.split_words(int(k0), int(k1), part, n, w0, w1)
    out = np.empty(n, dt)
    K.gamma_fill(w0, w1, part, alpha, out)
    return out.reshape(shape)


def random_gamma_grad(a, x):
    """How Gamma(a, 1) samples ``x`` move with ``a`` at a fixed quantile:
    ``-(dP/da) / (dP/dx)`` with P(a, x) the regularized lower incomplete
    gamma function (implicit reparameterization; JAX's
    ``lax.random_gamma_grad``), the derivative rule of :func:`gamma`.
    ``a`` broadcasts to x's shape; computed in float64, returned in x's
    float dtype."""
    x = np.asarray(x)
    dt = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    alpha = _bound(a, np.float64, x.shape, "random_gamma_grad")
    out = np.empty(x.size, np.float64)
    _kernels().gamma_grad_fill(alpha, x.astype(np.float64).reshape(-1), out)
    return out.astype(dt).reshape(x.shape)
