import numpy as np

import transpile as tp


def early_return(x):
    if x < 3.0:
        return 3.0 * x ** 2
    y = -4.0 * x
    return y


def skip_negatives(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0.0:
            continue
        s += np.sin(x[i])
    return s


def nested_expr(x, w):
    z = np.sum(np.tanh(x @ w) * 2.0) + 1.0
    x *= 2.0
    return z


def halving(x):
    while x > 1.0:
        x = x / 2.0
    return x


def simple(x, w):
    z = x * w
    return np.sum(np.sin(z))


def rec_power(x, n):
    if n <= 0:
        return 1.0
    return x * rec_power(x, n - 1)


def vector_out(x):
    return np.sin(x)


def no_rule(x):
    return np.fft.fft(x).real.sum()


def with_stop(x):
    return np.sum(x * x) + np.sum(np.exp(x) * tp.stop_gradient(x))


def writes_input(x):
    x[0] = 5.0 * x[1]
    return np.sum(x ** 2)


def with_aux(x):
    y = np.sum(x ** 2)
    return y, y * 2.0


def recurrence(x):
    y = np.zeros(x.shape[0])
    for i in range(1, x.shape[0]):
        y[i] = 0.9 * y[i - 1] + np.sin(x[i]) * x[i - 1]
    return np.sum(y * y)


def mixed_saves(x):
    y = x.copy()
    y[1:3] = y[1:3] * x[:2]
    y[0] = y[0] * 3.0
    for i in range(2):
        y[i] = y[i] * x[i + 1]
        y[2:] = y[2:] * 0.5
    return np.sum(y ** 2)


def growing_slices(x):
    s = 0.0
    for k in range(1, x.shape[0] + 1):
        t = x[:k] * x[0]
        s = s + np.sum(np.sin(t))
    return s


def unpacks(theta, m):
    a, b = theta
    r, c = m.shape
    return a * b * r + np.sum(m) * c
