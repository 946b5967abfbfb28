"""Stacks of transformations, composed: `grad(grad(f))`, `hessian(f)`,
`jacfwd(jacrev(f))`, `jvp`, `vmap(grad(f))`, `jacfwd(vmap(f))`; and the CUDA
kernel pass, which composes the layers under a kernel's vmap.

This module is above the passes it composes: reverse and forward mode
(transpile/ad) and batching (transpile/batching) never call back into it.

Each layer turns the program's current entry function into a new generated
function with the same parameters (the user's, then the hidden ones), which
the next layer transforms in turn. The first layer works on the user's code:
reverse mode for `grad`/`value_and_grad`/`jacrev`, forward mode otherwise.
Every later layer is forward mode over generated code, which is plain
Python of the same language (ANF, loops, lists as tapes, runtime helpers
that have tangent rules):

    grad           g(x)   -> grad_f(x)       (reverse; returns the cotangent)
    jacrev         J(x)   -> the VJP vmapped over the basis cotangents of
                             the output, a row each (a number out: the VJP
                             along 1.0, the gradient)
    jacfwd         J(x)   -> the JVP vmapped over the basis tangents of each
                             input, a column each (a number in: the JVP
                             along 1.0)
    grad of g      = jacfwd of g with a scalar-output check (g is generated)
    hessian        = jacfwd(jacrev(f))

The vmap is JAX's `vmap(jvp)`/`vmap(vjp)`, by transpile/batching: where the
code is straight-line the primal part runs once and the tangents run as one
batch; elsewhere it is a loop, one JVP (VJP) per basis vector.

Wrappers are written in ANF, so forward mode reads them as they are.
"""
import gast
import numpy as np

from . import astutil as A
from . import batching
from .ad import forward, reverse
from .ad.analysis import _may_write
from .batching import analysis as An
from .batching import loop
from .batching.vectorize import result_rank
from .codegen.numba_cuda import Plan
from .errors import TranspileError
from .layer import BoundLayer, LayerKind, bound_layer
from .program import _unique, _wrapper, params_of, unique, wrapper
from .transforms import anf


def _call(fn, params, extra=()):
    return f"{fn}({', '.join(list(params) + list(extra))})"


def _primal_call(fn, params, result="_y", program=None):
    """Lines computing `result = fn(params)`, on copies of the arguments it
    may write in place (the derivative passes that follow need the originals)."""
    written = _may_write(fn, program)
    lines, args = [], []
    for k, p in enumerate(params):
        if p in written:
            lines.append(f"    _c{k} = tape.save({p})")
            args.append(f"_c{k}")
        else:
            args.append(p)
    return lines + [f"    {result} = {_call(fn.gen_name, args)}"]


def grad_wrapper(program, base, grad, kind, argnums_int, has_aux):
    """`grad_f(x) -> (value, (bars,))` as the user sees it: the cotangent(s)
    for grad, `(value, cotangents)` for value_and_grad (aux included)."""
    params = params_of(grad)
    lines = [f"    _r = {_call(grad.gen_name, params)}",
             "    _v = _r[0]",
             "    _b = _r[1]",
             # JAX's TypeError for an output that is not a float scalar (the
             # adjoint sweep seeds only an output that depends on the inputs)
             f"    _s = tape.grad_seed({'_v[0]' if has_aux else '_v'})"]
    g = "_b"
    if argnums_int:
        lines.append("    _g0 = _b[0]")
        g = "_g0"
    if kind == "grad":
        if has_aux:     # a pytree (loss, aux) is returned flat: the aux is every leaf after the loss
            flat = getattr(base, "out_tree", None)
            aux = "_v[1]" if flat is None else _tuple([f"_v[{k}]" for k in range(1, flat.num_leaves)], False)
            lines += [f"    _aux = {aux}", f"    return ({g}, _aux)"]
        else:
            lines.append(f"    return {g}")
    else:
        lines.append(f"    return (_v, {g})")
    name = _unique(program, f"{kind}_{base.gen_name}")
    return _wrapper(program, base, name, params, "\n".join(lines) + "\n", {})


