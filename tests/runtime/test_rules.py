"""Derivative rules (runtime.rules): every template run eagerly against
central finite differences, driven by a table of op specs; a representative
subset inlined into @njit functions; template signatures against NumPy's.

The eager harness calls a template with real arguments inside
``d.recording()``: ``d[x] = v`` then logs ``(x, v)`` and cotangents are
matched to arguments by identity.
"""
import ast
import builtins
import inspect
import math
import operator
import textwrap

import numpy as np
import pytest

from runtime import rules
from runtime.rules import ADJOINTS, NONDIFFERENTIABLE, d, lookup

EPS = 1e-6


# --- op specs -------------------------------------------------------------------

class Const:
    """A non-differentiable argument, passed as is."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return 'C(%r)' % (self.value,)


class Seq:
    """A tuple of arguments (np.concatenate's ``arrays``)."""

    def __init__(self, *items):
        self.items = items

    def __repr__(self):
        return 'Seq%r' % (self.items,)


S = 's'  # a Python float


def _domain_value(rng, shape, dom):
    n = None if shape == S else shape
    if dom == 'real':
        v = rng.normal(size=n)
    elif dom == 'pos':
        v = rng.uniform(0.5, 2.0, size=n)
    elif dom == 'unit':
        v = rng.uniform(-0.9, 0.9, size=n)
    elif dom == 'gt1':
        v = rng.uniform(1.5, 3.0, size=n)
    elif dom == 'wellcond':           # matrices: diagonally dominant
        v = rng.normal(size=n) + 4.0 * np.eye(shape[-1])
    elif dom == 'spd':
        m = rng.normal(size=n)
        v = m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])
    else:
        raise ValueError(dom)
    return float(v) if shape == S else np.asarray(v, dtype=np.float64)


class Op:
    """One table row: ``fn(*args, **kwargs)``; ``args`` holds shapes (a
    tuple, ``S`` for a Python float), Const and Seq; ``dom`` the input domain
    ('real', 'pos', 'unit', 'gt1', 'wellcond', 'spd') for all args or one
    per arg; ``tol`` the rtol and atol; ``pre`` maps a perturbed input before the call in finite
    differences (cholesky: symmetrize)."""

    def __init__(self, fn, *args, dom='real', pre=None, name=None, tol=1e-6,
                 **kwargs):
        self.fn, self.args, self.kwargs, self.tol = fn, args, kwargs, tol
        self.dom, self.pre = dom, pre
        self.name = name or getattr(fn, '__name__', str(fn))

    def id(self):
        kw = ','.join('%s=%r' % kv for kv in self.kwargs.items())
        return '%s(%s%s)' % (self.name, ','.join(
            _arg_id(a) for a in self.args), ';' + kw if kw else '')

    def build(self, rng):
        """(leaves, make): the differentiable inputs, and a function from
        leaves to the call's positional args."""
        leaves = []
        doms = self.dom if isinstance(self.dom, tuple) else \
            (self.dom,) * len(self.args)

        def gen(a, dom):
            if isinstance(a, Const):
                return lambda lv: a.value
            if isinstance(a, Seq):
                parts = [gen(x, dom) for x in a.items]
                return lambda lv: tuple(p(lv) for p in parts)
            k = len(leaves)
            leaves.append(_domain_value(rng, a, dom))
            return lambda lv: lv[k]

        parts = [gen(a, dom) for a, dom in zip(self.args, doms)]
        return leaves, lambda lv: [p(lv) for p in parts]


def _arg_id(a):
    if a == S:
        return 's'
    if isinstance(a, tuple):
        return 'x'.join(map(str, a)) if a else '0d'
    return repr(a)


# --- the eager harness ------------------------------------------------------------

def _weights(rng, ans):
    if isinstance(ans, tuple):
        return tuple(_weights(rng, a) for a in ans)
    if np.ndim(ans) == 0 and not isinstance(ans, np.ndarray):
        return float(rng.normal())
    return rng.normal(size=np.shape(ans))


def _dot(w, out):
    if isinstance(out, tuple):
        return sum(_dot(a, b) for a, b in zip(w, out))
    return float(np.sum(np.asarray(w) * np.asarray(out, dtype=np.float64)))


