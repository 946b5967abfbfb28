"""What reverse and forward mode share: how an ANF right-hand side is
classified (`_Stmt`), activity analysis (which variables depend on the
differentiated parameters), name generation, and the callees' lookup.

`ADContext` is the base of `reverse.ReverseAD` and `forward.ForwardAD`; it
holds the program, the specialized function being differentiated, and the
set of names taken in it.
"""
import builtins
import copy

import gast
import numpy as np

from .. import astutil as A
from ..naming import fresh_local
from ..program import _import_path, params_of
from ..resolve import find_callee, resolve_static
from ..transforms.alias import _params_written
from . import templates
from runtime import rules, tape

_BINOPS = {gast.Add: np.add, gast.Sub: np.subtract, gast.Mult: np.multiply, gast.Div: np.true_divide,
           gast.Pow: np.power, gast.MatMult: np.matmul, gast.FloorDiv: np.floor_divide,
           gast.Mod: np.mod}
_UNARY = {gast.USub: np.negative, gast.UAdd: np.positive}
_METHODS = {"copy": np.copy, "dot": np.dot, "ravel": np.ravel, "flatten": np.ravel,
            "transpose": np.transpose, "astype": np.ndarray.astype, "clip": np.clip,
            "cumsum": np.cumsum, "trace": np.trace, "conj": np.conj}
_NONDIFF_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}
_NONDIFF_BUILTINS = {len, int, bool, range, round, isinstance, print, type, str}


def _rules():
    return rules


def _stop_gradient():
    return tape.stop_gradient


class _Stmt:
    """What one ANF statement computes, for differentiation."""

    def __init__(self, kind, fn=None, args=(), keywords=None, callee=None, node=None):
        self.kind = kind            # copy | const | rule | getitem | call | nondiff | tuple
        self.fn = fn
        self.args = list(args)
        self.keywords = keywords or {}
        self.callee = callee
        self.node = node


