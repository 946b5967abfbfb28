"""Desugar: rewrite sugar into the forms every later pass and backend knows.

* `x.at[idx].set(v)` (and `add`, `multiply`/`mul`, `min`, `max`, `get`) becomes
  a copy and an in-place update, out of place as JAX promises::

      b = a.at[1, :].set(1.0)       ->    b = a.copy()
                                          b[1, :] = 1.0

      c = f(a.at[i].add(2.0))       ->    _at = a.copy()
                                          at_add(_at, i, 2.0)   # scatter-add
                                          c = f(_at)

  `mode='drop' | 'clip' | 'fill'` and `fill_value=` go to `runtime.at`
  helpers; without a mode, out-of-bounds indices raise IndexError as in NumPy.
* `dict(a=1.0, b=2.0)` becomes the display `{'a': 1.0, 'b': 2.0}`.
* Array methods that Numba supports only partly (`x.max(axis=0)`,
  `x.reshape(2, 3)`, ...) become calls to their `runtime.npx` twins:
  `npx.max(x, axis=0)`, `npx.reshape(x, (2, 3))`.

* `np.einsum(a, [0, 1], [1, 0])` (the sublist form, constant sublists)
  becomes `np.einsum('AB->BA', a)` (transforms/einsum.py), and a transposition
  of one operand `np.transpose(a, (1, 0))`: a view, as NumPy's einsum returns.

* A list display used as an index becomes an array, as NumPy reads it
  (Numba takes arrays, not lists): `A[:, [3, 0]]` -> `A[:, np.array([3, 0])]`.
* `np.squeeze(e)` without `axis`, where `e`'s unit axes are known from its
  form (`x[None, :]`, `np.expand_dims(x, 0)`, `x.reshape(1, n)`), becomes
  `npx.squeeze_all(e, (0,))`: NumPy's `np.squeeze(e)` eagerly; compiled, the
  known axes go and any other axis of size 1 at run time is a ValueError (the
  result's ndim must be known at compile time).
* Unpacking a value that may be an array, `a, b, c = theta` (the value a
  name, attribute or subscript, not a tuple display or a call), becomes
  Python's length check and indexed reads::

      a, b = theta        ->    checks.check_unpack(theta, 2, 'f.py:3')
                                a = theta[0]
                                b = theta[1]

  (through a temporary when a target is the value's own name). Reverse mode
  then sees plain reads, and Numba unpacks arrays with Python's message.

Invariant established: no `.at[...]` call, no keyword `dict(...)` call, no
partly supported array method call and no list-display index remains.
"""
import os

import gast
import numpy as np

from .. import astutil as A
from ..errors import TranspileError
from . import einsum
from runtime import npx

_AT_OPS = {"set", "add", "multiply", "mul", "divide", "power", "min", "max", "get", "apply"}
_INPLACE = {"add": gast.Add, "multiply": gast.Mult, "mul": gast.Mult, "divide": gast.Div,
            "power": gast.Pow}


