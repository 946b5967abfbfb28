"""The vectorizer's rules for statements (transpile/batching/vectorize.py):
assignments, unpacking, expression statements, and `if`/`for`/`while`
rewritten in place (their tests and trip counts are unbatched).

A variable that holds a batched value anywhere holds one everywhere: an
unbatched value assigned to it is broadcast over the batch
(`batching.broadcast(v, _n)`), a tuple item by item. Right-hand sides with
batched operands go to `batch_value` (batching/expressions.py), writes
into arrays to `setitem` (batching/indexing.py).

`Statements` is a mixin of `Vectorizer`.
"""
import copy

import gast

from .. import astutil as A
from . import analysis as An
from .vecbase import _SHAPE_ATTRS, NotVectorizable, _is_const, _rules
from runtime import tape

_LIST_METHODS = {"append", "pop"}


class Statements:
    """Each statement of the function, batched."""

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


def _tape_alloc():
    return tape.alloc


def _same_batching(a, b):
    if isinstance(a, An.Tup) and isinstance(b, An.Tup) and len(a.items) == len(b.items):
        return all(_same_batching(x, y) for x, y in zip(a.items, b.items))
    return An.any_batched(a) == An.any_batched(b) and not isinstance(a, An.Tup) and not isinstance(b, An.Tup)
