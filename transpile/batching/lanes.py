"""Lanes: `jit(vmap(f))` of examples that are numbers, with the loop over the
examples moved inside f's own loops.

The per-example loop runs each example's whole computation in turn: a loop
of f (an ODE's time steps, a fixed number of iterations) is a chain of
dependent operations, one example after the other. Here f's loops run once
and each of their iterations runs every example, one after the other
("lanes"): the examples are independent, so the CPU overlaps them and LLVM
vectorizes across them. Each statement stays as written, on numbers; a
variable that carries an example's value from one loop over the examples to
another lives in an array with one slot per example (`x_lanes`):

    def f(k):                           def lanes_f(k_lanes, _n):
        x = 1.0                             batching.check_nonempty(_n)
        v = 0.0                             for _b in range(_n):
        for i in range(100):                    x = 1.0
            x = x + 0.1 * v                     v = 0.0
            v = v - 0.1 * k * x                 if _b == 0:
        return x                                    x_lanes = batching.number_lanes(x, _n)
                                                    v_lanes = batching.number_lanes(v, _n)
                                                x_lanes[_b] = x
                                                v_lanes[_b] = v
                                            for i in range(100):
                                                for _b in range(_n):
                                                    k = k_lanes[_b]
                                                    x = x_lanes[_b]
                                                    v = v_lanes[_b]
                                                    x = x + 0.1 * v
                                                    v = v - 0.1 * k * x
                                                    batching.set_lane(x_lanes, _b, x)
                                                    batching.set_lane(v_lanes, _b, v)
                                            return x_lanes

Statements whose values do not depend on the example (`i`, a step size)
stay outside the loops over the examples and run once, as in the vectorized
strategy; control flow that depends on the example (`if x > 0`, a `while`
on a value) stays inside them, example by example. A `while` on the
example's values whose body only computes values runs masked over blocks of
examples instead (batching/masked.py: JAX's vmap of `while_loop`). A call of
a user function that itself has such a loop calls its lanes version.
Slot arrays are batching/slots.py; which names a loop over the examples
reads and assigns, batching/flow.py.

Only under Numba (the loops over examples are compiled) and only where every
example is a number. A slot array holds numbers only and a store never
casts (`set_lane`): when a variable's type changes, or one example's value
is an array, Numba's typing fails and the vmap falls back to the
per-example loop (transpile/vmap_mode.py, `Batched`). `NotLanes` says why the lanes
form does not apply (the per-example loop runs then).
"""
import builtins
import copy

import gast
import numpy as np

from .. import astutil as A
from ..program import generated
from ..resolve import resolve_static
from . import analysis as An
from . import loop, masked
from .flow import escapes_loop, flow, loads, targets
from .slots import NotLanes, Slots


_PURE_BUILTINS = {"abs", "min", "max", "float", "int", "bool", "complex", "round", "len"}


class _Run:
    """Consecutive statements that depend on the example: one loop over the examples."""

    def __init__(self):
        self.stmts = []
        self.sunk = []          # statements that do not, moved after the loop

    def reads(self):
        return set().union(*(loads(s) for s in self.stmts))


class _Call:
    """`y = g(args)` where g has a lanes form: called once on the slot arrays."""

    def __init__(self, stmt, callee):
        self.stmt = stmt
        self.callee = callee    # the lanes `GeneratedFunction` of g


class _Compound:
    """A loop or `if` whose test does not depend on the example, with its blocks planned."""

    def __init__(self, stmt, body, orelse):
        self.stmt = stmt
        self.body = body
        self.orelse = orelse


class _Masked:
    """A `while` whose test depends on the example, run masked (batching/masked.py)."""

    def __init__(self, stmt):
        self.stmt = stmt


class _Scope:
    """Slot arrays at a point of the generated code: `exists` may be bound
    there, `writable` are bound on every path and owned by the function."""

    def __init__(self, exists, writable):
        self.exists = set(exists)
        self.writable = set(writable)

    def inner(self):
        return _Scope(self.exists, self.writable)


