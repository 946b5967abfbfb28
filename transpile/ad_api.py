"""`grad`, `value_and_grad`, `vjp` and `stop_gradient`, JAX's conventions.

Each returns a function that runs the generated reverse-mode source eagerly
with NumPy (a `Transformed` of one layer, transpile/transformed.py);
`tp.jit(tp.grad(f))` compiles the same source with Numba.
"""
import numpy as np

from .api import transformation_of
from .derivative_values import _check_inexact, _check_output_leaves, _like, _no_holomorphic, _tree_grads
from .structure import flatten_up_to, is_container
from .layer import Layer, LayerKind
from .transformed import Transformed, compose
from .tree import tree_flatten, tree_leaves, tree_map, tree_unflatten
from runtime.adjoint import zeros_like
from runtime.tape import stop_gradient  # noqa: F401  (re-exported as tp.stop_gradient)


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """The gradient of scalar-valued `fun` with respect to argument(s) `argnums`
    (real numbers only: `holomorphic=True` is a TypeError)."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Transformed):        # grad(grad(f)), grad(jacfwd(f)), ...
        return compose(fun, LayerKind.GRAD, argnums, has_aux)
    return transformation_of(fun, lambda f: Transformed(f, [Layer(LayerKind.GRAD, argnums, has_aux)]))


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """`(fun(*args), grad(fun)(*args))` in one pass."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Transformed):
        return compose(fun, LayerKind.VALUE_AND_GRAD, argnums, has_aux)
    return transformation_of(fun, lambda f: Transformed(f, [Layer(LayerKind.VALUE_AND_GRAD, argnums, has_aux)]))


class _VJP:
    """The pullback of `vjp`: cotangents of the output (a pytree like it) to
    cotangents of the primals (a tuple of pytrees like them)."""

    def __init__(self, diff, args, out, aux=None, has_aux=False):
        self._diff = diff
        self._args = args
        self._out = out
        self._aux = aux
        self._has_aux = has_aux

    def __call__(self, ct):
        out_leaves, out_def = tree_flatten(self._out)
        ct_leaves, ct_def = tree_flatten(ct)
        if ct_def != out_def:
            raise ValueError(f"unexpected tree structure of the cotangent.\n\nThe argument to a VJP "
                             f"function returned by `vjp` must match the pytree structure of the output of "
                             f"{self._diff._fn.__qualname__}(): the output has tree structure {out_def}, the "
                             f"cotangent has tree structure {ct_def}.")
        for c, o in zip(ct_leaves, out_leaves):
            if np.shape(c) != np.shape(o):
                raise ValueError(f"unexpected type (e.g. shape/dtype) for argument to VJP function: got "
                                 f"{_type_text(c)}, but expected {_type_text(o)} because the corresponding "
                                 f"output of the differentiated function had type {_type_text(o)}")
        ct = tree_unflatten(ct_def, [_like(c, o) for c, o in zip(ct_leaves, out_leaves)])
        if self._has_aux:       # the aux carries no cotangent: zeros, so one generated VJP serves
            ct = (ct, tree_map(zeros_like, self._aux))
        diff, args = self._diff, self._args
        gen = diff._cache.get(diff._signature(args)) or diff._generate(args, diff._signature(args))
        if gen.out_tree is not None:    # the generated function returns the pytree flat
            ct = tuple(flatten_up_to(gen.out_tree, ct))
        bars = diff._run(args, extra=(ct,))
        return _tree_grads(bars, args, diff._argnums)


def _type_text(x):
    return f"{np.result_type(x).name}[{','.join(str(s) for s in np.shape(x))}]"


def _copy_array(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def vjp(fun, *primals, has_aux=False):
    """`(fun(*primals), vjp_fn)`; `vjp_fn(ct)` is the tuple of cotangents of
    `primals` (pytrees like them; `ct` is a pytree like the output). With
    `has_aux`, `fun` returns `(out, aux)` and vjp returns `(out, vjp_fn,
    aux)`, as JAX's."""
    diff = transformation_of(fun, lambda f: Transformed(f, [Layer(LayerKind.VJP, tuple(range(len(primals))))]))
    bound = (diff._self,) if diff._self is not None else ()
    args = diff._bind(bound + tuple(primals), {})
    for k in diff._argnums:
        for leaf in (tree_leaves(args[k]) if is_container(args[k]) else [args[k]]):
            _check_inexact(leaf, diff._names[k], diff._fn.__qualname__)
    # the primal runs on copies: a function writing its arguments in place must not change
    # the caller's arrays, nor the values the pullback differentiates at (JAX's arrays are
    # immutable; its vjp never writes them)
    out = fun(*tree_map(_copy_array, primals))
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"vjp(..., has_aux=True) needs {diff._fn.__qualname__}() to return a pair "
                            f"(output, aux), got {type(out).__name__}")
        out, aux = out
        _check_output_leaves(out, "vjp")
        return out, _VJP(diff, args, out, aux, True), aux
    _check_output_leaves(out, "vjp")
    return out, _VJP(diff, args, out)
