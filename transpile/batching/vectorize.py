"""Vectorizing rules: batch a function by moving the batch axis through its
statements, so that it runs once on whole batches.

Every batched value keeps the batch axis first; unbatched values stay as
they are. Each ANF statement that touches a batched value is rewritten by
a rule of `runtime.rules` (`vmap_elementwise` declarations and `vmap_rule`
templates, see runtime/rules/batching.py):

    def f(x, W, b):                   def vec_f(x, W, b, _n):      # x: (batch, n)
        _t1 = W @ x                       _t1 = batching.matmul_ub(W, x)   # x @ W.T
        _t2 = _t1 + b                     _t2 = _t1 + b
        _t3 = np.tanh(_t2)                _t3 = np.tanh(_t2)
        _t4 = npx.sum(_t3)                _t4 = npx.sum(_t3, (1,))
        return _t4                        return _t4

* Element-wise operations line up the ranks of their operands after the batch
  axis (`batching.match_rank`, emitted only where the ranks of one example
  are not known to agree: ranks of the arguments come from the call's
  signature and are propagated through the statements).
* Indexing with an unbatched index prepends the batch axis (`x[i]` becomes
  `x[:, i]`); in-place writes into batched arrays likewise.
* A variable that holds a batched value anywhere holds one everywhere: an
  unbatched value assigned to it is broadcast over the batch
  (`batching.broadcast(v, _n)`).
* Calls to other user functions call their vectorized version (per pattern
  of batched arguments).
* `if`/`while`/`for` stay as they are when their test or trip count is
  unbatched.

* A list or tuple of batched values is not a batch (its axis is not the
  batch axis): passed where NumPy takes an array (`np.sum([a, b])`,
  `np.array([[a, b], [b, a]])`) it becomes the batch of `np.array(list)`,
  the items' batches stacked along axis 1 (`Vectorizer.array_of`).
* Names that may share an array keep sharing it: they are batched together
  (batching/aliases.py, analysis.py), and a number read with integer
  indices from an array written later is copied (`a[:, i]` is a view where
  one example's `a[i]` is a number: `batching.copy_if_numbers`).

The function is not vectorized (`NotVectorizable`, and the per-example loop
runs it) when a test or trip count depends on a batched value, a call has no
rule, an index is batched, it prints, it writes into an unmapped argument of
the mapped function (one array for every example: the loop writes it once
per example), or it does arithmetic on lists of batched values. The output is ANF again, so forward
mode differentiates it (`grad(vmap(f))`).
"""
import builtins
import copy
import inspect

import gast
import numpy as np

from .. import astutil as A
from ..program import _import_path, generated
from ..resolve import _describe_fn, find_callee, resolve_static
from . import analysis as An
from .templates import _Instance, _Template
from .vecbase import _METHODS, _SHAPE_ATTRS, NotVectorizable, _const_value, _is_const, _rules
from runtime import tape

_BINOPS = {gast.Add: np.add, gast.Sub: np.subtract, gast.Mult: np.multiply, gast.Div: np.true_divide,
           gast.Pow: np.power, gast.FloorDiv: np.floor_divide, gast.Mod: np.mod,
           gast.BitAnd: np.bitwise_and, gast.BitOr: np.bitwise_or, gast.BitXor: np.bitwise_xor,
           gast.LShift: np.left_shift, gast.RShift: np.right_shift}
_CMPOPS = (gast.Lt, gast.LtE, gast.Gt, gast.GtE, gast.Eq, gast.NotEq)
_SAME_METHODS = {"copy", "astype", "conj", "conjugate"}
_COPY_METHODS = {"flatten"}
_LIST_METHODS = {"append", "pop"}
_LIST_COTANGENTS = {"zeros_like_list", "add_seq", "pop_item", "zero_item"}


