"""Numba implementations of `runtime.nep50`.

Each helper is typed by asking NumPy itself: while Numba types a call, the
helper evaluates the operation on NumPy sample values of the operands' dtypes
(the Python number as a Python number), which gives the result dtype NumPy 2
would give, and `ufunc.resolve_dtypes` gives the dtype NumPy converts the
Python number to; Numba's typing context then says which conversion makes
Numba's result that dtype. The `*_lhs`/`*_rhs` helpers return the converted
Python number (the operation stays in the generated code, where Numba fuses
array expressions); the `*_l`/`*_r` helpers compute the whole operation (and
may convert the other operand or the scalar result too). A combination NumPy
rejects is a TypingError with NumPy's message; one Numba cannot compute the
NumPy way (a float16 result) is a TypingError that says so.

Helpers are compiled as functions of their own (not inlined; LLVM still
inlines the small ones), with error_model='numpy' as in generated code,
except where the implementation only returns an argument or converts it to
a NumPy scalar type (most calls): those are typed without compiling it and
lowered in the caller (`_helper`). A probe expression (`nep50.typed`) is
typed operation by operation and computes nothing.
"""
import ast
import functools
import operator
import re
import warnings

import numpy as np
from numba import njit, objmode, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.imputils import impl_ret_borrowed, impl_ret_new_ref, impl_ret_untracked
from numba.core.typing import signature
from numba.core.typing.templates import AbstractTemplate, infer_global
from numba.extending import intrinsic, lower_builtin, overload, type_callable
from numba.np import numpy_support

from . import nep50
from .errors import TranspileWarning

_NUMBER = (types.Boolean, types.Integer, types.Float, types.Complex)


def _dtype_of(t):
    """The NumPy dtype of an array or scalar type, else None."""
    if isinstance(t, types.Array):
        t = t.dtype
    if isinstance(t, _NUMBER):
        try:
            return numpy_support.as_dtype(types.unliteral(t))
        except Exception:       # pragma: no cover - e.g. a record dtype
            return None
    return None


def _python_kind(t):
    """(sample value, `resolve_dtypes` entry) of a Python number's Numba type, else None."""
    t = types.unliteral(t)
    if isinstance(t, types.Boolean):
        return True, np.dtype(bool)
    if isinstance(t, types.Integer):
        return 1, int
    if isinstance(t, types.Float):
        return 1.0, float
    if isinstance(t, types.Complex):
        return 1j, complex
    return None


def _numpy_result(fn, samples):
    """The dtype NumPy gives `fn(*samples)`; TypingError if NumPy raises."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = fn(*samples)
        except Exception as exc:
            raise TypingError(f"NumPy raises {type(exc).__name__}: {exc}") from None
    return np.asarray(out).dtype


def _loop_dtypes(ufunc, entries):
    try:
        return ufunc.resolve_dtypes(tuple(entries) + (None,))
    except Exception:
        return None


def _numba_result_dtype(fn, argtypes):
    """The dtype of Numba's result of `fn(*argtypes)`, or None if Numba cannot type it."""
    from numba.core.registry import cpu_target
    ctx = cpu_target.typing_context
    try:
        if isinstance(fn, np.ufunc):
            sig = ctx.resolve_value_type(fn).get_call_type(ctx, tuple(argtypes), {})
        else:
            sig = ctx.resolve_function_type(fn, tuple(argtypes), {})
    except Exception:
        return None
    if sig is None:
        return None
    return _dtype_of(sig.return_type)


def _as_type(t, dtype):
    """The Numba type `t` (array or scalar) would have with `dtype`."""
    nb = numpy_support.from_dtype(dtype)
    if isinstance(t, types.Array):
        return t.copy(dtype=nb)
    return nb


def _int_range(dtype):
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


_ARGNAMES = ("a", "b", "c")
_SOURCE = """
def impl({params}):
{checks}    return {result}
"""


def _build(params, result, names, checks=()):
    """An implementation from its text: `names` are its globals. One that returns
    a parameter, or a NumPy scalar conversion of one, and checks nothing is
    marked `__nep50_fast__` (see `_helper`)."""
    body = "".join(f"    {c}\n" for c in checks)
    src = _SOURCE.format(params=", ".join(params), checks=body, result=result)
    ns = dict(names)
    exec(compile(src, "<nep50>", "exec"), ns)
    impl = ns["impl"]
    if not checks:
        m = re.fullmatch(r"(\w+)\((\w+)\)", result)
        if result in params:
            impl.__nep50_fast__ = ("arg", params.index(result))
        elif m and m.group(2) in params and isinstance(names.get(m.group(1)), type) \
                and issubclass(names[m.group(1)], np.generic):
            impl.__nep50_fast__ = ("cast", params.index(m.group(2)),
                                   numpy_support.from_dtype(np.dtype(names[m.group(1)])))
    return impl


def _range_check(var, dtype):
    lo, hi = _int_range(dtype)
    return (f"if {var} < {lo} or {var} > {hi}: raise OverflowError('Python integer ' + str({var}) + "
            f"' out of bounds for {dtype} (at ' + where + ')')")