def run_template(fn, args, kwargs, g, ans):
    """Call fn's template; return {id(argument): cotangent}."""
    template = lookup(fn)
    assert template is not None, 'no template for %r' % (fn,)
    with d.recording() as log:
        template(g, ans, *args, **kwargs)
    cots = {}

    def add(x, v):
        if id(x) in cots:
            cots[id(x)] = cots[id(x)] + v
        else:
            cots[id(x)] = v
    for x, v in log:
        if v is None:           # d[p] = None: no derivative, on purpose
            continue
        if isinstance(x, (tuple, list)):
            # a tuple of cotangents, or an array whose rows are theirs
            assert len(v) == len(x)
            for e, ve in zip(x, v):
                add(e, float(ve) if np.ndim(ve) == 0 else ve)
        else:
            add(x, v)
    return cots


def finite_difference(f, x):
    """Central differences of scalar f at x (float or array)."""
    if isinstance(x, float):
        return (f(x + EPS) - f(x - EPS)) / (2 * EPS)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += EPS
        xm[i] -= EPS
        grad[i] = (f(xp) - f(xm)) / (2 * EPS)
    return grad


def check_op(op, seed=0):
    rng = np.random.default_rng(seed)
    leaves, make = op.build(rng)
    args = make(leaves)
    ans = op.fn(*args, **op.kwargs)
    w = _weights(rng, ans)
    cots = run_template(op.fn, args, op.kwargs, w, ans)
    pre = op.pre or (lambda v: v)
    for k, leaf in enumerate(leaves):
        def f(v, k=k):
            lv = list(leaves)
            lv[k] = pre(v)
            return _dot(w, op.fn(*make(lv), **op.kwargs))
        expected = finite_difference(f, leaf)
        assert id(leaf) in cots, 'no cotangent for argument %d' % k
        got = cots[id(leaf)]
        if np.ndim(leaf) == 0:
            assert isinstance(got, float), (type(got), k)
        else:
            assert isinstance(got, np.ndarray) and got.shape == leaf.shape, \
                (type(got), np.shape(got), k)
            assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=op.tol, atol=op.tol,
                                   err_msg='argument %d of %s' % (k, op.id()))


# --- the table ---------------------------------------------------------------------

UNARY = [  # (function, domain)
    (np.negative, 'real'), (np.positive, 'real'), (np.absolute, 'real'),
    (np.fabs, 'real'), (np.square, 'real'), (np.reciprocal, 'pos'),
    (np.sqrt, 'pos'), (np.cbrt, 'pos'), (np.exp, 'real'), (np.exp2, 'real'),
    (np.expm1, 'real'), (np.log, 'pos'), (np.log2, 'pos'), (np.log10, 'pos'),
    (np.log1p, 'pos'), (np.sin, 'real'), (np.cos, 'real'), (np.tan, 'unit'),
    (np.arcsin, 'unit'), (np.arccos, 'unit'), (np.arctan, 'real'),
    (np.sinh, 'real'), (np.cosh, 'real'), (np.tanh, 'real'),
    (np.arcsinh, 'real'), (np.arccosh, 'gt1'), (np.arctanh, 'unit'),
    (np.deg2rad, 'real'), (np.rad2deg, 'real'), (np.radians, 'real'),
    (np.degrees, 'real'),
]
BINARY = [
    (np.add, 'real'), (np.subtract, 'real'), (np.multiply, 'real'),
    (np.true_divide, ('real', 'pos')), (np.power, ('pos', 'real')),
    (np.maximum, 'real'), (np.minimum, 'real'), (np.fmax, 'real'),
    (np.fmin, 'real'), (np.arctan2, 'real'), (np.hypot, 'real'),
    (np.logaddexp, 'real'), (np.remainder, ('real', 'pos')),
    (np.fmod, ('real', 'pos')),
]
MATH1 = [
    (math.exp, 'real'), (math.expm1, 'real'), (math.log, 'pos'),
    (math.log1p, 'pos'), (math.log2, 'pos'), (math.log10, 'pos'),
    (math.sqrt, 'pos'), (math.sin, 'real'), (math.cos, 'real'),
    (math.tan, 'unit'), (math.asin, 'unit'), (math.acos, 'unit'),
    (math.atan, 'real'), (math.sinh, 'real'), (math.cosh, 'real'),
    (math.tanh, 'real'), (math.asinh, 'real'), (math.acosh, 'gt1'),
    (math.atanh, 'unit'), (math.erf, 'real'), (math.erfc, 'real'),
    (math.degrees, 'real'), (math.radians, 'real'), (math.fabs, 'real'),
    (builtins.abs, 'real'), (builtins.float, 'real'),
]
MATH2 = [
    (math.pow, ('pos', 'real')), (math.atan2, 'real'), (math.hypot, 'real'),
    (math.log, 'pos'), (builtins.max, 'real'), (builtins.min, 'real'),
    (builtins.pow, ('pos', 'real')),
]
UNARY_SHAPES = [S, (), (3,), (2, 3)]
BINARY_SHAPES = [(S, S), ((3,), S), (S, (2, 2)), ((2, 3), (3,)),
                 ((3, 1), (1, 4)), ((), (2,)), ((2, 1, 3), (4, 1))]

