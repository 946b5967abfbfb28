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


# -- the results of derivative transformations ----------------------------------------
#
# Generated code returns what a stack of layers computes over flat leaves:
# a Jacobian layer differentiating with respect to leaves x_1..x_n returns a
# tuple with one entry per x_j (one entry alone for an int argnums over an
# array), each shaped like the function's output with every output leaf y
# replaced by dy/dx_j. JAX nests the other way round: the output's structure
# outermost, each leaf the input tree of its derivatives. The dispatcher
# rebuilds JAX's structure from the generated leaves (transpile/transformed.py).

_LEAF = tree_flatten(0)[1]


def _graft(outer, inner):
    """The structure of `outer` with each leaf replaced by the tree `inner`."""
    slot = object()
    sub = tree_unflatten(inner, [slot] * inner.num_leaves)
    return tree_flatten(tree_unflatten(outer, [sub] * outer.num_leaves),
                        is_leaf=lambda v: v is slot)[1]


def tuple_structure(defs):
    """The structure of a tuple whose items have the structures `defs`."""
    slot = object()
    return tree_flatten(tuple(tree_unflatten(d, [slot] * d.num_leaves) for d in defs),
                        is_leaf=lambda v: v is slot)[1]


def _pair(a, b):
    return tuple_structure((a, b))


def flatten_up_to(treedef, tree):
    """The subtrees of `tree` at the leaves of `treedef`, a prefix of its
    structure (a leaf of a returned pytree may be a tuple display returned
    whole)."""
    if treedef.node_type is None:
        return [tree]
    children = _node_of(tree)[0](tree)[0]
    return [x for sub, child in zip(treedef.children, children) for x in flatten_up_to(sub, child)]


def tree_key(k):
    """The structure in a signature key of a pytree argument, else None."""
    return k[1] if type(k) is tuple and len(k) == 2 and k[0] == "tree" else None


def result_structure(base, layers):
    """(treedef, order): JAX's structure of the result of `layers` (innermost
    first, each (kind, in_def, tupled): in_def the structure of the
    differentiated inputs as JAX shows them, a tuple over argnums or one
    argument's tree) over a function whose output has structure `base`, and
    for each leaf of that structure the index of the generated leaf holding
    it (generated leaves in flatten order)."""
    treedef, order, m = base, list(range(base.num_leaves)), base.num_leaves
    for kind, in_def, _ in layers:
        if kind == "vmap":                  # batched leaves, same structure
            continue
        if kind == "jvp":                   # (y, y_dot)
            treedef, order, m = _pair(treedef, treedef), order + [m + k for k in order], 2 * m
            continue
        n = in_def.num_leaves               # generated: [x_j][y]; JAX: [y][x_j]
        lifted = [j * m + k for k in order for j in range(n)]
        if kind == "value_and_grad":        # (value, gradients)
            treedef, order, m = _pair(treedef, _graft(treedef, in_def)), order + [m + k for k in lifted], m + m * n
        else:                               # grad, jacfwd, jacrev
            treedef, order, m = _graft(treedef, in_def), lifted, m * n
    return treedef, order


def base_output(out, layers):
    """The function's own output inside the generated result of `layers`."""
    for kind, _, tupled in reversed(layers):
        if kind in ("jvp", "value_and_grad") or (kind != "vmap" and tupled):
            out = out[0]
    return out


def rebuild_result(out, layers, out_tree):
    """The generated result `out` of `layers` in JAX's structure; `out_tree`:
    the pytree the function returns flat (None: it returns a plain value)."""
    if out_tree is None and not any(tupled for _, _, tupled in layers):
        return out      # no tuple over inputs, no pytree returned flat: the nesting is JAX's already
    if next((kind for kind, _, _ in layers if kind != "vmap"), None) == "grad":
        base_def = _LEAF    # the gradient of a scalar: the output is not in the result
    else:
        base = base_output(out, layers)
        if out_tree is not None:
            base = tree_unflatten(out_tree, list(base))
        base_def = tree_flatten(base)[1]
    treedef, order = result_structure(base_def, layers)
    leaves = tree_flatten(out)[0]
    return tree_unflatten(treedef, [leaves[k] for k in order])
