"""What a layer is: one transformation in a stack (innermost first).

`LayerKind` names the transformations; a `Layer` is one of them as the user
asked for it (`tp.grad(f, argnums=1)`, `tp.vmap(f, in_axes=(0, None))`: its
kind and options); a `BoundLayer` is a layer bound to one call's signature,
what transpile/compose.py generates code from: the generated parameters it
differentiates (`wrt`, a pytree argument's leaves included), and for a vmap
layer the axes, example ranks, `out_axes`, `axis_size` and `strategy` of
transpile/batching.

The vmap layer's part (`VmapSpec`) is shared by the API (which builds one
from `tp.vmap`'s arguments and binds it to each call) and the specializer
(which meets `tp.vmap(f)(xs)` inside transformed code, `embedded_layer`).
"""
import dataclasses
import enum

import numpy as np

from .structure import TreeParam, mirror
from .tree import (broadcast_prefix, keystr, tree_flatten, tree_leaves, tree_structure,
                   tree_unflatten)
from .values import _DYN

STRATEGIES = ("auto", "loop", "vectorize")


class LayerKind(str, enum.Enum):
    """The kinds of layer. A string enum (`enum.StrEnum` from Python 3.11): a
    kind is its name wherever text is made of it (generated function names,
    messages) and compares equal to it. `hessian` is two layers, jacfwd over
    jacrev."""
    GRAD = "grad"
    VALUE_AND_GRAD = "value_and_grad"
    VJP = "vjp"
    JVP = "jvp"
    JACFWD = "jacfwd"
    JACREV = "jacrev"
    VMAP = "vmap"

    def __str__(self):
        return self.value

    def __format__(self, spec):
        return format(self.value, spec)


#: the kinds whose result is (value and) gradient: reverse mode on the user's code
GRADIENTS = (LayerKind.GRAD, LayerKind.VALUE_AND_GRAD)


@dataclasses.dataclass(frozen=True, eq=False)
class Layer:
    """One transformation as the user asked for it: `kind`, the `argnums`
    as given (an int or a sequence; `()` for vmap), `has_aux`, and for vmap
    its `VmapSpec`. Equal layers have equal `key()`s (hashable: a list of
    argnums is keyed as a tuple, a vmap spec by `VmapSpec.key`)."""
    kind: LayerKind
    argnums: object = 0
    has_aux: bool = False
    vmap: "VmapSpec" = None

    def __post_init__(self):
        object.__setattr__(self, "kind", LayerKind(self.kind))

    @classmethod
    def of_vmap(cls, spec):
        return cls(LayerKind.VMAP, (), False, spec)

    def key(self):
        argnums = self.argnums if isinstance(self.argnums, int) else tuple(self.argnums)
        return (self.kind, argnums, self.has_aux, None if self.vmap is None else self.vmap.key())

    def __eq__(self, other):
        return isinstance(other, Layer) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())


@dataclasses.dataclass(frozen=True, eq=False)
class BoundLayer:
    """A layer bound to one call, what transpile/compose.py and
    transpile/batching generate code from. `wrt`: the generated parameters
    a derivative layer differentiates; `argnums_int`: its result is for one
    argument (not a tuple over them); `ranks`: {parameter: rank of an
    example} where the code depends on it (Jacobians, vmap). A vmap layer
    has `axes` ({parameter: axis tree}), `out_axes`, `axis_size`,
    `strategy`, `lanes` (transpile/batching/lanes.py may run it) and
    `inner`: the gradient layer it computes by forward mode
    (compose.forward_grad), if any. `key()` is hashable and stable."""
    kind: LayerKind
    wrt: tuple = ()
    argnums_int: bool = True
    has_aux: bool = False
    ranks: dict = None
    axes: dict = None
    out_axes: object = 0
    axis_size: int = None
    strategy: str = "auto"
    lanes: bool = False
    inner: "BoundLayer" = None

    def __post_init__(self):
        object.__setattr__(self, "kind", LayerKind(self.kind))
        object.__setattr__(self, "wrt", tuple(self.wrt))

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def key(self):
        """What the generated code depends on, hashable (the caches of
        transpile/transformed.py share generated code by it)."""
        item = (self.kind, self.wrt, self.argnums_int, self.has_aux)
        if self.kind is LayerKind.VMAP:
            item += (tuple(sorted(self.axes.items())), tuple(sorted((self.ranks or {}).items())), self.out_axes,
                     self.axis_size, self.strategy, self.lanes)
            if self.inner is not None:
                item += (("inner", self.inner.key()),)
        return item


