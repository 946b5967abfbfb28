"""What the dispatcher does so that a jitted call behaves like NumPy's.

* Scalars come back as NumPy scalars of the dtype Numba computed
  (`rebox`): Numba returns a float32 result as a Python float, which NumPy
  code would then promote as float64.
* `np.random.*` inside a jitted function draws from NumPy's global generator
  (`to_numba` before the call, `to_numpy` after): Numba keeps its own
  Mersenne Twister state, so `np.random.seed(0)` called outside would not
  reach it. The state (including the cached Gaussian) is copied both ways,
  so the jitted function continues NumPy's stream and NumPy continues the
  jitted function's: Numba's legacy distributions are NumPy's algorithms,
  and draw for draw the numbers are NumPy's (tested in
  tests/test_jit_numpy_semantics.py for the functions listed there).
"""
import ctypes

import numpy as np

REBOX_TYPES = frozenset((float, int, complex, bool, tuple))


_CONVERTERS = {}     # id(compile result) -> (compile result, converter or None)


def _converter(t):
    """A function converting a value of Numba type `t` as returned to
    Python into NumPy's scalar types, or None where nothing changes."""
    from numba.core import types
    from numba.np import numpy_support
    keep = (types.float64, types.int64, types.complex128, types.boolean)   # Python's own types hold these
    if isinstance(t, types.BaseTuple):
        parts = [_converter(ti) for ti in t.types]
        if not any(parts):
            return None
        parts = [p or (lambda v: v) for p in parts]
        return lambda value: tuple(p(v) for p, v in zip(parts, value))
    if isinstance(t, (types.Float, types.Integer, types.Complex)) and t not in keep:
        return numpy_support.as_dtype(t).type
    return None


def rebox(gen, out, call_args):
    """`out` with each float32, int32, ... scalar a NumPy scalar of that dtype
    (Numba returns them as Python floats and ints)."""
    overloads = gen.entry.overloads
    if len(overloads) == 1:
        single = gen.__dict__.get("_rebox_single")
        if single is not None:      # one compiled version, its converter known (overloads only grow)
            return out if single[0] is None else single[0](out)
        for cres in overloads.values():     # (iterating an OrderedDict's values hashes Numba types: slow)
            break
        gen._rebox_single = (_converter(cres.signature.return_type),)
        return rebox(gen, out, call_args)
    else:
        try:
            cres = overloads.get(tuple(gen.entry.typeof_pyval(a) for a in call_args))
        except Exception:       # pragma: no cover - the call itself succeeded with these
            return out
        if cres is None:
            return out
    entry = _CONVERTERS.get(id(cres))
    if entry is None or entry[0] is not cres:
        entry = _CONVERTERS[id(cres)] = (cres, _converter(cres.signature.return_type))
    conv = entry[1]
    return out if conv is None else conv(out)


# -- one return type -----------------------------------------------------------------
def _numpy_kind(t):
    """What NumPy would see of a value of Numba type `t`: its dtype (and ndim for an
    array, item by item for a tuple); None for anything else."""
    from numba.core import types
    from numba.np import numpy_support
    t = types.unliteral(t)
    if isinstance(t, (types.Number, types.Boolean)):
        return numpy_support.as_dtype(t)
    if isinstance(t, types.Array):
        return ("array", numpy_support.as_dtype(t.dtype), t.ndim)
    if isinstance(t, types.BaseTuple):
        items = tuple(_numpy_kind(i) for i in t.types)
        return None if any(i is None for i in items) else items
    return None


_RETURNS = {}       # id(compile result) -> (compile result, message or None)


