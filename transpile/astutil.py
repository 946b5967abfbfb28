"""Building and inspecting gast nodes, in one place.

Passes build nodes through these helpers (or parse them from Python snippets
with `template`), never through gast's constructors directly, so a change in
gast's node signatures is fixed here once.
"""
import copy
import inspect
import textwrap

import gast


def name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def store(id_):
    return name(id_, gast.Store())


def param(id_):
    return name(id_, gast.Param())


def const(value):
    return gast.Constant(value=value, kind=None)


def attr(value, attr_name):
    if isinstance(value, str):
        value = name(value)
    return gast.Attribute(value=value, attr=attr_name, ctx=gast.Load())


def dotted(path):
    """`np.linalg.solve` -> the Attribute chain."""
    parts = path.split(".")
    node = name(parts[0])
    for part in parts[1:]:
        node = attr(node, part)
    return node


def call(func, args=(), keywords=()):
    if isinstance(func, str):
        func = dotted(func)
    if isinstance(keywords, dict):
        keywords = [gast.keyword(arg=k, value=v) for k, v in keywords.items()]
    kws = list(keywords)
    return gast.Call(func=func, args=list(args), keywords=kws)


def assign(target, value):
    if isinstance(target, str):
        target = store(target)
    return gast.Assign(targets=[target], value=value, type_comment=None)


def expr_stmt(value):
    return gast.Expr(value=value)


def tuple_(elts, ctx=None):
    return gast.Tuple(elts=list(elts), ctx=ctx or gast.Load())


def with_ctx(node, ctx):
    """A copy of a Name/Subscript/Attribute/Tuple load node with another ctx."""
    node = copy.deepcopy(node)
    node.ctx = ctx
    return node


def located(new, old):
    """Give `new` (and its children lacking one) the location of `old`."""
    gast.copy_location(new, old)
    for child in gast.walk(new):
        if not hasattr(child, "lineno") or child.lineno is None:
            if hasattr(old, "lineno"):
                child.lineno = old.lineno
                child.col_offset = getattr(old, "col_offset", 0)
    return new


def template(src, **subs):
    """Parse statements from `src`, replacing Name ids given in `subs`.

    A substitution is a node (deep-copied, with the placeholder's ctx) or a
    string (the new identifier).
    """
    tree = gast.parse(src)

    class _Sub(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id not in subs:
                return node
            new = subs[node.id]
            if isinstance(new, str):
                node.id = new
                return node
            new = copy.deepcopy(new)
            if hasattr(new, "ctx"):
                new.ctx = node.ctx
            return new

    tree = _Sub().visit(tree)
    return tree.body


def template_expr(src, **subs):
    (stmt,) = template(src, **subs)
    return stmt.value


def names_in(node, ctx=None):
    """Ids of Name nodes under `node` (optionally only with a given ctx class)."""
    return {n.id for n in gast.walk(node)
            if isinstance(n, gast.Name) and (ctx is None or isinstance(n.ctx, ctx))}


def is_const(node, types=(int, float, complex, bool, str)):
    return isinstance(node, gast.Constant) and isinstance(node.value, types)


def changed_in_place(node, call_args=False):
    """Names `node` may change in place: written through a subscript, an augmented
    assignment or a method call (`lst.append(v)`); with `call_args`, also names passed
    to a function called by name (which may write them)."""
    out = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store):
            base = n.value
            while isinstance(base, gast.Subscript):
                base = base.value
            if isinstance(base, gast.Name):
                out.add(base.id)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            out.add(n.target.id)
        elif isinstance(n, gast.Call):
            if isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
                out.add(n.func.value.id)        # x.sort(), lst.append(...)
            elif call_args and isinstance(n.func, gast.Name):
                out.update(a.id for a in n.args if isinstance(a, gast.Name))
    return out


def common_prefix(paths):
    """The longest tuple that starts every tuple of `paths` (block paths)."""
    common = paths[0]
    for p in paths[1:]:
        k = 0
        while k < min(len(common), len(p)) and common[k] == p[k]:
            k += 1
        common = common[:k]
    return common


def rule_body(fn):
    """(the `def`, its body without the docstring) of a rule template function
    (runtime/rules: derivative, tangent and batching rules), parsed from its source."""
    tree = gast.parse(textwrap.dedent(inspect.getsource(fn)))
    fdef = next(n for n in tree.body if isinstance(n, gast.FunctionDef))
    body = fdef.body
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        body = body[1:]
    return fdef, body
