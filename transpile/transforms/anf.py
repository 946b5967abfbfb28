"""ANF: one operation per statement, every operand a name or a constant.

    z = np.sum(np.sin(x) * y) + 1.0        _t1 = np.sin(x)
                                           _t2 = _t1 * y
                                           _t3 = np.sum(_t2)
                                           z = _t3 + 1.0

    y[i] += v                              _t1 = y[i]
                                           _t2 = _t1 + v
                                           y[i] = _t2

    x *= 2.0                               x = x * 2.0

    while x > 1e-8:                        _t1 = x > 1e-8
        x = x / 2.0                        while _t1:
                                               x = x / 2.0
                                               _t1 = x > 1e-8

    for row in X:                          _it1 = X
        s = s + row                        for _i1 in range(len(_it1)):
                                               row = _it1[_i1]
                                               s = s + row

`a and b` and `c if t else d` become `if` statements (Python's short-circuit
evaluation is kept). Chained comparisons are split.

Invariant established: each statement is `name = op(atoms)`,
`a, b = op(atoms)`, `name[index of atoms] = atom`, `op(atoms)` for its
effect, `if atom:`, `for name in range(atoms):`, `while atom:`, `break`,
`pass` or `return atom`; an atom is a Name or a constant; static callables
(`np.sin`, generated functions) stay as they are.
"""
import copy

import gast

from .. import astutil as A
from ..errors import UnsupportedSyntaxError
from ..naming import fresh_local
from . import cflow

_BUILTINS = {"range": range, "len": len, "enumerate": enumerate, "zip": zip, "slice": slice,
             "float": float, "int": int}


