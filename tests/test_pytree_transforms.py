"""Transformations take and return pytrees (issues 4, 5 and 6): vmap's
in_axes/out_axes as tree prefixes, jvp/vjp with pytree primals, jacobians
and hessians of pytree arguments and pytree-valued functions, nested as
JAX nests them. Values are checked against explicit loops, per-leaf
results computed independently and central finite differences (float64)."""
import collections

import numpy as np
import pytest

import transpile as tp

RNG = np.random.default_rng(7)
STRATEGIES = ["loop", "vectorize"]
Pair = collections.namedtuple("Pair", "w b")


def _close(a, b, **kw):
    """Same structure, leaves equal to tolerance."""
    assert tp.tree_structure(a) == tp.tree_structure(b), (tp.tree_structure(a), tp.tree_structure(b))
    for x, y in zip(tp.tree_leaves(a), tp.tree_leaves(b)):
        assert np.shape(x) == np.shape(y)
        np.testing.assert_allclose(x, y, **kw)


# -- vmap: in_axes and out_axes as tree prefixes ---------------------------------------
def affine(p, x):
    return np.tanh(x @ p["W"] + p["b"])


def affine_nt(p, x):
    return p.w * x + p.b


def affine_list(p, x):
    return p[0] * x + p[1][0]


def two_parts(x, s):
    return {"y": x * s, "stats": (np.sum(x), x[:2] * 2.0)}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_vmap_in_axes_dict_prefix_with_none_leaves(strategy):
    W, b = RNG.normal(size=(4, 3, 2)), RNG.normal(size=2)
    X = RNG.normal(size=(4, 3))
    out = tp.vmap(affine, in_axes=({"W": 0, "b": None}, 0), strategy=strategy)({"W": W, "b": b}, X)
    np.testing.assert_allclose(out, np.stack([affine({"W": W[i], "b": b}, X[i]) for i in range(4)]),
                               rtol=1e-14)
    # a leaf of the prefix covers a whole subtree; a list of in_axes is a tuple
    Wb = RNG.normal(size=(3, 4, 2))
    out = tp.vmap(affine, in_axes=[None, 1], strategy=strategy)({"W": Wb[:, 0], "b": b}, X.T)
    np.testing.assert_allclose(out, np.stack([affine({"W": Wb[:, 0], "b": b}, X.T[:, i]) for i in range(4)]),
                               rtol=1e-14)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_vmap_namedtuple_and_list_prefixes(strategy):
    w, b, x = RNG.normal(size=(5, 3)), RNG.normal(size=3), RNG.normal(size=(3, 5))
    out = tp.vmap(affine_nt, in_axes=(Pair(w=0, b=None), 1), strategy=strategy)(Pair(w, b), x)
    np.testing.assert_allclose(out, np.stack([w[i] * x[:, i] + b for i in range(5)]), rtol=1e-14)
    # nested list prefix for a list argument (inner lists stay lists, as in JAX)
    c = RNG.normal(size=(5, 3))
    out = tp.vmap(affine_list, in_axes=([None, [0]], 1), strategy=strategy)([b, [c]], x)
    np.testing.assert_allclose(out, np.stack([b * x[:, i] + c[i] for i in range(5)]), rtol=1e-14)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_vmap_out_axes_prefix_of_a_dict_output(strategy):
    X, s = RNG.normal(size=(6, 4)), 1.5
    loop = [two_parts(x, s) for x in X]
    out = tp.vmap(two_parts, in_axes=(0, None), out_axes={"y": 1, "stats": (0, -1)},
                  strategy=strategy)(X, s)
    expected = {"y": np.stack([o["y"] for o in loop], axis=1),
                "stats": (np.array([o["stats"][0] for o in loop]),
                          np.stack([o["stats"][1] for o in loop], axis=-1))}
    _close(out, expected, rtol=1e-14)
    # an int for the whole output, and the dict comes back
    _close(tp.vmap(two_parts, in_axes=(0, None), strategy=strategy)(X, s),
           {"y": X * s, "stats": (X.sum(axis=1), X[:, :2] * 2.0)}, rtol=1e-14)