class Lanes(Slots):
    """The lanes version of one function for one pattern of batched parameters
    (every parameter a number per example or unbatched)."""

    def __init__(self, program, spec, pattern, registry, batching, analysis):
        self.program = program
        self.spec = spec
        self.pattern = pattern
        self.registry = registry
        self.bt = batching
        self.analysis = analysis
        self.node = spec.node
        self.params = [a.id for a in self.node.args.args]
        self.names = loop.Emitter(set(getattr(spec, "locals", set())) | A.names_in(self.node) | set(self.params))
        self.slots = {}         # batched variable -> its slot array's name
        self.trees = {}         # variable bound to a lanes call's result -> the result's abstract tree
        self.interchanges = False   # a loop over the examples inside a loop of f (or of a callee)

    # -- names ----------------------------------------------------------------
    def fresh(self, base):
        return self.names.fresh(base)

    def slot(self, var):
        if var not in self.slots:
            self.slots[var] = self.fresh(f"{var.lstrip('_')}_lanes" if var.startswith("_") else f"{var}_lanes")
        return self.slots[var]

    def batched(self, var):
        return An.any_batched(self.env.get(var))

    def helper(self, name):
        return A.attr(A.name(self.bt), name)

    # -- driver ---------------------------------------------------------------
    def run(self, gen_name):
        summary = self.analysis.function(self.spec, self.pattern)
        if summary is None:
            raise NotLanes("recursion")
        self.summary = summary
        self.env = summary.env
        assigned = A.names_in(self.node, gast.Store)
        self.assigned = assigned
        for n in gast.walk(self.node):
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "print" \
                    and "print" not in assigned | set(self.params):
                raise NotLanes("it prints (the per-example loop keeps the order of the output)")
        for p in self.params:
            if isinstance(self.pattern.get(p), An.Tup):
                raise NotLanes(f"tuple parameter {p}")
        self.n = self.fresh("_n")
        self.b = self.fresh("_b")
        plan = self.plan(self.node.body, in_loop=False)
        self.exposed = self.exposed_all(plan)
        batched_params = [p for p in self.params if self.batched(p)]
        for p in batched_params:
            self.slot(p)
        # a parameter that the function assigns gets its own slots (an input is never written)
        written = [p for p in batched_params if p in assigned]
        prologue = [A.assign(self.slots[p], A.call(self.helper("copy_lanes"), [A.name(self.slots[p])]))
                    for p in written]
        scope = _Scope(batched_params, written)
        body = prologue + self.emit(plan, scope)
        self.allocates = any(isinstance(n, gast.Attribute) and n.attr == "number_lanes" for s in body
                             for n in gast.walk(s))
        if self.allocates:
            body.insert(0, A.expr_stmt(A.call(self.helper("check_nonempty"), [A.name(self.n)])))
        node = copy.copy(self.node)
        node.body = [A.located(s, self.node) if not hasattr(s, "lineno") else s for s in body] or [gast.Pass()]
        node.args = copy.copy(self.node.args)
        node.args.args = [A.param(self.slots[p] if self.batched(p) else p) for p in self.params] \
            + [A.param(self.n)]
        node.name = gen_name
        node.decorator_list = []
        return node

    # -- planning: which statements run once, which once per example ----------
    def kind(self, s):
        if isinstance(s, gast.Return):
            return "return"
        if isinstance(s, gast.Pass):
            return "pass"
        if isinstance(s, (gast.If, gast.While, gast.For)):
            return "batched" if any(s is c for c in self.summary.control) else "compound"
        if isinstance(s, (gast.Assign, gast.Expr)):
            names = loads(s) | (targets(s) if isinstance(s, gast.Assign) else set())
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript):
                names |= A.names_in(s.targets[0])
            if any(self.batched(v) for v in names):
                return "batched"
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and self.pure(s.value):
                return "plain"
            self.check_once(s)
        elif any(self.batched(v) for v in A.names_in(s)):       # raise, assert, ... on an example's values
            return "batched"
        return "fixed"

    def pure(self, value):
        """True if evaluating `value` has no effect but its result (calls of
        NumPy's ufuncs, `math` and numeric builtins only): it may move."""
        for n in gast.walk(value):
            if isinstance(n, gast.Call):
                fn = resolve_static(self.program, n.func, lambda name: name not in self.assigned
                                    and name in _PURE_BUILTINS)
                if not (isinstance(fn, np.ufunc) or getattr(fn, "__module__", None) == "math"
                        or (fn is not None and getattr(builtins, getattr(fn, "__name__", ""), None) is fn
                            and fn.__name__ in _PURE_BUILTINS)):
                    return False
        return True

    def check_once(self, s):
        """A statement that does not depend on the example runs once, not once per
        example: that is the same unless it changes an argument in place."""
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript):
            base = s.targets[0].value
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
                and isinstance(s.value.func, gast.Attribute):
            base = s.value.func.value
        else:
            return
        modules = set(self.program.imports.values())
        if isinstance(base, gast.Name) and base.id not in modules \
                and (base.id in self.params or base.id not in self.assigned):
            raise NotLanes(f"it may change {base.id} in place (once, not once per example)")

    def plan(self, stmts, in_loop):
        items, run = [], None

        def close():
            nonlocal run
            if run is not None:
                items.append(run)
                items.extend(("stmt", s) for s in run.sunk)
                run = None

        for s in stmts:
            k = self.kind(s)
            if k == "pass":
                continue
            if k == "batched":
                call = self.lanes_call(s)
                if call is not None or (isinstance(s, gast.While) and masked.maskable(self, s)):
                    close()
                    items.append(call or _Masked(s))
                    self.interchanges = True
                    continue
                if run is not None and run.sunk and loads(s) & set().union(*(targets(u) for u in run.sunk)):
                    close()
                if run is None:
                    run = _Run()
                run.stmts.append(s)
                if in_loop:
                    self.interchanges = True
                continue
            if k == "plain" and run is not None:
                if not run.sunk and not (run.reads() & targets(s)):
                    items.append(("stmt", s))           # hoisted: the loop over the examples does not read it
                else:
                    run.sunk.append(s)
                continue
            close()
            if k == "compound":
                loop = in_loop or isinstance(s, (gast.For, gast.While))
                items.append(_Compound(s, self.plan(s.body, loop), self.plan(s.orelse, loop)))
            elif k == "return":
                items.append(("return", s))
            else:
                items.append(("stmt", s))
        close()
        for item in items:
            if isinstance(item, _Run):
                self.check_run(item)
        return items

    def check_run(self, run):
        for s in run.stmts:
            if any(isinstance(n, gast.Return) for n in gast.walk(s)):
                raise NotLanes("a return that depends on the example")
        if escapes_loop(run.stmts):
            raise NotLanes("a break or continue that depends on the example")

    def lanes_call(self, s):
        """A `_Call` if `s` calls a user function that has a lanes form worth calling."""
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Call) and isinstance(s.value.func, gast.Name)
                and not s.value.keywords):
            return None
        callee = self.analysis.callee_of(s.value.func)
        if callee is None or len(s.value.args) != len(callee.node.args.args):
            return None
        pattern = {}
        for p, a in zip((x.id for x in callee.node.args.args), s.value.args):
            if isinstance(a, gast.Name):
                v = self.env.get(a.id)
                if isinstance(v, An.Tup) and An.any_batched(v):
                    return None
                pattern[p] = An.Leaf(An.any_batched(v))
            elif isinstance(a, gast.Constant):
                pattern[p] = An.Leaf(False)
            else:
                return None
        try:
            extra = lanes_function(self.program, callee, pattern, self.registry, self.bt, self.analysis)
        except NotLanes:
            return None
        self.interchanges = True
        if isinstance(extra.lanes_result, An.Tup):
            self.trees[s.targets[0].id] = extra.lanes_result
        return _Call(s, extra)

    def exposed_all(self, plan):
        """Batched variables read where the loop over the examples that
        assigned them is not: they need slot arrays."""
        out = set()

        def walk(items):
            for item in items:
                if isinstance(item, _Run):
                    out.update(flow(item.stmts)[0])
                elif isinstance(item, _Call):
                    out.update(loads(item.stmt.value))
                elif isinstance(item, _Masked):
                    out.update(flow([item.stmt])[0])
                elif isinstance(item, _Compound):
                    walk(item.body)
                    walk(item.orelse)
                elif item[0] == "return" and item[1].value is not None:
                    out.update(loads(item[1].value))
        walk(plan)
        return {v for v in out if self.batched(v)}

    # -- emission -------------------------------------------------------------
    def emit(self, plan, scope):
        out = []
        for item in plan:
            if isinstance(item, _Run):
                out.extend(self.emit_run(item, scope))
            elif isinstance(item, _Call):
                out.append(self.emit_call(item, scope))
            elif isinstance(item, _Masked):
                exposed, _, assigned = flow([item.stmt])
                out.extend(masked.emit(self, item.stmt, scope, exposed, assigned))
            elif isinstance(item, _Compound):
                s = copy.copy(item.stmt)
                inner = scope.inner()
                s.body = self.emit(item.body, inner) or [gast.Pass()]
                other = scope.inner()
                s.orelse = self.emit(item.orelse, other)
                scope.exists |= inner.exists | other.exists      # maybe bound after it: readable only
                out.append(s)
            elif item[0] == "return":
                out.append(self.emit_return(item[1]))
            else:
                out.append(copy.deepcopy(item[1]))
        return out

