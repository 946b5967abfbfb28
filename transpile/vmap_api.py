"""`vmap`, JAX's conventions: `vmap(fun, in_axes=0, out_axes=0, axis_size=None)`.

A `Vmapped` is a `Transformed` (transpile/derivatives.py) whose stack of
layers holds one or more layers of kind 'vmap' (transpile/batching), so
`vmap(grad(f))`, `jacfwd(vmap(f))`, `vmap(vmap(f))` are stacks of layers
like any composition, `tp.jit(...)` of any of them compiles the same
source, and `grad`/`jacfwd`/... of a `Vmapped` go through `compose`.

`in_axes`: an int (negative counts from the end), None (not mapped), or a
tuple (a top-level list is a tuple, as in JAX) with one entry per
positional argument, each a tree prefix of its argument: an int or None
for the whole argument, or a container of the argument's type (dict,
list, namedtuple, ...) holding ints and None. A pytree argument is one
parameter per leaf in the generated code, each with its own axis. Keyword
arguments are mapped along axis 0 and defaults are not mapped, as in JAX.
`out_axes`: a tree prefix of the output (a pytree output is returned flat
and rebuilt here). `axis_size`: the batch size when no input is mapped.
Errors are JAX's: a prefix that does not match its value, mapped sizes
that disagree, an axis out of range, a mapped output with out_axes None.

`strategy` (not in JAX): 'auto' (default), 'loop' (the per-example loop,
always), 'vectorize' (the batching rules; an error where they do not apply).
"""
import functools

import numpy as np

from .ad_api import Differentiated, _GENERATED, _no_complex_casts
from .api import _DYN, _relocate, arg_plan, call_args_of, statics_of, transformation_of
from .derivatives import Transformed, differentiated
from .errors import TranspileError, TranspileTypingError
from .structure import mirror, tuple_structure
from .tree import (broadcast_prefix, keystr, tree_flatten, tree_leaves, tree_structure,
                   tree_unflatten)

STRATEGIES = ("auto", "loop", "vectorize")
_FAST_TYPES = frozenset((np.ndarray, float, int, complex, bool, np.float64, np.float32, np.int64))


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


def _writes_arguments(gen):
    """Whether the generated program may write one of its entry's arguments in place
    (directly, through a view or a helper); computed once per generated program."""
    written = getattr(gen, "_writes_arguments", None)
    if written is None:
        from .transforms.alias import _params_written
        written = bool(_params_written(gen.program, gen.program.entry))
        gen._writes_arguments = written
    return written


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


def _type_text(value):
    dtype = np.result_type(value)
    return f"{dtype.name}[{','.join(str(s) for s in np.shape(value))}]"


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


