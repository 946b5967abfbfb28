"""JAX's derivative API beyond the single transformation: `jvp` of a
transformed function (the Hessian-vector product of JAX's autodiff
cookbook), `has_aux` on jacfwd/jacrev/hessian/jvp, and transformations of
`tp.jit(f)` (as JAX's `grad(jit(f))`), static arguments included.

Values are checked against closed forms and central finite differences.
"""
import numpy as np
import pytest

import transpile as tp
from transpile.errors import TranspileError
from transpile.tree import tree_flatten


def f(x):
    return np.sum(np.sin(x) * x ** 2)


def grad_f(x):          # closed form of f's gradient
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


def hess_f(x):          # and of its Hessian (diagonal)
    return np.diag(-np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x))


def two(x, y):
    return np.sum(np.sin(x) * y ** 2)


def with_aux(x):
    y = np.sin(x) * x
    return y, np.sum(x)


def with_dict_aux(x):
    return f(x), {"n": np.sum(x), "m": x * 2.0}


def power_sum(x, n):
    return np.sum(x ** n)


X = np.linspace(0.1, 1.0, 5)
V = np.array([0.5, -1.0, 0.25, 2.0, 1.5])


def fd_directional(fn, x, v, eps=1e-6):
    return (fn(x + eps * v) - fn(x - eps * v)) / (2 * eps)


def same_tree(got, want, rtol=1e-7, atol=1e-10):
    gl, gd = tree_flatten(got)
    wl, wd = tree_flatten(want)
    assert gd == wd, (gd, wd)
    for a, b in zip(gl, wl):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---- jvp of transformed functions ------------------------------------------------

def test_jvp_of_grad_is_the_hessian_vector_product():
    out, hvp = tp.jvp(tp.grad(f), (X,), (V,))
    np.testing.assert_allclose(out, grad_f(X), rtol=1e-12)
    np.testing.assert_allclose(hvp, hess_f(X) @ V, rtol=1e-12)
    np.testing.assert_allclose(hvp, fd_directional(grad_f, X, V), rtol=1e-6)


def test_jvp_of_value_and_grad_pairs_the_tangents():
    (value, g), (value_dot, g_dot) = tp.jvp(tp.value_and_grad(f), (X,), (V,))
    np.testing.assert_allclose(value, f(X))
    np.testing.assert_allclose(g, grad_f(X))
    np.testing.assert_allclose(value_dot, grad_f(X) @ V, rtol=1e-12)
    np.testing.assert_allclose(g_dot, hess_f(X) @ V, rtol=1e-12)


def test_jvp_of_grad_with_two_arguments():
    y = np.cos(X)
    (gx, gy), (tx, ty) = tp.jvp(tp.grad(two, argnums=(0, 1)), (X, y), (V, V))
    np.testing.assert_allclose(gx, np.cos(X) * y ** 2)
    np.testing.assert_allclose(gy, 2 * np.sin(X) * y)
    # d/de of the gradient at (X + eV, y + eV)
    np.testing.assert_allclose(tx, -np.sin(X) * y ** 2 * V + np.cos(X) * 2 * y * V, rtol=1e-12)
    np.testing.assert_allclose(ty, 2 * np.cos(X) * y * V + 2 * np.sin(X) * V, rtol=1e-12)


def test_jvp_of_vmap_and_of_jacrev():
    out, t = tp.jvp(tp.vmap(lambda s: np.sin(s) * s), (X,), (V,))
    np.testing.assert_allclose(out, np.sin(X) * X)
    np.testing.assert_allclose(t, (np.cos(X) * X + np.sin(X)) * V, rtol=1e-12)
    _, jt = tp.jvp(tp.jacrev(np.sin), (X,), (V,))
    np.testing.assert_allclose(jt, np.diag(-np.sin(X) * V), atol=1e-15)


def hvp_inside(x, v):
    return tp.jvp(tp.grad(f), (x,), (v,))[1]


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_jvp_of_grad_inside_transformed_code(backend):
    np.testing.assert_allclose(tp.jit(hvp_inside, backend=backend)(X, V), hess_f(X) @ V, rtol=1e-12)


def test_grad_of_jvp_of_grad_is_third_order():
    # d/dx of v.H(x).v, with H diagonal: the derivative of the diagonal times v**2
    third = tp.grad(lambda x: hvp_inside(x, V) @ V)(X)
    d_diag = -np.cos(X) * X ** 2 - 2 * X * np.sin(X) + 4 * np.cos(X) - 4 * X * np.sin(X) + 2 * np.cos(X)
    np.testing.assert_allclose(third, d_diag * V ** 2, rtol=1e-10)


# ---- has_aux ---------------------------------------------------------------------

@pytest.mark.parametrize("jac", [tp.jacfwd, tp.jacrev])
def test_jacobians_with_aux(jac):
    J, aux = jac(with_aux, has_aux=True)(X)
    np.testing.assert_allclose(J, np.diag(np.cos(X) * X + np.sin(X)), rtol=1e-12)
    assert aux == np.sum(X)


def test_jacrev_with_aux_is_reverse_mode():
    text = tp.jacrev(with_aux, has_aux=True).generated(X).text
    assert "def vjp_with_aux" in text and "def jvp_" not in text


def test_hessian_with_a_pytree_aux():
    H, aux = tp.hessian(with_dict_aux, has_aux=True)(X)
    np.testing.assert_allclose(H, hess_f(X), rtol=1e-12, atol=1e-14)
    same_tree(aux, {"n": np.sum(X), "m": X * 2.0})


