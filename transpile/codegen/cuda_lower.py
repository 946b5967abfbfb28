"""Device lowering: per-example generated code -> what one GPU thread runs.

A GPU thread works on numbers: no allocation, no lists, no BLAS, and only
`math` functions (Numba-CUDA lacks most NumPy ufuncs on numbers). Given the
per-example function of a CUDA kernel and the rank of each of its
parameters (0 for a number, k for a k-d array view of one example), this
pass follows every generated function it calls and

1. checks, with a rank for every value, that each statement can run in a
   thread, raising `TranspileError` at the user's line otherwise (an array
   expression, `np.zeros(n)` of a dynamic size, `@`, `print` of an array, a
   list, `raise`, a write into an argument);
2. rewrites what can (the result is still plain Python, run by the CUDA
   simulator as it is):

       _t4 = np.sin(_t3)                        _t4 = math.sin(_t3)
       y = np.maximum(x, 0.0)                   y = device.maximum(x, 0.0)
       s = checks.getitem(v, j, 'f.py:12')      s = v[j]
       q = a / checks.check_divisor(a, b, w)    q = a / b
       acc_dot = adjoint.zeros_like(acc)        acc_dot = 0.0
       _e0 = tangent.unit(x, 0)                 _e0 = 1.0
       buf = np.zeros(3)                        buf = cuda.local.array(3, np.float64)
                                                for _k in range(3):
                                                    buf[_k] = 0.0
       u = runtime_random.uniform(key)          u = cuda_random.uniform64(key, 0.0, 1.0)

Inside a GPU thread, Python's errors are not raised: division by zero gives
NumPy's inf/nan and indexing is not bounds-checked on the GPU (the
simulator checks it). The checks are in transpile/codegen/cuda_check.py, the
tables of what becomes what in transpile/codegen/cuda_tables.py; the rewrite
is here.
"""
import copy

import gast
import numpy as np

from .. import astutil as A
from ..errors import TranspileError
from ..resolve import find_callee, resolve_static
from runtime import checks
from .cuda_check import Checker
from .cuda_tables import (ALLOC, BINOPS, COMPARE, DEVICE, DROPPED, INLINE, MATH, SAMPLERS, UNARY, alloc_call,
                          const_shape, dtype_of, is_builtin, sampler_call)


class Lowering:
    """Checks (cuda_check.py) and rewrites the functions a per-example entry reaches."""

    def __init__(self, program, elementwise=False):
        self.program = program
        self.hint = ("; tp.jit(f, backend='cuda') runs f element-wise, on one number of each array "
                     "argument (tp.vmap(f) maps f over examples)") if elementwise else ""
        self.done = {}              # (gen_name, ranks) -> return rank
        self.active = set()
        self.order = []             # specs in the order they were first reached

    def result(self, spec, ranks):
        """The rank (tree) `spec` returns for parameters of `ranks`; checks it on the way."""
        key = (spec.gen_name, tuple(ranks))
        if key in self.done:
            return self.done[key]
        if spec.gen_name in self.active:
            raise TranspileError("backend 'cuda': recursion cannot run in a GPU thread (Numba-CUDA "
                                 "compiles no recursive device function); write it as a loop",
                                 spec.src.location(spec.node))
        if spec not in self.order:
            self.order.append(spec)
        self.active.add(spec.gen_name)
        try:
            out = Checker(self, spec, ranks).run()
        finally:
            self.active.discard(spec.gen_name)
        self.done[key] = out
        return out

    def check_entry(self, spec, ranks):
        """Check the per-example entry; its result must be numbers (a tree of them)."""
        out = self.result(spec, ranks)

        def numbers(r):
            return r == 0 or r is None or (isinstance(r, list) and all(numbers(i) for i in r))
        if not numbers(out):
            raise TranspileError("backend 'cuda': each GPU thread returns numbers (one example's "
                                 "outputs), but this function returns something else (an array?); "
                                 "return numbers, or use backend 'numba'", spec.src.location(spec.node))
        return out

    def rewrite(self, aliases):
        """Rewritten copies of the reached functions' nodes, in order."""
        return [(spec, _Rewriter(self.program, spec, aliases).function()) for spec in self.order]


