"""Reverse mode, statement by statement: the forward statements and the adjoint
statements of each statement of a block (`block`, `stmt`).

An assignment's right-hand side is classified (`analysis.ADContext.classify`) and
its cotangent goes to its operands through a rule template (`rule`), a copy, an
index, or the callee's own VJP (`ReverseAD.call_vjp`); in-place writes
(`y[i] = v`, scatter-adds) save what they overwrite. A differentiable value whose
derivative would be dropped stops the transformation (`check_covered`,
`check_effect`).

`StatementAdjoints` is a mixin of `reverse.ReverseAD` and works on its state:
loops go to `reverse_loops`, lists to `reverse_sequences`, and what must be taped
is left as markers that `reverse_tapes` materializes.
"""
import copy

import gast

from .. import astutil as A
from ..errors import TranspileError
from ..resolve import _describe_fn
from . import sweep, templates
from .analysis import _index_value, _is_check, _may_write, _rules, _what
from runtime import at


class StatementAdjoints:
    """The forward and adjoint statements of each statement (mixin of `ReverseAD`)."""

    def block(self, stmts):
        """(forward statements, adjoint statements) of a block."""
        fwd, adjs = [], []
        for k, stmt in enumerate(stmts):
            f, a = self.stmt(stmt, k)
            fwd.extend(f)
            adjs.append(a)
        adj = []
        for a in reversed(adjs):
            adj.extend(a)
        self.block_adj[self.path] = adj
        return fwd, adj

    def sub_block(self, stmts, tag):
        saved = self.path
        self.path = saved + (tag,)
        fwd, adj = self.block(stmts)
        self.path = saved
        return fwd, adj

    def stmt(self, stmt, k):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript):
                return self.setitem(stmt)
            return self.assign(stmt)
        if isinstance(stmt, gast.Expr):
            value = stmt.value
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                    and value.func.attr == "append" and isinstance(value.func.value, gast.Name) \
                    and (value.func.value.id in self.seqs or value.func.value.id in self.active):
                return [stmt], self.append_adjoint(stmt)
            if isinstance(value, gast.Call) and self.resolve_func(value.func) is _at_add():
                return self.scatter_add(stmt)
            self.check_effect(stmt)
            return [stmt], []
        if isinstance(stmt, gast.If):
            fb, ab = self.sub_block(stmt.body, (k, "body"))
            fo, ao = self.sub_block(stmt.orelse, (k, "orelse"))
            if isinstance(stmt.test, gast.Name):
                self.note(stmt.test.id) if stmt.test.id in self.active else None
            fwd = gast.If(test=stmt.test, body=fb or [gast.Pass()], orelse=fo)
            adj = gast.If(test=copy.deepcopy(stmt.test), body=ab, orelse=ao)
            self.block_adj[self.path + ((k, "body"),)] = ab
            self.block_adj[self.path + ((k, "orelse"),)] = ao
            return [A.located(fwd, stmt)], [A.located(adj, stmt)]
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, k)
        if isinstance(stmt, gast.Break):
            return [stmt], []
        if isinstance(stmt, gast.Pass):
            return [], []
        if isinstance(stmt, gast.Return):
            raise TranspileError("a `return` in the middle of a function cannot be differentiated here",
                                 self.location(stmt))
        raise TranspileError(f"cannot differentiate a {type(stmt).__name__} statement", self.location(stmt))

    def int_names(self):
        """Names that surely hold one integer: `for i in range(...)` targets and integer
        arithmetic on them (`i - 1`), each bound only that way."""
        if getattr(self, "_ints", None) is not None:
            return self._ints
        defs = {}
        for n in gast.walk(self.node):
            if isinstance(n, gast.For) and isinstance(n.target, gast.Name):
                rng = isinstance(n.iter, gast.Call) and getattr(n.iter.func, "tp_value", None) is range
                defs.setdefault(n.target.id, []).append("range" if rng else None)
            elif isinstance(n, gast.Assign):
                for t in n.targets:
                    for m in gast.walk(t):
                        if isinstance(m, gast.Name) and isinstance(m.ctx, gast.Store):
                            defs.setdefault(m.id, []).append(n.value if isinstance(t, gast.Name) else None)
        ints = {v for v, ds in defs.items() if ds and all(d == "range" for d in ds)}
        changed = True
        while changed:
            changed = False
            for v, ds in defs.items():
                if v in ints or v in self.spec.dyn_params:
                    continue
                if all(isinstance(d, gast.BinOp) and isinstance(d.op, (gast.Add, gast.Sub, gast.Mult,
                                                                       gast.FloorDiv, gast.Mod))
                       and all(isinstance(o, gast.Name) and o.id in ints
                               or isinstance(o, gast.Constant) and type(o.value) is int
                               for o in (d.left, d.right)) for d in ds):
                    ints.add(v)
                    changed = True
        self._ints = ints
        return ints

    def scatter_add(self, stmt):
        """`at_add(y, idx, v, mode)` (`y.at[idx].add(v)`, `np.add.at(y, idx, v)`): in place,
        repeats accumulating. y's cotangent passes through; v gets y's cotangent gathered
        at idx (out-of-bounds entries dropped by the mode get none). y's old value is saved
        for the adjoints before it."""
        call = stmt.value
        target, index, v = call.args[:3]
        mode = call.args[3] if len(call.args) > 3 else A.const("raise")
        if not isinstance(target, gast.Name) or call.keywords:
            raise TranspileError("cannot differentiate this scatter-add", self.location(stmt))
        base = target.id
        self.save_sites += 1
        pre = self.loop_info[-1][1] if self.loop_info and self.loop_info[-1][0] == self.path else None
        site = (gast.Tuple(elts=[A.const(Ellipsis)], ctx=gast.Load()), self.save_sites, self.loop_depth > 0, pre)
        fwd = [self.marker("save_sub", base, stmt, site), stmt]
        restore = [self.marker("load_sub", base, stmt, site)]
        if base not in self.active or not (isinstance(v, gast.Name) and v.id in self.active):
            return fwd, restore
        self.note(base)
        b = self.bar(base)
        gathered = A.call(self.helper("runtime.at", "at_get"),
                          [A.name(b), copy.deepcopy(index), copy.deepcopy(mode) if not (
                              isinstance(mode, gast.Constant) and mode.value == "raise") else A.const("raise"),
                           A.const(0.0)])
        if isinstance(mode, gast.Constant) and mode.value == "drop":
            gathered.args[2] = A.const("fill")
        contrib = A.call(self.helper("runtime.adjoint", "unbroadcast"), [gathered, A.name(v.id)])
        return fwd, [A.located(self.accumulate(v.id, contrib), stmt)] + restore

    def check_effect(self, stmt):
        """A call made for its effect (`lst.append(v)`, `np.add.at(y, i, v)`, `fill(y, x)`) that
        reads a differentiable value changes something the adjoint does not see: stop."""
        value = stmt.value
        read = {m.id for m in gast.walk(value) if isinstance(m, gast.Name)} & self.active
        if not read or not isinstance(value, gast.Call):
            return
        fn = self.resolve_func(value.func)
        if fn is print or getattr(fn, "__module__", None) == "runtime.checks" or _is_check(fn):
            return      # generated checks read their arguments only
        callee = self.callee_of(value.func)
        if callee is not None:
            if not _may_write(callee):
                return
        what = _describe_fn(fn, value) if fn is not None or callee is None else f"{callee.node.name}()"
        raise TranspileError(
            f"cannot differentiate the call to {what} made for its effect on its arguments: "
            f"it changes `{sorted(read)[0]}` or what it is stored into in place. Assign its result "
            f"instead (`y = g(x)`, `y = y.at[i].add(v)`, `xs = xs + [v]`)", self.location(stmt))

    def assign(self, stmt):
        target = stmt.targets[0]
        names = [target.id] if isinstance(target, gast.Name) else [e.id for e in target.elts]
        fwd_stmt = self.copy_written_arguments(stmt)
        fwd = [fwd_stmt] + [self.marker("push", n, stmt) for n in names]
        restore = [self.marker("restore", n, stmt) for n in names]
        active_out = [n for n in names if n in self.active]
        if not active_out:
            return fwd, restore
        st = self.classify(stmt.value)
        self.check_sequence_use(stmt, st, names)
        for n in names:
            self.note(n)
        operands = {m.id for m in gast.walk(stmt.value) if isinstance(m, gast.Name)}
        adj = []
        # The cotangent(s) of this version, captured before the reset.
        gs = []
        for n in names:
            g = A.name(self.bar(n))
            if n in self.reset or n in operands:
                cap = self.fresh("_g")
                adj.append(A.located(A.assign(cap, g), stmt))
                g = A.name(cap)
            gs.append(g)
        self_ref = bool(set(names) & operands)
        ans = [A.name(n) for n in names]
        if self_ref:
            ans = []
            for n in names:
                cap = self.fresh("_ans")
                adj.append(A.located(A.assign(cap, A.name(n)), stmt))
                ans.append(A.name(cap))
            adj.extend(restore)
            restore = []
        for n in names:
            if n in self.reset or n in operands:
                b = self.bar(n)
                adj.append(A.located(A.assign(b, A.call(self.helper("runtime.adjoint", "zeros_like"),
                                                        [A.name(b)])), stmt))
        g = gs[0] if isinstance(target, gast.Name) else A.tuple_(gs)
        ans_node = ans[0] if isinstance(target, gast.Name) else A.tuple_(ans)
        contributions = self.rule(st, g, ans_node, stmt)
        self.check_covered(st, stmt, contributions)
        adj.extend(contributions)
        return fwd, adj + restore

    def copy_written_arguments(self, stmt):
        """`y = g(a, b)` where g writes its argument `a` in place: the forward sweep passes
        a copy. The alias pass inlined g wherever the primal reads `a` (or what shares its
        array) afterwards, so only the adjoint could see the write, and the adjoint needs the
        value before it (g's VJP recomputes from its arguments; rules read `a`)."""
        value = stmt.value
        if not isinstance(value, gast.Call):
            return stmt
        callee = self.callee_of(value.func)
        if callee is None:
            return stmt
        written = _may_write(callee, self.program)
        params = list(callee.dyn_params)
        if not written:
            return stmt
        new = copy.copy(stmt)
        call = copy.copy(value)
        call.args = [A.call(self.helper("runtime.tape", "save"), [a])
                     if k < len(params) and params[k] in written and isinstance(a, gast.Name) else a
                     for k, a in enumerate(value.args)]
        new.value = call
        return A.located(new, stmt)

    def check_covered(self, st, stmt, contributions):
        """Every differentiable value a statement reads must receive its cotangent from the
        statement's adjoint. A value the rules do not reach (inside a container display, a
        dict, an unknown expression) would silently get a zero gradient: stop instead."""
        if st.kind in ("const", "nondiff"):
            return
        if st.kind == "rule" and st.fn is not None and self.is_nondiff(st.fn):
            return
        read = {m.id for m in gast.walk(stmt.value) if isinstance(m, gast.Name)
                and isinstance(m.ctx, gast.Load)} & self.active
        if st.kind == "getitem":    # the index's own values carry no derivative
            base = st.args[0]
            read &= {base.id} if isinstance(base, gast.Name) else set()
        written = set()
        for s in contributions:
            for n in gast.walk(s):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    written.add(n.id)
        missing = sorted(v for v in read if self.bars.get(v) not in written)
        if missing:
            raise TranspileError(
                f"cannot differentiate how this statement uses {_what(missing)}: its derivative "
                f"would be dropped (a differentiable value inside a container, a dict or an "
                f"expression no rule covers). Pass it as a separate argument, build an array with "
                f"np.array/np.stack, or wrap it in `tp.stop_gradient(...)` if no gradient should "
                f"flow through it", self.location(stmt))

    def rule(self, st, g, ans, stmt):
        """Adjoint statements of one classified right-hand side."""
        if st.kind in ("const", "nondiff"):
            return []
        if st.kind == "copy":
            src = st.args[0]
            if src.id in self.active:
                return [A.located(self.accumulate(src.id, g), stmt)]
            return []
        if st.kind == "tuple":
            out = []
            for k, e in enumerate(st.args):
                if isinstance(e, gast.Name) and e.id in self.active:
                    part = gast.Subscript(value=copy.deepcopy(g), slice=A.const(k), ctx=gast.Load()) \
                        if not isinstance(g, gast.Tuple) else g.elts[k]
                    out.append(A.located(self.accumulate(e.id, part), stmt))
            return out
        if st.kind == "getitem":
            base = st.args[0]
            if not (isinstance(base, gast.Name) and base.id in self.active):
                return []
            self.note(base.id)
            b = self.bar(base.id)
            index = _index_value(st.node.slice)
            call = A.call(self.helper("runtime.adjoint", "add_at"), [A.name(b), index, g])
            return [A.located(A.assign(b, call), stmt)]
        if st.kind == "call":
            return self.call_vjp(st, g, stmt)
        if self.is_list_pop(stmt.value):
            # `v = lst.pop()`: v's cotangent goes back on the end of lst's cotangent list
            lst = stmt.value.func.value.id
            self.note(lst)
            b = self.bar(lst)
            push = A.call(self.helper("runtime.adjoint", "push_item"), [A.name(b), g, copy.deepcopy(ans)])
            return [A.located(A.assign(b, push), stmt)]
        fn = st.fn
        active_args = [a for a in st.args + list(st.keywords.values())
                       if isinstance(a, gast.Name) and a.id in self.active
                       or isinstance(a, (gast.Tuple, gast.List)) and any(
                           isinstance(e, gast.Name) and e.id in self.active for e in a.elts)]
        if not active_args:
            return []
        if fn is not None and self.is_nondiff(fn):
            return []
        rules = _rules()
        tpl = rules.lookup(fn) if fn is not None else None
        if tpl is None:
            what = _describe_fn(fn, st.node)
            how = f"`@runtime.rules.adjoint({what})` on a template" if fn is not None else \
                "a template in runtime.rules"
            raise TranspileError(
                f"no derivative rule for {what}, which is called with a differentiable argument. "
                f"Register one with {how}, or wrap the argument in `tp.stop_gradient(...)` if no "
                f"gradient should flow through it", self.location(stmt))
        t = templates.template(tpl)
        what = _describe_fn(fn, st.node)
        binding = t.bind(what, st.args, st.keywords, self.location(stmt))
        out = t.instantiate(self, g, ans, binding, stmt)
        for s in out:
            sweep.relocate(s, stmt)
        if sweep.summed_template(tpl):
            for s in out:   # lazy operands take the cotangent unsummed (see lazy_operands)
                v = s.value if isinstance(s, gast.Assign) else None
                if isinstance(v, gast.BinOp) and isinstance(v.right, gast.Call) \
                        and sweep.is_helper(v.right, "unbroadcast") and isinstance(v.right.args[1], gast.Name) \
                        and v.right.args[1].id in self.lazy \
                        and s.targets[0].id == self.bars.get(v.right.args[1].id):
                    v.right = v.right.args[0]
        return out

    def setitem(self, stmt):
        target = stmt.targets[0]
        base = target.value.id
        value = stmt.value
        self.save_sites += 1
        pre = self.loop_info[-1][1] if self.loop_info and self.loop_info[-1][0] == self.path else None
        site = (target.slice, self.save_sites, self.loop_depth > 0, pre)
        fwd = [self.marker("save_sub", base, stmt, site), stmt]
        restore = [self.marker("load_sub", base, stmt, site)]
        if base not in self.active:
            return fwd, restore
        self.note(base)
        b = self.bar(base)
        adj = []
        index = copy.deepcopy(target.slice)
        # an index that may be an array (a mask of several axes, which Numba's own indexing
        # cannot take) reads and writes the cotangent as the user's line does: marked for the
        # `checks` pass (last, after every derivative layer: forward mode over this code still
        # sees a subscript)
        masked = base not in self.seqs and _may_repeat(index, self.int_names())

        def take(ix):
            sub = gast.Subscript(value=A.name(b), slice=ix, ctx=gast.Load())
            sub.tp_check = masked
            return sub

        def put(ix, v):
            sub = gast.Subscript(value=A.name(b), slice=ix, ctx=gast.Store())
            sub.tp_check = masked
            return A.assign(sub, v)

        if isinstance(value, gast.Name) and value.id == base:
            # `y[idx] = y` (the old y, whole): y's cotangent at idx goes to the value after the
            # part the write overwrote is cleared
            part = self.fresh("_part")
            adj.append(A.located(A.assign(part, A.call(self.helper("runtime.tape", "save"),
                                                       [take(copy.deepcopy(index))])), stmt))
            adj.append(A.located(put(copy.deepcopy(index), A.const(0.0)), stmt))
            contrib = A.call(self.helper("runtime.adjoint", "unbroadcast"), [A.name(part), A.name(base)])
            adj.append(A.located(self.accumulate(base, contrib), stmt))
            return fwd, adj + restore
        if isinstance(value, gast.Name) and value.id in self.active:
            if base not in self.seqs and _may_repeat(index, self.int_names()):
                # `y[idx] = v` with an index array that may repeat: NumPy keeps the last write,
                # so an earlier duplicate's value reaches nothing.
                part = A.call(self.helper("runtime.adjoint", "setitem_cotangent"),
                              [A.name(b), _index_value(index)])
            else:
                part = take(copy.deepcopy(index))
            contrib = A.call(self.helper("runtime.adjoint", "unbroadcast"), [part, A.name(value.id)])
            adj.append(A.located(self.accumulate(value.id, contrib), stmt))
        if base in self.seqs:
            zero = A.assign(b, A.call(self.helper("runtime.adjoint", "zero_item"),
                                      [A.name(b), _index_value(index)]))
        else:
            zero = put(index, A.const(0.0))
        adj.append(A.located(zero, stmt))
        return fwd, adj + restore


def _at_add():
    return at.at_add


def _may_repeat(index, ints=()):
    """Whether an index may hold an integer array (whose entries may repeat)."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return not all(isinstance(p, (gast.Slice, gast.Constant)) or isinstance(p, gast.Name) and p.id in ints
                   for p in parts)