AXES = [  # (shape, kwargs)
    ((4,), {}), ((4,), dict(axis=0)), ((2, 3), {}), ((2, 3), dict(axis=0)),
    ((2, 3), dict(axis=-1, keepdims=True)), ((2, 3), dict(keepdims=True)),
    ((2, 3, 4), dict(axis=(0, 2))), ((2, 3, 4), dict(axis=(-1, 1),
                                                     keepdims=True)),
    ((2, 3, 4), dict(axis=1)),
]


def _table():
    t = []
    for fn, dom in UNARY:
        t += [Op(fn, s, dom=dom) for s in UNARY_SHAPES]
    for fn, dom in BINARY:
        t += [Op(fn, a, b, dom=dom) for a, b in BINARY_SHAPES]
    t += [Op(fn, S, dom=dom) for fn, dom in MATH1]
    t += [Op(fn, S, S, dom=dom) for fn, dom in MATH2]
    t += [Op(np.power, (3,), Const(2)), Op(np.power, (3,), Const(3.0)),
          Op(np.clip, (5,), Const(-0.5), Const(0.5)),
          Op(np.clip, (2, 3), (3,), S, name='clip_arr'),
          Op(np.clip, (5,), Const(None), Const(0.3), name='clip_none'),
          Op(np.where, Const(np.array([True, False, True])), (3,), (2, 3)),
          Op(np.where, Const(np.array([[True], [False]])), S, (2, 2))]
    for fn in (np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin,
               np.var, np.std):
        t += [Op(fn, shape, **kw) for shape, kw in AXES]
    t += [Op(np.var, (2, 3), axis=1, ddof=1), Op(np.std, (5,), ddof=1),
          Op(np.sum, S), Op(np.mean, ()), Op(np.max, S), Op(np.prod, ()),
          Op(np.cumsum, (5,)), Op(np.cumsum, (2, 3)),
          Op(np.cumsum, (2, 3), axis=0), Op(np.cumsum, (2, 3, 2), axis=-1)]
    # shapes
    t += [Op(np.transpose, (2, 3)), Op(np.transpose, (2, 3, 4), Const((2, 0, 1))),
          Op(np.transpose, (2, 3, 4), axes=(-1, 0, 1)),
          Op(np.reshape, (2, 3), Const((3, 2))),
          Op(np.reshape, (2, 3), Const(-1)), Op(np.reshape, (2, 3), Const((6, 1)),
                                                order='F'),
          Op(np.ravel, (2, 3)), Op(np.ravel, (2, 3, 2), order='F'),
          Op(np.squeeze, (1, 3, 1)), Op(np.squeeze, (1, 3), axis=0),
          Op(np.expand_dims, (3,), Const(0)),
          Op(np.expand_dims, (2, 3), Const((0, -1))),
          Op(np.broadcast_to, (3,), Const((2, 3))),
          Op(np.broadcast_to, (2, 1), Const((3, 2, 4))),
          Op(np.broadcast_to, S, Const((2,))),
          Op(np.concatenate, Seq((2,), (3,))),
          Op(np.concatenate, Seq((2, 3), (1, 3), (2, 3))),
          Op(np.concatenate, Seq((2, 3), (2, 1)), axis=1),
          Op(np.concatenate, Seq((2, 3), (4,)), axis=None),
          Op(np.stack, Seq((3,), (3,))), Op(np.stack, Seq((2, 3), (2, 3)),
                                            axis=-1),
          Op(np.stack, Seq(S, S)),
          Op(np.copy, (2, 3)), Op(np.copy, S),
          Op(np.asarray, (2, 3)), Op(np.array, Seq(S, S, S)),
          Op(np.array, Seq((2,), (2,))),
          Op(np.ndarray.astype, (2, 3), Const(np.float64)),
          Op(np.ndarray.astype, (3,), Const('float32'), name='astype_f32',
             tol=1e-1),
          Op(np.ndarray.astype, (3,), Const(np.int64), name='astype_int')]
    # indexing
    for shape, index in [((5,), 2), ((5,), -1), ((5,), slice(1, 4)),
                         ((5,), slice(None, None, -2)),
                         ((5,), np.array([0, 2, 2, 4])),
                         ((5,), np.array([True, False, True, True, False])),
                         ((3, 4), 1), ((3, 4), (1, 2)),
                         ((3, 4), (slice(0, 2), 3)),
                         ((3, 4), np.array([[0, 1], [2, 0]])),
                         ((3, 4), (np.array([0, 0, 2]), np.array([1, 1, 3]))),
                         ((3, 4), (slice(None), np.array([3, 0, 3]))),
                         ((3, 4), np.arange(12).reshape(3, 4) % 3 == 0),
                         ((3, 4), np.array([True, False, True])),
                         ((2, 3, 4), (0, slice(None), 1)),
                         ((3,), (slice(None), None)),
                         ((2, 3), (None, slice(None), Ellipsis)),
                         ((2, 3, 4), (slice(None), slice(1, 3), np.array([1, 1])))]:
        t.append(Op(operator.getitem, shape, Const(index)))
    from runtime import npx
    t.append(Op(npx.mask_select, (3, 4),
                Const(np.arange(12).reshape(3, 4) % 5 == 1)))
    # products and linear algebra
    t += [Op(np.dot, (3,), (3,)), Op(np.dot, (2, 3), (3, 4)),
          Op(np.dot, (2, 3), (3,)), Op(np.dot, (3,), (3, 2)),
          Op(np.dot, S, (3,)), Op(np.dot, (2, 2, 3), (4, 3, 2)),
          Op(np.dot, (2, 2, 3), (3,)),
          Op(np.matmul, (2, 3), (3, 4)), Op(np.matmul, (3,), (3, 4)),
          Op(np.matmul, (2, 3), (3,)), Op(np.matmul, (3,), (3,)),
          Op(np.matmul, (2, 2, 3), (3, 4)), Op(np.matmul, (1, 2, 3), (4, 3, 2)),
          Op(np.outer, (3,), (4,)), Op(np.outer, (2, 2), (3,)),
          Op(np.trace, (3, 3)), Op(np.trace, (3, 4), Const(1)),
          Op(np.trace, (2, 3, 3), axis1=1, axis2=2),
          Op(np.trace, (3, 4), offset=-1, axis1=1, axis2=0),
          Op(np.tril, (3, 3)), Op(np.tril, (3, 4), Const(-1)), Op(np.triu, (4, 3), Const(1)),
          Op(np.einsum, Const('ij,jk->ik'), (2, 3), (3, 4)),
          Op(np.einsum, Const('ij,jk'), (2, 3), (3, 4), name='einsum_implicit'),
          Op(np.einsum, Const('ii->'), (3, 3), name='einsum_trace'),
          Op(np.einsum, Const('ii->i'), (3, 3), name='einsum_diag'),
          Op(np.einsum, Const('ij->'), (2, 3), name='einsum_sum'),
          Op(np.einsum, Const('i,i,i->'), (3,), (3,), (3,)),
          Op(np.einsum, Const('bij,bjk->bik'), (2, 2, 3), (2, 3, 2)),
          Op(np.einsum, Const('...ij,jk->...ik'), (2, 2, 3), (3, 2),
             name='einsum_ellipsis'),
          Op(np.einsum, Const('ij,j->i'), (2, 3), (3,)),
          Op(np.einsum, Const(',ij->ij'), S, (2, 2), name='einsum_scalar'),
          Op(np.linalg.solve, (3, 3), (3,), dom=('wellcond', 'real')),
          Op(np.linalg.solve, (3, 3), (3, 2), dom=('wellcond', 'real')),
          Op(np.linalg.solve, (2, 3, 3), (2, 3, 2), dom=('wellcond', 'real')),
          Op(np.linalg.inv, (3, 3), dom='wellcond'),
          Op(np.linalg.inv, (2, 3, 3), dom='wellcond'),
          Op(np.linalg.det, (3, 3), dom='wellcond'),
          Op(np.linalg.det, (2, 3, 3), dom='wellcond'),
          Op(np.linalg.slogdet, (3, 3), dom='wellcond'),
          Op(np.linalg.cholesky, (3, 3), dom='spd', pre=_sym),
          Op(np.linalg.cholesky, (2, 3, 3), dom='spd', pre=_sym)]
    for shape, kw in [((4,), {}), ((4,), dict(ord=1)),
                      ((4,), dict(ord=np.inf)), ((4,), dict(ord=-np.inf)),
                      ((4,), dict(ord=3)), ((4,), dict(ord=0.5)),
                      ((2, 3), {}), ((2, 3), dict(ord='fro')),
                      ((2, 3), dict(ord='nuc')), ((2, 3), dict(ord=2)),
                      ((3, 3), dict(ord=-2)), ((2, 3), dict(ord=1)),
                      ((2, 3), dict(ord=-1)), ((2, 3), dict(ord=np.inf)),
                      ((2, 3), dict(ord=-np.inf)), ((2, 3), dict(axis=1)),
                      ((2, 3), dict(axis=0, keepdims=True)),
                      ((2, 3), dict(axis=0, ord=1)),
                      ((2, 3, 4), dict(axis=(0, 2))),
                      ((2, 3, 4), dict(axis=(2, 0), ord=1)),
                      ((2, 3, 4), dict(keepdims=True)), (S, {})]:
        t.append(Op(np.linalg.norm, shape, **kw))
    # array creation and selection (runtime/rules/creation.py)
    t += [Op(np.linspace, S, S, Const(5)), Op(np.linspace, S, S, Const(4), endpoint=False),
          Op(np.linspace, (3,), S, Const(4), name='linspace_arr'),
          Op(np.linspace, (2, 1), (3,), Const(4), axis=-1, name='linspace_axis'),
          Op(np.linspace, S, (2,), Const(3), retstep=True, name='linspace_retstep'),
          Op(np.linspace, S, S, Const(1), name='linspace_one'),
          Op(np.linspace, S, S, Const(5), dtype=np.int64, name='linspace_int'),
          Op(np.arange, S, Const(7.5), S, dom=('real', 'real', 'pos')),
          Op(np.arange, S, Const(9.25), name='arange_start'),
          Op(np.arange, S, dom='gt1', name='arange_stop'),
          Op(np.full, Const((2, 3)), S), Op(np.full, Const((2, 3)), (3,), name='full_row'),
          Op(np.full, Const(3), S, Const(np.int64), name='full_int'),
          Op(np.full_like, Const(np.ones((2, 3))), S),
          Op(np.full_like, Const(np.ones((2, 3))), (2, 1), name='full_like_col'),
          Op(np.full_like, Const(np.arange(3)), S, name='full_like_int'),
          Op(np.bincount, Const(np.array([0, 2, 2, 1, 4])), (5,)),
          Op(np.bincount, Const(np.array([1, 1, 0])), (3,), minlength=5, name='bincount_min'),
          Op(np.heaviside, Const(np.array([-1.0, 0.0, 2.0, 0.0])), (4,)),
          Op(np.heaviside, Const(np.array([[0.0], [3.0]])), S, name='heaviside_bcast'),
          Op(np.unique, (6,)), Op(np.unique, (2, 3), name='unique_2d'),
          Op(np.unique, (5,), return_inverse=True, name='unique_inverse'),
          Op(np.unique, (5,), return_index=True, return_counts=True, name='unique_flags'),
          Op(np.array, Seq(S, S), Const(np.int64), name='array_int'),
          Op(np.asarray, (3,), Const(np.int32), name='asarray_int')]
    from runtime import random as R         # tp.random.uniform: through its bounds
    key = R.PRNGKey(3)
    t += [Op(R.uniform, Const(key), Const((4,)), Const(None), (4,), S, dom='unit'),
          Op(R.uniform, Const(key), Const((2, 3)), Const(None), S, (3,),
             dom=('real', 'real', 'real', 'real', 'gt1')),
          Op(R.uniform, Const(key), Const((3,)), Const(None), S, S,
             dom=('real', 'real', 'real', 'gt1', 'unit'))]     # maxval < minval: all to minval
    return t


