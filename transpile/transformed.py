"""The transformation objects: what `tp.grad(f)`, `tp.jacfwd(f)`,
`tp.vmap(f)` and their compositions return. Each is a `Jitted`
(transpile/api.py) whose generated code is a stack of layers, innermost
first (transpile/layer.py), built by the pipeline's `grad` or `ad`
pipeline (transpile/compose.py):

    Differentiated   grad, value_and_grad, vjp of the user's function (reverse mode)
    Transformed      any stack of derivative layers: jvp, jacfwd, jacrev, hessian, grad(grad(f))
    Vmapped          a stack with vmap layers: vmap(grad(f)), jacfwd(vmap(f)), vmap(vmap(f))

`compose` stacks one more layer on a transformation (`grad(jacfwd(f))`).
The front doors (ad_api.py, derivatives.py, vmap_api.py) check their
arguments and make these objects.
"""
import functools

import numpy as np

from . import pipeline
from .api import Jitted, _relocate, arg_plan, call_args_of, statics_of
from .derivative_values import (_aux_of, _check_inexact, _complex_note, _like, _no_complex_casts,
                                _refuse_complex, _tree_grads)
from .errors import TranspileError, TranspileTypingError
from .layer import check_sizes, example_ranks, flat_out_axes, param_values
from .specialize import specialize
from .structure import TreeParam, is_container, mirror, rebuild_result, tree_key, tuple_structure
from .transforms.alias import _params_written
from .tree import broadcast_prefix, tree_leaves, tree_map, tree_structure, tree_unflatten
from .values import _DYN, _DYNAMIC_TYPES
from runtime.tape import grad_seed

# Generated code shared by every `grad(f)` object of the same function and options,
# so `tp.grad(f)(x)` in a loop generates (and compiles) once.
_GENERATED = {}


