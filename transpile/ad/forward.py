"""Forward mode: tangent statements beside the primal ones, in one pass.

    def f(x, w):                        def jvp_f(x, w, x_dot):
        z = x * w                           z = x * w
        return np.sin(z)                    z_dot = x_dot * w
                                            _t1 = np.sin(z)
                                            _t1_dot = z_dot * np.cos(z)
                                            return (_t1, _t1_dot)

Every active variable `x` (one that depends on a differentiated parameter)
has a tangent `x_dot` that is updated right after `x`: control flow stays
as it is (the tangent of an `if` is the `if` over the branches' tangents),
nothing is taped. An active variable assigned a constant gets a zero
tangent. In-place writes `y[i] = v` write `y_dot[i] = v_dot`; views
(`x[a:b]`, `.T`, `reshape`) of tangents mirror the primal's views, so a
write through a view updates the tangent it views, as in the primal.

Tangent rules come from `runtime.rules` (`@tangent` templates, or derived
from pointwise adjoint templates); calls to other generated functions call
their own `jvp_g`. The input is ANF (see transforms/anf.py); generated code
(a gradient, a Jacobian wrapper) is itself valid input, which is how
`grad(grad(f))` and `hessian` work: forward mode over reverse mode.
"""
import copy

import gast

from .. import astutil as A
from ..errors import TranspileError
from . import templates
from ..transforms.alias import _params_written
from ..program import _Extra
from ..resolve import _describe_fn
from .analysis import _is_check, ADContext, _may_write, _what
from runtime import tape

_LIST_METHODS = {"append", "pop"}


