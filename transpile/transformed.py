"""The transformation objects: what `tp.grad(f)`, `tp.jacfwd(f)`,
`tp.vmap(f)` and their compositions return.

One class, `Transformed`: a `Jitted` (transpile/api.py) of the user's
function and a tuple of `Layer`s (transpile/layer.py), innermost first,
which its generated code computes. What the layers are picks how the
object generates and calls that code, its mode:

    Reverse   one layer, grad, value_and_grad or vjp of the user's function:
              the `grad` pipeline (transpile/reverse_mode.py)
    Stack     any stack of derivative layers (jvp, jacfwd, jacrev, hessian,
              grad(grad(f))): the `ad` pipeline (transpile/stack_mode.py)
    Batched   a stack with vmap layers (vmap(grad(f)), jacfwd(vmap(f)),
              vmap(vmap(f))): the `ad` pipeline, the in_axes resolved per
              call (transpile/vmap_mode.py)

Everything else is shared here: argnums, static arguments, the signature
that keys the cache, finding or building the generated code and calling
it. `stack` adds one layer outermost (`grad(jacfwd(f))`), with its checks.
The front doors (ad_api.py, derivatives.py, vmap_api.py) check their
arguments and make these objects.
"""
import functools

import numpy as np

from .api import Jitted, _relocate, call_args_of
from .derivative_values import _check_inexact, _complex_note, _no_complex_casts
from .layer import GRADIENTS, Layer, LayerKind
from .mode import stale
from .reverse_mode import Reverse
from .stack_mode import Stack
from .structure import is_container
from .tree import tree_leaves, tree_structure
from .values import _DYN
from .vmap_mode import Batched

_REVERSE, _STACK, _BATCHED = Reverse(), Stack(), Batched()


def mode_of(layers):
    """The mode that runs `layers` (see the module's docstring)."""
    if any(layer.kind is LayerKind.VMAP for layer in layers):
        return _BATCHED
    if len(layers) == 1 and layers[0].kind in GRADIENTS + (LayerKind.VJP,):
        return _REVERSE
    return _STACK


