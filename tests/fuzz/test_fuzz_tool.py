"""The fuzzer's own parts: the generator covers every feature, is deterministic, and the oracle judges."""
import tempfile

import numpy as np
import pytest

from . import fuzz_tool


def test_generator_is_seeded_and_covers_every_feature():
    fz = fuzz_tool()
    w = fz.feature_weights()
    with tempfile.TemporaryDirectory() as d:
        used = set()
        for k in range(60):
            p = fz.make_program(11, k, w, d)
            used |= set(p.used)
        again = fz.make_program(11, 5, w, d)
        assert again.source == fz.make_program(11, 5, w, d).source
    missing = set(fz.FEATURES) - used - {"argmut"}     # argmut shows as aliases/inplace writes into x
    assert not missing, f"features never generated in 60 programs: {sorted(missing)}"


def test_features_can_be_switched_off():
    fz = fuzz_tool()
    w = fz.feature_weights(["rebinding"])
    with tempfile.TemporaryDirectory() as d:
        for k in range(15):
            p = fz.make_program(12, k, w, d)
            assert set(p.used) <= {"rebinding", "temporaries"}, (p.used, p.source)


def test_finite_difference_oracle_judges_and_skips_kinks():
    fz = fuzz_tool()
    D = np.array([1.0, 2.0, 3.0])
    assert fz.compare_fd("g", D, D, D + 1e-9)
    with pytest.raises(fz.Verdict) as e:
        fz.compare_fd("g", np.array([1.0, 2.5, 3.0]), D, D)
    assert e.value.cls == "wrong" and e.value.key == "fd"
    # entry 1 at a kink (the two steps disagree): not judged, so a wrong value there passes
    D2 = np.array([1.0, 7.0, 3.0])
    assert fz.compare_fd("g", np.array([1.0, -5.0, 3.0]), D, D2)
    # every entry at a kink: nothing judged
    assert not fz.compare_fd("g", np.zeros(2), np.array([1.0, 1.0]), np.array([5.0, -5.0]))


def test_a_wrong_transformation_is_caught(monkeypatch):
    """Replace tp.grad by a broken one: the grad check says wrong, a mutating one says mutation."""
    fz = fuzz_tool()
    import transpile as tp
    src = "import numpy as np\n\n\ndef f(x):\n    return np.sin(x).sum()\n"
    with tempfile.TemporaryDirectory() as d:
        path, modname = fz.write_module(d, "oracle", src)
        args, batch = (np.array([0.1, 0.2, 0.3]),), [(np.array([0.3, 0.2, 0.1]),)] * 3
        res = fz.run_checks(path, modname, args, batch, 0, (), ["grad", "vjp"])
        assert [r["cls"] for r in res] == ["agree", "agree"], res
        monkeypatch.setattr(tp, "grad", lambda f, argnums=0: lambda x: np.cos(x) * 1.01)
        assert fz.run_checks(path, modname, args, batch, 0, (), ["grad"])[0]["key"] == "wrong:fd"

        def mutating(f, argnums=0):
            def g(x):
                x[0] = 5.0
                return np.cos(x)
            return g
        monkeypatch.setattr(tp, "grad", mutating)
        r = fz.run_checks(path, modname, args, batch, 0, (), ["grad"])[0]
        assert r["key"] in ("wrong:fd", "wrong:mutation:input-written"), r
