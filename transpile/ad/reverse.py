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

This module holds the driver: `ReverseAD`'s state, the cotangents' names and
their accumulation, what `run` learns of the body first (the variables assigned
more than once, the temporaries whose cotangent keeps a broadcast shape), the
assembly of the two sweeps (the output's seed, the zero initialisations, the
passes of `sweep`), the VJPs of called functions, and the entry points `run` and
`vjp_function`. `ReverseAD` inherits, as mixins, the adjoints of statements
(`reverse_statements`), of loops (`reverse_loops`), of lists and tuples
(`reverse_sequences`), and the tapes (`reverse_tapes`).
"""
import copy

import gast

from .. import astutil as A
from ..to_source import comment
from ..errors import TranspileError
from ..transforms import dce
from . import sweep
from ..transforms.alias import _params_written
from ..program import _Extra
from .analysis import ADContext, _rules
from .reverse_loops import LoopAdjoints
from .reverse_sequences import SequenceAdjoints
from .reverse_statements import StatementAdjoints
from .reverse_tapes import TapeMarkers


class ReverseAD(StatementAdjoints, LoopAdjoints, SequenceAdjoints, TapeMarkers, ADContext):
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

    # -- what run learns of the body first ---------------------------------------
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

    def lazy_operands(self, body):
        """Temporaries whose cotangent may keep the broadcast shape of its only use.

        `_t2 = a * b` read once, by `_t3 = _t2 - c` in the same block, where both are
        element-wise with every contribution summed by `unbroadcast` (binary arithmetic):
        `_t2_bar = _t3_bar` instead of `unbroadcast(_t3_bar, _t2)`. The sum happens once, at
        the first operand that is not such a temporary, which is the same sum (it is linear,
        and the factors of an element-wise rule are constant along broadcast axes). Saves the
        calls, and the tapes that kept temporaries only for their shapes."""
        defs, loads = sweep.name_counts(gast.walk(gast.Module(body=body, type_ignores=[])))
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

    # -- calls to user functions -------------------------------------------------
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
