"""End to end: tp.jit on both backends gives NumPy's answers, with Python semantics."""
import functools
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import transpile as tp

BACKENDS = ["python", "numba"]

# --- a corpus of plain NumPy functions ---------------------------------------


def piecewise(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            out[i] = x[i] ** 2
        elif x[i] < -0.5:
            out[i] = -x[i]
        else:
            out[i] = 0.0
    return out


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def early_return(x):
    for i in range(x.shape[0]):
        if x[i] < 0:
            return i
    return -1


def break_continue(x):
    total = 0.0
    for v in x:
        if v < 0:
            continue
        if v > 10:
            break
        total += v
    return total


def matmul_chain(A, x):
    return A.T @ np.tanh(A @ x) * 2.0 - x


def reductions(A):
    return A.sum(), A.sum(axis=0), np.max(A), A.shape[0] * A.shape[1]


def masked(x):
    y = x.copy()
    y[y < 0] = 0.0
    return y


def tuple_io(a, b):
    s, d = a + b, a - b
    return d, s


CORPUS = [
    (piecewise, (np.linspace(-1, 1, 11),)),
    (newton_sqrt, (2.0,)),
    (early_return, (np.array([1.0, 2.0, -3.0, 4.0]),)),
    (early_return, (np.array([1.0, 2.0]),)),
    (break_continue, (np.array([1.0, -2.0, 3.0, 20.0, 4.0]),)),
    (matmul_chain, (np.arange(6.0).reshape(2, 3) / 7, np.array([0.5, -1.0, 2.0]))),
    (reductions, (np.arange(6.0).reshape(2, 3),)),
    (masked, (np.array([-1.0, 2.0, -3.0]),)),
    (tuple_io, (1.5, 0.5)),
]


def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.asarray(got).dtype == np.asarray(want).dtype


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn,args", CORPUS, ids=[f"{c[0].__name__}{i}" for i, c in enumerate(CORPUS)])
def test_corpus_matches_numpy(fn, args, backend):
    _same(tp.jit(fn, backend=backend)(*args), fn(*args))


# --- globals, closures, defaults: read at call time -------------------------

scale = 2.0
offsets = np.array([1.0, 2.0, 3.0])


def uses_globals(x):
    return x * scale + offsets


@pytest.mark.parametrize("backend", BACKENDS)
def test_globals_read_at_call_time_including_arrays(backend):
    global scale, offsets
    f = tp.jit(uses_globals, backend=backend)
    np.testing.assert_allclose(f(np.ones(3)), [3.0, 4.0, 5.0])
    scale, offsets = 10.0, np.zeros(3)
    try:
        np.testing.assert_allclose(f(np.ones(3)), [10.0, 10.0, 10.0])
    finally:
        scale, offsets = 2.0, np.array([1.0, 2.0, 3.0])
    assert f.num_specializations == 1


def make_adder():
    c = 1.0

    def add(x):
        return x + c

    def set_c(v):
        nonlocal c
        c = v
    return add, set_c


@pytest.mark.parametrize("backend", BACKENDS)
def test_closure_cells_read_at_call_time(backend):
    add, set_c = make_adder()
    f = tp.jit(add, backend=backend)
    assert f(1.0) == 2.0
    set_c(5.0)
    assert f(1.0) == 6.0


def with_array_default(x, w=np.array([1.0, 2.0])):
    return x @ w


def calls_with_default(x):
    return with_array_default(x) + 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_array_defaults_are_passed_not_baked(backend):
    f = tp.jit(calls_with_default, backend=backend)
    assert f(np.array([1.0, 1.0])) == 4.0
    gen = f.generated(np.array([1.0, 1.0]))
    assert "w" in gen.params or any("default of w" in h.what for h in gen.hidden)
    assert "2.0" not in gen.text.split("def ")[-1]  # the array's values are not in the code


def square(v):
    return v * v


def cube(v):
    return v * v * v


def apply_twice(x, fn):
    return fn(fn(x))


def test_function_arguments_are_static_and_respecialize():
    f = tp.jit(apply_twice)
    assert f(2.0, square) == 16.0
    assert f(3.0, square) == 81.0
    assert f.num_specializations == 1
    assert f(2.0, cube) == 512.0
    assert f.num_specializations == 2
    assert f(2.0, square) == 16.0
    assert f.num_specializations == 2


def power_loop(x, n):
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def test_static_argnames_become_constants():
    f = tp.jit(power_loop, static_argnames=["n"], backend="python")
    assert f(2.0, 3) == 8.0
    assert "n = 3" in f.source(2.0, 3)
    assert f(2.0, 4) == 16.0 and f.num_specializations == 2
    g = tp.jit(power_loop, static_argnums=(1,), backend="python")
    assert g(2.0, n=5) == 32.0


def test_dynamic_types_do_not_respecialize_source_but_numba_compiles_per_type():
    f = tp.jit(square)
    f(2.0)
    f(3.0)
    f(np.ones(2))
    f(np.ones((2, 2), dtype=np.float32))
    assert f.num_specializations == 1
    assert f.num_compiled == 3


current = square


def uses_global_function(x):
    return current(x)


def test_rebinding_a_global_function_respecializes():
    global current
    f = tp.jit(uses_global_function, backend="python")
    assert f(3.0) == 9.0
    current = cube
    try:
        assert f(3.0) == 27.0
    finally:
        current = square


class Scaler:
    factor = 3.0

    def scaled(self, x):
        return self.helper(x) * self.factor

    def helper(self, x):
        return x + 1.0

    @functools.partial(tp.jit, static_argnames=["self"])
    def step(self, x):
        return self.scaled(x) - 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_methods_and_attributes(backend):
    s = Scaler()
    assert tp.jit(s.scaled, backend=backend)(1.0) == 6.0
    s.factor = 10.0  # numeric attributes of static objects are read at call time
    assert tp.jit(s.scaled, backend=backend)(1.0) == 20.0


def test_jit_as_a_method_decorator():
    s = Scaler()
    assert s.step(1.0) == 5.0


@tp.jit
def jitted_helper(x):
    return x * 10.0


def calls_jitted(x):
    return jitted_helper(x) + 1.0


def fact(n):
    if n <= 1:
        return 1.0
    return n * fact(n - 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_calls_to_jitted_and_recursive_functions(backend):
    assert tp.jit(calls_jitted, backend=backend)(2.0) == 21.0
    assert tp.jit(fact, backend=backend)(5) == 120.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_lambdas_ufuncs_and_math(backend):
    assert tp.jit(lambda v: v * 2 + 1, backend=backend)(3.0) == 7.0
    assert tp.jit(np.sin, backend=backend)(0.5) == pytest.approx(math.sin(0.5))
    assert tp.jit(math.exp, backend=backend)(1.0) == pytest.approx(math.e)
    np.testing.assert_allclose(tp.jit(np.arctan2, backend=backend)(np.ones(2), 2 * np.ones(2)),
                               np.arctan2(1.0, 2.0))


def at_forms(a, idx):
    b = a.at[0].set(5.0)
    c = b.at[idx].add(1.0)
    d = c.at[1].mul(3.0)
    e = d.at[2].min(-1.0)
    f = e.at[2].max(-2.0)
    g = a.at[9].get(mode="fill", fill_value=-7.0)
    h = a.at[idx].add(1.0, mode="drop")
    return b, c, d, e, f, g, h


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_family_is_out_of_place_with_scatter_add(backend):
    a = np.zeros(4)
    idx = np.array([1, 1, 3])
    b, c, d, e, f, g, h = tp.jit(at_forms, backend=backend)(a, idx)
    assert np.all(a == 0.0)
    np.testing.assert_array_equal(b, [5, 0, 0, 0])
    np.testing.assert_array_equal(c, [5, 2, 0, 1])  # repeated index accumulates, as in JAX
    np.testing.assert_array_equal(d, [5, 6, 0, 1])
    np.testing.assert_array_equal(e, [5, 6, -1, 1])
    np.testing.assert_array_equal(f, [5, 6, -1, 1])
    assert g == -7.0
    np.testing.assert_array_equal(h, [0, 2, 0, 1])


def drop_out_of_bounds(a):
    return a.at[np.array([0, 7])].add(1.0, mode="drop")


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_modes(backend):
    np.testing.assert_array_equal(tp.jit(drop_out_of_bounds, backend=backend)(np.zeros(3)), [1, 0, 0])


def prints(x):
    print("value", x)
    return x


def test_print_every_call_python_backend(capsys):
    f = tp.jit(prints, backend="python")
    f(1.0)
    f(2.0)
    assert capsys.readouterr().out == "value 1.0\nvalue 2.0\n"


def internal_dict(x):
    counts = dict(a=0.0, b=0.0)
    for i in range(4):
        counts["a" if i < 3 else "b"] += x
    return counts["a"] - counts["b"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_keyword_dict_becomes_a_display(backend):
    assert tp.jit(internal_dict, backend=backend)(2.0) == 4.0


def test_float32_stays_float32_and_float64_stays_float64():
    f = tp.jit(square)
    assert f(np.ones(3, np.float32)).dtype == np.float32
    assert f(np.ones(3)).dtype == np.float64


def test_a_list_is_a_pytree_not_an_array():
    # lists and dicts are pytrees (tests/test_pytrees.py); arithmetic on one is an error at its line
    with pytest.raises(tp.TranspileError, match="pytree") as info:
        tp.jit(square)([1.0, 2.0])
    assert "test_jit.py" in str(info.value)


def test_unknown_backend():
    with pytest.raises(ValueError, match="backend"):
        tp.jit(square, backend="tpu")


_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {here!r})
    import numpy as np
    import transpile as tp
    from test_jit import piecewise
    f = tp.jit(piecewise)
    t = time.perf_counter()
    f(np.linspace(-1, 1, 5))
    gen = f.generated(np.linspace(-1, 1, 5))
    hits = sum(gen.entry.stats.cache_hits.values())
    print(hits)
""")


@pytest.mark.slow
def test_second_process_loads_from_the_disk_cache(tmp_path):
    env = dict(os.environ, TRANSPILE_CACHE_DIR=str(tmp_path))
    code = _CHILD.format(here=os.path.dirname(__file__))
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[-1] == "0"   # compiled
    assert second.stdout.split()[-1] == "1"  # loaded from Numba's cache


def numpy_forms_numba_lacks(x, A, theta):
    a, b = theta                        # unpacking an array
    cols = A[:, [2, 0]]                 # a list display as an index
    row = np.squeeze(x[None, :])        # squeeze without axis, unit axis known
    return (A.trace() + np.sum(np.linalg.norm(A, axis=1)) + a * np.sum(cols)
            + b * np.sum(row * x))


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=pytest.mark.slow)])
def test_numpy_forms_numba_lacks(backend):
    rng = np.random.default_rng(3)
    x, A, theta = rng.normal(size=4), rng.normal(size=(4, 4)), np.array([0.5, -1.5])
    f = tp.jit(numpy_forms_numba_lacks, backend=backend)
    assert f(x, A, theta) == pytest.approx(numpy_forms_numba_lacks(x, A, theta), rel=1e-12)
    with pytest.raises(ValueError, match=r"too many values to unpack \(expected 2\)"):
        f(x, A, np.ones(3))


def test_generated_module_names_the_runtime_it_was_made_for():
    # compiled code cached against an older runtime is never reused: the runtime's digest is
    # part of the generated text, hence of the file name Numba's cache is keyed on
    from transpile.codegen.module import runtime_digest
    text = tp.jit(square).source(2.0)
    assert f"# runtime {runtime_digest()}" in text
    assert len(runtime_digest()) == 12
