"""Pytrees while specializing: the `Mirrors` mixin of the specializer
(transpile/specialize.py).

A pytree is a *mirror* here (transpile/structure.py): its containers, with
`Leaf` or `LeafExpr` placeholders for the arrays. This mixin finds the
expressions that evaluate to one (`tree_value`: names, displays, a call's
returned tree and its parts `f(x)['aux']`, `tp.tree_map` applied leaf by
leaf) and writes the statements that bind, return, index or loop over one
(`visit_Assign`, `visit_Return`, `visit_Subscript`, `visit_For`: unrolled),
so that only leaves reach the generated code.
"""
import copy

import gast

from . import astutil as A
from . import structure as S
from .calls import _callee_of, _is_jvp, _is_transformed
from .errors import TranspileError
from .statics import _is_value_constant
from .tree import tree_map, tree_unflatten
from .values import NOT_STATIC as _NOT_STATIC


class Mirrors:
    """The specializer's handling of pytrees (mirrors)."""

    # -- pytrees (mirrors) ----------------------------------------------------
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
