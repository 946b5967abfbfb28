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
simulator checks it).
"""
import builtins
import copy
import inspect
import math

import gast
import numpy as np

from .. import astutil as A
from ..ad.analysis import find_callee, resolve_static
from ..errors import TranspileError
from runtime import adjoint, checks, npx, tangent, tape
from runtime import random as rrandom

MODULES = {"math": "math", "numba.cuda": "cuda", "runtime.cuda_device": "device",
           "runtime.cuda_random": "cuda_random", "numpy": "np"}

_MATH = {np.sin: "sin", np.cos: "cos", np.tan: "tan", np.arcsin: "asin", np.arccos: "acos",
         np.arctan: "atan", np.sinh: "sinh", np.cosh: "cosh", np.tanh: "tanh", np.arcsinh: "asinh",
         np.arccosh: "acosh", np.arctanh: "atanh", np.exp: "exp", np.expm1: "expm1", np.log: "log",
         np.log1p: "log1p", np.log2: "log2", np.log10: "log10", np.sqrt: "sqrt", np.fabs: "fabs",
         np.arctan2: "atan2", np.hypot: "hypot", np.copysign: "copysign", np.isnan: "isnan",
         np.isinf: "isinf", np.isfinite: "isfinite", np.degrees: "degrees", np.rad2deg: "degrees",
         np.radians: "radians", np.deg2rad: "radians"}
_DEVICE = {np.maximum: "maximum", np.minimum: "minimum", np.fmax: "fmax", np.fmin: "fmin",
           np.sign: "sign", np.clip: "clip", np.floor: "floor", np.ceil: "ceil", np.trunc: "trunc",
           np.rint: "rint", np.heaviside: "heaviside", npx.heaviside: "heaviside",
           np.logaddexp: "logaddexp", np.square: "square", np.reciprocal: "reciprocal",
           np.exp2: "exp2", np.power: "power", np.where: "where",
           adjoint.tie_weight: "tie_weight", adjoint.safe_log: "safe_log"}
_BINOPS = {np.add: gast.Add, np.subtract: gast.Sub, np.multiply: gast.Mult, np.true_divide: gast.Div,
           np.floor_divide: gast.FloorDiv, np.mod: gast.Mod, np.remainder: gast.Mod}
_COMPARE = {np.greater: gast.Gt, np.greater_equal: gast.GtE, np.less: gast.Lt,
            np.less_equal: gast.LtE, np.equal: gast.Eq, np.not_equal: gast.NotEq}
_UNARY = {np.negative: gast.USub, np.positive: gast.UAdd}
_ALLOC = {np.zeros: 0.0, np.ones: 1.0, np.empty: None, np.full: "fill"}
_BLAS = {np.dot, np.matmul, np.inner, np.outer, np.tensordot, np.einsum, np.kron, np.vdot,
         npx.dot, npx.matmul, npx.inner, npx.tensordot, npx.einsum, npx.kron, npx.trace, npx.norm}
_NUMBER_TYPES = {np.float64, np.float32, np.int64, np.int32, np.int16, np.int8, np.uint64,
                 np.uint32, np.uint16, np.uint8, np.bool_, float, int, bool}
_SCALAR_BUILTINS = {abs, min, max, float, int, bool, round, pow}
_SHAPE = "shape"            # ranks besides ints and tuples (lists of ranks)
_STATIC = "static"
_RANGE = "range"
_INLINE = {   # runtime helper -> how a call becomes an expression (argument nodes in)
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
    tape.grad_seed: lambda a: A.const(1.0),
    tape.stop_gradient: lambda a: a[0],
    tape.save: lambda a: a[0],
    tape.keeps: lambda a: A.const(False),
}
_DROPPED = {checks.check_unpack, tape.grad_seed}      # as statements: nothing to do on numbers
_SAMPLERS = {rrandom.uniform: "uniform", rrandom.normal: "normal"}


def _is_builtin(name):
    return hasattr(builtins, name)


def _join(a, b):
    return a if a == b else None


class Lowering:
    """Checks and rewrites the functions a per-example entry reaches."""

    def __init__(self, program, elementwise=False):
        self.program = program
        self.hint = ("; tp.jit(f, backend='cuda') runs f element-wise, on one number of each array "
                     "argument (tp.vmap(f) maps f over examples)") if elementwise else ""
        self.done = {}              # (gen_name, ranks) -> return rank
        self.active = set()
        self.order = []             # specs in the order they were first reached

    # -- phase 1: ranks and checks -------------------------------------------------
    def result(self, spec, ranks):
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
            out = _Checker(self, spec, ranks).run()
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
                                 "outputs), but this function returns an array; return its "
                                 "elements, or use backend 'numba'", spec.src.location(spec.node))
        return out

    # -- phase 2: the rewrite -------------------------------------------------------
    def rewrite(self, aliases):
        """Rewritten copies of the reached functions' nodes, in order."""
        return [(spec, _Rewriter(self.program, spec, aliases).function()) for spec in self.order]


