"""NEP 50's analysis of the whole program (transpile/transforms/nep50.py).

`analyze` solves the states of every function's locals (`_Function`,
transforms/nep50_analysis.py) across the program: a callee's parameters
joined over its call sites and what each function returns, to a fixed point
(`_solve`); a function called with a Python number at some call sites and a
NumPy value at others is copied, one copy for each (`_split`, `_clone`).
`_non_numeric_names` finds the names that may hold strings, lists, tuples
or other non-numbers, whose `+` is not a ufunc's (`_expr_non_numeric`).
"""
import copy

import gast
import numpy as np

from .nep50_analysis import _PY_KINDS, BOTTOM, STRONG, WEAK, _Function, _join_pair, _settled, join, join_kind


def _weak_of_value(value):
    kind = _PY_KINDS.get(type(value))
    return (WEAK, kind) if kind else (STRONG, None)


def analyze(program, weak_args):
    """{spec: _Function} with states solved across the program.

    `weak_args`: the entry's parameters' kinds from the call ('f', 'i', ...;
    None for a NumPy value), by parameter name or (pytree parameter, leaf index).
    A function called with a Python number for a parameter at some call sites
    and a NumPy value at others is copied, one copy for each (`_split`)."""
    for _ in range(20):
        fns = _solve(program, weak_args)
        if not _split(program, fns):
            break
    return fns


def _pattern(fn, dyn_args, n):
    return tuple(_settled(fn.expr(a)[0]) == WEAK for a in dyn_args[:n])


def _split(program, fns):
    """Point the call sites that pass Python numbers where others pass NumPy
    values (or the other way) at a copy of the callee. Returns whether any."""
    if len(program.functions) > 64:
        return False
    sites = {}
    for spec, fn in fns.items():
        for i, (call, callee, dyn_args) in enumerate(spec.calls):
            if callee in fns and isinstance(call.func, gast.Name):
                pattern = _pattern(fn, dyn_args, len(callee.dyn_params))
                sites.setdefault(callee, {}).setdefault(pattern, []).append((spec, i))
    changed = False
    for callee, by_pattern in sites.items():
        if callee is program.entry:
            keep = tuple(fns[callee].params.get(p, (STRONG, None))[0] == WEAK for p in callee.dyn_params)
        else:
            keep = next(iter(by_pattern))
        for pattern, where in by_pattern.items():
            if pattern == keep:
                continue
            clone = _clone(program, callee)
            for spec, i in where:
                call, _, dyn_args = spec.calls[i]
                spec.calls[i] = (call, clone, dyn_args)
                call.func.id = clone.gen_name
            changed = True
    return changed


def _clone(program, spec):
    """A copy of generated function `spec` under a new name, in `program`."""
    memo = {}
    node = copy.deepcopy(spec.node, memo)
    new = copy.copy(spec)
    name, k = f"{spec.gen_name}_py", 1
    while name in program.names:
        name, k = f"{spec.gen_name}_py{k}", k + 1
    program.names.add(name)
    new.gen_name = node.name = name
    new.node = node
    new.calls = [(memo.get(id(c), c), callee, [memo.get(id(a), a) for a in args])
                 for c, callee, args in spec.calls]
    new.refs = []
    program.functions.append(new)
    return new


def _solve(program, weak_args):
    np_alias = program.imports.get("numpy", "np")
    fns = {spec: _Function(spec, np_alias) for spec in program.functions}
    entry = program.entry
    leaf_of = {}
    for p, leaves in entry.tree_params.items():
        for k, leaf in enumerate(leaves):
            leaf_of[leaf] = (p, k)
    for spec, fn in fns.items():
        for name, hidden in spec.hidden.values():
            try:
                fn.params[name] = _weak_of_value(hidden.getter())
            except Exception:
                fn.params[name] = (STRONG, None)
    for spec, fn in fns.items():
        if spec is not entry:
            for p in spec.dyn_params:
                # nothing known yet (the least fixed point): a recursive call's argument computed
                # from the parameter (`n - 1`) must not make it mixed before any call site is seen
                fn.params[p] = (BOTTOM, None)
    entry_fn = fns[entry]
    for p in entry.dyn_params:
        key = leaf_of.get(p, p)
        kind = weak_args.get(key)
        if kind == "tw":            # a tuple of Python numbers: its elements are weak
            entry_fn.params[p] = (WEAK, None)
        else:
            entry_fn.params[p] = (WEAK, kind) if kind else (STRONG, None)
    returns = {spec: (BOTTOM, None) for spec in fns}

    def returns_of(callee):
        return returns.get(callee, (STRONG, None))

    for _ in range(50):
        for fn in fns.values():
            fn.solve(returns_of)
        changed = False
        # parameters of callees: joined over their call sites
        incoming = {}
        for spec, fn in fns.items():
            for call, callee, dyn_args in spec.calls:
                if callee not in fns:
                    continue
                for p, arg in zip(callee.dyn_params, dyn_args):
                    s, k = fn.expr(arg)
                    old = incoming.get((callee, p))
                    incoming[(callee, p)] = (s, k) if old is None else _join_pair(old, (s, k))
        for spec, fn in fns.items():
            if spec is entry:
                continue
            for p in spec.dyn_params:
                new = incoming.get((spec, p), (STRONG, None))
                if new[0] == BOTTOM:
                    new = (BOTTOM, None)
                if fn.params.get(p) != new:
                    fn.params[p] = new
                    changed = True
        for spec, fn in fns.items():
            s, k = BOTTOM, None
            first = True
            for r in fn.returns:
                rs, rk = fn.expr(r)
                s = join(s, rs)
                k = rk if first else join_kind(k, rk)
                first = False
            if returns[spec] != (s, k):
                returns[spec] = (s, k)
                changed = True
        if not changed:
            break
    for fn in fns.values():
        fn.solve(returns_of)
    return fns


