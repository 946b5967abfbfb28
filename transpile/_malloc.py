"""One setting of glibc's allocator, made when transpile is imported.

Batched code (vmap, and the Jacobians built on it) works on large
temporaries: a (400, 400) float64 array is 1.25 MB. glibc gives memory at
the top of its heap back to the operating system as soon as a little is
free there, so each call allocates those temporaries afresh and pays a page
fault for every 4 KB page it touches again. Measured on `jit(jacrev)` of an
R^8 -> R^400 function: 11.8 ms a call, 2.6 ms with the heap keeping 64 MB
of slack at its top (`M_TOP_PAD`). XLA avoids the same cost with its own
allocator.

The slack is address space the heap keeps, touched only when used. Set
`TRANSPILE_MALLOC_TOP_PAD` (bytes; 0 leaves glibc's default) before
importing transpile to change it. Other C libraries than glibc are left
alone.
"""
import ctypes
import os
import sys

M_TOP_PAD = -2      # glibc's mallopt parameter number
DEFAULT_TOP_PAD = 64 << 20


def tune():
    """Set glibc's M_TOP_PAD; returns the value set, or None when nothing was."""
    try:
        pad = int(os.environ.get("TRANSPILE_MALLOC_TOP_PAD", DEFAULT_TOP_PAD))
    except ValueError:
        return None
    if pad <= 0 or not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):    # not glibc (musl, ...)
        return None
    return pad if mallopt(M_TOP_PAD, pad) == 1 else None


TOP_PAD = tune()
