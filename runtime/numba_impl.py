"""Import to register the Numba implementations of every runtime helper."""
from . import numba_at, numba_checks, numba_tape  # noqa: F401

try:
    from . import numba_npx  # noqa: F401
except ImportError:  # pragma: no cover - being written
    pass
