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

Names that may share an array (batching/aliases.py) are batched together:
a write of mapped values into one array makes every name that may view it
a batch (`z = y; z[0] = x` makes `y` a batch too), and so does a call of a
generated function that writes such values into its parameter (the
caller's argument: `fill(y, x)`).
"""
import builtins

import gast

from .. import astutil as A
from ..resolve import resolve_static
from .aliases import Aliases

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
        self.aliases = None             # aliases.Aliases: names that may share an array
        self.written = set()            # names whose array is written in place
        self.param_writes = {}          # param -> True if its array is written (by this or a callee)

    def group_written(self, name):
        """Whether an array `name` may share is written in place in this function."""
        return bool(self.aliases.group(name) & self.written) if self.aliases is not None else False


class Analysis:
    """Batchedness of the functions of one program (memoised per pattern)."""

    def __init__(self, program):
        self.program = program
        self.done = {}
        self.active = set()
        self._aliases = {}
        self._returns = {}

    def aliases_of(self, spec):
        """The `aliases.Aliases` of `spec` (they do not depend on what is batched)."""
        found = self._aliases.get(spec.gen_name)
        if found is None:
            node = spec.node
            params = [a.id for a in node.args.args]
            local = set(getattr(spec, "locals", ())) | A.names_in(node) | set(params)
            program = self.program
            found = self._aliases[spec.gen_name] = Aliases(
                node, params,
                lambda func: resolve_static(program, func,
                                            lambda name: name not in local and hasattr(builtins, name)),
                self.returned_params)
        return found

    def returned_params(self, func):
        """For a call of a generated function: the positions of the parameters
        whose arrays its result may share (None for any other callee)."""
        callee = self.callee_of(func)
        if callee is None:
            return None
        params = [a.id for a in callee.node.args.args]
        key = callee.gen_name
        if key in self._returns:
            found = self._returns[key]
            return set(range(len(params))) if found is None else found      # recursion: any
        self._returns[key] = None
        aliases = self.aliases_of(callee)
        returned = set()
        for n in gast.walk(callee.node):
            if isinstance(n, gast.Return) and n.value is not None:
                returned |= A.names_in(n.value)
        out = {k for k, p in enumerate(params) if aliases.group(p) & returned}
        self._returns[key] = out
        return out

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
        params = [a.id for a in node.args.args]
        self.fn.aliases = self.analysis.aliases_of(self.fn.spec)
        for a in node.args.args:
            self.fn.env[a.id] = self.fn.params.get(a.id, Leaf(False))
        for _ in range(50):
            self.changed = False
            self.fn.control = []
            self.fn.calls = []
            self.block(node.body, False)
            if not self.changed:
                break
        for p in params:
            if self.fn.group_written(p):
                self.fn.param_writes[p] = any_batched(self.fn.env.get(p))

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
                if summary is None:         # recursion: it may write any argument
                    batched = any(any_batched(v) for v in bound.values())
                    for a in node.args:
                        for n in A.names_in(a):
                            self.write(n, batched or control)
                    return Leaf(batched)
                self.fn.calls.append((node, callee, summary))
                for p, a in zip(cparams, node.args):
                    if p in summary.param_writes and isinstance(a, gast.Name):
                        # it writes into the caller's array: mapped values make it a batch
                        self.write(a.id, summary.param_writes[p] or control)
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
        """`name` holds mapped values, and so does every name that may share its
        array (those not assigned yet are marked on the next pass, once their
        structure is known)."""
        names = self.fn.aliases.group(name) if self.fn.aliases is not None else (name,)
        for n in names:
            old = self.fn.env.get(n)
            if old is None and n != name:
                continue
            new = join(old, all_batched(old) if old is not None else Leaf(True))
            if new != old:
                self.fn.env[n] = new
                self.changed = True

    def write(self, name, batched):
        """The array of `name` is written in place (with mapped values if
        `batched`). The names that may share it are then batched alike: one
        batched and another not, the other would hold a copy (a broadcast) that
        the write misses."""
        if name not in self.fn.written:
            self.fn.written.add(name)
            self.changed = True
        group = self.fn.aliases.group(name) if self.fn.aliases is not None else (name,)
        if batched or any(any_batched(self.fn.env.get(n)) for n in group):
            self.mark_batched(name)

    # -- statements --------------------------------------------------------
    def block(self, stmts, control):
        for s in stmts:
            self.stmt(s, control)

    def stmt(self, s, control):
        if isinstance(s, (gast.Assign, gast.Expr)) and self.fn.aliases is not None:
            for name, values in self.fn.aliases.writes(s):
                self.write(name, control or any(self.uses_batched(v) for v in values))
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Subscript):
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
                self.value(call, control)       # callee summaries (and the arguments they write)
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
