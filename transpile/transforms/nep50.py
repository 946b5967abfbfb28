"""NEP 50: Python numbers keep NumPy 2's semantics in code compiled by Numba.

NumPy 2 treats a Python int, float or complex as *weak* (NEP 50): `x * 2.0`
stays float32 for a float32 `x`, and `n * n` on Python ints never overflows.
Numba types a Python float as float64 and a Python int as int64. This pass
(plain `jit`, backend 'numba') finds which values of the user's program are
Python numbers and converts the Python number of each operation that mixes
one with a NumPy value as NumPy would, and checks each Python int operation
that can overflow (`runtime.nep50`)::

    y = x * 2.0              ->  y = x * nep50.mul_rhs(x, 2.0, 'f.py:3')
    z = 1.0 - np.exp(x)      ->  z = nep50.sub_lhs(1.0, np.exp(nep50.probe(x)), 'f.py:4') - np.exp(x)
    s = s + x[i] * 0.1       ->  s = s + x[i] * nep50.mul_rhs(nep50.probe_index(x, 1), 0.1, 'f.py:5')
    m = n * n * n            ->  m = nep50.mul_py(nep50.mul_py(n, n, 'f.py:6'), n, 'f.py:6')
    w = np.maximum(x, 0.0)   ->  w = np.maximum(x, nep50.maximum_rhs(x, 0.0, 'f.py:7'))
    v = x.sum() * 0.5        ->  v = nep50.mul_r(npx.sum(x), 0.5, 'f.py:8')
    x += 0.1                 ->  x += nep50.add_inplace(x, 0.1, 'f.py:9')
    a / b   (a NumPy value)  ->  unchanged, no ZeroDivisionError check: NumPy gives inf

The operation itself stays, so Numba still fuses array expressions; the
conversion helper needs only the other operand's type, which a *probe*
gives: the other operand's expression over empty arrays (`nep50.probe(x)`)
and zero scalars. A probe expression is written as one call,
`nep50.typed('np.exp(nep50.probe(_0)) * _1', x, 2.0)`, whose type Numba finds
while typing it (each operation resolved as type inference resolves it) and
which computes nothing: the probe expressions of nested operations repeat
their operands' probes, and compiled they cost more than the operation. An
operand that cannot be mirrored that way (a call of a
user function or a method, a subscript by an array) makes the whole
operation a helper (`nep50.mul_r(a, b, where)`), which costs a temporary
array for array operands.

A value is a Python number (*weak*) when it is a literal, a parameter the
call passed a Python number for (the dispatcher specializes on that), a
global or closure number read at call time, `len(...)`, `x.shape[i]`,
`x.size`, `x.ndim`, a `range` index, `int()`/`float()`/`math.*` of anything,
an operation on weak values only, or a local whose every assignment is weak
(found by a fixed point, across the program's functions). A local assigned
both weak and NumPy values is *mixed*: NumPy changes its type as the program
runs and Numba cannot, so a weak float assigned to it that float32 holds
exactly is written `np.float32(v)`, letting Numba's unification give it the
NumPy value's type (`s = 0.0; s = s + x[i]` accumulates in float32 for a
float32 `x`, as NumPy does). Where the one type would still show, the code
refuses when it runs (`JitDifferenceError` at the user's line), decided
while Numba types it::

    total = total + x[i]     ->  total = nep50.mixed(total, <probe of x[i]>, 'i', 'add', True, 'total', w) + x[i]
                                 nep50.mixed_bound(total, 'int64', 'total', w)

`mixed` compares NumPy's result dtype with `total` a Python number against
Numba's with `total` of its type there (int8 against int64 for an int8 `x`);
`mixed_bound` checks that merging the value's type with the Python numbers'
(as Numba does where paths join) keeps it. Likewise `max(a, b)` of two types
(Python returns one of them unchanged), and `t op= v` on a local becomes
`t = nep50.add_iop(t, v, w)`: in place for an array, NumPy's dtype for a
scalar (Numba computes an int8 `t + v` in int64).

Operations on NumPy values (and Python floats, so that one text serves both)::

    y = x * t                ->  y = nep50.mul_settle(nep50.mul_promote_l(x, probe(t), True, w)
                                        * nep50.mul_promote_r(probe(x), t, True, w), <probes>, -1, w)
    z = (a + a) == 1         ->  z = np.add(a, a) == 1
    r = np.sin(x)            ->  r = nep50.ufunc_settle(np.sin(nep50.ufunc_arg(x, 'sin', w)), ...)

An operation inside an array expression becomes its ufunc (Numba computes a
fused operator by its *scalar* rules: bool + bool is an int there, -x of an
unsigned int negative; a ufunc by its loop, as NumPy); an operand that is a
name is converted to the dtype NumPy computes in where Numba's promotion
differs (`promote`: an array with a NumPy scalar of another kind); the
operation at the top of an expression is *settled*: a scalar result
converted to NumPy's dtype (int8 + int8 wraps), anything else that differs
a TypingError at the user's line. `nep50.narrow` warns (at run time: Numba's
disk cache skips typing) where a signed integer narrower than 64 bits may
overflow inside an array expression (Numba's `nsw` lets LLVM assume it does not).

Division by zero: only an operation on two weak values gets the Python
ZeroDivisionError check (the `checks` pass adds it); an operation with a
NumPy value is marked `divisor_checked` and gives inf or nan, as NumPy does.

Invariant established: in every arithmetic operation, single comparison and
binary ufunc call whose operands are one weak and one non-weak value, the
weak one goes through a `nep50` conversion helper (or the whole operation
through a `nep50` helper), and so does every `+ - * ** <<` of two weak
values that may be ints.

Where the parts live: transforms/nep50_analysis.py holds the states and the
analysis of one function (`_Function`); transforms/nep50_program.py its
fixed point across the program's functions (`analyze`, which copies a
function called with Python numbers at some call sites and NumPy values at
others) and the names that may hold non-numbers. The rewriter `_Rewrite`,
with its helper calls and probes, is in transforms/nep50_rewrite.py; its
rules are the mixins of nep50_operators.py (operators, comparisons),
nep50_calls.py (calls, f-strings) and nep50_mixed.py (assignments, in-place
operators, mixed locals), and the texts it writes (probe templates, `where`)
come from nep50_template.py. This module runs them all (`run`).
"""
import gast

from .nep50_program import _non_numeric_names, analyze
from .nep50_rewrite import _Rewrite


def run(program, options):
    """Rewrite every function of `program` (plain jit, backend 'numba')."""
    weak_args = options.get("weak_args", {})
    fns = analyze(program, weak_args)
    _non_numeric_names(program, fns, set(options.get("nonnumeric_args", ())))
    uses = False
    for spec, fn in fns.items():
        rewrite = _Rewrite(program, fn, "nep50")
        spec.node = rewrite.visit(spec.node)
        program.nep50_sensitive = getattr(program, "nep50_sensitive", False) or fn.sensitive
        uses = uses or any(isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name)
                           and n.value.id == "nep50" for n in gast.walk(spec.node))
    if uses:
        program.imports.setdefault("runtime.nep50", "nep50")
    return program