def plan(fn, ufunc, args, weak, comparison=False):
    """How to compute `fn(*args)` the NumPy way, `weak` the indices of the
    Python numbers among `args` (Numba types). Returns (expressions for
    each argument, the result's cast class or None, checks), or None to
    leave the operation to Numba (not numbers, or all Python numbers)."""
    strong = [i for i in range(len(args)) if i not in weak]
    if not strong or not weak:
        return None
    samples, entries = [], []
    for i, t in enumerate(args):
        if i in weak:
            kind = _python_kind(t)
            if kind is None:
                return None
            samples.append(kind[0])
            entries.append(kind[1])
        else:
            d = _dtype_of(t)
            if d is None:
                return None
            samples.append(np.ones(1, d) if isinstance(t, types.Array) else d.type(1))
            entries.append(d)
    out = _numpy_result(fn, samples)
    if out.kind == "f" and out.itemsize == 2:
        raise TypingError(f"NumPy computes this in float16, which Numba does not have: cast an "
                          f"operand first (e.g. with .astype(np.float32))")
    loop = _loop_dtypes(ufunc, entries) if ufunc is not None else None
    exprs, checks, new_types = [], [], []
    names = {}
    for i, t in enumerate(args):
        var = f"a{i}"
        target = loop[i] if loop is not None else None
        if i in weak:
            base = types.unliteral(t)
            if target is None or (comparison and target.kind in "iub"
                                  and isinstance(base, types.Integer)):
                exprs.append(var)   # a comparison with a Python int: exact in int64, as NumPy's
                new_types.append(base)
                continue
            if target.kind in "iu" and isinstance(base, types.Integer) and target != np.dtype(np.int64):
                checks.append(_range_check(var, target))
            if numpy_support.from_dtype(target) == base:
                exprs.append(var)
                new_types.append(base)
            else:
                names[f"T{i}"] = target.type
                exprs.append(f"T{i}({var})")
                new_types.append(numpy_support.from_dtype(target))
        else:
            if target is not None and not isinstance(t, types.Array) and _dtype_of(t) != target:
                names[f"T{i}"] = target.type
                exprs.append(f"T{i}({var})")
                new_types.append(numpy_support.from_dtype(target))
            else:
                exprs.append(var)
                new_types.append(t)
    got = _numba_result_dtype(fn, new_types)
    if got != out and loop is not None:
        # Numba picks another loop for the array: convert the array first, as NumPy does
        for i in strong:
            if isinstance(args[i], types.Array) and _dtype_of(args[i]) != loop[i]:
                names[f"T{i}"] = loop[i].type
                exprs[i] = f"a{i}.astype(T{i})"
                new_types[i] = _as_type(args[i], loop[i])
        got = _numba_result_dtype(fn, new_types)
    result_cast = None
    if got != out:
        if got is None:
            return None     # Numba cannot type it: its own error follows
        if any(isinstance(t, types.Array) for t in args):
            raise TypingError(f"NumPy gives {out} here and Numba {got}: cast an operand explicitly")
        result_cast = out.type
    return exprs, result_cast, checks, names


def _implement(fn, ufunc, args, weak, params, comparison=False):
    p = plan(fn, ufunc, args, weak, comparison)
    if p is not None and ufunc is np.power and weak == {1} and _dtype_of(args[0]).kind in "iub" \
            and isinstance(types.unliteral(args[1]), types.Integer):
        # NumPy: an integer array to a negative Python int power is a ValueError (Numba: garbage)
        p[2].append("if a1 < 0: raise ValueError('Integers to negative integer powers are not allowed. "
                    "(at ' + where + ')')")
    argnames = list(_ARGNAMES[:len(args)])
    names = {"fn": fn}
    if p is None:
        return _build(argnames + params, f"fn({', '.join(argnames)})", names)
    exprs, result_cast, checks, extra = p
    names.update(extra)
    rename = lambda text: re.sub(r"\ba(\d)\b", lambda m: argnames[int(m.group(1))], text)  # noqa: E731
    exprs = [rename(e) for e in exprs]
    checks = [rename(c) for c in checks]
    result = f"fn({', '.join(exprs)})"
    if result_cast is not None:
        names["R"] = result_cast
        result = f"R({result})"
    return _build(argnames + params, result, names, checks)


# Helpers are compiled as functions of their own, not inlined: an inlined
# overload costs about as much compile time as a statement, and inlining would
# not keep Numba's fusion of array expressions anyway. error_model='numpy' as in
# generated code: a division by zero gives inf, not ZeroDivisionError.
_OPTIONS = dict(jit_options={"error_model": "numpy"})


def _fast_decision(generator, args):
    """How a call of a helper with (Numba) argument types `args` is done without
    compiling its implementation: ("arg", i, type) returns argument i,
    ("cast", i, type) converts it (as `np.float32(b)` does), ("impl", impl,
    type) compiles `impl` into the caller; None: the implementation is
    compiled as a function of its own (`@overload`)."""
    try:
        impl = generator(*args)
    except Exception:
        return None     # (the overload raises it again, with Numba's message)
    fast = getattr(impl, "__nep50_fast__", None)
    if fast is None:
        return None
    if fast[0] in ("arg", "cast") and isinstance(args[fast[1]], types.Literal):
        return None
    if fast[0] == "arg":
        return ("arg", fast[1], args[fast[1]])
    if fast[0] == "cast":
        return ("cast", fast[1], fast[2])
    return ("impl", impl, fast[1])


_FAST = {}      # helper -> {argument types: `_fast_decision`}


def _helper(target, prefer_literal=False):
    """`@overload(target, prefer_literal=...)` of `generator`, preceded by a
    template that types, without compiling anything, the calls whose
    implementation only returns an argument or converts it to a NumPy scalar
    type (most calls: `mul_rhs(x, 2.0, w)` is `np.float32(2.0)` or `2.0`), and
    lowers them in the caller (a helper compiled as a function of its own
    costs a compilation for each type signature, and a call in the caller).
    Same result type and value as the implementation; the template sees the
    argument types the overload would see first (literal or not), and leaves
    every other call to the overload."""
    def register(generator):
        if target in _FAST:     # (`add_rhs` is both `+`'s and np.add's: the first overload is tried first)
            return overload(target, prefer_literal=prefer_literal, **_OPTIONS)(generator)
        decisions = _FAST[target] = {}

        class _Fast(AbstractTemplate):
            key = target

            def generic(self, args, kws):
                if kws:
                    return None
                if prefer_literal:
                    if not any(isinstance(a, types.Literal) for a in args):
                        return None     # (the overload's second try: left to it)
                    first = tuple(args)
                else:
                    first = tuple(types.unliteral(a) for a in args)
                if first not in decisions:
                    decisions[first] = _fast_decision(generator, first)
                d = decisions[first]
                return None if d is None else signature(d[2], *first)

        _Fast.prefer_literal = True     # the arguments as the call has them, then as the overload sees them
        infer_global(target)(_Fast)

        @lower_builtin(target, types.VarArg(types.Any))
        def _lower(context, builder, sig, args):
            d = decisions[tuple(sig.args)]
            if d[0] == "arg":
                return impl_ret_borrowed(context, builder, sig.return_type, args[d[1]])
            if d[0] == "cast":
                value = context.cast(builder, args[d[1]], sig.args[d[1]], sig.return_type)
                return impl_ret_untracked(context, builder, sig.return_type, value)
            value = context.compile_internal(builder, d[1], sig, args)
            return impl_ret_new_ref(context, builder, sig.return_type, value)

        return overload(target, prefer_literal=prefer_literal, **_OPTIONS)(generator)
    return register


