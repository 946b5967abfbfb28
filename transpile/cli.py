"""The `transpile` command (also `python -m transpile`).

    transpile show model.py:loss                 generated source of jit(loss)
    transpile show model.py:Net.forward --args "np.ones((4, 3)), 0.5"
    transpile show model.py:loss --after desugar the source after one pass
    transpile cache info | clear                 the generated-file cache
    transpile demo                               jit a NumPy function, time it

`show` loads FILE.py as a module (its directory on `sys.path`, so its own
imports work), finds FUNC (dotted: `Class.method`), binds example arguments
and prints what the pipeline generates for that call. Generated code depends
on the call's signature: which arguments are static (functions, strings,
objects: their values are folded into the code) and, for transformations
that look at them, the dtype and ndim of arrays. Without `--args`, every
parameter without a default gets the float64 scalar `1.0` and parameters with
a default keep it. `--args` is a Python argument list (positional and
keyword) evaluated with `np`, `numpy`, `math` and the module's own globals in
scope. For a method, `self` is the first argument of `--args` when that is
an instance of the class, else `Class()`.

A transformation flag (`--jit`, `--grad`, ...) exists for each named
pipeline in `transpile.pipeline.PIPELINES`, so new transformations appear
here when they are registered.

Exit codes: 0 success, 1 a `TranspileError` (printed as `file:line: message`)
or an error raised while importing FILE.py, 2 a usage error.
"""
import argparse
import importlib
import importlib.util
import inspect
import math
import os
import sys

import numpy as np

from . import pipeline
from ._version import __version__
from .api import _key_of  # the dispatcher's own rule: `statics_of` shows what a call would run
from .codegen import loader
from .errors import TranspileError
from .layer import BoundLayer, LayerKind
from .source import as_function
from .values import _DYN

BACKENDS = ("numba", "python", "cuda")
DEFAULT_ARG = 1.0  # the example value of a parameter without a default


class UsageError(Exception):
    """A mistake on the command line: reported, exit status 2."""


# -- parser ---------------------------------------------------------------------
#: derivative operators shown through the "ad" pipeline: flag -> layers (kinds)
_LAYERED = {"jvp": "forward mode, jvp", "jacfwd": "jacfwd", "jacrev": "jacrev",
            "hessian": "hessian = jacfwd(jacrev)"}


def _layers_for(transform, dyn_params):
    K = LayerKind
    kinds = {"jvp": [K.JVP], "jacfwd": [K.JACFWD], "jacrev": [K.JACREV],
             "hessian": [K.JACREV, K.JACFWD]}[transform]
    wrt = list(dyn_params) if transform == "jvp" else list(dyn_params[:1])
    return [BoundLayer(k, wrt) for k in kinds]


def _flag(transform):
    return "--" + transform.replace("_", "-")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="transpile",
        description="NumPy source in, generated Python/Numba source out.")
    parser.add_argument("--version", action="version", version=f"transpile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    show = sub.add_parser(
        "show", help="print the generated source of a function",
        description="Print the source transpile generates for FILE.py:FUNC.",
        epilog="Without --args each parameter without a default is the float64 scalar 1.0.")
    show.add_argument("target", metavar="FILE.py:FUNC",
                      help="a Python file and a function in it (dotted for methods: Class.method)")
    which = show.add_mutually_exclusive_group()
    for name in pipeline.PIPELINES:  # one flag per registered transformation
        if name == "ad":             # reached through the derivative flags below
            continue
        which.add_argument(_flag(name), dest="transform", action="store_const", const=name,
                           help=f"the {name} transformation" + (" (default)" if name == "jit" else ""))
    for name, what in _LAYERED.items():
        which.add_argument(_flag(name), dest="transform", action="store_const", const=name,
                           help=f"{what} (argument 0; jvp: every argument)")
    show.set_defaults(transform="jit")
    show.add_argument("--backend", choices=BACKENDS, default="numba",
                      help="code for Numba (default), plain Python + NumPy, or numba.cuda")
    show.add_argument("--after", metavar="PASS",
                      help="stop after this pass of the pipeline and print the source then")
    show.add_argument("--args", metavar="EXPR",
                      help='example arguments, e.g. "np.ones(3), 2.0, n=4" (numpy is np)')

    cache = sub.add_parser("cache", help="inspect or clear the generated-file cache",
                           description="The directory of generated files ($TRANSPILE_CACHE_DIR).")
    cache_sub = cache.add_subparsers(dest="action", metavar="ACTION")
    cache_sub.required = True
    cache_sub.add_parser("info", help="directory, number of files, size")
    cache_sub.add_parser("clear", help="remove generated files and Numba's cache of them")

    demo = sub.add_parser("demo", help="jit a small NumPy function, show its code and timings")
    demo.add_argument("--repeat", type=int, default=7, help="timing repeats (median reported)")
    demo.add_argument("-n", type=int, default=100_000, help="input length")
    return parser


