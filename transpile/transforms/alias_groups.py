"""Aliases and views: which names may share a buffer.

What a value is: a view of the array a name holds (`view_of`: a subscript without an
array index, a view attribute, a view method or function), surely a new object
(`fresh_value`), or an index that makes NumPy copy (`array_index`). From those,
flow-insensitively: the union-find `groups` of names that may share a buffer (through
views, containers, helpers returning an argument), the names bound to the very same
object (`same_groups`), the names bound to list, tuple or dict displays only
(`containers_of`), how often each name is bound (`defs`) and the values of its plain
bindings (`name_bindings`).

`AliasGroups` is a mixin of `alias._Alias`; `groups` asks `_Alias.returns_alias` whether
a called function may return (a view of) an argument.
"""
import gast
import numpy as np

from .. import astutil as A
from ..resolve import find_callee
from . import einsum

#: attributes that are views of their object
_VIEW_ATTRS = {"T", "mT", "real", "imag", "flat"}
#: array methods returning a view (or possibly their receiver)
_VIEW_METHODS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "view", "diagonal"}
#: functions (NumPy's or runtime.npx's of the same name) whose result may view their first argument
_VIEW_FUNCS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "expand_dims", "moveaxis",
               "asarray", "asanyarray", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
               "diagonal", "real", "imag", "ascontiguousarray", "asfortranarray", "flip", "fliplr",
               "flipud", "rot90", "matrix_transpose", "permute_dims", "broadcast_arrays", "split",
               "array_split", "hsplit", "vsplit", "dsplit", "unstack", "rollaxis", "stop_gradient"}

#: functions whose result is a new array (or a number), never one of their arguments or a view
#: of one (not einsum: `np.einsum("ij->ji", a)` is a view of `a`)
_FRESH_FUNCS = {"array", "copy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                "full_like", "arange", "linspace", "logspace", "eye", "identity", "stack", "concatenate",
                "vstack", "hstack", "dstack", "column_stack", "outer", "dot", "matmul", "inner", "tensordot",
                "kron", "cross", "sum", "prod", "mean", "std", "var", "min", "max", "amin", "amax",
                "cumsum", "cumprod", "diff", "where", "clip", "sort", "tile", "repeat", "tri", "tril", "triu",
                "trace", "norm", "any", "all", "argmax", "argmin", "nonzero", "unique", "take", "roll",
                "pad", "append", "insert", "delete", "round", "around", "nansum", "nanmean", "nanmax",
                "nanmin", "average", "median", "meshgrid"}


def _fn_name(fn):
    return getattr(fn, "__name__", None)


def _numpy_like(fn):
    mod = getattr(fn, "__module__", None) or ""
    return mod == "numpy" or mod.startswith("numpy.") or mod == "runtime.npx" or isinstance(fn, np.ufunc)


