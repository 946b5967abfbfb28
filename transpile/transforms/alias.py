"""Aliases and views: every write made visible by name (after ANF, before AD and batching).

Python names share arrays. After `w = x`, `z = y[1:]`, `t = y.T` or `r = y.reshape(2, 2)`
a write through one name changes what the others read, and `z *= 2` writes in place.
Differentiation and batching follow values by name, so this pass rewrites each such write
into writes they see::

    w = x                              w = x
    w[0] = v                           x[0] = v           (w is x: its uses read x)

    z = y[1:]                          z = y[1:]
    z *= 2.0                           z[...] = z * 2.0   (in place, as NumPy does)
                                       y[1:] = z          (written back to its base)

    t = y.T                            t = y.T
    t[0] = 0.0                         t[0] = 0.0
                                       y = np.transpose(t)

    y[0] = 5.0   (z = y[1:] read later)  y[0] = 5.0
                                       z = y[1:]          (the view taken again)

    t = x                              t = x             (t bound twice: not substituted)
    t *= 0.5                           t = t * 0.5
                                       _c = checks.is_array(x)
                                       if _c: x = t      (an array was written; a number
                                                          rebinds t alone)

Which names may share a buffer is found flow-insensitively (`groups`) and then narrowed
where the order of statements tells more: a name bound only on the other side of an `if`
from the write, or last bound to a fresh value (an operator's result, `np.ones(...)`) with
nothing taken from it since (`sharing_at`), shares nothing with it; names joined by a copy
`a = b` that runs before the write on every path are the same object (`same_object`).
A write is left alone when nothing else that may share its buffer is read afterwards.

Some questions only the values answer, checked when the code runs (`runtime.checks`,
AliasError, a TranspileError at the user's line): `v = y[i]` is a number (a copy) or a
view (`unwritten_view`), `t = y[idx]` is a view only for an integer index (`view_index`),
and `w op= v` on a name that may share an array rebinds a number but writes an array
(`rebinds_number`). Where the pass cannot tell which values a write reaches (an array
inside a container, a view whose index changes, a helper writing into an argument read
later that cannot be inlined), generation stops with a TranspileError at the user's line
saying what to do.

Invariant established: after this pass, a write in place (a subscript store, an in-place
method, a call writing an argument) changes no value that another name reads later.

This module holds the driver: `_Alias`'s state, `run` (copies substituted, then `step`
until no write needs rewriting), `step` (for each write, which names that may share its
buffer are read after it, and what is done about them), `writes` (what a statement writes
in place), and what called functions do (`returns_alias`, and `_params_written`, which
the AD passes read too). `_Alias` inherits, as mixins, program order and the flow
questions on it (`alias_order`: sites, `may_reach`, `reads_after`, `sharing_at`,
`same_object`), which names may share a buffer (`alias_groups`: views, fresh values, the
union-find `groups`), and the rewriting of one write (`alias_rewrite`: write-back to the
base, views taken again, runtime guards, helpers inlined).
"""
import gast
import numpy as np

from .. import astutil as A
from ..errors import TranspileError
from ..resolve import find_callee, resolve_static
from .alias_groups import AliasGroups, _fn_name, _numpy_like
from .alias_order import ProgramOrder
from .alias_rewrite import WriteRewrites

#: methods that change their receiver
_WRITING_METHODS = {"fill", "sort", "put", "itemset", "resize", "partition", "setfield", "append",
                    "extend", "insert", "pop", "remove", "clear", "reverse", "update", "setdefault",
                    "popitem", "__setitem__", "__iadd__", "__isub__", "__imul__"}
#: methods of lists and dicts: they change the container, not the values it holds
_CONTAINER_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "reverse", "update",
                      "setdefault", "popitem"}
#: functions that change their first argument
_WRITING_FUNCS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"}