def _batched(program, fn, over, rank, out_axes, registry, ranks, over_axes=0):
    """`fn` vmapped over its parameter `over` (a stack of basis tangents or
    cotangents whose examples have rank `rank`; `over_axes` a tuple of 0s
    for a tuple), every other parameter shared: JAX's `vmap(jvp)` /
    `vmap(vjp)`. Straight-line code is vectorized, so the primal part runs
    once; code that branches runs example by example."""
    params = params_of(fn)
    axes = {p: (over_axes if p == over else None) for p in params}
    if out_axes == (None, 0):   # (primal, tangent): the primal is shared unless the analysis cannot tell
        summary = An.Analysis(program).function(fn, {p: An.from_axes(a) for p, a in axes.items()})
        result = summary.result if summary is not None else None
        if not (isinstance(result, An.Tup) and len(result.items) == 2 and not An.any_batched(result.items[0])):
            out_axes = (0, 0)
    layer = BoundLayer(LayerKind.VMAP, axes=axes,
                       ranks={p: (rank if p == over else (ranks or {}).get(p)) for p in params},
                       out_axes=out_axes, axis_size=None, strategy="auto")
    return batching.vmap_layer(program, fn, layer, registry), out_axes


def _result_axes(program, fn):
    """The batch axes of a stack of `fn`'s outputs: 0, or a tuple of them
    like a tuple output (a pytree returned flat)."""
    summary = An.Analysis(program).function(fn, {p: An.from_axes(None) for p in params_of(fn)})

    def axes(r):
        return tuple(axes(i) for i in r.items) if isinstance(r, An.Tup) else 0
    return axes(summary.result) if summary is not None and summary.result is not None else 0


def _tuple(items, as_int):
    return items[0] if as_int else "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def jacfwd_wrapper(program, base, current, wrt, argnums_int, kind, registry, ranks=None):
    """Jacobian (or, for kind grad/value_and_grad, gradient of a scalar
    output) of `current`: its JVP batched over the basis tangents of each
    argument, a column of the Jacobian each."""
    anf.run_generated(program)
    params = params_of(current)
    lines, outs = [], []
    for j, x in enumerate(wrt):
        jvp = forward.jvp_function(program, current, (params.index(x),), registry, entry=True)
        rank = (ranks or {}).get(x)
        if rank == 0:       # a number: one JVP along 1.0 gives the column
            lines += [f"    _r{j} = {_call(jvp, params, ['1.0'])}",
                      f"    _D{j} = _r{j}[1]"]
        else:
            jvp = next(e for e in program.extra if e.gen_name == jvp)
            batched, axes = _batched(program, jvp, params_of(jvp)[-1], rank, (None, 0), registry, ranks)
            lines += [f"    _E{j} = tangent.basis({x})",
                      f"    _r{j} = {_call(batched.gen_name, params, [f'_E{j}'])}",
                      f"    _T{j} = _r{j}[1]"]
            if j == 0 and axes[0] == 0:     # the primal of every example (the same)
                lines += ["    _Y = _r0[0]", "    _y = tangent.first_example(_Y)"]
        if j == 0 and not lines[-1].startswith("    _y ="):
            lines.append("    _y = _r0[0]")
        if j == 0 and kind in ("grad", "value_and_grad"):  # JAX's TypeError unless a float scalar
            lines.append("    tape.grad_seed(_y)")
        if rank != 0:
            lines.append(f"    _D{j} = tangent.jac_from_cols(_T{j}, _y, {x})")
        outs.append(f"_D{j}")
    result = _tuple(outs, argnums_int)
    if kind == "value_and_grad":
        result = f"(_y, {result})"
    lines.append(f"    return {result}")
    name = _unique(program, f"{'jacfwd' if kind == 'jacfwd' else kind}_{current.gen_name}")
    return _wrapper(program, base, name, params, "\n".join(lines) + "\n", {})


def _checked_jvp(program, base, jvp):
    """`jvp` (the user's entry JVP) returning its tangent checked by
    `tangent.real_tangent`: a complex tangent of a real output is a TypeError
    (a complex value made inside the function), never a number."""
    params = params_of(jvp)
    lines = [f"    _t = {_call(jvp.gen_name, params)}", "    _y = _t[0]", "    _v = _t[1]",
             "    _d = tangent.real_tangent(_v, _y)", "    return (_y, _d)"]
    return _wrapper(program, base, _unique(program, f"checked_{jvp.gen_name}"), params,
                    "\n".join(lines) + "\n", {})