# -- grad, value_and_grad and vjp of the user's function ------------------------------------
class Differentiated(Jitted):
    """A reverse-mode transformation of `fn` (grad, value_and_grad or vjp)."""

    #: generated code depends on the ranks of the arguments (part of the key)
    _ranked = False

    def __init__(self, fn, mode, argnums=0, has_aux=False, backend="python",
                 static_argnums=(), static_argnames=()):
        if isinstance(fn, Jitted):
            raise NotImplementedError(
                f"{mode} of a transformed function ({fn!r}) is not supported: use "
                f"tp.grad/jacfwd/jacrev/hessian, which compose")
        super().__init__(fn, static_argnums, static_argnames, backend)
        self.mode = mode
        self.argnums = argnums
        self.has_aux = has_aux
        self.transform = "grad"
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        offset = 1 if self._self is not None else 0
        self._argnums = tuple(n + offset if n >= 0 else self._nargs + n for n in nums)
        for n in self._argnums:
            if not 0 <= n < self._nargs:
                raise ValueError(f"argnums {argnums} out of range for {self._fn.__qualname__}() "
                                 f"with {self._nargs - offset} parameters")
            if n in self._static:
                raise ValueError(f"argnums {argnums} names a static argument")

    @property
    def __transpile_function__(self):
        return None     # generated code calls the transformation, not the function

    def _set_statics(self, static_argnums=(), static_argnames=()):
        super()._set_statics(static_argnums, static_argnames)
        if hasattr(self, "_cache"):     # made already (jit(grad(f), static_argnames=...)): argnums stay dynamic
            bad = sorted(set(self._diff_positions()) & self._static)
            if bad:
                raise ValueError(f"static argument {self._names[bad[0]]!r} of {self._fn.__qualname__}() "
                                 f"is differentiated (argnums)")

    def _diff_positions(self):
        return self._argnums

    def _signature(self, args):
        """A differentiated tuple is a pytree (its leaves are differentiated
        one by one), not one dynamic value as elsewhere."""
        key = super()._signature(args)
        for n in self._diff_positions():
            if type(args[n]) is tuple and key[n] == _DYN:
                key = key[:n] + (("tree", tree_structure(args[n])),) + key[n + 1:]
        return key

    def layers_spec(self):
        """The derivative layers (kind, argnums, has_aux), innermost first, that
        generated code builds when it calls this object (transpile/compose.py)."""
        if self.mode == "vjp":
            raise NotImplementedError("a vjp cannot be called from transformed code")
        return [(self.mode, self.argnums, self.has_aux)]

    def __repr__(self):
        return f"<transpile.{self.mode} of {self._fn.__qualname__}, backend {self.backend}>"

    def with_backend(self, backend):
        new = Differentiated.__new__(Differentiated)
        new.__dict__.update(self.__dict__)
        new.backend = backend
        new._cache = {}
        new.num_specializations = 0
        return new

    def _generate(self, args, key):
        statics = statics_of(self._names, args, key)
        wrt = []
        for n in self._argnums:
            if isinstance(statics.get(self._names[n]), TreeParam):    # a pytree: its leaves
                wrt.extend(mirror(statics[self._names[n]].treedef, self._names[n])[1])
                continue
            if key[n] is not _DYN:
                raise TypeError(f"argument {self._names[n]} of {self._fn.__qualname__}() cannot be "
                                f"differentiated: it is a {type(args[n]).__name__}, not a number or array")
            wrt.append(self._names[n])
        options = {"wrt": wrt, "mode": "vjp" if self.mode == "vjp" else "grad", "has_aux": self.has_aux}
        shared = (self._fn, tuple(wrt), options["mode"], self.has_aux, self.backend, key)
        gen = _GENERATED.get(shared)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = pipeline.build(self._fn, statics, None, "grad", self.backend, options)
            gen.dyn_index = arg_plan(self._names, gen)
            gen.trees = bool(gen.program.entry.tree_params)
            gen.out_tree = gen.program.entry.out_tree     # a pytree returned beside the loss (aux)
            gen.all_args = gen.dyn_index == list(range(len(args))) and not gen.hidden
            try:
                _GENERATED[shared] = gen
            except TypeError:   # an unhashable static value: no sharing
                pass
        self._cache[key] = gen
        self.num_specializations += 1
        return gen

    def _run(self, args, extra=(), with_gen=False):
        key = self._all_dynamic      # fast path, as Jitted.__call__: every argument dynamic
        if self._static or self._ranked:
            key = self._signature(args)
        else:
            for a in args:
                if type(a) not in _DYNAMIC_TYPES:
                    key = self._signature(args)
                    break
        gen = self._cache.get(key)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = self._generate(args, key)
        if getattr(gen, "all_args", False) and not extra:
            call_args = args
        else:
            if gen.trees:
                call_args = call_args_of(args, gen)
            else:
                call_args = [args[i] for i in gen.dyn_index]
            call_args = call_args + [h.getter() for h in gen.hidden] + list(extra)
        try:
            with _no_complex_casts(self.backend):
                out = gen.entry(*call_args)
        except Exception as exc:
            _relocate(exc, gen)
            _complex_note(exc)
            raise
        return (out, gen) if with_gen else out

    def __call__(self, *args, **kwargs):
        if self._self is not None:
            args = (self._self,) + args
        if kwargs or len(args) != self._nargs:
            args = self._bind(args, dict(kwargs))
        trees = False
        for n in self._argnums:
            if is_container(args[n]):
                trees = True
                for leaf in tree_leaves(args[n]):
                    _check_inexact(leaf, self._names[n], self._fn.__qualname__)
            else:
                _check_inexact(args[n], self._names[n], self._fn.__qualname__)
        (value, bars), gen = self._run(args, with_gen=True)
        if gen.out_tree is not None:        # (loss, aux pytree), returned flat
            value = tree_unflatten(gen.out_tree, value)
        # JAX's TypeError for an output that is not a float scalar (generated
        # code seeds, and so checks, only an output that depends on the inputs)
        grad_seed(value[0] if self.has_aux and isinstance(value, tuple) else value)
        if trees:
            grads = _tree_grads(bars, args, self._argnums)
            grads = grads[0] if isinstance(self.argnums, int) else grads
        elif isinstance(self.argnums, int):
            grads = _like(bars[0], args[self._argnums[0]])
        else:
            grads = tuple([_like(b, args[n]) for b, n in zip(bars, self._argnums)])
        if self.mode == "value_and_grad":
            return value, grads
        if self.has_aux:
            return grads, value[1]
        return grads


# -- stacks of derivative layers ---------------------------------------------------------------
_LEAF = tree_structure(0)


def _ranks(names, args, key):
    """{parameter: ndim} of the dynamic array and number arguments, and of
    the leaves of pytree arguments (the Jacobian wrappers vmap over basis
    vectors and use them)."""
    out = {}
    for name, a, k in zip(names, args, key):
        if tree_key(k) is not None:
            out.update(zip(mirror(tree_key(k), name)[1], map(np.ndim, tree_leaves(a))))
        elif k is _DYN and isinstance(a, (np.ndarray, np.generic, float, int, complex)):
            out[name] = np.ndim(a)
    return out


