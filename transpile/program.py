"""The program's vocabulary below the passes: the specializations of user
functions (`SpecializedFunction`, with the `Hidden` values they read at call
time), the generated functions that are not specializations of user code
(`GeneratedFunction`: a VJP, a JVP, a wrapper of a layer, a vectorized
version), fresh function names, and the import path of a static object named
in generated code.

`Program` and the specializer that fills it are in transpile/specialize.py;
a pass adds its generated functions to `program.extra` with the helpers
here:

    unique(program, "vmap_f")               a name no function has yet, reserved
    wrapper(program, f, name, params, lines, subs)
                                            a GeneratedFunction from source lines
    generated(program, spec, registry, key, stem, error, build)
                                            one memoised per key (vectorized, lanes)
"""
import builtins
import sys
import types

import gast
import numpy as np

from . import astutil as A
from .errors import TranspileError
from .naming import free_name


# -- specialized functions (filled by transpile/specialize.py) ---------------------------------
# Module aliases used in generated code.
_ALIASES = {"numpy": "np", "math": "math", "runtime.npx": "npx", "runtime.checks": "checks",
            "runtime.at": "at", "runtime.adjoint": "adjoint", "runtime.tape": "tape",
            "runtime.tangent": "tangent"}


class Hidden:
    """A dynamic value the generated code receives as a parameter, read at call time."""

    __slots__ = ("key", "name", "getter", "what")

    def __init__(self, key, name, getter, what):
        self.key = key
        self.name = name        # preferred identifier
        self.getter = getter    # () -> the current value
        self.what = what        # for messages: "global g", "closure cell a"

    def __repr__(self):
        return f"Hidden({self.what})"


class SpecializedFunction:
    """A user function specialized on its static arguments: `program.functions`."""

    def __init__(self, src, key, gen_name, statics):
        self.src = src
        self.key = key
        self.gen_name = gen_name
        self.statics = statics      # user param name -> static value
        self.node = None
        self.dyn_params = []        # user params that stay parameters
        self.hidden = {}            # Hidden.key -> [local name, Hidden]
        self.calls = []             # (Call node, callee, dynamic arg nodes)
        self.refs = []              # Name nodes that refer to this function
        self.locals = set()
        self.tree_params = {}       # pytree param -> its leaf parameter names
        self.out_tree = None        # the treedef of a returned pytree (returned flat)

    def hidden_names(self):
        return [name for name, _ in self.hidden.values()]


def _add_hidden(spec, hidden):
    """Make `hidden` a hidden parameter of `spec`, under a name it does not use; that name."""
    taken = spec.locals | set(spec.hidden_names()) | set(spec.dyn_params)
    name = hidden.name
    i = 1
    while name in taken or name in _ALIASES.values():
        name = f"{hidden.name}_{i}"
        i += 1
    spec.hidden[hidden.key] = [name, hidden]
    return name


class GeneratedFunction:
    """A generated function that is not a specialization of user code (a VJP,
    a JVP, a layer's wrapper, a vectorized version): `program.extra`."""

    def __init__(self, spec, gen_name, node):
        self.src = spec.src
        self.gen_name = gen_name
        self.node = node
        self.statics = spec.statics
        self.hidden = spec.hidden
        self.dyn_params = list(spec.dyn_params)
        self.locals = A.names_in(node) | {a.id for a in node.args.args}
        self.key = ("extra", gen_name)

    def hidden_names(self):
        return [name for name, _ in self.hidden.values()]


#: the name reverse and forward mode use (transpile/ad/reverse.py, forward.py)
_Extra = GeneratedFunction


def _import_path(value):
    """(module name, qualname) under which `value` can be imported, or None."""
    if isinstance(value, (types.BuiltinFunctionType, type)) and getattr(builtins, getattr(value, "__name__", ""), None) is value:
        return ("builtins", value.__name__)
    modname = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(value, np.ufunc):
        modname, qualname = "numpy", value.__name__
    if not modname or not qualname:
        return None
    if modname.startswith("numpy"):
        # NumPy functions live in private modules; find the public name.
        for public in ("numpy", "numpy.linalg", "numpy.fft", "numpy.random"):
            mod = sys.modules.get(public)
            name = getattr(value, "__name__", None)
            if mod is not None and name and getattr(mod, name, None) is value:
                return (public, name)
    mod = sys.modules.get(modname)
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return (modname, qualname) if obj is value else None


