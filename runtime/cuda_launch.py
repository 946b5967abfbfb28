"""The host side of the CUDA kernels transpile generates (see
transpile/codegen/numba_cuda.py): a generated module ends with

    vmap_f = launch.Vmap(vmap_f_kernel, f, axes=(0, None), out=0)

and calling `vmap_f(x, w)` moves the inputs to the GPU, sizes the launch
(one thread per example, or per element for `Elementwise`), allocates the
outputs, launches, and returns the results.

* Inputs: NumPy arrays are copied to the device (one copy in; the results
  are copied back); device arrays -- Numba's, or any object with
  `__cuda_array_interface__` (CuPy, PyTorch) -- are used in place, and then
  the results stay on the device (Numba device arrays). Numbers are kernel
  arguments.
* Output dtypes: each thread returns numbers; their types are Numba's
  typing of the per-example device function for the input types (once per
  input types). The CUDA simulator types nothing, so there one thread runs
  first on example 0 and the Python types of its results are used.

This module must not import anything from `transpile`.
"""
import math

import numpy as np
from numba import cuda
from numba.cuda.cudadrv import devicearray

from . import batching
from .cuda_device import SIMULATOR

THREADS = 256       # threads per block


def is_device_array(x):
    """A Numba device array or an object exposing `__cuda_array_interface__`."""
    return bool(devicearray.is_cuda_ndarray(x)) or (
        not isinstance(x, np.ndarray) and hasattr(x, "__cuda_array_interface__"))


def _device(x):
    """(kernel argument, on the device already) for one input."""
    if devicearray.is_cuda_ndarray(x):
        return x, True
    if not isinstance(x, np.ndarray) and hasattr(x, "__cuda_array_interface__"):
        return cuda.as_cuda_array(x), True
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return x[()], False
        return cuda.to_device(np.ascontiguousarray(x)), False
    return x, False


def _leaves(tree):
    if isinstance(tree, tuple):
        out = []
        for t in tree:
            out.extend(_leaves(t))
        return out
    return [tree]


def _rebuild(tree, values):
    if isinstance(tree, tuple):
        return tuple(_rebuild(t, values) for t in tree)
    return values[tree]


def _type_key(x):
    if hasattr(x, "dtype") and hasattr(x, "shape") and len(x.shape):
        contiguous = getattr(x, "is_c_contiguous", lambda: True)()
        return ("array", np.dtype(x.dtype).str, len(x.shape), contiguous)
    return type(x)


