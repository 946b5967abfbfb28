"""Compiled kernels of :mod:`runtime.random`: Threefry-2x32 and the samplers'
floating-point arithmetic, written as scalar loops for Numba.

Both the eager functions of :mod:`runtime.random` and their Numba overloads
(:mod:`runtime.numba_random`, used inside ``tp.jit``) call these kernels, so
eager and jitted results are the same bits by construction.  Why compiled
code even eagerly: JAX's numbers come from XLA, which

* contracts ``a * b + c`` into a fused multiply-add wherever it can (the
  scaling in ``uniform``, every Horner step of its erfinv and log1p), and
* computes erfinv, erf, log1p and float32 log with its own polynomials
  (ported here, with the same FMAs) rather than with libm, and float32
  rsqrt (``a / sqrt(b)`` becomes ``a * rsqrt(b)``) with the CPU's
  approximate ``rsqrtss`` instruction refined by Newton steps.

NumPy has no FMA, and its float32 ``log``/``exp`` use SIMD code that differs
from libm in the last bit, so a NumPy implementation could be neither exact
nor equal to the compiled one.  Here every FMA is LLVM's ``llvm.fma``
(one instruction where the CPU has FMA, a correctly rounded libm call
otherwise) and every other operation is IEEE arithmetic or libm.

Kernels take key words as int64 and write into flat output arrays; the
callers allocate, reshape and validate.  Integer Threefry arithmetic is done
in int64 with 32-bit masks (no mixing of signed and unsigned types).
Compiled with ``cache=True``: the first call on a machine compiles (a few
seconds for all of them), later processes load them from Numba's cache.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

_NJ = dict(cache=True, nogil=True, error_model="numpy")
M32 = 0xFFFFFFFF
F32 = np.float32


# --------------------------------------------------------------------------
# fused multiply-add

@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (LLVM's llvm.fma)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [ty], ir.FunctionType(ty, [ty, ty, ty]))
        return builder.call(fn, args)
    return a(a, b, c), codegen


# --------------------------------------------------------------------------
# Threefry-2x32

@njit(**_NJ)
def threefry2x32(k0, k1, x0, x1):
    """20 rounds of Threefry-2x32 of the counter (x0, x1) under (k0, k1);
    all int64 holding 32-bit values."""
    k2 = k0 ^ k1 ^ 0x1BD11BDA
    x0 = (x0 + k0) & M32
    x1 = (x1 + k1) & M32
    for g in range(5):
        if g % 2 == 0:
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 13) & M32) | (x1 >> 19)) ^ x0
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 15) & M32) | (x1 >> 17)) ^ x0
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 26) & M32) | (x1 >> 6)) ^ x0
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 6) & M32) | (x1 >> 26)) ^ x0
        else:
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 17) & M32) | (x1 >> 15)) ^ x0
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 29) & M32) | (x1 >> 3)) ^ x0
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 16) & M32) | (x1 >> 16)) ^ x0
            x0 = (x0 + x1) & M32
            x1 = (((x1 << 24) & M32) | (x1 >> 8)) ^ x0
        j = g % 3
        if j == 0:
            x0 = (x0 + k1) & M32
            x1 = (x1 + k2 + g + 1) & M32
        elif j == 1:
            x0 = (x0 + k2) & M32
            x1 = (x1 + k0 + g + 1) & M32
        else:
            x0 = (x0 + k0) & M32
            x1 = (x1 + k1 + g + 1) & M32
    return x0, x1


@njit(**_NJ)
def split_words(k0, k1, part, num, out0, out1):
    """Words of the ``num`` keys split from (k0, k1) into out0[:num],
    out1[:num] (int64 arrays)."""
    if part:
        for j in range(num):
            a, b = threefry2x32(k0, k1, j >> 32, j & M32)
            out0[j] = a
            out1[j] = b
        return
    # classic: the words of iota(2 num), halves as lanes; key j = words 2j, 2j+1
    for j in range(num):
        a, b = threefry2x32(k0, k1, j, num + j)
        # word j is a, word num + j is b
        if j % 2 == 0:
            out0[j // 2] = a
        else:
            out1[j // 2] = a
        w = num + j
        if w % 2 == 0:
            out0[w // 2] = b
        else:
            out1[w // 2] = b


@njit(**_NJ)
def split2(k0, k1, part):
    """(a0, a1, b0, b1): the two keys of split(key)."""
    if part:
        a0, a1 = threefry2x32(k0, k1, 0, 0)
        b0, b1 = threefry2x32(k0, k1, 0, 1)
        return a0, a1, b0, b1
    w0, w2 = threefry2x32(k0, k1, 0, 2)
    w1, w3 = threefry2x32(k0, k1, 1, 3)
    return w0, w1, w2, w3


@njit(**_NJ)
def split3(k0, k1, part):
    """The three keys of split(key, 3), as six words."""
    if part:
        a0, a1 = threefry2x32(k0, k1, 0, 0)
        b0, b1 = threefry2x32(k0, k1, 0, 1)
        c0, c1 = threefry2x32(k0, k1, 0, 2)
        return a0, a1, b0, b1, c0, c1
    w0, w3 = threefry2x32(k0, k1, 0, 3)
    w1, w4 = threefry2x32(k0, k1, 1, 4)
    w2, w5 = threefry2x32(k0, k1, 2, 5)
    return w0, w1, w2, w3, w4, w5


@njit(**_NJ)
def fold_in(k0, k1, d):
    """The words of fold_in(key, d) (d a 32-bit value)."""
    return threefry2x32(k0, k1, 0, d)


# Fills: a serial kernel over a range of "slots" (a counter; in the classic
# 32-bit stream, a pair of counters j and half + j), run over the whole output,
# or in parallel chunks when the output is large (Numba threads).
PAR_MIN = 1 << 16       # outputs of at least this size fill in parallel
CHUNK = 1 << 14
_PAR = dict(_NJ, parallel=True)
# Numba starts its thread pool (and registers the symbols parallel code links
# against) on the first call of a parallel dispatcher.  Generated code that
# links these kernels from Numba's disk cache before any such call fails to
# link ("Symbol not found: allocate_sched"), so start the pool now.
try:
    from numba.np.ufunc.parallel import _launch_threads
    _launch_threads()
except Exception:      # pragma: no cover - no threading layer: fill serially
    PAR_MIN = 1 << 62


@njit(**_NJ)
def _slots32(n, part):
    return n if part else (n + 1) // 2


@njit(**_NJ)
def _bits32_range(k0, k1, part, out, lo, hi):
    n = out.size
    if part:
        for i in range(lo, hi):
            a, b = threefry2x32(k0, k1, i >> 32, i & M32)
            out[i] = a ^ b
        return
    half = (n + 1) // 2
    for j in range(lo, hi):
        w = half + j
        a, b = threefry2x32(k0, k1, j, w if w < n else 0)
        out[j] = a
        if w < n:
            out[w] = b


@njit(**_NJ)
def _bits64_range(k0, k1, part, out, lo, hi):
    n = out.size
    for i in range(lo, hi):
        if part:
            a, b = threefry2x32(k0, k1, i >> 32, i & M32)
        else:
            a, b = threefry2x32(k0, k1, i, n + i)
        out[i] = (np.uint64(a) << np.uint64(32)) | np.uint64(b)


@njit(**_NJ)
def _unit64_range(k0, k1, part, out, lo, hi):
    n = out.size
    for i in range(lo, hi):
        if part:
            a, b = threefry2x32(k0, k1, i >> 32, i & M32)
        else:
            a, b = threefry2x32(k0, k1, i, n + i)
        out[i] = ((a << 20) | (b >> 12)) * 2.220446049250313e-16


@njit(**_NJ)
def _unit32_range(k0, k1, part, out, lo, hi):
    n = out.size
    scale = F32(1.1920928955078125e-07)
    if part:
        for i in range(lo, hi):
            a, b = threefry2x32(k0, k1, i >> 32, i & M32)
            out[i] = F32((a ^ b) >> 9) * scale
        return
    half = (n + 1) // 2
    for j in range(lo, hi):
        w = half + j
        a, b = threefry2x32(k0, k1, j, w if w < n else 0)
        out[j] = F32(a >> 9) * scale
        if w < n:
            out[w] = F32(b >> 9) * scale


@njit(**_PAR)
def _bits32_par(k0, k1, part, out):
    m = _slots32(out.size, part)
    for c in prange((m + CHUNK - 1) // CHUNK):
        _bits32_range(k0, k1, part, out, c * CHUNK, min(m, (c + 1) * CHUNK))


@njit(**_PAR)
def _bits64_par(k0, k1, part, out):
    m = out.size
    for c in prange((m + CHUNK - 1) // CHUNK):
        _bits64_range(k0, k1, part, out, c * CHUNK, min(m, (c + 1) * CHUNK))


@njit(**_PAR)
def _unit64_par(k0, k1, part, out):
    m = out.size
    for c in prange((m + CHUNK - 1) // CHUNK):
        _unit64_range(k0, k1, part, out, c * CHUNK, min(m, (c + 1) * CHUNK))


@njit(**_PAR)
def _unit32_par(k0, k1, part, out):
    m = _slots32(out.size, part)
    for c in prange((m + CHUNK - 1) // CHUNK):
        _unit32_range(k0, k1, part, out, c * CHUNK, min(m, (c + 1) * CHUNK))


@njit(**_NJ)
def bits32_fill(k0, k1, part, out):
    """out[:] = the uint32 stream of the key (classic: counter halves as
    lanes; partitionable: lanes xor-ed at counter i)."""
    if out.size >= PAR_MIN:
        _bits32_par(k0, k1, part, out)
    else:
        _bits32_range(k0, k1, part, out, 0, _slots32(out.size, part))


@njit(**_NJ)
def bits64_fill(k0, k1, part, out):
    """out[:] = uint64 values: high word lane 0, low word lane 1."""
    if out.size >= PAR_MIN:
        _bits64_par(k0, k1, part, out)
    else:
        _bits64_range(k0, k1, part, out, 0, out.size)


@njit(**_NJ)
def unit64_fill(k0, k1, part, out):
    """float64 in [0, 1) from the top 52 bits (exactly JAX's bit trick)."""
    if out.size >= PAR_MIN:
        _unit64_par(k0, k1, part, out)
    else:
        _unit64_range(k0, k1, part, out, 0, out.size)


@njit(**_NJ)
def unit32_fill(k0, k1, part, out):
    """float32 in [0, 1) from the top 23 bits of each 32-bit value."""
    if out.size >= PAR_MIN:
        _unit32_par(k0, k1, part, out)
    else:
        _unit32_range(k0, k1, part, out, 0, _slots32(out.size, part))


def unit_fill(k0, k1, part, out):
    """float32/float64 dispatch of unit32_fill/unit64_fill (compiled code)."""
    if out.dtype == np.float32:
        unit32_fill(k0, k1, part, out)
    else:
        unit64_fill(k0, k1, part, out)


@overload(unit_fill, jit_options=_NJ)
def _unit_fill(k0, k1, part, out):
    if out.dtype == types.float32:
        return lambda k0, k1, part, out: unit32_fill(k0, k1, part, out)
    return lambda k0, k1, part, out: unit64_fill(k0, k1, part, out)


@njit(**_NJ)
def unit_scalar64(k0, k1, part):
    """uniform(key, (), float64) before scaling."""
    if part:
        a, b = threefry2x32(k0, k1, 0, 0)
    else:
        a, b = threefry2x32(k0, k1, 0, 1)
    return ((a << 20) | (b >> 12)) * 2.220446049250313e-16


@njit(**_NJ)
def unit_scalar32(k0, k1, part):
    """uniform(key, (), float32) before scaling."""
    a, b = threefry2x32(k0, k1, 0, 0)
    w = (a ^ b) if part else a
    return F32(w >> 9) * F32(1.1920928955078125e-07)


@njit(**_NJ)
def affine(out, mn, mx):
    """out = max(mn, fma(out, mx - mn, mn)): JAX's uniform scaling (XLA
    fuses the multiply-add).  mn, mx have out's size or size 1."""
    n = out.size
    sn = mn.size > 1
    sx = mx.size > 1
    for i in range(n):
        a = mn[i if sn else 0]
        b = mx[i if sx else 0]
        v = fma(out[i], b - a, a)
        out[i] = v if v > a else a


# --------------------------------------------------------------------------
# polynomials, unrolled

def poly(name, x):
    """Horner's scheme with fused multiply-adds, ``p = fma(p, x, c)``, for the
    coefficients ``_POLYS[name]`` (highest degree first), in x's precision.
    In compiled code the loop is unrolled with the constants inlined: a loop
    over a tuple of constants is 20x slower under Numba."""
    coefs = _POLYS[name]
    f = type(x)
    p = f(coefs[0])
    for c in coefs[1:]:
        p = f(p * x + f(c))     # eager fallback (not an FMA); compiled code uses fma
    return p


@overload(poly, jit_options={"error_model": "numpy"})   # inlined into cached callers
def _poly(name, x):
    if not isinstance(name, types.StringLiteral) or not isinstance(x, types.Float):
        return None
    coefs = _POLYS[name.literal_value]
    if x == types.float32:
        lit = [f"F32({float(F32(c))!r})" for c in coefs]
    else:
        lit = [repr(float(c)) for c in coefs]
    lines = ["def impl(name, x):", f"    p = {lit[0]}"]
    lines += [f"    p = fma(p, x, {c})" for c in lit[1:]]
    lines += ["    return p"]
    ns = {"fma": fma, "F32": F32}
    exec("\n".join(lines), ns)
    return ns["impl"]


# --------------------------------------------------------------------------
# XLA's log, log1p, erfinv and erf (with the FMAs XLA's CPU backend makes)

@intrinsic
def _f32_bits(typingctx, x):
    """The IEEE bits of a float32 as an int32."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(x), codegen


@intrinsic
def _bits_f32(typingctx, b):
    """The float32 of the IEEE bits in the low 32 bits of the integer b."""
    if not isinstance(b, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(32)) if b.bitwidth > 32 else args[0]
        return builder.bitcast(low, ir.FloatType())
    return types.float32(b), codegen


def _xla_rsqrt32_steps():
    """How XLA's CPU backend computes a float32 ``1 / sqrt(x)`` here (XLA
    rewrites ``a / sqrt(b)`` as ``a * rsqrt(b)``): on x86 with AVX, the
    CPU's approximate ``rsqrtss`` refined by Newton-Raphson steps -- 1 on
    AMD CPUs, 2 on others -- so JAX's float32 numbers depend on the CPU;
    elsewhere a correctly rounded ``1 / sqrt(x)`` (returned as 0 steps)."""
    import platform
    from llvmlite import binding
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return 0
    if not binding.get_host_cpu_features().get("avx", False):
        return 0
    amd = binding.get_host_cpu_name().startswith(
        ("znver", "bdver", "btver", "amdfam", "athlon", "k8", "opteron", "barcelona"))
    return 1 if amd else 2


#: Newton steps after rsqrtss in float32 rsqrt (0: 1 / sqrt(x), no rsqrtss)
RSQRT32_STEPS = _xla_rsqrt32_steps()


@intrinsic
def _rsqrtss(typingctx, x):
    """x86's approximate reciprocal square root (rsqrtss) of a float32."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        vt = ir.VectorType(ir.FloatType(), 4)
        fn = builder.module.declare_intrinsic("llvm.x86.sse.rsqrt.ss",
                                              fnty=ir.FunctionType(vt, [vt]))
        v = builder.insert_element(ir.Constant(vt, ir.Undefined), args[0],
                                   ir.Constant(ir.IntType(32), 0))
        return builder.extract_element(builder.call(fn, [v]), ir.Constant(ir.IntType(32), 0))
    return types.float32(x), codegen


