"""runtime.npx: every NumPy twin, run eagerly and compiled with numba.njit,
gives NumPy's values, dtype and shape; unsupported arguments are TypingErrors.

Numba compiles are the cost here (~0.3-0.5 s per call pattern), so each
compiled wrapper below groups several call patterns, takes axes and shapes as
runtime arguments (one compile serves axis=1 and axis=-1), and is built once
per module (``functools.lru_cache``) and reused by the tests that need it.
"""
import functools

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

import runtime.numba_impl  # noqa: F401  (registers the overloads)
import transpile as tp
from runtime import npx

RNG = np.random.default_rng(0)
X1 = RNG.standard_normal(5)
X2 = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))
I2 = RNG.integers(-5, 6, (3, 4))
F2 = RNG.standard_normal((3, 4)).astype(np.float32)


def same(got, want, rtol=1e-10):
    """Equal values (allclose for floats, NaN == NaN), dtype and shape."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w, rtol)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.dtype.kind in 'fc':
        if want.dtype == np.float32:
            rtol = max(rtol, 1e-5)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


# --- eager twins are NumPy --------------------------------------------------------

EAGER = [
    ('sum', (X3,), dict(axis=(0, 2), keepdims=True)),
    ('sum', (X3,), dict(axis=0, where=X3 > 0, initial=1.0)),
    ('var', (X2,), dict(axis=0, correction=1)),
    ('concatenate', ([X2, I2],), dict(dtype=np.float32)),
    ('max', (X3,), dict(axis=-1)),
    ('min', (X2,), {}),
    ('mean', (I2,), dict(axis=0)),
    ('prod', (X2,), dict(axis=1, keepdims=True)),
    ('var', (X3,), dict(axis=1, ddof=1)),
    ('std', (F2,), dict(axis=0)),
    ('any', (I2,), dict(axis=1)),
    ('all', (I2,), {}),
    ('argmax', (X3,), dict(axis=2, keepdims=True)),
    ('argmin', (X2,), {}),
    ('cumsum', (I2,), dict(axis=1)),
    ('cumprod', (X2,), {}),
    ('squeeze', (X3[:1],), dict(axis=0)),
    ('expand_dims', (X2, (0, 3)), {}),
    ('reshape', (X2.T, -1), {}),
    ('concatenate', ([X2, X2],), dict(axis=1)),
    ('stack', ((X1, X1),), dict(axis=1)),
    ('vstack', ([X1, X1],), {}),
    ('hstack', ((X2, X2),), {}),
    ('tile', (X2, (2, 1)), {}),
    ('repeat', (X2, 2), dict(axis=0)),
    ('pad', (I2, ((1, 0), (2, 1))), dict(constant_values=7)),
    ('einsum', ('ij,jk->ik', X2, X2.T), {}),
    ('inner', (X2, X2), {}),
    ('tensordot', (X3, X2.T), dict(axes=((1, 2), (1, 0)))),
    ('kron', (X1, I2), {}),
    ('matmul', (X3, X2.T), {}),
    ('dot', (I2, X2.T), {}),
    ('heaviside', (X2, 0.5), {}),
    ('trace', (X2, 1), {}),
]


def test_every_twin_has_an_eager_case():
    names = {c[0] for c in EAGER} | {'mask_select', 'mask_assign', 'norm', 'squeeze_all'}
    assert names == set(npx.__all__)


def test_eager_norm_and_squeeze_all():
    same(npx.norm(X3, axis=1, keepdims=True), np.linalg.norm(X3, axis=1, keepdims=True))
    same(npx.norm(X2, 'nuc'), np.linalg.norm(X2, 'nuc'))
    # squeeze_all is np.squeeze without axis; the axes are what the compiler knows
    same(npx.squeeze_all(X2[None, :, None], (0, 2)), np.squeeze(X2[None, :, None]))
    same(npx.squeeze_all(X2[:1][None], 0), np.squeeze(X2[:1][None]))


@pytest.mark.parametrize('name,args,kw', EAGER, ids=['%s%d' % (c[0], k) for k, c in enumerate(EAGER)])
def test_eager_twin_is_numpy(name, args, kw):
    same(getattr(npx, name)(*args, **kw), getattr(np, name)(*args, **kw))


def test_eager_masks():
    m = X2 > 0.2
    same(npx.mask_select(X2, m), X2[m])
    a = X2.copy()
    assert npx.mask_assign(a, m, 0.0) is None
    b = X2.copy()
    b[m] = 0.0
    same(a, b)


def test_twin_tables():
    assert npx.NUMPY_TWINS[np.max] is npx.max
    assert npx.NUMPY_TWINS[np.amax] is npx.max
    assert npx.NUMPY_TWINS[np.einsum] is npx.einsum
    assert npx.METHOD_TWINS['mean'] is npx.mean
    for twin in list(npx.NUMPY_TWINS.values()) + list(npx.METHOD_TWINS.values()):
        assert twin.__name__ in npx.__all__


# --- compiled reductions ---------------------------------------------------------------

def patterns(lib, op, which='all'):
    """f(a, i, t): call patterns of reduction ``op`` (lib: np or npx) with
    axis None, an int ``i`` or a tuple ``t``, keepdims False and True
    (``which='some'``: int axis with keepdims, tuple axis without)."""
    f = getattr(lib, op)
    A = np.asarray          # 0-d arrays keep float32 results float32
    if op in ('cumsum', 'cumprod'):
        if which == 'some':
            return lambda a, i, t: A(f(a, axis=i))
        return lambda a, i, t: (A(f(a)), A(f(a, axis=i)))
    if op in ('argmax', 'argmin'):
        if which == 'some':
            return lambda a, i, t: A(f(a, axis=i, keepdims=True))
        return lambda a, i, t: (A(f(a)), A(f(a, keepdims=True)),
                                A(f(a, axis=i)), A(f(a, axis=i, keepdims=True)))
    if which == 'some':
        return lambda a, i, t: (A(f(a, axis=i, keepdims=True)), A(f(a, axis=t)))
    return lambda a, i, t: (A(f(a)), A(f(a, keepdims=True)), A(f(a, axis=i)),
                            A(f(a, axis=i, keepdims=True)), A(f(a, axis=t)),
                            A(f(a, axis=t, keepdims=True)))


@functools.lru_cache(maxsize=None)
def compiled_patterns(op, which='all'):
    return njit(patterns(npx, op, which))


# Default run: every axis kind and keepdims for `sum` and `argmax` (the
# generated glue is shared by all ops), and each op once or twice in one
# compiled function (ONE_EACH).  ``pytest -m slow`` runs the whole matrix:
# every op, axis kind and keepdims on 3-D float64, 2-D int64 and bool, 1-D
# float32 and strided arrays.
ALL_OPS = ['sum', 'max', 'argmax', 'cumsum', 'mean', 'var', 'std', 'prod', 'min',
           'any', 'all', 'argmin', 'cumprod']
AXES_3D = [(1, (0, 2)), (-1, (-1, 0)), (-3, (2, 1)), (2, (1, 2))]
AXES_2D = [(0, (0, 1)), (-1, (-1, 0))]


@pytest.mark.parametrize('op', ['sum', 'argmax'])
def test_reduction_every_axis_kind_3d(op):
    f = compiled_patterns(op)
    for i, t in AXES_3D:
        same(f(X3, i, t), patterns(np, op)(X3, i, t))


# Each reduction once or twice, other dtypes (float32 stays float32, int sums
# stay int64, int means are float64), dtype= and ddof=, literal axes and a
# non-contiguous input: one compiled function.  a: 3-D float64, f: 1-D
# float32, n: 2-D int64, s: 3-D strided; i an int axis, t a tuple of two.
ONE_EACH = [
    'max(a, axis=i)', 'min(a, axis=t, keepdims=True)', 'mean(a, axis=t)',
    'var(a, axis=i, keepdims=True)', 'std(a)', 'prod(a, axis=i)',
    'any(a, axis=t, keepdims=True)', 'all(a, axis=i)', 'argmin(a, axis=i)',
    'cumsum(a, axis=i)', 'cumprod(a)',
    'mean(f, axis=-1)', 'var(f, axis=0, ddof=1)', 'sum(n, axis=1)',
    'mean(n, axis=0)', 'std(n, ddof=2)', 'sum(n, axis=i, dtype=np.float32)',
    'max(s, axis=t)']


def one_each(lib):
    """All the ONE_EACH calls in one function (one compile)."""
    src = 'lambda a, f, n, s, i, t: (%s,)' % ', '.join(
        'A(lib.%s)' % call for call in ONE_EACH)
    return eval(src, {'lib': lib, 'A': np.asarray, 'np': np})


@functools.lru_cache(maxsize=None)
def compiled_one_each():
    return njit(one_each(npx))


@pytest.mark.parametrize('k', range(len(ONE_EACH)), ids=ONE_EACH)
def test_reduction_each_op(k):
    a = X3.copy()
    f = X1.astype(np.float32)
    s = X3[:, ::2, 1:]                          # layout 'A'
    for i, t in AXES_3D[:2]:
        same(compiled_one_each()(a, f, I2, s, i, t)[k], one_each(np)(a, f, I2, s, i, t)[k])
        a[0, 1, 2] = np.nan                     # NaN propagates (max, min, ...)
        same(compiled_one_each()(a, f, I2, s, i, t)[k], one_each(np)(a, f, I2, s, i, t)[k])


@pytest.mark.slow
@pytest.mark.parametrize('op', ALL_OPS)
def test_reduction_every_axis_kind_3d_slow(op):
    f = compiled_patterns(op)
    for i, t in AXES_3D:
        same(f(X3, i, t), patterns(np, op)(X3, i, t))


@pytest.mark.slow
@pytest.mark.parametrize('op', ALL_OPS)
@pytest.mark.parametrize('a', [X1.astype(np.float32), I2, I2 > 0, X2[:, ::2]],
                         ids=['float32-1d', 'int64-2d', 'bool-2d', 'float64-2d-strided'])
def test_reduction_every_axis_kind_dtypes_slow(op, a):
    f = compiled_patterns(op)
    for i, t in AXES_2D if a.ndim == 2 else [(0, (0,)), (-1, (-1,))]:
        same(f(a, i, t), patterns(np, op)(a, i, t))


def test_reduction_nan_propagates():
    x = X3.copy()
    x[0, 1, 2] = np.nan
    x[1, 2, 0] = np.nan
    for op in ('argmax', 'sum'):
        f = compiled_patterns(op)
        for i, t in [(1, (0, 2)), (-1, (0, 1))]:
            same(f(x, i, t), patterns(np, op)(x, i, t))


def test_reduction_errors_follow_numpy():
    f = compiled_patterns('sum')
    with pytest.raises(np.exceptions.AxisError):
        f(X3, 3, (0, 1))
    with pytest.raises(np.exceptions.AxisError):
        f(X3, 0, (0, -4))
    with pytest.raises(ValueError, match='duplicate'):
        f(X3, 0, (1, -2))
    z = np.zeros((2, 0, 6))
    with pytest.raises(ValueError, match='zero-size array'):      # max, min
        compiled_one_each()(z, X1.astype(np.float32), I2, X3[:, ::2, 1:], 1, (0, 1))
    with pytest.raises(ValueError, match='empty sequence'):
        compiled_patterns('argmax')(np.zeros((2, 0, 3)), 1, (0, 1))
    empty = np.zeros((2, 0, 3))
    same(compiled_patterns('sum')(empty, 1, (0, 1)), patterns(np, 'sum')(empty, 1, (0, 1)))


# --- compiled shapes -------------------------------------------------------------------


SHAPES = ['squeeze(y, axis=i)', 'squeeze(y.T, axis=t)', 'expand_dims(y.T, t)',
          'reshape(x2.T, s)', 'reshape(x2.T, -1)', 'tile(i2, reps)',
          'tile(x1, (2, 1, 2))', 'repeat(i2, r, axis=0)',
          "pad(x2, ((1, 0), (2, 3)), 'constant', constant_values=(7, 8))"]
SHAPES_SLOW = ['expand_dims(y, i)', 'reshape(x2, (-1, 2))', 'repeat(i2, 2, axis=1)',
               'repeat(i2, 2)', 'tile(i2, 3)', 'pad(x2, 1)', 'pad(i2, (1, 2))']


def shapes(lib, calls=tuple(SHAPES)):
    """The ``calls`` in one function (one compile).  y: (1, 3, 1), not
    contiguous; i an int, t a pair of axes, s a shape, reps a pair, r an
    int array (repeats)."""
    src = 'lambda y, i, t, x1, x2, i2, s, reps, r: (%s,)' % ', '.join(
        'lib.%s' % call for call in calls)
    return eval(src, {'lib': lib})


@functools.lru_cache(maxsize=None)
def compiled_shapes(calls=tuple(SHAPES)):
    return njit(shapes(npx, calls))


def shape_args(y=X2.reshape(1, 3, 4)[:, :, :1], s=(2, 6), r=np.array([1, 0, 2])):
    return y, 0, (0, 2), X1, X2, I2, s, (2, 1), r


@pytest.mark.parametrize('k', range(len(SHAPES)), ids=SHAPES)
def test_shapes(k):
    same(compiled_shapes()(*shape_args())[k], shapes(np)(*shape_args())[k])
    y, i, t, x1, x2, i2, s, reps, r = shape_args(s=(-1, 3))
    args = y, -3, (-1, 0), x1, x2, i2, s, (1, 3), r
    same(compiled_shapes()(*args)[k], shapes(np)(*args)[k])


@pytest.mark.slow
def test_shapes_slow():
    f = compiled_shapes(tuple(SHAPES_SLOW))
    same(f(*shape_args()), shapes(np, tuple(SHAPES_SLOW))(*shape_args()))


def test_shapes_errors():
    f = compiled_shapes()
    with pytest.raises(ValueError, match='size not equal to one'):
        f(*shape_args(y=X3[:, :1, :1]))
    with pytest.raises(ValueError, match='cannot reshape array of size 12'):
        f(*shape_args(s=(5, -1)))
    with pytest.raises(ValueError, match='operands could not be broadcast'):
        f(*shape_args(r=np.array([1, 2])))
    with pytest.raises(ValueError, match='negative'):
        f(*shape_args(r=np.array([1, -1, 2])))


@njit
def nb_concatenate(a, b, i):
    return (npx.concatenate([a, b]), npx.concatenate((a, b), axis=i),
            npx.concatenate((a, b), axis=None), npx.stack([a, b], axis=i),
            npx.vstack([a, b]), npx.hstack((a, b)))


@njit
def nb_concatenate_mixed(a, b):
    return npx.concatenate((a, b), axis=-1), npx.stack((a, b[::-1]), -1)


def test_concatenate_stack_lists_and_tuples():
    for i in (1, -1, 0):
        want = (np.concatenate([X2, X2 + 1]), np.concatenate((X2, X2 + 1), axis=i),
                np.concatenate((X2, X2 + 1), axis=None), np.stack([X2, X2 + 1], axis=i),
                np.vstack([X2, X2 + 1]), np.hstack((X2, X2 + 1)))
        same(nb_concatenate(X2, X2 + 1, i), want)
    want = np.concatenate((X2, I2), axis=-1), np.stack((X2, I2[::-1]), -1)
    same(nb_concatenate_mixed(X2, I2), want)     # dtypes and layouts mixed
    with pytest.raises(ValueError, match='must match exactly'):
        nb_concatenate(X2, X2[:, :2].copy(), 0)


# --- compiled products -----------------------------------------------------------------

S = RNG.standard_normal((4, 4))
B3 = RNG.standard_normal((2, 4, 5))
I3 = RNG.integers(-3, 4, (2, 3, 4))
F1 = X1[:4].astype(np.float32)
F2T = RNG.standard_normal((4, 2)).astype(np.float32)
# (subscripts, operand names); the operands are the arguments of einsums()
EINSUM = [('ij,jk->ik', 'x2 s'), ('ii->', 's'), ('bij,bjk->bik', 'x3 b3'),
          ('i,j->ij', 'x1 f1'), ('ij->ji', 'x2'), ('ij->', 'i2'), ('ii->i', 's'),
          ('ij,jk', 'x2 s'), ('ij,j->i', 'f2 f1')]
EINSUM_SLOW = [('ij,jk', 'i2 f2t'), ('...ij,...jk->...ik', 'x3 b3'),
               ('bij,jk->bik', 'x3 f2t'), ('i,i,i->', 'x1 x1 x1')]
EINSUM_ARGS = 'x1 x2 x3 s b3 i2 f1 f2 f2t'


def einsums(lib, cases):
    """All the einsum ``cases`` in one function (one compile)."""
    src = 'lambda %s: (%s,)' % (', '.join(EINSUM_ARGS.split()), ', '.join(
        'lib.einsum(%r, %s)' % (subs, ', '.join(ops.split())) for subs, ops in cases))
    return eval(src, {'lib': lib})


@functools.lru_cache(maxsize=None)
def compiled_einsums(slow=False):
    return njit(einsums(npx, EINSUM_SLOW if slow else EINSUM))


@pytest.mark.parametrize('k', range(len(EINSUM)), ids=[
    '%s-%s' % (subs, ops.replace(' ', ',')) for subs, ops in EINSUM])
def test_einsum(k):
    args = X1, X2, X3, S, B3, I2, F1, F2, F2T
    same(compiled_einsums()(*args)[k], einsums(np, EINSUM)(*args)[k])


@pytest.mark.slow
def test_einsum_slow():
    args = X1, X2, X3, S, B3, I2, F1, F2, F2T
    same(compiled_einsums(True)(*args), einsums(np, EINSUM_SLOW)(*args))


# (No x.transpose(axes) inside njit code: Numba's version costs ~4 s to
# compile the first time.  Transposed operands are passed in.)
@njit
def nb_products(a, b, c, d, e):
    return (npx.inner(a, b), npx.tensordot(a, c, 1), npx.kron(a, b),
            npx.tensordot(d, e, ((1, 2), (0, 1))))


def test_inner_tensordot_kron():
    C = RNG.standard_normal((4, 2))
    D = RNG.standard_normal((3, 4, 2))
    E = D.transpose(1, 2, 0)                   # (4, 2, 3), not contiguous
    same(nb_products(X2, X2 + 1, C, D, E),
         (np.inner(X2, X2 + 1), np.tensordot(X2, C, 1), np.kron(X2, X2 + 1),
          np.tensordot(D, E, ((1, 2), (0, 1)))))


@njit
def nb_matmul_dot(i2, f2, x2, x3, b3, i3, i3t):
    return (npx.matmul(i2, i2.T), npx.dot(f2, x2.T), npx.matmul(x3, b3),
            npx.matmul(i3, i3t))


def test_matmul_and_dot_any_dtype():
    """int matmul (no BLAS), float32 with float64, stacked 3-D batches."""
    want = (np.matmul(I2, I2.T), np.dot(F2, X2.T), np.matmul(X3, B3),
            np.matmul(I3, I3.transpose(0, 2, 1)))
    i3t = I3.transpose(0, 2, 1)
    same(nb_matmul_dot(I2, F2, X2, X3, B3, I3, i3t), want)
    with pytest.raises(ValueError, match='mismatch in its core dimension'):
        nb_matmul_dot(I2, F2, X2, X3, X3, I3, i3t)


# --- element-wise and masks -------------------------------------------------------------

def test_heaviside():
    h = np.array([-1.0, 0.0, 2.0, np.nan])
    f = njit(lambda a, b: (npx.heaviside(a, 0.5), npx.heaviside(a, b)))
    same(f(h, h[::-1].copy()), (np.heaviside(h, 0.5), np.heaviside(h, h[::-1])))


@njit
def nb_masks(a, m2, m1, row):
    b = a.copy()
    npx.mask_assign(b, m2, -1.0)
    c = a.copy()
    npx.mask_assign(c, m1, row)
    return npx.mask_select(a, m2), b, npx.mask_select(a, m1), c


def linalg_calls(lib):
    """trace and norm patterns in one function (one compile)."""
    return lambda x1, x2, x3, o: (
        lib.norm(x1), lib.norm(x2), lib.norm(x3), lib.norm(x2, axis=1),
        lib.norm(x3, axis=-2, keepdims=True), lib.norm(x1, o), lib.norm(x1, 1),
        lib.norm(x2, 'fro'), lib.norm(x3, None, (0, 2)), lib.norm(x2, np.inf, 1),
        lib.norm(x2, -np.inf, 0, True), lib.norm(x2, 1), lib.norm(x2, keepdims=True),
        lib.trace(x2), lib.trace(x2, 1), lib.trace(x2, -1, 1, 0))


@functools.lru_cache(maxsize=None)
def compiled_linalg():
    return njit(linalg_calls(npx))


@functools.lru_cache(maxsize=None)
def compiled_linalg_default():
    return njit(lambda x2, x3, o: (npx.norm(x2), npx.norm(x3, axis=-2, keepdims=True),
                                   npx.norm(x2[0], o), npx.trace(x2, 1)))


def test_norm_and_trace():
    """Default run: one compile; the whole matrix is test_norm_and_trace_slow."""
    for o in (2, 3.5, np.inf):
        same(compiled_linalg_default()(X2, X3, o),
             (np.linalg.norm(X2), np.linalg.norm(X3, axis=-2, keepdims=True),
              np.linalg.norm(X2[0], o), np.trace(X2, 1)))


@pytest.mark.slow
def test_norm_and_trace_slow():
    for o in (2, 3.5, np.inf, 0):
        got = compiled_linalg()(X1, X2, X3, o)
        ref = (np.linalg.norm(X1), np.linalg.norm(X2), np.linalg.norm(X3),
               np.linalg.norm(X2, axis=1), np.linalg.norm(X3, axis=-2, keepdims=True),
               np.linalg.norm(X1, o), np.linalg.norm(X1, 1), np.linalg.norm(X2, 'fro'),
               np.linalg.norm(X3, None, (0, 2)), np.linalg.norm(X2, np.inf, 1),
               np.linalg.norm(X2, -np.inf, 0, True), np.linalg.norm(X2, 1),
               np.linalg.norm(X2, keepdims=True), np.trace(X2), np.trace(X2, 1),
               np.trace(X2, -1, 1, 0))
        same(got, ref)


@pytest.mark.slow
def test_norm_float32_int_and_errors():
    f = njit(lambda a, b: (np.asarray(npx.norm(a)), npx.norm(a, axis=0), npx.norm(b, axis=1),
                           npx.trace(b)))  # 0-d arrays keep float32 results float32
    same(f(F2, I2), (np.asarray(np.linalg.norm(F2)), np.linalg.norm(F2, axis=0),
                     np.linalg.norm(I2, axis=1), np.trace(I2)))
    with pytest.raises(TypingError, match='dimensions'):
        njit(lambda a: npx.norm(a, 2))(X3)
    with pytest.raises(TypingError, match='matrix'):
        njit(lambda a: npx.trace(a))(X3)


def test_squeeze_without_axis_compiled_removes_exactly_one_unit_axis():
    # the result's ndim is fixed when compiling: (n, 1) -> (n,), anything else asks for axis=
    f = njit(lambda a: npx.squeeze(a))
    same(f(X2[:, :1]), np.squeeze(X2[:, :1]))
    same(f(X2[:1, :]), np.squeeze(X2[:1, :]))
    same(f(X1), X1)
    with pytest.raises(ValueError, match='has none: pass axis='):
        f(X2)
    with pytest.raises(ValueError, match='several: pass axis='):
        f(X2[:1, :1])
    with pytest.raises(ValueError, match='pass axis=0'):
        f(X1[:1])


def test_squeeze_all_compiled():
    f = njit(lambda a: npx.squeeze_all(a[None, :], 0))
    same(f(X1), np.squeeze(X1[None, :]))
    with pytest.raises(ValueError, match='axis 1 has size 1 at run time'):
        f(X1[:1])


def test_mask_select_and_assign():
    """2-D masks, and a 1-D mask on a 2-D array's first axis."""
    m2, m1, row = X2 > 0.2, np.array([True, False, True]), np.arange(4.0)
    b, c = X2.copy(), X2.copy()
    b[m2] = -1.0
    c[m1] = row
    same(nb_masks(X2, m2, m1, row), (X2[m2], b, X2[m1], c))
    with pytest.raises(IndexError, match='boolean index did not match'):
        nb_masks(X2, np.ones((2, 4), np.bool_), m1, row)
    with pytest.raises(IndexError, match='boolean index did not match'):
        nb_masks(X2, m2, np.ones(2, np.bool_), row)


