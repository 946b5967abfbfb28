"""`vmap_rule` templates (runtime/rules/batching.py) instantiated for one call.

A template is read, never run: the vectorizer (transpile/batching/vectorize.py)
evaluates its `if` tests while generating code (`batched(p)`, `rank(p)`,
`is_none(p)`, ...), and the `return` it reaches becomes the vectorized call,
nested calls hoisted into temporaries (ANF), `lift(p)` broadcast, foldable
helpers of runtime.batching evaluated on constants. `_Template` is one
parsed template (parsed once); `_Instance` binds it to the arguments of one
call and asks the vectorizer what is batched, of which rank, and for fresh
names. The calls by rule (batching/expressions.py) and the lists of mapped
values (batching/sequences.py) use them.
"""
import builtins
import copy
import inspect

import gast

from .. import astutil as A
from .vecbase import NotVectorizable, _const_value, _rules, _to_node
from runtime import batching as B


class _Template:
    """A parsed `vmap_rule` template."""

    _cache = {}

    @classmethod
    def of(cls, fn):
        t = cls._cache.get(fn)
        if t is None:
            t = cls._cache[fn] = cls(fn)
        return t

    def __init__(self, fn):
        self.fn = fn
        _, body = A.rule_body(fn)
        self.body = body
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        self.fn_param = params[0].name
        self.signature = sig.replace(parameters=params[1:])
        self.batched = set(getattr(fn, "batched_params", ()))