if RSQRT32_STEPS:
    @njit(**_NJ)
    def rsqrt32(x):
        """XLA's float32 rsqrt on this CPU: rsqrtss and Newton steps
        ``y += (-y / 2) * (x y y - 1)`` (FMAs as XLA's IR contracts them);
        the raw approximation for x < the smallest normal float or inf."""
        y0 = _rsqrtss(x)
        if x < F32(1.1754943508222875e-38) or x == F32(np.inf):
            return y0
        y = y0
        for _ in range(RSQRT32_STEPS):
            y = fma(y * F32(-0.5), fma(x * y, y, F32(-1.0)), y)
        return y
else:
    @njit(**_NJ)
    def rsqrt32(x):
        """XLA's float32 rsqrt without AVX or off x86: 1 / sqrt(x)."""
        return F32(1.0) / math.sqrt(x)


def rsqrt(x):
    """XLA's ``rsqrt``: rsqrt32 for a float32, else ``1 / sqrt(x)`` (XLA's
    float64 rsqrt, two roundings) (compiled code)."""
    return rsqrt32(x) if isinstance(x, np.float32) else 1.0 / math.sqrt(x)


@overload(rsqrt, jit_options=_NJ)
def _rsqrt(x):
    if x == types.float32:
        return lambda x: rsqrt32(x)
    return lambda x: 1.0 / math.sqrt(x)


