"""`vmap` by rewriting: a layer of kind 'vmap' (see transpile/compose.py).

A vmap layer turns the program's current entry function `f(params)` into a
generated function with the same parameters that takes every mapped argument
with one more axis (where `in_axes` says) and returns every output with the
batch axis where `out_axes` says. Three strategies give the same numbers:

* **per-example loop** (batching/loop.py): call `f` on each example in a
  loop. Always correct: each example takes its own branches.
* **vectorized** (batching/vectorize.py): rewrite `f` statement by
  statement with the batching rules of `runtime.rules.batching`, moving
  the batch axis through array code (a batched matvec becomes one matmul).
  Used when every statement has a rule and no test or trip count depends
  on a mapped value.
* **lanes** (batching/lanes.py), compiled code whose examples are numbers:
  the per-example loop moved inside `f`'s own loops, so that each of their
  iterations runs every example (an ODE's time steps over 1,000 parameters).
  Where `f` has no such loop, the per-example loop itself (on numbers,
  vectorizing would only add whole-batch temporaries).

Because the result is an ordinary generated function in ANF, every layer
composes with every other: `vmap(grad(f))` batches the gradient wrapper,
`jacfwd(vmap(f))` is forward mode over the batched code, `vmap(vmap(f))`
batches a batched function.
"""
from ..errors import TranspileError
from ..layer import STRATEGIES
from ..program import GeneratedFunction, alias, params_of, unique, wrapper
from ..transforms import anf
from . import analysis as An
from . import lanes, loop
from .vectorize import NotVectorizable, result_rank, vectorize_function


def broadcast_out_axes(spec, tree):
    """One out axis (int or None) per leaf of the abstract output `tree`."""
    if isinstance(spec, list):
        spec = tuple(spec)
    if isinstance(spec, tuple):
        if not isinstance(tree, An.Tup) or len(tree.items) != len(spec):
            raise ValueError(f"vmap out_axes specification must be a tree prefix of the corresponding "
                             f"value, got specification {spec} for value tree {describe(tree)}.")
        out = []
        for s, t in zip(spec, tree.items):
            out.extend(broadcast_out_axes(s, t))
        return out
    return [spec] * len(An.leaves(tree))


def describe(tree):
    if isinstance(tree, An.Tup):
        return "(" + ", ".join(describe(t) for t in tree.items) + ("," if len(tree.items) == 1 else "") + ")"
    return "*"


def vmap_layer(program, current, layer, registry):
    """Apply one vmap layer to `current`; returns the new generated function."""
    batching = alias(program)
    params = params_of(current)
    axes = {p: layer.axes.get(p) for p in params}
    if layer.axis_size is None and not any(_mapped(t) for t in axes.values()):
        raise ValueError("vmap must have at least one non-None value in in_axes")
    analysis = An.Analysis(program)
    summary = analysis.function(current, {p: An.from_axes(axes[p]) for p in params})
    tree = summary.result if summary is not None and summary.result is not None else An.Leaf(True)
    out_axes = broadcast_out_axes(layer.out_axes, tree)
    for (path, leaf), ax in zip(An.leaves(tree), out_axes):
        if ax is None and leaf.batched:
            raise ValueError("vmap has mapped output but out_axes is None")
    strategy = layer.strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown vmap strategy {strategy!r}; expected one of {STRATEGIES}")
    taken = set(program.names) | {s.gen_name for s in program.functions} \
        | {e.gen_name for e in program.extra} | set(program.imports.values())
    name = unique(program, f"vmap_{current.gen_name}")
    ranks = layer.ranks or {}
    if strategy == "auto" and layer.lanes and lanes.scalar_examples(params, axes, ranks):
        # compiled, every example a number: the per-example loop moved inside
        # the function's own loops, or the loop itself where the results are
        # numbers too (vectorizing code on numbers only adds whole-batch temporaries)
        anf.run_generated(program)
        saved = (list(program.extra), set(program.names))
        try:
            lines = entry_source(program, current, params, axes, tree, out_axes, layer, taken,
                                 lanes.lanes_function(program, current, {p: An.from_axes(axes[p]) for p in params},
                                                      registry, batching, An.Analysis(program)))
            program.vmap_vectorized = True      # Numba may not type it: the loop then (vmap_mode.py)
            return wrapper(program, current, name, params, lines, {"batching": batching})
        except lanes.NotLanes:
            program.extra[:], program.names = saved[0], saved[1] | {name}
            _forget_dropped(program, registry)
        if layer.inner or result_rank(program, current, ranks) == 0:
            strategy = "loop"
    if strategy in ("auto", "vectorize"):
        anf.run_generated(program)     # reverse-mode output is not ANF yet
        saved = (list(program.extra), set(program.names))
        try:
            lines = vectorized_source(program, current, params, axes, tree, out_axes, layer, registry,
                                      batching, taken)
            program.vmap_vectorized = True
            return wrapper(program, current, name, params, lines, {"batching": batching})
        except NotVectorizable as exc:
            program.extra[:], program.names = saved[0], saved[1] | {name}
            _forget_dropped(program, registry)
            if strategy == "vectorize":
                raise TranspileError(f"vmap(..., strategy='vectorize'): cannot vectorize "
                                     f"{current.src.qualname}: {exc}") from None
    lines = loop.wrapper_source(current.gen_name, params, axes, tree, out_axes,
                                layer.axis_size, taken)
    return wrapper(program, current, name, params, lines, {"batching": batching})


