"""Which names of an ANF function may share an array, and which statements
write into an array in place: what vectorizing must keep in step.

Vectorized code must give each name the same *buffer relations* as the
code of one example, or a write through one name would reach (or miss)
another name differently than in the per-example loop:

    y = np.zeros(3)                 # unbatched, then written with mapped values:
    z = y                           # y and z share the array: both become batches
    z[0] = x                        # (a copy of y for z alone would leave y unchanged)

    a = y[0]                        # one example: a number (a copy); the batch:
    y[0] = 2.0 * a                  # y[:, 0], a view, which this write would change

The groups are flow-insensitive (a union-find over the names that a value
may view: `w = x`, `z = y[1:]`, `t = y.T`, `r = np.reshape(y, s)`, a tuple
holding `y`, the result of a call that may return its argument), so they
over-approximate: a name in a written group is treated as written.
"""
import gast
import numpy as np

from .. import astutil as A

#: attributes that are views of their object
VIEW_ATTRS = {"T", "mT", "real", "imag", "flat"}
#: ndarray methods whose result may view their receiver
VIEW_METHODS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "view", "diagonal", "pop",
                "__getitem__", "__array__"}
#: ndarray / list methods that write into their receiver
WRITING_METHODS = {"fill", "sort", "put", "itemset", "resize", "partition", "setfield", "append",
                   "extend", "insert", "pop", "remove", "clear", "reverse", "update", "setdefault",
                   "popitem", "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__"}
#: ndarray methods whose result is new (or a number)
FRESH_METHODS = {"copy", "astype", "flatten", "sum", "prod", "mean", "max", "min", "std", "var", "any",
                 "all", "argmax", "argmin", "cumsum", "cumprod", "dot", "clip", "round", "conj",
                 "conjugate", "tolist", "item", "nonzero", "trace", "argsort", "searchsorted", "ptp",
                 "keys", "values", "items", "get", "count", "index"}
#: NumPy (and runtime.npx) functions whose result may view their first argument
VIEW_FUNCS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "expand_dims", "moveaxis",
              "asarray", "asanyarray", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
              "diagonal", "real", "imag", "ascontiguousarray", "asfortranarray", "flip", "fliplr",
              "flipud", "rot90", "matrix_transpose", "permute_dims", "broadcast_arrays", "split",
              "array_split", "hsplit", "vsplit", "dsplit", "unstack", "rollaxis", "stop_gradient",
              "require"}
#: NumPy functions that write into their first argument
WRITING_FUNCS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"}
#: runtime helpers (runtime.* modules) whose result is new: any other may
#: return (a view of) its first argument
FRESH_HELPERS = {
    "runtime.tape": {"save", "keeps", "alloc", "grad_seed"},
    "runtime.adjoint": {"zeros_like", "zeros_like_list", "like_dtype", "reduced_size", "demean",
                        "extremum_mask", "prod_others", "reverse_cumsum", "tie_weight", "safe_log",
                        "einsum_vjp", "einsum_vjps", "dot_grad_a", "dot_grad_b", "matmul_grad_a",
                        "matmul_grad_b", "trace_grad", "norm_grad", "unreduce"},
    "runtime.tangent": {"cast", "matrix_trace", "einsum_tangent", "einsum_vjps_tangent",
                        "prod_others_tangent", "norm_grad_tangent", "unit", "size", "basis",
                        "basis_block"},
    "runtime.batching": {"axis_size", "check_size", "check_nonempty", "alloc", "broadcast", "number_lanes",
                         "copy_lanes", "example_axis", "example_axes", "example_shape", "example_len",
                         "example_shape_of", "example_ndim", "example_size", "as_float", "as_int",
                         "matmul_bu", "matmul_ub", "matmul_bb", "einsum_subscripts",
                         "outer_examples", "example_like", "seed_examples", "unreduce_examples"},
    "runtime.checks": {"check_index", "check_unpack", "check_divisor", "divide", "floor_divide", "mod"},
}
#: runtime helpers that write into their first argument
WRITING_HELPERS = {
    "runtime.checks": {"setitem"},
    "runtime.adjoint": {"add_at", "add_seq", "pop_item", "zero_item"},
    "runtime.batching": {"add_at_examples", "set_lane"},
}
_FRESH_BUILTINS = {float, int, bool, complex, len, abs, round, min, max, range, print, isinstance, str,
                   hash, divmod, pow, sum, any, all}


def _module(fn):
    return getattr(fn, "__module__", None) or ""


def _numpy_like(fn):
    mod = _module(fn)
    return mod == "numpy" or mod.startswith("numpy.") or mod == "runtime.npx" or isinstance(fn, np.ufunc)