# Cephes' logf polynomial (highest degree first, with the split of
# log(2) = 0.693359375 - 2.12194440e-4), as XLA's CPU backend emits it.
_LOG32_P = (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
            1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
            3.3333331174E-1)


@njit(**_NJ)
def log32(x):
    """Natural log, float32, as XLA's CPU backend computes it (not libm's
    logf, which differs in the last bit for 1 input in 7): Cephes' logf --
    x = m 2**e with m in [sqrt(1/2), sqrt(2)), log(1 + (m - 1)) by a degree-9
    polynomial evaluated in three interleaved Horner chains -- with the
    fused multiply-adds LLVM's contraction makes of XLA's IR (the last
    ``y * x**3 + e * q1``, ``x - x**2 / 2`` and ``+ e * q2`` included).
    Denormal inputs are taken as the smallest normal float, as XLA does."""
    if not x > F32(0.0):
        return -F32(np.inf) if x == F32(0.0) else F32(np.nan)
    if x == F32(np.inf):
        return x
    b = _f32_bits(max(x, F32(1.1754943508222875e-38)))
    e = F32((b >> 23) - 126)
    m = _bits_f32((b & 0x807FFFFF) | 0x3F000000)       # in [0.5, 1)
    if m < F32(0.707106781186547524):
        e = e - F32(1.0)
        m = (m - F32(1.0)) + m
    else:
        m = m - F32(1.0)
    c = _LOG32_P
    x2 = m * m
    x3 = x2 * m
    y = fma(m, F32(c[0]), F32(c[1]))
    y1 = fma(m, F32(c[3]), F32(c[4]))
    y2 = fma(m, F32(c[6]), F32(c[7]))
    y = fma(y, m, F32(c[2]))
    y1 = fma(y1, m, F32(c[5]))
    y2 = fma(y2, m, F32(c[8]))
    y = fma(y, x3, y1)
    y = fma(y, x3, y2)
    y = fma(y, x3, F32(-2.12194440e-4) * e)
    r = fma(F32(-0.5), x2, m)
    r = r + y
    return fma(F32(0.693359375), e, r)


