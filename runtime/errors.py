"""The base of every error about a user's function: a message plus the user's file and line.

It lives in `runtime/` (below everything) so that checks made by generated code when it
runs (an alias that cannot be followed) raise the same `TranspileError` as the checks made
when it is generated; `transpile.errors` re-exports it with its subclasses. The same goes
for `TranspileWarning` (runtime/numba_nep50.py warns with it when compiled code runs).
"""
import re


class Location:
    """Where in the user's source something happened."""

    __slots__ = ("filename", "lineno", "text", "funcname")

    def __init__(self, filename, lineno, text="", funcname=None):
        self.filename = filename
        self.lineno = lineno
        self.text = (text or "").strip()
        self.funcname = funcname

    def __str__(self):
        where = f'File "{self.filename}", line {self.lineno}'
        if self.funcname:
            where += f", in {self.funcname}"
        return where + (f"\n    {self.text}" if self.text else "")

    def short(self):
        import os

        return f"{os.path.basename(self.filename)}:{self.lineno}"

    def __repr__(self):
        return f"Location({self.filename!r}, {self.lineno!r}, {self.text!r})"


class TranspileError(Exception):
    """Base class: a message plus the user's location (may be None)."""

    def __init__(self, message, location=None):
        self.message = message
        self.location = location
        super().__init__(self._format())
        _location_attrs(self, location)

    def _format(self):
        if self.location is None:
            return self.message
        return f"{self.message}\n  {self.location}"



class CheckError(TranspileError):
    """A `TranspileError` raised by generated code when it runs (compiled code
    raises it with one string, which ends in "(at FILE:LINE)": that becomes its
    location)."""

    def __init__(self, message, location=None):
        m = re.search(r"\(at ([^()]+):(\d+)\)$", message) if location is None else None
        if m is not None:
            message, location = message[:m.start()].rstrip(), Location(m.group(1), int(m.group(2)))
        super().__init__(message, location)


def _location_attrs(err, location):
    err.filename = location.filename if location else None
    err.lineno = location.lineno if location else None
    err.text = location.text if location else None


class TranspileWarning(UserWarning):
    """Generated code will run, but not exactly as NumPy would; the message
    says how, and is reported at the user's line when the code is generated."""
