"""The corpus and the checker, in plain NumPy: runnable before any AD exists.

1. Every corpus function runs on its inputs and returns a finite float (or
   finite array, for VECTOR_CORPUS), and finite differences are reliable at
   those inputs on several seeds (no kink or branch switch nearby).
2. The checker agrees with gradients derived by hand, and fails (raises
   AssertionError, naming the function, argument, element and both values)
   on wrong ones: a checker that cannot fail is worthless.
"""
import functools
import inspect

import numpy as np
import pytest

from .corpus import CORPUS, TAGS, VECTOR_CORPUS
from .gradcheck import (FiniteDifferenceError, check_finite_differences, check_grads, check_hessian,
                        check_jacobian, check_jvp, check_value_and_grad, check_vjp,
                        check_vjp_jvp_identity, numerical_grad, numerical_jacobian)

SEEDS = (0, 1, 2)


def _ids(cases):
    return [c.name for c in cases]


# --- the corpus itself -----------------------------------------------------------------

def test_corpus_size_and_names():
    assert len(CORPUS) >= 70
    assert len(VECTOR_CORPUS) >= 15
    names = _ids(CORPUS + VECTOR_CORPUS)
    assert len(names) == len(set(names))


def test_every_tag_is_exercised():
    used = set().union(*(c.tags for c in CORPUS))
    assert set(TAGS) - used == set(), "tags no scalar case exercises"


def test_input_kind_tags_match_the_inputs():
    for case in CORPUS + VECTOR_CORPUS:
        args = case.args()
        diff = [args[i] for i in case.argnums_tuple]
        kinds = {"scalar_input": any(isinstance(a, float) for a in diff),
                 "vector": any(isinstance(a, np.ndarray) and a.ndim == 1 for a in diff),
                 "matrix": any(isinstance(a, np.ndarray) and a.ndim >= 2 for a in diff),
                 "multi_argnums": len(case.argnums_tuple) > 1,
                 "int_arg": any(isinstance(a, (int, np.integer)) for a in args)}
        for tag, present in kinds.items():
            assert present == (tag in case.tags), (case.name, tag)


@pytest.mark.parametrize("case", CORPUS + VECTOR_CORPUS, ids=_ids(CORPUS + VECTOR_CORPUS))
def test_source_is_readable(case):
    assert inspect.getsource(case.fn).strip()


@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_scalar_case_runs_in_numpy(case):
    for seed in SEEDS:
        args = case.args(seed)
        for i in case.argnums_tuple:
            a = args[i]
            assert type(a) is float or (isinstance(a, np.ndarray) and a.dtype == np.float64), (i, type(a))
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        out = case.fn(*args)
        assert isinstance(out, float) and not isinstance(out, np.ndarray), type(out)
        assert np.isfinite(out)
        for a, b in zip(args, copies):
            np.testing.assert_array_equal(a, b)  # the function leaves its inputs alone
        assert case.fn(*case.args(seed)) == out  # inputs are deterministic per seed


@pytest.mark.parametrize("case", VECTOR_CORPUS, ids=_ids(VECTOR_CORPUS))
def test_vector_case_runs_in_numpy(case):
    for seed in SEEDS:
        args = case.args(seed)
        assert case.argnums_tuple == tuple(range(len(args))), "vjp differentiates every argument"
        out = case.fn(*args)
        assert isinstance(out, np.ndarray) and out.ndim >= 1 and out.dtype == np.float64
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("case", CORPUS + VECTOR_CORPUS, ids=_ids(CORPUS + VECTOR_CORPUS))
def test_finite_differences_are_reliable_at_the_inputs(case):
    for seed in SEEDS:
        check_finite_differences(case.fn, case.args(seed), case.argnums, name=case.name)


# --- numerical derivatives against closed forms --------------------------------------------

def _sum_squares(x):
    return np.sum(x ** 2)


def test_numerical_grad_types_follow_inputs():
    g = numerical_grad(lambda x, y: x * np.sum(y ** 2), (1.5, np.arange(3.0)), (0, 1))
    assert type(g[0]) is float and g[0] == pytest.approx(5.0, rel=1e-9)
    assert g[1].shape == (3,) and g[1].dtype == np.float64
    np.testing.assert_allclose(g[1], 3.0 * np.arange(3.0), rtol=1e-8, atol=1e-9)


def test_numerical_jacobian_shape_is_out_by_in():
    A = np.arange(6.0).reshape(2, 3)
    J = numerical_jacobian(lambda A, x: A @ x, (A, np.ones(3)), 1)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, A, rtol=1e-8)
    J = numerical_jacobian(lambda A: A.T, (A,), 0)
    assert J.shape == (3, 2, 2, 3)


