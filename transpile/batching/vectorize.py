"""Vectorizing rules: batch a function by moving the batch axis through its
statements, so that it runs once on whole batches.

Every batched value keeps the batch axis first; unbatched values stay as
they are. Each ANF statement that touches a batched value is rewritten by
a rule of `runtime.rules` (`vmap_elementwise` declarations and `vmap_rule`
templates, see runtime/rules/batching.py):

    def f(x, W, b):                   def vec_f(x, W, b, _n):      # x: (batch, n)
        _t1 = W @ x                       _t1 = batching.matmul_ub(W, x)   # x @ W.T
        _t2 = _t1 + b                     _t2 = _t1 + b
        _t3 = np.tanh(_t2)                _t3 = np.tanh(_t2)
        _t4 = npx.sum(_t3)                _t4 = npx.sum(_t3, (1,))
        return _t4                        return _t4

* Element-wise operations line up the ranks of their operands after the batch
  axis (`batching.match_rank`, emitted only where the ranks of one example
  are not known to agree: ranks of the arguments come from the call's
  signature and are propagated through the statements).
* Indexing with an unbatched index prepends the batch axis (`x[i]` becomes
  `x[:, i]`); in-place writes into batched arrays likewise.
* A variable that holds a batched value anywhere holds one everywhere: an
  unbatched value assigned to it is broadcast over the batch
  (`batching.broadcast(v, _n)`).
* Calls to other user functions call their vectorized version (per pattern
  of batched arguments).
* `if`/`while`/`for` stay as they are when their test or trip count is
  unbatched.

* A list or tuple of batched values is not a batch (its axis is not the
  batch axis): passed where NumPy takes an array (`np.sum([a, b])`,
  `np.array([[a, b], [b, a]])`) it becomes the batch of `np.array(list)`,
  the items' batches stacked along axis 1 (`Vectorizer.array_of`).
* Names that may share an array keep sharing it: they are batched together
  (batching/aliases.py, analysis.py), and a number read with integer
  indices from an array written later is copied (`a[:, i]` is a view where
  one example's `a[i]` is a number: `batching.copy_if_numbers`).

The function is not vectorized (`NotVectorizable`, and the per-example loop
runs it) when a test or trip count depends on a batched value, a call has no
rule, an index is batched, it prints, it writes into an unmapped argument of
the mapped function (one array for every example: the loop writes it once
per example), or it does arithmetic on lists of batched values. The output is ANF again, so forward
mode differentiates it (`grad(vmap(f))`).

The vectorizer is `Vectorizer`, one instance per function and pattern of
batched parameters; this module holds its driver (`run`), what it asks of
the analysis (batching/analysis.py), names in generated code, and calls of
other generated functions. Its rules come from mixins, one module each:

* batching/statements.py: assignments, unpacking, expression statements,
  control flow;
* batching/expressions.py: operators, attributes, calls by rule, the
  per-example loop of one call;
* batching/indexing.py: subscripts, reads and writes;
* batching/sequences.py: lists and tuples of mapped values;
* batching/ranks.py: the ranks of one example, the names that hold ints;

with the `vmap_rule` templates in batching/templates.py and what they all
share (`NotVectorizable`, constants) in batching/vecbase.py.
"""
import builtins
import copy

import gast

from .. import astutil as A
from ..naming import fresh_local
from ..program import _import_path, generated
from ..resolve import find_callee, resolve_static
from . import analysis as An
from .expressions import Expressions
from .indexing import Indexing
from .ranks import Ranks
from .sequences import Sequences
from .statements import Statements
from .vecbase import NotVectorizable

_LIST_COTANGENTS = {"zeros_like_list", "add_seq", "pop_item", "zero_item"}


