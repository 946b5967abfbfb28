"""The vectorizer's rules for subscripts (transpile/batching/vectorize.py):
an unbatched index of a batched array goes after the batch axis (`x[i]`
becomes `x[:, i]`), reads and in-place writes alike; a batched index is a
refusal.

A number read with integer indices from an array that may be written later
or may leave the function is copied (`batching.copy_if_numbers`): one
example reads a number, the batch a view `a[:, i]`. A value written into a
batched array has its rank lined up with the target's
(`batching.match_rank_b`) where the ranks (batching/ranks.py) do not say
they agree.

`Indexing` is a mixin of `Vectorizer`: `getitem` is a right-hand side
(batching/expressions.py), `setitem` a statement (batching/statements.py).
"""
import copy

import gast

from .. import astutil as A
from . import analysis as An
from .vecbase import NotVectorizable, _const_value, _is_const


class Indexing:
    """Subscripts of batched arrays."""

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