def _at_call(node):
    """(array expr, index, op) if `node` is `X.at[idx].op(...)`."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)):
        return None
    sub = node.func.value
    if node.func.attr in _AT_OPS and isinstance(sub, gast.Subscript) \
            and isinstance(sub.value, gast.Attribute) and sub.value.attr == "at":
        return sub.value.value, sub.slice, node.func.attr
    return None


class _Desugar(gast.NodeTransformer):
    def __init__(self, program, spec):
        self.program = program
        self.spec = spec
        self.pending = []   # statements to put before the current one
        self.counter = 0
        self.target = None  # a Name the current statement assigns to, if simple
        self._defs = None

    def definitions(self):
        """name -> the values assigned to it by `name = value` statements; names
        bound any other way (loop targets, unpacking, augmented assignment) map
        to None among their values."""
        if self._defs is None:
            defs = {}
            for n in gast.walk(self.spec.node):
                if isinstance(n, gast.Assign):
                    for t in n.targets:
                        if isinstance(t, gast.Name):
                            defs.setdefault(t.id, []).append(n.value)
                        else:
                            for m in gast.walk(t):
                                if isinstance(m, gast.Name) and isinstance(m.ctx, gast.Store):
                                    defs.setdefault(m.id, []).append(None)
                elif isinstance(n, (gast.AugAssign, gast.For, gast.AnnAssign)):
                    for m in gast.walk(n.target):
                        if isinstance(m, gast.Name):
                            defs.setdefault(m.id, []).append(None)
            self._defs = defs
        return self._defs

    def fresh(self, base):
        taken = self.spec.locals
        while True:
            self.counter += 1
            name = f"{base}{self.counter}" if self.counter > 1 else base
            if name not in taken:
                taken.add(name)
                return name

    # -- statements: collect hoisted statements ---------------------------
    def visit_stmts(self, stmts):
        out = []
        for stmt in stmts:
            saved, self.pending = self.pending, []
            self.target = None
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], gast.Name) and _at_call(stmt.value):
                self.target = stmt.targets[0].id
            unpacked = self.unpack(stmt)
            if unpacked is not None:
                out.extend(self.visit_stmts(unpacked))
                self.pending = saved
                continue
            new = self.visit(stmt)
            out.extend(self.pending)
            if new is not None and not (isinstance(new, gast.Assign) and getattr(new, "tp_drop", False)):
                out.extend(new if isinstance(new, list) else [new])
            self.pending = saved
        return out

    def generic_visit(self, node):
        for field in ("body", "orelse"):
            if isinstance(getattr(node, field, None), list) and not isinstance(node, gast.IfExp):
                setattr(node, field, self.visit_stmts(getattr(node, field)))
        for field, value in gast.iter_fields(node):
            if field in ("body", "orelse") and isinstance(value, list) and not isinstance(node, gast.IfExp):
                continue
            if isinstance(value, list):
                new = []
                for item in value:
                    if isinstance(item, gast.AST):
                        item = self.visit(item)
                        if item is None:
                            continue
                    new.append(item)
                setattr(node, field, new)
            elif isinstance(value, gast.AST):
                setattr(node, field, self.visit(value))
        return node

    # -- unpacking ------------------------------------------------------------
    def unpack(self, stmt):
        """`a, b = v` (v maybe an array) as a length check and indexed reads, else None."""
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], (gast.Tuple, gast.List))):
            return None
        target, value = stmt.targets[0], stmt.value
        if any(isinstance(e, gast.Starred) for e in target.elts):
            return None
        if not isinstance(value, (gast.Name, gast.Attribute, gast.Subscript)) or hasattr(value, "tp_value"):
            return None
        if isinstance(value, gast.Name):
            defs = self.definitions().get(value.id, [])
            if any(d is None or isinstance(d, (gast.Tuple, gast.List, gast.Call)) for d in defs):
                return None     # may hold a tuple: unpacked as it is
        out = []
        src = value
        stored = {m.id for m in gast.walk(target) if isinstance(m, gast.Name)}
        if not isinstance(value, gast.Name) or value.id in stored:
            tmp = self.fresh("_u")
            out.append(A.located(A.assign(tmp, value), stmt))
            src = A.name(tmp)
        where = A.const(f"{os.path.basename(self.spec.src.filename)}:{getattr(stmt, 'lineno', 0)}")
        check = A.call(A.attr(self.program.module_alias("runtime.checks"), "check_unpack"),
                       [A.name(src.id), A.const(len(target.elts)), where])
        out.append(A.located(A.expr_stmt(check), stmt))
        for k, e in enumerate(target.elts):
            read = gast.Subscript(value=A.name(src.id), slice=A.const(k), ctx=gast.Load())
            out.append(A.located(A.assign(e, read), stmt))
        return out

    # -- indices ----------------------------------------------------------------
    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.slice, gast.Tuple):
            node.slice.elts = [self.list_index(p) for p in node.slice.elts]
        else:
            node.slice = self.list_index(node.slice)
        return node

    def list_index(self, p):
        """A list display as an index -> np.array(list)."""
        if isinstance(p, gast.List) and p.elts:
            func = A.attr(self.program.module_alias("numpy"), "array")
            func.tp_value = np.array
            return A.located(A.call(func, [p]), p)
        return p

    # -- squeeze without axis ----------------------------------------------------
    def squeeze(self, node):
        """`npx.squeeze(e)` -> `npx.squeeze_all(e, axes)` when e's unit axes are known."""
        if len(node.args) != 1 or node.keywords:
            return node
        axes = self.unit_axes(node.args[0], 0)
        if not axes:
            return node
        func = A.attr(self.program.module_alias("runtime.npx"), "squeeze_all")
        func.tp_value = np.squeeze   # differentiated (and typed) as np.squeeze
        return A.located(A.call(func, [node.args[0], A.tuple_([A.const(k) for k in axes])]), node)

    def unit_axes(self, e, depth):
        """Axes of the value of `e` known to have size 1 from its form alone."""
        if depth > 8:
            return []
        if isinstance(e, gast.Name):
            defs = self.definitions().get(e.id, [])
            if len(defs) == 1 and defs[0] is not None:
                return self.unit_axes(defs[0], depth + 1)
            return []
        if isinstance(e, gast.Subscript):
            parts = e.slice.elts if isinstance(e.slice, gast.Tuple) else [e.slice]
            out, pos = [], 0
            for p in parts:
                if isinstance(p, gast.Constant) and p.value is None:
                    out.append(pos)
                    pos += 1
                elif isinstance(p, gast.Slice):
                    pos += 1
                elif isinstance(p, gast.Constant) and p.value is Ellipsis:
                    break       # positions after it depend on the ndim
                elif isinstance(p, gast.Constant) and isinstance(p.value, int) \
                        and not isinstance(p.value, bool):
                    continue
                else:
                    return []   # an int or an array: positions unknown
            return out
        if isinstance(e, gast.Call):
            fn = self.denotes(e.func)
            if fn == "expand_dims" and len(e.args) == 2 and not e.keywords:
                ax = e.args[1]
                items = ax.elts if isinstance(ax, gast.Tuple) else [ax]
                if all(isinstance(k, gast.Constant) and isinstance(k.value, int)
                       and not isinstance(k.value, bool) and k.value >= 0 for k in items):
                    return sorted({k.value for k in items})
            if fn == "reshape" and len(e.args) == 2 and not e.keywords \
                    and isinstance(e.args[1], gast.Tuple):
                return [k for k, d in enumerate(e.args[1].elts)
                        if isinstance(d, gast.Constant) and d.value == 1 and not isinstance(d.value, bool)]
        return []

    def denotes(self, func):
        """'expand_dims' / 'reshape' / 'squeeze' if `func` is that NumPy function or twin."""
        value = getattr(func, "tp_value", None)
        for fn_name in ("expand_dims", "reshape", "squeeze"):
            if value is getattr(np, fn_name):
                return fn_name
        npx_alias = self.program.imports.get("runtime.npx")
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and npx_alias is not None and func.value.id == npx_alias \
                and func.attr in ("expand_dims", "reshape", "squeeze"):
            return func.attr
        return None

    # -- .at[...] ------------------------------------------------------------
    def visit_Call(self, node):
        self.generic_visit(node)
        at = _at_call(node)
        if at is not None:
            return self.lower_at(node, *at)
        if self.denotes(node.func) == "squeeze":
            return self.squeeze(node)
        if getattr(node.func, "tp_value", None) is np.einsum:
            node = einsum.subscripts_form(node) or node
            view = einsum.as_transpose(node, self.program.module_alias("numpy"))
            if view is not None:        # a view of its operand, as in NumPy
                return view
        func = node.func
        if getattr(func, "tp_value", None) is dict and not node.args and node.keywords:
            if any(k.arg is None for k in node.keywords):
                return node
            return A.located(gast.Dict(keys=[A.const(k.arg) for k in node.keywords],
                                       values=[k.value for k in node.keywords]), node)
        if isinstance(func, gast.Attribute) and not hasattr(func, "tp_value") \
                and not hasattr(func.value, "tp_value") \
                and not (isinstance(func.value, gast.Name) and func.value.id in self.program.imports.values()):
            twin = getattr(npx, "METHOD_TWINS", {}).get(func.attr)
            if twin is not None:
                args = list(node.args)
                if func.attr == "reshape" and len(args) != 1:
                    args = [A.tuple_(args)]
                new = A.call(A.attr(self.program.module_alias("runtime.npx"), twin.__name__),
                             [func.value] + args, node.keywords)
                if twin.__name__ == "squeeze":
                    return self.squeeze(A.located(new, node))
                return A.located(new, node)
        return node

    def lower_at(self, node, array, index, op):
        kw = {k.arg: k.value for k in node.keywords}
        mode = kw.pop("mode", None)
        fill_value = kw.pop("fill_value", None)
        for k in ("indices_are_sorted", "unique_indices"):
            kw.pop(k, None)
        if kw:
            raise TranspileError(f".at[].{op}() got an unexpected keyword argument '{next(iter(kw))}'",
                                 self.spec.src.location(node))
        mode_value = mode.value if isinstance(mode, gast.Constant) else None
        if mode is not None and not isinstance(mode, gast.Constant):
            raise TranspileError("the mode of .at[] must be a constant string", self.spec.src.location(node))
        if mode_value not in (None, "promise_in_bounds", "drop", "clip", "fill"):
            raise TranspileError(f"unknown .at[] mode {mode_value!r}", self.spec.src.location(node))
        if mode_value == "promise_in_bounds":
            mode_value = None
        if op == "get":
            if mode_value is None and fill_value is None:
                return A.located(gast.Subscript(value=array, slice=index, ctx=gast.Load()), node)
            fill = fill_value or A.attr(self.program.module_alias("numpy"), "nan")
            return A.located(A.call(A.attr(self.program.module_alias("runtime.at"), "at_get"),
                                    [array, _index_value(index), A.const(mode_value or "fill"), fill]), node)
        if op == "apply":
            raise TranspileError(".at[].apply() is not supported; write the update with a loop",
                                 self.spec.src.location(node))
        if len(node.args) != 1:
            raise TranspileError(f".at[].{op}() takes one value", self.spec.src.location(node))
        value = node.args[0]
        target = self.target or self.fresh("_at")
        self.target = None
        copy = A.located(A.assign(target, A.call(A.attr(array, "copy"))), node)
        self.pending.append(copy)
        sub = gast.Subscript(value=A.name(target), slice=index, ctx=gast.Store())
        if mode_value is not None or op != "set" and _has_array_index(index):
            # an index array may repeat: every update applies, as JAX's scatter (NumPy's
            # `y[idx] *= v` would keep the last one)
            helper = A.attr(self.program.module_alias("runtime.at"), f"at_{_canonical(op)}")
            update = A.expr_stmt(A.call(helper, [A.name(target), _index_value(index), value,
                                                 A.const(mode_value or "raise")]))
        elif op == "set":
            update = A.assign(sub, value)
        elif op in _INPLACE:
            update = gast.AugAssign(target=sub, op=_INPLACE[op](), value=value)
        else:  # min / max
            fn = "minimum" if op == "min" else "maximum"
            load = gast.Subscript(value=A.name(target), slice=A.with_ctx(index, gast.Load())
                                  if hasattr(index, "ctx") else index, ctx=gast.Load())
            update = A.assign(sub, A.call(A.attr(self.program.module_alias("numpy"), fn), [load, value]))
        self.pending.append(A.located(update, node))
        result = A.located(A.name(target), node)
        return result

    def visit_AugAssign(self, node):
        """`y[1:] -= y[:-1]`: NumPy computes the right side whole before writing (its operands
        may overlap the target); Numba's in-place operators do not. So an augmented
        subscript assignment whose value reads a variable becomes `y[i] = y[i] - v`, whose
        right side is a new array (a plain setitem handles overlap in both)."""
        node = self.generic_visit(node)
        target = node.target
        if not isinstance(target, gast.Subscript) or not any(
                isinstance(n, gast.Name) for n in gast.walk(node.value)):
            return node
        index_nodes = list(gast.walk(target.slice)) + list(gast.walk(target.value))
        if any(isinstance(n, (gast.Call, gast.Subscript, gast.Attribute)) for n in index_nodes):
            return node     # evaluating the target twice could repeat effects: left as is
        load = A.with_ctx(target, gast.Load())
        value = A.located(gast.BinOp(left=load, op=node.op, right=node.value), node)
        return A.located(A.assign(A.with_ctx(target, gast.Store()), value), node)

    def visit_Assign(self, node):
        target = self.target
        node = self.generic_visit(node)
        if target is not None and isinstance(node.value, gast.Name) and node.value.id == target:
            node.tp_drop = True  # `b = b` after lowering `b = a.at[...]...`
        return node


def _canonical(op):
    return {"mul": "multiply"}.get(op, op)


def _has_array_index(index):
    """True unless the index is made of constants and slices only."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return not all(isinstance(p, (gast.Slice, gast.Constant)) for p in parts)


def _index_value(index):
    """An index expression usable as a call argument (slices become slice(...))."""
    def conv(p):
        if isinstance(p, gast.Slice):
            return A.call(A.name("slice"), [p.lower or A.const(None), p.upper or A.const(None),
                                            p.step or A.const(None)])
        return p
    if isinstance(index, gast.Tuple):
        return A.tuple_([conv(p) for p in index.elts])
    return conv(index)


def run(program, spec):
    spec.node.body = _Desugar(program, spec).visit_stmts(spec.node.body)
    return spec.node
