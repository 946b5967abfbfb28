"""The NEP 50 rewriter's rules for operators (transforms/nep50_rewrite.py).

`a op b` with one Python number converts it (`nep50.mul_rhs`) or becomes a
helper (`nep50.mul_r`); one on Python ints that may overflow becomes an
overflow-checked helper (`nep50.mul_py`). On NumPy values an operation
inside an array expression becomes its ufunc, an array operand is promoted
where Numba's promotion differs from NumPy's, and the operation at the top
is settled to NumPy's dtype. Comparisons and unary operators likewise.
"""
import gast
import numpy as np

from .. import astutil as A
from .nep50_analysis import MIXED, STRONG, WEAK
from .nep50_program import _expr_non_numeric
from .nep50_template import _is_ours, _where
from runtime import nep50

_BINOPS = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
           gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow", gast.LShift: "lshift",
           gast.RShift: "rshift", gast.BitAnd: "and", gast.BitOr: "or", gast.BitXor: "xor"}
_CMPOPS = {gast.Lt: "lt", gast.LtE: "le", gast.Gt: "gt", gast.GtE: "ge", gast.Eq: "eq", gast.NotEq: "ne"}
_INT_CHECKED = ("add", "sub", "mul", "pow", "lshift")
_DIVISIONS = (gast.Div, gast.FloorDiv, gast.Mod)


