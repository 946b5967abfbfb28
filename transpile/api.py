"""The user-facing API: `jit` and the dispatcher behind every transformation.

A `Jitted` object binds a call's arguments, computes the part of the
signature that changes generated code (which arguments are static and their
values), finds or builds the generated module, reads hidden parameters
(globals, closure cells) and calls the generated entry point. Numba keys its
own compiled versions on the dynamic arguments' types.
"""
import functools
import re
import types

import numpy as np

from . import numpy_semantics as _semantics
from . import pipeline
from .compose import check_jittable
from .errors import JitDifferenceError, SourceUnavailableError, TranspileTypingError, UnsupportedArgumentError
from .source import as_function
from .values import _DYN, _DYNAMIC_TYPES, is_dynamic, static_key
from .structure import TreeParam, is_container
from .tree import tree_flatten, tree_unflatten

BACKENDS = ("numba", "python", "cuda")
# Python numbers follow NumPy 2's rules (NEP 50) in generated code
# (transpile/transforms/nep50.py): which arguments are Python numbers, and
# of which kind, is part of what a specialization was generated for.
_PY_KINDS = {bool: "b", int: "i", float: "f", complex: "c"}
_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1


_KIND_OF = {**_PY_KINDS, tuple: "T"}.get
_REBOX_TYPES = _semantics.REBOX_TYPES


def _all_python_numbers(value):
    return all(_all_python_numbers(v) if type(v) is tuple else type(v) in _PY_KINDS for v in value)


def python_kinds(values):
    """('f', None, 'i', 'tw', ...): which values are Python numbers ('tw': a
    tuple of Python numbers only, 'ts': a tuple with NumPy values)."""
    kinds = tuple(map(_KIND_OF, map(type, values)))
    if "T" in kinds:
        kinds = tuple(("tw" if _all_python_numbers(v) else "ts") if k == "T" else k for v, k in zip(values, kinds))
    return kinds


def check_ints(values, kinds):
    """OverflowError for a Python int that does not fit in 64 bits (compiled code has 64-bit ints)."""
    for v, k in zip(values, kinds):
        if k == "i" and not _INT64_MIN <= v <= _INT64_MAX:
            raise OverflowError(f"the Python int {v} does not fit in 64 bits: compiled code (backend "
                                f"'numba') has 64-bit ints; pass a float, or use backend='python'")


def _weak_args(names, args, key):
    """The entry's parameters that the call passes Python numbers for: by
    name, or (pytree parameter, leaf index) -> kind."""
    out = {}
    for i, (name, value) in enumerate(zip(names, args)):
        k = key[i]
        if k is _DYN:
            kind = python_kinds((value,))[0]
            if kind and kind != "ts":
                out[name] = kind
        elif isinstance(k, tuple) and k and k[0] == "tree":
            for j, leaf in enumerate(tree_flatten(value)[0]):
                kind = _PY_KINDS.get(type(leaf))
                if kind:
                    out[(name, j)] = kind
    return out


def _nonnumeric_args(names, args, key):
    """The entry's dynamic parameters the call passes other than numbers and
    arrays for (strings, lists, tuples: their `+` is not a ufunc's)."""
    return {name for i, (name, value) in enumerate(zip(names, args)) if key[i] is _DYN
            and not isinstance(value, (np.ndarray, np.generic, bool, int, float, complex))}


def _key_of(value):
    if type(value) in _DYNAMIC_TYPES or is_dynamic(value):
        return _DYN
    if is_container(value):
        leaves, treedef = tree_flatten(value)
        if all(type(v) in _DYNAMIC_TYPES or is_dynamic(v) for v in leaves):
            return ("tree", treedef)          # a pytree: structure static, leaves dynamic
        if isinstance(value, (list, dict, set)):
            bad = next(v for v in leaves if not (type(v) in _DYNAMIC_TYPES or is_dynamic(v)))
            raise UnsupportedArgumentError(
                f"a {type(value).__name__} with a leaf of type {type(bad).__name__} cannot be passed to a "
                f"jitted function: pytree leaves must be numbers or arrays; name the argument in "
                f"static_argnames to make it static")
    if isinstance(value, set):
        raise UnsupportedArgumentError("a set cannot be passed to a jitted function: name the argument "
                                       "in static_argnames")
    return static_key(value)


def statics_of(names, args, key):
    """The static values for `pipeline.build`: static arguments as they are,
    pytrees as their structure (`TreeParam`)."""
    statics = {}
    for i, (name, value) in enumerate(zip(names, args)):
        k = key[i]
        if k is _DYN:
            continue
        statics[name] = TreeParam(k[1]) if isinstance(k, tuple) and k and k[0] == "tree" else value
    return statics