class _Launch:
    def __init__(self, kernel, fn, axes, out):
        self.kernel = kernel        # the @cuda.jit kernel
        self.fn = fn                # the per-example device function
        self.axes = axes            # per parameter: the mapped axis, or None
        self.out = out              # output leaf index, or a tuple tree of them
        self.nout = len(_leaves(out))
        self._dtypes = {}           # input type key -> output dtypes

    def __repr__(self):
        return f"<{type(self).__name__} launch of {getattr(self.kernel, '__name__', self.kernel)}>"

    # -- output dtypes ------------------------------------------------------
    def dtypes(self, args, n):
        key = tuple(_type_key(a) for a in args)
        out = self._dtypes.get(key)
        if out is None:
            out = self._probe(args, n) if SIMULATOR else self._typed(args)
            self._dtypes[key] = out
        return out

    def _typed(self, args):
        """Numba-CUDA's return type of the per-example function, as dtypes."""
        from numba import typeof
        from numba.core import types
        from numba.np.numpy_support import as_dtype
        argtypes = tuple(self.example_type(typeof(a), ax) for a, ax in zip(args, self.axes))
        rt = self.fn.compile_device(argtypes).signature.return_type

        def flat(t):
            if isinstance(t, types.BaseTuple):
                return [d for s in t.types for d in flat(s)]
            if isinstance(t, types.Boolean):
                return [np.dtype(np.bool_)]
            return [as_dtype(t)]
        return tuple(flat(rt))

    def _probe(self, args, n):
        """The simulator: run example 0 alone and take its results' types."""
        if n == 0:      # no example: zeros of the inputs' dtypes
            args = [cuda.to_device(np.zeros((1,) * len(a.shape), a.dtype)) if hasattr(a, "shape")
                    and len(a.shape) else a for a in args]
        outs = [np.empty(1, dtype=object) for _ in range(self.nout)]
        self.kernel[1, 1](*args, *outs)
        return tuple(np.result_type(o[0]) for o in outs)

    # -- launching ------------------------------------------------------------
    def launch(self, args, n, on_device, shape):
        dtypes = self.dtypes(args, n)
        outs = [cuda.device_array(n, dt) for dt in dtypes]
        if n:
            self.kernel[(n + THREADS - 1) // THREADS, THREADS](*args, *outs)
        if on_device:
            results = [o.reshape(shape) if shape != (n,) else o for o in outs]
        else:
            results = [o.copy_to_host().reshape(shape) for o in outs]
            if shape == ():
                results = [r[()] for r in results]
        return _rebuild(self.out, results)


class Vmap(_Launch):
    """One thread per example: the kernel indexes the mapped axes itself."""

    def example_type(self, t, axis):
        from numba.core import types
        if axis is None:
            return t
        nd = t.ndim - 1
        if nd == 0:
            return t.dtype
        layout = "C" if axis == 0 and t.layout == "C" else "A"
        return types.Array(t.dtype, nd, layout)

    def __call__(self, *args):
        dargs, on_device = [], False
        n = None
        for a, ax in zip(args, self.axes):
            d, dev = _device(a)
            dargs.append(d)
            on_device |= dev
            if ax is not None:
                size = batching.axis_size(d, ax)
                if n is None:
                    n = size
                elif size != n:
                    raise batching.VmapError(batching.SIZE_MESSAGE, ax, batching._shape_text(d.shape),
                                             size, n)
        batching.check_nonempty(n)
        return self.launch(dargs, n, on_device, (n,))


class Elementwise(_Launch):
    """One thread per element of the broadcast inputs (`axes`: 0 for the
    function's parameters, None for values it reads at call time)."""

    def example_type(self, t, axis):
        if axis is None or not hasattr(t, "dtype") or not hasattr(t, "ndim"):
            return t
        return t.dtype

    def __call__(self, *args):
        arrays = [a for a, ax in zip(args, self.axes)
                  if ax is not None and (is_device_array(a) or np.ndim(a) > 0)]
        shape = np.broadcast_shapes(*(tuple(a.shape) for a in arrays)) if arrays else ()
        n = math.prod(shape)
        dargs, on_device = [], False
        for a, ax in zip(args, self.axes):
            if ax is None:
                d, dev = _device(a)
            else:
                d, dev = self._flat(a, shape, n)
            dargs.append(d)
            on_device |= dev
        return self.launch(dargs, n, on_device, shape)

    @staticmethod
    def _flat(a, shape, n):
        """An element-wise input as a flat device array of `n` elements, or a number."""
        if is_device_array(a):
            d = a if devicearray.is_cuda_ndarray(a) else cuda.as_cuda_array(a)
            if d.size == 1 and n != 1:
                return d.copy_to_host().reshape(-1)[0], True
            if tuple(d.shape) != tuple(shape) or not d.is_c_contiguous():
                raise ValueError(
                    f"backend 'cuda': a device array of shape {tuple(d.shape)} in an element-wise "
                    f"call over the shape {tuple(shape)}: device arrays must have the broadcast "
                    f"shape and be C-contiguous (broadcast or copy them on the device first)")
            return d.reshape(n), True
        if np.ndim(a) == 0:
            return (a[()] if isinstance(a, np.ndarray) else a), False
        a = np.asarray(a)
        if a.size == 1 and n != 1:
            return a.reshape(-1)[0], False
        if a.shape != tuple(shape):
            a = np.broadcast_to(a, shape)
        return cuda.to_device(np.ascontiguousarray(a).reshape(n)), False