def test_numerical_grad_rejects_non_scalar_and_integer_inputs():
    with pytest.raises(TypeError, match="scalar"):
        numerical_grad(lambda x: x * 2.0, (np.ones(3),))
    with pytest.raises(TypeError, match="float64"):
        numerical_grad(_sum_squares, (np.ones(3, dtype=np.float32),))
    with pytest.raises(TypeError, match="differentiated"):
        numerical_grad(lambda n: n * 2.0, (3,))


# --- check_grads against hand-derived gradients --------------------------------------------

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logistic(w, X, y):
    return np.mean(np.log1p(np.exp(-y * (X @ w))))


def logistic_grad(w, X, y):
    return -X.T @ (y * _sigmoid(-y * (X @ w))) / X.shape[0]


def lsq(x, A, b):
    r = A @ x - b
    return r @ r


def lse(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def sin_exp(x):
    return np.sin(x) * np.exp(x)


def quad_form(x, A):
    return x @ A @ x


def trace_prod(A, B):
    return np.trace(A @ B)


def inv_sum(A):
    return np.sum(np.linalg.inv(A))


def slogdet_value(A):
    return np.linalg.slogdet(A)[1]


def two_norm(x):
    return np.linalg.norm(x)


RNG = np.random.default_rng(7)
X6 = RNG.standard_normal((6, 3))
Y6 = RNG.choice([-1.0, 1.0], 6)
W3 = RNG.standard_normal(3)
A3 = 2.5 * np.eye(3) + 0.4 * RNG.standard_normal((3, 3))
B3 = RNG.standard_normal((3, 3))
B6 = RNG.standard_normal(6)
V5 = RNG.standard_normal(5)


def _inv_t(A):
    return np.linalg.inv(A).T


# (name, f, args, argnums, hand-derived gradient function)
CLOSED_FORM = [
    ("sum_squares", _sum_squares, (V5,), 0, lambda x: 2.0 * x),
    ("logistic", logistic, (W3, X6, Y6), 0, logistic_grad),
    ("least_squares", lsq, (W3, X6, B6), 0, lambda x, A, b: 2.0 * A.T @ (A @ x - b)),
    ("least_squares_wrt_A", lsq, (W3, X6, B6), 1, lambda x, A, b: 2.0 * np.outer(A @ x - b, x)),
    ("logsumexp", lse, (V5,), 0, lambda x: np.exp(x - lse(x))),
    ("det", np.linalg.det, (A3,), 0, lambda A: np.linalg.det(A) * _inv_t(A)),
    ("sin_exp_scalar", sin_exp, (0.7,), 0, lambda x: float((np.cos(x) + np.sin(x)) * np.exp(x))),
    ("quad_form_both", quad_form, (W3, B3), (0, 1), lambda x, A: ((A + A.T) @ x, np.outer(x, x))),
    ("trace_prod", trace_prod, (A3, B3), 0, lambda A, B: B.T.copy()),
    ("inv_sum", inv_sum, (A3,), 0, lambda A: -_inv_t(A) @ np.ones((3, 3)) @ _inv_t(A)),
    ("slogdet", slogdet_value, (A3,), 0, _inv_t),
    ("norm", two_norm, (V5,), 0, lambda x: x / np.linalg.norm(x)),
]


@pytest.mark.parametrize("name, f, args, argnums, grad", CLOSED_FORM, ids=[c[0] for c in CLOSED_FORM])
def test_check_grads_accepts_closed_form(name, f, args, argnums, grad):
    out = check_grads(f, args, grad, argnums=argnums)
    assert out is not None


@pytest.mark.parametrize("name, f, args, argnums, grad", CLOSED_FORM, ids=[c[0] for c in CLOSED_FORM])
def test_check_grads_rejects_a_small_error(name, f, args, argnums, grad):
    """One element off by 1e-4 relative (10x rtol) must be caught."""
    def wrong(*a):
        g = grad(*a)
        if isinstance(g, tuple):
            return (_perturb(g[0]),) + tuple(g[1:])
        return _perturb(g)
    with pytest.raises(AssertionError, match="finite differences give") as info:
        check_grads(f, args, wrong, argnums=argnums, name=name)
    assert not isinstance(info.value, FiniteDifferenceError)


def _perturb(g):
    if isinstance(g, float):
        return g * (1.0 + 1e-4)
    g = g.copy()
    k = int(np.argmax(np.abs(g)))
    g.flat[k] *= 1.0 + 1e-4
    return g


def test_check_grads_passes_a_tiny_error():
    """Agreement well inside rtol passes: the check is not bitwise."""
    check_grads(_sum_squares, (V5,), lambda x: 2.0 * x * (1.0 + 1e-8))


def test_failure_message_names_function_argument_element_and_values():
    with pytest.raises(AssertionError) as info:
        check_grads(lsq, (W3, X6, B6), lambda x, A, b: 2.0 * A.T @ (A @ x + b), argnums=0)
    msg = str(info.value)
    assert "lsq" in msg and "argument 0 'x'" in msg and "worst at [" in msg
    assert "got " in msg and "finite differences give " in msg


def test_wrong_transpose_is_caught():
    with pytest.raises(AssertionError, match="argument 0 'a'"):
        check_grads(np.linalg.det, (A3,), lambda A: np.linalg.det(A) * np.linalg.inv(A))


def test_gradient_type_and_shape_are_checked():
    with pytest.raises(AssertionError, match="expected a float"):
        check_grads(sin_exp, (0.7,), lambda x: np.array((np.cos(x) + np.sin(x)) * np.exp(x)))
    with pytest.raises(AssertionError, match="expected an array"):
        check_grads(lambda x: np.sum(x), (np.ones(1),), lambda x: 1.0)
    with pytest.raises(AssertionError, match="shape"):
        check_grads(_sum_squares, (V5,), lambda x: 2.0 * x[:, None])
    with pytest.raises(AssertionError, match="dtype"):
        check_grads(_sum_squares, (V5,), lambda x: (2.0 * x).astype(np.float32))
    with pytest.raises(AssertionError, match="tuple of 2"):
        check_grads(quad_form, (W3, B3), lambda x, A: (A + A.T) @ x, argnums=(0, 1))


def test_nan_gradient_fails():
    with pytest.raises(AssertionError, match="nan"):
        check_grads(_sum_squares, (V5,), lambda x: np.where(x > 0, 2.0 * x, np.nan))


def test_zero_gradient_is_checked_with_an_absolute_tolerance():
    check_grads(lambda x: np.sum(np.floor(x)), (np.array([0.3, 1.6]),), lambda x: np.zeros(2))
    with pytest.raises(AssertionError):
        check_grads(lambda x: np.sum(np.floor(x)), (np.array([0.3, 1.6]),), lambda x: np.full(2, 1e-3))


def test_a_gradient_that_mutates_its_input_fails():
    def grad_in_place(x):
        x *= 2.0
        return x
    with pytest.raises(AssertionError, match="in place"):
        check_grads(_sum_squares, (V5.copy(),), grad_in_place)


def test_unreliable_finite_differences_are_reported_not_judged():
    x = np.array([1.0, 3e-7, -2.0])  # np.abs has its kink within one step of x[1]
    with pytest.raises(FiniteDifferenceError, match="Change the inputs"):
        check_grads(lambda x: np.sum(np.abs(x)), (x,), np.sign)
    with pytest.raises(FiniteDifferenceError):
        check_finite_differences(lambda x: np.sum(np.abs(x)), (x,))


def test_value_and_grad():
    vg = lambda x: (float(np.sum(x ** 2)), 2.0 * x)  # noqa: E731
    check_value_and_grad(_sum_squares, (V5,), vg)
    with pytest.raises(AssertionError, match="primal"):
        check_value_and_grad(_sum_squares, (V5,), lambda x: (1.0, 2.0 * x))


# --- jacobians, vjp, jvp, the identity, hessians ----------------------------------------------

def mat_tanh(A, x):
    return np.tanh(A @ x)


def mat_tanh_jac_x(A, x):
    return (1.0 - np.tanh(A @ x) ** 2)[:, None] * A


def _vjp_mat_tanh(A, x):
    s = 1.0 - np.tanh(A @ x) ** 2
    return mat_tanh(A, x), lambda u: (np.outer(u * s, x), A.T @ (u * s))


def _jvp_mat_tanh(primals, tangents):
    (A, x), (dA, dx) = primals, tangents
    return mat_tanh(A, x), (1.0 - np.tanh(A @ x) ** 2) * (dA @ x + A @ dx)


A43 = RNG.standard_normal((4, 3))


def test_check_jacobian():
    check_jacobian(mat_tanh, (A43, W3), mat_tanh_jac_x, argnums=1)
    with pytest.raises(AssertionError, match="finite differences give"):
        check_jacobian(mat_tanh, (A43, W3), lambda A, x: mat_tanh_jac_x(A, x) * 1.001, argnums=1)
    with pytest.raises(AssertionError, match="shape"):
        check_jacobian(mat_tanh, (A43, W3), lambda A, x: mat_tanh_jac_x(A, x).T, argnums=1)


def test_check_vjp():
    check_vjp(mat_tanh, _vjp_mat_tanh, (A43, W3))

    def transposed(A, x):   # J u in place of J^T u would not even have the right shape; swap roles
        out, pb = _vjp_mat_tanh(A, x)
        return out, lambda u: (pb(u)[0], pb(u)[1] * 1.01)
    with pytest.raises(AssertionError, match="argument 1 'x'"):
        check_vjp(mat_tanh, transposed, (A43, W3))
    with pytest.raises(AssertionError, match="tuple of 2"):
        check_vjp(mat_tanh, lambda A, x: (mat_tanh(A, x), lambda u: A.T @ u), (A43, W3))


def test_check_vjp_scalar_output_and_float_argument():
    f = lambda a, x: a * np.sum(np.sin(x))  # noqa: E731
    vjp = lambda a, x: (f(a, x), lambda u: (u * float(np.sum(np.sin(x))), u * a * np.cos(x)))  # noqa: E731
    check_vjp(f, vjp, (1.3, V5))


def test_check_jvp():
    check_jvp(mat_tanh, _jvp_mat_tanh, (A43, W3))
    with pytest.raises(AssertionError, match="random tangent"):
        check_jvp(mat_tanh, lambda p, t: (_jvp_mat_tanh(p, t)[0], -_jvp_mat_tanh(p, t)[1]), (A43, W3))
    with pytest.raises(AssertionError, match="primal"):
        check_jvp(mat_tanh, lambda p, t: (_jvp_mat_tanh(p, t)[0] + 1.0, _jvp_mat_tanh(p, t)[1]), (A43, W3))


def test_check_jvp_with_some_argnums():
    jvp_x = lambda p, t: (mat_tanh(*p), (1.0 - np.tanh(p[0] @ p[1]) ** 2) * (p[0] @ t[1]))  # noqa: E731
    check_jvp(mat_tanh, jvp_x, (A43, W3), argnums=1)


def test_vjp_jvp_identity():
    check_vjp_jvp_identity(_vjp_mat_tanh, _jvp_mat_tanh, (A43, W3), name="mat_tanh")

    def bad_vjp(A, x):
        out, pb = _vjp_mat_tanh(A, x)
        return out, lambda u: (pb(u)[0], pb(u)[1] + 1e-6)
    with pytest.raises(AssertionError, match="identity"):
        check_vjp_jvp_identity(bad_vjp, _jvp_mat_tanh, (A43, W3), name="mat_tanh")


def quartic(x):
    return np.sum(x ** 4) + x[0] * x[1]


def quartic_grad(x):
    g = 4.0 * x ** 3
    g[0] += x[1]
    g[1] += x[0]
    return g


def quartic_hessian(x):
    H = np.diag(12.0 * x ** 2)
    H[0, 1] += 1.0
    H[1, 0] += 1.0
    return H


def test_check_hessian():
    x = np.array([0.5, -1.2, 0.8])
    check_hessian(quartic, quartic_hessian, (x,), grad_fn=quartic_grad)
    check_hessian(quartic, quartic_hessian, (x,))
    with pytest.raises(AssertionError, match="finite differences give"):
        check_hessian(quartic, lambda x: quartic_hessian(x) * (1 + 1e-4), (x,), grad_fn=quartic_grad)
    with pytest.raises(AssertionError, match="finite differences give"):
        check_hessian(quartic, lambda x: np.diag(12.0 * x ** 2), (x,))


def test_check_hessian_scalar_input():
    check_hessian(sin_exp, lambda x: float(2.0 * np.cos(x) * np.exp(x)), (0.7,))
    with pytest.raises(AssertionError, match="expected a float"):
        check_hessian(sin_exp, lambda x: np.array([[2.0 * np.cos(x) * np.exp(x)]]), (0.7,))


def test_second_order_through_check_grads():
    """grad(grad(f)) of a scalar function is checked by check_grads on the first derivative."""
    d1 = functools.partial(lambda x: float((np.cos(x) + np.sin(x)) * np.exp(x)))
    check_grads(d1, (0.7,), lambda x: float(2.0 * np.cos(x) * np.exp(x)))
