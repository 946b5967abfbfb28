"""Numba overload of npx.einsum: the subscripts must be a compile-time
constant string; the overload parses them and generates a loop nest as
Python source (output labels outer, summed labels inner, a scalar
accumulator), cached per (subscripts, operand kinds, result dtype).

Supported: explicit (``'ij,jk->ik'``) and implicit (``'ij,jk'``) modes, any
number of operands, repeated labels (diagonals / traces), ``...``, size-1
broadcasting, numbers as operands.  The result is always a new array."""
import functools
import string

import numpy as np

from runtime._nb_common import (JIT, overload, npx, types, fail, is_array,
                                is_scalar, dtype_of, acc_dtype)

_LETTERS = set(string.ascii_letters)


def parse(subs, ndims):
    """Typing time: (input label lists, output label list) with '...' expanded
    to labels '0', '1', ... (right-aligned across operands)."""
    s = subs.replace(' ', '')
    if s.count('->') > 1:
        fail('einsum', "subscripts contain more than one '->'")
    ins, arrow, out = s.partition('->')
    terms = ins.split(',')
    if len(terms) != len(ndims):
        fail('einsum', '%d operands for %d subscript terms in %r'
             % (len(ndims), len(terms), subs))
    ells = []
    parsed = []
    for k, (t, nd) in enumerate(zip(terms, ndims)):
        if t.count('...') > 1 or (t.replace('...', '').count('.')):
            fail('einsum', 'invalid ellipsis in %r' % subs)
        labels = [c for c in t.replace('...', '')]
        bad = [c for c in labels if c not in _LETTERS]
        if bad:
            fail('einsum', 'invalid subscript %r in %r' % (bad[0], subs))
        if '...' in t:
            e = nd - len(labels)
            if e < 0:
                fail('einsum', 'operand %d has fewer dimensions than '
                     'subscripts in %r' % (k, subs))
            ells.append(e)
        elif len(labels) != nd:
            fail('einsum', 'operand %d has %d dimensions but %d subscripts '
                 'in %r' % (k, nd, len(labels), subs))
        parsed.append((t, labels))
    E = max(ells, default=0)
    inputs = []
    for (t, labels), nd in zip(parsed, ndims):
        if '...' in t:
            e = nd - len(labels)
            pre, post = t.split('...')
            inputs.append(list(pre) + [str(E - e + j) for j in range(e)] +
                          list(post))
        else:
            inputs.append(labels)
    ell = [str(j) for j in range(E)]
    seen = [c for term in inputs for c in term]
    if arrow:
        if out.count('...') > 1:
            fail('einsum', 'invalid ellipsis in output of %r' % subs)
        if '...' not in out and E:
            fail('einsum', "output has more dimensions than subscripts given "
                 "in einstein sum, but no '...' ellipsis provided to "
                 "broadcast the extra dimensions")
        pre, _, post = out.partition('...')
        outs = list(pre) + (ell if '...' in out else []) + list(post)
        for c in list(pre) + list(post):
            if c not in _LETTERS:
                fail('einsum', 'invalid output subscript %r in %r' % (c, subs))
            if c not in seen:
                fail('einsum', 'output subscript %r does not appear in the '
                     'inputs of %r' % (c, subs))
        if len(set(outs)) != len(outs):
            fail('einsum', 'output subscript repeated in %r' % subs)
    else:
        once = sorted(c for c in set(seen) if c in _LETTERS
                      and seen.count(c) == 1)
        outs = ell + once
    return inputs, outs


def _var(c):
    return ('e%s' % c) if c.isdigit() else c


@functools.lru_cache(maxsize=None)
def build(subs, kinds, rt):
    """The generated impl for operands of ``kinds`` ((is_array, ndim) each)."""
    ndims = [nd for _, nd in kinds]
    inputs, outs = parse(subs, ndims)
    labels = []
    for term in inputs:
        for c in term:
            if c not in labels:
                labels.append(c)
    summed = [c for c in labels if c not in outs]
    L = ['def einsum_impl(subscripts, *operands):']
    w = L.append
    for c in labels:
        w('    n_%s = 1' % _var(c))
    for k, ((arr, nd), term) in enumerate(zip(kinds, inputs)):
        w('    op%d = operands[%d]' % (k, k))
        for d, c in enumerate(term):
            v = _var(c)
            if c in term[:d]:       # repeated label: a diagonal
                w('    if op%d.shape[%d] != op%d.shape[%d]:' %
                  (k, d, k, term.index(c)))
                w('        raise ValueError("einsum: dimensions in operand '
                  '%d for collapsing index \'%s\' don\'t match")' % (k, c))
                continue
            w('    s = op%d.shape[%d]' % (k, d))
            w('    if s != 1:')
            w('        if n_%s != 1 and n_%s != s:' % (v, v))
            w('            raise ValueError("einsum: operands could not be '
              'broadcast together (subscript \'%s\')")' % c)
            w('        n_%s = s' % v)
    for k, ((arr, nd), term) in enumerate(zip(kinds, inputs)):
        if arr and nd:
            shape = ', '.join('n_%s' % _var(c) for c in term)
            w('    b%d = np.broadcast_to(op%d, (%s,))' % (k, k, shape))
    prod = []
    for k, ((arr, nd), term) in enumerate(zip(kinds, inputs)):
        if arr and nd:
            idx = ', '.join('i_%s' % _var(c) for c in term)
            prod.append('ACC(b%d[%s])' % (k, idx))
        elif arr:
            prod.append('ACC(op%d[()])' % k)
        else:
            prod.append('ACC(op%d)' % k)
    expr = ' * '.join(prod)
    if outs:
        w('    out = np.empty((%s,), RT)' %
          ', '.join('n_%s' % _var(c) for c in outs))
    ind = '    '
    for c in outs:
        w('%sfor i_%s in range(n_%s):' % (ind, _var(c), _var(c)))
        ind += '    '
    w('%sacc = ACC(0)' % ind)
    ind2 = ind
    for c in summed:
        w('%sfor i_%s in range(n_%s):' % (ind2, _var(c), _var(c)))
        ind2 += '    '
    w('%sacc += %s' % (ind2, expr))
    if outs:
        w('%sout[%s] = RT(acc)' % (ind, ', '.join('i_%s' % _var(c)
                                                  for c in outs)))
        w('    return out')
    else:
        w('    return RT(acc)')
    src = '\n'.join(L) + '\n'
    rtd = np.dtype(rt)
    acc = np.dtype(np.int64) if rtd.kind == 'b' else acc_dtype(rtd)
    g = {'np': np, 'RT': rtd.type, 'ACC': acc.type}
    exec(compile(src, '<npx.einsum %r>' % subs, 'exec'), g)
    fn = g['einsum_impl']
    fn.source = src
    return fn


@overload(npx.einsum, prefer_literal=True, jit_options=JIT)
def _einsum(subscripts, *operands):
    if not isinstance(subscripts, types.StringLiteral):
        fail('einsum', 'subscripts must be a compile-time constant string, '
             'got %s' % (subscripts,))
    if not operands:
        fail('einsum', 'no operands given')
    for t in operands:
        if not (is_array(t) or is_scalar(t)):
            fail('einsum', 'operands must be arrays or numbers, got %s' % (t,))
    kinds = tuple((is_array(t), t.ndim if is_array(t) else 0)
                  for t in operands)
    rt = np.result_type(*[dtype_of(t) for t in operands])
    return build(subscripts.literal_value, kinds, rt.str)
