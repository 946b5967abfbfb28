"""Fuzz regression (tools/fuzz.py): grad is wrong.

found by: python tools/fuzz.py, program 1:32 (features: containers, inplace, math, matmul, recursion, reductions, temporaries, where)
failure: wrong:mutation:write-lost
"""
import numpy as np


def hp4(pair5):
    a6, b7 = pair5
    return a6


def f(x):
    x -= x.max(axis=0)
    t9 = np.ones((2, 3))
    t10 = hp4([x, 0.3])
    return np.dot(t9[:, 1], t9 @ t10)


# grad: argument 0 after the call: [0] = np.float64(-0.783) (not written), plain Python leaves np.float64(-1.109)
CHECK = 'grad'
ARGS = (np.array([-0.783, 0.326, -0.049]),)
BATCH = [(np.array([0.481, 0.99, -0.936]),), (np.array([0.893, 0.158, -0.023]),), (np.array([-0.684, -0.026, 0.868]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'wrong:mutation:write-lost'
