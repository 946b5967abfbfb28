"""Which values of an ANF function carry the batch, and the structure of
what it returns.

An abstract value is `Leaf(batched)` (a number or an array, which depends on
a mapped input or not) or `Tup(items)` (a tuple or list display, item by
item). The analysis runs over structured ANF code (transforms/anf.py),
loops to a fixed point, and follows calls into other generated functions
(one summary per pattern of batched arguments):

    def f(x, w):            x: Leaf(True), w: Leaf(False)
        z = x * w           z: Leaf(True)
        n = w.shape         n: Leaf(False)
        if z > 0:           a batched test: everything assigned under it is batched
            z = n
        return (z, n)       -> Tup(Leaf(True), Leaf(False))

`Function.control` lists the statements whose test or trip count is
batched: per-example control flow, which only the per-example loop keeps.
"""
import gast

from .. import astutil as A

_SHAPE_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}


class Leaf:
    __slots__ = ("batched",)

    def __init__(self, batched):
        self.batched = bool(batched)

    def __eq__(self, other):
        return isinstance(other, Leaf) and other.batched == self.batched

    def __hash__(self):
        return hash(("leaf", self.batched))

    def __repr__(self):
        return f"Leaf({self.batched})"


class Tup:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = tuple(items)

    def __eq__(self, other):
        return isinstance(other, Tup) and other.items == self.items

    def __hash__(self):
        return hash(("tup", self.items))

    def __repr__(self):
        return f"Tup{self.items}"


def any_batched(v):
    if v is None:
        return False
    if isinstance(v, Leaf):
        return v.batched
    return any(any_batched(i) for i in v.items)


def all_batched(v):
    """`v` with every leaf batched (a value assigned under batched control)."""
    if isinstance(v, Tup):
        return Tup(all_batched(i) for i in v.items)
    return Leaf(True)


def join(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Tup) and isinstance(b, Tup) and len(a.items) == len(b.items):
        return Tup(join(x, y) for x, y in zip(a.items, b.items))
    if isinstance(a, Leaf) and isinstance(b, Leaf):
        return Leaf(a.batched or b.batched)
    return Leaf(any_batched(a) or any_batched(b))


def from_axes(tree):
    """The abstract value of a parameter mapped by `tree` (int, None or tuple)."""
    if isinstance(tree, tuple):
        return Tup(from_axes(t) for t in tree)
    return Leaf(tree is not None)


class Function:
    """The result of analysing one function for one pattern of batched parameters."""

    def __init__(self, spec, params):
        self.spec = spec
        self.params = params            # name -> abstract value
        self.env = {}                   # variable -> abstract value (joined over the function)
        self.result = None              # abstract value of what it returns
        self.control = []               # statements with a batched test / trip count
        self.calls = []                 # (Call node, callee spec, Function)


class Analysis:
    """Batchedness of the functions of one program (memoised per pattern)."""

    def __init__(self, program):
        self.program = program
        self.done = {}
        self.active = set()

    def callee_of(self, func):
        if isinstance(func, gast.Name):
            for s in list(self.program.functions) + list(getattr(self.program, "extra", ())):
                if s.gen_name == func.id:
                    return s
        return None

    def function(self, spec, params):
        """`Function` summary of `spec` with parameters bound to abstract values."""
        key = (spec.gen_name, tuple(sorted(params.items(), key=lambda kv: kv[0])))
        if key in self.done:
            return self.done[key]
        if key in self.active:          # recursion: assume anything may be batched
            return None
        self.active.add(key)
        try:
            fn = Function(spec, params)
            _Walker(self, fn).run()
        finally:
            self.active.discard(key)
        self.done[key] = fn
        return fn


