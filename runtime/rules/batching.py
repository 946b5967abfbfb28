"""Rules for `vmap`'s runtime helpers (:mod:`runtime.batching`).

Tangent templates, so that batched code can be differentiated like any
generated code (``grad(vmap(f))``, ``jacfwd(vmap(f))``): moving an axis and
broadcasting over the batch are linear, so their tangent is the same helper
applied to the tangent; the size and shape checks and the allocation of an
output (which the per-example loop then fills) carry no derivative.
"""
from runtime import batching as B
from runtime.rules import d, nondifferentiable, t, tangent

# ---- tangents of the helpers that batched code calls ----


@tangent(B.moveaxis)
def moveaxis(ans, a, source, destination):
    d[a] = B.moveaxis(t(a), source, destination)


@tangent(B.broadcast)
def broadcast(ans, v, n):
    d[v] = B.broadcast(t(v), n)


nondifferentiable(B.axis_size, B.check_size, B.check_nonempty, B.alloc)
