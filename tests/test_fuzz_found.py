"""Programs the differential fuzzer (tools/fuzz.py) found wrong or crashing, reduced by
hand; each is checked against an oracle (finite differences, the other AD mode, plain
NumPy), never against a number written here."""
import numpy as np
import pytest

import transpile as tp
from runtime.checks import AliasError
from transpile.errors import TranspileWarning


def fd_grad(f, x, *rest, h=1e-6):
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e, *rest) - f(x - e, *rest)) / (2 * h)
    return g


def fancy_copy_written(x):
    t = x[[2, 0]]                   # advanced indexing: a copy, not a view of x
    t[-1] -= t.sum() * t.sum()
    return x.sum() + t.sum()


def index_param_written(x, idx):
    t = x[idx]                      # a copy when idx is an array, a view when it is an int
    t[-1] -= t.sum() * t.sum()
    return x.sum() + t.sum()


def mask_write_in_nested_while(x):
    t = 0.25 * np.ones(3)
    k = 0
    while k < 2:
        k += 1
        j = 0
        while j < 4:
            j += 1
            z = t.reshape(1, 3)
            z[0, -1] += t[::2].sum()
            t[x * np.ones(2) @ (x * np.ones((2, 3))) > 0.3] = 0.0
    return t.sum() * x


def _second(pair):
    a, b = pair
    return b


def unused_item_of_a_tuple_argument(x):
    t9 = x[2] * np.ones(2) * x[:2]
    t10 = x[:2, None] * x
    t9 = t9 * 2
    t13 = _second([t9, t10])
    return t13.sum() * x


X = np.array([-0.365, -0.793, -0.233])


def test_a_fancy_index_is_a_copy_under_grad_and_jit():
    np.testing.assert_allclose(tp.grad(fancy_copy_written)(X.copy()), fd_grad(fancy_copy_written, X), rtol=1e-6)
    assert tp.jit(fancy_copy_written)(X.copy()) == pytest.approx(fancy_copy_written(X.copy()), rel=1e-12)


def test_an_index_variable_holding_an_array_is_refused_not_written_back():
    with pytest.raises(AliasError, match="copy"):
        tp.grad(index_param_written)(X.copy(), np.array([2, 0]))


def test_an_index_variable_holding_an_int_is_a_view():
    A = np.stack([X, X + 1.0])
    np.testing.assert_allclose(tp.grad(index_param_written)(A, 1), fd_grad(index_param_written, A, 1), rtol=1e-6)
    np.testing.assert_allclose(tp.jit(tp.grad(index_param_written))(A, 1),
                               fd_grad(index_param_written, A, 1), rtol=1e-6)
    B = np.stack([A, A * 2.0, A - 1.0])
    np.testing.assert_allclose(tp.vmap(index_param_written, in_axes=(0, None))(B, 1),
                               [index_param_written(b.copy(), 1) for b in B], rtol=1e-12)


@pytest.mark.parametrize("x", [-0.743, 0.9])
def test_a_mask_index_temporary_survives_fusion(x):
    g = tp.grad(lambda v: mask_write_in_nested_while(v))
    h = 1e-6
    fd = (mask_write_in_nested_while(x + h) - mask_write_in_nested_while(x - h)) / (2 * h)
    assert g(x) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_jacrev_of_a_helper_ignoring_a_tuple_item_matches_jacfwd():
    rev = tp.jacrev(unused_item_of_a_tuple_argument)(X)
    np.testing.assert_allclose(rev, tp.jacfwd(unused_item_of_a_tuple_argument)(X), rtol=1e-10)
    cols = [(unused_item_of_a_tuple_argument(X + 1e-6 * e) - unused_item_of_a_tuple_argument(X - 1e-6 * e)) / 2e-6
            for e in np.eye(3)]
    np.testing.assert_allclose(rev, np.stack(cols, axis=-1), rtol=1e-6)


def _sq(x):
    return (x ** 2).sum()


def jit_calls_grad_and_writes_argument(b, x):
    g = tp.grad(_sq)(x)
    b -= g
    s = 1.0
    s += g.sum()
    b /= s
    return b.sum()


def jit_calls_grad_and_updates_a_dead_local(x):
    b = x * 2.0
    b += tp.grad(_sq)(x)
    return 1.0


def test_in_place_operators_write_the_callers_array_in_jit_calling_a_transformation():
    import warnings
    x = np.arange(3.0)
    b, b_ref = np.ones(3), np.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = tp.jit(jit_calls_grad_and_writes_argument)(b, x)
        assert tp.jit(jit_calls_grad_and_updates_a_dead_local)(x) == 1.0
    assert out == pytest.approx(jit_calls_grad_and_writes_argument(b_ref, x), rel=1e-12)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12)


def alias_rebound_then_updated(x):
    t = x * np.ones(3)
    if t.sum() > 0:
        t = t * 2.0
    w = t                   # t is bound twice: not a plain substitution
    w *= 0.25               # writes t's array too
    t[0] += 1.0             # and this w's
    return (t * w).sum() + t.sum()