class ForwardAD(ADContext):
    """Generates the JVP function of one generated function."""

    def __init__(self, program, spec, active_params, registry, entry=False):
        super().__init__(program, spec, active_params)
        self.registry = registry
        self.entry = entry          # called by the user or a wrapper: copy what it writes
        self.dots = {}

    # -- names -------------------------------------------------------------
    def dot(self, var):
        name = self.dots.get(var)
        if name is None:
            name = f"{var}_dot"
            while name in self.locals:
                name += "_"
            self.locals.add(name)
            self.dots[var] = name
        return name

    def zero(self, node):
        return A.call(self.helper("runtime.adjoint", "zeros_like"), [copy.deepcopy(node)])

    def tangent_of(self, node):
        """The tangent of an atom, a tuple or a list display (zeros where constant)."""
        if isinstance(node, gast.Name):
            if node.id in self.active:
                return A.name(self.dot(node.id))
            return self.zero(node)
        if isinstance(node, (gast.Tuple, gast.List)):
            elts = [self.tangent_of(e) for e in node.elts]
            return type(node)(elts=elts, ctx=gast.Load())
        if isinstance(node, gast.Constant) and node.value is None:
            return A.const(None)
        return self.zero(node)

    # -- driver ------------------------------------------------------------
    def run(self, gen_name):
        node = self.node
        params = [a.id for a in node.args.args]
        self.active = self.activity(node.body, lists=True)
        written = {t.value.id for n in gast.walk(node) if isinstance(n, gast.Assign)
                   for t in n.targets if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name)}
        written |= {n.func.value.id for n in gast.walk(node) if isinstance(n, gast.Call)
                    and isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name)
                    and n.func.attr in _LIST_METHODS}
        written |= _params_written(self.program, self.spec)     # through views and helpers too
        prologue = []
        for p in self.active_params:
            self.dot(p)
        for p in params:
            # a parameter given no tangent that takes a differentiable value later (`y -= x`,
            # `y[i] = x`): its tangent starts at zero
            if p in self.active and p not in self.active_params:
                prologue.append(A.located(A.assign(self.dot(p), self.zero(A.name(p))), node.body[0]))
        if self.entry:          # the caller's arrays stay as they were (a callee's writes are seen)
            for p in params:
                if p in written:
                    names = [p] + ([self.dot(p)] if p in self.active_params else [])
                    for n in names:
                        save = A.call(self.helper("runtime.tape", "save"), [A.name(n)])
                        prologue.append(A.located(A.assign(n, save), node.body[0]))
        body = self.block(node.body)
        if not body or not isinstance(body[-1], gast.Return):
            # a function falling off its end returns None: its JVP returns (None, None)
            body.append(A.located(gast.Return(value=A.tuple_([A.const(None), A.const(None)])),
                                  node.body[-1] if node.body else node))
        node.body = prologue + body
        node.args.args = [A.param(p) for p in params] + [A.param(self.dot(p)) for p in self.active_params]
        node.name = gen_name
        node.decorator_list = []
        return node

    def block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self.stmt(stmt))
        return out

    def stmt(self, stmt):
        if isinstance(stmt, gast.Assign):
            if isinstance(stmt.targets[0], gast.Subscript):
                return self.setitem(stmt)
            return self.assign(stmt)
        if isinstance(stmt, gast.Expr):
            return self.expr(stmt)
        if isinstance(stmt, gast.If):
            stmt.body = self.block(stmt.body) or [gast.Pass()]
            stmt.orelse = self.block(stmt.orelse)
            return [stmt]
        if isinstance(stmt, (gast.For, gast.While)):
            stmt.body = self.block(stmt.body) or [gast.Pass()]
            return [stmt]
        if isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else A.const(None)
            pair = A.tuple_([copy.deepcopy(value), self.tangent_of(value)])
            return [A.located(gast.Return(value=pair), stmt)]
        if isinstance(stmt, (gast.Break, gast.Continue, gast.Pass)):
            return [stmt]
        raise TranspileError(f"cannot differentiate a {type(stmt).__name__} statement in forward mode",
                             self.location(stmt))

    # -- statements ----------------------------------------------------------
    def assign(self, stmt):
        target = stmt.targets[0]
        names = [target.id] if isinstance(target, gast.Name) else [e.id for e in target.elts]
        if not any(n in self.active for n in names):
            return [stmt]
        st = self.classify(stmt.value)
        dots = A.name(self.dot(names[0])) if isinstance(target, gast.Name) else \
            A.tuple_([A.store(self.dot(n)) for n in names], gast.Store())
        if isinstance(dots, gast.Name):
            dots.ctx = gast.Store()
        if st.kind == "call":
            return self.call_jvp(st, stmt, target, dots)
        operands = A.names_in(stmt.value)
        self_ref = bool(set(names) & operands)
        out = []
        if self_ref:
            tmp = self.fresh("_ans")
            out.append(A.located(A.assign(tmp, stmt.value), stmt))
            ans = A.name(tmp)
        else:
            out.append(stmt)
            ans = copy.deepcopy(target)
            ans = A.with_ctx(ans, gast.Load())
        pre, texpr = self.rhs_tangent(st, stmt, ans)
        out.extend(pre)
        if texpr is None:
            self.check_zero_tangent(st, stmt)
            if self_ref:
                out.append(A.located(A.assign(copy.deepcopy(target), A.name(tmp)), stmt))
            for n in names:
                if n in self.active:
                    out.append(A.located(A.assign(self.dot(n), self.zero(A.name(n))), stmt))
            return out
        if self_ref:
            dtmp = self.fresh("_tan")
            out.append(A.located(A.assign(dtmp, texpr), stmt))
            out.append(A.located(A.assign(copy.deepcopy(target), A.name(tmp)), stmt))
            texpr = A.name(dtmp)
        out.append(A.located(gast.Assign(targets=[dots], value=texpr, type_comment=None), stmt))
        return out

    def check_zero_tangent(self, st, stmt):
        """A statement reading a differentiable value gets a zero tangent only when its
        function is declared non-differentiable: anything else (a dict display, an expression
        no rule covers) would be a silent zero."""
        if st.kind in ("const", "nondiff"):
            return
        if st.kind == "rule" and st.fn is not None:
            return      # the function's tangent rule covered each argument (or raised)
        read = A.names_in(stmt.value, gast.Load) & self.active
        if st.kind == "getitem":
            base = st.args[0]
            read &= {base.id} if isinstance(base, gast.Name) else set()
        if read:
            raise TranspileError(
                f"cannot differentiate how this statement uses {_what(sorted(read))} in forward mode: "
                f"its derivative would be dropped (a differentiable value inside a dict or an "
                f"expression no rule covers). Pass it as a separate argument or build an array",
                self.location(stmt))

    def rhs_tangent(self, st, stmt, ans):
        """(statements, tangent expression or None for zero) of a right-hand side."""
        if st.kind == "rule" and st.fn is not None and _is_container_constructor(st.fn):
            return [], copy.deepcopy(st.node)   # a new tape: its tangent is another new tape
        if st.kind in ("const", "nondiff"):
            return [], None
        if st.kind == "copy":
            src = st.args[0]
            return [], (A.name(self.dot(src.id)) if src.id in self.active else None)
        if st.kind == "tuple":
            return [], self.tangent_of(st.node)
        if st.kind == "getitem":
            base = st.args[0]
            if not (isinstance(base, gast.Name) and base.id in self.active):
                return [], None
            return [], gast.Subscript(value=A.name(self.dot(base.id)), slice=copy.deepcopy(st.node.slice),
                                      ctx=gast.Load())
        node = st.node
        active_args = [a for a in st.args + list(st.keywords.values())
                       if A.names_in(a) & self.active]
        if not active_args:
            return [], None
        # list.pop() of an active list: pop its tangent too
        if st.fn is None and isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "pop" and isinstance(node.func.value, gast.Name) \
                and node.func.value.id in self.active:
            return [], A.call(A.attr(self.dot(node.func.value.id), "pop"),
                              [copy.deepcopy(a) for a in node.args])
        fn = st.fn
        if fn is not None and self.is_nondiff(fn):
            return [], None
        what = _describe_fn(fn, node)
        tpl = templates.tangent_template(fn) if fn is not None else None
        if tpl is None:
            raise TranspileError(
                f"no forward-mode (tangent) rule for {what}, which is called with a differentiable "
                f"argument. Register one with `@runtime.rules.tangent(...)`, or wrap the argument in "
                f"`tp.stop_gradient(...)` if no derivative should flow through it", self.location(stmt))
        binding = tpl.bind(what, st.args, st.keywords, self.location(stmt))
        return tpl.instantiate(self, ans, binding, stmt, what, self.location(stmt))

    def call_jvp(self, st, stmt, target, dots):
        callee = st.callee
        params = [a.id for a in callee.node.args.args]
        args = st.args
        active = tuple(k for k, a in enumerate(args[:len(params)]) if A.names_in(a) & self.active)
        if not active:
            out = [stmt]
            names = [target.id] if isinstance(target, gast.Name) else [e.id for e in target.elts]
            for n in names:
                if n in self.active:
                    out.append(A.located(A.assign(self.dot(n), self.zero(A.name(n))), stmt))
            return out
        name = jvp_function(self.program, callee, active, self.registry)
        res = self.fresh("_jvp")
        call = A.call(A.name(name), [copy.deepcopy(a) for a in args]
                      + [self.tangent_of(args[k]) for k in active])
        first = gast.Subscript(value=A.name(res), slice=A.const(0), ctx=gast.Load())
        second = gast.Subscript(value=A.name(res), slice=A.const(1), ctx=gast.Load())
        return [A.located(A.assign(res, call), stmt),
                A.located(gast.Assign(targets=[copy.deepcopy(target)], value=first, type_comment=None), stmt),
                A.located(gast.Assign(targets=[dots], value=second, type_comment=None), stmt)]

    def setitem(self, stmt):
        target = stmt.targets[0]
        base = target.value.id
        if base not in self.active:
            return [stmt]
        t = gast.Subscript(value=A.name(self.dot(base)), slice=copy.deepcopy(target.slice), ctx=gast.Store())
        value = stmt.value
        tv = self.tangent_of(value) if isinstance(value, gast.Name) else A.const(0.0)
        return [stmt, A.located(A.assign(t, tv), stmt)]

    def expr(self, stmt):
        call = stmt.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                and isinstance(call.func.value, gast.Name) and call.func.value.id in self.active:
            method = call.func.attr
            if method not in _LIST_METHODS:
                raise TranspileError(f"cannot differentiate the in-place method .{method}() in forward mode",
                                     self.location(stmt))
            args = [self.tangent_of(a) for a in call.args] if method == "append" else \
                [copy.deepcopy(a) for a in call.args]
            tcall = A.call(A.attr(self.dot(call.func.value.id), method), args)
            return [stmt, A.located(A.expr_stmt(tcall), stmt)]
        if not isinstance(call, gast.Call):
            return [stmt]
        read = A.names_in(call) & self.active
        if not read:
            return [stmt]
        fn = self.resolve_func(call.func)
        if fn is print or getattr(fn, "__module__", None) == "runtime.checks" or _is_check(fn):
            return [stmt]
        if getattr(fn, "__module__", None) == "runtime.at" and getattr(fn, "__name__", "") == "at_add" \
                and isinstance(call.args[0], gast.Name) and not call.keywords:
            # y.at[idx].add(v) / np.add.at(y, idx, v): linear in y and v
            y = call.args[0].id
            args = [A.name(self.dot(y)) if y in self.active else self.zero(call.args[0]),
                    copy.deepcopy(call.args[1]), self.tangent_of(call.args[2])] + \
                [copy.deepcopy(a) for a in call.args[3:]]
            tcall = A.call(copy.deepcopy(call.func), args)
            return [stmt, A.located(A.expr_stmt(tcall), stmt)]
        callee = self.callee_of(call.func)
        if callee is not None:
            if not _may_write(callee):
                return [stmt]
        raise TranspileError(
            f"cannot differentiate the call to {_describe_fn(fn, call)} made for its effect on its "
            f"arguments in forward mode: it changes `{sorted(read)[0]}` or what it is stored into in "
            f"place. Assign its result instead (`y = g(x)`, `y = y.at[i].add(v)`)", self.location(stmt))


def _is_container_constructor(fn):
    """Helpers that make an empty container (a preallocated tape), whose
    tangent is a container made the same way."""
    return fn is getattr(tape, "alloc", None)


def jvp_function(program, spec, active, registry, entry=False):
    """Name of the generated JVP of `spec` for these active parameter positions
    (`entry`: called from outside generated user code, so it copies the
    arrays it writes in place instead of changing the caller's)."""
    key = ("jvp", spec.key, active, entry)
    if key in registry:
        return registry[key]
    base = f"jvp_{spec.gen_name}"
    name = base
    i = 1
    taken = set(registry.values()) | {s.gen_name for s in program.functions} \
        | {e.gen_name for e in getattr(program, "extra", ())} | program.names
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    registry[key] = name
    params = [a.id for a in spec.node.args.args]
    ad = ForwardAD(program, spec, [params[k] for k in active], registry, entry)
    node = ad.run(name)
    program.extra.append(_Extra(spec, name, node))
    return name
