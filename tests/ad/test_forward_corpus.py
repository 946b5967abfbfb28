"""Forward mode and the other derivative operators on the corpus (issue 4).

jvp against finite differences, the VJP.JVP dot-product identity, jacfwd ==
jacrev == finite differences (eagerly and under jit), hessian against finite
differences of the gradient, and grad(grad(f)) on scalar functions. Each
test skips until the operator it needs exists.
"""
import functools

import numpy as np
import pytest

import transpile as tp

from .corpus import CORPUS, VECTOR_CORPUS
from .gradcheck import check_grads, check_hessian, check_jacobian, check_jvp, check_vjp_jvp_identity


def needs(*names):
    missing = [n for n in names if not hasattr(tp, n)]
    return pytest.mark.skipif(bool(missing), reason=f"transpile.{', transpile.'.join(missing)} "
                                                    f"does not exist yet (issue 4)")


def _ids(cases):
    return [c.name for c in cases]


def _all_float(args):
    return all(type(a) is float or (isinstance(a, np.ndarray) and a.dtype == np.float64) for a in args)


# JAX's jvp/vjp take every primal; keep the cases whose arguments are all floats
# (integer data such as labels would need float0 tangents).
FLOAT_CASES = [c for c in CORPUS + VECTOR_CORPUS if _all_float(c.args())]
ALL_CASES = CORPUS + VECTOR_CORPUS
SCALAR_IN = [c for c in CORPUS if "scalar_input" in c.tags and isinstance(c.argnums, int)]
SMALL = [c for c in CORPUS if sum(np.size(c.args()[i]) for i in c.argnums_tuple) <= 12]


@needs("jvp")
@pytest.mark.parametrize("case", FLOAT_CASES, ids=_ids(FLOAT_CASES))
def test_jvp_eager(case):
    check_jvp(case.fn, functools.partial(tp.jvp, case.fn), case.args(), argnums=case.argnums,
              name=case.name)


@needs("jvp", "vjp")
@pytest.mark.parametrize("case", FLOAT_CASES, ids=_ids(FLOAT_CASES))
def test_vjp_jvp_identity(case):
    check_vjp_jvp_identity(functools.partial(tp.vjp, case.fn), functools.partial(tp.jvp, case.fn),
                           case.args(), name=case.name)


@needs("jacfwd", "jacrev")
@pytest.mark.parametrize("case", ALL_CASES, ids=_ids(ALL_CASES))
def test_jacfwd_and_jacrev_eager(case):
    args = case.args()
    fwd = tp.jacfwd(case.fn, argnums=case.argnums)
    rev = tp.jacrev(case.fn, argnums=case.argnums)
    check_jacobian(case.fn, args, fwd, argnums=case.argnums, name=f"jacfwd({case.name})")
    check_jacobian(case.fn, args, rev, argnums=case.argnums, name=f"jacrev({case.name})")
    f_out, r_out = fwd(*args), rev(*args)
    if isinstance(case.argnums, int):
        f_out, r_out = (f_out,), (r_out,)
    for a, b in zip(f_out, r_out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * (np.max(np.abs(b)) or 1.0))


@needs("jacfwd", "jacrev")
@pytest.mark.slow
@pytest.mark.parametrize("case", ALL_CASES, ids=_ids(ALL_CASES))
def test_jacfwd_and_jacrev_jit(case):
    args = case.args()
    for op in (tp.jacfwd, tp.jacrev):
        check_jacobian(case.fn, args, tp.jit(op(case.fn, argnums=case.argnums)), argnums=case.argnums,
                       name=f"jit({op.__name__}({case.name}))")


@needs("hessian", "grad")
@pytest.mark.parametrize("case", SMALL, ids=_ids(SMALL))
def test_hessian(case):
    k = case.argnums_tuple[0]
    check_hessian(case.fn, tp.hessian(case.fn, argnums=k), case.args(), argnums=k,
                  grad_fn=tp.grad(case.fn, argnums=k), name=case.name)


# Second order arrives with issue 4: grad exists before then, so these wait for hessian too.
@needs("grad", "hessian")
@pytest.mark.parametrize("case", SCALAR_IN, ids=_ids(SCALAR_IN))
def test_grad_of_grad(case):
    d1 = tp.grad(case.fn, argnums=case.argnums)
    check_grads(d1, case.args(), tp.grad(d1, argnums=case.argnums), argnums=case.argnums,
                name=f"grad({case.name})")


@needs("grad", "hessian")
@pytest.mark.parametrize("case", SCALAR_IN[:6], ids=_ids(SCALAR_IN[:6]))
def test_third_order(case):
    d2 = tp.grad(tp.grad(case.fn, argnums=case.argnums), argnums=case.argnums)
    check_grads(d2, case.args(), tp.grad(d2, argnums=case.argnums), argnums=case.argnums,
                name=f"grad(grad({case.name}))")
