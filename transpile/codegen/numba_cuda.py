"""The CUDA backend: generated code compiled with numba.cuda.

    tp.jit(tp.vmap(f), backend="cuda")     one GPU thread per example
    tp.jit(tp.vmap(tp.grad(f)), ...)       the same, the gradient per thread
    tp.jit(f, backend="cuda")              one thread per element of the
                                           broadcast inputs (f on numbers)

The pipelines run as for the other backends up to the per-example
function: the `kernel` pass stands where the vmap layer would be. It builds
the derivative layers under the vmap (`vmap(grad(f))` of scalar examples
computes the gradient in forward mode, which needs no tape) and records
what the kernel maps. `assemble` then lowers every function the
per-example function reaches to device code (transpile/codegen/cuda_lower.py:
checks at the user's line, `math.*`, local arrays) and writes the module:

    @cuda.jit(device=True)
    def grad_f(x, y):                   # the per-example code, one thread's work
        ...

    @cuda.jit(cache=True)               # compiled on the first call, cached on disk
    def vmap_grad_f_kernel(x, y, _out0):
        _b = cuda.grid(1)               # one thread per example
        if _b < _out0.shape[0]:
            _r = grad_f(x[_b], y[_b])
            _out0[_b] = _r

    # host side (runtime/cuda_launch.py): copies NumPy inputs to the GPU and
    # the results back; device arrays stay on the device
    vmap_grad_f = launch.Vmap(vmap_grad_f_kernel, grad_f, axes=(0, 0), out=0)
"""
import numpy as np

from .. import astutil as A
from .cuda_lower import MODULES, Lowering
from .module import header
from .to_source import finish_module, function_source

THREAD = {"vmap": "_b", "elementwise": "_i"}


def passes(transform, names):
    """The pass list of `transform` for the CUDA backend."""
    if transform == "grad":
        raise NotImplementedError(
            "backend 'cuda' compiles per-example and element-wise code: use "
            "tp.jit(tp.vmap(tp.grad(f)), backend='cuda') (one gradient per GPU thread)")
    if transform == "jit":
        return tuple(names) + ("kernel",)
    return tuple("kernel" if n in ("layers", "vmap") else n for n in names)


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
    _check_layers([kind for kind, _, _ in getattr(fn, "layers", None) or ()], repr(fn))


class Plan:
    """What the kernel maps: the per-example function, one axis (int or None)
    and one example rank per parameter, and the kind of launch."""

    def __init__(self, kind, fn, params, axes, ranks):
        self.kind = kind            # "vmap" | "elementwise"
        self.fn = fn
        self.params = params
        self.axes = axes
        self.ranks = ranks


def _hidden_ranks(spec):
    return {name: int(np.ndim(h.getter())) for name, h in spec.hidden.values()}


def kernel_pass(program, transform, options):
    """Build the per-example function and record the `Plan` (`program.cuda_plan`)."""
    from ..ad import layers as L
    from .. import batching
    entry = program.entry
    if not hasattr(program, "extra"):
        program.extra = []
    if transform == "jit":
        params = L.params_of(entry)
        hidden = _hidden_ranks(entry)
        plan = Plan("elementwise", entry, params, {p: (0 if p not in hidden else None) for p in params},
                    {p: hidden.get(p, 0) for p in params})
        name = batching.unique(program, f"elementwise_{entry.gen_name}")
    else:
        layer_list = list(options.get("layers") or [options.get("vmap_layer") or {
            "kind": "vmap", "wrt": [], "argnums_int": True, "has_aux": False,
            "axes": {p: 0 for p in entry.dyn_params}, "ranks": options.get("ranks", {}),
            "out_axes": 0, "axis_size": None}])
        _check_layers([layer["kind"] for layer in layer_list], "layers " + " of ".join(
            layer["kind"] for layer in reversed(layer_list)))
        vm = layer_list[-1]
        registry = {}
        current = L.build(program, entry, layer_list[:-1], registry) if layer_list[:-1] else entry
        if vm.get("inner"):     # vmap(grad(f)) of numbers: forward mode in each thread
            current = batching.forward_grad(program, current, vm["inner"], registry)
        params = L.params_of(current)
        hidden = _hidden_ranks(entry)
        axes, ranks = {}, {}
        for p in params:
            ax = vm["axes"].get(p)
            if isinstance(ax, tuple):
                raise NotImplementedError("backend 'cuda': a tuple or pytree argument is not "
                                          "supported yet; pass its arrays as arguments")
            axes[p] = ax
            ranks[p] = hidden[p] if p in hidden else vm.get("ranks", {}).get(p)
        _check_out_axes(vm.get("out_axes", 0))
        if vm.get("axis_size") is not None and all(a is None for a in axes.values()):
            raise NotImplementedError("backend 'cuda': vmap with axis_size and no mapped input")
        plan = Plan("vmap", current, params, axes, ranks)
        name = batching.unique(program, f"vmap_{current.gen_name}")
    plan.launcher = name
    plan.kernel = batching.unique(program, f"{name}_kernel")
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


