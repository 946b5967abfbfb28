"""Ranks of one example, known while generating code: the vectorizer
(transpile/batching/vectorize.py) inserts `batching.match_rank` only where
the ranks of element-wise operands may disagree (batching/expressions.py)
and checks writes against them (batching/indexing.py).

The ranks of the parameters come from the call's signature; `Ranks`
propagates them through the statements (a few passes over loops; a name
assigned two ranks has none), by the rules of NumPy's functions (a
reduction drops its axes, `np.outer` gives 2, ...). It also finds the
names that only ever hold ints (range loop targets, `len()`, items of a
shape): indices that take one element, not a mask.

`Ranks` is a mixin of `Vectorizer`: it reads the function's node and the
batched names, and resolves callees with the vectorizer's methods.
"""
import builtins

import gast
import numpy as np

from .vecbase import _METHODS, _const_value, _is_const, _rules


class Ranks:
    """The ranks of one example of each name, and the names that hold ints."""

    def find_intlike(self):
        """Names that only ever hold ints: range loop targets, len(), shapes."""
        assigns = {}
        fors = set()
        for n in gast.walk(self.node):
            if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Name):
                assigns.setdefault(n.targets[0].id, []).append(n.value)
            elif isinstance(n, gast.For) and isinstance(n.target, gast.Name):
                if isinstance(n.iter, gast.Call) and isinstance(n.iter.func, gast.Name) \
                        and n.iter.func.id == "range":
                    fors.add(n.target.id)
                else:
                    assigns.setdefault(n.target.id, []).append(None)
            elif isinstance(n, gast.Assign):
                for t in gast.walk(n.targets[0]):
                    if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                        assigns.setdefault(t.id, []).append(None)
        ints = set(fors) - set(assigns)
        shapes = {k for k, vs in assigns.items()
                  if all(isinstance(v, gast.Attribute) and v.attr == "shape" for v in vs)}

        def is_int(v):
            if v is None:
                return False
            if isinstance(v, gast.Constant):
                return isinstance(v.value, int) and not isinstance(v.value, bool)
            if isinstance(v, gast.Name):
                return v.id in ints
            if isinstance(v, gast.Call) and isinstance(v.func, gast.Name) and v.func.id == "len":
                return True
            if isinstance(v, gast.Subscript) and isinstance(v.value, gast.Name) and v.value.id in shapes \
                    and isinstance(v.slice, (gast.Constant, gast.Name)) and not isinstance(v.slice, gast.Slice):
                return isinstance(v.slice, gast.Constant) or v.slice.id in ints
            if isinstance(v, gast.BinOp) and isinstance(v.op, (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv,
                                                               gast.Mod)):
                return is_int(v.left) and is_int(v.right)
            if isinstance(v, gast.UnaryOp) and isinstance(v.op, gast.USub):
                return is_int(v.operand)
            return False

        changed = True
        while changed:
            changed = False
            for k, vs in assigns.items():
                if k not in ints and k not in fors and all(is_int(v) for v in vs):
                    ints.add(k)
                    changed = True
        return {k for k in ints if not self.batched(k)}

    # -- ranks -------------------------------------------------------------
    def propagate_ranks(self):
        ranks = {}
        for a in self.node.args.args:
            r = self.param_ranks.get(a.id)
            ranks[a.id] = r if isinstance(r, int) else None
        self._conflict = set()
        for _ in range(3):
            before = dict(ranks)
            self._rank_block(self.node.body, ranks)
            if ranks == before:
                break
        return ranks

    def _set_rank(self, ranks, name, r):
        if name in self._conflict:
            return
        if name in ranks and ranks[name] != r:
            ranks[name] = None
            self._conflict.add(name)
            return
        ranks[name] = r

    def _rank_block(self, stmts, ranks):
        for s in stmts:
            if isinstance(s, gast.Assign):
                t = s.targets[0]
                if isinstance(t, gast.Name):
                    self._set_rank(ranks, t.id, self.rank_of(s.value, ranks))
                elif isinstance(t, (gast.Tuple, gast.List)):
                    for e in t.elts:
                        if isinstance(e, gast.Name):
                            self._set_rank(ranks, e.id, None)
            elif isinstance(s, gast.For):
                if isinstance(s.target, gast.Name):
                    self._set_rank(ranks, s.target.id, 0 if s.target.id in self.intlike else None)
                self._rank_block(s.body, ranks)
            elif isinstance(s, (gast.If, gast.While)):
                self._rank_block(s.body, ranks)
                self._rank_block(s.orelse, ranks)
            elif isinstance(s, gast.Return) and s.value is not None:
                self.ret_rank = self.rank_of(s.value, ranks)

    def atom_rank(self, node, ranks):
        if isinstance(node, gast.Name):
            return ranks.get(node.id)
        ok, v = _const_value(node)
        if ok and isinstance(v, (bool, int, float, complex)):
            return 0
        return None

    def rank_of(self, value, ranks):
        """The rank of one example of `value` (or of the value, unbatched); None if unknown."""
        R = lambda n: self.atom_rank(n, ranks)      # noqa: E731
        if isinstance(value, gast.Name) or _is_const(value):
            return R(value)
        if isinstance(value, gast.BinOp):
            if isinstance(value.op, gast.MatMult):
                return _mm_rank(R(value.left), R(value.right))
            return _max_rank([R(value.left), R(value.right)])
        if isinstance(value, gast.UnaryOp):
            return R(value.operand)
        if isinstance(value, gast.Compare):
            return _max_rank([R(value.left)] + [R(c) for c in value.comparators])
        if isinstance(value, gast.Subscript):
            return self.subscript_rank(value, R(value.value))
        if isinstance(value, gast.Attribute):
            if value.attr in ("T", "real", "imag"):
                return R(value.value)
            if value.attr in ("ndim", "size"):
                return 0
            return None
        if isinstance(value, gast.Call):
            return self.call_rank(value, R)
        return None

    def subscript_rank(self, node, base):
        if base is None:
            return None
        comps = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        r = base
        for c in comps:
            if isinstance(c, gast.Slice):
                continue
            if isinstance(c, gast.Constant) and c.value is None:
                r += 1
            elif isinstance(c, gast.Constant) and c.value is Ellipsis:
                continue
            elif (isinstance(c, gast.Constant) and isinstance(c.value, int)) or \
                    (isinstance(c, gast.Name) and c.id in self.intlike) or \
                    (isinstance(c, gast.UnaryOp) and isinstance(c.operand, gast.Constant)):
                r -= 1
            else:
                return None
        return r if r >= 0 else None

    def call_rank(self, call, R):
        callee = self.callee_of(call.func)
        if callee is not None:
            return None
        fn = self.resolve(call.func)
        args = list(call.args)
        if fn is None and isinstance(call.func, gast.Attribute):
            fn = _METHODS.get(call.func.attr)
            args = [call.func.value] + args
        if fn is None:
            return None
        rules, rb = _rules()
        fn = rules.canonical(fn)
        kws = {k.arg: k.value for k in call.keywords}
        if fn in rb.SCALAR_TO_NUMPY or fn is getattr(builtins, "abs"):
            return _max_rank([R(a) for a in args])
        if fn in (float, int, len, max, min) or fn in (getattr(__import__("math"), "log"),):
            return 0
        kind, _ = rules.lookup_batching(fn)
        if kind == "elementwise":
            if fn is np.where and len(args) != 3:
                return None
            return _max_rank([R(a) for a in args] + [R(v) for v in kws.values()])
        r0 = R(args[0]) if args else None
        axis = kws.get("axis", args[1] if len(args) > 1 else None)
        keep = kws.get("keepdims")
        keepdims = isinstance(keep, gast.Constant) and keep.value is True
        if fn in (np.sum, np.prod, np.mean, np.max, np.min, np.amax, np.amin, np.any, np.all, np.var, np.std,
                  np.nansum, np.nanmean, np.nanmax, np.nanmin):
            if r0 is None:
                return None
            if keepdims:
                return r0
            ok, ax = _const_value(axis) if axis is not None else (True, None)
            if not ok:
                return None
            if ax is None:
                return 0
            return r0 - (len(ax) if isinstance(ax, tuple) else 1)
        if fn in (np.argmax, np.argmin):
            ok, ax = _const_value(axis) if axis is not None else (True, None)
            if not ok or r0 is None:
                return None
            return 0 if ax is None else r0 - 1
        if fn in (np.cumsum, np.cumprod):
            ok, ax = _const_value(axis) if axis is not None else (True, None)
            return (1 if ax is None else r0) if ok else None
        if fn in (np.matmul, np.dot) and len(args) == 2:
            return _mm_rank(R(args[0]), R(args[1]))
        if fn is np.reshape:
            shape = kws.get("shape", args[1] if len(args) > 1 else None)
            ok, v = _const_value(shape) if shape is not None else (False, None)
            if ok:
                return len(v) if isinstance(v, tuple) else 1
            return None
        if fn is np.ravel:
            return 1
        if fn in (np.transpose, np.copy, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
                  np.ndarray.astype):
            return r0
        if fn is np.expand_dims:
            ok, ax = _const_value(axis) if axis is not None else (False, None)
            if ok and r0 is not None:
                return r0 + (len(ax) if isinstance(ax, tuple) else 1)
            return None
        if fn in (np.concatenate, np.stack) and args and isinstance(args[0], (gast.Tuple, gast.List)):
            rs = [R(e) for e in args[0].elts]
            if rs and all(r is not None and r == rs[0] for r in rs):
                return rs[0] + (1 if fn is np.stack else 0)
            return None
        if fn in (np.array, np.asarray) and args:
            if isinstance(args[0], (gast.Tuple, gast.List)):
                rs = [R(e) for e in args[0].elts]
                if rs and all(r is not None and r == rs[0] for r in rs):
                    return rs[0] + 1
                return None
            return r0
        if fn in (np.zeros, np.ones, np.empty, np.full):
            shape = args[0] if args else kws.get("shape")
            ok, v = _const_value(shape) if shape is not None else (False, None)
            if ok:
                return len(v) if isinstance(v, tuple) else 1
            if isinstance(shape, gast.Name) and shape.id in self.intlike:
                return 1
            return None
        if fn is np.outer:
            return 2
        if fn is np.einsum and args:
            ok, s = _const_value(args[0])
            if ok and isinstance(s, str) and "->" in s and "..." not in s:
                return len(s.split("->")[1].strip())
        return None


def _max_rank(ranks):
    if any(r is None for r in ranks):
        return None
    return max(ranks) if ranks else 0


def _mm_rank(a, b):
    if a is None or b is None or a == 0 or b == 0:
        return None
    if a == 1 and b == 1:
        return 0
    if a == 1:
        return b - 1
    if b == 1:
        return a - 1
    return max(a, b)
