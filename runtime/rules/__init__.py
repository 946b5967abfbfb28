"""Derivative rules: reverse-mode templates keyed by the function they
differentiate.

A template is a plain Python function, registered beside its definition::

    @adjoint(np.multiply)
    def multiply(g, ans, x1, x2):
        d[x1] = unbroadcast(g * x2, x1)
        d[x2] = unbroadcast(g * x1, x2)

* ``g`` is the cotangent of the output (shaped like it), ``ans`` the primal
  output; then the function's own parameters with NumPy's names, order and
  defaults, so that the compiler binds the user's call to the template's
  signature and an unsupported keyword is an error at the user's line.
  Multi-output functions (``np.linalg.slogdet``) get ``g`` and ``ans`` as
  tuples, one entry per output (unused cotangents are zeros).
* The body is straight-line: assignments to temporaries, and
  ``d[param] = expr``, meaning "add ``expr`` to the cotangent of ``param``".
  Each ``d[...]`` expression stands on its own (the compiler drops those of
  arguments that need no gradient).  Names are parameters, temporaries,
  ``np``, ``math`` and the helpers the template module imports by name from
  :mod:`runtime.adjoint`.  Branching on types or axes lives in those helpers.
* Sequence arguments: ``np.concatenate``/``np.stack`` take ``arrays`` and
  ``np.einsum`` takes ``*operands``; their templates write ``d[arrays] = t``
  (``d[operands] = t``) with ``t`` a tuple of cotangents, one per element,
  which the compiler splits.
* Every body runs eagerly with NumPy and, inlined into generated code,
  compiles under ``@numba.njit`` (after ``import runtime.numba_impl``) for
  float64 arrays of ndim 0-3 and float scalars.

``NONDIFFERENTIABLE`` holds the functions whose outputs carry no gradient
(comparisons, rounding, argmax, ...).  :func:`lookup` finds a template,
mapping the :mod:`runtime.npx` twins that generated code calls back to their
NumPy function.  Importing this package registers every family module:
elementwise, scalar (math and builtins), reductions, linalg, shape,
indexing.
"""

from runtime import npx
# The registry (runtime/rules/registry.py), as `runtime.rules.lookup`, `runtime.rules.ADJOINTS`, ...
from runtime.rules.registry import (  # noqa: F401
    ADJOINTS, BATCH_ELEMENTWISE, BATCHING, NONDIFFERENTIABLE, POINTWISE, TANGENTS, adjoint, canonical, d,
    is_nondifferentiable, lookup, lookup_batching, lookup_tangent, nondifferentiable, pointwise, t, tangent, ts,
    vmap_elementwise, vmap_rule)
# Register the families (each imports its decorators from runtime.rules.registry).
from runtime.rules import (  # noqa: F401
    elementwise, scalar, reductions, linalg, shape, indexing, helpers, batching, random, creation,
    sequences)


def _nondifferentiable_twins():
    """The ``runtime.npx`` twins of non-differentiable NumPy functions
    (``npx.argmax`` for ``x.argmax()``) are non-differentiable too."""
    NONDIFFERENTIABLE.update(twin for fn, twin in npx.NUMPY_TWINS.items()
                             if fn in NONDIFFERENTIABLE)


_nondifferentiable_twins()
