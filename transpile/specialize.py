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

Calls to user functions and to transformations of them are handled by the
`Calls` mixin (transpile/calls.py).

Invariant established: generated functions reference only their parameters,
their locals, builtins, imported modules (`np`, `math`, `npx`, ...) and other
functions of the same `Program`.
"""
import copy
import math

import gast
import numpy as np

from . import astutil as A
from . import fence
from . import structure as S
from .calls import Calls, _callee_of, _is_jvp, _is_transformed, _is_user_function
from .errors import TranspileError, UnsupportedArgumentError
from .program import _ALIASES, Hidden, SpecializedFunction, _add_hidden, _import_path
from .resolve import param_names, resolve
from .source import get_source
from .tree import tree_map, tree_unflatten
from .values import NOT_STATIC as _NOT_STATIC, describe, is_dynamic, is_module, static_key
from runtime import at, npx

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


class _Specializer(Calls, gast.NodeTransformer):
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

    # -- static evaluation -------------------------------------------------
    def find_static_locals(self, body):
        """Locals assigned once, at the top level of the function, from a
        transformation of a static function (`grad = tp.grad(loss)`): they are
        static (the assignment goes; calls to them become generated calls)."""
        counts = {}
        for n in gast.walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                counts[n.id] = counts.get(n.id, 0) + 1
        out = {}
        self.static_locals = out
        for stmt in body:
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], gast.Name) and counts.get(stmt.targets[0].id) == 1 \
                    and isinstance(stmt.value, gast.Call):
                value = self.static_value(stmt.value)
                if value is not _NOT_STATIC and _is_transformed(value):
                    out[stmt.targets[0].id] = value
                    stmt.tp_static_local = True
        return out

    def static_subscript(self, node):
        """`tree[0]['W']` on a pytree (a mirror) or a static container, with a
        static index: evaluated now."""
        base = self.static_value(node.value)
        if base is _NOT_STATIC or isinstance(base, (S.Leaf, S.LeafExpr)) \
                or not isinstance(base, (list, tuple, dict)) and not S.is_mirror(base):
            return _NOT_STATIC
        if isinstance(node.slice, gast.Slice):
            parts = [self.static_value(p) if p is not None else None
                     for p in (node.slice.lower, node.slice.upper, node.slice.step)]
            if any(p is _NOT_STATIC for p in parts):
                return _NOT_STATIC
            index = slice(*parts)
        else:
            index = self.static_value(node.slice)
        if index is _NOT_STATIC:
            if S.is_mirror(base):
                raise TranspileError("a pytree can only be indexed by a constant here (its structure is "
                                     "fixed when the code is generated)", self.location(node))
            return _NOT_STATIC
        try:
            return base[index]
        except (IndexError, KeyError, TypeError) as exc:
            raise TranspileError(f"{type(exc).__name__}: {exc}", self.location(node)) from None

    def static_call(self, node):
        """A call to a transformation (`tp.grad(loss)`, `tp.jit(f)`) with
        static arguments, evaluated now; else _NOT_STATIC. Also `len`, `zip`,
        `enumerate`, `list`, `tuple`, `reversed` of pytrees and static
        containers."""
        func = self.static_value(node.func)
        if any(func is b for b in _STATIC_BUILTINS) and not node.keywords:
            args = [self.static_value(a) for a in node.args]
            if args and all(a is not _NOT_STATIC for a in args) and any(
                    isinstance(a, (list, tuple, dict)) or S.is_mirror(a) for a in args):
                out = func(*args)
                return list(out) if func in (zip, enumerate, reversed) else out
            return _NOT_STATIC
        if func is _NOT_STATIC or not _is_transformation(func):
            return _NOT_STATIC
        args = [self.static_arg(a) for a in node.args]
        kws = {k.arg: self.static_arg(k.value) for k in node.keywords}
        if any(a is _NOT_STATIC for a in args) or any(v is _NOT_STATIC for v in kws.values()) \
                or None in kws:
            return _NOT_STATIC
        try:
            return func(*args, **kws)
        except (TypeError, ValueError, NotImplementedError) as exc:
            raise TranspileError(f"{exc}", self.location(node)) from None

    def static_arg(self, node):
        """`static_value` of an argument of a transformation, where displays of
        dicts and namedtuples of static values are static too (vmap's
        `in_axes=({'W': 0, 'b': None}, 0)`)."""
        items = None
        if isinstance(node, gast.Dict) and all(isinstance(k, gast.Constant) for k in node.keys):
            items = [self.static_arg(v) for v in node.values]
            make = lambda vs: {k.value: v for k, v in zip(node.keys, vs)}  # noqa: E731
        elif isinstance(node, (gast.Tuple, gast.List)) and isinstance(node.ctx, gast.Load) \
                and not any(isinstance(e, gast.Starred) for e in node.elts):
            items = [self.static_arg(e) for e in node.elts]
            make = tuple if isinstance(node, gast.Tuple) else list
        elif isinstance(node, gast.Call) and not node.keywords or isinstance(node, gast.Call) and not node.args:
            cls = self.static_value(node.func)
            if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):    # namedtuple
                items = [self.static_arg(a) for a in node.args] + [self.static_arg(k.value) for k in node.keywords]
                names = [k.arg for k in node.keywords]
                make = lambda vs: cls(*vs) if not names else cls(**dict(zip(names, vs)))  # noqa: E731
        if items is None:
            return self.static_value(node)
        if any(v is _NOT_STATIC or S.is_mirror(v) for v in items):
            return _NOT_STATIC
        return make(items)

    def static_value(self, node):
        """The value of `node` if it is known while generating code, else _NOT_STATIC."""
        if isinstance(node, gast.Call):
            return self.static_call(node)
        if isinstance(node, gast.Subscript):
            return self.static_subscript(node)
        if isinstance(node, (gast.Tuple, gast.List)) and isinstance(node.ctx, gast.Load) \
                and not any(isinstance(e, gast.Starred) for e in node.elts):
            elts = [self.static_value(e) for e in node.elts]
            if any(e is _NOT_STATIC for e in elts) or any(S.is_mirror(e) for e in elts):
                return _NOT_STATIC
            return tuple(elts) if isinstance(node, gast.Tuple) else elts
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and isinstance(node.operand, gast.Constant) and isinstance(node.operand.value, (int, float)):
            return -node.operand.value
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.id in getattr(self, "trees", {}):
                return self.trees[node.id]
            if node.id in getattr(self, "static_locals", {}):
                return self.static_locals[node.id]
            if node.id in self.spec.statics:
                return self.spec.statics[node.id]
            if node.id in self.scope.locals:
                return _NOT_STATIC
            binding = self.scope.free.get(node.id)
            if binding is None:
                return _NOT_STATIC
            value = binding.read()
            if is_dynamic(value):
                return _NOT_STATIC
            if binding.kind != "builtin" and not is_module(value):
                self.program.guards[binding.key] = (binding, value)
            return value
        if isinstance(node, gast.Attribute):
            base = self.static_value(node.value)
            if base is _NOT_STATIC:
                return _NOT_STATIC
            try:
                value = getattr(base, node.attr)
            except AttributeError:
                raise TranspileError(
                    f"{describe(base)} has no attribute '{node.attr}'", self.location(node))
            if is_dynamic(value) and not is_module(base):
                return _NOT_STATIC  # read at call time, as a hidden parameter
            return value
        if isinstance(node, gast.Constant):
            return node.value
        return _NOT_STATIC

    # -- emission of static values -----------------------------------------
    def constant(self, value, node):
        if isinstance(value, float) and not math.isfinite(value):
            alias = self.program.module_alias("numpy")
            if math.isnan(value):
                return A.attr(alias, "nan")
            inf = A.attr(alias, "inf")
            return inf if value > 0 else gast.UnaryOp(op=gast.USub(), operand=inf)
        if isinstance(value, np.generic):
            alias = self.program.module_alias("numpy")
            return A.call(A.attr(alias, type(value).__name__), [A.const(value.item())])
        return A.const(value)

    def emit_static(self, value, node):
        """An expression denoting the static `value` in generated code."""
        if _is_value_constant(value):
            return A.located(self.constant(value, node), node)
        if is_module(value):
            return A.located(A.name(self.program.module_alias(value.__name__)), node)
        if _hashable(value) and value in getattr(npx, "NUMPY_TWINS", {}):
            twin = npx.NUMPY_TWINS[value]
            out = A.attr(self.program.module_alias("runtime.npx"), twin.__name__)
            out.tp_value = value
            return A.located(out, node)
        owner = getattr(value, "__self__", None)
        if isinstance(owner, np.ufunc) and getattr(value, "__name__", None) == "at":
            # np.add.at(a, idx, v): the scatter helpers of `a.at[idx].add(v)`, in place on `a`
            helper = getattr(at, _UFUNC_AT.get(owner.__name__, ""), None)
            if helper is None:
                raise TranspileError(f"np.{owner.__name__}.at is not supported: use a loop",
                                     self.location(node))
            out = A.attr(self.program.module_alias("runtime.at"), helper.__name__)
            out.tp_value = helper
            return A.located(out, node)
        path = _import_path(value)
        if path is not None:
            modname, qualname = path
            if modname == "builtins":
                out = A.dotted(qualname)
            else:
                out = A.attr(self.program.module_alias(modname), qualname.split(".")[0])
                for part in qualname.split(".")[1:]:
                    out = A.attr(out, part)
            out.tp_value = value
            return A.located(out, node)
        if _is_user_function(value):
            raise TranspileError(
                f"the function {getattr(value, '__qualname__', value)!r} can only be called "
                f"or passed to a user function here", self.location(node))
        raise TranspileError(
            f"cannot use a {describe(value)} ({value!r:.60}) in generated code: only numbers, "
            f"arrays, tuples, modules and functions can be", self.location(node))

    def hidden_name(self, key, name, getter, what):
        if key in self.spec.hidden:
            return self.spec.hidden[key][0]
        return _add_hidden(self.spec, Hidden(key, name, getter, what))

    # -- visitors ----------------------------------------------------------
    # -- pytrees (mirrors) ----------------------------------------------------
    def visit_block(self, stmts):
        out = []
        for stmt in stmts:
            new = self.visit(stmt)
            if new is None:
                continue
            out.extend(new if isinstance(new, list) else [new])
        return out

    def leaf_node(self, leaf, node):
        """An expression for one leaf of a mirror."""
        if isinstance(leaf, S.Leaf):
            return A.located(A.name(leaf.name), node)
        if isinstance(leaf, S.LeafExpr):
            return leaf.node
        if _is_value_constant(leaf):
            return A.located(self.constant(leaf, node), node)
        raise TranspileError(f"a pytree leaf of type {type(leaf).__name__} cannot be used in generated "
                             f"code", self.location(node))

    def tree_value(self, node, display=False):
        """The mirror `node` evaluates to when it is a pytree (leaves: Leaf or
        LeafExpr of visited expressions), else None. With `display` (a value
        returned, or inside a pytree), a dict display is a pytree whatever
        its values, as in JAX."""
        chain = self.call_chain(node)
        if chain is not None:           # f(x)['aux']: a part of the pytree a call returns
            call, keys = chain
            tree = self.tree_value(call)
            if tree is None:            # not a pytree: the visited call, subscripted
                for k in keys:
                    self.pending_value = A.located(gast.Subscript(value=self.pending_value, slice=A.const(k),
                                                                  ctx=gast.Load()), node)
                return None
            part = self.tree_part(tree, keys, node)
            if isinstance(part, (S.Leaf, S.LeafExpr)):
                self.pending_value = self.leaf_node(part, node)
                return None
            return part
        if isinstance(node, (gast.Name, gast.Subscript)):
            value = self.static_value(node)
            return value if value is not _NOT_STATIC and S.is_mirror(value) \
                and not isinstance(value, (S.Leaf, S.LeafExpr)) else None
        if isinstance(node, (gast.Tuple, gast.List)) and not any(isinstance(e, gast.Starred) for e in node.elts) \
                and any(self.might_be_tree(e) for e in node.elts):
            items = [self.tree_or_expr(e) for e in node.elts]
            if not any(S.is_mirror(v) and not isinstance(v, S.LeafExpr) for v in items):
                self.pending_value = type(node)(elts=[v.node for v in items], ctx=gast.Load())
                return None
            return tuple(items) if isinstance(node, gast.Tuple) else list(items)
        if isinstance(node, gast.Dict) and all(isinstance(k, gast.Constant) for k in node.keys) \
                and (display or any(self.might_be_tree(v) for v in node.values)):
            return {k.value: self.display_tree(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, gast.Call):
            func = self.static_value(node.func)
            if func is _NOT_STATIC:
                return None
            if _is_tree_map(func):
                return self.tree_map(node)
            if func is dict and not node.args and any(self.might_be_tree(k.value) for k in node.keywords):
                return {k.arg: self.tree_or_expr(k.value) for k in node.keywords}
            if _may_return_tree(func):
                call = self.visit(node)
                out = getattr(call, "tp_out_tree", None)
                if out is None:
                    self.pending_value = call
                    return None
                tmp = self.fresh_local("_tree")
                self.pending.append(A.located(A.assign(tmp, call), node))
                paths = getattr(call, "tp_out_paths", None) or [(k,) for k in range(out.num_leaves)]
                leaves = []
                for path in paths:
                    expr = A.name(tmp)
                    for k in path:
                        expr = gast.Subscript(value=expr, slice=A.const(k), ctx=gast.Load())
                    leaves.append(S.LeafExpr(expr))
                return tree_unflatten(out, leaves)
        return None

    def call_chain(self, node):
        """(call, keys) for `f(x)[k1][k2]...` with constant keys and `f` a user
        function or transformation (whose result may be a pytree), else None."""
        keys = []
        while isinstance(node, gast.Subscript) and isinstance(node.slice, gast.Constant) \
                and isinstance(node.slice.value, (int, str)):
            keys.append(node.slice.value)
            node = node.value
        if not keys or not isinstance(node, gast.Call):
            return None
        func = self.static_value(node.func)
        if func is _NOT_STATIC or not _may_return_tree(func):
            return None
        return node, keys[::-1]

    def tree_part(self, tree, keys, node):
        for k in keys:
            try:
                tree = tree[k]
            except (KeyError, IndexError, TypeError) as exc:
                raise TranspileError(f"the pytree returned here has no item {k!r} ({exc})",
                                     self.location(node)) from None
        return tree

    def might_be_tree(self, node):
        """Whether `node` may evaluate to a pytree (checked without visiting)."""
        if isinstance(node, (gast.Name, gast.Subscript)):
            value = self.static_value(node)
            return value is not _NOT_STATIC and S.is_mirror(value)
        return isinstance(node, (gast.Call, gast.Tuple, gast.List, gast.Dict))

    def display_tree(self, node):
        """A value in a dict display: tuple, list and dict displays in it are
        containers of the pytree (JAX's view), the rest as `tree_or_expr`."""
        if isinstance(node, (gast.Tuple, gast.List)) and not any(isinstance(e, gast.Starred) for e in node.elts):
            items = [self.display_tree(e) for e in node.elts]
            return tuple(items) if isinstance(node, gast.Tuple) else items
        return self.tree_or_expr(node)

    def tree_or_expr(self, node):
        """A mirror for `node` if it is a pytree, else a LeafExpr of the visited
        node (visited once)."""
        self.pending_value = None
        tree = self.tree_value(node, display=True)
        if tree is not None:
            return tree
        if self.pending_value is not None:
            value, self.pending_value = self.pending_value, None
            return S.LeafExpr(value)
        return S.LeafExpr(self.visit(node))

    def fresh_local(self, base):
        k = 1
        while f"{base}{k}" in self.spec.locals:
            k += 1
        name = f"{base}{k}"
        self.spec.locals.add(name)
        return name

    def tree_map(self, node):
        """`tp.tree_map(f, t1, t2, ...)` on mirrors: f applied leaf by leaf,
        here (a lambda is inlined, a function becomes a call per leaf)."""
        if len(node.args) < 2 or node.keywords:
            raise TranspileError("tp.tree_map(f, tree, *rest) in generated code takes positional "
                                 "arguments", self.location(node))
        trees = []
        for a in node.args[1:]:
            t = self.tree_or_expr(a)
            if isinstance(t, S.LeafExpr):
                t = self.static_value(a)
                if t is _NOT_STATIC:
                    raise TranspileError("tp.tree_map in generated code needs pytrees whose structure is "
                                         "known when the code is generated", self.location(node))
            trees.append(t)
        fnode = node.args[0]

        def apply(*leaves):
            args = [self.leaf_node(v, node) for v in leaves]
            if isinstance(fnode, gast.Lambda):
                names = [a.id for a in fnode.args.args]
                if len(names) != len(args):
                    raise TranspileError(f"the function given to tree_map takes {len(names)} arguments, "
                                         f"it gets {len(args)}", self.location(node))
                body = _substitute(copy.deepcopy(fnode.body), dict(zip(names, args)))
                return S.LeafExpr(self.visit(body))
            call = A.located(gast.Call(func=copy.deepcopy(fnode), args=args, keywords=[]), node)
            return S.LeafExpr(self.visit(call))
        try:
            return tree_map(apply, *trees, is_leaf=lambda v: isinstance(v, (S.Leaf, S.LeafExpr)))
        except ValueError as exc:
            raise TranspileError(str(exc), self.location(node)) from None

    def materialize(self, name, tree, node):
        """Statements `name_<path> = leaf` for a tree bound to `name`; binds
        `name` to the mirror of those variables (stable names: a loop that
        reassigns the tree writes the same variables)."""
        leaves, treedef = S.flatten_mirror(tree)
        mirror, names = S.mirror(treedef, name)
        old = self.trees.get(name)
        if old is not None and not isinstance(old, (S.Leaf, S.LeafExpr)):
            old_def = S.flatten_mirror(old)[1]
            if old_def != treedef:
                raise TranspileError(f"'{name}' changes pytree structure here: {old_def} then {treedef} "
                                     f"(the structure is fixed when the code is generated)",
                                     self.location(node))
        out = []
        for n, leaf in zip(names, leaves):
            self.spec.locals.add(n)
            value = self.leaf_node(leaf, node)
            if isinstance(value, gast.Name) and value.id == n:
                continue
            out.append(A.located(A.assign(n, value), node))
        self.trees[name] = mirror
        return out

    def bind_target(self, target, value, node):
        """Statements binding an assignment target to a static value or mirror."""
        if isinstance(target, gast.Name):
            if S.is_mirror(value) and not isinstance(value, (S.Leaf, S.LeafExpr)):
                return self.materialize(target.id, value, node)
            self.trees.pop(target.id, None)
            self.spec.locals.add(target.id)
            return [A.located(A.assign(target.id, self.leaf_node(value, node)), node)]
        if isinstance(target, (gast.Tuple, gast.List)):
            items = list(value)
            elts = target.elts
            star = [k for k, e in enumerate(elts) if isinstance(e, gast.Starred)]
            if star:
                k = star[0]
                tail = len(elts) - k - 1
                if len(items) < len(elts) - 1:
                    raise TranspileError(f"not enough values to unpack (expected at least {len(elts) - 1}, "
                                         f"got {len(items)})", self.location(node))
                parts = items[:k] + [list(items[k:len(items) - tail])] + items[len(items) - tail:]
                elts = elts[:k] + [elts[k].value] + elts[k + 1:]
            else:
                if len(items) != len(elts):
                    raise TranspileError(f"{'too many' if len(items) > len(elts) else 'not enough'} values "
                                         f"to unpack (expected {len(elts)}, got {len(items)})",
                                         self.location(node))
                parts = items
            out = []
            for t, v in zip(elts, parts):
                out.extend(self.bind_target(t, v, node))
            return out
        raise TranspileError("this assignment target cannot take a pytree", self.location(node))

    def visit_Assign(self, node):
        self.pending = []
        self.pending_value = None
        if len(node.targets) == 1:
            target = node.targets[0]
            tree = self.tree_value(node.value)
            if tree is None and getattr(self, "pending_value", None) is not None:
                node.value = self.pending_value          # a call already visited
                self.pending_value = None
                node.targets = [self.visit(t) for t in node.targets]
                out = self.pending + [node]
                self.pending = []
                return out
            if tree is None and isinstance(target, (gast.Tuple, gast.List)):
                static = self.static_value(node.value)
                if static is not _NOT_STATIC and S.is_mirror(static):
                    tree = static
            if tree is not None:
                out = self.pending + self.bind_target(target, tree, node)
                self.pending = []
                return out
        new = self.generic_visit(node)
        out = self.pending + [new]
        self.pending = []
        return out

    def visit_Return(self, node):
        self.pending = []
        self.pending_value = None
        tree = self.tree_value(node.value, display=True) if node.value is not None else None
        if tree is None and getattr(self, "pending_value", None) is not None:
            node.value = self.pending_value
            self.pending_value = None
        elif tree is not None:
            leaves, treedef = S.flatten_mirror(tree)
            self.spec.out_tree = treedef
            node.value = A.tuple_([self.leaf_node(v, node) for v in leaves])
        else:
            self.generic_visit(node)
        out = self.pending + [node]
        self.pending = []
        return out

    def visit_For(self, node):
        items = self.static_value(node.iter)
        if items is _NOT_STATIC or not (isinstance(items, (list, tuple)) and (
                S.is_mirror(items) or any(S.is_mirror(v) for v in items))):
            return self.generic_visit(node)
        # a loop over a pytree's containers: unrolled, each copy with the item bound
        if any(isinstance(n, (gast.Break, gast.Continue)) for n in gast.walk(node)) or node.orelse:
            raise TranspileError("break/continue/else in a loop over a pytree are not supported (the loop is "
                                 "unrolled when the code is generated)", self.location(node))
        out = []
        for item in items:
            out.extend(self.bind_target(node.target, item, node))
            out.extend(self.visit_block(copy.deepcopy(node.body)))
        return out

    def visit_Subscript(self, node):
        chain = self.call_chain(node) if isinstance(node.ctx, gast.Load) else None
        if chain is not None:           # f(x)['aux'][0] in an expression: one leaf of the pytree
            call, keys = chain
            call = self.visit(call)
            out = getattr(call, "tp_out_tree", None)
            if out is None:
                for k in keys:
                    call = A.located(gast.Subscript(value=call, slice=A.const(k), ctx=gast.Load()), node)
                return call
            paths = getattr(call, "tp_out_paths", None) or [(k,) for k in range(out.num_leaves)]
            part = self.tree_part(tree_unflatten(out, [S.LeafExpr(p) for p in paths]), keys, node)
            if not isinstance(part, S.LeafExpr):
                raise TranspileError("a pytree (a container of arrays) is used as a value here; index it "
                                     "down to an array, or assign it to a name first", self.location(node))
            for k in part.node:
                call = A.located(gast.Subscript(value=call, slice=A.const(k), ctx=gast.Load()), node)
            return call
        if isinstance(node.ctx, gast.Load):
            value = self.static_value(node)
            if isinstance(value, (S.Leaf, S.LeafExpr)):
                return self.leaf_node(value, node)
            if value is not _NOT_STATIC and S.is_mirror(value):
                raise TranspileError("a pytree (a container of arrays) is used as a value here; index it "
                                     "down to an array, loop over it, or pass it to a function",
                                     self.location(node))
        return self.generic_visit(node)

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

_STATIC_BUILTINS = (len, zip, enumerate, list, tuple, reversed)


def _may_return_tree(func):
    """A user function or a transformation called in generated code (its
    result is a pytree when it returns one)."""
    return _is_transformed(func) and getattr(func, "layers_spec", None) is not None or _is_jvp(func) \
        or _callee_of(func)[0] is not None


def _is_tree_map(func):
    return func is tree_map or (getattr(func, "__name__", "") == "map"
                                and getattr(func, "__module__", "") == "transpile.tree")


def _substitute(node, subs):
    """`node` with Name loads in `subs` replaced by (copies of) their nodes."""
    class Sub(gast.NodeTransformer):
        def visit_Name(self, n):
            if isinstance(n.ctx, gast.Load) and n.id in subs:
                return copy.deepcopy(subs[n.id])
            return n
    return Sub().visit(node)


def _is_transformation(func):
    """`tp.grad`, `tp.jit`, ...: a function that makes a transformation."""
    module = getattr(func, "__module__", "") or ""
    return module in ("transpile.ad_api", "transpile.derivatives", "transpile.api", "transpile.vmap_api") \
        and getattr(func, "__name__", "") in ("grad", "value_and_grad", "jacfwd", "jacrev", "hessian",
                                               "jit", "vmap")


def _is_value_constant(value):
    return value is None or isinstance(value, (bool, int, float, complex, str, np.generic)) \
        and not isinstance(value, np.ndarray)


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


#: ufunc name -> the runtime.at helper doing `ufunc.at(a, idx, v)`
_UFUNC_AT = {"add": "at_add", "multiply": "at_multiply", "divide": "at_divide",
             "power": "at_power", "minimum": "at_min", "maximum": "at_max"}


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
