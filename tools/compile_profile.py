"""Compile latency (not a test): where the seconds of a first call go.

    python tools/compile_profile.py                   every workload, cold caches
    python tools/compile_profile.py --only selu,mlp_grad
    python tools/compile_profile.py --warm            the disk-cache path: a second
                                                      process on the same cache dirs
    python tools/compile_profile.py --list            the workloads
    python tools/compile_profile.py --json [FILE]     the numbers as JSON (stdout: -)

Each workload runs in ONE fresh `python` process with empty, private
TRANSPILE_CACHE_DIR and NUMBA_CACHE_DIR (so imports and caches are cold). With
`--warm` it runs twice on the same directories and the second run is reported:
generation again, then Numba's disk cache instead of a compile.

The child process times, from just before `import numpy` to the end of the
first call of the transpiled function (the workload's setup, which builds the
arguments, is left out), and splits that time into exclusive phases: a
phase's time stops counting while a phase nested in it runs (a callee's
compile inside typing counts as the callee's typing, lowering...), so the
parts add up to the total and "other" is the rest. How each is measured:

  import numpy/transpile/numba/scipy   module execution, timed by wrapping
        importlib's `_load_unlocked` (every import statement and
        `importlib.import_module` goes through it). A module counts for the
        package it belongs to (numba: numba and llvmlite; transpile: transpile
        and runtime); any other module (the standard library...) counts for the
        package whose import pulled it in, else for "other". Imports happen
        where the code first needs them (Numba: when the generated module is
        executed; SciPy: inside `import numba`, whose `_ensure_critical_deps`
        imports it when installed; counted apart from Numba's own).
  generate     `transpile.pipeline.build`: the pipeline (`generate`) plus
        writing the file and executing the generated module (`@njit` only
        wraps it; JSON: "generate" and "write_load" apart)
  typing       Numba's type inference pass (`nopython_type_inference` and
        `partial_type_inference`, from the `numba:run_pass` events)
  lowering     Numba's `native_lowering` pass: LLVM IR generation
  llvm opt     LLVM's function and module optimisation passes (patched
        `CPUCodeLibrary._optimize_functions` and `_optimize_final_module`)
  llvm cg      the rest of `CPUCodeLibrary.finalize`: linking the callees'
        modules in, verifying, and machine code (MCJIT's `finalize_object`);
        JSON: "llvm_link" and "llvm_codegen"
  cache load   Numba's `Cache.load_overload`: index lookup and, on a hit,
        unpickling and linking the cached object code
  cache save   Numba's `Cache.save_overload` (cold runs write the cache)
  numba other  the rest of Numba's compiler: its other passes (bytecode, IR,
        rewrites, inlining, the backend), a dispatcher's own compile work
        (the `numba:compile` event) and registry refreshes
  other        total minus the above: interpreter work between phases,
        transpile's dispatch, imports of no named package, one run of the
        compiled code

  compiled     dispatchers Numba compiled (`numba:compile` events: a cache
        miss of a `@njit` function or an `@overload`/`register_jitable`
        implementation); gen: of which transpile's generated functions, rt:
        its runtime's (runtime/, transpile/; the rest are Numba's own);
        loaded: functions loaded from Numba's disk cache. JSON also gives
        "pipelines" (type inference runs, compile_internal subroutines
        included) and the compiled functions by name.

A workload is an entry of WORKLOADS, added with `register(...)`:

    @register("name", "what it is")
    def _setup(tp, np):
        return call, args           # call(*args) is timed: e.g. tp.jit(f), (x,)

The setup runs in the child after numpy and transpile are imported; it may
import the other tools (tools/ is on sys.path), e.g. `from bench import selu`.
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.dirname(os.path.abspath(__file__))
_RESULT = "COMPILE_PROFILE_RESULT "

WORKLOADS = {}


def register(name, what):
    """Decorator: register `setup(tp, np) -> (call, args)` as workload `name`."""
    def deco(setup):
        WORKLOADS[name] = (what, setup)
        return setup
    return deco


# -- workloads (their functions live in the other tools) --------------------------
@register("selu", "tp.jit(selu), 1e6 float64 (tools/bench.py)")
def _selu(tp, np):
    from bench import selu
    return tp.jit(selu), (np.random.default_rng(0).normal(size=1_000_000),)


@register("mlp_grad", "tp.jit(tp.grad(mlp_loss, argnums=(0,1,2,3))), 16-64-1 (tools/bench_grad.py)")
def _mlp_grad(tp, np):
    from bench_grad import _setups
    fn, args, argnums = _setups()["mlp_loss"]
    return tp.jit(tp.grad(fn, argnums=argnums)), args


@register("fnn_step", "tp.jit(step): lecture FNN 1-128-128-1 SGD step, pytrees (tools/bench_pytrees.py)")
def _fnn_step(tp, np):
    import bench_pytrees as bp
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(128, 1))
    return tp.jit(bp.step), (bp._fnn_params(rng), x, x ** 2)


@register("hessian50", "tp.jit(tp.hessian(rosen50)), 50-d (tools/bench_jac.py)")
def _hessian50(tp, np):
    from bench_jac import rosen50
    return tp.jit(tp.hessian(rosen50)), (np.random.default_rng(2).normal(size=50),)


# -- the child process: exclusive phase timing ------------------------------------
class Phases:
    """Exclusive time per phase: a stack of open phases; time is charged to
    the innermost one. Within a cache load, LLVM phases count as cache load."""

    def __init__(self):
        self.totals = {}
        self.stack = []
        self.last = time.perf_counter()

    def _charge(self, now):
        if self.stack:
            top = self.stack[-1]
            self.totals[top] = self.totals.get(top, 0.0) + now - self.last
        self.last = now

    def push(self, name):
        if name.startswith("llvm") and "cache_load" in self.stack:
            name = "cache_load"
        self._charge(time.perf_counter())
        self.stack.append(name)

    def pop(self):
        self._charge(time.perf_counter())
        self.stack.pop()

    def timed(self, phase, fn, after=None):
        """`fn` wrapped to run as `phase` (a name, or a function of the arguments)."""
        def wrapper(*args, **kwargs):
            self.push(phase(*args) if callable(phase) else phase)
            try:
                result = fn(*args, **kwargs)
                if after is not None:
                    after(result, *args)
                return result
            finally:
                self.pop()
        wrapper.__wrapped__ = fn
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper

    def patch(self, owner, attr, phase, after=None):
        setattr(owner, attr, self.timed(phase, getattr(owner, attr), after))


_PACKAGES = {"numpy": "import_numpy", "transpile": "import_transpile", "runtime": "import_transpile",
             "numba": "import_numba", "llvmlite": "import_numba", "scipy": "import_scipy"}
_PASSES = {"nopython_type_inference": "typing", "partial_type_inference": "typing",
           "native_lowering": "lowering"}


class Recorder:
    """What the child process records: phases, compiled functions, cache hits."""

    def __init__(self):
        self.phases = Phases()
        self.compiled = {}          # "module:qualname" -> compiles
        self.pipelines = 0
        self.cache_hits = 0
        self.numba_hooked = False

    def install_imports(self):
        import importlib._bootstrap as bootstrap
        load = bootstrap._load_unlocked
        phases = self.phases

        def category(spec):
            cat = _PACKAGES.get(spec.name.partition(".")[0])
            if cat is None:     # a module of no named package: the importer's
                cat = next((p for p in reversed(phases.stack) if p.startswith("import_")),
                           "import_other")
            return cat

        def after(module, spec):
            if spec.name == "numba" and not self.numba_hooked:
                self.install_numba()        # its own imports count as import numba

        bootstrap._load_unlocked = phases.timed(category, load, after)

    def install_numba(self):
        """Numba's events (passes, dispatcher compiles) and patches (LLVM, cache)."""
        self.numba_hooked = True
        from numba.core import base, caching, codegen
        from numba.core import event as ev
        phases = self.phases
        recorder = self

        class PassListener(ev.Listener):
            def on_start(self, event):
                name = event.data["name"].split(" [", 1)[0]
                if name == "nopython_type_inference":
                    recorder.pipelines += 1
                phases.push(_PASSES.get(name, "numba_other"))

            def on_end(self, event):
                phases.pop()

        class CompileListener(ev.Listener):
            def on_start(self, event):
                func = getattr(event.data["dispatcher"], "py_func", None)
                key = (f"{getattr(func, '__module__', '?')}:"
                       f"{getattr(func, '__qualname__', repr(event.data['dispatcher']))}")
                recorder.compiled[key] = recorder.compiled.get(key, 0) + 1
                phases.push("numba_other")

            def on_end(self, event):
                phases.pop()

        ev.register("numba:run_pass", PassListener())
        ev.register("numba:compile", CompileListener())

        def hit(result, *args):
            if result is not None:
                self.cache_hits += 1

        lib = codegen.CPUCodeLibrary
        phases.patch(lib, "_optimize_functions", "llvm_opt")
        phases.patch(lib, "_optimize_final_module", "llvm_opt")
        phases.patch(lib, "finalize", "llvm_link")
        phases.patch(lib, "_get_module_for_linking", "llvm_link")
        phases.patch(codegen.JITCodeLibrary, "_finalize_specific", "llvm_codegen")
        phases.patch(caching.Cache, "load_overload", "cache_load", hit)
        phases.patch(caching.Cache, "save_overload", "cache_save")
        phases.patch(base.BaseContext, "refresh", "numba_other")

    def install_transpile(self):
        from transpile import pipeline
        self.phases.patch(pipeline, "build", "write_load")
        self.phases.patch(pipeline, "generate", "generate")


