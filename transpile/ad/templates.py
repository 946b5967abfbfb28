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
import textwrap
import types

import gast

from .. import astutil as A
from ..errors import TranspileError


class Template:
    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", "rule")
        tree = gast.parse(textwrap.dedent(inspect.getsource(fn)))
        fdef = next(n for n in tree.body if isinstance(n, gast.FunctionDef))
        body = fdef.body
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]
        self.body = body
        self.signature = inspect.signature(fn)
        self.params = list(self.signature.parameters)
        stored = {n.id for n in gast.walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        self.temps = stored - set(self.params)
        self.uses_ans = any(isinstance(n, gast.Name) and n.id == self.params[1] for n in gast.walk(fdef))

    def bind(self, what, args, keywords, location):
        """Parameter name -> node for a call with these argument nodes."""
        try:
            bound = self.signature.bind(None, None, *args, **keywords)
        except TypeError as exc:
            raise TranspileError(f"{what}: {exc}", location) from None
        bound.apply_defaults()
        out = {}
        for name, param in list(self.signature.parameters.items())[2:]:
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
                value = _Sub(subs, renames, ctx, self.fn).visit(stmt.value)
                target = binding.get(param)
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


def _is_d_assign(stmt):
    if not isinstance(stmt, gast.Assign) or len(stmt.targets) != 1:
        return False
    t = stmt.targets[0]
    return isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and t.value.id == "d" \
        and isinstance(t.slice, gast.Name)


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
