"""Checks: make indexing and division raise NumPy's errors at the user's line.

Numba checks bounds without saying where, and its zero-division error has no
location either. This pass routes them through `runtime.checks`, passing the
user's `file:line` as a string::

    y = x[i]          ->  y = getitem(x, i, 'f.py:3')
    x[i] = v          ->  setitem(x, i, v, 'f.py:4')
    x[i] += v         ->  setitem(x, i, getitem(x, i, 'f.py:5') + v, 'f.py:5')
    z = A[i, 1:]      ->  z = A[check_index(i, A, 0, 'f.py:6'), 1:]
    r = a / b         ->  r = a / check_divisor(a, b, 'f.py:7')
    r = f(a) // b     ->  r = floor_divide(f(a), b, 'f.py:8')

Slices, constant divisors other than zero, and subscripts of anything but a
variable are left alone (Numba's `boundscheck` still raises for those).

Invariant established: every subscript of a variable by a non-slice index,
and every division by a non-constant, goes through a checking helper.
"""
import os

import gast

from .. import astutil as A


def _where(spec, node):
    return A.const(f"{os.path.basename(spec.src.filename)}:{getattr(node, 'lineno', spec.node.lineno)}")


def _components(index):
    return index.elts if isinstance(index, gast.Tuple) else [index]


def _generated(name):
    return name.startswith(("_stack", "_saved", "_tape")) or name.endswith("_bar")


def _is_plain(p):
    return isinstance(p, gast.Slice) or (isinstance(p, gast.Constant) and p.value in (None, Ellipsis))


class _Checks(gast.NodeTransformer):
    def __init__(self, program, spec):
        self.spec = spec
        self.mod = program.module_alias("runtime.checks")

    def helper(self, name):
        return A.attr(self.mod, name)

    def checkable(self, node):
        if getattr(node, "in_bounds", False):
            return False  # generated with an index valid by construction
        if getattr(node, "tp_check", False) and self.single(node):
            return True   # an adjoint indexed as the user's array was (`x_bar[mask] = 0.0`)
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                and _generated(node.value.id):
            return False  # tapes and adjoints: indexed only where the user's code was checked
        return isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
            and not all(_is_plain(p) for p in _components(node.slice))

    def single(self, node):
        return not isinstance(node.slice, (gast.Tuple, gast.Slice))

    def check_components(self, node):
        """A[i, :, j] -> A[check_index(i, A, 0, w), :, check_index(j, A, 2, w)]."""
        parts = _components(node.slice)
        new = []
        for axis, p in enumerate(parts):
            if isinstance(p, gast.Constant) and p.value in (None, Ellipsis):
                new.extend(parts[axis:])  # axis numbering unknown from here on
                break
            if isinstance(p, gast.Slice):
                new.append(p)
                continue
            new.append(A.call(self.helper("check_index"),
                              [p, A.name(node.value.id), A.const(axis), _where(self.spec, node)]))
        node.slice = A.tuple_(new)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, gast.Load) and not isinstance(node.value, gast.Name) and self.single(node) \
                and not getattr(node, "in_bounds", False) and not _is_plain(node.slice):
            # `f(x)[i]`, `np.ones(n)[mask]`: the base is evaluated once inside getitem, which
            # checks the index (and takes a mask of several axes, which Numba's indexing cannot)
            return A.located(A.call(self.helper("getitem"), [node.value, node.slice, _where(self.spec, node)]), node)
        if not isinstance(node.ctx, gast.Load) or not self.checkable(node):
            return node
        if self.single(node):
            return A.located(A.call(self.helper("getitem"), [node.value, node.slice, _where(self.spec, node)]), node)
        return self.check_components(node)

    def visit_Assign(self, node):
        node.value = self.visit(node.value)
        if len(node.targets) == 1 and self.checkable(node.targets[0]):
            target = node.targets[0]
            target.slice = self.visit(target.slice)
            if self.single(target):
                call = A.call(self.helper("setitem"), [target.value, target.slice, node.value,
                                                       _where(self.spec, node)])
                return A.located(A.expr_stmt(call), node)
            self.check_components(target)
            return node
        node.targets = [self.visit(t) for t in node.targets]
        return node

    def visit_AugAssign(self, node):
        node.value = self.visit(node.value)
        target = node.target
        if isinstance(node.op, (gast.Div, gast.FloorDiv, gast.Mod)) and not _safe_divisor(node.value) \
                and not getattr(node, "divisor_checked", False):
            left = A.with_ctx(target, gast.Load())
            node.value = A.call(self.helper("check_divisor"), [left, node.value, _where(self.spec, node)])
        if self.checkable(target):
            target.slice = self.visit(target.slice)
            if self.single(target):
                where = _where(self.spec, node)
                load = A.call(self.helper("getitem"), [A.name(target.value.id), target.slice, where])
                value = gast.BinOp(left=load, op=node.op, right=node.value)
                call = A.call(self.helper("setitem"), [A.name(target.value.id), target.slice, value, where])
                return A.located(A.expr_stmt(call), node)
            self.check_components(target)
            return node
        node.target = self.visit(target)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if getattr(node, "divisor_checked", False):
            return node  # generated with its own check (a masked loop's: transpile/batching/masked.py)
        if isinstance(node.op, (gast.Div, gast.FloorDiv, gast.Mod)) and not _safe_divisor(node.right):
            where = _where(self.spec, node)
            if isinstance(node.left, (gast.Name, gast.Constant)):
                node.right = A.located(A.call(self.helper("check_divisor"),
                                              [A.with_ctx(node.left, gast.Load()), node.right, where]), node.right)
            else:  # do not evaluate the left operand twice
                fn = _DIVISION_HELPERS[type(node.op)]
                return A.located(A.call(self.helper(fn), [node.left, node.right, where]), node)
        return node


_DIVISION_HELPERS = {gast.Div: "divide", gast.FloorDiv: "floor_divide", gast.Mod: "mod"}


def _safe_divisor(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) and node.value != 0


def run(program, spec):
    if getattr(spec, "indices_in_bounds", False):   # generated code whose indices are valid by construction
        return spec.node
    spec.node = _Checks(program, spec).visit(spec.node)
    return spec.node
