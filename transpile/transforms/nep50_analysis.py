"""NEP 50's analysis of one function (transpile/transforms/nep50.py): which
values are Python numbers.

A value's state is BOTTOM (nothing known yet), WEAK (a Python number),
STRONG (a NumPy value or anything else) or MIXED (either, depending on the
path), with the kind of a Python number ('b', 'i', 'f', 'c' or None).
`_Function` collects the sources of each local of one generated function
(assignments, loop targets, what is appended to a list) and solves their
states for given states of its parameters and of what its callees return;
`expr` gives the state of any expression. The fixed point across the
program's functions is in transforms/nep50_program.py.
"""
import math

import gast

from .. import astutil as A

_PY_KINDS = {bool: "b", int: "i", float: "f", complex: "c"}

# states of a value: BOTTOM (nothing known yet), WEAK (a Python number),
# STRONG (a NumPy value or anything else), MIXED (either, depending on the path)
BOTTOM, WEAK, STRONG, MIXED = "bottom", "weak", "strong", "mixed"

_INT_ATTRS = ("ndim", "size", "itemsize", "nbytes")
_MATH_INT = ("floor", "ceil", "trunc", "factorial", "gcd", "lcm", "isqrt", "comb", "perm")
_MATH_BOOL = ("isnan", "isinf", "isfinite", "isclose")


def join(a, b):
    """The state of a value that is either `a` or `b`."""
    if a == BOTTOM:
        return b
    if b == BOTTOM or a == b:
        return a
    return MIXED


def combine(states):
    """The state of an operation's result from its operands' states: NumPy's
    if any operand is NumPy's, a Python number if all are."""
    states = list(states)
    if STRONG in states:
        return STRONG
    if BOTTOM in states:
        return BOTTOM
    if MIXED in states:
        return MIXED
    return WEAK


def _join_pair(a, b):
    """Join two (state, kind) pairs."""
    if a[0] == BOTTOM:
        return b
    if b[0] == BOTTOM:
        return a
    return join(a[0], b[0]), join_kind(a[1], b[1])


def join_kind(a, b):
    if a is None or b is None:
        return None
    if a == b:
        return a
    if {a, b} <= {"i", "b"}:
        return "i"
    return None


def _binop_kind(op, a, b):
    if "c" in (a, b):
        return "c"
    if isinstance(op, gast.Div):
        return "f"
    if "f" in (a, b):
        return "f"
    if a in ("i", "b") and b in ("i", "b"):
        return None if isinstance(op, gast.Pow) else "i"
    return None


