"""NEP 50: Python numbers keep NumPy 2's semantics in code compiled by Numba.

NumPy 2 treats a Python int, float or complex as *weak* (NEP 50): `x * 2.0`
stays float32 for a float32 `x`, and `n * n` on Python ints never overflows.
Numba types a Python float as float64 and a Python int as int64. This pass
(plain `jit`, backend 'numba') finds which values of the user's program are
Python numbers and converts the Python number of each operation that mixes
one with a NumPy value as NumPy would, and checks each Python int operation
that can overflow (`runtime.nep50`)::

    y = x * 2.0              ->  y = x * nep50.mul_rhs(x, 2.0, 'f.py:3')
    z = 1.0 - np.exp(x)      ->  z = nep50.sub_lhs(1.0, np.exp(nep50.probe(x)), 'f.py:4') - np.exp(x)
    s = s + x[i] * 0.1       ->  s = s + x[i] * nep50.mul_rhs(nep50.probe_index(x, 1), 0.1, 'f.py:5')
    m = n * n * n            ->  m = nep50.mul_py(nep50.mul_py(n, n, 'f.py:6'), n, 'f.py:6')
    w = np.maximum(x, 0.0)   ->  w = np.maximum(x, nep50.maximum_rhs(x, 0.0, 'f.py:7'))
    v = x.sum() * 0.5        ->  v = nep50.mul_r(npx.sum(x), 0.5, 'f.py:8')
    x += 0.1                 ->  x += nep50.add_inplace(x, 0.1, 'f.py:9')
    a / b   (a NumPy value)  ->  unchanged, no ZeroDivisionError check: NumPy gives inf

The operation itself stays, so Numba still fuses array expressions; the
conversion helper needs only the other operand's type, which a *probe*
gives: the other operand's expression over empty arrays (`nep50.probe(x)`)
and zero scalars. A probe expression is written as one call,
`nep50.typed('np.exp(nep50.probe(_0)) * _1', x, 2.0)`, whose type Numba finds
while typing it (each operation resolved as type inference resolves it) and
which computes nothing: the probe expressions of nested operations repeat
their operands' probes, and compiled they cost more than the operation. An
operand that cannot be mirrored that way (a call of a
user function or a method, a subscript by an array) makes the whole
operation a helper (`nep50.mul_r(a, b, where)`), which costs a temporary
array for array operands.

A value is a Python number (*weak*) when it is a literal, a parameter the
call passed a Python number for (the dispatcher specializes on that), a
global or closure number read at call time, `len(...)`, `x.shape[i]`,
`x.size`, `x.ndim`, a `range` index, `int()`/`float()`/`math.*` of anything,
an operation on weak values only, or a local whose every assignment is weak
(found by a fixed point, across the program's functions). A local assigned
both weak and NumPy values is *mixed*: NumPy changes its type as the program
runs and Numba cannot, so a weak float assigned to it that float32 holds
exactly is written `np.float32(v)`, letting Numba's unification give it the
NumPy value's type (`s = 0.0; s = s + x[i]` accumulates in float32 for a
float32 `x`, as NumPy does). Where the one type would still show, the code
refuses when it runs (`JitDifferenceError` at the user's line), decided
while Numba types it::

    total = total + x[i]     ->  total = nep50.mixed(total, <probe of x[i]>, 'i', 'add', True, 'total', w) + x[i]
                                 nep50.mixed_bound(total, 'int64', 'total', w)

`mixed` compares NumPy's result dtype with `total` a Python number against
Numba's with `total` of its type there (int8 against int64 for an int8 `x`);
`mixed_bound` checks that merging the value's type with the Python numbers'
(as Numba does where paths join) keeps it. Likewise `max(a, b)` of two types
(Python returns one of them unchanged), and `t op= v` on a local becomes
`t = nep50.add_iop(t, v, w)`: in place for an array, NumPy's dtype for a
scalar (Numba computes an int8 `t + v` in int64).

Operations on NumPy values (and Python floats, so that one text serves both)::

    y = x * t                ->  y = nep50.mul_settle(nep50.mul_promote_l(x, probe(t), True, w)
                                        * nep50.mul_promote_r(probe(x), t, True, w), <probes>, -1, w)
    z = (a + a) == 1         ->  z = np.add(a, a) == 1
    r = np.sin(x)            ->  r = nep50.ufunc_settle(np.sin(nep50.ufunc_arg(x, 'sin', w)), ...)

An operation inside an array expression becomes its ufunc (Numba computes a
fused operator by its *scalar* rules: bool + bool is an int there, -x of an
unsigned int negative; a ufunc by its loop, as NumPy); an operand that is a
name is converted to the dtype NumPy computes in where Numba's promotion
differs (`promote`: an array with a NumPy scalar of another kind); the
operation at the top of an expression is *settled*: a scalar result
converted to NumPy's dtype (int8 + int8 wraps), anything else that differs
a TypingError at the user's line. `nep50.narrow` warns (at run time: Numba's
disk cache skips typing) where a signed integer narrower than 64 bits may
overflow inside an array expression (Numba's `nsw` lets LLVM assume it does not).

Division by zero: only an operation on two weak values gets the Python
ZeroDivisionError check (the `checks` pass adds it); an operation with a
NumPy value is marked `divisor_checked` and gives inf or nan, as NumPy does.

Invariant established: in every arithmetic operation, single comparison and
binary ufunc call whose operands are one weak and one non-weak value, the
weak one goes through a `nep50` conversion helper (or the whole operation
through a `nep50` helper), and so does every `+ - * ** <<` of two weak
values that may be ints.
"""
import math

