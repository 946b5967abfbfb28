"""Fuzz regression (tools/fuzz.py): jacfwd is crash.

found by: python tools/fuzz.py, program 1:63 (features: broadcasting, containers, helpers, if, inplace, loops, masks, math, matmul, rebinding, reductions, views, where)
failure: UnboundLocalError @ generated ad code
"""
import numpy as np


def f(x):
    for i7 in range(1):
        x[x < 0.0] *= 0.5
        x[x > 1.0] -= 1.0
    return np.sum(x[1:])


# UnboundLocalError: cannot access local variable '_t5' where it is not associated with a value
#   at transpile/ad_api.py:240 in _run: out = gen.entry(*call_args)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_740__f__ad_python__906a28792dda.py:91 in jacfwd_f: _r0 = vmap_jvp_f(x, _E0)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_740__f__ad_python__906a28792dda.py:72 in vmap_jvp_f: _r = jvp_f(x, _x_dot_b)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_740__f__ad_python__906a28792dda.py:49 in jvp_f: checks.unwritten_view(_t5, '_t5', 'fz_shrink_1378_740.py:6')
CHECK = 'jacfwd'
ARGS = (np.array([0.719, 1.183, 0.145]),)
BATCH = [(np.array([-0.783, 0.52, -1.083]),), (np.array([-0.058, 0.928, 0.127]),), (np.array([-0.874, -0.333, -0.425]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'UnboundLocalError @ generated ad code'
