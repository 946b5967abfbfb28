"""What becomes what in a GPU thread: the tables and helpers that the checks
(transpile/codegen/cuda_check.py) and the lowering
(transpile/codegen/cuda_lower.py) share.

    MATH, DEVICE      NumPy functions -> `math.*` / `runtime.cuda_device.*`
    BINOPS, COMPARE, UNARY   ufuncs -> operators
    INLINE, DROPPED   runtime helpers -> an expression / nothing, on numbers
    ALLOC             allocations -> `cuda.local.array` (constant shapes)
    BLAS              what a thread cannot run (array products)
    SAMPLERS          `tp.random` samplers -> `runtime.cuda_random`
"""
import builtins
import inspect

import gast
import numpy as np

from .. import astutil as A
from ..resolve import resolve_static
from runtime import adjoint, checks, npx, tangent, tape
from runtime import random as rrandom
from ..to_source import to_source

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
