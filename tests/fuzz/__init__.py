"""The differential fuzzer's tests: a bounded slice of tools/fuzz.py, and its saved regressions."""
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_NAME = "transpile_fuzz_tool"


def fuzz_tool():
    """tools/fuzz.py as a module (loaded by path: tools/ is not a package)."""
    mod = sys.modules.get(_NAME)
    if mod is None:
        spec = importlib.util.spec_from_file_location(_NAME, os.path.join(ROOT, "tools", "fuzz.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = mod
        spec.loader.exec_module(mod)
    return mod