class _ANF:
    def __init__(self, program, spec):
        self.program = program
        self.spec = spec
        self.counter = {}
        self.modules = set(program.imports.values())
        self.lambdas = {}   # local name -> Lambda, inlined where called
        self.assigned = A.names_in(spec.node, gast.Store) | {a.id for a in spec.node.args.args}

    def fresh(self, base="_t"):
        return fresh_local(self.spec.locals, self.counter, base)

    def location(self, node):
        return self.spec.src.location(node)

    # -- expressions -------------------------------------------------------
    def is_static(self, node):
        """A callable or value known at generation time (module attribute, generated function)."""
        if hasattr(node, "tp_value"):
            return True
        if isinstance(node, gast.Attribute):
            return self.is_static(node.value)
        if isinstance(node, gast.Name) and node.id in _BUILTINS and node.id not in self.assigned:
            return True     # generated code names builtins (range, len) without tp_value
        if isinstance(node, gast.Name):
            return node.id in self.modules or node.id in {
                s.gen_name for s in list(self.program.functions) + list(getattr(self.program, "extra", ()))} \
                or node.id in {e.name for e in getattr(self.program, "embedded", ())}
        return False

    def atom(self, node, out):
        """An atom for `node`, emitting statements for its parts into `out`."""
        if isinstance(node, (gast.Name, gast.Constant)) or self.is_static(node):
            return node
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and isinstance(node.operand, gast.Constant):
            return node
        value = self.expr(node, out)
        name = self.fresh()
        out.append(A.located(A.assign(name, value), node))
        return A.located(A.name(name), node)

    def expr(self, node, out):
        """`node` as a simple expression over atoms."""
        if isinstance(node, (gast.Name, gast.Constant)) or self.is_static(node):
            return node
        if isinstance(node, gast.BinOp):
            node.left = self.atom(node.left, out)
            node.right = self.atom(node.right, out)
            return node
        if isinstance(node, gast.UnaryOp):
            node.operand = self.atom(node.operand, out)
            return node
        if isinstance(node, gast.Compare):
            if len(node.ops) == 1:
                node.left = self.atom(node.left, out)
                node.comparators = [self.atom(node.comparators[0], out)]
                return node
            # a < b < c  ->  a < b and b < c (b evaluated once)
            parts, left = [], self.atom(node.left, out)
            for op, right in zip(node.ops, node.comparators):
                parts.append(gast.Compare(left=left, ops=[op], comparators=[right]))
                left = right
            return self.expr(A.located(gast.BoolOp(op=gast.And(), values=parts), node), out)
        if isinstance(node, gast.BoolOp):
            name = self.fresh()
            first = self.atom(node.values[0], out)
            tail = node.values[1:]
            if tail and not (isinstance(first, gast.Name) and first.id not in self.assigned):
                # the `if` tests its own variable, never reassigned in its body: the adjoint
                # of the `if` must take the branch the forward took
                cond = self.fresh()
                out.append(A.located(A.assign(cond, first), node))
                first = A.name(cond)
            out.append(A.located(A.assign(name, first), node))
            if tail:
                rest = tail[0] if len(tail) == 1 else gast.BoolOp(op=node.op, values=tail)
                inner = []
                inner.append(A.located(A.assign(name, self.expr(A.located(rest, node), inner)), node))
                test = copy.deepcopy(first)
                if isinstance(node.op, gast.And):
                    stmt = gast.If(test=test, body=inner, orelse=[])
                else:
                    stmt = gast.If(test=test, body=[gast.Pass()], orelse=inner)
                out.append(A.located(stmt, node))
            return A.name(name)
        if isinstance(node, gast.IfExp):
            name = self.fresh()
            test = self.atom(node.test, out)
            body, orelse = [], []
            body.append(A.located(A.assign(name, self.expr(node.body, body)), node))
            orelse.append(A.located(A.assign(name, self.expr(node.orelse, orelse)), node))
            out.append(A.located(gast.If(test=test, body=body, orelse=orelse), node))
            return A.name(name)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in self.lambdas:
            return self.expr(self.inline_lambda(self.lambdas[node.func.id], node), out)
        if isinstance(node, gast.Call):
            if not self.is_static(node.func):
                if isinstance(node.func, gast.Attribute):     # a method: x.copy()
                    node.func.value = self.atom(node.func.value, out)
                else:
                    raise UnsupportedSyntaxError(
                        "calling a function held in a variable cannot be differentiated yet",
                        self.location(node))
            if any(isinstance(a, gast.Starred) for a in node.args):
                raise UnsupportedSyntaxError("calls with *args cannot be differentiated yet",
                                             self.location(node))
            node.args = [self.seq_atom(a, out) for a in node.args]
            for kw in node.keywords:
                kw.value = self.seq_atom(kw.value, out)
            return node
        if isinstance(node, gast.Subscript):
            node.value = self.atom(node.value, out)
            node.slice = self.index(node.slice, out)
            return node
        if isinstance(node, gast.Attribute):
            node.value = self.atom(node.value, out)
            return node
        if isinstance(node, (gast.Tuple, gast.List)):
            node.elts = [self.atom(e, out) for e in node.elts]
            return node
        if isinstance(node, gast.Dict):
            node.values = [self.atom(v, out) for v in node.values]
            return node
        raise UnsupportedSyntaxError(
            f"{type(node).__name__} expressions cannot be differentiated yet", self.location(node))

    def inline_lambda(self, lam, call):
        """The body of `lam` with its parameters replaced by the call's arguments."""
        params = [a.id for a in lam.args.args]
        if len(call.args) != len(params) or call.keywords or lam.args.vararg or lam.args.kwarg:
            raise UnsupportedSyntaxError("this call of a local lambda cannot be differentiated yet",
                                         self.location(call))
        subs = dict(zip(params, call.args))

        class _Sub(gast.NodeTransformer):
            def visit_Name(self, n):
                return copy.deepcopy(subs[n.id]) if n.id in subs else n

        return A.located(_Sub().visit(copy.deepcopy(lam.body)), call)

    def seq_atom(self, node, out):
        """Call arguments: atoms, or tuples/lists of atoms (np.concatenate([a, b]))."""
        if isinstance(node, (gast.Tuple, gast.List)):
            node.elts = [self.atom(e, out) for e in node.elts]
            return node
        return self.atom(node, out)

    def index(self, node, out):
        if isinstance(node, gast.Slice):
            for field in ("lower", "upper", "step"):
                part = getattr(node, field)
                if part is not None:
                    setattr(node, field, self.atom(part, out))
            return node
        if isinstance(node, gast.Tuple):
            node.elts = [self.index(e, out) for e in node.elts]
            return node
        return self.atom(node, out)

    # -- statements ----------------------------------------------------------
    def block(self, stmts):
        out = []
        for stmt in stmts:
            self.stmt(stmt, out)
        return out

    def stmt(self, node, out):
        if isinstance(node, gast.Assign):
            if len(node.targets) != 1:
                value = self.atom(node.value, out)
                for t in node.targets:
                    self.assign(t, value, node, out)
                return
            target = node.targets[0]
            if isinstance(target, gast.Name) and isinstance(node.value, gast.Lambda):
                self.lambdas[target.id] = node.value   # `f = lambda z: ...`: inlined at its calls
                return
            if isinstance(target, gast.Name):
                node.value = self.expr(node.value, out)
                out.append(node)
                return
            self.assign(target, self.expr(node.value, out)
                        if isinstance(target, gast.Tuple) else self.atom(node.value, out), node, out)
            return
        if isinstance(node, gast.AugAssign):
            target = node.target
            if isinstance(target, gast.Name):
                value = gast.BinOp(left=A.name(target.id), op=node.op, right=node.value)
                new = A.located(A.assign(target.id, A.located(value, node)), node)
                new.tp_inplace = True   # in place for an array (transforms/alias.py)
                self.stmt(new, out)
                return
            if isinstance(target, gast.Subscript):
                base = self.atom(target.value, out)
                index = self.index(target.slice, out)
                old = self.fresh()
                out.append(A.located(A.assign(old, gast.Subscript(value=A.name(base.id), slice=index,
                                                                 ctx=gast.Load())), node))
                value = self.atom(gast.BinOp(left=A.name(old), op=node.op, right=node.value), out)
                store = gast.Subscript(value=A.name(base.id), slice=_copy(index), ctx=gast.Store())
                out.append(A.located(A.assign(store, value), node))
                return
            raise UnsupportedSyntaxError("this augmented assignment cannot be differentiated yet",
                                         self.location(node))
        if isinstance(node, gast.Expr):
            if isinstance(node.value, gast.Constant):
                return  # docstring
            node.value = self.expr(node.value, out)
            out.append(node)
            return
        if isinstance(node, gast.Return):
            if node.value is not None:
                if isinstance(node.value, gast.Tuple):
                    node.value.elts = [self.atom(e, out) for e in node.value.elts]
                else:
                    node.value = self.atom(node.value, out)
            out.append(node)
            return
        if isinstance(node, gast.If):
            test = self.atom(node.test, out)
            if isinstance(test, gast.Name) and test.id in _assigned(node.body + node.orelse):
                name = self.fresh()
                out.append(A.located(A.assign(name, test), node))
                test = A.name(name)
            node.test = test
            node.body = self.block(node.body) or [gast.Pass()]
            node.orelse = self.block(node.orelse)
            out.append(node)
            return
        if isinstance(node, gast.While):
            test_stmts = []
            node.test = self.atom(node.test, test_stmts)
            out.extend(test_stmts)
            # Re-evaluate the test at the end of each trip that does not break (cflow put what
            # follows a `break` in the other branch of its `if`: the test goes there too, so a
            # trip's statements are the same ones forward and in the adjoint).
            node.body = cflow.append_tail(self.block(node.body), [copy.deepcopy(s) for s in test_stmts])
            out.append(node)
            return
        if isinstance(node, gast.For):
            self.for_(node, out)
            return
        if isinstance(node, (gast.Break, gast.Pass, gast.Continue)):
            out.append(node)
            return
        raise UnsupportedSyntaxError(f"{type(node).__name__} statements cannot be differentiated yet",
                                     self.location(node))

    def assign(self, target, value, node, out):
        if isinstance(target, gast.Name):
            out.append(A.located(A.assign(target.id, value), node))
        elif isinstance(target, gast.Subscript):
            base = self.atom(target.value, out)
            target.value = base
            target.slice = self.index(target.slice, out)
            out.append(A.located(A.assign(target, value), node))
        elif isinstance(target, gast.Tuple) and all(isinstance(e, gast.Name) for e in target.elts):
            out.append(A.located(A.assign(target, value), node))
        elif isinstance(target, gast.Tuple):
            tmp = self.atom(value, out) if not isinstance(value, gast.Name) else value
            for k, e in enumerate(target.elts):
                part = gast.Subscript(value=A.name(tmp.id), slice=A.const(k), ctx=gast.Load())
                self.assign(e, self.atom(part, out), node, out)
        else:
            raise UnsupportedSyntaxError("this assignment target cannot be differentiated yet",
                                         self.location(node))

    def for_(self, node, out):
        if not isinstance(node.target, gast.Name) and not (
                isinstance(node.target, gast.Tuple) and all(isinstance(e, gast.Name) for e in node.target.elts)):
            raise UnsupportedSyntaxError("this loop target cannot be differentiated yet",
                                         self.location(node))
        it = node.iter
        func = getattr(it, "func", None)
        fval = getattr(func, "tp_value", None) if func is not None else None
        if fval is None and isinstance(func, gast.Name) and func.id in _BUILTINS \
                and func.id not in self.assigned:
            fval = _BUILTINS[func.id]
        body_pre = []
        if fval is range and isinstance(node.target, gast.Name):
            it.args = [self.atom(a, out) for a in it.args]
            node.iter = it
        else:
            if fval is enumerate and isinstance(node.target, gast.Tuple) and len(node.target.elts) == 2 \
                    and len(it.args) == 1:
                seqs, targets, counter = [it.args[0]], [node.target.elts[1]], node.target.elts[0].id
            elif fval is zip and isinstance(node.target, gast.Tuple) and len(node.target.elts) == len(it.args):
                seqs, targets, counter = list(it.args), list(node.target.elts), None
            elif isinstance(node.target, gast.Name) and func is None:
                seqs, targets, counter = [it], [node.target], None
            else:
                raise UnsupportedSyntaxError(
                    "loops over this iterable cannot be differentiated yet: use range, enumerate, "
                    "zip or an array", self.location(node))
            names = []
            for seq in seqs:
                name = self.fresh("_it")
                out.append(A.located(A.assign(name, self.expr(seq, out)), node))
                names.append(name)
            counter = counter or self.fresh("_i")
            length = A.call(A.name("len"), [A.name(names[0])])
            length.func.tp_value = len
            if len(names) > 1:
                lengths = []
                for n in names:
                    call = A.call(A.name("len"), [A.name(n)])
                    call.func.tp_value = len
                    lengths.append(self.atom(call, out))
                length = A.call(A.name("min"), lengths)
                length.func.tp_value = min
            n_atom = self.atom(length, out)
            rng = A.call(A.name("range"), [n_atom])
            rng.func.tp_value = range
            node.iter = rng
            node.target = A.store(counter)
            for seq_name, t in zip(names, targets):
                body_pre.append(A.located(A.assign(t.id, gast.Subscript(
                    value=A.name(seq_name), slice=A.name(counter), ctx=gast.Load())), node))
        node.body = body_pre + self.block(node.body)
        out.append(node)