def arg_plan(names, gen):
    """How to get each parameter of the generated entry from the call's
    arguments: an argument index, or (index, leaf index) for a pytree leaf."""
    entry = gen.program.entry
    leaf_of = {}
    for p, leaves in entry.tree_params.items():
        for k, leaf in enumerate(leaves):
            leaf_of[leaf] = (names.index(p), k)
    return [leaf_of[p] if p in leaf_of else names.index(p) for p in gen.params]


def call_args_of(args, gen):
    """The entry's arguments for a call (pytrees flattened), hidden ones last."""
    flat = {}
    out = []
    for ix in gen.dyn_index:
        if type(ix) is tuple:
            i, k = ix
            if i not in flat:
                flat[i] = tree_flatten(args[i])[0]
            out.append(flat[i][k])
        else:
            out.append(args[ix])
    return out


class Jitted:
    """`tp.jit(f)`: generated code for `f`, compiled by the backend, cached."""

    def __init__(self, fn, static_argnums=(), static_argnames=(), backend="numba"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        self._fn, self._self = as_function(fn)
        functools.update_wrapper(self, self._fn)
        code = getattr(self._fn, "__code__", None)
        if code is None:
            raise SourceUnavailableError(f"cannot transform {fn!r}: expected a Python function")
        if code.co_flags & 0x0C:  # *args / **kwargs
            raise UnsupportedArgumentError(
                f"{self._fn.__qualname__}: functions with *args or **kwargs cannot be jitted yet")
        self._names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        self._npos = code.co_argcount
        defaults = dict(zip(self._names[code.co_argcount - len(self._fn.__defaults__ or ()):],
                            self._fn.__defaults__ or ()))
        defaults.update(self._fn.__kwdefaults__ or {})
        self._defaults = defaults
        self._static = frozenset()
        self._set_statics(static_argnums, static_argnames)
        self.backend = backend
        self.transform = "jit"
        self._cache = {}
        self._variants = {}         # (key, python_kinds of the entry's arguments) -> Generated
        self._nargs = len(self._names)
        self._all_dynamic = (_DYN,) * self._nargs
        self.num_specializations = 0

    def _set_statics(self, static_argnums=(), static_argnames=()):
        """Add parameters that are static (specialized on by value)."""
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        offset = 1 if self._self is not None else 0
        static = set(self._static) | {(i + offset if i >= 0 else len(self._names) + i) for i in static_argnums}
        for name in static_argnames:
            if name not in self._names:
                raise ValueError(f"static_argnames names '{name}', which is not a parameter of "
                                 f"{self._fn.__qualname__}")
            static.add(self._names.index(name))
        self._static = frozenset(static)
        self.static_argnums = tuple(sorted(static))

    def _function(self):
        """The user's function (bound to its instance for a method)."""
        return self._fn if self._self is None else types.MethodType(self._fn, self._self)

    #: the specializer's protocol (transpile/calls.py): a transformation of a user function
    __transpile_transformed__ = True

    # The specializer treats a Jitted called from generated code as its function.
    @property
    def __transpile_function__(self):
        return self._fn

    @property
    def __transpile_self__(self):
        return self._self

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return _Bound(self, obj)

    def __repr__(self):
        return f"<transpile.jit of {self._fn.__qualname__}, backend {self.backend}>"

    # -- calling -----------------------------------------------------------
    def _bind(self, args, kwargs):
        names = self._names
        if len(args) > len(names):
            raise TypeError(f"{self._fn.__qualname__}() takes {len(names)} arguments but {len(args)} were given")
        out = list(args)
        for name in names[len(args):]:
            if name in kwargs:
                out.append(kwargs.pop(name))
            elif name in self._defaults:
                out.append(self._defaults[name])
            else:
                raise TypeError(f"{self._fn.__qualname__}() missing required argument: '{name}'")
        if kwargs:
            name = next(iter(kwargs))
            which = "multiple values for argument" if name in names else "an unexpected keyword argument"
            raise TypeError(f"{self._fn.__qualname__}() got {which} '{name}'")
        return out

    def _signature(self, args):
        static = self._static
        return tuple(static_key(a) if (i in static and not isinstance(a, np.ndarray)) else _key_of(a)
                     for i, a in enumerate(args))

    _ranked = False     # (a Transformed whose signature holds argument ranks)

    def _call_key(self, args):
        """The cache key of bound `args`: the fast path, one constant key, when every argument is
        dynamic (the common case), else their signature."""
        if self._static or self._ranked:
            return self._signature(args)
        for a in args:
            if type(a) not in _DYNAMIC_TYPES:
                return self._signature(args)
        return self._all_dynamic

    def __call__(self, *args, **kwargs):
        if self._self is not None:
            args = (self._self,) + args
        if kwargs or len(args) != self._nargs:
            args = self._bind(args, kwargs)
        key = self._call_key(args)
        gen = self._cache.get(key)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = self._generate(args, key)
        if gen.direct:
            call_args = args
        else:
            call_args = call_args_of(args, gen) if gen.trees else [args[i] for i in gen.dyn_index]
            for hidden in gen.hidden:
                value = hidden.getter()
                if type(value) not in _DYNAMIC_TYPES and not is_dynamic(value):
                    self._cache.pop(key, None)  # a global changed kind: specialize again
                    return self(*args)
                call_args.append(value)
        if gen.numba_jit:
            if gen.kinds is not None:   # the code depends on which arguments are Python numbers
                kinds = python_kinds(call_args)
                if kinds not in gen.kinds:  # Python numbers where the code has NumPy values, or back
                    gen = self._variants.get((key, kinds))
                    if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
                        gen = self._generate(args, key)
                    self._cache[key] = gen
                if "i" in kinds:
                    check_ints(call_args, kinds)
            try:
                out = _semantics.call_sharing_np_random(gen.entry, call_args) if gen.np_random \
                    else gen.entry(*call_args)
            except Exception as exc:
                _relocate(exc, gen)
                raise
            if len(gen.entry.overloads) != gen.__dict__.get("_returns_seen", 0):
                _semantics.note_return_differences(gen)     # the versions compiled since: their returns
            if gen.__dict__.get("_return_differences"):
                message = _semantics.return_difference_of(gen, call_args)
                if message is not None:
                    raise JitDifferenceError(message, gen.program.entry.src.location(gen.program.entry.node))
            if type(out) in _REBOX_TYPES:
                out = _semantics.rebox(gen, out, call_args)
        else:
            try:
                out = gen.entry(*call_args)
            except Exception as exc:
                _relocate(exc, gen)
                raise
        if gen.out_tree is not None:
            return tree_unflatten(gen.out_tree, out)
        return out

    def _generate(self, args, key):
        statics = statics_of(self._names, args, key)
        nep50 = self.transform == "jit" and self.backend == "numba"
        options = {"weak_args": _weak_args(self._names, args, key),
                   "nonnumeric_args": _nonnumeric_args(self._names, args, key)} if nep50 else None
        gen = pipeline.build(self._fn, statics, None, self.transform, self.backend, options=options)
        gen.dyn_index = arg_plan(self._names, gen)
        gen.trees = bool(gen.program.entry.tree_params)
        gen.out_tree = gen.program.entry.out_tree
        gen.direct = not gen.hidden and gen.dyn_index == list(range(len(args)))
        if nep50:
            gen.numba_jit = True
            gen.np_random = _semantics.uses_global_state(gen.program)
            if getattr(gen.program, "nep50_sensitive", True):   # the code depends on which are Python numbers
                call_args = call_args_of(args, gen) if gen.trees else [args[i] for i in gen.dyn_index]
                kinds = python_kinds(call_args + [h.getter() for h in gen.hidden])
                for other in self._variants.values():   # the same code for other kinds: one specialization
                    if other.text == gen.text and not any(b.read() is not v for b, v in other.guards):
                        other.kinds.add(kinds)
                        self._variants[(key, kinds)] = other
                        self._cache[key] = other
                        return other
                gen.kinds = {kinds}     # the python_kinds this code was generated for
                self._variants[(key, kinds)] = gen
        self._cache[key] = gen
        self.num_specializations += 1
        return gen

    # -- introspection -----------------------------------------------------
    def generated(self, *args, **kwargs):
        """The `pipeline.Generated` for a call with these arguments (building it if needed)."""
        if self._self is not None:
            args = (self._self,) + args
        args = self._bind(args, dict(kwargs))
        key = self._signature(args)
        gen = self._cache.get(key)
        if gen is not None and gen.kinds is not None:
            call_args = call_args_of(args, gen) if gen.trees else [args[i] for i in gen.dyn_index]
            gen = self._variants.get((key, python_kinds(call_args + [h.getter() for h in gen.hidden])))
        return gen or self._generate(args, key)

    def source(self, *args, **kwargs):
        """The generated source for a call with these arguments."""
        return self.generated(*args, **kwargs).text

    @property
    def num_compiled(self):
        """How many (specialization, type signature) pairs the backend has compiled."""
        total = 0
        gens = {id(g): g for g in list(self._cache.values()) + list(self._variants.values())}
        for gen in gens.values():
            total += len(getattr(gen.entry, "signatures", ())) if self.backend == "numba" else 1
        return total


class _Bound:
    """A `Jitted` bound to an instance (so `@jit` works as a method decorator)."""

    def __init__(self, jitted, obj):
        self._jitted = jitted
        self._obj = obj

    def __call__(self, *args, **kwargs):
        return self._jitted(self._obj, *args, **kwargs)

    @property
    def __transpile_function__(self):
        return self._jitted._fn

    @property
    def __transpile_self__(self):
        return self._obj


def jit(fn=None, *, static_argnums=(), static_argnames=(), backend="numba"):
    """Compile `fn` from its source: `tp.jit(f)` or `@tp.jit(static_argnames=...)`.

    backend: 'numba' (default; compiled, cached on disk), 'python' (the
    same generated source run with NumPy) or 'cuda' (numba.cuda kernels:
    `f` element-wise over the broadcast inputs, `tp.vmap(f)` one GPU thread
    per example; see transpile/codegen/numba_cuda.py).
    """
    if fn is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, backend=backend)
    with_backend = getattr(fn, "with_backend", None)
    if with_backend is not None:    # jit(grad(f)): the same generated source, compiled
        if backend == "cuda":       # a kernel: vmap outermost (transpile/codegen/numba_cuda.py)
            check_jittable(fn)
        out = with_backend(backend)
        if isinstance(static_argnums, int) or static_argnums or static_argnames:
            out._set_statics(static_argnums, static_argnames)
        return out
    return Jitted(fn, static_argnums, static_argnames, backend)