# --- unsupported arguments: TypingError naming them ----------------------------------------

UNSUPPORTED = [
    ('out=', lambda a: npx.sum(a, axis=0, out=a[0])),
    ('out=', lambda a: npx.max(a, out=a)),
    ('out=', lambda a: npx.concatenate((a, a), out=a)),
    ('out=', lambda a: npx.dot(a, a.T, out=a)),
    ('where=', lambda a: npx.sum(a, where=a > 0)),
    ('initial=', lambda a: npx.max(a, axis=0, initial=0.0)),
    ('correction=', lambda a: npx.var(a, correction=1)),
    ('dtype=', lambda a: npx.concatenate([a, a], dtype=np.float32)),
    ('keepdims=', lambda a: npx.mean(a, keepdims=a[0, 0] > 0)),
    ("mode='constant'", lambda a: npx.pad(a, 1, mode='edge')),
    ("order='C'", lambda a: npx.reshape(a, -1, order='F')),
    ('compile-time constant string', lambda a: npx.einsum('ij' if a[0, 0] > 0 else 'ji', a)),
]


@pytest.mark.parametrize('needle,fn', UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_arguments_are_typing_errors(needle, fn):
    with pytest.raises(TypingError, match='npx') as info:
        njit(fn)(X2)
    assert needle in str(info.value)


# --- end to end: tp.jit routes NumPy calls and methods to the twins ------------------------


def e2e_reductions(x, y):
    m = np.max(x, axis=0)
    mu = x.mean(axis=1, keepdims=True)
    return m, mu, np.squeeze(y, axis=0)


def e2e_shapes(a, b):
    return np.concatenate([a, b]), a.T.reshape(-1), np.tile(a, (2, 1)), a[a > 0.5]


def e2e_products(a, b):
    return np.einsum('ij,jk->ik', a, b), np.einsum('ii->', b), a @ b


E2E = [(e2e_reductions, (X2, X3[:1]),
        ['npx.max(x, axis=0)', 'npx.mean(x, axis=1, keepdims=True)',
         'npx.squeeze(y, axis=0)']),
       (e2e_shapes, (X2, X2 + 1),
        ['npx.concatenate([a, b])', 'npx.reshape(a.T, -1)', 'npx.tile(a, (2, 1)',
         'checks.getitem(a, a > ']),
       (e2e_products, (X2, S), ["npx.einsum('ij,jk->ik', a, b)", "npx.einsum('ii->', b)"])]


@pytest.mark.parametrize('backend', ['python', 'numba'])
@pytest.mark.parametrize('fn,args,routed', E2E, ids=[e[0].__name__ for e in E2E])
def test_end_to_end_jit(fn, args, routed, backend):
    """np.max(x, axis=0), x.mean(axis=1, keepdims=True), np.einsum(...),
    np.concatenate([a, b]), x.T.reshape(-1), x[x > 0.5] on a 2-D x,
    np.squeeze(y, axis=0), np.tile(a, (2, 1)) through tp.jit."""
    f = tp.jit(fn, backend=backend)
    same(f(*args), fn(*args))
    code = ' '.join(ln.strip() for ln in f.source(*args).splitlines()
                    if not ln.strip().startswith('#'))
    for call in routed:
        assert call in code


def test_end_to_end_unsupported_keyword_names_it():
    def uses_out(x):
        return np.sum(x, axis=0, out=x[0])
    with pytest.raises(Exception, match='out='):
        tp.jit(uses_out)(X2.copy())
