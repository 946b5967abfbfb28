"""Reverse mode: golden generated source, the API's conventions, its errors.

Golden texts are the reviewed output of each pass for small functions in
`golden_reverse_src.py` (line comments are relative to each function's `def`).
"""
import re

import numpy as np
import pytest

import transpile as tp
from transpile.errors import TranspileError
from transpile.pipeline import generate

import golden_reverse_src as m

GOLDEN = [
    ('early_return', 'cflow', 'early_return', '''
def early_return(x):
    # L{+1}: if x < 3.0:
    if x < 3.0:
        # L{+2}: return 3.0 * x ** 2
        _ret = 3.0 * x ** 2
    else:
        # L{+3}: y = -4.0 * x
        y = -4.0 * x
        # L{+4}: return y
        _ret = y
    # L{+4}: return y
    return _ret
'''),
    ('skip_negatives', 'cflow', 'skip_negatives', '''
def skip_negatives(x):
    # L{+1}: s = 0.0
    s = 0.0
    # L{+2}: for i in range(x.shape[0]):
    for i in range(x.shape[0]):
        # L{+3}: if x[i] < 0.0:
        if x[i] < 0.0:
            pass
        else:
            # L{+5}: s += np.sin(x[i])
            s += np.sin(x[i])
    # L{+6}: return s
    _ret = s
    return _ret
'''),
    ('nested_expr', 'anf', 'nested_expr', '''
def nested_expr(x, w):
    # L{+1}: z = np.sum(np.tanh(x @ w) * 2.0) + 1.0
    _t1 = x @ w
    _t2 = np.tanh(_t1)
    _t3 = _t2 * 2.0
    _t4 = npx.sum(_t3)
    z = _t4 + 1.0
    # L{+2}: x *= 2.0
    x = x * 2.0
    # L{+3}: return z
    return z
'''),
    ('halving', 'anf', 'halving', '''
def halving(x):
    # L{+1}: while x > 1.0:
    _t1 = x > 1.0
    while _t1:
        # L{+2}: x = x / 2.0
        x = x / 2.0
        # L{+1}: while x > 1.0:
        _t1 = x > 1.0
    # L{+3}: return x
    return x
'''),
    ('simple', None, 'grad_simple', '''
def grad_simple(x, w):
    # forward sweep
    # L{+1}: z = x * w
    z = x * w
    # L{+2}: return np.sum(np.sin(z))
    _t1 = np.sin(z)
    _t2 = npx.sum(_t1)
    # adjoint sweep
    _value1 = _t2
    _t1_bar = adjoint.zeros_like(_t1)
    _t2_bar = tape.grad_seed(_t2)
    _t1_bar = _t1_bar + adjoint.unreduce(_t2_bar, _t1, None, False)
    z_bar = _t1_bar * np.cos(z)
    # L{+1}: z = x * w
    x_bar = adjoint.unbroadcast(z_bar * w, x)
    # L{+2}: return np.sum(np.sin(z))
    return _value1, (x_bar,)
'''),
    ('halving', None, 'grad_halving', '''
def grad_halving(x):
    # forward sweep
    _stack_x = []
    # L{+1}: while x > 1.0:
    _stack_x.append(x)
    _t1 = x > 1.0
    _n1 = 0
    while _t1:
        # L{+1}: while x > 1.0:
        _n1 = _n1 + 1
        # L{+2}: x = x / 2.0
        x = x / 2.0
        _stack_x.append(x)
        # L{+1}: while x > 1.0:
        _t1 = x > 1.0
    # adjoint sweep
    # L{+3}: return x
    _value1 = x
    x_bar = tape.grad_seed(x)
    # L{+1}: while x > 1.0:
    for _k1 in range(_n1):
        # L{+2}: x = x / 2.0
        _g1 = x_bar
        _stack_x.pop()
        if len(_stack_x) > 0:
            # L{+2}: x = x / 2.0
            x = _stack_x[-1]
        x_bar = adjoint.unbroadcast(_g1 / 2.0, x)
    # L{+3}: return x
    return _value1, (x_bar,)
'''),
]

def _body(text, name):
    out, keep = [], False
    for line in text.splitlines():
        if line.startswith("def "):
            keep = line.startswith(f"def {name}(")
        if keep:
            out.append(line)
    return "\n".join(out).strip()