class Vectorizer:
    """Generates the vectorized version of one function for one pattern of
    batched parameters (and the ranks of their examples)."""

    def __init__(self, program, spec, pattern, ranks, registry, batching, entry=False):
        self.program = program
        self.entry = entry              # the function vmap maps (its unmapped arguments are shared)
        self.spec = spec
        self.pattern = pattern          # param -> abstract value (analysis.Leaf/Tup)
        self.param_ranks = ranks        # param -> rank of one example (int, tuple tree or None)
        self.registry = registry
        self.bt = batching              # module alias of runtime.batching
        self.node = spec.node
        self.locals = set(getattr(spec, "locals", set())) | A.names_in(self.node) \
            | {a.id for a in self.node.args.args}
        self.counters = {}
        self.src = spec.src
        self.ret_rank = None

    # -- names -------------------------------------------------------------
    def fresh(self, base):
        n = self.counters.get(base, 0)
        while True:
            n += 1
            name = f"{base}{n}"
            if name not in self.locals:
                self.counters[base] = n
                self.locals.add(name)
                return name

    def where(self, node):
        line = getattr(node, "lineno", None)
        return f"{self.src.filename}:{line}" if line else self.src.filename

    def helper(self, name):
        return A.attr(A.name(self.bt), name)

    def alias(self, module):
        return self.program.module_alias(module)

    # -- driver ------------------------------------------------------------
    def run(self, gen_name):
        for n in gast.walk(self.spec.node):
            if isinstance(n, gast.Attribute) and n.attr in _LIST_COTANGENTS \
                    and isinstance(n.value, gast.Name) and n.value.id == self.alias("runtime.adjoint"):
                # the cotangent of a list is a list, one entry per element (a gradient through
                # lists): not an array whose first axis could carry the batch
                raise NotVectorizable("a list of cotangents", self.where(n))
        analysis = An.Analysis(self.program)
        summary = analysis.function(self.spec, self.pattern)
        if summary is None:
            raise NotVectorizable("recursion")
        if summary.control:
            stmt = summary.control[0]
            raise NotVectorizable("a test or trip count depends on a mapped value", self.where(stmt))
        self.summary = summary
        self.env = summary.env
        self.result = summary.result
        self.intlike = self.find_intlike()
        self.ranks = self.propagate_ranks()
        params = [a.id for a in self.node.args.args]
        self.escaping = self.find_escaping()
        self.n = "_n" if "_n" not in self.locals else self.fresh("_n")
        self.locals.add(self.n)
        prologue = []
        for p in params:
            if self.entry and not An.any_batched(self.pattern.get(p)) and summary.group_written(p):
                # one array for every example: the loop writes it once per example
                raise NotVectorizable(f"a write into the unmapped argument {p}, which every example shares",
                                      self.where(self.node))
        for p in params:        # unmapped parameters written with batched values: own copies
            if self.batched(p) and not An.any_batched(self.pattern.get(p)):
                if isinstance(self.env.get(p), An.Tup):
                    raise NotVectorizable(f"tuple parameter {p} becomes batched")
                if summary.group_written(p):
                    # a copy would not carry the writes back to the caller's array
                    raise NotVectorizable(f"a write of mapped values into the argument {p}", self.where(self.node))
                prologue.append(A.assign(p, A.call(self.helper("broadcast"), [A.name(p), A.name(self.n)])))
        body = prologue + self.block(self.node.body)
        node = copy.copy(self.node)
        node.body = body or [gast.Pass()]
        node.args = copy.copy(self.node.args)
        node.args.args = [A.param(p) for p in params] + [A.param(self.n)]
        node.name = gen_name
        node.decorator_list = []
        return node

    # -- analysis helpers --------------------------------------------------------
    def batched(self, name):
        return An.any_batched(self.env.get(name))

    def atom_batched(self, node):
        if isinstance(node, gast.Name):
            return self.batched(node.id)
        if isinstance(node, (gast.Tuple, gast.List)):
            return any(self.atom_batched(e) for e in node.elts)
        if isinstance(node, gast.Starred):
            return self.atom_batched(node.value)
        return any(isinstance(n, gast.Name) and self.batched(n.id) for n in gast.walk(node))

    def find_escaping(self):
        """Names whose values leave the function or go into a container or a call
        of another generated function (where a write may reach them)."""
        out = set()
        for n in gast.walk(self.node):
            if isinstance(n, gast.Return) and n.value is not None:
                out |= A.names_in(n.value)
            elif isinstance(n, (gast.Tuple, gast.List)) and isinstance(n.ctx, gast.Load):
                out |= A.names_in(n)
            elif isinstance(n, gast.Call) and self.callee_of(n.func) is not None:
                for a in n.args:
                    out |= A.names_in(a)
        return out

    def must_own(self, name):
        """Whether a value read from `name`'s array must not stay a view of it:
        the array may be written, or the value may leave (vectorized code views
        the batch where one example would hold a number)."""
        group = self.summary.aliases.group(name)
        return self.summary.group_written(name) or bool(group & self.escaping)

    def find_intlike(self):
        """Names that only ever hold ints: range loop targets, len(), shapes."""
        assigns = {}
        fors = set()
        for n in gast.walk(self.node):
            if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Name):
                assigns.setdefault(n.targets[0].id, []).append(n.value)
            elif isinstance(n, gast.For) and isinstance(n.target, gast.Name):
                if isinstance(n.iter, gast.Call) and isinstance(n.iter.func, gast.Name) \
                        and n.iter.func.id == "range":
                    fors.add(n.target.id)
                else:
                    assigns.setdefault(n.target.id, []).append(None)
            elif isinstance(n, gast.Assign):
                for t in gast.walk(n.targets[0]):
                    if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                        assigns.setdefault(t.id, []).append(None)
        ints = set(fors) - set(assigns)
        shapes = {k for k, vs in assigns.items()
                  if all(isinstance(v, gast.Attribute) and v.attr == "shape" for v in vs)}

        def is_int(v):
            if v is None:
                return False
            if isinstance(v, gast.Constant):
                return isinstance(v.value, int) and not isinstance(v.value, bool)
            if isinstance(v, gast.Name):
                return v.id in ints
            if isinstance(v, gast.Call) and isinstance(v.func, gast.Name) and v.func.id == "len":
                return True
            if isinstance(v, gast.Subscript) and isinstance(v.value, gast.Name) and v.value.id in shapes \
                    and isinstance(v.slice, (gast.Constant, gast.Name)) and not isinstance(v.slice, gast.Slice):
                return isinstance(v.slice, gast.Constant) or v.slice.id in ints
            if isinstance(v, gast.BinOp) and isinstance(v.op, (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv,
                                                               gast.Mod)):
                return is_int(v.left) and is_int(v.right)
            if isinstance(v, gast.UnaryOp) and isinstance(v.op, gast.USub):
                return is_int(v.operand)
            return False

        changed = True
        while changed:
            changed = False
            for k, vs in assigns.items():
                if k not in ints and k not in fors and all(is_int(v) for v in vs):
                    ints.add(k)
                    changed = True
        return {k for k in ints if not self.batched(k)}

    # -- ranks -------------------------------------------------------------
    def propagate_ranks(self):
        ranks = {}
        for a in self.node.args.args:
            r = self.param_ranks.get(a.id)
            ranks[a.id] = r if isinstance(r, int) else None
        self._conflict = set()
        for _ in range(3):
            before = dict(ranks)
            self._rank_block(self.node.body, ranks)
            if ranks == before:
                break
        return ranks

    def _set_rank(self, ranks, name, r):
        if name in self._conflict:
            return
        if name in ranks and ranks[name] != r:
            ranks[name] = None
            self._conflict.add(name)
            return
        ranks[name] = r

    def _rank_block(self, stmts, ranks):
        for s in stmts:
            if isinstance(s, gast.Assign):
                t = s.targets[0]
                if isinstance(t, gast.Name):
                    self._set_rank(ranks, t.id, self.rank_of(s.value, ranks))
                elif isinstance(t, (gast.Tuple, gast.List)):
                    for e in t.elts:
                        if isinstance(e, gast.Name):
                            self._set_rank(ranks, e.id, None)
            elif isinstance(s, gast.For):
                if isinstance(s.target, gast.Name):
                    self._set_rank(ranks, s.target.id, 0 if s.target.id in self.intlike else None)
                self._rank_block(s.body, ranks)
            elif isinstance(s, (gast.If, gast.While)):
                self._rank_block(s.body, ranks)
                self._rank_block(s.orelse, ranks)
            elif isinstance(s, gast.Return) and s.value is not None:
                self.ret_rank = self.rank_of(s.value, ranks)

    def atom_rank(self, node, ranks):
        if isinstance(node, gast.Name):
            return ranks.get(node.id)
        ok, v = _const_value(node)
        if ok and isinstance(v, (bool, int, float, complex)):
            return 0
        return None

    def rank_of(self, value, ranks):
        """The rank of one example of `value` (or of the value, unbatched); None if unknown."""
        R = lambda n: self.atom_rank(n, ranks)      # noqa: E731
        if isinstance(value, gast.Name) or _is_const(value):
            return R(value)
        if isinstance(value, gast.BinOp):
            if isinstance(value.op, gast.MatMult):
                return _mm_rank(R(value.left), R(value.right))
            return _max_rank([R(value.left), R(value.right)])
        if isinstance(value, gast.UnaryOp):
            return R(value.operand)
        if isinstance(value, gast.Compare):
            return _max_rank([R(value.left)] + [R(c) for c in value.comparators])
        if isinstance(value, gast.Subscript):
            return self.subscript_rank(value, R(value.value))
        if isinstance(value, gast.Attribute):
            if value.attr in ("T", "real", "imag"):
                return R(value.value)
            if value.attr in ("ndim", "size"):
                return 0
            return None
        if isinstance(value, gast.Call):
            return self.call_rank(value, R)
        return None

    def subscript_rank(self, node, base):
        if base is None:
            return None
        comps = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        r = base
        for c in comps:
            if isinstance(c, gast.Slice):
                continue
            if isinstance(c, gast.Constant) and c.value is None:
                r += 1
            elif isinstance(c, gast.Constant) and c.value is Ellipsis:
                continue
            elif (isinstance(c, gast.Constant) and isinstance(c.value, int)) or \
                    (isinstance(c, gast.Name) and c.id in self.intlike) or \
                    (isinstance(c, gast.UnaryOp) and isinstance(c.operand, gast.Constant)):
                r -= 1
            else:
                return None
        return r if r >= 0 else None

    def call_rank(self, call, R):
        callee = self.callee_of(call.func)
        if callee is not None:
            return None
        fn = self.resolve(call.func)
        args = list(call.args)
        if fn is None and isinstance(call.func, gast.Attribute):
            fn = _METHODS.get(call.func.attr)
            args = [call.func.value] + args
        if fn is None:
            return None
        rules, rb = _rules()
        fn = rules.canonical(fn)
        kws = {k.arg: k.value for k in call.keywords}
        if fn in rb.SCALAR_TO_NUMPY or fn is getattr(builtins, "abs"):
            return _max_rank([R(a) for a in args])
        if fn in (float, int, len, max, min) or fn in (getattr(__import__("math"), "log"),):
            return 0
        kind, _ = rules.lookup_batching(fn)
        if kind == "elementwise":
            if fn is np.where and len(args) != 3:
                return None
            return _max_rank([R(a) for a in args] + [R(v) for v in kws.values()])
        r0 = R(args[0]) if args else None
        axis = kws.get("axis", args[1] if len(args) > 1 else None)
        keep = kws.get("keepdims")
        keepdims = isinstance(keep, gast.Constant) and keep.value is True
        if fn in (np.sum, np.prod, np.mean, np.max, np.min, np.amax, np.amin, np.any, np.all, np.var, np.std,
                  np.nansum, np.nanmean, np.nanmax, np.nanmin):
            if r0 is None:
                return None
            if keepdims:
                return r0
            ok, ax = _const_value(axis) if axis is not None else (True, None)
            if not ok:
                return None
            if ax is None:
                return 0
            return r0 - (len(ax) if isinstance(ax, tuple) else 1)
        if fn in (np.argmax, np.argmin):
            ok, ax = _const_value(axis) if axis is not None else (True, None)
            if not ok or r0 is None:
                return None
            return 0 if ax is None else r0 - 1
        if fn in (np.cumsum, np.cumprod):
            ok, ax = _const_value(axis) if axis is not None else (True, None)
            return (1 if ax is None else r0) if ok else None
        if fn in (np.matmul, np.dot) and len(args) == 2:
            return _mm_rank(R(args[0]), R(args[1]))
        if fn is np.reshape:
            shape = kws.get("shape", args[1] if len(args) > 1 else None)
            ok, v = _const_value(shape) if shape is not None else (False, None)
            if ok:
                return len(v) if isinstance(v, tuple) else 1
            return None
        if fn is np.ravel:
            return 1
        if fn in (np.transpose, np.copy, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
                  np.ndarray.astype):
            return r0
        if fn is np.expand_dims:
            ok, ax = _const_value(axis) if axis is not None else (False, None)
            if ok and r0 is not None:
                return r0 + (len(ax) if isinstance(ax, tuple) else 1)
            return None
        if fn in (np.concatenate, np.stack) and args and isinstance(args[0], (gast.Tuple, gast.List)):
            rs = [R(e) for e in args[0].elts]
            if rs and all(r is not None and r == rs[0] for r in rs):
                return rs[0] + (1 if fn is np.stack else 0)
            return None
        if fn in (np.array, np.asarray) and args:
            if isinstance(args[0], (gast.Tuple, gast.List)):
                rs = [R(e) for e in args[0].elts]
                if rs and all(r is not None and r == rs[0] for r in rs):
                    return rs[0] + 1
                return None
            return r0
        if fn in (np.zeros, np.ones, np.empty, np.full):
            shape = args[0] if args else kws.get("shape")
            ok, v = _const_value(shape) if shape is not None else (False, None)
            if ok:
                return len(v) if isinstance(v, tuple) else 1
            if isinstance(shape, gast.Name) and shape.id in self.intlike:
                return 1
            return None
        if fn is np.outer:
            return 2
        if fn is np.einsum and args:
            ok, s = _const_value(args[0])
            if ok and isinstance(s, str) and "->" in s and "..." not in s:
                return len(s.split("->")[1].strip())
        return None

    # -- resolution --------------------------------------------------------------
    def callee_of(self, func):
        return find_callee(self.program, func)

    def resolve(self, func):
        return resolve_static(self.program, func,
                              lambda name: name not in self.locals and hasattr(builtins, name))

    def emit_global(self, value):
        """An expression naming the module-level object `value` in generated code."""
        import types
        if isinstance(value, types.ModuleType):
            if value.__name__ == "runtime.batching":
                return A.name(self.bt)
            return A.name(self.alias(value.__name__))
        path = _import_path(value)
        if path is None:
            raise NotVectorizable(f"cannot name {value!r} in generated code")
        modname, qualname = path
        if modname == "builtins":
            return A.dotted(qualname)
        out = A.name(self.bt) if modname == "runtime.batching" else A.name(self.alias(modname))
        for part in qualname.split("."):
            out = A.attr(out, part)
        return out

    # -- statements --------------------------------------------------------------
    def block(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Subscript):
                return self.setitem(s)
            if isinstance(target, gast.Name):
                return self.assign(s, target.id)
            if isinstance(target, (gast.Tuple, gast.List)):
                return self.unpack(s)
            raise NotVectorizable(f"assignment to a {type(target).__name__}", self.where(s))
        if isinstance(s, gast.Expr):
            return self.expr(s)
        if isinstance(s, gast.If):
            s = copy.copy(s)
            s.body = self.block(s.body) or [gast.Pass()]
            s.orelse = self.block(s.orelse)
            return [s]
        if isinstance(s, (gast.For, gast.While)):
            s = copy.copy(s)
            s.body = self.block(s.body) or [gast.Pass()]
            s.orelse = self.block(s.orelse)
            return [s]
        if isinstance(s, (gast.Return, gast.Break, gast.Continue, gast.Pass)):
            return [s]
        raise NotVectorizable(f"a {type(s).__name__} statement", self.where(s))

    def located(self, stmts, model):
        return [A.located(st, model) for st in stmts]

    def assign(self, s, name):
        self._last_result = None
        pre = []
        value = s.value
        is_batched = self.atom_batched(value)
        if is_batched or self.calls_generated(value):
            value = self.batch_value(value, s, pre)
            if self._last_result is not None:       # a call to a vectorized function
                is_batched = An.any_batched(self._last_result)
            elif self.tuple_item(s.value) is not None:  # `r[0]` of a tuple with unbatched items
                is_batched = An.any_batched(self.tuple_item(s.value))
            elif isinstance(s.value, gast.Attribute) and s.value.attr in _SHAPE_ATTRS \
                    or isinstance(s.value, gast.Call) and self.resolve(s.value.func) is len:
                is_batched = False              # the shape of one example
        if self.batched(name) and not is_batched:
            if isinstance(s.value, gast.Call) and self.resolve(s.value.func) is _tape_alloc():
                raise NotVectorizable("a tape of batched values", self.where(s))
            if isinstance(s.value, (gast.Dict, gast.Set, gast.ListComp, gast.DictComp, gast.SetComp,
                                    gast.GeneratorExp)) \
                    or (isinstance(s.value, gast.Call)
                        and self.resolve(s.value.func) in (dict, set, list, tuple, frozenset)):
                raise NotVectorizable("a container of mapped values", self.where(s))
            abstract = self.env.get(name)
            if isinstance(value, (gast.Tuple, gast.List)):
                value = self.lift_display(value, abstract, pre, s)
            elif isinstance(abstract, An.Tup) and not _is_const(value):
                # a tuple (a helper's (value, tangent)) computed once for all examples: its
                # items, each broadcast where the variable holds a batch
                tmp = self.fresh("_u")
                pre.append(A.assign(tmp, value))
                items = gast.Tuple(elts=[gast.Subscript(value=A.name(tmp), slice=A.const(k), ctx=gast.Load())
                                         for k in range(len(abstract.items))], ctx=gast.Load())
                value = self.lift_display(items, abstract, pre, s)
            elif isinstance(value, gast.Name) or _is_const(value):
                value = A.call(self.helper("broadcast"), [value, A.name(self.n)])
            else:
                tmp = self.fresh("_u")
                pre.append(A.assign(tmp, value))
                value = A.call(self.helper("broadcast"), [A.name(tmp), A.name(self.n)])
        elif isinstance(value, (gast.Tuple, gast.List)) and isinstance(self.env.get(name), An.Tup):
            value = self.lift_display(value, self.env.get(name), pre, s)
        elif isinstance(self.env.get(name), An.Tup) and self._last_result is not None \
                and not _same_batching(self._last_result, self.env.get(name)):
            raise NotVectorizable("a tuple whose items are batched in some places only", self.where(s))
        return self.located(pre + [gast.Assign(targets=[A.store(name)], value=value, type_comment=None)], s)

    def tuple_item(self, value):
        """The abstract value of `r[k]` or `checks.getitem(r, k, ...)` where `r` is a
        tuple variable (a vectorized callee's result: some items may be unbatched); else None."""
        if isinstance(value, gast.Call) and value.args and self.resolve(value.func) is _rules()[1].checks.getitem:
            base, index = value.args[0], value.args[1] if len(value.args) > 1 else None
        elif isinstance(value, gast.Subscript):
            base, index = value.value, value.slice
        else:
            return None
        if not (isinstance(base, gast.Name) and isinstance(self.env.get(base.id), An.Tup)
                and isinstance(index, gast.Constant) and type(index.value) is int):
            return None
        items = self.env[base.id].items
        return items[index.value] if -len(items) <= index.value < len(items) else None

    def lift_display(self, value, abstract, pre, s):
        if not isinstance(abstract, An.Tup) or len(abstract.items) != len(value.elts):
            return value
        elts = []
        for e, a in zip(value.elts, abstract.items):
            if isinstance(a, An.Leaf) and a.batched and not self.atom_batched(e):
                tmp = self.fresh("_u")
                pre.append(A.assign(tmp, A.call(self.helper("broadcast"), [e, A.name(self.n)])))
                elts.append(A.name(tmp))
            elif isinstance(a, An.Tup) and isinstance(e, (gast.Tuple, gast.List)):
                elts.append(self.lift_display(e, a, pre, s))
            elif isinstance(a, An.Tup) and self.atom_batched(e) != An.any_batched(a):
                raise NotVectorizable("a tuple whose items are batched in some places only", self.where(s))
            else:
                elts.append(e)
        return type(value)(elts=elts, ctx=gast.Load())

    def unpack(self, s):
        pre = []
        value = s.value
        if self.atom_batched(value) or self.calls_generated(value):
            value = self.batch_value(value, s, pre)
        tmp = self.fresh("_r")
        pre.append(A.assign(tmp, value))
        out = []
        result = getattr(self, "_last_result", None)
        items = result.items if isinstance(result, An.Tup) else None
        for k, t in enumerate(s.targets[0].elts):
            if not isinstance(t, gast.Name):
                raise NotVectorizable("nested unpacking", self.where(s))
            part = gast.Subscript(value=A.name(tmp), slice=A.const(k), ctx=gast.Load())
            have = An.any_batched(items[k]) if items is not None and k < len(items) else self.atom_batched(value)
            if self.batched(t.id) and not have:
                ptmp = self.fresh("_u")
                out.append(A.assign(ptmp, part))
                part = A.call(self.helper("broadcast"), [A.name(ptmp), A.name(self.n)])
            out.append(A.assign(t.id, part))
        self._last_result = None
        return self.located(pre + out, s)

    def calls_generated(self, value):
        return isinstance(value, gast.Call) and self.callee_of(value.func) is not None

    def expr(self, s):
        call = s.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                and isinstance(call.func.value, gast.Name) and call.func.attr in _LIST_METHODS \
                and call.func.value.id in self.locals and self.resolve(call.func) is None:
            lst = call.func.value.id
            if self.batched(lst) or any(self.atom_batched(a) for a in call.args):
                # a list of batched values (a tape of a derivative): indexing
                # it is not indexing the batch axis
                raise NotVectorizable("a list of batched values", self.where(s))
            return [s]
        if isinstance(call, gast.Call):
            fn = self.resolve(call.func)
            if fn is print:
                raise NotVectorizable("print runs once per example", self.where(s))
            if not self.atom_batched(call) and not self.calls_generated(call):
                return [s]
            pre = []
            value = self.batch_value(call, s, pre)
            return self.located(pre + [gast.Expr(value=value)], s)
        raise NotVectorizable("an expression statement", self.where(s))

    # -- indexing ------------------------------------------------------------------
    def components(self, index, s):
        comps = list(index.elts) if isinstance(index, gast.Tuple) else [index]
        kinds = []
        for c in comps:
            if self.atom_batched(c):
                raise NotVectorizable("an index that depends on a mapped value", self.where(s))
            if isinstance(c, gast.Slice) or (isinstance(c, gast.Constant) and c.value in (None, Ellipsis)):
                kinds.append("basic")
            elif _is_const(c):
                ok, v = _const_value(c)
                if not ok or not isinstance(v, int):      # a key of a dict, a float, ...
                    raise NotVectorizable("an index that is not an integer", self.where(s))
                kinds.append("int")
            elif isinstance(c, gast.Name) and c.id in self.intlike:
                kinds.append("int")
            elif isinstance(c, gast.Name):
                kinds.append("adv")
            else:
                raise NotVectorizable("an index expression", self.where(s))
        if "adv" in kinds:
            pos = [k for k, kind in enumerate(kinds) if kind != "basic"]
            if pos != list(range(pos[0], pos[-1] + 1)):
                raise NotVectorizable("array indices apart from each other", self.where(s))
        full = gast.Slice(lower=None, upper=None, step=None)
        return A.tuple_([full] + [copy.deepcopy(c) for c in comps])

    def getitem(self, node, s, pre):
        base = node.value
        if not isinstance(base, gast.Name):
            raise NotVectorizable("a subscript of an expression", self.where(s))
        if isinstance(self.env.get(base.id), An.Tup):
            if not (isinstance(node.slice, gast.Constant) and isinstance(node.slice.value, int)):
                raise NotVectorizable("a tuple indexed by a variable", self.where(s))
            return node
        if not self.batched(base.id):
            raise NotVectorizable("an unbatched array indexed by a mapped value", self.where(s))
        index = self.components(node.slice, s)
        if isinstance(node.slice, gast.Name) and node.slice.id not in self.intlike:
            # one array index (a mask or integers): a[:, index], through a
            # helper because compiled code takes a mask of more than one axis
            # only as a flat one
            return A.call(self.helper("index_examples"), [A.name(base.id), copy.deepcopy(node.slice)])
        sub = gast.Subscript(value=A.name(base.id), slice=index, ctx=gast.Load())
        comps = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if all(not isinstance(c, gast.Slice) and not (isinstance(c, gast.Constant) and c.value in (None, Ellipsis))
               for c in comps) and self.must_own(base.id):
            # integers only: one example reads a number (a copy), the batch a
            # view `a[:, i]`, which a later write into `a` would change
            tmp = self.fresh("_v")
            pre.append(A.located(A.assign(tmp, sub), s))
            return A.call(self.helper("copy_if_numbers"), [A.name(tmp), A.const(1)])
        return sub

    def setitem(self, s):
        target = s.targets[0]
        base = target.value
        if not isinstance(base, gast.Name):
            raise NotVectorizable("a write into an expression", self.where(s))
        if not self.batched(base.id):
            return [s]
        if isinstance(self.env.get(base.id), An.Tup):
            raise NotVectorizable("a write into a list or tuple of mapped values", self.where(s))
        pre = []
        index = self.components(target.slice, s)
        value = s.value
        if self.atom_batched(value):
            vr = self.atom_rank(value, self.ranks)
            tr = self.subscript_rank(target, self.ranks.get(base.id))
            if vr is None or tr is None or vr != tr:
                view = self.fresh("_view")
                pre.append(A.assign(view, gast.Subscript(value=A.name(base.id), slice=copy.deepcopy(index),
                                                         ctx=gast.Load())))
                tmp = self.fresh("_a")
                pre.append(A.assign(tmp, A.call(self.helper("match_rank_b"), [value, A.name(view)])))
                value = A.name(tmp)
        new = gast.Assign(targets=[gast.Subscript(value=A.name(base.id), slice=index, ctx=gast.Store())],
                          value=value, type_comment=None)
        return self.located(pre + [new], s)

    # -- right-hand sides -----------------------------------------------------------
    def batch_value(self, value, s, pre):
        """The batched form of an ANF right-hand side with batched operands."""
        self._last_result = None
        if isinstance(value, gast.Name) or _is_const(value):
            return value
        if isinstance(value, (gast.Tuple, gast.List)):
            return value
        if isinstance(value, (gast.BinOp, gast.Compare)):
            operands = [value.left, value.right] if isinstance(value, gast.BinOp) \
                else [value.left] + list(value.comparators)
            if any(self.sequence_items(o) is not None for o in operands):
                # `[a] + [b]`, `t * 2`, `t == u`: lists and tuples, not arrays
                raise NotVectorizable("arithmetic or a comparison on a list or tuple of mapped values",
                                      self.where(s))
        if isinstance(value, gast.BinOp):
            if isinstance(value.op, gast.MatMult):
                return self.call_rule(np.matmul, None, [value.left, value.right], {}, s, pre)
            fn = _BINOPS.get(type(value.op))
            if fn is None:
                raise NotVectorizable(f"the operator {type(value.op).__name__}", self.where(s))
            left, right = self.align([value.left, value.right], s, pre)
            return gast.BinOp(left=left, op=value.op, right=right)
        if isinstance(value, gast.UnaryOp):
            if isinstance(value.op, gast.Not):
                return A.call(A.attr(self.alias("numpy"), "logical_not"), [value.operand])
            return value
        if isinstance(value, gast.Compare):
            if len(value.ops) != 1 or not isinstance(value.ops[0], _CMPOPS):
                raise NotVectorizable("a comparison", self.where(s))
            left, right = self.align([value.left, value.comparators[0]], s, pre)
            return gast.Compare(left=left, ops=value.ops, comparators=[right])
        if isinstance(value, gast.Subscript):
            return self.getitem(value, s, pre)
        if isinstance(value, gast.Attribute):
            if value.attr in _SHAPE_ATTRS and isinstance(value.value, gast.Name) and self.batched(value.value.id):
                return A.call(self.helper(_SHAPE_ATTRS[value.attr]), [value.value])
            if value.attr == "T":
                return self.call_rule(np.transpose, None, [value.value], {}, s, pre)
            if value.attr in ("real", "imag", "dtype"):
                return value
            raise NotVectorizable(f"the attribute .{value.attr}", self.where(s))
        if isinstance(value, gast.Call):
            return self.call(value, s, pre)
        raise NotVectorizable(f"a {type(value).__name__}", self.where(s))

    def call(self, call, s, pre):
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            raise NotVectorizable("a call with *args or **kwargs", self.where(s))
        callee = self.callee_of(call.func)
        if callee is not None:
            return self.call_generated(call, callee, s)
        fn = self.resolve(call.func)
        args = list(call.args)
        func = call.func
        if fn is None and isinstance(call.func, gast.Attribute):
            method = call.func.attr
            if method in _SAME_METHODS and not any(self.atom_batched(a) for a in args) \
                    and not any(self.atom_batched(k.value) for k in call.keywords):
                return call             # the same method of each example, of the batch
            fn = _METHODS.get(method)
            if fn is None:
                raise NotVectorizable(f"the method .{method}()", self.where(s))
            args = [call.func.value] + args
            func = None
            if method == "transpose" and len(args) > 2:
                args = [args[0], A.tuple_(args[1:])]
            if method in _COPY_METHODS:         # a new array, where ravel may view
                kws = {k.arg: k.value for k in call.keywords}
                tmp = self.fresh("_v")
                pre.append(A.located(A.assign(tmp, self.call_rule(fn, func, args, kws, s, pre)), s))
                return A.call(A.attr(A.name(self.alias("numpy")), "copy"), [A.name(tmp)])
        if fn is None:
            raise NotVectorizable("a call of an unknown function", self.where(s))
        kws = {k.arg: k.value for k in call.keywords}
        return self.call_rule(fn, func, args, kws, s, pre)

    def call_rule(self, fn, func, args, kws, s, pre):
        rules, rb = _rules()
        if "out" in kws and (any(self.atom_batched(a) for a in args)
                             or any(self.atom_batched(v) for v in kws.values())):
            raise NotVectorizable("a result written into out=", self.where(s))
        seqs = [a for a in list(args) + list(kws.values()) if self.batched_sequence(a)]
        if args and fn is rb.checks.check_unpack and isinstance(args[0], gast.Name) \
                and isinstance(self.env.get(args[0].id), An.Tup):
            return A.call(copy.deepcopy(func), list(args), [gast.keyword(arg=k, value=v)
                                                            for k, v in kws.items()])
        if seqs:
            if fn is len and len(args) == 1 and not kws:
                return A.const(len(self.sequence_items(args[0])))
            if fn in rb.SCALAR_TO_NUMPY or fn in rb.SCALAR_FUNCTIONS:
                raise NotVectorizable("a list or tuple passed to a function of numbers", self.where(s))
            args, kws = self.arrays_for_sequences(fn, args, kws, s, pre)
        if fn in rb.SCALAR_TO_NUMPY:
            fn = rb.SCALAR_TO_NUMPY[fn]
            func = None
        kind, tpl = rules.lookup_batching(fn)
        if kind == "elementwise":
            if fn is np.where and len(args) != 3:
                raise NotVectorizable("np.where with one argument", self.where(s))
            if any(self.atom_batched(v) for v in kws.values()):
                raise NotVectorizable("a batched keyword argument", self.where(s))
            new_args = self.align(args, s, pre)
            f = copy.deepcopy(func) if func is not None else self.emit_global(fn)
            return A.call(f, new_args, [gast.keyword(arg=k, value=v) for k, v in kws.items()])
        if kind == "template":
            f = copy.deepcopy(func) if func is not None else self.emit_global(fn)
            mark = len(pre)
            try:
                return _Instance(self, _Template.of(tpl), f, args, kws, s, pre).run()
            except NotVectorizable:
                if not _loopable(fn):
                    raise
                del pre[mark:]
        if _loopable(fn):
            f = copy.deepcopy(func) if func is not None else self.emit_global(fn)
            return self.each_example(f, args, kws, s, pre)
        raise NotVectorizable(f"no batching rule for {_describe_fn(fn, None)}", self.where(s))

    # -- lists and tuples of mapped values ----------------------------------------------
    def batched_sequence(self, node):
        """A list/tuple display or variable holding mapped values (not an array:
        each item is a batch, and the list's axis is not the batch axis)."""
        if isinstance(node, (gast.Tuple, gast.List)):
            return self.atom_batched(node)
        if isinstance(node, gast.Name) and isinstance(self.env.get(node.id), An.Tup):
            return An.any_batched(self.env.get(node.id))
        return False

    def sequence_items(self, node, s=None, pre=None):
        """The item atoms of a display or a tuple/list variable (each taken out
        into a temporary when `pre` is given); None for anything else."""
        if isinstance(node, (gast.Tuple, gast.List)):
            if any(isinstance(e, gast.Starred) for e in node.elts):
                raise NotVectorizable("a starred item", self.where(s) if s is not None else None)
            return list(node.elts)
        if isinstance(node, gast.Name) and isinstance(self.env.get(node.id), An.Tup):
            items = self.env[node.id].items
            if pre is None:
                return list(items)
            out = []
            for k, item in enumerate(items):
                tmp = self.fresh("_i")
                pre.append(A.located(A.assign(tmp, gast.Subscript(value=A.name(node.id), slice=A.const(k),
                                                                  ctx=gast.Load())), s))
                self.env[tmp] = item
                self.ranks[tmp] = None
                out.append(A.name(tmp))
            return out
        return None

    def array_item(self, node, s, pre):
        """An atom holding the batch of `np.asarray(item)` for each example: a
        nested list stacked, a mapped value itself, an unmapped one broadcast."""
        if self.batched_sequence(node):
            return self.array_of(node, s, pre)
        if self.atom_batched(node):
            return node
        if isinstance(node, (gast.Tuple, gast.List)) or \
                (isinstance(node, gast.Name) and isinstance(self.env.get(node.id), An.Tup)):
            arr = self.fresh("_v")
            pre.append(A.located(A.assign(arr, A.call(A.attr(A.name(self.alias("numpy")), "asarray"),
                                                      [copy.deepcopy(node)])), s))
            node = A.name(arr)
        tmp = self.fresh("_u")
        pre.append(A.located(A.assign(tmp, A.call(self.helper("broadcast"), [copy.deepcopy(node),
                                                                             A.name(self.n)])), s))
        self.env[tmp] = An.Leaf(True)
        self.ranks[tmp] = self.atom_rank(node, self.ranks)
        return A.name(tmp)

    def array_of(self, node, s, pre):
        """An atom holding, for each example, `np.array(node)` of a list/tuple
        (nested ones too): the items' batches stacked along axis 1, after the
        batch axis (the list's own axis in each example)."""
        items = self.sequence_items(node, s, pre)
        if not items:
            raise NotVectorizable("an empty list of mapped values", self.where(s))
        atoms = [self.array_item(e, s, pre) for e in items]
        ranks = [self.atom_rank(a, self.ranks) for a in atoms]
        tmp = self.fresh("_v")
        stack = A.call(A.attr(A.name(self.alias("runtime.npx")), "stack"), [A.tuple_(atoms), A.const(1)])
        pre.append(A.located(A.assign(tmp, stack), s))
        self.env[tmp] = An.Leaf(True)
        self.ranks[tmp] = ranks[0] + 1 if all(r is not None and r == ranks[0] for r in ranks) else None
        return A.name(tmp)

    def arrays_for_sequences(self, fn, args, kws, s, pre):
        """The arguments of a call with a list/tuple of mapped values where NumPy
        takes an array: that list as the batch of its arrays (`np.sum([a, b])`
        sums, per example, `np.array([a, b])`). A parameter that takes a
        sequence of arrays itself (`np.concatenate`'s) is left to its rule."""
        rules, rb = _rules()
        kind, tpl = rules.lookup_batching(fn)
        if kind == "elementwise":
            convert = lambda name: True                             # noqa: E731
            names = [None] * len(args)
        elif kind == "template":
            t = _Template.of(tpl)
            keep = rb.SEQUENCE_PARAMS.get(fn, ())
            try:
                bound = t.signature.bind(*args, **kws)
            except TypeError as exc:
                raise NotVectorizable(f"{t.fn.__name__}: {exc}", self.where(s)) from None
            by_id = {}
            for name, value in bound.arguments.items():
                param = t.signature.parameters[name]
                if param.kind is inspect.Parameter.VAR_POSITIONAL:
                    for v in value:
                        by_id[id(v)] = name
                elif param.kind is not inspect.Parameter.VAR_KEYWORD:
                    by_id[id(value)] = name
            names = [by_id.get(id(a)) for a in args]
            convert = lambda name: name in t.batched and name not in keep      # noqa: E731
        else:
            raise NotVectorizable("a list or tuple of mapped values passed to a function with no batching rule",
                                  self.where(s))
        new_args = []
        for a, name in zip(args, names):
            new_args.append(self.array_of(a, s, pre) if self.batched_sequence(a) and convert(name) else a)
        new_kws = {}
        for k, v in kws.items():
            name = k if kind == "template" else None
            new_kws[k] = self.array_of(v, s, pre) if self.batched_sequence(v) and convert(name) else v
        return new_args, new_kws

    def each_example(self, f, args, kws, s, pre):
        """A call with no vectorized form as a loop over the examples of its
        batched arguments, the rest of the function staying vectorized (ANF):

            _e1 = a[0]                 # example 0 gives the shape
            _x1 = f(_e1, w)
            _o1 = batching.alloc(_x1, _n)
            _o1[0] = _x1
            for _b1 in range(1, _n):
                _e1 = a[_b1]
                _x1 = f(_e1, w)
                _o1[_b1] = _x1
        """
        if any(isinstance(a, gast.Name) and isinstance(self.env.get(a.id), An.Tup) for a in args):
            raise NotVectorizable("a tuple passed to a runtime helper", self.where(s))
        items = list(args) + list(kws.values())
        picks = {}
        for k, a in enumerate(items):
            if self.atom_batched(a):
                if not isinstance(a, gast.Name):
                    raise NotVectorizable("a batched expression as an argument", self.where(s))
                if self.summary.group_written(a.id):
                    # one example's result may view its argument; these are copies
                    raise NotVectorizable("a helper's argument written in place", self.where(s))
                picks[k] = self.fresh("_e")
        first, out, b = self.fresh("_x"), self.fresh("_o"), self.fresh("_b")
        n = A.name(self.n)

        def example(k):
            stmts = [A.assign(picks[j], _in_bounds(gast.Subscript(value=A.name(items[j].id), slice=k,
                                                                  ctx=gast.Load())))
                     for j in sorted(picks)]
            chosen = [A.name(picks[j]) if j in picks else copy.deepcopy(a) for j, a in enumerate(items)]
            call = A.call(copy.deepcopy(f), chosen[:len(args)],
                          [gast.keyword(arg=key, value=v) for key, v in zip(kws, chosen[len(args):])])
            return stmts + [A.assign(first, call)]

        def put(k):
            return gast.Assign(targets=[_in_bounds(gast.Subscript(value=A.name(out), slice=k, ctx=gast.Store()))],
                               value=A.name(first), type_comment=None)

        body = [A.expr_stmt(A.call(self.helper("check_nonempty"), [n]))] + example(A.const(0)) + [
            A.assign(out, A.call(self.helper("alloc"), [A.name(first), copy.deepcopy(n)])), put(A.const(0))]
        loop = gast.For(target=A.store(b), iter=A.call(A.name("range"), [A.const(1), copy.deepcopy(n)]),
                        body=self.located(example(A.name(b)) + [put(A.name(b))], s), orelse=[],
                        type_comment=None)
        pre.extend(self.located(body + [loop], s))
        return A.name(out)

    def align(self, args, s, pre):
        """Element-wise arguments with the ranks of their examples lined up."""
        if not any(self.atom_batched(a) for a in args):
            return list(args)
        ranks = [self.atom_rank(a, self.ranks) for a in args]
        arrays = [k for k, a in enumerate(args) if not _is_const(a)]
        out = list(args)
        known = all(ranks[k] is not None for k in arrays)
        top = max((ranks[k] for k in arrays), default=0) if known else None
        for k, a in enumerate(args):
            if not self.atom_batched(a):
                continue
            if known and ranks[k] == top:
                continue
            others = [j for j in arrays if j != k and (not known or ranks[j] > ranks[k])]
            current = a
            for j in others:
                helper = "match_rank_b" if self.atom_batched(args[j]) else "match_rank"
                tmp = self.fresh("_a")
                pre.append(A.assign(tmp, A.call(self.helper(helper), [current, copy.deepcopy(args[j])])))
                current = A.name(tmp)
            out[k] = current
        return out

    def call_generated(self, call, callee, s):
        params = [a.id for a in callee.node.args.args]
        if len(call.args) != len(params) or call.keywords:
            raise NotVectorizable("a call with a different number of arguments", self.where(s))
        pattern = {p: self.abstract(a) for p, a in zip(params, call.args)}
        ranks = {p: self.atom_rank(a, self.ranks) for p, a in zip(params, call.args)}
        if not any(An.any_batched(v) for v in pattern.values()):
            return call
        vec = vectorize_function(self.program, callee, pattern, ranks, self.registry, self.bt)
        self._last_result = vec.vec_result
        return A.call(A.name(vec.gen_name), list(call.args) + [A.name(self.n)])

    def abstract(self, atom):
        if isinstance(atom, gast.Name):
            v = self.env.get(atom.id)
            return v if v is not None else An.Leaf(False)
        if isinstance(atom, (gast.Tuple, gast.List)):
            return An.Tup(self.abstract(e) for e in atom.elts)
        return An.Leaf(False)