def child(name):
    """Run workload `name` in this (fresh) process; print its numbers as JSON."""
    sys.path[:0] = [TOOLS, ROOT]        # this checkout's transpile, and the other tools
    rec = Recorder()
    rec.install_imports()
    t0 = time.perf_counter()
    import numpy as np
    import transpile as tp
    rec.install_transpile()
    if "numba" in sys.modules and not rec.numba_hooked:
        rec.install_numba()
    before = dict(rec.phases.totals)    # the setup (and what it imports) is left out
    t_setup = time.perf_counter()
    rec.phases.push("setup")
    call, args = WORKLOADS[name][1](tp, np)
    rec.phases.pop()
    setup = time.perf_counter() - t_setup
    skip = {k: v - before.get(k, 0.0) for k, v in rec.phases.totals.items()}
    call(*args)
    total = time.perf_counter() - t0 - setup
    phases = {k: v - skip.get(k, 0.0) for k, v in rec.phases.totals.items() if k != "setup"}
    counts = dict(compiled=sum(rec.compiled.values()), pipelines=rec.pipelines,
                  cache_hits=rec.cache_hits)
    compiled_names = dict(sorted(rec.compiled.items()))
    start = time.perf_counter()
    call(*args)
    second = time.perf_counter() - start
    print(_RESULT + json.dumps(dict(
        name=name, total=total, phases=phases, setup=setup, second_call=second,
        scipy_imported="scipy" in sys.modules, compiled_functions=compiled_names, **counts)))
    return 0


