"""Numba implementations of `runtime.tape`."""
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.np.numpy_support import as_dtype
from numba.extending import overload

from . import tape


def _dtype_kind(t):
    """The dtype kind of a Numba type ('f', 'i', 'b', 'c'), or None when it
    is not a number or an array."""
    dt = t.dtype if isinstance(t, types.Array) else types.unliteral(t)
    if isinstance(dt, types.Boolean):
        return 'b'
    if isinstance(dt, types.Integer):
        return 'i'
    if isinstance(dt, types.Float):
        return 'f'
    if isinstance(dt, types.Complex):
        return 'c'
    return None


def _raiser(argnames, msg):
    """An impl with parameters `argnames` (a comma-separated string) that
    raises TypeError(msg) at run time (the check of a type that never
    passes)."""
    ns = {}
    exec(f"def impl({argnames}):\n    raise TypeError({msg!r})\n", ns)
    return ns['impl']


def _output_message(name, t, ints):
    """Why output type `t` is refused by `name`, or None when it passes."""
    kind = _dtype_kind(t)
    if kind is None:
        what = 'None' if isinstance(t, (types.NoneType, types.Omitted)) else \
            'a string' if isinstance(t, types.UnicodeType) else str(t)
        if name == 'grad':
            return f"Gradient only defined for scalar-output functions. Output was {what}."
        return (f"{name} is defined for functions that return arrays or numbers (or a pytree of "
                f"them); the function returned {what}.")
    if kind == 'c' or (not ints and kind != 'f'):
        dt = t.dtype if isinstance(t, types.Array) else types.unliteral(t)
        return tape._real_output_message(name, as_dtype(dt))
    return None


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
    msg = _output_message('grad', ans, False)
    if msg is not None:
        return _raiser('ans', msg)
    return lambda ans: 1.0


def check_output_type(y, name, ints):
    """Typing time: JAX's TypeError (as a TypingError, which transpile reports
    at the user's line) when an output of type `y` (a tuple: leaves) cannot
    be differentiated by `name` (`tape.check_output`)."""
    if isinstance(y, types.BaseTuple):     # a pytree's leaves (nested: Jacobians of Jacobians)
        for t in y.types:
            check_output_type(t, name, ints)
        return
    msg = _output_message(name, y, ints)
    if msg is not None:
        raise TypingError(msg)


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
