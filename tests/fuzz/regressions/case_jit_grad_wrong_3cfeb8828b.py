"""Fuzz regression (tools/fuzz.py): jit_grad is wrong.

found by: python tools/fuzz.py, program 1:11 (features: broadcasting, containers, helpers, inplace, kinks, loops, masks, math, recursion, reductions, temporaries, views, where)
failure: wrong:mutation:write-lost
"""
import numpy as np


def f(x):
    x[:] = x.sum()
    t15 = np.ones((2, 3))
    return t15.sum()


# jit(grad): argument 0 after the call: [0] = np.float64(-1.064) (not written), plain Python leaves np.float64(-1.0630000000000002)
CHECK = 'jit_grad'
ARGS = (np.array([-1.064, 0.001]),)
BATCH = [(np.array([0.509, 0.346]),), (np.array([0.295, -0.441]),), (np.array([0.302, -1.142]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'wrong:mutation:write-lost'
