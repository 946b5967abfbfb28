"""Plain `tp.jit` (backend 'numba') against eager NumPy: values AND dtypes.

The first tests are differential: small programs generated from a seed run
eagerly and jitted, and every result must have NumPy's dtype and value.
Then one test for each difference the issue listed (fixed), and one for each
difference that remains (documented in README.md, "Differences from NumPy
under jit"): those tests pin the documented behaviour.
"""
import importlib.util
import os
import random
import tempfile
import warnings

import numpy as np
import pytest

import transpile as tp
from transpile.errors import JitDifferenceError, TranspileError, TranspileTypingError, TranspileWarning

# Generated modules live in a fixed folder: the same seed gives the same file,
# so Numba's disk cache serves later runs.
_DIR = os.path.join(tempfile.gettempdir(), "transpile-test-numpy-semantics")


def _module(name, source):
    os.makedirs(_DIR, exist_ok=True)
    path = os.path.join(_DIR, name + ".py")
    if not os.path.exists(path) or open(path).read() != source:
        with open(path, "w") as fh:
            fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _quiet(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def _same(want, got, what):
    """`got` has `want`'s dtype, shape and value (floats: to a few ulps)."""
    w, g = np.asarray(want), np.asarray(got)
    assert w.dtype == g.dtype, f"{what}: NumPy gives {w.dtype}, jit {g.dtype}"
    assert w.shape == g.shape, f"{what}: NumPy shape {w.shape}, jit {g.shape}"
    if w.dtype.kind in "fc":
        rtol = 4e-7 if w.dtype in (np.float32, np.complex64) else 1e-14
        np.testing.assert_allclose(g, w, rtol=rtol, atol=0, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


# -- differential: random expressions -------------------------------------------------
_CONSTANTS = ["2.0", "0.5", "3", "1", "-2", "0.1", "1e3", "7", "True"]


class _Expressions:
    """Random expressions over an array `x` (and `y`, same dtype), Python
    numbers (`s` a Python float or int argument, `n` a Python int argument,
    literals, `len(x)`, `x.shape[0]`) and, for scalar cases, `x` a NumPy scalar."""

    def __init__(self, seed, dtype, scalar):
        self.r = random.Random(seed)
        small = np.dtype(dtype) in (np.uint8, np.int8, np.int16, np.bool_)
        cplx = np.dtype(dtype).kind == "c"
        self.ops = ["+", "-", "*", "//", "%", "**", "==", "!="]
        if not small:
            self.ops.append("/")            # small ints / small ints: a documented difference
        if not cplx:
            self.ops += ["<", ">="]         # ordering of complex numbers: Numba cannot
        if np.dtype(dtype).kind in "iub":
            self.ops += ["&", "|", "^"]
        self.ufuncs = ["np.add", "np.multiply", "np.subtract"]
        if not cplx:
            self.ufuncs += ["np.maximum", "np.minimum", "np.fmax", "np.fmin"]
        if not small and not cplx:
            self.ufuncs += ["np.arctan2", "np.hypot", "np.power"]
        self.unary = [] if small else ["np.sin", "np.exp", "np.sqrt", "np.tanh", "np.abs"]
        self.pool = ["x", "x", "s", "n", "C", "C", "len(x)", "x.shape[0]"] + ([] if scalar else ["y"])
        self.scalar = scalar
        self.cond = "x.real > 1" if cplx else "x > 1"

    def operand(self, depth):
        if depth > 0 and self.r.random() < 0.4:
            return self.expr(depth - 1)
        v = self.r.choice(self.pool)
        return self.r.choice(_CONSTANTS) if v == "C" else v

    def expr(self, depth=2):
        r = self.r
        k = r.random()
        a, b = self.operand(depth), self.operand(depth)
        if k < 0.6:
            return f"({a} {r.choice(self.ops)} {b})"
        if k < 0.75:
            return f"{r.choice(self.ufuncs)}({a}, {b})"
        if k < 0.85 and not self.scalar:
            return f"np.where({self.cond}, {a}, {b})"
        if self.unary:
            return f"{r.choice(self.unary)}({a})"
        return f"(-{a})"


def _eager_ok(expr, args):
    x, y, s, n = args
    try:
        v = _quiet(eval, expr, {"np": np}, {"x": x, "y": y, "s": s, "n": n})
    except Exception:
        return False
    d = np.asarray(v).dtype
    return d.kind in "biufc" and not (d.kind == "f" and d.itemsize == 2)


def _inputs(dtype, s, scalar):
    x = (np.arange(1, 5) % 3 + 1).astype(dtype)
    y = (np.arange(4)[::-1] + 1).astype(dtype)
    if scalar:
        x = x[1]
    return x, y, s, 2


# (dtype of x, s, x a NumPy scalar?)
_CASES = [
    ("float32", 1.5, False), ("float32", 3, False), ("float64", 0.25, False), ("float64", 4, False),
    ("int32", 3, False), ("int32", 2.5, False), ("int64", 5, False), ("int64", 0.75, False),
    ("uint8", 2, False), ("bool", 2, False), ("complex64", 1.5, False), ("int16", 3, False),
    ("float32", 2.5, True), ("float32", 3, True), ("float64", 3, True), ("int64", 1.5, True),
    ("int64", 6, True), ("complex64", 2, True),
]


@pytest.mark.parametrize("case", range(len(_CASES)))
def test_random_expressions_match_numpy(case):
    dtype, s, scalar = _CASES[case]
    args = _inputs(dtype, s, scalar)
    gen = _Expressions(1000 + case, dtype, scalar)
    exprs = []
    while len(exprs) < 8:
        e = gen.expr()
        if _eager_ok(e, args):
            exprs.append(e)
    name = f"expr_{case}_{dtype}_{'scalar' if scalar else 'array'}"
    body = "\n".join(f"    r{i} = {e}" for i, e in enumerate(exprs))
    src = (f"import numpy as np\n\n\ndef {name}(x, y, s, n):\n{body}\n"
           f"    return ({', '.join(f'r{i}' for i in range(len(exprs)))},)\n")
    fn = getattr(_module(name, src), name)
    want = _quiet(fn, *args)
    got = _quiet(tp.jit(fn), *args)
    for e, w, g in zip(exprs, want, got):
        _same(w, g, f"{e} with x {dtype} {'scalar' if scalar else 'array'}, s={s!r}")


# -- differential: small programs -------------------------------------------------------
_PROGRAMS = {
    "loop_accumulate": """
def loop_accumulate(x, c):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * 0.1 + c
    return s
""",
    "in_place": """
def in_place(x, c):
    y = x.copy()
    y += 0.1
    y *= c
    y[0] -= 1.5
    return y
""",
    "chain": """
def chain(x, c):
    a = np.sin(x) * x * 2.0
    b = 1.0 - np.exp(-x) / (1.0 + c)
    w = np.maximum(x, 0.0) + np.where(x > 0.5, x, 0.0)
    return a, b, w, (x > 0.25) & (x < 2.5), x.sum() * 0.5, x.mean() + c
""",
    "callee": """
def scale(v, k):
    return v * k + 1.0


def callee(x, c):
    return scale(x, 0.5), scale(x, c), scale(x[0], 2.0)
""",
    "ints": """
def ints(x, c):
    n = x.shape[0]
    total = 0
    for i in range(n):
        total = total + i * i
    return total, n * 3 // 2, x // 2, x % 3, x * 2 - 1
""",
    "best": """
def best(x, c):
    m = -np.inf
    for i in range(x.shape[0]):
        if x[i] * c > m:
            m = x[i] * c
    return m
""",
}


@pytest.mark.parametrize("name", sorted(_PROGRAMS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_programs_match_numpy(name, dtype):
    fn = getattr(_module(f"prog_{name}", "import numpy as np\n" + _PROGRAMS[name]), name)
    x = (np.arange(1, 6) % 4 + 0.5).astype(dtype)
    if name == "ints":
        x = np.arange(5).astype("int32" if dtype == "float32" else "int64")
    for c in (0.5, 2):
        want = _quiet(fn, x, c)
        got = _quiet(tp.jit(fn), x, c)
        for k, (w, g) in enumerate(zip(want if isinstance(want, tuple) else (want,),
                                       got if isinstance(got, tuple) else (got,))):
            _same(w, g, f"{name} result {k}, x {x.dtype}, c={c!r}")


SCALE = 2.0


def affine(p, x):
    a, b = p
    return x * a + b * SCALE


def test_python_numbers_in_tuples_and_globals_are_weak():
    global SCALE
    x = np.ones(3, np.float32)
    f = tp.jit(affine)
    for p in ((2.0, 1), (np.float64(2.0), 1), (0.5, np.float64(1.0))):
        _same(affine(p, x), f(p, x), f"p={p!r}")
    try:
        SCALE = np.float64(2.0)      # a global read at call time: now a NumPy value
        _same(affine((2.0, 1), x), f((2.0, 1), x), "global np.float64")
    finally:
        SCALE = 2.0


# -- the list ------------------------------------------------------------------
def sin_scale(x):
    return np.sin(x) * x * 2.0


def test_float32_stays_float32():
    x = np.linspace(0, 1, 5, dtype=np.float32)
    _same(sin_scale(x), tp.jit(sin_scale)(x), "np.sin(x) * x * 2.0")
    _same(sin_scale(x[2]), tp.jit(sin_scale)(x[2]), "on a float32 scalar")
    assert type(tp.jit(sin_scale)(x[2])) is np.float32     # a NumPy scalar, not a Python float


def cube(n):
    return n * n * n


def test_python_int_overflow_raises_instead_of_wrapping():
    f = tp.jit(cube)
    assert f(2 ** 20) == 2 ** 60
    with pytest.raises(OverflowError, match="64 bits") as info:
        f(2 ** 30)                      # Python gives 2**90; int64 arithmetic would give 0
    assert "test_jit_numpy_semantics.py" in str(info.value)    # at the user's line
    with pytest.raises(OverflowError, match="does not fit in 64 bits"):
        f(2 ** 70)                      # an argument no int64 holds
    assert cube(np.int64(2 ** 30)) == f(np.int64(2 ** 30))     # NumPy ints wrap, in both


def draws(n):
    return np.random.rand(n), np.random.normal(0.0, 1.0, n), np.random.randint(0, 100, n)


def test_np_random_seed_outside_reaches_jitted_code():
    np.random.seed(0)
    got = tp.jit(draws)(4)
    after_jit = np.random.rand(2)
    np.random.seed(0)
    want = draws(4)
    after_numpy = np.random.rand(2)
    for w, g in zip(want, got):
        _same(w, g, "draws after np.random.seed(0)")
    _same(after_numpy, after_jit, "NumPy's stream continues after the jitted call")


def seeded_inside(n):
    np.random.seed(5)
    return np.random.standard_normal(n)


def test_np_random_seed_inside_is_numpys():
    _same(seeded_inside(3), tp.jit(seeded_inside)(3), "np.random.seed inside")


def fstring(x, n):
    return f"{x.sum()} {n:3d} {x[0]!r} {x[0]:.3f}|" + str(x[0])


def test_fstrings_format_like_python():
    x = np.full(3, 0.1, np.float32)
    assert tp.jit(fstring)(x, 7) == fstring(x, 7)


def prints(x):
    print(x[0], x.sum(), 3)


def test_print_formats_like_python(capfd):
    x = np.full(2, 0.1, np.float32)
    prints(x)
    want = capfd.readouterr().out
    tp.jit(prints)(x)
    assert capfd.readouterr().out == want


def divide(a, b):
    return a / b


def test_float_division_by_zero_numpy_scalars_give_inf():
    f = tp.jit(divide)
    assert f(np.float64(1), np.float64(0)) == np.inf
    assert np.isnan(f(np.float64(0), np.float64(0)))
    assert f(np.ones(2), 0.0)[0] == np.inf
    assert f(np.float32(-1), 0.0) == -np.inf
    with pytest.raises(ZeroDivisionError, match="test_jit_numpy_semantics.py"):
        f(1.0, 0.0)                     # two Python floats: Python's error


# -- what remains different (README: "Differences from NumPy under jit") ---------------
def mixed(x, t):
    return x * t


def test_numpy_scalar_of_another_kind_with_an_array_is_numpys():
    x = np.ones(3, np.float32)
    for args in [(x, np.int64(2)), (np.ones(3, np.int32), np.float32(2)), (x, np.ones((2, 3), np.int64)),
                 (x, np.float64(0.1))]:
        _same(mixed(*args), tp.jit(mixed)(*args), str(args))


def ufuncs_of_mixed(x, t):
    return np.maximum(x, t), np.add(x, t) * 2.0, np.power(x, t), np.arctan2(x, t) + 1.0


def test_binary_ufuncs_of_an_array_and_a_numpy_scalar_of_another_kind_are_numpys():
    for x, t in [(np.array([0.1, 3], np.float32), np.int64(2)), (np.array([1, 2], np.int32), np.float32(1.5)),
                 (np.array([0.1, 3], np.float32), np.float64(0.3))]:
        for k, (w, g) in enumerate(zip(ufuncs_of_mixed(x, t), tp.jit(ufuncs_of_mixed)(x, t))):
            _same(w, g, f"{x.dtype} with {type(t).__name__}: {k}")


def scaled_sum(x, y, t):
    return ((x + y) * t) + x


def test_numpy_scalar_of_another_kind_with_an_inner_array_expression_is_an_error():
    x = np.ones(3, np.float32)
    assert scaled_sum(x, x, np.int64(2)).dtype == np.float64
    with pytest.raises(TranspileTypingError, match="NumPy 2 gives float64"):
        tp.jit(scaled_sum)(x, x, np.int64(2))


def scalar_ops(x, i):
    return x[i] + x[i], x[i] * x[i], -x[i], x[i] - 1


def test_narrow_numpy_integer_scalars_wrap_as_numpys():
    a = np.int32(2 ** 20)
    assert mixed(a, a) == 0 and type(mixed(a, a)) is np.int32      # (NumPy warns and wraps)
    _same(mixed(a, a), tp.jit(mixed)(a, a), "int32 * int32")
    assert type(tp.jit(mixed)(a, a)) is np.int32
    for x in (np.array([100, 3], np.int8), np.array([200, 3], np.uint8), np.array([40000, 3], np.uint16)):
        for k, (w, g) in enumerate(zip(_quiet(scalar_ops, x, 0), tp.jit(scalar_ops)(x, 0))):
            _same(w, g, f"{x.dtype} op {k}")
        assert type(tp.jit(scalar_ops)(x, 0)[0]) is type(scalar_ops(x, 1)[0])


def test_division_by_zero_gives_no_runtime_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning):
            divide(np.ones(1), 0.0)
        assert tp.jit(divide)(np.ones(1), 0.0)[0] == np.inf


def gamma_draws(n):
    return np.random.gamma(2.0, 1.0, n)


def test_random_functions_with_other_draws_warn_when_generated():
    with pytest.warns(TranspileWarning, match="np.random.gamma under jit draws other numbers"):
        out = tp.jit(gamma_draws)(4)
    assert out.shape == (4,) and (out > 0).all()


def mixed_not_float32(x):
    s = 0.1
    for i in range(x.shape[0]):
        s = s + x[i]
    return s


def test_mixed_variable_that_float32_cannot_hold_is_refused_where_it_would_differ():
    x = np.ones(3, np.float32)
    assert type(mixed_not_float32(x)) is np.float32
    with pytest.warns(TranspileWarning, match="float32 cannot hold exactly"):
        with pytest.raises(JitDifferenceError, match="`s` holds a Python float") as err:
            tp.jit(mixed_not_float32)(x)
    assert err.value.lineno == mixed_not_float32.__code__.co_firstlineno + 3
    y = np.ones(3)      # float64 values: nothing differs
    assert tp.jit(mixed_not_float32)(y) == mixed_not_float32(y)


def int_started_sum(x):
    total = 0
    for i in range(x.shape[0]):
        total += x[i]
    return total


def int_started_sum_fixed(x):
    total = np.int8(0)
    for i in range(x.shape[0]):
        total += x[i]
    return total


def test_variable_started_as_a_python_int_then_narrow_values_is_refused():
    x = np.array([1.5, 2.25], np.float32)
    assert type(int_started_sum(x)) is np.float32
    with pytest.raises(JitDifferenceError, match="NumPy computes this in float32"):
        tp.jit(int_started_sum)(x)
    y = np.array([100, 100], np.int8)
    assert _quiet(int_started_sum, y) == -56                    # NumPy wraps at 8 bits
    with pytest.raises(JitDifferenceError, match=r"`total = np.int8\(...\)`"):
        tp.jit(int_started_sum)(y)
    # what the message asks for: NumPy's values and dtype
    got = tp.jit(int_started_sum_fixed)(y)
    assert got == _quiet(int_started_sum_fixed, y) == -56 and np.asarray(got).dtype == np.int8
    z = np.array([1.5, 2.25])      # float64 values: nothing differs
    assert tp.jit(int_started_sum)(z) == 3.75


def mixed_branch(x, c):
    t = 0
    if c > 0:
        t = x[0]
    return t * x


def mixed_bound_only(x, c):
    t = 0
    if c > 0:
        t = x[0]
    return t


def test_mixed_variable_read_or_bound_where_it_would_differ_is_refused():
    x = np.arange(5, dtype=np.int8)
    with pytest.raises(JitDifferenceError):
        tp.jit(mixed_branch)(x, 0)
    with pytest.raises(JitDifferenceError, match="assigned a NumPy int8 here"):
        tp.jit(mixed_bound_only)(x, 1)
    x64 = np.arange(5.0)
    for c in (0, 1):
        assert np.array_equal(tp.jit(mixed_branch)(x64, c), mixed_branch(x64, c))


def inplace_scalar(x):
    t = x[0]
    for i in range(1, x.shape[0]):
        t *= x[i]
        t += x[i]
    return t


def inplace_array(x):
    y = x[:2]
    y += x[1]
    y *= 3
    return x


def test_in_place_operator_on_a_local_keeps_numpys_dtype():
    for dtype in (np.int8, np.uint8, np.int16, np.int32, np.float32, np.float64):
        x = (np.arange(1, 9) * 7).astype(dtype)
        ref = _quiet(inplace_scalar, x)
        got = tp.jit(inplace_scalar)(x)
        assert np.asarray(got).dtype == np.asarray(ref).dtype and got == ref, dtype
        a, b = x.copy(), x.copy()
        ref = _quiet(inplace_array, a)
        got = tp.jit(inplace_array)(b)
        assert got.dtype == ref.dtype and np.array_equal(got, ref) and np.array_equal(a, b), dtype


def running_max(x):
    b = -np.inf
    for v in x:
        if v > b:
            b = v
    return b


def builtin_max(x):
    m = 0
    for i in range(x.shape[0]):
        m = max(m, x[i])
    return m


def affine_loop(x):
    s = 1.0
    for i in range(3):
        s = s * x[i] + 0.5
    return s * x


def ufunc_max(x):
    m = 0.0
    for v in x:
        m = np.maximum(m, v)
    return m


def count_above(x):
    c = 0
    for v in x:
        if v > 0.5:
            c += 1
    return c * x


@pytest.mark.parametrize("f", [running_max, builtin_max, affine_loop, ufunc_max, count_above])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_mixed_variables_agree_with_numpy_or_are_refused(f, dtype):
    # a local started as a Python number and later a NumPy value: NumPy's value and dtype,
    # or an error where compiled code would give another dtype
    x = np.linspace(0, 1, 7).astype(dtype) if dtype is not np.int64 else np.arange(7)
    ref = _quiet(f, x)
    refused = {(running_max, np.int64): JitDifferenceError,     # NumPy: int64 after -inf; jit: float64
               (ufunc_max, np.int64): JitDifferenceError,       # np.maximum(0.0, int64) is float64
               (builtin_max, np.float32): JitDifferenceError,   # max(0, float32) is float32 or 0
               (affine_loop, np.int64): TranspileTypingError}.get((f, dtype))
    if refused is not None:
        with pytest.raises(refused):
            tp.jit(f)(x)
        return
    got = tp.jit(f)(x)
    assert np.asarray(got).dtype == np.asarray(ref).dtype and np.allclose(got, ref)


def python_max(x):
    return max(x[0], 0.5), min(x[1], x[2]), max(len(x), 2)


def test_builtin_max_of_two_types_is_refused():
    x = np.linspace(0, 1, 7)
    assert tp.jit(python_max)(x) == python_max(x)
    with pytest.raises(JitDifferenceError, match="max\\(\\) of a float32 and a float64"):
        tp.jit(python_max)(x.astype(np.float32))


def twice(v):
    return v * 2.0


def callee_both(x):
    return twice(x), twice(x[0])


def test_callee_called_with_a_python_number_and_an_array_keeps_numpy_rules():
    x = np.ones(2, np.float32)
    a, b = tp.jit(callee_both)(x)
    assert a.dtype == np.float32 and type(b) is np.float32


def plus_one(v):
    return v + np.float32(1)


def callee_mixed(x):
    return plus_one(2.5), plus_one(x), plus_one(np.float64(2.5))


def test_callee_called_with_python_numbers_and_numpy_values():
    x = np.ones(2, np.float32)
    want, got = callee_mixed(x), tp.jit(callee_mixed)(x)
    for k, (w, g) in enumerate(zip(want, got)):
        _same(w, g, f"call site {k}")
    assert "def plus_one_py" in tp.jit(callee_mixed).source(x)      # one copy per kind of call site


def scaled_quotient(x, y):
    return 2.0 * (x[0] / y[0]), (x[0] // y[1]) * np.ones(2)


def test_division_of_numpy_scalars_inside_a_mixed_operation_does_not_raise():
    # the type of `x[0] / y[0]` is found on zero scalars: no ZeroDivisionError from there
    x, y = np.array([1.0, 2.0], np.float32), np.array([4.0, 1.0], np.float32)
    for w, g in zip(scaled_quotient(x, y), tp.jit(scaled_quotient)(x, y)):
        _same(w, g, "quotient")


def halve_n_times(a, n):
    if n == 0:
        return a
    return a + halve_n_times(a * 0.5, n - 1)


def calls_recursive(x):
    return halve_n_times(x, 2)


def test_recursive_callee_with_a_python_int_is_generated_once():
    # `n - 1` of the Python int parameter is a Python int: the recursive call site passes
    # the same kinds as the caller, so no copy (each copy is another Numba compilation)
    x = np.ones(2, np.float32)
    want, got = calls_recursive(x), tp.jit(calls_recursive)(x)
    _same(want, got, "recursion")
    src = tp.jit(calls_recursive).source(x)
    assert src.count("def halve_n_times") == 1 and "nep50.sub_py(n" in src


def negate(x):
    return -x


def test_negating_a_bool_array_is_numpys_type_error():
    with pytest.raises(TypeError):
        negate(np.ones(2, bool))
    with pytest.raises(TranspileTypingError, match="boolean negative"):
        tp.jit(negate)(np.ones(2, bool))
    with pytest.raises(TranspileTypingError, match="boolean negative"):
        tp.jit(scalar_ops)(np.ones(2, bool), 0)


def sine(x):
    return np.sin(x)


def test_small_int_ufuncs_in_float16_are_an_error():
    x = np.arange(3, dtype=np.uint8)
    assert sine(x).dtype == np.float16
    with pytest.raises(TranspileTypingError, match="float16"):
        tp.jit(sine)(x)
    with pytest.raises(TranspileTypingError, match="float16"):
        tp.jit(sine_plus_one)(x)                    # inside an array expression too


def sine_plus_one(x):
    return np.sin(x) + 1


def test_small_int_array_division_is_numpys():
    x = np.array([1, 3], np.uint8)
    _same(divide(x, x + 1), tp.jit(divide)(x, x + 1), "uint8 / uint8")


def test_small_int_with_python_number_in_float16_is_an_error():
    x = np.arange(3, dtype=np.uint8)
    assert np.arctan2(x, 2).dtype == np.float16
    with pytest.raises(TranspileTypingError, match="float16"):
        tp.jit(arctan2_two)(x)


def arctan2_two(x):
    return np.arctan2(x, 2)


def float64_sum(x):
    return x.sum()


def test_float64_and_int64_results_are_python_numbers():
    assert type(float64_sum(np.ones(2))) is np.float64
    out = tp.jit(float64_sum)(np.ones(2))
    assert type(out) is float and out == 2.0


def power(n, k):
    return n ** k


def test_python_int_to_a_negative_int_power():
    assert power(2, -1) == 0.5
    with pytest.raises(ValueError, match="negative int power"):
        tp.jit(power)(2, -1)


def complex_order(x):
    return x > 1


def test_ordering_complex_numbers_is_a_compile_error():
    x = np.ones(2, np.complex64)
    assert complex_order(x).dtype == np.bool_
    with pytest.raises(TranspileError):
        tp.jit(complex_order)(x)


def sum_of_squares(w):
    return (w * w).sum()


def calls_grad(x):
    return tp.grad(sum_of_squares)(x) * 2.0


def test_code_that_calls_a_derivative_keeps_numbas_promotion_and_warns():
    x = np.ones(3, np.float32)
    assert calls_grad(x).dtype == np.float32
    with pytest.warns(TranspileWarning, match="keeps Numba's"):
        assert tp.jit(calls_grad)(x).dtype == np.float64


def compare_negated(x, n):
    return n >= -(-x)


def bool_sum_is_one(a):
    return (a + a) == 1


def bool_sum_is_one_in_two_statements(a):
    b = a + a
    return b == 1


def test_array_expressions_compute_elements_as_numpy():
    x = np.array([2, 3, 1, 2], np.uint8)
    _same(compare_negated(x, 2), tp.jit(compare_negated)(x, 2), "n >= -(-x)")
    a = np.array([True, False])
    _same(bool_sum_is_one(a), tp.jit(bool_sum_is_one)(a), "(a + a) == 1")
    _same(bool_sum_is_one_in_two_statements(a), tp.jit(bool_sum_is_one_in_two_statements)(a), "b = a + a")
    x = np.array([200, 3, 130], np.uint8)
    for k, (w, g) in enumerate(zip(_quiet(wrapped_two, x, 100), tp.jit(wrapped_two)(x, 100))):
        _same(w, g, f"uint8 {k}")


def test_signed_narrow_overflow_inside_an_array_expression_warns():
    x = np.array([100, -3, 70], np.int8)
    with pytest.warns(TranspileWarning, match="inside an array expression"):
        tp.jit(wrapped_two)(x, 100)
    y = np.array([100, -3, 70], np.int16)      # no overflow: NumPy's values
    for k, (w, g) in enumerate(zip(wrapped_two(y, 100), _quiet(tp.jit(wrapped_two), y, 100))):
        _same(w, g, f"int16 {k}")


def wrapped_two(x, n):
    return (x + x) > n, (x * 3) // 2


def bool_sine():
    return np.sin(True)


def test_unary_ufuncs_of_a_bool_are_an_error():
    assert bool_sine().dtype == np.float16
    with pytest.raises(TranspileTypingError, match="float16"):
        tp.jit(bool_sine)()


def inverse(t):
    return 1.0 / t


def inverse_sum(x):
    return (1.0 / x).sum()


def test_derivative_code_divides_numpy_scalars_by_zero_as_numpy():
    with np.errstate(divide="ignore"):
        assert inverse(np.float64(0.0)) == np.inf               # NumPy
    assert tp.grad(inverse)(np.float64(0.0)) == -np.inf         # d(1/t) = -1/t**2
    assert tp.grad(inverse)(np.float32(0.0)) == -np.inf
    with pytest.raises(ZeroDivisionError, match="test_jit_numpy_semantics.py"):
        tp.grad(inverse)(0.0)                                   # two Python floats: Python's error
    assert np.isinf(tp.grad(inverse_sum)(np.zeros(2))).all()


def grad_of_inverse(t):
    return tp.grad(inverse)(t)


def test_jitted_derivative_code_divides_numpy_scalars_by_zero_with_an_error():
    with pytest.warns(TranspileWarning, match="derivative transformation called inside jitted code"):
        with pytest.raises(ZeroDivisionError, match="test_jit_numpy_semantics.py"):
            tp.jit(grad_of_inverse)(np.float64(0.0))      # NumPy: -inf


def concatenate_three(a, b, c):
    return a + b + c


def list_and_tuple_sums(x):
    l1 = [x[0]]
    t = (x[1],)
    return len(l1 + l1 + l1), len(t + t)


def test_strings_lists_and_tuples_still_concatenate():
    assert tp.jit(concatenate_three)("a", "b", "c") == "abc"
    assert tp.jit(list_and_tuple_sums)(np.ones(2)) == (3, 2)


def bools_from_a_list(x, y):
    out = []
    for a in [x, y]:
        out.append((a + a) == 1)
    return out[0], out[1]


def test_arrays_from_a_list_literal_compute_elements_as_numpy():
    a = np.array([True, False])
    for k, (w, g) in enumerate(zip(bools_from_a_list(a, a), tp.jit(bools_from_a_list)(a, a))):
        _same(w, g, f"item {k}")


def bools_from_a_list_variable(x):
    xs = [x, x]
    return (xs[0] + xs[1]) == 1


def test_arrays_from_a_list_variable_compute_elements_as_numpy():
    a = np.array([True, False])
    _same(bools_from_a_list_variable(a), tp.jit(bools_from_a_list_variable)(a), "xs[0] + xs[1]")


def bools_from_appended_items(x, y):
    out = []
    out.append(x)
    out.append(y)
    return (out[0] + out[1]) == 1, out[1] * out[0] + out[0]


def test_arrays_from_appended_items_compute_elements_as_numpy():
    # items of a list that is not a literal of numbers may be lists or strings: Python's `+`
    # for those, NumPy's ufunc loop for arrays (bool + bool is logical or, uint8 wraps)
    for a, b in [(np.array([True, False]), np.array([True, True])),
                 (np.array([3, 250], np.uint8), np.array([7, 9], np.uint8))]:
        want = _quiet(bools_from_appended_items, a, b)
        got = tp.jit(bools_from_appended_items)(a, b)
        for k, (w, g) in enumerate(zip(want, got)):
            _same(w, g, f"item {k} for {a.dtype}")


def appended_scalars(x):
    vals = []
    for i in range(x.shape[0]):
        vals.append(x[i])
    return vals[0] * 2 + vals[1], (vals[0] + vals[1]) // 2, (vals[0] + vals[1]) == 1


def test_numpy_scalars_appended_to_a_list_keep_numpys_dtype():
    # the items of `vals = []` are what is appended: NumPy scalars, not Python numbers
    for x in [np.array([1.5, 2.25], np.float32), np.array([200, 100], np.uint8), np.array([True, True])]:
        want = _quiet(appended_scalars, x)
        got = tp.jit(appended_scalars)(x)
        for k, (w, g) in enumerate(zip(want, got)):
            _same(w, g, f"item {k} for {x.dtype}")


def test_numpy_scalars_appended_were_python_numbers_before():
    # regression guard for the oracle itself: NumPy keeps float32 here
    assert type(appended_scalars(np.array([1.5, 2.25], np.float32))[0]) is np.float32


def mixed_on_the_right(x):
    s = 1.0
    for i in range(x.shape[0]):
        s = x[i] - s / 2.0
        s = x[i] ** 2 - s
    return s


def mixed_in_a_unary_ufunc(x):
    s = 1.0
    for i in range(x.shape[0]):
        s = s * 0.5 + (np.abs(s) - x[i])
    return s


def test_mixed_local_as_the_right_operand_keeps_the_operand_order():
    # fuzz program 9300:9: the check of a mixed local on the right of `-` swapped the operands
    for dtype in (np.float64, np.float32):
        x = np.array([0.5, -1.25, 2.0], dtype)
        want = _quiet(mixed_on_the_right, x)
        got = tp.jit(mixed_on_the_right)(x)
        assert np.asarray(got).dtype == np.asarray(want).dtype and got == pytest.approx(want, rel=1e-6)


def test_mixed_local_in_a_unary_ufunc_where_numpy_would_widen_is_refused():
    x = np.array([0.5, -1.25, 2.0], np.float32)
    assert np.asarray(_quiet(mixed_in_a_unary_ufunc, x)).dtype == np.float64     # np.abs(1.0) is float64
    with pytest.raises(JitDifferenceError, match="np.absolute of it in float64"):
        tp.jit(mixed_in_a_unary_ufunc)(x)
    y = x.astype(np.float64)
    assert tp.jit(mixed_in_a_unary_ufunc)(y) == pytest.approx(mixed_in_a_unary_ufunc(y), rel=1e-12)


def conditional_of_two_kinds(x):
    s = x.sum()
    return (0.25 if s > 2.0 else s) * s


def test_conditional_expression_of_a_python_number_and_a_numpy_value_is_refused_where_it_would_differ():
    # fuzz program 9400:17: Numba gives the conditional one type (float64), NumPy the side's
    x = np.array([0.5, 0.25], np.float32)
    assert np.asarray(conditional_of_two_kinds(x)).dtype == np.float32
    with pytest.raises(JitDifferenceError, match="conditional expression is a Python float on one side"):
        tp.jit(conditional_of_two_kinds)(x)
    y = x.astype(np.float64)
    for v in (y, y * 10):
        assert tp.jit(conditional_of_two_kinds)(v) == conditional_of_two_kinds(v)


def returns_two_types(x, c):
    s = x.sum()
    if c > 0:
        return s
    return s * np.float64(2.0)


def test_returns_of_two_types_are_refused_for_the_signature_that_has_them():
    # fuzz program 9400:17: Numba gives a function one return type, NumPy each path its own
    x = np.ones(3, np.float32)
    assert type(returns_two_types(x, 1)) is np.float32
    for c in (1, 0):
        with pytest.raises(JitDifferenceError, match="returns float32 on one path and float64 on another"):
            tp.jit(returns_two_types)(x, c)
    y = np.ones(3)      # float64 on both paths: runs
    for c in (1, 0):
        assert tp.jit(returns_two_types)(y, c) == returns_two_types(y, c)


def test_returns_of_two_types_are_refused_in_a_second_process_too(tmp_path):
    # the version with the difference is not kept in Numba's disk cache (which keeps no IR)
    import subprocess
    import sys
    code = ("import numpy as np, transpile as tp, sys; sys.path.insert(0, %r); "
            "from test_jit_numpy_semantics import returns_two_types\n"
            "try:\n    tp.jit(returns_two_types)(np.ones(3, np.float32), 1)\n    print('ran')\n"
            "except Exception as e:\n    print(type(e).__name__)\n") % os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, TRANSPILE_CACHE_DIR=str(tmp_path), NUMBA_CACHE_DIR=str(tmp_path))
    outs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
            .stdout.strip().splitlines()[-1] for _ in range(2)]
    assert outs == ["JitDifferenceError", "JitDifferenceError"]
