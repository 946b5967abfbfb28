"""Everyday NumPy and Python patterns under grad and jacfwd, against central finite
differences: each either agrees or is refused with a TranspileError at the user's line
(never a number without that certainty, never another exception). Kept as a battery:
new rules turn refusals into agreements, and the oracle stays the same."""
import math

import numpy as np
import pytest

import transpile as tp

def b_sum(x): return sum(x) * 2.0
def b_sum_list(x): return sum([x[0] * x[1], x[2]])
def b_max(x): return max(x[0], x[1] * 2.0) + min(x[1], x[2])
def b_abs(x): return abs(x[0] - 2.0) + abs(x).sum()
def b_math(x): return math.sin(x[0]) + math.exp(x[1]) * math.sqrt(x[2] ** 2 + 1.0)
def b_float(x): return float(x[0]) * x[1]
def b_item(x): return x[0].item() * x[1] + x.sum()
def b_npfloat(x): return np.float64(x[0]) * x[1]
def b_rev(x):
    y = x[::-1].copy()
    y[::2] *= 3.0
    return (y * x).sum()
def b_cumsum(x): return np.cumsum(x * x)[-1] + np.diff(x ** 3).sum()
def b_sort(x): return (np.sort(x) * np.arange(3.0)).sum()
def b_argsort(x): return x[np.argsort(x)][0] * 2.0 + x[np.argmax(x)]
def b_where1(x): return x[np.where(x > 0)].sum() + x[np.nonzero(x)].sum()
def b_norm(x): return np.linalg.norm(x) + np.linalg.norm(np.outer(x, x))
def b_einsum(x): return np.einsum("i,i->", x, x) + np.einsum("ij->", np.outer(x, x))
def b_clip(x): return np.clip(x, -0.5, 0.5).sum() + np.maximum(x, 0.1).sum()
def b_tuple_unpack(x):
    a, b, c = x
    return a * b + c
def b_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * i
    return s
def b_zip(x):
    s = 0.0
    for a, b in zip(x, x[::-1]):
        s = s + a * b
    return s
def b_listcomp(x):
    return sum([v * v for v in x])
def b_genexp(x):
    return sum(v * 2.0 for v in x)
def b_global(x):
    return (x * SCALE).sum()
SCALE = 3.0
def b_closure(x):
    k = 2.0
    def g(y):
        return y * k
    return g(x).sum()
def b_lambda(x):
    sq = lambda v: v * v
    return sq(x).sum()
def b_dot(x):
    return x.dot(x) + x @ x + np.dot(x, 2.0 * x) + np.inner(x, x) + np.vdot(x, x)
def b_prod(x):
    return np.prod(x) + np.prod(x[:2]) * x[2]
def b_mean_axis(x):
    X = np.outer(x, x)
    return X.mean(axis=0).sum() + X.std() + X.var(axis=1).sum()
def b_minmax(x):
    X = np.outer(x, x + 1.0)
    return X.max() + X.min(axis=0).sum() + np.amax(X, axis=1).sum()
def b_logsumexp(x):
    m = x.max()
    return m + np.log(np.exp(x - m).sum())
def b_stack(x):
    return np.concatenate([x, x * 2.0]).sum() + np.vstack([x, x]).sum() + np.hstack([x, x[:1]]).sum()
def b_tile(x):
    return (np.tile(x, 2) * np.arange(6.0)).sum() + (np.repeat(x, 2) * np.arange(6.0)).sum()
def b_tri(x):
    X = np.outer(x, x + 1.0)
    return np.triu(X).sum() + np.tril(X, -1).sum() + np.trace(X) + np.diag(X).sum()
def b_solve(x):
    A = np.eye(3) * 3.0 + np.outer(x, x)
    return np.linalg.solve(A, x).sum() + np.linalg.det(A) + np.linalg.inv(A).sum()
def b_round(x):
    return round(x[0] * 10.0) * x[1] + np.round(x * 10.0).sum() * x[2]