class _Function:
    """The weak/strong state of every local of one generated function."""

    def __init__(self, spec, np_alias):
        self.spec = spec
        self.np_alias = np_alias
        self.sources = {}           # local name -> [source]; a source is ("expr", node) or ("state", s, kind)
        self.calls = {}             # id(Call node) -> callee spec
        self.params = {}            # param name -> (state, kind), set by the program's fixed point
        self.state = {}             # name -> (state, kind)
        self.returns = []           # returned expressions
        for call, callee, _ in spec.calls:
            self.calls[id(call)] = callee
        self._collect(spec.node.body)
        self.sensitive = False      # a decision depended on a parameter's state (see `consult`)
        self._closure = {}

    def _names_of(self, node):
        """Names an expression reads, and whether it calls a user function."""
        names, calls = set(), False
        for n in gast.walk(node):
            if isinstance(n, gast.Name):
                names.add(n.id)
            elif isinstance(n, gast.Call) and id(n) in self.calls:
                calls = True
        return names, calls

    def depends_on_params(self, node):
        """Whether the state of `node` may depend on the states of parameters
        (the call's arguments, hidden values, a callee's parameters)."""
        names, calls = self._names_of(node)
        todo, seen = list(names), set()
        while todo and not calls:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in self.params:
                return True
            for src in self.sources.get(name, ()):
                if src[0] in ("expr", "elt"):
                    more, c = self._names_of(src[1])
                    calls = calls or c
                    todo.extend(more)
        return calls

    # -- sources of each local ---------------------------------------------------
    def _add(self, name, source):
        self.sources.setdefault(name, []).append(source)

    def _bind(self, target, source):
        """`target = <source>`: a source is ("expr", node), ("elt", node) (an
        element of the value `node`) or ("state", state, kind)."""
        if isinstance(target, gast.Name):
            self._add(target.id, source)
        elif isinstance(target, (gast.Tuple, gast.List)):
            value = source[1] if source[0] == "expr" else None
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts) \
                    and not any(isinstance(e, gast.Starred) for e in value.elts):
                for t, v in zip(target.elts, value.elts):
                    self._bind(t, ("expr", v))
                return
            for t in target.elts:
                inner = ("elt", source[1]) if source[0] in ("expr", "elt") else source
                self._bind(t.value if isinstance(t, gast.Starred) else t, inner)
        elif isinstance(target, gast.Starred):
            self._bind(target.value, source)
        # subscripts and attributes: not locals

    def _loop(self, target, iterable):
        func = getattr(iterable, "func", None) if isinstance(iterable, gast.Call) else None
        fval = getattr(func, "tp_value", None)
        name = func.id if isinstance(func, gast.Name) else None
        if fval is range or name == "range":
            self._bind(target, ("state", WEAK, "i"))
        elif (fval is enumerate or name == "enumerate") and isinstance(target, gast.Tuple) \
                and len(target.elts) == 2 and iterable.args:
            self._bind(target.elts[0], ("state", WEAK, "i"))
            self._bind(target.elts[1], ("elt", iterable.args[0]))
        elif (fval is zip or name == "zip") and isinstance(target, gast.Tuple) \
                and len(target.elts) == len(iterable.args):
            for t, it in zip(target.elts, iterable.args):
                self._bind(t, ("elt", it))
        else:
            self._bind(target, ("elt", iterable))

    def _collect(self, body):
        for node in body:
            for sub in _walk_scope(node):
                if isinstance(sub, gast.Assign):
                    for t in sub.targets:
                        self._bind(t, ("expr", sub.value))
                elif isinstance(sub, gast.AnnAssign) and sub.value is not None:
                    self._bind(sub.target, ("expr", sub.value))
                elif isinstance(sub, gast.AugAssign) and isinstance(sub.target, gast.Name):
                    self._add(sub.target.id, ("expr", gast.BinOp(
                        left=A.name(sub.target.id), op=sub.op, right=sub.value)))
                elif isinstance(sub, gast.For):
                    self._loop(sub.target, sub.iter)
                elif isinstance(sub, gast.comprehension):
                    self._loop(sub.target, sub.iter)
                elif isinstance(sub, gast.NamedExpr):
                    self._bind(sub.target, ("expr", sub.value))
                elif isinstance(sub, gast.Return) and sub.value is not None:
                    self.returns.append(sub.value)
                elif isinstance(sub, gast.Call) and isinstance(sub.func, gast.Attribute) \
                        and isinstance(sub.func.value, gast.Name) and not sub.keywords:
                    # a list's items: what is appended, inserted or extended with too
                    lst, args = sub.func.value.id, sub.args
                    if sub.func.attr == "append" and len(args) == 1:
                        self._add(lst, ("expr", gast.List(elts=[args[0]], ctx=gast.Load())))
                    elif sub.func.attr == "insert" and len(args) == 2:
                        self._add(lst, ("expr", gast.List(elts=[args[1]], ctx=gast.Load())))
                    elif sub.func.attr == "extend" and len(args) == 1:
                        self._add(lst, ("expr", args[0]))

    # -- the fixed point -------------------------------------------------------------
    def solve(self, returns_of):
        """Iterate until no local's state changes; `returns_of(callee)` is the
        state of what a callee returns."""
        self.returns_of = returns_of
        self.state = {}
        changed = True
        while changed:
            changed = False
            for name, sources in self.sources.items():
                new = self.params.get(name, (BOTTOM, None))
                for src in sources:
                    new = _join_pair(new, self._source(src))
                if self.state.get(name) != new:
                    self.state[name] = new
                    changed = True
        return self

    def _source(self, src):
        if src[0] == "state":
            return src[1], src[2]
        if src[0] == "elt":
            s, k = self.expr(src[1])
            return s, k
        return self.expr(src[1])

    def name_state(self, name):
        if name in self.state:
            return self.state[name]
        if name in self.params:
            return self.params[name]
        return STRONG, None      # a module alias, a generated function

    def expr(self, node):
        """(state, kind) of an expression; kind 'b', 'i', 'f', 'c' or None."""
        if isinstance(node, gast.Constant):
            kind = _PY_KINDS.get(type(node.value))
            return (WEAK, kind) if kind else (STRONG, None)
        if isinstance(node, gast.Name):
            s, k = self.name_state(node.id)
            return s, k
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.Not):
                return WEAK, "b"
            s, k = self.expr(node.operand)
            return s, ("i" if k == "b" else k)
        if isinstance(node, gast.BinOp):
            (sl, kl), (sr, kr) = self.expr(node.left), self.expr(node.right)
            return combine((sl, sr)), _binop_kind(node.op, kl, kr)
        if isinstance(node, gast.BoolOp):
            states = [self.expr(v) for v in node.values]
            s = BOTTOM
            k = states[0][1]
            for st, kk in states:
                s = join(s, st)
                k = join_kind(k, kk)
            return s, k
        if isinstance(node, gast.Compare):
            if any(isinstance(op, (gast.Is, gast.IsNot, gast.In, gast.NotIn)) for op in node.ops):
                return WEAK, "b"
            return combine(self.expr(v)[0] for v in [node.left] + node.comparators), "b"
        if isinstance(node, gast.IfExp):
            (s1, k1), (s2, k2) = self.expr(node.body), self.expr(node.orelse)
            return join(s1, s2), join_kind(k1, k2)
        if isinstance(node, (gast.Tuple, gast.List)):
            if not node.elts:
                # an empty list's items are what is appended to it (`_collect`)
                return (BOTTOM if isinstance(node, gast.List) else WEAK), None
            s, k = BOTTOM, None
            first = True
            for e in node.elts:
                es, ek = self.expr(e.value if isinstance(e, gast.Starred) else e)
                s = join(s, es)
                k = ek if first else join_kind(k, ek)
                first = False
            return s, k
        if isinstance(node, gast.Subscript):
            if isinstance(node.slice, gast.Slice):
                return self.expr(node.value)
            s, k = self.expr(node.value)
            return s, k
        if isinstance(node, gast.Attribute):
            if node.attr == "shape" or node.attr in _INT_ATTRS:
                return WEAK, "i"
            if isinstance(node.value, gast.Name) and node.value.id == self.np_alias \
                    and node.attr in ("inf", "nan", "pi", "e", "euler_gamma"):
                return WEAK, "f"
            if node.attr in ("real", "imag"):
                s, k = self.expr(node.value)
                return s, ("f" if k == "c" else k)
            return STRONG, None
        if isinstance(node, gast.Call):
            return self.call(node)
        return STRONG, None

    def call(self, node):
        callee = self.calls.get(id(node))
        if callee is not None:
            return self.returns_of(callee)
        func = node.func
        fval = getattr(func, "tp_value", None)
        name = func.id if isinstance(func, gast.Name) and fval is None else None
        if fval is len or name == "len":
            return WEAK, "i"
        if fval is int or name == "int":
            return WEAK, "i"
        if fval is float or name == "float":
            return WEAK, "f"
        if fval is complex or name == "complex":
            return WEAK, "c"
        if fval is bool or name == "bool":
            return WEAK, "b"
        if (fval is round or name == "round") and len(node.args) == 1:
            return WEAK, "i"
        if fval in (abs, min, max) or name in ("abs", "min", "max"):
            args = node.args
            if len(args) == 1 and (fval in (min, max) or name in ("min", "max")):
                return self.expr(args[0])   # min of a sequence: an element
            s, k = BOTTOM, None
            for i, a in enumerate(args):
                es, ek = self.expr(a)
                s = join(s, es)
                k = ek if i == 0 else join_kind(k, ek)
            return s, k
        if fval is not None and getattr(fval, "__module__", None) == "math" or \
                (isinstance(fval, type(math.sqrt)) and getattr(fval, "__self__", None) is math):
            fname = getattr(fval, "__name__", "")
            if fname in _MATH_INT:
                return WEAK, "i"
            if fname in _MATH_BOOL:
                return WEAK, "b"
            return WEAK, "f"
        if isinstance(func, gast.Attribute) and func.attr == "item" and not node.args:
            return WEAK, None
        return STRONG, None


def _walk_scope(node):
    """The nodes under `node`, not entering nested functions or lambdas."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in gast.iter_child_nodes(n):
            if isinstance(child, (gast.FunctionDef, gast.Lambda)):
                continue
            todo.append(child)


def _settled(state):
    return STRONG if state == BOTTOM else state