def _forget_dropped(program, registry):
    """After a failed attempt rolled `program.extra` back, the memo must not name the
    functions it dropped (a later attempt would call them: NameError in generated code)."""
    kept = {id(e) for e in program.extra}
    for key, found in list(registry.items()):
        if isinstance(found, GeneratedFunction) and id(found) not in kept:
            del registry[key]


def vectorized_source(program, current, params, axes, tree, out_axes, layer, registry, batching, taken):
    """The wrapper around the vectorized version of `current` (raises NotVectorizable)."""
    pattern = {p: An.from_axes(axes[p]) for p in params}
    ranks = {p: (layer.ranks or {}).get(p) for p in params}
    vec = vectorize_function(program, current, pattern, ranks, registry, batching, entry=True)
    return entry_source(program, current, params, axes, tree, out_axes, layer, taken, vec)


def entry_source(program, current, params, axes, tree, out_axes, layer, taken, vec):
    """The wrapper around `vec`, a version of `current` that takes the batch
    axis of each mapped argument first and the batch size last (vectorized,
    or lanes): its lines."""
    em = loop.Emitter(set(taken) | set(params))
    nodes, leaves = loop.decompose(em, params, axes)
    n = loop.size_lines(em, leaves, layer.axis_size)

    def front(node):
        var, sub = node
        if isinstance(sub, list):
            items = [front(i) for i in sub]
            if all(i == part[0] for i, part in zip(items, sub)):
                return var
            tup = em.fresh(f"_{var.lstrip('_')}_t")
            em.emit(f"{tup} = ({', '.join(items)}{',' if len(items) == 1 else ''})")
            return tup
        if sub is None or sub == 0:
            return var
        moved = em.fresh(f"_{var.lstrip('_')}_m")
        em.emit(f"{moved} = batching.moveaxis({var}, {sub}, 0)")
        return moved

    args = [front(nodes[p]) for p in params]
    r = em.fresh("_r")
    em.emit(f"{r} = {vec.gen_name}({', '.join(args + [n])})")
    vals = loop.result_leaves(em, r, tree, 1)
    result = vec.vec_result if vec.vec_result is not None else An.Leaf(False)
    batched = [leaf.batched for _, leaf in An.leaves(result)]
    if len(batched) != len(vals):
        raise NotVectorizable("the structure of the output")
    final = []
    for v, b, ax in zip(vals, batched, out_axes):
        if ax is None:
            final.append(v)
            continue
        if not b:
            u = em.fresh("_u")
            em.emit(f"{u} = batching.broadcast({v}, {n})")
            v = u
        if ax != 0:
            m = em.fresh("_out")
            em.emit(f"{m} = batching.moveaxis({v}, 0, {ax})")
            v = m
        final.append(v)
    em.emit(f"return {loop.pack(em, tree, final)}")
    return em.lines


def _mapped(tree):
    if isinstance(tree, tuple):
        return any(_mapped(t) for t in tree)
    return tree is not None