def bound_layer(layer):
    """A `BoundLayer`, from one or from a dict of its fields (the form
    `pipeline.generate`'s options may give, kinds as names)."""
    return layer if isinstance(layer, BoundLayer) else BoundLayer(**layer)


def layers_key(layers):
    """The hashable key of a stack of `BoundLayer`s."""
    return tuple(layer.key() for layer in layers)


def _check_axes(spec, which):
    """JAX's check of in_axes/out_axes: ints and None in (nested) containers."""
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in tree_leaves(spec)):
        raise ValueError(f"vmap {which} must be an int, None, or (nested) container with those "
                         f"types as leaves, but got {spec}.")


def _frozen(spec):
    """A hashable form of an axes tree (dicts are not hashable)."""
    leaves, treedef = tree_flatten(spec)
    return (treedef, tuple(leaves))


def _tuples_only(spec):
    return spec is None or isinstance(spec, int) or (type(spec) is tuple and all(_tuples_only(s) for s in spec))


class VmapSpec:
    """What `tp.vmap` was given (validated; a top-level list of in_axes made a
    tuple, as JAX does)."""

    def __init__(self, in_axes=0, out_axes=0, axis_size=None, strategy="auto"):
        _check_axes(in_axes, "in_axes")
        _check_axes(out_axes, "out_axes")
        if isinstance(in_axes, list):   # JAX treats a list of axes as a tuple of axes (top level only)
            in_axes = tuple(in_axes)
        if not (in_axes is None or isinstance(in_axes, int) or type(in_axes) is tuple):
            raise TypeError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
                            f"positional arguments passed to the function, but got {in_axes}.")
        if axis_size is not None and (not isinstance(axis_size, (int, np.integer)) or axis_size < 0):
            raise ValueError(f"vmap axis_size must be a non-negative int, got {axis_size!r}")
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown vmap strategy {strategy!r}; expected one of {STRATEGIES}")
        self.in_axes = in_axes
        self.out_axes = out_axes
        self.axis_size = None if axis_size is None else int(axis_size)
        self.strategy = strategy
        if self.axis_size is None and _all_none(self.in_axes):
            raise ValueError("vmap must have at least one non-None value in in_axes")

    def key(self):
        return (_frozen(self.in_axes), _frozen(self.out_axes), self.axis_size, self.strategy)

    def __eq__(self, other):
        return isinstance(other, VmapSpec) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return f"vmap(in_axes={self.in_axes}, out_axes={self.out_axes}, axis_size={self.axis_size})"

    # -- binding to a call -----------------------------------------------------
    def per_parameter(self, names, npos, kwnames, offset):
        """[(index, name, axis tree)] of a call's parameters `names`: `npos`
        of them given positionally (after `offset` bound ones, not mapped),
        the ones in `kwnames` by keyword (mapped along axis 0, as in JAX),
        the rest defaults (not arguments of the call: not mapped)."""
        n_user = npos - offset
        if isinstance(self.in_axes, tuple):
            if len(self.in_axes) != n_user:
                raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding "
                                 f"to the positional arguments passed to the function, but got "
                                 f"len(in_axes)={len(self.in_axes)}, len(args)={n_user}")
            given = list(self.in_axes)
        else:
            given = [self.in_axes] * n_user
        return [(i, name, given[i - offset] if offset <= i < npos else 0 if i >= npos and name in kwnames
                 else None) for i, name in enumerate(names)]

    def resolve(self, names, args, npos, kwnames, offset, key):
        """{generated parameter: axis tree} for a call: `args` bound to `names`,
        `npos` of them given positionally (after `offset` bound ones), the
        ones in `kwnames` by keyword, the rest defaults (not mapped); `key`
        the call's signature (a pytree argument is one parameter per leaf)."""
        out = {}
        for i, name, tree in self.per_parameter(names, npos, kwnames, offset):
            k = key[i]
            if _is_tree_key(k):
                entries = broadcast_prefix(tree, args[i], "vmap in_axes", (i - offset,))
                for leaf, (_, axis, _) in zip(mirror(k[1], name)[1], entries):
                    out[leaf] = axis
                continue
            if k is not _DYN:
                if not _all_none(tree):
                    raise TypeError(f"vmap in_axes maps argument {name}, a {type(args[i]).__name__}, "
                                    f"which is not an array: give it in_axes None")
                continue
            axes = [axis for _, axis, _ in broadcast_prefix(tree, args[i], "vmap in_axes", (i - offset,))]
            out[name] = tree_unflatten(tree_structure(args[i]), axes) if type(args[i]) is tuple else axes[0]
        return out