def _sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


TABLE = _table()


@pytest.mark.parametrize('op', TABLE, ids=[op.id() for op in TABLE])
def test_template_matches_finite_differences(op):
    check_op(op)


def test_every_adjoint_is_exercised_by_the_table():
    from runtime import random as R
    # tp.random.gamma's rule is the implicit reparameterization gradient (the
    # inverse CDF's derivative at a fixed quantile), not the finite differences
    # of the sampler with its key held fixed: tests/random/test_random_grad.py
    tested = {op.fn for op in TABLE} | {R.gamma}
    missing = [fn for fn in ADJOINTS if fn not in tested]
    assert not missing, missing


# --- behaviour at kinks, ties and zeros (JAX's conventions) -------------------------

def _vjp(fn, *args, g=1.0, **kwargs):
    """Cotangents of args (in order) for output cotangent g."""
    ans = fn(*args, **kwargs)
    if np.ndim(g) == 0 and np.ndim(ans):
        g = np.full(np.shape(ans), g)
    cots = run_template(fn, args, kwargs, g, ans)
    return [cots.get(id(a)) for a in args]


def test_max_min_split_ties_evenly():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(_vjp(np.max, x)[0], [0, 0.5, 0.5, 0])
    m = np.array([[1.0, 1.0], [0.0, 2.0]])
    np.testing.assert_array_equal(_vjp(np.min, m, axis=1)[0],
                                  [[0.5, 0.5], [1, 0]])
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0])
    ga, gb = _vjp(np.maximum, a, b)
    np.testing.assert_array_equal(ga, [0.5, 1, 0])
    np.testing.assert_array_equal(gb, [0.5, 0, 1])
    assert _vjp(builtins.max, np.float64(2.0), np.float64(2.0)) == [0.5, 0.5]