class AliasGroups:
    """What values are, and which names may share a buffer (mixin of `_Alias`)."""

    def defs(self):
        count = {p: 1 for p in list(self.spec.dyn_params) + list(self.spec.hidden_names())}
        for n in gast.walk(self.node):
            if isinstance(n, gast.Assign) and getattr(n, "tp_refresh", False):
                continue        # a view taken again: the same binding
            if isinstance(n, gast.Assign):
                for m in gast.walk(n.targets[0]):
                    if isinstance(m, gast.Name) and isinstance(m.ctx, gast.Store):
                        count[m.id] = count.get(m.id, 0) + 1
            elif isinstance(n, (gast.For, gast.AugAssign)):
                for m in gast.walk(n.target):
                    if isinstance(m, gast.Name) and isinstance(m.ctx, gast.Store):
                        count[m.id] = count.get(m.id, 0) + 1
        return count

    def view_of(self, value):
        """(kind, base name, detail) when `value` may view the array a name holds."""
        if isinstance(value, gast.Name):
            return ("same", value.id, None)
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            if self.array_index(value.slice):
                return None     # advanced indexing: a copy
            return ("sub", value.value.id, value.slice)
        if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name) \
                and value.attr in _VIEW_ATTRS:
            return ("attr", value.value.id, value.attr)
        if isinstance(value, gast.Call):
            func = value.func
            fn = self.resolve(func)
            if fn is None and isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.attr in _VIEW_METHODS and find_callee(self.program, func) is None:
                return ("method", func.value.id, (func.attr, value.args, value.keywords))
            if fn is not None and getattr(fn, "__module__", None) == "runtime.checks" \
                    and _fn_name(fn) == "getitem" and value.args and isinstance(value.args[0], gast.Name):
                if len(value.args) > 1 and self.array_index(value.args[1]):
                    return None
                return ("sub", value.args[0].id, value.args[1])     # after the checks pass
            if fn is np.einsum and einsum.view_kind(value) is not None and isinstance(value.args[1], gast.Name):
                # one operand, nothing summed: NumPy returns a view of it (a diagonal)
                return ("func", value.args[1].id, ("einsum", value.args[:1], value.keywords))
            if fn is not None and _numpy_like(fn) and _fn_name(fn) in _VIEW_FUNCS and value.args \
                    and isinstance(value.args[0], gast.Name):
                return ("func", value.args[0].id, (_fn_name(fn), value.args[1:], value.keywords))
        return None

    def array_index(self, index):
        """Whether `index` surely has an array part (a list display, a comparison, a name
        bound only to `np.array(...)` or a comparison): NumPy's advanced indexing, which
        copies. An int array of 0 dimensions copies too."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        return any(self.surely_array_value(p, set()) for p in parts)

    def surely_array_value(self, node, seen):
        if isinstance(node, (gast.List, gast.Compare)):
            return True
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.Invert, gast.Not)):
            return isinstance(node.op, gast.Invert) and self.surely_array_value(node.operand, seen)
        if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.BitAnd, gast.BitOr, gast.BitXor)):
            return self.surely_array_value(node.left, seen) or self.surely_array_value(node.right, seen)
        if isinstance(node, gast.Call):
            fn = self.resolve(node.func)
            return fn is not None and fn in (np.array, np.asarray) and bool(node.args) \
                and isinstance(node.args[0], (gast.List, gast.Tuple))
        if isinstance(node, gast.Name) and node.id not in seen:
            seen.add(node.id)
            values, other = self.name_bindings()
            v = values.get(node.id, [])
            return bool(v) and node.id not in other and all(self.surely_array_value(e, seen) for e in v)
        return False

    def name_bindings(self):
        """({name: values of its plain `name = value` bindings}, names bound any other way:
        parameters, loop targets, augmented and tuple targets), kept until the next step."""
        if self._bindings is None:
            values, other = {}, set(self.spec.dyn_params) | set(self.spec.hidden_names())
            for n in gast.walk(self.node):
                if isinstance(n, gast.Assign):
                    for t in n.targets:
                        if isinstance(t, gast.Name):
                            values.setdefault(t.id, []).append(n.value)
                        else:
                            other |= A.names_in(t, gast.Store)
                elif isinstance(n, (gast.For, gast.AugAssign)):
                    other |= A.names_in(n.target, gast.Store)
            self._bindings = (values, other)
        return self._bindings

    def fresh_value(self, value):
        """Whether `value` is surely a new object (or a number): nothing else can hold it yet."""
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
            return True
        if not isinstance(value, gast.Call) or any(kw.arg in ("out", "copy") for kw in value.keywords):
            return False
        if isinstance(value.func, gast.Attribute) and value.func.attr == "copy" and not value.args \
                and find_callee(self.program, value.func) is None:
            return True
        fn = self.resolve(value.func)
        if fn is None or not _numpy_like(fn):
            return False
        return isinstance(fn, np.ufunc) or _fn_name(fn) in _FRESH_FUNCS

    # -- groups --------------------------------------------------------------------
    def groups(self, sites, containers=True):
        """Union-find over names that may share a buffer (flow-insensitive); without
        `containers`, only through views (not through lists and tuples holding arrays)."""
        parent = {}

        def find(a):
            parent.setdefault(a, a)
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        def union(a, b):
            parent[find(a)] = find(b)

        for site in sites:
            stmt = site.stmt
            if isinstance(stmt, gast.Assign):
                value = stmt.value
                targets = A.names_in(stmt.targets[0], gast.Store) if not isinstance(
                    stmt.targets[0], gast.Subscript) else set()
                sources = set()
                v = self.view_of(value)
                if v is not None:
                    sources.add(v[1])
                elif isinstance(value, (gast.List, gast.Tuple, gast.Dict)) and containers:
                    sources |= A.names_in(value)
                elif isinstance(value, gast.Call):
                    callee = find_callee(self.program, value.func)
                    if callee is not None and self.returns_alias(callee):
                        sources |= {a.id for a in value.args if isinstance(a, gast.Name)}
                if isinstance(stmt.targets[0], gast.Tuple) and isinstance(value, gast.Name):
                    sources.add(value.id)       # `a, b = pair`: the items of `pair`
                if isinstance(stmt.targets[0], gast.Subscript) and isinstance(value, gast.Name):
                    base = stmt.targets[0].value
                    if isinstance(base, gast.Name) and base.id in self.containers:
                        # `lst[i] = a`: a container holds `a` (an array store copies instead)
                        union(base.id, value.id)
                for t in targets:
                    for s in sources:
                        union(t, s)
            elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
                call = stmt.value
                if isinstance(call.func, gast.Attribute) and isinstance(call.func.value, gast.Name) \
                        and call.func.attr in ("append", "insert", "extend"):
                    for a in call.args:
                        for n in A.names_in(a):
                            union(call.func.value.id, n)
            elif isinstance(stmt, gast.For) and isinstance(stmt.iter, gast.Name):
                for t in A.names_in(stmt.target, gast.Store):
                    union(t, stmt.iter.id)
        out = {}
        for name in list(parent):
            out.setdefault(find(name), set()).add(name)
        return {name: out[find(name)] for name in parent}

    def containers_of(self):
        """Names bound to list, tuple or dict displays only: writing one changes the container,
        not the values it holds."""
        kinds = {}
        for n in gast.walk(self.node):
            if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Name):
                kinds.setdefault(n.targets[0].id, set()).add(
                    isinstance(n.value, (gast.List, gast.Tuple, gast.Dict)))
        return {k for k, v in kinds.items() if v == {True}}

    def same_groups(self, sites):
        """Names bound to the very same object (`a = b`), for writes to a container."""
        parent = {}

        def find(a):
            parent.setdefault(a, a)
            while parent[a] != a:
                a = parent[a]
            return a
        for site in sites:
            st = site.stmt
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                    and isinstance(st.value, gast.Name):
                parent[find(st.targets[0].id)] = find(st.value.id)
        out = {}
        for name in list(parent):
            out.setdefault(find(name), set()).add(name)
        return {name: out[find(name)] for name in parent}


def groups_of_name(alias, sites, name):
    return alias.groups(sites, containers=False).get(name, {name})

