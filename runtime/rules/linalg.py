"""Adjoint templates of products and linear algebra: dot, matmul (``@``),
outer, trace, einsum, and np.linalg solve, inv, det, slogdet, norm,
cholesky.

Matrix rules use the last two axes (NumPy's stacks of matrices) eagerly;
compiled code is limited to what Numba's np.linalg takes (2-D).  The
cholesky rule returns the symmetric cotangent (Murray 2016), as JAX does.
See :mod:`runtime.rules` for the template format.
"""
import numpy as np

from runtime.adjoint import (as_columns, dot_grad_a, dot_grad_b, einsum_vjps,
                             expand_matrix_dims, matmul_grad_a, matmul_grad_b,
                             matrix_transpose, norm_grad, reshape_like,
                             trace_grad, unreduce)
from runtime import npx
from runtime.rules.registry import adjoint, d, t, tangent, ts
from runtime.tangent import einsum_tangent, matrix_trace

# ---- Products ----


@adjoint(np.dot)
def dot(g, ans, a, b, out=None):
    d[a] = dot_grad_a(g, a, b)
    d[b] = dot_grad_b(g, a, b)


@adjoint(np.matmul)
def matmul(g, ans, x1, x2):
    d[x1] = matmul_grad_a(g, x1, x2)
    d[x2] = matmul_grad_b(g, x1, x2)


@adjoint(np.outer)
def outer(g, ans, a, b, out=None):
    d[a] = reshape_like(np.dot(g, np.ravel(b)), a)
    d[b] = reshape_like(np.dot(np.ravel(a), g), b)


@adjoint(np.trace)
def trace(g, ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] = trace_grad(g, a, offset, axis1, axis2)


@adjoint(np.einsum)
def einsum(g, ans, subscripts, *operands, out=None, optimize=False):
    d[operands] = einsum_vjps(subscripts, g, operands)


# ---- Solvers and inverses ----


@adjoint(np.linalg.solve)
def solve(g, ans, a, b):
    gb = np.linalg.solve(matrix_transpose(a), g)
    d[a] = -(as_columns(gb) @ matrix_transpose(as_columns(ans)))
    d[b] = gb


@adjoint(np.linalg.inv)
def inv(g, ans, a):
    at = matrix_transpose(ans)
    d[a] = -(at @ g @ at)


@adjoint(np.linalg.det)
def det(g, ans, a):
    d[a] = expand_matrix_dims(g * ans) * matrix_transpose(np.linalg.inv(a))


@adjoint(np.linalg.slogdet)
def slogdet(g, ans, a):
    d[a] = expand_matrix_dims(g[1]) * matrix_transpose(np.linalg.inv(a))


@adjoint(np.linalg.cholesky)
def cholesky(g, ans, a):
    # S = L^-T phi(L^T g) L^-1, phi: lower triangle with a halved diagonal
    lg = np.tril(matrix_transpose(ans) @ g)
    phi = lg - 0.5 * lg * np.eye(ans.shape[-1])
    linv = np.linalg.inv(ans)
    s = matrix_transpose(linv) @ phi @ linv
    d[a] = 0.5 * (s + matrix_transpose(s))


# ---- Norms ----


@adjoint(np.linalg.norm)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    d[x] = unreduce(g, x, axis, keepdims) * norm_grad(x, ans, ord, axis,
                                                      keepdims)


# ---- Triangles ----

@adjoint(np.tril)
def tril(g, ans, m, k=0):
    d[m] = np.tril(g, k)


@adjoint(np.triu)
def triu(g, ans, m, k=0):
    d[m] = np.triu(g, k)


# ---- Tangents (forward mode) ----

@tangent(np.tril)
def tril_tangent(ans, m, k=0):
    d[m] = np.tril(t(m), k)


@tangent(np.triu)
def triu_tangent(ans, m, k=0):
    d[m] = np.triu(t(m), k)


@tangent(np.dot)
def dot_tangent(ans, a, b, out=None):
    d[a] = npx.dot(t(a), b)
    d[b] = npx.dot(a, t(b))


@tangent(np.matmul)
def matmul_tangent(ans, x1, x2):
    d[x1] = npx.matmul(t(x1), x2)
    d[x2] = npx.matmul(x1, t(x2))


@tangent(np.outer)
def outer_tangent(ans, a, b, out=None):
    d[a] = np.outer(t(a), b)
    d[b] = np.outer(a, t(b))


@tangent(np.trace)
def trace_tangent(ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] = np.trace(t(a), offset, axis1, axis2)


@tangent(np.einsum)
def einsum_tangent_(ans, subscripts, *operands, out=None, optimize=False):
    d[operands] = einsum_tangent(subscripts, operands, ts(operands))


@tangent(np.linalg.solve)
def solve_tangent(ans, a, b):
    d[a] = -np.linalg.solve(a, t(a) @ ans)
    d[b] = np.linalg.solve(a, t(b))


@tangent(np.linalg.inv)
def inv_tangent(ans, a):
    d[a] = -(ans @ t(a) @ ans)


@tangent(np.linalg.det)
def det_tangent(ans, a):
    d[a] = ans * matrix_trace(np.linalg.solve(a, t(a)))


@tangent(np.linalg.slogdet)
def slogdet_tangent(ans, a):
    d[a] = (0.0 * ans[0], matrix_trace(np.linalg.solve(a, t(a))))


@tangent(np.linalg.cholesky)
def cholesky_tangent(ans, a):
    # dL = L phi(L^-1 dA L^-T), phi: lower triangle with a halved diagonal
    linv = np.linalg.inv(ans)
    s = linv @ t(a) @ matrix_transpose(linv)
    phi = np.tril(s) - 0.5 * s * np.eye(ans.shape[-1])
    d[a] = ans @ phi


@tangent(np.linalg.norm)
def norm_tangent(ans, x, ord=None, axis=None, keepdims=False):
    d[x] = npx.sum(t(x) * norm_grad(x, ans, ord, axis, keepdims), axis, None,
                   None, keepdims)
