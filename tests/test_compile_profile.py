"""tools/compile_profile.py measures; this checks the shape of what it reports,
never a timing: every column present, no negative part, parts adding up to
the total."""
import importlib.util
import os
import time

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "compile_profile.py")
_spec = importlib.util.spec_from_file_location("compile_profile", _PATH)
cp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cp)

_TOL = 0.05     # seconds: the parts are measured apart from the total


def _check(result, name):
    assert result["name"] == name
    columns = [c for c, _ in cp.COLUMNS] + ["other"]
    assert set(result["parts"]) == set(columns)
    assert result["total"] > 0
    for column in columns:
        assert result["parts"][column] >= -_TOL, (column, result["parts"])
    named = sum(v for c, v in result["parts"].items() if c != "other")
    assert named <= result["total"] + _TOL
    assert abs(sum(result["parts"].values()) - result["total"]) < 1e-9
    assert all(v >= 0 for v in result["phases"].values()), result["phases"]
    for key in ("compiled", "generated", "pipelines", "cache_hits"):
        assert isinstance(result[key], int) and result[key] >= 0, key
    assert set(result["by_origin"]) == {"generated", "runtime", "numba", "other"}
    assert sum(result["by_origin"].values()) == result["compiled"]
    assert sum(result["compiled_functions"].values()) == result["compiled"]


def test_cold_breakdown_of_one_workload():
    result = cp.breakdown("selu")
    _check(result, "selu")
    assert result["mode"] == "cold"
    assert result["generated"] >= 1             # the generated entry was compiled, not loaded
    assert result["cache_hits"] == 0
    for phase in ("import_numpy", "import_transpile", "import_numba", "generate", "typing", "lowering"):
        assert result["phases"].get(phase, 0.0) > 0, phase


def test_warm_breakdown_loads_from_the_disk_cache():
    result = cp.breakdown("selu", warm=True)
    _check(result, "selu")
    assert result["mode"] == "warm"
    assert result["cache_hits"] >= 1


def test_phases_are_exclusive():
    phases = cp.Phases()
    phases.push("outer")
    time.sleep(0.02)
    phases.push("inner")
    time.sleep(0.02)
    phases.pop()
    phases.push("llvm_opt")
    phases.pop()
    phases.pop()
    assert 0.015 < phases.totals["outer"] < 5
    assert 0.015 < phases.totals["inner"] < 5
    phases.push("cache_load")
    phases.push("llvm_codegen")     # code linked in by a cache load counts as the load
    phases.pop()
    phases.pop()
    assert "llvm_codegen" not in phases.totals
