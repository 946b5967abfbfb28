"""`jvp`, `jacfwd`, `jacrev`, `hessian`, and compositions of derivative
transformations (`grad(grad(f))`, `jacfwd(jacrev(f))`), JAX's conventions.

A `Transformed` (transpile/transformed.py) holds the user's function and a
stack of layers (innermost first); the `ad` pipeline generates one function
per layer (transpile/compose.py). Like `grad`, each runs eagerly with NumPy,
and `tp.jit(...)` compiles the same source with Numba.
"""
import numpy as np

from .api import _relocate, call_args_of, transformation_of
from .derivative_values import (_aux_of, _check_output_leaves, _complex_note, _like, _no_complex_casts,
                                _no_holomorphic, _refuse_complex)
from .structure import rebuild_result
from .layer import Layer, LayerKind
from .transformed import Transformed, compose, stack
from .tree import tree_flatten, tree_leaves, tree_map
from runtime.tape import COMPLEX_ADVICE


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian of `fun` by forward mode: shape `out.shape + in.shape`.
    With `has_aux`, `fun` returns `(out, aux)` and the result is `(J, aux)`."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Transformed):
        return compose(fun, LayerKind.JACFWD, argnums, has_aux)
    return transformation_of(fun, lambda f: Transformed(f, [Layer(LayerKind.JACFWD, argnums, has_aux)]))


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian of `fun` by reverse mode: shape `out.shape + in.shape`.
    With `has_aux`, `fun` returns `(out, aux)` and the result is `(J, aux)`."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Transformed):
        return compose(fun, LayerKind.JACREV, argnums, has_aux)
    return transformation_of(fun, lambda f: Transformed(f, [Layer(LayerKind.JACREV, argnums, has_aux)]))


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
    layer = Layer(LayerKind.JVP, tuple(range(len(primals))), has_aux)
    if isinstance(fun, Transformed):        # jvp(grad(f)): forward mode over the generated code
        tr = stack(fun, layer)
    else:
        tr = transformation_of(fun, lambda f: Transformed(f, [layer]))
    args, key, extra = tr._resolve(tuple(primals), {})     # jvp(vmap(f)): the in_axes resolved too
    gen = tr._cache.get(key) or tr._generate(args, key, extra)
    call_args = call_args_of(args, gen) if gen.trees else [args[i] for i in gen.dyn_index]
    try:
        with _no_complex_casts(tr.backend):
            out = gen.entry(*call_args, *[h.getter() for h in gen.hidden], *t_leaves)
    except Exception as exc:
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
