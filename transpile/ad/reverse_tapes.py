"""Reverse mode's tapes. The statement adjoints leave markers in both sweeps
(`marker`: push a value after its assignment and restore it after that
assignment's adjoint; save a region before an in-place write and write it back
after the write's adjoint). Once `reverse.ReverseAD.run` knows what the adjoint
sweep reads, `materialize` turns each marker into nothing (a value the adjoint
never reads, or one assigned once) or into a tape: a stack (a list), an array
preallocated for a top-level `range` loop and indexed by its trip, or a variable.

`TapeMarkers` is a mixin of `reverse.ReverseAD`; `reverse_loops` decides which
loop-local values are recomputed or popped instead (`loop_local`, `loop_pre`).
"""
import copy

import gast

from .. import astutil as A


class TapeMarkers:
    """Tape markers and what they become (mixin of `ReverseAD`)."""

    # -- markers (materialized once the adjoint's reads are known) ----------
    def marker(self, kind, var, stmt, payload=None):
        node = A.located(A.expr_stmt(A.call(A.name(f"__{kind}__"), [A.name(var)])), stmt)
        node.tp_marker = (kind, var, payload)
        return node

    def materialize(self, stmts, reads):
        out = []
        for stmt in stmts:
            m = getattr(stmt, "tp_marker", None)
            if m is not None:
                out.extend(self.expand_marker(m, stmt, reads))
                continue
            if getattr(stmt, "tp_top", None):
                pops = {id(item[2]): item[0] for item in stmt.tp_top if isinstance(item, tuple)}
                body = []
                for st in stmt.body:
                    v = pops.get(id(st))
                    body.extend(self.guarded(v, [st], st) if v is not None else [st])
                stmt.body = body
            if isinstance(stmt, gast.If):
                stmt.body = self.materialize(stmt.body, reads) or [gast.Pass()]
                stmt.orelse = self.materialize(stmt.orelse, reads)
            elif isinstance(stmt, (gast.For, gast.While)):
                stmt.body = self.materialize(stmt.body, reads) or [gast.Pass()]
                pre = getattr(stmt, "tp_prealloc", None)
                if pre is not None and pre["used"] and getattr(stmt, "tp_adj", None) is not None:
                    rng = A.call(A.name("range"), [copy.deepcopy(pre["start"]), copy.deepcopy(pre["stop"])])
                    trips = A.assign(pre["trips"], A.call(A.name("len"), [rng]))
                    out.append(A.located(trips, stmt))
            out.append(stmt)
        return out

    def stack(self, name):
        if name not in self.stacks:
            self.stacks.append(name)
            self.locals.add(name)
        return name

    def guarded(self, var, stmts, node):
        """`stmts`, under `if tape.keeps(var):` when the adjoint reads `var` only for its shape
        (Numba drops the branch, and the tape, for scalars)."""
        if var not in self.shape_only:
            return [A.located(st, node) for st in stmts]
        test = A.call(self.helper("runtime.tape", "keeps"), [A.name(var)])
        guard = A.located(gast.If(test=test, body=stmts, orelse=[]), node)
        for st in stmts:
            st.tp_noline = True     # no second line comment inside the guard
        return [guard]

    def trip(self, pre):
        """`i - a`, the trip number of a preallocated loop."""
        start = pre["start"]
        if isinstance(start, gast.Constant) and start.value == 0:
            return A.name(pre["target"])
        return gast.BinOp(left=A.name(pre["target"]), op=gast.Sub(), right=copy.deepcopy(start))

    def tape_put(self, name, witness, value, pre):
        """`if i == a: tape = tape.alloc(witness, trips)` then `tape[i - a] = value`."""
        pre["used"] = True
        first = gast.Compare(left=A.name(pre["target"]), ops=[gast.Eq()],
                             comparators=[copy.deepcopy(pre["start"])])
        alloc = A.assign(name, A.call(self.helper("runtime.tape", "alloc"),
                                      [copy.deepcopy(witness), A.name(pre["trips"])]))
        put = A.assign(gast.Subscript(value=A.name(name), slice=self.trip(pre), ctx=gast.Store()), value)
        alloc.tp_noline = True  # no second line comment inside the `if`
        return [gast.If(test=first, body=[alloc], orelse=[]), put]

    def tape_get(self, name, pre):
        return gast.Subscript(value=A.name(name), slice=self.trip(pre), ctx=gast.Load())

    def expand_marker(self, m, stmt, reads):
        kind, var, payload = m
        if kind in ("push", "restore"):
            if var not in reads or var not in self.multi:
                return []
            mode = self.loop_local.get(var)
            if mode == "pop" and self.loop_pre.get(var) is not None:
                s = f"_tape_{var}"
                self.locals.add(s)
            else:
                s = self.stack(f"_stack_{var}")
            if mode == "recompute" or (mode == "pop" and kind == "restore"):
                return []   # recomputed, or popped at the top of its iteration's adjoint
            if kind == "push":
                pre = self.loop_pre.get(var)
                if mode == "pop" and pre is not None:
                    return self.guarded(var, self.tape_put(s, A.name(var), A.name(var), pre), stmt)
                return self.guarded(var, [A.expr_stmt(A.call(A.attr(s, "append"), [A.name(var)]))], stmt)
            pop = A.expr_stmt(A.call(A.attr(s, "pop")))
            prev = gast.If(test=gast.Compare(left=A.call(A.name("len"), [A.name(s)]), ops=[gast.Gt()],
                                             comparators=[A.const(0)]),
                           body=[A.assign(var, gast.Subscript(value=A.name(s), slice=A.const(-1),
                                                              ctx=gast.Load()))], orelse=[])
            prev.body[0].targets[0].tp_nocheck = True
            return self.guarded(var, [pop, prev], stmt)
        if kind in ("save_sub", "load_sub"):
            if var not in reads:
                return []
            index, site, in_loop, pre = payload
            index = copy.deepcopy(index)
            name = f"_saved_{var}{site}"
            # One tape per site (a list in a loop, an array indexed by the trip in a range loop,
            # else a variable): the saved regions of one array can be numbers at one site and
            # slices at another.
            if in_loop and pre is None:
                self.stack(name)
            else:
                self.locals.add(name)
            old = gast.Subscript(value=A.name(var), slice=index, ctx=gast.Load())
            if kind == "save_sub":
                save = A.call(self.helper("runtime.tape", "save"), [old])
                if pre is not None:
                    return [A.located(st, stmt) for st in self.tape_put(name, old, save, pre)]
                if in_loop:
                    return [A.located(A.expr_stmt(A.call(A.attr(name, "append"), [save])), stmt)]
                return [A.located(A.assign(name, save), stmt)]
            target = gast.Subscript(value=A.name(var), slice=index, ctx=gast.Store())
            if pre is not None:
                value = self.tape_get(name, pre)
            else:
                value = A.call(A.attr(name, "pop")) if in_loop else A.name(name)
            return [A.located(A.assign(target, value), stmt)]
        raise AssertionError(kind)
