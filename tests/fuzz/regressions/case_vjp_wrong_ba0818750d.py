"""Fuzz regression (tools/fuzz.py): vjp is wrong.

found by: python tools/fuzz.py, program 1:106 (features: aliases, broadcasting, containers, helpers, if, inplace, loops, math, matmul, recursion, reductions, temporaries)
failure: wrong:fd
"""
import numpy as np


def hm11(p12, q13):
    p12[1:, ::2] *= 0.3
    return p12 ** 2


def f(x):
    w18 = x
    w20 = w18
    t23 = hm11(w20.copy(), w18[1, 2])
    return t23.sum()


# ct . J[3]: got np.float64(-0.031535999999999995), finite differences np.float64(-0.10512000003490542) (2 of 6 entries wrong)
CHECK = 'vjp'
ARGS = (np.array([[-0.664, 0.754, 0.633], [-0.584, -1.092, 0.442]]),)
BATCH = [(np.array([[-1.138, 0.132, 0.34], [0.367, 1.001, -0.713]]),), (np.array([[-0.243, -0.176, 0.054], [-1.055, 0.356, -0.047]]),), (np.array([[-0.405, -0.538, -0.251], [-0.266, 0.75, -0.027]]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'wrong:fd'
