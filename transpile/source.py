"""Source acquisition: a Python callable -> its gast FunctionDef.

Handles module functions, nested functions and closures, lambdas (the right
one on a line holding several), bound and unbound methods, decorated
functions (decorators are stripped; `__wrapped__` is followed), functions
whose source lives only in `linecache` (IPython/Jupyter cells), and NumPy
ufuncs or builtins passed directly (`tp.jit(np.sin)`), for which a one-line
wrapper is written and registered in `linecache` so errors can still point
at it.

Invariant established: `FunctionSource.node` is a `gast.FunctionDef` whose
`lineno` attributes are absolute line numbers in `FunctionSource.filename`.
"""
import ast
import builtins
import functools
import inspect
import linecache
import math
import textwrap
import types

import gast
import numpy as np

from .errors import Location, SourceUnavailableError


class FunctionSource:
    """A user function with its parsed source and the scopes it reads."""

    def __init__(self, fn, node, filename, qualname):
        self.fn = fn
        self.node = node
        self.filename = filename
        self.qualname = qualname
        self.name = node.name
        self.globals = fn.__globals__
        code = fn.__code__
        cells = fn.__closure__ or ()
        self.closure = dict(zip(code.co_freevars, cells))

    @property
    def module(self):
        return self.globals.get("__name__", "__main__")

    def line_text(self, lineno):
        return linecache.getline(self.filename, lineno).rstrip("\n")

    def location(self, node):
        lineno = getattr(node, "lineno", None) or self.node.lineno
        return Location(self.filename, lineno, self.line_text(lineno), self.qualname)

    def __repr__(self):
        return f"<FunctionSource {self.qualname} at {self.filename}:{self.node.lineno}>"


def unwrap(fn):
    """The plain Python function behind `fn`, and a bound `self` if any."""
    bound_self = None
    if isinstance(fn, (types.MethodType,)):
        bound_self, fn = fn.__self__, fn.__func__
    if isinstance(fn, (staticmethod, classmethod)):
        fn = fn.__func__
    fn = inspect.unwrap(fn)
    return fn, bound_self


@functools.lru_cache(maxsize=None)
def _wrapper_for_builtin(fn):
    """Write `def name(x): return np.name(x)` for a ufunc/builtin, in linecache."""
    name = getattr(fn, "__name__", None) or "f"
    if isinstance(fn, np.ufunc):
        params = ["x", "y", "z"][: fn.nin] if fn.nin <= 3 else [f"x{i}" for i in range(fn.nin)]
    else:
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            raise SourceUnavailableError(
                f"cannot transform {fn!r}: it has no Python source and no signature")
        params = []
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise SourceUnavailableError(
                    f"cannot transform {fn!r}: a builtin with a variable number of arguments")
            if p.default is not p.empty:
                break  # keep the required arguments only
            params.append(p.name)
    if getattr(np, name, None) is fn:
        target = f"np.{name}"
    elif getattr(math, name, None) is fn:
        target = f"math.{name}"
    elif getattr(builtins, name, None) is fn:
        target = name
    else:
        target = "_target"
    args = ", ".join(params)
    filename = f"<transpile wrapper of {target if target != '_target' else repr(fn)}>"
    text = f"def {name}({args}):\n    return {target}({args})\n"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"np": np, "math": math, "_target": fn, "__name__": "transpile.wrappers"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]


def _is_builtin_like(fn):
    if isinstance(fn, (np.ufunc, types.BuiltinFunctionType, types.BuiltinMethodType)):
        return True
    module = getattr(fn, "__module__", None) or ""
    return isinstance(fn, types.FunctionType) and module.split(".")[0] == "numpy"


def as_function(fn):
    """(Python function, bound self) for `fn`; builtins and ufuncs get a wrapper."""
    fn, bound_self = unwrap(fn)
    if _is_builtin_like(fn):
        fn = _wrapper_for_builtin(fn)
    return fn, bound_self


def get_source(fn):
    """Parse `fn` into a `FunctionSource`. Raises `SourceUnavailableError`."""
    fn, _ = as_function(fn)
    if not isinstance(fn, types.FunctionType):
        raise SourceUnavailableError(
            f"cannot transform {fn!r}: expected a Python function, lambda or method, "
            f"got {type(fn).__name__}")
    code = fn.__code__
    filename = code.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise SourceUnavailableError(
            f"cannot transform {fn.__qualname__}: its source is not available "
            f"(defined in {filename!r}, e.g. by exec or in an interactive session "
            f"without source). Define it in a file or a notebook cell.")
    if fn.__name__ == "<lambda>":
        node = _lambda_node(fn, lines)
    else:
        node = _def_node(fn, lines)
    return FunctionSource(fn, node, filename, fn.__qualname__)