class _Operators:
    """`_Rewrite`'s rules for binary and unary operators and comparisons."""

    def binary(self, stem, left, right, weak_left, node):
        """(left, right) with the Python number converted, or None (use the `_l`/`_r` helper)."""
        other = right if weak_left else left
        p = self.typed(self.proxy(other), node)
        if p is None:
            return None
        if weak_left:
            return self.helper(stem + "_lhs", [left, p], node), right
        return left, self.helper(stem + "_rhs", [p, right], node)

    def visit_BinOp(self, node):
        (sl, kl), (sr, kr) = self.state(node.left), self.state(node.right)
        inner = getattr(node, "nep50_inner", False)
        if type(node.op) in _BINOPS:
            node.left.nep50_inner = node.right.nep50_inner = True
        self.generic_visit(node)
        stem = _BINOPS.get(type(node.op))
        if stem is None:
            return node
        out = self._binop(node, stem, sl, kl, sr, kr)
        if out is node and {sl, sr} == {MIXED, STRONG} and not self.not_numeric(node):
            m, o = (node.left, node.right) if sl == MIXED else (node.right, node.left)
            node.left, node.right = self.guard_mixed(stem, m, o, sl == MIXED, node)
            return node
        if out is node and STRONG == sl == sr and self.not_numeric(node):
            # an operand may be a list, tuple or str: Python's operator for those, the ufunc's
            # loop for arrays (Numba's operator computes bool + bool by its scalar rules)
            return self.helper(stem + "_any", [node.left, node.right], node)
        if out is not node or MIXED in (sl, sr) or self.not_numeric(node):
            return out
        if WEAK == sl == sr:
            # Python floats (ints went to `*_py`): Python's rules, and the same text as for
            # NumPy values (one specialization for both), but no ufunc where Python raises
            if inner and isinstance(node.op, (gast.FloorDiv, gast.Mod, gast.Pow)):
                return node
            sl = sr = STRONG
        weak = 0 if sl == WEAK else 1 if sr == WEAK else -1
        if weak == -1:
            self.promote(stem, node)
        if inner and not isinstance(node.op, gast.Div):
            return self.ufunc_form(stem, [node.left, node.right], node)
        return self.settle(stem, node, [node.left, node.right], weak)

    def not_numeric(self, node):
        return _not_numeric(node) or _expr_non_numeric(node, getattr(self.fn, "non_numeric", ()),
                                                       getattr(self.fn, "holders", ()))

    def ufunc_form(self, stem, args, node):
        """`a + b` -> `np.add(a, b)` for an operation inside an array expression:
        Numba fuses both, but computes each element of an operator by its
        *scalar* rules (bool + bool is an int, -x of an unsigned int is
        negative, int8 + int8 does not wrap) and of a ufunc by the ufunc's
        loop, as NumPy does."""
        ufunc = nep50.UNARY[stem] if len(args) == 1 else nep50.OPERATORS[stem][1]
        func = A.attr(self.program.module_alias("numpy"), ufunc.__name__)
        func.tp_value = ufunc
        out = A.located(A.call(func, list(args)), node)
        if stem in ("add", "sub", "mul", "lshift", "pow", "negative"):
            # a signed integer narrower than 64 bits may overflow here, where NumPy wraps and
            # Numba lets LLVM assume it does not: `nep50.narrow` warns (a name: no cost to fusion)
            for k, a in enumerate(args):
                if isinstance(a, (gast.Name, gast.Subscript, gast.Attribute)):
                    p = self.typed(self.proxy(out, False), node)
                    if p is not None:
                        out.args[k] = A.located(A.call(A.attr(self.mod, "narrow"), [
                            a, p, A.const(ufunc.__name__), _where(self.spec, node)]), a)
                    break
        return out

    def promote(self, stem, node, ufunc_name=None):
        """`x * t` (NumPy values) -> `nep50.mul_promote_l(x, probe(t), where) * t`:
        an array operand (a name, subscript or call: not an inner operation,
        which Numba fuses) converted to the dtype NumPy computes in, where
        Numba would keep its dtype (a NumPy scalar of another kind)."""
        left, right = (node.args[0], node.args[1]) if ufunc_name else (node.left, node.right)
        leaf = lambda o: isinstance(o, (gast.Name, gast.Subscript, gast.Call, gast.Attribute)) \
            and not _is_ours(o, self.mod) \
            and not isinstance(getattr(getattr(o, "func", None), "tp_value", None), np.ufunc)  # noqa: E731
        for side, operand, other in (("l", left, right), ("r", right, left)):
            if not leaf(operand):
                continue
            p = self.typed(self.proxy(other, False), node)
            if p is None:
                continue
            args = [operand, p] if side == "l" else [p, operand]
            fixed = A.const(bool(leaf(other) and self.proxy(operand, False) is not None))
            if ufunc_name:
                call = self.helper("ufunc_promote", args + [A.const("lr".index(side)), A.const(ufunc_name), fixed],
                                   node)
            else:
                call = self.helper(f"{stem}_promote_{side}", args + [fixed], node)
            call.nep50_state = self.fn.expr(operand)
            if ufunc_name:
                node.args["lr".index(side)] = call
            elif side == "l":
                node.left = call
            else:
                node.right = call

    def settle(self, stem, node, operands, weak):
        """`a + b` -> `nep50.add_settle(a + b, probe(a), probe(b), weak, where)`:
        at typing time, NumPy's result dtype from the operands' dtypes; a scalar
        result is converted to it (int8 + int8 wraps at 8 bits), an array
        result of another dtype, or an operation NumPy rejects, is an error."""
        proxies = [self.typed(self.proxy(o, False), node) for o in operands]
        if any(p is None for p in proxies):
            return node
        name = f"{stem}_settle" if len(operands) == 2 else f"{stem}_settle1"
        args = [node] + proxies + ([A.const(weak)] if len(operands) == 2 else [])
        return self.helper(name, args, node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, gast.Not):
            self.generic_visit(node)
            return node
        s, _ = self.state(node.operand)
        inner = getattr(node, "nep50_inner", False)
        node.operand.nep50_inner = True
        self.generic_visit(node)
        stem = {gast.USub: "negative", gast.Invert: "invert", gast.UAdd: "positive"}.get(type(node.op))
        if stem is None or s != STRONG or self.not_numeric(node):
            return node
        if inner and stem != "positive":
            return self.ufunc_form(stem, [node.operand], node)
        return self.settle(stem, node, [node.operand], -1)

    def _binop(self, node, stem, sl, kl, sr, kr):
        if sl == WEAK and sr == WEAK:
            if stem == "pow" and _negative_int(node.right):
                # Python: an int to a negative power is a float
                node.left = A.located(A.call(A.name("float"), [node.left]), node.left)
                return node
            if stem in _INT_CHECKED and kl in ("i", "b", None) and kr in ("i", "b", None):
                return self.helper(stem + "_py", [node.left, node.right], node)
            return node     # Python floats: Python's own rules (divisions: the `checks` pass)
        if isinstance(node.op, _DIVISIONS) and (STRONG in (sl, sr) or WEAK in (sl, sr)):
            node.divisor_checked = True     # a NumPy operand: inf or nan, no ZeroDivisionError
        if sl == WEAK or sr == WEAK:
            pair = self.binary(stem, node.left, node.right, sl == WEAK, node)
            if pair is not None:            # the operation stays (Numba fuses array expressions)
                node.left, node.right = pair
                return node
            return self.helper(f"{stem}_{'l' if sl == WEAK else 'r'}", [node.left, node.right], node)
        return node

    def visit_Compare(self, node):
        states = [self.state(v)[0] for v in [node.left] + node.comparators]
        for v in [node.left] + node.comparators:
            v.nep50_inner = True
        self.generic_visit(node)
        if len(node.ops) != 1 or type(node.ops[0]) not in _CMPOPS:
            return node
        sl, sr = states
        if (sl == WEAK) == (sr == WEAK):
            return node
        stem = _CMPOPS[type(node.ops[0])]
        pair = self.binary(stem, node.left, node.comparators[0], sl == WEAK, node)
        if pair is not None:
            node.left, node.comparators = pair[0], [pair[1]]
            return node
        return self.helper(f"{stem}_{'l' if sl == WEAK else 'r'}", [node.left, node.comparators[0]], node)


def _not_numeric(node):
    """Whether an operation may be on strings, lists or tuples (not a ufunc's)."""
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (str, bytes))
    if isinstance(node, (gast.JoinedStr, gast.List, gast.Tuple, gast.ListComp, gast.Dict, gast.Set)):
        return True
    children = list(gast.iter_child_nodes(node))
    if _is_ours(node, "nep50"):
        if node.func.attr.startswith("format_"):
            return True
        children = [a for a in node.args if not isinstance(a, gast.Constant)]    # (the `where` text)
    return any(_not_numeric(c) for c in children)


def _negative_int(node):
    """`-2`: a literal negative int."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
        return isinstance(node, gast.Constant) and type(node.value) is int and node.value > 0
    return isinstance(node, gast.Constant) and type(node.value) is int and node.value < 0
