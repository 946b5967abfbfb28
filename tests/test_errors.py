"""Every error class names the user's file and line."""
import inspect

import numpy as np
import pytest

import transpile as tp


def _line(fn, marker):
    lines, start = inspect.getsourcelines(fn)
    return next(start + i for i, line in enumerate(lines) if marker in line)


def undefined_name(x):
    return x + not_defined_anywhere  # noqa: F821  <- here


def test_name_error_at_the_users_line():
    with pytest.raises(tp.TranspileNameError, match="not_defined_anywhere") as info:
        tp.jit(undefined_name, backend="python")(1.0)
    assert isinstance(info.value, NameError)
    assert info.value.lineno == _line(undefined_name, "<- here") and info.value.filename == __file__


def helper_with_typing_error(x):
    y = x * 2.0
    return y + "text"  # <- here


def calls_bad_helper(x):
    return helper_with_typing_error(x) + 1.0


def test_numba_typing_error_is_one_sentence_at_the_users_line():
    with pytest.raises(tp.TranspileTypingError) as info:
        tp.jit(calls_bad_helper)(1.0)
    err = info.value
    assert isinstance(err, TypeError)
    assert err.lineno == _line(helper_with_typing_error, "<- here")
    assert err.message.startswith("Numba cannot compile this:")
    assert "\n" not in err.message and "add(float64" in err.message
    assert "nopython" in err.backend_message  # the full message stays available


def read_eleventh(x):
    return x[11]  # <- here


def read_row(A, i):
    return A[i, :]  # <- here


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_index_error_names_the_users_line(backend):
    with pytest.raises(IndexError, match=r"index 11 is out of bounds for axis 0 with size 10") as info:
        tp.jit(read_eleventh, backend=backend)(np.arange(10.0))
    line = _line(read_eleventh, "<- here")
    assert f"test_errors.py:{line}" in str(info.value)
    assert f"line {line}" in info.value.__notes__[0] and "return x[11]" in info.value.__notes__[0]
    with pytest.raises(IndexError, match="axis 0 with size 2") as info:
        tp.jit(read_row, backend=backend)(np.zeros((2, 3)), -3)
    assert f"test_errors.py:{_line(read_row, '<- here')}" in str(info.value)


def divide(a, b):
    return a / b  # <- here


def int_divide(a, b):
    return a // b  # <- here


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_zero_division_names_the_users_line(backend):
    with pytest.raises(ZeroDivisionError) as info:
        tp.jit(divide, backend=backend)(1.0, 0.0)
    assert f"test_errors.py:{_line(divide, '<- here')}" in str(info.value)
    with pytest.raises(ZeroDivisionError):
        tp.jit(int_divide, backend=backend)(7, 0)
    # arrays follow NumPy: inf, no error
    with np.errstate(divide="ignore"):
        assert np.isinf(tp.jit(divide, backend=backend)(np.ones(2), 0.0)).all()


def shape_mismatch(a, b):
    c = a + 1.0
    return c + b  # <- here


def test_python_backend_errors_get_a_note_with_the_users_line():
    with pytest.raises(ValueError) as info:
        tp.jit(shape_mismatch, backend="python")(np.ones(2), np.ones(3))
    assert f"line {_line(shape_mismatch, '<- here')}" in info.value.__notes__[0]


def raises_itself(x):
    if x < 0:
        raise ValueError("negative input")  # <- here
    return x


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_user_raise_is_kept(backend):
    with pytest.raises(ValueError, match="negative input"):
        tp.jit(raises_itself, backend=backend)(-1.0)


def test_source_unavailable_error():
    ns = {}
    exec("def f(x):\n    return x\n", ns)
    with pytest.raises(tp.SourceUnavailableError):
        tp.jit(ns["f"])(1.0)


class Opaque:
    pass


opaque = Opaque()


def uses_object(x):
    return x + opaque  # <- here


def test_objects_that_cannot_be_compiled_are_named():
    with pytest.raises(tp.TranspileError, match="cannot use a Opaque object") as info:
        tp.jit(uses_object, backend="python")(1.0)
    assert info.value.lineno == _line(uses_object, "<- here")


def star_args(*xs):
    return xs


def test_unsupported_arguments():
    with pytest.raises(tp.UnsupportedArgumentError, match=r"\*args"):
        tp.jit(star_args)
    with pytest.raises(tp.UnsupportedArgumentError, match="leaves must be numbers or arrays"):
        tp.jit(divide, backend="python")(["a"], 2.0)
    with pytest.raises(tp.UnsupportedArgumentError, match="set"):
        tp.jit(divide, backend="python")({1.0}, 2.0)
