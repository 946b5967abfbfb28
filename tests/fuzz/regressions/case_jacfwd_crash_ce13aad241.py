"""Fuzz regression (tools/fuzz.py): jacfwd is crash.

found by: python tools/fuzz.py, program 1:137 (features: broadcasting, containers, helpers, if, inplace, kinks, loops, masks, math, matmul, rebinding, recursion, reductions, temporaries, views, where, while)
failure: UnboundLocalError @ generated ad code
"""
import numpy as np


def hm6(p7, q8):
    s10 = 1.0
    for i9 in range(1):
        p7 -= s10
        if p7[1] > 1.0:
            pass


def f(x):
    s15 = 1.0
    t16 = hm6(x.copy(), s15)
    t18 = np.ones((2, 3))
    return t18.sum()


# UnboundLocalError: cannot access local variable '_t1' where it is not associated with a value
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_1057__f__ad_python__eb82fce0a751.py:120 in jacfwd_f: _r0 = vmap_jvp_f(x, _E0)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_1057__f__ad_python__eb82fce0a751.py:109 in vmap_jvp_f: _r = vec_jvp_f(x, x_dot, _n)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_1057__f__ad_python__eb82fce0a751.py:95 in vec_jvp_f: _jvp1 = vec_jvp_hm6(_t1, s15, _t1_dot, _n)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_1057__f__ad_python__eb82fce0a751.py:84 in vec_jvp_hm6: checks.unwritten_view(_t1, '_t1', 'fz_shrink_1378_1057.py:7')
CHECK = 'jacfwd'
ARGS = (np.array([-0.405, -0.717, -1.174]),)
BATCH = [(np.array([0.774, 0.895, -0.258]),), (np.array([0.546, -0.438, -1.041]),), (np.array([0.213, -0.492, 0.476]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'UnboundLocalError @ generated ad code'
