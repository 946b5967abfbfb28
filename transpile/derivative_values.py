"""JAX's conventions for what goes into a derivative and what comes out,
shared by the transformation objects (transpile/transformed.py) and the
functions that make them (ad_api.py, derivatives.py):

* inputs to differentiate are real floating-point numbers or arrays
  (`_check_inexact`; complex values are refused, `holomorphic` too);
* a cotangent comes back shaped and typed like its primal (`_like`,
  `_tree_grads` for pytrees), never cut from complex to real;
* eager derivative code runs with NumPy's ComplexWarning as an error
  (`_no_complex_casts`).
"""
import contextlib
import warnings

import numpy as np

from .structure import is_container
from .tree import tree_flatten, tree_leaves, tree_unflatten
from runtime.tape import COMPLEX_ADVICE
from runtime.tape import _kind as output_kind


def _check_inexact(value, which, fname):
    if type(value) is float or (type(value) is np.ndarray and value.dtype.kind == "f"):
        return      # the common cases, fast (this runs on every call)
    dtype = getattr(value, "dtype", None)     # arrays, NumPy scalars, GPU arrays (no copy)
    dtype = np.dtype(dtype) if dtype is not None else np.asarray(value).dtype
    if dtype.kind == "c":
        raise TypeError(f"argument {which} of {fname}() is complex ({dtype.name}): {COMPLEX_ADVICE}.")
    if not np.issubdtype(dtype, np.inexact):
        raise TypeError(
            f"grad requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
            f"np.inexact), but got {dtype.name} for argument {which} of {fname}(). If you want to "
            f"use integer-valued inputs, convert them with float() or .astype(float).")


def _no_holomorphic(holomorphic):
    if holomorphic:
        raise TypeError(f"holomorphic=True is not supported: {COMPLEX_ADVICE}.")


#: why a complex derivative is refused where a real one was expected
_COMPLEX_INSIDE = ("a complex value inside the differentiated function depends on its inputs "
                   "(e.g. x * 1j, np.exp(1j * x)), and its derivative would be cut to its real part: ")


def _refuse_complex(bar):
    raise TypeError(_COMPLEX_INSIDE + COMPLEX_ADVICE + ".")


def _like(bar, x):
    """The cotangent shaped and typed like its primal: float in, float out (a
    complex cotangent of a real primal is an error, never cut to its real
    part)."""
    if type(bar) is np.ndarray and type(x) is np.ndarray and bar.shape == x.shape \
            and bar.dtype == x.dtype:
        return bar  # the common case, fast
    if np.iscomplexobj(bar) and not np.iscomplexobj(x):
        _refuse_complex(bar)
    if isinstance(x, np.ndarray):
        out = np.asarray(bar)
        if out.shape != x.shape:
            out = np.broadcast_to(out, x.shape).copy() if out.size == 1 else out
        if out.dtype != x.dtype and np.issubdtype(x.dtype, np.inexact):
            out = out.astype(x.dtype)
        return out
    if isinstance(x, np.generic):
        return type(x)(bar)
    if isinstance(x, float):
        return float(bar)
    if isinstance(x, complex):
        return complex(bar)
    return bar


@contextlib.contextmanager
def _no_complex_casts(backend):
    """Run eager derivative code with NumPy's ComplexWarning (a complex value
    cast to real, its imaginary part discarded) as an error: in derivative
    code that cast would cut a derivative to its real part. Compiled code
    needs nothing: Numba refuses those casts."""
    if backend != "python":
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            yield
        except np.exceptions.ComplexWarning as exc:
            raise TypeError(_COMPLEX_INSIDE + COMPLEX_ADVICE + ".").with_traceback(exc.__traceback__) from None


def _complex_note(exc):
    """Say why when Numba could not compile derivative code for complex values."""
    if "complex" in str(exc) and hasattr(exc, "add_note"):
        exc.add_note(_COMPLEX_INSIDE + COMPLEX_ADVICE + ".")


def _check_output_leaves(out, name, allow_none=False):
    """The TypeError of a derivative of a function whose output (a pytree) has
    a leaf that is not a real number or array (None, a string, a complex)."""
    if out is None and not allow_none:
        raise TypeError(f"{name} is defined for functions that return arrays or numbers (or a "
                        f"pytree of them); the function returned None.")
    for leaf in tree_leaves(out):
        kind = output_kind(leaf)
        if kind is None:
            raise TypeError(f"{name} is defined for functions that return arrays or numbers (or a "
                            f"pytree of them); the function returned {leaf!r}.")
        if kind == "c":
            raise TypeError(f"{name} of a function with a complex output "
                            f"({np.result_type(leaf).name}): {COMPLEX_ADVICE}.")


def _tree_grads(bars, args, argnums):
    """The flat cotangents of the differentiated leaves, rebuilt into one
    pytree (or cotangent) per differentiated argument."""
    out, k = [], 0
    for n in argnums:
        if is_container(args[n]):
            leaves, treedef = tree_flatten(args[n])
            out.append(tree_unflatten(treedef, [_like(b, x) for b, x in zip(bars[k:k + len(leaves)], leaves)]))
            k += len(leaves)
        else:
            out.append(_like(bars[k], args[n]))
            k += 1
    return tuple(out)


def _aux_of(aux, gen):
    """The aux the user's function returned (a pytree's leaves come flat)."""
    return aux if gen.out_tree is None else tree_unflatten(gen.out_tree.children[1], list(aux))