class ADContext:
    """Names, globals and statement classification for one generated function."""

    def __init__(self, program, spec, active_params):
        self.program = program
        self.spec = spec
        self.active_params = list(active_params)
        self.node = copy.deepcopy(spec.node)
        self.locals = set(spec.locals) | set(spec.dyn_params) | set(spec.hidden_names()) \
            | A.names_in(self.node)
        self.counters = {}
        self.src = spec.src
        self.active = set()

    def is_active(self, var):
        return var in self.active

    # -- names and globals -------------------------------------------------
    def fresh(self, base):
        return fresh_local(self.locals, self.counters, base)

    def emit_global(self, value, node):
        if templates.is_module(value):
            return A.name(self.program.module_alias(value.__name__))
        path = _import_path(value)
        if path is None:
            raise TypeError(f"cannot import {value!r} into generated code")
        modname, qualname = path
        if modname == "builtins":
            return A.dotted(qualname)
        out = A.name(self.program.module_alias(modname))
        for part in qualname.split("."):
            out = A.attr(out, part)
        return out

    def location(self, node):
        return self.src.location(node)

    def helper(self, module, name):
        return A.attr(self.program.module_alias(module), name)

    # -- analysis ----------------------------------------------------------
    def resolve_func(self, func):
        """The Python object a static callee expression denotes, or None."""
        return resolve_static(self.program, func, lambda name: name in self.spec_builtins())

    def spec_builtins(self):
        """Builtin names that the function does not assign (so they are the builtins)."""
        if not hasattr(self, "_builtins"):
            assigned = A.names_in(self.node, gast.Store) | {a.id for a in self.node.args.args}
            self._builtins = {n for n in A.names_in(self.node) if hasattr(builtins, n)} - assigned
        return self._builtins

    def classify(self, value):
        """A `_Stmt` for the right-hand side of an ANF assignment."""
        if isinstance(value, gast.Name):
            return _Stmt("copy", args=[value])
        if isinstance(value, gast.Constant) or (isinstance(value, gast.UnaryOp)
                                                and isinstance(value.operand, gast.Constant)):
            return _Stmt("const")
        if isinstance(value, gast.BinOp):
            return _Stmt("rule", _BINOPS.get(type(value.op)), [value.left, value.right], node=value)
        if isinstance(value, gast.UnaryOp):
            if isinstance(value.op, gast.Not):
                return _Stmt("nondiff")
            return _Stmt("rule", _UNARY.get(type(value.op)), [value.operand], node=value)
        if isinstance(value, (gast.Compare, gast.BoolOp)):
            return _Stmt("nondiff")
        if isinstance(value, gast.Subscript):
            return _Stmt("getitem", args=[value.value], node=value)
        if isinstance(value, gast.Attribute):
            if value.attr in _NONDIFF_ATTRS:
                return _Stmt("nondiff")
            if value.attr == "T":
                return _Stmt("rule", np.transpose, [value.value], node=value)
            if self.resolve_func(value) is not None:
                return _Stmt("const")
            return _Stmt("rule", None, [value.value], node=value)
        if isinstance(value, (gast.Tuple, gast.List)):
            return _Stmt("tuple", args=list(value.elts), node=value)
        if isinstance(value, gast.Call):
            kws = {k.arg: k.value for k in value.keywords}
            callee = self.callee_of(value.func)
            if callee is not None:
                return _Stmt("call", args=value.args, callee=callee, node=value)
            fn = self.resolve_func(value.func)
            args = list(value.args)
            if fn is None and isinstance(value.func, gast.Attribute):
                method = value.func.attr
                args = [value.func.value] + args
                fn = _METHODS.get(method)
                if fn is None:
                    return _Stmt("rule", None, args, kws, node=value)
                if method == "transpose" and len(args) > 2:    # x.transpose(1, 0, 2)
                    args = [args[0], A.tuple_(args[1:])]
            if fn is _stop_gradient() or fn in _NONDIFF_BUILTINS:
                return _Stmt("nondiff")
            return _Stmt("rule", fn, args, kws, node=value)
        return _Stmt("rule", None, [], node=value)

    def callee_of(self, func):
        return find_callee(self.program, func)

    def is_nondiff(self, fn):
        rules = _rules()
        try:
            return fn in rules.NONDIFFERENTIABLE
        except TypeError:
            return False

    def activity(self, body, lists=False):
        """Forward activity: the variables that depend on an active parameter.
        With `lists`, a list that an active value is appended to is active
        (generated code keeps tapes in lists)."""
        active = set(self.active_params)
        assigns, appends, scatters = [], [], []
        for n in gast.walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(n, gast.Assign):
                assigns.append(n)
            elif lists and isinstance(n, gast.Expr) and isinstance(n.value, gast.Call) \
                    and isinstance(n.value.func, gast.Attribute) and n.value.func.attr == "append" \
                    and isinstance(n.value.func.value, gast.Name):
                appends.append(n.value)
            elif isinstance(n, gast.Expr) and isinstance(n.value, gast.Call) and n.value.args \
                    and isinstance(n.value.args[0], gast.Name) \
                    and getattr(self.resolve_func(n.value.func), "__module__", None) == "runtime.at":
                scatters.append(n.value)        # at_add(y, idx, v): y takes v's values
        changed = True
        while changed:
            changed = False
            for call in scatters:
                y = call.args[0].id
                if y not in active and any(A.names_in(a) & active for a in call.args[1:]):
                    active.add(y)
                    changed = True
            for call in appends:
                lst = call.func.value.id
                if lst not in active and any(A.names_in(a) & active for a in call.args):
                    active.add(lst)
                    changed = True
            for n in assigns:
                uses = {m.id for m in gast.walk(n.value) if isinstance(m, gast.Name)}
                target = n.targets[0]
                if isinstance(target, gast.Subscript):
                    if uses & active and target.value.id not in active:
                        active.add(target.value.id)
                        changed = True
                    continue
                if not uses & active:
                    continue
                st = self.classify(n.value)
                if st.kind in ("nondiff", "const") or (st.kind == "rule" and st.fn is not None
                                                      and self.is_nondiff(st.fn)):
                    continue
                for m in gast.walk(target):
                    if isinstance(m, gast.Name) and m.id not in active:
                        active.add(m.id)
                        changed = True
        return active

    def split_tuples(self, body):
        """`s = g(x)` where g returns a k-tuple and `s` is only indexed by constants
        becomes `s_0, s_1 = g(x)`; `s[0]` becomes `s_0`."""
        whole = gast.Module(body=body, type_ignores=[])
        assigns = {}
        for n in gast.walk(whole):
            if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Name) \
                    and isinstance(n.value, gast.Call):
                callee = self.callee_of(n.value.func)
                if callee is not None and callee.node.body \
                        and isinstance(callee.node.body[-1], gast.Return) \
                        and isinstance(callee.node.body[-1].value, gast.Tuple):
                    assigns.setdefault(n.targets[0].id, []).append((n, len(callee.node.body[-1].value.elts)))
        for var, sites in assigns.items():
            if len(sites) != 1:
                continue
            node, k = sites[0]
            uses = [m for m in gast.walk(whole) if isinstance(m, gast.Name) and m.id == var]
            parents = [m for m in gast.walk(whole) if isinstance(m, gast.Subscript)
                       and isinstance(m.value, gast.Name) and m.value.id == var
                       and isinstance(m.slice, gast.Constant) and isinstance(m.slice.value, int)]
            if len(parents) != len(uses) - 1:
                continue
            names = [f"{var}_{j}" for j in range(k)]
            self.locals.update(names)
            node.targets = [A.tuple_([A.store(nm) for nm in names], gast.Store())]
            for p in parents:
                new = names[p.slice.value]
                p.__class__ = gast.Name
                for field in ("value", "slice"):
                    delattr(p, field)
                p.id, p.ctx, p.annotation, p.type_comment = new, gast.Load(), None, None


def _index_value(index):
    """An index expression usable as a call argument (slices become slice(...))."""
    def conv(p):
        if isinstance(p, gast.Slice):
            return A.call(A.name("slice"), [copy.deepcopy(p.lower) or A.const(None),
                                            copy.deepcopy(p.upper) or A.const(None),
                                            copy.deepcopy(p.step) or A.const(None)])
        return copy.deepcopy(p)
    if isinstance(index, gast.Tuple):
        return A.tuple_([conv(p) for p in index.elts])
    return conv(index)


def _is_check(fn):
    """Runtime helpers that generated code calls as statements to check a value (they raise
    or do nothing; they change nothing)."""
    return getattr(fn, "__module__", None) == "runtime.tape" and getattr(fn, "__name__", None) in (
        "grad_seed", "jacrev_output", "jacfwd_output", "check_output", "check_scalar_output")


def _may_write(fn, program=None):
    """Parameters of `fn` that it may change in place: written through a
    subscript or a method, or passed on to another generated function."""
    params = set(params_of(fn))
    out = A.changed_in_place(fn.node, call_args=True)
    if program is not None and hasattr(fn, "src"):
        out |= _params_written(program, fn)     # through views and aliases (y.reshape(...)[0] = v)
    return out & params


def _what(names):
    """A differentiable value for a message: the user's variable, else what it is."""
    users = [v for v in names if not v.startswith("_")]
    return f"`{users[0]}`" if users else "a differentiable value computed on this line"
