"""Specialize: partial evaluation at the staging boundary.

Given a user function and which of its parameters are static (and their
values), produce a `Program`: one generated `FunctionDef` for it and one for
every user function it calls, each specialized on the static values it
receives. Everything structural is resolved here; everything numeric stays a
variable in the generated code.

    g = 2.0                         def f(x, g):            # g: read at call time
    def f(x, loss):                     return loss(x) + g  # loss -> callee below
        return loss(x) + g          def sq(x):
    jit(f)(1.0, sq)                     return x * x

Rules:
* Static values (functions, modules, strings, None, objects, numbers named in
  `static_argnums`/`static_argnames`) are substituted: numbers and strings as
  constants, modules and library functions by their import path
  (`np.exp`), user functions as calls to their generated callee.
* Dynamic values not passed as arguments (numeric module globals, closure
  cells, attributes of static objects, array defaults of callees) become
  *hidden parameters* of the generated function. The dispatcher reads them on
  every call, so a changed global is seen at once. A callee's hidden
  parameters are threaded through its callers.
* NumPy functions that Numba lacks (or supports partially) are replaced by
  their twin in `runtime.npx`, which runs under both NumPy and Numba.

This module holds `Program` (its `specialize` and `finish`), the driver of
the specializer and its visitors of names, attributes and calls. The rest
of the specializer is in mixins: calls to user functions and to
transformations of them (`Calls`, transpile/calls.py), static evaluation
and the emission of static values (`Statics`, transpile/statics.py), and
pytrees (`Mirrors`, transpile/mirrors.py). `SpecializedFunction` and
`Hidden` are in transpile/program.py.

Invariant established: generated functions reference only their parameters,
their locals, builtins, imported modules (`np`, `math`, `npx`, ...) and other
functions of the same `Program`.
"""
import copy

import gast

from . import astutil as A
from . import fence
from . import structure as S
from .calls import Calls, _callee_of, _is_jvp, _is_transformed
from .errors import TranspileError, UnsupportedArgumentError
from .mirrors import Mirrors
from .program import _ALIASES, SpecializedFunction, _add_hidden
from .resolve import param_names, resolve
from .source import get_source
from .statics import Statics, _is_value_constant
from .values import NOT_STATIC as _NOT_STATIC, describe, is_dynamic, is_module, static_key


class Program:
    """The set of generated functions reachable from one entry point."""

    def __init__(self):
        self.functions = []
        self.by_key = {}
        self.imports = {}           # module name -> alias
        self.names = set()
        self.entry = None
        self.guards = {}            # Binding.key -> (Binding, value) of static free names
        self.embedded = []          # `Embedded`: calls to derivative transformations

    # -- imports ---------------------------------------------------------
    def module_alias(self, modname):
        if modname not in self.imports:
            alias = _ALIASES.get(modname) or modname.replace(".", "_")
            self.imports[modname] = alias
        return self.imports[modname]

    # -- functions -------------------------------------------------------
    def specialize(self, fn, statics, src=None):
        """The `SpecializedFunction` of `fn` with `statics` (param -> value)."""
        src = src or get_source(fn)
        key = (src.fn, tuple(sorted((k, static_key(v)) for k, v in statics.items())))
        if key in self.by_key:
            return self.by_key[key]
        fence.check(src)
        base = src.name if src.name != "lambda_" else "lambda_"
        gen_name = base
        i = 1
        while gen_name in self.names:
            gen_name = f"{base}_{i}"
            i += 1
        self.names.add(gen_name)
        spec = SpecializedFunction(src, key, gen_name, statics)
        self.by_key[key] = spec
        self.functions.append(spec)
        if self.entry is None:
            self.entry = spec
        _Specializer(self, spec).run()
        return spec

    def finish(self):
        """Thread hidden parameters through calls; patch call sites."""
        changed = True
        while changed:
            changed = False
            for spec in self.functions:
                for _, callee, _ in spec.calls:
                    for key, (_, hidden) in callee.hidden.items():
                        if key not in spec.hidden:
                            _add_hidden(spec, hidden)
                            changed = True
        for spec in self.functions:
            for call, callee, dyn_args in spec.calls:
                call.args = list(dyn_args) + [A.name(spec.hidden[k][0]) for k in callee.hidden]
                call.keywords = []
            spec.node.args.args = (
                [A.param(p) for p in spec.dyn_params] + [A.param(n) for n in spec.hidden_names()])
        # A generated function's name must not be shadowed by a local of any function.
        taken = set().union(*(s.locals | set(s.hidden_names()) for s in self.functions))
        for spec in self.functions:
            if spec is self.entry:
                continue
            if spec.gen_name in taken or spec.gen_name in self.imports.values():
                new = spec.gen_name + "_fn"
                while new in taken or new in self.names:
                    new += "_"
                self.names.add(new)
                spec.gen_name = new
                spec.node.name = new
                for ref in spec.refs:
                    ref.id = new
        return self