def transformation_of(fun, make):
    """`make(fun)`, a transformation of `fun`; of `tp.jit(f)`, the
    transformation of `f` compiled the same way, its static parameters
    kept (`grad(jit(f))` is `jit(grad(f))`, as in JAX)."""
    if type(fun) is not Jitted:
        return functools.update_wrapper(make(fun), fun)
    out = functools.update_wrapper(make(fun._function()), fun._fn)
    if fun._static:
        out._set_statics((), tuple(fun._names[i] for i in sorted(fun._static)))
    return out if fun.backend == "python" else jit(out, backend=fun.backend)


# -- errors at the user's line ------------------------------------------------
_AT = re.compile(r"\(at ([^():]+):(\d+)\)")
_NUMBA_WHERE = re.compile(r'File "([^"]+)", line (\d+)|at (\S+\.py) \((\d+)\)')


def _relocate(exc, gen):
    """Point an exception from generated code at the user's line."""
    try:
        from numba.core.errors import NumbaError
    except ImportError:  # pragma: no cover
        NumbaError = ()
    if NumbaError and isinstance(exc, NumbaError):
        raise _typing_error(exc, gen) from None
    loc = None
    m = _AT.search(str(exc))
    if m:
        loc = gen.table.find(m.group(1), int(m.group(2)))
    if loc is None:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == gen.path:
                loc = gen.table.lookup(tb.tb_lineno)
            tb = tb.tb_next
    if loc is not None and hasattr(exc, "add_note"):
        exc.add_note(f"  {loc}")