class _Instance:
    """One instantiation of a `vmap_rule` template for one call."""

    def __init__(self, vec, tpl, func, args, kws, s, pre):
        self.vec = vec
        self.tpl = tpl
        self.func = func
        self.s = s
        self.pre = pre
        try:
            bound = tpl.signature.bind(*args, **kws)
        except TypeError as exc:
            raise NotVectorizable(f"{tpl.fn.__name__}: {exc}", vec.where(s)) from None
        bound.apply_defaults()
        self.binding = {}
        self.star = None
        self.kwargs = {}
        for name, param in tpl.signature.parameters.items():
            value = bound.arguments.get(name)
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                self.star = name
                value = list(value or ())
                if any(vec.atom_batched(v) for v in value) and name not in tpl.batched:
                    raise NotVectorizable(f"a batched argument of {tpl.fn.__name__}", vec.where(s))
                self.binding[name] = value
                continue
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                self.kwargs = dict(value or {})
                if any(vec.atom_batched(v) for v in self.kwargs.values()):
                    raise NotVectorizable(f"a batched keyword argument of {tpl.fn.__name__}", vec.where(s))
                self.kwname = name
                continue
            if not isinstance(value, gast.AST):
                value = _to_node(value)
            if vec.atom_batched(value) and name not in tpl.batched:
                raise NotVectorizable(f"argument {name} of {tpl.fn.__name__} is batched", vec.where(s))
            self.binding[name] = value
        self.locals = {}

    # -- generation-time evaluation ------------------------------------------------
    def run(self):
        result = self.block(self.tpl.body)
        if result is None:
            raise NotVectorizable(f"template {self.tpl.fn.__name__} returns nothing")
        return result

    def block(self, stmts):
        for st in stmts:
            if isinstance(st, gast.If):
                out = self.block(st.body if self.test(st.test) else st.orelse)
                if out is not None:
                    return out
            elif isinstance(st, gast.Raise):
                raise NotVectorizable(f"no vectorized form ({self.tpl.fn.__name__})", self.vec.where(self.s))
            elif isinstance(st, gast.Return):
                return self.expr(st.value, top=True)
            elif isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name):
                value = self.expr(st.value)
                tmp = self.vec.fresh("_v")
                self.pre.append(A.located(A.assign(tmp, value), self.s))
                self.locals[st.targets[0].id] = A.name(tmp)
            elif isinstance(st, gast.Expr) and isinstance(st.value, gast.Constant):
                continue
            else:
                raise TypeError(f"vmap rule {self.tpl.fn.__name__}: unsupported statement {type(st).__name__}")
        return None

    def param(self, node):
        if isinstance(node, gast.Name) and node.id in self.binding:
            return self.binding[node.id]
        raise TypeError(f"vmap rule {self.tpl.fn.__name__}: expected a parameter, got {gast.dump(node)}")

    def test(self, node):
        """Evaluate a template test (generation time)."""
        vec = self.vec
        if isinstance(node, gast.BoolOp):
            vals = [self.test(v) for v in node.values]
            return all(vals) if isinstance(node.op, gast.And) else any(vals)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not):
            return not self.test(node.operand)
        if isinstance(node, gast.Compare):
            left = self.test(node.left)
            for op, comp in zip(node.ops, node.comparators):
                right = self.test(comp)
                ok = {gast.In: lambda a, b: a in b, gast.NotIn: lambda a, b: a not in b,
                      gast.Eq: lambda a, b: a == b, gast.NotEq: lambda a, b: a != b,
                      gast.Is: lambda a, b: a is b, gast.IsNot: lambda a, b: a is not b}[type(op)](left, right)
                if not ok:
                    return False
                left = right
            return True
        if isinstance(node, gast.Constant):
            return node.value
        if isinstance(node, gast.Tuple):
            return tuple(self.test(e) for e in node.elts)
        if isinstance(node, gast.Name) and node.id in self.binding:
            v = self.binding[node.id]
            return bool(v) if isinstance(v, list) else v     # *args / **kwargs: given or not
        if isinstance(node, gast.Name) and node.id == getattr(self, "kwname", None):
            return bool(self.kwargs)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name):
            what = node.func.id
            p = self.param(node.args[0])
            if what == "batched":
                return vec.atom_batched(p) if not isinstance(p, list) else any(vec.atom_batched(e) for e in p)
            if what == "is_none":
                return isinstance(p, gast.Constant) and p.value is None
            if what == "is_display":
                return isinstance(p, (gast.Tuple, gast.List))
            if what == "is_sequence":
                return not isinstance(p, list) and vec.sequence_items(p) is not None
            if what == "rank":
                return vec.atom_rank(p, vec.ranks)
        raise TypeError(f"vmap rule {self.tpl.fn.__name__}: unsupported test {gast.dump(node)}")

    def expr(self, node, top=False):
        """Instantiate a template expression (nested calls hoisted: ANF)."""
        vec = self.vec
        if isinstance(node, gast.Name):
            if node.id == self.tpl.fn_param:
                return copy.deepcopy(self.func)
            if node.id in self.locals:
                return copy.deepcopy(self.locals[node.id])
            if node.id in self.binding and not isinstance(self.binding[node.id], list):
                return copy.deepcopy(self.binding[node.id])
            glb = self.tpl.fn.__globals__
            if node.id in glb:
                return vec.emit_global(glb[node.id])
            if hasattr(builtins, node.id):
                return node
            raise TypeError(f"vmap rule {self.tpl.fn.__name__} uses an unknown name {node.id}")
        if isinstance(node, gast.Constant):
            return node
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        if isinstance(node, gast.Call):
            f = node.func
            if isinstance(f, gast.Name) and f.id == "batched":
                p = self.param(node.args[0])
                if isinstance(p, list):
                    return _to_node(tuple(vec.atom_batched(e) for e in p))
                return A.const(vec.atom_batched(p))
            if isinstance(f, gast.Name) and f.id == "lift":
                return self.lift(self.param(node.args[0]))
            if isinstance(f, gast.Name) and f.id == "stacked":
                return vec.array_of(self.param(node.args[0]), self.s, self.pre)
            if isinstance(f, gast.Name) and f.id == "items":
                p = self.param(node.args[0])
                atoms = [vec.array_item(e, self.s, self.pre) for e in vec.sequence_items(p, self.s, self.pre)]
                return (type(p) if isinstance(p, (gast.Tuple, gast.List)) else gast.Tuple)(
                    elts=atoms, ctx=gast.Load())
            func = self.expr(f)
            target = self.resolve_helper(f)
            args = []
            for a in node.args:
                if isinstance(a, gast.Starred):
                    items = self.binding.get(a.value.id, [])
                    args.extend(copy.deepcopy(i) for i in items)
                else:
                    args.append(self.atom(a))
            keywords = []
            for k in node.keywords:
                if k.arg is None:
                    keywords.extend(gast.keyword(arg=n, value=copy.deepcopy(v)) for n, v in self.kwargs.items())
                else:
                    keywords.append(gast.keyword(arg=k.arg, value=self.atom(k.value)))
            folded = self.fold(target, args, keywords)
            if folded is not None:
                return folded
            return A.call(func, args, keywords)
        if isinstance(node, gast.Attribute):
            return self.expr_attr(node)
        raise TypeError(f"vmap rule {self.tpl.fn.__name__}: unsupported expression {gast.dump(node)}")

    def expr_attr(self, node):
        base = self.expr(node.value)
        return A.attr(base, node.attr)

    def atom(self, node):
        """An argument: an atom, or a hoisted temporary."""
        value = self.expr(node)
        if isinstance(value, (gast.Name, gast.Constant)) or _const_value(value)[0] \
                or (isinstance(value, (gast.Tuple, gast.List))
                    and all(isinstance(e, (gast.Name, gast.Constant)) for e in value.elts)) \
                or isinstance(value, gast.Attribute):
            return value
        tmp = self.vec.fresh("_v")
        self.pre.append(A.located(A.assign(tmp, value), self.s))
        return A.name(tmp)

    def lift(self, p):
        vec = self.vec
        if isinstance(p, (gast.Tuple, gast.List)):
            return type(p)(elts=[self.lift(e) for e in p.elts], ctx=gast.Load())
        if vec.atom_batched(p):
            return copy.deepcopy(p)
        tmp = vec.fresh("_u")
        self.pre.append(A.located(A.assign(tmp, A.call(vec.helper("broadcast"),
                                                        [copy.deepcopy(p), A.name(vec.n)])), self.s))
        return A.name(tmp)

    def resolve_helper(self, f):
        """The Python object a template's callee expression names, if a global."""
        parts = []
        node = f
        while isinstance(node, gast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, gast.Name):
            return None
        obj = self.tpl.fn.__globals__.get(node.id)
        for part in reversed(parts):
            obj = getattr(obj, part, None)
        return obj

    def fold(self, target, args, keywords):
        """Evaluate a foldable helper of runtime.batching on constant arguments."""
        _, rb = _rules()
        if target not in rb.FOLDABLE or keywords:
            return None
        consts = [_const_value(a) for a in args]
        if target is B.einsum_subscripts and not (consts[0][0] and isinstance(consts[0][1], str)):
            # the interleaved form np.einsum(a, [0, 1], b, [1]), or subscripts known when it runs
            raise NotVectorizable("einsum without constant subscripts", self.vec.where(self.s))
        if target is B.example_axes:
            ok, axis = consts[0]
            if not ok:
                return None
            if axis is None:
                r = self.vec.atom_rank(args[1], self.vec.ranks)
                return _to_node(tuple(range(1, r + 1))) if r is not None else None
            return _to_node(B.example_axes(axis, None))
        if all(ok for ok, _ in consts):
            try:
                return _to_node(target(*[v for _, v in consts]))
            except Exception as exc:        # NumPy's error is the per-example loop's to raise
                raise NotVectorizable(f"{getattr(target, '__name__', target)}: {exc}",
                                      self.vec.where(self.s)) from None
        return None