# -- the parent: one fresh process per workload ------------------------------------
def _run_child(name, cache):
    import subprocess
    env = dict(os.environ, TRANSPILE_CACHE_DIR=os.path.join(cache, "transpile"),
               NUMBA_CACHE_DIR=os.path.join(cache, "numba"))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name],
                         env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(_RESULT)]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"profile run of {name} failed (exit {out.returncode}):\n"
                           f"{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    result = json.loads(lines[-1][len(_RESULT):])
    result["process"] = wall
    return result


# Table columns: (header, JSON phases added up)
COLUMNS = [
    ("numpy", ("import_numpy",)),
    ("transpile", ("import_transpile",)),
    ("numba", ("import_numba",)),
    ("scipy", ("import_scipy",)),
    ("generate", ("generate", "write_load")),
    ("typing", ("typing",)),
    ("lowering", ("lowering",)),
    ("llvm opt", ("llvm_opt",)),
    ("llvm cg", ("llvm_link", "llvm_codegen")),
    ("cache ld", ("cache_load",)),
    ("cache sv", ("cache_save",)),
    ("nb other", ("numba_other",)),
]


def _origin(key):
    """Where a compiled function ("module:qualname") comes from."""
    module = key.partition(":")[0]
    if module.startswith("transpile_gen_"):
        return "generated"
    if module.partition(".")[0] in ("runtime", "transpile"):
        return "runtime"
    if module.partition(".")[0] == "numba":
        return "numba"
    return "other"