def log(x):
    """log32 for a float32, else libm's log (what XLA calls for float64)
    (compiled code)."""
    return log32(x) if isinstance(x, np.float32) else math.log(x)


@overload(log, jit_options=_NJ)
def _log(x):
    if x == types.float32:
        return lambda x: log32(x)
    return lambda x: math.log(x)


_L1P_NUM = (4.5270000862445199635215E-5, 4.9854102823193375972212E-1,
            6.5787325942061044846969E0, 2.9911919328553073277375E1,
            6.0949667980987787057556E1, 5.7112963590585538103336E1,
            2.0039553499201281259648E1)
_L1P_DEN = (1., 1.5062909083469192043167E1, 8.3047565967967209469434E1,
            2.2176239823732856465394E2, 3.0909872225312059774938E2,
            2.1642788614495947685003E2, 6.0118660497603843919306E1)


@njit(**_NJ)
def log1p64(x):
    """log(1 + x): Cephes' rational approximation for |x| < sqrt(2) - 1,
    else log(1 + x), as XLA's CPU backend computes it."""
    if abs(x) < 0.41421356237309504880:
        x2 = x * x
        t = (x * x2) * (poly("L1P_NUM", x) / poly("L1P_DEN", x))
        return x + fma(-0.5, x2, t)
    return math.log(x + 1.0)


