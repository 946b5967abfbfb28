"""`jvp`, `jacfwd`, `jacrev`, `hessian`, and compositions of derivative
transformations (`grad(grad(f))`, `jacfwd(jacrev(f))`), JAX's conventions.

A `Transformed` holds the user's function and a stack of layers (innermost
first); the `ad` pipeline generates one function per layer
(transpile/ad/layers.py). Like `grad`, each runs eagerly with NumPy, and
`tp.jit(...)` compiles the same source with Numba.
"""
import functools
import types

import numpy as np

from .ad_api import Differentiated, _check_inexact, _like
from .api import _DYN


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
        from . import pipeline
        from .ad_api import _GENERATED
        from .api import arg_plan, statics_of
        statics = statics_of(self._names, args, key)
        layers = []
        for (kind, argnums, has_aux), nums in zip(self.layers, self._layer_argnums):
            for n in nums:
                if isinstance(key[n], tuple) and key[n] and key[n][0] == "tree":
                    raise NotImplementedError(f"{kind} with respect to a pytree argument "
                                              f"({self._names[n]}) is not supported yet: grad and "
                                              f"value_and_grad are")
                if key[n] is not _DYN:
                    raise TypeError(f"argument {self._names[n]} of {self._fn.__qualname__}() cannot be "
                                    f"differentiated: it is a {type(args[n]).__name__}, not a number "
                                    f"or array")
            layers.append({"kind": kind, "wrt": [self._names[n] for n in nums],
                           "argnums_int": isinstance(argnums, int), "has_aux": has_aux})
        shared = (self._fn, "ad", tuple((l["kind"], tuple(l["wrt"]), l["argnums_int"], l["has_aux"])
                                        for l in layers), self.backend, key)
        gen = _GENERATED.get(shared)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = pipeline.build(self._fn, statics, None, "ad", self.backend, {"layers": layers,
                                                                             "mode": "ad"})
            gen.dyn_index = arg_plan(self._names, gen)
            gen.trees = bool(gen.program.entry.tree_params)
            try:
                _GENERATED[shared] = gen
            except TypeError:
                pass
        self._cache[key] = gen
        self.num_specializations += 1
        return gen

    def _check_inputs(self, args):
        from .structure import is_container
        from .tree import tree_leaves
        for nums in self._layer_argnums:
            for n in nums:
                for leaf in (tree_leaves(args[n]) if is_container(args[n]) else [args[n]]):
                    _check_inexact(leaf, self._names[n], self._fn.__qualname__)

    def __call__(self, *args, **kwargs):
        if self._self is not None:
            args = (self._self,) + args
        args = self._bind(args, dict(kwargs))
        self._check_inputs(args)
        out = self._run(args)
        kind, argnums, has_aux = self.layers[-1]
        nums = self._layer_argnums[-1]
        if kind == "grad":
            if has_aux:
                g, aux = out
                return _shape_grads(g, args, nums, argnums), aux
            return _shape_grads(out, args, nums, argnums)
        if kind == "value_and_grad":
            value, g = out
            return value, _shape_grads(g, args, nums, argnums)
        return out


def _shape_grads(g, args, nums, argnums):
    if isinstance(argnums, int):
        return _like(g, args[nums[0]])
    return tuple(_like(b, args[n]) for b, n in zip(g, nums))


def compose(fun, kind, argnums=0, has_aux=False):
    """`kind` (grad, value_and_grad, jacfwd, jacrev) applied to a function
    that is already a derivative transformation."""
    if has_aux:
        raise NotImplementedError(f"{kind}(..., has_aux=True) of a transformed function is not "
                                  f"supported yet")
    if fun.mode == "vjp":
        raise TypeError("a vjp is not a function of the primal inputs; differentiate the function")
    inner = fun.layers if isinstance(fun, Transformed) else [(fun.mode, fun.argnums, fun.has_aux)]
    if inner[-1][2]:
        raise NotImplementedError("differentiating a transformation with has_aux=True is not "
                                  "supported yet")
    layers = inner + [(kind, argnums, has_aux)]
    target = fun._fn if fun._self is None else types.MethodType(fun._fn, fun._self)
    cls = Transformed
    if any(layer[0] == "vmap" for layer in layers):     # a stack with vmap layers (vmap_api.py)
        from .vmap_api import Vmapped as cls
    out = cls(target, layers, fun.backend)
    return functools.update_wrapper(out, fun._fn)


