"""The NEP 50 rewriter (transpile/transforms/nep50.py): `_Rewrite`, one per
generated function, rewrites each operation that mixes a Python number with
a NumPy value, operates on NumPy values, or on Python ints that may
overflow, by the states of transforms/nep50_analysis.py.

This module holds what every rule uses: `helper` (a call of a
`runtime.nep50` helper at the user's line), `state` (the state of an
operand consulted for a decision, which marks the function as depending on
its parameters' states) and the probes: `proxy` (an expression of the type
of another that computes nothing of size) and `typed` (a proxy as one
`nep50.typed` call, its template from transforms/nep50_template.py). The
rules are mixins, one module each:

* transforms/nep50_operators.py: binary and unary operators, comparisons;
* transforms/nep50_calls.py: ufunc calls, `max`/`min`, `np.where`,
  `print`, `str`/`repr` and f-strings;
* transforms/nep50_mixed.py: assignments, in-place operators and the checks
  on mixed locals.
"""
import gast
import numpy as np

from .. import astutil as A
from .nep50_analysis import WEAK, _settled
from .nep50_calls import _Calls
from .nep50_mixed import _Mixed
from .nep50_operators import _Operators
from .nep50_template import _TYPED_MAX_LEAVES, _template, _where


class _Rewrite(_Operators, _Calls, _Mixed, gast.NodeTransformer):
    """Rewrites one generated function (`fn`, its solved `_Function`); `mod` is the
    name generated code calls `runtime.nep50` by."""

    def __init__(self, program, fn, mod):
        self.program = program
        self.fn = fn
        self.spec = fn.spec
        self.mod = mod

    def helper(self, name, args, node):
        call = A.located(A.call(A.attr(self.mod, name), list(args) + [_where(self.spec, node)]), node)
        call.nep50_state = self.fn.expr(node)      # what the replaced expression was (for `proxy`)
        return call

    def state(self, node):
        """The settled state of `node`, consulted for a decision."""
        if not self.fn.sensitive and self.fn.depends_on_params(node):
            self.fn.sensitive = True
        s, k = self.fn.expr(node)
        return _settled(s), k

    def visit_FunctionDef(self, node):
        if node is not self.spec.node:
            return node
        self.generic_visit(node)
        return node

    def visit_Lambda(self, node):
        return node

    # -- an expression of the type of another, at almost no cost -----------------
    def proxy(self, node, top=True):
        """An expression with the Numba type of `node` (already rewritten)
        that computes nothing of size: its names become `nep50.probe(x)`
        (empty arrays), `x[i]` becomes `nep50.probe_index(x, 1)`. None when
        `node` may have effects or cannot be mirrored (a call of a user
        function, a method, a subscript by an array)."""
        if isinstance(node, gast.Name):
            return A.name(node.id) if top else A.call(A.attr(self.mod, "probe"), [A.name(node.id)])
        if isinstance(node, gast.Constant):
            return A.const(node.value)
        if isinstance(node, gast.BinOp):
            left, right = self.proxy(node.left, False), self.proxy(node.right, False)
            if left is None or right is None:
                return None
            out = gast.BinOp(left=left, op=node.op, right=right)
            # probes of scalars are zeros: no ZeroDivisionError check (the `checks` pass), the value
            # is never used (NumPy's operation, the one mirrored, gives inf or nan)
            out.divisor_checked = True
            return out
        if isinstance(node, gast.UnaryOp) and not isinstance(node.op, gast.Not):
            operand = self.proxy(node.operand, False)
            return None if operand is None else gast.UnaryOp(op=node.op, operand=operand)
        if isinstance(node, gast.Compare):
            parts = [self.proxy(v, False) for v in [node.left] + node.comparators]
            if any(p is None for p in parts):
                return None
            return gast.Compare(left=parts[0], ops=node.ops, comparators=parts[1:])
        if isinstance(node, gast.Attribute) and node.attr == "T":
            value = self.proxy(node.value, False)
            return None if value is None else A.attr(value, "T")
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.value.id in getattr(self.fn, "holders", ()) or node.value.id in getattr(self.fn, "non_numeric", ()):
                return None     # an item of a list or tuple: no probe (probe_index is for arrays)
            parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
            k = 0
            for p in parts:
                if isinstance(p, gast.Slice):
                    continue
                state = getattr(p, "nep50_state", None) or self.fn.expr(p)
                if _settled(state[0]) != WEAK or state[1] not in ("i", "b"):
                    return None     # an index that is not a Python int: maybe an array
                k += 1
            return A.call(A.attr(self.mod, "probe_index"), [A.name(node.value.id), A.const(k)])
        if isinstance(node, gast.Call) and not node.keywords:
            func = node.func
            fval = getattr(func, "tp_value", None)
            ours = isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id == self.mod and func.attr.endswith(("_lhs", "_rhs"))
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.value.id == self.mod and func.attr in ("probe", "probe_index", "typed"):
                return node     # a probe already
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.value.id == self.mod and func.attr in ("narrow", "ufunc_arg", "mixed", "mixed_of", "mixed_unary"):
                return self.proxy(node.args[0], False)
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.value.id == self.mod and ("_settle" in func.attr or func.attr.startswith("ufunc_") or "_promote_" in func.attr):
                if func.attr in ("ufunc_settle", "ufunc_settle2"):
                    return self.proxy(node.args[0], False)
                if func.attr == "ufunc_promote":
                    k = node.args[2].value
                else:
                    k = 1 if func.attr.endswith("_promote_r") else 0    # the argument that is a value
                value = self.proxy(node.args[k], False)
                if value is None:
                    return None
                args = list(node.args)
                args[k] = value
                return A.call(func, args)
            if isinstance(fval, np.ufunc) or ours:
                args = [self.proxy(a, False) for a in node.args]
                if any(a is None for a in args):
                    return None
                out = A.call(func, args)
                return out
        return None

    def typed(self, p, node):
        """Proxy `p` as one `nep50.typed(template, *leaves)` call: its type found
        while Numba types the call, nothing computed (a probe expression over
        empty arrays is compiled and run: its operations, and the helpers in
        it, inlined into every caller; nested proxies repeat the probes of
        their operands). `p` itself where it is a name or a constant, or
        cannot be written as a template."""
        if p is None or isinstance(p, (gast.Name, gast.Constant)):
            return p
        leaves = []
        template = _template(p, leaves, self.mod)
        if template is None or len(leaves) > _TYPED_MAX_LEAVES:
            return p
        return A.located(A.call(A.attr(self.mod, "typed"), [A.const(template)] + [n for _, n in leaves]), node)
