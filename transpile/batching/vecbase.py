"""What the modules of the vectorizer (transpile/batching/vectorize.py) share:
the refusal `NotVectorizable`, constants of ANF code read and written while
generating code (`-1`, `(0, 2)`, `'ij->j'`), and the tables of NumPy methods
and shape attributes that both the ranks of examples (batching/ranks.py)
and the batching rules (batching/statements.py, batching/expressions.py)
look up. It imports none of them.
"""
import gast
import numpy as np

from .. import astutil as A
import runtime.rules.batching as rb
from runtime import rules

_METHODS = {"copy": np.copy, "dot": np.dot, "ravel": np.ravel, "flatten": np.ravel,
            "transpose": np.transpose, "astype": np.ndarray.astype, "clip": np.clip,
            "cumsum": np.cumsum, "conj": np.conj}
_SHAPE_ATTRS = {"shape": "example_shape_of", "ndim": "example_ndim", "size": "example_size"}


class NotVectorizable(Exception):
    """Why a function has no vectorized form (the per-example loop runs it)."""

    def __init__(self, reason, where=None):
        super().__init__(reason)
        self.reason = reason
        self.where = where

    def __str__(self):
        return f"{self.reason} ({self.where})" if self.where else self.reason


def _rules():
    return rules, rb


def _is_const(node):
    return isinstance(node, gast.Constant) or (
        isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
        and isinstance(node.operand, gast.Constant))


def _const_value(node):
    """(True, value) for constants, tuples of constants, -constant; else (False, None)."""
    if isinstance(node, gast.Constant):
        return True, node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.operand, gast.Constant) \
            and isinstance(node.operand.value, (int, float)):
        v = node.operand.value
        return True, (-v if isinstance(node.op, gast.USub) else v)
    if isinstance(node, gast.Tuple):
        vals = [_const_value(e) for e in node.elts]
        if all(ok for ok, _ in vals):
            return True, tuple(v for _, v in vals)
    return False, None


def _to_node(value):
    if isinstance(value, tuple):
        return A.tuple_([_to_node(v) for v in value])
    if isinstance(value, (int, float)) and value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=A.const(-value))
    return A.const(value)