class Vmapped(Transformed):
    """A stack of layers with at least one vmap layer."""

    def __init__(self, fn, layers, backend="python"):
        first = next((l for l in layers if l[0] != "vmap"), None)
        mode = first[0] if first is not None and first[0] in ("grad", "value_and_grad") else "grad"
        Differentiated.__init__(self, fn, mode, first[1] if first is not None else (),
                                first[2] if first is not None else False, backend)
        self.layers = list(layers)
        self.mode = layers[-1][0]
        self.argnums = layers[-1][1]
        self._layer_argnums = [() if k == "vmap" else self._normalize(a) for k, a, _ in self.layers]
        self._fallback = set()          # keys whose vectorized code Numba could not type
        self._fast = {}                 # argument types -> (key, axes, mapped (index, axis))

    def with_backend(self, backend):
        new = Differentiated.with_backend(self, backend)
        new.__class__ = Vmapped
        new._fallback = set()
        new._fast = {}
        return new

    # -- calls -------------------------------------------------------------
    def _prepare(self, args, kwargs):
        if self._self is not None:
            args = (self._self,) + tuple(args)
        npos, kwnames = len(args), set(kwargs)
        bound = self._bind(args, dict(kwargs))
        sig = self._signature(bound)
        offset = 1 if self._self is not None else 0
        axes = []
        for kind, spec, _ in self.layers:
            if kind == "vmap":
                axes.append(spec.resolve(self._names, bound, npos, kwnames, offset, sig))
        values = param_values(self._names, bound, sig)
        ranks = example_ranks(axes, values)
        key = (sig, tuple(tuple(sorted(a.items())) for a in axes),
               tuple(tuple(sorted(r.items())) for r in ranks))
        return bound, key, (axes, ranks, values)

    def _layer_dicts(self, args, key, axes):
        """(layer dicts for transpile/ad/layers.py, how to rebuild the result:
        see structure.rebuild_result)."""
        axes, ranks, values = axes
        layers, shapes, it, rit = [], [], iter(axes), iter(ranks)
        for i, ((kind, argnums, has_aux), nums) in enumerate(zip(self.layers, self._layer_argnums)):
            if kind == "vmap":
                spec = argnums
                out_axes = spec.out_axes
                if not (out_axes is None or isinstance(out_axes, int)):
                    out_axes = self._flat_out_axes(i, out_axes, args, key, shapes)
                layers.append({"kind": "vmap", "wrt": [], "argnums_int": True, "has_aux": False,
                               "axes": dict(next(it)), "ranks": dict(next(rit)), "out_axes": out_axes,
                               "axis_size": spec.axis_size,
                               "strategy": "loop" if key in self._fallback else spec.strategy,
                               "lanes": self.backend == "numba" and i == len(self.layers) - 1
                               and _numeric(values)})
                shapes.append(("vmap", None, False))
                continue
            wrt, in_def, tupled = differentiated(self, argnums, nums, args, key[0])
            layers.append({"kind": kind, "wrt": wrt, "argnums_int": not tupled, "has_aux": has_aux})
            shapes.append((kind, in_def, tupled))
        return _forward_inner_grad(layers), shapes

    def _flat_out_axes(self, index, spec, args, key, shapes):
        """out_axes `spec`, a pytree prefix, as the batching layer `index`
        takes it: one axis per leaf of what the layers below return, nested as
        the generated code returns it (`shapes`: theirs, see _layer_dicts)."""
        below = [(kind, has_aux) for kind, _, has_aux in self.layers[:index] if kind != "vmap"]
        if not below:               # the function's own output (a pytree returned flat)
            from .specialize import specialize
            return flat_out_axes(spec, specialize(self._fn, statics_of(self._names, args, key[0])).entry.out_tree)
        if below in ([("grad", False)], [("value_and_grad", False)]):
            kind, in_def, tupled = next(s for s in shapes if s[0] != "vmap")
            out_def = in_def if kind == "grad" else tuple_structure((tree_structure(0), in_def))
            flat = [axis for _, axis, _ in broadcast_prefix(spec, tree_unflatten(out_def, [0] * out_def.num_leaves),
                                                            "vmap out_axes")]
            grads = tuple(flat[-in_def.num_leaves:]) if tupled else flat[-1]
            return grads if kind == "grad" else (flat[0], grads)
        raise NotImplementedError("vmap out_axes given as a pytree (not an int, None or a tuple) over a "
                                  "Jacobian or has_aux=True is not supported yet")

    def _generate(self, args, key, axes=None):
        from . import pipeline
        if axes is None:
            raise TypeError("Vmapped._generate needs the resolved axes")
        statics = statics_of(self._names, args, key[0])
        layers, shapes = self._layer_dicts(args, key, axes)
        shared = (self._fn, "vmap", _layers_key(layers), self.backend, key)
        gen = _GENERATED.get(shared)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = pipeline.build(self._fn, statics, None, "ad", self.backend,
                                 {"layers": layers, "mode": "vmap"})
            gen.dyn_index = arg_plan(self._names, gen)
            gen.trees = bool(gen.program.entry.tree_params)
            gen.out_tree = gen.program.entry.out_tree
            gen.shapes = shapes
            try:
                _GENERATED[shared] = gen
            except TypeError:
                pass
        self._cache[key] = gen
        self.num_specializations += 1
        return gen

    def generated(self, *args, **kwargs):
        bound, key, axes = self._prepare(args, kwargs)
        return self._cache.get(key) or self._generate(bound, key, axes)

    def __call__(self, *args, **kwargs):
        fast = None
        if not kwargs and self._self is None and len(args) == self._nargs \
                and all(type(a) in _FAST_TYPES for a in args):
            fast = tuple((type(a), a.dtype.char, a.ndim) if type(a) is np.ndarray else type(a) for a in args)
            hit = self._fast.get(fast)
            if hit is not None:         # seen before: same key; check the mapped sizes only
                key, axes, mapped = hit
                i, ax = mapped[0]
                n = args[i].shape[ax]
                if all(args[j].shape[a] == n for j, a in mapped):
                    return self._finish(*self._call(args, key, axes), args)
        bound, key, axes = self._prepare(args, kwargs)
        self._check_inputs(bound)
        specs = [spec for kind, spec, _ in self.layers if kind == "vmap"]
        check_sizes(axes[0], specs, axes[2])
        out, gen = self._call(bound, key, axes)
        if fast is not None and self._fast_ok(bound, axes[0]):
            vm = axes[0][0]
            self._fast[fast] = (key, axes, [(self._names.index(name), ax % np.ndim(bound[self._names.index(name)]))
                                            for name, ax in vm.items() if ax is not None])
        return self._finish(out, gen, bound)

    def _fast_ok(self, bound, layers_axes):
        """One vmap layer, mapped arguments all arrays (no tuples), inputs inexact where
        differentiated: a later call with the same types needs only the size check."""
        if len(layers_axes) != 1 or not any(ax is not None for ax in layers_axes[0].values()):
            return False
        for name, ax in layers_axes[0].items():
            v = bound[self._names.index(name)]
            if isinstance(ax, tuple) or type(v) is tuple or (ax is not None and type(v) is not np.ndarray):
                return False
        for nums in self._layer_argnums:
            for n in nums:
                v = bound[n]
                if not (type(v) is np.ndarray and v.dtype.kind in "fc") and type(v) not in (float, complex):
                    return False
        return True

    def _finish(self, out, gen, bound):
        return self._result(out, gen, bound)

    def _auto(self):
        return any(kind == "vmap" and spec.strategy == "auto" for kind, spec, _ in self.layers)

    def _call(self, bound, key, axes):
        """Generate (once) and run. With strategy 'auto', code that the
        vectorizing rules produced but a later layer cannot differentiate, or
        Numba cannot type, is replaced by the per-example loop."""
        gen = self._cache.get(key)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            try:
                gen = self._generate(bound, key, axes)
            except TranspileError:
                if key in self._fallback or not self._auto():
                    raise
                self._fallback.add(key)
                gen = self._generate(bound, key, axes)
        call_args = call_args_of(bound, gen) if gen.trees else [bound[i] for i in gen.dyn_index]
        call_args += [h.getter() for h in gen.hidden]
        if _writes_arguments(gen):
            # a function writing its arguments in place: the caller's arrays stay as they were
            # (transformations other than jit see inputs as values, as JAX does)
            call_args = [a.copy() if isinstance(a, np.ndarray) else a for a in call_args]
        try:
            # derivative layers: a complex value cast to real is an error (ad_api)
            with _no_complex_casts(self.backend if any(k != "vmap" for k, _, _ in self.layers) else None):
                return gen.entry(*call_args), gen
        except Exception as exc:
            try:
                _relocate(exc, gen)
            except TranspileTypingError:
                if key in self._fallback or not self._auto() \
                        or not getattr(gen.program, "vmap_vectorized", False):
                    raise
                self._fallback.add(key)
                self._cache.pop(key, None)
                return self._call(bound, key, axes)
            raise


