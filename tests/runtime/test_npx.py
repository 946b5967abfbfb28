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
]


def test_every_twin_has_an_eager_case():
    names = {c[0] for c in EAGER} | {'mask_select', 'mask_assign'}
    assert names == set(npx.__all__)


@pytest.mark.parametrize('name,args,kw', EAGER, ids=[c[0] for c in EAGER])
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


# Every axis kind and keepdims on 3-D arrays for one op of each fold kernel
# family; the others (same kernel source, another operator) on 2-D arrays.
FULL = ['sum', 'max', 'mean', 'var', 'argmax', 'cumsum']
SOME = ['prod', 'min', 'std', 'any', 'all', 'argmin', 'cumprod']
AXES_3D = [(1, (0, 2)), (-1, (-1, 0)), (-3, (2, 1)), (2, (1, 2))]
AXES_2D = [(0, (0, 1)), (-1, (-1, 0))]


@pytest.mark.parametrize('op', FULL)
def test_reduction_every_axis_kind_3d(op):
    f = compiled_patterns(op)
    for i, t in AXES_3D:
        same(f(X3, i, t), patterns(np, op)(X3, i, t))


@pytest.mark.parametrize('op', SOME)
def test_reduction_2d(op):
    f = compiled_patterns(op, 'some')
    for i, t in AXES_2D:
        same(f(X2, i, t), patterns(np, op, 'some')(X2, i, t))


def dtype_sweep(lib):
    A = np.asarray
    return lambda a, i: (A(lib.sum(a, axis=i)), A(lib.mean(a, axis=i)),
                         A(lib.var(a, axis=i)), A(lib.max(a, axis=i)),
                         A(lib.argmin(a, axis=i)), A(lib.cumsum(a, axis=i)))


@functools.lru_cache(maxsize=None)
def compiled_dtype_sweep():
    return njit(dtype_sweep(npx))


@pytest.mark.parametrize('a', [X1.astype(np.float32), I2],
                         ids=['float32-1d', 'int64-2d'])
def test_reduction_dtypes(a):
    """Result dtypes follow NumPy: int sums stay int64, int means are
    float64, float32 stays float32."""
    f = compiled_dtype_sweep()
    for i in (0, -1):
        same(f(a, i), dtype_sweep(np)(a, i))


def test_reduction_dtype_argument_and_ddof():
    f = njit(lambda a, i: (npx.sum(a, axis=i, dtype=np.float32),
                           npx.var(a, axis=i, ddof=1),
                           npx.std(a, ddof=2)))
    same(f(I2, 1), (np.sum(I2, axis=1, dtype=np.float32),
                    np.var(I2, axis=1, ddof=1), np.std(I2, ddof=2)))


def test_reduction_nan_propagates():
    x = X3.copy()
    x[0, 1, 2] = np.nan
    x[1, 2, 0] = np.nan
    for op in ('max', 'argmax', 'sum', 'mean'):
        f = compiled_patterns(op)
        for i, t in [(1, (0, 2)), (-1, (0, 1))]:
            same(f(x, i, t), patterns(np, op)(x, i, t))
    y = X2.copy()
    y[1, 2] = np.nan
    for op in ('min', 'argmin'):
        for i, t in AXES_2D:
            same(compiled_patterns(op, 'some')(y, i, t), patterns(np, op, 'some')(y, i, t))


def test_reduction_errors_follow_numpy():
    f = compiled_patterns('max')
    with pytest.raises(np.exceptions.AxisError):
        f(X3, 3, (0, 1))
    with pytest.raises(np.exceptions.AxisError):
        f(X3, 0, (0, -4))
    with pytest.raises(ValueError, match='duplicate'):
        f(X3, 0, (1, -2))
    with pytest.raises(ValueError, match='zero-size array'):
        f(np.zeros((2, 0, 3)), 1, (0, 1))
    with pytest.raises(ValueError, match='empty sequence'):
        compiled_patterns('argmax')(np.zeros((2, 0, 3)), 1, (0, 1))
    empty = np.zeros((2, 0, 3))
    same(compiled_patterns('sum')(empty, 1, (0, 1)), patterns(np, 'sum')(empty, 1, (0, 1)))


def test_reduction_of_a_non_contiguous_array():
    f = compiled_patterns('sum', 'some')
    for x in (X3[:, ::2, 1:], X3.transpose(1, 0, 2)):     # both layout 'A'
        for i, t in [(1, (0, 2)), (-1, (2, 0))]:
            same(f(x, i, t), patterns(np, 'sum', 'some')(x, i, t))


# --- compiled shapes -------------------------------------------------------------------


@njit
def nb_squeeze_expand(y, i, t):
    return (npx.squeeze(y, axis=i), npx.squeeze(y, axis=t),
            npx.squeeze(y.T, axis=-1), npx.expand_dims(y, i),
            npx.expand_dims(y.T, t))