def jacrev_wrapper(program, primal, vjp, wrt, argnums_int, registry, ranks=None, has_aux=False):
    """Jacobian of the user's function: its VJP batched over the basis
    cotangents of the output, a row of the Jacobian each. With `has_aux`,
    the function returns a pair `(out, aux)`, `vjp` takes the cotangent of
    `out` alone, and the result is `(J, aux)`."""
    params = params_of(primal)
    if has_aux:
        lines = _primal_call(primal, params, "_p", program) + ["    _y = _p[0]", "    _aux = _p[1]"]
    else:
        lines = _primal_call(primal, params, program=program)
    outs = []
    if ranks and not has_aux and result_rank(program, primal, ranks) == 0:
        # a number out: one VJP along 1.0 gives the row (the gradient)
        lines += ["    _e = tangent.unit(_y, 0)",
                  f"    _b = {_call(vjp.gen_name, params, ['_e'])}"]
        for j, x in enumerate(wrt):
            lines.append(f"    _D{j} = _b[{j}]")
            outs.append(f"_D{j}")
    else:
        batched, _ = _batched(program, vjp, params_of(vjp)[-1], None, 0, registry, ranks,
                              0 if has_aux else _result_axes(program, primal))
        lines += ["    _E = tangent.basis(_y)",
                  f"    _b = {_call(batched.gen_name, params, ['_E'])}"]
        for j, x in enumerate(wrt):
            lines += [f"    _b{j} = _b[{j}]",
                      f"    _D{j} = tangent.jac_from_rows(_b{j}, _y, {x})"]
            outs.append(f"_D{j}")
    result = _tuple(outs, argnums_int)
    if has_aux:
        lines.append(f"    _J = {result}")
        result = "(_J, _aux)"
    lines.append(f"    return {result}")
    name = _unique(program, f"jacrev_{primal.gen_name}")
    return _wrapper(program, primal, name, params, "\n".join(lines) + "\n", {})


def _aux_parts(fn, first):
    """(output, aux) expressions of `_p`, what `fn` returns with has_aux=True:
    the user's function (`first`) returns the pair, a pytree one flat (its
    aux every leaf after the output); a derivative layer with has_aux
    returns `(derivative, aux)`."""
    flat = getattr(fn, "out_tree", None) if first else None
    if flat is None:
        if first:
            for ret in (n for n in gast.walk(fn.node) if isinstance(n, gast.Return)):
                if not (isinstance(ret.value, gast.Tuple) and len(ret.value.elts) == 2):
                    raise TranspileError("has_aux=True needs the function to return a pair (output, aux)",
                                         fn.src.location(ret))
        return "_p[0]", "_p[1]"
    if len(flat.children) != 2 or flat.children[0].num_leaves != 1 or flat.children[0].children:
        raise NotImplementedError("has_aux=True with an output that is a pytree (not one array) is not "
                                  "supported yet")
    return "_p[0]", _tuple([f"_p[{k}]" for k in range(1, flat.num_leaves)], False)


def _with_aux(program, base, current, layer, registry, first):
    """A layer with has_aux=True: `current` returns `(output, aux)`; the
    layer transforms the output alone (forward mode over a generated
    function that returns it) and the aux is returned beside the result:
    `(J, aux)`, `(out, out_dot, aux)` for jvp, and for value_and_grad
    (the first layer only) `(what current returned, gradient)`, as
    grad_wrapper does. `current` runs once more for the aux than without
    it."""
    kind, wrt = layer.kind, list(layer.wrt)
    if not first and kind == "value_and_grad":
        raise NotImplementedError("value_and_grad(..., has_aux=True) of a transformed function is not "
                                  "supported yet")
    anf.run_generated(program)
    params = params_of(current)
    out, aux = _aux_parts(current, first)
    primal = _primal_call(current, params, "_p", program)
    main = _wrapper(program, base, _unique(program, f"main_{current.gen_name}"), params,
                    "\n".join(primal)
                    + f"\n    _o = {out}\n    return _o\n", {})
    if kind == "jvp":
        jname = forward.jvp_function(program, main, tuple(params.index(x) for x in wrt), registry, entry=True)
        inner = next(e for e in program.extra if e.gen_name == jname)
        outer = params_of(inner)
        body = [f"    _t = {_call(jname, outer)}", "    _y = _t[0]", "    _d = _t[1]"]
        result = "(_y, _d, _aux)"
    else:
        inner = jacfwd_wrapper(program, base, main, wrt, layer.argnums_int,
                               "jacfwd" if kind == "jacrev" else kind, registry, layer.ranks)
        outer = params
        body = [f"    _t = {_call(inner.gen_name, params)}"]
        if kind == "value_and_grad":    # as grad_wrapper: what the function returned, then the gradient
            body += ["    _d = _t[1]"]
            result = "(_p, _d)"
        else:
            result = "(_t, _aux)"
    lines = primal + [f"    _aux = {aux}"] + body
    lines.append(f"    _r = {result}")
    lines.append("    return _r")
    name = _unique(program, f"{kind}_{current.gen_name}")
    return _wrapper(program, base, name, outer, "\n".join(lines) + "\n", {})