def _numeric(values):
    """True if every argument is a NumPy array of numbers or a number (the
    lanes strategy's slot arrays hold numbers: transpile/batching/lanes.py)."""
    return all((type(v) is np.ndarray and v.dtype.kind in "biufc") or type(v) in (bool, int, float, complex)
               for _, v in values.values())


def _forward_inner_grad(layers):
    """vmap(grad(f)) where every differentiated argument is a scalar in each
    example: the gradient is one JVP per argument, cheaper than reverse mode
    (no tape), so the vmap layer computes it (batching.forward_grad)."""
    if len(layers) >= 2 and layers[0]["kind"] in ("grad", "value_and_grad") and not layers[0]["has_aux"] \
            and layers[1]["kind"] == "vmap" and layers[0]["wrt"] \
            and all(layers[1]["ranks"].get(p) == 0 for p in layers[0]["wrt"]):
        vm = dict(layers[1], inner=layers[0])
        return [vm] + layers[2:]
    return layers


def _layers_key(layers):
    out = []
    for l in layers:
        item = (l["kind"], tuple(l["wrt"]), l["argnums_int"], l["has_aux"])
        if l["kind"] == "vmap":
            item += (tuple(sorted(l["axes"].items())), tuple(sorted(l["ranks"].items())), l["out_axes"],
                     l["axis_size"], l["strategy"], l.get("lanes", False))
            if l.get("inner"):
                item += (("inner",) + _layers_key([l["inner"]]),)
        out.append(item)
    return tuple(out)


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None, *,
         strategy="auto"):
    """Vectorize `fun` over a batch axis of its arguments, JAX's semantics:
    `vmap(f)(xs)` is `np.stack([f(x) for x in xs])`, with each example
    following its own control flow."""
    if axis_name is not None or spmd_axis_name is not None:
        raise NotImplementedError("vmap(axis_name=...) and collectives are not supported")
    if not callable(fun):
        raise TypeError(f"vmap requires a callable argument, but got {fun!r}")
    spec = VmapSpec(in_axes, out_axes, axis_size, strategy)
    layer = ("vmap", spec, False)
    if isinstance(fun, Differentiated):
        if fun.mode == "vjp":
            raise TypeError("a vjp is not a function of the primal inputs; vmap the function")
        inner = list(fun.layers) if isinstance(fun, Transformed) else [(fun.mode, fun.argnums, fun.has_aux)]
        return functools.update_wrapper(Vmapped(fun._function(), inner + [layer], fun.backend), fun._fn)
    return transformation_of(fun, lambda f: Vmapped(f, [layer]))     # vmap(jit(f)) == jit(vmap(f))


def embedded_layer(spec, names, n_positional, keyword_names, statics=(), offset=0):
    """The layer dict of `spec` (a VmapSpec) for a call `vmapped(args...)`
    written in transformed code (`tp.vmap(f)(xs)` inside a jitted or
    differentiated function), for transpile/specialize.py: `names` are the
    parameters of the function, `n_positional` of them given positionally
    (after `offset` bound ones), `keyword_names` by keyword; the others take
    their defaults (not mapped); `statics` names the static parameters (a
    dict: a pytree argument's value is its `TreeParam`, one parameter per
    leaf). The ranks of the examples are not known there, so the generated
    code does not depend on them."""
    from .structure import TreeParam
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
    return {"kind": "vmap", "wrt": [], "argnums_int": True, "has_aux": False, "axes": axes, "ranks": {},
            "out_axes": spec.out_axes, "axis_size": spec.axis_size, "strategy": spec.strategy}
