"""Fuzz regression (tools/fuzz.py): vjp is wrong.

found by: python tools/fuzz.py, program 1:58 (features: break, broadcasting, containers, helpers, inplace, kinks, math, matmul, rebinding, recursion, reductions, temporaries, while)
failure: wrong:fd
"""
import numpy as np


def hm4(p5, q6):
    p5[0, :] = p5.sum()
    return np.sin(p5)


def hp10(pair11):
    a12, b13 = pair11
    t14 = a12[:, 2] @ a12
    return t14


def f(x):
    t17 = hm4(x.sum() * np.ones((2, 3)), x[0])
    t18 = hp10((t17, x.sum()))
    return t17 @ t18


# ct . J[0]: got np.float64(-53.343559570325965), finite differences np.float64(-22.993033601078515) (2 of 2 entries wrong)
CHECK = 'vjp'
ARGS = (np.array([0.94, 0.433]),)
BATCH = [(np.array([0.315, -0.427]),), (np.array([-0.219, -0.281]),), (np.array([-0.916, 0.031]),)]
IN_AXES = 0
OUT_SHAPE = (2,)
FOUND = 'wrong:fd'
