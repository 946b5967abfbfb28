"""Central finite differences in float64: the reference every check in gradcheck uses.

    D(h) = (f(x + h e_k) - f(x - h e_k)) / 2h,      h = eps * max(1, |x_k|)

element by element, each returned with an error estimate |D(h) - D(2h)|
(truncation grows 4x with the step, rounding halves), which gradcheck uses to
refuse inputs where finite differences cannot be trusted. Imports only NumPy.
"""
import inspect

import numpy as np

EPS = 1e-6           # relative step of first differences
HESSIAN_EPS = 1e-4   # second differences of f: h ~ eps_mach ** (1/4)

__all__ = ["EPS", "HESSIAN_EPS", "numerical_grad", "numerical_jacobian", "central_differences",
           "second_differences"]


# --- arguments ----------------------------------------------------------------

def argnums_tuple(argnums, nargs):
    """(tuple of non-negative argnums, whether a single int was given)."""
    single = isinstance(argnums, (int, np.integer))
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError("argnums is empty")
    out = []
    for i in nums:
        j = int(i) + nargs if i < 0 else int(i)
        if not 0 <= j < nargs:
            raise ValueError(f"argnums {argnums!r} out of range for {nargs} arguments")
        out.append(j)
    return tuple(out), single


def function_name(f, name=None):
    if name:
        return name
    fn = getattr(f, "__func__", f)
    mod = getattr(fn, "__module__", None) or ""
    qual = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(f)
    return f"{mod.rsplit('.', 1)[-1]}.{qual}" if mod else qual


def _param_names(f):
    try:
        return [p.name for p in inspect.signature(f).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def describe_arg(f, args, i):
    names = _param_names(f)
    name = f" '{names[i]}'" if i < len(names) else ""
    x = args[i]
    kind = f"{type(x).__name__}" if not isinstance(x, np.ndarray) else f"shape {x.shape}"
    return f"argument {i}{name} ({kind})"


def _is_float_scalar(x):
    return isinstance(x, (float, np.floating)) and not isinstance(x, np.ndarray)


def check_differentiable(f, args, nums):
    for i in nums:
        x = args[i]
        if _is_float_scalar(x):
            if not isinstance(x, (float, np.float64)):
                raise TypeError(f"{describe_arg(f, args, i)}: finite differences need float64")
        elif isinstance(x, np.ndarray):
            if x.dtype != np.float64:
                raise TypeError(f"{describe_arg(f, args, i)} has dtype {x.dtype}: "
                                f"finite differences need float64")
        else:
            raise TypeError(f"{describe_arg(f, args, i)}: only float and float64 array "
                            f"arguments can be differentiated")


def fresh(args):
    """Copies of the array arguments, so no call sees another call's writes."""
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _with(args, i, x0, flat):
    """args with argument i replaced by `flat` reshaped like x0 (same Python type)."""
    out = list(fresh(args))
    if isinstance(x0, np.ndarray):
        out[i] = flat.reshape(x0.shape).copy()
    else:
        out[i] = type(x0)(flat[0])
    return tuple(out)


def call(f, args):
    return np.asarray(f(*fresh(args)), dtype=np.float64)



# --- finite differences ---------------------------------------------------------

def central_differences(f, args, i, eps):
    """Jacobian of f w.r.t. argument i by central differences, and its error estimate.

    Both have shape out.shape + shape(args[i]).
    """
    x0 = args[i]
    flat0 = np.array(x0, dtype=np.float64).ravel()
    out_shape = call(f, args).shape
    jac = np.empty(out_shape + (flat0.size,))
    err = np.empty_like(jac)
    for k in range(flat0.size):
        h = eps * max(1.0, abs(flat0[k]))
        diffs = []
        for step in (h, 2.0 * h):
            plus, minus = flat0.copy(), flat0.copy()
            plus[k] += step
            minus[k] -= step
            span = plus[k] - minus[k]   # the step as represented, not as intended
            diffs.append((call(f, _with(args, i, x0, plus)) - call(f, _with(args, i, x0, minus))) / span)
        jac[..., k] = diffs[0]
        err[..., k] = np.abs(diffs[0] - diffs[1])
    shape = out_shape + np.shape(x0)
    return jac.reshape(shape), err.reshape(shape)


def _like_input(g, x0):
    """A gradient shaped like its input: float for a scalar, array otherwise."""
    return float(g) if not isinstance(x0, np.ndarray) else np.asarray(g, dtype=np.float64).reshape(np.shape(x0))


def numerical_jacobian(f, args, argnums=0, eps=EPS):
    """d f(*args) / d args[argnums], shape out.shape + in.shape (a tuple for tuple argnums)."""
    args = tuple(args)
    nums, single = argnums_tuple(argnums, len(args))
    check_differentiable(f, args, nums)
    jacs = tuple(central_differences(f, args, i, eps)[0] for i in nums)
    return jacs[0] if single else jacs


def numerical_grad(f, args, argnums=0, eps=EPS):
    """The gradient of scalar-valued f by central differences, typed like its input.

    A float argument gets a float, an array argument an array of its shape.
    """
    args = tuple(args)
    nums, single = argnums_tuple(argnums, len(args))
    if call(f, args).ndim != 0:
        raise TypeError(f"numerical_grad: {function_name(f)} returned shape {call(f, args).shape}, "
                        f"not a scalar")
    jacs = numerical_jacobian(f, args, nums, eps)
    grads = tuple(_like_input(g, args[i]) for g, i in zip(jacs, nums))
    return grads[0] if single else grads


def second_differences(f, args, i, eps):
    """Hessian of scalar f w.r.t. argument i by second central differences, and error estimate."""
    x0 = args[i]
    flat0 = np.array(x0, dtype=np.float64).ravel()
    n = flat0.size

    def at(j, sj, k, sk):
        x = flat0.copy()
        x[j] += sj
        x[k] += sk
        return float(call(f, _with(args, i, x0, x)))

    hess = np.empty((n, n))
    err = np.empty((n, n))
    for j in range(n):
        for k in range(j, n):
            est = []
            for scale in (1.0, 2.0):
                hj = scale * eps * max(1.0, abs(flat0[j]))
                hk = scale * eps * max(1.0, abs(flat0[k]))
                est.append((at(j, hj, k, hk) - at(j, hj, k, -hk) - at(j, -hj, k, hk)
                            + at(j, -hj, k, -hk)) / (4.0 * hj * hk))
            hess[j, k] = hess[k, j] = est[0]
            err[j, k] = err[k, j] = abs(est[0] - est[1])
    shape = np.shape(x0) * 2
    return hess.reshape(shape), err.reshape(shape)
