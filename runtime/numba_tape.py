"""Numba implementations of `runtime.tape`."""
import numpy as np
from numba import types
from numba.extending import overload

from . import tape


@overload(tape.grad_seed)
def _grad_seed(ans):
    if isinstance(ans, types.Array) and ans.ndim > 0:
        nd = ans.ndim

        def impl(ans):
            shape = "("
            for k in range(nd):
                shape += str(ans.shape[k]) + ","
            raise TypeError("Gradient only defined for scalar-output functions. Output had shape: "
                            + shape + ").")
        return impl
    if isinstance(ans, types.Array):
        return lambda ans: 1.0
    if isinstance(ans, (types.Float, types.Integer, types.Boolean)):
        return lambda ans: 1.0
    return None


@overload(tape.save)
def _save(value):
    if isinstance(value, types.Array):
        return lambda value: value.copy()
    return lambda value: value


@overload(tape.stop_gradient)
def _stop_gradient(x):
    return lambda x: x


@overload(tape.keeps, inline="always")
def _keeps(value):
    if isinstance(value, (types.Number, types.Boolean)):
        return lambda value: False
    return lambda value: True


@overload(tape.alloc)
def _alloc(witness, n):
    if isinstance(witness, (types.Number, types.Boolean)):
        dt = types.unliteral(witness)

        def impl_numbers(witness, n):
            return np.empty(n, dt)
        return impl_numbers

    def impl(witness, n):
        return [witness] * n
    return impl