def _parse_at(lines, start):
    """Parse the block starting at 0-based line `start`, growing until it parses."""
    first = lines[start]
    indent = len(first) - len(first.lstrip())
    block = [first]
    decorators = first.lstrip().startswith("@")   # decorators, then the def, at one indent
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and (len(line) - len(line.lstrip())) <= indent \
                and not stripped.startswith((")", "]", "}")):
            if decorators and (len(line) - len(line.lstrip())) == indent \
                    and stripped.startswith(("@", "def ", "async def ")):
                decorators = stripped.startswith("@")
                block.append(line)
                continue
            break
        block.append(line)
    # Trailing lines of a multi-line expression may be needed; grow until it parses.
    for extra in range(0, 40):
        text = textwrap.dedent("".join(block + lines[start + len(block): start + len(block) + extra]))
        for candidate in (text, "(" + text.strip() + "\n)"):
            try:
                return gast.parse(candidate)
            except SyntaxError:
                continue
    return None


def _def_node(fn, lines):
    start = fn.__code__.co_firstlineno - 1
    # co_firstlineno points at the first decorator, if any.
    tree = _parse_at(lines, start)
    fdefs = (gast.FunctionDef, gast.AsyncFunctionDef)
    defs = [n for n in (tree.body if tree else []) if isinstance(n, fdefs)]
    if not defs or defs[0].name != fn.__name__:
        # Fall back on inspect (handles odd layouts).
        try:
            text = textwrap.dedent(inspect.getsource(fn))
            tree = gast.parse(text)
            defs = [n for n in tree.body if isinstance(n, fdefs)]
        except (OSError, SyntaxError):
            defs = []
        if not defs:
            raise SourceUnavailableError(
                f"cannot find the source of {fn.__qualname__} in {fn.__code__.co_filename}")
    node = defs[0]
    node.decorator_list = []
    gast.increment_lineno(node, start)
    return node


def _lambda_node(fn, lines):
    start = fn.__code__.co_firstlineno - 1
    # The lambda's line may continue an earlier one: parse from up to 20 lines above.
    candidates = []
    for first in range(start, max(start - 20, 0) - 1, -1):
        tree = _parse_at(lines, first)
        if tree is not None:
            candidates = [n for n in gast.walk(tree)
                          if isinstance(n, gast.Lambda) and n.lineno + first == start + 1]
            if candidates:
                break
    if not candidates:
        raise SourceUnavailableError(
            f"cannot parse the line holding this lambda: {lines[start].strip()!r}")
    code = fn.__code__
    argnames = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    names_used = set(code.co_names) | set(code.co_freevars) | set(code.co_varnames)

    def signature(lam):
        args = [a.id for a in lam.args.args + lam.args.kwonlyargs]
        used, bound = set(), set()
        for n in gast.walk(lam.body):
            if isinstance(n, gast.Name):
                (bound if isinstance(n.ctx, (gast.Param, gast.Store)) else used).add(n.id)
        return args, used - bound

    matches = []
    for lam in candidates:
        args, used = signature(lam)
        if args == argnames and used <= names_used | set(dir(builtins)):
            matches.append(lam)
    if len(matches) > 1:
        # Several lambdas with the same arguments: pick by column.
        cols = [p[2] for p in code.co_positions()
                if p[0] == code.co_firstlineno and p[2] is not None and p[3] and p[3] > p[2]]
        if cols:
            col = min(cols)
            line = lines[start]
            offset = len(line) - len(line.lstrip())
            matches.sort(key=lambda lam: abs(col - offset - lam.body.col_offset))
    if not matches:
        raise SourceUnavailableError(
            f"cannot find this lambda in its line: {lines[start].strip()!r}")
    lam = matches[0]
    node = gast.FunctionDef(
        name="lambda_", args=lam.args,
        body=[gast.Return(value=lam.body)], decorator_list=[], returns=None,
        type_comment=None, type_params=[])
    gast.copy_location(node, lam)
    node.body[0].lineno = lam.lineno
    node.body[0].col_offset = lam.col_offset
    gast.fix_missing_locations(node)
    gast.increment_lineno(node, first)
    return node
