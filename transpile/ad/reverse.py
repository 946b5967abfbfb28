"""Reverse mode: a forward sweep that keeps what the adjoint needs, then the
adjoint sweep, in one generated function (Tangent-style).

    def f(x, w):                        def grad_f(x, w):
        z = x * w                           # forward sweep
        return np.sin(z)                    z = x * w
                                            _t1 = np.sin(z)
                                            # adjoint sweep
                                            _t1_bar = tape.grad_seed(_t1)
                                            z_bar = _t1_bar * np.cos(z)
                                            x_bar = ... + adjoint.unbroadcast(z_bar * w, x)
                                            return _t1, (x_bar,)

The invariant that makes control flow work: *when the adjoint of a statement
runs, every variable holds the value it had just after that statement ran in
the forward sweep.* So the adjoint of `if t:` is `if t:` over the branches'
adjoints, and the adjoint of a loop runs its body's adjoint once per trip
(the forward counts trips). A variable assigned more than once (or in a
loop) whose value the adjoint reads is pushed on its own stack after each
assignment and restored from it after that assignment's adjoint; a value
overwritten in place (`y[i] = v`) is saved before the write and written
back after its adjoint. Nothing is unrolled.

Adjoints are named `x_bar`, start as `zeros_like(x)` at the start of the
adjoint of the innermost block holding all of `x`'s definitions and uses,
and accumulate `x_bar = x_bar + e` (fresh arrays, so in-place adjoint
updates such as `y_bar[i] = 0.0` never alias). Calls to user functions call
their own generated VJP (`vjp_g`), which recomputes `g`'s forward sweep.
"""
import copy

import gast

from .. import astutil as A
from ..to_source import comment
from ..errors import TranspileError
from ..transforms import dce
from . import sweep, templates
from ..transforms.alias import _params_written
from ..program import _Extra
from ..resolve import _describe_fn
from .analysis import _is_check, ADContext, _index_value, _may_write, _rules, _what
from runtime import at
from .reverse_loops import LoopAdjoints
from .reverse_sequences import SequenceAdjoints
from .reverse_tapes import TapeMarkers


