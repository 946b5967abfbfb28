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
from .api import _relocate, arg_plan, call_args_of, statics_of, transformation_of
from .derivatives import Transformed, differentiated
from .errors import TranspileError, TranspileTypingError
from .layer import VmapSpec, check_sizes, example_ranks, flat_out_axes, param_values
from .structure import tuple_structure
from .tree import broadcast_prefix, tree_structure, tree_unflatten

_FAST_TYPES = frozenset((np.ndarray, float, int, complex, bool, np.float64, np.float32, np.int64))


def _writes_arguments(gen):
    """Whether the generated program may write one of its entry's arguments in place
    (directly, through a view or a helper); computed once per generated program."""
    written = getattr(gen, "_writes_arguments", None)
    if written is None:
        from .transforms.alias import _params_written
        written = bool(_params_written(gen.program, gen.program.entry))
        gen._writes_arguments = written
    return written


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
        """(layer dicts for transpile/compose.py, how to rebuild the result:
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
    (no tape), so the vmap layer computes it (compose.forward_grad)."""
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
