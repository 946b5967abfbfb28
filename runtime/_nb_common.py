"""Shared pieces of the Numba overloads of runtime.npx (and runtime.numba_adjoint):
typing-time argument inspection, and small njit helpers (axis normalisation,
int sequences as arrays, 3-D views, transposed copies)."""
import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from runtime import npx

#: jit_options of every overload: NumPy's error model (x/0 gives inf/nan).
JIT = {'error_model': 'numpy'}

AxisError = np.exceptions.AxisError

#: njit options of helpers that only compiled code calls: no CPython or cfunc
#: wrapper to compile (cannot be called from Python).
INNER = {'no_cpython_wrapper': True, 'no_cfunc_wrapper': True}

NOCONST = object()


def _fmt_arg(v):
    if isinstance(v, tuple):        # a shape, printed the way NumPy does
        return '(%s%s)' % (','.join('newaxis' if x == -1 else str(x)
                                    for x in v), ',' if len(v) == 1 else '')
    return v


class NpxValueError(ValueError):
    """ValueError raised by compiled twins with NumPy's message:
    ``NpxValueError(fmt, *args)`` is ``fmt % args`` formatted when raised
    (building strings in njit code with ``str(int)`` costs ~2 s of compile
    time; exception arguments cost nothing)."""

    def __init__(self, fmt, *args):
        super().__init__(fmt % tuple(_fmt_arg(a) for a in args)
                         if args else fmt)


class NpxIndexError(IndexError):
    """IndexError counterpart of NpxValueError."""

    def __init__(self, fmt, *args):
        super().__init__(fmt % tuple(_fmt_arg(a) for a in args)
                         if args else fmt)


__all__ = [
    'JIT', 'INNER', 'TypingError', 'overload', 'npx', 'types', 'njit', 'np',
    'to_fixed_tuple', 'AxisError', 'NpxValueError', 'NpxIndexError',
    # typing time
    'fail', 'const', 'is_none', 'const_bool', 'reject', 'is_array', 'is_scalar',
    'is_arraylike', 'is_int_type', 'ndim_of', 'dtype_of', 'acc_dtype',
    'axis_kind', 'exec_njit',
    # njit helpers
    'int_seq', 'int_seq_int', 'norm_axis', 'axes_tuple', 'as3d_one',
    'gather_perm', 'prod_range']


# --- typing time -------------------------------------------------------------

def fail(name, msg):
    """Raise the TypingError of twin ``name``."""
    raise TypingError('npx.%s: %s' % (name, msg))


def const(t):
    """The compile-time value of a typing-time argument, else NOCONST."""
    if t is None or isinstance(t, (bool, int, float, str, tuple)):
        return t
    if isinstance(t, types.Omitted):
        return t.value
    if isinstance(t, types.NoneType):
        return None
    if isinstance(t, types.Literal):
        return t.literal_value
    return NOCONST


def is_none(t):
    return const(t) is None


def const_bool(name, arg, t):
    """A flag that must be known at compile time (keepdims)."""
    v = const(t)
    if isinstance(v, (bool, int, np.bool_)):
        return bool(v)
    fail(name, '%s= must be a compile-time constant bool, got %s' % (arg, t))


def reject(name, **kw):
    """TypingError for each NumPy argument the compiled twin doesn't take."""
    for k, t in kw.items():
        if not is_none(t):
            fail(name, 'argument %s= is not supported in compiled code' % k)


def is_array(t):
    return isinstance(t, types.Array)


def is_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


def is_arraylike(t):
    return is_array(t) or is_scalar(t)


def is_int_type(t):
    return isinstance(t, types.Integer) or (
        isinstance(t, int) and not isinstance(t, bool))


def ndim_of(t):
    return t.ndim if is_array(t) else 0


def dtype_of(t):
    """np.dtype of an array or scalar numba type."""
    t = types.unliteral(t)
    return as_dtype(t.dtype if is_array(t) else t)


def acc_dtype(rt):
    """Accumulator dtype for result dtype ``rt``: float32 sums in float64."""
    rt = np.dtype(rt)
    if rt.kind == 'f' and rt.itemsize < 8:
        return np.dtype(np.float64)
    if rt.kind == 'c' and rt.itemsize < 16:
        return np.dtype(np.complex128)
    return rt


def axis_kind(name, t):
    """('none', 0) | ('int', 1) | ('tuple', n) for an axis argument."""
    v = const(t)
    if v is None:
        return 'none', 0
    if is_int_type(t) or (isinstance(v, int) and not isinstance(v, bool)):
        return 'int', 1
    if isinstance(t, types.BaseTuple) and all(
            isinstance(e, types.Integer) for e in t.types):
        return 'tuple', len(t.types)
    fail(name, 'axis must be None, an int or a tuple of ints, got %s' % (t,))


