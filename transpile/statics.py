"""Static evaluation while specializing: the `Statics` mixin of the
specializer (transpile/specialize.py).

`static_value` is what an expression evaluates to when it is known while
generating code (static arguments, globals and closure cells that are not
numbers or arrays, their attributes, constant subscripts of pytrees and
static containers, transformations such as `tp.grad(loss)`, `len` and `zip`
of pytrees), else `NOT_STATIC`. `emit_static` writes a static value in
generated code (a constant, a module alias, an import path, the
`runtime.npx` twin of a NumPy function); `hidden_name` makes a dynamic value
read at call time a hidden parameter.
"""
import math

import gast
import numpy as np

from . import astutil as A
from . import structure as S
from .calls import _is_transformed, _is_user_function
from .errors import TranspileError
from .program import Hidden, _add_hidden, _import_path
from .values import NOT_STATIC as _NOT_STATIC, describe, is_dynamic, is_module
from runtime import at, npx


class Statics:
    """The specializer's static evaluation and emission of static values."""

    # -- static evaluation -------------------------------------------------
    def find_static_locals(self, body):
        """Locals assigned once, at the top level of the function, from a
        transformation of a static function (`grad = tp.grad(loss)`): they are
        static (the assignment goes; calls to them become generated calls)."""
        counts = {}
        for n in gast.walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                counts[n.id] = counts.get(n.id, 0) + 1
        out = {}
        self.static_locals = out
        for stmt in body:
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], gast.Name) and counts.get(stmt.targets[0].id) == 1 \
                    and isinstance(stmt.value, gast.Call):
                value = self.static_value(stmt.value)
                if value is not _NOT_STATIC and _is_transformed(value):
                    out[stmt.targets[0].id] = value
                    stmt.tp_static_local = True
        return out

    def static_subscript(self, node):
        """`tree[0]['W']` on a pytree (a mirror) or a static container, with a
        static index: evaluated now."""
        base = self.static_value(node.value)
        if base is _NOT_STATIC or isinstance(base, (S.Leaf, S.LeafExpr)) \
                or not isinstance(base, (list, tuple, dict)) and not S.is_mirror(base):
            return _NOT_STATIC
        if isinstance(node.slice, gast.Slice):
            parts = [self.static_value(p) if p is not None else None
                     for p in (node.slice.lower, node.slice.upper, node.slice.step)]
            if any(p is _NOT_STATIC for p in parts):
                return _NOT_STATIC
            index = slice(*parts)
        else:
            index = self.static_value(node.slice)
        if index is _NOT_STATIC:
            if S.is_mirror(base):
                raise TranspileError("a pytree can only be indexed by a constant here (its structure is "
                                     "fixed when the code is generated)", self.location(node))
            return _NOT_STATIC
        try:
            return base[index]
        except (IndexError, KeyError, TypeError) as exc:
            raise TranspileError(f"{type(exc).__name__}: {exc}", self.location(node)) from None

    def static_call(self, node):
        """A call to a transformation (`tp.grad(loss)`, `tp.jit(f)`) with
        static arguments, evaluated now; else _NOT_STATIC. Also `len`, `zip`,
        `enumerate`, `list`, `tuple`, `reversed` of pytrees and static
        containers."""
        func = self.static_value(node.func)
        if any(func is b for b in _STATIC_BUILTINS) and not node.keywords:
            args = [self.static_value(a) for a in node.args]
            if args and all(a is not _NOT_STATIC for a in args) and any(
                    isinstance(a, (list, tuple, dict)) or S.is_mirror(a) for a in args):
                out = func(*args)
                return list(out) if func in (zip, enumerate, reversed) else out
            return _NOT_STATIC
        if func is _NOT_STATIC or not _is_transformation(func):
            return _NOT_STATIC
        args = [self.static_arg(a) for a in node.args]
        kws = {k.arg: self.static_arg(k.value) for k in node.keywords}
        if any(a is _NOT_STATIC for a in args) or any(v is _NOT_STATIC for v in kws.values()) \
                or None in kws:
            return _NOT_STATIC
        try:
            return func(*args, **kws)
        except (TypeError, ValueError, NotImplementedError) as exc:
            raise TranspileError(f"{exc}", self.location(node)) from None

    def static_arg(self, node):
        """`static_value` of an argument of a transformation, where displays of
        dicts and namedtuples of static values are static too (vmap's
        `in_axes=({'W': 0, 'b': None}, 0)`)."""
        items = None
        if isinstance(node, gast.Dict) and all(isinstance(k, gast.Constant) for k in node.keys):
            items = [self.static_arg(v) for v in node.values]
            make = lambda vs: {k.value: v for k, v in zip(node.keys, vs)}  # noqa: E731
        elif isinstance(node, (gast.Tuple, gast.List)) and isinstance(node.ctx, gast.Load) \
                and not any(isinstance(e, gast.Starred) for e in node.elts):
            items = [self.static_arg(e) for e in node.elts]
            make = tuple if isinstance(node, gast.Tuple) else list
        elif isinstance(node, gast.Call) and not node.keywords or isinstance(node, gast.Call) and not node.args:
            cls = self.static_value(node.func)
            if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):    # namedtuple
                items = [self.static_arg(a) for a in node.args] + [self.static_arg(k.value) for k in node.keywords]
                names = [k.arg for k in node.keywords]
                make = lambda vs: cls(*vs) if not names else cls(**dict(zip(names, vs)))  # noqa: E731
        if items is None:
            return self.static_value(node)
        if any(v is _NOT_STATIC or S.is_mirror(v) for v in items):
            return _NOT_STATIC
        return make(items)

    def static_value(self, node):
        """The value of `node` if it is known while generating code, else _NOT_STATIC."""
        if isinstance(node, gast.Call):
            return self.static_call(node)
        if isinstance(node, gast.Subscript):
            return self.static_subscript(node)
        if isinstance(node, (gast.Tuple, gast.List)) and isinstance(node.ctx, gast.Load) \
                and not any(isinstance(e, gast.Starred) for e in node.elts):
            elts = [self.static_value(e) for e in node.elts]
            if any(e is _NOT_STATIC for e in elts) or any(S.is_mirror(e) for e in elts):
                return _NOT_STATIC
            return tuple(elts) if isinstance(node, gast.Tuple) else elts
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and isinstance(node.operand, gast.Constant) and isinstance(node.operand.value, (int, float)):
            return -node.operand.value
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.id in getattr(self, "trees", {}):
                return self.trees[node.id]
            if node.id in getattr(self, "static_locals", {}):
                return self.static_locals[node.id]
            if node.id in self.spec.statics:
                return self.spec.statics[node.id]
            if node.id in self.scope.locals:
                return _NOT_STATIC
            binding = self.scope.free.get(node.id)
            if binding is None:
                return _NOT_STATIC
            value = binding.read()
            if is_dynamic(value):
                return _NOT_STATIC
            if binding.kind != "builtin" and not is_module(value):
                self.program.guards[binding.key] = (binding, value)
            return value
        if isinstance(node, gast.Attribute):
            base = self.static_value(node.value)
            if base is _NOT_STATIC:
                return _NOT_STATIC
            try:
                value = getattr(base, node.attr)
            except AttributeError:
                raise TranspileError(
                    f"{describe(base)} has no attribute '{node.attr}'", self.location(node))
            if is_dynamic(value) and not is_module(base):
                return _NOT_STATIC  # read at call time, as a hidden parameter
            return value
        if isinstance(node, gast.Constant):
            return node.value
        return _NOT_STATIC

    # -- emission of static values -----------------------------------------
    def constant(self, value, node):
        if isinstance(value, float) and not math.isfinite(value):
            alias = self.program.module_alias("numpy")
            if math.isnan(value):
                return A.attr(alias, "nan")
            inf = A.attr(alias, "inf")
            return inf if value > 0 else gast.UnaryOp(op=gast.USub(), operand=inf)
        if isinstance(value, np.generic):
            alias = self.program.module_alias("numpy")
            return A.call(A.attr(alias, type(value).__name__), [A.const(value.item())])
        return A.const(value)

    def emit_static(self, value, node):
        """An expression denoting the static `value` in generated code."""
        if _is_value_constant(value):
            return A.located(self.constant(value, node), node)
        if is_module(value):
            return A.located(A.name(self.program.module_alias(value.__name__)), node)
        if _hashable(value) and value in getattr(npx, "NUMPY_TWINS", {}):
            twin = npx.NUMPY_TWINS[value]
            out = A.attr(self.program.module_alias("runtime.npx"), twin.__name__)
            out.tp_value = value
            return A.located(out, node)
        owner = getattr(value, "__self__", None)
        if isinstance(owner, np.ufunc) and getattr(value, "__name__", None) == "at":
            # np.add.at(a, idx, v): the scatter helpers of `a.at[idx].add(v)`, in place on `a`
            helper = getattr(at, _UFUNC_AT.get(owner.__name__, ""), None)
            if helper is None:
                raise TranspileError(f"np.{owner.__name__}.at is not supported: use a loop",
                                     self.location(node))
            out = A.attr(self.program.module_alias("runtime.at"), helper.__name__)
            out.tp_value = helper
            return A.located(out, node)
        path = _import_path(value)
        if path is not None:
            modname, qualname = path
            if modname == "builtins":
                out = A.dotted(qualname)
            else:
                out = A.attr(self.program.module_alias(modname), qualname.split(".")[0])
                for part in qualname.split(".")[1:]:
                    out = A.attr(out, part)
            out.tp_value = value
            return A.located(out, node)
        if _is_user_function(value):
            raise TranspileError(
                f"the function {getattr(value, '__qualname__', value)!r} can only be called "
                f"or passed to a user function here", self.location(node))
        raise TranspileError(
            f"cannot use a {describe(value)} ({value!r:.60}) in generated code: only numbers, "
            f"arrays, tuples, modules and functions can be", self.location(node))

    def hidden_name(self, key, name, getter, what):
        if key in self.spec.hidden:
            return self.spec.hidden[key][0]
        return _add_hidden(self.spec, Hidden(key, name, getter, what))


_STATIC_BUILTINS = (len, zip, enumerate, list, tuple, reversed)


def _is_transformation(func):
    """`tp.grad`, `tp.jit`, ...: a function that makes a transformation."""
    module = getattr(func, "__module__", "") or ""
    return module in ("transpile.ad_api", "transpile.derivatives", "transpile.api", "transpile.vmap_api") \
        and getattr(func, "__name__", "") in ("grad", "value_and_grad", "jacfwd", "jacrev", "hessian",
                                               "jit", "vmap")


def _is_value_constant(value):
    return value is None or isinstance(value, (bool, int, float, complex, str, np.generic)) \
        and not isinstance(value, np.ndarray)


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


#: ufunc name -> the runtime.at helper doing `ufunc.at(a, idx, v)`
_UFUNC_AT = {"add": "at_add", "multiply": "at_multiply", "divide": "at_divide",
             "power": "at_power", "minimum": "at_min", "maximum": "at_max"}