def _reaches_generated(program, base):
    """True if `base` (or a user function it calls) calls generated code (an
    embedded transformation): reverse mode does not go over generated code,
    so the first layer is forward mode then."""
    names = {e.gen_name for e in program.extra}
    seen, todo = set(), [base]
    while todo:
        spec = todo.pop()
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        if A.names_in(spec.node) & names:
            return True
        todo.extend(callee for _, callee, _ in getattr(spec, "calls", ()))
    return False


def build(program, base, layers, registry, name=None):
    """Apply `layers` (innermost first) to `base` (a specialized function);
    return the last layer's generated function (renamed `name` if given).
    A layer: a `BoundLayer` (transpile/layer.py)."""
    if not hasattr(program, "extra"):
        program.extra = []
    current = base
    forward_only = _reaches_generated(program, base)
    for i, layer in enumerate(layers):
        kind, wrt = layer.kind, list(layer.wrt)
        as_int = layer.argnums_int
        if kind == "vmap":      # transpile/batching: same parameters, batched
            if layer.inner:     # vmap(grad(f)) of scalar examples: forward mode, example by example
                current = forward_grad(program, current, layer.inner, registry)
            current = batching.vmap_layer(program, current, layer, registry)
            continue
        if i == 0 and kind in ("grad", "value_and_grad") and not forward_only:
            g = reverse.run(program, wrt, "grad", layer.has_aux, base=base)
            current = grad_wrapper(program, base, g, kind, as_int, layer.has_aux)
        elif i == 0 and kind == "jacrev" and not forward_only and (
                not layer.has_aux or _aux_parts(base, True) == ("_p[0]", "_p[1]")):
            has_aux = layer.has_aux
            v = reverse.run(program, wrt, "vjp", has_aux, base=base)
            current = jacrev_wrapper(program, base, v, wrt, as_int, registry, layer.ranks, has_aux)
        elif layer.has_aux:
            current = _with_aux(program, base, current, layer, registry, i == 0)
        elif kind == "jvp":
            anf.run_generated(program)
            params = params_of(current)
            jname = forward.jvp_function(program, current, tuple(params.index(x) for x in wrt), registry,
                                         entry=True)
            current = _checked_jvp(program, base, next(e for e in program.extra if e.gen_name == jname))
        else:   # jacfwd; grad/value_and_grad/jacrev of generated code
            current = jacfwd_wrapper(program, base, current, wrt, as_int,
                                     "jacfwd" if kind == "jacrev" else kind, registry, layer.ranks)
    if name is not None and current.gen_name != name:
        current.gen_name = name
        current.node.name = name
    return current


def run(program, layers):
    """Apply `layers` to the program's entry; the result becomes the entry."""
    current = build(program, program.entry, layers, {})
    program.entry_name = current.gen_name
    program.entry_extra_params = []
    return current


def forward_grad(program, base, inner, registry):
    """`grad`/`value_and_grad` of `base` with respect to parameters that are
    scalars in every example, by forward mode: one JVP per parameter, no
    tape (what `vmap(grad(f))` of scalar examples runs per example)."""
    params = params_of(base)
    em = loop.Emitter(set(params) | set(program.names))
    grads = []
    value = None
    for j, x in enumerate(inner.wrt):
        jvp = forward.jvp_function(program, base, (params.index(x),), registry, entry=True)
        e, r = em.fresh(f"_e{j}"), em.fresh(f"_j{j}")
        em.emit(f"{e} = tangent.unit({x}, 0)")
        em.emit(f"{r} = {jvp}({', '.join(params + [e])})")
        if value is None:
            value = em.fresh("_value")
            em.emit(f"{value} = {r}[0]")
            em.emit(f"tape.grad_seed({value})")     # JAX's TypeError for a non-scalar output
        g = em.fresh(f"_g{j}")
        em.emit(f"{g} = {r}[1]")
        grads.append(g)
    if inner.argnums_int:
        result = grads[0]
    else:
        result = em.fresh("_grads")
        em.emit(f"{result} = ({', '.join(grads)}{',' if len(grads) == 1 else ''})")
    if inner.kind == "value_and_grad":
        pair = em.fresh("_pair")
        em.emit(f"{pair} = ({value}, {result})")
        result = pair
    em.emit(f"return {result}")
    name = unique(program, f"{inner.kind}_{base.gen_name}")
    out = wrapper(program, base, name, params, em.lines,
                  {"tangent": program.module_alias("runtime.tangent"),
                   "tape": program.module_alias("runtime.tape")})
    return out          # (it indexes only the JVPs' result tuples, by constants)