# -- show -----------------------------------------------------------------------
def split_target(target):
    """'path/to/file.py:Class.method' -> ('path/to/file.py', 'Class.method')."""
    path, sep, func = target.rpartition(":")
    if not sep or not path or not func:
        raise UsageError(f"expected FILE.py:FUNC, got {target!r}")
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    return path, func


def _package_root(directory):
    """(root on sys.path, dotted package prefix) for a directory with __init__.py files."""
    parts = []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, name = os.path.split(directory)
        parts.insert(0, name)
    return directory, parts


def load_module(path):
    """Import FILE.py as a module, with its directory (and package root) on sys.path."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    if directory not in sys.path:
        sys.path.insert(0, directory)
    root, package = _package_root(directory)
    if package and stem.isidentifier():  # a module inside a package: relative imports work
        if root not in sys.path:
            sys.path.insert(0, root)
        name = ".".join(package + [stem])
        module = importlib.import_module(name)
        if os.path.abspath(getattr(module, "__file__", "") or "") == path:
            return module
    name = stem if stem.isidentifier() else "transpile_cli_module"
    existing = sys.modules.get(name)
    if existing is not None and os.path.abspath(getattr(existing, "__file__", "") or "") != path:
        name = f"transpile_cli_{abs(hash(path)):x}_{name}"  # do not shadow another module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def find_function(module, dotted):
    """(function object, owning class or None) for `dotted` in `module`."""
    obj, owner = module, None
    for i, part in enumerate(dotted.split(".")):
        if not hasattr(obj, part):
            where = ".".join(dotted.split(".")[:i]) or os.path.basename(module.__file__)
            names = [n for n, v in vars(obj).items()
                     if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                     and getattr(v, "__module__", module.__name__) == module.__name__]
            hint = f"; it defines: {', '.join(sorted(names))}" if names else ""
            raise UsageError(f"{where} has no attribute {part!r}{hint}")
        owner = obj if inspect.isclass(obj) else None
        static = inspect.getattr_static(obj, part) if owner is not None else None
        obj = getattr(obj, part)
    if owner is not None and isinstance(static, (staticmethod, classmethod)):
        owner = None  # no `self` to supply
    if not callable(obj):
        raise UsageError(f"{dotted} is a {type(obj).__name__}, not a function")
    return obj, owner


def parse_args_expr(expr, module):
    """Evaluate 'np.ones(3), 2.0, n=4' into (args tuple, kwargs dict)."""
    namespace = dict(vars(module))
    namespace.update(np=np, numpy=np, math=math)
    try:
        return eval(f"(lambda *a, **k: (a, k))({expr})", namespace)
    except Exception as exc:
        raise UsageError(f"--args {expr!r}: {type(exc).__name__}: {exc}") from None


def default_args(fn):
    """Example arguments: DEFAULT_ARG for each parameter without a default."""
    args, kwargs = [], {}
    for p in inspect.signature(fn).parameters.values():
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = DEFAULT_ARG
        else:
            args.append(DEFAULT_ARG)
    return args, kwargs


def statics_of(fn, args, kwargs):
    """The static part of a call's signature, as the dispatcher computes it."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return {name: value for name, value in bound.arguments.items() if _key_of(value) is not _DYN}