@njit(**_NJ)
def log1p32(x):
    """float32 log1p as XLA's (its own logf above the threshold)."""
    if abs(x) < F32(0.41421356237309504880):
        x2 = x * x
        t = (x * x2) * (poly("L1P_NUM", x) / poly("L1P_DEN", x))
        return x + fma(F32(-0.5), x2, t)
    return log32(x + F32(1.0))


# Giles' erfinv polynomials (highest degree first), as in XLA.
_EI32_LT5 = (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_EI32_GE5 = (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_EI64_LT625 = (
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356)
_EI64_LT16 = (
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
    3.0838856104922207635)
_EI64_GE16 = (
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221)


@njit(**_NJ)
def erfinv32(x):
    """Inverse error function, float32, as XLA (Giles' single precision)."""
    if abs(x) == F32(1.0):
        return x * F32(np.inf)
    w = -log1p32(x * -x)
    if w < F32(5.0):
        p = poly("EI32_LT5", w - F32(2.5))
    else:
        p = poly("EI32_GE5", math.sqrt(w) - F32(3.0))
    return p * x


@njit(**_NJ)
def erfinv64(x):
    """Inverse error function, float64, as XLA (Giles' double precision)."""
    if abs(x) == 1.0:
        return x * np.inf
    w = -log1p64(x * -x)
    if w < 6.25:
        p = poly("EI64_LT625", w - 3.125)
    elif w < 16.0:
        p = poly("EI64_LT16", math.sqrt(w) - 3.25)
    else:
        p = poly("EI64_GE16", math.sqrt(w) - 5.0)
    return p * x


# XLA's float32 erf: an odd/even rational approximation, +-1 beyond 3.8325.
_ERF32_P = (
    0.00022905065861350646, 0.0034082910107109506, 0.050955695062380861,
    0.18520832239976145, 1.128379143519084)
_ERF32_Q = (
    -1.1791602954361697e-7, 0.000023547966471313185, 0.0010179625278914885,
    0.014070470171167667, 0.11098505178285362, 0.49746925110067538, 1.0)


_POLYS = {"L1P_NUM": _L1P_NUM, "L1P_DEN": _L1P_DEN, "EI32_LT5": _EI32_LT5,
          "EI32_GE5": _EI32_GE5, "EI64_LT625": _EI64_LT625, "EI64_LT16": _EI64_LT16,
          "EI64_GE16": _EI64_GE16, "ERF32_P": _ERF32_P, "ERF32_Q": _ERF32_Q}


@njit(**_NJ)
def erf32(x):
    """Error function, float32, as XLA's CPU backend computes it."""
    if abs(x) >= F32(3.832506856900711):
        return math.copysign(F32(1.0), x)
    x2 = x * x
    return (x * poly("ERF32_P", x2)) / poly("ERF32_Q", x2)


@njit(**_NJ)
def erf64(x):
    """Error function, float64: libm's erf, which is what XLA calls."""
    return math.erf(x)


def erfinv(x):
    """erfinv32/erfinv64 by the type of ``x`` (compiled code)."""
    return erfinv32(x) if isinstance(x, np.float32) else erfinv64(x)


@overload(erfinv, jit_options=_NJ)
def _erfinv(x):
    if x == types.float32:
        return lambda x: erfinv32(x)
    return lambda x: erfinv64(x)


def log1p(x):
    """log1p32/log1p64 by the type of ``x`` (compiled code)."""
    return log1p32(x) if isinstance(x, np.float32) else log1p64(x)


@overload(log1p, jit_options=_NJ)
def _log1p(x):
    if x == types.float32:
        return lambda x: log1p32(x)
    return lambda x: log1p64(x)


def erf(x):
    """erf32/erf64 by the type of ``x`` (compiled code)."""
    return erf32(x) if isinstance(x, np.float32) else erf64(x)


@overload(erf, jit_options=_NJ)
def _erf(x):
    if x == types.float32:
        return lambda x: erf32(x)
    return lambda x: erf64(x)


# --------------------------------------------------------------------------
# Sampler kernels (flat outputs; float32 or float64 by the output's dtype)

@njit(**_NJ)
def normal_fill(k0, k1, part, out):
    """sqrt(2) erfinv(uniform(nextafter(-1, 0), 1)): JAX's normal."""
    unit_fill(k0, k1, part, out)
    if out.size >= PAR_MIN:
        _normal_par(out)
    else:
        _normal_range(out, 0, out.size)


@njit(**_NJ)
def _normal_range(out, lo_i, hi_i):
    _, one, _, _, lo, sqrt2, _, _, _ = consts(out)
    span = one - lo
    for i in range(lo_i, hi_i):
        v = fma(out[i], span, lo)
        u = v if v > lo else lo
        out[i] = sqrt2 * erfinv(u)


@njit(**_PAR)
def _normal_par(out):
    m = out.size
    for c in prange((m + CHUNK - 1) // CHUNK):
        _normal_range(out, c * CHUNK, min(m, (c + 1) * CHUNK))


@njit(**_NJ)
def erfinv_inplace(out):
    """out = sqrt(2) erfinv(out) (truncated_normal)."""
    sqrt2 = consts(out)[5]
    for i in range(out.size):
        out[i] = sqrt2 * erfinv(out[i])


@njit(**_NJ)
def neg_log1p_neg_inplace(out):
    """out = -log1p(-out) (exponential)."""
    for i in range(out.size):
        out[i] = -log1p(-out[i])


@njit(**_NJ)
def gumbel_low_fill(k0, k1, part, out):
    """-log(-log(uniform(tiny, 1))): JAX's gumbel, mode 'low'."""
    _, one, _, _, _, _, tiny, _, _ = consts(out)
    unit_fill(k0, k1, part, out)
    span = one - tiny
    for i in range(out.size):
        v = fma(out[i], span, tiny)
        u = v if v > tiny else tiny
        out[i] = -log(-log(u))


@njit(**_NJ)
def gumbel_high(both, out):
    """JAX's gumbel, mode 'high', from ``both`` = uniform((2,) + shape)
    flattened: x = high (>= 1/2) or high + 2**-nmant low + tiny;
    -log(-log1p(-x))."""
    _, _, half, _, _, _, tiny, eps, _ = consts(out)
    n = out.size
    for i in range(n):
        high = both[i]
        low = both[n + i]
        x = high if high >= half else fma(eps, low, high) + tiny
        out[i] = -log(-log1p(-x))


@njit(**_NJ)
def erf_array(x, out):
    for i in range(x.size):
        out[i] = erf(x[i])


@njit(**_NJ)
def log_array(x, out):
    for i in range(x.size):
        out[i] = log(x[i])


@njit(**_NJ)
def randint_fill(hi, lo, mn, mx, oor, nbits, out):
    """JAX's randint on two draws of ``nbits`` random bits ``hi``, ``lo``
    (uint64 arrays holding the values), with bounds ``mn``, ``mx`` (int64
    or uint64 values already clipped to the dtype's range, size n or 1),
    ``oor`` whether maxval exceeded the dtype's maximum.  Writes the
    offsets minval + offset wrapped to ``nbits`` into ``out`` (uint64)."""
    mask = np.uint64(0xFFFFFFFFFFFFFFFF) if nbits == 64 else \
        (np.uint64(1) << np.uint64(nbits)) - np.uint64(1)
    half = np.uint64(1) << np.uint64(nbits // 2)
    n = out.size
    sn = mn.size > 1
    sx = mx.size > 1
    so = oor.size > 1
    one = np.uint64(1)
    zero = np.uint64(0)
    for i in range(n):
        a = mn[i if sn else 0]
        b = mx[i if sx else 0]
        ua = np.uint64(a) & mask
        ub = np.uint64(b) & mask
        span = (ub - ua) & mask
        if b <= a:
            span = one
        elif oor[i if so else 0]:
            span = (span + one) & mask
        if span == zero:       # XLA: x % 0 == x
            m = half & mask
            m = (m * m) & mask
            off = ((hi[i] * m) & mask) + lo[i]
            off = off & mask
        else:
            m = half % span
            m = ((m * m) & mask) % span
            off = (((hi[i] % span) * m) & mask) + (lo[i] % span)
            off = (off & mask) % span
        out[i] = (ua + off) & mask


@njit(**_NJ)
def gamma_fill(w0, w1, part, alpha, out):
    """JAX's gamma (Marsaglia-Tsang), element i with key (w0[i], w1[i]) and
    shape alpha[i]; float32 or float64 by out's dtype."""
    for i in range(out.size):
        out[i] = _gamma_one(w0[i], w1[i], part, alpha[i])


def _unit_scalar_typed(k0, k1, part, like):
    """uniform(key, (), like's dtype) before scaling (compiled code)."""
    if isinstance(like, np.float32):
        return unit_scalar32(k0, k1, part)
    return unit_scalar64(k0, k1, part)


@overload(_unit_scalar_typed, jit_options=_NJ)
def _ov_unit_scalar(k0, k1, part, like):
    if like == types.float32:
        return lambda k0, k1, part, like: unit_scalar32(k0, k1, part)
    return lambda k0, k1, part, like: unit_scalar64(k0, k1, part)


def consts(like):
    """Constants of the dtype of ``like`` (a float or a float array):
    (zero, one, half, third, nextafter(-1, 0), sqrt(2), tiny, 2**-nmant,
    0.0331) (compiled code)."""


def _consts_of(dt):
    dt = np.dtype(dt)
    f = dt.type
    info = np.finfo(dt)
    return (f(0.0), f(1.0), f(0.5), f(1.0 / 3.0), np.nextafter(f(-1.0), f(0.0)),
            f(np.sqrt(2)), f(info.tiny), f(2.0 ** -info.nmant), f(0.0331))


@overload(consts, jit_options=_NJ)
def _ov_consts(like):
    t = like.dtype if isinstance(like, types.Array) else like
    c = _consts_of(np.float32 if t == types.float32 else np.float64)
    return lambda like: c


@njit(**_NJ)
def _normal_scalar(k0, k1, part, like):
    """normal(key, (), like's dtype)."""
    _, one, _, _, lo, sqrt2, _, _, _ = consts(like)
    f = _unit_scalar_typed(k0, k1, part, like)
    v = fma(f, one - lo, lo)
    u = v if v > lo else lo
    return sqrt2 * erfinv(u)


@njit(**_NJ)
def _gamma_one(k0, k1, part, alpha):
    """JAX's _gamma_one for one key and one shape parameter."""
    zero, one, half, third, _, _, _, _, squeeze = consts(alpha)
    boost = alpha >= one
    a = alpha if boost else alpha + one
    d = a - third
    c = third * rsqrt(d)
    key0, key1, sub0, sub1 = split2(k0, k1, part)
    X = zero
    V = one
    U = one + one
    while (U >= fma(-squeeze, X * X, one)) and \
            (log(U) >= X * half + d * ((one - V) + log(V))):
        key0, key1, x0, x1, u0, u1 = split3(key0, key1, part)
        x = zero
        v = -one
        while v <= zero:
            x0, x1, s0, s1 = split2(x0, x1, part)
            x = _normal_scalar(s0, s1, part, alpha)
            v = fma(x, c, one)
        X = x * x
        V = (v * v) * v
        U = _unit_scalar_typed(u0, u1, part, alpha)
    samples = one - _unit_scalar_typed(sub0, sub1, part, alpha)
    bst = one if boost else samples ** (one / alpha)
    return (d * V) * bst


# --------------------------------------------------------------------------
# gamma's implicit reparameterization gradient (JAX's lax.random_gamma_grad)

@njit(**_NJ)
def digamma(x):
    """psi(x) for x > 0: the recurrence up to x >= 6, then the asymptotic
    series (absolute error below 1e-15)."""
    r = 0.0
    while x < 6.0:
        r -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))))
    return r + math.log(x) - 0.5 / x + t


