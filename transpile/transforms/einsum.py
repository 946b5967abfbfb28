"""`np.einsum`'s sublist form as a subscripts string, for every later pass.

    np.einsum(a, [0, 1], b, [1, 2], [0, 2])   ->   np.einsum('AB,BC->AC', a, b)

NumPy reads the integers 0-25 as 'A'-'Z' and 26-51 as 'a'-'z' (the implicit
output, without an output sublist, is in that order), and `...` as an
ellipsis. The derivative, batching and Numba rules of einsum take the
subscripts string; a call whose sublists are not constants written in the
call stays as it is (its differentiation is then an error, not a zero).

With one operand and no index summed, NumPy returns a *view* of the operand:
a transposition becomes `np.transpose(a, axes)` (the same view everywhere,
Numba included); a diagonal stays einsum, which the alias pass treats as a
view and which jit (a copy there) reports with a warning (`view_kind`).
"""
import gast
import numpy as np

from .. import astutil as A
from ..errors import warn_at

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _labels(node):
    """The subscripts of one constant sublist, or None."""
    if isinstance(node, gast.Constant) and isinstance(node.value, tuple):
        items = list(node.value)
    elif isinstance(node, (gast.Tuple, gast.List)):
        items = []
        for e in node.elts:
            if not isinstance(e, gast.Constant):
                return None
            items.append(e.value)
    else:
        return None
    out = ""
    for v in items:
        if v is Ellipsis:
            out += "..."
        elif type(v) is int and 0 <= v < len(_LETTERS):
            out += _LETTERS[v]
        else:
            return None
    return out


def subscripts_form(node):
    """`node` (a call of np.einsum) with its sublist form rewritten as a
    subscripts string, or None when it is not in sublist form or a sublist
    is not a constant."""
    args = node.args
    if not args or (isinstance(args[0], gast.Constant) and isinstance(args[0].value, str)):
        return None
    if len(args) < 2 or any(isinstance(a, gast.Starred) for a in args):
        return None
    operands, terms = args[0::2][:len(args) // 2], []
    for sub in args[1::2]:
        terms.append(_labels(sub))
    out = None
    if len(args) % 2:
        out = _labels(args[-1])
        if out is None:
            return None
    if any(t is None for t in terms):
        return None
    spec = ",".join(terms) + ("->" + out if out is not None else "")
    return A.located(A.call(node.func, [A.const(spec)] + list(operands), node.keywords), node)


def view_kind(node):
    """What NumPy returns for `np.einsum('<spec>', a)` with one operand and a constant
    subscripts string: ("perm", axes) when it is a transposition (a view:
    `np.transpose(a, axes)`), "view" when it may be another view of `a` (a diagonal, or
    an ellipsis), None when it is a new array (some index summed) or not such a call."""
    args = node.args
    if len(args) != 2 or node.keywords or not (isinstance(args[0], gast.Constant)
                                               and isinstance(args[0].value, str)):
        return None
    spec = args[0].value.replace(" ", "")
    if "," in spec:
        return None
    inp, arrow, out = spec.partition("->")
    if "..." in spec:
        return "view"
    if not arrow:
        out = "".join(sorted(c for c in set(inp) if inp.count(c) == 1))
    if set(out) != set(inp) or len(set(out)) != len(out):
        return None         # an index summed (or repeated in the output): a new array
    if len(set(inp)) == len(inp):
        return ("perm", tuple(inp.index(c) for c in out))
    return "view"           # a diagonal: a view of `a` in NumPy


def as_transpose(node, np_alias):
    """`np.einsum('ij->ji', a)` as `np.transpose(a, (1, 0))`: the same view, for every
    later pass and for Numba (whose einsum would copy); None for any other call.
    `np_alias`: the generated module's name for numpy."""
    kind = view_kind(node)
    if not (isinstance(kind, tuple) and kind[0] == "perm"):
        return None
    transpose = A.attr(np_alias, "transpose")
    transpose.tp_value = np.transpose
    axes = A.tuple_([A.const(k) for k in kind[1]])
    return A.located(A.call(transpose, [node.args[1], axes]), node)


def warn_views(program):
    """Compiled code (jit): Numba's einsum returns a new array where NumPy's returns a view
    of the operand (a diagonal, `np.einsum('ii->i', a)`): say so at the user's line."""
    for spec in program.functions:
        for n in gast.walk(spec.node):
            if isinstance(n, gast.Call) and getattr(n.func, "tp_value", None) is np.einsum \
                    and view_kind(n) == "view":
                warn_at(f"np.einsum({n.args[0].value!r}, ...) is a view of its operand in NumPy, and a "
                        f"new array under jit: a write into one is not seen in the other. Copy it "
                        f"explicitly (`.copy()`) if you write into either", spec.src.location(n))
