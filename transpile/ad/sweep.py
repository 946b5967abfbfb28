"""Passes over the statements ReverseAD generates: walks that skip tape markers, the
names a sweep reads, constant folding of inlined rule templates, fusion of generated
temporaries into the user's line (`fuse`) and removal of zero-initialised adjoints that
are assigned once (`prune_inits`, with `Aliases` deciding when `b = e` may share arrays).

Each is a pure function of gast statements; none knows about ReverseAD's state.
"""
import copy
import re

import gast
import numpy as np

from .. import astutil as A
from . import templates
from .analysis import _rules

def reads(stmts):
    """Names the statements read, not counting tape markers."""
    out = set()
    for stmt in stmts:
        if getattr(stmt, "tp_marker", None):
            continue
        if isinstance(stmt, gast.If):
            out |= {n.id for n in gast.walk(stmt.test) if isinstance(n, gast.Name)}
            out |= reads(stmt.body) | reads(stmt.orelse)
        elif isinstance(stmt, gast.For):
            out |= {n.id for n in gast.walk(stmt.iter) if isinstance(n, gast.Name)}
            out |= reads(stmt.body)
        elif isinstance(stmt, gast.While):
            out |= {n.id for n in gast.walk(stmt.test) if isinstance(n, gast.Name)}
            out |= reads(stmt.body)
        else:
            out |= {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    return out


#: runtime.adjoint helpers -> positions of the arguments they read only for shape and dtype
_SHAPE_ARGS = {"unbroadcast": (1,), "zeros_like": (0,), "unreduce": (1,), "reshape_like": (1,),
               "like_dtype": (1,), "reduced_size": (0,), "split_like": (1,), "unstack_like": (1,)}


_TEMP = re.compile(r"^_t\d+(_bar)?$")


def elementwise(node, cheap=False):
    """An expression Numba fuses into one loop: arithmetic, comparisons and NumPy ufuncs of
    names and constants (`cheap`: one operation on atoms, no ufunc call)."""
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.BinOp):
        if cheap:
            return all(isinstance(a, (gast.Name, gast.Constant)) for a in (node.left, node.right))
        return elementwise(node.left) and elementwise(node.right)
    if isinstance(node, gast.UnaryOp):
        return elementwise(node.operand, cheap) if not cheap else isinstance(
            node.operand, (gast.Name, gast.Constant))
    if isinstance(node, gast.Compare) and not cheap:
        return elementwise(node.left) and all(elementwise(c) for c in node.comparators)
    if isinstance(node, gast.Call) and not cheap and not node.keywords \
            and isinstance(node.func, gast.Attribute) and isinstance(node.func.value, gast.Name) \
            and node.func.value.id == "np" and isinstance(getattr(np, node.func.attr, None), np.ufunc):
        return all(elementwise(a) for a in node.args)
    return False


def fuse(stmts, keep):
    """Inline generated temporaries (`_t3 = _t1 * x`, `_t3_bar = -_t4_bar`) into the
    statements of the same user line that read them, so that Numba evaluates each line's
    element-wise arithmetic in one loop, as it does the user's own line: a temporary read
    once, or a single cheap operation read a few times, when nothing it reads changes in
    between."""
    for st in stmts:
        for field in ("body", "orelse"):
            inner = getattr(st, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(st, field, fuse(inner, keep))
    k = 0
    while k < len(stmts):
        st = stmts[k]
        if not (isinstance(st, gast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name)
                and _TEMP.match(st.targets[0].id) and st.targets[0].id not in keep
                and elementwise(st.value)):
            k += 1
            continue
        v = st.targets[0].id
        operands = A.names_in(st.value)
        line = getattr(st, "lineno", None)
        uses, ok = [], True
        for j in range(k + 1, len(stmts)):
            later = stmts[j]
            n_loads = sum(1 for n in gast.walk(later) if isinstance(n, gast.Name) and n.id == v
                          and isinstance(n.ctx, gast.Load))
            stored = {n.id for n in gast.walk(later) if isinstance(n, gast.Name)
                      and isinstance(n.ctx, gast.Store)}
            if n_loads:
                if not isinstance(later, gast.Assign) or getattr(later, "lineno", None) != line \
                        or getattr(later, "tp_marker", None):
                    ok = False
                    break
                uses.append((j, n_loads))
            if v in stored:
                break
            if stored & operands or (not isinstance(later, gast.Assign)
                                     and any(isinstance(n, gast.Name) and n.id in operands
                                             for n in gast.walk(later))):
                # an operand changes (or may, in a call or a nested block) before later uses
                if any(isinstance(n, gast.Name) and n.id == v for j2 in range(j + 1, len(stmts))
                       for n in gast.walk(stmts[j2])):
                    ok = False
                break
            if isinstance(later, gast.Assign) and isinstance(later.targets[0], gast.Subscript) \
                    and A.names_in(later.targets[0]) & operands:
                if any(isinstance(n, gast.Name) and n.id == v for j2 in range(j + 1, len(stmts))
                       for n in gast.walk(stmts[j2])):
                    ok = False
                break
        total = sum(n for _, n in uses)
        if not ok or not uses or any(isinstance(n, gast.Name) and n.id == v
                                     for j in range(uses[-1][0] + 1, len(stmts))
                                     for n in gast.walk(stmts[j])) \
                or not (total == 1 or (total <= 4 and elementwise(st.value, cheap=True))):
            k += 1
            continue
        value = st.value

        class _Inline(gast.NodeTransformer):
            def visit_Name(self, node):
                if node.id == v and isinstance(node.ctx, gast.Load):
                    return copy.deepcopy(value)
                return node

        for j, _ in uses:     # the value and a subscript target's index (`t[_t5] = 0.0`)
            stmts[j].targets = [_Inline().visit(t) for t in stmts[j].targets]
            stmts[j].value = _Inline().visit(stmts[j].value)
        del stmts[k]
    return stmts


def relocate(node, model):
    """Every node of an inlined template at the user's statement (the template's own line
    numbers would otherwise name lines of the rules module in checks and comments), and
    constant arithmetic folded (`np.power(x, 2 - np.not_equal(2, 0))` -> `x`)."""
    line, col = getattr(model, "lineno", None), getattr(model, "col_offset", 0)
    for n in gast.walk(node):
        if hasattr(n, "lineno"):
            n.lineno, n.col_offset = line, col
    _Fold().visit(node)
    return node


_FOLD_CALLS = {"not_equal": lambda a, b: a != b, "equal": lambda a, b: a == b}
_FOLD_BINOPS = {gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b,
                gast.Mult: lambda a, b: a * b}


def _number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float, bool)


