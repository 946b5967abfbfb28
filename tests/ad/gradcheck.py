"""Check derivatives against central finite differences, in float64.

    from tests.ad.gradcheck import check_grads            # or: from .gradcheck import ...
    check_grads(loss, (w, X, y), tp.grad(loss, argnums=(0, 2)), argnums=(0, 2))

The reference for every check is the central difference

    D(h) = (f(x + h e_k) - f(x - h e_k)) / 2h,      h = eps * max(1, |x_k|)

taken element by element (or along a random direction, for `check_jvp`).
An element passes when

    |got - D(h)| <= atol * scale + rtol * |D(h)|,   scale = max |D(h)| over the derivative

so `atol` is relative to the derivative's own size and the check means the
same for a loss of size 1e-3 and one of size 1e3.

Why the reference can be trusted: every difference is also taken with step
2h. Truncation error grows 4x with the step and rounding error halves, so
|D(h) - D(2h)| estimates D(h)'s own error. Where that estimate exceeds half
the tolerance, the point is unfit for finite differences (a kink or branch
switch within 2h, or a function value too large for the step to resolve) and
the check raises `FiniteDifferenceError` instead of judging: change the
inputs, never the tolerance.

It imports only NumPy and finite_differences (no pytest): with that module it can ship
as `transpile.testing`.
"""
import numpy as np

from .finite_differences import (EPS, HESSIAN_EPS, argnums_tuple, call, central_differences,
                                 check_differentiable, describe_arg, fresh, function_name,
                                 numerical_grad, numerical_jacobian, second_differences)

RTOL = 1e-5
ATOL = 1e-7    # times the derivative's scale
HESSIAN_ATOL = 1e-6  # second differences carry ~eps_mach / h**2 ~ 2e-8 relative rounding
IDENTITY_RTOL = 1e-9  # <u, J v> == <J^T u, v>: both sides exact up to rounding
VALUE_RTOL = 1e-10    # a transformed function's primal output vs the function's

__all__ = ["EPS", "RTOL", "ATOL", "FiniteDifferenceError", "numerical_grad", "numerical_jacobian",
           "check_finite_differences", "check_grads", "check_value_and_grad", "check_jacobian",
           "check_vjp", "check_jvp", "check_vjp_jvp_identity", "check_hessian"]


class FiniteDifferenceError(AssertionError):
    """The finite-difference reference itself is unreliable at these inputs."""


# --- comparison -------------------------------------------------------------------

def _fmt_index(idx):
    return "[" + ", ".join(str(int(k)) for k in idx) + "]" if idx else "(scalar)"


def _tolerance(refs, rtol, atol):
    scale = max((float(np.max(np.abs(r))) if np.size(r) else 0.0) for r in refs)
    scale = scale if scale > 0.0 else 1.0
    return [atol * scale + rtol * np.abs(r) for r in refs], scale


def _assert_reliable(what, refs, errs, tols, labels):
    for ref, err, tol, label in zip(refs, errs, tols, labels):
        ratio = np.asarray(err) / (0.5 * np.asarray(tol))
        if np.size(ratio) and not np.all(ratio <= 1.0):
            idx = np.unravel_index(int(np.nanargmax(np.where(np.isnan(ratio), np.inf, ratio))),
                                   np.shape(ratio))
            raise FiniteDifferenceError(
                f"{what} with respect to {label}: finite differences are unreliable at these "
                f"inputs (kink, branch switch or large value within 2 steps): at "
                f"{_fmt_index(idx)} D(h) = {float(np.asarray(ref)[idx])!r} but D(h) and D(2h) differ "
                f"by {np.asarray(err)[idx]:.3g}, more than half the tolerance "
                f"{np.asarray(tol)[idx]:.3g}. Change the inputs, not the tolerance.")


def _assert_typed_like(what, got, like, label):
    """float in -> float out; array in -> array of the same shape and dtype out."""
    if not isinstance(like, np.ndarray):
        if isinstance(got, np.ndarray) or not isinstance(got, float):
            raise AssertionError(f"{what} with respect to {label}: expected a float (the "
                                 f"argument is a {type(like).__name__}), got "
                                 f"{type(got).__name__} {got!r}")
        return
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{what} with respect to {label}: expected an array of shape "
                             f"{like.shape} and dtype {like.dtype}, got {type(got).__name__} {got!r}")
    if got.shape != like.shape or got.dtype != like.dtype:
        raise AssertionError(f"{what} with respect to {label}: expected shape {like.shape} "
                             f"dtype {like.dtype}, got shape {got.shape} dtype {got.dtype}")


