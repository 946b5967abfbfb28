"""The NEP 50 rewriter's rules for calls (transforms/nep50_rewrite.py).

Binary and unary ufuncs as operators are (transforms/nep50_operators.py),
`max`/`min` of two types, `np.where` with one Python number, Python's
formatting for `print`, `str`, `repr` and f-strings, and a warning for the
`np.random` functions whose draws differ from NumPy's.
"""
import gast
import numpy as np

from .. import astutil as A
from ..errors import warn_at
from .nep50_analysis import MIXED, STRONG, WEAK
from .nep50_template import _where
from runtime import nep50

# np.random functions whose draws under Numba differ from NumPy's for the same
# state (measured against NumPy 2.4, Numba 0.68); every other supported one matches
# draw for draw, the dispatcher sharing NumPy's global state (transpile/numpy_semantics.py).
RANDOM_NOT_NUMPYS = frozenset(("standard_gamma", "gamma", "beta", "chisquare", "f", "standard_t",
                               "pareto", "vonmises", "dirichlet"))


class _Calls:
    """`_Rewrite`'s rules for calls and f-strings."""

    def visit_Call(self, node):
        states = [self.state(a)[0] for a in node.args]
        fval = getattr(node.func, "tp_value", None)
        if isinstance(fval, np.ufunc):
            for a in node.args:
                a.nep50_inner = True
        self.generic_visit(node)
        if node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
            return node
        if isinstance(fval, np.ufunc) and fval.nin == 2 and len(node.args) == 2 \
                and getattr(np, fval.__name__, None) is fval and set(states) == {MIXED, STRONG} \
                and not self.not_numeric(node):
            k = states.index(MIXED)
            node.args = list(self.guard_mixed(fval.__name__, node.args[k], node.args[1 - k], k == 0, node))
            return node
        if isinstance(getattr(fval, "__self__", None), np.random.RandomState) \
                and getattr(fval, "__name__", None) in RANDOM_NOT_NUMPYS:
            warn_at(f"np.random.{fval.__name__} under jit draws other numbers than NumPy's for the same "
                    f"seed (Numba's algorithm differs); its distribution is the same. Use backend='python' "
                    f"where the exact draws matter", self.spec.src.location(node))
        if isinstance(fval, np.ufunc) and fval.nin == 2 and len(node.args) == 2 \
                and getattr(np, fval.__name__, None) is fval and states[0] == states[1] == STRONG:
            # NumPy values: an operand converted where Numba's promotion differs, the result settled
            self.promote(None, node, fval.__name__)
            if getattr(node, "nep50_inner", False):
                return node
            proxies = [self.typed(self.proxy(a, False), node) for a in node.args]
            if any(p is None for p in proxies):
                return node
            return self.helper("ufunc_settle2", [node] + proxies + [A.const(fval.__name__)], node)
        if isinstance(fval, np.ufunc) and len(node.args) == 2 and fval.__name__ in nep50.UFUNCS \
                and nep50.UFUNCS[fval.__name__] is fval:
            sl, sr = states
            if (sl == WEAK) != (sr == WEAK):
                stem = fval.__name__
                pair = self.binary(stem, node.args[0], node.args[1], sl == WEAK, node)
                if pair is not None:
                    node.args = list(pair)
                    return node
                return self.helper(f"{stem}_{'l' if sl == WEAK else 'r'}", node.args, node)
        elif isinstance(fval, np.ufunc) and fval.nin == 1 and len(node.args) == 1 \
                and getattr(np, fval.__name__, None) is fval and states[0] != MIXED:
            arg = node.args[0]
            if isinstance(arg, (gast.Name, gast.Subscript, gast.Attribute)):
                # NumPy's dtype of the ufunc of this operand (a name: no cost to fusion)
                node.args[0] = A.located(A.call(A.attr(self.mod, "ufunc_arg"), [
                    arg, A.const(fval.__name__), _where(self.spec, node)]), arg)
            if getattr(node, "nep50_inner", False):
                return node
            p = self.typed(self.proxy(node.args[0], False), node)
            if p is not None:
                return self.helper("ufunc_settle", [node, p, A.const(fval.__name__)], node)
        elif isinstance(fval, np.ufunc) and fval.nin == 1 and len(node.args) == 1 \
                and getattr(np, fval.__name__, None) is fval and states[0] == MIXED:
            # `np.abs(s)`, `s` mixed: NumPy's dtype with `s` a Python number against Numba's
            names, kinds = self.weak_kinds(node.args[0])
            if names and kinds:
                node.args[0] = A.located(A.call(A.attr(self.mod, "mixed_unary"), [
                    node.args[0], A.const(kinds), A.const(fval.__name__), A.const(", ".join(names)),
                    _where(self.spec, node)]), node.args[0])
                node.args[0].nep50_state = (MIXED, None)
        elif (fval is max or fval is min) and len(node.args) == 2 and states != [WEAK, WEAK] \
                and not self.not_numeric(node.args[0]) and not self.not_numeric(node.args[1]):
            # Python returns one argument unchanged; Numba converts both to one type
            return self.helper("builtin_" + fval.__name__, node.args, node)
        elif fval is print:
            # Numba prints a float32 as the float64 it widens to: print Python's str of each value
            node.args = [A.located(A.call(A.attr(self.mod, "format_py" if st == WEAK else "format_np"),
                                          [a, A.const(""), A.const("s")]), a) for a, st in zip(node.args, states)]
            return node
        elif fval in (str, repr) and len(node.args) == 1:
            # Numba's str of a float is `<object type:float64>`: Python's, in object mode
            fn = A.attr(self.mod, "format_py" if states[0] == WEAK else "format_np")
            return A.located(A.call(fn, [node.args[0], A.const(""), A.const("s" if fval is str else "r")]), node)
        elif fval is np.where and len(node.args) == 3:
            s1, s2 = states[1:]
            if (s1 == WEAK) != (s2 == WEAK):
                return self.helper(f"where_{'l' if s1 == WEAK else 'r'}", node.args, node)
        return node

    def visit_JoinedStr(self, node):
        """f"{x.sum()} {n:3d}" -> format_np(npx.sum(x), '', '') + ' ' + format_py(n, '3d', ''):
        Python's formatting, in object mode (Numba's own prints `<object type:float64>`)."""
        parts = []
        for v in node.values:
            if isinstance(v, gast.FormattedValue):
                s, _ = self.state(v.value)
                value = self.visit(v.value)
                spec = self.visit(v.format_spec) if v.format_spec is not None else A.const("")
                conversion = {115: "s", 114: "r", 97: "a"}.get(v.conversion, "")
                fn = A.attr(self.mod, "format_py" if s == WEAK else "format_np")
                parts.append(A.located(A.call(fn, [value, spec, A.const(conversion)]), node))
            else:
                parts.append(v)
        if not parts:
            return A.located(A.const(""), node)
        if len(parts) == 1 and isinstance(parts[0], gast.Constant):
            return parts[0]
        out = parts[0]
        for p in parts[1:]:
            out = A.located(gast.BinOp(left=out, op=gast.Add(), right=p), node)
        return out