def _register_binary(name, fn, ufunc, side, comparison):
    target = getattr(nep50, name)
    weak = {0} if side == "l" else {1}

    @_helper(target)
    def _ov(a, b, where):
        return _implement(fn, ufunc, (a, b), weak, ["where"], comparison)
    return _ov


for _stem, (_op, _uf) in nep50.OPERATORS.items():
    for _side in "lr":
        _register_binary(f"{_stem}_{_side}", _op, _uf, _side, _stem in nep50.COMPARISONS)
_BOOLEAN_UFUNCS = frozenset(("greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
                             "logical_and", "logical_or", "logical_xor"))
for _stem, _uf in nep50.UFUNCS.items():
    for _side in "lr":
        _register_binary(f"{_stem}_{_side}", _uf, _uf, _side, _stem in _BOOLEAN_UFUNCS)


def _register_where(name, weak_index):
    target = getattr(nep50, name)

    def fn(c, a, b):
        return np.where(c, a, b)

    @_helper(target)
    def _ov(c, a, b, where):
        args = (a, b)
        weak = {weak_index}
        strong_t = args[1 - weak_index]
        d = _dtype_of(strong_t)
        kind = _python_kind(args[weak_index])
        if d is None or kind is None:
            return lambda c, a, b, where: np.where(c, a, b)
        target_dtype = np.result_type(d, kind[0] if kind[1] is not np.dtype(bool) else np.bool_)
        if numpy_support.from_dtype(target_dtype) == types.unliteral(args[weak_index]):
            return lambda c, a, b, where: np.where(c, a, b)
        T = target_dtype.type
        if weak_index == 0:
            return lambda c, a, b, where: np.where(c, T(a), b)
        return lambda c, a, b, where: np.where(c, a, T(b))
    return _ov


_register_where("where_l", 0)
_register_where("where_r", 1)


def _register_inplace(stem, fn, ufunc):
    """`a op= b` with `b` a Python number: `b` as NumPy converts it."""
    target = getattr(nep50, stem + "_inplace")

    @_helper(target)
    def _ov(a, b, where):
        d = _dtype_of(a)
        kind = _python_kind(b)
        if d is None or kind is None:
            return _build(["a", "b", "where"], "b", {})
        sample = np.ones(1, d) if isinstance(a, types.Array) else d.type(1)
        out = _numpy_result(fn, (sample, kind[0]))
        if isinstance(a, types.Array) and not np.can_cast(out, d, "same_kind"):
            raise TypingError(f"NumPy raises UFuncTypeError: Cannot cast ufunc '{ufunc.__name__}' output "
                              f"from {out!r} to {d!r} with casting rule 'same_kind'")
        loop = _loop_dtypes(ufunc, (d, kind[1]))
        if loop is None or numpy_support.from_dtype(loop[1]) == types.unliteral(b):
            return _build(["a", "b", "where"], "b", {})
        names = {"T": loop[1].type}
        checks = []
        if loop[1].kind in "iu" and isinstance(types.unliteral(b), types.Integer) \
                and loop[1] != np.dtype(np.int64):
            lo, hi = _int_range(loop[1])
            checks.append(f"if b < {lo} or b > {hi}: raise OverflowError('Python integer ' + str(b) + "
                          f"' out of bounds for {loop[1]} (at ' + where + ')')")
        return _build(["a", "b", "where"], "T(b)", names, checks)
    return _ov


for _stem, (_op, _uf) in nep50.OPERATORS.items():
    if _stem not in nep50.COMPARISONS:
        _register_inplace(_stem, _op, _uf)


# -- the Python number of `a op b`, converted as NumPy converts it ----------------
def operand_plan(fn, ufunc, args, weak_index, comparison, var="w"):
    """(class to convert the Python number args[weak_index] with, or None;
    checks) such that Numba's `fn(*args)` (the number converted) has NumPy's
    result dtype. None where the other operand is not a number or array."""
    other = args[1 - weak_index]
    w = types.unliteral(args[weak_index])
    d, kind = _dtype_of(other), _python_kind(w)
    if d is None or kind is None:
        return None
    sample = np.ones(1, d) if isinstance(other, types.Array) else d.type(1)
    samples = [sample, kind[0]] if weak_index == 1 else [kind[0], sample]
    entries = [d, kind[1]] if weak_index == 1 else [kind[1], d]
    out = _numpy_result(fn, samples)
    if out.kind == "f" and out.itemsize == 2:
        raise TypingError("NumPy computes this in float16, which Numba does not have: cast an operand "
                          "first (e.g. with .astype(np.float32))")
    loop = _loop_dtypes(ufunc, entries)
    candidates = []
    if loop is not None and not (comparison and loop[weak_index].kind in "iub" and isinstance(w, types.Integer)):
        candidates.append(loop[weak_index])     # (a comparison with a Python int is exact in int64, as NumPy's)
    candidates += [None, out]
    chosen = None
    for cand in candidates:
        cand_type = w if cand is None else numpy_support.from_dtype(cand)
        types_ = [other, cand_type] if weak_index == 1 else [cand_type, other]
        if _numba_result_dtype(fn, types_) == out:
            chosen = cand
            break
    else:
        if isinstance(other, types.Array) and out.kind != "b":
            got = _numba_result_dtype(fn, [other, w] if weak_index == 1 else [w, other])
            raise TypingError(f"NumPy gives {out} here and Numba {got}: cast an operand explicitly")
        chosen = candidates[0]  # a NumPy integer scalar narrower than 64 bits: Numba computes in int64
    checks = []
    if chosen is not None and chosen.kind in "iu" and isinstance(w, types.Integer) \
            and chosen != np.dtype(np.int64):
        checks.append(_range_check(var, chosen))
    if ufunc is np.power and weak_index == 1 and out.kind in "iu" and isinstance(w, types.Integer):
        checks.append(f"if {var} < 0: raise ValueError('Integers to negative integer powers are not allowed. "
                      f"(at ' + where + ')')")
    if chosen is None or numpy_support.from_dtype(chosen) == w:
        return None, checks
    return chosen.type, checks