def test_vmap_prefix_errors_as_jax_words_them():
    p = {"W": np.ones((2, 3, 2)), "b": np.zeros(2)}
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"(?s)vmap in_axes specification must be a tree prefix of the "
                                         r"corresponding value.*different pytree metadata.*vmap in_axes\[0\]"
                                         r".*\('W', 'c'\).*\('W', 'b'\)"):
        tp.vmap(affine, in_axes=({"W": 0, "c": None}, 0))(p, X)
    with pytest.raises(ValueError, match=r"(?s)different types at key path.*<class 'tuple'>.*<class 'dict'>"):
        tp.vmap(affine, in_axes=((0, None), 0))(p, X)
    with pytest.raises(ValueError, match=r"(?s)different types.*vmap in_axes\[0\].*<class 'tuple'>.*<class "
                                         r"'list'>"):
        tp.vmap(affine_list, in_axes=((0, [0]), 1))([np.ones(3), [np.ones(3)]], np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"(?s)different lengths of list.*length 1.*length 2"):
        tp.vmap(affine_list, in_axes=([0], 1))([np.ones(3), [np.ones(3)]], np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"(?s)vmap out_axes specification must be a tree prefix.*"
                                         r"\('y', 'z'\).*\('stats', 'y'\)"):
        tp.vmap(two_parts, in_axes=(0, None), out_axes={"y": 0, "z": 0})(X, 1.0)
    with pytest.raises(ValueError, match=r"(?s)vmap out_axes specification.*<class 'tuple'>.*<class 'dict'>"):
        tp.vmap(two_parts, in_axes=(0, None), out_axes=(0, 0))(X, 1.0)
    with pytest.raises(TypeError, match="must be an int, None, or a tuple of entries"):
        tp.vmap(affine, in_axes={"W": 0, "b": None})
    with pytest.raises(ValueError, match="container with those types as leaves"):
        tp.vmap(affine, in_axes=({"W": "0"}, 0))


def test_vmap_sizes_and_ranks_of_leaves_are_named_by_path():
    p = {"W": np.ones((3, 3, 2)), "b": np.zeros((4, 2))}
    with pytest.raises(ValueError, match=r"(?s)inconsistent sizes.*axis 0 of argument p\['b'\] of type "
                                         r"float64\[4,2\]"):
        tp.vmap(affine, in_axes=({"W": 0, "b": 0}, 0))(p, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"along axis 2, which implies that its rank should be at least 3, "
                                         r"but is only 2"):
        tp.vmap(affine, in_axes=({"W": 0, "b": 2}, 0))(p, np.ones((3, 3)))
    with pytest.raises(ValueError, match="mapped output but out_axes is None"):
        tp.vmap(two_parts, in_axes=(0, None), out_axes={"y": 0, "stats": None})(np.ones((3, 4)), 1.0)


def test_vmap_pytrees_jitted():
    W, b = RNG.normal(size=(4, 3, 2)), RNG.normal(size=2)
    X = RNG.normal(size=(4, 3))
    f = tp.jit(tp.vmap(affine, in_axes=({"W": 0, "b": None}, 0)))
    out = f({"W": W, "b": b}, X)
    np.testing.assert_allclose(out, np.stack([affine({"W": W[i], "b": b}, X[i]) for i in range(4)]),
                               rtol=1e-14)
    g = tp.jit(tp.vmap(two_parts, in_axes=(0, None), out_axes={"y": 1, "stats": 0}))
    _close(g(X, 2.0), {"y": (X * 2.0).T, "stats": (X.sum(axis=1), X[:, :2] * 2.0)}, rtol=1e-14)


@pytest.mark.slow
def test_vmap_pytrees_jitted_loop():
    W, b = RNG.normal(size=(4, 3, 2)), RNG.normal(size=2)
    X = RNG.normal(size=(4, 3))
    f = tp.jit(tp.vmap(affine, in_axes=({"W": 0, "b": None}, 0), strategy="loop"))
    np.testing.assert_allclose(f({"W": W, "b": b}, X),
                               np.stack([affine({"W": W[i], "b": b}, X[i]) for i in range(4)]), rtol=1e-14)
    g = tp.jit(tp.vmap(two_parts, in_axes=(0, None), out_axes={"y": 1, "stats": (None, 0)}, strategy="loop"))
    with pytest.raises(ValueError, match="out_axes is None"):
        g(X, 2.0)


# -- jvp and vjp with pytree primals ------------------------------------------------
def model(params, x):
    """A pytree in (a list of a dict and a namedtuple), a pytree out."""
    h = np.tanh(x @ params[0]["W"] + params[0]["b"])
    out = h * params[1].w + params[1].b
    return {"out": out, "aux": (np.sum(out ** 2), h[0])}


