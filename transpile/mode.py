"""How a `Transformed` (transpile/transformed.py) runs its stack of layers:
the interface its three modes share, and the generated code they share.

A mode is stateless (one instance serves every transformation object; the
object is passed in):

    resolve(tr, args, kwargs)       -> (bound arguments, cache key, what else generate needs)
    generate(tr, args, key, extra)  -> a `pipeline.Generated`, cached in `tr._cache[key]`
    call(tr, args, kwargs)          -> the result, in JAX's structure

The modes: `Reverse` (transpile/reverse_mode.py: grad, value_and_grad, vjp
of the user's function), `Stack` (transpile/stack_mode.py: any stack of
derivative layers), `Batched` (transpile/vmap_mode.py: a stack with vmap
layers).
"""
from . import pipeline
from .api import arg_plan

# Generated code shared by every transformation object of the same function and options,
# so `tp.grad(f)(x)` in a loop generates (and compiles) once.
_GENERATED = {}


def stale(gen):
    """True if a global or closure cell that `gen` was specialized on changed."""
    return gen.guards and any(b.read() is not v for b, v in gen.guards)


def shared_build(tr, shared, key, build):
    """The generated code under `shared` (a hashable key of everything it
    depends on), made by `build()` if missing or stale; cached in `tr` under
    `key` (one more specialization of `tr`)."""
    gen = _GENERATED.get(shared)
    if gen is None or stale(gen):
        gen = build()
        try:
            _GENERATED[shared] = gen
        except TypeError:   # an unhashable static value: no sharing
            pass
    tr._cache[key] = gen
    tr.num_specializations += 1
    return gen


def build_stack(tr, statics, layers, shapes, mode):
    """The generated code of `tr`'s function under its bound `layers`
    (`mode` 'ad' or 'vmap'), with what a call needs to map its arguments in
    and rebuild JAX's structure out (`shapes`: structure.rebuild_result)."""
    gen = pipeline.build(tr._fn, statics, None, "ad", tr.backend, {"layers": layers, "mode": mode})
    gen.dyn_index = arg_plan(tr._names, gen)
    gen.trees = bool(gen.program.entry.tree_params)
    gen.out_tree = gen.program.entry.out_tree
    gen.shapes = shapes
    return gen


class Mode:
    """The interface of a mode; `resolve` binds the arguments and keys the
    call by their signature (`Batched` adds the resolved axes)."""

    def resolve(self, tr, args, kwargs):
        if tr._self is not None:
            args = (tr._self,) + tuple(args)
        args = tr._bind(args, dict(kwargs))
        return args, tr._signature(args), None

    def generate(self, tr, args, key, extra=None):
        raise NotImplementedError

    def call(self, tr, args, kwargs):
        raise NotImplementedError