def _register_operand(name, fn, ufunc, weak_index, comparison):
    target = getattr(nep50, name)

    @_helper(target)
    def _ov(a, b, where):
        params = ["a", "b", "where"]
        wname = params[weak_index]
        p = operand_plan(fn, ufunc, (a, b), weak_index, comparison, wname)
        if p is None:
            return _build(params, wname, {})
        cls, checks = p
        if cls is None:
            return _build(params, wname, {}, checks)
        return _build(params, f"T({wname})", {"T": cls}, checks)
    return _ov


for _stem, (_op, _uf) in nep50.OPERATORS.items():
    _register_operand(_stem + "_lhs", _op, _uf, 0, _stem in nep50.COMPARISONS)
    _register_operand(_stem + "_rhs", _op, _uf, 1, _stem in nep50.COMPARISONS)
for _stem, _uf in nep50.UFUNCS.items():
    _register_operand(_stem + "_lhs", _uf, _uf, 0, _stem in _BOOLEAN_UFUNCS)
    _register_operand(_stem + "_rhs", _uf, _uf, 1, _stem in _BOOLEAN_UFUNCS)


@_helper(nep50.probe)
def _probe(x):
    """An empty array of `x`'s dtype and ndim (a number: itself): an
    expression over probes has the type of the expression over the values."""
    if isinstance(x, types.Array):
        shape = "(" + "0, " * x.ndim + ")"
        dt = numpy_support.as_dtype(x.dtype)
        impl = _build(["x"], f"np.empty({shape}, D)", {"np": np, "D": dt})
        impl.__nep50_fast__ = ("impl", types.Array(numpy_support.from_dtype(dt), x.ndim, "C"))
        return impl
    return _build(["x"], "x", {})


@_helper(nep50.probe_index, prefer_literal=True)
def _probe_index(x, k):
    """`probe(x[i1, ..., ik])` for k integer indices (and slices)."""
    if not isinstance(k, types.IntegerLiteral):
        raise TypingError("probe_index: k must be a literal")
    if isinstance(x, types.Array):
        ndim = x.ndim - k.literal_value
        dt = numpy_support.as_dtype(x.dtype)
        if ndim <= 0:
            impl = _build(["x", "k"], "D(0)", {"D": dt.type})
            impl.__nep50_fast__ = ("impl", numpy_support.from_dtype(dt))
            return impl
        shape = "(" + "0, " * ndim + ")"
        impl = _build(["x", "k"], f"np.empty({shape}, D)", {"np": np, "D": dt})
        impl.__nep50_fast__ = ("impl", types.Array(numpy_support.from_dtype(dt), ndim, "C"))
        return impl
    return _build(["x", "k"], "x", {})


# -- `typed`: the type of a probe expression, found while typing ----------------
_TYPED_MAX_LEAVES = 64      # the pass leaves a probe expression with more leaves as it is
TYPED_ERROR = "nep50.typed: "     # marks the inner error (transpile/api.py's `_reason` reads past it)
_TYPED_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                 ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
                 ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
                 ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
                 ast.MatMult: operator.matmul,
                 ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
                 ast.Eq: operator.eq, ast.NotEq: operator.ne}
_TYPED_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_TYPED_MODULES = {"np": np, "nep50": nep50}


@functools.lru_cache(maxsize=None)
def _typed_template(text):
    return ast.parse(text, mode="eval").body


def _typed_resolve(ctx, fn, args):
    """Numba's result type of calling `fn` (a function or a Numba function type)
    on `args`, as type inference resolves a call or an operator."""
    try:
        sig = ctx.resolve_function_type(fn, tuple(args), {})
    except TypingError as exc:
        raise TypingError(TYPED_ERROR + str(exc)) from None
    if sig is None:
        msg = f"Invalid use of {fn} with parameters ({', '.join(str(a) for a in args)})"
        raise TypingError(TYPED_ERROR + msg)
    return sig.return_type


def _typed_eval(ctx, node, leaves):
    """The Numba type of template expression `node`, `leaves` the types of `_0`, `_1`, ..."""
    if isinstance(node, ast.Name):
        return leaves[int(node.id[1:])]
    if isinstance(node, ast.BinOp):
        return _typed_resolve(ctx, _TYPED_BINOPS[type(node.op)],
                              [_typed_eval(ctx, node.left, leaves), _typed_eval(ctx, node.right, leaves)])
    if isinstance(node, ast.Compare):
        return _typed_resolve(ctx, _TYPED_BINOPS[type(node.ops[0])],
                              [_typed_eval(ctx, node.left, leaves), _typed_eval(ctx, node.comparators[0], leaves)])
    if isinstance(node, ast.UnaryOp):
        return _typed_resolve(ctx, _TYPED_UNARY[type(node.op)], [_typed_eval(ctx, node.operand, leaves)])
    if isinstance(node, ast.Attribute):
        value = _typed_eval(ctx, node.value, leaves)
        out = ctx.resolve_getattr(value, node.attr)
        if out is None:
            raise TypingError(TYPED_ERROR + f"Unknown attribute '{node.attr}' of type {value}")
        return out
    if isinstance(node, ast.Call):
        fn = getattr(_TYPED_MODULES[node.func.value.id], node.func.attr)
        args = [_typed_eval(ctx, a, leaves) for a in node.args]
        return _typed_resolve(ctx, ctx.resolve_value_type(fn), args)
    raise TypingError(f"nep50.typed: cannot type {ast.dump(node)}")   # pragma: no cover


