"""Slot arrays: how the lanes strategy (transpile/batching/lanes.py) keeps
a variable's value in each example from one loop over the examples to the
next, in generated code.

A variable that carries a number per example gets an array with one slot per
example (`x_lanes`), a tuple one per item. A loop over the examples loads
the slots it reads (`x = x_lanes[_b]`) and stores those that code after it
reads: into slot arrays allocated from example 0's value (`if _b == 0:`,
`batching.number_lanes`), or into the function's own ones with a store that
never casts (`batching.set_lane`), so that a variable whose type changes
fails Numba's typing instead of losing digits.
"""
import copy

import gast

from .. import astutil as A
from . import analysis as An
from .flow import flow


class NotLanes(Exception):
    """Why a function has no lanes form (the per-example loop runs it)."""


class Slots:
    """The slot-array half of `lanes.Lanes`: loads, stores, calls and returns."""

    def tree_of(self, var):
        """What `var`'s slots hold: a leaf (one slot array), or for a tuple a tree
        of leaves, batched where a slot array holds that item (a lanes call's
        result keeps the items common to all examples as they are)."""
        if var in self.trees:
            return self.trees[var]
        value = self.env.get(var)
        return An.all_batched(value) if isinstance(value, An.Tup) else An.Leaf(True)

    def lane(self, var, b):
        """The load of example `b` of `var` from its slots."""
        slot = self.slots[var]
        return tree_display(self.tree_of(var),
                            lambda path, leaf: slot_item(A.name(slot), path, b if leaf.batched else None))

    def emit_run(self, run, scope):
        exposed, definite, assigned = flow(run.stmts)
        stored = [v for v in in_order(run.stmts, assigned) if v in self.exposed and self.batched(v)]
        loads = [v for v in in_order(run.stmts, exposed | (set(stored) - definite)) if self.batched(v)]
        first = run.stmts[0]
        before, stores = self.slots_of(loads, stored, scope)
        body = self.loads(loads) + [copy.deepcopy(s) for s in run.stmts] + stores
        return [gast.copy_location(s, first) for s in before + [self.over_examples(body)]]

    def over_examples(self, body, stop=None):
        """`for _b in range(stop or _n): body`."""
        return gast.For(target=A.store(self.b), iter=A.call(A.name("range"), [A.name(stop or self.n)]), body=body,
                        orelse=[], type_comment=None)

    def loads(self, loads):
        return [A.assign(v, self.lane(v, self.b)) for v in loads]

    def slots_of(self, loads, stored, scope):
        """(statements before the loop over the examples, its last statements):
        the slot arrays of `stored` written with each example's value, from
        `_b == 0` on where they are new; `loads` are read from theirs."""
        for v in loads:
            if v not in scope.exists:
                raise NotLanes(f"{v} is read before it is assigned")
        for v in stored:
            if v in self.trees:
                raise NotLanes(f"{v} is assigned after a lanes call returned it")
        before, allocs, stores = [], [], []
        for v in stored:
            slot, leaves = self.slot(v), An.leaves(self.tree_of(v))
            if v not in scope.writable and v in scope.exists and v in loads:
                copied = tree_display(self.tree_of(v), lambda path, leaf: A.call(self.helper("copy_lanes"),
                                                                         [slot_item(A.name(slot), path)]))
                before.append(A.assign(slot, copied))
                scope.writable.add(v)
            if v in scope.writable:
                stores.extend(A.expr_stmt(A.call(self.helper("set_lane"), [
                    slot_item(A.name(slot), path), A.name(self.b), slot_item(A.name(v), path)]))
                    for path, _ in leaves)
            else:
                allocs.append(A.assign(slot, tree_display(self.tree_of(v), lambda path, leaf: A.call(
                    self.helper("number_lanes"), [slot_item(A.name(v), path), A.name(self.n)]))))
                stores.extend(A.assign(slot_item(A.name(slot), path, self.b, gast.Store()),
                                       slot_item(A.name(v), path))
                              for path, _ in leaves)
        if allocs:
            test = gast.Compare(left=A.name(self.b), ops=[gast.Eq()], comparators=[A.const(0)])
            stores.insert(0, gast.If(test=test, body=allocs, orelse=[]))
        for v in stored:
            scope.exists.add(v)
            scope.writable.add(v)
        return before, stores

    def emit_call(self, call, scope):
        s = call.stmt
        args = []
        for a in s.value.args:
            if isinstance(a, gast.Name) and self.batched(a.id):
                if a.id not in scope.exists:
                    raise NotLanes(f"{a.id} is read before it is assigned")
                args.append(A.name(self.slots[a.id]))
            else:
                args.append(copy.deepcopy(a))
        target = s.targets[0].id
        value = A.call(A.name(call.callee.gen_name), args + [A.name(self.n)])
        if not An.any_batched(call.callee.lanes_result):
            return A.located(A.assign(target, value), s)
        scope.exists.add(target)        # not writable: it may be the caller's own array
        return A.located(A.assign(self.slot(target), value), s)

    def emit_return(self, s):
        result = self.summary.result

        def from_slots(var, tree):
            """`var`'s slots as `tree` says the result is: slot arrays where it is
            batched, example 0's item where it is not (the same in every example)."""
            held = self.tree_of(var)
            if len(An.leaves(held)) != len(An.leaves(tree)) or \
                    [p for p, _ in An.leaves(held)] != [p for p, _ in An.leaves(tree)]:
                raise NotLanes(f"returns {var}, whose structure is not that of the result")
            flags = dict(An.leaves(held))

            def leaf(path, out):
                base = A.name(self.slots[var])
                if var in self.params:      # a copy, as the per-example loop's output
                    base = A.call(self.helper("copy_lanes"), [base])
                if flags[path].batched:
                    return slot_item(base, path) if out.batched else slot_item(base, path, 0)
                item = slot_item(base, path)
                return A.call(self.helper("broadcast"), [item, A.name(self.n)]) if out.batched else item
            return tree_display(tree, leaf)

        def build(node, tree):
            if isinstance(node, gast.Tuple) and isinstance(tree, An.Tup) and len(node.elts) == len(tree.items):
                return A.tuple_([build(e, t) for e, t in zip(node.elts, tree.items)])
            if isinstance(node, gast.Name) and self.batched(node.id):
                return from_slots(node.id, tree)
            if An.any_batched(tree):
                if isinstance(tree, An.Tup):
                    raise NotLanes("returns a tuple where another return has a batched one")
                return A.call(self.helper("broadcast"), [copy.deepcopy(node), A.name(self.n)])
            return copy.deepcopy(node)

        value = build(s.value, result) if s.value is not None else None
        return A.located(gast.Return(value=value), s)


def tree_display(tree, leaf, path=()):
    """A tuple display shaped like `tree` whose items are `leaf(path, Leaf)`."""
    if isinstance(tree, An.Tup):
        return A.tuple_([tree_display(t, leaf, path + (k,)) for k, t in enumerate(tree.items)])
    return leaf(path, tree)


def slot_item(base, path, b=None, ctx=None):
    """`base[p0][p1]...` (items of tuples), then `[b]` (an example) when `b` is given."""
    node = base
    for k in path:
        node = _sub(node, A.const(k))
    if b is None:
        return node
    return _sub(node, A.name(b) if isinstance(b, str) else A.const(b), ctx)


def _sub(base, index, ctx=None):
    node = gast.Subscript(value=base, slice=index, ctx=ctx or gast.Load())
    node.in_bounds = True       # an example of a slot array: no check (transforms/checks.py)
    return node


def in_order(stmts, names):
    """`names` in the order they first appear in `stmts`."""
    out = []
    for s in stmts:
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and n.id in names and n.id not in out:
                out.append(n.id)
    return out