class _Walker:
    def __init__(self, analysis, fn):
        self.analysis = analysis
        self.fn = fn
        self.changed = False

    def run(self):
        node = self.fn.spec.node
        for a in node.args.args:
            self.fn.env[a.id] = self.fn.params.get(a.id, Leaf(False))
        for _ in range(50):
            self.changed = False
            self.fn.control = []
            self.fn.calls = []
            self.block(node.body, False)
            if not self.changed:
                break

    # -- values ------------------------------------------------------------
    def value(self, node, control):
        env = self.fn.env
        if isinstance(node, gast.Name):
            v = env.get(node.id)
            return v if v is not None else Leaf(False)
        if isinstance(node, gast.Constant):
            return Leaf(False)
        if isinstance(node, (gast.Tuple, gast.List)):
            return Tup(self.value(e, control) for e in node.elts)
        if isinstance(node, gast.Subscript):
            base = self.value(node.value, control)
            if isinstance(base, Tup) and isinstance(node.slice, gast.Constant) \
                    and isinstance(node.slice.value, int) and -len(base.items) <= node.slice.value < len(base.items):
                return base.items[node.slice.value]
            return Leaf(any_batched(base) or self.uses_batched(node.slice))
        if isinstance(node, gast.Attribute) and node.attr in _SHAPE_ATTRS:
            return Leaf(False)          # every example has the same shape
        if isinstance(node, gast.Call):
            if isinstance(node.func, gast.Name) and node.func.id == "len" and node.func.id not in self.fn.env:
                return Leaf(False)
            callee = self.analysis.callee_of(node.func)
            if callee is not None:
                cparams = [a.id for a in callee.node.args.args]
                bound = {p: self.value(a, control) for p, a in zip(cparams, node.args)}
                summary = self.analysis.function(callee, bound)
                if summary is None:
                    return Leaf(any(any_batched(v) for v in bound.values()))
                self.fn.calls.append((node, callee, summary))
                return summary.result if summary.result is not None else Leaf(False)
            if isinstance(node.func, gast.Attribute) and node.func.attr == "pop" \
                    and isinstance(node.func.value, gast.Name):
                return Leaf(any_batched(self.value(node.func.value, control)))
        return Leaf(self.uses_batched(node))

    def uses_batched(self, node):
        env = self.fn.env
        return any(isinstance(n, gast.Name) and any_batched(env.get(n.id)) for n in gast.walk(node))

    def assign_name(self, name, value, control):
        if control:
            value = all_batched(value)
        old = self.fn.env.get(name)
        new = join(old, value)
        if new != old:
            self.fn.env[name] = new
            self.changed = True

    def mark_batched(self, name):
        old = self.fn.env.get(name)
        new = join(old, all_batched(old) if old is not None else Leaf(True))
        if new != old:
            self.fn.env[name] = new
            self.changed = True

    # -- statements --------------------------------------------------------
    def block(self, stmts, control):
        for s in stmts:
            self.stmt(s, control)

    def stmt(self, s, control):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Subscript):
                base = target.value
                if isinstance(base, gast.Name) and (control or self.uses_batched(s.value)
                                                    or self.uses_batched(target.slice)):
                    self.mark_batched(base.id)
                return
            value = self.value(s.value, control)
            if isinstance(target, gast.Name):
                self.assign_name(target.id, value, control)
            elif isinstance(target, (gast.Tuple, gast.List)):
                items = value.items if isinstance(value, Tup) and len(value.items) == len(target.elts) \
                    else [Leaf(any_batched(value))] * len(target.elts)
                for t, v in zip(target.elts, items):
                    if isinstance(t, gast.Name):
                        self.assign_name(t.id, v, control)
            return
        if isinstance(s, gast.Expr):
            call = s.value
            if isinstance(call, gast.Call):
                self.value(call, control)       # callee summaries
                f = call.func
                if isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) \
                        and f.attr in ("append", "extend", "insert", "fill", "sort") \
                        and (control or any(self.uses_batched(a) for a in call.args)):
                    self.mark_batched(f.value.id)
            return
        if isinstance(s, gast.If):
            c = control or self.uses_batched(s.test)
            if c and not control:
                self.fn.control.append(s)
            self.block(s.body, c)
            self.block(s.orelse, c)
            return
        if isinstance(s, gast.While):
            c = control or self.uses_batched(s.test)
            if c and not control:
                self.fn.control.append(s)
            self.block(s.body, c)
            self.block(s.orelse, c)
            return
        if isinstance(s, gast.For):
            c = control or self.uses_batched(s.iter)
            if c and not control:
                self.fn.control.append(s)
            if isinstance(s.target, gast.Name):
                self.assign_name(s.target.id, Leaf(c), control)
            else:
                for n in A.names_in(s.target, gast.Store):
                    self.assign_name(n, Leaf(c), control)
            self.block(s.body, c)
            self.block(s.orelse, c)
            return
        if isinstance(s, gast.Return):
            value = self.value(s.value, control) if s.value is not None else Leaf(False)
            if control:
                value = all_batched(value)
            new = join(self.fn.result, value)
            if new != self.fn.result:
                self.fn.result = new
                self.changed = True
            return
        # break, continue, pass, raise, ...: nothing flows


def leaves(tree, path=()):
    """[(path, Leaf)] of an abstract value, depth first."""
    if isinstance(tree, Tup):
        out = []
        for k, item in enumerate(tree.items):
            out.extend(leaves(item, path + (k,)))
        return out
    return [(path, tree)]
