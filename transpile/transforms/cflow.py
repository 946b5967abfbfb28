"""Structure: one exit per function and no `continue`, for reverse mode.

Reverse mode walks statements backwards, so control must be structured: the
statements a jump skips move into the other branch of the `if` that holds the
jump (copied to every path that falls through). `break` stays (the loop
counts its trips), `continue` disappears, and `return v` becomes `_ret = v`
with one `return _ret` at the end::

    def f(x):                           def f(x):
        if x < 3:                           if x < 3:
            return 3.0 * x ** 2                 _ret = 3.0 * x ** 2
        y = -4 * x                          else:
        return y                                y = -4 * x
                                                _ret = y
                                            return _ret

    for i in range(n):                  for i in range(n):
        if x[i] < 0:                        if x[i] < 0:
            continue                            pass
        s = s + x[i]                        else:
                                                s = s + x[i]

A `return` inside a loop sets `_ret` and `_returned = True` and breaks; after
the loop, `if _returned:` jumps on (break, or skip the rest of the function).

Invariant established: no `continue`; one `return`, the last statement of the
function body; a `break` is the last statement of its block and what follows
its `if` in the loop body sits in that `if`'s other branches.
"""
import copy

import gast

from .. import astutil as A
from ..errors import UnsupportedSyntaxError

NONE, ALWAYS, MIXED = "none", "always", "mixed"


def _jump(node, model):
    node.tp_jump = True
    return A.located(node, model)


def kind(stmts):
    """Whether a (structured) block ends in a jump on all, some or no paths."""
    if not stmts:
        return NONE
    last = stmts[-1]
    if getattr(last, "tp_jump", False):
        return ALWAYS
    if isinstance(last, gast.If):
        kb, ko = kind(last.body), kind(last.orelse)
        if kb == ko and kb != MIXED:
            return kb
        return MIXED
    return NONE


def append_tail(stmts, tail):
    """Append `tail` to every path through `stmts` that does not jump."""
    k = kind(stmts)
    if k == ALWAYS or not tail:
        return stmts
    if k == NONE:
        return [s for s in stmts if not isinstance(s, gast.Pass)] + tail
    last = stmts[-1]
    last.body = append_tail(last.body, copy.deepcopy(tail))
    last.orelse = append_tail(last.orelse, copy.deepcopy(tail))
    return stmts


class _Structure:
    def __init__(self, spec):
        self.spec = spec
        self.loop_returns = False
        self.returns = False

    def block(self, stmts, in_loop):
        out = []
        for i, stmt in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(stmt, gast.Continue):
                out.append(_jump(gast.Pass(), stmt))
                return out
            if isinstance(stmt, gast.Break):
                out.append(_jump(stmt, stmt))
                return out
            if isinstance(stmt, gast.Return):
                self.returns = True
                value = stmt.value if stmt.value is not None else A.const(None)
                out.append(A.located(A.assign("_ret", value), stmt))
                if in_loop:
                    self.loop_returns = True
                    out.append(A.located(A.assign("_returned", A.const(True)), stmt))
                    out.append(_jump(gast.Break(), stmt))
                else:
                    out.append(_jump(gast.Pass(), stmt))
                return out
            if isinstance(stmt, gast.If):
                stmt.body = self.block(stmt.body, in_loop) or [gast.Pass()]
                stmt.orelse = self.block(stmt.orelse, in_loop)
                out.append(stmt)
                if kind([stmt]) != NONE:
                    tail = self.block(rest, in_loop)
                    append_tail(out, tail)
                    return out
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                if stmt.orelse:
                    raise UnsupportedSyntaxError("`else` on a loop cannot be differentiated yet",
                                                 self.spec.src.location(stmt))
                outer, self.loop_returns = self.loop_returns, False
                stmt.body = self.block(stmt.body, True) or [gast.Pass()]
                returned, self.loop_returns = self.loop_returns, outer or self.loop_returns
                out.append(stmt)
                if returned:
                    jump = _jump(gast.Break() if in_loop else gast.Pass(), stmt)
                    check = A.located(gast.If(test=A.name("_returned"), body=[jump], orelse=[]), stmt)
                    out.append(check)
                    append_tail(out, self.block(rest, in_loop))
                    return out
                continue
            out.append(stmt)
        return out


def _strip(stmts):
    """Drop the `pass` markers of jumps that were structured away."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Pass) and getattr(stmt, "tp_jump", False):
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _strip(stmt.body) or [gast.Pass()]
            stmt.orelse = _strip(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = _strip(stmt.body) or [gast.Pass()]
        out.append(stmt)
    return out


def run(program, spec):
    node = spec.node
    jumps = [n for n in gast.walk(node) if isinstance(n, (gast.Return, gast.Continue, gast.Break))]
    if not jumps or (len(jumps) == 1 and node.body[-1] is jumps[0]):
        return node
    s = _Structure(spec)
    body = _strip(s.block(node.body, False))
    if s.returns:
        if any(isinstance(n, gast.Name) and n.id == "_returned" for n in gast.walk(gast.Module(body=body, type_ignores=[]))):
            body.insert(0, A.located(A.assign("_returned", A.const(False)), node.body[0]))
            spec.locals.add("_returned")
        body.append(A.located(gast.Return(value=A.name("_ret")), node.body[-1]))
        spec.locals.add("_ret")
    node.body = body
    return node