def _copy(node):
    new = copy.deepcopy(node)
    for n in gast.walk(new):
        if hasattr(n, "ctx") and isinstance(n.ctx, gast.Store):
            n.ctx = gast.Load()
    return new


def _assigned(stmts):
    names = set()
    for stmt in stmts:
        for n in gast.walk(stmt):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                names.add(n.id)
    return names


def run(program, spec):
    spec.node.body = _ANF(program, spec).block(spec.node.body)
    return spec.node


def _flatten_locations(stmts):
    """Give every node of a simple statement the statement's line (inlined rule
    templates carry lines of the rule's own file, which ANF would copy)."""
    for stmt in stmts:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            heads = [stmt.test] if not isinstance(stmt, gast.For) else [stmt.iter, stmt.target]
            parts = heads
            _flatten_locations(stmt.body)
            _flatten_locations(stmt.orelse)
        else:
            parts = [stmt]
        line = getattr(stmt, "lineno", None)
        for part in parts:
            for n in gast.walk(part):
                if hasattr(n, "lineno"):
                    n.lineno = line


def run_generated(program):
    """ANF on generated functions that are not in ANF yet (reverse-mode output)."""
    for e in program.extra:
        if not getattr(e, "anf_done", False):
            _flatten_locations(e.node.body)
            run(program, e)
            e.locals |= A.names_in(e.node)
            e.anf_done = True


def restore_in_place(program, spec):
    """`b = b - g` back to `b -= g` where ANF made it from an augmented assignment, in code
    that runs as written (a jitted function that calls a transformation): Python writes an
    array operand in place, and the caller sees the write. The derivative and batched
    functions made from `spec` are copies taken before this pass."""
    for n in gast.walk(spec.node):
        for field in ("body", "orelse"):
            stmts = getattr(n, field, None)
            if not isinstance(stmts, list):
                continue
            for k, st in enumerate(stmts):
                if getattr(st, "tp_inplace", False) and isinstance(st, gast.Assign) \
                        and isinstance(st.targets[0], gast.Name) and isinstance(st.value, gast.BinOp) \
                        and isinstance(st.value.left, gast.Name) and st.value.left.id == st.targets[0].id:
                    aug = gast.AugAssign(target=A.store(st.targets[0].id), op=st.value.op, value=st.value.right)
                    stmts[k] = A.located(aug, st)
    return spec.node
