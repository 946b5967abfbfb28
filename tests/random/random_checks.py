"""Comparison helper of the tp.random tests: the same bits, keys by their
words."""
import numpy as np

import transpile as tp


def same(a, b, what=""):
    """Assert ``a`` and ``b`` (nested tuples of arrays and key arrays) hold
    the same bits, shapes and dtypes."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{what}[{i}]")
        return
    if isinstance(b, tp.random.KeyArray):
        assert isinstance(a, tp.random.KeyArray) and a.dtype == b.dtype and a.shape == b.shape, \
            (what, a, b)
        a, b = tp.random.key_data(a), tp.random.key_data(b)
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (what, a.shape, b.shape, a.dtype, b.dtype)
    assert np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)), (what, a, b)
