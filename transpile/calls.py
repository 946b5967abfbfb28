"""Calls in specialized code: to the user's own functions (each specialized
as a callee, its static arguments bound) and to transformations of them
(`tp.grad(g)(x)`, `tp.jvp(g, (x,), (v,))` inside transformed code), which
are recorded as `Embedded` calls whose derivative layers are generated after
ANF (transpile/compose.py).

`Calls` is a mixin of the specializer (transpile/specialize.py): its methods
use the specializer's program, spec and location, its static evaluation
(transpile/statics.py) and its pytrees (transpile/mirrors.py).
"""
import types

import gast
import numpy as np

from . import astutil as A
from . import structure as S
from .errors import TranspileError
from .layer import BoundLayer, Layer, LayerKind, embedded_layer
from .resolve import param_names
from .source import get_source, unwrap
from .tree import tree_structure, tree_unflatten
from .values import NOT_STATIC as _NOT_STATIC, is_dynamic


class Calls:
    """The specializer's handling of calls to user functions and their transformations."""

    def call_transformed(self, node, fn, bound_self, layers, args, keywords, extra_args):
        """A call to a derivative transformation of user function `fn` (a
        method of `bound_self` if not None): the function is specialized as
        a callee, and the call is recorded as `Embedded` (the layers are
        generated after ANF, see transpile/compose.py); `extra_args` come
        after the hidden ones."""
        src, statics, dyn_args = self.bind_call(node, fn, bound_self, args, keywords)
        names = param_names(src.node.args)
        offset = 1 if bound_self is not None else 0
        callee = self.program.specialize(fn, statics, src=src)
        bound, out_tree, out_paths = [], None, None
        for layer in layers:
            kind, argnums, has_aux = layer.kind, layer.argnums, layer.has_aux
            if kind == "vmap":
                try:
                    bound.append(embedded_layer(
                        layer.vmap, names, len(args) + offset, {k.arg for k in keywords}, statics, offset))
                except (TypeError, ValueError) as exc:
                    raise TranspileError(str(exc), self.location(node)) from None
                continue
            nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
            wrt, trees = [], []
            for n in nums:
                k = n + offset if n >= 0 else len(names) + n
                if 0 <= k < len(names) and isinstance(statics.get(names[k]), S.TreeParam):
                    wrt.extend(callee.tree_params[names[k]])     # a pytree: its leaves
                    trees.append(statics[names[k]].treedef)
                    continue
                if not 0 <= k < len(names) or names[k] in statics:
                    raise TranspileError(f"{kind} of {src.qualname}(): argnums {argnums} does not name a "
                                         f"dynamic (number or array) argument", self.location(node))
                wrt.append(names[k])
                trees.append(None)
            as_int = isinstance(argnums, int) and trees[0] is None
            bound.append(BoundLayer(kind, wrt, as_int, has_aux))
            if any(t is not None for t in trees) and kind != "jvp":
                if len(layers) > 1 or kind not in ("grad", "value_and_grad") or has_aux \
                        or not isinstance(argnums, int):
                    raise TranspileError(f"{kind} with respect to a pytree inside transformed code: only "
                                         f"grad and value_and_grad of one pytree argument so far",
                                         self.location(node))
                out_tree = trees[0]
                if kind == "value_and_grad":     # (value, (cotangents...)) -> (value, tree)
                    n = trees[0].num_leaves
                    out_tree = tree_structure((0.0, tree_unflatten(trees[0], [0.0] * n)))
                    out_paths = [(0,)] + [(1, k) for k in range(n)]
        kinds = {layer.kind for layer in layers}
        last = layers[-1]
        if callee.out_tree is not None and last.has_aux and out_tree is None:
            # has_aux: (loss, aux) returned flat -> (gradients, aux) or ((loss, aux), gradients);
            # (J, aux) or (out, out_dot, aux), the aux's leaves flat (transpile/compose.py)
            flat, n = callee.out_tree, callee.out_tree.num_leaves
            leaf = tree_structure(0)
            g_def = leaf if as_int else S.tuple_structure([leaf] * len(wrt))
            g_paths = [()] if as_int else [(j,) for j in range(len(wrt))]
            if last.kind == "jvp":
                out_tree = S.tuple_structure((leaf, leaf, flat.children[1]))
                out_paths = [(0,), (1,)] + [(2, k) for k in range(n - 1)]
            elif last.kind == "value_and_grad" and len(layers) == 1:
                out_tree = S.tuple_structure((flat, g_def))
                out_paths = [(0, k) for k in range(n)] + [(1,) + p for p in g_paths]
            elif len(layers) == 1 or all(b.argnums_int for b in bound if b.kind != "vmap"):
                out_tree = S.tuple_structure((g_def, flat.children[1]))
                out_paths = [(0,) + p for p in g_paths] + [(1, k) for k in range(n - 1)]
            else:
                raise TranspileError("has_aux=True with a pytree aux over a stack of transformations with "
                                     "tuple argnums inside transformed code is not supported yet",
                                     self.location(node))
        if callee.out_tree is not None and kinds <= {"vmap", "jvp"} and not last.has_aux:
            # the callee's pytree, flat
            out_tree = callee.out_tree
            if kinds == {"jvp"}:        # (outputs, tangents), each flat
                n = out_tree.num_leaves
                out_tree = S.tuple_structure((out_tree, out_tree))
                out_paths = [(0, k) for k in range(n)] + [(1, k) for k in range(n)]
        if last.kind == "jvp":      # tangents of pytree primals: their leaves
            extra = []
            for k, t in enumerate(extra_args):
                primal = statics.get(names[k + offset])
                if not isinstance(primal, S.TreeParam):
                    extra.append(self.visit(t))
                    continue
                tree = self.tree_or_expr(t)
                leaves, treedef = S.flatten_mirror(tree)
                if treedef != primal.treedef:
                    raise TranspileError(f"primal and tangent arguments to jvp must have the same tree "
                                         f"structure; primal {k} has tree structure {primal.treedef} whereas "
                                         f"its tangent has tree structure {treedef}", self.location(node))
                extra.extend(self.leaf_node(v, t) for v in leaves)
            extra_args = extra
        else:
            extra_args = [self.visit(a) for a in extra_args]
        base = f"{last.kind}_{callee.gen_name}"
        name, i = base, 1
        while name in self.program.names:
            i += 1
            name = f"{base}_{i}"
        self.program.names.add(name)
        call = A.located(A.call(A.located(A.name(name), node.func), []), node)
        self.spec.calls.append((call, callee, dyn_args))
        self.program.embedded.append(Embedded(call, callee, bound, name, extra_args))
        if out_tree is not None:
            call.tp_out_tree = out_tree     # grad: the leaves' cotangents, returned flat
            call.tp_out_paths = out_paths
        return call

    def call_jvp(self, node):
        """`tp.jvp(f, (x, ...), (v, ...))` with a static `f` (and `has_aux`)."""
        has_aux = False
        for kw in node.keywords:
            value = self.static_value(kw.value) if kw.arg == "has_aux" else _NOT_STATIC
            if value is _NOT_STATIC or not isinstance(value, bool):
                raise TranspileError("tp.jvp(f, primals, tangents, has_aux=...) in transformed code takes "
                                     "no other keyword, and has_aux True or False", self.location(node))
            has_aux = value
        if len(node.args) != 3 or not all(isinstance(a, (gast.Tuple, gast.List)) for a in node.args[1:]):
            raise TranspileError("tp.jvp(f, primals, tangents) in transformed code needs a static f and "
                                 "tuple displays of primals and tangents", self.location(node))
        f = self.static_value(node.args[0])
        primals, tangents = node.args[1].elts, node.args[2].elts
        if len(primals) != len(tangents):
            raise TranspileError("primal and tangent arguments to jvp must have the same tree structure",
                                 self.location(node))
        layer = Layer(LayerKind.JVP, tuple(range(len(primals))), has_aux)
        if _is_transformed(f) and getattr(f, "layers_spec", None) is not None:   # jvp(grad(g), ...)
            inner = f.layers_spec()
            if inner[-1].has_aux and not (has_aux and inner[-1].kind in ("grad", "jacfwd", "jacrev")):
                raise TranspileError("jvp of a transformation with has_aux=True needs has_aux=True too, "
                                     "over grad, jacfwd or jacrev", self.location(node))
            return self.call_transformed(node, f._fn, f._self, inner + [layer], list(primals), [],
                                         list(tangents))
        target, bound_self = _callee_of(f) if f is not _NOT_STATIC else (None, None)
        if target is None:
            raise TranspileError("tp.jvp(f, ...) in transformed code needs f to be a user function known "
                                 "when the code is generated", self.location(node))
        return self.call_transformed(node, target, bound_self, [layer], list(primals), [], list(tangents))

    def bind_call(self, node, fn, bound_self, args, keywords):
        """(source, statics, dynamic argument nodes) of a call to user function `fn`."""
        src = get_source(fn)
        params = param_names(src.node.args)
        if any(isinstance(a, gast.Starred) for a in args) or any(k.arg is None for k in keywords):
            raise TranspileError("calls with *args or **kwargs are not supported yet", self.location(node))
        given = list(args)
        if bound_self is not None:
            given = [bound_self] + given
        bound = {}
        for p, arg in zip(params, given):
            bound[p] = arg
        if len(given) > len(params):
            raise TranspileError(
                f"{src.qualname}() takes {len(params)} positional arguments but "
                f"{len(given)} were given", self.location(node))
        for kw in keywords:
            if kw.arg not in params:
                raise TranspileError(
                    f"{src.qualname}() got an unexpected keyword argument '{kw.arg}'", self.location(node))
            bound[kw.arg] = kw.value
        defaults = _defaults_of(fn, src.node.args)
        statics, dyn_args = {}, []
        for p in params:
            if p in bound:
                arg = bound[p]
                value = bound_self if arg is bound_self else self.static_value(arg)
                if value is _NOT_STATIC and _is_display(arg) and p not in A.changed_in_place(src.node):
                    # A tuple, list or dict display of dynamic values is a pytree argument: its
                    # leaves are passed, so the callee indexes it statically and every
                    # transformation sees each element as its own value.
                    value = self.display_tree(arg)
                if value is not _NOT_STATIC and arg is not bound_self and S.is_mirror(value) \
                        and not isinstance(value, (S.Leaf, S.LeafExpr)):
                    leaves, treedef = S.flatten_mirror(value)   # a pytree: its leaves are passed
                    statics[p] = S.TreeParam(treedef)
                    dyn_args.extend(self.leaf_node(v, arg) for v in leaves)
                    continue
                if isinstance(value, (S.Leaf, S.LeafExpr)):
                    dyn_args.append(self.leaf_node(value, arg))
                    continue
                if value is _NOT_STATIC or isinstance(value, (bool, int, float, complex, np.generic)) \
                        or _numbers(value):
                    dyn_args.append(self.visit(arg))   # numbers (and tuples of them) stay dynamic
                else:
                    statics[p] = value                 # functions, objects, strings, None
            elif p in defaults:
                value = defaults[p]
                if is_dynamic(value):
                    key = ("default", id(fn), p)
                    new = self.hidden_name(key, p, _default_getter(fn, p), f"default of {p}")
                    dyn_args.append(A.name(new))
                else:
                    statics[p] = value
            else:
                raise TranspileError(
                    f"{src.qualname}() missing required argument '{p}'", self.location(node))
        return src, statics, dyn_args

    def call_user_function(self, node, fn, bound_self):
        src, statics, dyn_args = self.bind_call(node, fn, bound_self, node.args, node.keywords)
        callee = self.program.specialize(fn, statics, src=src)
        ref = A.located(A.name(callee.gen_name), node.func)
        callee.refs.append(ref)
        call = A.located(A.call(ref, []), node)
        self.spec.calls.append((call, callee, dyn_args))
        if callee.out_tree is not None:
            call.tp_out_tree = callee.out_tree
        return call


