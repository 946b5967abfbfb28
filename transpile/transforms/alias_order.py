"""Aliases and views: program order, and the questions it answers.

A `_Site` is one statement with its position in program order, the loops around it and
the sides of the `if`s it sits in (`sites`). On sites: whether what one binds may still
be there when another runs (`may_reach`, `exclusive`, `dominates`), where a name is bound
(`bound_at`, `bound_between`, `bound_in_trip_before`, `bound_after`, `rebound_between`),
which names are read after a write (`reads_after`), and what the order of statements adds
to the flow-insensitive groups at a write: the only names that can hold an array bound
fresh before it (`sharing_at`), and the names certainly bound to the same object
(`same_object`).

`ProgramOrder` is a mixin of `alias._Alias`; `sharing_at` asks `alias_groups` what a
value views or whether it is new (`view_of`, `fresh_value`).
"""
import gast

from .. import astutil as A
from ..resolve import find_callee


class _Site:
    """One statement, with its position in program order and its enclosing loops."""

    def __init__(self, stmt, block, pos, loops, branches=()):
        self.stmt, self.block, self.pos, self.loops = stmt, block, pos, loops
        self.branches = branches    # ((id of an enclosing If, "body" or "orelse"), ...)


class ProgramOrder:
    """Sites in program order and the flow questions on them (mixin of `_Alias`)."""

    def sites(self):
        out = []

        def walk(stmts, loops, branches):
            for stmt in stmts:
                out.append(_Site(stmt, stmts, len(out), loops, branches))
                if isinstance(stmt, gast.If):
                    walk(stmt.body, loops, branches + ((id(stmt), "body"),))
                    walk(stmt.orelse, loops, branches + ((id(stmt), "orelse"),))
                elif isinstance(stmt, (gast.For, gast.While)):
                    inner = loops + (stmt,)
                    walk(stmt.body, inner, branches)
        walk(self.node.body, (), ())
        return out

    @staticmethod
    def exclusive(a, b):
        """Sites on the two sides of one `if` (in one trip of the loops around it)."""
        sides = dict(a.branches)
        return any(i in sides and sides[i] != side for i, side in b.branches)

    @staticmethod
    def may_reach(a, b):
        """Whether what site `a` binds may still be there when site `b` runs: not on the
        other side of an `if` from it, and before it (or in a loop around both)."""
        if ProgramOrder.exclusive(a, b):
            return False
        return a.pos < b.pos or any(L is M for L in a.loops for M in b.loops)

    @staticmethod
    def dominates(a, b):
        """Site `a` runs before site `b` on every path to `b` (structured code: `a` earlier,
        in no branch and no loop that `b` is not in too)."""
        return a.pos < b.pos and tuple(b.branches[:len(a.branches)]) == tuple(a.branches) \
            and len(a.loops) <= len(b.loops) and all(L is M for L, M in zip(a.loops, b.loops))

    def bound_at(self, sites, name):
        """The sites that bind `name` (None for a parameter: bound on entry)."""
        if name in set(self.spec.dyn_params) | set(self.spec.hidden_names()):
            return None
        out = []
        for s in sites:
            st = s.stmt
            targets = st.targets if isinstance(st, gast.Assign) else \
                [st.target] if isinstance(st, (gast.For, gast.AugAssign)) else []
            if any(name in A.names_in(t, gast.Store) for t in targets if not isinstance(t, gast.Subscript)):
                out.append(s)
        return out

    @staticmethod
    def heads(stmt):
        """The parts of a statement evaluated at its own position (not its sub-blocks)."""
        if isinstance(stmt, gast.If):
            return [stmt.test]
        if isinstance(stmt, gast.While):
            return [stmt.test]
        if isinstance(stmt, gast.For):
            return [stmt.iter, stmt.target]
        return [stmt]

    def reads_after(self, sites, site, names):
        """Names among `names` read after `site` (anywhere in a loop enclosing it, too)."""
        loop_span = set()
        if site.loops:
            outer = site.loops[0]
            loop_span = {id(n) for n in gast.walk(outer)}
        out = set()
        for other in sites:
            if other.pos <= site.pos and id(other.stmt) not in loop_span:
                continue
            if other is site:
                continue
            earlier = other.pos <= site.pos     # in a later trip of the loop around the write
            for h in self.heads(other.stmt):
                for n in gast.walk(h):
                    if isinstance(n, gast.Name) and n.id in names and not isinstance(n.ctx, gast.Store):
                        if earlier and self.bound_in_trip_before(sites, loop_span, other, n.id):
                            continue    # bound anew in that trip before this read
                        if not earlier and self.bound_between(sites, site, other, n.id):
                            continue    # bound anew after the write, before this read
                        out.add(n.id)
        return out

    @staticmethod
    def bound_between(sites, site, read_site, name):
        """`name` is assigned after `site` and before `read_site`, in the block of the read."""
        for s in sites:
            if not (site.pos < s.pos < read_site.pos):
                continue
            st = s.stmt
            if not (isinstance(st, gast.Assign) and not isinstance(st.targets[0], gast.Subscript)
                    and name in A.names_in(st.targets[0], gast.Store)):
                continue
            if s.block is read_site.block:
                return True
            # the read sits inside a later statement of the binding's block (a nested loop)
            k = next(i for i, b in enumerate(s.block) if b is st)
            if any(n is read_site.stmt for later in s.block[k + 1:] for n in gast.walk(later)):
                return True
        return False

    @staticmethod
    def bound_in_trip_before(sites, loop_span, read_site, name):
        """`name` is assigned inside the loop, in the same block path, before `read_site`."""
        for s in sites:
            if s.pos >= read_site.pos or id(s.stmt) not in loop_span:
                continue
            if s.loops != read_site.loops or s.block is not read_site.block:
                continue
            st = s.stmt
            if isinstance(st, gast.Assign) and name in A.names_in(st.targets[0], gast.Store) \
                    and not isinstance(st.targets[0], gast.Subscript):
                return True
        return False

    @staticmethod
    def rebound_between(sites, a, b, names):
        """A plain binding of one of `names` that may run after site `a` and before site `b`
        (between them, or anywhere in a loop around `b` that is not around `a`)."""
        outer = [L for L in b.loops if not any(L is M for M in a.loops)]
        span = {id(n) for L in outer[:1] for n in gast.walk(L)}
        for s_ in sites:
            st = s_.stmt
            if s_ is a or getattr(st, "tp_inplace", False) or getattr(st, "tp_mirror", False):
                continue
            if not (a.pos < s_.pos < b.pos and not ProgramOrder.exclusive(s_, b) or id(st) in span):
                continue
            if isinstance(st, gast.Assign):
                targets = [t for t in st.targets if not isinstance(t, gast.Subscript)]
            elif isinstance(st, (gast.For, gast.AugAssign)):
                targets = [st.target]
            else:
                continue
            if any(names & A.names_in(t, gast.Store) for t in targets):
                return True
        return False

    @staticmethod
    def bound_after(sites, site, name):
        """Every binding of `name` comes after `site`, outside any loop around it."""
        found = False
        for s in sites:
            st = s.stmt
            targets = []
            if isinstance(st, gast.Assign):
                targets = A.names_in(st.targets[0], gast.Store)
            elif isinstance(st, gast.For):
                targets = A.names_in(st.target, gast.Store)
            if name in targets:
                found = True
                if s.pos <= site.pos or any(L is M for L in s.loops for M in site.loops):
                    return False
        return found

    # -- what the order of statements tells at a write -----------------------------
    def sharing_at(self, name, site, sites):
        """The names that may hold `name`'s array (or a view of it) when `site` runs, where
        `name` was last bound to a fresh value before it on every path: only names taken from
        it since then. None when that cannot be told (the analysis is flow-insensitive then)."""
        binds = [b for b in (self.bound_at(sites, name) or [])
                 if not getattr(b.stmt, "tp_inplace", False) and not getattr(b.stmt, "tp_mirror", False)
                 and b is not site and self.dominates(b, site)]
        if not binds:
            return None
        b = max(binds, key=lambda s_: s_.pos)
        st = b.stmt
        if not (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
                and self.fresh_value(st.value)) or self.rebound_between(sites, b, site, {name}):
            return None
        outer = [L for L in site.loops if not any(L is M for M in b.loops)]
        span = {id(n) for L in outer[:1] for n in gast.walk(L)}
        region = [s_ for s_ in sites if (b.pos < s_.pos < site.pos or id(s_.stmt) in span) and s_ is not site]
        found = {name}
        changed = True
        while changed:
            changed = False
            for s_ in region:
                st = s_.stmt
                for n in gast.walk(st) if not isinstance(st, (gast.If, gast.For, gast.While)) else \
                        [m for h in self.heads(st) for m in gast.walk(h)]:
                    if isinstance(n, (gast.List, gast.Tuple, gast.Dict, gast.Set)) and A.names_in(n) & found \
                            and not (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Tuple)
                                     and n is st.targets[0]):
                        return None     # in a container
                    if isinstance(n, gast.Call) and find_callee(self.program, n.func) is not None \
                            and A.names_in(n) & found:
                        return None     # a helper may return it
                if isinstance(st, gast.For) and A.names_in(st.iter) & found:
                    return None         # rows of it
                if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                        and st.targets[0].id not in found:
                    v = self.view_of(st.value)
                    if v is not None and v[1] in found:
                        found.add(st.targets[0].id)
                        changed = True
                    elif isinstance(st.value, gast.Call) and not self.fresh_value(st.value) \
                            and A.names_in(st.value) & found:
                        return None     # a call that may return it
        return found

    def same_object(self, name, site, sites):
        """The names certainly bound to the same object as `name` when `site` runs: joined by
        a plain copy `a = b` that runs before `site` on every path to it (no `if` branch or
        loop around it that is not around `site` too), with neither name bound anew in
        between (an in-place operator or a mirror made here does not count: for an array
        they keep it; a write into a number fails before)."""
        copies = []
        for s_ in sites:
            st = s_.stmt
            if isinstance(st, gast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name) \
                    and isinstance(st.value, gast.Name) and not getattr(st, "tp_inplace", False) \
                    and not getattr(st, "tp_mirror", False) and st.targets[0].id != st.value.id:
                copies.append((s_, st.targets[0].id, st.value.id))
        found = {name}
        changed = True
        while changed:
            changed = False
            for s_, a, b in copies:
                if (a in found) == (b in found) or not self.dominates(s_, site):
                    continue
                if self.rebound_between(sites, s_, site, {a, b}):
                    continue
                found |= {a, b}
                changed = True
        return found