def test_clip_at_its_bounds_splits_like_jax():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(_vjp(np.clip, x, 0.0, 1.0)[0],
                                  [0, 0.5, 1, 0.5, 0])


def test_power_at_zero():
    x, y = np.array([0.0, 0.0, 2.0]), np.array([2.0, 0.0, 3.0])
    gx, gy = _vjp(np.power, x, y)
    np.testing.assert_array_equal(gx, [0.0, 0.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 8 * np.log(2.0)])
    assert _vjp(np.power, 0.0, 2)[0] == 0.0


def test_prod_with_zeros_is_exact():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    np.testing.assert_array_equal(_vjp(np.prod, x)[0], [0, 24, 0, 0])
    x = np.array([[0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(_vjp(np.prod, x, axis=1)[0],
                                  [[0, 0, 0], [6, 3, 2]])


def test_norm_at_zero_is_zero_not_nan():
    np.testing.assert_array_equal(_vjp(np.linalg.norm, np.zeros(3))[0],
                                  np.zeros(3))


def test_abs_and_sqrt_follow_the_usual_conventions():
    assert _vjp(np.absolute, 0.0)[0] == 0.0
    assert _vjp(np.sqrt, 4.0)[0] == 0.25


def test_getitem_accumulates_repeated_indices():
    x = np.arange(4.0)
    g = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(
        _vjp(operator.getitem, x, np.array([1, 3, 1]), g=g)[0], [0, 5, 0, 2])


def test_where_sends_the_cotangent_to_the_chosen_branch():
    c = np.array([True, False])
    gx, gy = _vjp(np.where, c, np.ones(2), np.zeros(2))[1:]
    np.testing.assert_array_equal(gx, [1, 0])
    np.testing.assert_array_equal(gy, [0, 1])


def test_astype_to_int_has_zero_gradient():
    got = _vjp(np.ndarray.astype, np.ones(3), np.int32)[0]
    np.testing.assert_array_equal(got, np.zeros(3))


# --- the registry ---------------------------------------------------------------------

def test_d_outside_a_recording_is_an_error():
    with pytest.raises(TypeError, match='template notation'):
        lookup(np.exp)(1.0, 1.0, 0.0)


def test_lookup_maps_npx_twins_back_to_numpy():
    from runtime import npx
    assert lookup(npx.sum) is lookup(np.sum) is rules.reductions.sum
    assert lookup(npx.max) is rules.reductions.max
    assert lookup(npx.einsum) is rules.linalg.einsum
    assert lookup(np.argmax) is None and rules.is_nondifferentiable(npx.argmax)
    assert lookup(len) is None and lookup([]) is None


def test_adjoint_and_nondifferentiable_sets_are_disjoint():
    assert not set(ADJOINTS) & NONDIFFERENTIABLE


#: templates whose parameter names differ from the function's on purpose
#: (positional-only in Python, so the names are not part of the API)
RENAMED = {operator.getitem: ['a', 'index'], builtins.max: ['a', 'b'],
           builtins.min: ['a', 'b'], math.log: ['x', 'base'],
           np.ndarray.astype: ['a', 'dtype'], builtins.float: ['x'],
           math.hypot: ['x', 'y'], np.array: ['object', 'dtype'],
           np.asarray: ['object', 'dtype'],
           # NumPy: einsum(*operands, ...) with the subscripts first
           np.einsum: ['subscripts']}


def _params(fn):
    """(positional parameter names of fn, how many are required).  Ufuncs:
    x (unary) or x1, x2 (NumPy's documented names)."""
    if isinstance(fn, np.ufunc):
        names = ['x'] if fn.nin == 1 else ['x1', 'x2']
        return names, len(names)
    ps = [p for p in inspect.signature(fn).parameters.values()
          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [p.name for p in ps], sum(p.default is p.empty for p in ps)


@pytest.mark.parametrize('fn', list(ADJOINTS), ids=lambda f: getattr(
    f, '__qualname__', getattr(f, '__name__', str(f))))
def test_template_signature_mirrors_the_function(fn):
    """The template's parameters after (g, ans) are a prefix of the
    function's positional parameters, covering all of its required ones."""
    params = list(inspect.signature(lookup(fn)).parameters.values())
    assert [p.name for p in params[:2]] == ['g', 'ans']
    names = [p.name for p in params[2:] if p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if fn in RENAMED:
        assert RENAMED[fn] is None or names == RENAMED[fn]
        return
    want, required = _params(fn)
    assert names == want[:len(names)]
    assert len(names) >= required


# --- templates inlined into @njit functions -----------------------------------------------
# A test-only stand-in for the compiler: substitute the template's parameters
# (arrays and floats become arguments, other values literal constants),
# rewrite `d[p] = e` to `p_bar = p_bar + e`, compile with the options of
# generated code, and compare with the eager template.

def _const_expr(v):
    """Source of a constant argument, or None when it must be passed."""
    if isinstance(v, slice):
        return 'slice(%s, %s, %s)' % (v.start, v.stop, v.step)
    if isinstance(v, tuple) and all(_const_expr(e) is not None for e in v):
        return '(%s%s)' % (', '.join(_const_expr(e) for e in v),
                           ',' if len(v) == 1 else '')
    if v is None or isinstance(v, (bool, int, str)) or (
            isinstance(v, float) and not math.isfinite(v)):
        return repr(v) if isinstance(v, (bool, int, str)) or v is None \
            else ('np.inf' if v > 0 else '-np.inf')
    if isinstance(v, type) and issubclass(v, np.generic):
        return 'np.' + v.__name__
    return None


def instantiate(template, bound, leaf_ids):
    """Source of ``inst(g, ans, *args, *bars)`` and the list of arguments
    it takes, for a template bound to real values (``bound``: name ->
    value); values whose id is in ``leaf_ids`` get cotangents."""
    fdef = ast.parse(textwrap.dedent(inspect.getsource(template))).body[0]
    subs, params, bars, seqs = {}, [], [], {}
    for name, v in bound.items():
        if isinstance(v, tuple) and any(id(e) in leaf_ids for e in v):
            names = ['%s_%d' % (name, k) for k in range(len(v))]
            params += list(zip(names, v))
            seqs[name] = [n for n, e in zip(names, v) if id(e) in leaf_ids]
            subs[name] = ast.parse('(%s,)' % ', '.join(names)).body[0].value
            continue
        src = _const_expr(v)
        if src is None:
            params.append((name, v))
            if id(v) in leaf_ids:
                bars.append(name)
        else:
            subs[name] = ast.parse(src).body[0].value

    class Sub(ast.NodeTransformer):
        def visit_Name(self, node):
            return subs.get(node.id, node)

    body = []
    for stmt in fdef.body:
        if isinstance(stmt, ast.Assign) and isinstance(
                stmt.targets[0], ast.Subscript) and getattr(
                stmt.targets[0].value, 'id', None) == 'd':
            p = stmt.targets[0].slice.id
            e = ast.unparse(Sub().visit(stmt.value))
            if p in seqs:
                body.append('_t = %s' % e)
                names = [n for n, _ in params if n.startswith(p + '_')]
                body += ['%s_bar = %s_bar + _t[%d]' % (n, n, names.index(n))
                         for n in seqs[p]]
            elif p in bars:
                body.append('%s_bar = %s_bar + %s' % (p, p, e))
            continue
        body.append(ast.unparse(Sub().visit(stmt)))
    outs = bars + [n for p in seqs for n in seqs[p]]
    src = 'def inst(g, ans, %s):\n    %s\n    return (%s,)\n' % (
        ', '.join([n for n, _ in params] + ['%s_bar' % n for n in outs]),
        '\n    '.join(body), ', '.join('%s_bar' % n for n in outs))
    return src, [v for _, v in params], [dict(params)[n] for n in outs]


NUMBA_OPS = [  # templates whose bodies go beyond calling helpers, at least
    # one per family; helper paths are covered by tests/runtime/test_adjoint.py
    # (same argument types, so compiled specializations are shared)
    Op(np.multiply, (3, 1), (1, 4)), Op(np.power, (3,), S, dom='pos'),
    Op(np.maximum, (2, 3), (3,)), Op(np.clip, (5,), Const(None), S),
    Op(np.where, Const(np.array([True, False, True])), (3,), S),
    Op(np.exp, S), Op(math.pow, S, S, dom='pos'),
    Op(builtins.max, S, S),
    Op(np.sum, (2, 3, 4), axis=(0, 2), keepdims=True),
    Op(np.max, (2, 3, 4), axis=(0, 2)), Op(np.var, (2, 3), axis=1, ddof=1),
    Op(np.concatenate, Seq((2, 3), (2, 1)), axis=1),
    Op(operator.getitem, (4, 2), Const(np.array([[1, -1], [1, 0]]))),
    Op(np.matmul, (2, 2, 3), (3, 4)), Op(np.outer, (3,), (4,)),
    Op(np.einsum, Const('ij,jk->ik'), (2, 3), (3, 4)),
    Op(np.linalg.solve, (3, 3), (3,), dom=('wellcond', 'real')),
    Op(np.linalg.inv, (3, 3), dom='wellcond'),
    Op(np.linalg.slogdet, (3, 3), dom='wellcond'),
    Op(np.linalg.cholesky, (3, 3), dom='spd', pre=_sym),
    Op(np.linalg.norm, (4,)),
    Op(np.linspace, S, S, Const(5)), Op(np.arange, S, Const(7.5), S, dom=('real', 'real', 'pos')),
    Op(np.full, Const((2, 3)), S), Op(np.bincount, Const(np.array([0, 2, 2, 1, 4])), (5,)),
    Op(np.unique, (6,)), Op(np.heaviside, Const(np.array([-1.0, 0.0, 2.0, 0.0])), (4,)),
]


#: by default (setup.cfg skips `slow`) one or two per family compile
FAST = {np.multiply, np.clip, np.exp, math.pow, builtins.max, np.sum, np.max,
        np.concatenate, operator.getitem, np.einsum, np.linalg.slogdet,
        np.linspace, np.unique}


@pytest.mark.parametrize('op', [
    pytest.param(op, id=op.id(),
                 marks=[] if op.fn in FAST else [pytest.mark.slow])
    for op in NUMBA_OPS])
def test_template_compiles_under_numba(op):
    from numba import njit
    import runtime.numba_adjoint  # noqa: F401  (helpers)
    import runtime.numba_impl  # noqa: F401
    rng = np.random.default_rng(1)
    leaves, make = op.build(rng)
    args = make(leaves)
    ans = op.fn(*args, **op.kwargs)
    w = _weights(rng, ans)
    template = lookup(op.fn)
    bound = inspect.signature(template).bind(w, ans, *args, **op.kwargs)
    bound.apply_defaults()
    values = dict(list(bound.arguments.items())[2:])
    if 'operands' in values:
        values['operands'] = tuple(values['operands'])
    src, call_args, bar_of = instantiate(template, values,
                                         {id(x) for x in leaves})
    glb = dict(template.__globals__)
    exec(compile(src, '<inst %s>' % op.id(), 'exec'), glb)
    inst = njit(error_model='numpy', boundscheck=True)(glb['inst'])
    from runtime.adjoint import zeros_like
    got = inst(w, ans, *call_args, *[zeros_like(x) for x in bar_of])
    want = run_template(op.fn, args, op.kwargs, w, ans)
    for x, v in zip(bar_of, got):
        np.testing.assert_allclose(v, want[id(x)], rtol=1e-10, atol=1e-12,
                                   err_msg=src)
        assert np.shape(v) == np.shape(x) and (
            isinstance(v, np.ndarray) or isinstance(v, float))


def test_coverage_tool_prints_a_computed_table():
    import os
    import subprocess
    import sys
    tool = os.path.join(os.path.dirname(__file__), '..', '..', 'tools',
                        'rule_coverage.py')
    out = subprocess.run([sys.executable, tool], capture_output=True,
                         text=True, check=True).stdout
    lines = dict(line.split()[:2] for line in out.splitlines()
                 if line.startswith(('np.', 'math.')) and len(line.split()) > 1
                 and line.split()[1] in ('rule', 'nondiff', 'missing'))
    assert lines['np.sum'] == 'rule' and lines['np.linalg.cholesky'] == 'rule'
    assert lines['math.tanh'] == 'rule' and lines['np.argmax'] == 'nondiff'
    assert 'missing' in lines.values()
    assert 'np.linalg' in out and 'math' in out.split('\n\n')[-1]
