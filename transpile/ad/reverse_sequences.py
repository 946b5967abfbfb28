"""Reverse mode's lists and tuples: the names bound to displays, whose cotangents
are lists with one entry per element (`sequences`); displays given to NumPy
functions, turned into arrays first (`hoist_displays`); the adjoint of
`lst.append(v)`; `v = lst.pop()` recognised (`is_list_pop`, its adjoint is in
`reverse_statements.rule`); and the uses of a list that are refused
(`check_sequence_use`).

`SequenceAdjoints` is a mixin of `reverse.ReverseAD`; `reverse_statements` calls
it for the statements that touch a list.
"""
import copy

import gast
import numpy as np

from .. import astutil as A
from ..errors import TranspileError


class SequenceAdjoints:
    """Lists and tuples whose cotangents are lists (mixin of `ReverseAD`)."""

    def sequences(self, body):
        """Names bound to list or tuple displays (`xs = []`, `t = (a, b)`): their cotangents
        are lists. A name bound to a display and to something else is refused."""
        kinds = {}
        for n in gast.walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Name):
                seq = isinstance(n.value, (gast.List, gast.Tuple))
                kinds.setdefault(n.targets[0].id, set()).add((seq, n))
        out = set()
        for var, sites in kinds.items():
            if any(seq for seq, _ in sites):
                if not all(seq for seq, _ in sites):
                    node = next(n for seq, n in sites if not seq)
                    self._mixed_seq = (var, node)   # refused only if it carries derivatives
                out.add(var)
        return out

    def hoist_displays(self, body):
        """`np.sum([a, b])`: a list or tuple display (or a list variable) given to a NumPy
        function that converts it to an array becomes `_arr = np.array([a, b])` first, so
        one rule (np.array's) splits the cotangent among the elements."""
        k = 0
        while k < len(body):
            stmt = body[k]
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    self.hoist_displays(inner)
            value = stmt.value if isinstance(stmt, (gast.Assign, gast.Expr)) else None
            new = []
            if isinstance(value, gast.Call) and self.callee_of(value.func) is None:
                fn = self.resolve_func(value.func)
                if fn is np.array and value.args and isinstance(value.args[0], gast.Name) \
                        and value.args[0].id in self.seqs:
                    # Numba rewrites `np.array(lst)` of a list built by appends into the array
                    # itself, and the list is gone for the adjoint: asarray is left alone.
                    value.func = self.emit_global(np.asarray, value)
                if fn is not None and fn not in _SEQUENCE_FUNCS and fn not in (len, print) \
                        and getattr(fn, "__module__", "") not in ("runtime.tape",):
                    for j, arg in enumerate(value.args):
                        if isinstance(arg, (gast.List, gast.Tuple)) and any(
                                isinstance(e, gast.Name) for e in arg.elts) \
                                or isinstance(arg, gast.Name) and arg.id in self.seqs:
                            tmp = self.fresh("_arr")
                            conv = A.call(self.emit_global(np.array, arg), [arg])
                            new.append(A.located(A.assign(tmp, conv), stmt))
                            value.args[j] = A.name(tmp)
            body[k:k] = new
            k += len(new) + 1

    def append_adjoint(self, stmt):
        """`lst.append(v)`: its adjoint pops v's cotangent off `lst`'s cotangent list."""
        call = stmt.value
        lst = call.func.value.id
        if lst not in self.active:
            return []
        if lst not in self.seqs or len(call.args) != 1 or call.keywords:
            raise TranspileError(f"cannot differentiate appends to `{lst}`: only lists created "
                                 f"here with a display (`{lst} = []`) are differentiable",
                                 self.location(stmt))
        self.note(lst)
        v = call.args[0]
        b = self.bar(lst)
        pop = A.call(self.helper("runtime.adjoint", "pop_item"), [A.name(b), copy.deepcopy(v)])
        if isinstance(v, gast.Name) and v.id in self.active:
            if v.id in self.seqs:
                raise TranspileError("cannot differentiate a list appended to a list: build an "
                                     "array with np.array/np.stack instead", self.location(stmt))
            return [A.located(self.accumulate(v.id, pop), stmt)]
        return [A.located(A.expr_stmt(pop), stmt)]

    def check_sequence_use(self, stmt, st, names):
        """Lists and tuples carrying derivatives are differentiated where their cotangent
        lists stay exact: displays, appends, indexing, copies and NumPy functions that take
        them as arrays. Python's own list arithmetic (`xs + [v]`, `xs * 2`), a list rebound
        to something else, or a list given to a user function are refused."""
        seq_read = {m.id for m in gast.walk(stmt.value) if isinstance(m, gast.Name)} & self.seqs & self.active
        mixed = getattr(self, "_mixed_seq", None)
        if mixed is not None and mixed[0] in set(names) | seq_read:
            raise TranspileError(
                f"`{mixed[0]}` holds a list and, elsewhere, another kind of value; its derivative "
                f"cannot be followed. Give the new value its own name (`arr = np.array({mixed[0]})`)",
                self.location(mixed[1]))
        if not seq_read:
            return
        if st.kind == "rule" and isinstance(stmt.value, gast.BinOp):
            raise TranspileError(
                f"cannot differentiate Python list arithmetic on `{sorted(seq_read)[0]}` (`+` joins "
                f"lists, `*` repeats them): use np.array/np.concatenate, or `append`",
                self.location(stmt))
        if st.kind == "call":
            raise TranspileError(
                f"cannot differentiate the list `{sorted(seq_read)[0]}` passed to a function: pass "
                f"a list display (`g([a, b])`), whose elements become separate arguments, or an "
                f"array (`g(np.array(xs))`)", self.location(stmt))

    def is_list_pop(self, value):
        """`lst.pop()` (or `lst.pop(-1)`) of a differentiable list built here."""
        return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and value.func.attr == "pop" and isinstance(value.func.value, gast.Name) \
            and value.func.value.id in self.seqs and value.func.value.id in self.active \
            and not value.keywords and (not value.args or len(value.args) == 1 and isinstance(
                value.args[0], gast.UnaryOp) and isinstance(value.args[0].op, gast.USub)
                and isinstance(value.args[0].operand, gast.Constant) and value.args[0].operand.value == 1)


#: NumPy functions that take a sequence of arrays as such (the others convert it to one array)
_SEQUENCE_FUNCS = {np.array, np.asarray, np.stack, np.concatenate, np.hstack, np.vstack, np.dstack,
                   np.column_stack, np.block, np.einsum, np.broadcast_arrays, np.meshgrid}
