"""Resolve: which Python object does each free name of a function denote?

A name is *local* if the function binds it anywhere (a parameter, an
assignment target, a `for` target); Python's own rule. Every other name is
*free* and is looked up the way Python would at call time: the closure cell,
then the module globals, then builtins. Names bound only inside a lambda or a
comprehension are local to that inner scope.

    def f(x):                 locals: {x, y}
        y = np.sin(x) + g     free:   np -> global module numpy
        return y * a              g  -> global 2.0
                                  a  -> closure cell 3.0

Invariant established: `Scope.free[name]` holds a `Binding` for every free
name the function loads; a name defined nowhere raises `TranspileNameError`
at its first use.
"""
import builtins
import importlib

import gast
import numpy as np

from .errors import TranspileNameError

_SCOPES = (gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


class Binding:
    """Where a free name lives: kind is 'closure', 'global' or 'builtin'."""

    __slots__ = ("name", "kind", "owner")

    def __init__(self, name, kind, owner):
        self.name = name
        self.kind = kind
        self.owner = owner  # the cell, the globals dict or the builtins module

    def read(self):
        """The value now (closures and globals are read at call time)."""
        if self.kind == "closure":
            return self.owner.cell_contents
        if self.kind == "global":
            return self.owner[self.name]
        return getattr(builtins, self.name)

    @property
    def key(self):
        return (self.kind, id(self.owner), self.name)

    def __repr__(self):
        return f"Binding({self.name!r}, {self.kind})"


class Scope:
    def __init__(self, params, locals_, free):
        self.params = params
        self.locals = locals_
        self.free = free


def param_names(args):
    names = [a.id for a in args.args]
    if args.vararg is not None:
        names.append(args.vararg.id)
    names += [a.id for a in args.kwonlyargs]
    if args.kwarg is not None:
        names.append(args.kwarg.id)
    return names


def _bound_in_function(fn):
    """Names the function itself binds (not its lambdas/comprehensions)."""
    bound = set(param_names(fn.args))

    def visit(node):
        if isinstance(node, _SCOPES):
            return
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            bound.add(node.id)
        if isinstance(node, gast.FunctionDef):
            bound.add(node.name)
            return
        for child in gast.iter_child_nodes(node):
            visit(child)

    for stmt in fn.body:
        visit(stmt)
    return bound


def _loads(fn, locals_):
    """(name, node) for each load of a name that is not local, in source order."""
    out = []

    def visit(node, inner_bound):
        if isinstance(node, _SCOPES):
            inner = set(inner_bound)
            for child in gast.walk(node):
                if isinstance(child, gast.Name) and isinstance(child.ctx, (gast.Store, gast.Param)):
                    inner.add(child.id)
            for child in gast.iter_child_nodes(node):
                visit(child, inner)
            return
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.id not in locals_ and node.id not in inner_bound:
                out.append((node.id, node))
        for child in gast.iter_child_nodes(node):
            visit(child, inner_bound)

    for stmt in fn.body:
        visit(stmt, frozenset())
    return out


def resolve(src):
    """Compute the `Scope` of the function in `src` (a `FunctionSource`)."""
    fn = src.node
    locals_ = _bound_in_function(fn)
    free = {}
    for ident, node in _loads(fn, locals_):
        if ident in free:
            continue
        if ident in src.closure:
            free[ident] = Binding(ident, "closure", src.closure[ident])
        elif ident in src.globals:
            free[ident] = Binding(ident, "global", src.globals)
        elif hasattr(builtins, ident):
            free[ident] = Binding(ident, "builtin", builtins)
        else:
            raise TranspileNameError(f"name '{ident}' is not defined", src.location(node))
    return Scope(param_names(fn.args), locals_, free)


# -- generated code: what a callee expression denotes ---------------------------------

def resolve_static(program, func, is_builtin):
    """The Python object a static callee expression of generated code denotes
    (`np.sin`, `npx.sum`, a name marked with `tp_value`, a builtin when
    `is_builtin(name)`), or None."""
    if hasattr(func, "tp_value"):
        return func.tp_value
    parts = []
    node = func
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    aliases = {alias: mod for mod, alias in program.imports.items()}
    if node.id not in aliases:
        if not parts and is_builtin(node.id):
            return getattr(builtins, node.id)   # generated code calls len(), range()
        return None
    obj = importlib.import_module(aliases[node.id])
    for part in reversed(parts):
        obj = getattr(obj, part, None)
    return obj


def find_callee(program, func):
    """The generated function (a specialization, or a `GeneratedFunction` such as a
    VJP) that a call's `func` names, else None."""
    if isinstance(func, gast.Name):
        for s in list(program.functions) + list(getattr(program, "extra", ())):
            if s.gen_name == func.id:
                return s
    return None


def _describe_fn(fn, node):
    """How a message names the function `fn` called at `node` (`np.sin`,
    `the method .foo()` when it is not known)."""
    if fn is None:
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
            return f"the method .{node.func.attr}()"
        if isinstance(node, gast.Attribute):
            return f"the attribute .{node.attr}"
        return type(node).__name__
    mod = getattr(fn, "__module__", None) or ("numpy" if isinstance(fn, np.ufunc) else "")
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    if mod.startswith("numpy") or isinstance(fn, np.ufunc):
        mod = "np"
    return f"{mod}.{name}" if mod and mod != "builtins" else name
