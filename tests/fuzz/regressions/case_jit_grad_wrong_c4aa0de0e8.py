"""Fuzz regression (tools/fuzz.py): jit_grad is wrong.

found by: python tools/fuzz.py, program 1:21 (features: math, matmul, recursion, reductions, temporaries, where)
failure: wrong:fd
"""
import numpy as np


def f(x, y):
    return (y * np.ones((2, 3)))[1, :]


# jit(jacrev)[0, 3]: got np.float64(0.0), finite differences np.float64(1.0) (4 of 18 entries wrong)
CHECK = 'jit_grad'
ARGS = (np.array([0.74, -0.15, 0.892]), np.array([-0.185, -0.298, -0.776]))
BATCH = [(np.array([-0.442, 0.364, 0.829]), np.array([-0.872, -0.175, -0.471])), (np.array([-0.197, 0.866, 0.403]), np.array([0.437, 0.04, 0.38])), (np.array([0.75, -0.378, 0.437]), np.array([0.35, -0.176, -1.026]))]
IN_AXES = 0
OUT_SHAPE = (3,)
FOUND = 'wrong:fd'