class _Fold(gast.NodeTransformer):
    """Constant folding of what rule templates compute from constant arguments."""

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and f.value.id == "np" \
                and not node.keywords:
            if f.attr in _FOLD_CALLS and len(node.args) == 2 and all(_number(a) for a in node.args):
                return A.const(_FOLD_CALLS[f.attr](node.args[0].value, node.args[1].value))
            if f.attr == "power" and len(node.args) == 2 and _number(node.args[1]) \
                    and type(node.args[1].value) is int and node.args[1].value == 1:
                return node.args[0]     # np.power(x, 1) is x, exactly
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if _number(node.left) and _number(node.right) and type(node.op) in _FOLD_BINOPS \
                and all(type(a.value) in (int, bool) for a in (node.left, node.right)):
            return A.const(int(_FOLD_BINOPS[type(node.op)](node.left.value, node.right.value)))
        return node


def is_helper(node, name):
    """`adjoint.<name>(...)`."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
        and isinstance(node.func.value, gast.Name) and node.func.value.id == "adjoint" \
        and node.func.attr == name and len(node.args) >= 2


_SUMMED = {}


def summed_template(tpl):
    """True for a pointwise rule whose every contribution is `unbroadcast(g * ..., p)`."""
    out = _SUMMED.get(tpl)
    if out is None:
        out = False
        if tpl in _rules().POINTWISE:
            body = templates.template(tpl).body
            ds = [st for st in body if isinstance(st, gast.Assign)
                  and isinstance(st.targets[0], gast.Subscript)
                  and isinstance(st.targets[0].value, gast.Name) and st.targets[0].value.id == "d"]
            out = bool(ds) and all(
                isinstance(st.value, gast.Call) and isinstance(st.value.func, gast.Name)
                and st.value.func.id == "unbroadcast" and len(st.value.args) == 2
                and isinstance(st.value.args[1], gast.Name)
                and isinstance(st.targets[0].slice, gast.Name)
                and st.value.args[1].id == st.targets[0].slice.id for st in ds)
        _SUMMED[tpl] = out
    return out


def walk_code(stmts):
    """gast.walk over statements, skipping tape markers (at any depth)."""
    todo = [s for s in reversed(stmts) if not getattr(s, "tp_marker", None)]
    while todo:
        n = todo.pop()
        yield n
        todo.extend(c for c in reversed(list(gast.iter_child_nodes(n))) if not getattr(c, "tp_marker", None))


def name_counts(nodes):
    """({name: stores}, {name: loads}) over `nodes` (a walk)."""
    defs, loads = {}, {}
    for n in nodes:
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, gast.Store):
                defs[n.id] = defs.get(n.id, 0) + 1
            elif isinstance(n.ctx, gast.Load):
                loads[n.id] = loads.get(n.id, 0) + 1
    return defs, loads


def loops(stmts):
    return [n for n in walk_code(stmts) if isinstance(n, (gast.For, gast.While))]


def enclosing_ranges(stmts, loop):
    """The `for _ in range(...)` loops of `stmts` that contain `loop` or are it."""
    out = []

    def walk(body, chain):
        for st in body:
            if isinstance(st, (gast.For, gast.While)):
                here = chain + ([st] if isinstance(st, gast.For) and isinstance(st.target, gast.Name)
                                and getattr(getattr(st.iter, "func", None), "tp_value", None) is range
                                else [])
                if st is loop:
                    out.extend(here)
                    return True
                if walk(st.body, here):
                    return True
            elif isinstance(st, gast.If):
                if walk(st.body, chain) or walk(st.orelse, chain):
                    return True
        return False

    walk(stmts, [])
    return out


def value_names(node):
    """Names `node` reads for their values (not those only read for shape, see value_reads)."""
    return value_reads([gast.Expr(value=node)])


def value_reads(stmts):
    """Names the statements read for their values: `reads` less the arguments that
    runtime.adjoint helpers read only for shape and dtype (`unbroadcast(g, like)`)."""
    out = set()

    def visit(n):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) \
                and isinstance(n.func.value, gast.Name) and n.func.value.id == "adjoint" \
                and n.func.attr in _SHAPE_ARGS:
            for k, a in enumerate(n.args):
                if k in _SHAPE_ARGS[n.func.attr] and (
                        isinstance(a, gast.Name) or isinstance(a, (gast.Tuple, gast.List))
                        and all(isinstance(e, gast.Name) for e in a.elts)):
                    continue
                visit(a)
            for kw in n.keywords:
                visit(kw.value)
            return
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            out.add(n.id)
        for child in gast.iter_child_nodes(n):
            visit(child)

    for stmt in stmts:
        if getattr(stmt, "tp_marker", None):
            continue
        if isinstance(stmt, (gast.If, gast.While)):
            visit(stmt.test)
            out.update(value_reads(stmt.body) | value_reads(stmt.orelse))
        elif isinstance(stmt, gast.For):
            visit(stmt.iter)
            out.update(value_reads(stmt.body))
        else:
            visit(stmt)
    return out


def fresh_value(node):
    """True if `node` certainly evaluates to a new object (never an alias of an adjoint)."""
    if isinstance(node, (gast.BinOp, gast.UnaryOp)):
        return True
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
            and isinstance(node.func.value, gast.Name):
        mod, fn = node.func.value.id, node.func.attr
        if mod == "tape" and fn == "grad_seed":
            return True
        if mod == "adjoint" and fn == "unbroadcast":
            return fresh_value(node.args[0])
    return False


class Aliases:
    """Which adjoint names may share an array, and whether one of them is written in place
    (`b[i] = 0.0`, `b = add_at(b, ...)`): `b = e` may alias e's arrays only where none of
    them ever is."""

    def __init__(self, stmts, bars):
        self.parent = {}
        self.dirty = set()
        for n in gast.walk(gast.Module(body=list(stmts), type_ignores=[])):
            if not isinstance(n, gast.Assign) or len(n.targets) != 1:
                continue
            t = n.targets[0]
            if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                self.dirty.add(self.find(t.value.id))
            elif isinstance(t, gast.Name):
                v = n.value
                if isinstance(v, gast.Call) and getattr(v.func, "attr", None) == "add_at":
                    self.dirty.add(self.find(t.id))
                if not fresh_value(v):
                    for m in value_names(v):
                        self.union(t.id, m)

    def find(self, a):
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb
            if ra in self.dirty or rb in self.dirty:
                self.dirty.add(rb)

    def may_alias(self, b, names):
        """Record `b = e` (e reading `names`) if no array of theirs is ever written in place."""
        roots = {self.find(b)} | {self.find(n) for n in names}
        if any(self.dirty_root(r) for r in roots):
            return False
        for n in names:
            self.union(b, n)
        return True

    def dirty_root(self, r):
        return any(self.find(d) == r for d in self.dirty)


def prune_inits(stmts, bars, aliases=None, keep_fresh=()):
    """`b = zeros_like(v)` then `b = b + e` becomes `b = e` when e is a new value, or (b not
    in `keep_fresh`, the cotangents a function returns) when the arrays b would share with
    e are never written in place (`aliases`)."""
    k = 0
    while k < len(stmts):
        init = stmts[k]
        if isinstance(init, gast.Assign) and isinstance(init.targets[0], gast.Name) \
                and init.targets[0].id in bars and isinstance(init.value, gast.Call) \
                and getattr(init.value.func, "attr", None) == "zeros_like":
            b = init.targets[0].id
            for j in range(k + 1, len(stmts)):
                nxt = stmts[j]
                if b not in {n.id for n in gast.walk(nxt) if isinstance(n, gast.Name)}:
                    continue
                if isinstance(nxt, gast.Assign) and isinstance(nxt.targets[0], gast.Name) \
                        and nxt.targets[0].id == b and isinstance(nxt.value, gast.BinOp) \
                        and isinstance(nxt.value.op, gast.Add) \
                        and isinstance(nxt.value.left, gast.Name) and nxt.value.left.id == b:
                    names = {n.id for n in gast.walk(nxt.value.right) if isinstance(n, gast.Name)}
                    if b not in names and (fresh_value(nxt.value.right) or (
                            aliases is not None and b not in keep_fresh
                            and aliases.may_alias(b, value_names(nxt.value.right)))):
                        nxt.value = nxt.value.right
                        del stmts[k]
                        k -= 1
                break
        k += 1