def b_sign(x):
    return (np.sign(x) * x).sum() + np.floor(x).sum() + np.ceil(x * 3).sum() * x[0]
def b_expm1(x):
    return np.expm1(x).sum() + np.log1p(x * x).sum() + np.hypot(x, 1.0).sum() + np.arctan2(x, 2.0).sum()
def b_reshape_ops(x):
    X = np.outer(x, x).reshape(9)
    return (X[::-2] * 2.0).sum() + X.reshape(3, 3).T[0].sum() + np.ravel(X)[3]
def b_boolmask(x):
    m = x > 0
    return x[m].sum() + x[~m].sum() * 2.0 + np.where(m, x, x * x).sum()
def b_any_all(x):
    return x.sum() if np.any(x > 1.0) or np.all(x < 0.0) else (x * 2.0).sum()
def b_ifexp(x):
    return (x * 2.0 if x.sum() > 0 else x * 3.0).sum()
def b_nested_list(x):
    L = [[x[0], x[1]], [x[2], x[0] * x[1]]]
    return np.array(L).sum() + np.array(L)[1, 1]
def b_list_index(x):
    L = [x * 1.0, x * 2.0]
    L[0] = L[1] * x
    return L[0].sum() + L[1].sum()
def b_list_setitem_elem(x):
    L = [x[0], x[1], x[2]]
    L[1] = L[1] * L[2]
    return L[0] + L[1] + L[2]


PATTERNS = [v for k, v in list(globals().items()) if k.startswith("b_")]
X = np.array([0.3, -0.7, 1.1])


def fd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("transform", [tp.grad, tp.jacfwd], ids=["grad", "jacfwd"])
@pytest.mark.parametrize("f", PATTERNS, ids=[f.__name__ for f in PATTERNS])
def test_pattern_agrees_with_finite_differences_or_is_refused(f, transform):
    ref = fd(f, X.copy())
    try:
        got = np.asarray(transform(f)(X.copy()), dtype=float)
    except tp.TranspileError as e:
        assert e.lineno is not None and e.filename.endswith("test_everyday_patterns.py"), str(e)
        return
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


# ---- 2-D arrays: in-place writes, views, loops (grad, jacrev, vmap) ----------------
def m_rows_loop(X):
    out = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = X[i] @ X[i]
    return out.sum()
def m_row_view_write(X):
    Y = X * 1.0
    r = Y[1]
    r *= 2.0
    return (Y * X).sum()
def m_col_write(X):
    Y = X.copy()
    Y[:, 0] = Y[:, 1] * Y[:, 2]
    return (Y ** 2).sum()
def m_for_rows(X):
    s = 0.0
    for row in X:
        s = s + (row * row).sum()
    return s
def m_for_rows_write(X):
    Y = X.copy()
    for row in Y:
        row *= 2.0
    return (Y * X).sum()
def m_swap_rows(X):
    Y = X.copy()
    Y[0], Y[1] = Y[1].copy(), Y[0].copy()
    return (Y * np.arange(6.0).reshape(2, 3)).sum()
def m_swap_rows_views(X):
    Y = X.copy()
    Y[[0, 1]] = Y[[1, 0]]
    return (Y * np.arange(6.0).reshape(2, 3)).sum()
def m_cumulative(X):
    Y = X.copy()
    for j in range(1, Y.shape[1]):
        Y[:, j] += Y[:, j - 1]
    return (Y * Y).sum()
def m_while_norm(X):
    Y = X.copy()
    k = 0
    while np.abs(Y).sum() > 1.0 and k < 10:
        Y = Y * 0.5
        k += 1
    return Y.sum() + k
def m_break(X):
    s = 0.0
    for i in range(6):
        v = X.ravel()[i]
        if v > 0.9:
            break
        s = s + v * v
    return s
def m_continue(X):
    s = 0.0
    for v in X.ravel():
        if v < 0:
            continue
        s = s + v ** 3
    return s
def m_early_return(X):
    if X[0, 0] > 5:
        return X.sum()
    Y = X * 2.0
    Y[0] += 1.0
    return (Y * Y).sum()
