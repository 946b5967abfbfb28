"""The audit of what transpile may call non-differentiable, and of what it
must refuse, tested by differences.

* Array creation and selection (runtime/rules/creation.py): linspace, arange,
  full, full_like, bincount's weights, heaviside's value at 0, unique, and
  np.array of an integer dtype, through grad, jvp, jacrev and jacfwd against
  central finite differences on random inputs.
* np.einsum's sublist form (transforms/einsum.py).
* JAX's TypeError for outputs that cannot be differentiated (None, strings,
  integers), eager and compiled.
* Complex numbers: refused, inputs, outputs and values made inside the
  function, by every derivative operator, eager and compiled; never a number.
"""
import warnings

import numpy as np
import pytest

import transpile as tp
from transpile.errors import TranspileError

RNG = np.random.default_rng(7)
EPS = 1e-6


def fd_grad(f, x):
    """Central differences of the scalar f at x (a float or an array)."""
    if np.ndim(x) == 0:
        return (f(x + EPS) - f(x - EPS)) / (2 * EPS)
    g = np.zeros(np.shape(x))
    for i in np.ndindex(np.shape(x)):
        xp, xm = x.copy(), x.copy()
        xp[i] += EPS
        xm[i] -= EPS
        g[i] = (f(xp) - f(xm)) / (2 * EPS)
    return g


def fd_jac(f, x):
    """Central-difference Jacobian, shape f(x).shape + x.shape."""
    y = np.asarray(f(x))
    J = np.zeros(y.shape + np.shape(x))
    for i in np.ndindex(np.shape(x)):
        xp, xm = np.array(x, float), np.array(x, float)
        xp[i] += EPS
        xm[i] -= EPS
        J[(Ellipsis,) + i] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * EPS)
    return J


def close(a, b, tol=1e-6):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=tol, atol=tol)


# --- array creation: rules checked by differences ---------------------------------------

W5 = RNG.normal(size=5)
W34 = RNG.normal(size=(3, 4))


def lin_stop(s):
    return np.sum(W5 * np.linspace(0.3, s, 5))


def lin_both(v):
    return np.sum(W5[:4] * np.linspace(v[0], v[1], 4, endpoint=False))


def lin_arrays(v):
    # start and stop arrays, the samples along the last axis: (3, 4)
    return np.sum(W34 * np.linspace(v[:3], v[3], 4, axis=-1))


def full_scalar(s):
    return np.sum(W5[:3] * np.full(3, s))


def full_row(v):
    return np.sum(W34 * np.full((3, 4), v))


def full_like_of(x):
    # the fill value depends on x, the shape and dtype come from x too
    return np.sum(W5 * np.full_like(x, x[1] * x[2]))


def arange_start_step(v):
    return np.sum(np.sin(np.arange(v[0], 7.25, v[1])))


def bincount_weights(w):
    return np.sum(np.bincount(np.array([0, 3, 3, 1, 0]), w, 6) ** 2)


def heaviside_at_zero(v):
    return np.sum(W5 * np.heaviside(np.array([-1.0, 0.0, 2.0, 0.0, 1.0]), v))


def unique_weighted(x):
    return np.sum(W5 * np.unique(x) ** 2)


def array_of_scalars(v):
    a = np.array([v[0] * v[1], 2.0 * v[1], 3.0])
    return np.sum(a * np.asarray(v[0]))


def array_int_dtype(v):
    # an integer array has no derivative; the float factor after it has one
    return np.sum(np.array([v[0], v[1]], dtype=np.int64) * v[0])


CREATION = [
    (lin_stop, lambda: 1.7),
    (lin_both, lambda: RNG.normal(size=2)),
    (lin_arrays, lambda: RNG.normal(size=4)),
    (full_scalar, lambda: 0.4),
    (full_row, lambda: RNG.normal(size=4)),
    (full_like_of, lambda: RNG.normal(size=5)),
    (arange_start_step, lambda: np.array([0.3, 0.61])),
    (bincount_weights, lambda: RNG.normal(size=5)),
    (heaviside_at_zero, lambda: RNG.normal(size=5)),
    (unique_weighted, lambda: RNG.normal(size=5)),
    (array_of_scalars, lambda: RNG.normal(size=2)),
    (array_int_dtype, lambda: np.array([2.5, 3.25])),
]