def _model_params():
    return [{"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)},
            Pair(w=RNG.normal(size=2), b=0.25)]


def _directional_fd(f, primals, tangents, eps=1e-6):
    """Central finite difference of f along the tangents (pytrees)."""
    def shifted(s):
        return f(*tp.tree_map(lambda p, t: p + s * t, primals, tangents))
    return tp.tree_map(lambda a, b: (a - b) / (2 * eps), shifted(eps), shifted(-eps))


def test_jvp_with_pytree_primals_and_output_matches_fd():
    params, x = _model_params(), RNG.normal(size=(4, 3))
    t_params = tp.tree_map(lambda v: RNG.normal(size=np.shape(v)) if np.ndim(v) else 0.5, params)
    t_x = RNG.normal(size=x.shape)
    out, t_out = tp.jvp(model, (params, x), (t_params, t_x))
    _close(out, model(params, x), rtol=1e-14)
    _close(t_out, _directional_fd(model, (params, x), (t_params, t_x)), rtol=1e-6, atol=1e-9)
    # linear in the tangents; the inputs are left alone
    _, t2 = tp.jvp(model, (params, x), (tp.tree_map(lambda v: 2 * v, t_params), 2 * t_x))
    _close(t2, tp.tree_map(lambda v: 2 * v, t_out), rtol=1e-13)
    # a tuple primal and a None leaf
    out, t = tp.jvp(lambda p, n: p[0] * p[1], ((2.0, np.arange(3.0)), None), ((1.0, np.ones(3)), None))
    np.testing.assert_allclose(t, np.arange(3.0) + 2.0)


def test_jvp_pytree_errors_as_jax_words_them():
    p = {"w": np.ones(2), "b": np.ones(2)}
    with pytest.raises(TypeError, match=r"must have the same tree structure; primals have tree structure "
                                        r"PyTreeDef\(\(\{'b': \*, 'w': \*\},\)\) whereas tangents have tree "
                                        r"structure PyTreeDef\(\(\{'w': \*\},\)\)"):
        tp.jvp(lambda q: q["w"] * q["b"], (p,), ({"w": np.ones(2)},))
    with pytest.raises(TypeError, match="same tree structure"):
        tp.jvp(lambda q: q["w"] * q["b"], (p,), [p])            # a tuple and a list differ, as in JAX
    with pytest.raises(ValueError, match=r"different primal and tangent shapes;Got primal shape \(2,\) and "
                                         r"tangent shape as \(3,\)"):
        tp.jvp(lambda q: q["w"] * q["b"], (p,), ({"w": np.ones(2), "b": np.ones(3)},))
    with pytest.raises(TypeError, match="dtypes must be equal"):
        tp.jvp(lambda q: q["w"] * q["b"], (p,), ({"w": np.ones(2), "b": np.ones(2, np.float32)},))
    with pytest.raises(TypeError, match="real- or complex-valued"):
        tp.jvp(lambda q: q["w"] * 2.0, ({"w": np.arange(2)},), ({"w": np.ones(2)},))


def test_vjp_with_pytree_primals_and_output():
    params, x = _model_params(), RNG.normal(size=(4, 3))
    out, pullback = tp.vjp(model, params, x)
    _close(out, model(params, x), rtol=1e-14)
    ct = {"out": RNG.normal(size=(4, 2)), "aux": (0.7, RNG.normal(size=2))}
    g_params, g_x = pullback(ct)
    assert tp.tree_structure(g_params) == tp.tree_structure(params) and isinstance(g_params[1], Pair)
    # <ct, J t> == <J^T ct, t> for random tangents, J t by finite differences
    for _ in range(3):
        t_params = tp.tree_map(lambda v: RNG.normal(size=np.shape(v)) if np.ndim(v) else 0.5, params)
        t_x = RNG.normal(size=x.shape)
        jt = _directional_fd(model, (params, x), (t_params, t_x))
        lhs = sum(np.sum(a * b) for a, b in zip(tp.tree_leaves(ct), tp.tree_leaves(jt)))
        rhs = sum(np.sum(a * b) for a, b in zip(tp.tree_leaves((g_params, g_x)), tp.tree_leaves((t_params, t_x))))
        assert lhs == pytest.approx(rhs, rel=1e-6)
    # the loss alone: the pullback of 1 is the gradient
    (g, _) = tp.vjp(model_loss, params, x)[1](1.0)
    _close(g, tp.grad(model_loss)(params, x), rtol=1e-12)


def model_loss(params, x):
    return loss_and_parts(params, x)[0]


def loss_and_parts(params, x):
    r = model(params, x)
    return r["aux"][0], {"h0": r["aux"][1], "n": x.shape[0]}


def test_vjp_pytree_has_aux_and_errors():
    params, x = _model_params(), RNG.normal(size=(4, 3))
    out, pullback, aux = tp.vjp(loss_and_parts, params, x, has_aux=True)
    assert out == pytest.approx(loss_and_parts(params, x)[0]) and aux["n"] == 4
    g_params, _ = pullback(2.0)
    _close(g_params, tp.tree_map(lambda v: 2 * v, tp.grad(lambda p: loss_and_parts(p, x)[0])(params)),
           rtol=1e-12)
    _, pullback = tp.vjp(model, params, x)
    with pytest.raises(ValueError, match=r"(?s)tree structure.*PyTreeDef\(\{'aux': \(\*, \*\), 'out': \*\}\)"
                                         r".*PyTreeDef\(\{'out': \*\}\)"):
        pullback({"out": np.ones((4, 2))})
    with pytest.raises(ValueError, match=r"shape/dtype.*got float64\[3\], but expected float64\[2\]"):
        pullback({"out": np.ones((4, 2)), "aux": (1.0, np.ones(3))})


def layer(p, x):
    h = np.tanh(x @ p["W"] + p["b"])
    return {"h": h, "s": np.sum(h ** 2)}


def jvp_inside(p, x, t_p, t_x):
    out, t = tp.jvp(layer, (p, x), (t_p, t_x))
    return out["s"] + t["s"], t["h"]


def vmap_inside(p, X):
    r = tp.vmap(layer, in_axes=({"W": None, "b": None}, 0))(p, X)
    return r["s"] * 2.0, r["h"]


def bad_tangent(p, x):
    out, t = tp.jvp(layer, (p, x), ({"W": p["W"]}, x))
    return t["s"]


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_jvp_and_vmap_of_pytrees_inside_jitted_code(backend):
    p = {"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
    x, t_x, X = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=(4, 3))
    t_p = tp.tree_map(lambda v: RNG.normal(size=v.shape), p)
    out, t = tp.jvp(layer, (p, x), (t_p, t_x))
    s, h = tp.jit(jvp_inside, backend=backend)(p, x, t_p, t_x)
    assert s == pytest.approx(out["s"] + t["s"], rel=1e-14)
    np.testing.assert_allclose(h, t["h"], rtol=1e-14)
    s2, h2 = tp.jit(vmap_inside, backend=backend)(p, X)
    np.testing.assert_allclose(s2, [2 * layer(p, v)["s"] for v in X], rtol=1e-14)
    np.testing.assert_allclose(h2, np.stack([layer(p, v)["h"] for v in X]), rtol=1e-14)


def test_jvp_inside_jitted_code_checks_the_tangent_structure():
    p = {"W": np.ones((3, 2)), "b": np.ones(2)}
    with pytest.raises(tp.TranspileError, match=r"same tree structure; primal 0 has tree structure "
                                                r"PyTreeDef\(\{'W': \*, 'b': \*\}\) whereas its tangent") as e:
        tp.jit(bad_tangent, backend="python")(p, np.ones(3))
    assert e.value.lineno == bad_tangent.__code__.co_firstlineno + 1


def returns_parts(x):
    return {"a": x * 2, "b": (np.sum(x), x[:1])}


def uses_parts(x):
    s = returns_parts(x)["b"][0]
    r = returns_parts(x)["b"]
    return returns_parts(x)["a"] * s + r[1], returns_parts(x)["b"][1]


def test_a_returned_pytree_indexed_at_the_call():
    x = np.arange(3.0)
    for backend in ("python", "numba"):
        out = tp.jit(uses_parts, backend=backend)(x)
        _close(out, uses_parts(x), rtol=1e-15)
    # the returned dict display is a pytree, its tuple display a node of it
    assert tp.jit(returns_parts, backend="python")(x)["b"][1].shape == (1,)
    # sum(2 x S + x[0]) = 2 S^2 + 3 x[0] with S = sum(x): the gradient is 4 S + 3 e_0
    g = tp.grad(lambda v: np.sum(uses_parts(v)[0]))(x)
    np.testing.assert_allclose(g, 4 * np.sum(x) + np.array([3.0, 0.0, 0.0]), rtol=1e-14)


# -- jacfwd, jacrev, hessian: pytrees in and out, nested as JAX nests them ------------
def _fd_jacobian(f, args, argnums, eps=1e-6):
    """Central finite differences of every output leaf of `f` with respect to
    every leaf of args[argnums], in JAX's nesting: the output's structure,
    each leaf the inputs' structure (a tuple over a tuple `argnums`) of
    arrays shaped out.shape + in.shape."""
    nums = (argnums,) if isinstance(argnums, int) else argnums
    o_leaves, o_def = tp.tree_flatten(f(*args))
    per_arg = []
    for n in nums:
        leaves, d = tp.tree_flatten(args[n])
        blocks = []
        for li, leaf in enumerate(leaves):
            leaf = np.asarray(leaf, dtype=float)
            J = [np.zeros(np.shape(o) + leaf.shape) for o in o_leaves]
            for idx in np.ndindex(leaf.shape):
                def shifted(s):
                    moved = leaf.copy()
                    moved[idx] += s
                    a = list(args)
                    a[n] = tp.tree_unflatten(d, leaves[:li] + [moved] + leaves[li + 1:])
                    return tp.tree_leaves(f(*a))
                for k, (hi, lo) in enumerate(zip(shifted(eps), shifted(-eps))):
                    J[k][(...,) + idx] = (np.asarray(hi) - np.asarray(lo)) / (2 * eps)
            blocks.append(J)
        per_arg.append((d, blocks))

    def inputs_of(k):
        trees = [tp.tree_unflatten(d, [J[k] for J in blocks]) for d, blocks in per_arg]
        return trees[0] if isinstance(argnums, int) else tuple(trees)
    return tp.tree_unflatten(o_def, [inputs_of(k) for k in range(len(o_leaves))])


def pyfun(p, x):
    h = np.sin(p["w"] * x)
    return {"y": h * p["s"], "z": (np.sum(p["b"] ** 2) * x[0], p["b"] * h[0])}


def scalar_of_tree(p, x):
    return np.sum(p["w"] * x) ** 2 * p["s"] + np.sum(np.sin(p["b"]) * p["w"][0])


def _pyfun_args():
    return {"w": RNG.normal(size=2), "b": RNG.normal(size=3), "s": 0.7}, RNG.normal(size=2)


@pytest.mark.parametrize("jac", [tp.jacfwd, tp.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("argnums", [0, (0, 1), 1])
def test_jacobians_of_pytree_functions_match_fd(jac, argnums):
    p, x = _pyfun_args()
    J = jac(pyfun, argnums=argnums)(p, x)
    _close(J, _fd_jacobian(pyfun, (p, x), argnums), rtol=1e-6, atol=1e-8)
    if argnums == 0:        # out.shape + in.shape at every (output leaf, input leaf)
        assert J["z"][1]["b"].shape == (3, 3) and J["y"]["w"].shape == (2, 2) and J["y"]["s"].shape == (2,)


def tuple_valued(x):
    return x ** 2, (np.sin(x), np.sum(x))


def recursive_pair(x, n):
    if n == 0:
        return x, x * 2.0
    a, b = recursive_pair(x * 1.5, n - 1)
    return np.sin(a), b * x


@pytest.mark.parametrize("jac", [tp.jacfwd, tp.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobians_of_tuple_outputs(jac):
    x = RNG.normal(size=3)
    _close(jac(tuple_valued)(x), _fd_jacobian(tuple_valued, (x,), 0), rtol=1e-6, atol=1e-8)
    # recursion: the batched JVP cannot tell its primal is shared; each item's first example
    _close(jac(recursive_pair)(x, 2), _fd_jacobian(lambda v: recursive_pair(v, 2), (x,), 0),
           rtol=1e-6, atol=1e-8)


def test_hessians_of_pytree_arguments_match_fd_of_the_gradient():
    p, x = _pyfun_args()
    H = tp.hessian(scalar_of_tree)(p, x)
    _close(H, _fd_jacobian(tp.grad(scalar_of_tree), (p, x), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H["w"]["b"], H["b"]["w"].T, rtol=1e-12)
    H2 = tp.hessian(scalar_of_tree, argnums=(0, 1))(p, x)
    _close(H2, _fd_jacobian(tp.grad(scalar_of_tree, argnums=(0, 1)), (p, x), (0, 1)), rtol=1e-6, atol=1e-8)
    assert H2[0]["w"][1].shape == (2, 2) and H2[1][0]["b"].shape == (2, 3)
    # jacrev of jacfwd nests the same way
    _close(tp.jacrev(tp.jacfwd(scalar_of_tree))(p, x), H, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_pytree_jacobians_jitted():
    p, x = _pyfun_args()
    _close(tp.jit(tp.jacfwd(pyfun))(p, x), tp.jacfwd(pyfun)(p, x), rtol=1e-12, atol=1e-14)
    _close(tp.jit(tp.jacrev(pyfun, argnums=(0, 1)))(p, x), tp.jacrev(pyfun, argnums=(0, 1))(p, x),
           rtol=1e-12, atol=1e-14)
    _close(tp.jit(tp.hessian(scalar_of_tree))(p, x), tp.hessian(scalar_of_tree)(p, x), rtol=1e-12, atol=1e-14)
    x3 = RNG.normal(size=3)
    _close(tp.jit(tp.jacrev(tuple_valued))(x3), tp.jacrev(tuple_valued)(x3), rtol=1e-12, atol=1e-14)


# -- has_aux with a pytree aux, under vmap and inside jitted code --------------------
def loss_with_metrics(w, x):
    pred = x * w
    return np.sum(pred ** 2), {"pred": pred, "top": np.max(pred)}


def grads_and_top(w, x):
    g, aux = tp.grad(loss_with_metrics, has_aux=True)(w, x)
    (v, aux2), g2 = tp.value_and_grad(loss_with_metrics, has_aux=True)(w, x)
    return g, aux["top"], v + aux2["top"], g2 * aux2["pred"]


def test_has_aux_pytree_under_vmap():
    w, X = RNG.normal(size=2), RNG.normal(size=(4, 2))
    per = [tp.grad(loss_with_metrics, has_aux=True)(w, x) for x in X]
    g, aux = tp.vmap(tp.grad(loss_with_metrics, has_aux=True), in_axes=(None, 0))(w, X)
    np.testing.assert_allclose(g, [2 * x * x * w for x in X], rtol=1e-14)
    _close(aux, {"pred": np.stack([a["pred"] for _, a in per]), "top": np.array([a["top"] for _, a in per])},
           rtol=1e-15)
    (v, aux2), g2 = tp.vmap(tp.value_and_grad(loss_with_metrics, has_aux=True), in_axes=(None, 0))(w, X)
    np.testing.assert_allclose(v, [loss_with_metrics(w, x)[0] for x in X], rtol=1e-14)
    np.testing.assert_allclose(g2, g, rtol=1e-15)
    _close(aux2, aux, rtol=1e-15)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_has_aux_pytree_inside_jitted_code(backend):
    w, x = RNG.normal(size=2), RNG.normal(size=2)
    g, top, s, gp = tp.jit(grads_and_top, backend=backend)(w, x)
    pred = x * w
    np.testing.assert_allclose(g, 2 * pred * x, rtol=1e-14)
    assert top == pytest.approx(np.max(pred)) and s == pytest.approx(np.sum(pred ** 2) + np.max(pred))
    np.testing.assert_allclose(gp, 2 * pred * x * pred, rtol=1e-14)


def test_vmap_of_grad_with_pytree_out_axes():
    p = {"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
    X = RNG.normal(size=(5, 3))
    per = [tp.grad(affine_loss)(p, x) for x in X]
    g = tp.vmap(tp.grad(affine_loss), in_axes=(None, 0), out_axes={"W": 2, "b": 1})(p, X)
    _close(g, {"W": np.stack([r["W"] for r in per], axis=2), "b": np.stack([r["b"] for r in per], axis=1)},
           rtol=1e-13)
    v, (gp, gx) = tp.vmap(tp.value_and_grad(affine_loss, argnums=(0, 1)), in_axes=(None, 0),
                          out_axes=(0, ({"W": 0, "b": 1}, 1)))(p, X)
    np.testing.assert_allclose(v, [affine_loss(p, x) for x in X], rtol=1e-13)
    np.testing.assert_allclose(gp["b"], g["b"], rtol=1e-13)
    assert gp["W"].shape == (5, 3, 2) and gx.shape == (3, 5)
    with pytest.raises(ValueError, match=r"(?s)vmap out_axes specification must be a tree prefix.*"
                                         r"\('W', 'c'\)"):
        tp.vmap(tp.grad(affine_loss), in_axes=(None, 0), out_axes={"W": 2, "c": 1})(p, X)


def affine_loss(p, x):
    return np.sum(affine(p, x) ** 2)
