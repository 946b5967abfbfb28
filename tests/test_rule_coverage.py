"""Every differentiable function has its three rules: an adjoint (reverse mode),
a tangent (forward mode), and a batching rule (vmap), or a named reason in
tools/rule_coverage.py's LOOP_BATCHED for being batched by the per-example loop."""
import importlib.util
import os

import pytest

from runtime import rules

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "rule_coverage.py")
_spec = importlib.util.spec_from_file_location("rule_coverage", _PATH)
rc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rc)

DIFFERENTIABLE = [(name, fn) for name, fn in rc.functions() if rules.lookup(fn) is not None]


def test_the_table_has_differentiable_functions():
    assert len(DIFFERENTIABLE) > 100


@pytest.mark.parametrize("name, fn", DIFFERENTIABLE, ids=[n for n, _ in DIFFERENTIABLE])
def test_every_adjoint_has_a_tangent(name, fn):
    assert rc.tangent_status(fn) in ("rule", "derived"), f"{name}: no tangent rule (forward mode)"


@pytest.mark.parametrize("name, fn", DIFFERENTIABLE, ids=[n for n, _ in DIFFERENTIABLE])
def test_every_adjoint_has_a_batching_rule_or_a_reason(name, fn):
    batched = rc.batching_status(fn)
    if batched == "loop":
        assert name in rc.LOOP_BATCHED, f"{name}: no batching rule, and no reason in LOOP_BATCHED"
    else:
        assert name not in rc.LOOP_BATCHED, f"{name} has a batching rule: remove it from LOOP_BATCHED"


def test_the_table_prints():
    rows = rc.table()
    assert all(len(r) == 5 for r in rows)
    sin = next(r for r in rows if r[0] == "np.sin")
    assert sin[1:4] == ("rule", "derived", "elementwise") and sin[4] == "elementwise.sin"