import gast
import numpy as np

from .. import astutil as A
from ..errors import warn_at
from .nep50_analysis import MIXED, STRONG, WEAK, _settled
from .nep50_program import _expr_non_numeric, _non_numeric_names, analyze
from .nep50_template import _TYPED_MAX_LEAVES, _is_ours, _template, _where
from runtime import nep50

# np.random functions whose draws under Numba differ from NumPy's for the same
# state (measured against NumPy 2.4, Numba 0.68); every other supported one matches
# draw for draw, the dispatcher sharing NumPy's global state (transpile/numpy_semantics.py).
RANDOM_NOT_NUMPYS = frozenset(("standard_gamma", "gamma", "beta", "chisquare", "f", "standard_t",
                               "pareto", "vonmises", "dirichlet"))

_BINOPS = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
           gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow", gast.LShift: "lshift",
           gast.RShift: "rshift", gast.BitAnd: "and", gast.BitOr: "or", gast.BitXor: "xor"}
_CMPOPS = {gast.Lt: "lt", gast.LtE: "le", gast.Gt: "gt", gast.GtE: "ge", gast.Eq: "eq", gast.NotEq: "ne"}
_INT_CHECKED = ("add", "sub", "mul", "pow", "lshift")
_DIVISIONS = (gast.Div, gast.FloorDiv, gast.Mod)