class _Rewriter(gast.NodeTransformer):
    """The rank-independent rewrite of one function (see the module docstring)."""

    def __init__(self, program, spec, aliases):
        self.program = program
        self.spec = spec
        self.aliases = aliases
        self.taken = set(spec.locals) | A.names_in(spec.node)
        self.counter = 0

    def function(self):
        node = copy.deepcopy(self.spec.node)
        node.body = self.body(node.body)
        return node

    def body(self, stmts):
        out = []
        for s in stmts:
            new = self.visit(s)
            if new is None:
                continue
            out.extend(new if isinstance(new, list) else [new])
        for s in out:
            for field in ("body", "orelse"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(s, field, self.body(inner))
        return out or [A.located(gast.Pass(), stmts[0])] if stmts else out

    def generic_visit(self, node):
        """Expressions only: the statement lists of a compound statement go through `body`."""
        kept = {f: getattr(node, f) for f in ("body", "orelse")
                if isinstance(getattr(node, f, None), list)}
        for f in kept:
            setattr(node, f, [])
        super().generic_visit(node)
        for f, stmts in kept.items():
            setattr(node, f, stmts)
        return node

    def fresh(self, base):
        while True:
            self.counter += 1
            name = f"{base}{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def visit_Assign(self, node):
        target = node.targets[0]
        if isinstance(target, gast.Name) and alloc_call(self.program, node.value):
            return self.local_array(target.id, node.value, node)
        return self.generic_visit(node)

    def local_array(self, name, call, stmt):
        fn = resolve_static(self.program, call.func, is_builtin)
        shape = call.args[0] if call.args else next(k.value for k in call.keywords if k.arg == "shape")
        dims = const_shape(shape)
        dtype = dtype_of(self.program, call, fn) or np.float64
        np_ = self.aliases["numpy"]
        alloc = A.assign(name, A.call(f"{self.aliases['numba.cuda']}.local.array",
                                      [A.const(dims[0]) if len(dims) == 1 else A.tuple_(A.const(d) for d in dims),
                                       A.dotted(f"{np_}.{np.dtype(dtype).name}")]))
        out = [A.located(alloc, stmt)]
        fill = ALLOC[fn]
        if fill == "fill":
            fill_node = call.args[1] if len(call.args) > 1 else next(k.value for k in call.keywords
                                                                       if k.arg == "fill_value")
            fill_node = self.visit(copy.deepcopy(fill_node))
        elif fill is None:
            return out
        else:
            fill_node = A.const(fill)
        idx = [self.fresh("_k") for _ in dims]
        loop_body = [A.assign(gast.Subscript(value=A.name(name), slice=A.name(idx[0]) if len(idx) == 1
                                             else A.tuple_(A.name(i) for i in idx), ctx=gast.Store()),
                              fill_node)]
        for i, d in reversed(list(zip(idx, dims))):
            loop_body = [gast.For(target=A.store(i), iter=A.call("range", [A.const(d)]),
                                  body=loop_body, orelse=[], type_comment=None)]
        for s in loop_body:
            A.located(s, stmt)
        return out + loop_body

    def visit_Expr(self, node):
        call = node.value
        if isinstance(call, gast.Call):
            fn = resolve_static(self.program, call.func, is_builtin)
            if fn in DROPPED:
                return None
            if fn is checks.setitem:
                args = [self.visit(a) for a in call.args]
                target = gast.Subscript(value=args[0], slice=args[1], ctx=gast.Store())
                return A.located(A.assign(target, args[2]), node)
        return self.generic_visit(node)

    def visit_Call(self, node):
        node = self.generic_visit(node)
        if find_callee(self.program, node.func) is not None:
            return node
        fn = resolve_static(self.program, node.func, is_builtin)
        args = node.args
        al = self.aliases
        new = None
        if fn in MATH:
            new = A.call(f"{al['math']}.{MATH[fn]}", args)
        elif fn in DEVICE:
            new = A.call(f"{al['runtime.cuda_device']}.{DEVICE[fn]}", args, node.keywords)
        elif fn in BINOPS:
            new = gast.BinOp(left=args[0], op=BINOPS[fn](), right=args[1])
        elif fn in COMPARE:
            new = gast.Compare(left=args[0], ops=[COMPARE[fn]()], comparators=[args[1]])
        elif fn in UNARY:
            new = gast.UnaryOp(op=UNARY[fn](), operand=args[0])
        elif fn is np.absolute:
            new = A.call("abs", args)
        elif fn is np.logical_not:
            new = gast.UnaryOp(op=gast.Not(), operand=args[0])
        elif fn in (np.logical_and, np.logical_or):
            op = gast.And() if fn is np.logical_and else gast.Or()
            new = gast.BoolOp(op=op, values=[A.call("bool", [a]) for a in args])
        elif fn is np.logical_xor:
            new = gast.Compare(left=A.call("bool", [args[0]]), ops=[gast.NotEq()],
                               comparators=[A.call("bool", [args[1]])])
        elif fn in INLINE:
            new = INLINE[fn](args)
        elif fn in SAMPLERS:
            name, sargs = sampler_call(self.program, node, fn)
            new = A.call(f"{al['runtime.cuda_random']}.{name}", sargs)
        if new is None:
            return node
        return A.located(new, node)