class Vectorizer(Statements, Expressions, Indexing, Sequences, Ranks):
    """Generates the vectorized version of one function for one pattern of
    batched parameters (and the ranks of their examples)."""

    def __init__(self, program, spec, pattern, ranks, registry, batching, entry=False):
        self.program = program
        self.entry = entry              # the function vmap maps (its unmapped arguments are shared)
        self.spec = spec
        self.pattern = pattern          # param -> abstract value (analysis.Leaf/Tup)
        self.param_ranks = ranks        # param -> rank of one example (int, tuple tree or None)
        self.registry = registry
        self.bt = batching              # module alias of runtime.batching
        self.node = spec.node
        self.locals = set(getattr(spec, "locals", set())) | A.names_in(self.node) \
            | {a.id for a in self.node.args.args}
        self.counters = {}
        self.src = spec.src
        self.ret_rank = None

    # -- names -------------------------------------------------------------
    def fresh(self, base):
        return fresh_local(self.locals, self.counters, base)

    def where(self, node):
        line = getattr(node, "lineno", None)
        return f"{self.src.filename}:{line}" if line else self.src.filename

    def helper(self, name):
        return A.attr(A.name(self.bt), name)

    def alias(self, module):
        return self.program.module_alias(module)

    # -- driver ------------------------------------------------------------
    def run(self, gen_name):
        for n in gast.walk(self.spec.node):
            if isinstance(n, gast.Attribute) and n.attr in _LIST_COTANGENTS \
                    and isinstance(n.value, gast.Name) and n.value.id == self.alias("runtime.adjoint"):
                # the cotangent of a list is a list, one entry per element (a gradient through
                # lists): not an array whose first axis could carry the batch
                raise NotVectorizable("a list of cotangents", self.where(n))
        analysis = An.Analysis(self.program)
        summary = analysis.function(self.spec, self.pattern)
        if summary is None:
            raise NotVectorizable("recursion")
        if summary.control:
            stmt = summary.control[0]
            raise NotVectorizable("a test or trip count depends on a mapped value", self.where(stmt))
        self.summary = summary
        self.env = summary.env
        self.result = summary.result
        self.intlike = self.find_intlike()
        self.ranks = self.propagate_ranks()
        params = [a.id for a in self.node.args.args]
        self.escaping = self.find_escaping()
        self.n = "_n" if "_n" not in self.locals else self.fresh("_n")
        self.locals.add(self.n)
        prologue = []
        for p in params:
            if self.entry and not An.any_batched(self.pattern.get(p)) and summary.group_written(p):
                # one array for every example: the loop writes it once per example
                raise NotVectorizable(f"a write into the unmapped argument {p}, which every example shares",
                                      self.where(self.node))
        for p in params:        # unmapped parameters written with batched values: own copies
            if self.batched(p) and not An.any_batched(self.pattern.get(p)):
                if isinstance(self.env.get(p), An.Tup):
                    raise NotVectorizable(f"tuple parameter {p} becomes batched")
                if summary.group_written(p):
                    # a copy would not carry the writes back to the caller's array
                    raise NotVectorizable(f"a write of mapped values into the argument {p}", self.where(self.node))
                prologue.append(A.assign(p, A.call(self.helper("broadcast"), [A.name(p), A.name(self.n)])))
        body = prologue + self.block(self.node.body)
        node = copy.copy(self.node)
        node.body = body or [gast.Pass()]
        node.args = copy.copy(self.node.args)
        node.args.args = [A.param(p) for p in params] + [A.param(self.n)]
        node.name = gen_name
        node.decorator_list = []
        return node

    # -- analysis helpers --------------------------------------------------------
    def batched(self, name):
        return An.any_batched(self.env.get(name))

    def atom_batched(self, node):
        if isinstance(node, gast.Name):
            return self.batched(node.id)
        if isinstance(node, (gast.Tuple, gast.List)):
            return any(self.atom_batched(e) for e in node.elts)
        if isinstance(node, gast.Starred):
            return self.atom_batched(node.value)
        return any(isinstance(n, gast.Name) and self.batched(n.id) for n in gast.walk(node))

    def find_escaping(self):
        """Names whose values leave the function or go into a container or a call
        of another generated function (where a write may reach them)."""
        out = set()
        for n in gast.walk(self.node):
            if isinstance(n, gast.Return) and n.value is not None:
                out |= A.names_in(n.value)
            elif isinstance(n, (gast.Tuple, gast.List)) and isinstance(n.ctx, gast.Load):
                out |= A.names_in(n)
            elif isinstance(n, gast.Call) and self.callee_of(n.func) is not None:
                for a in n.args:
                    out |= A.names_in(a)
        return out

    def must_own(self, name):
        """Whether a value read from `name`'s array must not stay a view of it:
        the array may be written, or the value may leave (vectorized code views
        the batch where one example would hold a number)."""
        group = self.summary.aliases.group(name)
        return self.summary.group_written(name) or bool(group & self.escaping)

    # -- resolution --------------------------------------------------------------
    def callee_of(self, func):
        return find_callee(self.program, func)

    def resolve(self, func):
        return resolve_static(self.program, func,
                              lambda name: name not in self.locals and hasattr(builtins, name))

    def emit_global(self, value):
        """An expression naming the module-level object `value` in generated code."""
        import types
        if isinstance(value, types.ModuleType):
            if value.__name__ == "runtime.batching":
                return A.name(self.bt)
            return A.name(self.alias(value.__name__))
        path = _import_path(value)
        if path is None:
            raise NotVectorizable(f"cannot name {value!r} in generated code")
        modname, qualname = path
        if modname == "builtins":
            return A.dotted(qualname)
        out = A.name(self.bt) if modname == "runtime.batching" else A.name(self.alias(modname))
        for part in qualname.split("."):
            out = A.attr(out, part)
        return out

    # -- calls of other generated functions ------------------------------------------
    def call_generated(self, call, callee, s):
        params = [a.id for a in callee.node.args.args]
        if len(call.args) != len(params) or call.keywords:
            raise NotVectorizable("a call with a different number of arguments", self.where(s))
        pattern = {p: self.abstract(a) for p, a in zip(params, call.args)}
        ranks = {p: self.atom_rank(a, self.ranks) for p, a in zip(params, call.args)}
        if not any(An.any_batched(v) for v in pattern.values()):
            return call
        vec = vectorize_function(self.program, callee, pattern, ranks, self.registry, self.bt)
        self._last_result = vec.vec_result
        return A.call(A.name(vec.gen_name), list(call.args) + [A.name(self.n)])

    def abstract(self, atom):
        if isinstance(atom, gast.Name):
            v = self.env.get(atom.id)
            return v if v is not None else An.Leaf(False)
        if isinstance(atom, (gast.Tuple, gast.List)):
            return An.Tup(self.abstract(e) for e in atom.elts)
        return An.Leaf(False)