class _Checker:
    """Ranks of one function's values for one pattern of parameter ranks."""

    def __init__(self, lowering, spec, ranks):
        self.lowering = lowering
        self.program = lowering.program
        self.spec = spec
        params = [a.id for a in spec.node.args.args]
        self.env = dict(zip(params, ranks))
        self.params = set(params)
        self.local_arrays = set()
        self.check = False
        self.returns = None

    def run(self):
        self.block(self.spec.node.body)         # ranks of variables used before assigned in a loop
        self.check = True
        self.returns = None
        self.block(self.spec.node.body)
        return self.returns

    def fail(self, node, what, why):
        if self.check:
            raise TranspileError(f"backend 'cuda': {what} cannot run in a GPU thread: {why}"
                                 f"{self.lowering.hint}", self.spec.src.location(node))

    def text(self, node):
        return A.to_source(node).strip() if hasattr(A, "to_source") else _source(node)

    # -- statements -----------------------------------------------------------------
    def block(self, stmts):
        for s in stmts:
            self.stmt(s)

    def stmt(self, s):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name) and _alloc_call(self.program, s.value):
                self.env[target.id] = self.alloc(s.value)
                self.local_arrays.add(target.id)
                return
            self.assign(target, self.expr(s.value), s)
        elif isinstance(s, gast.AugAssign):
            value = self.binop(s, self.expr(s.target), self.expr(s.value), s.op)
            self.assign(s.target, value, s)
        elif isinstance(s, gast.For):
            it = s.iter
            if not (isinstance(it, gast.Call) and resolve_static(self.program, it.func, _is_builtin) is range):
                self.fail(s, f"`for ... in {_source(it)}`", "only loops over range() are compiled for "
                          "the GPU; loop over an index")
            self.expr(it)
            for n in A.names_in(s.target, gast.Store):
                self.env[n] = 0
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, (gast.While, gast.If)):
            r = self.expr(s.test)
            if isinstance(r, int) and r > 0:
                self.fail(s, f"a test on an array ({_source(s.test)})", "a thread branches on numbers")
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, gast.Return):
            r = self.expr(s.value) if s.value is not None else _STATIC
            self.returns = r if self.returns is None else _join(self.returns, r)
        elif isinstance(s, gast.Expr):
            if isinstance(s.value, gast.Call):
                self.call(s.value, statement=True)
            else:
                self.expr(s.value)
        elif isinstance(s, (gast.Raise, gast.Assert)):
            self.fail(s, "`raise`", "a GPU thread cannot raise an exception (CUDA reports none); "
                      "check the inputs before the call, or return NaN")
        elif isinstance(s, (gast.Pass, gast.Break, gast.Continue)):
            return
        else:
            self.fail(s, f"`{type(s).__name__}`", "not supported by the cuda backend")

    def assign(self, target, value, s):
        if isinstance(target, gast.Name):
            old = self.env.get(target.id)
            if self.check and old is not None and value is not None and old != value \
                    and (isinstance(old, int) or isinstance(value, int)):
                self.fail(s, f"`{target.id}`", "a variable that holds a number and an array in turn "
                          "cannot be typed for the GPU")
            self.env[target.id] = value if old is None or not self.check else old
            self.local_arrays.discard(target.id)
        elif isinstance(target, (gast.Tuple, gast.List)):
            items = value if isinstance(value, list) and len(value) == len(target.elts) else None
            if items is None and isinstance(value, int) and value > 0:
                self.fail(s, "unpacking an array", "index its elements instead")
            for k, t in enumerate(target.elts):
                self.assign(t, items[k] if items else None, s)
        elif isinstance(target, gast.Subscript):
            base = target.value
            while isinstance(base, gast.Subscript):
                base = base.value
            self.expr(target.slice)
            if isinstance(base, gast.Name) and base.id not in self.local_arrays:
                self.fail(s, f"writing into `{base.id}`", "the kernel's inputs are read-only (a "
                          "GPU thread changes only its own local arrays: np.zeros of a constant "
                          "shape)")
            if isinstance(value, int) and value > 0:
                self.fail(s, "an array assignment", "assign the elements one by one")

    def alloc(self, call):
        fn = resolve_static(self.program, call.func, _is_builtin)
        shape = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "shape"),
                                                    None)
        dims = _const_shape(shape)
        if dims is None:
            self.fail(call, f"`{_source(call)}`", "an array of dynamic size cannot be allocated "
                      "inside a kernel; give it a constant shape (a small per-thread local array)")
            return None
        for a in call.args[1:] + [k.value for k in call.keywords if k.arg != "shape"]:
            self.expr(a)
        if fn is np.full and _dtype_of(self.program, call, fn) is None and not (
                len(call.args) > 1 or any(k.arg == "fill_value" for k in call.keywords)):
            self.fail(call, f"`{_source(call)}`", "np.full needs a fill value")
        if _dtype_of(self.program, call, fn) is False:
            self.fail(call, f"`{_source(call)}`", "the dtype must be a constant NumPy type")
        return len(dims)

    # -- expressions ------------------------------------------------------------------
    def expr(self, node):
        if node is None:
            return _STATIC
        if isinstance(node, gast.Constant):
            return 0 if isinstance(node.value, (bool, int, float, complex)) else _STATIC
        if isinstance(node, gast.Name):
            if node.id in self.env:
                return self.env[node.id]
            return _STATIC if node.id in self.program.imports.values() or _is_builtin(node.id) else None
        if isinstance(node, gast.Tuple):
            return [self.expr(e) for e in node.elts]
        if isinstance(node, (gast.List, gast.ListComp)):
            self.fail(node, "a list", _tape_hint(node))
            return None
        if isinstance(node, (gast.Dict, gast.Set, gast.DictComp, gast.SetComp, gast.GeneratorExp)):
            self.fail(node, f"a {type(node).__name__.lower()}", "a GPU thread has no heap objects")
            return None
        if isinstance(node, gast.JoinedStr):
            self.fail(node, "an f-string", "print numbers and constant strings")
            return _STATIC
        if isinstance(node, gast.BinOp):
            if isinstance(node.op, gast.MatMult):
                self.fail(node, "`@`", "it is a BLAS call (a matrix product); write the product "
                          "as loops over elements")
            return self.binop(node, self.expr(node.left), self.expr(node.right), node.op)
        if isinstance(node, gast.UnaryOp):
            return self.numbers(node, [self.expr(node.operand)])
        if isinstance(node, gast.BoolOp):
            return self.numbers(node, [self.expr(v) for v in node.values])
        if isinstance(node, gast.Compare):
            return self.numbers(node, [self.expr(node.left)] + [self.expr(c) for c in node.comparators])
        if isinstance(node, gast.IfExp):
            self.numbers(node, [self.expr(node.test)])
            return _join(self.expr(node.body), self.expr(node.orelse))
        if isinstance(node, gast.Subscript):
            return self.subscript(node)
        if isinstance(node, gast.Attribute):
            return self.attribute(node)
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.Slice):
            for part in (node.lower, node.upper, node.step):
                self.expr(part)
            return _STATIC
        self.fail(node, f"`{_source(node)}`", "not supported by the cuda backend")
        return None

    def numbers(self, node, ranks):
        if any(isinstance(r, int) and r > 0 for r in ranks):
            self.fail(node, f"the array expression `{_source(node)}`", "it would allocate a new "
                      "array; a GPU thread computes with numbers: index the array in a loop")
            return max(r for r in ranks if isinstance(r, int))
        if any(r is None for r in ranks):
            return None
        return 0

    def helper(self, node, fn, args):
        """The rank of a call to a runtime helper that the rewrite inlines."""
        if fn in (checks.getitem, checks.setitem):
            ctx = gast.Load() if fn is checks.getitem else gast.Store()
            sub = gast.copy_location(gast.Subscript(value=node.args[0], slice=node.args[1], ctx=ctx),
                                     node)
            if fn is checks.getitem:
                return self.subscript(sub)
            self.assign(sub, args[2], node)
            return _STATIC
        if fn in (checks.check_index, tape.stop_gradient, tape.save):
            return args[0]
        if fn is checks.check_unpack:
            return _STATIC
        if fn is tape.grad_seed and isinstance(args[0], int) and args[0] > 0:
            self.fail(node, "grad of a function whose output is an array", "Gradient only defined "
                      "for scalar-output functions")
        return self.numbers(node, args[:2])

    def binop(self, node, left, right, op):
        if isinstance(left, list) or isinstance(right, list):
            self.fail(node, "tuple arithmetic", "not supported by the cuda backend")
            return None
        return self.numbers(node, [left, right])

    def subscript(self, node):
        base = self.expr(node.value)
        index = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if isinstance(base, list):
            if isinstance(node.slice, gast.Constant) and isinstance(node.slice.value, int) \
                    and -len(base) <= node.slice.value < len(base):
                return base[node.slice.value]
            return base[0] if base and all(b == base[0] for b in base) else None
        if base == _SHAPE:
            self.expr(node.slice)
            return 0
        rank = base if isinstance(base, int) else None
        for i in index:
            if isinstance(i, gast.Slice):
                self.expr(i)
                continue
            r = self.expr(i)
            if isinstance(r, int) and r > 0 or (isinstance(i, gast.Constant) and i.value is None):
                self.fail(node, f"`{_source(node)}`", "indexing with an array (or None) creates a "
                          "new array; index with integers")
            if rank is not None:
                rank -= 1
        return rank

    def attribute(self, node):
        value = self.expr(node.value)
        if value == 0 and node.attr in ("shape", "ndim", "size", "T"):
            self.fail(node, f"`{_source(node)}`", "it is a number here, which has no shape")
            return _SHAPE if node.attr == "shape" else 0
        if isinstance(value, int):
            if node.attr == "shape":
                return _SHAPE
            if node.attr in ("ndim", "size"):
                return 0
            if node.attr in ("T", "real", "imag"):
                return value
            if node.attr == "dtype":
                return _STATIC
            self.fail(node, f"`{_source(node)}`", "not supported by the cuda backend")
            return None
        obj = resolve_static(self.program, node, _is_builtin)
        if isinstance(obj, (bool, int, float)):
            return 0
        return _STATIC

    def call(self, node, statement=False):
        program = self.program
        callee = find_callee(program, node.func)
        if callee is not None:
            ranks = [self.expr(a) for a in node.args]
            if any(r is None for r in ranks) and not self.check:
                return None
            return self.lowering.result(callee, tuple(_freeze(r) for r in ranks))
        fn = resolve_static(program, node.func, _is_builtin)
        args = [self.expr(a) for a in node.args]
        kws = {k.arg: self.expr(k.value) for k in node.keywords}
        what = f"`{_source(node)}`"
        if fn is None:
            method = node.func.attr if isinstance(node.func, gast.Attribute) else None
            if method in ("append", "pop", "extend", "insert"):
                self.fail(node, what, _tape_hint(node))
            else:
                self.fail(node, what, "not supported by the cuda backend")
            return None
        if fn in _BLAS or getattr(fn, "__module__", "") in ("numpy.linalg", "numpy.linalg._linalg"):
            self.fail(node, what, "it is a BLAS/LAPACK call (np.dot, @, np.linalg); write it "
                      "as loops over elements")
            return None
        if fn is print:
            for a, r in zip(node.args, args):
                if isinstance(r, int) and r > 0:
                    self.fail(node, f"printing the array `{_source(a)}`", "a GPU thread prints "
                              "numbers and constant strings")
            return _STATIC
        if fn is range:
            self.numbers(node, args)
            return _RANGE
        if fn is len:
            if args and args[0] == 0:
                self.fail(node, what, "it is a number here, which has no length")
            return 0
        if fn in _SAMPLERS:
            _sampler_args(self, node, fn)
            return 0
        if fn in _ALLOC:
            self.fail(node, what, "an array can be allocated in a GPU thread only as "
                      "`name = np.zeros(<constant shape>)` (a per-thread local array)")
            return None
        if fn in _INLINE or fn in _DROPPED or fn is checks.setitem:
            return self.helper(node, fn, args)
        elementwise = (fn in _MATH or fn in _DEVICE or fn in _BINOPS or fn in _COMPARE
                       or fn in _UNARY or fn in (np.absolute, np.logical_and, np.logical_or,
                                                 np.logical_not, np.logical_xor)
                       or fn in _SCALAR_BUILTINS or fn in _NUMBER_TYPES
                       or getattr(fn, "__module__", None) == "math")
        if elementwise:
            return self.numbers(node, args + list(kws.values()))
        if node.keywords and (fn in _MATH or fn in _BINOPS or fn in _COMPARE or fn in _UNARY):
            self.fail(node, what, "keyword arguments (out=, where=, ...) are not supported")
        name = getattr(fn, "__name__", repr(fn))
        module = getattr(fn, "__module__", "") or ""
        if module.startswith("numpy") or module.startswith("runtime.npx"):
            self.fail(node, what, f"np.{name} is not compiled for the GPU by the cuda backend "
                      f"(element-wise functions on numbers and math.* are)")
        else:
            self.fail(node, what, "not supported by the cuda backend")
        return None