def _is_tree_key(k):
    return isinstance(k, tuple) and len(k) == 2 and k[0] == "tree"


def param_values(names, args, key):
    """{generated parameter: (text, value)}: the dynamic arguments, and the
    leaves of pytree arguments (`params['W']`), for messages and ranks."""
    out = {}
    for name, value, k in zip(names, args, key):
        if _is_tree_key(k):
            leaves = tree_leaves(value)
            paths = [name + keystr(path) for path, _, _ in broadcast_prefix(None, value, "")]
            for leaf, text, v in zip(mirror(k[1], name)[1], paths, leaves):
                out[leaf] = (text, v)
        elif k is _DYN:
            out[name] = (name, value)
    return out


def _all_none(tree):
    return not tree_leaves(tree)        # None is a node without leaves


def _leaves(tree, value, name):
    """[(argument text, axis, value)] of the leaves of a (tuple) argument."""
    if isinstance(tree, tuple):
        out = []
        for k, (t, v) in enumerate(zip(tree, value)):
            out.extend(_leaves(t, v, f"{name}[{k}]"))
        return out
    return [(name, tree, value)]


def _rank_error(axis, value):
    nd = np.ndim(value)
    return ValueError(f"vmap was requested to map its argument along axis {axis}, which implies that "
                      f"its rank should be at least {axis + 1 if axis >= 0 else -axis}, but is only "
                      f"{nd} (its shape is {np.shape(value)})")


def check_sizes(layers_axes, specs, values):
    """JAX's errors for the mapped arguments of every vmap layer, outermost
    first (each layer sees the arguments with the outer mapped axes taken
    out); `values` as `param_values`. Returns the outermost batch size."""
    # the arguments as each inner layer sees them: shapes with mapped axes removed
    shapes = {}
    first = None
    for axes, spec in zip(reversed(layers_axes), reversed(specs)):
        sized = []
        for name, tree in axes.items():
            text0, value0 = values[name]
            for text, axis, value in _leaves(tree, value0, text0):
                shape = shapes.get(text, np.shape(value))
                if axis is None:
                    continue
                nd = len(shape)
                if not -nd <= axis < nd:
                    raise _rank_error(axis, np.empty(shape) if shape else 0.0)
                ax = axis % nd
                sized.append((text, ax, shape[ax], value, shape))
                shapes[text] = shape[:ax] + shape[ax + 1:]
        sizes = {s for _, _, s, _, _ in sized}
        if spec.axis_size is not None:
            sizes.add(spec.axis_size)
        if len(sizes) > 1:
            raise ValueError(_inconsistent(sized, spec.axis_size))
        if first is None:
            first = sizes.pop() if sizes else None
    return first


def _inconsistent(sized, axis_size):
    groups = {}
    for item in sized:
        groups.setdefault(item[2], []).append(item)
    order = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    lines = []
    if axis_size is not None:
        lines.append(f"  * axis_size was given as {axis_size}")
    for k, (size, items) in enumerate(order):
        text, ax, _, value, shape = items[0]
        typ = f"{np.result_type(value).name}[{','.join(str(s) for s in shape)}]"
        if len(items) == 1:
            lines.append(f"  * one axis had size {size}: axis {ax} of argument {text} of type {typ}")
        else:
            which = "most" if k == 0 else "some"
            lines.append(f"  * {which} axes ({len(items)} of them) had size {size}, e.g. axis {ax} of "
                         f"argument {text} of type {typ}")
    return "vmap got inconsistent sizes for array axes to be mapped:\n" + ";\n".join(lines)


