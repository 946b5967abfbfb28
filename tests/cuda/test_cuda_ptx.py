"""The generated kernels compile for a real GPU (Numba-CUDA's typing and
PTX for compute capability 9.0), checked without a GPU in a process of its
own (cuda_ptx_check.py): the CUDA simulator runs Python and types nothing,
so `np.exp` on a number or `np.zeros` in a kernel would pass there."""
import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.nocuda
@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None, reason="numba-cuda is not installed")
def test_generated_kernels_compile_to_ptx():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "cuda_ptx_check.py")],
                          capture_output=True, text=True, env=env, timeout=600)
    out = proc.stdout + proc.stderr
    if proc.returncode == 0 and out.startswith("SKIP"):
        pytest.skip(out.strip()[5:])
    assert proc.returncode == 0, out
    assert out.count("OK ") == 11, out