def show_source(target, transform="jit", backend="numba", after=None, args_expr=None):
    """The text `transpile show` prints."""
    options = None
    layered = transform in _LAYERED
    passes = pipeline.PIPELINES.get("ad" if layered else transform)
    if passes is None:
        raise UsageError(f"unknown transformation {transform!r}; "
                         f"available: {', '.join(pipeline.PIPELINES)}")
    if after is not None and after not in passes:
        raise UsageError(f"unknown pass {after!r} for {transform}; "
                         f"valid passes: {', '.join(passes)}")
    path, dotted = split_target(target)
    module = load_module(path)
    fn, owner = find_function(module, dotted)
    if args_expr is not None:
        args, kwargs = parse_args_expr(args_expr, module)
    else:
        args, kwargs = None, {}
    if owner is not None:  # an instance method: supply `self`
        if args and isinstance(args[0], owner):
            instance, args = args[0], args[1:]
        else:
            try:
                instance = owner()
            except Exception as exc:
                raise UsageError(
                    f"{dotted} is a method and {owner.__name__}() failed ({exc}); pass an "
                    f"instance as the first of --args, e.g. --args '{owner.__name__}(...), 1.0'"
                ) from None
        fn = getattr(instance, fn.__name__)

    plain, bound_self = as_function(fn)
    if args is None:
        args, kwargs = default_args(fn)
    if bound_self is not None:
        args = (bound_self,) + tuple(args)
    try:
        statics = statics_of(plain, args, kwargs)
    except TypeError as exc:
        if isinstance(exc, TranspileError):
            raise
        raise UsageError(f"--args do not fit {dotted}{inspect.signature(fn)}: {exc}") from None
    bound = inspect.signature(plain).bind(*args, **kwargs)
    bound.apply_defaults()
    # the ranks of the arguments shape batched code (vmap, and the Jacobians' vmap)
    ranks = {n: np.ndim(v) for n, v in bound.arguments.items() if n not in statics}
    if layered:
        dyn = [p for p in inspect.signature(plain).parameters if p not in statics]
        options = {"layers": [layer.replace(ranks=ranks) for layer in _layers_for(transform, dyn)]}
        transform = "ad"
    elif transform == "vmap":   # the arguments are one example
        options = {"ranks": ranks}
    _, text, _ = pipeline.generate(plain, statics, None, transform=transform, backend=backend,
                                   stop_after=after, options=options)
    return text


def format_error(exc):
    """`file:line: message` (and the source line) for a TranspileError."""
    loc = exc.location
    message = getattr(exc, "message", str(exc))
    if loc is None:
        return f"error: {message}"
    out = f"{loc.filename}:{loc.lineno}: {message}"
    if loc.text:
        out += f"\n    {loc.text}"
    return out


def _cmd_show(ns):
    try:
        text = show_source(ns.target, ns.transform, ns.backend, ns.after, ns.args)
    except TranspileError as exc:
        print(format_error(exc), file=sys.stderr)
        return 1
    except NotImplementedError as exc:  # a transformation's known gap
        print(f"error: not implemented yet: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


# -- cache ----------------------------------------------------------------------
def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _cmd_cache(ns):
    info = loader.info()
    if ns.action == "info":
        print(f"directory:        {info['dir']}")
        print(f"generated files:  {info['files']} ({_size(info['bytes'])})")
        if info["numba_cache_dir"]:
            print(f"numba cache:      in NUMBA_CACHE_DIR={info['numba_cache_dir']} (not counted)")
        else:
            print(f"numba cache files: {info['numba_files']} ({_size(info['numba_bytes'])})")
        return 0
    removed = loader.clear()
    print(f"removed {removed} generated files and {info['numba_files']} Numba cache files "
          f"from {info['dir']}")
    return 0


# -- demo -----------------------------------------------------------------------
def demo_path():
    """tools/demo.py of the source checkout this package runs from."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(here), "tools", "demo.py")


def run_demo(argv=()):
    """Import tools/demo.py as module `transpile_demo` and run its main(argv)."""
    path = demo_path()
    if not os.path.isfile(path):
        print(f"error: the demo is tools/demo.py of the source checkout, not found at {path} "
              f"(install with `pip install -e .` from a clone)", file=sys.stderr)
        return 1
    module = sys.modules.get("transpile_demo")
    if module is None:
        spec = importlib.util.spec_from_file_location("transpile_demo", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["transpile_demo"] = module
        spec.loader.exec_module(module)
    return module.main(list(argv))


def _cmd_demo(ns):
    return run_demo(["--repeat", str(ns.repeat), "-n", str(ns.n)])


# -- main -----------------------------------------------------------------------
COMMANDS = {"show": _cmd_show, "cache": _cmd_cache, "demo": _cmd_demo}


def main(argv=None):
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        return COMMANDS[ns.command](ns)
    except UsageError as exc:
        parser.exit(2, f"transpile {ns.command}: error: {exc}\n")
    except SyntaxError as exc:  # in the user's file, while importing it
        if exc.filename is None:
            raise
        parser.exit(1, f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