@pytest.mark.parametrize("fname,stop,gname,expected", GOLDEN, ids=[f"{c[0]}-{c[1]}" for c in GOLDEN])
def test_golden(fname, stop, gname, expected):
    fn = getattr(m, fname)
    first = fn.__code__.co_firstlineno
    expected = re.sub(r"# L\{([+-]\d+)\}:", lambda k: f"# L{first + int(k.group(1))}:", expected.strip())
    _, text, _ = generate(fn, {}, transform="grad", backend="python", stop_after=stop)
    assert _body(text, gname) == expected


def _fd(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def test_float_in_float_out_and_array_shape():
    g = tp.grad(m.early_return)(2.0)
    assert type(g) is float and g == pytest.approx(12.0)
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    gx = tp.grad(m.simple)(x, np.ones((2, 2)))
    assert gx.shape == x.shape and gx.dtype == x.dtype
    np.testing.assert_allclose(gx, np.cos(x), rtol=1e-12)


def test_argnums_tuple_and_value_and_grad():
    x, w = np.array([0.5, 1.0, 2.0]), np.array([1.0, -2.0, 0.3])
    gx, gw = tp.grad(m.simple, argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, w * np.cos(x * w), rtol=1e-12)
    np.testing.assert_allclose(gw, x * np.cos(x * w), rtol=1e-12)
    value, gw2 = tp.value_and_grad(m.simple, argnums=1)(x, w)
    assert value == pytest.approx(np.sum(np.sin(x * w)))
    np.testing.assert_allclose(gw2, gw)


def test_has_aux():
    x = np.array([1.0, 2.0])
    g, aux = tp.grad(m.with_aux, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x)
    assert aux == pytest.approx(10.0)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_recursion_with_value_dependent_base_case(backend):
    g = tp.grad(m.rec_power)
    if backend == "numba":
        g = tp.jit(g)
    assert g(1.5, 4) == pytest.approx(4 * 1.5 ** 3)


def test_while_loop_matches_finite_differences():
    for x0 in (0.7, 5.0, 37.0):
        assert tp.grad(m.halving)(x0) == pytest.approx(_fd(m.halving, x0), rel=1e-6)


def test_grad_of_vector_output_names_scalar_and_shape():
    with pytest.raises(TypeError, match=r"scalar.*\(3,\)"):
        tp.grad(m.vector_out)(np.ones(3))


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match="int64"):
        tp.grad(m.vector_out)(np.arange(3))
    with pytest.raises(TypeError, match="int"):
        tp.grad(m.early_return)(2)


def test_missing_rule_names_function_line_and_remedies():
    with pytest.raises(TranspileError) as info:
        tp.grad(m.no_rule)(np.ones(4))
    err = info.value
    assert "fft" in str(err) and "stop_gradient" in str(err) and "register" in str(err).lower()
    assert err.lineno == m.no_rule.__code__.co_firstlineno + 1


def test_stop_gradient_blocks_the_flow():
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(tp.grad(m.with_stop)(x), 2 * x + np.exp(x) * x, rtol=1e-12)


def test_in_place_write_to_an_input_leaves_the_callers_array_alone():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    g = tp.grad(m.writes_input)(x)
    np.testing.assert_array_equal(x, before)
    # f = (5 x1)^2 + x1^2 + x2^2  ->  [0, 52 x1, 2 x2]
    np.testing.assert_allclose(g, [0.0, 52 * 2.0, 6.0])


def test_vjp_of_vector_function():
    x = np.array([0.1, 0.7, -0.4])
    out, pullback = tp.vjp(m.vector_out, x)
    np.testing.assert_allclose(out, np.sin(x))
    ct = np.array([1.0, -2.0, 0.5])
    (gx,) = pullback(ct)
    np.testing.assert_allclose(gx, ct * np.cos(x), rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        pullback(np.ones(2))


def test_grad_of_grad_through_an_early_return():
    # forward mode over the generated gradient (issue 4): 6x below 3, 0 above
    assert tp.grad(tp.grad(m.early_return))(2.0) == pytest.approx(6.0)
    assert tp.grad(tp.grad(m.early_return))(4.0) == pytest.approx(0.0)


def test_generated_source_has_sections_and_bars():
    text = tp.grad(m.simple).source(np.ones(2), np.ones(2))
    assert "# forward sweep" in text and "# adjoint sweep" in text and "x_bar" in text
