"""The import structure of transpile/ and runtime/ (README, "Architecture").

Every `import` statement of every module is read with `ast` (nothing is
imported), and the graph of imports between the project's own modules must
keep four promises:

* no cycle, runtime included (`runtime/rules`: the registry is its own
  module, which the family modules import);
* every import of a project module sits at module level, where a reader
  sees it (none inside a function), but the few in `LAZY`;
* no module imports a module of a higher level of `LEVELS`, and the
  packages on a `SIBLINGS` line never import each other;
* `runtime/` never imports `transpile/`: generated code needs runtime only.

A new module needs a line in `LEVELS`: the failure says so.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("transpile", "runtime")

#: Highest level first. A module may import modules of its own level and of
#: the levels below it, never above. `pkg.*` is every module of a subpackage.
LEVELS = [
    ("entry points", "transpile  transpile.__main__  transpile.cli"),
    ("front doors", "transpile.ad_api  transpile.derivatives  transpile.vmap_api  transpile.random"),
    ("transformed", "transpile.transformed  transpile.reverse_mode  transpile.stack_mode  transpile.vmap_mode  "
                    "transpile.mode"),
    ("dispatcher", "transpile.api  transpile.derivative_values"),
    ("pipeline", "transpile.pipeline"),
    ("compose", "transpile.compose"),
    ("passes", "transpile.ad.*  transpile.batching.*  transpile.codegen.*"),
    ("staging", "transpile.specialize  transpile.calls  transpile.statics  transpile.mirrors  "
                "transpile.transforms.*"),
    ("program", "transpile.program  transpile.layer  transpile.source  transpile.resolve  transpile.fence  "
                "transpile.structure  transpile.to_source"),
    ("leaves", "transpile.errors  transpile.values  transpile.astutil  transpile.tree  transpile._version  "
               "transpile._malloc  transpile.numpy_semantics  transpile.naming"),
    ("runtime", "runtime  runtime.*"),
]

#: Packages of one level that never import each other.
SIBLINGS = [
    ("transpile.ad.*", "transpile.batching.*", "transpile.codegen.*"),
    ("transpile.specialize  transpile.calls  transpile.statics  transpile.mirrors", "transpile.transforms.*"),
]

#: Function-local imports kept on purpose: (importer, imported) -> why.
LAZY = {
    ("runtime.random", "runtime.random_kernels"):
        "the kernels are Numba functions: `import transpile` does not import Numba",
}


# -- reading the imports -------------------------------------------------------
def module_names(root):
    """{module name: path} of every module of `PACKAGES` under `root`."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


class Import:
    def __init__(self, source, target, line, local):
        self.source, self.target, self.line, self.local = source, target, line, local

    def __repr__(self):
        where = "inside a function" if self.local else "at module level"
        return f"{self.source}:{self.line} imports {self.target} {where}"