class _Rewrite(gast.NodeTransformer):
    def __init__(self, program, fn, mod):
        self.program = program
        self.fn = fn
        self.spec = fn.spec
        self.mod = mod

    def helper(self, name, args, node):
        call = A.located(A.call(A.attr(self.mod, name), list(args) + [_where(self.spec, node)]), node)
        call.nep50_state = self.fn.expr(node)      # what the replaced expression was (for `proxy`)
        return call

    def state(self, node):
        """The settled state of `node`, consulted for a decision."""
        if not self.fn.sensitive and self.fn.depends_on_params(node):
            self.fn.sensitive = True
        s, k = self.fn.expr(node)
        return _settled(s), k

    def visit_FunctionDef(self, node):
        if node is not self.spec.node:
            return node
        self.generic_visit(node)
        return node

    def visit_Lambda(self, node):
        return node

    # -- an expression of the type of another, at almost no cost -----------------
    def proxy(self, node, top=True):
        """An expression with the Numba type of `node` (already rewritten)
        that computes nothing of size: its names become `nep50.probe(x)`
        (empty arrays), `x[i]` becomes `nep50.probe_index(x, 1)`. None when
        `node` may have effects or cannot be mirrored (a call of a user
        function, a method, a subscript by an array)."""
        if isinstance(node, gast.Name):
            return A.name(node.id) if top else A.call(A.attr(self.mod, "probe"), [A.name(node.id)])
        if isinstance(node, gast.Constant):
            return A.const(node.value)
        if isinstance(node, gast.BinOp):
            left, right = self.proxy(node.left, False), self.proxy(node.right, False)
            if left is None or right is None:
                return None
            out = gast.BinOp(left=left, op=node.op, right=right)
            # probes of scalars are zeros: no ZeroDivisionError check (the `checks` pass), the value
            # is never used (NumPy's operation, the one mirrored, gives inf or nan)
            out.divisor_checked = True
            return out
        if isinstance(node, gast.UnaryOp) and not isinstance(node.op, gast.Not):
            operand = self.proxy(node.operand, False)
            return None if operand is None else gast.UnaryOp(op=node.op, operand=operand)
        if isinstance(node, gast.Compare):
            parts = [self.proxy(v, False) for v in [node.left] + node.comparators]
            if any(p is None for p in parts):
                return None
            return gast.Compare(left=parts[0], ops=node.ops, comparators=parts[1:])
        if isinstance(node, gast.Attribute) and node.attr == "T":
            value = self.proxy(node.value, False)
            return None if value is None else A.attr(value, "T")
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.value.id in getattr(self.fn, "holders", ()) or node.value.id in getattr(self.fn, "non_numeric", ()):
                return None     # an item of a list or tuple: no probe (probe_index is for arrays)
            parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
            k = 0
            for p in parts:
                if isinstance(p, gast.Slice):
                    continue
                state = getattr(p, "nep50_state", None) or self.fn.expr(p)
                if _settled(state[0]) != WEAK or state[1] not in ("i", "b"):
                    return None     # an index that is not a Python int: maybe an array
                k += 1
            return A.call(A.attr(self.mod, "probe_index"), [A.name(node.value.id), A.const(k)])
        if isinstance(node, gast.Call) and not node.keywords:
            func = node.func
            fval = getattr(func, "tp_value", None)
            ours = isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id == self.mod and func.attr.endswith(("_lhs", "_rhs"))
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.value.id == self.mod and func.attr in ("probe", "probe_index", "typed"):
                return node     # a probe already
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.value.id == self.mod and func.attr in ("narrow", "ufunc_arg", "mixed", "mixed_of"):
                return self.proxy(node.args[0], False)
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.value.id == self.mod and ("_settle" in func.attr or func.attr.startswith("ufunc_") or "_promote_" in func.attr):
                if func.attr in ("ufunc_settle", "ufunc_settle2"):
                    return self.proxy(node.args[0], False)
                if func.attr == "ufunc_promote":
                    k = node.args[2].value
                else:
                    k = 1 if func.attr.endswith("_promote_r") else 0    # the argument that is a value
                value = self.proxy(node.args[k], False)
                if value is None:
                    return None
                args = list(node.args)
                args[k] = value
                return A.call(func, args)
            if isinstance(fval, np.ufunc) or ours:
                args = [self.proxy(a, False) for a in node.args]
                if any(a is None for a in args):
                    return None
                out = A.call(func, args)
                return out
        return None

    def typed(self, p, node):
        """Proxy `p` as one `nep50.typed(template, *leaves)` call: its type found
        while Numba types the call, nothing computed (a probe expression over
        empty arrays is compiled and run: its operations, and the helpers in
        it, inlined into every caller; nested proxies repeat the probes of
        their operands). `p` itself where it is a name or a constant, or
        cannot be written as a template."""
        if p is None or isinstance(p, (gast.Name, gast.Constant)):
            return p
        leaves = []
        template = _template(p, leaves, self.mod)
        if template is None or len(leaves) > _TYPED_MAX_LEAVES:
            return p
        return A.located(A.call(A.attr(self.mod, "typed"), [A.const(template)] + [n for _, n in leaves]), node)

    def binary(self, stem, left, right, weak_left, node):
        """(left, right) with the Python number converted, or None (use the `_l`/`_r` helper)."""
        other = right if weak_left else left
        p = self.typed(self.proxy(other), node)
        if p is None:
            return None
        if weak_left:
            return self.helper(stem + "_lhs", [left, p], node), right
        return left, self.helper(stem + "_rhs", [p, right], node)

    def visit_BinOp(self, node):
        (sl, kl), (sr, kr) = self.state(node.left), self.state(node.right)
        inner = getattr(node, "nep50_inner", False)
        if type(node.op) in _BINOPS:
            node.left.nep50_inner = node.right.nep50_inner = True
        self.generic_visit(node)
        stem = _BINOPS.get(type(node.op))
        if stem is None:
            return node
        out = self._binop(node, stem, sl, kl, sr, kr)
        if out is node and {sl, sr} == {MIXED, STRONG} and not self.not_numeric(node):
            node.left, node.right = self.guard_mixed(stem, node.left, node.right, sl == MIXED, node)
            return node
        if out is node and STRONG == sl == sr and self.not_numeric(node):
            # an operand may be a list, tuple or str: Python's operator for those, the ufunc's
            # loop for arrays (Numba's operator computes bool + bool by its scalar rules)
            return self.helper(stem + "_any", [node.left, node.right], node)
        if out is not node or MIXED in (sl, sr) or self.not_numeric(node):
            return out
        if WEAK == sl == sr:
            # Python floats (ints went to `*_py`): Python's rules, and the same text as for
            # NumPy values (one specialization for both), but no ufunc where Python raises
            if inner and isinstance(node.op, (gast.FloorDiv, gast.Mod, gast.Pow)):
                return node
            sl = sr = STRONG
        weak = 0 if sl == WEAK else 1 if sr == WEAK else -1
        if weak == -1:
            self.promote(stem, node)
        if inner and not isinstance(node.op, gast.Div):
            return self.ufunc_form(stem, [node.left, node.right], node)
        return self.settle(stem, node, [node.left, node.right], weak)

    def not_numeric(self, node):
        return _not_numeric(node) or _expr_non_numeric(node, getattr(self.fn, "non_numeric", ()),
                                                       getattr(self.fn, "holders", ()))

    def ufunc_form(self, stem, args, node):
        """`a + b` -> `np.add(a, b)` for an operation inside an array expression:
        Numba fuses both, but computes each element of an operator by its
        *scalar* rules (bool + bool is an int, -x of an unsigned int is
        negative, int8 + int8 does not wrap) and of a ufunc by the ufunc's
        loop, as NumPy does."""
        ufunc = nep50.UNARY[stem] if len(args) == 1 else nep50.OPERATORS[stem][1]
        func = A.attr(self.program.module_alias("numpy"), ufunc.__name__)
        func.tp_value = ufunc
        out = A.located(A.call(func, list(args)), node)
        if stem in ("add", "sub", "mul", "lshift", "pow", "negative"):
            # a signed integer narrower than 64 bits may overflow here, where NumPy wraps and
            # Numba lets LLVM assume it does not: `nep50.narrow` warns (a name: no cost to fusion)
            for k, a in enumerate(args):
                if isinstance(a, (gast.Name, gast.Subscript, gast.Attribute)):
                    p = self.typed(self.proxy(out, False), node)
                    if p is not None:
                        out.args[k] = A.located(A.call(A.attr(self.mod, "narrow"), [
                            a, p, A.const(ufunc.__name__), _where(self.spec, node)]), a)
                    break
        return out

    def promote(self, stem, node, ufunc_name=None):
        """`x * t` (NumPy values) -> `nep50.mul_promote_l(x, probe(t), where) * t`:
        an array operand (a name, subscript or call: not an inner operation,
        which Numba fuses) converted to the dtype NumPy computes in, where
        Numba would keep its dtype (a NumPy scalar of another kind)."""
        left, right = (node.args[0], node.args[1]) if ufunc_name else (node.left, node.right)
        leaf = lambda o: isinstance(o, (gast.Name, gast.Subscript, gast.Call, gast.Attribute)) \
            and not _is_ours(o, self.mod) \
            and not isinstance(getattr(getattr(o, "func", None), "tp_value", None), np.ufunc)  # noqa: E731
        for side, operand, other in (("l", left, right), ("r", right, left)):
            if not leaf(operand):
                continue
            p = self.typed(self.proxy(other, False), node)
            if p is None:
                continue
            args = [operand, p] if side == "l" else [p, operand]
            fixed = A.const(bool(leaf(other) and self.proxy(operand, False) is not None))
            if ufunc_name:
                call = self.helper("ufunc_promote", args + [A.const("lr".index(side)), A.const(ufunc_name), fixed],
                                   node)
            else:
                call = self.helper(f"{stem}_promote_{side}", args + [fixed], node)
            call.nep50_state = self.fn.expr(operand)
            if ufunc_name:
                node.args["lr".index(side)] = call
            elif side == "l":
                node.left = call
            else:
                node.right = call

    def settle(self, stem, node, operands, weak):
        """`a + b` -> `nep50.add_settle(a + b, probe(a), probe(b), weak, where)`:
        at typing time, NumPy's result dtype from the operands' dtypes; a scalar
        result is converted to it (int8 + int8 wraps at 8 bits), an array
        result of another dtype, or an operation NumPy rejects, is an error."""
        proxies = [self.typed(self.proxy(o, False), node) for o in operands]
        if any(p is None for p in proxies):
            return node
        name = f"{stem}_settle" if len(operands) == 2 else f"{stem}_settle1"
        args = [node] + proxies + ([A.const(weak)] if len(operands) == 2 else [])
        return self.helper(name, args, node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, gast.Not):
            self.generic_visit(node)
            return node
        s, _ = self.state(node.operand)
        inner = getattr(node, "nep50_inner", False)
        node.operand.nep50_inner = True
        self.generic_visit(node)
        stem = {gast.USub: "negative", gast.Invert: "invert", gast.UAdd: "positive"}.get(type(node.op))
        if stem is None or s != STRONG or self.not_numeric(node):
            return node
        if inner and stem != "positive":
            return self.ufunc_form(stem, [node.operand], node)
        return self.settle(stem, node, [node.operand], -1)

    # -- mixed locals: a Python number on some paths, NumPy values on others ------------
    def weak_kinds(self, node):
        """The mixed locals `node` reads and the kinds of the Python numbers they are assigned."""
        names, kinds = [], set()
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and self.fn.name_state(n.id)[0] == MIXED and n.id not in names:
                names.append(n.id)
                kinds |= {k for k, _ in self.weak_bindings(n.id)}
        return names, "".join(sorted(kinds))

    def weak_bindings(self, name):
        """(kind, Numba type) of each Python number local `name` is assigned (a float
        constant that float32 holds exactly is written np.float32: see visit_Assign)."""
        out = set()
        param = self.fn.params.get(name)
        sources = list(self.fn.sources.get(name, ())) + ([("state",) + tuple(param)] if param else [])
        for src in sources:
            state, kind = self.fn._source(src)
            if state != WEAK:
                continue
            kinds = [kind] if kind in ("i", "b", "f", "c") else ["i", "f"]
            for k in kinds:
                value = _float_constant(src[1], self.fn.np_alias) if src[0] == "expr" and k == "f" else None
                exact = value is not None and (math.isnan(value) or float(np.float32(value)) == value)
                out.add((k, "float32" if exact else {"i": "int64", "b": "bool", "f": "float64",
                                                     "c": "complex128"}[k]))
        return out

    def guard_mixed(self, stem, m, o, m_left, node, wrap_other=False):
        """(m, o) -> the operands of `stem` (left first) where `m` reads mixed locals
        and `o` is a NumPy value: one of them wrapped in `nep50.mixed`, which checks
        when Numba types it that NumPy's result dtype with the local a Python number
        is Numba's (`total = 0`, then `total + x[i]` for an int8 `x`: NumPy int8,
        Numba int64 once `total` is also int8 elsewhere)."""
        names, kinds = self.weak_kinds(m)
        if not names or not kinds:
            return (m, o) if m_left else (o, m)
        rest = [A.const(kinds), A.const(stem), A.const(bool(m_left)), A.const(", ".join(names)),
                _where(self.spec, node)]
        po = None if wrap_other else self.typed(self.proxy(o, False), node)
        if po is not None:
            m = A.located(A.call(A.attr(self.mod, "mixed"), [m, po] + rest), node)
            m.nep50_state = (MIXED, None)
        else:
            pm = self.typed(self.proxy(m, False), node)
            if pm is None:
                warn_at(f"`{names[0]}` is assigned a Python number and NumPy values: under jit it has one "
                        f"type where NumPy changes it, and this operation cannot be checked for it. Give "
                        f"`{names[0]}` a NumPy type where it is assigned the Python number",
                        self.spec.src.location(node))
                return (m, o) if m_left else (o, m)
            o = A.located(A.call(A.attr(self.mod, "mixed_of"), [o, pm] + rest), node)
            o.nep50_state = self.fn.expr(o.args[0])
        return (m, o) if m_left else (o, m)

    def bound_mixed(self, name, node):
        """After `name = <a NumPy value>` (`name` mixed): `nep50.mixed_bound(name, ...)`,
        which checks that Numba merging the value's type with the Python numbers'
        where paths join keeps it (a Python int with int8 values: int64)."""
        weak = sorted({t for _, t in self.weak_bindings(name)})
        if not weak:
            return None
        call = A.call(A.attr(self.mod, "mixed_bound"), [A.name(name), A.const(",".join(weak)), A.const(name),
                                                         _where(self.spec, node)])
        return A.located(A.expr_stmt(call), node)

    def _binop(self, node, stem, sl, kl, sr, kr):
        if sl == WEAK and sr == WEAK:
            if stem == "pow" and _negative_int(node.right):
                # Python: an int to a negative power is a float
                node.left = A.located(A.call(A.name("float"), [node.left]), node.left)
                return node
            if stem in _INT_CHECKED and kl in ("i", "b", None) and kr in ("i", "b", None):
                return self.helper(stem + "_py", [node.left, node.right], node)
            return node     # Python floats: Python's own rules (divisions: the `checks` pass)
        if isinstance(node.op, _DIVISIONS) and (STRONG in (sl, sr) or WEAK in (sl, sr)):
            node.divisor_checked = True     # a NumPy operand: inf or nan, no ZeroDivisionError
        if sl == WEAK or sr == WEAK:
            pair = self.binary(stem, node.left, node.right, sl == WEAK, node)
            if pair is not None:            # the operation stays (Numba fuses array expressions)
                node.left, node.right = pair
                return node
            return self.helper(f"{stem}_{'l' if sl == WEAK else 'r'}", [node.left, node.right], node)
        return node

    def visit_Compare(self, node):
        states = [self.state(v)[0] for v in [node.left] + node.comparators]
        for v in [node.left] + node.comparators:
            v.nep50_inner = True
        self.generic_visit(node)
        if len(node.ops) != 1 or type(node.ops[0]) not in _CMPOPS:
            return node
        sl, sr = states
        if (sl == WEAK) == (sr == WEAK):
            return node
        stem = _CMPOPS[type(node.ops[0])]
        pair = self.binary(stem, node.left, node.comparators[0], sl == WEAK, node)
        if pair is not None:
            node.left, node.comparators = pair[0], [pair[1]]
            return node
        return self.helper(f"{stem}_{'l' if sl == WEAK else 'r'}", [node.left, node.comparators[0]], node)

    def visit_Call(self, node):
        states = [self.state(a)[0] for a in node.args]
        fval = getattr(node.func, "tp_value", None)
        if isinstance(fval, np.ufunc):
            for a in node.args:
                a.nep50_inner = True
        self.generic_visit(node)
        if node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
            return node
        if isinstance(fval, np.ufunc) and fval.nin == 2 and len(node.args) == 2 \
                and getattr(np, fval.__name__, None) is fval and set(states) == {MIXED, STRONG} \
                and not self.not_numeric(node):
            k = states.index(MIXED)
            node.args = list(self.guard_mixed(fval.__name__, node.args[k], node.args[1 - k], k == 0, node))
            return node
        if isinstance(getattr(fval, "__self__", None), np.random.RandomState) \
                and getattr(fval, "__name__", None) in RANDOM_NOT_NUMPYS:
            warn_at(f"np.random.{fval.__name__} under jit draws other numbers than NumPy's for the same "
                    f"seed (Numba's algorithm differs); its distribution is the same. Use backend='python' "
                    f"where the exact draws matter", self.spec.src.location(node))
        if isinstance(fval, np.ufunc) and fval.nin == 2 and len(node.args) == 2 \
                and getattr(np, fval.__name__, None) is fval and states[0] == states[1] == STRONG:
            # NumPy values: an operand converted where Numba's promotion differs, the result settled
            self.promote(None, node, fval.__name__)
            if getattr(node, "nep50_inner", False):
                return node
            proxies = [self.typed(self.proxy(a, False), node) for a in node.args]
            if any(p is None for p in proxies):
                return node
            return self.helper("ufunc_settle2", [node] + proxies + [A.const(fval.__name__)], node)
        if isinstance(fval, np.ufunc) and len(node.args) == 2 and fval.__name__ in nep50.UFUNCS \
                and nep50.UFUNCS[fval.__name__] is fval:
            sl, sr = states
            if (sl == WEAK) != (sr == WEAK):
                stem = fval.__name__
                pair = self.binary(stem, node.args[0], node.args[1], sl == WEAK, node)
                if pair is not None:
                    node.args = list(pair)
                    return node
                return self.helper(f"{stem}_{'l' if sl == WEAK else 'r'}", node.args, node)
        elif isinstance(fval, np.ufunc) and fval.nin == 1 and len(node.args) == 1 \
                and getattr(np, fval.__name__, None) is fval and states[0] != MIXED:
            arg = node.args[0]
            if isinstance(arg, (gast.Name, gast.Subscript, gast.Attribute)):
                # NumPy's dtype of the ufunc of this operand (a name: no cost to fusion)
                node.args[0] = A.located(A.call(A.attr(self.mod, "ufunc_arg"), [
                    arg, A.const(fval.__name__), _where(self.spec, node)]), arg)
            if getattr(node, "nep50_inner", False):
                return node
            p = self.typed(self.proxy(node.args[0], False), node)
            if p is not None:
                return self.helper("ufunc_settle", [node, p, A.const(fval.__name__)], node)
        elif (fval is max or fval is min) and len(node.args) == 2 and states != [WEAK, WEAK] \
                and not self.not_numeric(node.args[0]) and not self.not_numeric(node.args[1]):
            # Python returns one argument unchanged; Numba converts both to one type
            return self.helper("builtin_" + fval.__name__, node.args, node)
        elif fval is print:
            # Numba prints a float32 as the float64 it widens to: print Python's str of each value
            node.args = [A.located(A.call(A.attr(self.mod, "format_py" if st == WEAK else "format_np"),
                                          [a, A.const(""), A.const("s")]), a) for a, st in zip(node.args, states)]
            return node
        elif fval in (str, repr) and len(node.args) == 1:
            # Numba's str of a float is `<object type:float64>`: Python's, in object mode
            fn = A.attr(self.mod, "format_py" if states[0] == WEAK else "format_np")
            return A.located(A.call(fn, [node.args[0], A.const(""), A.const("s" if fval is str else "r")]), node)
        elif fval is np.where and len(node.args) == 3:
            s1, s2 = states[1:]
            if (s1 == WEAK) != (s2 == WEAK):
                return self.helper(f"where_{'l' if s1 == WEAK else 'r'}", node.args, node)
        return node

    def visit_JoinedStr(self, node):
        """f"{x.sum()} {n:3d}" -> format_np(npx.sum(x), '', '') + ' ' + format_py(n, '3d', ''):
        Python's formatting, in object mode (Numba's own prints `<object type:float64>`)."""
        parts = []
        for v in node.values:
            if isinstance(v, gast.FormattedValue):
                s, _ = self.state(v.value)
                value = self.visit(v.value)
                spec = self.visit(v.format_spec) if v.format_spec is not None else A.const("")
                conversion = {115: "s", 114: "r", 97: "a"}.get(v.conversion, "")
                fn = A.attr(self.mod, "format_py" if s == WEAK else "format_np")
                parts.append(A.located(A.call(fn, [value, spec, A.const(conversion)]), node))
            else:
                parts.append(v)
        if not parts:
            return A.located(A.const(""), node)
        if len(parts) == 1 and isinstance(parts[0], gast.Constant):
            return parts[0]
        out = parts[0]
        for p in parts[1:]:
            out = A.located(gast.BinOp(left=out, op=gast.Add(), right=p), node)
        return out

    def visit_AugAssign(self, node):
        target = node.target
        sv, kv = self.state(node.value)
        if isinstance(target, gast.Name):
            st, kt = self.state(A.name(target.id))
        else:
            st, kt = STRONG, None
        node.value = self.visit(node.value)
        if isinstance(target, gast.Subscript):
            target.slice = self.visit(target.slice)
        stem = _BINOPS.get(type(node.op))
        if stem is None:
            return node
        if isinstance(target, gast.Name) and st == MIXED and sv == STRONG and not self.not_numeric(node.value):
            _, node.value = self.guard_mixed(stem, A.name(target.id), node.value, True, node, wrap_other=True)
            bound = self.bound_mixed(target.id, node)
            return node if bound is None else [node, bound]
        if isinstance(target, gast.Name) and st == STRONG and sv == STRONG and stem in nep50.INPLACE \
                and not self.not_numeric(node.value) and not self.not_numeric(A.name(target.id)):
            # an array in place; a scalar (which Numba rebinds, computing an int8 `t + v` in int64)
            # settled to NumPy's dtype
            call = self.helper(stem + "_iop", [A.name(target.id), node.value], node)
            return A.located(A.assign(A.store(target.id), call), node)
        if st == WEAK and sv == WEAK:
            if stem in _INT_CHECKED and kt in ("i", "b", None) and kv in ("i", "b", None) \
                    and isinstance(target, gast.Name):
                call = self.helper(stem + "_py", [A.name(target.id), node.value], node)
                return A.located(A.assign(A.store(target.id), call), node)
            return node
        base = target if isinstance(target, gast.Name) else (
            target.value if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) else None)
        if sv == WEAK and base is not None:
            node.value = self.helper(stem + "_inplace", [A.name(base.id), node.value], node)
            node.divisor_checked = True
        elif isinstance(node.op, _DIVISIONS) and STRONG in (st, sv):
            node.divisor_checked = True
        return node

    def visit_Assign(self, node):
        target = node.targets[0] if len(node.targets) == 1 else None
        mixed = isinstance(target, gast.Name) and self.state(A.name(target.id))[0] == MIXED \
            and self.state(node.value)[0] == STRONG and not self.not_numeric(node.value)
        self.generic_visit(node)
        if mixed:
            bound = self.bound_mixed(target.id, node)
            return node if bound is None else [node, bound]
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Name) \
                and _float_constant(node.value, self.fn.np_alias) is not None:
            s, _ = self.state(A.name(node.targets[0].id))
            if s == MIXED:
                value = _float_constant(node.value, self.fn.np_alias)
                if value is not None and (math.isnan(value) or float(np.float32(value)) == value):
                    np_alias = self.program.module_alias("numpy")
                    node.value = A.located(A.call(A.attr(np_alias, "float32"), [node.value]), node.value)
                elif value is not None:
                    warn_at(f"'{node.targets[0].id}' is assigned the Python float {value!r}, which float32 "
                            f"cannot hold exactly, and elsewhere NumPy values: under jit it is float64 "
                            f"throughout, where NumPy makes it float32 if those are float32. Write "
                            f"np.float32({value!r}) or np.float64({value!r})", self.spec.src.location(node))
        return node