def _arg_names(nodes):
    out = set()
    for a in nodes:
        out |= A.names_in(a)
    return out


class Aliases:
    """May-share groups and in-place writes of one ANF function.

    `resolve(func)` gives the Python object a callee expression names (None
    when unknown); `returned(func)`, for a generated function, the positions
    of the arguments whose arrays its result may share (None for any other
    callee)."""

    def __init__(self, node, params, resolve, returned):
        self.resolve = resolve
        self.returned = returned
        self.parent = {p: p for p in params}
        for s in gast.walk(node):
            if isinstance(s, gast.Assign):
                self._assign(s)
            elif isinstance(s, gast.For):
                for t in A.names_in(s.target, gast.Store):
                    for n in A.names_in(s.iter):
                        self.union(t, n)
        self._groups = None

    # -- union-find ----------------------------------------------------------------
    def find(self, a):
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb
            self._groups = None

    def group(self, name):
        """The names that may share an array with `name` (itself included)."""
        if self._groups is None:
            groups = {}
            for n in list(self.parent):
                groups.setdefault(self.find(n), set()).add(n)
            self._groups = {n: frozenset(groups[self.find(n)]) for n in self.parent}
        return self._groups.get(name, frozenset((name,)))

    def _assign(self, s):
        target = s.targets[0]
        if isinstance(target, gast.Subscript):
            return
        sources = self.sources(s.value)
        for t in A.names_in(target, gast.Store):
            self.find(t)
            for n in sources:
                self.union(t, n)

    # -- what a value may view ---------------------------------------------------------
    def sources(self, value):
        """Names whose arrays `value` may share (view, hold, or be)."""
        if isinstance(value, gast.Name):
            return {value.id}
        if isinstance(value, (gast.Tuple, gast.List, gast.Set)):
            return _arg_names(value.elts)
        if isinstance(value, gast.Dict):
            return _arg_names([v for v in value.values if v is not None])
        if isinstance(value, gast.Subscript):
            return A.names_in(value.value)
        if isinstance(value, gast.Attribute):
            return A.names_in(value.value) if value.attr in VIEW_ATTRS else set()
        if isinstance(value, gast.Starred):
            return A.names_in(value.value)
        if isinstance(value, gast.Call):
            return self.call_sources(value)
        return set()        # arithmetic, comparisons, constants: new values

    def call_sources(self, call):
        args = list(call.args) + [k.value for k in call.keywords]
        first = A.names_in(call.args[0]) if call.args else set()
        returned = self.returned(call.func)
        if returned is not None:
            return _arg_names([a for k, a in enumerate(call.args) if k in returned])
        fn = self.resolve(call.func)
        if fn is None:
            func = call.func
            if isinstance(func, gast.Attribute):
                receiver = A.names_in(func.value)
                if func.attr in FRESH_METHODS:
                    return set()
                if func.attr in VIEW_METHODS:
                    return receiver
                return receiver | _arg_names(args)
            return _arg_names(args) | A.names_in(call.func)
        if fn in _FRESH_BUILTINS or _module(fn) in ("math", "cmath"):
            return set()
        if _numpy_like(fn):
            return first if getattr(fn, "__name__", None) in VIEW_FUNCS else set()
        mod = _module(fn)
        if mod.startswith("runtime."):
            if getattr(fn, "__name__", None) in FRESH_HELPERS.get(mod, ()):
                return set()
            return first
        return _arg_names(args)

    # -- writes ----------------------------------------------------------------------
    def writes(self, stmt):
        """[(name, [nodes of the values written])] of the arrays `stmt` writes
        in place (calls of generated functions aside: their summaries say)."""
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript):
                base = target.value
                if isinstance(base, gast.Name):
                    return [(base.id, [stmt.value, target.slice])]
                return []
            value = stmt.value
        elif isinstance(stmt, gast.Expr):
            value = stmt.value
        else:
            return []
        if not isinstance(value, gast.Call):
            return []
        out = []
        args = list(value.args)
        for k in value.keywords:
            if k.arg == "out":
                out.extend((n, args) for n in A.names_in(k.value))
        if self.returned(value.func) is not None:
            return out
        fn = self.resolve(value.func)
        func = value.func
        if fn is None and isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            if func.attr in WRITING_METHODS:
                out.append((func.value.id, args))
            return out
        if fn is None or not args or not isinstance(args[0], gast.Name):
            return out
        name = getattr(fn, "__name__", None)
        if (_numpy_like(fn) and name in WRITING_FUNCS) \
                or name in WRITING_HELPERS.get(_module(fn), ()) \
                or (name in ("at", "reduceat") and isinstance(getattr(fn, "__self__", None), np.ufunc)):
            out.append((args[0].id, args[1:]))
        return out