def _is_display(node):
    if isinstance(node, (gast.Tuple, gast.List)):
        return not any(isinstance(e, gast.Starred) for e in node.elts)
    return isinstance(node, gast.Dict) and all(isinstance(k, gast.Constant) for k in node.keys)


def _numbers(value):
    """A tuple of numbers (a shape, say): a dynamic value, as before tuple
    displays were evaluated statically."""
    return type(value) is tuple and all(isinstance(v, (bool, int, float, complex, np.generic))
                                        or _numbers(v) for v in value)


class Embedded:
    """A call in generated code to a derivative transformation of a user
    function: `call` (its func a placeholder `name`), the specialized
    `callee`, the layers (`BoundLayer`s, transpile/layer.py), and arguments
    that come after the hidden ones (a jvp's tangents)."""

    def __init__(self, call, callee, layers, name, extra_args):
        self.call = call
        self.callee = callee
        self.layers = layers
        self.name = name
        self.extra_args = extra_args


def _is_transformed(value):
    """`tp.jit(f)`, `tp.grad(f)`, ...: its class says so (api.Jitted), and
    one that generated code can call has `layers_spec()`."""
    return getattr(type(value), "__transpile_transformed__", False) is True


def _is_jvp(func):
    """`tp.jvp` (transpile/derivatives.py marks it)."""
    return getattr(func, "__transpile_jvp__", False) is True