def test_squeeze_expand_dims():
    y = X2.reshape(1, 3, 4)[:, :, :1]         # (1, 3, 1), not contiguous
    for i, t in [(0, (0, 2)), (-3, (-1, 0))]:
        want = (np.squeeze(y, axis=i), np.squeeze(y, axis=t),
                np.squeeze(y.T, axis=-1), np.expand_dims(y, i),
                np.expand_dims(y.T, t))
        same(nb_squeeze_expand(y, i, t), want)
    with pytest.raises(ValueError, match='size not equal to one'):
        nb_squeeze_expand(X3, 0, (0, 1))


@njit
def nb_reshape(a, s):
    return npx.reshape(a.T, s), npx.reshape(a.T, -1), npx.reshape(a, (-1, 2))


def test_reshape_non_contiguous_and_minus_one():
    for s in [(2, 6), (-1, 3), (4, -1)]:
        same(nb_reshape(X2, s), (np.reshape(X2.T, s), np.reshape(X2.T, -1),
                                 np.reshape(X2, (-1, 2))))
    with pytest.raises(ValueError, match='cannot reshape array of size 12'):
        nb_reshape(X2, (5, -1))


@njit
def nb_concatenate(a, b, i):
    return (npx.concatenate([a, b]), npx.concatenate((a, b), axis=i),
            npx.concatenate((a, b), axis=None), npx.stack([a, b], axis=i),
            npx.stack((a, b)), npx.vstack([a, b]), npx.hstack((a, b)))


@njit
def nb_concatenate_mixed(a, b):
    return (npx.concatenate((a, b), axis=-1), npx.stack((a, b), -1),
            npx.vstack([a[0], a[1]]), npx.hstack([a[0], a[1]]))


def test_concatenate_stack_lists_and_tuples():
    for i in (1, -1, 0):
        want = (np.concatenate([X2, X2 + 1]), np.concatenate((X2, X2 + 1), axis=i),
                np.concatenate((X2, X2 + 1), axis=None), np.stack([X2, X2 + 1], axis=i),
                np.stack((X2, X2 + 1)), np.vstack([X2, X2 + 1]), np.hstack((X2, X2 + 1)))
        same(nb_concatenate(X2, X2 + 1, i), want)
    want = (np.concatenate((X2, I2), axis=-1), np.stack((X2, I2), -1),
            np.vstack([X2[0], X2[1]]), np.hstack([X2[0], X2[1]]))
    same(nb_concatenate_mixed(X2, I2), want)
    with pytest.raises(ValueError, match='must match exactly'):
        nb_concatenate(X2, X2[:, :2].copy(), 0)


@njit
def nb_tile_repeat(a, reps, r):
    return (npx.tile(a, reps), npx.tile(a, 3), npx.repeat(a, 2, axis=1),
            npx.repeat(a, 2), npx.repeat(a, r, axis=0))


def test_tile_repeat():
    r = np.array([1, 0, 2])
    for reps in [(2, 1), (1, 3)]:
        same(nb_tile_repeat(I2, reps, r),
             (np.tile(I2, reps), np.tile(I2, 3), np.repeat(I2, 2, axis=1),
              np.repeat(I2, 2), np.repeat(I2, r, axis=0)))
    same(njit(lambda a: npx.tile(a, (2, 1, 2)))(X1), np.tile(X1, (2, 1, 2)))
    with pytest.raises(ValueError):
        nb_tile_repeat(I2, (2, 1), np.array([1, 2]))


@njit
def nb_pad(a):
    return (npx.pad(a, 1), npx.pad(a, ((1, 0), (2, 3)), constant_values=7),
            npx.pad(a, (1, 2), 'constant', constant_values=(1.5, 2.5)))


def test_pad_constant():
    same(nb_pad(X2), (np.pad(X2, 1), np.pad(X2, ((1, 0), (2, 3)), constant_values=7),
                      np.pad(X2, (1, 2), 'constant', constant_values=(1.5, 2.5))))


# --- compiled products -----------------------------------------------------------------

S = RNG.standard_normal((4, 4))
B3 = RNG.standard_normal((2, 4, 5))
EINSUM = [('ij,jk->ik', (X2, S)), ('ii->', (S,)), ('bij,bjk->bik', (X3, B3)),
          ('i,j->ij', (X1, X1[:3])), ('ij->ji', (X2,)), ('ij->', (X2,)),
          ('ii->i', (S,)), ('ij,jk', (X2, S)), ('ij,jk', (I2, I2.T)),
          ('...ij,...jk->...ik', (X3, B3)), ('ij,j->i', (F2, X1[:4]))]


@pytest.mark.parametrize('subs,ops', EINSUM, ids=[
    '%s-%s' % (s, ops[0].dtype) for s, ops in EINSUM])
def test_einsum(subs, ops):
    if len(ops) == 1:
        f = njit(lambda a: npx.einsum(subs, a))
    else:
        f = njit(lambda a, b: npx.einsum(subs, a, b))
    same(f(*ops), np.einsum(subs, *ops))


