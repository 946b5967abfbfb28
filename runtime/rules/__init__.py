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


#: function object -> tangent (forward-mode) template
TANGENTS = {}

#: adjoint templates whose every ``d[p]`` is ``g`` times a pointwise factor
#: (through ``unbroadcast``): their tangent template is derived, not written
POINTWISE = set()


def tangent(*fns):
    """Decorator: register a tangent (JVP) template under each of ``fns``.

    A tangent template mirrors an adjoint template without ``g``::

        @tangent(np.dot)
        def dot(ans, a, b, out=None):
            d[a] = npx.dot(t(a), b)
            d[b] = npx.dot(a, t(b))

    ``t(p)`` is the tangent of parameter ``p`` (for a sequence parameter,
    ``ts(p)`` is the tuple of its elements' tangents, zeros for constant
    elements); ``d[p] = e`` is p's contribution to the output's tangent.
    The compiler adds the contributions of the active arguments.  Each
    contribution has the output's shape unless the template is pointwise.
    """
    def register(template):
        for fn in fns:
            if fn in TANGENTS:
                raise ValueError('two tangent templates for %r' % (fn,))
            TANGENTS[fn] = template
        template.differentiates = fns
        return template
    return register


def pointwise(*templates):
    """Declare adjoint templates pointwise-linear in ``g``: each ``d[p]`` is
    ``g`` times an element-wise factor, summed to p's shape by
    ``unbroadcast``.  Their tangent is the same factor times ``t(p)``, which
    the compiler derives (:mod:`transpile.ad.templates`)."""
    POINTWISE.update(templates)


def lookup_tangent(fn):
    """The tangent template of ``fn`` (or its NumPy function): a registered
    one, else the pointwise adjoint template it derives from, else None."""
    try:
        t = TANGENTS.get(fn)
        if t is None:
            t = TANGENTS.get(canonical(fn))
    except TypeError:
        return None
    if t is not None:
        return t
    a = lookup(fn)
    return a if a in POINTWISE else None


def t(x):
    """Template notation: the tangent of ``x`` (never called)."""
    raise TypeError('t(x) is template notation (see runtime.rules.tangent)')


def ts(xs):
    """Template notation: the tangents of the elements of ``xs``."""
    raise TypeError('ts(x) is template notation (see runtime.rules.tangent)')


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

#: function object -> batching template (``vmap``'s vectorizing rules; the
#: notation is described in :mod:`runtime.rules.batching`)
BATCHING = {}

#: functions applied element by element (with NumPy broadcasting): batched by
#: lining up the ranks of their arguments after the batch axis
BATCH_ELEMENTWISE = set()


def vmap_rule(*fns, batched=()):
    """Decorator: register a batching template under each of ``fns``;
    ``batched`` names the parameters that may hold a batched value."""
    def register(template):
        for fn in fns:
            if fn in BATCHING:
                raise ValueError('two batching templates for %r' % (fn,))
            BATCHING[fn] = template
        template.batches = fns
        template.batched_params = tuple(batched)
        return template
    return register


def vmap_elementwise(*fns):
    """Declare ``fns`` element-wise for ``vmap`` (batched by broadcasting)."""
    BATCH_ELEMENTWISE.update(fns)


def lookup_batching(fn):
    """('elementwise', None), ('template', t) or (None, None) for ``fn`` (or
    the NumPy function of its ``npx`` twin)."""
    for f in (fn, canonical(fn)):
        try:
            if f in BATCH_ELEMENTWISE:
                return 'elementwise', None
            t = BATCHING.get(f)
        except TypeError:
            return None, None
        if t is not None:
            return 'template', t
    return None, None

# Register the families (each module imports `adjoint`, `d` from here).
from runtime.rules import (  # noqa: E402,F401
    elementwise, scalar, reductions, linalg, shape, indexing, helpers, batching, random, creation,
    sequences)


def _nondifferentiable_twins():
    """The ``runtime.npx`` twins of non-differentiable NumPy functions
    (``npx.argmax`` for ``x.argmax()``) are non-differentiable too."""
    from runtime import npx
    NONDIFFERENTIABLE.update(twin for fn, twin in npx.NUMPY_TWINS.items()
                             if fn in NONDIFFERENTIABLE)


_nondifferentiable_twins()