def lanes_function(program, spec, pattern, registry, batching, analysis):
    """The `GeneratedFunction` lanes version of `spec` for this pattern (memoised);
    raises NotLanes."""
    key = ("lanes", spec.gen_name, tuple(sorted(pattern.items(), key=lambda kv: kv[0])))

    def build(name):
        lanes = Lanes(program, spec, pattern, registry, batching, analysis)
        node = lanes.run(name)
        if not lanes.interchanges:
            raise NotLanes("no loop of the function runs the examples (the per-example loop is the same)")

        def fill(extra):
            extra.locals = lanes.names.taken
            extra.vec_result = lanes.summary.result if lanes.summary.result is not None else An.Leaf(False)
            extra.lanes_result = extra.vec_result
            if not any(isinstance(n, gast.Subscript) and not getattr(n, "in_bounds", False)
                       for n in gast.walk(node)):
                extra.numba_options = {"boundscheck": False}    # only slot arrays are indexed, in bounds
        return node, fill

    return generated(program, spec, registry, key, f"lanes_{spec.gen_name}", NotLanes, build)


def scalar_examples(params, axes, ranks):
    """True if every parameter is a number in each example (mapped at an
    int axis, or unmapped), the condition for the lanes form."""
    for p in params:
        if isinstance(axes.get(p), tuple) or ranks.get(p) != 0:
            return False
    return True
