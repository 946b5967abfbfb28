"""Reverse mode: golden generated source, the API's conventions, its errors.

Golden texts are the reviewed output of each pass for small functions in
`golden_reverse_src.py` (line numbers `{+k}` are relative to each function's `def`).
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
    _t2_bar = tape.grad_seed(_t2)
    _t1_bar = adjoint.unreduce(_t2_bar, _t1, None, False)
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
    # Loop temporaries: index computations recomputed at the top of each trip's adjoint
    # (_t5, _t8, _t10, _t11), values popped there (_t9), tapes of values read only for their
    # shape kept only for arrays (tape.keeps), one tape per in-place write site (_saved_y1),
    # tapes of a range loop allocated once (on the first trip) and indexed by the trip;
    # cotangents of the line's element-wise temporaries unsummed (_t7, _t12: no unbroadcast,
    # no tape) and the line's arithmetic in one expression (_t13), as Numba fuses it.
    ('recurrence', None, 'grad_recurrence', '''
def grad_recurrence(x):
    # forward sweep
    # L{+1}: y = np.zeros(x.shape[0])
    _t1 = x.shape
    _t2 = checks.getitem(_t1, 0, 'golden_reverse_src.py:{+1}')
    y = np.zeros(_t2)
    # L{+2}: for i in range(1, x.shape[0]):
    _t3 = x.shape
    _t4 = checks.getitem(_t3, 0, 'golden_reverse_src.py:{+2}')
    _trips1 = len(range(1, _t4))
    for i in range(1, _t4):
        # L{+3}: y[i] = 0.9 * y[i - 1] + np.sin(x[i]) * x[i - 1]
        _t5 = i - 1
        _t6 = checks.getitem(y, _t5, 'golden_reverse_src.py:{+3}')
        if tape.keeps(_t6):
            if i == 1:
                _tape__t6 = tape.alloc(_t6, _trips1)
            _tape__t6[i - 1] = _t6
        _t8 = checks.getitem(x, i, 'golden_reverse_src.py:{+3}')
        _t9 = np.sin(_t8)
        if i == 1:
            _tape__t9 = tape.alloc(_t9, _trips1)
        _tape__t9[i - 1] = _t9
        _t10 = i - 1
        _t11 = checks.getitem(x, _t10, 'golden_reverse_src.py:{+3}')
        _t13 = 0.9 * _t6 + _t9 * _t11
        if tape.keeps(_t13):
            if i == 1:
                _tape__t13 = tape.alloc(_t13, _trips1)
            _tape__t13[i - 1] = _t13
        if i == 1:
            _saved_y1 = tape.alloc(checks.getitem(y, i,
                'golden_reverse_src.py:{+3}'), _trips1)
        _saved_y1[i - 1] = tape.save(checks.getitem(y, i,
            'golden_reverse_src.py:{+3}'))
        checks.setitem(y, i, _t13, 'golden_reverse_src.py:{+3}')
    # L{+4}: return np.sum(y * y)
    _t14 = y * y
    _t15 = npx.sum(_t14)
    # adjoint sweep
    _value1 = _t15
    x_bar = adjoint.zeros_like(x)
    _t15_bar = tape.grad_seed(_t15)
    _t14_bar = adjoint.unreduce(_t15_bar, _t14, None, False)
    y_bar = adjoint.unbroadcast(_t14_bar * y, y)
    y_bar = y_bar + adjoint.unbroadcast(_t14_bar * y, y)
    # L{+2}: for i in range(1, x.shape[0]):
    for i in range(_t4 - 1, 1 - 1, -1):
        # L{+3}: y[i] = 0.9 * y[i - 1] + np.sin(x[i]) * x[i - 1]
        _t5 = i - 1
        if tape.keeps(_t6):
            _t6 = _tape__t6[i - 1]
        _t8 = checks.getitem(x, i, 'golden_reverse_src.py:{+3}')
        _t9 = _tape__t9[i - 1]
        _t10 = i - 1
        _t11 = checks.getitem(x, _t10, 'golden_reverse_src.py:{+3}')
        if tape.keeps(_t13):
            _t13 = _tape__t13[i - 1]
        _t13_bar = adjoint.zeros_like(_t13)
        _t13_bar = _t13_bar + adjoint.unbroadcast(y_bar[i], _t13)
        y_bar[i] = 0.0
        checks.setitem(y, i, _saved_y1[i - 1], 'golden_reverse_src.py:{+3}')
        _t9_bar = adjoint.unbroadcast(_t13_bar * _t11, _t9)
        _t11_bar = adjoint.unbroadcast(_t13_bar * _t9, _t11)
        x_bar = adjoint.add_at(x_bar, _t10, _t11_bar)
        x_bar = adjoint.add_at(x_bar, i, _t9_bar * np.cos(_t8))
        _t6_bar = adjoint.unbroadcast(_t13_bar * 0.9, _t6)
        y_bar = adjoint.add_at(y_bar, _t5, _t6_bar)
    # L{+4}: return np.sum(y * y)
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
    expected = re.sub(r"\{([+-]\d+)\}", lambda k: str(first + int(k.group(1))), expected.strip())
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


def test_vjp_has_aux_returns_out_pullback_aux():
    x = np.array([1.0, 2.0])
    out, pullback, aux = tp.vjp(m.with_aux, x, has_aux=True)
    assert out == pytest.approx(5.0) and aux == pytest.approx(10.0)
    (ct,) = pullback(3.0)
    np.testing.assert_allclose(ct, 3.0 * 2 * x)     # the aux carries no cotangent
    with pytest.raises(TypeError, match="pair"):
        tp.vjp(m.simple, x, x, has_aux=True)


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


def _fd_multi(f, args, k, eps=1e-6):
    return _fd(lambda v: f(*args[:k], v, *args[k + 1:]), args[k], eps)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["recurrence", "mixed_saves", "growing_slices"])
def test_tapes_under_jit_match_finite_differences(name):
    """Loop temporaries recomputed or popped per trip, shape-only tapes dropped for numbers,
    one saved-region tape per write site (a number at one, a slice at another)."""
    f = getattr(m, name)
    x = np.array([0.3, -1.1, 0.7, 1.9, -0.4])
    want = _fd(f, x)
    for g in (tp.grad(f), tp.jit(tp.grad(f))):
        np.testing.assert_allclose(g(x), want, rtol=1e-6, atol=1e-8)


def test_unpacking_an_array_reads_its_items():
    theta, mat = np.array([0.5, -2.0]), np.ones((3, 4))
    ga, gm = tp.grad(m.unpacks, argnums=(0, 1))(theta, mat)
    np.testing.assert_allclose(ga, [-2.0 * 3, 0.5 * 3])
    np.testing.assert_allclose(gm, np.full((3, 4), 4.0))
    with pytest.raises(ValueError, match=r"too many values to unpack \(expected 2\)"):
        tp.grad(m.unpacks)(np.ones(3), mat)
    with pytest.raises(ValueError, match=r"not enough values to unpack \(expected 2, got 1\)"):
        tp.grad(m.unpacks)(np.ones(1), mat)


@pytest.mark.slow
def test_unpacking_an_array_under_jit():
    theta, mat = np.array([0.5, -2.0]), np.ones((3, 4))
    g = tp.jit(tp.grad(m.unpacks, argnums=(0, 1)))
    ga, gm = g(theta, mat)
    np.testing.assert_allclose(ga, [-2.0 * 3, 0.5 * 3])
    np.testing.assert_allclose(gm, np.full((3, 4), 4.0))
    with pytest.raises(ValueError, match=r"too many values to unpack \(expected 2\)"):
        g(np.ones(3), mat)
