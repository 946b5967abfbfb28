"""Adjoint template of indexing reads ``a[index]`` (``operator.getitem``).

``index`` is an int, a slice (the compiler passes ``slice(...)`` objects), an
integer array, a boolean mask or a tuple of those.  The cotangent is
scattered back into zeros shaped like ``a``; repeated integer indices
accumulate (``add_at`` is a scatter-add).  See :mod:`runtime.rules`.
"""
import operator

from runtime import npx
from runtime.adjoint import add_at, zeros_like
from runtime.rules.registry import adjoint, d, t, tangent

# ---- Reads ----


@adjoint(operator.getitem)
def getitem(g, ans, a, index):
    d[a] = add_at(zeros_like(a), index, g)


@adjoint(npx.mask_select)
def mask_select(g, ans, a, mask):
    # a[mask] spelled for compiled code (2-D masks)
    d[a] = add_at(zeros_like(a), mask, g)


# ---- Tangents: reads are linear (``a[index]`` itself is handled by the
# compiler: its tangent is ``a_dot[index]``) ----

@tangent(npx.mask_select)
def mask_select_tangent(ans, a, mask):
    d[a] = npx.mask_select(t(a), mask)