def params_of(fn):
    """The parameter names of a generated function."""
    return [a.id for a in fn.node.args.args]


# -- a pass's own functions (transpile/batching, the CUDA kernel pass) ----------------------
def alias(program):
    """The module alias of runtime.batching in generated code (`batching`
    unless a generated function uses that name)."""
    if "runtime.batching" not in program.imports:
        taken = set(program.names)
        for spec in list(program.functions) + list(getattr(program, "extra", ())):
            taken |= set(spec.locals) | {a.id for a in spec.node.args.args}
        name = "batching" if "batching" not in taken else "runtime_batching"
        program.imports["runtime.batching"] = name
    return program.imports["runtime.batching"]


def unique(program, base):
    """A function name not taken in the program."""
    name = _unique(program, base)
    program.names.add(name)
    return name


def generated(program, spec, registry, key, stem, error, build):
    """The `GeneratedFunction` version of `spec` that `registry[key]` memoises, made by
    `build(name)` under a fresh name `stem...` if it is not there yet.
    `build` returns the FunctionDef and a function that sets the extra's own
    attributes. A failure (an `error`) is memoised too and raised again; a
    request for a version that is still being built (recursion) raises
    `error("recursion")`."""
    if key in registry:
        found = registry[key]
        if isinstance(found, error):
            raise found
        if found is None:
            raise error("recursion")
        return found
    registry[key] = None
    name = unique(program, stem)
    try:
        node, fill = build(name)
    except error as exc:
        registry[key] = exc
        program.names.discard(name)
        raise
    extra = GeneratedFunction(spec, name, node)
    extra.anf_done = True
    fill(extra)
    registry[key] = extra
    program.extra.append(extra)
    return extra


def wrapper(program, model, name, params, lines, subs):
    """A `GeneratedFunction` `name(params)` (ANF) from source lines, located
    at the line of `model` (the function it batches)."""
    src = f"def {name}({', '.join(params)}):\n" + "\n".join(lines) + "\n"
    try:
        (fdef,) = A.template(src, **subs)
    except SyntaxError as exc:     # a bug here, not the user's: say what was generated
        raise TranspileError(f"vmap generated invalid source: {exc}\n{src}") from None
    line = getattr(model.node, "lineno", None) or getattr(model.src.node, "lineno", 1)
    for n in gast.walk(fdef):
        if hasattr(n, "lineno"):
            n.lineno = line
            n.col_offset = 0
            n.end_lineno = None
            n.end_col_offset = None
    extra = GeneratedFunction(model, name, fdef)
    extra.anf_done = True
    # a wrapper indexes examples 0 .. n-1 of axes of size n: no checks needed
    extra.indices_in_bounds = True
    extra.numba_options = {"boundscheck": False}
    program.extra.append(extra)
    return extra


# -- the derivative layers' wrappers (transpile/compose.py) --------------------------------
def _unique(program, base):
    """A function name not taken in the program (not reserved: `unique` reserves it)."""
    return free_name({s.gen_name for s in program.functions} | {e.gen_name for e in program.extra}
                     | set(program.names), base)


def _wrapper(program, base, name, params, body_src, subs):
    """A `GeneratedFunction` `name(params)` whose body is `body_src` (with the
    module aliases `tangent`, `tape` resolved)."""
    subs = dict(subs)
    subs.setdefault("tangent", program.module_alias("runtime.tangent"))
    subs.setdefault("tape", program.module_alias("runtime.tape"))
    src = f"def {name}({', '.join(params)}):\n" + body_src
    (fdef,) = A.template(src, **subs)
    model = base.node
    for n in gast.walk(fdef):
        if hasattr(n, "lineno"):
            n.lineno = getattr(model, "lineno", 1)
            n.col_offset = 0
            n.end_lineno = None
            n.end_col_offset = None
    extra = GeneratedFunction(base, name, fdef)
    extra.anf_done = True
    program.extra.append(extra)
    return extra
