"""`tp.random.uniform` and `tp.random.normal` of one number inside a GPU
thread, JAX's numbers bit for bit (for per-example code on the CUDA backend:
`vmap(lambda key, ...: tp.random.normal(key) ...)` over a batch of keys).

A key is a raw uint32[2] key (from `PRNGKey`/`split`); shape `()` only (a
larger shape would allocate inside the kernel). The arithmetic is that of
`runtime.random_kernels`, whose kernels are plain `njit` functions: Numba
compiles them for the GPU when a kernel calls them (Threefry-2x32 in integer
arithmetic, the scaling and erfinv polynomials with fused multiply-adds),
and under the CUDA simulator they run compiled on the CPU, so the simulator
gives exactly `tp.random`'s bits. On a GPU, float64 `normal` calls CUDA's
`log` where XLA's CPU backend calls libm's (in erfinv, for |u| > 0.64):
those numbers may differ from JAX's CPU numbers in the last bit.

This module must not import anything from `transpile`.
"""
import numpy as np
from numba import cuda, njit

from . import random_kernels as K

_NJ = dict(cache=True, error_model="numpy")
_F32 = np.float32
_LO64 = np.nextafter(-1.0, 0.0)
_LO32 = np.nextafter(_F32(-1.0), _F32(0.0))
_SQRT2_64 = float(np.sqrt(2.0))
_SQRT2_32 = _F32(np.sqrt(2.0))

__all__ = ["uniform64", "uniform32", "normal64", "normal32"]


# ---- the samplers on key words (int64 holding 32-bit values) ----

@njit(**_NJ)
def _uniform64_words(k0, k1, minval, maxval):
    f = K.unit_scalar64(k0, k1, False)
    v = K.fma(f, maxval - minval, minval)
    return v if v > minval else minval


@njit(**_NJ)
def _uniform32_words(k0, k1, minval, maxval):
    f = K.unit_scalar32(k0, k1, False)
    v = K.fma(f, maxval - minval, minval)
    return v if v > minval else minval


@njit(**_NJ)
def _normal64_words(k0, k1):
    f = K.unit_scalar64(k0, k1, False)
    v = K.fma(f, 1.0 - _LO64, _LO64)
    u = v if v > _LO64 else _LO64
    return _SQRT2_64 * K.erfinv64(u)


@njit(**_NJ)
def _normal32_words(k0, k1):
    f = K.unit_scalar32(k0, k1, False)
    v = K.fma(f, _F32(1.0) - _LO32, _LO32)
    u = v if v > _LO32 else _LO32
    return _SQRT2_32 * K.erfinv32(u)


# ---- what generated device code calls: a key (a uint32[2] view) in ----

@cuda.jit(device=True)
def uniform64(key, minval, maxval):
    """`uniform(key, (), float64, minval, maxval)`."""
    return _uniform64_words(np.int64(key[0]), np.int64(key[1]), np.float64(minval),
                            np.float64(maxval))


@cuda.jit(device=True)
def uniform32(key, minval, maxval):
    """`uniform(key, (), float32, minval, maxval)`."""
    return np.float32(_uniform32_words(np.int64(key[0]), np.int64(key[1]), np.float32(minval),
                                       np.float32(maxval)))     # (CPU Numba boxes float32 as float)


@cuda.jit(device=True)
def normal64(key):
    """`normal(key, (), float64)`."""
    return _normal64_words(np.int64(key[0]), np.int64(key[1]))


@cuda.jit(device=True)
def normal32(key):
    """`normal(key, (), float32)`."""
    return np.float32(_normal32_words(np.int64(key[0]), np.int64(key[1])))
