"""What a GPU thread can run: a rank for every value, and a `TranspileError`
at the user's line for what it cannot (used by cuda_lower.Lowering).

A rank is an int (0: a number; k: a k-d array -- an example's view of an
input, or a per-thread local array), a list of ranks (a tuple), or one of
SHAPE (`x.shape`), STATIC (a module, a string, None) and None (unknown).
Parameters get theirs from the kernel (0 for a mapped scalar example,
k for a k-d example or an unmapped k-d input); calls to other generated
functions are followed with the ranks of their arguments. Each function
is walked twice: once to learn the ranks of variables that a loop uses
before it assigns them, once to check:

    def f(x, w):            x: 0 (a number), w: 1 (a row)
        y = w * x           array expression: an error (it allocates)
        s = w[0] * x        0
        b = np.zeros(3)     1, a local array: b[i] = ... is allowed
        w[0] = s            an error: writes into an argument
        return s            the entry returns numbers
"""
import gast
import numpy as np

from .. import astutil as A
from ..errors import TranspileError
from ..resolve import find_callee, resolve_static
from runtime import checks, tape
from .cuda_tables import (ALLOC, BINOPS, BLAS, COMPARE, DEVICE, DROPPED, INLINE, MATH, NUMBER_TYPES,
                          SAMPLERS, SCALAR_BUILTINS, UNARY, alloc_call, alloc_shape, const_shape,
                          dtype_of, is_builtin, sampler_call, source)

SHAPE = "shape"
STATIC = "static"
_LOGICAL = (np.absolute, np.logical_and, np.logical_or, np.logical_not, np.logical_xor)
_TAPE = ("a GPU thread has no lists; reverse-mode AD keeps its tape in lists, so on the GPU "
         "differentiate with respect to numbers (vmap(grad(f)) of scalar arguments runs forward "
         "mode in each thread), or use backend 'numba'")


def _freeze(r):
    return tuple(_freeze(i) for i in r) if isinstance(r, list) else r