def _typed_typer(template, leaves, ctx):
    if not isinstance(template, types.StringLiteral):
        return None     # (Numba tries the literal text next)
    return _typed_eval(ctx, _typed_template(template.literal_value), leaves)


def _make_typed_typer(ctx):
    # a typer of fixed parameters (Numba's callable templates bind the arguments to
    # its signature; omitted trailing ones are cut from the call's signature)
    names = [f"l{i}" for i in range(_TYPED_MAX_LEAVES)]
    src = (f"def typer(template, {', '.join(n + '=None' for n in names)}):\n"
           f"    leaves = [l for l in ({', '.join(names)},) if l is not None]\n"
           f"    return fn(template, leaves, ctx)\n")
    ns = {"fn": _typed_typer, "ctx": ctx}
    exec(compile(src, "<nep50.typed>", "exec"), ns)
    return ns["typer"]


@type_callable(nep50.typed)
def _type_typed(context):
    return _make_typed_typer(context)


@lower_builtin(nep50.typed, types.VarArg(types.Any))
def _lower_typed(context, builder, sig, args):
    # a placeholder of the type: nothing is computed (a null array has no meminfo:
    # NRT's incref/decref skip it)
    return cgutils.get_null_value(context.get_value_type(sig.return_type))


# -- NumPy values: the result of `a op b` settled to NumPy's dtype ----------------
def _sample(t, weak):
    """A NumPy value of Numba type `t` (a Python number where `weak`), else None."""
    if weak:
        kind = _python_kind(t)
        return None if kind is None else kind[0]
    d = _dtype_of(t)
    if d is None:
        return None
    return np.ones(1, d) if isinstance(t, types.Array) else d.type(1)


def settle_impl(fn, name, r, operands, weak, params=None):
    """The implementation of `settle(r, *operands)`: `r` (Numba's result of
    `fn(*operands)`) as NumPy gives it; TypingError where Numba's differs and
    no conversion of the result gives NumPy's values."""
    params = params or ["r"] + list(_ARGNAMES[:len(operands)]) + (["weak"] if len(operands) == 2 else []) \
        + ["where"]
    same = _build(params, "r", {})
    got = _dtype_of(r)
    samples = [_sample(t, i == weak) for i, t in enumerate(operands)]
    if got is None or any(s is None for s in samples):
        return same
    out = _numpy_result(fn, samples)
    if out == got:
        return same
    if out.kind == "f" and out.itemsize == 2:
        raise TypingError(f"NumPy computes {name} in float16, which Numba does not have: cast an operand "
                          f"first (e.g. with .astype(np.float32))")
    if not isinstance(r, types.Array) and (out.kind == "b" or np.can_cast(out, got, "safe")):
        # scalars computed in a wider type (int64, float64): converted, the value is NumPy's
        # (integers wrap as NumPy's; a float32 +-*/ of exact operands rounds once)
        return _build(params, "R(r)", {"R": out.type})
    raise TypingError(f"NumPy 2 gives {out} for this {name} and Numba {got} (Numba promotes "
                      f"otherwise): cast an operand explicitly (e.g. with .astype(np.{out}))")


def _register_settle(stem, fn):
    target = getattr(nep50, stem + "_settle")

    @_helper(target, prefer_literal=True)
    def _ov(r, a, b, weak, where):
        if not isinstance(weak, types.IntegerLiteral):
            raise TypingError("settle: `weak` must be a literal")
        w = weak.literal_value
        return settle_impl(fn, stem, r, (a, b), w)
    return _ov


def _register_settle1(stem, fn):
    target = getattr(nep50, stem + "_settle1")

    @_helper(target)
    def _ov(r, a, where):
        return settle_impl(fn, stem, r, (a,), -1)
    return _ov


for _stem, (_op, _uf) in nep50.OPERATORS.items():
    if _stem not in nep50.COMPARISONS:
        _register_settle(_stem, _op)
for _stem, _uf in nep50.UNARY.items():
    _register_settle1(_stem, _uf)


def promote_impl(fn, ufunc, args, index, params, fixed=True):
    """`args[index]` (an operand of `fn(*args)`, NumPy values), converted to
    the dtype NumPy computes in where Numba would pick another (an array
    with a NumPy scalar, or an array of fewer dimensions, of another kind)."""
    name = params[index]
    same = _build(params, name, {})
    t = args[index]
    dtypes = [_dtype_of(a) for a in args]
    if None in dtypes:
        return same
    if not isinstance(t, types.Array):
        if fixed or not isinstance(args[1 - index], types.Array):
            return same
        samples = [np.ones(1, d) if isinstance(a, types.Array) else d.type(1) for a, d in zip(args, dtypes)]
        out = _numpy_result(fn, samples)
        got = _numba_result_dtype(fn, args)
        if got is not None and got != out:
            raise TypingError(f"NumPy 2 gives {out} for this {ufunc.__name__} of an array and a NumPy scalar, "
                              f"Numba {got}: cast an operand explicitly (e.g. with .astype(np.{out}))")
        return same
    samples = [np.ones(1, d) if isinstance(a, types.Array) else d.type(1) for a, d in zip(args, dtypes)]
    out = _numpy_result(fn, samples)
    if _numba_result_dtype(fn, args) == out:
        return same
    loop = _loop_dtypes(ufunc, dtypes)
    if loop is None or loop[index] == dtypes[index]:
        return same
    new = list(args)
    new[index] = _as_type(t, loop[index])
    if _numba_result_dtype(fn, new) != out:
        return same
    impl = _build(params, f"{name}.astype(T)", {"T": loop[index]})
    impl.__nep50_target__ = loop[index]
    return impl


