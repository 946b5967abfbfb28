"""The CUDA backend's tests run on a GPU when one is present, else under
Numba's CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`), which must be chosen
before `numba.cuda` is first imported: this file is imported when pytest
collects tests/cuda, before any of its tests, and nothing before it imports
numba.cuda. `NUMBA_ENABLE_CUDASIM` set by the caller is left as it is.
Without numba-cuda the tests are skipped (with the reason)."""
import ctypes
import os
import sys

import pytest


def _gpu_present():
    """A CUDA driver with at least one device (asked without importing numba.cuda)."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return lib.cuInit(0) == 0 and lib.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0


if "numba.cuda" not in sys.modules and "NUMBA_ENABLE_CUDASIM" not in os.environ:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "0" if _gpu_present() else "1"

try:
    from numba import cuda
    from numba.cuda.core import config as _cuda_config
    SIMULATOR = bool(_cuda_config.ENABLE_CUDASIM)
    REASON = None if SIMULATOR or cuda.is_available() else \
        "no GPU, and numba.cuda was imported before tests/cuda could choose the CUDA simulator"
except ImportError as exc:      # no numba-cuda (pip install -e '.[test]' installs it)
    SIMULATOR = None
    REASON = f"numba-cuda is not installed ({exc})"


def pytest_configure(config):
    config.addinivalue_line("markers", "nocuda: a CUDA-backend test that needs neither numba-cuda "
                                       "nor a GPU (transform-time checks, generated source)")


def pytest_collection_modifyitems(config, items):
    if REASON is None:
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here) and "nocuda" not in item.keywords:
            item.add_marker(pytest.mark.skip(reason=REASON))


def pytest_report_header(config):
    if REASON is not None:
        return f"cuda tests: skipped ({REASON})"
    return "cuda tests: " + ("CUDA simulator" if SIMULATOR else f"GPU {cuda.get_current_device().name}")
