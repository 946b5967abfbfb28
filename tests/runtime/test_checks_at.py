"""runtime.checks and runtime.at: the NumPy twin and the Numba version agree."""
import numpy as np
import pytest
from numba import njit

import runtime.numba_impl  # noqa: F401  (registers the overloads)
from runtime import at, checks


@njit
def nb_getitem(a, i):
    return checks.getitem(a, i, "f.py:1")


@njit
def nb_setitem(a, i, v):
    checks.setitem(a, i, v, "f.py:2")
    return a


@njit
def nb_row(a, i):
    return a[checks.check_index(i, a, 0, "f.py:3"), :]


@njit
def nb_divide(a, b):
    return checks.divide(a, b, "f.py:4")


@njit
def nb_floor_divide(a, b):
    return checks.floor_divide(a, b, "f.py:5")


@njit
def nb_at_add(a, i, v, mode):
    at.at_add(a, i, v, mode)
    return a


@njit
def nb_at_get(a, i, fill):
    return at.at_get(a, i, "fill", fill)


X = np.arange(6.0)
M = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("getitem", [lambda a, i: checks.getitem(a, i, "f.py:1"), nb_getitem], ids=["numpy", "numba"])
def test_getitem(getitem):
    assert getitem(X, 2) == 2.0 and getitem(X, -1) == 5.0
    np.testing.assert_array_equal(getitem(X, np.array([0, 5])), [0.0, 5.0])
    np.testing.assert_array_equal(getitem(X, X > 3), [4.0, 5.0])
    np.testing.assert_array_equal(getitem(M, M > 8.5), [9.0, 10.0, 11.0])  # 2-D mask
    for bad in (6, -7):
        with pytest.raises(IndexError, match=r"out of bounds for axis 0 with size 6 \(at f.py:1\)"):
            getitem(X, bad)
    with pytest.raises(IndexError, match="f.py:1"):
        getitem(X, np.array([0, 9]))


@pytest.mark.parametrize("setitem", [lambda a, i, v: (checks.setitem(a, i, v, "f.py:2"), a)[1], nb_setitem],
                         ids=["numpy", "numba"])
def test_setitem(setitem):
    np.testing.assert_array_equal(setitem(X.copy(), 1, 9.0)[:2], [0.0, 9.0])
    out = setitem(M.copy(), M > 9.5, 0.0)
    assert out[2, 2] == 0.0 and out[2, 3] == 0.0 and out[2, 1] == 9.0
    with pytest.raises(IndexError, match="f.py:2"):
        setitem(X.copy(), 6, 1.0)


@pytest.mark.parametrize("row", [lambda a, i: a[checks.check_index(i, a, 0, "f.py:3"), :], nb_row],
                         ids=["numpy", "numba"])
def test_check_index_in_a_tuple(row):
    np.testing.assert_array_equal(row(M, 1), M[1])
    with pytest.raises(IndexError, match="size 3"):
        row(M, 3)


@pytest.mark.parametrize("div,fdiv", [(lambda a, b: checks.divide(a, b, "f.py:4"),
                                       lambda a, b: checks.floor_divide(a, b, "f.py:5")),
                                      (nb_divide, nb_floor_divide)], ids=["numpy", "numba"])
def test_division(div, fdiv):
    assert div(1.0, 4.0) == 0.25 and fdiv(7, 2) == 3
    with pytest.raises(ZeroDivisionError, match="f.py:4"):
        div(1.0, 0.0)
    with pytest.raises(ZeroDivisionError, match="f.py:5"):
        fdiv(7, 0)
    with np.errstate(divide="ignore"):
        assert np.isinf(div(np.ones(2), 0.0)).all()


@pytest.mark.parametrize("add", [lambda a, i, v, m: (at.at_add(a, i, v, m), a)[1], nb_at_add],
                         ids=["numpy", "numba"])
def test_at_add_modes(add):
    np.testing.assert_array_equal(add(np.zeros(3), np.array([0, 0, 2]), 1.0, "raise"), [2, 0, 1])
    np.testing.assert_array_equal(add(np.zeros(3), np.array([0, 5]), 1.0, "drop"), [1, 0, 0])
    np.testing.assert_array_equal(add(np.zeros(3), np.array([0, 5]), 1.0, "clip"), [1, 0, 1])
    np.testing.assert_array_equal(add(np.zeros(3), np.array([1, 2]), np.array([5.0, 6.0]), "raise"), [0, 5, 6])
    with pytest.raises(IndexError):
        add(np.zeros(3), np.array([0, 5]), 1.0, "raise")


@pytest.mark.parametrize("get", [lambda a, i, f: at.at_get(a, i, "fill", f), nb_at_get], ids=["numpy", "numba"])
def test_at_get_fill(get):
    np.testing.assert_array_equal(get(X, np.array([1, 9]), -1.0), [1.0, -1.0])
    assert get(X, 9, -1.0) == -1.0


@njit
def _pairs(A, i, j):
    return A[checks.check_index(i, A, 0, "f.py:1"), checks.check_index(j, A, 1, "f.py:1")]


def test_two_index_arrays_in_one_subscript():
    # Numba 0.68 failed to inline two array check_index bodies into one statement
    A = np.arange(12.0).reshape(3, 4)
    i, j = np.array([0, 2]), np.array([1, 3])
    np.testing.assert_array_equal(_pairs(A, i, j), A[i, j])
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        _pairs(A, i, np.array([1, 4]))


def test_check_unpack():
    checks.check_unpack(np.ones(2), 2, "f.py:1")
    with pytest.raises(ValueError, match=r"too many values to unpack \(expected 2\) \(at f.py:1\)"):
        checks.check_unpack(np.ones(3), 2, "f.py:1")
    f = njit(lambda v: checks.check_unpack(v, 2, "f.py:1"))
    f((1.0, 2.0))
    with pytest.raises(ValueError, match=r"not enough values to unpack \(expected 2, got 1\)"):
        f(np.ones(1))