def _imported(module, path, node, modules):
    """The project modules an import statement imports."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if path.name != "__init__.py":
                base = base[:-1]
            base = base[:len(base) - node.level + 1]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module
        # `from package import name`: the submodule `name` if there is one
        names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                 for alias in node.names]
    out = []
    for name in names:
        while name and name not in modules:     # `import a.b.c` of a module; `from m import f` of m
            name = name.rpartition(".")[0]
        if name and name != module and name not in out:
            out.append(name)
    return out


def imports(root=ROOT):
    """Every import of a project module by a project module, as `Import`s."""
    modules = module_names(root)
    out = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))

        def walk(node, local):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in _imported(module, path, child, modules):
                        out.append(Import(module, target, child.lineno, local))
                walk(child, local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
        walk(tree, False)
    return modules, out


def cycles(edges):
    """(one cycle: modules, first == last; every module of the knot) per
    strongly connected component of more than one module (Tarjan's)."""
    graph = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append((_one_cycle(graph, component), sorted(component)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _one_cycle(graph, component):
    """A shortest cycle through the first module of `component`."""
    start = min(component)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for w in sorted(graph.get(path[-1], ())):
            if w == start:
                return path + [start]
            if w in component and w not in seen:
                seen.add(w)
                paths.append(path + [w])
    raise AssertionError("not a strongly connected component")


def _matches(module, pattern):
    if pattern.endswith(".*"):
        return module == pattern[:-2] or module.startswith(pattern[:-1])
    return module == pattern


def level_of(module):
    """(level, number from the bottom) of `module`, or None."""
    for k, (name, patterns) in enumerate(LEVELS):
        if any(_matches(module, p) for p in patterns.split()):
            return name, len(LEVELS) - k
    return None


def _sibling_group(module, groups):
    for k, group in enumerate(groups):
        if any(_matches(module, p) for p in group.split()):
            return k
    return None


def _explain(edges, found):
    cyc, knot = found
    lines = [f"    (a knot of {len(knot)} modules: {', '.join(knot)})"] if len(knot) > len(cyc) - 1 else []
    for a, b in zip(cyc, cyc[1:]):
        e = next(e for e in edges if e.source == a and e.target == b)
        lines.append(f"    {e}")
    return " -> ".join(cyc) + "\n" + "\n".join(lines)


# -- the promises ------------------------------------------------------------------
MODULES, EDGES = imports()


def test_no_import_cycle():
    found = cycles(EDGES)
    assert not found, "import cycles:\n" + "\n".join(_explain(EDGES, c) for c in found)


def test_rules_registry_has_no_cycle():
    """The registry of derivative and batching rules is a module of its own:
    the family modules (`elementwise`, `batching`, ...) import it, and the
    package `runtime.rules` imports them all."""
    rules = [e for e in EDGES if e.source.startswith("runtime.rules") and e.target.startswith("runtime.rules")]
    found = cycles(rules)
    assert not found, "cycles in runtime/rules:\n" + "\n".join(_explain(rules, c) for c in found)
    back = [e for e in rules if e.target == "runtime.rules"]
    assert not back, f"rule families import the package, not runtime.rules.registry: {back}"


def test_no_function_local_project_import():
    local = [e for e in EDGES if e.local and (e.source, e.target) not in LAZY]
    assert not local, "imports of project modules inside functions (move them to the top):\n" + \
        "\n".join(f"    {e}" for e in local)


def test_lazy_imports_are_still_needed():
    kept = {(e.source, e.target) for e in EDGES if e.local}
    assert set(LAZY) <= kept, f"LAZY names imports that are gone: {set(LAZY) - kept}"


def test_every_module_has_a_level():
    missing = sorted(m for m in MODULES if level_of(m) is None)
    assert not missing, f"modules without a level in tests/test_layers.py LEVELS: {missing}"


def test_no_import_goes_up():
    up = []
    for e in EDGES:
        source, target = level_of(e.source), level_of(e.target)
        if source and target and target[1] > source[1]:
            up.append(f"    {e}: level '{source[0]}' below '{target[0]}'")
    assert not up, "imports of a higher level:\n" + "\n".join(up)


def test_siblings_never_import_each_other():
    across = []
    for groups in SIBLINGS:
        for e in EDGES:
            a, b = _sibling_group(e.source, groups), _sibling_group(e.target, groups)
            if a is not None and b is not None and a != b:
                across.append(f"    {e}")
    assert not across, "imports between sibling packages:\n" + "\n".join(across)


def test_runtime_never_imports_transpile():
    bad = [e for e in EDGES if e.source.split(".")[0] == "runtime" and e.target.split(".")[0] == "transpile"]
    assert not bad, f"runtime/ imports the compiler: {bad}"


def test_the_checks_see_a_cycle_and_a_local_import(tmp_path):
    """The checks themselves, on a made-up project: a -> b -> a, b's import
    inside a function."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "transpile" / "a.py").write_text("from . import b\n")
    (tmp_path / "transpile" / "b.py").write_text("def f():\n    from .a import g\n")
    _, edges = imports(tmp_path)
    assert cycles(edges) == [(["transpile.a", "transpile.b", "transpile.a"], ["transpile.a", "transpile.b"])]
    assert [repr(e) for e in edges if e.local] == ["transpile.b:2 imports transpile.a inside a function"]
