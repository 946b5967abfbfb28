"""Helpers that reverse-mode generated code calls for its own bookkeeping.

Each runs under NumPy here and under Numba through `runtime.numba_tape`.
"""
import numpy as np


#: what transpile says about complex numbers, wherever it refuses them
COMPLEX_ADVICE = (
    "transpile does not differentiate complex numbers (JAX's holomorphic=True and its "
    "conjugate convention are not supported): write the function over real arrays, the real "
    "and imaginary parts as two real arguments (or outputs), with the complex arithmetic "
    "spelled out in real arithmetic")


def _kind(x):
    """The dtype kind of an output ('f', 'i', 'b', 'c', ...), or None when it
    is not a number or an array (None, a string, an object)."""
    if isinstance(x, (bool, int, float, complex, np.ndarray, np.generic)):
        return np.result_type(x).kind
    return None


def grad_seed(ans):
    """The cotangent 1.0 that starts the adjoint sweep of `grad`: JAX's
    TypeError unless the output is a real (float) scalar."""
    kind = _kind(ans)
    if kind is None:
        raise TypeError(f"Gradient only defined for scalar-output functions. Output was {ans!r}.")
    if np.ndim(ans) != 0:
        raise TypeError(f"Gradient only defined for scalar-output functions. "
                        f"Output had shape: {np.shape(ans)}.")
    if kind != "f":
        raise TypeError(_real_output_message("grad", np.result_type(ans)))
    return 1.0


def _real_output_message(name, dtype):
    msg = (f"{name} requires real-valued outputs (output dtype that is a sub-dtype of "
           f"np.floating), but got {dtype.name}.")
    if dtype.kind == "c":
        return msg + " " + COMPLEX_ADVICE + "."
    return msg + " For differentiation of functions with integer outputs, use tp.vjp directly."


def check_output(y, name, ints=False):
    """JAX's TypeError unless the output `y` of a function that `name`
    differentiates (a tuple: the leaves of a pytree) is made of float arrays
    and numbers (integers too with `ints`: their derivatives are zero).
    `tangent.unit`/`basis` (jacrev) and `tangent.jac_from_cols` (jacfwd) call
    it on the output they are given."""
    if type(y) is tuple:        # a pytree's leaves (nested: Jacobians of Jacobians)
        for e in y:
            check_output(e, name, ints)
        return
    for leaf in (y,):
        kind = _kind(leaf)
        if kind is None:
            raise TypeError(f"{name} is defined for functions that return arrays or numbers "
                            f"(or a pytree of them); the function returned {leaf!r}.")
        if kind == "c" or (not ints and kind != "f"):
            raise TypeError(_real_output_message(name, np.result_type(leaf)))


def save(value):
    """A copy of `value` to put on a tape (arrays are copied, scalars are values)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def alloc(witness, n):
    """A tape of `n` values like `witness`, written and read by index (`tape[k] = v`): a list
    here; under Numba an array for numbers, a list for anything else."""
    return [None] * n


def keeps(value):
    """Whether a tape keeps `value` when the adjoint reads it only for its shape and dtype:
    always here (a Python variable may change type between pushes); under Numba only for
    arrays, so that such tapes of numbers vanish (any number has a number's shape)."""
    return True


def stop_gradient(x):
    """`x`, with no gradient flowing through it."""
    return x