def jacfwd(fun, argnums=0):
    """The Jacobian of `fun` by forward mode: shape `out.shape + in.shape`."""
    if isinstance(fun, Differentiated):
        return compose(fun, "jacfwd", argnums)
    return functools.update_wrapper(Transformed(fun, [("jacfwd", argnums, False)]), fun)


def jacrev(fun, argnums=0):
    """The Jacobian of `fun` by reverse mode: shape `out.shape + in.shape`."""
    if isinstance(fun, Differentiated):
        return compose(fun, "jacrev", argnums)
    return functools.update_wrapper(Transformed(fun, [("jacrev", argnums, False)]), fun)


def hessian(fun, argnums=0):
    """`jacfwd(jacrev(fun, argnums), argnums)`: forward over reverse."""
    return jacfwd(jacrev(fun, argnums), argnums)


def _numbers_tuple(x):
    return type(x) is tuple and all(np.ndim(v) == 0 or isinstance(v, np.ndarray) for v in x)


def _describe_tree(x):
    if isinstance(x, (tuple, list)):
        return f"{type(x).__name__} of {len(x)}"
    return "a leaf"


def jvp(fun, primals, tangents):
    """`(fun(*primals), J @ tangents)`: the forward-mode derivative of `fun`
    at `primals` along `tangents`."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"primal and tangent arguments to jvp must be tuples or lists; found "
                        f"{type(primals).__name__} and {type(tangents).__name__}.")
    if len(primals) != len(tangents):
        raise TypeError(f"primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have tree structure {_describe_tree(tuple(primals))} whereas "
                        f"tangents have tree structure {_describe_tree(tuple(tangents))}.")
    primals, tangents = tuple(primals), list(tangents)
    from .structure import is_container
    if any(is_container(p) and not _numbers_tuple(p) for p in primals):
        raise NotImplementedError("jvp with pytree primals (lists, dicts, ...) is not supported yet: "
                                  "pass arrays, or use tp.grad, which takes pytrees")
    for k, (p, t) in enumerate(zip(primals, tangents)):
        if np.shape(p) != np.shape(t):
            raise ValueError(f"jvp called with different primal and tangent shapes;Got primal "
                             f"shape {np.shape(p)} and tangent shape as {np.shape(t)}")
        pd, td = np.result_type(p), np.result_type(t)
        if not np.issubdtype(pd, np.inexact):
            raise TypeError(f"jvp requires real- or complex-valued primal inputs, but got "
                            f"{pd.name} for primal {k}")
        if isinstance(p, np.ndarray) and pd != td:
            raise TypeError(f"primal and tangent arguments to jvp do not match; dtypes must be "
                            f"equal. Got primal dtype {pd.name} and so expected tangent dtype "
                            f"{pd.name}, but got tangent dtype {td.name} instead.")
        tangents[k] = _like(t, p)
    if isinstance(fun, Differentiated):
        raise NotImplementedError("jvp of a transformed function is not supported yet")
    n = len(primals)
    tr = Transformed(fun, [("jvp", tuple(range(n)), False)])
    args = tr._bind(((tr._self,) if tr._self is not None else ()) + primals, {})
    key = tr._signature(args)
    gen = tr._cache.get(key) or tr._generate(args, key)
    call_args = [args[i] for i in gen.dyn_index] + [h.getter() for h in gen.hidden] + tangents
    try:
        return gen.entry(*call_args)
    except Exception as exc:
        from .api import _relocate
        _relocate(exc, gen)
        raise