def _assert_close(what, gots, refs, tols, scale, rtol, atol, labels, reference="finite differences"):
    for got, ref, tol, label in zip(gots, refs, tols, labels):
        got = np.asarray(got, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        diff = np.abs(got - ref)
        bad = ~(diff <= tol)   # NaN counts as bad
        if not np.any(bad):
            continue
        badness = np.where(np.isnan(diff), np.inf, diff / np.asarray(tol))
        idx = np.unravel_index(int(np.argmax(badness)), np.shape(got))
        raise AssertionError(
            f"{what} with respect to {label}: {int(np.sum(bad))} of {got.size} elements differ "
            f"from {reference}; worst at {_fmt_index(idx)}: got {float(got[idx])!r}, {reference} give "
            f"{float(ref[idx])!r} (|diff| {diff[idx]:.3g} > tol {np.asarray(tol)[idx]:.3g} = atol {atol:g} "
            f"x scale {scale:.3g} + rtol {rtol:g} x |ref|)")


def _as_tuple(out, single, n, what):
    if single:
        return (out,)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        raise AssertionError(f"{what}: expected a tuple of {n} results (one per argnum), "
                             f"got {type(out).__name__}")
    return tuple(out)


def _labels(f, args, nums):
    return [describe_arg(f, args, i) for i in nums]


def _check_not_mutated(what, fn, args):
    before = fresh(args)
    out = fn(*args)
    for k, (a, b) in enumerate(zip(before, args)):
        if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True):
            raise AssertionError(f"{what} modified its argument {k} in place")
    return out


# --- public checks ------------------------------------------------------------------

def check_finite_differences(f, args, argnums=0, rtol=RTOL, atol=ATOL, eps=EPS, name=None):
    """Raise FiniteDifferenceError unless central differences of f are reliable at args.

    Use it to validate a corpus before any derivative implementation exists.
    Returns the numerical Jacobians (a tuple, one per argnum).
    """
    args = tuple(args)
    nums, _ = argnums_tuple(argnums, len(args))
    check_differentiable(f, args, nums)
    pairs = [central_differences(f, args, i, eps) for i in nums]
    refs = [p[0] for p in pairs]
    tols, _ = _tolerance(refs, rtol, atol)
    _assert_reliable(f"finite differences of {function_name(f, name)}", refs, [p[1] for p in pairs], tols,
                     _labels(f, args, nums))
    return tuple(refs)


def check_grads(f, args, grad_fn=None, argnums=0, rtol=RTOL, atol=ATOL, eps=EPS, name=None):
    """Check grad_fn(*args) (default: transpile.grad(f, argnums)) against finite differences.

    `grad_fn` follows JAX: one gradient for an int argnums, a tuple for a
    tuple. Each gradient must be typed like its argument. Returns the gradient.
    """
    args = tuple(args)
    nums, single = argnums_tuple(argnums, len(args))
    what = f"grad of {function_name(f, name)}"
    if grad_fn is None:
        import transpile
        grad_fn = transpile.grad(f, argnums=argnums)
    check_differentiable(f, args, nums)
    value = call(f, args)
    if value.ndim != 0:
        raise TypeError(f"{what}: the function returned shape {value.shape}, not a scalar")
    labels = _labels(f, args, nums)
    out = _check_not_mutated(what, grad_fn, fresh(args))
    grads = _as_tuple(out, single, len(nums), what)
    for g, i, label in zip(grads, nums, labels):
        _assert_typed_like(what, g, args[i], label)
    pairs = [central_differences(f, args, i, eps) for i in nums]
    refs = [p[0] for p in pairs]
    tols, scale = _tolerance(refs, rtol, atol)
    _assert_reliable(what, refs, [p[1] for p in pairs], tols, labels)
    _assert_close(what, grads, refs, tols, scale, rtol, atol, labels)
    return out


def _assert_value(what, got, expected, rtol=VALUE_RTOL):
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=rtol,
                                                        atol=rtol * max(scale, 1e-300)):
        raise AssertionError(f"{what}: primal output {got!r} differs from the function's "
                             f"{expected!r}")


def check_value_and_grad(f, args, value_and_grad_fn, argnums=0, rtol=RTOL, atol=ATOL, eps=EPS,
                         name=None):
    """Check `value_and_grad_fn(*args) -> (value, grads)`: value == f(*args), grads by FD."""
    args = tuple(args)
    what = f"value_and_grad of {function_name(f, name)}"
    value, grads = value_and_grad_fn(*fresh(args))
    _assert_value(what, value, call(f, args))
    if not isinstance(value, float) or isinstance(value, np.ndarray):
        raise AssertionError(f"{what}: expected a float value, got {type(value).__name__}")
    return check_grads(f, args, lambda *a: grads, argnums, rtol, atol, eps, name)