# -- the module text ---------------------------------------------------------------
def _aliases(program, specs):
    taken = set(program.names) | {s.gen_name for s in specs}
    for s in specs:
        taken |= set(s.locals) | A.names_in(s.node)
    out = {}
    for mod, want in MODULES.items():
        alias = program.imports.get(mod, want)
        while alias in taken and program.imports.get(mod) != alias:
            alias += "_"
        program.imports[mod] = alias
        out[mod] = alias
    out["runtime.cuda_launch"] = "launch" if "launch" not in taken else "cuda_launch_"
    return out


def _outputs(tree, path=(), paths=None):
    """(the paths of the leaves of a returned tuple tree, the tree of their indices as text)."""
    paths = [] if paths is None else paths
    if isinstance(tree, (list, tuple)):
        items = [_outputs(t, path + (k,), paths)[1] for k, t in enumerate(tree)]
        return paths, "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    paths.append(path)
    return paths, str(len(paths) - 1)


def _kernel_lines(plan, out_tree, aliases):
    cuda = aliases["numba.cuda"]
    device = aliases["runtime.cuda_device"]
    t = THREAD[plan.kind]
    paths, spec = _outputs(out_tree)
    outs = [f"_out{k}" for k in range(len(paths))]
    args = []
    for p in plan.params:
        ax = plan.axes[p]
        if ax is None:
            args.append(p)
        elif plan.kind == "elementwise":
            args.append(f"{device}.elem({p}, {t})")
        else:
            nd = (plan.ranks[p] or 0) + 1
            ax = ax % nd
            args.append(f"{p}[{', '.join([':'] * ax + [t])}]")
    what = "one thread per example" if plan.kind == "vmap" else \
        "one thread per element of the broadcast inputs"
    lines = [f"@{cuda}.jit(cache=True)",
             f"def {plan.kernel}({', '.join(plan.params + outs)}):",
             f"    # {what}",
             f"    {t} = {cuda}.grid(1)",
             f"    if {t} < _out0.shape[0]:",
             f"        _r = {plan.fn.gen_name}({', '.join(args)})"]
    for out, path in zip(outs, paths):
        lines.append(f"        {out}[{t}] = _r{''.join(f'[{k}]' for k in path)}")
    axes = ", ".join(str(plan.axes[p]) for p in plan.params)
    axes = f"({axes},)" if len(plan.params) == 1 else f"({axes})"
    launcher = "Vmap" if plan.kind == "vmap" else "Elementwise"
    host = ["# host side: NumPy inputs are copied to the GPU and the results back; device arrays",
            "# (__cuda_array_interface__) are used in place and the results stay on the device",
            f"{plan.launcher} = {aliases['runtime.cuda_launch']}.{launcher}({plan.kernel}, "
            f"{plan.fn.gen_name}, axes={axes}, out={spec})"]
    return "\n".join(lines), "\n".join(host)


def assemble(program, transform):
    """(text, LineTable) of the CUDA module of `program` (after `kernel_pass`)."""
    plan = program.cuda_plan
    lowering = Lowering(program, elementwise=plan.kind == "elementwise")
    ranks = tuple(plan.ranks[p] for p in plan.params)
    out_tree = lowering.check_entry(plan.fn, ranks)
    if out_tree is None or out_tree == "static":
        out_tree = 0
    specs = list(lowering.order)
    aliases = _aliases(program, specs)
    rewritten = lowering.rewrite(aliases)
    used = {aliases["runtime.cuda_device"]} if plan.kind == "elementwise" else set()   # elem()
    for _, node in rewritten:
        used |= A.names_in(node)
    cuda = aliases["numba.cuda"]
    locations = []
    head = header(program, transform, "cuda")
    imports = []
    for mod, alias in sorted(program.imports.items()):
        if alias in used or mod == "numba.cuda":
            imports.append(f"import {mod}" if alias == mod else f"import {mod} as {alias}")
    imports.append(f"import runtime.cuda_launch as {aliases['runtime.cuda_launch']}")
    chunks = ["\n".join(head), "\n".join(imports)]
    for spec, node in rewritten:
        node.decorator_list = [A.call(f"{cuda}.jit", keywords={"device": A.const(True)})]
        chunks.append(function_source(node, spec.src, locations).rstrip("\n"))
    kernel, host = _kernel_lines(plan, out_tree, aliases)
    chunks += [kernel, host]
    text = "\n\n\n".join(chunks) + "\n"
    return finish_module(text, locations)