def _register_promote(stem, fn, ufunc, index):
    target = getattr(nep50, f"{stem}_promote_{'lr'[index]}")

    @_helper(target, prefer_literal=True)
    def _ov(a, b, fixed, where):
        f = fixed.literal_value if isinstance(fixed, types.BooleanLiteral) else False
        return promote_impl(fn, ufunc, (a, b), index, ["a", "b", "fixed", "where"], f)
    return _ov


@_helper(nep50.ufunc_settle, prefer_literal=True)
def _ufunc_settle(r, a, name, where):
    if not isinstance(name, types.StringLiteral):
        raise TypingError("ufunc_settle: the name must be a literal")
    fn = getattr(np, name.literal_value)
    return settle_impl(fn, name.literal_value, r, (a,), -1, ["r", "a", "name", "where"])


for _stem, (_op, _uf) in nep50.OPERATORS.items():
    _register_promote(_stem, _op, _uf, 0)
    _register_promote(_stem, _op, _uf, 1)


@_helper(nep50.ufunc_arg, prefer_literal=True)
def _ufunc_arg(x, name, where):
    if not isinstance(name, types.StringLiteral):
        raise TypingError("ufunc_arg: the name must be a literal")
    sample = _sample(x, False)
    if sample is not None:
        fn = getattr(np, name.literal_value)
        got = _numba_result_dtype(fn, (x,))
        out = _numpy_result(fn, [sample])
        if got is not None and got != out:
            if out.kind == "f" and out.itemsize == 2:
                raise TypingError(f"NumPy computes {name.literal_value} in float16, which Numba does not "
                                  f"have: cast an operand first (e.g. with .astype(np.float32))")
            raise TypingError(f"NumPy 2 gives {out} for this {name.literal_value} and Numba {got}: cast "
                              f"the operand explicitly")
    return _build(["x", "name", "where"], "x", {})


@_helper(nep50.ufunc_promote, prefer_literal=True)
def _ufunc_promote(a, b, index, name, fixed, where):
    if not isinstance(index, types.IntegerLiteral) or not isinstance(name, types.StringLiteral):
        raise TypingError("ufunc_promote: index and name must be literals")
    f = fixed.literal_value if isinstance(fixed, types.BooleanLiteral) else False
    fn = getattr(np, name.literal_value)
    k = index.literal_value
    impl = promote_impl(fn, fn, (a, b), k, ["a", "b"], f)
    # promote_impl's text names the operand `a` or `b`: rebuild it with all parameters
    params = ["a", "b", "index", "name", "fixed", "where"]
    operand = "ab"[k]
    d = getattr(impl, "__nep50_target__", None)
    if d is None:
        return _build(params, operand, {})
    return _build(params, f"{operand}.astype(T)", {"T": d})


@_helper(nep50.ufunc_settle2, prefer_literal=True)
def _ufunc_settle2(r, a, b, name, where):
    if not isinstance(name, types.StringLiteral):
        raise TypingError("ufunc_settle2: the name must be a literal")
    fn = getattr(np, name.literal_value)
    return settle_impl(fn, name.literal_value, r, (a, b), -1, ["r", "a", "b", "name", "where"])


_NARROW_REGISTRY = {}


def _narrow_warning(op, where):
    """Python: the TranspileWarning of `narrow` (at run time: Numba's disk cache
    skips typing, so a warning given while typing would be given once only)."""
    filename, _, line = where.rpartition(":")
    warnings.warn_explicit(
        f"{op} inside an array expression: where it overflows, NumPy wraps and jit may give other values "
        f"(Numba assumes signed integers do not overflow); give it its own statement or compute in int64",
        TranspileWarning, filename, int(line) if line.isdigit() else 0,
        registry=_NARROW_REGISTRY.setdefault(where, {}))


@njit(cache=True)
def _warn_narrow(op, where):
    with objmode():
        _narrow_warning(op, where)


@_helper(nep50.narrow, prefer_literal=True)
def _narrow(x, result, name, where):
    d = _dtype_of(result)
    if d is not None and d.kind == "i" and d.itemsize < 8:
        op = f"{name.literal_value if isinstance(name, types.StringLiteral) else 'operation'} of {d} values"

        def impl(x, result, name, where):
            _warn_narrow(op, where)
            return x
        return impl
    return _build(["x", "result", "name", "where"], "x", {})


def _register_builtin(name):
    @_helper(getattr(nep50, "builtin_" + name))
    def _ov(a, b, where):
        params = ["a", "b", "where"]
        ta, tb = types.unliteral(a), types.unliteral(b)
        if ta == tb or not isinstance(ta, _NUMBER) or not isinstance(tb, _NUMBER):
            return _build(params, f"{name}(a, b)", {})
        message = (f"{name}() of a {ta} and a {tb}: Python returns one of them unchanged (so its type depends "
                   f"on which is {'larger' if name == 'max' else 'smaller'}), while under jit both become one "
                   f"type. Make them one type first (e.g. np.{_dtype_of(ta)}(...)) (at ")
        return _refusing(params, f"{name}(a, b)", message)
    return _ov


_register_builtin("max")
_register_builtin("min")

def _register_any(stem, op, ufunc):
    @_helper(getattr(nep50, stem + "_any"))
    def _ov(a, b, where):
        if all(isinstance(types.unliteral(t), (types.Array,) + _NUMBER) for t in (a, b)):
            return _implement(ufunc, ufunc, (a, b), set(), ["where"])
        return _build(["a", "b", "where"], "fn(a, b)", {"fn": op})     # lists, tuples, str: Python's
    return _ov


for _stem, (_op, _uf) in nep50.OPERATORS.items():
    if _stem not in nep50.COMPARISONS:
        _register_any(_stem, _op, _uf)

# -- `a op= b` on a local: in place for an array, NumPy's dtype for a scalar ------
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
            "lshift": "<<", "rshift": ">>", "and": "&", "or": "|", "xor": "^"}


