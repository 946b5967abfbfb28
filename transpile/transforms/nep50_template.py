"""Texts the NEP 50 rewriter (`_Rewrite`) writes into generated code:
the `where` argument of its helpers (`'f.py:3'`, `_where`) and the
template of a probe expression for `nep50.typed` (`_template`:
`'np.exp(nep50.probe(_0)) * _1'` over its leaves, typed as one call by
runtime/numba_nep50.py). `_is_ours` tells a call of a `nep50` helper.
"""
import copy
import re

import gast
import numpy as np

from .. import astutil as A


def _where(spec, node):
    import os
    return A.const(f"{os.path.basename(spec.src.filename)}:{getattr(node, 'lineno', spec.node.lineno)}")


def _is_ours(node, mod):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
        and isinstance(node.func.value, gast.Name) and node.func.value.id == mod


_TYPED_MAX_LEAVES = 64         # runtime/numba_nep50.py's typer takes this many
_TEMPLATE_BINOPS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//",
                    gast.Mod: "%", gast.Pow: "**", gast.LShift: "<<", gast.RShift: ">>", gast.BitAnd: "&",
                    gast.BitOr: "|", gast.BitXor: "^", gast.MatMult: "@"}
_TEMPLATE_CMPOPS = {gast.Lt: "<", gast.LtE: "<=", gast.Gt: ">", gast.GtE: ">=", gast.Eq: "==",
                    gast.NotEq: "!="}
_TEMPLATE_UNARY = {gast.USub: "-", gast.UAdd: "+", gast.Invert: "~"}
_TEMPLATE_LEAF = re.compile(r"\b_(\d+)\b")


def _constant_only(node):
    """Whether `node` is made of constants only (`-2`, `2.0 * 3`: Python folds them)."""
    return all(isinstance(n, (gast.Constant, gast.UnaryOp, gast.BinOp, gast.unaryop, gast.operator,
                              gast.Tuple, gast.Load))
               for n in gast.walk(node))


def _template(node, leaves, mod):
    """The text of proxy `node` for `nep50.typed`: its operations over `_k`,
    the k-th of `leaves` (names and constants, passed as they are, so Numba
    types each as in the proxy); None where `node` has anything else."""
    if isinstance(node, gast.Name) or _constant_only(node):
        # one leaf for each name (one type in one expression) and each constant of one type
        key = gast.dump(node) + "".join(repr((type(n.value), n.value)) for n in gast.walk(node)
                                        if isinstance(n, gast.Constant))
        for k, (seen, _) in enumerate(leaves):
            if seen == key:
                return f"_{k}"
        leaves.append((key, copy.deepcopy(node)))
        return f"_{len(leaves) - 1}"
    if isinstance(node, gast.BinOp) and type(node.op) in _TEMPLATE_BINOPS:
        left, right = _template(node.left, leaves, mod), _template(node.right, leaves, mod)
        return None if left is None or right is None else f"({left} {_TEMPLATE_BINOPS[type(node.op)]} {right})"
    if isinstance(node, gast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _TEMPLATE_CMPOPS:
        left, right = _template(node.left, leaves, mod), _template(node.comparators[0], leaves, mod)
        return None if left is None or right is None else f"({left} {_TEMPLATE_CMPOPS[type(node.ops[0])]} {right})"
    if isinstance(node, gast.UnaryOp) and type(node.op) in _TEMPLATE_UNARY:
        operand = _template(node.operand, leaves, mod)
        return None if operand is None else f"({_TEMPLATE_UNARY[type(node.op)]}{operand})"
    if isinstance(node, gast.Attribute) and node.attr == "T" and isinstance(node.ctx, gast.Load):
        value = _template(node.value, leaves, mod)
        return None if value is None else f"{value}.T"
    if isinstance(node, gast.Call) and not node.keywords and not any(isinstance(a, gast.Starred) for a in node.args):
        func = node.func
        fval = getattr(func, "tp_value", None)
        if _is_ours(node, mod) and func.attr == "typed":
            # a proxy already written as a template: its text, its leaves renumbered
            inner = [_template(a, leaves, mod) for a in node.args[1:]]
            if any(t is None for t in inner):
                return None
            return "(" + _TEMPLATE_LEAF.sub(lambda m: inner[int(m.group(1))], node.args[0].value) + ")"
        if _is_ours(node, mod):
            name = f"nep50.{func.attr}"
        elif isinstance(fval, np.ufunc) and getattr(np, fval.__name__, None) is fval:
            name = f"np.{fval.__name__}"
        else:
            return None
        args = [_template(a, leaves, mod) for a in node.args]
        return None if any(a is None for a in args) else f"{name}({', '.join(args)})"
    return None