def check_jacobian(f, args, jac_fn, argnums=0, rtol=RTOL, atol=ATOL, eps=EPS, name=None):
    """Check jac_fn(*args) (jacfwd / jacrev) against finite differences.

    Shapes follow JAX: out.shape + in.shape; a float when both are scalars.
    """
    args = tuple(args)
    nums, single = argnums_tuple(argnums, len(args))
    what = f"jacobian of {function_name(f, name)}"
    check_differentiable(f, args, nums)
    labels = _labels(f, args, nums)
    jacs = _as_tuple(jac_fn(*fresh(args)), single, len(nums), what)
    pairs = [central_differences(f, args, i, eps) for i in nums]
    refs = [p[0] for p in pairs]
    for jac, ref, label in zip(jacs, refs, labels):
        like = float(ref) if ref.ndim == 0 else ref
        _assert_typed_like(what, jac, like, label)
    tols, scale = _tolerance(refs, rtol, atol)
    _assert_reliable(what, refs, [p[1] for p in pairs], tols, labels)
    _assert_close(what, jacs, refs, tols, scale, rtol, atol, labels)


def _rng(seed):
    # Salted, so that seed 0 here does not replay the draws of an input maker seeded with 0
    # (a cotangent equal to the input is degenerate for, e.g., x / |x|).
    return np.random.default_rng([0x5EED, seed])


def _random_like(rng, x):
    v = rng.standard_normal(np.shape(x))
    return float(v) if not isinstance(x, np.ndarray) else v


def check_vjp(f, vjp_fn, args, argnums=None, rtol=RTOL, atol=ATOL, eps=EPS, seed=0, n_cotangents=2,
              name=None):
    """Check a VJP, JAX-style: `vjp_fn(*args) -> (out, pullback)`, `pullback(u)` a tuple with
    one cotangent per argument (pass `functools.partial(tp.vjp, f)`).

    For random cotangents u, each cotangent in argnums (default: all) is
    compared with u contracted against the finite-difference Jacobian.
    """
    args = tuple(args)
    nums, _ = argnums_tuple(range(len(args)) if argnums is None else argnums, len(args))
    what = f"vjp of {function_name(f, name)}"
    check_differentiable(f, args, nums)
    labels = _labels(f, args, nums)
    out, pullback = vjp_fn(*fresh(args))
    expected = call(f, args)
    _assert_value(what, out, expected)
    pairs = [central_differences(f, args, i, eps) for i in nums]
    rng = _rng(seed)
    for _ in range(n_cotangents):
        u = rng.standard_normal(expected.shape)
        cts = pullback(u if expected.ndim else float(u))
        if not isinstance(cts, (tuple, list)) or len(cts) != len(args):
            raise AssertionError(f"{what}: the pullback must return a tuple of {len(args)} "
                                 f"cotangents (one per argument), got {type(cts).__name__}")
        got = [cts[i] for i in nums]
        for g, i, label in zip(got, nums, labels):
            _assert_typed_like(what, g, args[i], label)
        axes = expected.ndim
        refs = [np.tensordot(u, jac, axes=axes) for jac, _ in pairs]
        errs = [np.tensordot(np.abs(u), err, axes=axes) for _, err in pairs]
        tols, scale = _tolerance(refs, rtol, atol)
        _assert_reliable(what, refs, errs, tols, labels)
        _assert_close(what, got, refs, tols, scale, rtol, atol, labels)


def _tangents(rng, args, nums):
    return tuple(_random_like(rng, a) if i in nums else
                 (np.zeros(np.shape(a)) if isinstance(a, np.ndarray) else 0.0)
                 for i, a in enumerate(args))