def example_ranks(layers_axes, values):
    """Per vmap layer (innermost first, like `layers_axes`): {parameter: the
    rank of one example, a tree like the argument}, the mapped axes of the
    outer layers taken out."""
    ndims = {}                  # leaf text -> ndim as the current layer sees it
    out = []
    for axes in reversed(layers_axes):
        ranks = {}
        for name, tree in axes.items():
            text0, value = values[name]

            def walk(t, v, text):
                if isinstance(t, tuple):
                    return tuple(walk(s, x, f"{text}[{k}]") for k, (s, x) in enumerate(zip(t, v)))
                if type(v) is tuple:
                    return None
                nd = ndims.get(text, np.ndim(v))
                if t is None:
                    return nd
                ndims[text] = nd - 1
                return nd - 1
            ranks[name] = walk(tree, value, text0)
        out.append(ranks)
    return list(reversed(out))


def flat_out_axes(spec, out_tree):
    """`out_axes` for the batching layer (transpile/batching), whose function
    returns a pytree flat (`out_tree`), or a plain value when `out_tree` is
    None: one axis per leaf, or the spec itself. Hashable."""
    if out_tree is not None:
        if spec is None or isinstance(spec, int):
            return spec
        # a leaf of `out_tree` may be a tuple display returned whole: the batching
        # layer matches a tuple prefix there against it
        slot = object()
        dummy = tree_unflatten(out_tree, [slot] * out_tree.num_leaves)
        flat = broadcast_prefix(spec, dummy, "vmap out_axes", opaque=lambda leaf: leaf is slot)
        bad = next((axes for _, axes, _ in flat if not _tuples_only(axes)), None)
        if bad is not None:
            raise ValueError(f"vmap out_axes specification must be a tree prefix of the corresponding "
                             f"value; got {bad} for a tuple of the output")
        return tuple(axes for _, axes, _ in flat)
    if _tuples_only(spec):
        return spec
    raise ValueError(f"vmap out_axes specification must be a tree prefix of the corresponding value; "
                     f"got a {type(spec).__name__} for an output that is an array or a tuple: {spec}")


def embedded_layer(spec, names, n_positional, keyword_names, statics=(), offset=0):
    """The `BoundLayer` of `spec` (a VmapSpec) for a call `vmapped(args...)`
    written in transformed code (`tp.vmap(f)(xs)` inside a jitted or
    differentiated function), for transpile/specialize.py: `names` are the
    parameters of the function, `n_positional` of them given positionally
    (after `offset` bound ones), `keyword_names` by keyword; the others take
    their defaults (not mapped); `statics` names the static parameters (a
    dict: a pytree argument's value is its `TreeParam`, one parameter per
    leaf). The ranks of the examples are not known there, so the generated
    code does not depend on them."""
    axes = {}
    for i, name, tree in spec.per_parameter(names, n_positional, keyword_names, offset):
        static = statics.get(name) if isinstance(statics, dict) else None
        if isinstance(static, TreeParam):       # a pytree: one axis per leaf parameter
            dummy = tree_unflatten(static.treedef, [0] * static.treedef.num_leaves)
            entries = broadcast_prefix(tree, dummy, "vmap in_axes", (i - offset,))
            axes.update(zip(mirror(static.treedef, name)[1], [axis for _, axis, _ in entries]))
            continue
        if name in statics:
            if not _all_none(tree):
                raise TypeError(f"vmap in_axes maps argument {name}, which is static (not an array): "
                                f"give it in_axes None")
            continue
        axes[name] = tree
    if not _tuples_only(spec.out_axes):
        raise ValueError("vmap out_axes given as a pytree (not an int, None or a tuple) inside transformed "
                         "code is not supported yet")
    return BoundLayer(LayerKind.VMAP, axes=axes, ranks={}, out_axes=spec.out_axes, axis_size=spec.axis_size,
                      strategy=spec.strategy)
