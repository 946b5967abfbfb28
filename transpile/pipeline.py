"""Named pipelines: the order of passes, in one place.

    jit:  specialize -> desugar -> checks -> codegen

`TRANSPILE_PRINT_AFTER=specialize,desugar` prints the module's source after
those passes (to stderr), as Numba's `NUMBA_DEBUG_*` variables do.
"""
import os
import sys

from .codegen import loader
from .codegen.module import assemble
from .specialize import specialize
from .transforms import checks, desugar

PIPELINES = {
    "jit": ("specialize", "desugar", "checks"),
}
_PER_FUNCTION = {"desugar": desugar.run, "checks": checks.run}


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
        self.entry = getattr(module, entry.gen_name) if module is not None else None
        self.params = list(entry.dyn_params)
        self.hidden = [h for _, h in entry.hidden.values()]
        self.guards = list(program.guards.values())


def _print_after():
    value = os.environ.get("TRANSPILE_PRINT_AFTER", "")
    return {p.strip() for p in value.split(",") if p.strip()}


def generate(fn, statics, bound_self=None, transform="jit", backend="numba", stop_after=None):
    """Run the pipeline; return (program, text, LineTable) without loading."""
    show = _print_after()
    program = specialize(fn, statics, bound_self)
    passes = PIPELINES[transform]
    for name in passes:
        if name in _PER_FUNCTION:
            for spec in program.functions:
                _PER_FUNCTION[name](program, spec)
        if name in show or name == stop_after:
            text, _ = assemble(program, transform, backend)
            if name in show:
                print(f"# ---- transpile: after {name} ----\n{text}", file=sys.stderr)
            if name == stop_after:
                return program, text, None
    text, table = assemble(program, transform, backend)
    return program, text, table


def build(fn, statics, bound_self=None, transform="jit", backend="numba"):
    """Generate, write and import; return a `Generated`."""
    program, text, table = generate(fn, statics, bound_self, transform, backend)
    entry = program.entry
    stem = loader.file_stem(entry.src.module, entry.src.qualname, transform, backend, text)
    path = loader.write(stem, text)
    module = loader.load(stem, path)
    return Generated(program, text, table, path, module, transform, backend)
