"""vmap against its definition, the per-example loop, on many small generated
programs: `vmap(f, in_axes)(*args)` must equal `np.stack([f(*ex) for ex in
examples])`, eagerly and under `tp.jit`, whichever strategy runs; where the
batching cannot follow the program it raises a TranspileError at the user's
line, never a wrong number.

The programs are drawn (fixed seeds) from the classes that once went wrong:

* a list or tuple of mapped values passed to a NumPy function (`np.sum([a,
  b])`, `np.array([[a, b], [b, a]])`, `np.concatenate(t, axis)`): the list's
  axis is not the batch axis;
* names that share an array (`w = x`, views, `z *= 2` on a view, writes
  through `.T` or `reshape`, a helper filling its argument, a number read
  before its array is written);
* tuple assignments whose right-hand side reads what the left-hand side
  writes (`y[0], y[1] = y[1] * 2.0, y[0]`);
* products of operands of any rank (vector against stacked matrices in
  matmul, dot, einsum, outer, inner, tensordot), and `jacfwd` (vmap of jvp)
  of `np.array` of nested lists and of such products.
"""
import importlib.util
import itertools
import os
import sys
import textwrap

import numpy as np
import pytest

import transpile as tp
from transpile.errors import TranspileError

B = 3                       # examples per batch


# -- the oracle -----------------------------------------------------------------------
def batch(examples, in_axes):
    """The batched arguments for a list of per-example argument tuples."""
    out = []
    for k, ax in enumerate(in_axes):
        if ax is None:
            out.append(examples[0][k])
        else:
            out.append(np.stack([np.asarray(e[k]) for e in examples], axis=ax))
    return tuple(out)


def per_example(examples, in_axes):
    """The argument tuples the loop passes (unmapped arguments: example 0's)."""
    return [tuple(e[k] if ax is not None else examples[0][k] for k, ax in enumerate(in_axes))
            for e in examples]


def reference(f, examples, in_axes):
    outs = [f(*[np.copy(a) for a in ex]) for ex in per_example(examples, in_axes)]
    if isinstance(outs[0], tuple):
        return tuple(np.stack([np.asarray(o[k]) for o in outs]) for k in range(len(outs[0])))
    return np.stack([np.asarray(o) for o in outs])


def assert_same(out, ref, what, rtol=1e-10):
    if isinstance(ref, tuple):
        assert isinstance(out, tuple) and len(out) == len(ref), what
        for o, r in zip(out, ref):
            assert_same(o, r, what, rtol)
        return
    out = np.asarray(out)
    assert out.shape == ref.shape, f"{what}: shape {out.shape}, the loop's {ref.shape}"
    scale = float(np.max(np.abs(ref))) if ref.size else 1.0
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=rtol * max(scale, 1.0), err_msg=what)


def check_vmap(f, examples, in_axes, *, jit=False, strategy="auto", refusable=False):
    """vmap(f) equals the loop; with `refusable`, a TranspileError at the
    user's line is an answer too (the transformation says it cannot follow)."""
    ref = reference(f, examples, in_axes)
    args = batch([tuple(np.copy(a) for a in e) for e in examples], in_axes)
    g = tp.vmap(f, in_axes=tuple(in_axes), strategy=strategy)
    if jit:
        g = tp.jit(g)
    what = f"{'jit(' if jit else ''}vmap({f.__name__}, in_axes={tuple(in_axes)}){')' if jit else ''}"
    try:
        out = g(*args)
    except tp.TranspileTypingError:
        # Numba cannot type one example's code (np.mean of a tuple): then
        # plain jit of f says so too, and it is not the batching's to fix
        if not jit:
            raise
        with pytest.raises(tp.TranspileTypingError):
            tp.jit(f)(*[np.copy(a) for a in per_example(examples, in_axes)[0]])
        return None
    except Exception as exc:
        # a refusal: at generation (TranspileError) or, where only the values
        # tell (a view or a number), when it runs (runtime.checks.AliasError)
        if not refusable:
            raise
        if not isinstance(exc, TranspileError):     # AliasError is one, compiled or not
            raise
        assert os.path.basename(f.__code__.co_filename) in str(exc), f"{what}: {exc} does not name the line"
        return None
    assert_same(out, ref, what, rtol=1e-9 if jit else 1e-10)
    return out


