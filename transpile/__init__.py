"""transpile: NumPy code in, JAX's transformations out, by source transformation.

    import transpile as tp

    @tp.jit
    def f(x):
        if x.sum() > 0:         # Python semantics: an `if` on a value just works
            return np.sin(x)
        return x ** 2
"""
from ._version import __version__  # noqa: F401
from . import _malloc  # noqa: E402,F401  (glibc keeps heap slack: see transpile/_malloc.py)

from .api import jit  # noqa: E402
from .ad_api import grad, stop_gradient, value_and_grad, vjp  # noqa: E402
from .derivatives import hessian, jacfwd, jacrev, jvp, linearize  # noqa: E402
from .vmap_api import vmap  # noqa: E402
from . import random  # noqa: E402,F401  (tp.random)
from .tree import (  # noqa: E402
    register_pytree_node, tree, tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten)
from .errors import (  # noqa: E402
    SourceUnavailableError, TranspileError, TranspileNameError, TranspileTypingError,
    UnsupportedArgumentError, UnsupportedSyntaxError)

__all__ = ["jit", "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "hessian", "vmap", "stop_gradient", "tree_map", "tree_flatten",
           "tree_unflatten", "tree_leaves", "tree_structure", "register_pytree_node", "tree", "TranspileError", "SourceUnavailableError", "UnsupportedSyntaxError",
           "TranspileNameError", "TranspileTypingError", "UnsupportedArgumentError"]
