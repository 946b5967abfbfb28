"""Fuzz regression (tools/fuzz.py): jit is crash.

found by: python tools/fuzz.py, program 1:25 (features: aliases, break, broadcasting, containers, early_return, helpers, if, inplace, kinks, masks, math, rebinding, reductions, where)
failure: AssertionError @ transpile/api.py:__call__
"""
import numpy as np


def f(x):
    acc13 = []
    acc13.append(np.ones((2, 3))[np.ones((2, 3)) > 0.0].sum())
    return np.ones(3)[2]


# AssertionError: 
#   at /work/venv/lib/python3.11/site-packages/numba/np/arrayobj.py:1455 in fancy_getitem_array: return fancy_getitem(context, builder, sig, args,
#   at /work/venv/lib/python3.11/site-packages/numba/np/arrayobj.py:1403 in fancy_getitem: indexer = FancyIndexer(context, builder, aryty, ary,
#   at /work/venv/lib/python3.11/site-packages/numba/np/arrayobj.py:1210 in __init__: indexer = BooleanArrayIndexer(context, builder,
#   at /work/venv/lib/python3.11/site-packages/numba/np/arrayobj.py:924 in __init__: assert idxty.ndim == 1
CHECK = 'jit'
ARGS = (-0.043,)
BATCH = [(-0.102,), (-0.442,), (-0.848,)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'AssertionError @ transpile/api.py:__call__'
