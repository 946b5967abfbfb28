"""The `Reverse` mode of a `Transformed` (transpile/transformed.py): one
layer, `grad`, `value_and_grad` or `vjp` of the user's function, generated
by the `grad` pipeline (reverse mode straight over the user's code) and
called with the gradients shaped and typed like their inputs.
"""
from . import pipeline
from .api import arg_plan, statics_of
from .derivative_values import _check_inexact, _like, _tree_grads
from .mode import Mode, shared_build
from .structure import TreeParam, is_container, mirror
from .tree import tree_leaves, tree_unflatten
from .values import _DYN
from runtime.tape import grad_seed


class Reverse(Mode):
    """grad, value_and_grad or vjp of the user's function (reverse mode)."""

    def generate(self, tr, args, key, extra=None):
        statics = statics_of(tr._names, args, key)
        wrt = []
        for n in tr._argnums:
            if isinstance(statics.get(tr._names[n]), TreeParam):    # a pytree: its leaves
                wrt.extend(mirror(statics[tr._names[n]].treedef, tr._names[n])[1])
                continue
            if key[n] is not _DYN:
                raise TypeError(f"argument {tr._names[n]} of {tr._fn.__qualname__}() cannot be "
                                f"differentiated: it is a {type(args[n]).__name__}, not a number or array")
            wrt.append(tr._names[n])
        options = {"wrt": wrt, "mode": "vjp" if tr.mode == "vjp" else "grad", "has_aux": tr.has_aux}
        shared = (tr._fn, tuple(wrt), options["mode"], tr.has_aux, tr.backend, key)

        def build():
            gen = pipeline.build(tr._fn, statics, None, "grad", tr.backend, options)
            gen.dyn_index = arg_plan(tr._names, gen)
            gen.trees = bool(gen.program.entry.tree_params)
            gen.out_tree = gen.program.entry.out_tree     # a pytree returned beside the loss (aux)
            gen.all_args = gen.dyn_index == list(range(len(args))) and not gen.hidden
            return gen
        return shared_build(tr, shared, key, build)

    def call(self, tr, args, kwargs):
        if tr._self is not None:
            args = (tr._self,) + args
        if kwargs or len(args) != tr._nargs:
            args = tr._bind(args, dict(kwargs))
        trees = False
        for n in tr._argnums:
            if is_container(args[n]):
                trees = True
                for leaf in tree_leaves(args[n]):
                    _check_inexact(leaf, tr._names[n], tr._fn.__qualname__)
            else:
                _check_inexact(args[n], tr._names[n], tr._fn.__qualname__)
        (value, bars), gen = tr._run(args, with_gen=True)
        if gen.out_tree is not None:        # (loss, aux pytree), returned flat
            value = tree_unflatten(gen.out_tree, value)
        # JAX's TypeError for an output that is not a float scalar (generated
        # code seeds, and so checks, only an output that depends on the inputs)
        grad_seed(value[0] if tr.has_aux and isinstance(value, tuple) else value)
        if trees:
            grads = _tree_grads(bars, args, tr._argnums)
            grads = grads[0] if isinstance(tr.argnums, int) else grads
        elif isinstance(tr.argnums, int):
            grads = _like(bars[0], args[tr._argnums[0]])
        else:
            grads = tuple([_like(b, args[n]) for b, n in zip(bars, tr._argnums)])
        if tr.mode == "value_and_grad":
            return value, grads
        if tr.has_aux:
            return grads, value[1]
        return grads