def _returns_of(cres, name):
    """A message where compiled version `cres` of function `name` returns, on some path,
    a value Numba converts to its one return type (`return s` with float32 `s` on one
    path, a float64 on another: NumPy returns each path's own), else None."""
    from numba.core import ir
    ann = cres.type_annotation
    if not hasattr(ann, "blocks"):
        return None     # loaded from Numba's disk cache: no IR, a text at most (see _look)
    want = _numpy_kind(cres.signature.return_type)
    for block in ann.blocks.values():
        for st in block.body:
            if not (isinstance(st, ir.Assign) and isinstance(st.value, ir.Expr) and st.value.op == "cast"):
                continue
            got = _numpy_kind(ann.typemap.get(st.value.value.name))
            if want is not None and got is not None and got != want:
                return (f"{name} returns {_show(got)} on one path and {_show(want)} on another: NumPy "
                        f"returns each path's own type, while under jit a function has one return type, "
                        f"so the {_show(got)} would come back as {_show(want)}. Make the values it returns "
                        f"one type (e.g. with np.{_show(want)}(...) or .astype(...))")
    return None


def _look(disp, cres):
    hit = _RETURNS.get(id(cres))
    if hit is None or hit[0] is not cres:
        hit = _RETURNS[id(cres)] = (cres, _returns_of(cres, disp.py_func.__name__))
        if hit[1] is not None:
            try:
                disp._cache.flush()     # another process compiles it again, and finds it too
            except Exception:           # pragma: no cover - no disk cache
                pass
    return hit[1]


def note_return_differences(gen):
    """Look at the versions of `gen`'s functions compiled since the last look: a
    difference in the entry's own version belongs to it; one in a function it calls, to
    the entry's versions compiled since (the call that compiled them)."""
    versions = list(gen.entry.overloads.values())
    known = gen.__dict__.setdefault("_entry_versions", set())
    new = [cres for cres in versions if id(cres) not in known]
    diffs = gen.__dict__.setdefault("_return_differences", {})
    for cres in new:
        message = _look(gen.entry, cres)
        if message is not None:
            diffs[id(cres)] = message
    if gen.module is not None:
        for disp in vars(gen.module).values():
            if disp is gen.entry or not (hasattr(disp, "overloads") and hasattr(disp, "py_func")):
                continue
            for cres in list(disp.overloads.values()):
                message = _look(disp, cres)
                if message is not None:
                    for c in new:
                        diffs.setdefault(id(c), message)
    known.update(id(cres) for cres in new)
    gen._returns_seen = len(versions)


def return_difference_of(gen, call_args):
    """The message of `note_return_differences` for the version this call ran, or None."""
    try:
        cres = gen.entry.overloads.get(tuple(gen.entry.typeof_pyval(a) for a in call_args))
    except Exception:       # pragma: no cover - the call itself succeeded with these
        return None
    return None if cres is None else gen._return_differences.get(id(cres))


def _show(kind):
    if isinstance(kind, tuple) and kind and kind[0] == "array":
        return f"a {kind[2]}-d {kind[1]} array"
    if isinstance(kind, tuple):
        return "(" + ", ".join(_show(k) for k in kind) + ")"
    return str(kind)


# -- np.random: one global generator ----------------------------------------------
_MT_N = 624


class _NumbaState(ctypes.Structure):
    """numba/_random.c's rnd_state_t."""
    _fields_ = [("index", ctypes.c_int), ("mt", ctypes.c_uint * _MT_N), ("has_gauss", ctypes.c_int),
                ("gauss", ctypes.c_double), ("is_initialized", ctypes.c_int)]




_MT_OFFSET = _NumbaState.mt.offset


class _NumpyMT(ctypes.Structure):
    """NumPy's mt19937_state (numpy/random/src/mt19937/mt19937.h)."""
    _fields_ = [("key", ctypes.c_uint32 * _MT_N), ("pos", ctypes.c_int)]


_GAUSS = None       # (offset of has_gauss, offset of gauss) in the global RandomState, or False


def _gauss_offsets(rs):
    """Where the legacy RandomState keeps its cached Gaussian (`has_gauss`,
    `gauss`), found by setting a sentinel through `set_state` and checked by
    reading and writing it back; False when not found (then the slower
    `get_state`/`set_state` copy is used)."""
    import struct
    saved = rs.get_state(legacy=True)
    try:
        sentinel = 1.2345678901234567e-123
        rs.set_state(saved[:3] + (1, sentinel))
        size = type(rs).__basicsize__
        raw = ctypes.string_at(id(rs), size)
        pos = raw.find(struct.pack("d", sentinel))
        if pos < 0:
            return False
        for has in (pos - 8, pos - 4):
            if has >= 0 and struct.unpack_from("i", raw, has)[0] == 1:
                flag = ctypes.c_int.from_address(id(rs) + has)
                value = ctypes.c_double.from_address(id(rs) + pos)
                rs.set_state(saved[:3] + (0, 0.0))
                if (flag.value, value.value) != (0, 0.0):
                    continue
                flag.value, value.value = 1, 2.5
                if tuple(rs.get_state(legacy=True)[3:]) != (1, 2.5):
                    continue
                return has, pos
        return False
    except Exception:       # pragma: no cover - another NumPy layout
        return False
    finally:
        rs.set_state(saved)