def alias_of_a_parameter_updated(x):
    w = x
    w += 1.0                # x is an array: written; x a number: w alone is rebound
    return np.sum(w * x)


def alias_chain_written(x):
    y = x * 1.0
    w = y
    v = w
    v[1] = v[0] * 3.0
    z = y[1:]
    return (y * w).sum() + z.sum() + v.sum()


def alias_updated_in_a_loop(x):
    w = x
    for i in range(2):
        w *= 1.5
        x[0] = x[0] + w[1]
    return (x * w).sum()


def alias_made_in_one_branch(x, c):
    w = x
    if c > 0:
        w = x * 2.0
    w[0] = 5.0
    return (x * w).sum()


@pytest.mark.parametrize("f", [alias_rebound_then_updated, alias_of_a_parameter_updated, alias_chain_written,
                               alias_updated_in_a_loop])
def test_writes_through_a_plain_alias_reach_the_other_name(f):
    for x in ([X] if f in (alias_chain_written, alias_updated_in_a_loop) else [X, 0.7]):
        g = tp.grad(f)(np.copy(x) if isinstance(x, np.ndarray) else x)
        np.testing.assert_allclose(g, fd_grad(lambda v: f(np.copy(v) if np.ndim(v) else float(v)), x),
                                   rtol=1e-6, atol=1e-9)
    B = np.stack([X, 2.0 * X, X - 1.0])
    np.testing.assert_allclose(tp.vmap(f)(B.copy()), [f(b.copy()) for b in B], rtol=1e-12)
    np.testing.assert_allclose(tp.jacfwd(f)(X.copy()), tp.jacrev(f)(X.copy()), rtol=1e-10)


def test_an_alias_made_in_one_branch_only_is_refused_at_the_write():
    with pytest.raises(tp.TranspileError, match="shares its array") as e:
        tp.grad(alias_made_in_one_branch)(X.copy(), 1.0)
    assert e.value.lineno == alias_made_in_one_branch.__code__.co_firstlineno + 4


def _decay(p):
    for i in range(2):
        p -= p * 0.25                   # in place on an array (the caller's t), a rebinding on a number
        if np.sum(p) > 100.0:
            p = p + 1.0                 # from here on p is a new value
        else:
            p -= 0.5
    return p


def helper_updating_its_argument(x):
    t = x * 2.0
    u = _decay(t)
    return np.sum(t) + np.sum(u * u)


def test_an_in_place_operator_on_a_maybe_shared_number_is_a_rebinding():
    g = tp.grad(helper_updating_its_argument)(0.7)
    h = 1e-6
    fd = (helper_updating_its_argument(0.7 + h) - helper_updating_its_argument(0.7 - h)) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-6)
    xs = np.array([0.7, -0.2, 1.3])
    np.testing.assert_allclose(tp.vmap(helper_updating_its_argument)(xs),
                               [helper_updating_its_argument(v) for v in xs], rtol=1e-12)


def test_an_in_place_operator_on_a_maybe_shared_array_is_refused_when_it_runs():
    for run in (tp.grad(helper_updating_its_argument), tp.jit(tp.grad(helper_updating_its_argument))):
        with pytest.raises(tp.TranspileError, match="in-place operator") as e:
            run(X.copy())
        assert e.value.lineno == helper_updating_its_argument.__code__.co_firstlineno + 2   # the call
        assert "`p`" in str(e.value)


def list_with_pops(x):
    acc = []
    for i in range(3):
        acc.append(np.sin(x) * (i + 1.0))
    p = acc.pop()
    q = acc.pop(-1)
    acc.append(p * q)
    return np.sum((p * 2.0 + np.sum(acc) + np.sum(q)) ** 2)


def test_list_pop_is_differentiated_in_both_modes():
    x = np.array([0.3, -0.5])
    fd = fd_grad(list_with_pops, x)
    np.testing.assert_allclose(tp.grad(list_with_pops)(x), fd, rtol=1e-6)
    np.testing.assert_allclose(tp.jacfwd(list_with_pops)(x), fd, rtol=1e-6)
    H = tp.hessian(list_with_pops)(x)
    np.testing.assert_allclose(H, np.stack([fd_grad(lambda v: tp.grad(list_with_pops)(v)[k], x) for k in range(2)]),
                               rtol=1e-5)
    B = np.stack([x, 2.0 * x, x - 1.0])
    np.testing.assert_allclose(tp.vmap(tp.grad(list_with_pops))(B), [tp.grad(list_with_pops)(b) for b in B],
                               rtol=1e-12)


def einsum_transposition_written(x):
    a = np.outer(x, x + 1.0)[:, :, None] * np.ones(2)
    t = np.einsum('ijk->kij', a)            # a view of a in NumPy
    t[1, 0] = t[1, 0] * 5.0 * x[0]
    return (a * a).sum()


