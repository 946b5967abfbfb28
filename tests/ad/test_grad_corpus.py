"""Reverse mode on the whole corpus: tp.grad eagerly and under tp.jit, value_and_grad, vjp.

Every scalar case's gradient is checked against central finite differences
(gradcheck.check_grads: rtol 1e-5, atol 1e-7 x the gradient's scale), eagerly
(generated source run with NumPy) and compiled with Numba; the two must also
agree with each other to rounding. Each (function, argnums) is compiled once
per session.
"""
import functools

import numpy as np
import pytest

import transpile as tp

# Until issue 3 lands there is nothing to test; remove this guard with it.
if not hasattr(tp, "grad"):
    pytest.skip("transpile.grad does not exist yet (issue 3: reverse mode); these tests check it "
                "on the corpus once it lands", allow_module_level=True)

from .corpus import CORPUS, VECTOR_CORPUS  # noqa: E402
from .gradcheck import check_grads, check_value_and_grad, check_vjp  # noqa: E402

# Eager and jitted gradients: the same generated source, NumPy vs Numba. Their
# reductions and BLAS calls may sum in different orders, nothing more.
AGREE_RTOL = 1e-9


def _ids(cases):
    return [c.name for c in cases]


@functools.lru_cache(maxsize=None)
def _eager_grad(fn, argnums):
    return tp.grad(fn, argnums=argnums)


@functools.lru_cache(maxsize=None)
def _jitted_grad(fn, argnums):
    """One tp.jit object per (function, argnums): cases sharing a function share its compiles."""
    return tp.jit(tp.grad(fn, argnums=argnums))


def _as_tuple(g, argnums):
    return (g,) if isinstance(argnums, int) else tuple(g)


@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_grad_eager(case):
    check_grads(case.fn, case.args(), _eager_grad(case.fn, case.argnums), argnums=case.argnums,
                name=case.name)


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_grad_jit(case):
    check_grads(case.fn, case.args(), _jitted_grad(case.fn, case.argnums), argnums=case.argnums,
                name=f"jit(grad({case.name}))")


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_grad_eager_and_jit_agree(case):
    args = case.args(seed=1)
    eager = _as_tuple(_eager_grad(case.fn, case.argnums)(*args), case.argnums)
    jitted = _as_tuple(_jitted_grad(case.fn, case.argnums)(*args), case.argnums)
    scale = max(float(np.max(np.abs(g))) for g in eager) or 1.0
    for i, e, j in zip(case.argnums_tuple, eager, jitted):
        assert type(j) is type(e) or (isinstance(e, float) and isinstance(j, float)), (i, type(e), type(j))
        np.testing.assert_allclose(j, e, rtol=AGREE_RTOL, atol=AGREE_RTOL * scale,
                                   err_msg=f"{case.name}: eager vs jit gradient, argument {i}")


VALUE_AND_GRAD = [c for c in CORPUS if {"realistic", "closure", "method", "if", "while"} & c.tags]


@pytest.mark.parametrize("case", VALUE_AND_GRAD, ids=_ids(VALUE_AND_GRAD))
def test_value_and_grad_eager(case):
    check_value_and_grad(case.fn, case.args(), tp.value_and_grad(case.fn, argnums=case.argnums),
                         argnums=case.argnums, name=case.name)


@pytest.mark.slow
@pytest.mark.parametrize("case", VALUE_AND_GRAD[::3], ids=_ids(VALUE_AND_GRAD[::3]))
def test_value_and_grad_jit(case):
    check_value_and_grad(case.fn, case.args(), tp.jit(tp.value_and_grad(case.fn, argnums=case.argnums)),
                         argnums=case.argnums, name=f"jit(value_and_grad({case.name}))")


@pytest.mark.parametrize("case", VECTOR_CORPUS, ids=_ids(VECTOR_CORPUS))
def test_vjp_eager(case):
    check_vjp(case.fn, functools.partial(tp.vjp, case.fn), case.args(), argnums=case.argnums,
              name=case.name)


def _all_float(args):
    return all(type(a) is float or (isinstance(a, np.ndarray) and a.dtype == np.float64) for a in args)


SCALAR_VJP = [c for c in CORPUS if "multi_argnums" in c.tags and _all_float(c.args())][:8]


@pytest.mark.parametrize("case", SCALAR_VJP, ids=_ids(SCALAR_VJP))
def test_vjp_of_scalar_function(case):
    """vjp of a scalar loss with respect to every argument, data included."""
    check_vjp(case.fn, functools.partial(tp.vjp, case.fn), case.args(), name=case.name)
