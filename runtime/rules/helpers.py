"""Tangent templates of the runtime helpers that generated code calls, so
that generated code can itself be differentiated: forward mode over a
gradient (``grad(grad(f))``, ``hessian``), over a JVP, over a Jacobian
wrapper.

Almost every helper is linear in its cotangent or tangent argument, so its
tangent is the same helper applied to that argument's tangent.  Arguments
that a helper only reads for a shape are declared ``d[a] = None``.  A key
``d[x, y]`` is a contribution that is linear in x and y jointly (an
in-place scatter or a column write): the compiler passes zeros for the one
that is constant.  See :mod:`runtime.rules` for the template format.
"""
import numpy as np

from runtime import adjoint as A
from runtime import checks
from runtime import tangent as T
from runtime import tape
from runtime.rules.registry import d, nondifferentiable, t, tangent, ts, vmap_rule

# ---- runtime.adjoint: the helpers of adjoint templates ----


@tangent(A.unbroadcast)
def unbroadcast(ans, g, like):
    d[g] = A.unbroadcast(t(g), like)
    d[like] = None


@tangent(A.unreduce)
def unreduce(ans, g, a, axis=None, keepdims=False):
    d[g] = A.unreduce(t(g), a, axis, keepdims)
    d[a] = None


@tangent(A.reshape_like)
def reshape_like(ans, g, a, order='C'):
    d[g] = A.reshape_like(t(g), a, order)
    d[a] = None


@tangent(A.like_dtype)
def like_dtype(ans, g, a, dtype):
    d[g] = A.like_dtype(t(g), a, dtype)
    d[a] = None


@tangent(A.demean)
def demean(ans, a, axis=None):
    d[a] = A.demean(t(a), axis)


@tangent(A.reverse_cumsum)
def reverse_cumsum(ans, g, a, axis=None):
    d[g] = A.reverse_cumsum(t(g), a, axis)
    d[a] = None


@tangent(A.safe_log)
def safe_log(ans, x):
    d[x] = t(x) / x


@tangent(A.untranspose)
def untranspose(ans, g, axes=None):
    d[g] = A.untranspose(t(g), axes)


@tangent(A.split_like)
def split_like(ans, g, arrays, axis=0):
    d[g] = A.split_like(t(g), arrays, axis)
    d[arrays] = None


@tangent(A.unstack_like)
def unstack_like(ans, g, arrays, axis=0):
    d[g] = A.unstack_like(t(g), arrays, axis)
    d[arrays] = None


@tangent(A.add_at)
def add_at(ans, target, index, g):
    d[target, g] = A.add_at(t(target), index, t(g))


@tangent(A.einsum_vjps)
def einsum_vjps(ans, subscripts, g, operands):
    d[g] = A.einsum_vjps(subscripts, t(g), operands)
    d[operands] = T.einsum_vjps_tangent(subscripts, g, operands, ts(operands))


@tangent(A.dot_grad_a)
def dot_grad_a(ans, g, a, b):
    d[g] = A.dot_grad_a(t(g), a, b)
    d[a] = None
    d[b] = A.dot_grad_a(g, a, t(b))


@tangent(A.dot_grad_b)
def dot_grad_b(ans, g, a, b):
    d[g] = A.dot_grad_b(t(g), a, b)
    d[a] = A.dot_grad_b(g, t(a), b)
    d[b] = None


@tangent(A.matmul_grad_a)
def matmul_grad_a(ans, g, a, b):
    d[g] = A.matmul_grad_a(t(g), a, b)
    d[a] = None
    d[b] = A.matmul_grad_a(g, a, t(b))


@tangent(A.matmul_grad_b)
def matmul_grad_b(ans, g, a, b):
    d[g] = A.matmul_grad_b(t(g), a, b)
    d[a] = A.matmul_grad_b(g, t(a), b)
    d[b] = None


@tangent(A.matrix_transpose)
def matrix_transpose(ans, x):
    d[x] = A.matrix_transpose(t(x))


@tangent(A.trace_grad)
def trace_grad(ans, g, a, offset=0, axis1=0, axis2=1):
    d[g] = A.trace_grad(t(g), a, offset, axis1, axis2)
    d[a] = None


@tangent(A.expand_matrix_dims)
def expand_matrix_dims(ans, v):
    d[v] = A.expand_matrix_dims(t(v))


@tangent(A.as_columns)
def as_columns(ans, v):
    d[v] = A.as_columns(t(v))


@tangent(A.prod_others)
def prod_others(ans, a, axis=None):
    d[a] = T.prod_others_tangent(a, t(a), axis)


@tangent(A.norm_grad)
def norm_grad(ans, x, norm, ord=None, axis=None, keepdims=False):
    d[x, norm] = T.norm_grad_tangent(x, norm, t(x), t(norm), ord, axis, keepdims)


nondifferentiable(A.zeros_like, A.reduced_size, A.tie_weight,
                  A.extremum_mask)

# ---- runtime.tape ----


@tangent(tape.save)
def save(ans, value):
    d[value] = tape.save(t(value))


nondifferentiable(tape.grad_seed, tape.stop_gradient, tape.keeps, tape.check_output)
nondifferentiable(checks.is_array)     # a test of the type (transforms/alias.py)

# ---- runtime.tangent: forward mode's own helpers ----


@tangent(T.fit)
def fit(ans, v, like):
    d[v] = T.fit(t(v), like)
    d[like] = None


@tangent(T.cast)
def cast(ans, v, dtype):
    d[v] = T.cast(t(v), dtype)


@tangent(T.matrix_trace)
def matrix_trace(ans, m):
    d[m] = T.matrix_trace(t(m))






@tangent(T.jac_shape)
def jac_shape(ans, J, y, x):
    d[J] = T.jac_shape(t(J), y, x)
    d[y] = None
    d[x] = None


@tangent(T.jac_from_cols)
def jac_from_cols(ans, T_, y, x):
    d[T_] = T.jac_from_cols(t(T_), y, x)
    d[y] = None
    d[x] = None


@tangent(T.first_example)
def first_example(ans, Y):
    d[Y] = T.first_example(t(Y))


@tangent(T.jac_from_rows)
def jac_from_rows(ans, B, y, x):
    d[B] = T.jac_from_rows(t(B), y, x)
    d[y] = None
    d[x] = None


@tangent(T.real_tangent)
def real_tangent(ans, v, y):
    d[v] = T.real_tangent(t(v), y)
    d[y] = None


@vmap_rule(T.real_tangent, batched=("v", "y"))
def real_tangent_batched(fn, v, y):
    # the check of dtypes, a batch as one example
    return fn(v, y)


nondifferentiable(T.unit, T.size, T.basis, T.basis_block)
_ = np  # templates may name np
