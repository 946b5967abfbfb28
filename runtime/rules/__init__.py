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

#: function object -> template function
ADJOINTS = {}

#: function objects whose outputs have zero gradient
NONDIFFERENTIABLE = set()


def adjoint(*fns):
    """Decorator: register the template under each of ``fns``; returns it
    unchanged."""
    def register(template):
        for fn in fns:
            if fn in ADJOINTS:
                raise ValueError('two adjoint templates for %r' % (fn,))
            ADJOINTS[fn] = template
        template.differentiates = fns
        return template
    return register


def nondifferentiable(*fns):
    """Declare that the outputs of ``fns`` have zero gradient."""
    NONDIFFERENTIABLE.update(fns)


def _twins():
    from runtime import npx
    back = {}
    for np_fn, twin in npx.NUMPY_TWINS.items():
        back.setdefault(twin, np_fn)
    return back


def canonical(fn):
    """The NumPy function an ``npx`` twin stands for (else ``fn`` itself)."""
    try:
        return _twins().get(fn, fn)
    except TypeError:           # unhashable
        return fn


def lookup(fn):
    """The template registered for ``fn`` (or for the NumPy function of the
    ``runtime.npx`` twin ``fn``), else None."""
    try:
        t = ADJOINTS.get(fn)
    except TypeError:
        return None
    if t is None:
        t = ADJOINTS.get(canonical(fn))
    return t


def is_nondifferentiable(fn):
    """True when ``fn`` (or the NumPy function of its twin) is declared
    non-differentiable."""
    try:
        return fn in NONDIFFERENTIABLE or canonical(fn) in NONDIFFERENTIABLE
    except TypeError:
        return False


class _D:
    """The ``d`` of templates: ``d[x] = v`` reads "add v to the cotangent of
    x".  The compiler rewrites these statements; executing one is an error
    unless :meth:`recording` is active (the eager test harness), which logs
    ``(x, v)`` pairs."""

    def __init__(self):
        self._logs = []

    def recording(self):
        """Context manager: inside it, ``d[x] = v`` appends ``(x, v)`` to the
        list it yields."""
        import contextlib

        @contextlib.contextmanager
        def rec():
            log = []
            self._logs.append(log)
            try:
                yield log
            finally:
                self._logs.remove(log)
        return rec()

    def __setitem__(self, x, v):
        if not self._logs:
            raise TypeError('d[x] = ... is template notation: the compiler '
                            'inlines the template (see runtime.rules)')
        self._logs[-1].append((x, v))

    def __getitem__(self, x):
        raise TypeError('d[x] can only be assigned in a template')


d = _D()

# Register the families (each module imports `adjoint`, `d` from here).
from runtime.rules import (  # noqa: E402,F401
    elementwise, scalar, reductions, linalg, shape, indexing)
