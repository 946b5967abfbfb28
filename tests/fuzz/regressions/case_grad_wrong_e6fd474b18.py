"""Fuzz regression (tools/fuzz.py): grad is wrong.

found by: python tools/fuzz.py, program 1:237 (features: broadcasting, containers, helpers, inplace, masks, math, matmul, rebinding, recursion, reductions, temporaries, where, while)
failure: wrong:fd
"""
import numpy as np


def hm6(p7, q8):
    t9 = q8
    p7[0] = t9


def f(x):
    t13 = x[1, 0] * np.ones(3)
    x[1, :] = t13 ** 2
    acc14 = []
    acc14.append(x[1])
    t16 = np.sum(acc14, axis=0)
    t17 = hm6(t13[:2], x[1, 2])
    return t16.sum()


# d f / d input[3]: got np.float64(-1.5237120000000002), finite differences np.float64(-3.071999999960032) (1 of 6 entries wrong)
# also: grad: argument 0 after the call: [3] = np.float64(-0.512) (not written), plain Python leaves np.float64(0.262144)
CHECK = 'grad'
ARGS = (np.array([[0.924, 0.973, 0.007], [-0.512, 0.141, -0.284]]),)
BATCH = [(np.array([[-0.841, -0.756, -0.36], [-0.926, -0.032, -1.087]]),), (np.array([[1.077, -1.09, 0.43], [-0.24, -1.058, -0.604]]),), (np.array([[-0.206, 0.336, -0.825], [0.397, 1.066, -0.627]]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'wrong:fd'
