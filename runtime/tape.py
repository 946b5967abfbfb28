"""Helpers that reverse-mode generated code calls for its own bookkeeping.

Each runs under NumPy here and under Numba through `runtime.numba_tape`.
"""
import numpy as np


def grad_seed(ans):
    """The cotangent 1.0 that starts the adjoint sweep of `grad`; a
    non-scalar output is a TypeError, as in JAX."""
    if np.ndim(ans) != 0:
        raise TypeError(f"Gradient only defined for scalar-output functions. "
                        f"Output had shape: {np.shape(ans)}.")
    if isinstance(ans, (complex, np.complexfloating)):
        return ans * 0.0 + 1.0
    return 1.0


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