class Transformed(Jitted):
    """A stack of transformations (`layers`, innermost first) of `fn`."""

    def __init__(self, fn, layers, backend="python", static_argnums=(), static_argnames=()):
        layers = tuple(layers)
        first = next((layer for layer in layers if layer.kind is not LayerKind.VMAP), None)
        mode = first.kind if first is not None and first.kind in GRADIENTS + (LayerKind.VJP,) else "grad"
        if isinstance(fn, Jitted):
            raise NotImplementedError(
                f"{mode} of a transformed function ({fn!r}) is not supported: use "
                f"tp.grad/jacfwd/jacrev/hessian, which compose")
        super().__init__(fn, static_argnums, static_argnames, backend)
        self.layers = layers
        self.mode = layers[-1].kind     # the outermost transformation
        self.argnums = layers[-1].argnums
        self.has_aux = first.has_aux if first is not None else False
        self.transform = "grad"
        argnums = first.argnums if first is not None else ()
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        offset = 1 if self._self is not None else 0
        # the first derivative layer's argnums (what grad, value_and_grad and vjp differentiate)
        self._argnums = tuple(n + offset if n >= 0 else self._nargs + n for n in nums)
        for n in self._argnums:
            if not 0 <= n < self._nargs:
                raise ValueError(f"argnums {argnums} out of range for {self._fn.__qualname__}() "
                                 f"with {self._nargs - offset} parameters")
            if n in self._static:
                raise ValueError(f"argnums {argnums} names a static argument")
        self._layer_argnums = tuple(() if layer.kind is LayerKind.VMAP else self._normalize(layer.argnums)
                                    for layer in layers)
        self._mode = mode_of(layers)
        # the Jacobian wrappers vmap over basis vectors: their vectorizing
        # rules depend on the ranks of the arguments (part of the key; the
        # Batched mode keys the examples' ranks itself)
        self._ranked = self._mode is not _BATCHED and any(
            layer.kind not in GRADIENTS + (LayerKind.JVP, LayerKind.VJP) for layer in layers)
        self._fallback = set()          # vmap: keys whose vectorized code Numba could not type
        self._fast = {}                 # vmap: argument types -> (key, axes, mapped (index, axis))

    def _normalize(self, argnums):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        offset = 1 if self._self is not None else 0
        out = tuple(n + offset if n >= 0 else self._nargs + n for n in nums)
        for n in out:
            if not 0 <= n < self._nargs:
                raise ValueError(f"argnums {argnums} out of range for {self._fn.__qualname__}()")
        return out

    @property
    def __transpile_function__(self):
        return None     # generated code calls the transformation, not the function

    def __repr__(self):
        kinds = "(".join(layer.kind for layer in reversed(self.layers))
        return f"<transpile.{kinds} of {self._fn.__qualname__}, backend {self.backend}>"

    def layers_spec(self):
        """The layers, innermost first, that generated code builds when it
        calls this object (transpile/calls.py, transpile/compose.py)."""
        if self.mode == "vjp":
            raise NotImplementedError("a vjp cannot be called from transformed code")
        return list(self.layers)

    def with_backend(self, backend):
        new = Transformed.__new__(Transformed)
        new.__dict__.update(self.__dict__)
        new.backend = backend
        new._cache = {}
        new.num_specializations = 0
        new._fallback = set()
        new._fast = {}
        return new

    # -- static arguments and the signature ------------------------------------
    def _set_statics(self, static_argnums=(), static_argnames=()):
        super()._set_statics(static_argnums, static_argnames)
        if hasattr(self, "_cache"):     # made already (jit(grad(f), static_argnames=...)): argnums stay dynamic
            bad = sorted(set(self._diff_positions()) & self._static)
            if bad:
                raise ValueError(f"static argument {self._names[bad[0]]!r} of {self._fn.__qualname__}() "
                                 f"is differentiated (argnums)")

    def _diff_positions(self):
        return {n for nums in self._layer_argnums for n in nums}

    def _signature(self, args):
        """A differentiated tuple is a pytree (its leaves are differentiated
        one by one), not one dynamic value as elsewhere; with Jacobian or
        vmap layers, the ranks of the dynamic arguments count."""
        key = super()._signature(args)
        for n in self._diff_positions():
            if type(args[n]) is tuple and key[n] == _DYN:
                key = key[:n] + (("tree", tree_structure(args[n])),) + key[n + 1:]
        if self._ranked:
            key = key + (("ranks",) + tuple(np.ndim(a) if k is _DYN else None for a, k in zip(args, key)),)
        return key

    # -- generating and calling ------------------------------------------------
    def _resolve(self, args, kwargs):
        """(bound arguments, cache key, what `_generate` needs beside them)."""
        return self._mode.resolve(self, args, kwargs)

    def _generate(self, args, key, extra=None):
        return self._mode.generate(self, args, key, extra)

    def generated(self, *args, **kwargs):
        bound, key, extra = self._resolve(args, kwargs)
        return self._cache.get(key) or self._generate(bound, key, extra)

    def _check_inputs(self, args):
        for nums in self._layer_argnums:
            for n in nums:
                for leaf in (tree_leaves(args[n]) if is_container(args[n]) else [args[n]]):
                    _check_inexact(leaf, self._names[n], self._fn.__qualname__)

    def _run(self, args, extra=(), with_gen=False):
        """Find or build the generated code for bound `args` and call it
        (`extra` after the hidden arguments: a vjp's cotangent)."""
        key = self._call_key(args)
        gen = self._cache.get(key)
        if gen is None or stale(gen):
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
        return self._mode.call(self, args, kwargs)


def stack(fun, layer):
    """A transformation whose layers are those of `fun` (a `Transformed`)
    with `layer` outermost; JAX's checks of what composes."""
    kind = layer.kind
    if fun.mode == "vjp":
        raise TypeError(f"a vjp is not a function of the primal inputs; {kind} the function")
    inner = fun.layers
    if inner[-1].has_aux and not layer.has_aux:
        raise NotImplementedError(f"{kind} of a transformation with has_aux=True (its output a pair "
                                  f"(derivative, aux)) is not supported yet: give {kind} has_aux=True too")
    if layer.has_aux and kind == "value_and_grad":
        raise NotImplementedError("value_and_grad(..., has_aux=True) of a transformed function is not "
                                  "supported yet")
    if layer.has_aux and not (inner[-1].has_aux and inner[-1].kind in ("grad", "jacfwd", "jacrev")):
        raise NotImplementedError(f"{kind}(..., has_aux=True) of a transformed function is supported over "
                                  f"grad, jacfwd or jacrev with has_aux=True (hessian), not over "
                                  f"{inner[-1].kind}" + (" without it" if not inner[-1].has_aux else ""))
    return Transformed(fun._function(), inner + (layer,), fun.backend)


def compose(fun, kind, argnums=0, has_aux=False):
    """`kind` (grad, value_and_grad, jacfwd, jacrev) applied to a function
    that is already a transformation."""
    return functools.update_wrapper(stack(fun, Layer(kind, argnums, has_aux)), fun._fn)
