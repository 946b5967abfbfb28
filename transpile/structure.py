"""Pytrees at the staging boundary: structure is static, leaves are dynamic.

A pytree argument (a list of dicts of arrays, a namedtuple, ...) is keyed
by its structure and its leaves' types; the generated function takes one
parameter per leaf, named after its path (`params[0]['W']` ->
`params_0_W`). While specializing, the argument is a *mirror*: the same
containers holding `Leaf` placeholders, so Python itself evaluates
`params[0]['W']`, `len(params)`, `*hidden, last = params` or
`for layer in params:` at generation time, and only leaves reach the
generated code. A tree computed in the code (`tree_map(...)`, a gradient)
is a mirror whose leaves are `Leaf`s of new variables; a returned tree is
returned flat and rebuilt by the dispatcher.
"""
import re

import numpy as np

from .tree import _node_of, tree_flatten, tree_unflatten


class Leaf:
    """A leaf of a mirror: the generated variable `name` holds it."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Leaf({self.name})"


class LeafExpr:
    """A leaf of a mirror computed by an expression not yet in a variable."""

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node


class TreeParam:
    """The static part of a pytree argument: its structure."""

    def __init__(self, treedef):
        self.treedef = treedef

    def __eq__(self, other):
        return isinstance(other, TreeParam) and other.treedef == self.treedef

    def __hash__(self):
        return hash(("TreeParam", self.treedef))

    def __repr__(self):
        return f"TreeParam({self.treedef!r})"


def is_container(value):
    """A pytree container (not a leaf)."""
    if isinstance(value, (Leaf, LeafExpr, np.ndarray)) or _node_of(value) is None:
        return False
    return True


def is_mirror(value):
    """A container holding at least one `Leaf`/`LeafExpr`, or a `Leaf` itself."""
    if isinstance(value, (Leaf, LeafExpr)):
        return True
    if not is_container(value):
        return False
    leaves, _ = tree_flatten(value)
    return any(isinstance(v, (Leaf, LeafExpr)) for v in leaves)


def _part(key):
    s = str(key)
    return s if re.fullmatch(r"[A-Za-z0-9_]+", s) else f"k{abs(hash(s)) % 10000}"


def leaf_paths(treedef):
    """Name suffixes of the leaves of `treedef`, in flatten order."""
    out = []

    def walk(td, path):
        if td.node_type is None:
            out.append("_".join(path))
            return
        keys = range(len(td.children))
        if issubclass(td.node_type, dict):
            keys = td.aux[1]
        elif hasattr(td.node_type, "_fields"):
            keys = td.node_type._fields
        elif isinstance(td.aux, tuple) and td.aux and all(isinstance(a, str) for a in td.aux):
            keys = td.aux                                 # dataclass field names
        for key, child in zip(keys, td.children):
            walk(child, path + [_part(key)])

    walk(treedef, [])
    return out


def mirror(treedef, prefix):
    """The mirror of `treedef` whose leaves are variables `prefix_<path>`."""
    names = [f"{prefix}_{p}" if p else prefix for p in leaf_paths(treedef)]
    return tree_unflatten(treedef, [Leaf(n) for n in names]), names


def flatten_mirror(value):
    """(leaves, treedef) of a mirror (leaves: Leaf/LeafExpr/static values)."""
    return tree_flatten(value, is_leaf=lambda v: isinstance(v, (Leaf, LeafExpr)))