#: runtime helpers of generated derivative code that return one array or
#: number shaped by their arguments' shapes and change nothing: a call with
#: no vectorized form loops over the examples (`Vectorizer.each_example`)
_LOOP_MODULES = ("runtime.adjoint", "runtime.tangent", "runtime.tape")
_NOT_LOOPABLE = ("split_like", "unstack_like", "einsum_vjps", "einsum_vjps_tangent", "add_at", "alloc",
                 "grad_seed")


def _tape_alloc():
    return tape.alloc


def _in_bounds(subscript):
    """Mark an index into the batch axis (0 .. _n-1): the checks pass leaves it."""
    subscript.in_bounds = True
    return subscript


def _loopable(fn):
    return getattr(fn, "__module__", None) in _LOOP_MODULES and getattr(fn, "__name__", "") not in _NOT_LOOPABLE


def _same_batching(a, b):
    if isinstance(a, An.Tup) and isinstance(b, An.Tup) and len(a.items) == len(b.items):
        return all(_same_batching(x, y) for x, y in zip(a.items, b.items))
    return An.any_batched(a) == An.any_batched(b) and not isinstance(a, An.Tup) and not isinstance(b, An.Tup)


def _max_rank(ranks):
    if any(r is None for r in ranks):
        return None
    return max(ranks) if ranks else 0