def _is_user_function(value):
    fn, _ = unwrap(value) if isinstance(value, (types.FunctionType, types.MethodType)) else (value, None)
    if not isinstance(fn, types.FunctionType):
        return False
    module = (getattr(fn, "__module__", None) or "").split(".")[0]
    return module not in ("numpy", "scipy", "math", "builtins", "runtime", "transpile")


def _callee_of(func):
    """(user function, bound self or None) if calling `func` means calling user code."""
    jitted = getattr(func, "__transpile_function__", None)
    if jitted is not None:
        return jitted, getattr(func, "__transpile_self__", None)
    if isinstance(func, types.MethodType) and _is_user_function(func.__func__):
        return func.__func__, func.__self__
    if _is_user_function(func):
        return unwrap(func)[0], None
    return None, None


def _defaults_of(fn, args):
    out = {}
    positional = [a.id for a in args.args]
    if fn.__defaults__:
        for p, v in zip(positional[-len(fn.__defaults__):], fn.__defaults__):
            out[p] = v
    if fn.__kwdefaults__:
        out.update(fn.__kwdefaults__)
    return out


def _default_getter(fn, p):
    if fn.__kwdefaults__ and p in fn.__kwdefaults__:
        return lambda: fn.__kwdefaults__[p]
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    index = names.index(p) - (len(names) - len(fn.__defaults__))
    return lambda: fn.__defaults__[index]
