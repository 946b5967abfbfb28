"""DCE: remove assignments whose value is never read and has no effect.

Liveness runs backwards over structured code (loops to a fixed point), so an
adjoint accumulated into a name nobody reads disappears, and so does
everything computed only for it::

    _t1 = np.cos(x)                 (x_bar is returned, w_bar is not)
    x_bar = x_bar + g * _t1         x_bar = x_bar + g * np.cos(x)  -- kept
    w_bar = w_bar + g * x           -- removed

Only pure values are removed: arithmetic, comparisons, attribute reads,
tuples, and calls into NumPy, `math` and the runtime's pure helpers. A user
variable read by subscript is kept (its IndexError is part of the program).

Invariant established: every remaining pure assignment is read on some path.
"""
import gast

_PURE_MODULES = {"np", "math", "npx", "adjoint"}
_IMPURE_ATTRS = {"pop", "append", "fill", "sort"}


def _uses(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _pure(node):
    for n in gast.walk(node):
        if isinstance(n, gast.Call):
            f = n.func
            while isinstance(f, gast.Attribute):
                if f.attr in _IMPURE_ATTRS:
                    return False
                f = f.value
            if not (isinstance(f, gast.Name) and (f.id in _PURE_MODULES or f.id in ("len", "float", "abs",
                                                                                    "min", "max", "range"))):
                return False
            if isinstance(n.func, gast.Name) and n.func.id not in ("len", "float", "abs", "min", "max"):
                return False
        elif isinstance(n, (gast.Lambda, gast.Yield, gast.Await, gast.NamedExpr)):
            return False
    return True


def _generated(name):
    return name.startswith("_") or name.endswith("_bar")


def _removable(stmt, live):
    if not isinstance(stmt, gast.Assign) or len(stmt.targets) != 1:
        return False
    target = stmt.targets[0]
    if isinstance(target, gast.Name):
        names = [target.id]
    elif isinstance(target, gast.Tuple) and all(isinstance(e, gast.Name) for e in target.elts):
        names = [e.id for e in target.elts]
    else:
        return False
    if any(n in live for n in names) or not _pure(stmt.value):
        return False
    has_subscript = any(isinstance(n, gast.Subscript) for n in gast.walk(stmt.value))
    return not has_subscript or all(_generated(n) for n in names)


def _defs(stmt):
    return {n.id for t in stmt.targets for n in gast.walk(t)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def block(stmts, live, keep=None, apply=True):
    """(new statements, live-in set) of `stmts` given the names live after them.
    With apply=False, only analyse (nothing is changed)."""
    live = set(live)
    out = []
    for stmt in reversed(stmts):
        new, live = _stmt(stmt, live, keep, apply)
        if new is not None:
            out.append(new)
    out.reverse()
    return out, live


def _loop_live(stmt, live, keep, extra_uses):
    target = _uses_store(stmt.target) if isinstance(stmt, gast.For) else set()
    head = set(live) | extra_uses
    while True:
        _, inner = block(stmt.body, head | live, keep, apply=False)
        new_head = head | (inner - target) | extra_uses
        if new_head == head:
            return head
        head = new_head


def _uses_store(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}


def _stmt(stmt, live, keep, apply=True):
    if isinstance(stmt, gast.Assign):
        if _removable(stmt, live) and not (keep and _defs(stmt) & keep):
            return None, live
        target = stmt.targets[0]
        if isinstance(target, (gast.Name, gast.Tuple)):
            live = (live - _defs(stmt)) | _uses(stmt.value)
        else:
            live = live | _uses(target) | _uses(stmt.value)
        return stmt, live
    if isinstance(stmt, gast.If):
        body, lb = block(stmt.body, live, keep, apply)
        orelse, lo = block(stmt.orelse, live, keep, apply)
        if not body and not orelse and _pure(stmt.test):
            return None, live
        if apply:
            stmt.body, stmt.orelse = body or [gast.Pass()], orelse
        return stmt, lb | lo | _uses(stmt.test)
    if isinstance(stmt, (gast.For, gast.While)):
        head = _loop_live(stmt, live, keep, _uses(stmt.iter if isinstance(stmt, gast.For) else stmt.test))
        if apply:
            stmt.body, _ = block(stmt.body, head | live, keep)
            stmt.body = stmt.body or [gast.Pass()]
        return stmt, head | live
    if isinstance(stmt, gast.Pass):
        return None, live
    if isinstance(stmt, gast.Return):
        return stmt, _uses(stmt)
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
        return stmt, live
    if isinstance(stmt, gast.AugAssign):        # `b += 1` reads b too
        return stmt, live | _uses(stmt) | _uses_store(stmt.target)
    return stmt, live | _uses(stmt)


def run_function(node, keep=None):
    """DCE over a whole function body."""
    node.body, _ = block(node.body, set(), keep)
    if not node.body:
        node.body = [gast.Pass()]
    return node


def run(program, spec):
    return run_function(spec.node)
