"""The fence rejects unsupported syntax with the user's file, line and text."""
import pytest

import transpile as tp
from transpile import fence
from transpile.errors import UnsupportedSyntaxError
from transpile.source import get_source


def uses_with(x):
    y = x
    with open("f") as fh:  # line: with
        y = fh
    return y


def uses_try(x):
    try:  # line: try
        return x
    except ValueError:
        return 0


def uses_yield(x):
    yield x  # line: yield


def uses_class(x):
    class Inner:  # line: class
        pass
    return x


counter = 0


def uses_global_write(x):
    global counter
    counter = x  # line: global
    return x


def uses_nonlocal():
    v = 1

    def inner(x):
        nonlocal v  # line: nonlocal
        v = x
        return v
    return inner


def uses_import(x):
    import os  # line: import
    return x


async def uses_async(x):
    return x


def uses_del(x):
    y = x
    del y  # line: del
    return x


CASES = [
    (uses_with, "with", "`with` statements"),
    (uses_try, "try", "`try`"),
    (uses_yield, "yield", "generators"),
    (uses_class, "class", "class"),
    (uses_global_write, "global", "global `counter`"),
    (uses_nonlocal(), "nonlocal", "`nonlocal`"),
    (uses_import, "import", "`import`"),
    (uses_del, "del", "`del`"),
]


def _line_of(fn, marker):
    import inspect
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if f"# line: {marker}" in line:
            return start + i
    raise AssertionError(marker)


@pytest.mark.parametrize("fn,marker,message", CASES, ids=[c[1] for c in CASES])
def test_rejected_with_the_users_line(fn, marker, message):
    with pytest.raises(UnsupportedSyntaxError, match=message) as info:
        fence.check(get_source(fn))
    err = info.value
    assert err.filename == __file__
    assert err.lineno == _line_of(fn, marker)
    assert f"# line: {marker}" in err.text
    assert f'line {err.lineno}' in str(err)


def test_async_def_is_rejected():
    with pytest.raises(UnsupportedSyntaxError, match="async"):
        tp.jit(uses_async, backend="python")(1.0)


def test_jit_fences_before_any_work():
    with pytest.raises(UnsupportedSyntaxError):
        tp.jit(uses_with, backend="python")(1.0)


def global_read_is_fine(x):
    global counter
    return x + counter


def test_global_declaration_without_write_is_fine():
    fence.check(get_source(global_read_is_fine))
