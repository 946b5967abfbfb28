"""Checks in processes of their own: the generated kernels compile for a
real GPU (Numba-CUDA's typing and PTX for compute capability 9.0, without a
GPU: cuda_ptx_check.py; the CUDA simulator runs Python and types nothing, so
`np.exp` on a number or `np.zeros` in a kernel would pass there), and
tools/bench_cuda.py runs under the simulator."""
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


@pytest.mark.nocuda
@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None, reason="numba-cuda is not installed")
def test_bench_cuda_runs_under_the_simulator():
    """tools/bench_cuda.py --sim-smoke: the benchmark's code on tiny sizes (it needs a GPU to
    measure anything, so this keeps it from rotting where there is none)."""
    tool = os.path.join(HERE, "..", "..", "tools", "bench_cuda.py")
    proc = subprocess.run([sys.executable, tool, "--sim-smoke"], capture_output=True, text=True,
                          env=dict(os.environ, NUMBA_ENABLE_CUDASIM="1"), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(" ok") == 2, proc.stdout
