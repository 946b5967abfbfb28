"""The CUDA backend: generated code compiled with numba.cuda.

    tp.jit(tp.vmap(f), backend="cuda")     one GPU thread per example
    tp.jit(tp.vmap(tp.grad(f)), ...)       the same, the gradient per thread
    tp.jit(f, backend="cuda")              one thread per element of the
                                           broadcast inputs (f on numbers)

The pipelines run as for the other backends up to the per-example
function: the `kernel` pass (transpile/compose.py) stands where the vmap
layer would be. It builds the derivative layers under the vmap
(`vmap(grad(f))` of scalar examples computes the gradient in forward mode,
which needs no tape) and records what the kernel maps, a `Plan`.
`assemble` then lowers every function the
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
from .. import astutil as A
from .cuda_lower import Lowering
from .cuda_tables import MODULES
from .module import header
from ..to_source import finish_module, function_source

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


class Plan:
    """What the kernel maps: the per-example function, one axis (int or None)
    and one example rank per parameter, and the kind of launch."""

    def __init__(self, kind, fn, params, axes, ranks):
        self.kind = kind            # "vmap" | "elementwise"
        self.fn = fn
        self.params = params
        self.axes = axes
        self.ranks = ranks


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
