"""User functions for the CUDA backend's tests (a module, so that transpile
can read their source)."""
import math

import numpy as np

import transpile as tp

ALPHA = 1.6732632423543772
SCALE = 1.0507009873554805


def selu(x):
    return SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1.0))


def branchy(x, y):
    """A scalar function with a loop and a branch (the benchmark's kind)."""
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