def _not_numeric(node):
    """Whether an operation may be on strings, lists or tuples (not a ufunc's)."""
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (str, bytes))
    if isinstance(node, (gast.JoinedStr, gast.List, gast.Tuple, gast.ListComp, gast.Dict, gast.Set)):
        return True
    children = list(gast.iter_child_nodes(node))
    if _is_ours(node, "nep50"):
        if node.func.attr.startswith("format_"):
            return True
        children = [a for a in node.args if not isinstance(a, gast.Constant)]    # (the `where` text)
    return any(_not_numeric(c) for c in children)


def _negative_int(node):
    """`-2`: a literal negative int."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
        return isinstance(node, gast.Constant) and type(node.value) is int and node.value > 0
    return isinstance(node, gast.Constant) and type(node.value) is int and node.value < 0


def _float_constant(node, np_alias):
    """The Python float `node` denotes (`0.0`, `-1.5`, `np.inf`, `-np.inf`), else None."""
    sign = 1.0
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        sign = -1.0 if isinstance(node.op, gast.USub) else 1.0
        node = node.operand
    if isinstance(node, gast.Constant) and type(node.value) is float:
        return sign * node.value
    if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and node.value.id == np_alias \
            and node.attr in ("inf", "nan"):
        return sign * (math.inf if node.attr == "inf" else math.nan)
    return None


def run(program, options):
    """Rewrite every function of `program` (plain jit, backend 'numba')."""
    weak_args = options.get("weak_args", {})
    fns = analyze(program, weak_args)
    _non_numeric_names(program, fns, set(options.get("nonnumeric_args", ())))
    uses = False
    for spec, fn in fns.items():
        rewrite = _Rewrite(program, fn, "nep50")
        spec.node = rewrite.visit(spec.node)
        program.nep50_sensitive = getattr(program, "nep50_sensitive", False) or fn.sensitive
        uses = uses or any(isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name)
                           and n.value.id == "nep50" for n in gast.walk(spec.node))
    if uses:
        program.imports.setdefault("runtime.nep50", "nep50")
    return program
