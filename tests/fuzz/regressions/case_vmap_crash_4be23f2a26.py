"""Fuzz regression (tools/fuzz.py): vmap is crash.

found by: python tools/fuzz.py, program 1:184 (features: broadcasting, containers, if, inplace, kinks, loops, masks, math, matmul, rebinding, recursion, reductions, temporaries, views, where)
failure: UnboundLocalError @ generated vmap code
"""
import numpy as np


def hp4(pair5):
    a6 = pair5[0]
    return np.stack([a6, a6])


def f(x):
    t8 = x[1]
    acc9 = []
    acc9.append(np.sum([x, x], axis=0))
    p12 = acc9.pop()
    t11 = p12
    for i18 in range(1):
        t11[1:] += x[:2]
        t11[i18] += t8
    t20 = hp4([x, t8])
    return np.prod(t20[:, 1])


# UnboundLocalError: cannot access local variable '_t5' where it is not associated with a value
#   at transpile/vmap_api.py:408 in __call__: out, gen = self._call(bound, key, axes)
#   at transpile/vmap_api.py:459 in _call: return gen.entry(*call_args), gen
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_4631__f__vmap_python__57991b788085.py:57 in vmap_f: _r = f(_x_b)
#   at /tmp/fuzz-a1jsoqx1/cache/fz_shrink_1378_4631__f__vmap_python__57991b788085.py:30 in f: checks.unwritten_view(_t5, '_t5', 'fz_shrink_1378_4631.py:16')
CHECK = 'vmap'
ARGS = (np.array([0.41, 1.115, 0.376]),)
BATCH = [(np.array([0.311, 0.576, 0.196]),), (np.array([-0.052, -0.517, -0.388]),), (np.array([0.127, 0.145, 0.338]),)]
IN_AXES = 0
OUT_SHAPE = ()
FOUND = 'UnboundLocalError @ generated vmap code'