def _numpy_side():
    """(NumPy's MT state, has_gauss, gauss) as ctypes views, or None."""
    global _GAUSS
    rs = np.random.mtrand._rand
    bitgen = getattr(rs, "_bit_generator", None)
    if _GAUSS is None:
        _GAUSS = _gauss_offsets(rs) if type(bitgen).__name__ == "MT19937" else False
    if not _GAUSS:
        return None
    key = (id(rs), id(bitgen))
    views = _VIEWS.get(key)
    if views is None or views[0] is not rs or views[1] is not bitgen:
        views = (rs, bitgen, _NumpyMT.from_address(bitgen.ctypes.state_address),
                 ctypes.c_int.from_address(id(rs) + _GAUSS[0]), ctypes.c_double.from_address(id(rs) + _GAUSS[1]))
        _VIEWS.clear()
        _VIEWS[key] = views
    return views[2:]


_state_ptr = None
_VIEWS = {}     # ctypes views of the global RandomState (kept with it, so ids stay valid)
_NUMBA_VIEWS = {}


def _numba_state():
    global _state_ptr
    if _state_ptr is None:
        from numba import _helperlib
        _state_ptr = _helperlib.rnd_get_np_state_ptr
    ptr = _state_ptr()      # this thread's
    view = _NUMBA_VIEWS.get(ptr)
    if view is None:
        view = _NUMBA_VIEWS[ptr] = _NumbaState.from_address(ptr)
    return view


def to_numba():
    """Copy NumPy's global generator state into Numba's (this thread's)."""
    state = _numba_state()
    side = _numpy_side()
    if side is not None:
        mt, has, gauss = side
        ctypes.memmove(ctypes.addressof(state) + _MT_OFFSET, ctypes.addressof(mt), _MT_N * 4)
        state.index = mt.pos
        state.has_gauss = has.value
        state.gauss = gauss.value
    else:
        _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
        keys = np.ascontiguousarray(keys, dtype=np.uint32)
        ctypes.memmove(ctypes.addressof(state) + _MT_OFFSET, keys.ctypes.data, _MT_N * 4)
        state.index, state.has_gauss, state.gauss = pos, has_gauss, cached
    state.is_initialized = 1


def to_numpy():
    """Copy Numba's generator state (this thread's) back into NumPy's global one."""
    state = _numba_state()
    side = _numpy_side()
    if side is not None:
        mt, has, gauss = side
        ctypes.memmove(ctypes.addressof(mt), ctypes.addressof(state) + _MT_OFFSET, _MT_N * 4)
        mt.pos = state.index
        has.value = state.has_gauss
        gauss.value = state.gauss
    else:
        keys = np.frombuffer(state.mt, dtype=np.uint32).copy()
        np.random.set_state(("MT19937", keys, state.index, state.has_gauss, state.gauss))


def call_sharing_np_random(entry, call_args):
    """`entry(*call_args)` drawing from (and advancing) NumPy's global generator."""
    to_numba()
    try:
        return entry(*call_args)
    finally:
        to_numpy()


def uses_global_state(program):
    """Whether generated code calls `np.random.*` (NumPy's global generator)."""
    import gast
    if "numpy.random" in program.imports:
        return True
    np_alias = program.imports.get("numpy")
    for spec in program.functions:
        for node in gast.walk(spec.node):
            if isinstance(node, gast.Attribute) and node.attr == "random" \
                    and isinstance(node.value, gast.Name) and node.value.id == np_alias:
                return True
    return False