_EPS64 = 2.220446049250313e-16
_LOG_MAX64 = 709.782712893384


@njit(**_NJ)
def _gamma_grad_series(a, x, enabled):
    """dx/da where P(a, x) is the series sum x**n / ((a+1)...(a+n)) times
    x**a e**-x / Gamma(a+1) (x <= 1 or x <= a), with the derivatives of its
    terms carried along."""
    r = a
    c = 1.0
    ans = 1.0
    dc_da = 0.0
    dans_da = 0.0
    while enabled:
        r += 1.0
        dc_da = dc_da * (x / r) - (c * x) / (r * r)
        dans_da += dc_da
        c *= x / r
        ans += c
        enabled = abs(dc_da / dans_da) > _EPS64
    return -(dans_da + ans * (math.log(x) - digamma(a + 1.0))) * x / a


@njit(**_NJ)
def _gamma_grad_fraction(a, x, enabled):
    """dx/da where Q(a, x) = 1 - P(a, x) is Cephes' continued fraction times
    x**a e**-x / Gamma(a) (x > 1 and x > a), with the derivatives of its
    convergents carried along (at most 2000 terms)."""
    y = 1.0 - a
    z = x + y + 1.0
    c = 0.0
    pkm2 = 1.0
    qkm2 = x
    pkm1 = x + 1.0
    qkm1 = z * x
    ans = pkm1 / qkm1
    dpkm2 = 0.0
    dqkm2 = 0.0
    dpkm1 = 0.0
    dqkm1 = -x
    dans_da = (dpkm1 - ans * dqkm1) / qkm1
    while enabled and c < 2000.0:
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c
        dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c
        if qk != 0.0:
            ans = pk / qk
            new = (dpk - ans * dqk) / qk
            enabled = abs(new - dans_da) > _EPS64
            dans_da = new
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        dpkm2, dpkm1, dqkm2, dqkm1 = dpkm1, dpk, dqkm1, dqk
        if abs(pk) > 1.0 / _EPS64:
            pkm2 *= _EPS64
            pkm1 *= _EPS64
            qkm2 *= _EPS64
            qkm1 *= _EPS64
            dpkm2 *= _EPS64
            dpkm1 *= _EPS64
            dqkm2 *= _EPS64
            dqkm1 *= _EPS64
    return (dans_da + ans * (math.log(x) - digamma(a))) * x


