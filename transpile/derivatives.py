"""`jvp`, `jacfwd`, `jacrev`, `hessian`, and compositions of derivative
transformations (`grad(grad(f))`, `jacfwd(jacrev(f))`), JAX's conventions.

A `Transformed` holds the user's function and a stack of layers (innermost
first); the `ad` pipeline generates one function per layer
(transpile/compose.py). Like `grad`, each runs eagerly with NumPy, and
`tp.jit(...)` compiles the same source with Numba.
"""
import functools

import numpy as np

from .ad_api import (COMPLEX_ADVICE, Differentiated, _check_inexact, _check_output_leaves,
                     _complex_note, _like, _no_complex_casts, _no_holomorphic, _refuse_complex)
from .api import call_args_of, transformation_of
from .structure import is_container, mirror, rebuild_result, tree_key, tuple_structure
from .tree import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten
from .values import _DYN

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
        from . import pipeline
        from .ad_api import _GENERATED
        from .api import arg_plan, statics_of
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
    if any(layer[0] == "vmap" for layer in layers):     # a stack with vmap layers (vmap_api.py)
        from .vmap_api import Vmapped as cls
    return cls(target, layers, fun.backend)


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian of `fun` by forward mode: shape `out.shape + in.shape`.
    With `has_aux`, `fun` returns `(out, aux)` and the result is `(J, aux)`."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Differentiated):
        return compose(fun, "jacfwd", argnums, has_aux)
    return transformation_of(fun, lambda f: Transformed(f, [("jacfwd", argnums, has_aux)]))


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian of `fun` by reverse mode: shape `out.shape + in.shape`.
    With `has_aux`, `fun` returns `(out, aux)` and the result is `(J, aux)`."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Differentiated):
        return compose(fun, "jacrev", argnums, has_aux)
    return transformation_of(fun, lambda f: Transformed(f, [("jacrev", argnums, has_aux)]))


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    """`jacfwd(jacrev(fun, argnums), argnums)`: forward over reverse."""
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def jvp(fun, primals, tangents, has_aux=False):
    """`(fun(*primals), J @ tangents)`: the forward-mode derivative of `fun`
    at `primals` along `tangents`. Primals may be pytrees; tangents have
    their structure, shapes and dtypes; the output and its tangent have the
    structure of `fun`'s output. With `has_aux`, `fun` returns `(out, aux)`
    and jvp returns `(out, out_dot, aux)`."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"primal and tangent arguments to jvp must be tuples or lists; found "
                        f"{type(primals).__name__} and {type(tangents).__name__}.")
    p_leaves, p_def = tree_flatten(primals)
    t_leaves, t_def = tree_flatten(tangents)
    if p_def != t_def:
        raise TypeError(f"primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have tree structure {p_def} whereas tangents have tree structure "
                        f"{t_def}.")
    for k, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        pd, td = np.result_type(p), np.result_type(t)
        if pd.kind == "c" or td.kind == "c":
            raise TypeError(f"jvp got a complex {'primal' if pd.kind == 'c' else 'tangent'} "
                            f"({(pd if pd.kind == 'c' else td).name}) for leaf {k}: {COMPLEX_ADVICE}.")
        if not np.issubdtype(pd, np.inexact):
            raise TypeError(f"jvp requires real- or complex-valued primal inputs, but got "
                            f"{pd.name} for primal leaf {k}")
        if isinstance(p, np.ndarray) and pd != td:
            raise TypeError(f"primal and tangent arguments to jvp do not match; dtypes must be "
                            f"equal. Got primal dtype {pd.name} and so expected tangent dtype "
                            f"{pd.name}, but got tangent dtype {td.name} instead.")
        if np.shape(p) != np.shape(t):
            raise ValueError(f"jvp called with different primal and tangent shapes;Got primal "
                             f"shape {np.shape(p)} and tangent shape as {np.shape(t)}")
        t_leaves[k] = _like(t, p)
    layer = ("jvp", tuple(range(len(primals))), has_aux)
    if isinstance(fun, Differentiated):     # jvp(grad(f)): forward mode over the generated code
        tr = _stacked(fun, layer, "jvp")
    else:
        tr = transformation_of(fun, lambda f: Transformed(f, [layer]))
    if hasattr(tr, "_prepare"):         # jvp(vmap(f)): the in_axes resolved against the primals
        args, key, axes = tr._prepare(tuple(primals), {})
        gen = tr._cache.get(key) or tr._generate(args, key, axes)
    else:
        args = tr._bind(((tr._self,) if tr._self is not None else ()) + tuple(primals), {})
        key = tr._signature(args)
        gen = tr._cache.get(key) or tr._generate(args, key)
    call_args = call_args_of(args, gen) if gen.trees else [args[i] for i in gen.dyn_index]
    try:
        with _no_complex_casts(tr.backend):
            out = gen.entry(*call_args, *[h.getter() for h in gen.hidden], *t_leaves)
    except Exception as exc:
        from .api import _relocate
        _relocate(exc, gen)
        _complex_note(exc)
        raise
    if has_aux:
        y, y_dot, aux = out
        y, y_dot = rebuild_result((y, y_dot), gen.shapes, None)
        _check_jvp_result(y, y_dot)
        return y, y_dot, _aux_of(aux, gen)
    y, y_dot = rebuild_result(out, gen.shapes, gen.out_tree)
    _check_jvp_result(y, y_dot)
    return y, y_dot


jvp.__transpile_jvp__ = True      # the specializer's protocol (transpile/calls.py): tp.jvp in transformed code


def _check_jvp_result(y, y_dot):
    """JAX's TypeError for an output that is not made of numbers and arrays
    (None, an empty pytree, is one); a complex output or tangent is refused."""
    _check_output_leaves(y, "jvp", allow_none=True)
    for leaf in tree_leaves(y_dot):
        if np.iscomplexobj(leaf):
            _refuse_complex(leaf)


def _aux_of(aux, gen):
    """The aux the user's function returned (a pytree's leaves come flat)."""
    return aux if gen.out_tree is None else tree_unflatten(gen.out_tree.children[1], list(aux))


def linearize(fun, *primals):
    """`(fun(*primals), f_jvp)`, JAX's: `f_jvp(*tangents)` is
    `jvp(fun, primals, tangents)[1]` at the primals given here (copied, so
    later writes to them do not change it). Each call runs the generated
    JVP, primal part included (JAX evaluates that part once)."""
    for k, leaf in enumerate(tree_leaves(primals)):
        if np.iscomplexobj(leaf):
            raise TypeError(f"linearize got a complex primal ({np.result_type(leaf).name}) for leaf "
                            f"{k}: {COMPLEX_ADVICE}.")
    kept = tuple(tree_map(lambda a: a.copy() if isinstance(a, np.ndarray) else a, p) for p in primals)
    out = fun(*tree_map(lambda a: a.copy() if isinstance(a, np.ndarray) else a, primals))

    def f_jvp(*tangents):
        if len(tangents) != len(kept):
            raise TypeError(f"linearized function called with {len(tangents)} tangent arguments, "
                            f"expected {len(kept)}")
        return jvp(fun, kept, tangents)[1]
    return out, f_jvp