def differentiated(tr, argnums, nums, args, key):
    """What one derivative layer of `tr` differentiates, for arguments `args`
    of signature `key`: (the generated parameters, a pytree argument's
    leaves included; JAX's structure of the inputs, one argument's tree for
    an int `argnums`, else a tuple over them; whether the generated code
    returns a tuple over the parameters)."""
    wrt, defs = [], []
    for n in nums:
        treedef = tree_key(key[n])
        if treedef is not None:             # a pytree: its leaves, by their parameter names
            wrt.extend(mirror(treedef, tr._names[n])[1])
            defs.append(treedef)
        elif key[n] is _DYN:
            wrt.append(tr._names[n])
            defs.append(_LEAF)
        else:
            raise TypeError(f"argument {tr._names[n]} of {tr._fn.__qualname__}() cannot be differentiated: "
                            f"it is a {type(args[n]).__name__}, not a number or array")
    as_int = isinstance(argnums, int)
    return wrt, (defs[0] if as_int else tuple_structure(defs)), not (as_int and defs[0] == _LEAF)


class Transformed(Differentiated):
    """A stack of derivative transformations of one function."""

    def __init__(self, fn, layers, backend="python"):
        kind, argnums, has_aux = layers[0]
        super().__init__(fn, kind if kind in ("grad", "value_and_grad") else "grad", argnums,
                         has_aux, backend)
        self.layers = list(layers)
        self.mode = layers[-1][0]
        self.argnums = layers[-1][1]
        self._layer_argnums = [self._normalize(a) for _, a, _ in self.layers]
        # the Jacobian wrappers vmap over basis vectors: their vectorizing
        # rules depend on the ranks of the arguments
        self._ranked = any(k not in ("grad", "value_and_grad", "jvp") for k, _, _ in self.layers)

    def _signature(self, args):
        key = super()._signature(args)
        if self._ranked:
            key = key + (("ranks",) + tuple(np.ndim(a) if k is _DYN else None for a, k in zip(args, key)),)
        return key

    def _normalize(self, argnums):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        offset = 1 if self._self is not None else 0
        out = tuple(n + offset if n >= 0 else self._nargs + n for n in nums)
        for n in out:
            if not 0 <= n < self._nargs:
                raise ValueError(f"argnums {argnums} out of range for {self._fn.__qualname__}()")
        return out

    def __repr__(self):
        kinds = "(".join(k for k, _, _ in reversed(self.layers))
        return f"<transpile.{kinds} of {self._fn.__qualname__}, backend {self.backend}>"

    def layers_spec(self):
        return list(self.layers)

    def with_backend(self, backend):
        new = super().with_backend(backend)
        new.__class__ = Transformed
        return new

    def _generate(self, args, key):
        statics = statics_of(self._names, args, key)
        layers, shapes = [], []
        for (kind, argnums, has_aux), nums in zip(self.layers, self._layer_argnums):
            wrt, in_def, tupled = differentiated(self, argnums, nums, args, key)
            layers.append({"kind": kind, "wrt": wrt, "argnums_int": not tupled, "has_aux": has_aux,
                           "ranks": _ranks(self._names, args, key) if self._ranked else {}})
            shapes.append((kind, in_def, tupled))
        shared = (self._fn, "ad", tuple((l["kind"], tuple(l["wrt"]), l["argnums_int"], l["has_aux"])
                                        for l in layers), self.backend, key)
        gen = _GENERATED.get(shared)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = pipeline.build(self._fn, statics, None, "ad", self.backend, {"layers": layers,
                                                                             "mode": "ad"})
            gen.dyn_index = arg_plan(self._names, gen)
            gen.trees = bool(gen.program.entry.tree_params)
            gen.out_tree = gen.program.entry.out_tree
            gen.shapes = shapes         # how to rebuild JAX's structure (structure.rebuild_result)
            try:
                _GENERATED[shared] = gen
            except TypeError:
                pass
        self._cache[key] = gen
        self.num_specializations += 1
        return gen

    def _diff_positions(self):
        return {n for nums in self._layer_argnums for n in nums}

    def _check_inputs(self, args):
        for nums in self._layer_argnums:
            for n in nums:
                for leaf in (tree_leaves(args[n]) if is_container(args[n]) else [args[n]]):
                    _check_inexact(leaf, self._names[n], self._fn.__qualname__)

    def __call__(self, *args, **kwargs):
        if self._self is not None:
            args = (self._self,) + args
        args = self._bind(args, dict(kwargs))
        self._check_inputs(args)
        out, gen = self._run(args, with_gen=True)
        result = self._result(out, gen, args)
        if self.layers[-1][0] not in ("grad", "value_and_grad"):    # grads were checked by _like
            for leaf in tree_leaves(result[0] if self.layers[-1][2] else result):   # not the aux
                if np.iscomplexobj(leaf):
                    _refuse_complex(leaf)
        return result

    def _result(self, out, gen, args):
        """The generated result in JAX's structure; gradients typed like their inputs."""
        kind, _, has_aux = self.layers[0]
        last = self.layers[-1]
        if last[2] and (len(self.layers) > 1 or last[0] not in ("grad", "value_and_grad")):
            # has_aux over a Jacobian or a stack (transpile/compose.py `_with_aux`)
            main, aux = out
            return self._result_of(rebuild_result(main, gen.shapes, None), args), _aux_of(aux, gen)
        if has_aux:     # vmap(grad(f, has_aux=True)): (gradients, aux) or ((value, aux), gradients)
            shapes = [("grad",) + gen.shapes[0][1:]] + gen.shapes[1:]
            flat = gen.out_tree         # (loss, aux) returned flat
            if kind == "grad":
                g, aux = out
                if flat is not None:
                    aux = tree_unflatten(flat.children[1], list(aux))
                return self._result_of(rebuild_result(g, shapes, None), args), aux
            value, g = out
            if flat is not None:
                value = tree_unflatten(flat, list(value))
            return self._result_of((value, rebuild_result(g, shapes, None)), args)
        return self._result_of(rebuild_result(out, gen.shapes, gen.out_tree), args)

    def _result_of(self, out, args):
        kind, argnums, _ = self.layers[-1]
        nums = self._layer_argnums[-1]
        if kind == "grad":
            return _shape_grads(out, args, nums, argnums)
        if kind == "value_and_grad":
            value, g = out
            return value, _shape_grads(g, args, nums, argnums)
        return out


