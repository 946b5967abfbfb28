"""User functions for the CUDA backend's tests and tools/bench_cuda.py (a
module, so that transpile can read their source)."""
import math

import numpy as np

import transpile as tp

ALPHA = 1.6732632423543772
SCALE = 1.0507009873554805


def selu(x):
    return SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1.0))


def branchy(x, y):
    """A 20-line scalar function with a loop and a branch (tools/bench_cuda.py
    times its vmap(grad) over 1e7 inputs)."""
    acc = 0.0
    z = x
    for i in range(6):
        if z * y > 0.5:
            z = z - 0.1 * np.sin(z * y)
            acc = acc + z * z
        else:
            z = z + 0.2 * np.tanh(y - z)
            acc = acc - np.log1p(z * z) / (i + 1)
        if acc > 10.0:
            acc = 10.0 + np.sqrt(acc - 10.0)
    w = np.maximum(acc, -5.0)
    return w * x + np.exp(-y * y) * z


def newton_sqrt(a):
    """sqrt(a) by Newton's iteration: a per-example `while`."""
    x = a if a > 1.0 else 1.0
    steps = 0
    while abs(x * x - a) > 1e-12 * a and steps < 100:
        x = 0.5 * (x + a / x)
        steps += 1
    return x


def inner(a, b):
    return a * np.sin(b) + b * b


def jvp_inner(x, y):
    return tp.jvp(inner, (x, y), (1.0, 0.5))


def draw(key, mu):
    u = tp.random.uniform(key, minval=-1.0, maxval=2.0)
    z = tp.random.normal(key)
    return mu + z * u, u, z


def draw32(key):
    return tp.random.uniform(key, dtype=np.float32), tp.random.normal(key, dtype=np.float32)


def rowdot(w, x):
    s = 0.0
    for j in range(w.shape[0]):
        s += w[j] * x[j]
    return s * SCALE, math.cos(s)


def rowdot_loss(w, x):
    return rowdot(w, x)[0]


def local_buffer(x):
    buf = np.zeros(3)
    buf[0] = x
    buf[1] = x * x
    for k in range(2):
        buf[2] += buf[k]
    return buf[2]


def dynamic_zeros(x, n):
    b = np.zeros(n)
    return x + b[0]


def matvec(w, x):
    return (w @ x)[0]


def print_array(w):
    print(w)
    return w[0]


def array_expression(w):
    return (w * 2.0)[0]


def mean_of(x):
    return x - x.mean()


def ufuncs(x, y):
    """Every NumPy function the lowering maps, on numbers."""
    a = np.floor(x) + np.ceil(y) + np.trunc(x * y) + np.rint(x) + np.sign(y)
    b = np.clip(x, -0.5, 0.5) + np.heaviside(y, 0.5) + np.logaddexp(x, y) + np.fmax(x, y)
    c = np.fmin(x, y) + np.minimum(x, y) + np.maximum(x, y) + np.square(y) + np.reciprocal(y)
    d = np.exp2(x) + np.power(np.abs(y), 1.5) + np.arctan2(x, y) + np.hypot(x, y)
    e = np.expm1(x) + np.log1p(np.abs(y)) + np.log2(np.abs(x) + 1) + np.log10(np.abs(y) + 1)
    f = np.cos(x) + np.tan(y) + np.arcsin(x / 4) + np.arccos(y / 4) + np.arctan(x) + np.sinh(y)
    g = np.cosh(x) + np.arcsinh(y) + np.arccosh(np.abs(x) + 1) + np.arctanh(y / 4) + np.fabs(x)
    h = np.copysign(x, y) + np.degrees(x) + np.radians(y) + np.where(np.isfinite(x), 1.0, 0.0)
    k = np.add(x, y) * np.subtract(x, y) / np.true_divide(2.0, y) + np.negative(x) + np.mod(x, 1.5)
    m = np.floor_divide(x, 0.7) + np.greater(x, y) + np.logical_and(x > 0, y > 0) + np.logical_not(x > 0)
    return a + b + c + d + e + f + g + h + k + m
