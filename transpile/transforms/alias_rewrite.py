"""Aliases and views: one write rewritten so that the names sharing its buffer see it.

`rewrite` makes the write at a site visible to the names read after it: a view written
into is written back to its base (`write_back`; `z op= v` on a view first becomes a store
into it, `in_place`), names bound to the same array are bound to it again (`mirror`),
views of the written array are taken again, and where only the values can tell, a check
runs with the code (`guard_index`: a view's index is an integer; `unwritten_view`: an
integer-indexed `v = y[i]` read later is a number, not a view). `stable` says whether a
view can be written back or taken again at all, `surely_array` whether it is surely an
array. `inline` puts the body of a helper that writes into its argument in place of the
call.

`WriteRewrites` is a mixin of `alias._Alias`; it reads `alias_order` and `alias_groups`
through `self`.
"""
import copy

import gast

from .. import astutil as A
from ..resolve import find_callee
from .alias_groups import groups_of_name

#: views whose write-back rebinds the base to the same elements in another shape
_RESHAPES = {"reshape", "ravel", "squeeze", "expand_dims"}


class WriteRewrites:
    """The rewriting of one write: write-back, views taken again, guards, inlining (mixin of `_Alias`)."""

    def rewrite(self, site, name, how, live, sites, defs):
        """Make the write at `site` visible to the names in `live`; False if it cannot."""
        view_defs = {}
        for s in sites:
            st = s.stmt
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name):
                v = self.view_of(st.value)
                if v is not None and v[0] != "same":
                    view_defs.setdefault(st.targets[0].id, []).append((s, v))
        stmt = site.stmt
        new_after = []
        handled = set()
        own = view_defs.get(name)
        if how in ("call", "container"):
            return False
        same = self.same_object(name, site, sites) if how in ("store", "inplace", "rebind") else {name}
        if own is not None:
            if len(own) != 1 or defs.get(name) != 1 + (how in ("inplace", "rebind")):
                return False
            vsite, (kind, base, detail) = own[0]
            if not self.stable(vsite, site, sites, kind, detail, base):
                return False
            if how == "inplace":
                if not self.surely_array(kind, detail):
                    return False
                stmt = self.in_place(site)
            back = self.write_back(vsite, kind, base, detail, name)
            if back is None:
                return False
            self.guard_index(vsite, kind, detail, name)
            for b in back:
                if isinstance(b.targets[0], gast.Name):
                    b.tp_rebind_from = name     # the base rebound: its own views and bases next
            new_after.extend(back)
            handled |= {base}
        elif how == "inplace":
            # `y *= 2` on a base: ANF rebinds y; its views taken again below read the new values.
            pass
        # Names bound to the same array as `name` (`w = x`) see the write: they are bound to
        # its new value (after `w *= 2`, only where that array is one: a number is rebound).
        mirrors, mirrored = [], set()
        refreshed_bases = set()
        for other in live - handled:
            vd = view_defs.get(other)
            if vd is not None and len(vd) == 1 and vd[0][1][1] in same - {name}:
                refreshed_bases.add(vd[0][1][1])
        for other in sorted(((live - handled) | refreshed_bases) & (same - {name})):
            mirrors.extend(self.mirror(other, name, how, site.stmt))
            mirrored.add(other)
        handled |= mirrored & live
        new_after.extend(mirrors)
        # Views of `name` read later are taken again after the write.
        for other in sorted(live - handled):
            vd = view_defs.get(other)
            if vd is None or len(vd) != 1:
                continue
            vsite, (kind, base, detail) = vd[0]
            if base not in same or vsite.pos > site.pos and not site.loops:
                continue
            if not self.surely_array(kind, detail):
                continue    # `a = y[i]` may be a number (a copy): checked below instead
            if defs.get(other) != 1 or not self.stable(vsite, site, sites, kind, detail, base):
                continue
            self.guard_index(vsite, kind, detail, other)
            again = A.located(copy.deepcopy(vsite.stmt), site.stmt)
            again.tp_refresh = True
            new_after.append(again)
            handled.add(other)
        # `v = y[i]` (integer indices only) read after the write: a number when y is 1-D,
        # a view the write changes otherwise. Which one is known when the code runs.
        def guardable(v):
            vd = view_defs.get(v)
            if vd is None or len(vd) != 1 or how not in ("store", "inplace", "rebind"):
                return False
            kind, base, detail = vd[0][1]
            return kind == "sub" and base in same and not self.surely_array(kind, detail)

        displays = {}
        for s_ in sites:
            st = s_.stmt
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                    and isinstance(st.value, (gast.Tuple, gast.List)):
                displays.setdefault(st.targets[0].id, []).append(A.names_in(st.value))
        where = f"{self.src.filename.split('/')[-1]}:{getattr(site.stmt, 'lineno', '?')}"
        for other in sorted(live - handled):
            if guardable(other):
                guarded = [other]
            elif other in displays and len(displays[other]) == 1:
                # a tuple holding such values (`y[0], y[1] = y[1], y[0]`)
                inside = displays[other][0] & groups_of_name(self, sites, name)
                if not inside or not all(guardable(v) for v in inside):
                    continue
                guarded = sorted(inside)
            else:
                continue
            for v in guarded:
                guard = A.expr_stmt(A.call(A.attr(self.program.module_alias("runtime.checks"),
                                                  "unwritten_view"), [A.name(v), A.const(self.shown.get(v, v)),
                                                                     A.const(where)]))
                new_after.append(A.located(guard, site.stmt))
            handled.add(other)
        if live - handled or not new_after:
            return False    # a name sharing the buffer some other way (a full alias kept, a container)
        for st in (stmt if isinstance(stmt, list) else [stmt]):
            st.tp_alias_done = True
        block = site.block
        k = next(i for i, s in enumerate(block) if s is site.stmt)
        if stmt is not site.stmt:
            block[k:k + 1] = stmt
            k += len(stmt) - 1
        block[k + 1:k + 1] = new_after
        return True

    def stable(self, vsite, site, sites, kind, detail, base):
        """The base and the names a view's index or arguments read are not rebound between
        the view and the write (so the view can be written back or taken again)."""
        if kind == "sub":
            names = A.names_in(detail) | {base}
        elif kind in ("method", "func"):
            names = set()
            for a in detail[1]:
                names |= A.names_in(a)
            for kw in detail[2]:
                names |= A.names_in(kw.value)
            names.add(base)
        else:
            names = set()
        names.add(base)
        lo, hi = sorted((vsite.pos, site.pos))
        # loops around the write that the view was taken outside of: all of them count
        outer = [L for L in site.loops if not any(L is M for M in vsite.loops)]
        spans = [{id(n) for n in gast.walk(L)} for L in outer[:1]]
        for s in sites:
            if not (lo < s.pos < hi or any(id(s.stmt) in span for span in spans)):
                continue
            if s is vsite or s is site or getattr(s.stmt, "tp_refresh", False):
                continue
            if isinstance(s.stmt, gast.Assign):
                if A.names_in(s.stmt.targets[0], gast.Store) & names:
                    return False
            if isinstance(s.stmt, gast.For) and A.names_in(s.stmt.target, gast.Store) & names:
                return False
        if vsite.pos > site.pos:
            return False    # a view taken after the write, in an earlier trip of a loop
        return True

    @staticmethod
    def surely_array(kind, detail):
        if kind == "sub":
            parts = detail.elts if isinstance(detail, gast.Tuple) else [detail]
            return any(isinstance(p, gast.Slice) or (isinstance(p, gast.Constant) and p.value in (Ellipsis, None))
                       for p in parts)
        return kind in ("attr", "method", "func")

    # -- the statements a rewrite emits --------------------------------------------
    def mirror(self, other, name, how, model):
        """`other = name` after a write into `name` (`other` is the same array); after an
        in-place operator, only where it is an array."""
        st = A.located(A.assign(other, A.name(name)), model)
        st.tp_mirror = True
        st.tp_alias_done = True
        if how != "inplace":
            return [st]
        test = self.fresh("_is_array")
        check = A.located(A.assign(test, A.call(A.attr(self.program.module_alias("runtime.checks"), "is_array"),
                                                [A.name(other)])), model)
        return [check, A.located(gast.If(test=A.name(test), body=[st], orelse=[]), model)]

    def guard_index(self, vsite, kind, detail, name):
        """After `name = base[i]`, treated as a view from here on: a check that each index
        variable is an integer (an array index makes NumPy copy; which one is known only when
        the code runs)."""
        if kind != "sub" or getattr(vsite.stmt, "tp_index_guarded", False):
            return
        vsite.stmt.tp_index_guarded = True
        parts = detail.elts if isinstance(detail, gast.Tuple) else [detail]
        where = f"{self.src.filename.split('/')[-1]}:{getattr(vsite.stmt, 'lineno', '?')}"
        guards = []
        for p in parts:
            if isinstance(p, (gast.Slice, gast.Constant)):
                continue
            call = A.call(A.attr(self.program.module_alias("runtime.checks"), "view_index"),
                          [copy.deepcopy(p), A.const(self.shown.get(name, name)), A.const(where)])
            guards.append(A.located(A.expr_stmt(call), vsite.stmt))
        k = next(j for j, st in enumerate(vsite.block) if st is vsite.stmt)
        vsite.block[k + 1:k + 1] = guards

    def in_place(self, site):
        """`z = z op v` (from `z op= v` on an array): `_t = z op v; z[...] = _t`."""
        stmt = site.stmt
        name = stmt.targets[0].id
        tmp = self.fresh("_inplace")
        first = A.located(A.assign(tmp, stmt.value), stmt)
        store = gast.Subscript(value=A.name(name), slice=gast.Slice(lower=None, upper=None, step=None),
                               ctx=gast.Store())
        second = A.located(A.assign(store, A.name(tmp)), stmt)
        return [first, second]

    def write_back(self, vsite, kind, base, detail, name):
        """Statements writing view `name` back into `base`, or None."""
        loc = vsite.stmt
        np_alias = self.program.module_alias("numpy")
        if kind == "sub":
            store = gast.Subscript(value=A.name(base), slice=copy.deepcopy(detail), ctx=gast.Store())
            st = A.located(A.assign(store, A.name(name)), loc)
            st.tp_writeback_from = name
            return [st]
        if kind == "attr" and detail in ("T", "mT"):
            fn = "transpose" if detail == "T" else "matrix_transpose"
            return [A.located(A.assign(base, A.call(A.attr(np_alias, fn), [A.name(name)])), loc)]
        if kind in ("method", "func"):
            fname, args, kws = detail
            if fname in _RESHAPES:
                shape = self.fresh(f"_{base}_shape")
                # the base's shape, kept where the view is taken
                keep = A.located(A.assign(shape, A.call(A.attr(np_alias, "shape"), [A.name(base)])), loc)
                blk = vsite.block
                i = next(j for j, s in enumerate(blk) if s is vsite.stmt)
                blk.insert(i, keep)
                return [A.located(A.assign(base, A.call(A.attr(np_alias, "reshape"),
                                                        [A.name(name), A.name(shape)])), loc)]
            if fname == "transpose" and not args and not kws:
                return [A.located(A.assign(base, A.call(A.attr(np_alias, "transpose"), [A.name(name)])),
                                  loc)]
            if fname == "transpose" and len(args) == 1 and not kws and isinstance(args[0], gast.Tuple) \
                    and all(isinstance(e, gast.Constant) and type(e.value) is int for e in args[0].elts):
                axes = [e.value for e in args[0].elts]
                if sorted(axes) == list(range(len(axes))):     # written back by the inverse permutation
                    inverse = A.tuple_([A.const(axes.index(k)) for k in range(len(axes))])
                    return [A.located(A.assign(base, A.call(A.attr(np_alias, "transpose"),
                                                            [A.name(name), inverse])), loc)]
            if fname == "swapaxes" and len(args) == 2 and not kws:
                return [A.located(A.assign(base, A.call(A.attr(np_alias, "swapaxes"),
                                                        [A.name(name)] + copy.deepcopy(args))), loc)]
        return None

    # -- a helper's body in place of its call --------------------------------------
    def inline(self, site):
        """Put the body of a called function that writes into its arguments in place of the
        call, so the writes reach the caller's names (and this pass sees them). Its variables
        get fresh names; each parameter is first bound to its argument (`y_1 = y`); its result,
        if used, is assigned to the call's target."""
        stmt = site.stmt
        call = stmt.value
        callee = find_callee(self.program, call.func)
        if callee is None or callee is self.spec or not hasattr(callee, "src") or call.keywords:
            return False
        if _calls_itself(self.program, callee):
            return False
        params = [a.id for a in callee.node.args.args]
        if len(params) != len(call.args):
            return False
        body = copy.deepcopy(callee.node.body)
        names = A.names_in(gast.Module(body=body, type_ignores=[])) | set(params)
        inner = {n for n in names if n in set(callee.locals) | set(params)
                 or any(isinstance(m, gast.Name) and m.id == n and isinstance(m.ctx, gast.Store)
                        for m in gast.walk(gast.Module(body=body, type_ignores=[])))}
        renames = {n: self.fresh(f"{n}_{callee.gen_name}_") for n in sorted(inner)}
        self.shown.update({new: self.shown.get(n, n) for n, new in renames.items()})
        for m in gast.walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(m, gast.Name) and m.id in renames:
                m.id = renames[m.id]
        for m in gast.walk(gast.Module(body=body, type_ignores=[])):
            if hasattr(m, "lineno"):
                m.lineno = getattr(stmt, "lineno", None)    # errors point at the call
        out = [A.located(A.assign(renames[p], copy.deepcopy(a)), stmt) for p, a in zip(params, call.args)]
        if body and isinstance(body[-1], gast.Return):
            ret = body.pop()
            if isinstance(stmt, gast.Assign) and ret.value is not None:
                body.append(A.located(gast.Assign(targets=stmt.targets, value=ret.value, type_comment=None),
                                      stmt))
            elif isinstance(stmt, gast.Assign):
                body.append(A.located(gast.Assign(targets=stmt.targets, value=A.const(None),
                                                  type_comment=None), stmt))
        elif isinstance(stmt, gast.Assign):
            body.append(A.located(gast.Assign(targets=stmt.targets, value=A.const(None), type_comment=None),
                                  stmt))
        if any(isinstance(m, gast.Return) for m in gast.walk(gast.Module(body=body, type_ignores=[]))):
            return False
        self.spec.locals.update(renames.values())
        block = site.block
        k = next(i for i, s_ in enumerate(block) if s_ is stmt)
        block[k:k + 1] = out + body
        return True


def _calls_itself(program, spec, seen=None):
    """Whether a generated function reaches itself through its calls."""
    seen = set() if seen is None else seen
    for n in gast.walk(spec.node):
        if isinstance(n, gast.Call):
            callee = find_callee(program, n.func)
            if callee is None:
                continue
            if callee is spec or id(callee) in seen:
                return True
            seen.add(id(callee))
            if _calls_itself(program, callee, seen):
                return True
    return False

