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
_LEAF_TYPES = set()     # types seen to be leaves (whether a value is a leaf depends on its type alone)


def register_pytree_node(nodetype, flatten_func, unflatten_func):
    """Make `nodetype` a container: `flatten_func(x) -> (children, aux_data)`,
    `unflatten_func(aux_data, children) -> x` (JAX's signature)."""
    _REGISTRY[nodetype] = (flatten_func, unflatten_func)
    _LEAF_TYPES.clear()


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
    structures of its children; `None` type for a leaf. Immutable; equal
    structures flattened from values are one shared object (interned), so
    the dispatcher's signature check hashes and compares them cheaply."""

    __slots__ = ("node_type", "aux", "children", "num_leaves", "_unflatten", "_k", "_h", "_interned")

    def __init__(self, node_type, aux, children, unflatten):
        self.node_type = node_type
        self.aux = aux
        self.children = tuple(children)
        self._unflatten = unflatten
        self.num_leaves = 1 if node_type is None else sum(c.num_leaves for c in self.children)
        self._k = (node_type, _hashable(aux), tuple(c._k for c in self.children))
        self._h = None
        self._interned = False

    def _key(self):
        return self._k

    def __eq__(self, other):
        return self is other or (isinstance(other, PyTreeDef) and self._k == other._k)

    def __hash__(self):
        if self._h is None:
            self._h = hash(self._k)
        return self._h

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
_LEAF._interned = True
_INTERN = {}        # (type, aux, ids of interned children) -> PyTreeDef


def _make(node_type, aux, kids, unflatten):
    """The PyTreeDef of a node, one shared object per structure where its
    aux data is hashable (and its children's are)."""
    if all(k._interned for k in kids):
        try:
            key = (node_type, aux, *map(id, kids))
            hit = _INTERN.get(key)
        except TypeError:       # unhashable aux data
            return PyTreeDef(node_type, aux, kids, unflatten)
        if hit is None:
            hit = _INTERN[key] = PyTreeDef(node_type, aux, kids, unflatten)
            hit._interned = True
        return hit
    return PyTreeDef(node_type, aux, kids, unflatten)


def _flatten(x, leaves, is_leaf):
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    t = type(x)
    if t in _LEAF_TYPES:
        leaves.append(x)
        return _LEAF
    if t is list or t is tuple:         # the common containers, without the registry
        return _make(t, None, [_flatten(c, leaves, is_leaf) for c in x], _REGISTRY[t][1])
    if t is dict:
        keys = sorted(x)
        return _make(dict, (dict, tuple(keys)), [_flatten(x[k], leaves, is_leaf) for k in keys],
                     _dict_unflatten)
    node = _node_of(x)
    if node is None:
        _LEAF_TYPES.add(t)
        leaves.append(x)
        return _LEAF
    flatten, unflatten = node
    children, aux = flatten(x)
    return _make(t, aux, [_flatten(c, leaves, is_leaf) for c in children], unflatten)


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


# -- tree prefixes (vmap's in_axes/out_axes) ------------------------------------------
def _child_keys(x, aux, n):
    """The keys of the children of node `x`: dict keys, field names, indices."""
    if isinstance(x, dict):
        return list(aux[1])
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return [_Attr(f) for f in type(x)._fields]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [_Attr(f) for f in aux]
    return list(range(n))


class _Attr(str):
    """A namedtuple or dataclass field in a key path (shown `.name`)."""


def keystr(path):
    """A key path as JAX shows it: `[0]['W'].b`."""
    return "".join(f".{k}" if isinstance(k, _Attr) else f"[{k!r}]" for k in path)


def broadcast_prefix(prefix, full, what, path=(), opaque=None):
    """[(key path, prefix leaf, leaf of `full`)] in `full`'s flatten order:
    each leaf of `prefix` (None is a leaf here, as in JAX's in_axes) repeated
    over the leaves of the subtree of `full` at its place. A `prefix` that
    is not a tree prefix of `full` is JAX's ValueError; `what` names it
    ('vmap in_axes'), `path` is where `full` sits in it. Where
    `opaque(leaf)` holds, a leaf of `full` takes the subtree of `prefix` at
    its place whole (its own structure is checked later)."""
    out = []

    def walk(p, f, at):
        node = None if p is None else _node_of(p)
        if node is None:
            leaves, treedef = tree_flatten(f)
            out.extend((at + sub, p, leaf) for sub, leaf in zip(_leaf_keys(treedef), leaves))
            return
        children, aux = node[0](p)
        other = _node_of(f)
        if opaque is not None and other is None and opaque(f):
            out.append((at, p, f))
            return
        if type(p) is not type(f) or other is None:
            raise _prefix_error(what, at, "different types at key path",
                                f"has a subtree of type\n    {type(p)}\nbut at the same key path the full "
                                f"pytree has a subtree of different type\n    {type(f)}.")
        fchildren, faux = other[0](f)
        if isinstance(p, (list, tuple)) and len(children) != len(fchildren):
            name = type(p).__name__
            raise _prefix_error(what, at, f"different lengths of {name} at key path",
                                f"has a subtree of type {name} of length {len(children)}, but the full "
                                f"pytree has a subtree of the same type but of length {len(fchildren)}.")
        if _hashable(aux) != _hashable(faux) or len(children) != len(fchildren):
            shown = aux[1] if isinstance(p, dict) else aux
            fshown = faux[1] if isinstance(f, dict) else faux
            raise _prefix_error(what, at, "different pytree metadata at key path",
                                f"has a subtree of type\n    {type(p)}\nwith metadata\n    {shown}\nbut at "
                                f"the same key path the full pytree has a subtree of the same type but with "
                                f"metadata\n    {fshown}")
        for k, pc, fc in zip(_child_keys(p, aux, len(children)), children, fchildren):
            walk(pc, fc, at + (k,))

    walk(prefix, full, tuple(path))
    return out


def _leaf_keys(treedef):
    """The key path of each leaf of `treedef`, relative to its root."""
    if treedef.node_type is None:
        return [()]
    aux, n = treedef.aux, len(treedef.children)
    if issubclass(treedef.node_type, dict):
        keys = list(aux[1])
    elif hasattr(treedef.node_type, "_fields"):
        keys = [_Attr(f) for f in treedef.node_type._fields]
    elif isinstance(aux, tuple) and len(aux) == n and all(isinstance(a, str) for a in aux) \
            and dataclasses.is_dataclass(treedef.node_type):
        keys = [_Attr(f) for f in aux]
    else:
        keys = list(range(n))
    return [(k,) + sub for k, child in zip(keys, treedef.children) for sub in _leaf_keys(child)]


def _prefix_error(what, at, kind, detail):
    return ValueError(f"{what} specification must be a tree prefix of the corresponding value; \n"
                      f"  Mismatch details (1 found):\n  pytree structure error: {kind}\n"
                      f"    {what}{keystr(at)}\nAt that key path, the prefix pytree {what} {detail}")


class _TreeNamespace:
    """`tp.tree`: `map`, `flatten`, `unflatten`, `leaves`, `structure`."""
    map = staticmethod(tree_map)
    flatten = staticmethod(tree_flatten)
    unflatten = staticmethod(tree_unflatten)
    leaves = staticmethod(tree_leaves)
    structure = staticmethod(tree_structure)


tree = _TreeNamespace()
