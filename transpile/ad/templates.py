"""Derivative rules as templates: parse a rule function once, inline it per call.

A rule in `runtime.rules` reads::

    @adjoint(np.multiply)
    def multiply(g, ans, x1, x2):
        d[x1] = unbroadcast(g * x2, x1)
        d[x2] = unbroadcast(g * x1, x2)

Inlined for `z = x * w` with only `x` active, it becomes::

    x_bar = x_bar + adjoint.unbroadcast(z_bar * w, x)

Parameters are replaced by the call's atoms (defaults by constants), the
rule's temporaries get fresh names, its globals become imports of the
generated module, and `d[p] = e` accumulates into the adjoint of an active
argument (or disappears).
"""
import builtins
import copy
import inspect
import operator
import types

import gast
import numpy as np

from .. import astutil as A
from ..errors import TranspileError
from runtime import npx, rules


class Template:
    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", "rule")
        fdef, body = A.rule_body(fn)
        self.body = body
        self.signature = inspect.signature(fn)
        self.params = list(self.signature.parameters)
        stored = {n.id for n in gast.walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        self.temps = stored - set(self.params)
        self.uses_ans = any(isinstance(n, gast.Name) and n.id == self.params[1] for n in gast.walk(fdef))

    def bind(self, what, args, keywords, location):
        """Parameter name -> node for a call with these argument nodes."""
        return bind_call(self.signature, 2, what, args, keywords, location)

    def instantiate(self, ctx, g, ans, binding, model):
        """Statements accumulating this rule's cotangents, located at `model`."""
        renames = {t: ctx.fresh("_" + t) for t in sorted(self.temps)}
        g_name, ans_name = self.params[0], self.params[1]
        subs = dict(binding)
        subs[g_name] = g
        subs[ans_name] = ans
        out = []
        for stmt in self.body:
            stmt = copy.deepcopy(stmt)
            if _is_d_assign(stmt):
                param = stmt.targets[0].slice.id
                target = binding.get(param)
                if _is_none(stmt.value):
                    # d[p] = None: p has no derivative here, on purpose (integers, a
                    # shape, a step function): its cotangent receives zeros
                    if isinstance(target, gast.Name) and ctx.is_active(target.id):
                        zero = A.call(ctx.helper("runtime.adjoint", "zeros_like"), [A.name(target.id)])
                        out.append(A.located(ctx.accumulate(target.id, zero), model))
                    continue
                value = _Sub(subs, renames, ctx, self.fn).visit(stmt.value)
                if isinstance(target, gast.Name):
                    if ctx.is_active(target.id):
                        out.append(A.located(ctx.accumulate(target.id, value), model))
                elif isinstance(target, (gast.Tuple, gast.List)):
                    active = [(k, e) for k, e in enumerate(target.elts)
                              if isinstance(e, gast.Name) and ctx.is_active(e.id)]
                    if active:
                        tmp = ctx.fresh("_parts")
                        out.append(A.located(A.assign(tmp, value), model))
                        for k, e in active:
                            part = gast.Subscript(value=A.name(tmp), slice=A.const(k), ctx=gast.Load())
                            out.append(A.located(ctx.accumulate(e.id, part), model))
                continue
            out.append(A.located(_Sub(subs, renames, ctx, self.fn).visit(stmt), model))
        return out


def bind_call(signature, skip, what, args, keywords, location):
    """Parameter name -> node for a call with these argument nodes, bound to
    a template's `signature` after its first `skip` parameters (g, ans):
    defaults become constants, `*operands` a tuple; an unsupported keyword
    is an error at the user's line."""
    try:
        bound = signature.bind(*([None] * skip), *args, **keywords)
    except TypeError as exc:
        raise TranspileError(f"{what}: {exc}", location) from None
    bound.apply_defaults()
    out = {}
    for name, param in list(signature.parameters.items())[skip:]:
        value = bound.arguments[name]
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            value = A.tuple_(list(value))
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            if value:
                raise TranspileError(f"{what}: keyword arguments {sorted(value)} are not supported "
                                     f"by its derivative rule", location)
            continue
        elif not isinstance(value, gast.AST):
            value = _constant(value)
        out[name] = value
    return out


def _is_d_assign(stmt, tangent=False):
    """`d[p] = ...` (tangent templates also `d[p, q] = ...`)."""
    if not isinstance(stmt, gast.Assign) or len(stmt.targets) != 1:
        return False
    t = stmt.targets[0]
    if not (isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and t.value.id == "d"):
        return False
    if tangent and isinstance(t.slice, gast.Tuple):
        return all(isinstance(e, gast.Name) for e in t.slice.elts)
    return isinstance(t.slice, gast.Name)


def _constant(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return A.const(value)
    if isinstance(value, tuple) and all(isinstance(v, (bool, int, float, str, type(None))) for v in value):
        return A.tuple_([A.const(v) for v in value])
    raise TypeError(f"cannot inline the default {value!r}")


class _Sub(gast.NodeTransformer):
    def __init__(self, subs, renames, ctx, fn):
        self.subs = subs
        self.renames = renames
        self.ctx = ctx
        self.fn = fn

    def visit_Name(self, node):
        if node.id in self.subs:
            new = copy.deepcopy(self.subs[node.id])
            if isinstance(node.ctx, gast.Store):
                raise TypeError(f"rule {self.fn.__name__} assigns to its parameter {node.id}")
            return new
        if node.id in self.renames:
            node.id = self.renames[node.id]
            return node
        glb = self.fn.__globals__
        if node.id in glb:
            return self.ctx.emit_global(glb[node.id], node)
        if hasattr(builtins, node.id):
            return node
        raise TypeError(f"rule {self.fn.__name__} uses an unknown name {node.id}")


_CACHE = {}


def template(fn):
    """The parsed `Template` of a rule function (parsed once)."""
    t = _CACHE.get(fn)
    if t is None:
        t = _CACHE[fn] = Template(fn)
    return t


def is_module(value):
    return isinstance(value, types.ModuleType)


# ---- Tangent (forward-mode) templates ------------------------------------------


class TangentTemplate:
    """A tangent template of `runtime.rules`, or one derived from a pointwise
    adjoint template (``d[p] = unbroadcast(g * f, p)`` becomes
    ``d[p] = t(p) * f``).  `instantiate` returns the statements and the
    expression of the output's tangent for one call."""

    def __init__(self, fn, derived):
        self.fn = fn
        self.name = getattr(fn, "__name__", "rule")
        _, body = A.rule_body(fn)
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        self.pointwise = derived
        if derived:                 # drop g: (g, ans, *params) -> (ans, *params)
            g_name = params[0].name
            params = params[1:]
            body = [_derive_pointwise(stmt, g_name) for stmt in body]
        self.signature = sig.replace(parameters=params)
        self.ans_name = params[0].name
        self.body = body
        stored = {n.id for n in gast.walk(gast.Module(body=body, type_ignores=[]))
                  if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        self.temps = stored - {p.name for p in params}

    def bind(self, what, args, keywords, location):
        return bind_call(self.signature, 1, what, args, keywords, location)

    def instantiate(self, ctx, ans, binding, model, what, location):
        """(statements, tangent expression) of the output, for the active
        arguments in `binding` (`ctx.is_active`, `ctx.dot`)."""
        def active(param):
            node = binding.get(param)
            if isinstance(node, gast.Name):
                return ctx.is_active(node.id)
            if isinstance(node, (gast.Tuple, gast.List)):
                return any(isinstance(e, gast.Name) and ctx.is_active(e.id) for e in node.elts)
            return False

        covered, contribs = set(), []
        renames = {t: ctx.fresh("_" + t) for t in sorted(self.temps)}
        subs = dict(binding)
        subs[self.ans_name] = ans
        sub = _TangentSub(subs, renames, ctx, self.fn, binding)
        stmts, dropped = [], set()
        for stmt in self.body:
            if _is_d_assign(stmt, tangent=True):
                keys = _d_keys(stmt)
                covered.update(keys)
                if _is_none(stmt.value) or not any(active(k) for k in keys):
                    continue
                uses = _names(stmt.value)
                if uses & dropped:
                    raise TypeError(f"tangent rule {self.name}: contribution of {keys} uses a "
                                    f"dropped temporary")
                contribs.append(_unlocated(sub.visit(copy.deepcopy(stmt.value))))
                continue
            # a temporary: kept unless it needs the tangent of a constant argument
            needs = _tangent_params(stmt)
            if any(not active(p) for p in needs) or (_names(stmt) & dropped):
                dropped.update(_stored(stmt))
                continue
            stmts.append(A.located(_unlocated(sub.visit(copy.deepcopy(stmt))), model))
        for param in binding:
            if active(param) and param not in covered:
                raise TranspileError(
                    f"no forward-mode (tangent) rule for argument {param!r} of {what}. Register "
                    f"one with `@runtime.rules.tangent(...)`, or wrap the argument in "
                    f"`tp.stop_gradient(...)`", location)
        if not contribs:
            return stmts, None
        expr = contribs[0]
        for c in contribs[1:]:
            expr = gast.BinOp(left=expr, op=gast.Add(), right=c)
        d_params = [k for k in covered]
        if self.pointwise and len(d_params) > 1 and not all(active(k) for k in d_params):
            alias = isinstance(expr, gast.Name)
            expr = A.call(ctx.helper("runtime.tangent", "fit"), [expr, copy.deepcopy(ans)])
            if alias:       # `fit` gives the tangent itself where it fits: never alias another tangent
                expr = A.call(ctx.helper("runtime.tape", "save"), [expr])
        elif isinstance(expr, gast.Name):       # never alias another tangent
            expr = A.call(ctx.helper("runtime.tape", "save"), [expr])
        return stmts, expr


def _unlocated(node):
    """`node` without the rule file's line numbers (the user's line is given
    by `A.located` afterwards)."""
    for n in gast.walk(node):
        if hasattr(n, "lineno"):
            n.lineno = None
    return node


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _names(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}


def _stored(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _tangent_params(node):
    """Parameters whose tangent `t(p)`/`ts(p)` the node reads."""
    out = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in ("t", "ts") \
                and n.args and isinstance(n.args[0], gast.Name):
            out.add(n.args[0].id)
    return out


def _d_keys(stmt):
    s = stmt.targets[0].slice
    if isinstance(s, gast.Tuple):
        return [e.id for e in s.elts]
    return [s.id]


def _derive_pointwise(stmt, g_name):
    """`d[p] = unbroadcast(g * f, p)` -> `d[p] = t(p) * f` (g replaced by t(p),
    unbroadcast dropped)."""
    stmt = copy.deepcopy(stmt)
    if not _is_d_assign(stmt):
        return stmt
    param = stmt.targets[0].slice.id

    class Tr(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, gast.Name) and node.func.id == "unbroadcast":
                return node.args[0]
            return node

        def visit_Name(self, node):
            if node.id == g_name:
                return A.call(A.name("t"), [A.name(param)])
            return node

    stmt.value = Tr().visit(stmt.value)
    return stmt


_FOLDABLE = {"not_equal": np.not_equal, "equal": np.equal, "log": np.log}
_FOLD_OPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul}


def _const_value(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, (bool, int, float)):
        return True, node.value
    return False, None


class _TangentSub(_Sub):
    """Substitution for tangent templates: also `t(p)` and `ts(p)`; arithmetic
    on constants is folded (`np.power(x, 2 - np.not_equal(2, 0))` becomes
    `np.power(x, 1)`, then `x`)."""

    def __init__(self, subs, renames, ctx, fn, binding):
        super().__init__(subs, renames, ctx, fn)
        self.binding = binding

    def visit_Call(self, node):
        if isinstance(node.func, gast.Name) and node.func.id in ("t", "ts") and node.args \
                and isinstance(node.args[0], gast.Name) and node.args[0].id in self.binding:
            bound = self.binding[node.args[0].id]
            return self.ctx.tangent_of(bound)
        self.generic_visit(node)
        fname = getattr(node.func, "attr", None)
        values = [_const_value(a) for a in node.args]
        if fname in _FOLDABLE and node.args and all(ok for ok, _ in values) and not node.keywords:
            return A.const(_FOLDABLE[fname](*[v for _, v in values]).item())
        if fname == "power" and len(node.args) == 2 and _const_value(node.args[1]) == (True, 1):
            return node.args[0]
        return node

    def visit_Attribute(self, node):
        """`np.trace` (a NumPy function with a `runtime.npx` twin) -> `npx.trace`."""
        parts, base = [], node
        while isinstance(base, gast.Attribute):
            parts.append(base.attr)
            base = base.value
        glb = self.fn.__globals__
        if isinstance(base, gast.Name) and base.id not in self.subs and base.id not in self.renames \
                and templates_module(glb.get(base.id)):
            obj = glb[base.id]
            for part in reversed(parts):
                obj = getattr(obj, part, None)
            try:
                twin = npx.NUMPY_TWINS.get(obj)
            except TypeError:
                twin = None
            if twin is not None:
                return self.ctx.emit_global(twin, node)
        self.generic_visit(node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        (okl, left), (okr, right) = _const_value(node.left), _const_value(node.right)
        if okl and okr and type(node.op) in _FOLD_OPS:
            return A.const(_FOLD_OPS[type(node.op)](left, right))
        return node


def templates_module(value):
    return isinstance(value, types.ModuleType) and value.__name__.startswith("numpy")


_TCACHE = {}


def tangent_template(fn):
    """The `TangentTemplate` of `fn` (a NumPy function or helper), or None."""
    tpl = rules.lookup_tangent(fn)
    if tpl is None:
        return None
    out = _TCACHE.get(tpl)
    if out is None:
        out = _TCACHE[tpl] = TangentTemplate(tpl, derived=tpl in rules.POINTWISE
                                             and tpl not in rules.TANGENTS.values())
    return out
