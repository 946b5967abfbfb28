"""The registry of rule templates (the format is described in
:mod:`runtime.rules`): the tables keyed by the function a template
differentiates or batches, the decorators that fill them (``adjoint``,
``tangent``, ``vmap_rule``, ...), the lookups, and the template notation
``d``, ``t``, ``ts``.

The family modules (``elementwise``, ``reductions``, ``batching``, ...)
import their decorators from here; :mod:`runtime.rules` imports the
families, so that importing it registers every template.
"""
from runtime import npx

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