def _register_iop(stem):
    fn = nep50.OPERATORS[stem][0]
    sym = _SYMBOLS[stem]

    @_helper(getattr(nep50, stem + "_iop"))
    def _ov(a, b, where):
        params = ["a", "b", "where"]
        if isinstance(a, types.Array):
            return _build(params, "a", {}, [f"a {sym}= b"])
        from numba.core.registry import cpu_target
        try:
            r = cpu_target.typing_context.resolve_function_type(fn, (a, b), {})
        except Exception:
            r = None
        if r is None:
            return _build(params, f"a {sym} b", {})     # Numba's own error follows
        settled = settle_impl(fn, stem, r.return_type, (a, b), -1, ["r", "a", "b", "where"])
        fast = getattr(settled, "__nep50_fast__", ("arg", 0))
        if fast[0] == "cast":
            return _build(params, f"R(a {sym} b)", {"R": numpy_support.as_dtype(fast[2]).type})
        return _build(params, f"a {sym} b", {})
    return _ov


for _stem in nep50.INPLACE:
    _register_iop(_stem)

# -- mixed locals: a Python number on some paths, NumPy values on others ----------
_WEAK_SAMPLE = {"i": 0, "f": 0.0, "b": False, "c": 0j}
_KIND_WORD = {"i": "int", "f": "float", "b": "bool", "c": "complex"}


def _literal(t):
    if not isinstance(t, types.Literal):
        raise TypingError("nep50.mixed: a literal argument expected")
    return t.literal_value


def _mixed_difference(m, other, kinds, op, left):
    """(kind, NumPy's dtype, Numba's dtype) where `op` of `other` and a mixed
    local's value of Numba type `m` gives NumPy's dtype with the local a Python
    number of that kind and Numba's dtype compiled; None where they agree."""
    u, d = types.unliteral(m), types.unliteral(other)
    if not isinstance(u, _NUMBER) or _dtype_of(d) is None:
        return None     # an array or anything else: not a number NumPy would treat as weak
    fn = nep50.OPERATORS[op][0] if op in nep50.OPERATORS else getattr(np, op, None)
    if not callable(fn):
        return None
    got = _numba_result_dtype(fn, (u, d) if left else (d, u))
    if got is None:
        return None     # Numba cannot type it: its own error follows
    sample = np.zeros(0, _dtype_of(d)) if isinstance(d, types.Array) else _dtype_of(d).type(0)
    for k in kinds:
        w = _WEAK_SAMPLE[k]
        try:
            want = _numpy_result(fn, (w, sample) if left else (sample, w))
        except TypingError:
            continue    # NumPy raises for a Python number there: not this check's business
        if want != got:
            return k, want, got
    return None


@njit(cache=True)
def _raise_difference(message):
    """Not inlined: the helper that calls it still returns its value's type."""
    raise nep50.JitDifferenceError(message)


def _refusing(params, result, message):
    """An implementation that raises JitDifferenceError with `message` and the call's
    `where` when it runs (typed as returning `result`, as the checking one it replaces)."""
    return _build(params, result, {"fail": _raise_difference}, [f"fail({message!r} + where + ')')"])


def _mixed_impl(params, result, m, other, kinds, op, left, name):
    diff = _mixed_difference(m, other, _literal(kinds), _literal(op), _literal(left))
    if diff is None:
        return _build(params, result, {})
    k, want, got = diff
    n = _literal(name)
    if all(part.isidentifier() for part in n.split(", ")):
        message = (f"`{n}` holds a Python {_KIND_WORD[k]} on some paths and NumPy values on others: where it "
                   f"holds the {_KIND_WORD[k]}, NumPy computes this in {want}, while under jit `{n}` has one "
                   f"type and this gives {got}. Give `{n}` a NumPy type where it is assigned the Python number "
                   f"(`{n} = np.{want}(...)`, or the type it takes elsewhere) (at ")
    else:       # a conditional expression with a Python number on one side
        message = (f"{n} is a Python {_KIND_WORD[k]} on one side and a NumPy value on the other: where it "
                   f"is the {_KIND_WORD[k]}, NumPy computes this in {want}, while under jit it has one type "
                   f"and this gives {got}. Write its Python number as a NumPy value (np.{want}(...)) (at ")
    return _refusing(params, result, message)


@_helper(nep50.mixed, prefer_literal=True)
def _mixed(m, other, kinds, op, left, name, where):
    return _mixed_impl(["m", "other", "kinds", "op", "left", "name", "where"], "m", m, other, kinds, op, left, name)


@_helper(nep50.mixed_of, prefer_literal=True)
def _mixed_of(o, m, kinds, op, left, name, where):
    return _mixed_impl(["o", "m", "kinds", "op", "left", "name", "where"], "o", m, o, kinds, op, left, name)


@_helper(nep50.mixed_unary, prefer_literal=True)
def _mixed_unary(m, kinds, op, name, where):
    params = ["m", "kinds", "op", "name", "where"]
    u = types.unliteral(m)
    fn = getattr(np, _literal(op), None)
    got = _numba_result_dtype(fn, (u,)) if isinstance(u, _NUMBER) and isinstance(fn, np.ufunc) else None
    for k in (_literal(kinds) if got is not None else ()):
        try:
            want = _numpy_result(fn, (_WEAK_SAMPLE[k],))
        except TypingError:
            continue
        if want != got:
            n = _literal(name)
            message = (f"`{n}` holds a Python {_KIND_WORD[k]} on some paths and NumPy values on others: "
                       f"where it holds the {_KIND_WORD[k]}, NumPy computes np.{fn.__name__} of it in "
                       f"{want}, while under jit `{n}` has one type and this gives {got}. Give `{n}` a "
                       f"NumPy type where it is assigned the Python number (`{n} = np.{want}(...)`) (at ")
            return _refusing(params, "m", message)
    return _build(params, "m", {})