# -- the CUDA kernel pass (transpile/codegen/numba_cuda.py compiles what it plans) ---------------
def _check_layers(kinds, what):
    """A kernel maps one batch axis: vmap outermost, and only there."""
    if not kinds or kinds[-1] != "vmap":
        raise NotImplementedError(
            f"backend 'cuda' runs a transformation as a kernel when vmap is the outermost one "
            f"(tp.jit(tp.vmap(tp.grad(f)), backend='cuda')); got {what}")
    if "vmap" in kinds[:-1]:
        raise NotImplementedError("backend 'cuda': vmap of vmap is not supported; map one batch "
                                  "axis (reshape the inputs)")


def check_jittable(fn):
    """`tp.jit(fn, backend='cuda')` of a transformation (checked when jit is called)."""
    _check_layers([layer.kind for layer in getattr(fn, "layers", None) or ()], repr(fn))


def _hidden_ranks(spec):
    return {name: int(np.ndim(h.getter())) for name, h in spec.hidden.values()}


def kernel_pass(program, transform, options):
    """Build the per-example function and record the `Plan` (`program.cuda_plan`)."""
    entry = program.entry
    if not hasattr(program, "extra"):
        program.extra = []
    if transform == "jit":
        params = params_of(entry)
        hidden = _hidden_ranks(entry)
        plan = Plan("elementwise", entry, params, {p: (0 if p not in hidden else None) for p in params},
                    {p: hidden.get(p, 0) for p in params})
        name = unique(program, f"elementwise_{entry.gen_name}")
    else:
        layer_list = [bound_layer(layer) for layer in options.get("layers") or [options.get("vmap_layer") or
                      BoundLayer(LayerKind.VMAP, axes={p: 0 for p in entry.dyn_params},
                                 ranks=options.get("ranks", {}), out_axes=0, axis_size=None)]]
        _check_layers([layer.kind for layer in layer_list], "layers " + " of ".join(
            layer.kind for layer in reversed(layer_list)))
        vm = layer_list[-1]
        registry = {}
        current = build(program, entry, layer_list[:-1], registry) if layer_list[:-1] else entry
        if vm.inner:    # vmap(grad(f)) of numbers: forward mode in each thread
            current = forward_grad(program, current, vm.inner, registry)
        params = params_of(current)
        hidden = _hidden_ranks(entry)
        axes, ranks = {}, {}
        for p in params:
            ax = vm.axes.get(p)
            if isinstance(ax, tuple):
                raise NotImplementedError("backend 'cuda': a tuple or pytree argument is not "
                                          "supported yet; pass its arrays as arguments")
            axes[p] = ax
            ranks[p] = hidden[p] if p in hidden else (vm.ranks or {}).get(p)
        _check_out_axes(vm.out_axes)
        if vm.axis_size is not None and all(a is None for a in axes.values()):
            raise NotImplementedError("backend 'cuda': vmap with axis_size and no mapped input")
        plan = Plan("vmap", current, params, axes, ranks)
        name = unique(program, f"vmap_{current.gen_name}")
    plan.launcher = name
    plan.kernel = unique(program, f"{name}_kernel")
    program.cuda_plan = plan
    program.entry_name = name
    program.entry_extra_params = []


def _check_out_axes(out_axes):
    """Each thread returns numbers, so every output has one axis: out_axes 0 or -1."""
    flat = out_axes if isinstance(out_axes, (tuple, list)) else [out_axes]
    for ax in flat:
        if isinstance(ax, (tuple, list)):
            _check_out_axes(ax)
        elif ax not in (0, -1):
            raise NotImplementedError(f"backend 'cuda': out_axes={out_axes!r}; each GPU thread "
                                      f"returns numbers, so outputs have one axis (out_axes=0)")
