"""Lists and tuples of mapped values, for the vectorizer
(transpile/batching/vectorize.py).

A list or tuple of batched values is not a batch: its axis is not the batch
axis, each item is a batch. Passed where NumPy takes an array
(`np.sum([a, b])`, `np.array([[a, b], [b, a]])`) it becomes the batch of
`np.array(list)`: the items' batches stacked along axis 1, after the batch
axis (`array_of`), unmapped items broadcast, nested lists stacked in turn.
Parameters that take a sequence of arrays themselves (`np.concatenate`'s,
runtime.rules.batching.SEQUENCE_PARAMS) get the list as it is, and their
template (batching/templates.py) says what to do with it.

`Sequences` is a mixin of `Vectorizer`; the calls by rule
(batching/expressions.py) and the templates use it.
"""
import copy
import inspect

import gast

from .. import astutil as A
from . import analysis as An
from .templates import _Template
from .vecbase import NotVectorizable, _rules


class Sequences:
    """Lists and tuples of mapped values, and the arrays made of them."""

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
