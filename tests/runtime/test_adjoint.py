"""runtime.adjoint: the helpers of the derivative rules.  Their NumPy
versions do what their docstrings say, and each one, compiled under @njit
through runtime.numba_adjoint, returns what the NumPy version returns (same
values, float for scalars, same shapes and dtypes)."""
import numpy as np
import pytest
from numba import njit

import runtime.numba_adjoint  # noqa: F401  (registers the overloads)
import runtime.numba_impl  # noqa: F401
from runtime import adjoint as A

#: the options generated code compiles with
JIT = dict(error_model='numpy', boundscheck=True)

R = np.random.default_rng(0)
V = R.normal(size=4)
M = R.normal(size=(2, 3))
T = R.normal(size=(2, 3, 4))


# --- NumPy semantics -----------------------------------------------------------------

def test_zeros_like_is_a_float_for_scalars_and_0d_arrays():
    assert A.zeros_like(3) == 0.0 and type(A.zeros_like(3)) is float
    assert type(A.zeros_like(np.array(2.0))) is float
    z = A.zeros_like(np.arange(3))
    assert z.dtype == np.float64 and z.shape == (3,)
    assert A.zeros_like(np.ones(2, np.float32)).dtype == np.float32
    assert A.zeros_like((1.0, np.ones(2)))[1].shape == (2,)


def test_unbroadcast_sums_leading_and_size1_axes():
    g = np.ones((5, 3, 4))
    assert A.unbroadcast(g, np.ones((3, 1))).tolist() == [[20.0]] * 3
    assert A.unbroadcast(g, np.ones(4)).tolist() == [15.0] * 4
    assert A.unbroadcast(g, 2.0) == 60.0
    assert A.unbroadcast(2.0, np.ones(3)).tolist() == [2.0] * 3
    assert A.unbroadcast(M, M) is M          # nothing to sum: no copy


@pytest.mark.parametrize('axis,keepdims', [
    (None, False), (None, True), (0, False), (-1, True), ((0, 2), False),
    ((2, -3), True), ((), False)])
def test_unreduce_undoes_sum(axis, keepdims):
    g = np.sum(T, axis=axis, keepdims=keepdims)
    r = A.unreduce(g, T, axis, keepdims)
    assert r.shape == T.shape
    np.testing.assert_array_equal(
        r, np.broadcast_to(np.sum(T, axis=axis, keepdims=True), T.shape))


