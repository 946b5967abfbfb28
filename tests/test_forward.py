"""Forward mode and the derivative operators built on it (issue 4): golden
generated source, JAX's conventions for jvp/jacfwd/jacrev/hessian, higher
order by composition, errors, inputs left alone.

The corpus-wide checks (jvp vs finite differences, the VJP.JVP identity,
jacfwd == jacrev, hessians, grad of grad) are in tests/ad/test_forward_corpus.py.
"""
import re

import numpy as np
import pytest

import transpile as tp
from transpile.errors import TranspileError
from transpile.pipeline import generate

import golden_reverse_src as m


def _jvp_source(fn, wrt):
    options = {"layers": [{"kind": "jvp", "wrt": wrt, "argnums_int": True}]}
    _, text, _ = generate(fn, {}, transform="ad", backend="python", options=options)
    start = text.index("def jvp_")
    end = text.find("\n\n\ndef ", start)      # the JVP alone (its checked_ wrapper follows)
    return text[start:end if end >= 0 else len(text)].strip()


def _lines(expected, fn):
    first = fn.__code__.co_firstlineno
    return re.sub(r"# L\{([+-]\d+)\}:", lambda k: f"# L{first + int(k.group(1))}:", expected.strip())


def test_golden_straight_line():
    assert _jvp_source(m.simple, ["x"]) == _lines('''
def jvp_simple(x, w, x_dot):
    # L{+1}: z = x * w
    z = x * w
    z_dot = tangent.fit(x_dot * w, z)
    # L{+2}: return np.sum(np.sin(z))
    _t1 = np.sin(z)
    _t1_dot = z_dot * np.cos(z)
    _t2 = npx.sum(_t1)
    _t2_dot = npx.sum(_t1_dot, None, None, None, False)
    return _t2, _t2_dot''', m.simple)


def test_golden_while_loop_keeps_its_shape():
    # the tangent is updated beside the primal: no tape, no unrolling
    assert _jvp_source(m.halving, ["x"]) == _lines('''
def jvp_halving(x, x_dot):
    # L{+1}: while x > 1.0:
    _t1 = x > 1.0
    while _t1:
        # L{+2}: x = x / 2.0
        _ans1 = x / 2.0
        _tan1 = tangent.fit(x_dot / 2.0, _ans1)
        x = _ans1
        x_dot = _tan1
        # L{+1}: while x > 1.0:
        _t1 = x > 1.0
    # L{+3}: return x
    return x, x_dot''', m.halving)


def test_golden_in_place_write_copies_the_callers_arrays():
    src = _jvp_source(m.writes_input, ["x"])
    assert "x = tape.save(x)" in src and "x_dot = tape.save(x_dot)" in src
    assert "checks.setitem(x_dot, 0, _t2_dot" in src


# ---- jvp ---------------------------------------------------------------------

def f2(x, y):
    return np.sin(x) * y + x ** 2


def test_jvp_values_and_linearity():
    x, y = np.array([0.3, -1.0, 2.0]), np.array([1.5, 0.5, -0.2])
    tx, ty = np.array([1.0, 2.0, -1.0]), np.array([0.0, 1.0, 3.0])
    out, t = tp.jvp(f2, (x, y), (tx, ty))
    np.testing.assert_allclose(out, f2(x, y))
    expected = (np.cos(x) * y + 2 * x) * tx + np.sin(x) * ty
    np.testing.assert_allclose(t, expected, rtol=1e-13)
    _, t2 = tp.jvp(f2, (x, y), (2 * tx, 2 * ty))
    np.testing.assert_allclose(t2, 2 * t, rtol=1e-13)


def test_jvp_scalar_in_scalar_out():
    out, t = tp.jvp(lambda x: x ** 3, (2.0,), (1.0,))
    assert out == pytest.approx(8.0) and t == pytest.approx(12.0)


def test_jvp_errors_as_jax_words_them():
    x = np.ones(3)
    with pytest.raises(TypeError, match="must be tuples or lists"):
        tp.jvp(f2, x, x)
    with pytest.raises(TypeError, match="same tree structure"):
        tp.jvp(f2, (x, x), (x,))
    with pytest.raises(ValueError, match="different primal and tangent shapes"):
        tp.jvp(f2, (x, x), (x, np.ones(4)))
    with pytest.raises(TypeError, match="dtypes must be equal"):
        tp.jvp(f2, (x, x), (x, np.ones(3, np.float32)))
    with pytest.raises(TypeError, match="real- or complex-valued"):
        tp.jvp(f2, (np.arange(3), x), (x, x))