def test_jvp_with_aux():
    out, t, aux = tp.jvp(with_aux, (X,), (V,), has_aux=True)
    np.testing.assert_allclose(out, np.sin(X) * X)
    np.testing.assert_allclose(t, (np.cos(X) * X + np.sin(X)) * V, rtol=1e-12)
    assert aux == np.sum(X)
    out, t, aux = tp.jvp(with_dict_aux, (X,), (V,), has_aux=True)
    np.testing.assert_allclose(t, grad_f(X) @ V, rtol=1e-12)
    same_tree(aux, {"n": np.sum(X), "m": X * 2.0})


def test_aux_through_a_stack_of_transformations():
    H, aux = tp.jacfwd(tp.grad(with_dict_aux, has_aux=True), has_aux=True)(X)
    np.testing.assert_allclose(H, hess_f(X), rtol=1e-12, atol=1e-14)
    same_tree(aux, with_dict_aux(X)[1])
    g, t, aux = tp.jvp(tp.grad(with_dict_aux, has_aux=True), (X,), (V,), has_aux=True)
    np.testing.assert_allclose(t, hess_f(X) @ V, rtol=1e-12)


def test_jit_of_a_jacobian_with_aux():
    J, aux = tp.jit(tp.jacfwd(with_aux, has_aux=True))(X)
    np.testing.assert_allclose(J, np.diag(np.cos(X) * X + np.sin(X)), rtol=1e-12)
    assert aux == np.sum(X)


def no_pair(x):
    return np.sin(x)


def test_has_aux_without_a_pair_is_a_clear_error():
    with pytest.raises(TranspileError, match=r"return a pair \(output, aux\)") as info:
        tp.jacfwd(no_pair, has_aux=True)(X)
    assert "test_derivative_api.py" in str(info.value)


def test_differentiating_an_aux_pair_without_has_aux_says_so():
    with pytest.raises(NotImplementedError, match="has_aux=True too"):
        tp.jacfwd(tp.grad(with_dict_aux, has_aux=True))


# ---- transformations of jit(f) ------------------------------------------------------

def test_grad_of_jit_is_jit_of_grad():
    g = tp.grad(tp.jit(f))
    assert g.backend == "numba"
    np.testing.assert_allclose(g(X), grad_f(X), rtol=1e-12)
    out, t = tp.jvp(tp.jit(f), (X,), (V,))
    np.testing.assert_allclose(t, grad_f(X) @ V, rtol=1e-12)
    np.testing.assert_allclose(tp.vjp(tp.jit(f), X)[1](1.0)[0], grad_f(X), rtol=1e-12)


def test_transformations_of_jit_keep_its_static_arguments():
    jitted = tp.jit(power_sum, static_argnames="n")
    np.testing.assert_allclose(tp.grad(jitted)(X, 3), 3 * X ** 2, rtol=1e-12)
    np.testing.assert_allclose(tp.jacfwd(jitted)(X, 3), 3 * X ** 2, rtol=1e-12)
    assert tp.grad(jitted).static_argnums == (1,)
    np.testing.assert_allclose(tp.vmap(jitted, in_axes=(0, None))(X, 3), X ** 3)


def test_jit_of_a_transformation_takes_static_arguments():
    g = tp.jit(tp.grad(power_sum), static_argnames="n")
    assert g.static_argnums == (1,)
    np.testing.assert_allclose(g(X, 3), 3 * X ** 2, rtol=1e-12)
    with pytest.raises(ValueError, match="static argument 'x'.*differentiated"):
        tp.jit(tp.grad(power_sum), static_argnums=0)


def test_linearize_is_jvp_at_fixed_primals():
    x = X.copy()
    out, f_jvp = tp.linearize(f, x)
    x[:] = 0.0                  # the linearization point was copied
    np.testing.assert_allclose(out, f(X))
    np.testing.assert_allclose(f_jvp(V), grad_f(X) @ V, rtol=1e-12)
    np.testing.assert_allclose(f_jvp(2 * V), 2 * (grad_f(X) @ V), rtol=1e-12)
    with pytest.raises(TypeError, match="tangent arguments"):
        f_jvp(V, V)


def jac_with_aux_inside(x):
    return tp.jacfwd(with_aux, has_aux=True)(x)


def hessian_with_dict_aux_inside(x):
    return tp.hessian(with_dict_aux, has_aux=True)(x)


def jvp_with_aux_inside(x, v):
    y, t, aux = tp.jvp(with_dict_aux, (x,), (v,), has_aux=True)
    return t, aux


def test_has_aux_inside_transformed_code():
    J, aux = tp.jit(jac_with_aux_inside, backend="python")(X)
    np.testing.assert_allclose(J, np.diag(np.cos(X) * X + np.sin(X)), rtol=1e-12)
    assert aux == np.sum(X)
    H, aux = tp.jit(hessian_with_dict_aux_inside, backend="python")(X)
    np.testing.assert_allclose(H, hess_f(X), rtol=1e-12, atol=1e-14)
    same_tree(aux, with_dict_aux(X)[1])
    t, aux = tp.jit(jvp_with_aux_inside, backend="python")(X, V)
    np.testing.assert_allclose(t, grad_f(X) @ V, rtol=1e-12)
    same_tree(aux, with_dict_aux(X)[1])