def result_rank(program, spec, ranks):
    """The rank of what `spec` returns, from the ranks of its parameters
    (None when unknown or when its returns disagree)."""
    vec = Vectorizer(program, spec, {}, ranks, {}, None)
    vec.env = {}
    vec.intlike = vec.find_intlike()
    final = vec.propagate_ranks()
    found = {vec.rank_of(n.value, final) for n in gast.walk(spec.node)
             if isinstance(n, gast.Return) and n.value is not None}
    return found.pop() if len(found) == 1 else None


def vectorize_function(program, spec, pattern, ranks, registry, batching, entry=False):
    """The `_Extra` vectorized version of `spec` for this pattern (memoised);
    raises NotVectorizable. `entry`: `spec` is the function vmap maps (not a
    function it calls)."""
    key = ("vec", spec.gen_name, tuple(sorted(pattern.items(), key=lambda kv: kv[0])),
           tuple(sorted(ranks.items(), key=lambda kv: kv[0])), entry)

    def build(name):
        vec = Vectorizer(program, spec, pattern, ranks, registry, batching, entry)
        node = vec.run(name)

        def fill(extra):
            extra.locals = vec.locals
            extra.vec_result = vec.result
            extra.vec_ret_rank = vec.ret_rank
        return node, fill

    return generated(program, spec, registry, key, f"vec_{spec.gen_name}", NotVectorizable, build)