class _Alias(ProgramOrder, AliasGroups, WriteRewrites):
    """The pass on one function (the mixins hold the analyses and the rewriting)."""

    def __init__(self, program, spec):
        self.program, self.spec = program, spec
        self.node = spec.node
        self.src = spec.src
        self.containers = self.containers_of()
        self.seen = {id(spec)}      # functions whose writes are being found (recursion)
        self.shown = {}             # names of inlined functions' variables -> the user's names
        self._bindings = None       # name_bindings(), for the current step

    def location(self, node):
        return self.src.location(node)

    def resolve(self, func):
        return resolve_static(self.program, func, lambda name: False)

    def fresh(self, base):
        taken = A.names_in(self.node) | set(self.spec.locals)
        k = 1
        while f"{base}{k}" in taken:
            k += 1
        self.spec.locals.add(f"{base}{k}")
        return f"{base}{k}"

    # -- the pass ------------------------------------------------------------------
    def run(self):
        self.substitute_copies()
        for _ in range(200):        # each rewrite adds statements; start again until none needed
            if not self.step():
                return
        raise TranspileError("internal: alias rewriting does not settle", self.location(self.node))

    def substitute_copies(self):
        """`w = x` with both bound once: w *is* x, so later uses of w read x."""
        defs = self.defs()
        sites = self.sites()
        subs = {}
        for site in sites:
            stmt = site.stmt
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and isinstance(stmt.value, gast.Name) and not getattr(stmt, "tp_inplace", False):
                w, x = stmt.targets[0].id, stmt.value.id
                if defs.get(w) == 1 and defs.get(x) == 1 and w != x:
                    subs[w] = subs.get(x, x)
        if not subs:
            return
        written = {n for site in sites for n, _ in self.writes(site)}
        subs = {w: x for w, x in subs.items() if w in written or x in written}
        if not subs:
            return
        for n in gast.walk(self.node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in subs:
                n.id = subs[n.id]

    def step(self):
        self._bindings = None
        sites = self.sites()
        groups = self.groups(sites)
        same = self.same_groups(sites)
        defs = self.defs()
        for site in sites:
            if getattr(site.stmt, "tp_alias_done", False):
                continue
            for name, how in self.writes(site):
                if how == "container":
                    others = same.get(name, {name}) - {name}
                else:
                    others = groups.get(name, {name}) - {name}
                others -= {getattr(site.stmt, "tp_writeback_from", None),
                           getattr(site.stmt, "tp_rebind_from", None)}
                if how == "helper":
                    others = others | {name}
                live = self.reads_after(sites, site, others)
                # a name bound only after the write reads its values then (its sources are
                # what may be stale, and they are in `live` themselves)
                params = set(self.spec.dyn_params) | set(self.spec.hidden_names())
                live = {m for m in live if m in params or not self.bound_after(sites, site, m)}
                # a name whose every binding is on the other side of an `if` from the write,
                # or after it outside any loop, holds nothing the write changes
                live = {m for m in live if self.bound_at(sites, m) is None
                        or any(self.may_reach(b, site) for b in self.bound_at(sites, m))}
                if how in ("store", "inplace"):
                    sharing = self.sharing_at(name, site, sites)
                    if sharing is not None:
                        live &= sharing
                if how == "helper" and live and self.inline(site):
                    self.substitute_copies()    # `y_1 = y` of the parameters: y_1 is y
                    return True
                if how == "helper" and live:
                    raise TranspileError(
                        f"a function called here writes into its argument `{name}`, which is read "
                        f"afterwards: transformations cannot follow a write made inside a called "
                        f"function. Return the new value instead (`{name} = g({name}, ...)` with "
                        f"`return {name}` in g)", self.location(site.stmt))
                if not live:
                    continue
                if self.rewrite(site, name, how, live, sites, defs):
                    return True
                if how == "inplace":
                    # `w -= v` where w may share an array with others: a number is rebound, and
                    # nothing else changes; an array is refused when the code runs
                    where = f"{self.src.filename.split('/')[-1]}:{getattr(site.stmt, 'lineno', '?')}"
                    shared = sorted(self.shown.get(v, v) for v in live if not v.startswith("_"))
                    guard = A.call(A.attr(self.program.module_alias("runtime.checks"), "rebinds_number"),
                                   [A.name(name), A.const(self.shown.get(name, name)),
                                    A.const(shared[0] if shared else ""), A.const(where)])
                    k = next(i for i, st in enumerate(site.block) if st is site.stmt)
                    site.block.insert(k, A.located(A.expr_stmt(guard), site.stmt))
                    site.stmt.tp_alias_done = True
                    return True
                users = sorted(self.shown.get(v, v) for v in live if not v.startswith("_"))
                this = f"`{self.shown.get(name, name)}`" if not name.startswith("_") else "an array"
                if users:
                    what = users[0]
                    raise TranspileError(
                        f"this writes in place into {this}, which shares its array with `{what}` read "
                        f"later, and the transformation cannot follow the write from one to the other "
                        f"here. Copy it first (`... = ....copy()`), or write to `{what}` directly",
                        self.location(site.stmt))
                raise TranspileError(
                    f"this writes in place into {this}, which shares its array with a value taken from "
                    f"it earlier (a view, or an item of a list) and read later; the transformation "
                    f"cannot follow the write into it. Copy that value where you take it "
                    f"(`.copy()`)", self.location(site.stmt))
        return False

    # -- writes --------------------------------------------------------------------
    def writes(self, site):
        """[(name written in place, how)] for one statement."""
        stmt = site.stmt
        if isinstance(stmt, gast.Assign):
            t = stmt.targets[0]
            if getattr(stmt, "tp_rebind_from", None) is not None and isinstance(t, gast.Name):
                return [(t.id, "rebind")]
            if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                if t.value.id in self.containers:
                    return [(t.value.id, "container")]
                return [(t.value.id, "store")]
            if getattr(stmt, "tp_inplace", False) and isinstance(t, gast.Name):
                return [(t.id, "inplace")]
        value = getattr(stmt, "value", None) if isinstance(stmt, (gast.Assign, gast.Expr)) else None
        if not isinstance(value, gast.Call):
            return []
        out = []
        for kw in value.keywords:
            if kw.arg == "out" and isinstance(kw.value, gast.Name):
                out.append((kw.value.id, "call"))
        func = value.func
        callee = find_callee(self.program, func)
        if callee is not None:
            written = _params_written(self.program, callee, self.seen)
            params = list(callee.dyn_params)
            for k, a in enumerate(value.args):
                if k < len(params) and params[k] in written and isinstance(a, gast.Name):
                    out.append((a.id, "helper"))
            return out
        fn = self.resolve(func)
        if fn is None and isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.attr in _WRITING_METHODS:
            out.append((func.value.id, "container" if func.attr in _CONTAINER_METHODS else "call"))
        elif fn is not None and value.args and isinstance(value.args[0], gast.Name) and (
                (_numpy_like(fn) and _fn_name(fn) in _WRITING_FUNCS)
                or (getattr(fn, "__module__", None) == "runtime.checks" and _fn_name(fn) == "setitem")
                or (getattr(fn, "__module__", None) == "runtime.at" and _fn_name(fn) != "at_get")
                or (_fn_name(fn) in ("at", "reduceat") and isinstance(getattr(fn, "__self__", None), np.ufunc))):
            out.append((value.args[0].id, "call"))
        return out

    # -- called functions ----------------------------------------------------------
    def returns_alias(self, callee, seen=None):
        """Whether a generated function may return (a view of) one of its parameters."""
        seen = seen or set()
        if id(callee) in seen:
            return True
        seen = seen | {id(callee)}
        if not hasattr(callee, "src"):
            return True
        sub = _Alias(self.program, callee)
        sub.returns_alias = lambda c, s=None: self.returns_alias(c, seen)
        sites = sub.sites()
        groups = sub.groups(sites)
        params = set(callee.dyn_params) | set(callee.hidden_names())
        for n in gast.walk(callee.node):
            if isinstance(n, gast.Return) and n.value is not None:
                for name in A.names_in(n.value):
                    if groups.get(name, {name}) & params:
                        return True
        return False


_CUTS = [0]     # how many times _params_written met a function it was already inside
_QUERY = [None]  # while a query runs: id(function) -> its answer, for the functions it reached


def _params_written(program, callee, seen=None):
    """Parameters a generated function may change in place (directly or through its calls).
    Memoised per program on the function's current text, where no recursion was cut short
    on the way (then the answer does not depend on who asked); within one query (nothing
    changes the functions while it runs) on the function itself."""
    seen = seen or set()
    if not hasattr(callee, "dyn_params"):
        return set()
    if id(callee) in seen:
        _CUTS[0] += 1
        return set()
    if _QUERY[0] is not None:
        if id(callee) in _QUERY[0]:
            return set(_QUERY[0][id(callee)])
        cuts = _CUTS[0]
        out = _find_params_written(program, callee, seen | {id(callee)})
        if _CUTS[0] == cuts:
            _QUERY[0][id(callee)] = frozenset(out)
        return out
    memo = program.__dict__.setdefault("_params_written_memo", {})
    key = _text_key(program, callee)
    if key in memo:
        return set(memo[key])
    cuts = _CUTS[0]
    _QUERY[0] = {}
    try:
        out = _find_params_written(program, callee, seen | {id(callee)})
    finally:
        _QUERY[0] = None
    if _CUTS[0] == cuts:
        memo[key] = frozenset(out)
    return out


def _text_key(program, callee):
    """The current text of `callee` and of every function it reaches through its calls."""
    todo, found, key = [callee], set(), []
    while todo:
        fn = todo.pop()
        if id(fn) in found or not hasattr(fn, "node"):
            continue
        found.add(id(fn))
        key.append((id(fn), gast.dump(fn.node)))
        todo.extend(c for n in gast.walk(fn.node) if isinstance(n, gast.Call)
                    for c in [find_callee(program, n.func)] if c is not None)
    return tuple(key)


def _find_params_written(program, callee, seen):
    params = set(callee.dyn_params)
    sub = _Alias(program, callee)
    sub.seen = seen
    out = set()
    for site in sub.sites():
        for name, how in sub.writes(site):
            out.add(name)
        st = site.stmt
        value = getattr(st, "value", None)
        if isinstance(value, gast.Call):
            inner = find_callee(program, value.func)
            if inner is not None:
                w = _params_written(program, inner, seen)
                ips = list(inner.dyn_params)
                for k, a in enumerate(value.args):
                    if k < len(ips) and ips[k] in w and isinstance(a, gast.Name):
                        out.add(a.id)
    # a write to a view of a parameter writes the parameter
    groups = sub.groups(sub.sites())
    reach = set()
    for n in out:
        reach |= groups.get(n, {n})
    return reach & params


def run(program, spec):
    _Alias(program, spec).run()
    return spec.node
