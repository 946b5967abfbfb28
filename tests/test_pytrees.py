"""Pytrees through transformations (issue 6): structure is static, leaves
are dynamic. The generated code takes one parameter per leaf; loops over
containers are unrolled, constant subscripts resolved, returned trees
rebuilt by the dispatcher."""
import collections

import numpy as np
import pytest

import transpile as tp
from transpile.errors import TranspileError

Params = collections.namedtuple("Params", "w b")


def mlp(params, x):
    *hidden, last = params
    for layer in hidden:
        x = np.tanh(x @ layer["W"] + layer["b"])
    return x @ last["W"] + last["b"]


def loss(params, x, y):
    return np.mean((mlp(params, x) - y) ** 2)


def sgd_step(params, x, y, lr=0.1):
    grads = tp.grad(loss)(params, x, y)
    return tp.tree_map(lambda p, g: p - lr * g, params, grads)


def _params(seed=0, widths=(2, 5, 3, 1)):
    rng = np.random.default_rng(seed)
    return [dict(W=rng.normal(size=(a, b)) / 2, b=rng.normal(size=b) / 4)
            for a, b in zip(widths[:-1], widths[1:])]


def _data(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 2))
    return x, np.sin(x[:, :1])


def _fd_tree(f, params, eps=1e-6):
    """Central finite differences of scalar f with respect to every leaf."""
    leaves, treedef = tp.tree_flatten(params)
    grads = []
    for k, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for i in np.ndindex(leaf.shape):
            plus = [v.copy() for v in leaves]
            minus = [v.copy() for v in leaves]
            plus[k][i] += eps
            minus[k][i] -= eps
            g[i] = (f(tp.tree_unflatten(treedef, plus)) - f(tp.tree_unflatten(treedef, minus))) / (2 * eps)
        grads.append(g)
    return tp.tree_unflatten(treedef, grads)


def test_grad_of_a_list_of_dicts_has_its_structure_and_matches_fd():
    params, (x, y) = _params(), _data()
    g = tp.grad(loss)(params, x, y)
    assert tp.tree_structure(g) == tp.tree_structure(params)
    ref = _fd_tree(lambda p: loss(p, x, y), params)
    for a, b in zip(tp.tree_leaves(g), tp.tree_leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    v, g2 = tp.value_and_grad(loss)(params, x, y)
    assert v == pytest.approx(loss(params, x, y))
    for a, b in zip(tp.tree_leaves(g2), tp.tree_leaves(g)):
        np.testing.assert_array_equal(a, b)


def test_jitted_step_returns_the_tree_and_matches_eager():
    params, (x, y) = _params(), _data()
    eager = tp.tree_map(lambda p, g: p - 0.1 * g, params, tp.grad(loss)(params, x, y))
    for backend in ("python", "numba"):
        out = tp.jit(sgd_step, backend=backend)(params, x, y)
        assert tp.tree_structure(out) == tp.tree_structure(params)
        for a, b in zip(tp.tree_leaves(out), tp.tree_leaves(eager)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    # inputs are left alone
    for a, b in zip(tp.tree_leaves(params), tp.tree_leaves(_params())):
        np.testing.assert_array_equal(a, b)


def test_one_specialization_per_structure():
    x, y = _data()
    step = tp.jit(sgd_step, backend="python")
    step(_params(0), x, y)
    step(_params(1), x, y)
    assert step.num_specializations == 1
    step(_params(0, widths=(2, 4, 1)), x, y)
    assert step.num_specializations == 2


def affine(p, x):
    return p.w * x + p.b


def test_namedtuple_tree_and_jitted_grad():
    p = Params(w=np.array([1.5, -0.5]), b=np.array([0.1, 0.2]))
    x = np.array([2.0, 3.0])
    g = tp.jit(tp.grad(lambda q, v: np.sum(affine(q, v) ** 2)))(p, x)
    assert isinstance(g, Params)
    np.testing.assert_allclose(g.w, 2 * affine(p, x) * x)
    np.testing.assert_allclose(g.b, 2 * affine(p, x))


def scale_all(tree, s):
    out = []
    for k in range(len(tree)):
        out.append(tree[k] * s)
    return out


def test_len_and_constant_indices_of_a_tree():
    tree = [np.ones(2), np.arange(3.0)]
    out = tp.jit(lambda t, s: [t[0] * s, t[1] + s, t[-1][1:]], backend="python")(tree, 2.0)
    np.testing.assert_allclose(out[0], [2.0, 2.0])
    np.testing.assert_allclose(out[2], [1.0, 2.0])


def test_tree_leaves_must_be_numbers_or_arrays():
    with pytest.raises(tp.UnsupportedArgumentError, match="static_argnames"):
        tp.jit(lambda t: t[0])(["a", "b"])


def uses_tree_as_value(tree):
    return tree + 1.0


def test_a_tree_used_as_a_value_is_a_clear_error():
    with pytest.raises(TranspileError, match="pytree"):
        tp.jit(uses_tree_as_value, backend="python")([np.ones(2)])


def weighted(params, x):
    return np.sum(np.sin(x * params["w"])) + np.sum(params["b"] ** 2)


def test_jacobians_with_pytree_arguments():
    params = {"w": 1.5, "b": np.array([0.5, -0.5])}
    x = np.array([0.1, 0.2, 0.3])
    # a pytree that is not differentiated is fine
    d = tp.grad(weighted, argnums=1)(params, x)
    np.testing.assert_allclose(d, np.cos(x * 1.5) * 1.5)
    np.testing.assert_allclose(tp.jacfwd(weighted, argnums=1)(params, x), d, rtol=1e-13)
    # differentiated: a tree like the argument (a scalar output: the gradient)
    expected = {"b": 2 * params["b"], "w": np.sum(np.cos(x * 1.5) * x)}
    for jac in (tp.jacfwd, tp.jacrev):
        J = jac(weighted)(params, x)
        assert set(J) == {"w", "b"} and isinstance(J["w"], float)
        np.testing.assert_allclose(J["b"], expected["b"], rtol=1e-13)
        assert J["w"] == pytest.approx(expected["w"], rel=1e-13)


def loss_with_aux(params, x):
    pred = x * params["w"] + params["b"]
    return np.sum(pred ** 2), {"pred": pred, "scale": np.max(pred)}


def test_has_aux_returns_a_pytree():
    params = {"w": np.array([1.0, 2.0]), "b": np.array([0.5, -0.5])}
    x = np.array([0.3, 0.4])
    g, aux = tp.grad(loss_with_aux, has_aux=True)(params, x)
    np.testing.assert_allclose(g["w"], 2 * (x * params["w"] + params["b"]) * x)
    assert set(aux) == {"pred", "scale"}
    np.testing.assert_allclose(aux["pred"], x * params["w"] + params["b"])
    (v, aux2), g2 = tp.value_and_grad(loss_with_aux, has_aux=True)(params, x)
    assert v == pytest.approx(np.sum((x * params["w"] + params["b"]) ** 2))
    assert aux2["scale"] == pytest.approx(np.max(aux["pred"]))
    g3, aux3 = tp.jit(tp.grad(loss_with_aux, has_aux=True))(params, x)
    np.testing.assert_allclose(g3["b"], g["b"])
    np.testing.assert_allclose(aux3["pred"], aux["pred"])
