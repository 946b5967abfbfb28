"""Fuzz regression (tools/fuzz.py): vmap is wrong.

found by: python tools/fuzz.py, program 1:82 (features: break, broadcasting, containers, fancy, helpers, inplace, loops, masks, math, matmul, rebinding, recursion, reductions, where)
failure: wrong:value
"""
import numpy as np


def f(x, y):
    y += y
    t11 = y
    return t11.sum()


# vmap vs loop[1]: got np.float64(-3.6459999999999995), expected np.float64(-7.291999999999999)
# also: vmap: argument 1 after the call: [0] = np.float64(-1.048) (not written), plain Python leaves np.float64(-8.384)
CHECK = 'vmap'
ARGS = (-0.96, np.array([[-1.048, -1.135, -0.236], [0.844, -0.713, 0.465]]))
BATCH = [(-0.941, np.array([[0.351, -0.964, -0.946], [0.503, -1.135, 0.964]])), (-0.982, np.array([[0.023, 0.967, 1.038], [-0.295, -0.341, -0.115]])), (0.649, np.array([[-0.466, -0.179, 0.857], [-0.347, 0.877, 1.158]]))]
IN_AXES = (0, None)
OUT_SHAPE = ()
FOUND = 'wrong:value'
