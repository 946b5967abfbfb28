"""tp.vmap: JAX's API and errors, per-example semantics, composition with the
derivative transformations, jit, and the CLI.

`vmap(f)(xs)` must equal `np.stack([f(x) for x in xs])` whichever strategy
runs (the per-example loop or the vectorizing rules); the corpus-driven
checks are in tests/ad/test_vmap_corpus.py.
"""
import functools
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import transpile as tp
from transpile import cli

RNG = np.random.default_rng(0)
STRATEGIES = ("loop", "auto")


def stacked(f, args, in_axes, out_axis=0):
    """`np.stack([f(*example) ...])`, the reference of vmap."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    outs = [f(*[a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(args, axes)])
            for b in range(n)]
    if isinstance(outs[0], tuple):
        return tuple(np.stack([o[k] for o in outs], axis=out_axis) for k in range(len(outs[0])))
    return np.stack(outs, axis=out_axis)


# -- user functions --------------------------------------------------------------
def affine(x, w, b):
    return np.tanh(w @ x + b)


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def piecewise(x):
    if x > 1.0:
        return x * x
    elif x > 0.0:
        return np.sin(x)
    return -x


def first_negative(v):
    for i in range(v.shape[0]):
        if v[i] < 0:
            return float(i)
    return -1.0


def two_outputs(x, y):
    return x * y, np.sin(x) + np.sum(y)


def nested_outputs(x):
    return (x, (2.0 * x, x.sum()))


def relu(x):
    return np.maximum(0, x)


def sq_loss(w, x, y):
    return np.sum((x @ w - y) ** 2)


def with_default(x, scale=2.0):
    return scale * x


SCALE = 3.0


def reads_global(x):
    return SCALE * x


def pair(p):
    a, b = p
    return a * b


class Model:
    def __init__(self, w):
        self.w = w

    def predict(self, x):
        return self.w @ x


def constant(x):
    return 1.5


# -- semantics -----------------------------------------------------------------
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_in_axes_and_out_axes(strategy):
    X = RNG.normal(size=(3, 5))
    W = RNG.normal(size=(4, 3))
    b = RNG.normal(size=4)
    f = tp.vmap(affine, in_axes=(1, None, None), strategy=strategy)
    np.testing.assert_allclose(f(X, W, b), stacked(affine, (X, W, b), (1, None, None)), rtol=1e-14)
    g = tp.vmap(affine, in_axes=(-1, None, None), out_axes=1, strategy=strategy)
    np.testing.assert_allclose(g(X, W, b), stacked(affine, (X, W, b), (1, None, None), 1), rtol=1e-14)
    h = tp.vmap(affine, in_axes=(0, 0, None), out_axes=-1, strategy=strategy)
    Xs, Ws = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 4, 3))
    np.testing.assert_allclose(h(Xs, Ws, b), stacked(affine, (Xs, Ws, b), (0, 0, None), -1), rtol=1e-14)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_example_takes_its_own_branch(strategy):
    xs = np.array([-1.5, 0.3, 2.0, 0.9, 5.0])
    np.testing.assert_array_equal(tp.vmap(piecewise, strategy=strategy)(xs),
                                  [piecewise(x) for x in xs])
    a = np.array([2.0, 9.0, 1e6, 0.25])
    np.testing.assert_array_equal(tp.vmap(newton_sqrt, strategy=strategy)(a),
                                  [newton_sqrt(v) for v in a])
    V = np.array([[1.0, -2.0, 3.0], [1.0, 2.0, 3.0], [-1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(tp.vmap(first_negative, strategy=strategy)(V), [1.0, -1.0, 0.0])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_tuple_outputs_and_out_axes_tree(strategy):
    X, Y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    a, b = tp.vmap(two_outputs, strategy=strategy)(X, Y)
    ra, rb = stacked(two_outputs, (X, Y), 0)
    np.testing.assert_allclose(a, ra, rtol=1e-14)
    np.testing.assert_allclose(b, rb, rtol=1e-14)
    a, b = tp.vmap(two_outputs, in_axes=(1, 1), out_axes=(1, 0), strategy=strategy)(X, Y)
    np.testing.assert_allclose(a, stacked(two_outputs, (X, Y), 1, 1)[0], rtol=1e-14)
    np.testing.assert_allclose(b, stacked(two_outputs, (X, Y), 1, 0)[1], rtol=1e-14)
    x, (x2, s) = tp.vmap(nested_outputs, out_axes=(0, (1, 0)), strategy=strategy)(X)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(x2, 2.0 * X.T)
    np.testing.assert_array_equal(s, X.sum(axis=1))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_unmapped_output_with_out_axes_none(strategy):
    def f(x, y):
        return x + 1.0, y * 2.0
    a, b = tp.vmap(f, in_axes=(0, None), out_axes=(0, None), strategy=strategy)(np.arange(3.0), 4.0)
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    assert b == 8.0
    # an unmapped output with an int out_axes is broadcast over the batch, as in JAX
    a, b = tp.vmap(f, in_axes=(0, None), strategy=strategy)(np.arange(3.0), 4.0)
    np.testing.assert_array_equal(b, [8.0, 8.0, 8.0])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_axis_size_without_mapped_inputs(strategy):
    out = tp.vmap(constant, in_axes=None, axis_size=4, strategy=strategy)(np.ones(2))
    np.testing.assert_array_equal(out, np.full(4, 1.5))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_keywords_defaults_tuples_methods_globals(strategy):
    x = RNG.normal(size=5)
    # keyword arguments are mapped along axis 0; defaults are not mapped
    np.testing.assert_allclose(tp.vmap(with_default, strategy=strategy)(x), 2.0 * x)
    np.testing.assert_allclose(tp.vmap(with_default, strategy=strategy)(x, scale=np.arange(5.0)),
                               np.arange(5.0) * x)
    # tuple arguments: one axis for the whole tuple, or a tree prefix
    y = RNG.normal(size=5)
    np.testing.assert_allclose(tp.vmap(pair, strategy=strategy)((x, y)), x * y)
    np.testing.assert_allclose(tp.vmap(pair, in_axes=((0, None),), strategy=strategy)((x, 2.0)), 2.0 * x)
    # bound methods and globals read at call time
    m = Model(RNG.normal(size=(2, 3)))
    X = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(tp.vmap(m.predict, strategy=strategy)(X), X @ m.w.T, rtol=1e-14)
    global SCALE
    f = tp.vmap(reads_global, strategy=strategy)
    np.testing.assert_allclose(f(x), 3.0 * x)
    SCALE = 5.0
    try:
        np.testing.assert_allclose(f(x), 5.0 * x)
    finally:
        SCALE = 3.0


def test_inputs_are_not_copied_or_changed():
    x = RNG.normal(size=(3, 2))
    before = x.copy()
    tp.vmap(lambda v: v * 2.0)(x)
    np.testing.assert_array_equal(x, before)


# -- errors, worded as JAX words them ------------------------------------------------
def test_inconsistent_sizes():
    with pytest.raises(ValueError, match="vmap got inconsistent sizes for array axes to be mapped") as e:
        tp.vmap(two_outputs)(np.ones(3), np.ones(4))
    assert "axis 0 of argument x of type float64[3]" in str(e.value)
    assert "axis 0 of argument y of type float64[4]" in str(e.value)
    with pytest.raises(ValueError, match="inconsistent sizes"):
        tp.vmap(constant, axis_size=3)(np.ones(4))


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r"vmap was requested to map its argument along axis 1, which "
                                         r"implies that its rank should be at least 2, but is only 1"):
        tp.vmap(relu, in_axes=1)(np.ones(3))
    with pytest.raises(ValueError, match="rank should be at least 1, but is only 0"):
        tp.vmap(relu)(1.0)


def test_in_axes_errors():
    with pytest.raises(ValueError, match=r"len\(in_axes\)=1, len\(args\)=2"):
        tp.vmap(two_outputs, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="at least one non-None value in in_axes"):
        tp.vmap(relu, in_axes=None)
    with pytest.raises(ValueError, match="in_axes must be an int, None, or"):
        tp.vmap(relu, in_axes="x")
    with pytest.raises(ValueError, match="tree prefix"):
        tp.vmap(pair, in_axes=((0, 0, 0),))((np.ones(2), np.ones(2)))
    with pytest.raises(TypeError, match="not an array"):
        tp.vmap(lambda x, f: f(x))(np.ones(2), np.sin)


def test_out_axes_errors():
    with pytest.raises(ValueError, match="vmap has mapped output but out_axes is None"):
        tp.vmap(relu, out_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match="out_axes specification must be a tree prefix"):
        tp.vmap(two_outputs, out_axes=(0, 0, 0))(np.ones(3), np.ones(3))


def test_empty_batch_is_a_clear_error():
    with pytest.raises(ValueError, match="size 0"):
        tp.vmap(relu, strategy="loop")(np.ones((0, 3)))


# -- composition ---------------------------------------------------------------------
def test_vmap_of_grad_is_per_example_gradients():
    X, Y = RNG.normal(size=(5, 4, 3)), RNG.normal(size=(5, 4))
    w = RNG.normal(size=3)
    per = tp.vmap(tp.grad(sq_loss), in_axes=(None, 0, 0))(w, X, Y)
    np.testing.assert_allclose(per, [2 * x.T @ (x @ w - y) for x, y in zip(X, Y)], rtol=1e-12)
    vg = tp.vmap(tp.value_and_grad(sq_loss, argnums=(0, 2)), in_axes=(None, 0, 0))
    value, (gw, gy) = vg(w, X, Y)
    np.testing.assert_allclose(value, [sq_loss(w, x, y) for x, y in zip(X, Y)], rtol=1e-12)
    np.testing.assert_allclose(gw, per, rtol=1e-12)
    np.testing.assert_allclose(gy, [-2 * (x @ w - y) for x, y in zip(X, Y)], rtol=1e-12)


def test_vmap_of_grad_relu_matches_the_lecture():
    x = np.linspace(-3, 3, 101)
    g = tp.vmap(tp.grad(relu))(x)
    off = x != 0.0
    np.testing.assert_array_equal(g[off], (x[off] > 0).astype(float))


def test_derivatives_of_vmap():
    def g(x):
        return np.sin(x) * x.sum()
    X = RNG.normal(size=(3, 4))
    J = tp.jacfwd(tp.vmap(g))(X)
    ref = np.zeros((3, 4, 3, 4))
    for b in range(3):     # examples are independent: block-diagonal Jacobian
        ref[b, :, b, :] = np.diag(np.cos(X[b]) * X[b].sum()) + np.sin(X[b])[:, None]
    np.testing.assert_allclose(J, ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tp.jacrev(tp.vmap(g))(X), ref, rtol=1e-12, atol=1e-14)
    # a while loop per example, differentiated through the batch
    a = np.array([2.0, 9.0, 0.5])
    np.testing.assert_allclose(tp.jacfwd(tp.vmap(newton_sqrt))(a), np.diag(0.5 / np.sqrt(a)), rtol=1e-9)


def test_nested_vmap():
    def g(x, y):
        return x * y.sum()
    X, Y = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    out = tp.vmap(tp.vmap(g, in_axes=(0, 0)), in_axes=(0, None))(X, Y)
    np.testing.assert_allclose(out, X * Y.sum(axis=1)[None, :], rtol=1e-14)
    A = np.array([[2.0, 3.0], [9.0, 16.0]])
    np.testing.assert_array_equal(tp.vmap(tp.vmap(newton_sqrt))(A), np.vectorize(newton_sqrt)(A))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        tp.vmap(tp.vmap(g, in_axes=(0, 0)), in_axes=(0, None))(X, np.ones((4, 4)))


def test_vmap_of_jit_and_repr():
    f = tp.vmap(tp.jit(relu), strategy="loop")
    assert f.backend == "numba"
    assert "vmap" in repr(tp.vmap(relu))


# -- jit: the same generated source, compiled ------------------------------------------
@functools.lru_cache(maxsize=None)
def _jitted(fn, in_axes=0, grad=False):
    inner = tp.grad(fn) if grad else fn
    return tp.jit(tp.vmap(inner, in_axes=in_axes, strategy="loop"))


def test_jit_vmap_of_grad_relu():
    x = np.linspace(-3, 3, 101)
    np.testing.assert_array_equal(_jitted(relu, grad=True)(x), tp.vmap(tp.grad(relu))(x))


def test_jit_vmap_of_while_loop():
    a = np.array([2.0, 9.0, 1e6, 0.25])
    np.testing.assert_array_equal(_jitted(newton_sqrt)(a), [newton_sqrt(v) for v in a])
    with pytest.raises(ValueError, match="inconsistent sizes"):
        tp.jit(tp.vmap(two_outputs, strategy="loop"))(np.ones(3), np.ones(4))


@pytest.mark.slow
def test_jit_composition_matrix():
    X = RNG.normal(size=(3, 5))
    W = RNG.normal(size=(4, 3))
    b = RNG.normal(size=4)
    f = _jitted(affine, (1, None, None))
    np.testing.assert_allclose(f(X, W, b), stacked(affine, (X, W, b), (1, None, None)), rtol=1e-12)
    xs = np.array([-1.5, 0.3, 2.0, 0.9, 5.0])
    np.testing.assert_array_equal(_jitted(piecewise)(xs), [piecewise(x) for x in xs])
    a, (a2, s) = tp.jit(tp.vmap(nested_outputs, out_axes=(1, (0, None)), in_axes=None, axis_size=2,
                                strategy="loop"))(X)
    assert a.shape == (3, 2, 5) and s == X.sum()
    J = tp.jit(tp.jacfwd(tp.vmap(newton_sqrt, strategy="loop")))(np.array([2.0, 9.0]))
    np.testing.assert_allclose(J, np.diag(0.5 / np.sqrt([2.0, 9.0])), rtol=1e-9)
    out = tp.jit(tp.vmap(tp.vmap(newton_sqrt, strategy="loop"), strategy="loop"))(np.array([[2.0, 9.0]]))
    np.testing.assert_array_equal(out, [[newton_sqrt(2.0), newton_sqrt(9.0)]])


# -- the CLI -------------------------------------------------------------------------
def test_cli_show_vmap(tmp_path, capsys):
    path = tmp_path / "newton.py"
    path.write_text(textwrap.dedent("""
        import numpy as np

        def newton(a):
            x = a
            while abs(x * x - a) > 1e-12:
                x = 0.5 * (x + a / x)
            return x
    """))
    assert cli.main(["show", f"{path}:newton", "--vmap", "--backend", "python"]) == 0
    out = capsys.readouterr().out
    assert "def vmap_newton(a):" in out
    assert "for _b in range(1, _n):" in out


def test_python_m_transpile_lists_vmap():
    out = subprocess.run([sys.executable, "-m", "transpile", "show", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "--vmap" in out


# -- the vectorizing rules ---------------------------------------------------------------
def matvec(A, x):
    return A @ x


def features(x, w):
    z = np.concatenate((x, x ** 2))
    h = np.array([z.sum(), z.max(), np.dot(z, z)])
    return np.tanh(h * w).reshape(3, 1).T


def scalar_math(t, c):
    return math.exp(-t) * math.sin(c * t) + abs(t) + max(t, c)


def accumulate(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * (i + 1)
    out = np.zeros(3)
    out[0] = s
    out[1:] = x[:2]
    return out


def calls_helper(x, w):
    return helper(x, w) + helper(x, 2.0 * w)


def helper(x, w):
    return np.sum(w * x ** 2)


VECTORIZABLE = [
    (matvec, lambda: (RNG.normal(size=(4, 3)), RNG.normal(size=(6, 3))), (None, 0)),
    (matvec, lambda: (RNG.normal(size=(6, 4, 3)), RNG.normal(size=3)), (0, None)),
    (matvec, lambda: (RNG.normal(size=(6, 4, 3)), RNG.normal(size=(3, 6))), (0, 1)),
    (affine, lambda: (RNG.normal(size=(3, 6)), RNG.normal(size=(4, 3)), RNG.normal(size=4)), (1, None, None)),
    (features, lambda: (RNG.normal(size=(5, 4)), RNG.normal(size=(5, 3))), 0),
    (features, lambda: (RNG.normal(size=(5, 4)), RNG.normal(size=3)), (0, None)),
    (scalar_math, lambda: (RNG.uniform(0.1, 2.0, size=7), RNG.uniform(0.1, 2.0, size=7)), 0),
    (accumulate, lambda: (RNG.normal(size=(3, 5)),), 1),
    (calls_helper, lambda: (RNG.normal(size=(5, 4)), RNG.normal(size=4)), (0, None)),
    (two_outputs, lambda: (RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))), 0),
]


@pytest.mark.parametrize("k", range(len(VECTORIZABLE)))
def test_vectorized_equals_loop(k):
    fn, make, in_axes = VECTORIZABLE[k]
    args = make()
    vec = tp.vmap(fn, in_axes=in_axes, strategy="vectorize")
    out = vec(*args)
    ref = stacked(fn, args, in_axes)
    for o, r in zip(out if isinstance(out, tuple) else (out,), ref if isinstance(ref, tuple) else (ref,)):
        np.testing.assert_allclose(o, r, rtol=1e-12, atol=1e-14)
    src = vec.source(*args)
    assert "for _b in" not in src                    # no per-example loop
    assert "def vec_" in src


def test_batched_matvec_is_one_matmul():
    A, X = RNG.normal(size=(4, 3)), RNG.normal(size=(6, 3))
    src = tp.vmap(matvec, in_axes=(None, 0)).source(A, X)
    body = src.split("def vec_matvec")[1].split("def ")[0]
    assert "batching.matmul_ub(A, x)" in body        # X @ A.T: one matrix product


def test_vectorize_strategy_says_why_not():
    with pytest.raises(tp.TranspileError, match="cannot vectorize .*newton_sqrt.* depends on a mapped value"):
        tp.vmap(newton_sqrt, strategy="vectorize")(np.array([2.0, 3.0]))
    # auto falls back to the per-example loop
    src = tp.vmap(newton_sqrt).source(np.array([2.0, 3.0]))
    assert "for _b in range(1, _n):" in src


def test_derivatives_of_vectorized_code():
    W, b = RNG.normal(size=(4, 3)), RNG.normal(size=4)
    X = RNG.normal(size=(3, 5))
    f = tp.vmap(affine, in_axes=(1, None, None), strategy="vectorize")
    loop = tp.vmap(affine, in_axes=(1, None, None), strategy="loop")
    for argnums in (0, 1, 2):
        np.testing.assert_allclose(tp.jacfwd(f, argnums=argnums)(X, W, b),
                                   tp.jacfwd(loop, argnums=argnums)(X, W, b), rtol=1e-12, atol=1e-14)
    s = tp.vmap(features, in_axes=(0, None), out_axes=0, strategy="vectorize")
    x, w = RNG.normal(size=(5, 4)), RNG.normal(size=3)
    np.testing.assert_allclose(tp.jacrev(s, argnums=1)(x, w),
                               tp.jacrev(tp.vmap(features, in_axes=(0, None), strategy="loop"), argnums=1)(x, w),
                               rtol=1e-12, atol=1e-14)


def test_jit_falls_back_to_the_loop_where_numba_cannot_type_the_batch():
    def count_up(x):
        s = 0                   # an int, then a float: fine example by example, not as a batch
        for i in range(x.shape[0]):
            s = s + x[i]
        return s
    X = RNG.normal(size=(4, 3))
    f = tp.jit(tp.vmap(count_up))
    np.testing.assert_allclose(f(X), X.sum(axis=1), rtol=1e-12)


@pytest.mark.slow
def test_jit_vectorized():
    for fn, make, in_axes in VECTORIZABLE:
        args = make()
        f = tp.jit(tp.vmap(fn, in_axes=in_axes, strategy="vectorize"))
        out = f(*args)
        ref = stacked(fn, args, in_axes)
        for o, r in zip(out if isinstance(out, tuple) else (out,), ref if isinstance(ref, tuple) else (ref,)):
            np.testing.assert_allclose(o, r, rtol=1e-10, atol=1e-12, err_msg=fn.__name__)


def test_vmap_of_grad_of_scalar_examples_is_forward_mode():
    def euler(k, c):
        x, v = 1.0, 0.0
        for i in range(200):
            acc = -k * x - c * v
            x = x + 0.01 * v
            v = v + 0.01 * acc
        return x
    ks, cs = RNG.uniform(0.5, 2.0, 6), RNG.uniform(0.0, 0.2, 6)
    f = tp.vmap(tp.value_and_grad(euler, argnums=(0, 1)))
    assert "jvp_euler" in f.source(ks, cs) and "_stack" not in f.source(ks, cs)   # no tape
    value, (gk, gc) = f(ks, cs)
    g = tp.grad(euler, argnums=(0, 1))
    per = [g(k, c) for k, c in zip(ks, cs)]
    np.testing.assert_allclose(value, [euler(k, c) for k, c in zip(ks, cs)], rtol=1e-14)
    np.testing.assert_allclose(gk, [p[0] for p in per], rtol=1e-10)
    np.testing.assert_allclose(gc, [p[1] for p in per], rtol=1e-10)
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        tp.vmap(tp.grad(lambda t: np.array([t, 2.0 * t])))(ks)


def test_repeated_calls_take_the_fast_path_and_still_check():
    f = tp.vmap(two_outputs)
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    for _ in range(2):
        a, b = f(x, y)
        np.testing.assert_allclose(a, x * y)
    assert f._fast
    with pytest.raises(ValueError, match="inconsistent sizes"):
        f(x, RNG.normal(size=4))
    a, b = f(np.ones(5), np.ones(5))          # a new size, same types
    np.testing.assert_array_equal(a, np.ones(5))
    g = tp.vmap(relu)
    g(np.ones(3))
    np.testing.assert_array_equal(g(np.arange(-2.0, 2.0)), [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(g(np.ones((2, 2)) * -1.0), np.zeros((2, 2)))   # another rank