def inplace(x):
    y = x.copy()
    y[1:] = y[1:] * y[:-1]
    x[0] = 7.0                 # the user's own write: the primal sees it
    return np.sum(y ** 2)


def test_jvp_leaves_the_tangent_alone_and_matches_fd():
    x = np.array([0.5, 1.5, -2.0, 0.25])
    t = np.array([1.0, -1.0, 0.5, 2.0])
    t0 = t.copy()
    _, tout = tp.jvp(inplace, (x.copy(),), (t,))
    np.testing.assert_array_equal(t, t0)
    eps = 1e-6
    fd = (inplace(x + eps * t) - inplace(x - eps * t)) / (2 * eps)
    assert tout == pytest.approx(fd, rel=1e-7)


# ---- Jacobians -----------------------------------------------------------------

def mat_fn(A, v):
    return np.tanh(A @ v) * np.sum(A)


def test_jacobian_shapes_are_out_shape_plus_in_shape():
    A = np.arange(6.0).reshape(2, 3) / 10
    v = np.array([0.5, -1.0, 2.0])
    for op in (tp.jacfwd, tp.jacrev):
        J = op(mat_fn)(A, v)
        assert J.shape == (2, 2, 3)
        Jv = op(mat_fn, argnums=1)(A, v)
        assert Jv.shape == (2, 3)
        both = op(mat_fn, argnums=(0, 1))(A, v)
        assert isinstance(both, tuple) and both[0].shape == (2, 2, 3) and both[1].shape == (2, 3)
    np.testing.assert_allclose(tp.jacfwd(mat_fn)(A, v), tp.jacrev(mat_fn)(A, v), rtol=1e-12)
    # column k of the Jacobian in v is the JVP along e_k
    e = np.zeros(3)
    e[1] = 1.0
    np.testing.assert_allclose(tp.jacfwd(mat_fn, argnums=1)(A, v)[:, 1],
                               tp.jvp(lambda w: mat_fn(A, w), (v,), (e,))[1], rtol=1e-13)


def test_jacobian_of_scalar_function_of_scalar_is_a_float():
    for op in (tp.jacfwd, tp.jacrev):
        d = op(lambda x: np.sin(x) * x)(0.7)
        assert isinstance(d, float) and d == pytest.approx(np.cos(0.7) * 0.7 + np.sin(0.7))


# ---- Higher order -----------------------------------------------------------------

def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def test_hessian_matches_closed_form():
    x = np.array([1.2, 0.8, -0.5, 0.3])
    np.testing.assert_allclose(tp.hessian(rosen)(x), rosen_hessian(x), rtol=1e-12)
    np.testing.assert_allclose(tp.jacfwd(tp.jacrev(rosen))(x), rosen_hessian(x), rtol=1e-12)
    np.testing.assert_allclose(tp.jacfwd(tp.grad(rosen))(x), rosen_hessian(x), rtol=1e-12)


def poly(x):
    return x ** 5 - 3.0 * x ** 3 + np.sin(x)


@pytest.mark.parametrize("x", [0.5, -1.25])
def test_up_to_fourth_order_on_a_scalar_function(x):
    d = [poly]
    for _ in range(4):
        d.append(tp.grad(d[-1]))
    exact = [5 * x ** 4 - 9 * x ** 2 + np.cos(x), 20 * x ** 3 - 18 * x - np.sin(x),
             60 * x ** 2 - 18 - np.cos(x), 120 * x + np.sin(x)]
    for k in range(4):
        got = d[k + 1](x)
        assert type(got) is float and got == pytest.approx(exact[k], rel=1e-12)


def two_args(x, y):
    return np.sin(x * y) + x ** 2 * y


def test_mixed_partials_and_value_and_grad_of_grad():
    x, y = 0.7, -1.3
    dxy = tp.grad(tp.grad(two_args, argnums=0), argnums=1)(x, y)
    exact = np.cos(x * y) - x * y * np.sin(x * y) + 2 * x
    assert dxy == pytest.approx(exact, rel=1e-12)
    v, g = tp.value_and_grad(tp.grad(two_args))(x, y)
    assert v == pytest.approx(y * np.cos(x * y) + 2 * x * y, rel=1e-12)
    assert g == pytest.approx(-y * y * np.sin(x * y) + 2 * y, rel=1e-12)


def test_grad_of_grad_of_non_scalar_is_the_scalar_error():
    with pytest.raises(TypeError, match="scalar"):
        tp.grad(tp.grad(lambda x: np.sum(x ** 3)))(np.ones(3))


