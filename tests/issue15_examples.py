"""The examples of the issue "never a silent wrong answer", one per class of bug.

Each is checked against an oracle in tests/test_issue15_regressions.py (finite
differences, the per-example loop, plain NumPy). They live in a real file
because transpile reads source.
"""
import numpy as np


# 1. rebinding a variable with an expression of itself
def rebind(x):
    x = x * 2.0 + 1.0
    return x * x


def rebind_mean(x):
    x = (x - x.mean()) / 2
    return np.sum(x * x * x)


def _rebinds_own_parameter(x):
    x = x * 3.0
    return x * x


def rebind_in_helper(x):
    return _rebinds_own_parameter(x) + x


def rebind_in_branch(x):
    y = x * 2.0
    if y > 0:
        x = y * 3.0
    else:
        x = y - 1.0
    return x * x + y


# 2. containers
def list_append_array(x):
    out = []
    for i in range(3):
        out.append(x * i)
    return np.sum(np.array(out))


def list_append_stack(x):
    out = []
    for i in range(3):
        out.append(x * (i + 1.0))
    return np.stack(out).sum()


def scan(x):
    c = x
    hs = []
    for i in range(4):
        c = np.tanh(c * 0.5 + 1.0)
        hs.append(c)
    return np.sum(np.stack(hs) ** 2)


def sum_of_list_display(a):
    return np.sum([1, a * a, 2])


def _product_of_pair(t):
    return t[0] * t[1]


def tuple_to_helper(a):
    return _product_of_pair((a, a * 2.0))


def list_to_helper(a):
    return _product_of_pair([a * 3.0, a])


def _product_of_dict(d):
    return d["u"] * d["v"]


def dict_to_helper(a):
    return _product_of_dict({"u": a, "v": a * 2.0})


def sum_of_two_items(x):
    return np.sum([x[0], x[1]])


def list_item_update(a):
    L = [a, a * 2.0]
    L[0] = L[0] * 3.0
    return L[0] * L[1]


# 3. aliases and views
def alias_write(x):
    y = x * 1.0
    w = y
    w[0] = w[0] * 3.0
    return (y * y).sum()


def view_inplace(x):
    y = x * 1.0
    z = y[1:]
    z *= 2
    return (y * y).sum()


def reshape_write(x):
    y = x * 1.0
    y.reshape(2, 2)[0, 0] = 5.0 * x[1]
    return (y * y).sum()


def transpose_write(x):
    y = x * 1.0
    y.T[0] = 0.0
    return (y * y).sum()


def _fill(y, x):
    y[:] = x ** 2


def helper_fills(x):
    y = np.zeros(3)
    _fill(y, x)
    return y.sum() + y[0] * x[1]


def overlapping_update(y):
    y = y * 1.0
    y[1:] -= y[:-1]
    return y


def stale_view(x):
    y = x * 1.0
    z = y[1:]
    y[1] = 7.0 * x[0]
    return (z * z).sum() + y.sum()


# 4. indexed updates
def repeated_index_update(x):
    y = np.zeros(3)
    idx = np.array([0, 0, 1])
    y[idx] += x
    return (y * y).sum()


def at_add(x):
    idx = np.array([0, 2])
    return (np.zeros(3).at[idx].add(x) ** 2).sum()


def at_add_numpy(x):
    """`at_add` in plain NumPy (the oracle: `.at` is JAX's, not NumPy's)."""
    y = np.zeros(3)
    np.add.at(y, np.array([0, 2]), x)
    return (y ** 2).sum()


def ufunc_at(x):
    y = np.zeros(3)
    np.add.at(y, np.array([0, 0, 1]), x)
    return (y * y).sum()


def tuple_swap(y):
    y = y * 1.0
    y[0], y[1] = y[1] * 2.0, y[0]
    return y


# 8. crashes
def while_and_break(x):
    t = 0.0
    k = 0
    while t < 2.0 and k < 6:
        t = t + x * 0.7
        if t > 1.5:
            break
        k = k + 1
    return t * t


def nested_def(x):
    def g(y):
        return y * y + x
    return g(x * 2.0)


def vector_output(x):
    return x * 2.0