@_helper(nep50.mixed_bound, prefer_literal=True)
def _mixed_bound(t, weak, name, where):
    from numba.core.registry import cpu_target
    params = ["t", "weak", "name", "where"]
    s = types.unliteral(t)
    if not isinstance(s, _NUMBER):
        return _build(params, "t", {})
    for w in _literal(weak).split(","):
        merged = cpu_target.typing_context.unify_pairs(s, numpy_support.from_dtype(np.dtype(w)))
        if merged is not None and merged != s:
            n = _literal(name)
            message = (f"`{n}` is assigned a NumPy {s} here and a Python number elsewhere ({w} under jit): "
                       f"NumPy keeps {s} here, while under jit `{n}` has one type where paths join, "
                       f"{merged}. Give `{n}` a NumPy type where it is assigned the Python number "
                       f"(`{n} = np.{s}(...)`) (at ")
            return _refusing(params, "t", message)
    return _build(params, "t", {})


# -- Python int arithmetic: 64 bits, checked ----------------------------------
def _overflow_intrinsic(method):
    @intrinsic
    def _op(typingctx, a, b):
        sig = types.Tuple((types.int64, types.boolean))(types.int64, types.int64)

        def codegen(context, builder, signature, args):
            res = getattr(builder, method)(args[0], args[1])
            value = builder.extract_value(res, 0)
            flag = builder.extract_value(res, 1)
            return context.make_tuple(builder, signature.return_type, (value, flag))
        return sig, codegen
    return _op


_sadd = _overflow_intrinsic("sadd_with_overflow")
_ssub = _overflow_intrinsic("ssub_with_overflow")
_smul = _overflow_intrinsic("smul_with_overflow")


def _python_ints(a, b):
    return isinstance(types.unliteral(a), (types.Integer, types.Boolean)) \
        and isinstance(types.unliteral(b), (types.Integer, types.Boolean))


_OVERFLOW = "Python int arithmetic overflows 64 bits under jit (Python would give a bigger int)"


def _checked(target, intrinsic_op, op):
    @_helper(target)
    def _ov(a, b, where):
        if not _python_ints(a, b):
            return lambda a, b, where: op(a, b)

        def impl(a, b, where):
            pair = intrinsic_op(np.int64(a), np.int64(b))
            if pair[1]:
                raise OverflowError(_OVERFLOW + " (at " + where + ")")
            return pair[0]
        return impl
    return _ov


_checked(nep50.add_py, _sadd, operator.add)
_checked(nep50.sub_py, _ssub, operator.sub)
_checked(nep50.mul_py, _smul, operator.mul)


@njit(cache=True)
def _int_pow(a, b, where):
    """`a ** b` for Python ints: 64 bits, checked (not inlined: a loop)."""
    if b < 0:
        raise ValueError("an int to a negative int power is a float in Python but an int under jit: "
                         "write float(n) ** k (at " + where + ")")
    result = np.int64(1)
    base = np.int64(a)
    e = np.int64(b)
    while e > 0:
        if e & 1:
            pair = _smul(result, base)
            if pair[1]:
                raise OverflowError(_OVERFLOW + " (at " + where + ")")
            result = pair[0]
        e >>= 1
        if e > 0:
            pair = _smul(base, base)
            if pair[1]:
                raise OverflowError(_OVERFLOW + " (at " + where + ")")
            base = pair[0]
    return result


@_helper(nep50.pow_py)
def _pow_py(a, b, where):
    # (a literal negative exponent is `float(n) ** k` already: transpile/transforms/nep50.py)
    if not _python_ints(a, b):
        return lambda a, b, where: a ** b
    return lambda a, b, where: _int_pow(np.int64(a), np.int64(b), where)


@_helper(nep50.lshift_py)
def _lshift_py(a, b, where):
    if not _python_ints(a, b):
        return lambda a, b, where: a << b

    def impl(a, b, where):
        if b < 0:
            raise ValueError("negative shift count (at " + where + ")")
        x = np.int64(a)
        if x == 0:
            return x
        if b >= 63 or ((x << b) >> b) != x:
            raise OverflowError(_OVERFLOW + " (at " + where + ")")
        return x << b
    return impl


# -- f-strings: Python's formatting, in object mode ------------------------------
# One static, disk-cacheable object-mode function: a helper made at run time
# (exec) would leave cached callers without its environment in a new process.
_FORMAT_CLASSES = [None, float] + [np.dtype(c).type for c in (
    "float16", "float32", "float64", "complex64", "complex128", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool")]
_CONVERSIONS = ("", "s", "r", "a")


def _python_format(v, spec, code):
    """Python: `format(conversion(cls(v)), spec)` for `code` = 4 * class index + conversion index."""
    cls = _FORMAT_CLASSES[code // 4]
    if cls is not None:
        v = cls(v)
    conversion = _CONVERSIONS[code % 4]
    if conversion:
        v = {"s": str, "r": repr, "a": ascii}[conversion](v)
    return format(v, spec)


@njit(cache=True)
def _format_in_object_mode(v, spec, code):
    with objmode(s="unicode_type"):
        s = _python_format(v, spec, code)
    return s


def _register_format(target, python_number):
    @overload(target, inline="always", prefer_literal=True)
    def _ov(v, spec, conversion):
        if not isinstance(conversion, types.StringLiteral):
            raise TypingError("the conversion of an f-string field must be a literal")
        conv = conversion.literal_value
        plain = isinstance(spec, types.StringLiteral) and spec.literal_value == ""
        if plain and isinstance(v, types.UnicodeType) and conv in ("", "s"):
            return lambda v, spec, conversion: v
        if plain and isinstance(v, types.Integer) and (conv in ("", "s") or python_number):
            return lambda v, spec, conversion: str(v)      # Numba's str of an int is Python's
        cls = None
        t = types.unliteral(v)
        if isinstance(t, _NUMBER) and not python_number:
            cls = numpy_support.as_dtype(t).type    # NumPy's str and repr of its scalar type
        elif isinstance(t, types.Float) and t != types.float64:
            cls = float
        code = np.int64(4 * _FORMAT_CLASSES.index(cls) + _CONVERSIONS.index(conv))
        return lambda v, spec, conversion: _format_in_object_mode(v, spec, code)
    return _ov


_register_format(nep50.format_py, True)
_register_format(nep50.format_np, False)