def test_differentiating_has_aux_says_it_is_not_supported():
    with pytest.raises(NotImplementedError, match="has_aux"):
        tp.grad(tp.grad(lambda x: (x ** 2, x), has_aux=True))


# ---- Errors -------------------------------------------------------------------------

def uses_fft(x):
    return np.sum(np.fft.fft(x).real)


def test_missing_rule_names_the_function_and_the_line():
    with pytest.raises(TranspileError, match=r"np\.fft\.fft|fft") as info:
        tp.jacfwd(uses_fft)(np.ones(4))
    assert "test_forward.py" in str(info.value)


# ---- Compiled -------------------------------------------------------------------------

def branchy(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + x[i] ** 3
        else:
            s = s + np.sin(x[i]) * x[0]
    return s


def test_jit_third_order_matches_eager():
    g3 = tp.grad(tp.grad(tp.grad(poly)))
    assert tp.jit(g3)(0.9) == pytest.approx(g3(0.9), rel=1e-13)


@pytest.mark.slow
def test_jit_hessian_with_branches_matches_eager():
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(tp.jit(tp.hessian(branchy))(x), tp.hessian(branchy)(x), rtol=1e-13)


# ---- Transformations called from transformed code ------------------------------------

def loss(b, lam):
    return np.sum(b ** 2) * lam + np.sum(np.sin(b))


def descend(b, lam, n=20, lr=0.05):
    g = tp.grad(loss)               # a static local: calls become a generated gradient
    for i in range(n):
        b = b - lr * g(b, lam)
    return b


def descend_value(b, lam, n=5):
    vg = tp.value_and_grad(loss)
    vals = []
    for i in range(n):
        v, g = vg(b, lam)
        vals.append(v)
        b = b - 0.1 * g
    return b, vals


def test_grad_called_inside_jit_matches_python():
    b0 = np.linspace(-1.0, 1.0, 5)
    expected = descend(b0.copy(), 0.3)
    np.testing.assert_allclose(tp.jit(descend)(b0.copy(), 0.3), expected, rtol=1e-13)
    b1, vals = descend_value(b0.copy(), 0.3)
    b2, vals2 = tp.jit(descend_value)(b0.copy(), 0.3)
    np.testing.assert_allclose(b2, b1, rtol=1e-13)
    np.testing.assert_allclose(vals2, vals, rtol=1e-13)


def cube_sin(x):
    return x ** 3 * np.sin(x)


def directional(x):
    return tp.jvp(cube_sin, (x,), (1.0,))[1]


def test_grad_of_a_jvp_is_the_second_derivative():
    x = 0.7
    exact = 6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x)
    assert tp.grad(directional)(x) == pytest.approx(exact, rel=1e-12)
    assert tp.grad(tp.grad(cube_sin))(x) == pytest.approx(exact, rel=1e-12)


def test_grad_of_a_function_calling_grad():
    def outer(x):
        return tp.grad(cube_sin)(x) * x
    x = 0.4
    d1 = 3 * x ** 2 * np.sin(x) + x ** 3 * np.cos(x)
    d2 = 6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x)
    assert tp.grad(outer)(x) == pytest.approx(d1 + x * d2, rel=1e-12)


def test_every_runtime_helper_of_generated_code_has_a_forward_rule():
    # generated code must itself be differentiable (grad of grad, hessian)
    import inspect
    from runtime import adjoint, rules, tangent, tape
    from transpile.ad import forward
    missing = []
    for mod in (adjoint, tape, tangent):
        for name, fn in vars(mod).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue
            if rules.lookup_tangent(fn) is None and not rules.is_nondifferentiable(fn) \
                    and not forward._is_container_constructor(fn) \
                    and name not in ("einsum_vjp", "einsum_vjp_plan", "einsum_vjps_tangent",
                                     "prod_others_tangent", "norm_grad_tangent", "einsum_tangent"):
                missing.append(f"{mod.__name__}.{name}")
    assert not missing, f"no tangent rule: {missing}"


def per_example(x, w):
    return np.sin(x * w) + x ** 2 * w


def batch_loss(w, xs):
    return np.sum(tp.vmap(per_example, in_axes=(0, None))(xs, w))