def _typing_error(exc, gen):
    message = str(exc)
    loc = None
    import os

    for m in _NUMBA_WHERE.finditer(message):  # the first mention is the innermost
        path, line = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if os.path.basename(path) == os.path.basename(gen.path):
            loc = gen.table.lookup(int(line))
            break
    return TranspileTypingError(_reason(message), loc, backend_message=message)


_TYPED_ERROR = "nep50.typed: "     # runtime.numba_nep50.TYPED_ERROR (not imported: Numba may be absent)
_SPECIFIC = re.compile(r"raised a specific error:\s*(?:\w+Error: )+(?:Failed in [^\n]*\n\s*)?(.+)")


def _reason(message):
    """Numba's reason in one sentence (an overload's own TypingError when one
    rejected the call, e.g. ``tp.random.normal: unexpected PRNG key type``)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", message)
    marker = plain.find(_TYPED_ERROR)
    if marker >= 0:     # a probe expression typed in one call (runtime/numba_nep50.py): its own error
        plain = plain[marker + len(_TYPED_ERROR):]
    m = _SPECIFIC.search(plain)
    if m and not m.group(1).strip().startswith(("No implementation", "Failed in")):
        return "Numba cannot compile this: " + m.group(1).strip()
    lines = [l.strip() for l in plain.splitlines()]
    lines = [l for l in lines if l and not l.startswith(("Failed in", "During:", "File ", "<source"))]
    if not lines:
        return "Numba could not compile the generated code"
    first = lines[0]
    if first.endswith(":") and len(lines) > 1:
        first = f"{first} {lines[1]}"
    return "Numba cannot compile this: " + first