class _Specializer(Calls, Mirrors, Statics, gast.NodeTransformer):
    """Specializes one user function (`run`): a copy of its FunctionDef,
    transformed. The mixins: calls to user functions and transformations
    (transpile/calls.py), pytrees (transpile/mirrors.py), static evaluation
    and emission (transpile/statics.py)."""

    def __init__(self, program, spec):
        self.program = program
        self.spec = spec
        self.src = spec.src
        self.scope = resolve(spec.src)
        self.pending = []           # statements to emit before the current one
        self.pending_value = None   # a call visited while looking for a pytree
        self.trees = {}

    # -- driver ----------------------------------------------------------
    def run(self):
        src, spec = self.src, self.spec
        node = copy.deepcopy(src.node)
        spec.node = node
        spec.locals = set(self.scope.locals)
        args = node.args
        if args.vararg is not None or args.kwarg is not None:
            raise UnsupportedArgumentError(
                "functions with *args or **kwargs are not supported yet", src.location(node))
        names = param_names(args)
        self.trees = {}             # name -> mirror (pytree structure with Leaf placeholders)
        dyn = []
        for p in names:
            value = spec.statics.get(p)
            if isinstance(value, S.TreeParam):
                self.trees[p], leaves = S.mirror(value.treedef, p)
                spec.tree_params[p] = leaves
                spec.locals.update(leaves)
                dyn.extend(leaves)
            elif p not in spec.statics:
                dyn.append(p)
        spec.dyn_params = dyn
        prologue = []
        for p in names:
            if p in spec.statics and _is_value_constant(spec.statics[p]):
                prologue.append(A.located(A.assign(p, self.constant(spec.statics[p], node)), node.body[0]))
        args.defaults = []
        args.kw_defaults = [None] * len(args.kwonlyargs)
        args.args = args.args + args.kwonlyargs
        args.kwonlyargs = []
        self.static_locals = self.find_static_locals(node.body)
        body = [stmt for stmt in node.body if not getattr(stmt, "tp_static_local", False)]
        node.body = prologue + self.visit_block(body)
        node.name = spec.gen_name
        node.returns = None

    def location(self, node):
        return self.src.location(node)

    # -- visitors ----------------------------------------------------------
    def visit_block(self, stmts):
        out = []
        for stmt in stmts:
            new = self.visit(stmt)
            if new is None:
                continue
            out.extend(new if isinstance(new, list) else [new])
        return out

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in getattr(self, "trees", {}):
            value = self.trees[node.id]
            if isinstance(value, (S.Leaf, S.LeafExpr)):
                return self.leaf_node(value, node)
            raise TranspileError(f"'{node.id}' is a pytree (a container of arrays) used as a value here; "
                                 f"index it down to an array, loop over it, or pass it to a function",
                                 self.location(node))
        if not isinstance(node.ctx, gast.Load) and node.id in getattr(self, "trees", {}):
            self.trees.pop(node.id, None)
        if not isinstance(node.ctx, gast.Load):
            if node.id in self.spec.statics and not _is_value_constant(self.spec.statics[node.id]):
                raise TranspileError(
                    f"cannot assign to '{node.id}': it is a static argument", self.location(node))
            return node
        if node.id in self.spec.statics:
            value = self.spec.statics[node.id]
            return node if _is_value_constant(value) else self.emit_static(value, node)
        if node.id in self.scope.locals:
            return node
        binding = self.scope.free.get(node.id)
        if binding is None:
            return node  # bound in an inner lambda/comprehension
        value = binding.read()
        if is_dynamic(value):
            what = f"{binding.kind} '{node.id}'"
            new = self.hidden_name(binding.key, node.id, binding.read, what)
            return A.located(A.name(new), node)
        if binding.kind != "builtin" and not is_module(value):
            self.program.guards[binding.key] = (binding, value)
        return self.emit_static(value, node)

    def visit_Attribute(self, node):
        base = self.static_value(node.value)
        if base is _NOT_STATIC:
            self.generic_visit(node)
            return node
        value = getattr(base, node.attr, None)
        if isinstance(value, (S.Leaf, S.LeafExpr)):          # p.w of a namedtuple/dataclass pytree
            return self.leaf_node(value, node)
        if isinstance(base, (S.Leaf, S.LeafExpr)):           # an attribute of a leaf (x.shape)
            node.value = self.leaf_node(base, node.value)
            return node
        if is_dynamic(value) and not is_module(base):
            key = ("attr", id(base), node.attr)
            what = f"attribute {node.attr} of {describe(base)}"
            new = self.hidden_name(key, node.attr, _attr_getter(base, node.attr), what)
            return A.located(A.name(new), node)
        return self.emit_static(value, node)

    def visit_Call(self, node):
        func = self.static_value(node.func)
        if func is _NOT_STATIC:
            self.generic_visit(node)
            return node
        if _is_transformed(func) and getattr(func, "layers_spec", None) is not None:
            return self.call_transformed(node, func._fn, func._self, func.layers_spec(), list(node.args),
                                         list(node.keywords), [])
        if _is_jvp(func):
            return self.call_jvp(node)
        target, bound_self = _callee_of(func)
        if target is not None:
            return self.call_user_function(node, target, bound_self)
        node.func = self.emit_static(func, node.func)
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        return node


def _attr_getter(obj, attr):
    return lambda: getattr(obj, attr)


def specialize(fn, statics, bound_self=None):
    """Build and finish the `Program` rooted at `fn`."""
    program = Program()
    src = get_source(fn)
    if bound_self is not None:
        first = param_names(src.node.args)[0]
        statics = dict(statics, **{first: bound_self})
    program.specialize(src.fn, statics, src=src)
    return program.finish()