_cache = {}


def exec_njit(src, name, glbs):
    """Compile generated source ``src`` defining ``name`` with njit
    (memoised on the source and the globals' identities)."""
    key = (src, tuple(sorted((k, id(v)) for k, v in glbs.items())))
    if key not in _cache:
        g = {'np': np}
        g.update(glbs)
        exec(compile(src, '<npx:%s>' % name, 'exec'), g)
        _cache[key] = njit(g[name])
    return _cache[key]


# --- int sequences -> int64 arrays ------------------------------------------

def int_seq(t):
    """An int, tuple or list of ints as an int64 array (njit only)."""
    raise NotImplementedError


@overload(int_seq)
def _ol_int_seq(t):
    if is_int_type(t):
        def impl(t):
            r = np.empty(1, np.int64)
            r[0] = t
            return r
        return impl
    if isinstance(t, types.BaseTuple) and all(
            isinstance(e, types.Integer) for e in t.types):
        n = len(t.types)
        src = 'def seq(t):\n    r = np.empty(%d, np.int64)\n' % n
        src += ''.join('    r[%d] = t[%d]\n' % (k, k) for k in range(n))
        src += '    return r\n'
        g = {'np': np}
        exec(src, g)
        return g['seq']
    if isinstance(t, (types.List, types.ListType)) and isinstance(
            t.dtype, types.Integer):
        def impl(t):
            r = np.empty(len(t), np.int64)
            for k in range(len(t)):
                r[k] = t[k]
            return r
        return impl
    if is_array(t) and t.ndim == 1 and isinstance(t.dtype, types.Integer):
        return lambda t: t.astype(np.int64)
    return None


@njit
def int_seq_int(t):
    """int_seq of one int (a literal int becomes int64: no specialization
    per value)."""
    return int_seq(np.int64(t))


# --- axes --------------------------------------------------------------------

@njit
def norm_axis(ax, nd):
    """``ax`` in [-nd, nd) as a non-negative int, else NumPy's AxisError."""
    if ax < -nd or ax >= nd:
        raise AxisError(ax, nd)
    return np.int64(ax + nd if ax < 0 else ax)


@njit
def axes_tuple(axis, nd):
    r = int_seq(axis)
    seen = np.zeros(nd, np.bool_)
    for k in range(len(r)):
        r[k] = norm_axis(r[k], nd)
        if seen[r[k]]:
            raise ValueError("duplicate value in 'axis'")
        seen[r[k]] = True
    return r


# --- 3-D views: (outer, reduced, inner) --------------------------------------

@njit
def as3d_one(x, ax):
    """x as a C-contiguous (outer, n, inner) array, n = x.shape[ax[0]]."""
    k = ax[0]
    shp = x.shape
    o = 1
    for d in range(k):
        o *= shp[d]
    i = 1
    for d in range(k + 1, len(shp)):
        i *= shp[d]
    return np.ascontiguousarray(x).reshape((o, shp[k], i))


@njit(**INNER)
def gather_perm(x, perm):
    """``x.transpose(perm)`` as a flat C-order array (``x`` of any layout;
    no copy when that is ``x`` itself, C-contiguous).  A loop: Numba's
    ``transpose(tuple)`` costs ~3 s to compile the first time."""
    nd = x.ndim
    xf = np.ascontiguousarray(x).reshape(-1)
    ident = True
    for d in range(nd):
        if perm[d] != d:
            ident = False
    if ident:
        return xf
    c = np.empty(nd, np.int64)          # C strides of x, in items
    m = 1
    for d in range(nd - 1, -1, -1):
        c[d] = m
        m *= x.shape[d]
    s = np.empty(nd, np.int64)
    st = np.empty(nd, np.int64)
    for d in range(nd):
        s[d] = x.shape[perm[d]]
        st[d] = c[perm[d]]
    out = np.empty(x.size, x.dtype)
    idx = np.zeros(nd, np.int64)
    off = 0
    for f in range(x.size):
        out[f] = xf[off]
        d = nd - 1
        while d >= 0:
            idx[d] += 1
            off += st[d]
            if idx[d] < s[d]:
                break
            off -= st[d] * s[d]
            idx[d] = 0
            d -= 1
    return out


# --- small runtime helpers -----------------------------------------------------

@njit
def prod_range(s, lo, hi):
    """prod(s[lo:hi]) of a shape tuple or array, as int64."""
    p = 1
    for d in range(lo, hi):
        p *= s[d]
    return np.int64(p)