@njit
def nb_products(a, b, c):
    return (npx.inner(a, b), npx.tensordot(a, c, 1),
            npx.tensordot(c, a, ((0,), (1,))), npx.kron(a, b), npx.dot(a, c))


def test_inner_tensordot_kron_dot():
    C = RNG.standard_normal((4, 2))
    same(nb_products(X2, X2 + 1, C),
         (np.inner(X2, X2 + 1), np.tensordot(X2, C, 1), np.tensordot(C, X2, ((0,), (1,))),
          np.kron(X2, X2 + 1), np.dot(X2, C)))
    f = njit(lambda a, b: npx.tensordot(a, b, ((1, 2), (0, 1))))
    D = RNG.standard_normal((3, 4, 2))
    same(f(X3, D), np.tensordot(X3, D, ((1, 2), (0, 1))))
    same(njit(lambda a, b: npx.tensordot(a, b))(X3, D), np.tensordot(X3, D))


@njit
def nb_matmul_dot(a, b):
    return npx.matmul(a, b), npx.dot(a, b)


def test_matmul_and_dot_any_dtype():
    same(nb_matmul_dot(I2, I2.T), (np.matmul(I2, I2.T), np.dot(I2, I2.T)))
    same(nb_matmul_dot(F2, X2.T), (np.matmul(F2, X2.T), np.dot(F2, X2.T)))
    same(nb_matmul_dot(X3, B3), (np.matmul(X3, B3), np.dot(X3, B3)))
    i3 = RNG.integers(-3, 4, (2, 3, 4))
    same(njit(lambda a, b: npx.matmul(a, b))(i3, i3.transpose(0, 2, 1)),
         np.matmul(i3, i3.transpose(0, 2, 1)))
    with pytest.raises(ValueError):
        nb_matmul_dot(X3, X3)


# --- element-wise and masks -------------------------------------------------------------

def test_heaviside():
    h = np.array([-1.0, 0.0, 2.0, np.nan])
    f = njit(lambda a, b: (npx.heaviside(a, 0.5), npx.heaviside(a, b)))
    same(f(h, h[::-1].copy()), (np.heaviside(h, 0.5), np.heaviside(h, h[::-1])))
    g = njit(lambda a: npx.heaviside(a, 1))
    same(g(I2), np.heaviside(I2, 1))


@njit
def nb_mask(a, m, v):
    sel = npx.mask_select(a, m)
    b = a.copy()
    npx.mask_assign(b, m, v)
    return sel, b


@pytest.mark.parametrize('mask', ['2d', '1d'])
def test_mask_select_and_assign(mask):
    m = X2 > 0.2 if mask == '2d' else np.array([True, False, True])
    want = X2.copy()
    want[m] = -1.0
    same(nb_mask(X2, m, -1.0), (X2[m], want))
    if mask == '1d':                           # a row for each selected row
        want = X2.copy()
        want[m] = np.arange(4.0)
        same(nb_mask(X2, m, np.arange(4.0)), (X2[m], want))
    with pytest.raises(IndexError, match='boolean index did not match'):
        nb_mask(X2, np.ones((2, 4), np.bool_) if mask == '2d' else np.ones(2, np.bool_), 0.0)


# --- unsupported arguments: TypingError naming them ----------------------------------------

UNSUPPORTED = [
    ('out=', lambda a: npx.sum(a, axis=0, out=a[0])),
    ('out=', lambda a: npx.max(a, out=a)),
    ('out=', lambda a: npx.concatenate((a, a), out=a)),
    ('keepdims=', lambda a: npx.mean(a, keepdims=a[0, 0] > 0)),
    ("mode='constant'", lambda a: npx.pad(a, 1, mode='edge')),
    ("order='C'", lambda a: npx.reshape(a, -1, order='F')),
    ('pass axis=', lambda a: npx.squeeze(a)),
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
    s = np.squeeze(y, axis=0)
    return m, mu, s, np.sum(x, axis=(0, 1), keepdims=True), x.std(axis=0)


def e2e_shapes(a, b):
    return np.concatenate([a, b]), a.T.reshape(-1), np.tile(a, (2, 1)), a[a > 0.5]


def e2e_products(a, b):
    return np.einsum('ij,jk->ik', a, b), np.einsum('ii->', b), a @ b


E2E = [(e2e_reductions, (X2, X3[:1]),
        ['npx.max(x, axis=0)', 'npx.mean(x, axis=1, keepdims=True)',
         'npx.squeeze(y, axis=0)', 'npx.sum(x, axis=(0, 1), keepdims=True)',
         'npx.std(x, axis=0)']),
       (e2e_shapes, (X2, X2 + 1),
        ['npx.concatenate([a, b])', 'npx.reshape(a.T, -1)', 'npx.tile(a, (2, 1)',
         'checks.getitem(a, a > 0.5']),
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
