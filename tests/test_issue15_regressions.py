"""Regression tests for the issue "never a silent wrong answer": every example it
lists, checked against an oracle (central finite differences, the per-example
Python loop, plain NumPy), never against a hand-computed number alone."""
import numpy as np
import pytest

import transpile as tp
from tests import issue15_examples as ex
from transpile.errors import TranspileError

RNG = np.random.default_rng(15)


def fd_grad(f, x, h=1e-6):
    """Central differences of a scalar function (x a number or an array)."""
    if np.ndim(x) == 0:
        return (f(x + h) - f(x - h)) / (2 * h)
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_jac(f, x, h=1e-6):
    x = np.asarray(x, float)
    cols = []
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


def plain(f):
    """f on copies of its arguments (it may write them)."""
    f = _NUMPY_TWINS.get(f, f)
    return lambda *a: f(*[np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in a])


_NUMPY_TWINS = {ex.at_add: ex.at_add_numpy}

SCALAR_CASES = [
    (ex.rebind, lambda: 1.5),
    (ex.rebind_mean, lambda: RNG.normal(size=4)),
    (ex.rebind_in_helper, lambda: 1.5),
    (ex.rebind_in_branch, lambda: 0.7),
    (ex.rebind_in_branch, lambda: -0.7),
    (ex.list_append_array, lambda: 1.3),
    (ex.list_append_stack, lambda: RNG.normal(size=2)),
    (ex.scan, lambda: RNG.normal(size=3)),
    (ex.sum_of_list_display, lambda: 2.0),
    (ex.tuple_to_helper, lambda: 2.0),
    (ex.list_to_helper, lambda: 2.0),
    (ex.dict_to_helper, lambda: 2.0),
    (ex.list_item_update, lambda: 2.0),
    (ex.alias_write, lambda: RNG.normal(size=3)),
    (ex.view_inplace, lambda: RNG.normal(size=3)),
    (ex.reshape_write, lambda: RNG.normal(size=4)),
    (ex.transpose_write, lambda: RNG.normal(size=(2, 2))),
    (ex.helper_fills, lambda: RNG.normal(size=3)),
    (ex.stale_view, lambda: RNG.normal(size=4)),
    (ex.repeated_index_update, lambda: RNG.normal(size=3)),
    (ex.at_add, lambda: RNG.normal(size=2)),
    (ex.ufunc_at, lambda: RNG.normal(size=3)),
    (ex.while_and_break, lambda: 0.9),
    (ex.while_and_break, lambda: 0.3),
    (ex.nested_def, lambda: 1.5),
]


@pytest.mark.parametrize("f,make", SCALAR_CASES, ids=[f"{f.__name__}-{k}" for k, (f, _) in
                                                       enumerate(SCALAR_CASES)])
def test_gradient_agrees_with_finite_differences(f, make):
    x = make()
    x0 = np.array(x, copy=True)
    ref = fd_grad(plain(f), x)
    g = tp.grad(f)(x)
    np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, x0)        # the caller's argument is left alone
    value, g2 = tp.value_and_grad(f)(x)
    np.testing.assert_allclose(value, plain(f)(x), rtol=1e-12)
    np.testing.assert_allclose(g2, ref, rtol=1e-5, atol=1e-6)
    # forward mode over the same function: the other AD mode agrees
    np.testing.assert_allclose(tp.jacfwd(f)(x), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f,make", [(ex.rebind, lambda: 1.5), (ex.scan, lambda: RNG.normal(size=2)),
                                    (ex.list_item_update, lambda: 2.0)])
def test_second_order_agrees_with_finite_differences_of_the_gradient(f, make):
    x = make()
    ref = fd_jac(tp.grad(f), x, h=1e-5) if np.ndim(x) else fd_grad(tp.grad(f), x, h=1e-5)
    np.testing.assert_allclose(tp.hessian(f)(x), ref, rtol=1e-5, atol=1e-6)
    if np.ndim(x) == 0:
        np.testing.assert_allclose(tp.grad(tp.grad(f))(x), ref, rtol=1e-5, atol=1e-6)


VMAP_CASES = [ex.rebind_mean, ex.sum_of_two_items, ex.alias_write, ex.view_inplace, ex.reshape_write,
              ex.helper_fills, ex.stale_view, ex.repeated_index_update, ex.ufunc_at, ex.tuple_swap,
              ex.overlapping_update, ex.list_append_stack]


@pytest.mark.parametrize("f", VMAP_CASES, ids=[f.__name__ for f in VMAP_CASES])
def test_vmap_agrees_with_the_loop(f):
    n = 4 if f in (ex.reshape_write, ex.stale_view, ex.rebind_mean) else 3
    xs = RNG.normal(size=(3, n)) if f is not ex.sum_of_two_items else RNG.normal(size=(3, 2))
    ref = np.stack([plain(f)(x) for x in xs])
    np.testing.assert_allclose(tp.vmap(f)(xs), ref, rtol=1e-12)


@pytest.mark.parametrize("f", [ex.rebind_mean, ex.view_inplace, ex.repeated_index_update],
                         ids=lambda f: f.__name__)
def test_vmap_of_grad_agrees_with_finite_differences(f):
    xs = RNG.normal(size=(3, 4 if f is ex.rebind_mean else 3))
    ref = np.stack([fd_grad(plain(f), x) for x in xs])
    np.testing.assert_allclose(tp.vmap(tp.grad(f))(xs), ref, rtol=1e-5, atol=1e-6)


def test_jacobians_of_vector_functions_agree():
    for f, x in [(ex.tuple_swap, RNG.normal(size=3)), (ex.overlapping_update, RNG.normal(size=5))]:
        ref = fd_jac(plain(f), x)
        np.testing.assert_allclose(tp.jacrev(f)(x), ref, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(tp.jacfwd(f)(x), ref, rtol=1e-6, atol=1e-7)


def test_overlapping_update_under_jit_buffers_like_numpy():
    y = np.arange(6.0)
    np.testing.assert_array_equal(tp.jit(ex.overlapping_update)(y), ex.overlapping_update(y))


def test_grad_of_a_vector_output_is_a_type_error():
    with pytest.raises(TypeError, match="scalar-output"):
        tp.grad(ex.vector_output)(np.ones(3))


def test_a_view_read_after_a_write_is_an_error_when_it_is_an_array():
    # y 2-D: `y[0]` is a row, a view the first write changes: refused, never a number
    xs = RNG.normal(size=(2, 3))
    with pytest.raises(ValueError, match="view of an array written afterwards"):
        tp.vmap(ex.tuple_swap)(xs[None])


def test_python_list_arithmetic_on_differentiable_lists_is_refused():
    import tests.issue15_examples as m  # noqa: F401  (source must be in a file)
    with pytest.raises(TranspileError):
        tp.grad(_list_concat)(1.0)


def _list_concat(a):
    xs = [a]
    xs = xs + [a * 2.0]
    return np.sum(np.array(xs))


@pytest.mark.slow
@pytest.mark.parametrize("f,make", SCALAR_CASES[:12], ids=[f.__name__ for f, _ in SCALAR_CASES[:12]])
def test_jit_grad_agrees_with_eager(f, make):
    x = make()
    np.testing.assert_allclose(tp.jit(tp.grad(f))(x), tp.grad(f)(x), rtol=1e-12, atol=1e-14)