def _mm_rank(a, b):
    if a is None or b is None or a == 0 or b == 0:
        return None
    if a == 1 and b == 1:
        return 0
    if a == 1:
        return b - 1
    if b == 1:
        return a - 1
    return max(a, b)


def result_rank(program, spec, ranks):
    """The rank of what `spec` returns, from the ranks of its parameters
    (None when unknown or when its returns disagree)."""
    vec = Vectorizer(program, spec, {}, ranks, {}, None)
    vec.env = {}
    vec.intlike = vec.find_intlike()
    final = vec.propagate_ranks()
    found = {vec.rank_of(n.value, final) for n in gast.walk(spec.node)
             if isinstance(n, gast.Return) and n.value is not None}
    return found.pop() if len(found) == 1 else None


def vectorize_function(program, spec, pattern, ranks, registry, batching, entry=False):
    """The `_Extra` vectorized version of `spec` for this pattern (memoised);
    raises NotVectorizable. `entry`: `spec` is the function vmap maps (not a
    function it calls)."""
    key = ("vec", spec.gen_name, tuple(sorted(pattern.items(), key=lambda kv: kv[0])),
           tuple(sorted(ranks.items(), key=lambda kv: kv[0])), entry)

    def build(name):
        vec = Vectorizer(program, spec, pattern, ranks, registry, batching, entry)
        node = vec.run(name)

        def fill(extra):
            extra.locals = vec.locals
            extra.vec_result = vec.result
            extra.vec_ret_rank = vec.ret_rank
        return node, fill

    return generated(program, spec, registry, key, f"vec_{spec.gen_name}", NotVectorizable, build)