# -- generated programs ------------------------------------------------------------------
class Program:
    """One generated function: its source, and a maker of per-example arguments."""

    def __init__(self, name, src, make, ranks, refusable=False):
        self.name, self.src, self.make, self.ranks = name, src, make, ranks
        self.refusable = refusable
        self.fn = None

    def in_axes(self, rng):
        """Random in_axes: 0, 1 (where an example has an axis to put it before) or None."""
        while True:
            axes = [int(rng.choice([0, 1])) if r >= 1 else 0 for r in self.ranks]
            axes = [None if rng.random() < 0.25 else a for a in axes]
            if any(a is not None for a in axes):
                return axes


def _module(programs, tmpdir, stem):
    src = "import numpy as np\n\n\n" + "\n\n".join(textwrap.dedent(p.src).strip() + "\n" for p in programs)
    path = os.path.join(tmpdir, f"{stem}.py")
    with open(path, "w") as fh:
        fh.write(src)
    spec = importlib.util.spec_from_file_location(stem, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[stem] = mod
    spec.loader.exec_module(mod)
    for p in programs:
        p.fn = getattr(mod, p.name)
    return programs


def _normal(rng, shape):
    return rng.normal(size=shape)


# containers: items of one example's shape (or numbers) in a list or tuple
_ITEMS = ["x", "2.0 * x", "x + y", "np.sin(x)", "y", "x * y"]
_SCALAR_ITEMS = ["x[0]", "x[1] * y[0]", "2.0 * x[-1]", "y[0]", "3.0"]
_REDUCE = ["np.sum", "np.mean", "np.max", "np.min", "np.prod"]


def container_programs(rng, count):
    out = []
    for k in range(count):
        name = f"cont{k}"
        vector = bool(rng.random() < 0.5)
        shape = (int(rng.integers(2, 4)),) if vector else (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
        scalar_items = vector and rng.random() < 0.4
        pool = _SCALAR_ITEMS if scalar_items else _ITEMS
        n = int(rng.integers(1, 4))
        items = [pool[int(i)] for i in rng.integers(0, len(pool), size=n)]
        if all(i in ("1.5", "3.0") for i in items):
            items[0] = "x[0]" if scalar_items else "x"
        item_rank = 0 if scalar_items else len(shape)
        if rng.random() < 0.5:
            display = "[" + ", ".join(items) + "]"
        else:
            display = "(" + ", ".join(items) + ("," if n == 1 else "") + ")"
        through_var = rng.random() < 0.3
        kind = rng.choice(["reduce", "reduce_axis", "array", "nested", "stack", "concat", "ufunc", "len",
                           "asarray_dtype", "hstack", "vstack", "column_stack"])
        if kind == "concat" and item_rank == 0:
            kind = "nested"
        lines = []
        seq = display
        if through_var:
            lines.append(f"t = {display}")
            seq = "t"
        if kind == "reduce":
            expr = f"{_REDUCE[int(rng.integers(0, len(_REDUCE)))]}({seq})"
        elif kind == "reduce_axis":
            axis = int(rng.integers(-1, item_rank + 1))
            expr = f"{_REDUCE[int(rng.integers(0, len(_REDUCE)))]}({seq}, axis={axis})"
        elif kind == "array":
            expr = f"np.array({seq}) * 1.0"
        elif kind == "asarray_dtype":
            expr = f"np.asarray({seq}, dtype=np.float64)"
        elif kind == "nested":
            a, b = items[0], items[-1]
            expr = f"np.array([[{a}, {b}], [{b}, {a}], [{a}, {a}]])"
        elif kind == "stack":
            axis = int(rng.integers(-1, item_rank + 1))
            expr = f"np.stack({seq}, axis={axis})" if item_rank else f"np.stack({seq})"
            if any(i in ("1.5", "3.0") for i in items):
                expr = f"np.array({seq}) * 1.0"
        elif kind == "concat":
            if any(i in ("1.5", "3.0") for i in items):
                items = [i for i in items if i not in ("1.5", "3.0")] or ["x"]
                seq = "[" + ", ".join(items) + "]"
                lines = []
            axis = int(rng.integers(-1, item_rank))
            expr = f"np.concatenate({seq}, axis={axis})"
        elif kind in ("hstack", "vstack", "column_stack"):
            expr = f"np.{kind}({seq}) * 1.0"
            if any(i in ("1.5", "3.0") for i in items) and kind != "column_stack":
                expr = f"np.{kind}({seq}) + 0.0"
        elif kind == "ufunc":
            expr = f"np.add({seq}, y{'[0]' if scalar_items else ''})"
        else:
            expr = f"len({seq}) * x"
        body = "\n    ".join(lines + [f"return {expr}"])
        src = f"def {name}(x, y):\n    {body}\n"
        out.append(Program(name, src, lambda rng, shape=shape: (_normal(rng, shape), _normal(rng, shape)),
                           (len(shape), len(shape))))
    return out


# aliases and views: (source, shape of x); every one is Python that must give the loop's numbers
ALIAS_SOURCES = [
    ("""def alias_same(x):
            w = x
            w[0] = w[0] * 3.0
            return x * 1.0""", (3,)),
    ("""def alias_slice_inplace(x):
            y = x * 1.0
            z = y[1:]
            z *= 2
            return y""", (4,)),
    ("""def alias_reshape_write(x):
            y = x * 1.0
            y.reshape(-1)[0] = 7.0
            return y""", (2, 3)),
    ("""def alias_transpose_write(x):
            y = x * 1.0
            y.T[0] = 5.0
            return y""", (3, 2)),
    ("""def fill(y, x):
            y[:] = x ** 2

        def alias_helper_fills(x):
            y = np.zeros(3)
            fill(y, x)
            return y""", (3,)),
    ("""def alias_number_then_write(x):
            y = x * 1.0
            a = y[0]
            y[0] = 5.0
            return a * y""", (3,)),
    ("""def alias_zeros_shared(x):
            y = np.zeros(3)
            z = y
            z[1] = x[0]
            return y + z""", (3,)),
    ("""def alias_row_view(x):
            y = x * 1.0
            r = y[1]
            y[1, 0] = -1.0
            return r * 2.0""", (3, 2)),
    ("""def alias_view_of_zeros(x):
            out = np.zeros(4)
            head = out[:2]
            head[:] = x[:2]
            return out""", (3,)),
    ("""def alias_flatten_copy(x):
            y = x * 1.0
            f = y.flatten()
            f[0] = 9.0
            return y + f[0]""", (2, 2)),
    ("""def alias_ravel_view(x):
            y = x * 1.0
            f = y.ravel()
            f[0] = 9.0
            return y""", (2, 2)),
    ("""def alias_inplace_name(x):
            y = x * 1.0
            w = y
            w += 1.0
            return y""", (3,)),
    ("""def view(y):
            return y[1:]

        def alias_helper_view(x):
            y = x * 1.0
            v = view(y)
            v[0] = 7.0
            return y""", (3,)),
    ("""def first(y):
            return y[0]

        def alias_helper_number(x):
            y = x * 1.0
            a = first(y)
            y[0] = 4.0
            return y * a""", (3,)),
    ("""def alias_list_item(x):
            y = x * 1.0
            t = [y, x]
            t[0][0] = 2.0
            return y""", (3,)),
    ("""def alias_rebound_view(x):
            c = np.zeros(3)
            t = x * 1.0
            t = c
            t[0] = 5.0
            return c""", (3,)),
    ("""def alias_shift(x):
            y = x * 1.0
            y[1:] = y[:-1]
            return y""", (4,)),
    ("""def alias_list_shapes(x):
            s = [2, 2]
            ax = (0,)
            return np.sum(np.reshape(x, s), axis=ax) + np.broadcast_to(x[:2], [3, 2])""", (4,)),
    ("""def alias_unmapped_accumulates(x, acc):
            acc[0] = acc[0] + 1.0
            return x * acc[0]""", (3,)),
]

SWAP_SOURCES = [
    ("""def swap(x):
            y = x * 1.0
            y[0], y[1] = y[1] * 2.0, y[0]
            return y""", (3,)),
    ("""def swap_rows(x):
            y = x * 1.0
            y[0], y[1] = y[1] * 2.0, y[0] * 1.0
            return y""", (3, 2)),
    ("""def swap_names(x):
            a = x[0]
            b = x[1]
            a, b = b * 2.0, a
            return np.array([a, b])""", (3,)),
    ("""def swap_three(x):
            y = x + 0.0
            y[0], y[1], y[2] = y[2], y[0], y[1] - y[0]
            return y""", (3,)),
]


def fixed_programs(sources, stem):
    out = []
    for src, shape in sources:
        first, *rest = src.splitlines()     # `def` at 8 spaces after the first line, bodies at 12
        src = "\n".join([first] + [ln[8:] if ln.startswith(" " * 8) else ln for ln in rest]) + "\n"
        name = [ln.split("(")[0][4:] for ln in src.splitlines() if ln.startswith("def ")][-1]
        extra = "acc" in src.split(name)[1].split(")")[0]
        make = (lambda rng, shape=shape: (_normal(rng, shape), np.array([0.5, 1.0]))) if extra \
            else (lambda rng, shape=shape: (_normal(rng, shape),))
        ranks = (len(shape), 1) if extra else (len(shape),)
        out.append(Program(name, src, make, ranks, refusable=True))
    return out


# products: operands of ranks 1..3 whose stacks broadcast
def product_programs(rng, count):
    out = []
    ops = ["matmul", "at", "dot", "einsum", "outer", "inner", "tensordot", "einsum_implicit",
           "einsum_ellipsis"]
    for k in range(count):
        op = ops[k % len(ops)]
        n, m, p = (int(v) for v in rng.integers(2, 4, size=3))
        stack = (int(rng.integers(2, 3)),)
        ra, rb = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        if op in ("dot",):
            ra, rb = min(ra, 2), min(rb, 2)
        if op in ("outer",):
            ra, rb = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        if op in ("inner",):
            ra, rb = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        if op in ("matmul", "at", "dot", "tensordot"):
            sa = (n,) if ra == 1 else (stack * (ra - 2) + (m, n))
            sb = (n,) if rb == 1 else (stack * (rb - 2) + (n, p))
            if op == "tensordot":
                sa, sb = sa, (n,) + ((p,) if rb > 1 else ())
        elif op == "inner":
            sa = (n,) if ra == 1 else (m, n)
            sb = (n,) if rb == 1 else (p, n)
        elif op == "outer":
            sa = (n,) if ra == 1 else (m, n)
            sb = (p,) if rb == 1 else (p, m)
        elif op == "einsum_ellipsis":
            ra, rb = 3, 2
            sa, sb = (p, m, n), (p, n)
        else:      # einsum: matrix-vector, with the same letters whatever is mapped
            ra, rb = 2, 1
            sa, sb = (m, n), (n,)
        expr = {"matmul": "np.matmul(a, b)", "at": "a @ b", "dot": "np.dot(a, b)",
                "einsum": "np.einsum('ij,j->i', a, b)", "outer": "np.outer(a, b)",
                "inner": "np.inner(a, b)", "tensordot": "np.tensordot(a, b, axes=1)",
                "einsum_implicit": "np.einsum('ij,j', a, b) + np.einsum('Bj,j', a, b)",
                "einsum_ellipsis": "np.einsum('...ij,...j->...i', a, b)"}[op]
        name = f"prod{k}_{op}"
        src = f"def {name}(a, b):\n    return {expr}\n"
        out.append(Program(name, src, lambda rng, sa=sa, sb=sb: (_normal(rng, sa), _normal(rng, sb)),
                           (len(sa), len(sb))))
    return out


# -- the programs of this module ------------------------------------------------------------
@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    rng = np.random.default_rng(20240611)
    tmp = str(tmp_path_factory.mktemp("vmap_oracle"))
    return {
        "containers": _module(container_programs(rng, 60), tmp, "oracle_containers"),
        "aliases": _module(fixed_programs(ALIAS_SOURCES, "aliases"), tmp, "oracle_aliases"),
        "swaps": _module(fixed_programs(SWAP_SOURCES, "swaps"), tmp, "oracle_swaps"),
        "products": _module(product_programs(rng, 42), tmp, "oracle_products"),
    }


def _examples(program, rng):
    return [program.make(rng) for _ in range(B)]


def _run_all(progs, seed, jit=False, limit=None):
    rng = np.random.default_rng(seed)
    for p in progs[:limit]:
        examples = _examples(p, rng)
        check_vmap(p.fn, examples, p.in_axes(rng), jit=jit, refusable=p.refusable)


@pytest.mark.parametrize("kind", ["containers", "aliases", "swaps", "products"])
def test_generated_programs_equal_the_loop(programs, kind):
    _run_all(programs[kind], seed=1)


@pytest.mark.parametrize("kind", ["aliases", "swaps", "products"])
def test_generated_programs_with_other_axes(programs, kind):
    _run_all(programs[kind], seed=2)


def test_generated_programs_under_jit(programs):
    """A small share under Numba (the rest is @slow)."""
    _run_all(programs["containers"], seed=3, jit=True, limit=1)
    _run_all(programs["products"], seed=3, jit=True, limit=1)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["containers", "aliases", "swaps", "products"])
def test_generated_programs_under_jit_all(programs, kind):
    _run_all(programs[kind], seed=4, jit=True)


# -- regression tests: the reported examples -------------------------------------------------------
def test_sum_of_a_list_of_mapped_items():
    out = tp.vmap(lambda x: np.sum([x[0], x[1]]))(np.arange(6.).reshape(3, 2))
    np.testing.assert_array_equal(out, [1., 5., 9.])


def _fns(src, tmp_path, stem):
    path = tmp_path / f"{stem}.py"
    path.write_text("import numpy as np\n\n\n" + textwrap.dedent(src))
    spec = importlib.util.spec_from_file_location(stem, str(path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[stem] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("jit", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_reported_alias_examples(tmp_path, jit):
    programs = _module(fixed_programs(ALIAS_SOURCES[:5], "rep"), str(tmp_path), f"reported_aliases_{int(jit)}")
    rng = np.random.default_rng(5)
    for p in programs:
        check_vmap(p.fn, _examples(p, rng), [0] * len(p.ranks), jit=jit, refusable=True)


def test_write_through_a_helpers_view_under_jit(tmp_path):
    """Numba kept no store through a view that a call returned (its dead-code
    pass thought nothing read it): `y.T[0] = ...` under jit(vmap)."""
    programs = _module(fixed_programs(ALIAS_SOURCES[3:4], "rep"), str(tmp_path), "reported_view_jit")
    rng = np.random.default_rng(5)
    p = programs[0]
    check_vmap(p.fn, _examples(p, rng), [0], jit=True, refusable=True)


#: cases where batching itself must keep what one example's names share
#: (the alias pass, transforms/alias.py, aside)
VECTORIZER_ALONE = ["alias_same", "alias_reshape_write", "alias_transpose_write", "alias_helper_fills",
                    "alias_number_then_write", "alias_zeros_shared", "alias_row_view", "alias_view_of_zeros",
                    "alias_flatten_copy", "alias_ravel_view", "alias_helper_view", "alias_helper_number",
                    "alias_list_item", "alias_rebound_view", "alias_shift", "alias_unmapped_accumulates",
                    "swap", "swap_rows", "swap_names", "swap_three"]
#: ... of which these run vectorized (the others take the per-example loop)
VECTORIZED = {"alias_same", "alias_helper_fills", "alias_number_then_write", "alias_zeros_shared",
              "alias_row_view", "alias_view_of_zeros", "alias_flatten_copy", "alias_ravel_view",
              "alias_helper_view", "alias_helper_number", "alias_rebound_view", "alias_shift", "swap",
              "swap_rows", "swap_names", "swap_three"}


def test_batching_alone_keeps_shared_arrays(tmp_path, monkeypatch):
    """With the alias pass out of the pipeline, the vectorizer still gives the
    loop's numbers: names that share an array are batched together, a number
    read with integer indices is copied before its array is written, a
    helper writing into its argument writes into the caller's batch, and a
    write into an unmapped argument (shared by every example) takes the loop."""
    from transpile import pipeline
    monkeypatch.setitem(pipeline._PER_FUNCTION, "alias", lambda program, spec: None)
    sources = [(src, shape) for src, shape in ALIAS_SOURCES + SWAP_SOURCES
               if any(f"def {name}(" in src for name in VECTORIZER_ALONE)]
    programs = _module(fixed_programs(sources, "alone"), str(tmp_path), "batching_alone")
    rng = np.random.default_rng(11)
    for p in programs:
        examples = _examples(p, rng)
        axes = [0] * len(p.ranks)
        check_vmap(p.fn, examples, axes)
        if p.name in VECTORIZED:
            check_vmap(p.fn, examples, axes, strategy="vectorize")


@pytest.mark.parametrize("jit", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_reported_tuple_swap(tmp_path, jit):
    programs = _module(fixed_programs(SWAP_SOURCES[:1], "rep"), str(tmp_path), f"reported_swap_{int(jit)}")
    rng = np.random.default_rng(6)
    p = programs[0]
    check_vmap(p.fn, _examples(p, rng), [0], jit=jit, refusable=True)


def test_list_containers_under_jit():
    X = np.arange(6.).reshape(3, 2)
    out = tp.jit(tp.vmap(lambda x: np.sum([x[0], x[1]])))(X)
    np.testing.assert_array_equal(out, [1., 5., 9.])


def _jvp_columns(f, x):
    """The Jacobian by the definition of jacfwd: one jvp per basis vector."""
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        cols.append(np.asarray(tp.jvp(f, (x,), (e.reshape(x.shape),))[1]))
    y = np.asarray(f(x))
    return np.stack(cols, axis=-1).reshape(y.shape + x.shape)


def test_jacfwd_of_nested_np_array(tmp_path):
    mod = _fns("""
        def g(x):
            return np.array([[2 * x, x + 1], [x, x]])

        def h(x):
            return np.array([[x[0] * x[1], 1.0], [np.sin(x[1]), x[0]]])
    """, tmp_path, "jac_arrays")
    x = np.random.default_rng(7).normal(size=(3, 2))
    for f, arg in ((mod.g, x), (mod.h, x[0])):
        J = tp.jacfwd(f)(arg)
        np.testing.assert_allclose(J, tp.jacrev(f)(arg), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(J, _jvp_columns(f, arg), rtol=1e-12, atol=1e-12)


def test_jacfwd_of_vector_against_stacked_matrices(tmp_path):
    mod = _fns("""
        def mm(a, b):
            return np.matmul(a, b)

        def mm_t(b, a):
            return b @ a
    """, tmp_path, "jac_matmul")
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=3), rng.normal(size=(2, 3, 4))
    for argnums in (0, 1, (0, 1)):
        Jf, Jr = tp.jacfwd(mod.mm, argnums=argnums)(a, b), tp.jacrev(mod.mm, argnums=argnums)(a, b)
        for f_, r_ in zip(Jf if isinstance(Jf, tuple) else (Jf,), Jr if isinstance(Jr, tuple) else (Jr,)):
            np.testing.assert_allclose(f_, r_, rtol=1e-12, atol=1e-12)
    bt = rng.normal(size=(2, 4, 3))
    for argnums in (0, 1):
        np.testing.assert_allclose(tp.jacfwd(mod.mm_t, argnums=argnums)(bt, a),
                                   tp.jacrev(mod.mm_t, argnums=argnums)(bt, a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ra,rb", list(itertools.product([1, 2, 3], [1, 2, 3])))
def test_batched_matmul_helpers_any_rank(ra, rb):
    """runtime.batching.matmul_* against the loop, for every pair of ranks and
    stacks of different depths (NumPy and Numba)."""
    import numba

    import runtime.numba_impl  # noqa: F401
    from runtime import batching as Bh
    rng = np.random.default_rng(ra * 10 + rb)
    n = 4
    sa = (3,) if ra == 1 else ((2,) * (ra - 2) + (5, 3))
    sb = (3,) if rb == 1 else ((2,) * (rb - 2) + (3, 6))
    a, b = rng.normal(size=(n,) + sa), rng.normal(size=(n,) + sb)
    cases = {"bb": (a, b, [x @ y for x, y in zip(a, b)]),
             "bu": (a, b[0], [x @ b[0] for x in a]),
             "ub": (a[0], b, [a[0] @ y for y in b])}
    for kind, (x, y, ref) in cases.items():
        helper = getattr(Bh, f"matmul_{kind}")
        np.testing.assert_allclose(helper(x, y), np.stack(ref), rtol=1e-12, err_msg=kind)
    if (ra, rb) == (1, 3) or os.environ.get("TRANSPILE_SLOW_ORACLE"):
        # compiled: one pair by default (each signature compiles; the others: test_..._compiled)
        for kind, (x, y, ref) in cases.items():
            helper = getattr(Bh, f"matmul_{kind}")
            compiled = numba.njit(lambda x, y, h=helper: h(x, y))
            np.testing.assert_allclose(compiled(x, y), np.stack(ref), rtol=1e-12, err_msg=f"numba {kind}")


@pytest.mark.slow
@pytest.mark.parametrize("ra,rb", [(1, 2), (2, 1), (2, 3), (3, 1), (3, 3)])
def test_batched_matmul_helpers_any_rank_compiled(ra, rb, monkeypatch):
    monkeypatch.setenv("TRANSPILE_SLOW_ORACLE", "1")
    test_batched_matmul_helpers_any_rank(ra, rb)


def test_vectorized_rules_of_containers_are_used():
    """A list of mapped values no longer sends the function to the loop."""
    f = tp.vmap(lambda x, y: np.mean(np.array([[x, y], [y, x]]), axis=0), strategy="vectorize")
    x, y = np.random.default_rng(9).normal(size=(2, 4, 3))
    np.testing.assert_allclose(f(x, y), np.stack([np.mean(np.array([[a, b], [b, a]]), axis=0)
                                                  for a, b in zip(x, y)]), rtol=1e-14)
