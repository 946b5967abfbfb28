"""Helpers that forward-mode generated code (and the Jacobian wrappers built
on it) calls.  Each runs under NumPy here and under Numba through
:mod:`runtime.numba_tangent`.

* ``fit(v, like)``: a tangent brought to the shape of its primal (the
  tangent of ``x + y`` when only the scalar ``x`` varies is ``x_dot``
  broadcast to the sum's shape);
* ``cast(v, dtype)``: the tangent of ``a.astype(dtype)``;
* ``matrix_trace``, ``einsum_tangent``: pieces of the tangents of det and
  einsum;
* ``unit(x, k)``: the k-th basis tangent of ``x`` (flat index);
* ``basis(x)``, ``jac_from_cols``, ``jac_from_rows``: a Jacobian from one
  batched JVP (VJP) over every basis tangent (cotangent) at once, as JAX's
  ``vmap`` of ``jvp``/``vjp``, given the shape ``y.shape + x.shape`` by
  ``jac_shape`` (a float when both are scalars).
"""
import numpy as np

from runtime.adjoint import _norm_one, einsum_vjp, prod_others, unreduce
from runtime.tape import COMPLEX_ADVICE, check_output


_COMPLEX = ("a complex value inside the differentiated function depends on its inputs (e.g. "
            "x * 1j, np.exp(1j * x)), and its derivative would be cut to its real part: "
            + COMPLEX_ADVICE + ".")


def _float(dt):
    return dt if np.dtype(dt).kind in 'fc' else np.dtype(np.float64)


def fit(v, like):
    """The tangent ``v`` broadcast to the shape of ``like`` (``v`` itself when
    it fits; a float when ``like`` is a scalar)."""
    if np.ndim(like) == 0 and not isinstance(like, np.ndarray):
        if np.iscomplexobj(v):      # never cut to its real part
            raise TypeError(_COMPLEX)
        return float(v) if np.ndim(v) == 0 else float(np.sum(v))
    shape = np.shape(like)
    if np.shape(v) == shape and isinstance(v, np.ndarray):
        return v
    return np.array(np.broadcast_to(v, shape), dtype=_float(np.result_type(like)))


def cast(v, dtype):
    """The tangent of ``a.astype(dtype)`` given a's tangent ``v``: cast when
    ``dtype`` is floating, zeros otherwise (an integer has no tangent)."""
    if np.dtype(dtype).kind in 'fc':
        return np.asarray(v).astype(dtype)
    return np.zeros(np.shape(v))


def real_tangent(v, y):
    """The tangent ``v`` of the output ``y`` of a JVP (tuples: pytree leaves),
    checked: a complex tangent of a real output (a complex value inside the
    function) or a complex output is a TypeError, never a number."""
    if type(y) is tuple:        # a pytree's leaves (nested: Jacobians of Jacobians)
        for e, ve in zip(y, v):
            real_tangent(ve, e)
        return v
    if np.iscomplexobj(y):
        raise TypeError(f"jvp of a function with a complex output: {COMPLEX_ADVICE}.")
    if np.iscomplexobj(v):
        raise TypeError(_COMPLEX)
    return v


def matrix_trace(m):
    """The trace of the last two axes of ``m`` (one per matrix of a stack)."""
    return np.trace(m, axis1=-2, axis2=-1)


def einsum_tangent(subscripts, operands, tangents):
    """The tangent of ``np.einsum(subscripts, *operands)``: the sum over k of
    the einsum with operand k replaced by its tangent."""
    out = 0.0
    for k in range(len(operands)):
        ops = list(operands)
        ops[k] = tangents[k]
        out = out + np.einsum(subscripts, *ops)
    return out


def einsum_vjps_tangent(subscripts, g, operands, tangents):
    """The tangent of ``runtime.adjoint.einsum_vjps(subscripts, g, operands)``
    with respect to the operands: cotangent i is linear in every operand but
    the i-th."""
    out = []
    for i in range(len(operands)):
        acc = 0.0
        for j in range(len(operands)):
            if j != i:
                ops = list(operands)
                ops[j] = tangents[j]
                acc = acc + einsum_vjp(subscripts, i, g, tuple(ops))
        out.append(acc)
    return tuple(out)


def prod_others_tangent(a, ta, axis=None):
    """The tangent of ``runtime.adjoint.prod_others(a, axis)`` along ``ta``:
    element i gets sum over j != i of ta_j times the product of the others
    (exact with zeros; O(n^2), for second derivatives of prod)."""
    if np.ndim(a) == 0:
        return 0.0
    a = np.asarray(a, float)
    ta = np.asarray(ta, float)
    flat = axis is None
    if flat:
        shape = a.shape
        a, ta, axis = a.ravel(), ta.ravel(), 0
    if isinstance(axis, tuple):
        raise NotImplementedError("the second derivative of prod over several axes")
    ax = axis % a.ndim
    out = np.zeros_like(a)
    for j in range(a.shape[ax]):
        sl = [slice(None)] * a.ndim
        sl[ax] = j
        b = a.copy()
        b[tuple(sl)] = ta[tuple(sl)]
        r = prod_others(b, ax)
        r[tuple(sl)] = 0.0
        out += r
    return out.reshape(shape) if flat else out