_CONTAINER_NODES = (gast.List, gast.Tuple, gast.ListComp, gast.Dict, gast.Set, gast.JoinedStr, gast.SetComp,
                    gast.DictComp, gast.GeneratorExp)
_CONTAINER_CALLS = (list, tuple, str, dict, set, sorted, repr, format, zip, enumerate, map, reversed, bytes)


def _is_numeric_value(v):
    return isinstance(v, (np.ndarray, np.generic, bool, int, float, complex))


def _expr_non_numeric(node, names, holders=()):
    """Whether `node` may be a string, list, tuple or other non-number (whose
    `+` is not a ufunc's): conservative. `holders`: names of lists and tuples
    of numbers (their items are numbers)."""
    if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and node.value.id in holders \
            and not isinstance(node.slice, gast.Slice):
        return False
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (str, bytes))
    if isinstance(node, _CONTAINER_NODES):
        return True
    if isinstance(node, gast.Name):
        return node.id in names
    if isinstance(node, gast.Call):
        fval = getattr(node.func, "tp_value", None)
        try:
            if fval in _CONTAINER_CALLS:
                return True
        except TypeError:
            pass
        if isinstance(node.func, gast.Attribute) and not isinstance(fval, np.ufunc) \
                and _expr_non_numeric(node.func.value, names):
            return True     # a method of a string or list
        return False
    if isinstance(node, (gast.BinOp, gast.Subscript, gast.Attribute, gast.IfExp, gast.BoolOp, gast.Starred)):
        return any(_expr_non_numeric(c, names, holders) for c in gast.iter_child_nodes(node))
    return False


def _elements_non_numeric(node, names):
    """Whether the elements of `node` (iterated, unpacked) may be non-numbers."""
    if isinstance(node, (gast.List, gast.Tuple, gast.Set)):
        return any(_expr_non_numeric(e.value if isinstance(e, gast.Starred) else e, names) for e in node.elts)
    return _expr_non_numeric(node, names)


def _non_numeric_names(program, fns, entry_names):
    """Set `fn.non_numeric` (names that may hold strings, lists, tuples, ...)
    for each function: the entry's parameters the call passes such values for,
    hidden values, parameters a call site passes such values for, locals
    assigned such values."""
    for spec, fn in fns.items():
        fn.non_numeric = set(entry_names) if spec is program.entry else set()
        for name, hidden in spec.hidden.values():
            try:
                if not _is_numeric_value(hidden.getter()):
                    fn.non_numeric.add(name)
            except Exception:
                fn.non_numeric.add(name)
    for _ in range(10):
        changed = False
        for spec, fn in fns.items():
            for name, sources in fn.sources.items():
                if name in fn.non_numeric:
                    continue
                if any(src[0] == "expr" and _expr_non_numeric(src[1], fn.non_numeric)
                       or src[0] == "elt" and _elements_non_numeric(src[1], fn.non_numeric)
                       for src in sources):
                    fn.non_numeric.add(name)
                    changed = True
            for call, callee, dyn_args in spec.calls:
                if callee not in fns:
                    continue
                for p, arg in zip(callee.dyn_params, dyn_args):
                    if p not in fns[callee].non_numeric and _expr_non_numeric(arg, fn.non_numeric):
                        fns[callee].non_numeric.add(p)
                        changed = True
        if not changed:
            break
    for fn in fns.values():
        fn.holders = {name for name, sources in fn.sources.items()
                      if sources and all(src[0] == "expr" and isinstance(src[1], (gast.List, gast.Tuple))
                                         and src[1].elts and not any(
                                             isinstance(e, gast.Starred) or _expr_non_numeric(e, fn.non_numeric)
                                             for e in src[1].elts) for src in sources)}