def breakdown(name, warm=False):
    """The numbers of workload `name`: a fresh process (cold caches), or with
    `warm` the second of two processes sharing their cache directories.

    A dict: name, mode, total (seconds), parts ({column: seconds}, "other"
    included; they add up to total), phases (the finer split), compiled,
    generated (of them transpile's), by_origin ({generated, runtime, numba,
    other}: compiles by where the function comes from), pipelines, cache_hits, compiled_functions,
    second_call, process (the whole child's wall time), scipy_imported.
    """
    import tempfile
    with tempfile.TemporaryDirectory(prefix="transpile-cprof-") as cache:
        first = _run_child(name, cache)
        result = _run_child(name, cache) if warm else first
    parts = {col: sum(result["phases"].get(p, 0.0) for p in keys) for col, keys in COLUMNS}
    parts["other"] = result["total"] - sum(parts.values())
    result["parts"] = parts
    result["mode"] = "warm" if warm else "cold"
    by_origin = {"generated": 0, "runtime": 0, "numba": 0, "other": 0}
    for key, n in result["compiled_functions"].items():
        by_origin[_origin(key)] += n
    result["by_origin"] = by_origin
    result["generated"] = by_origin["generated"]
    if warm:
        result["first_process_total"] = first["total"]
    return result


def _machine():
    import platform
    parts = [platform.processor() or platform.machine(), f"{os.cpu_count()} cores",
             f"Python {platform.python_version()}"]
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {os.getloadavg()[0]:.2f}")
    return ", ".join(parts)


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def report(results, warm):
    print(f"# {_machine()}")
    print(f"# first call in a fresh process, imports included, seconds; "
          f"{'warm: Numba disk cache from an earlier process' if warm else 'cold: empty caches'}")
    header = ["workload", "total"] + [c for c, _ in COLUMNS] + ["other", "compiled", "gen", "rt", "loaded"]
    rows = []
    for r in results:
        rows.append([r["name"], f"{r['total']:.3f}"]
                    + [f"{r['parts'][c]:.3f}" for c, _ in COLUMNS] + [f"{r['parts']['other']:.3f}"]
                    + [r["compiled"], r["generated"], r["by_origin"]["runtime"], r["cache_hits"]])
    _table(header, rows)
    print("""
  numpy..scipy  import time (module execution, exclusive; stdlib modules count for the package
                that imported them; SciPy is imported by `import numba` itself)
  generate      transpile.pipeline.build: generate + write + exec the generated module
  typing        Numba type inference     lowering  Numba native lowering (LLVM IR generation)
  llvm opt      LLVM optimisation passes  llvm cg  linking callees in, machine code (MCJIT)
  cache ld/sv   Numba's disk cache: load (lookup; on a hit, unpickle and link) / save
  nb other      Numba's other passes, dispatcher and registry work
  other         total minus the rest (dispatch, unnamed imports, one run of the compiled code)
  compiled      functions Numba compiled (dispatcher compiles: @njit and @overload implementations);
                gen: of them transpile's generated functions; rt: transpile's runtime helpers
                (the rest are Numba's own); loaded: functions loaded from Numba's disk cache""")
    for r in results:
        print(f"  {r['name']}: {WORKLOADS[r['name']][0]}"
              + ("; SciPy imported" if r["scipy_imported"] else ""))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:         # before argparse: the child imports as little as it can
        return child(argv[1])
    import argparse
    parser = argparse.ArgumentParser(description="Where the seconds of a first call go.")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="run only these workloads")
    parser.add_argument("--warm", action="store_true",
                        help="report a second process on the same cache dirs (Numba's disk cache)")
    parser.add_argument("--list", action="store_true", help="list the workloads")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="write the numbers as JSON to FILE (default: stdout, no table)")
    ns = parser.parse_args(argv)
    if ns.list:
        for name, (what, _) in WORKLOADS.items():
            print(f"{name:10s} {what}")
        return 0
    names = list(WORKLOADS)
    if ns.only:
        names = [n.strip() for n in ns.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    results = [breakdown(name, ns.warm) for name in names]
    if ns.json == "-":
        json.dump(results, sys.stdout, indent=1)
        print()
        return 0
    if ns.json:
        with open(ns.json, "w") as fh:
            json.dump(results, fh, indent=1)
    report(results, ns.warm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