def test_reduction_helpers():
    assert A.reduced_size(T, (0, 2)) == 8.0 and A.reduced_size(T) == 24.0
    np.testing.assert_allclose(np.mean(A.demean(T, 1), axis=1), 0, atol=1e-15)
    x = np.array([[1.0, 3.0, 3.0], [np.nan, 0.0, 1.0]])
    np.testing.assert_array_equal(
        A.extremum_mask(x, np.max(x, axis=1), 1),
        [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_array_equal(
        A.prod_others(np.array([[2.0, 0.0], [3.0, 4.0]]), 0), [[3, 4], [2, 0]])
    np.testing.assert_array_equal(
        A.reverse_cumsum(np.ones((2, 3)), M, 1), [[3, 2, 1]] * 2)


def test_elementwise_helpers():
    np.testing.assert_array_equal(A.tie_weight(np.array([1.0, 2, 3]), 2.0),
                                  [0, 0.5, 1])
    assert A.tie_weight(1.0, None) == 1.0
    with np.errstate(all='raise'):
        np.testing.assert_array_equal(
            A.safe_log(np.array([-1.0, 0.0, 1.0])), [np.nan, 0.0, 0.0])


def test_add_at_accumulates_repeated_indices():
    t = A.add_at(np.zeros(4), np.array([1, 1, 3]), np.array([1.0, 2.0, 3.0]))
    assert t.tolist() == [0, 3, 0, 3]
    t = A.add_at(np.zeros((2, 3)), (slice(None), np.array([0, 0])),
                 np.ones((2, 2)))
    assert t.tolist() == [[2, 0, 0]] * 2
    assert A.add_at(0.0, (), 2.0) == 2.0


def test_einsum_plan_handles_diagonals_and_summed_labels():
    spec, others, extras = A.einsum_vjp_plan('ii->', (2,), 0)
    assert spec == ',ia->ia' and extras == (('eye', 1),)
    spec, others, extras = A.einsum_vjp_plan('ij,jk->ik', (2, 2), 1)
    assert spec == 'ik,ij->jk' and others == (0,) and not extras
    spec, _, extras = A.einsum_vjp_plan('ij->i', (2,), 0)
    assert spec == 'i,j->ij' and extras == (('ones', 1),)


def test_split_and_unstack():
    a, b = np.ones((2, 3)), np.ones((1, 3))
    parts = A.split_like(np.arange(9.0).reshape(3, 3), (a, b), 0)
    assert [p.shape for p in parts] == [(2, 3), (1, 3)]
    assert [p.shape for p in A.unstack_like(M, (V[:3], V[1:]), 0)] == [(3,)] * 2
    assert A.unstack_like(V[:2], (1.0, 2.0), 0) == (V[0], V[1])


# --- Numba = NumPy -------------------------------------------------------------------------

def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for x, y in zip(got, want):
            _same(x, y)
        return
    if np.ndim(want) == 0 and not isinstance(want, np.ndarray):
        assert isinstance(got, float), type(got)
    else:
        assert isinstance(got, np.ndarray), type(got)
        assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# (id, function calling helpers, arguments): one njit compile each.  Paths
# that tests/runtime/test_rules.py compiles through templates (same types:
# unbroadcast of a broadcast product, unreduce/extremum_mask/demean of
# sum/max/var, einsum_vjps, batched matmul, tie_weight) are not repeated.
CASES = [
    ('zeros_like', lambda x, s: (A.zeros_like(x), A.zeros_like(s)), (M, 1.5)),
    ('zeros_like_tuple', lambda x, s: A.zeros_like((x, s)), (V, 2.0)),
    ('unbroadcast_up', lambda g, x: A.unbroadcast(g, x), (V, np.ones((3, 4)))),
    ('unbroadcast_scalar', lambda g, x: (A.unbroadcast(g, x),
                                         A.unbroadcast(x, g)), (M, 2.0)),
    ('unreduce_none', lambda g, x: (A.unreduce(g, x, None, False),
                                    A.unreduce(g, g, None, False)), (2.0, M)),
    ('reshape_like', lambda g, x: (A.reshape_like(g, x, 'C'),
                                   A.reshape_like(g[0], 1.0, 'C')),
     (np.arange(6.0), M)),
    ('like_dtype', lambda g, x: (A.like_dtype(g, x, np.float64),
                                 A.like_dtype(g, x, np.int64)), (M, M)),
    ('reduced_size', lambda x: (A.reduced_size(x, None),
                                A.reduced_size(x, 1),
                                A.reduced_size(x, (0, -1))), (T,)),
    ('prod_others', lambda x: (A.prod_others(x, None), A.prod_others(x, 0),
                               A.prod_others(x, (1, 0))),
     (np.array([[2.0, 0.0, 1.5], [3.0, 4.0, 0.0]]),)),
    ('reverse_cumsum', lambda g, x: (A.reverse_cumsum(g, g, 1),
                                     A.reverse_cumsum(g.ravel(), g, None)),
     (M, M)),
    ('safe_log', lambda x: (A.safe_log(x), A.safe_log(x[1]), A.safe_log(0.0)),
     (np.array([-1.0, 0.0, 2.0]),)),
    ('untranspose', lambda g: (A.untranspose(g, (2, 0, -2)),
                               A.untranspose(g, None)), (T,)),
    ('split_like', lambda g, a, b: (A.split_like(g, (a, b), 1),
                                    A.split_like(g, (a, b), None)),
     (np.arange(10.0).reshape(2, 5), np.ones((2, 2)), np.ones((2, 3)))),
    ('unstack_like', lambda g, a, b: A.unstack_like(g, (a, b), -1),
     (M[:, :2].copy(), np.ones(2), np.ones(2))),
    ('add_at_basic', lambda t, g, h: (A.add_at(t, (slice(0, 2), 1), g),
                                      A.add_at(t[0], (slice(1, 3), None), h),
                                      A.add_at(t, (None, Ellipsis, 2), g[0])),
     (np.zeros((3, 4)), np.ones(2), np.ones((2, 1)))),
    ('add_at_ints', lambda t, i, g: A.add_at(t, i, g),
     (np.zeros((4, 2)), np.array([[1, -1], [1, 0]]), np.ones((2, 2, 2)))),
    ('add_at_mask', lambda t, m, g: A.add_at(t, m, g),
     (np.zeros((3, 2)), np.array([True, False, True]), np.ones((2, 2)))),
    ('add_at_pairs', lambda t, i, j, g: A.add_at(t, (i, j), g),
     (np.zeros((3, 2)), np.array([0, 0, 2]), np.array([1, 1, 0]),
      np.ones(3))),
    ('add_at_slice_ints', lambda t, i, g: A.add_at(t, (slice(None), i), g),
     (np.zeros((3, 4)), np.array([3, 0, 3]), np.ones((3, 3)))),
    ('einsum_vjp_diag', lambda g, a: A.einsum_vjp('ii->i', 0, g, (a,)),
     (V[:3].copy(), np.ones((3, 3)))),
    ('dot_2d', lambda g, a, b: (A.dot_grad_a(g, a, b), A.dot_grad_b(g, a, b)),
     (np.ones((2, 4)), M, R.normal(size=(3, 4)))),
    ('dot_1d_2d', lambda g, a, b: (A.dot_grad_a(g, a, b),
                                   A.dot_grad_b(g, a, b)),
     (np.ones(4), M[0].copy(), R.normal(size=(3, 4)))),
    ('dot_scalar', lambda g, a, b: (A.dot_grad_a(g, a, b),
                                    A.dot_grad_b(g, a, b)), (V, 2.0, V)),
    ('trace_grad', lambda g, a: (A.trace_grad(g, a, 1, 0, 1),
                                 A.trace_grad(g, a, 0, 1, 0)),
     (2.0, np.ones((3, 4)))),
    ('matrix_transpose', lambda a: (A.matrix_transpose(a),
                                    A.matrix_transpose(a[0])), (T,)),
    ('matrix_dims', lambda v, s: (A.expand_matrix_dims(v),
                                  A.expand_matrix_dims(s), A.as_columns(v),
                                  A.as_columns(M)), (V, 2.0)),
    ('norm_vector', lambda x, n1, n2: (A.norm_grad(x, n2, None, None, False),
                                       A.norm_grad(x, n1, 1, None, False)),
     (V, np.linalg.norm(V, 1), np.linalg.norm(V))),
    ('norm_axis', lambda x, n: A.norm_grad(x, n, None, 1, True),
     (T, np.linalg.norm(T, axis=1, keepdims=True))),
    ('norm_inf', lambda x, n, m, nm: (A.norm_grad(x, n, np.inf, None, False),
                                      A.norm_grad(m, nm, -np.inf, None,
                                                  False)),
     (V, np.linalg.norm(V, np.inf), M, np.linalg.norm(M, -np.inf))),
    ('norm_matrix', lambda x, n2, nn: (A.norm_grad(x, n2, 2, None, False),
                                       A.norm_grad(x, nn, 'nuc', None, False)),
     (M, np.linalg.norm(M, 2), np.linalg.norm(M, 'nuc'))),
]


#: compiled only with `-m slow` (setup.cfg skips slow tests by default)
SLOW = {'zeros_like_tuple', 'like_dtype', 'add_at_basic', 'add_at_pairs',
        'add_at_slice_ints', 'einsum_vjp_diag', 'dot_1d_2d', 'dot_scalar',
        'norm_axis', 'norm_inf', 'norm_matrix'}


@pytest.mark.parametrize('fn,args', [
    pytest.param(*c[1:], id=c[0],
                 marks=[pytest.mark.slow] if c[0] in SLOW else [])
    for c in CASES])
def test_numba_matches_numpy(fn, args):
    want = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    got = njit(**JIT)(fn)(*args)
    _same(got, want)


#: helpers compiled through the templates of tests/runtime/test_rules.py
#: (test_template_compiles_under_numba) rather than in CASES
VIA_TEMPLATES = {
    'unbroadcast': np.multiply, 'unreduce': np.sum, 'demean': np.var,
    'extremum_mask': np.max, 'einsum_vjps': np.einsum,
    'matmul_grad_a': np.matmul, 'matmul_grad_b': np.matmul,
    'tie_weight': np.maximum, 'einsum_vjp': np.einsum,
}


def test_every_helper_is_compiled():
    import inspect

    from runtime.rules import lookup
    with open(__file__) as f:
        src = f.read()
    src = src[src.index('CASES = ['):src.index('def test_numba_matches_numpy')]
    for name, fn in VIA_TEMPLATES.items():
        assert name in inspect.getsource(lookup(fn)), name
    missing = [n for n in A.__all__
               if 'A.%s(' % n not in src and n not in VIA_TEMPLATES]
    assert not missing, missing
