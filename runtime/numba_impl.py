"""Import to register the Numba implementations of every runtime helper."""
from . import numba_at, numba_checks, numba_tape  # noqa: F401
from . import numba_npx  # noqa: F401  (the NumPy twins of runtime.npx)
from . import numba_adjoint  # noqa: F401,E402  (helpers of runtime.rules)
from . import numba_tangent  # noqa: F401,E402  (helpers of forward mode)
from . import numba_random  # noqa: F401,E402  (tp.random)
from . import numba_batching  # noqa: F401,E402  (helpers of vmap)
from . import numba_creation  # noqa: F401,E402  (helpers of runtime.rules.creation)
from . import numba_nep50  # noqa: F401,E402  (NumPy 2's rules for Python numbers)
