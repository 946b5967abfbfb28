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
simulator checks it). The checks are in transpile/codegen/cuda_check.py; the
tables of what becomes what, and the rewrite, are here.
"""
import builtins
import copy
import inspect

import gast
import numpy as np

from .. import astutil as A
from ..ad.analysis import find_callee, resolve_static
from ..errors import TranspileError
from runtime import adjoint, checks, npx, tangent, tape
from runtime import random as rrandom

MODULES = {"math": "math", "numba.cuda": "cuda", "runtime.cuda_device": "device",
           "runtime.cuda_random": "cuda_random", "numpy": "np"}

MATH = {np.sin: "sin", np.cos: "cos", np.tan: "tan", np.arcsin: "asin", np.arccos: "acos",
        np.arctan: "atan", np.sinh: "sinh", np.cosh: "cosh", np.tanh: "tanh", np.arcsinh: "asinh",
        np.arccosh: "acosh", np.arctanh: "atanh", np.exp: "exp", np.expm1: "expm1", np.log: "log",
        np.log1p: "log1p", np.log2: "log2", np.log10: "log10", np.sqrt: "sqrt", np.fabs: "fabs",
        np.arctan2: "atan2", np.hypot: "hypot", np.copysign: "copysign", np.isnan: "isnan",
        np.isinf: "isinf", np.isfinite: "isfinite", np.degrees: "degrees", np.rad2deg: "degrees",
        np.radians: "radians", np.deg2rad: "radians"}
DEVICE = {np.maximum: "maximum", np.minimum: "minimum", np.fmax: "fmax", np.fmin: "fmin",
          np.sign: "sign", np.clip: "clip", np.floor: "floor", np.ceil: "ceil", np.trunc: "trunc",
          np.rint: "rint", np.heaviside: "heaviside", npx.heaviside: "heaviside",
          np.logaddexp: "logaddexp", np.square: "square", np.reciprocal: "reciprocal",
          np.exp2: "exp2", np.power: "power", np.where: "where",
          adjoint.tie_weight: "tie_weight", adjoint.safe_log: "safe_log"}
BINOPS = {np.add: gast.Add, np.subtract: gast.Sub, np.multiply: gast.Mult, np.true_divide: gast.Div,
          np.floor_divide: gast.FloorDiv, np.mod: gast.Mod, np.remainder: gast.Mod}
COMPARE = {np.greater: gast.Gt, np.greater_equal: gast.GtE, np.less: gast.Lt,
           np.less_equal: gast.LtE, np.equal: gast.Eq, np.not_equal: gast.NotEq}
UNARY = {np.negative: gast.USub, np.positive: gast.UAdd}
ALLOC = {np.zeros: 0.0, np.ones: 1.0, np.empty: None, np.full: "fill"}
BLAS = {np.dot, np.matmul, np.inner, np.outer, np.tensordot, np.einsum, np.kron, np.vdot,
        npx.dot, npx.matmul, npx.inner, npx.tensordot, npx.einsum, npx.kron, npx.trace, npx.norm}
NUMBER_TYPES = {np.float64, np.float32, np.int64, np.int32, np.int16, np.int8, np.uint64,
                np.uint32, np.uint16, np.uint8, np.bool_, float, int, bool}
SCALAR_BUILTINS = {abs, min, max, float, int, bool, round, pow}
INLINE = {   # runtime helper -> how a call becomes an expression (argument nodes in)
    checks.getitem: lambda a: gast.Subscript(value=a[0], slice=a[1], ctx=gast.Load()),
    checks.check_index: lambda a: a[0],
    checks.check_divisor: lambda a: a[1],
    checks.divide: lambda a: gast.BinOp(left=a[0], op=gast.Div(), right=a[1]),
    checks.floor_divide: lambda a: gast.BinOp(left=a[0], op=gast.FloorDiv(), right=a[1]),
    checks.mod: lambda a: gast.BinOp(left=a[0], op=gast.Mod(), right=a[1]),
    adjoint.zeros_like: lambda a: A.const(0.0),
    adjoint.unbroadcast: lambda a: A.call("float", [a[0]]),
    tangent.fit: lambda a: A.call("float", [a[0]]),
    tangent.unit: lambda a: A.const(1.0),
    tangent.real_tangent: lambda a: a[0],       # a GPU thread's numbers: typed real (or refused)
    tape.grad_seed: lambda a: A.const(1.0),
    tape.stop_gradient: lambda a: a[0],
    tape.save: lambda a: a[0],
    tape.keeps: lambda a: A.const(False),
}
DROPPED = {checks.check_unpack, tape.grad_seed, checks.unwritten_view, checks.view_index,
           checks.rebinds_number}   # as statements: nothing to do on numbers
SAMPLERS = {rrandom.uniform: "uniform", rrandom.normal: "normal"}


def is_builtin(name):
    return hasattr(builtins, name)


def source(node):
    """One line of source for an error message."""
    from .to_source import to_source
    try:
        return to_source(node).strip()
    except Exception:       # a fragment astor cannot print alone
        return type(node).__name__


def const_shape(node):
    """The shape tuple of a constant int or tuple of ints, else None."""
    if isinstance(node, gast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return (node.value,) if node.value >= 0 else None
    if isinstance(node, gast.Tuple) and node.elts:
        dims = [const_shape(e) for e in node.elts]
        if all(d is not None and len(d) == 1 for d in dims):
            return tuple(d[0] for d in dims)
    return None


def alloc_call(program, node):
    """Whether `node` calls np.zeros/ones/empty/full."""
    return isinstance(node, gast.Call) and resolve_static(program, node.func, is_builtin) in ALLOC


def alloc_shape(call):
    return call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "shape"), None)


def dtype_of(program, call, fn):
    """The NumPy type of an allocation's dtype (None when absent, False when
    not a constant NumPy number type)."""
    pos = 2 if fn is np.full else 1
    node = call.args[pos] if len(call.args) > pos else next(
        (k.value for k in call.keywords if k.arg == "dtype"), None)
    if node is None or (isinstance(node, gast.Constant) and node.value is None):
        return None
    obj = resolve_static(program, node, is_builtin)
    if obj in (float, int, bool):
        obj = {float: np.float64, int: np.int64, bool: np.bool_}[obj]
    return obj if obj in NUMBER_TYPES else False


def sampler_call(program, call, fn):
    """(name in runtime.cuda_random, argument nodes) of a `tp.random` sampler
    call in a thread, or (None, why it cannot run there)."""
    try:
        args = inspect.signature(fn).bind(*call.args, **{k.arg: k.value for k in call.keywords}).arguments
    except TypeError as exc:
        return None, str(exc)
    shape = args.get("shape")
    if shape is not None and not (isinstance(shape, gast.Tuple) and not shape.elts):
        return None, ("a GPU thread draws one number per call (shape=()); call it once per "
                      "number, with keys from split")
    dtype = args.get("dtype")
    dt = dtype.value if isinstance(dtype, gast.Constant) else \
        None if dtype is None else resolve_static(program, dtype, is_builtin)
    bits = {None: "64", np.float64: "64", "float64": "64", float: "64", np.float32: "32",
            "float32": "32"}.get(dt)
    if bits is None:
        return None, "the dtype must be a constant float32 or float64"
    extra = []
    if fn is rrandom.uniform:
        extra = [args.get("minval", A.const(0.0)), args.get("maxval", A.const(1.0))]
    return f"{SAMPLERS[fn]}{bits}", [args["key"]] + extra


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
        from .cuda_check import Checker
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