def einsum_diagonal_written(x):
    a = np.outer(x, x)
    d = np.einsum('ii->i', a)               # a view of a in NumPy
    d[0] = x[1]
    return (a * a).sum()


def test_an_einsum_transposition_is_a_view_under_grad_vmap_and_jit():
    np.testing.assert_allclose(tp.grad(einsum_transposition_written)(X), fd_grad(einsum_transposition_written, X),
                               rtol=1e-6)
    B = np.stack([X, 2.0 * X])
    np.testing.assert_allclose(tp.vmap(einsum_transposition_written)(B),
                               [einsum_transposition_written(b) for b in B], rtol=1e-12)
    assert tp.jit(einsum_transposition_written)(X) == pytest.approx(einsum_transposition_written(X), rel=1e-12)


def test_an_einsum_diagonal_written_is_refused_by_grad_and_reported_by_jit():
    with pytest.raises(tp.TranspileError, match="shares its array with `a`"):
        tp.grad(einsum_diagonal_written)(X)
    with pytest.warns(TranspileWarning, match="view of its operand in NumPy"):
        tp.jit(einsum_diagonal_written)(X.copy())



def _h1(p2):
    for i3 in range(3):
        if p2 > 0.0 and 1.5 + p2 < 1.0:
            return np.sqrt((1.2 * np.ones(2)) ** 2 + 0.5)
    return np.exp(np.tanh(0.3 * np.ones(2)))


def _h4(p5, p6):
    return _h1(np.prod(np.array([p6[0], p6.sum()])))


def _hm7(p8, q9):
    p8[0] -= np.cos(q9)
    p8 *= np.cos(p8)
    return q9


def jacfwd_of_a_helper_returning_an_unbatched_tuple(x):       # fuzz program 6000:732
    for i14 in range(2):
        if x[0] > x[1]:
            continue
        if not x[i14] > 0.2:
            t15 = x[1]
            x = x + 1.5 * t15
    t16 = _h4(x * np.ones((2, 3)), x[2] * np.ones(2))
    t17 = _hm7(t16, x[-1])
    t18 = _hp10([t17 * np.ones((2, 3)), t17])
    return t17 + 0.5 * t18.sum()


def _hp10(pair11):
    a12, b13 = pair11
    return np.where(a12 / (1.0 + a12 * a12) > 0.0, a12 / (1.0 + a12 * a12), 0.1 * (a12 / (1.0 + a12 * a12)))


def test_jacfwd_through_a_helper_whose_tangent_pair_is_shared_by_the_basis():
    x = np.array([-0.356, 1.138, -0.199])
    np.testing.assert_allclose(tp.jacfwd(jacfwd_of_a_helper_returning_an_unbatched_tuple)(x),
                               fd_grad(jacfwd_of_a_helper_returning_an_unbatched_tuple, x), rtol=1e-6, atol=1e-9)


def masked_write_2d(x, y):
    m = x > 0.3
    x[m] = y[m] * 2.0
    x[x < -0.5] = 0.0
    return (x * x).sum() + np.sin(y[y > 1.0]).sum()


def test_jit_grad_of_a_write_through_a_mask_of_two_axes():
    # fuzz program 9000:58: the adjoint indexed its cotangent with the user's 2-D mask, which
    # Numba's own indexing cannot take (an AssertionError inside Numba)
    x = np.array([[-0.006, 0.985, 0.237], [0.108, 1.144, -0.659]])
    y = x + 0.7
    wants = [fd_grad(lambda a, b: masked_write_2d(a.copy(), b.copy()), x, y),
             fd_grad(lambda b, a: masked_write_2d(a.copy(), b.copy()), y, x)]
    for argnums, want in enumerate(wants):
        for g in (tp.grad(masked_write_2d, argnums=argnums), tp.jit(tp.grad(masked_write_2d, argnums=argnums))):
            np.testing.assert_allclose(g(x.copy(), y.copy()), want, rtol=1e-6, atol=1e-8)


def two_results_of_one_array(x):
    a = x - 2.0                     # a's tangent was x's own (the constant has none)
    b = x - 3.0
    a[0] = 0.0                      # ... so this wrote x's and b's tangents too
    return a + b


def test_forward_mode_tangent_of_a_fresh_result_is_its_own_array():
    # fuzz program 8000:1413: jvp wrote the caller's tangent through such an alias
    x = np.array([0.5, -1.0, 2.0])
    t = np.ones(3)
    t0 = t.copy()
    _, tangent = tp.jvp(two_results_of_one_array, (x,), (t,))
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_allclose(tangent, [1.0, 2.0, 2.0])
    np.testing.assert_allclose(tp.jacfwd(two_results_of_one_array)(x), fd_grad_jac(two_results_of_one_array, x))


def fd_grad_jac(f, x, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, axis=-1)