@pytest.mark.parametrize("f,make", CREATION, ids=[f.__name__ for f, _ in CREATION])
def test_creation_rules_match_finite_differences(f, make):
    x = make()
    want = fd_grad(f, x)
    close(tp.grad(f)(x), want)
    # forward mode: the tangent along each basis vector
    if np.ndim(x) == 0:
        close(tp.jvp(f, (x,), (1.0,))[1], want)
    else:
        v = RNG.normal(size=np.shape(x))
        close(tp.jvp(f, (x,), (v,))[1], np.sum(want * v))
        close(tp.jacfwd(f)(x), want)
        close(tp.jacrev(f)(x), want)


def test_second_derivatives_through_creation_rules():
    x = np.array([0.3, 0.7])

    def f(v):
        return np.sum(np.linspace(v[0], v[1] ** 2, 5) ** 3) + np.sum(np.full(2, v[0] * v[1]) ** 2)
    h = tp.hessian(f)(x)
    close(h, fd_jac(tp.grad(f), x), 1e-5)
    close(tp.grad(lambda v: tp.grad(f)(v)[0])(x), h[0], 1e-5)


@pytest.mark.parametrize("f,make", [CREATION[0], CREATION[3], CREATION[6], CREATION[9]],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_creation_rules_compiled(f, make):
    x = make()
    close(tp.jit(tp.grad(f))(x), fd_grad(f, x))


def test_regressions_linspace_full_unique():
    # were zero: marked non-differentiable
    assert tp.grad(lambda s: np.linspace(0.0, s, 5).sum())(2.0) == pytest.approx(2.5)
    assert tp.grad(lambda s: np.full(3, s).sum())(2.0) == pytest.approx(3.0)
    assert tp.jvp(lambda s: np.full(3, s).sum(), (2.0,), (1.0,))[1] == pytest.approx(3.0)
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(tp.grad(lambda x: np.unique(x).sum())(x), [1.0, 1.0, 1.0])


def test_unique_gives_a_tie_to_the_first_occurrence():
    # where values tie, unique is not differentiable; its cotangent goes to
    # the first occurrence, as JAX's sort-and-mask jnp.unique does
    x = np.array([2.0, 1.0, 2.0, 1.0])
    np.testing.assert_array_equal(tp.grad(lambda x: np.unique(x).sum())(x), [1, 1, 0, 0])
    np.testing.assert_array_equal(tp.jit(tp.grad(lambda x: np.unique(x).sum()))(x), [1, 1, 0, 0])

    def g(x):
        u, inv = np.unique(x, return_inverse=True)
        return np.sum(u[inv] * np.arange(4.0))
    np.testing.assert_array_equal(tp.grad(g)(x), [2, 4, 0, 0])


def test_piecewise_constant_and_integer_functions_stay_zero():
    x = np.array([0.4, -1.3, 2.2])
    for f in (lambda x: np.sum(np.floor(x) * 1.0), lambda x: np.sum(np.sign(x)),
              lambda x: x[np.argmax(x)] * 0.0 + np.sum(np.round(x)),
              lambda x: np.sum(np.arange(3.0) * x.argmax())):
        np.testing.assert_array_equal(tp.grad(f)(x), np.zeros(3))


def test_methods_of_nondifferentiable_functions():
    # x.argmax() calls the npx twin of np.argmax: non-differentiable as it is
    x = np.array([1.0, 3.0, 2.0])
    np.testing.assert_array_equal(tp.grad(lambda x: x[x.argmax()] * 2.0)(x), [0, 2, 0])


def test_functions_that_sort_without_a_rule_are_errors():
    x = np.array([3.0, 1.0, 2.0])
    for f in (lambda x: np.sort(x)[0], lambda x: np.median(x), lambda x: np.partition(x, 1)[1]):
        with pytest.raises(TranspileError, match="no derivative rule"):
            tp.grad(f)(x)
        with pytest.raises(TranspileError, match="rule"):
            tp.jvp(f, (x,), (x,))


# --- np.einsum's sublist form ---------------------------------------------------------------

def ein_transpose(a):
    return np.einsum(a, (0, 1), (1, 0))


def ein_matmul(a):
    return np.einsum(a, [0, 1], B23, [1, 2], [0, 2])


def ein_implicit(a):
    return np.einsum(a, [1, 0], a, [1, 0])        # implicit output: labels in order


def ein_ellipsis(a):
    return np.einsum(a, [..., 0], [0, ...])


B23 = RNG.normal(size=(3, 2))


@pytest.mark.parametrize("f", [ein_transpose, ein_matmul, ein_implicit, ein_ellipsis],
                         ids=lambda f: f.__name__)
def test_einsum_sublist_form(f):
    a = RNG.normal(size=(2, 3))
    want = fd_jac(f, a)
    assert np.abs(want).max() > 0
    close(tp.jacrev(f)(a), want)
    close(tp.jacfwd(f)(a), want)
    close(tp.jit(f)(a), f(a))


def test_einsum_sublist_regression():
    a = np.arange(6.0).reshape(2, 3)
    J = tp.jacrev(ein_transpose)(a)
    np.testing.assert_array_equal(J, np.einsum("jk,il->ijkl", np.eye(2), np.eye(3)))


def test_einsum_sublists_that_are_not_constants_are_errors():
    def f(a):
        s = [1, 0]
        return np.einsum(a, s).sum()
    a = np.ones((2, 3))
    with pytest.raises(TranspileError, match="would be dropped"):
        tp.grad(f)(a)
    with pytest.raises(TranspileError, match="subscripts"):
        tp.jvp(f, (a,), (a,))


# --- outputs that cannot be differentiated (JAX's TypeError) ---------------------------------

def returns_none(x):
    y = x * 2.0
    return None


def returns_str(x):
    return "a"


def returns_int(x):
    return 3


def returns_bool(x):
    return x > 0.0


@pytest.mark.parametrize("wrap", [lambda f: f, tp.jit], ids=["eager", "jit"])
def test_grad_of_none_or_str_is_jax_type_error(wrap):
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions. Output was None."):
        wrap(tp.grad(returns_none))(1.0)
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions. Output was 'a'."):
        wrap(tp.value_and_grad(returns_str))(1.0)
    with pytest.raises(TypeError, match="grad requires real-valued outputs .* but got int64"):
        wrap(tp.grad(returns_int))(1.0)
    with pytest.raises(TypeError, match="grad requires real-valued outputs .* but got bool"):
        wrap(tp.grad(returns_bool))(1.0)


def test_grad_of_grad_and_hessian_of_bad_outputs():
    with pytest.raises(TypeError, match="Output was None"):
        tp.grad(tp.grad(returns_none))(1.0)
    with pytest.raises(TypeError, match="returned None"):
        tp.hessian(returns_none)(np.ones(2))
    with pytest.raises(TypeError, match="Output had shape"):
        tp.grad(tp.grad(lambda x: x * 2.0))(np.ones(2))


@pytest.mark.parametrize("f,what", [(returns_none, "None"), (returns_str, "'a'")])
def test_jacobians_and_vjp_of_none_or_str_are_type_errors(f, what):
    x = np.ones(2)
    for op in (tp.jacrev(f), tp.jacfwd(f), tp.jit(tp.jacrev(f))):
        with pytest.raises(TypeError, match="returned"):
            op(x)
    with pytest.raises(TypeError, match="vjp .*returned " + what):
        tp.vjp(f, x)


def test_jvp_follows_jax_on_none_and_strings():
    assert tp.jvp(returns_none, (1.0,), (1.0,)) == (None, None)     # an empty pytree
    with pytest.raises(TypeError, match="returned 'a'"):
        tp.jvp(returns_str, (1.0,), (1.0,))


def test_integer_outputs_jacrev_refuses_jacfwd_gives_zeros():
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs"):
        tp.jacrev(returns_int)(np.ones(2))
    np.testing.assert_array_equal(tp.jacfwd(returns_bool)(np.ones(2)), np.zeros((2, 2)))


# --- complex numbers: refused everywhere ------------------------------------------------------

def square(z):
    return z * z


def abs2_scaled(z):
    return np.abs(z * (1 + 2j)) ** 2


def abs_of_imaginary(x):
    return np.sum(np.abs(x * 1j))


def abs_shifted(x):
    return np.sum(np.abs(x + 1j))


def written_into_real(x):
    y = np.zeros(3)
    y[0] = np.sum(x * 1j)
    return np.sum(y)


def abs_written(x):
    z = x * 1j
    y = np.zeros(3)
    y[:] = np.abs(z)
    return np.sum(y)


def cast_to_complex(x):
    return np.sum(np.abs(x.astype(complex)))


def complex_sqrt(x):
    return np.sum(np.abs(np.sqrt(x - 5.0 + 0j)))


def complex_norm(x):
    return np.linalg.norm(x * 1j)


def real_part(x):
    return np.sum(np.exp(1j * x).real)


def complex_output(x):
    return np.sum(np.exp(1j * x) * np.exp(-1j * x))


def _operators(wrap):
    """Every derivative operator on a function of an array x: name -> call."""
    x, v = np.array([1.0, 2.0, 3.0]), np.ones(3)
    return {
        "grad": lambda f: wrap(tp.grad(f))(x),
        "value_and_grad": lambda f: wrap(tp.value_and_grad(f))(x),
        "vjp": lambda f: tp.vjp(f, x)[1](1.0),
        "jvp": lambda f: tp.jvp(f, (x,), (v,)),
        "jacfwd": lambda f: wrap(tp.jacfwd(f))(x),
        "jacrev": lambda f: wrap(tp.jacrev(f))(x),
        "hessian": lambda f: wrap(tp.hessian(f))(x),
        "linearize": lambda f: tp.linearize(f, x)[1](v),
    }


INSIDE = [abs_of_imaginary, abs_shifted, written_into_real, abs_written, cast_to_complex,
          complex_sqrt, complex_norm, real_part, complex_output]


@pytest.mark.parametrize("f", INSIDE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("op", list(_operators(lambda f: f)))
def test_complex_values_inside_are_refused(f, op):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        with pytest.raises((TypeError, TranspileError)):
            out = _operators(lambda f: f)[op](f)
            pytest.fail(f"{op} of {f.__name__} gave {out!r}")


@pytest.mark.parametrize("f", [abs_of_imaginary, abs_written, complex_output], ids=lambda f: f.__name__)
@pytest.mark.parametrize("op", ["grad", "jacrev", "jacfwd"])
def test_complex_values_inside_are_refused_compiled(f, op):
    with pytest.raises(TypeError):
        out = _operators(tp.jit)[op](f)
        pytest.fail(f"jit {op} of {f.__name__} gave {out!r}")


@pytest.mark.parametrize("wrap", [lambda f: f, tp.jit], ids=["eager", "jit"])
def test_complex_inputs_are_refused(wrap):
    z = 1 + 2j
    for f in (square, abs2_scaled):
        for call in (lambda: wrap(tp.grad(f))(z), lambda: wrap(tp.value_and_grad(f))(z),
                     lambda: wrap(tp.jacfwd(f))(np.array([z])), lambda: wrap(tp.jacrev(f))(np.array([z])),
                     lambda: wrap(tp.hessian(f))(z)):
            with pytest.raises(TypeError, match="transpile does not differentiate complex numbers"):
                call()
    with pytest.raises(TypeError, match="complex"):
        tp.vjp(square, z)
    with pytest.raises(TypeError, match="complex"):
        tp.jvp(square, (z,), (1.0 + 0j,))
    with pytest.raises(TypeError, match="complex"):
        tp.jvp(square, (1.0,), (1j,))
    with pytest.raises(TypeError, match="complex"):
        tp.linearize(square, z)


def test_complex_regressions_are_errors_not_numbers():
    # were 2 (the output cut to its real part) and -22 (no conjugate)
    with pytest.raises(TypeError, match="complex"):
        tp.grad(lambda z: z * z)(1 + 2j)
    with pytest.raises(TypeError, match="complex"):
        tp.grad(lambda z: np.abs(z * (1 + 2j)) ** 2)(1 + 2j)


def test_holomorphic_and_complex_cotangents_are_refused():
    for op in (tp.grad, tp.value_and_grad, tp.jacfwd, tp.jacrev, tp.hessian):
        with pytest.raises(TypeError, match="holomorphic=True is not supported"):
            op(square, holomorphic=True)
    out, pullback = tp.vjp(lambda x: x * 2.0, np.ones(2))
    with pytest.raises(TypeError, match="complex"):
        pullback(np.ones(2) * 1j)


def test_real_functions_still_work_beside_the_checks():
    x = np.array([0.5, -1.5, 2.0])

    def f(x):
        return np.sum(np.abs(x) * np.sin(x))
    close(tp.grad(f)(x), fd_grad(f, x))
    close(tp.jit(tp.grad(f))(x), fd_grad(f, x))
    close(tp.jacrev(f)(x), fd_grad(f, x))
    close(tp.jvp(f, (x,), (np.ones(3),))[1], np.sum(fd_grad(f, x)))


def test_complex_values_inside_transformations_called_from_jit_and_vmap():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="complex"):
        tp.jit(lambda x, t: tp.jvp(abs_of_imaginary, (x,), (t,)))(x, np.ones(3))
    with pytest.raises(TypeError, match="complex"):
        tp.vmap(tp.grad(abs_of_imaginary))(np.stack([x, x]))
    # a real function through the same checked JVP: unchanged
    out, t = tp.jit(lambda x, t: tp.jvp(sine, (x,), (t,)))(x, np.ones(3))
    close(t, np.cos(x))


def sine(x):
    return np.sin(x)
