"""Source acquisition: every kind of callable a user hands to transpile."""
import functools
import linecache
import math

import gast
import numpy as np
import pytest
import transpile as tp

from transpile.errors import SourceUnavailableError
from transpile.source import get_source


def plain(x):
    return x + 1


def outer(a):
    def inner(x):
        return x * a
    return inner


def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper


@deco
def decorated(x):
    return x - 1


class Thing:
    def method(self, x):
        return x * 3

    @staticmethod
    def static(x):
        return x * 4


sq = lambda x: x ** 2  # noqa: E731
two = (lambda x: x + 1, lambda x: x * 2)
many_lines = sorted(
    [3, 1],
    key=lambda v: -v)


def test_module_function():
    src = get_source(plain)
    assert src.name == "plain" and src.node.lineno == plain.__code__.co_firstlineno
    assert src.location(src.node.body[0]).text == "return x + 1"


def test_closure_cells_are_found():
    src = get_source(outer(2.0))
    assert set(src.closure) == {"a"}
    assert src.closure["a"].cell_contents == 2.0


def test_decorators_are_stripped_and_wrapped_followed():
    src = get_source(decorated)
    assert src.name == "decorated" and src.node.decorator_list == []


def test_methods_bound_unbound_static():
    assert get_source(Thing().method).node.args.args[0].id == "self"
    assert get_source(Thing.method).name == "method"
    assert get_source(Thing.static).name == "static"


def test_lambda_on_its_line():
    src = get_source(sq)
    assert isinstance(src.node.body[0], gast.Return)
    assert isinstance(src.node.body[0].value.op, gast.Pow)


def test_the_right_lambda_among_several_on_a_line():
    first, second = (get_source(f).node.body[0].value.op for f in two)
    assert isinstance(first, gast.Add) and isinstance(second, gast.Mult)


def test_lambda_inside_a_multiline_call():
    def grab(v):
        return v
    fn = grab(
        lambda y: y - 5)
    assert isinstance(get_source(fn).node.body[0].value.op, gast.Sub)


def test_ufuncs_and_builtins_get_a_wrapper():
    src = get_source(np.sin)
    assert src.location(src.node.body[0]).text == "return np.sin(x)"
    src = get_source(np.arctan2)
    assert [a.id for a in src.node.args.args] == ["x", "y"]
    assert get_source(math.exp).node.args.args[0].id == "x"


def test_notebook_cells_are_read_from_linecache():
    filename = "<ipython-input-7-abcdef>"
    text = "def cell_fn(x):\n    return x * 10\n"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {}
    exec(compile(text, filename, "exec"), namespace)
    src = get_source(namespace["cell_fn"])
    assert src.filename == filename and src.location(src.node.body[0]).lineno == 2


def test_no_source_is_a_clear_error():
    namespace = {}
    exec(compile("def nosrc(x):\n    return x\n", "<nowhere>", "exec"), namespace)
    with pytest.raises(SourceUnavailableError, match="source is not available"):
        get_source(namespace["nosrc"])


def test_non_function_is_a_clear_error():
    with pytest.raises(SourceUnavailableError, match="expected a Python function"):
        get_source(42)


@tp.jit(backend="python")
def _decorated_two_returns(x):
    if x > 0:
        return 1.0
    return 2.0


def test_decorated_function_keeps_its_whole_body():
    # The parse must not stop at the `def` line that follows the decorator.
    assert _decorated_two_returns(1.0) == 1.0
    assert _decorated_two_returns(-1.0) == 2.0
