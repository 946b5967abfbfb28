"""Pytrees, JAX's conventions: nested containers whose leaves are the values.

Containers: tuples, lists, dicts (children in sorted key order, as JAX),
None (no children), namedtuples and dataclasses, and any type given to
:func:`register_pytree_node`. Everything else is a leaf — numbers, arrays,
strings, arbitrary objects.

    leaves, treedef = tree_flatten([1, {"k": (2, 3)}])     # [1, 2, 3]
    tree_unflatten(treedef, [4, 5, 6])                    # [4, {"k": (5, 6)}]
    tree_map(lambda a, b: a + b, t1, t2)                  # leaf by leaf

`tp.tree.map`, `tp.tree.flatten`, ... are the same functions (JAX's
`jax.tree` namespace).
"""
import dataclasses

__all__ = ["tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "tree_map",
           "register_pytree_node", "PyTreeDef", "treedef_children"]

# type -> (flatten(x) -> (children, aux), unflatten(aux, children) -> x)
_REGISTRY = {}


def register_pytree_node(nodetype, flatten_func, unflatten_func):
    """Make `nodetype` a container: `flatten_func(x) -> (children, aux_data)`,
    `unflatten_func(aux_data, children) -> x` (JAX's signature)."""
    _REGISTRY[nodetype] = (flatten_func, unflatten_func)


def _dict_flatten(d):
    keys = sorted(d)
    return [d[k] for k in keys], (type(d), tuple(keys))


def _dict_unflatten(aux, children):
    cls, keys = aux
    out = dict(zip(keys, children))
    return out if cls is dict else cls(out)


register_pytree_node(tuple, lambda t: (list(t), None), lambda _, c: tuple(c))
register_pytree_node(list, lambda t: (list(t), None), lambda _, c: list(c))
register_pytree_node(dict, _dict_flatten, _dict_unflatten)
register_pytree_node(type(None), lambda _: ([], None), lambda _a, _c: None)


def _node_of(x):
    """(flatten, unflatten) when `x` is a container, else None."""
    t = type(x)
    if t in _REGISTRY:
        return _REGISTRY[t]
    if isinstance(x, tuple) and hasattr(t, "_fields"):          # namedtuple
        return (lambda v: (list(v), None), lambda _, c, t=t: t(*c))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        names = tuple(f.name for f in dataclasses.fields(x))
        return (lambda v: ([getattr(v, n) for n in names], names),
                lambda aux, c, t=t: t(**dict(zip(aux, c))))
    if isinstance(x, dict):                                     # OrderedDict, defaultdict, ...
        return _REGISTRY[dict]
    return None


class PyTreeDef:
    """The structure of a pytree: a container type, its aux data and the
    structures of its children; `None` type for a leaf."""

    __slots__ = ("node_type", "aux", "children", "num_leaves", "_unflatten")

    def __init__(self, node_type, aux, children, unflatten):
        self.node_type = node_type
        self.aux = aux
        self.children = tuple(children)
        self._unflatten = unflatten
        self.num_leaves = 1 if node_type is None else sum(c.num_leaves for c in self.children)

    def _key(self):
        return (self.node_type, _hashable(self.aux), tuple(c._key() for c in self.children))

    def __eq__(self, other):
        return isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"PyTreeDef({self._show()})"

    def _show(self):
        if self.node_type is None:
            return "*"
        inner = ", ".join(c._show() for c in self.children)
        if self.node_type is list:
            return f"[{inner}]"
        if self.node_type is tuple:
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        if self.node_type is dict or (isinstance(self.aux, tuple) and len(self.aux) == 2
                                      and isinstance(self.aux[1], tuple) and self.node_type is not None
                                      and issubclass(self.node_type, dict)):
            keys = self.aux[1]
            return "{" + ", ".join(f"{k!r}: {c._show()}" for k, c in zip(keys, self.children)) + "}"
        if self.node_type is type(None):
            return "None"
        return f"{self.node_type.__name__}({inner})"

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)


def _hashable(aux):
    try:
        hash(aux)
        return aux
    except TypeError:
        return repr(aux)


_LEAF = PyTreeDef(None, None, (), None)


def _flatten(x, leaves, is_leaf):
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    node = _node_of(x)
    if node is None:
        leaves.append(x)
        return _LEAF
    flatten, unflatten = node
    children, aux = flatten(x)
    return PyTreeDef(type(x), aux, [_flatten(c, leaves, is_leaf) for c in children], unflatten)


def tree_flatten(tree, is_leaf=None):
    """(leaves in order, treedef)."""
    leaves = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def treedef_children(treedef):
    return list(treedef.children)


def tree_unflatten(treedef, leaves):
    """The pytree of structure `treedef` whose leaves are `leaves`."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"Too {'few' if len(leaves) < treedef.num_leaves else 'many'} leaves for "
                         f"PyTreeDef; expected {treedef.num_leaves}, got {len(leaves)}.")
    it = iter(leaves)
    return _build(treedef, it)


def _build(treedef, it):
    if treedef.node_type is None:
        return next(it)
    children = [_build(c, it) for c in treedef.children]
    return treedef._unflatten(treedef.aux, children)


def _path_str(path):
    return "".join(f"[{k!r}]" for k in path) or "the root"


def _describe(x):
    node = _node_of(x)
    if node is None:
        return "a leaf"
    children, aux = node[0](x)
    if isinstance(x, dict):
        return f"a {type(x).__name__} with keys {sorted(x)}"
    return f"a {type(x).__name__} of {len(children)}"


def _map(f, trees, path, is_leaf):
    t0 = trees[0]
    node = None if (is_leaf is not None and is_leaf(t0)) else _node_of(t0)
    if node is None:
        return f(*trees)
    flatten, unflatten = node
    children0, aux0 = flatten(t0)
    columns = [children0]
    for i, t in enumerate(trees[1:], 1):
        other = _node_of(t)
        ok = other is not None and type(t) is type(t0)
        if ok:
            children, aux = other[0](t)
            ok = len(children) == len(children0) and _hashable(aux) == _hashable(aux0)
        if not ok:
            raise ValueError(f"tree_map: the trees differ in structure at {_path_str(path)}: tree 0 "
                             f"has {_describe(t0)}, tree {i} has {_describe(t)}")
        columns.append(children)
    keys = aux0[1] if isinstance(t0, dict) else range(len(children0))
    out = [_map(f, [col[k] for col in columns], path + (key,), is_leaf)
           for k, key in enumerate(keys)]
    return unflatten(aux0, out)


def tree_map(f, tree, *rest, is_leaf=None):
    """`f` applied leaf by leaf; the other trees must have `tree`'s structure
    (where a leaf of `tree` holds a subtree of another, `f` gets the
    subtree, as in JAX). A mismatch says where."""
    return _map(f, (tree,) + rest, (), is_leaf)


class _TreeNamespace:
    """`tp.tree`: `map`, `flatten`, `unflatten`, `leaves`, `structure`."""
    map = staticmethod(tree_map)
    flatten = staticmethod(tree_flatten)
    unflatten = staticmethod(tree_unflatten)
    leaves = staticmethod(tree_leaves)
    structure = staticmethod(tree_structure)


tree = _TreeNamespace()