def norm_grad_tangent(x, ans, tx, tans, ord=None, axis=None, keepdims=False):
    """The tangent of ``runtime.adjoint.norm_grad(x, ans, ord, axis,
    keepdims)`` along ``tx`` (and ``tans``, the norm's own tangent) for
    Euclidean/Frobenius norms and p-norms of vectors; 0 for the piecewise
    linear norms (1, inf)."""
    if np.ndim(x) == 0:
        return 0.0
    x = np.asarray(x, float)
    nd = x.ndim
    if axis is None:
        axes = tuple(range(nd)) if ord is None else ((0,) if nd == 1 else (0, 1))
    else:
        axes = tuple(_norm_one(k, nd) for k in (axis if isinstance(axis, tuple) else (axis,)))
    n = unreduce(ans, x, axes, keepdims)
    tn = unreduce(tans, x, axes, keepdims)
    safe = np.where(n != 0, n, 1.0)
    if ord is None or ord == 'fro' or (ord == 2 and len(axes) == 1):
        return np.where(n != 0, tx / safe - x * tn / safe ** 2, 0.0)
    if ord in (1, np.inf, -np.inf, 0) or (len(axes) == 2 and ord in (-1,)):
        return np.zeros_like(x)
    if len(axes) == 2:
        raise NotImplementedError(f"the second derivative of the matrix norm ord={ord!r}")
    p = float(ord)
    ax = np.abs(x)
    s = np.sign(x)
    return np.where(n != 0, (p - 1) * ax ** (p - 2) * tx / safe ** (p - 1)
                    - (p - 1) * s * ax ** (p - 1) * tn / safe ** p, 0.0)


def unit(x, k):
    """The tangent of ``x`` that is 1 at flat index ``k`` and 0 elsewhere
    (1.0 for a scalar).  ``x`` is what jacrev differentiates (its output):
    JAX's TypeError unless it is float."""
    check_output(x, "jacrev")
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return 1.0
    e = np.zeros(np.shape(x), _float(np.result_type(x)))
    e.flat[k] = 1.0
    return e


def size(x):
    """The number of elements of ``x`` (1 for a scalar; for a tuple, of
    all its items)."""
    if type(x) is tuple:
        return sum(size(e) for e in x)
    return int(np.size(x))


# A function's output may be a tuple (a pytree returned flat, nested for a
# Jacobian of a Jacobian): its basis spans all items, a Jacobian is a tuple
# like the output with one Jacobian per item (the dispatcher nests it as JAX).

def basis(x):
    """Every basis tangent of ``x`` at once: the ``(size(x),) + x.shape``
    stack of the ``unit(x, k)``; for a tuple, a tuple of such stacks with
    ``size(x)`` rows each, row k nonzero in the item holding flat index k.
    JAX's TypeError unless ``x`` is float (jacrev's output, jacfwd's input)."""
    check_output(x, "jacrev")
    if type(x) is tuple:
        return basis_block(x, size(x), 0)
    n = size(x)
    return np.eye(n, dtype=_float(np.result_type(x))).reshape((n,) + np.shape(x))


def basis_block(x, n, k):
    """Rows ``k .. k + size(x)`` of an ``n``-row identity, shaped
    ``(n,) + x.shape`` (a tuple of those for a tuple, its items one after
    the other)."""
    if type(x) is tuple:
        out = []
        for e in x:
            out.append(basis_block(e, n, k))
            k += size(e)
        return tuple(out)
    m = size(x)
    B = np.zeros((n, m), _float(np.result_type(x)))
    B[np.arange(k, k + m), np.arange(m)] = 1.0
    return B.reshape((n,) + np.shape(x))


def first_example(Y):
    """The first example of a batched value (of each item of a tuple)."""
    if type(Y) is tuple:
        return tuple(first_example(e) for e in Y)
    return Y[0]


def jac_from_cols(T, y, x):
    """The Jacobian ``y.shape + x.shape`` (a float when both are scalars)
    from ``T``, the tangents of ``y`` along ``basis(x)``, one per row (a
    tuple of them for a tuple ``y``).  ``y`` is what jacfwd differentiates:
    JAX's TypeError for None, a string or a complex."""
    check_output(y, "jacfwd", ints=True)
    if type(y) is tuple:
        return tuple(jac_from_cols(t, e, x) for t, e in zip(T, y))
    real_tangent(T, y)
    n, m = size(x), size(y)
    J = np.reshape(T, (n, m)).T
    return jac_shape(J, y, x)


def jac_from_rows(B, y, x):
    """The Jacobian from ``B``, the cotangents of ``x`` along ``basis(y)``,
    one per row (a tuple like ``y`` for a tuple, from its items' rows)."""
    if type(y) is tuple:
        out, k = [], 0
        for e in y:
            out.append(jac_from_rows(B[k:k + size(e)], e, x))
            k += size(e)
        return tuple(out)
    return jac_shape(np.reshape(B, (size(y), size(x))), y, x)








def jac_shape(J, y, x):
    """``J`` with the shape ``y.shape + x.shape`` (a float when both are
    scalars)."""
    shape = np.shape(y) + np.shape(x)
    if shape == ():
        return float(J[0, 0])
    return J.reshape(shape)
