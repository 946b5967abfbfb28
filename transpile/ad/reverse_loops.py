"""Reverse mode's loops: the adjoint of a `for` or `while` (`loop`), and the values
a loop body defines for the rest of its trip only, which each trip's adjoint
recomputes or pops at its top instead of restoring (`plan_loop_locals`,
`place_tops`).

A `for i in range(a, b)` whose bounds and target its body leaves alone runs
backwards as is (`reversible_range`; at the top level its tapes are arrays indexed
by the trip); any other loop counts its trips in the forward sweep, and its adjoint
runs that many times.

`LoopAdjoints` is a mixin of `reverse.ReverseAD`: a loop's body goes through
`reverse_statements` (`sub_block`), its tapes through `reverse_tapes`.
"""
import copy

import gast
import numpy as np

from .. import astutil as A
from . import sweep
from runtime import tape


class LoopAdjoints:
    """Loops and their loop-local values (mixin of `ReverseAD`)."""

    def loop(self, stmt, k):
        counter = self.fresh("_n")
        self.counter_names.add(counter)
        tag = (k, "loop")
        self.loop_depth += 1
        simple = self.reversible_range(stmt)
        # Tapes of a `for i in range(a, b)` that no loop encloses are arrays indexed by i - a,
        # allocated on the first trip (their element type is the first value's).
        info = None
        if simple and self.loop_depth == 1:
            info = {"target": stmt.target.id, "start": simple[0], "stop": simple[1],
                    "trips": self.fresh("_trips"), "used": False}
        self.loop_info.append((self.path + (tag,), info))
        pre = []
        if isinstance(stmt, gast.For) and not simple:
            pre = [self.marker("push", stmt.target.id, stmt)]
        elif isinstance(stmt, gast.For):
            self.multi.discard(stmt.target.id)
        fb, ab = self.sub_block(stmt.body, tag)
        self.loop_depth -= 1
        self.loop_info.pop()
        path = self.path + (tag,)
        if simple:
            start, stop = simple
            rev = A.call(A.name("range"), [
                gast.BinOp(left=copy.deepcopy(stop), op=gast.Sub(), right=A.const(1)),
                gast.BinOp(left=copy.deepcopy(start), op=gast.Sub(), right=A.const(1)), A.const(-1)])
            fwd_loop = gast.For(target=stmt.target, iter=stmt.iter, body=fb or [gast.Pass()], orelse=[],
                                type_comment=None)
            adj_loop = gast.For(target=A.store(stmt.target.id), iter=rev, body=ab, orelse=[], type_comment=None)
            self.block_adj[path] = ab
            fwd_loop.tp_adj = adj_loop
            fwd_loop.tp_prealloc = adj_loop.tp_prealloc = info
            return [A.located(fwd_loop, stmt)], [A.located(adj_loop, stmt)]
        count = A.assign(counter, gast.BinOp(left=A.name(counter), op=gast.Add(), right=A.const(1)))
        body = [A.located(count, stmt)] + pre + fb
        if isinstance(stmt, gast.For):
            fwd_loop = gast.For(target=stmt.target, iter=stmt.iter, body=body, orelse=[], type_comment=None)
            ab = ab + [self.marker("restore", stmt.target.id, stmt)]
        else:
            fwd_loop = gast.While(test=stmt.test, body=body, orelse=[])
        self.block_adj[path] = ab
        fwd = [A.located(A.assign(counter, A.const(0)), stmt), A.located(fwd_loop, stmt)]
        adj_loop = gast.For(target=A.store(self.fresh("_k")),
                            iter=A.call(A.name("range"), [A.name(counter)]), body=ab, orelse=[],
                            type_comment=None)
        fwd_loop.tp_adj = adj_loop
        adj = [A.located(adj_loop, stmt)]
        if self.loop_depth > 0:
            s = self.stack(f"_stack{counter}")
            fwd.append(A.located(A.expr_stmt(A.call(A.attr(s, "append"), [A.name(counter)])), stmt))
            adj.insert(0, A.located(A.assign(counter, A.call(A.attr(s, "pop"))), stmt))
        return fwd, adj

    def reversible_range(self, stmt):
        """(start, stop) if `for i in range(start, stop)` can run backwards as is."""
        if not isinstance(stmt, gast.For) or getattr(stmt.iter.func, "tp_value", None) is not range:
            return None
        args = stmt.iter.args
        if len(args) == 1:
            start, stop = A.const(0), args[0]
        elif len(args) == 2:
            start, stop = args
        else:
            return None
        body = gast.Module(body=stmt.body, type_ignores=[])
        stored = {n.id for n in gast.walk(body) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        if any(isinstance(n, gast.Break) for n in gast.walk(body)):
            return None
        if any(isinstance(a, gast.Name) and a.id in stored for a in (start, stop)):
            return None
        if stmt.target.id in stored:
            return None
        whole = gast.Module(body=self.node.body, type_ignores=[])
        sites = [n for n in gast.walk(whole) if isinstance(n, gast.Name) and n.id == stmt.target.id
                 and isinstance(n.ctx, gast.Store)]
        if len(sites) != 1:
            return None
        return start, stop

    # -- loop-local values -------------------------------------------------------
    def plan_loop_locals(self, fwd, adj, reads):
        """Values defined in a loop body and read only later in the same trip (the ANF
        temporaries) need no "restore the previous value" in the adjoint: at the top of each
        trip's adjoint they are recomputed when that is an index computation (`i - 1`,
        `x[i]` of an array nothing writes), else popped from their tape there."""
        defs, loads = sweep.name_counts(sweep.walk_code(fwd))
        params = set(self.spec.dyn_params) | set(self.spec.hidden_names())
        stable_arrays = self.unwritten_arrays(fwd, params)
        for loop in sweep.loops(fwd):
            adj_loop = getattr(loop, "tp_adj", None)
            if adj_loop is None or any(isinstance(n, gast.Break) for st in loop.body for n in gast.walk(st)):
                continue
            ints = {t.target.id for t in sweep.enclosing_ranges(fwd, loop) if defs.get(t.target.id) == 1}
            assigned_in_loop = {n.id for st in loop.body for n in gast.walk(st)
                                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            top = []
            for j, st in enumerate(loop.body):
                if not (isinstance(st, gast.Assign) and len(st.targets) == 1
                        and isinstance(st.targets[0], gast.Name)) or getattr(st, "tp_marker", None):
                    continue
                v = st.targets[0].id
                if v not in reads or v not in self.multi or defs.get(v) != 1 or v in params:
                    continue
                later = sum(1 for rest in loop.body[j + 1:] for n in sweep.walk_code([rest])
                            if isinstance(n, gast.Name) and n.id == v and isinstance(n.ctx, gast.Load))
                if later != loads.get(v, 0):
                    continue    # read before its definition in a trip, or after the loop
                if self.recomputable(st.value, ints, stable_arrays - assigned_in_loop):
                    self.loop_local[v] = "recompute"
                    if not isinstance(st.value, gast.Subscript):
                        ints.add(v)     # an int computed from ints
                    top.append(A.located(A.assign(v, copy.deepcopy(st.value)), st))
                else:
                    self.loop_local[v] = "pop"
                    if getattr(loop, "tp_prealloc", None) is not None:
                        self.loop_pre[v] = loop.tp_prealloc
                    top.append((v, st))
            adj_loop.tp_top = top

    def recomputable(self, value, ints, arrays):
        """An index computation over loop indices and constants, or a read of an array that
        nothing writes at such an index."""
        def int_atom(a):
            return (isinstance(a, gast.Name) and a.id in ints) or (
                isinstance(a, gast.Constant) and isinstance(a.value, int) and not isinstance(a.value, bool))
        if isinstance(value, gast.BinOp):
            return isinstance(value.op, (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)) \
                and int_atom(value.left) and int_atom(value.right)
        if isinstance(value, gast.UnaryOp):
            return isinstance(value.op, gast.USub) and int_atom(value.operand)
        if isinstance(value, gast.Subscript):
            if not (isinstance(value.value, gast.Name) and value.value.id in arrays):
                return False
            parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
            for p in parts:
                if isinstance(p, gast.Slice):
                    if not all(b is None or int_atom(b) or (isinstance(b, gast.Constant) and b.value is None)
                               for b in (p.lower, p.upper, p.step)):
                        return False
                elif not int_atom(p):
                    return False
            return True
        return False

    def unwritten_arrays(self, fwd, params):
        """Names whose arrays nothing writes in place (no alias of them is written): every
        name, when each name written in place (or passed where it could be) holds a fresh
        array; else none."""
        written = set()
        effects = {id(n.value) for n in sweep.walk_code(fwd) if isinstance(n, gast.Expr)}
        for n in sweep.walk_code(fwd):
            if isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store):
                if not isinstance(n.value, gast.Name):
                    return set()
                written.add(n.value.id)
            elif isinstance(n, gast.Call):
                callee = self.callee_of(n.func)
                fn = self.resolve_func(n.func) if callee is None else None
                method = isinstance(n.func, gast.Attribute) and fn is None
                if callee is not None or (method and n.func.attr not in _SAFE_METHODS) or (
                        id(n) in effects and getattr(fn, "__module__", "") not in ("runtime.checks",)):
                    # user functions, methods, calls for their effect (at_add, mask_assign):
                    # could write their arguments or receiver
                    written |= {a.id for a in gast.walk(n) if isinstance(a, gast.Name)
                                and isinstance(a.ctx, gast.Load)}
        defs = {}
        for n in sweep.walk_code(fwd):
            if isinstance(n, gast.Assign):
                for t in n.targets:
                    for m in gast.walk(t):
                        if isinstance(m, gast.Name) and isinstance(m.ctx, gast.Store):
                            defs.setdefault(m.id, []).append(n.value if isinstance(t, gast.Name) else None)
            elif isinstance(n, gast.For):
                for m in gast.walk(n.target):
                    if isinstance(m, gast.Name):
                        defs.setdefault(m.id, []).append(None)
        for w in written:
            if w.startswith(("_stack", "_saved")) or w in self.counter_names:
                continue
            if w in params and w not in self.copied_params:
                return set()
            if not all(self.fresh_array(d) for d in defs.get(w, [])):
                return set()
        names = {n.id for n in sweep.walk_code(fwd) if isinstance(n, gast.Name)}
        return names - written

    def fresh_array(self, value):
        if value is None:
            return False
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant, gast.List,
                              gast.Tuple, gast.Dict)):
            return True
        if isinstance(value, gast.Call):
            if isinstance(value.func, gast.Attribute) and value.func.attr == "copy" and not value.args:
                return True
            fn = self.resolve_func(value.func)
            return fn is tape.save or any(fn is getattr(np, f, None) for f in _FRESH)
        return False

    def place_tops(self, stmts):
        """Insert each adjoint loop's recomputations and pops (plan_loop_locals) at the top of
        its body, before the cotangent initialisations that may read them."""
        for n in sweep.walk_code(stmts):
            top = getattr(n, "tp_top", None)
            if not top:
                continue
            new = []
            for item in top:
                if isinstance(item, tuple):
                    v, st = item
                    pre = self.loop_pre.get(v)
                    if pre is not None:
                        read = self.tape_get(f"_tape_{v}", pre)
                    else:
                        read = A.call(A.attr(self.stack(f"_stack_{v}"), "pop"))
                    new.append((v, st, A.located(A.assign(v, read), st)))
                else:
                    new.append(item)
            n.tp_top = new
            n.body[0:0] = [item[2] if isinstance(item, tuple) else item for item in new]


#: array methods that write neither their receiver nor their arguments
_SAFE_METHODS = {"copy", "astype", "dot", "ravel", "flatten", "transpose", "reshape", "sum", "mean",
                 "max", "min", "conj", "clip", "cumsum", "cumprod", "trace", "item", "tolist", "any",
                 "all", "argmax", "argmin", "nonzero", "std", "var", "prod", "round", "squeeze",
                 "diagonal", "swapaxes", "take", "repeat", "append"}

_FRESH = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
          "array", "copy", "arange", "linspace", "eye", "identity")