def check_jvp(f, jvp_fn, args, argnums=None, rtol=RTOL, atol=ATOL, eps=EPS, seed=0, n_tangents=2,
              name=None):
    """Check a JVP, JAX-style: `jvp_fn(primals, tangents) -> (out, tangent_out)` (pass
    `functools.partial(tp.jvp, f)`).

    Random tangents v on argnums (default: all; zeros elsewhere);
    tangent_out is compared with (f(x + h v) - f(x - h v)) / 2h.
    """
    args = tuple(args)
    nums, _ = argnums_tuple(range(len(args)) if argnums is None else argnums, len(args))
    what = f"jvp of {function_name(f, name)}"
    check_differentiable(f, args, nums)
    expected = call(f, args)
    like = float(expected) if expected.ndim == 0 else expected
    rng = _rng(seed)
    for _ in range(n_tangents):
        v = _tangents(rng, args, nums)
        out, t_out = jvp_fn(fresh(args), v)
        _assert_value(what, out, expected)
        _assert_typed_like(what, t_out, like, "the tangent direction")
        size = max(max(1.0, float(np.max(np.abs(args[i])))) for i in nums)
        diffs = []
        for step in (eps * size, 2.0 * eps * size):
            plus = tuple(a + step * t if i in nums else a for i, (a, t) in enumerate(zip(args, v)))
            minus = tuple(a - step * t if i in nums else a for i, (a, t) in enumerate(zip(args, v)))
            diffs.append((call(f, plus) - call(f, minus)) / (2.0 * step))
        tols, scale = _tolerance([diffs[0]], rtol, atol)
        _assert_reliable(what, [diffs[0]], [np.abs(diffs[0] - diffs[1])], tols,
                         ["a random tangent"])
        _assert_close(what, [t_out], [diffs[0]], tols, scale, rtol, atol, ["a random tangent"])


def check_vjp_jvp_identity(vjp_fn, jvp_fn, args, argnums=None, seed=0, rtol=IDENTITY_RTOL,
                           name="f"):
    """<u, J v> == <J^T u, v> for random u, v: a VJP and a JVP of the same function agree.

    `vjp_fn` and `jvp_fn` as in check_vjp / check_jvp. No finite differences,
    so the tolerance is rounding-level.
    """
    args = tuple(args)
    nums, _ = argnums_tuple(range(len(args)) if argnums is None else argnums, len(args))
    rng = _rng(seed)
    out, pullback = vjp_fn(*fresh(args))
    out = np.asarray(out, dtype=np.float64)
    u = rng.standard_normal(out.shape)
    cts = pullback(u if out.ndim else float(u))
    v = _tangents(rng, args, nums)
    _, jv = jvp_fn(fresh(args), v)
    lhs_terms = u * np.asarray(jv, dtype=np.float64)
    rhs_terms = [np.asarray(cts[i], dtype=np.float64) * np.asarray(v[i]) for i in nums]
    lhs = float(np.sum(lhs_terms))
    rhs = float(sum(np.sum(t) for t in rhs_terms))
    size = float(np.sum(np.abs(lhs_terms)) + sum(np.sum(np.abs(t)) for t in rhs_terms))
    if not abs(lhs - rhs) <= rtol * size or not np.isfinite(lhs + rhs):
        raise AssertionError(f"vjp/jvp identity for {name}: <u, J v> = {lhs!r} but "
                             f"<J^T u, v> = {rhs!r} (|diff| {abs(lhs - rhs):.3g} > "
                             f"rtol {rtol:g} x {size:.3g})")


def check_hessian(f, hessian_fn, args, argnums=0, grad_fn=None, rtol=RTOL, atol=None, eps=None,
                  name=None):
    """Check hessian_fn(*args), shape in.shape + in.shape (a float for a float input).

    With `grad_fn` (an exact gradient, itself checked by check_grads), the
    reference is first differences of grad_fn: as accurate as check_grads.
    Without, second differences of f, whose rounding (~eps_mach / h**2) sets
    a looser default atol (HESSIAN_ATOL).
    """
    args = tuple(args)
    if not isinstance(argnums, (int, np.integer)):
        raise ValueError("check_hessian takes one argnum at a time")
    (i,), _ = argnums_tuple(argnums, len(args))
    what = f"hessian of {function_name(f, name)}"
    check_differentiable(f, args, (i,))
    label = describe_arg(f, args, i)
    got = hessian_fn(*fresh(args))
    if grad_fn is not None:
        atol = ATOL if atol is None else atol
        ref, err = central_differences(lambda *a: np.asarray(grad_fn(*a), dtype=np.float64), args, i,
                            EPS if eps is None else eps)
    else:
        atol = HESSIAN_ATOL if atol is None else atol
        ref, err = second_differences(f, args, i, HESSIAN_EPS if eps is None else eps)
    _assert_typed_like(what, got, float(ref) if ref.ndim == 0 else ref, label)
    tols, scale = _tolerance([ref], rtol, atol)
    _assert_reliable(what, [ref], [err], tols, [label])
    _assert_close(what, [got], [ref], tols, scale, rtol, atol, [label])
