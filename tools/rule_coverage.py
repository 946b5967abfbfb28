"""Which NumPy / math functions reverse mode can differentiate: a table
computed from the registry in runtime.rules, not kept by hand.

    python tools/rule_coverage.py              # every function, then a summary
    python tools/rule_coverage.py --missing    # only those with no rule
    python tools/rule_coverage.py --summary    # only the counts

Columns: the adjoint (reverse mode): ``rule`` (an adjoint template is
registered), ``nondiff`` (declared non-differentiable: zero gradient) or
``missing``; the tangent (forward mode): ``rule``, ``derived`` (from a
pointwise adjoint template) or ``missing``; batching (vmap): ``elementwise``,
``template`` or ``loop`` (no rule: vmap runs the call once per example, which
is exact but not vectorized).

``LOOP_BATCHED`` names the differentiable functions batched by that loop on
purpose (tests/test_rule_coverage.py: every function with an adjoint has a
tangent, and a batching rule or a line there).
"""
import argparse
import math
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..'))
from runtime import rules  # noqa: E402

_CALLABLE = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def _is_function(obj):
    """Public functions of a namespace (not classes, modules, constants)."""
    if isinstance(obj, _CALLABLE):
        return True
    # NumPy >= 1.25 wraps array functions in _ArrayFunctionDispatcher
    return callable(obj) and type(obj).__name__ == '_ArrayFunctionDispatcher'


def functions():
    """(qualified name, function) for np.*, np.linalg.* and math.*."""
    out = []
    for prefix, mod in (('np', np), ('np.linalg', np.linalg),
                        ('math', math)):
        for name in sorted(dir(mod)):
            if name.startswith('_'):
                continue
            obj = getattr(mod, name)
            if _is_function(obj):
                out.append(('%s.%s' % (prefix, name), obj))
    return out


#: differentiable functions vmap batches by running them once per example, and why
LOOP_BATCHED = {
    **{f'math.{n}': 'a function of Python scalars: one call per example is what it computes'
       for n in ('acos', 'acosh', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'cos', 'cosh', 'degrees',
                 'erf', 'erfc', 'exp', 'expm1', 'fabs', 'hypot', 'log10', 'log1p', 'log2', 'pow',
                 'radians', 'sin', 'sinh', 'sqrt', 'tan', 'tanh')},
    **{f'np.{n}': 'its output shape depends on argument values (a batched value would give ragged '
                  'outputs): per example' for n in ('arange', 'linspace', 'full', 'unique', 'bincount')},
    'np.tril': 'not written yet: per example', 'np.triu': 'not written yet: per example',
    **{f'np.linalg.{n}': 'not written yet (NumPy broadcasts these over leading axes; a rule could): '
                         'per example' for n in ('cholesky', 'det', 'inv', 'slogdet', 'solve')},
}


def tangent_status(fn):
    if rules.lookup(fn) is None and rules.lookup_tangent(fn) is None:
        return '-'
    t = rules.lookup_tangent(fn)
    if t is None:
        return 'missing'
    return 'derived' if rules.lookup(fn) is t else 'rule'


def batching_status(fn):
    kind, _ = rules.lookup_batching(fn)
    return kind or 'loop'


def status(fn):
    if rules.lookup(fn) is not None:
        return 'rule'
    if rules.is_nondifferentiable(fn):
        return 'nondiff'
    return 'missing'


def table():
    """[(qualified name, adjoint status, tangent status, batching status,
    adjoint template name or '')]."""
    rows = []
    for name, fn in functions():
        st = status(fn)
        tpl = rules.lookup(fn)
        rows.append((name, st, tangent_status(fn), batching_status(fn),
                     '%s.%s' % (tpl.__module__.rsplit('.', 1)[-1], tpl.__name__) if tpl else ''))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--missing', action='store_true',
                    help='list only functions with no rule')
    ap.add_argument('--summary', action='store_true',
                    help='print only the counts')
    args = ap.parse_args(argv)
    rows = table()
    if not args.summary:
        width = max(len(r[0]) for r in rows)
        print('%-*s  %-7s  %-7s  %-11s  %s' % (width, 'function', 'adjoint', 'tangent', 'batching',
                                                 'adjoint template'))
        for name, st, tan, bat, tpl in rows:
            if args.missing and st != 'missing':
                continue
            print('%-*s  %-7s  %-7s  %-11s  %s' % (width, name, st, tan, bat, tpl))
        print()
    for prefix in ('np', 'np.linalg', 'math'):
        mine = [r for r in rows if r[0].rsplit('.', 1)[0] == prefix]
        counts = {s: sum(r[1] == s for r in mine)
                  for s in ('rule', 'nondiff', 'missing')}
        print('%-9s %4d functions: %4d rule, %4d nondiff, %4d missing' % (
            prefix, len(mine), counts['rule'], counts['nondiff'],
            counts['missing']))
    print('registered outside these namespaces: %s' % ', '.join(sorted(
        getattr(f, '__qualname__', str(f)) for f in rules.ADJOINTS
        if not any(f is fn for _, fn in functions()))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