class ReverseAD(LoopAdjoints, SequenceAdjoints, TapeMarkers, ADContext):
    """Generates the VJP (or grad) function of one specialized function."""

    def __init__(self, program, spec, active_params, mode, registry, has_aux=False):
        super().__init__(program, spec, active_params)
        self.mode = mode                    # 'grad' or 'vjp'
        self.has_aux = has_aux
        self.registry = registry            # (spec key, active) -> gen name; shared by a program
        self.bars = {}                      # var -> bar name
        self.occ = {}                       # var -> list of block paths
        self.block_adj = {}                 # block path -> adjoint statement list
        self.path = ()
        self.loop_depth = 0
        self.stacks = []                    # stack names to create, in order
        self.multi = set()
        self.counter_names = set()
        self.modules = set(program.imports.values())
        self.save_sites = 0
        self.copied_params = set()
        self.loop_info = []                 # (body path, preallocation info or None), innermost last
        self.loop_pre = {}                  # loop-local var -> preallocation info of its loop
        self.loop_local = {}                # var -> 'recompute' | 'pop' (see plan_loop_locals)
        self.shape_only = set()             # taped vars the adjoint reads only for shape and type
        self.lazy = set()                   # temporaries whose cotangent keeps a broadcast shape

    def bar(self, var):
        name = self.bars.get(var)
        if name is None:
            name = f"{var}_bar"
            while name in self.locals:
                name += "_"
            self.locals.add(name)
            self.bars[var] = name
        return name

    def note(self, var):
        self.occ.setdefault(var, []).append(self.path)

    def accumulate(self, var, value):
        self.note(var)
        b = self.bar(var)
        if var in self.seqs:    # a list's cotangent: one entry per element
            return A.assign(b, A.call(self.helper("runtime.adjoint", "add_seq"), [A.name(b), value]))
        return A.assign(b, gast.BinOp(left=A.name(b), op=gast.Add(), right=value))

    def count_assignments(self, body, in_loop=False, counts=None):
        counts = {} if counts is None else counts
        for stmt in body:
            if isinstance(stmt, gast.Assign):
                for t in stmt.targets:
                    if isinstance(t, gast.Subscript):
                        continue
                    for m in gast.walk(t):
                        if isinstance(m, gast.Name):
                            counts[m.id] = counts.get(m.id, 0) + (2 if in_loop else 1)
            elif isinstance(stmt, gast.If):
                # Exclusive branches: a path assigns at most the larger count.
                cb = self.count_assignments(stmt.body, in_loop, {})
                co = self.count_assignments(stmt.orelse, in_loop, {})
                for v in set(cb) | set(co):
                    counts[v] = counts.get(v, 0) + max(cb.get(v, 0), co.get(v, 0))
            elif isinstance(stmt, (gast.For, gast.While)):
                if isinstance(stmt, gast.For):
                    counts[stmt.target.id] = counts.get(stmt.target.id, 0) + 2
                self.count_assignments(stmt.body, True, counts)
        return counts

    def needs_reset(self, body):
        """Variables whose adjoint must be zeroed after each definition's adjoint: those
        assigned more than once in one run of the innermost block holding them."""
        blocks, occ = {}, {}

        def walk(stmts, path):
            blocks[path] = stmts
            for k, stmt in enumerate(stmts):
                subs = []
                if isinstance(stmt, gast.If):
                    subs = [(stmt.body, (k, "body")), (stmt.orelse, (k, "orelse"))]
                    heads = [stmt.test]
                elif isinstance(stmt, (gast.For, gast.While)):
                    subs = [(stmt.body, (k, "loop"))]
                    heads = [stmt.iter if isinstance(stmt, gast.For) else stmt.test]
                    if isinstance(stmt, gast.For):
                        occ.setdefault(stmt.target.id, []).append(path + ((k, "loop"),))
                else:
                    heads = [stmt]
                for h in heads:
                    for n in gast.walk(h):
                        if isinstance(n, gast.Name):
                            occ.setdefault(n.id, []).append(path)
                for sub, tag in subs:
                    walk(sub, path + (tag,))

        walk(body, ("root",))
        params = set(self.spec.dyn_params) | set(self.spec.hidden_names()) | set(self.active_params)
        out = set()
        for var, paths in occ.items():
            common = A.common_prefix(paths)
            # A parameter's binding at the call is a definition too: `x = g(x)` anywhere
            # in the body is its second one, and the adjoint of the parameter's own uses
            # must not receive the cotangent of the rebound `x`.
            is_param = var in params
            if is_param:
                common = ("root",)
            if self.count_assignments(blocks[common]).get(var, 0) + is_param > 1:
                out.add(var)
        return out

    # -- driver --------------------------------------------------------------
    def run(self, gen_name):
        node = self.node
        self.split_tuples(node.body)
        self.path = ("root",)
        for p in self.active_params:
            self.note(p)
        self.seqs = self.sequences(node.body)
        self.hoist_displays(node.body)
        self.active = self.activity(node.body, lists=True)
        self.lazy = self.lazy_operands(node.body)
        counts = self.count_assignments(node.body)
        self.multi = {v for v, c in counts.items() if c > 1}
        self.reset = self.needs_reset(node.body)
        # Parameters written in place are copied first: the caller's arrays stay as they were.
        written = {t.value.id for n in gast.walk(node) if isinstance(n, gast.Assign)
                   for t in n.targets if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name)}
        written |= _params_written(self.program, self.spec)     # through views and helpers too
        prologue, pushes = [], []
        for p in self.spec.dyn_params:
            if p in counts:     # a reassigned parameter: its first value goes on its tape too
                self.multi.add(p)
                pushes.append(self.marker("push", p, node.body[0]))
            if p in written:
                self.copied_params.add(p)
                prologue.append(A.located(A.assign(p, A.call(self.helper("runtime.tape", "save"), [A.name(p)])),
                                          node.body[0]))
        prologue += pushes
        body = node.body
        ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
        if ret is not None:
            body = body[:-1]
        self.path = ("root",)
        fwd, adj = self.block(body)
        root_adj = adj
        self.block_adj[("root",)] = root_adj
        seed, result = self.seed(ret)
        adj_all = seed + root_adj
        self.block_adj[("root",)] = adj_all
        out_bars = [A.name(self.bar(p)) for p in self.active_params]
        for p in self.active_params:
            self.bar(p)
        self.insert_inits(ret)
        adj_all = self.block_adj[("root",)]
        if self.mode == "grad":
            final = gast.Return(value=A.tuple_([result, A.tuple_(out_bars)]))
        else:
            final = gast.Return(value=A.tuple_(out_bars))
        final = A.located(final, ret or node.body[-1] if node.body else node)
        sentinel = A.expr_stmt(A.name("__adjoint__"))
        full = prologue + fwd + [sentinel] + adj_all + [final]
        full, _ = dce.block(full, set())
        cut = next(i for i, s in enumerate(full) if s is sentinel)
        fwd, adj = full[:cut], full[cut + 1:]
        self.plan_loop_locals(fwd, adj, sweep.reads(adj))
        self.place_tops(adj)
        reads = sweep.reads(adj)
        self.shape_only = {v for v in reads if v in self.multi} - sweep.value_reads(adj)
        fwd = self.materialize(fwd, reads)
        adj = self.materialize(adj, reads)
        fwd = sweep.fuse(fwd, sweep.reads(adj))
        adj = sweep.fuse(adj, set())
        # Stacks are created first.
        stacks = [A.assign(s, gast.List(elts=[], ctx=gast.Load())) for s in self.stacks]
        node.body = [comment("forward sweep")] + stacks + fwd + [comment("adjoint sweep")] + adj
        for n in gast.walk(gast.Module(body=node.body, type_ignores=[])):
            if getattr(n, "tp_noline", False):
                n.lineno = None     # statements inside a generated `if`: one comment, above it
        node.name = gen_name
        params = list(self.spec.dyn_params) + self.spec.hidden_names()
        if self.mode == "vjp":
            params.append("_g")
        node.args.args = [A.param(p) for p in params]
        node.decorator_list = []
        return node

    def seed(self, ret):
        """Adjoint statements seeding the output's cotangent; the forward result."""
        if ret is None or ret.value is None:
            return [], A.const(None)
        value = ret.value
        outs = value.elts if isinstance(value, gast.Tuple) else [value]
        stmts = []
        if self.mode == "grad":
            first = outs[0]
            if self.has_aux and not isinstance(value, gast.Tuple):
                raise TranspileError("has_aux=True needs the function to return a pair (output, aux)",
                                     self.location(ret))
            if isinstance(first, gast.Name):
                self.note(first.id)
                seed_value = A.call(self.helper("runtime.tape", "grad_seed"), [A.name(first.id)])
                if first.id in self.active:
                    stmts.append(A.located(self.accumulate(first.id, seed_value), ret))
                else:
                    stmts.append(A.located(A.expr_stmt(seed_value), ret))
            result = A.name(self.capture_result(value, ret))
            return stmts, result
        if self.has_aux:        # (out, aux): the cotangent is out's alone
            if not isinstance(value, gast.Tuple) or len(outs) != 2:
                raise TranspileError("has_aux=True needs the function to return a pair (output, aux)",
                                     self.location(ret))
            outs, gs = outs[:1], [A.name("_g")]
        else:
            gs = [A.name("_g")] if not isinstance(value, gast.Tuple) else [
                gast.Subscript(value=A.name("_g"), slice=A.const(k), ctx=gast.Load()) for k in range(len(outs))]
        for out, g in zip(outs, gs):
            if isinstance(out, gast.Name) and out.id in self.active:
                save = A.call(self.helper("runtime.tape", "save"), [g])
                stmts.append(A.located(self.accumulate(out.id, save), ret))
        return stmts, A.const(None)

    def capture_result(self, value, ret):
        name = self.fresh("_value")
        self._result_stmt = A.located(A.assign(name, value), ret)
        return name

    def insert_inits(self, ret):
        """`x_bar = zeros_like(x)` at the start of the innermost block holding x's uses."""
        for var, bar in self.bars.items():
            for common in self.init_blocks(self.occ.get(var, [("root",)])):
                zeros = "zeros_like_list" if var in self.seqs else "zeros_like"
                init = A.assign(bar, A.call(self.helper("runtime.adjoint", zeros), [A.name(var)]))
                self.block_adj[common].insert(0, init)
        bars = set(self.bars.values())
        aliases = sweep.Aliases(self.block_adj[("root",)], bars)
        param_bars = {self.bars[p] for p in self.active_params if p in self.bars}
        for stmts in self.block_adj.values():
            sweep.prune_inits(stmts, bars, aliases, param_bars)
        if getattr(self, "_result_stmt", None) is not None:
            self.block_adj[("root",)].insert(0, self._result_stmt)

    def init_blocks(self, paths):
        """The adjoint blocks where a cotangent starts at zero: the innermost block holding
        all of the variable's uses and definitions; or, when they all lie in the exclusive
        branches of one `if` below it, one start in each branch (there the variable is bound:
        after a `break` in the same trip, the block above may run where it never was)."""
        common = A.common_prefix(paths)
        while common not in self.block_adj:
            common = common[:-1]
        n = len(common)
        children = {p[n] for p in paths if len(p) > n}
        if all(len(p) > n for p in paths) and len(children) >= 2 \
                and len({c[0] for c in children}) == 1 and {c[1] for c in children} <= {"body", "orelse"} \
                and all(common + (c,) in self.block_adj for c in children):
            out = []
            for c in sorted(children, key=str):
                out.extend(self.init_blocks([p for p in paths if p[n] == c]))
            return out
        return [common]

    # -- blocks and statements ---------------------------------------------------
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

    def lazy_operands(self, body):
        """Temporaries whose cotangent may keep the broadcast shape of its only use.

        `_t2 = a * b` read once, by `_t3 = _t2 - c` in the same block, where both are
        element-wise with every contribution summed by `unbroadcast` (binary arithmetic):
        `_t2_bar = _t3_bar` instead of `unbroadcast(_t3_bar, _t2)`. The sum happens once, at
        the first operand that is not such a temporary, which is the same sum (it is linear,
        and the factors of an element-wise rule are constant along broadcast axes). Saves the
        calls, and the tapes that kept temporaries only for their shapes."""
        defs, loads = {}, {}
        for n in gast.walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(n, gast.Name):
                if isinstance(n.ctx, gast.Store):
                    defs[n.id] = defs.get(n.id, 0) + 1
                elif isinstance(n.ctx, gast.Load):
                    loads[n.id] = loads.get(n.id, 0) + 1
        params = set(self.spec.dyn_params) | set(self.spec.hidden_names())
        out = set()

        def summed(value):
            st = self.classify(value)
            if st.kind != "rule" or st.fn is None:
                return False
            tpl = _rules().lookup(st.fn)
            return tpl is not None and sweep.summed_template(tpl)

        def walk(stmts):
            for j, st in enumerate(stmts):
                for field in ("body", "orelse"):
                    inner = getattr(st, field, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                        walk(inner)
                if not (isinstance(st, gast.Assign) and len(st.targets) == 1
                        and isinstance(st.targets[0], gast.Name)):
                    continue
                v = st.targets[0].id
                if defs.get(v) != 1 or loads.get(v) != 1 or v in params or not summed(st.value):
                    continue
                for later in stmts[j + 1:]:
                    if isinstance(later, gast.Assign) and v in A.names_in(later.value, gast.Load) \
                            and summed(later.value):
                        out.add(v)
                        break

        walk(body)
        return out

    def call_vjp(self, st, g, stmt):
        callee = st.callee
        params = callee.dyn_params
        nd = len(params)
        active = tuple(k for k, a in enumerate(st.args[:nd]) if isinstance(a, gast.Name) and a.id in self.active)
        if not active:
            return []
        name = vjp_function(self.program, callee, active, self.registry)
        res = self.fresh("_vjp")
        call = A.call(A.name(name), [copy.deepcopy(a) for a in st.args] + [g])
        out = [A.located(A.assign(res, call), stmt)]
        for j, k in enumerate(active):
            part = gast.Subscript(value=A.name(res), slice=A.const(j), ctx=gast.Load())
            out.append(A.located(self.accumulate(st.args[k].id, part), stmt))
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
        if isinstance(value, gast.Name) and value.id == base:
            # `y[idx] = y` (the old y, whole): y's cotangent at idx goes to the value after the
            # part the write overwrote is cleared
            part = self.fresh("_part")
            take = gast.Subscript(value=A.name(b), slice=copy.deepcopy(index), ctx=gast.Load())
            adj.append(A.located(A.assign(part, A.call(self.helper("runtime.tape", "save"), [take])), stmt))
            adj.append(A.located(A.assign(gast.Subscript(value=A.name(b), slice=copy.deepcopy(index),
                                                         ctx=gast.Store()), A.const(0.0)), stmt))
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
                part = gast.Subscript(value=A.name(b), slice=copy.deepcopy(index), ctx=gast.Load())
            contrib = A.call(self.helper("runtime.adjoint", "unbroadcast"), [part, A.name(value.id)])
            adj.append(A.located(self.accumulate(value.id, contrib), stmt))
        if base in self.seqs:
            zero = A.assign(b, A.call(self.helper("runtime.adjoint", "zero_item"),
                                      [A.name(b), _index_value(index)]))
        else:
            zero = A.assign(gast.Subscript(value=A.name(b), slice=index, ctx=gast.Store()), A.const(0.0))
        adj.append(A.located(zero, stmt))
        return fwd, adj + restore


def _at_add():
    return at.at_add


def _may_repeat(index, ints=()):
    """Whether an index may hold an integer array (whose entries may repeat)."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return not all(isinstance(p, (gast.Slice, gast.Constant)) or isinstance(p, gast.Name) and p.id in ints
                   for p in parts)


def vjp_function(program, spec, active, registry):
    """Name of the generated VJP of `spec` for these active parameter positions."""
    key = (spec.key, active)
    if key in registry:
        return registry[key][0]
    base = f"vjp_{spec.gen_name}"
    name = base
    i = 1
    taken = {v[0] for v in registry.values()} | {s.gen_name for s in program.functions} \
        | {e.gen_name for e in getattr(program, "extra", ())} | program.names
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    registry[key] = (name, None)
    ad = ReverseAD(program, spec, [spec.dyn_params[k] for k in active], "vjp", registry)
    node = ad.run(name)
    registry[key] = (name, node)
    program.extra.append(_Extra(spec, name, node))
    return name


def run(program, argnums_names, mode="grad", has_aux=False, base=None, registry=None):
    """Add the grad (or VJP) function of the program's entry (or of `base`)."""
    registry = {} if registry is None else registry
    if not hasattr(program, "extra"):
        program.extra = []
    entry = base or program.entry
    name = f"{'grad' if mode == 'grad' else 'vjp'}_{entry.gen_name}"
    taken = {s.gen_name for s in program.functions} | {e.gen_name for e in program.extra} | program.names
    stem, i = name, 1
    while name in taken:
        i += 1
        name = f"{stem}_{i}"
    ad = ReverseAD(program, entry, argnums_names, mode, registry, has_aux)
    node = ad.run(name)
    grad = _Extra(entry, name, node)
    program.extra.append(grad)
    return grad