def _freeze(r):
    return tuple(_freeze(i) for i in r) if isinstance(r, list) else r


def _tape_hint(node):
    return ("a GPU thread has no lists; reverse-mode AD keeps its tape in lists, so on the GPU "
            "differentiate with respect to numbers (vmap(grad(f)) of scalar arguments runs "
            "forward mode in each thread), or use backend 'numba'")


def _source(node):
    from .to_source import to_source
    try:
        return to_source(node).strip()
    except Exception:       # a fragment astor cannot print alone
        return type(node).__name__


def _const_shape(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return (node.value,) if node.value >= 0 else None
    if isinstance(node, gast.Tuple) and node.elts:
        dims = [_const_shape(e) for e in node.elts]
        if all(d is not None and len(d) == 1 for d in dims):
            return tuple(d[0] for d in dims)
    return None


def _alloc_call(program, node):
    return isinstance(node, gast.Call) and resolve_static(program, node.func, _is_builtin) in _ALLOC


def _dtype_of(program, call, fn):
    """The dtype node's NumPy type (None when absent, False when not a constant type)."""
    pos = 2 if fn is np.full else 1
    node = call.args[pos] if len(call.args) > pos else next(
        (k.value for k in call.keywords if k.arg == "dtype"), None)
    if node is None or (isinstance(node, gast.Constant) and node.value is None):
        return None
    obj = resolve_static(program, node, _is_builtin)
    if obj in (float, int, bool):
        obj = {float: np.float64, int: np.int64, bool: np.bool_}[obj]
    return obj if obj in _NUMBER_TYPES else False


def _bind(fn, call):
    sig = inspect.signature(fn)
    try:
        bound = sig.bind(*call.args, **{k.arg: k.value for k in call.keywords})
    except TypeError:
        return None
    return bound.arguments


def _sampler_args(checker, node, fn):
    """(name of the cuda_random function, argument nodes) of a tp.random call, or a failure."""
    args = _bind(fn, node)
    what = f"`{_source(node)}`"
    if args is None:
        checker.fail(node, what, "the arguments do not fit")
        return None
    shape = args.get("shape")
    if shape is not None and _const_shape(shape) != () and not (isinstance(shape, gast.Tuple) and not shape.elts):
        checker.fail(node, what, "a GPU thread draws one number per call (shape=()); call it once "
                     "per number with keys from split")
        return None
    dtype = args.get("dtype")
    dt = None if dtype is None else resolve_static(checker.program, dtype, _is_builtin)
    if isinstance(dtype, gast.Constant):
        dt = dtype.value
    if dt in (None, np.float64, "float64", float):
        bits = "64"
    elif dt in (np.float32, "float32"):
        bits = "32"
    else:
        checker.fail(node, what, "the dtype must be a constant float32 or float64")
        return None
    extra = []
    if fn is rrandom.uniform:
        extra = [args.get("minval", A.const(0.0)), args.get("maxval", A.const(1.0))]
        for e in extra:
            checker.numbers(node, [checker.expr(e)])
    return f"{_SAMPLERS[fn]}{bits}", [args["key"]] + extra


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
        for field in ("body", "orelse"):
            if isinstance(getattr(node, field, None), list):
                kept = getattr(node, field)
                setattr(node, field, [])
                super().generic_visit(node)
                setattr(node, field, kept)
                return node
        return super().generic_visit(node)

    def fresh(self, base):
        while True:
            self.counter += 1
            name = f"{base}{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def visit_Assign(self, node):
        target = node.targets[0]
        if isinstance(target, gast.Name) and _alloc_call(self.program, node.value):
            return self.local_array(target.id, node.value, node)
        return self.generic_visit(node)

    def local_array(self, name, call, stmt):
        fn = resolve_static(self.program, call.func, _is_builtin)
        shape = call.args[0] if call.args else next(k.value for k in call.keywords if k.arg == "shape")
        dims = _const_shape(shape)
        dtype = _dtype_of(self.program, call, fn) or np.float64
        np_ = self.aliases["numpy"]
        alloc = A.assign(name, A.call(f"{self.aliases['numba.cuda']}.local.array",
                                      [A.const(dims[0]) if len(dims) == 1 else A.tuple_(A.const(d) for d in dims),
                                       A.dotted(f"{np_}.{np.dtype(dtype).name}")]))
        out = [A.located(alloc, stmt)]
        fill = _ALLOC[fn]
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
            for n in gast.walk(s):
                if hasattr(n, "lineno") or isinstance(n, gast.stmt):
                    A.located(n, stmt)
        return out + loop_body

    def visit_Expr(self, node):
        call = node.value
        if isinstance(call, gast.Call):
            fn = resolve_static(self.program, call.func, _is_builtin)
            if fn in _DROPPED:
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
        fn = resolve_static(self.program, node.func, _is_builtin)
        args = node.args
        al = self.aliases
        new = None
        if fn in _MATH:
            new = A.call(f"{al['math']}.{_MATH[fn]}", args)
        elif fn in _DEVICE:
            new = A.call(f"{al['runtime.cuda_device']}.{_DEVICE[fn]}", args, node.keywords)
        elif fn in _BINOPS:
            new = gast.BinOp(left=args[0], op=_BINOPS[fn](), right=args[1])
        elif fn in _COMPARE:
            new = gast.Compare(left=args[0], ops=[_COMPARE[fn]()], comparators=[args[1]])
        elif fn in _UNARY:
            new = gast.UnaryOp(op=_UNARY[fn](), operand=args[0])
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
        elif fn in _INLINE:
            new = _INLINE[fn](args)
        elif fn in _SAMPLERS:
            name, sargs = _sampler_args(_Silent(self.program), node, fn)
            new = A.call(f"{al['runtime.cuda_random']}.{name}", sargs)
        if new is None:
            return node
        return A.located(new, node)


class _Silent:
    """A checker stand-in for `_sampler_args` during the rewrite (checks already passed)."""

    def __init__(self, program):
        self.program = program

    def fail(self, *args):
        raise AssertionError("cuda_lower: the rewrite met what the check let pass")

    def expr(self, node):
        return 0

    def numbers(self, node, ranks):
        return 0
