"""The vectorizer's rules for right-hand sides (transpile/batching/vectorize.py):
operators, attributes and calls of an ANF statement with batched operands.

* Element-wise operations line up the ranks of their operands after the
  batch axis (`align`: `batching.match_rank`, emitted only where the ranks
  of one example, batching/ranks.py, are not known to agree).
* A call goes to its rule in `runtime.rules`: element-wise, or a
  `vmap_rule` template instantiated for it (batching/templates.py); a list
  of mapped values where NumPy takes an array becomes the batch of
  `np.array(list)` first (batching/sequences.py). Methods become their
  NumPy functions.
* A runtime helper of derivative code with no vectorized form loops over
  the examples of that one call (`each_example`), the rest of the function
  staying vectorized.

Subscripts are batching/indexing.py's, calls of other generated functions
the driver's (`Vectorizer.call_generated`). `Expressions` is a mixin of
`Vectorizer`.
"""
import copy

import gast
import numpy as np

from .. import astutil as A
from ..resolve import _describe_fn
from . import analysis as An
from .templates import _Instance, _Template
from .vecbase import _METHODS, _SHAPE_ATTRS, NotVectorizable, _is_const, _rules

_BINOPS = {gast.Add: np.add, gast.Sub: np.subtract, gast.Mult: np.multiply, gast.Div: np.true_divide,
           gast.Pow: np.power, gast.FloorDiv: np.floor_divide, gast.Mod: np.mod,
           gast.BitAnd: np.bitwise_and, gast.BitOr: np.bitwise_or, gast.BitXor: np.bitwise_xor,
           gast.LShift: np.left_shift, gast.RShift: np.right_shift}
_CMPOPS = (gast.Lt, gast.LtE, gast.Gt, gast.GtE, gast.Eq, gast.NotEq)
_SAME_METHODS = {"copy", "astype", "conj", "conjugate"}
_COPY_METHODS = {"flatten"}

#: runtime helpers of generated derivative code that return one array or
#: number shaped by their arguments' shapes and change nothing: a call with
#: no vectorized form loops over the examples (`Vectorizer.each_example`)
_LOOP_MODULES = ("runtime.adjoint", "runtime.tangent", "runtime.tape")
_NOT_LOOPABLE = ("split_like", "unstack_like", "einsum_vjps", "einsum_vjps_tangent", "add_at", "alloc",
                 "grad_seed")


def _in_bounds(subscript):
    """Mark an index into the batch axis (0 .. _n-1): the checks pass leaves it."""
    subscript.in_bounds = True
    return subscript


def _loopable(fn):
    return getattr(fn, "__module__", None) in _LOOP_MODULES and getattr(fn, "__name__", "") not in _NOT_LOOPABLE


class Expressions:
    """The batched form of each right-hand side."""

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
