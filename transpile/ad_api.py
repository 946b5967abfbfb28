"""`grad`, `value_and_grad`, `vjp` and `stop_gradient`, JAX's conventions.

Each returns a function that runs the generated reverse-mode source eagerly
with NumPy; `tp.jit(tp.grad(f))` compiles the same source with Numba.
"""
import contextlib
import warnings

import numpy as np

from .api import Jitted, transformation_of
from .structure import TreeParam, flatten_up_to, is_container, mirror
from .tree import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten
from runtime.adjoint import zeros_like
from runtime.tape import COMPLEX_ADVICE, grad_seed
from runtime.tape import _kind as output_kind
from runtime.tape import stop_gradient  # noqa: F401  (re-exported as tp.stop_gradient)
from .values import _DYN, _DYNAMIC_TYPES


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


# Generated code shared by every `grad(f)` object of the same function and options,
# so `tp.grad(f)(x)` in a loop generates (and compiles) once.
_GENERATED = {}


class Differentiated(Jitted):
    """A reverse-mode transformation of `fn` (grad, value_and_grad or vjp)."""

    #: generated code depends on the ranks of the arguments (part of the key)
    _ranked = False

    def __init__(self, fn, mode, argnums=0, has_aux=False, backend="python",
                 static_argnums=(), static_argnames=()):
        if isinstance(fn, Jitted):
            raise NotImplementedError(
                f"{mode} of a transformed function ({fn!r}) is not supported: use "
                f"tp.grad/jacfwd/jacrev/hessian, which compose")
        super().__init__(fn, static_argnums, static_argnames, backend)
        self.mode = mode
        self.argnums = argnums
        self.has_aux = has_aux
        self.transform = "grad"
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        offset = 1 if self._self is not None else 0
        self._argnums = tuple(n + offset if n >= 0 else self._nargs + n for n in nums)
        for n in self._argnums:
            if not 0 <= n < self._nargs:
                raise ValueError(f"argnums {argnums} out of range for {self._fn.__qualname__}() "
                                 f"with {self._nargs - offset} parameters")
            if n in self._static:
                raise ValueError(f"argnums {argnums} names a static argument")

    @property
    def __transpile_function__(self):
        return None     # generated code calls the transformation, not the function

    def _set_statics(self, static_argnums=(), static_argnames=()):
        super()._set_statics(static_argnums, static_argnames)
        if hasattr(self, "_cache"):     # made already (jit(grad(f), static_argnames=...)): argnums stay dynamic
            bad = sorted(set(self._diff_positions()) & self._static)
            if bad:
                raise ValueError(f"static argument {self._names[bad[0]]!r} of {self._fn.__qualname__}() "
                                 f"is differentiated (argnums)")

    def _diff_positions(self):
        return self._argnums

    def _signature(self, args):
        """A differentiated tuple is a pytree (its leaves are differentiated
        one by one), not one dynamic value as elsewhere."""
        key = super()._signature(args)
        for n in self._diff_positions():
            if type(args[n]) is tuple and key[n] == _DYN:
                key = key[:n] + (("tree", tree_structure(args[n])),) + key[n + 1:]
        return key

    def layers_spec(self):
        """The derivative layers (kind, argnums, has_aux), innermost first, that
        generated code builds when it calls this object (transpile/compose.py)."""
        if self.mode == "vjp":
            raise NotImplementedError("a vjp cannot be called from transformed code")
        return [(self.mode, self.argnums, self.has_aux)]

    def __repr__(self):
        return f"<transpile.{self.mode} of {self._fn.__qualname__}, backend {self.backend}>"

    def with_backend(self, backend):
        new = Differentiated.__new__(Differentiated)
        new.__dict__.update(self.__dict__)
        new.backend = backend
        new._cache = {}
        new.num_specializations = 0
        return new

    def _generate(self, args, key):
        from .api import statics_of
        statics = statics_of(self._names, args, key)
        wrt = []
        for n in self._argnums:
            if isinstance(statics.get(self._names[n]), TreeParam):    # a pytree: its leaves
                wrt.extend(mirror(statics[self._names[n]].treedef, self._names[n])[1])
                continue
            if key[n] is not _DYN:
                raise TypeError(f"argument {self._names[n]} of {self._fn.__qualname__}() cannot be "
                                f"differentiated: it is a {type(args[n]).__name__}, not a number or array")
            wrt.append(self._names[n])
        options = {"wrt": wrt, "mode": "vjp" if self.mode == "vjp" else "grad", "has_aux": self.has_aux}
        shared = (self._fn, tuple(wrt), options["mode"], self.has_aux, self.backend, key)
        gen = _GENERATED.get(shared)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            from . import pipeline
            from .api import arg_plan
            gen = pipeline.build(self._fn, statics, None, "grad", self.backend, options)
            gen.dyn_index = arg_plan(self._names, gen)
            gen.trees = bool(gen.program.entry.tree_params)
            gen.out_tree = gen.program.entry.out_tree     # a pytree returned beside the loss (aux)
            gen.all_args = gen.dyn_index == list(range(len(args))) and not gen.hidden
            try:
                _GENERATED[shared] = gen
            except TypeError:   # an unhashable static value: no sharing
                pass
        self._cache[key] = gen
        self.num_specializations += 1
        return gen

    def _run(self, args, extra=(), with_gen=False):
        key = self._all_dynamic      # fast path, as Jitted.__call__: every argument dynamic
        if self._static or self._ranked:
            key = self._signature(args)
        else:
            for a in args:
                if type(a) not in _DYNAMIC_TYPES:
                    key = self._signature(args)
                    break
        gen = self._cache.get(key)
        if gen is None or (gen.guards and any(b.read() is not v for b, v in gen.guards)):
            gen = self._generate(args, key)
        if getattr(gen, "all_args", False) and not extra:
            call_args = args
        else:
            if gen.trees:
                from .api import call_args_of
                call_args = call_args_of(args, gen)
            else:
                call_args = [args[i] for i in gen.dyn_index]
            call_args = call_args + [h.getter() for h in gen.hidden] + list(extra)
        try:
            with _no_complex_casts(self.backend):
                out = gen.entry(*call_args)
        except Exception as exc:
            from .api import _relocate
            _relocate(exc, gen)
            _complex_note(exc)
            raise
        return (out, gen) if with_gen else out

    def __call__(self, *args, **kwargs):
        if self._self is not None:
            args = (self._self,) + args
        if kwargs or len(args) != self._nargs:
            args = self._bind(args, dict(kwargs))
        trees = False
        for n in self._argnums:
            if is_container(args[n]):
                trees = True
                for leaf in tree_leaves(args[n]):
                    _check_inexact(leaf, self._names[n], self._fn.__qualname__)
            else:
                _check_inexact(args[n], self._names[n], self._fn.__qualname__)
        (value, bars), gen = self._run(args, with_gen=True)
        if gen.out_tree is not None:        # (loss, aux pytree), returned flat
            value = tree_unflatten(gen.out_tree, value)
        # JAX's TypeError for an output that is not a float scalar (generated
        # code seeds, and so checks, only an output that depends on the inputs)
        grad_seed(value[0] if self.has_aux and isinstance(value, tuple) else value)
        if trees:
            grads = _tree_grads(bars, args, self._argnums)
            grads = grads[0] if isinstance(self.argnums, int) else grads
        elif isinstance(self.argnums, int):
            grads = _like(bars[0], args[self._argnums[0]])
        else:
            grads = tuple([_like(b, args[n]) for b, n in zip(bars, self._argnums)])
        if self.mode == "value_and_grad":
            return value, grads
        if self.has_aux:
            return grads, value[1]
        return grads


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


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """The gradient of scalar-valued `fun` with respect to argument(s) `argnums`
    (real numbers only: `holomorphic=True` is a TypeError)."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Differentiated):     # grad(grad(f)), grad(jacfwd(f)), ...
        from .derivatives import compose
        return compose(fun, "grad", argnums, has_aux)
    return transformation_of(fun, lambda f: Differentiated(f, "grad", argnums, has_aux))


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """`(fun(*args), grad(fun)(*args))` in one pass."""
    _no_holomorphic(holomorphic)
    if isinstance(fun, Differentiated):
        from .derivatives import compose
        return compose(fun, "value_and_grad", argnums, has_aux)
    return transformation_of(fun, lambda f: Differentiated(f, "value_and_grad", argnums, has_aux))


class _VJP:
    """The pullback of `vjp`: cotangents of the output (a pytree like it) to
    cotangents of the primals (a tuple of pytrees like them)."""

    def __init__(self, diff, args, out, aux=None, has_aux=False):
        self._diff = diff
        self._args = args
        self._out = out
        self._aux = aux
        self._has_aux = has_aux

    def __call__(self, ct):
        out_leaves, out_def = tree_flatten(self._out)
        ct_leaves, ct_def = tree_flatten(ct)
        if ct_def != out_def:
            raise ValueError(f"unexpected tree structure of the cotangent.\n\nThe argument to a VJP "
                             f"function returned by `vjp` must match the pytree structure of the output of "
                             f"{self._diff._fn.__qualname__}(): the output has tree structure {out_def}, the "
                             f"cotangent has tree structure {ct_def}.")
        for c, o in zip(ct_leaves, out_leaves):
            if np.shape(c) != np.shape(o):
                raise ValueError(f"unexpected type (e.g. shape/dtype) for argument to VJP function: got "
                                 f"{_type_text(c)}, but expected {_type_text(o)} because the corresponding "
                                 f"output of the differentiated function had type {_type_text(o)}")
        ct = tree_unflatten(ct_def, [_like(c, o) for c, o in zip(ct_leaves, out_leaves)])
        if self._has_aux:       # the aux carries no cotangent: zeros, so one generated VJP serves
            ct = (ct, tree_map(zeros_like, self._aux))
        diff, args = self._diff, self._args
        gen = diff._cache.get(diff._signature(args)) or diff._generate(args, diff._signature(args))
        if gen.out_tree is not None:    # the generated function returns the pytree flat
            ct = tuple(flatten_up_to(gen.out_tree, ct))
        bars = diff._run(args, extra=(ct,))
        return _tree_grads(bars, args, diff._argnums)


def _type_text(x):
    return f"{np.result_type(x).name}[{','.join(str(s) for s in np.shape(x))}]"


def _copy_array(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def vjp(fun, *primals, has_aux=False):
    """`(fun(*primals), vjp_fn)`; `vjp_fn(ct)` is the tuple of cotangents of
    `primals` (pytrees like them; `ct` is a pytree like the output). With
    `has_aux`, `fun` returns `(out, aux)` and vjp returns `(out, vjp_fn,
    aux)`, as JAX's."""
    diff = transformation_of(fun, lambda f: Differentiated(f, "vjp", tuple(range(len(primals)))))
    bound = (diff._self,) if diff._self is not None else ()
    args = diff._bind(bound + tuple(primals), {})
    for k in diff._argnums:
        for leaf in (tree_leaves(args[k]) if is_container(args[k]) else [args[k]]):
            _check_inexact(leaf, diff._names[k], diff._fn.__qualname__)
    # the primal runs on copies: a function writing its arguments in place must not change
    # the caller's arrays, nor the values the pullback differentiates at (JAX's arrays are
    # immutable; its vjp never writes them)
    out = fun(*tree_map(_copy_array, primals))
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"vjp(..., has_aux=True) needs {diff._fn.__qualname__}() to return a pair "
                            f"(output, aux), got {type(out).__name__}")
        out, aux = out
        _check_output_leaves(out, "vjp")
        return out, _VJP(diff, args, out, aux, True), aux
    _check_output_leaves(out, "vjp")
    return out, _VJP(diff, args, out)
