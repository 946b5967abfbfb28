"""vmap on the whole corpus (issue 5).

For every corpus function and every batch-axis placement, `vmap(f)(xs)`
equals `np.stack([f(x) for x in xs])`, eagerly and under jit, whichever
strategy runs; `vmap(grad(f))` equals the per-example gradients. A batch is
made of the case's inputs for seeds 0, 1, 2 (same shapes, different values),
stacked along the placement's axis.
"""
import functools

import numpy as np
import pytest

import transpile as tp

from .corpus import CORPUS, VECTOR_CORPUS

ALL = CORPUS + VECTOR_CORPUS
B = 3
# The per-example loop runs the generated code of f on each example: the same
# operations as f itself. Jitted code may sum in another order (Numba vs NumPy).
EAGER_RTOL = 1e-12
JIT_RTOL = 1e-9

# placement -> in_axes for a case with k arguments
PLACEMENTS = {
    "axis0": lambda k: 0,
    "last": lambda k: -1,
    "first_only": lambda k: (0,) + (None,) * (k - 1),
}


def _ids(cases):
    return [c.name for c in cases]


def batch(case, in_axes):
    """(batched arguments, per-example argument tuples) for `in_axes`."""
    examples = [case.args(seed=s) for s in range(B)]
    k = len(examples[0])
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * k
    args = []
    for i, ax in enumerate(axes):
        if ax is None:
            args.append(examples[0][i])
        else:
            args.append(np.stack([np.asarray(e[i]) for e in examples], axis=ax))
    per = [tuple(a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(args, axes))
           for b in range(B)]
    return tuple(args), per


def reference(fn, per):
    outs = [fn(*ex) for ex in per]
    if isinstance(outs[0], tuple):
        return tuple(np.stack([o[k] for o in outs]) for k in range(len(outs[0])))
    return np.stack(outs)


def check(out, ref, rtol, name):
    if isinstance(ref, tuple):
        assert isinstance(out, tuple) and len(out) == len(ref), name
        for o, r in zip(out, ref):
            check(o, r, rtol, name)
        return
    out = np.asarray(out)
    assert out.shape == ref.shape, f"{name}: shape {out.shape} != {ref.shape}"
    scale = float(np.max(np.abs(ref))) if ref.size and ref.dtype.kind in "fc" else 1.0
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=rtol * (scale or 1.0), err_msg=name)


@functools.lru_cache(maxsize=None)
def _vmapped(fn, in_axes, strategy, backend):
    f = tp.vmap(fn, in_axes=in_axes, strategy=strategy)
    return tp.jit(f) if backend == "numba" else f


@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_vmap_eager(case, placement):
    in_axes = PLACEMENTS[placement](len(case.args()))
    args, per = batch(case, in_axes)
    out = _vmapped(case.fn, in_axes, "auto", "python")(*args)
    check(out, reference(case.fn, per), EAGER_RTOL, f"vmap({case.name}), in_axes={in_axes}")


@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_vmap_loop_eager(case):
    in_axes = PLACEMENTS["last"](len(case.args()))
    args, per = batch(case, in_axes)
    out = _vmapped(case.fn, in_axes, "loop", "python")(*args)
    check(out, reference(case.fn, per), EAGER_RTOL, f"vmap({case.name}, strategy='loop')")


@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_vmap_vectorized_eager(case):
    """The vectorizing rules alone (cases with per-example control flow, or
    calls without a rule, are skipped with the reason)."""
    in_axes = PLACEMENTS["last"](len(case.args()))
    args, per = batch(case, in_axes)
    try:
        out = _vmapped(case.fn, in_axes, "vectorize", "python")(*args)
    except tp.TranspileError as exc:
        if "cannot vectorize" not in str(exc):
            raise
        pytest.skip(str(exc).split(": ", 2)[-1])
    check(out, reference(case.fn, per), EAGER_RTOL, f"vmap({case.name}, strategy='vectorize')")


@pytest.mark.slow
@pytest.mark.parametrize("placement", ["axis0", "last"])
@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_vmap_jit(case, placement):
    in_axes = PLACEMENTS[placement](len(case.args()))
    args, per = batch(case, in_axes)
    out = _vmapped(case.fn, in_axes, "auto", "numba")(*args)
    check(out, reference(case.fn, per), JIT_RTOL, f"jit(vmap({case.name})), in_axes={in_axes}")


@functools.lru_cache(maxsize=None)
def _grad(fn, argnums):
    return tp.grad(fn, argnums=argnums)


def _per_example_grads(case, per):
    g = _grad(case.fn, case.argnums)
    outs = [g(*ex) for ex in per]
    if isinstance(case.argnums, int):
        return np.stack([np.asarray(o) for o in outs])
    return tuple(np.stack([np.asarray(o[k]) for o in outs]) for k in range(len(case.argnums)))


@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_vmap_of_grad_eager(case):
    args, per = batch(case, 0)
    out = tp.vmap(_grad(case.fn, case.argnums))(*args)
    check(out, _per_example_grads(case, per), EAGER_RTOL, f"vmap(grad({case.name}))")


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_vmap_of_grad_jit(case):
    args, per = batch(case, 0)
    out = tp.jit(tp.vmap(_grad(case.fn, case.argnums)))(*args)
    check(out, _per_example_grads(case, per), JIT_RTOL, f"jit(vmap(grad({case.name})))")
