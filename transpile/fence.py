"""Fence: reject what transpile does not support, before any work is done.

Runs on the user's parsed function. Each rejected construct raises
`UnsupportedSyntaxError` at the user's file and line, with the reason and,
where there is one, what to write instead::

    def f(x):
        with open("log") as fh:     # UnsupportedSyntaxError: `with` statements
            ...                     #   are not supported (f.py, line 2)

Invariant established: the function body contains no `with`, `try`,
`yield`, `await`/`async`, `class`, `nonlocal`, `global` assignment, `del` or
`import` statement, and no `match`.
"""
import gast

from .errors import UnsupportedSyntaxError

_REJECT = {
    gast.With: "`with` statements are not supported in transformed functions",
    gast.AsyncWith: "`async with` is not supported",
    gast.Try: "`try`/`except` is not supported in transformed functions; "
              "check values with `if` and `raise` instead",
    gast.Yield: "generators (`yield`) are not supported",
    gast.YieldFrom: "generators (`yield from`) are not supported",
    gast.Await: "`await` is not supported",
    gast.AsyncFunctionDef: "`async def` is not supported",
    gast.AsyncFor: "`async for` is not supported",
    gast.ClassDef: "defining a class inside a transformed function is not supported; "
                   "define it at module level",
    gast.Nonlocal: "`nonlocal` is not supported: a transformed function cannot rebind "
                   "variables of an enclosing function; return the new value instead",
    gast.Delete: "`del` is not supported in transformed functions",
    gast.Import: "`import` inside a transformed function is not supported; import at module level",
    gast.ImportFrom: "`import` inside a transformed function is not supported; import at module level",
}
if hasattr(gast, "TryStar"):
    _REJECT[gast.TryStar] = _REJECT[gast.Try]
if hasattr(gast, "Match"):
    _REJECT[gast.Match] = "`match` statements are not supported; use if/elif"


def check(src):
    """Raise `UnsupportedSyntaxError` on the first unsupported construct of `src`."""
    fn = src.node
    if isinstance(fn, gast.AsyncFunctionDef):
        raise UnsupportedSyntaxError(_REJECT[gast.AsyncFunctionDef], src.location(fn))
    _nested_defs_as_lambdas(src)
    declared_global = {}
    for node in _walk_body(fn):
        kind = type(node)
        if kind in _REJECT:
            raise UnsupportedSyntaxError(_REJECT[kind], src.location(node))
        if kind is gast.Global:
            for name in node.names:
                declared_global[name] = node
    if declared_global:
        for node in _walk_body(fn):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) \
                    and node.id in declared_global:
                raise UnsupportedSyntaxError(
                    f"assigning to the global `{node.id}` is not supported: a transformed "
                    f"function cannot change module state; return the new value instead",
                    src.location(node))


def _nested_defs_as_lambdas(src):
    """`def g(y): return e` inside the function becomes `g = lambda y: e` (inlined at its calls,
    reading the enclosing function's variables as Python's closure does). Other nested
    definitions are refused."""
    def visit(stmts):
        for k, stmt in enumerate(stmts):
            if isinstance(stmt, gast.FunctionDef):
                body = stmt.body
                if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
                        and isinstance(body[0].value.value, str):
                    body = body[1:]     # a docstring
                args = stmt.args
                if len(body) != 1 or not isinstance(body[0], gast.Return) or body[0].value is None \
                        or stmt.decorator_list or args.vararg or args.kwarg or args.kwonlyargs:
                    raise UnsupportedSyntaxError(
                        f"a function defined inside another (`def {stmt.name}`) is supported when its "
                        f"body is one `return` expression; define `{stmt.name}` at module level and pass "
                        f"what it reads as arguments", src.location(stmt))
                lam = gast.Lambda(args=args, body=body[0].value)
                new = gast.Assign(targets=[gast.Name(id=stmt.name, ctx=gast.Store(), annotation=None,
                                                     type_comment=None)], value=lam, type_comment=None)
                gast.copy_location(new, stmt)
                gast.copy_location(lam, stmt)
                stmts[k] = new
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    visit(inner)
    visit(src.node.body)


def _walk_body(fn):
    for stmt in fn.body:
        yield from gast.walk(stmt)