def m_transpose_write(X):
    Y = X.copy()
    T = Y.T
    T[0] = T[1] * 3.0
    return (Y * X).sum()
def m_reshape_write(X):
    Y = X.copy()
    R = Y.reshape(6)
    R[::2] = R[1::2] ** 2
    return (Y * X).sum()
def m_fill_helper(X):
    Y = np.zeros_like(X)
    _fill(Y, X)
    return (Y * X).sum()
def _fill(out, X):
    out[:] = np.sin(X)
def m_return_tuple_helper(X):
    a, b = _pair(X)
    return (a * b).sum()
def _pair(X):
    return X * 2.0, X.sum(axis=0)
def m_mask_set(X):
    Y = X.copy()
    Y[Y < 0] = 0.0
    return (Y * X).sum()
def m_mask_scale(X):
    Y = X.copy()
    Y[Y > 0.45] *= 3.0
    return (Y ** 2).sum()
def m_fancy_add(X):
    Y = X.copy()
    Y[:, [0, 0, 2]] += X[:, [1, 2, 0]]
    return (Y ** 2).sum()
def m_outer_update(X):
    W = np.eye(3)
    for i in range(X.shape[0]):
        W = W + np.outer(X[i], X[i])
    return np.trace(W @ W)
def m_list_of_arrays(X):
    parts = []
    for i in range(X.shape[0]):
        parts.append(X[i] * (i + 1.0))
    return np.stack(parts).sum() + parts[0][1] * parts[1][2]
def m_dict_local(X):
    d = {"a": X * 2.0}
    return d["a"].sum()
def m_aug_slice_self(X):
    Y = X.copy()
    Y[:, 1:] -= Y[:, :-1]
    return (Y * Y).sum()
def m_matrix_power(X):
    A = X[:, :2]
    B = A @ A.T
    return (B @ B).sum()
def m_nested_loops_scalar(X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > 0:
                s = s + X[i, j] * s + 1.0
            else:
                s = s - X[i, j]
    return s
def m_global_array(X):
    return (X * W_GLOBAL).sum()
W_GLOBAL = np.arange(6.0).reshape(2, 3)
def m_int_index_var(X):
    i = 1
    j = i + 1
    return X[i, j] * X[0, i] + X[i - 1, j - 1]
def m_negative_step_write(X):
    Y = X.copy()
    Y[:, ::-1] = Y * 2.0
    return (Y * X).sum()


MATRIX_PATTERNS = [v for k, v in list(globals().items()) if k.startswith("m_")]
X0 = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
BATCH = np.stack([X0, X0 * 1.5 - 0.2, -X0])


def fd_nd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f((x + e).copy()) - f((x - e).copy())) / (2 * h)
    return g


def _refused_here(e):
    assert e.lineno is not None and e.filename.endswith("test_everyday_patterns.py"), str(e)


@pytest.mark.parametrize("transform", [tp.grad, tp.jacrev], ids=["grad", "jacrev"])
@pytest.mark.parametrize("f", MATRIX_PATTERNS, ids=[f.__name__ for f in MATRIX_PATTERNS])
def test_matrix_pattern_agrees_with_finite_differences_or_is_refused(f, transform):
    x = X0.copy()
    try:
        got = np.asarray(transform(f)(x), dtype=float)
    except tp.TranspileError as e:
        _refused_here(e)
        return
    np.testing.assert_allclose(got, fd_nd(f, X0), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(x, X0)        # the caller's array is left as it was


@pytest.mark.parametrize("f", MATRIX_PATTERNS, ids=[f.__name__ for f in MATRIX_PATTERNS])
def test_matrix_pattern_vmap_agrees_with_the_loop_or_is_refused(f):
    b = BATCH.copy()
    try:
        got = tp.vmap(f)(b)
    except tp.TranspileError as e:
        _refused_here(e)
        return
    np.testing.assert_allclose(got, [f(e.copy()) for e in BATCH], rtol=1e-10)
