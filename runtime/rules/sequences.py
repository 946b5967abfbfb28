"""Tangent templates of the helpers that differentiate lists (runtime.adjoint's
``zeros_like_list``, ``add_seq``, ``pop_item``, ``push_item``, ``zero_item``) and writes through
repeated indices (``setitem_cotangent``), so generated gradients using them can be
differentiated again (``hessian``, ``grad(grad(f))``).

Each helper is linear in its cotangent list; the ones that change a list in place (a
pop, an entry zeroed) do the same to the tangent list, once per primal call.
"""
from runtime import adjoint as A
from runtime.rules.registry import d, nondifferentiable, t, tangent


@tangent(A.add_seq)
def add_seq(ans, bar, parts):
    d[bar, parts] = A.add_seq(t(bar), t(parts))


@tangent(A.pop_item)
def pop_item(ans, bar, like):
    d[bar] = A.pop_item(t(bar), like)
    d[like] = None


@tangent(A.push_item)
def push_item(ans, bar, g, like):
    d[bar, g] = A.push_item(t(bar), t(g), like)
    d[like] = None


@tangent(A.zero_item)
def zero_item(ans, bar, index):
    d[bar] = A.zero_item(t(bar), index)


@tangent(A.setitem_cotangent)
def setitem_cotangent(ans, bar, index):
    d[bar] = A.setitem_cotangent(t(bar), index)


nondifferentiable(A.zeros_like_list)
