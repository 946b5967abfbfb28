"""A bounded slice of the differential fuzzer (tools/fuzz.py), run by default.

Each chunk generates fixed-seed programs that use every promised feature and
checks grad, value_and_grad, vjp, jacfwd, jacrev, jvp, hessian and vmap (eager)
against finite differences, each other and the per-example loop; the slow slice
checks tp.jit, jit(grad) and a second process against eager NumPy. A refusal
(TranspileError at the user's line) is allowed; a wrong number, shape, dtype or
mutated input, or any other exception, fails with the program and the failure.

To reproduce a chunk: python tools/fuzz.py --n N --seed S --show-failures
(add --save to shrink the failures into tests/fuzz/regressions/).
"""
import pytest

from . import fuzz_tool

EAGER_CHUNKS = [(101, 20), (102, 20), (103, 20)]   # (seed, programs): 60 programs


def _assert_clean(summary, seed, n, jit=False):
    if summary.wrong or summary.crash:
        cmd = f"python tools/fuzz.py --n {n} --seed {seed}{' --jit' if jit else ''} --show-failures"
        pytest.fail(f"{summary.line()}\nreproduce: {cmd}\n{summary.report(show_failures=True)}",
                    pytrace=False)


@pytest.mark.parametrize("seed,n", EAGER_CHUNKS, ids=[f"seed{s}" for s, _ in EAGER_CHUNKS])
def test_fuzz_eager_slice(seed, n):
    summary = fuzz_tool().run_fuzz(n, seed=seed, jit=False, log=lambda s: None)
    assert summary.programs == n
    _assert_clean(summary, seed, n)


@pytest.mark.slow
def test_fuzz_jit_slice():
    seed, n = 201, 6
    summary = fuzz_tool().run_fuzz(n, seed=seed, jit=True, cache_share=0.5, log=lambda s: None)
    assert summary.programs == n
    _assert_clean(summary, seed, n, jit=True)