def _shape_grads(g, args, nums, argnums):
    """Gradients shaped and typed like their inputs, leaf by leaf."""
    if isinstance(argnums, int):
        x = args[nums[0]]
        return tree_map(_like, g, x) if is_container(x) else _like(g, x)
    return tuple(_shape_grads(b, args, (n,), 0) for b, n in zip(g, nums))


def compose(fun, kind, argnums=0, has_aux=False):
    """`kind` (grad, value_and_grad, jacfwd, jacrev) applied to a function
    that is already a derivative transformation."""
    return functools.update_wrapper(_stacked(fun, (kind, argnums, has_aux), kind), fun._fn)


def _stacked(fun, layer, kind):
    """A transformation whose layers are those of `fun` (a derivative or vmap
    transformation) with `layer` outermost."""
    if fun.mode == "vjp":
        raise TypeError(f"a vjp is not a function of the primal inputs; {kind} the function")
    inner = fun.layers if isinstance(fun, Transformed) else [(fun.mode, fun.argnums, fun.has_aux)]
    if inner[-1][2] and not layer[2]:
        raise NotImplementedError(f"{kind} of a transformation with has_aux=True (its output a pair "
                                  f"(derivative, aux)) is not supported yet: give {kind} has_aux=True too")
    if layer[2] and kind == "value_and_grad":
        raise NotImplementedError("value_and_grad(..., has_aux=True) of a transformed function is not "
                                  "supported yet")
    if layer[2] and not (inner[-1][2] and inner[-1][0] in ("grad", "jacfwd", "jacrev")):
        raise NotImplementedError(f"{kind}(..., has_aux=True) of a transformed function is supported over "
                                  f"grad, jacfwd or jacrev with has_aux=True (hessian), not over "
                                  f"{inner[-1][0]}" + (" without it" if not inner[-1][2] else ""))
    layers = inner + [layer]
    target = fun._function()
    cls = Transformed
    if any(layer[0] == "vmap" for layer in layers):     # a stack with vmap layers
        cls = Vmapped
    return cls(target, layers, fun.backend)


# -- stacks with vmap layers -------------------------------------------------------------------
_FAST_TYPES = frozenset((np.ndarray, float, int, complex, bool, np.float64, np.float32, np.int64))


def _writes_arguments(gen):
    """Whether the generated program may write one of its entry's arguments in place
    (directly, through a view or a helper); computed once per generated program."""
    written = getattr(gen, "_writes_arguments", None)
    if written is None:
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
