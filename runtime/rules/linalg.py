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
from runtime.rules import adjoint, d

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