@njit(**_NJ)
def gamma_grad(a, x):
    """dx/da of a Gamma(a, 1) sample x by implicit reparameterization:
    -(dP/da) / (dP/dx) with P(a, x) the regularized lower incomplete gamma
    function, i.e. how x moves with a at a fixed quantile.  JAX's
    ``lax.random_gamma_grad`` (its series and continued fraction, their
    convergence tests, its special cases), in float64."""
    if a != a or x != x or x < 0.0 or a <= 0.0:
        return np.nan
    if x == 0.0:
        return 0.0
    # where x**a e**-x / Gamma(a) underflows, JAX returns the first term
    enabled = a * math.log(x) - x - math.lgamma(a) >= -_LOG_MAX64
    if x > 1.0 and x > a:
        return _gamma_grad_fraction(a, x, enabled)
    return _gamma_grad_series(a, x, enabled)


@njit(**_NJ)
def gamma_grad_fill(a, x, out):
    """out[i] = gamma_grad(a[i], x[i]) (a of size 1 or x's size; float64)."""
    sa = a.size > 1
    for i in range(x.size):
        out[i] = gamma_grad(a[i if sa else 0], x[i])


@njit(**_NJ)
def cholesky_lower(a, out):
    """The lower Cholesky factor of the symmetric positive definite ``a``
    (Cholesky-Banachiewicz, sums in index order); NaN where ``a`` is not
    positive definite, like LAPACK's result in JAX."""
    n = a.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 0.0
    for i in range(n):
        for j in range(i + 1):
            s = a[i, j]
            for k in range(j):
                s -= out[i, k] * out[j, k]
            if i == j:
                out[i, i] = math.sqrt(s) if s > 0 else np.nan
            else:
                out[i, j] = s / out[j, j]


@njit(**_NJ)
def affine_matvec(mean, factor, z, out):
    """out[b] = mean[b] + factor[b] @ z[b], sums in index order."""
    nb, n = out.shape
    for b in range(nb):
        for i in range(n):
            s = mean[b, i] - mean[b, i]
            for j in range(n):
                s += factor[b, i, j] * z[b, j]
            out[b, i] = mean[b, i] + s
