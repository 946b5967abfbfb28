"""Fuzz regression (tools/fuzz.py): vmap is wrong.

found by: python tools/fuzz.py, program 1:63 (features: broadcasting, containers, helpers, if, inplace, loops, masks, math, matmul, rebinding, reductions, views, where)
failure: wrong:value
"""
import numpy as np


def f(x):
    z8 = x[::2]
    z9 = z8[:]
    z9 *= z8.sum()
    x = x
    return np.sum(x[1:])


# vmap vs loop[0]: got np.float64(-0.563), expected np.float64(2.540878)
# also: vmap: argument 0 after the call: [0] = np.float64(-0.783) (not written), plain Python leaves np.float64(1.461078)
CHECK = 'vmap'
ARGS = (np.array([0.719, 1.183, 0.145]),)
BATCH = [(np.array([-0.783, 0.52, -1.083]),), (np.array([-0.058, 0.928, 0.127]),), (np.array([-0.874, -0.333, -0.425]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'wrong:value'