class Checker:
    """Ranks of one function's values for one pattern of parameter ranks."""

    def __init__(self, lowering, spec, ranks):
        self.lowering = lowering
        self.program = lowering.program
        self.spec = spec
        self.env = dict(zip([a.id for a in spec.node.args.args], ranks))
        self.local_arrays = set()
        self.check = False
        self.returns = None

    def run(self):
        """The rank (tree) of what the function returns; raises at the first failure."""
        self.block(self.spec.node.body)
        self.check = True
        self.returns = None
        self.block(self.spec.node.body)
        return self.returns

    def fail(self, node, what, why):
        if self.check:
            raise TranspileError(f"backend 'cuda': {what} cannot run in a GPU thread: {why}"
                                 f"{self.lowering.hint}", self.spec.src.location(node))

    # -- statements -------------------------------------------------------------------
    def block(self, stmts):
        for s in stmts:
            self.stmt(s)

    def stmt(self, s):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name) and alloc_call(self.program, s.value):
                self.env[target.id] = self.alloc(s.value)
                self.local_arrays.add(target.id)
            else:
                self.assign(target, self.expr(s.value), s)
        elif isinstance(s, gast.AugAssign):
            self.assign(s.target, self.numbers(s, [self.expr(s.target), self.expr(s.value)]), s)
        elif isinstance(s, gast.For):
            it = s.iter
            if not (isinstance(it, gast.Call) and resolve_static(self.program, it.func, is_builtin) is range):
                self.fail(s, f"`for ... in {source(it)}`", "a thread loops over range(); loop over "
                          "an index")
            self.expr(it)
            for n in A.names_in(s.target, gast.Store):
                self.env[n] = 0
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, (gast.While, gast.If)):
            r = self.expr(s.test)
            if isinstance(r, int) and r > 0:
                self.fail(s, f"a test on an array (`{source(s.test)}`)", "a thread branches on numbers")
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, gast.Return):
            r = self.expr(s.value) if s.value is not None else STATIC
            self.returns = r if self.returns is None or self.returns == r else None
        elif isinstance(s, gast.Expr):
            self.expr(s.value)
        elif isinstance(s, (gast.Raise, gast.Assert)):
            self.fail(s, "`raise`", "a GPU thread cannot raise an exception (CUDA reports none); "
                      "check the inputs before the call, or return NaN")
        elif not isinstance(s, (gast.Pass, gast.Break, gast.Continue)):
            self.fail(s, f"`{type(s).__name__}`", "not supported by the cuda backend")

    def assign(self, target, value, s):
        if isinstance(target, gast.Name):
            old = self.env.get(target.id)
            if self.check and isinstance(old, int) and isinstance(value, int) and old != value:
                self.fail(s, f"`{target.id}`", "a variable that holds a number and an array in turn "
                          "cannot be typed for the GPU")
            if value is not None:
                self.env[target.id] = value
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
                          "GPU thread changes only its own local arrays: np.zeros of a constant shape)")
            if isinstance(value, int) and value > 0:
                self.fail(s, "an array assignment", "assign the elements one by one")

    def alloc(self, call):
        dims = const_shape(alloc_shape(call))
        if dims is None:
            self.fail(call, f"`{source(call)}`", "an array of dynamic size cannot be allocated "
                      "inside a kernel; give it a constant shape (a small per-thread local array)")
            return None
        for a in call.args[1:] + [k.value for k in call.keywords if k.arg != "shape"]:
            self.expr(a)
        if dtype_of(self.program, call, resolve_static(self.program, call.func, is_builtin)) is False:
            self.fail(call, f"`{source(call)}`", "the dtype must be a constant NumPy number type")
        return len(dims)

    # -- expressions --------------------------------------------------------------------
    def expr(self, node):
        if node is None:
            return STATIC
        if isinstance(node, gast.Constant):
            return 0 if isinstance(node.value, (bool, int, float, complex)) else STATIC
        if isinstance(node, gast.Name):
            if node.id in self.env:
                return self.env[node.id]
            return STATIC if node.id in self.program.imports.values() or is_builtin(node.id) else None
        if isinstance(node, gast.Tuple):
            return [self.expr(e) for e in node.elts]
        if isinstance(node, (gast.List, gast.ListComp)):
            self.fail(node, "a list", _TAPE)
            return None
        if isinstance(node, (gast.Dict, gast.Set, gast.DictComp, gast.SetComp, gast.GeneratorExp)):
            self.fail(node, f"a {type(node).__name__.lower()}", "a GPU thread has no heap objects")
            return None
        if isinstance(node, gast.JoinedStr):
            self.fail(node, "an f-string", "print numbers and constant strings")
            return STATIC
        if isinstance(node, gast.BinOp):
            if isinstance(node.op, gast.MatMult):
                self.fail(node, "`@`", "it is a BLAS call (a matrix product); write the product "
                          "as loops over elements")
            ranks = [self.expr(node.left), self.expr(node.right)]
            if any(isinstance(r, list) for r in ranks):
                self.fail(node, "tuple arithmetic", "not supported by the cuda backend")
            return self.numbers(node, ranks)
        if isinstance(node, gast.UnaryOp):
            return self.numbers(node, [self.expr(node.operand)])
        if isinstance(node, gast.BoolOp):
            return self.numbers(node, [self.expr(v) for v in node.values])
        if isinstance(node, gast.Compare):
            return self.numbers(node, [self.expr(node.left)] + [self.expr(c) for c in node.comparators])
        if isinstance(node, gast.IfExp):
            self.numbers(node, [self.expr(node.test)])
            body, orelse = self.expr(node.body), self.expr(node.orelse)
            return body if body == orelse else None
        if isinstance(node, gast.Subscript):
            return self.subscript(node)
        if isinstance(node, gast.Attribute):
            return self.attribute(node)
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.Slice):
            for part in (node.lower, node.upper, node.step):
                self.expr(part)
            return STATIC
        self.fail(node, f"`{source(node)}`", "not supported by the cuda backend")
        return None

    def numbers(self, node, ranks):
        """0 when every operand is a number; an array operand is an error."""
        if any(isinstance(r, int) and r > 0 for r in ranks):
            self.fail(node, f"the array expression `{source(node)}`", "it would allocate a new "
                      "array; a GPU thread computes with numbers: index the array in a loop")
            return max(r for r in ranks if isinstance(r, int))
        return None if any(r is None for r in ranks) else 0

    def subscript(self, node):
        base = self.expr(node.value)
        if isinstance(base, list):
            i = node.slice.value if isinstance(node.slice, gast.Constant) else None
            if isinstance(i, int) and -len(base) <= i < len(base):
                return base[i]
            return base[0] if base and all(b == base[0] for b in base) else None
        if base == SHAPE:
            self.expr(node.slice)
            return 0
        rank = base if isinstance(base, int) else None
        for i in (node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]):
            r = self.expr(i)
            if isinstance(i, gast.Slice):
                continue
            if isinstance(r, int) and r > 0 or (isinstance(i, gast.Constant) and i.value is None):
                self.fail(node, f"`{source(node)}`", "indexing with an array (or None) creates a "
                          "new array; index with integers")
            if rank is not None:
                rank -= 1
        return rank

    def attribute(self, node):
        value = self.expr(node.value)
        if value == 0 and node.attr in ("shape", "ndim", "size", "T"):
            self.fail(node, f"`{source(node)}`", "it is a number here, which has no shape")
        if isinstance(value, int):
            if node.attr == "shape":
                return SHAPE
            if node.attr in ("ndim", "size"):
                return 0
            if node.attr in ("T", "real", "imag"):
                return value
            if node.attr == "dtype":
                return STATIC
            self.fail(node, f"`{source(node)}`", "not supported by the cuda backend")
            return None
        obj = resolve_static(self.program, node, is_builtin)
        return 0 if isinstance(obj, (bool, int, float)) else STATIC

    def call(self, node):
        callee = find_callee(self.program, node.func)
        args = [self.expr(a) for a in node.args]
        if callee is not None:
            if any(r is None for r in args) and not self.check:
                return None
            return self.lowering.result(callee, tuple(_freeze(r) for r in args))
        kws = [self.expr(k.value) for k in node.keywords]
        fn = resolve_static(self.program, node.func, is_builtin)
        what = f"`{source(node)}`"
        if fn is None:
            method = node.func.attr if isinstance(node.func, gast.Attribute) else None
            self.fail(node, what, _TAPE if method in ("append", "pop", "extend", "insert")
                      else "not supported by the cuda backend")
            return None
        if fn in BLAS or getattr(fn, "__module__", "") in ("numpy.linalg", "numpy.linalg._linalg"):
            self.fail(node, what, "it is a BLAS/LAPACK call (np.dot, @, np.linalg); write it as "
                      "loops over elements")
            return None
        if fn is print:
            for a, r in zip(node.args, args):
                if isinstance(r, int) and r > 0:
                    self.fail(node, f"printing the array `{source(a)}`", "a GPU thread prints "
                              "numbers and constant strings")
            return STATIC
        if fn is range:
            self.numbers(node, args)
            return STATIC
        if fn is len:
            if args and args[0] == 0:
                self.fail(node, what, "it is a number here, which has no length")
            return 0
        if fn in SAMPLERS:
            name, extra = sampler_call(self.program, node, fn)
            if name is None:
                self.fail(node, what, extra)
                return None
            self.numbers(node, [self.expr(e) for e in extra[1:]])
            return 0
        if fn in ALLOC:
            self.fail(node, what, "an array can be allocated in a GPU thread only as "
                      "`name = np.zeros(<constant shape>)` (a per-thread local array)")
            return None
        if fn in INLINE or fn in DROPPED or fn is checks.setitem:
            return self.helper(node, fn, args)
        if node.keywords and (fn in MATH or fn in BINOPS or fn in COMPARE or fn in UNARY):
            self.fail(node, what, "keyword arguments (out=, where=, ...) are not supported")
        if (fn in MATH or fn in DEVICE or fn in BINOPS or fn in COMPARE or fn in UNARY
                or fn in _LOGICAL or fn in SCALAR_BUILTINS or fn in NUMBER_TYPES
                or getattr(fn, "__module__", None) == "math"):
            return self.numbers(node, args + kws)
        module = getattr(fn, "__module__", "") or ""
        if module.startswith(("numpy", "runtime.npx")):
            self.fail(node, what, f"np.{getattr(fn, '__name__', fn)} is not compiled for the GPU "
                      f"(element-wise functions of numbers and math.* are)")
        else:
            self.fail(node, what, "not supported by the cuda backend")
        return None

    def helper(self, node, fn, args):
        """The rank of a call to a runtime helper that the rewrite inlines."""
        if fn in (checks.getitem, checks.setitem):
            ctx = gast.Load() if fn is checks.getitem else gast.Store()
            sub = gast.copy_location(gast.Subscript(value=node.args[0], slice=node.args[1], ctx=ctx),
                                     node)
            if fn is checks.getitem:
                return self.subscript(sub)
            self.assign(sub, args[2], node)
            return STATIC
        if fn in (checks.check_index, tape.stop_gradient, tape.save):
            return args[0]
        if fn is checks.check_unpack:
            return STATIC
        if fn is tape.grad_seed and isinstance(args[0], int) and args[0] > 0:
            self.fail(node, "grad of a function whose output is an array", "Gradient only defined "
                      "for scalar-output functions")
        return self.numbers(node, args[:2])
