"""Shrunk fuzzer failures (tests/fuzz/regressions/case_*.py), each replayed against its oracle.

`python tools/fuzz.py --save` writes them: one small module per failure holding
the program (`f` and its helpers), the inputs (ARGS, BATCH, IN_AXES), the
transformation (CHECK) and how it failed when found (FOUND). A case passes when
the check agrees with its oracle, or refuses with a TranspileError at the
program's line; it fails (wrong or crash) until the bug is fixed, then guards it.
Cases of tp.jit (jit, jit_grad, cache) compile with Numba and are marked slow.
"""
import glob
import os

import pytest

from . import fuzz_tool

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = sorted(glob.glob(os.path.join(HERE, "regressions", "case_*.py")))
JIT_CHECKS = ("jit", "jit_grad", "cache")


def _param(path):
    name = os.path.basename(path)[:-3]
    check = name[len("case_"):]
    slow = any(check.startswith(c + "_") for c in JIT_CHECKS)
    return pytest.param(path, id=name, marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("path", [_param(p) for p in CASES])
def test_fuzz_regression(path):
    res = fuzz_tool().check_regression_file(path)
    if res["cls"] not in ("agree", "refused", "skipped"):
        pytest.fail(f"{os.path.basename(path)}: {res['check']} is {res['cls']} ({res['key']})\n{res['msg']}",
                    pytrace=False)
