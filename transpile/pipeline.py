"""Named pipelines: the order of passes, in one place.

    jit:  specialize -> desugar -> nep50 -> checks -> codegen
          (nep50: backend 'numba' only; NumPy 2's rules for Python numbers,
          transpile/transforms/nep50.py)
    grad: specialize -> desugar -> cflow -> anf -> alias -> reverse -> dce -> checks -> codegen
          (also value_and_grad and vjp: `options` say which)
    ad:   specialize -> desugar -> cflow -> anf -> alias -> layers -> dce -> checks -> codegen
          (jvp, jacfwd, jacrev, hessian and compositions: `options["layers"]`,
          `BoundLayer`s, transpile/layer.py; see transpile/compose.py)

`TRANSPILE_PRINT_AFTER=specialize,desugar` prints the module's source after
those passes (to stderr), as Numba's `NUMBA_DEBUG_*` variables do.
"""
import os
import sys

from . import compose
from .ad import reverse
from .codegen import loader, numba_cuda
from .codegen.module import assemble
from .errors import warn_at
from .layer import BoundLayer, LayerKind, bound_layer
from .specialize import specialize
from .transforms import alias, anf, cflow, checks, dce, desugar, einsum, nep50

PIPELINES = {
    "jit": ("specialize", "desugar", "nep50", "checks"),
    "grad": ("specialize", "desugar", "cflow", "anf", "alias", "reverse", "dce", "checks"),
    "ad": ("specialize", "desugar", "cflow", "anf", "alias", "embedded", "layers", "dce", "checks"),
}
# A program that calls a derivative transformation (`tp.grad(loss)(b)` inside
# a jitted function) needs ANF for it: its jit pipeline becomes this one.
_JIT_EMBEDDED = ("specialize", "desugar", "cflow", "anf", "alias", "embedded", "in_place", "dce", "checks")
_PER_FUNCTION = {"desugar": desugar.run, "checks": checks.run, "cflow": cflow.run, "anf": anf.run,
                 "alias": alias.run,
                 "dce": dce.run}


def _reverse(program, options):
    wrt = options.get("wrt") or program.entry.dyn_params[:1]   # like grad's argnums=0
    if program.embedded:    # calls a transformation: forward mode over it, same (value, grads) result
        if options.get("mode") == "vjp":
            raise NotImplementedError("vjp of a function that calls a derivative transformation")
        _embedded(program, options)
        layer = BoundLayer(LayerKind.VALUE_AND_GRAD, wrt, argnums_int=False,
                           has_aux=options.get("has_aux", False))
        program.entry_name = compose.build(program, program.entry, [layer], {}).gen_name
        program.entry_extra_params = []
        return
    grad = reverse.run(program, wrt, options.get("mode", "grad"),
                       options.get("has_aux", False))
    program.entry_name = grad.gen_name
    program.entry_extra_params = ["_g"] if options.get("mode") == "vjp" else []


def _layers(program, options):
    compose.run(program, [bound_layer(layer) for layer in options["layers"]])


def _embedded(program, options):
    """Generate the derivative layers of every `Embedded` call and point the
    call at the result (transpile/compose.py)."""
    if not program.embedded:
        return
    registry = {}
    for emb in program.embedded:
        compose.build(program, emb.callee, emb.layers, registry, name=emb.name)
        emb.call.args = list(emb.call.args) + list(emb.extra_args)


_PER_PROGRAM = {"reverse": _reverse, "layers": _layers, "embedded": _embedded}


class Generated:
    """A generated, imported module and what the dispatcher needs of it."""

    def __init__(self, program, text, table, path, module, transform, backend):
        self.program = program
        self.text = text
        self.table = table
        self.path = path
        self.module = module
        self.transform = transform
        self.backend = backend
        entry = program.entry
        name = getattr(program, "entry_name", entry.gen_name)
        self.entry = getattr(module, name) if module is not None else None
        self.params = list(entry.dyn_params)
        self.hidden = [h for _, h in entry.hidden.values()]
        self.guards = list(program.guards.values())
        self.trees = False          # pytree arguments (the dispatcher flattens them)
        self.out_tree = None        # a returned pytree's structure (the dispatcher rebuilds it)
        self.kinds = None           # plain jit, numba: the python_kinds of arguments this code is for (api.py)
        self.np_random = False      # calls np.random.*: the dispatcher shares NumPy's generator state
        self.numba_jit = False      # plain jit, numba: the dispatcher applies transpile/numpy_semantics.py


