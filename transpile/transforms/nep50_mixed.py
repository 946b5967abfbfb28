"""The NEP 50 rewriter's rules for assignments (transforms/nep50_rewrite.py).

A *mixed* local is assigned a Python number on some paths and NumPy values
on others: an operation that reads one is checked by `nep50.mixed` (or
`mixed_of`), an assignment of a NumPy value to one by `nep50.mixed_bound`,
and a float constant float32 holds exactly is written `np.float32(v)`
there. `t op= v` on a local NumPy value becomes `t = nep50.add_iop(t, v, w)`;
a Python number `v` is converted (`nep50.add_inplace`); on Python ints the
operation is overflow-checked.
"""
import math

import gast
import numpy as np

from .. import astutil as A
from ..errors import warn_at
from .nep50_analysis import MIXED, STRONG, WEAK
from .nep50_operators import _BINOPS, _DIVISIONS, _INT_CHECKED
from .nep50_template import _where
from runtime import nep50


class _Mixed:
    """`_Rewrite`'s rules for assignments, in-place operators and mixed locals."""

    # -- mixed locals: a Python number on some paths, NumPy values on others ------------
    def weak_kinds(self, node):
        """The mixed locals `node` reads and the kinds of the Python numbers they are assigned;
        a conditional expression with a Python number on one side only counts as one
        (`(0.25 if c else s) * s`: NumPy gives the type of the side taken, Numba one type)."""
        names, kinds = [], set()
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and self.fn.name_state(n.id)[0] == MIXED and n.id not in names:
                names.append(n.id)
                kinds |= {k for k, _ in self.weak_bindings(n.id)}
            elif isinstance(n, gast.IfExp):
                (sb, kb), (so, ko) = self.fn.expr(n.body), self.fn.expr(n.orelse)
                if (sb == WEAK) != (so == WEAK):
                    k = kb if sb == WEAK else ko
                    kinds |= {k} if k in ("i", "b", "f", "c") else {"i", "f"}
                    if "the conditional expression" not in names:
                        names.append("the conditional expression")
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

    # -- assignments and in-place operators ------------------------------------------------
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