def test_vmap_called_inside_grad_and_jit():
    xs, w = np.linspace(-1.0, 2.0, 7), 0.7
    assert tp.jit(batch_loss)(w, xs) == pytest.approx(batch_loss(w, xs), rel=1e-13)
    exact = np.sum(np.cos(xs * w) * xs + xs ** 2)
    assert tp.grad(batch_loss)(w, xs) == pytest.approx(exact, rel=1e-12)
    assert tp.jit(tp.grad(batch_loss))(w, xs) == pytest.approx(exact, rel=1e-12)


# ---- Jacobians as vmap(jvp) / vmap(vjp) -------------------------------------

def _tall(x, A):
    return np.tanh(A @ x) * np.sum(x ** 2)


def _fd_jacobian(f, x, *rest, eps=1e-6):
    cols = [(f(x + eps * e, *rest) - f(x - eps * e, *rest)) / (2 * eps) for e in np.eye(x.size)]
    return np.stack(cols, axis=-1)


def _source(transformed, *args):
    transformed(*args)
    (gen,) = transformed._cache.values()
    return gen.text


def test_jacobians_of_straight_line_code_are_one_batched_pass():
    # JAX's vmap(jvp)/vmap(vjp): no loop over the basis; the primal runs once
    rng = np.random.default_rng(0)
    x, A = rng.normal(size=4), rng.normal(size=(6, 4))
    want = _fd_jacobian(_tall, x, A)
    for op in (tp.jacfwd, tp.jacrev):
        J = op(_tall)(x, A)
        assert J.shape == (6, 4)
        np.testing.assert_allclose(J, want, rtol=1e-6, atol=1e-8)
        text = _source(op(_tall), x, A)
        assert "def vec_" in text and "for _b" not in text, text


def test_hessian_is_vectorized_and_exact_on_indexing_code():
    # the adjoint of x[1:] is a scatter-add (add_at); the hessian batches it
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    x = np.random.default_rng(1).normal(size=6)
    H = tp.hessian(rosen)(x)
    g = tp.grad(rosen)
    fd = np.stack([(g(x + 1e-6 * e) - g(x - 1e-6 * e)) / 2e-6 for e in np.eye(6)], axis=-1)
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    text = _source(tp.hessian(rosen), x)
    assert "vec_jvp_jacrev_rosen" in text and "add_at_examples" in text


def test_jacobian_with_a_helper_that_loops_per_example():
    # np.squeeze's adjoint (reshape_like) has no batch rule: that one call
    # loops over the examples, the rest stays vectorized, and its tangent
    # (forward over the loop) is right
    def f(x):
        return np.sum(np.squeeze(x[None, :]) * x) + np.sum(np.sin(x) ** 2)
    x = np.random.default_rng(2).normal(size=5)
    H = tp.hessian(f)(x)
    want = np.diag(2.0 + 2 * np.cos(2 * x))
    np.testing.assert_allclose(H, want, rtol=1e-10, atol=1e-12)


def test_jacobians_of_branching_code_loop_and_agree():
    def f(x):
        if x[0] > 0:
            return np.sin(x) * x[1]
        return np.cos(x)
    for x in (np.array([0.5, 2.0, -1.0]), np.array([-0.5, 2.0, -1.0])):
        want = _fd_jacobian(f, x)
        np.testing.assert_allclose(tp.jacfwd(f)(x), want, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(tp.jacrev(f)(x), want, rtol=1e-6, atol=1e-8)


def test_jacobian_is_specialized_on_ranks():
    # the batched code depends on the ranks of the arguments: a matrix after
    # a vector specializes again instead of reusing the vector's code
    def f(x):
        return np.sin(x) * 2.0
    j = tp.jacrev(f)
    v = np.array([0.1, 0.2])
    np.testing.assert_allclose(j(v), np.diag(2 * np.cos(v)))
    M = np.array([[0.1, 0.2], [0.3, 0.4]])
    J = j(M)
    assert J.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(J.reshape(4, 4), np.diag(2 * np.cos(M.ravel())))
    assert j(0.3) == pytest.approx(2 * np.cos(0.3))


def test_vmap_of_grad_of_vector_examples_vectorizes():
    def f(x, w):
        y = np.tanh(x * w) + np.sum(x) * x[0]
        return np.sum(y ** 2) + np.mean(x)
    xs, w = np.random.default_rng(3).normal(size=(5, 3)), np.array([1.0, 2.0, 3.0])
    want = np.stack([tp.grad(f)(x, w) for x in xs])
    g = tp.vmap(tp.grad(f), in_axes=(0, None), strategy="vectorize")
    np.testing.assert_allclose(g(xs, w), want, rtol=1e-12)
    np.testing.assert_allclose(tp.jit(g)(xs, w), want, rtol=1e-12)