def _print_after():
    value = os.environ.get("TRANSPILE_PRINT_AFTER", "")
    return {p.strip() for p in value.split(",") if p.strip()}


def generate(fn, statics, bound_self=None, transform="jit", backend="numba", stop_after=None,
             options=None):
    """Run the pipeline; return (program, text, LineTable) without loading."""
    show = _print_after()
    program = specialize(fn, statics, bound_self)
    passes = PIPELINES[transform]
    if transform == "jit" and program.embedded:
        passes = _JIT_EMBEDDED
        if backend == "numba":      # no nep50 pass there: say so where the transformation is called
            spec = program.entry
            call = program.embedded[0].call
            warn_at("a derivative transformation called inside jitted code: this function keeps Numba's "
                    "promotion of Python numbers (float64 for a float32 array times a Python float), not "
                    "NumPy 2's; call the transformation outside, or cast explicitly",
                    spec.src.location(call if getattr(call, "lineno", None) else spec.node))
    if backend == "cuda":       # the kernel pass stands where the vmap layer would be
        passes = numba_cuda.passes(transform, passes)
    for name in passes:
        if name in _PER_FUNCTION:
            for spec in list(program.functions) + list(getattr(program, "extra", ())):
                _PER_FUNCTION[name](program, spec)
        elif name == "in_place":    # the user's functions only, not the derivatives made from them
            for spec in program.functions:
                anf.restore_in_place(program, spec)
        elif name == "kernel":
            compose.kernel_pass(program, transform, options or {})
        elif name == "nep50":
            if backend == "numba":      # NumPy runs the 'python' backend's code: already NumPy's rules
                nep50.run(program, options or {})
        elif name in _PER_PROGRAM:
            _PER_PROGRAM[name](program, options or {})
        if name == "desugar" and transform == "jit" and backend != "python":
            einsum.warn_views(program)      # Numba's einsum copies where NumPy's gives a view
        if name in show or name == stop_after:
            text, _ = _assemble(program, transform, backend)
            if name in show:
                print(f"# ---- transpile: after {name} ----\n{text}", file=sys.stderr)
            if name == stop_after:
                return program, text, None
    text, table = _assemble(program, transform, backend)
    return program, text, table


def _assemble(program, transform, backend):
    if backend == "cuda" and hasattr(program, "cuda_plan"):    # transpile/codegen/numba_cuda.py
        return numba_cuda.assemble(program, transform)
    return assemble(program, transform, backend)


def build(fn, statics, bound_self=None, transform="jit", backend="numba", options=None):
    """Generate, write and import; return a `Generated`."""
    program, text, table = generate(fn, statics, bound_self, transform, backend, options=options)
    entry = program.entry
    kind = (options or {}).get("mode", transform)
    stem = loader.file_stem(entry.src.module, entry.src.qualname, kind, backend, text)
    path = loader.write(stem, text)
    module = loader.load(stem, path)
    return Generated(program, text, table, path, module, transform, backend)


# vmap (transpile/batching): what `transpile show f.py:g --vmap` prints, every
# dynamic argument mapped along axis 0 (tp.vmap itself runs the "ad" pipeline
# with a layer of kind "vmap").
def _vmap(program, options):
    layer = options.get("vmap_layer") or BoundLayer(
        LayerKind.VMAP, axes={p: 0 for p in program.entry.dyn_params}, ranks=options.get("ranks", {}),
        out_axes=0, axis_size=None, strategy=options.get("strategy", "auto"))
    compose.run(program, [bound_layer(layer)])


PIPELINES["vmap"] = tuple("vmap" if p == "layers" else p for p in PIPELINES["ad"])
_PER_PROGRAM["vmap"] = _vmap
