"""Errors that point at the user's code.

Every error transpile raises about a user's function is a `TranspileError`
carrying the user's file, line and source text, so a message reads

    transpile.errors.UnsupportedSyntaxError: `with` statements are not supported
      File "model.py", line 12, in loss
        with open(path) as fh:

Subclasses also derive from the builtin a Python user would expect
(a failed Numba type inference is `TranspileTypingError`, also a `TypeError`;
an undefined name is `TranspileNameError`, also a `NameError`).
"""
from runtime.errors import CheckError, Location, TranspileError, TranspileWarning, _location_attrs  # noqa: F401
from runtime.nep50 import JitDifferenceError  # noqa: F401 (re-exported, as are those above)


class SourceUnavailableError(TranspileError, TypeError):
    """The function has no Python source that transpile can read."""


class UnsupportedSyntaxError(TranspileError):
    """The fence rejected a construct (with, try, yield, ...)."""


class TranspileNameError(TranspileError, NameError):
    """A name in the user's function is not defined anywhere."""


class TranspileTypingError(TranspileError, TypeError):
    """Numba could not type the generated code; reported at the user's line."""

    def __init__(self, message, location=None, backend_message=None):
        self.backend_message = backend_message
        super().__init__(message, location)


class UnsupportedArgumentError(TranspileError, TypeError):
    """An argument of a kind the backend cannot take (yet)."""


class TranspileInternalError(TranspileError, RuntimeError):
    """A bug in transpile. The message says which pass failed."""


def warn_at(message, location):
    """Warn with `TranspileWarning` at the user's file and line."""
    import warnings
    if location is None:
        warnings.warn(message, TranspileWarning, stacklevel=3)
    else:
        warnings.warn_explicit(message, TranspileWarning, location.filename, location.lineno)
