"""Masked loops: a `while` whose test depends on the example, in the lanes
form (transpile/batching/lanes.py), run for a block of examples at once until
none of them goes on (what JAX's vmap makes of `while_loop`):

    while _t5:                          for _s in range(0, _n, 256):
        _t6 = a / x                         _e = min(_s + 256, _n)
        _t7 = x + _t6                       _more = True
        x = 0.5 * _t7                       while _more:
        _t1 = x * x                             _more = False
        _t2 = _t1 - a                           _zd1 = False
        _t3 = abs(_t2)                          for _b in range(_s, _e):
        _t4 = 1e-12 * a                             a = a_lanes[_b]
        _t5 = _t3 > _t4                             x = x_lanes[_b]
                                                    _t5 = t5_lanes[_b]
                                                    _active = _t5
                                                    _x_old = x
                                                    _t5_old = _t5
                                                    _zd1 = batching.zero_divisor(_zd1, x, _active)
                                                    _t6 = a / batching.guard_divisor(x, _active)
                                                    ...
                                                    x = x if _active else _x_old
                                                    _t5 = _t5 if _active else _t5_old
                                                    batching.set_lane(x_lanes, _b, x)
                                                    batching.set_lane(t5_lanes, _b, _t5)
                                                    _more = _more | _t5
                                                batching.check_zero_divisor(_zd1, 'f.py:11')

Each pass runs the body for every example of the block, finished ones too,
and an example keeps the new values only while its test holds (a select,
which LLVM vectorizes across the examples). So the body must do nothing but
compute values: assignments of arithmetic, comparisons and calls of NumPy's
ufuncs, `math` and numeric builtins; no indexing, no call of another
function, no nested control flow. A division by zero still raises Python's
ZeroDivisionError at its line, for an example whose test held only, after
the pass (a finished example divides by 1 instead). Blocks of 256 examples
bound what an example that needs many more trips than the others costs the
rest.
"""
import copy
import os

import gast

from .. import astutil as A
from .slots import in_order, slot_item, tree_display

BLOCK = 256
_VALUES = (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp, gast.IfExp,
           gast.Call, gast.Attribute, gast.expr_context, gast.operator, gast.unaryop, gast.cmpop,
           gast.boolop)
_DIVISIONS = (gast.Div, gast.FloorDiv, gast.Mod)


def maskable(lanes, s):
    """True if the `while` statement `s` (its test depends on the example) can
    run masked: a test variable the body assigns, a body of value assignments."""
    if not (isinstance(s, gast.While) and isinstance(s.test, gast.Name) and not s.orelse):
        return False
    for st in s.body:
        if not (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)):
            return False
        for n in gast.walk(st.value):
            if not isinstance(n, _VALUES):
                return False
            if isinstance(n, gast.Attribute) and not _called(st.value, n):
                return False            # an attribute of a value (x.real): not known to be safe
            if isinstance(n, gast.BinOp) and isinstance(n.op, gast.Pow) and not isinstance(n.right, gast.Constant):
                return False            # an integer to a negative power raises
        if not lanes.pure(st.value):
            return False
    return s.test.id in A.names_in(gast.Module(body=s.body, type_ignores=[]), gast.Store)


def _called(value, attribute):
    """True if `attribute` is (part of) the function of a call in `value` (`np.sin`)."""
    for n in gast.walk(value):
        if isinstance(n, gast.Call) and any(m is attribute for m in gast.walk(n.func)):
            return True
    return False


def emit(lanes, s, scope, exposed, assigned):
    """The masked form of the `while` statement `s` (see the module's docstring)."""
    stored = [v for v in in_order(s.body, assigned) if v in lanes.exposed and lanes.batched(v)]
    loads = [v for v in in_order([s], exposed | set(stored)) if lanes.batched(v)]
    before, stores = lanes.slots_of(loads, stored, scope)
    active, more = lanes.fresh("_active"), lanes.fresh("_more")
    start, stop = lanes.fresh("_s"), lanes.fresh("_e")
    olds = {v: lanes.fresh(f"_{v.lstrip('_')}_old") for v in stored}
    flags, body = [], []
    for st in s.body:
        st = copy.deepcopy(st)
        for node in gast.walk(st):
            if isinstance(node, gast.BinOp) and isinstance(node.op, _DIVISIONS) and not _safe(node.right):
                flag = lanes.fresh("_zd")
                where = f"{os.path.basename(lanes.spec.src.filename)}:{getattr(node, 'lineno', None) or st.lineno}"
                flags.append((flag, where))
                body.append(A.located(A.assign(flag, A.call(lanes.helper("zero_divisor"), [
                    A.name(flag), copy.deepcopy(node.right), A.name(active)])), st))
                node.right = A.call(lanes.helper("guard_divisor"), [node.right, A.name(active)])
                node.divisor_checked = True     # checked above for the active examples (transforms/checks.py)
        body.append(st)
    inner = lanes.loads(loads) + [A.assign(active, A.name(s.test.id))] \
        + [A.assign(olds[v], A.name(v)) for v in stored] + body \
        + [A.assign(v, gast.IfExp(test=A.name(active), body=A.name(v), orelse=A.name(olds[v]))) for v in stored] \
        + stores + [A.assign(more, gast.BinOp(left=A.name(more), op=gast.BitOr(), right=A.name(s.test.id)))]
    # the block's examples as views of the slot arrays, indexed from 0 (LLVM vectorizes that loop)
    views = {lanes.slots[v]: lanes.fresh(f"{lanes.slots[v]}_block") for v in loads}
    inner = [_Rename(views).visit(st) for st in inner]
    size = lanes.fresh("_m")
    window = gast.Slice(lower=A.name(start), upper=A.name(stop), step=None)
    cut = [A.assign(views[lanes.slots[v]], tree_display(lanes.tree_of(v), lambda path, leaf, v=v: gast.Subscript(
        value=slot_item(A.name(lanes.slots[v]), path), slice=copy.deepcopy(window), ctx=gast.Load())
        if leaf.batched else slot_item(A.name(lanes.slots[v]), path))) for v in loads]
    passes = gast.While(test=A.name(more), body=[A.assign(more, A.const(False))]
                        + [A.assign(flag, A.const(False)) for flag, _ in flags]
                        + [lanes.over_examples(inner, stop=size)]
                        + [A.expr_stmt(A.call(lanes.helper("check_zero_divisor"), [A.name(flag), A.const(where)]))
                           for flag, where in flags], orelse=[])
    block = gast.For(target=A.store(start), iter=A.call(A.name("range"), [A.const(0), A.name(lanes.n),
                                                                         A.const(BLOCK)]),
                     body=[A.assign(stop, A.call(A.name("min"), [gast.BinOp(left=A.name(start), op=gast.Add(),
                                                                           right=A.const(BLOCK)),
                                                               A.name(lanes.n)])),
                           A.assign(size, gast.BinOp(left=A.name(stop), op=gast.Sub(), right=A.name(start)))]
                     + cut + [A.assign(more, A.const(True)), passes], orelse=[], type_comment=None)
    return [gast.copy_location(st, s) for st in before + [block]]


class _Rename(gast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            node.id = self.names[node.id]
        return node


def _safe(node):
    """A constant divisor other than zero (transforms/checks.py leaves those alone too)."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) and node.value != 0

