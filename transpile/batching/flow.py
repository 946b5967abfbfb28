"""Names that statement lists read and assign, for the lanes strategy
(transpile/batching/lanes.py): what a loop over the examples must load from
slot arrays before its statements (read before assigned in it), and what it
may leave unassigned (assigned on some paths only)."""
import gast

from .. import astutil as A


def loads(node):
    return A.names_in(node, gast.Load)


def targets(s):
    return A.names_in(s.targets[0], gast.Store) if isinstance(s, gast.Assign) else set()


def flow(stmts):
    """(exposed, definite, assigned) names of a statement list: read before
    any assignment in it, assigned on every path, assigned on some path."""
    exposed, definite, assigned = set(), set(), set()
    for s in stmts:
        e, d, a = _flow_stmt(s)
        exposed |= e - definite
        definite |= d
        assigned |= a
    return exposed, definite, assigned


def _flow_stmt(s):
    if isinstance(s, gast.Assign):
        target = s.targets[0]
        reads = loads(s.value)
        if isinstance(target, gast.Subscript):      # an element written: the array is read
            return reads | loads(target), set(), set()
        names = A.names_in(target, gast.Store)
        return reads | loads(target), names, names
    if isinstance(s, gast.If):
        eb, db, ab = flow(s.body)
        eo, do, ao = flow(s.orelse)
        return loads(s.test) | eb | eo, db & do, ab | ao
    if isinstance(s, gast.While):
        eb, _, ab = flow(s.body)
        eo, _, ao = flow(s.orelse)
        return loads(s.test) | eb | eo, set(), ab | ao
    if isinstance(s, gast.For):
        target = A.names_in(s.target, gast.Store)
        eb, _, ab = flow(s.body)
        eo, _, ao = flow(s.orelse)
        return loads(s.iter) | (eb - target) | eo, set(), target | ab | ao
    return loads(s), set(), set()


def escapes_loop(stmts, depth=0):
    """True if a `break`/`continue` in `stmts` leaves a loop that encloses them."""
    for s in stmts:
        if isinstance(s, (gast.Break, gast.Continue)) and depth == 0:
            return True
        if isinstance(s, (gast.For, gast.While)):
            if escapes_loop(s.body, depth + 1) or escapes_loop(s.orelse, depth):
                return True
        elif isinstance(s, gast.If):
            if escapes_loop(s.body, depth) or escapes_loop(s.orelse, depth):
                return True
    return False
