"""`vmap`, JAX's conventions: `vmap(fun, in_axes=0, out_axes=0, axis_size=None)`.

`vmap` returns a `Transformed` (transpile/transformed.py) whose stack of
layers holds one or more layers of kind 'vmap' (transpile/batching), so
`vmap(grad(f))`, `jacfwd(vmap(f))`, `vmap(vmap(f))` are stacks of layers
like any composition, `tp.jit(...)` of any of them compiles the same
source, and `grad`/`jacfwd`/... of a vmapped function go through `compose`.

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

from .api import transformation_of
from .layer import Layer, VmapSpec
from .transformed import Transformed


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
    layer = Layer.of_vmap(spec)
    if isinstance(fun, Transformed):
        if fun.mode == "vjp":
            raise TypeError("a vjp is not a function of the primal inputs; vmap the function")
        return functools.update_wrapper(Transformed(fun._function(), fun.layers + (layer,), fun.backend), fun._fn)
    return transformation_of(fun, lambda f: Transformed(f, [layer]))     # vmap(jit(f)) == jit(vmap(f))
