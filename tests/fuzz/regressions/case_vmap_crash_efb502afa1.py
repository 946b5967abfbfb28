"""Fuzz regression (tools/fuzz.py): vmap is crash.

found by: python tools/fuzz.py, program 1:189 (features: aliases, broadcasting, containers, early_return, helpers, if, inplace, kinks, loops, masks, math, matmul, rebinding, reductions, temporaries, where)
failure: UnboundLocalError @ generated vmap code
"""
import numpy as np


def hm6(p7, q8):
    p7[q8 > 0.3] = 0.0
    p7[1] -= q8
    return q8


def hp9(pair10):
    a11, b12 = pair10
    return b12.sum()


def f(x):
    w13 = x
    for i14 in range(1):
        t15 = np.where(x > 0.25, w13, hm6(np.ones(2), w13.sum()))
    t19 = w13
    t20 = hp9([w13, t19])
    return t20


# UnboundLocalError: cannot access local variable '_t2_hm6_1' where it is not associated with a value
#   at transpile/vmap_api.py:408 in __call__: out, gen = self._call(bound, key, axes)
#   at transpile/vmap_api.py:459 in _call: return gen.entry(*call_args), gen
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_5195__f__vmap_python__c9d20b3fe4e6.py:66 in vmap_f: _r = f(_x_b)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_5195__f__vmap_python__c9d20b3fe4e6.py:26 in f: checks.unwritten_view(_t2_hm6_1, '_t2_hm6_1',
CHECK = 'vmap'
ARGS = (np.array([0.213, 0.329, -0.736]),)
BATCH = [(np.array([-0.794, -0.561, 0.95]),), (np.array([1.018, 0.041, 0.881]),), (np.array([0.085, 0.448, -0.654]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'UnboundLocalError @ generated vmap code'
