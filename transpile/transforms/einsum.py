"""`np.einsum`'s sublist form as a subscripts string, for every later pass.

    np.einsum(a, [0, 1], b, [1, 2], [0, 2])   ->   np.einsum('AB,BC->AC', a, b)

NumPy reads the integers 0-25 as 'A'-'Z' and 26-51 as 'a'-'z' (the implicit
output, without an output sublist, is in that order), and `...` as an
ellipsis. The derivative, batching and Numba rules of einsum take the
subscripts string; a call whose sublists are not constants written in the
call stays as it is (its differentiation is then an error, not a zero).
"""
import gast

from .. import astutil as A

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
