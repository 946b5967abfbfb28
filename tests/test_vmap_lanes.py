"""tp.jit(tp.vmap(f)) of examples that are numbers, where f has a loop whose
trip count does not depend on the example: the lanes form
(transpile/batching/lanes.py) runs f's loop once and every example in each
iteration. It must give the per-example loop's numbers bit for bit (the same
operations on each example, in the same order), and fall back to that loop
where it does not apply.
"""
import numpy as np
import pytest

import transpile as tp

RNG = np.random.default_rng(7)


def loop_of(f, **kw):
    return tp.jit(tp.vmap(f, strategy="loop", **kw))


def lanes_of(f, args, **kw):
    g = tp.jit(tp.vmap(f, **kw))
    assert "def lanes_" in g.source(*args), g.source(*args)
    return g


# -- user functions --------------------------------------------------------------
def oscillator(k, c):
    x = 1.0
    v = 0.0
    t = 0.0
    dt = 0.01
    for i in range(300):
        acc = -k * x - c * v + 0.1 * np.sin(t)
        t = t + dt                      # once per step, between statements on examples
        x = x + dt * v
        v = v + dt * acc
        if x > 2.0:                     # each example its own branch
            x = 2.0
        n = 0
        while v * v > 4.0 and n < 3:    # each example its own trip count
            v = 0.5 * v
            n = n + 1
    return x, v


def decays(a, steps):
    k = a                               # the parameter, reassigned: its own slots, the input untouched
    for i in range(steps):
        k = 0.9 * k + 0.05
        if i == steps - 2:
            return k, i                 # a return under a test that is the same for every example
    return k, -1


def integer_start(k):
    s = 0                               # an int, then a float: Numba cannot keep it in one slot array
    for i in range(5):
        s = s + 0.5 * k
    return s


def breaks_per_example(k):
    x = k
    for i in range(50):
        x = 0.5 * x + 1.0
        if x < 2.01:                    # leaves f's loop at a different step in each example
            break
    return x


def euler(k):
    x = 1.0
    v = 0.0
    for i in range(200):
        acc = -k * x - 0.1 * v
        x = x + 0.01 * v
        v = v + 0.01 * acc
    return x


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:   # each example its own number of steps
        x = 0.5 * (x + a / x)
    return x


def reciprocal_steps(a):
    x = a
    n = 0
    while x > 0.5:
        x = 1.0 / x - 0.1               # an example that has stopped (x == 0) must not raise
        n = n + 1
    return x, n


def climb(a):
    x = a
    while x < 3.0:
        x = x + 1.0 / x                 # ZeroDivisionError for an example that starts at 0
    return x


def branch_steps(k):
    x = k
    y = 0.0
    for i in range(20):
        if x > 1.0:                     # each example its own branch
            y = y + x                   # assigned in one branch: stored back, its value kept otherwise
            z = x * 2.0                 # only in the branch, not read after it: no slots
            x = x - z * 0.1
        else:
            x = x + 0.5
    return x, y


def scale(i):
    return 0.5 + 0.1 * i


def split_by_call(k):
    x = k
    for i in range(10):
        a = x * x                       # read after the call: slots, allocated each step
        c = scale(i)                    # the same for every example: once per step
        x = a * c - x
    return x


def clip_low(k):
    return np.maximum(k, 1.0)


def pair(k):
    return np.array([k, 2.0 * k])


# -- tests -----------------------------------------------------------------------
def test_lanes_equal_the_per_example_loop_bit_for_bit():
    ks, cs = RNG.uniform(0.5, 4.0, 37), RNG.uniform(0.0, 0.3, 37)
    f = lanes_of(oscillator, (ks, cs))
    x, v = f(ks, cs)
    x0, v0 = loop_of(oscillator)(ks, cs)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(v, v0)
    ref = [oscillator(k, c) for k, c in zip(ks, cs)]
    np.testing.assert_allclose(x, [r[0] for r in ref], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v, [r[1] for r in ref], rtol=1e-12, atol=1e-12)
    # each step: the statements on numbers common to all examples once, then one loop over the examples
    step = f.source(ks, cs).split("def lanes_")[1].split("\n    for i in range(300):\n")[1]
    code = [line.strip() for line in step.splitlines() if not line.strip().startswith("#")]
    assert step.count("for _b in range(_n):") == 1
    assert code.index("t = t + dt") < code.index("for _b in range(_n):")


def test_unmapped_numbers_out_axes_returns_and_untouched_inputs():
    a = RNG.uniform(0.0, 3.0, 5)
    a0 = a.copy()
    f = lanes_of(decays, (a, 6), in_axes=(0, None), out_axes=(0, None))
    k, i = f(a, 6)
    np.testing.assert_array_equal(a, a0)
    k0, i0 = loop_of(decays, in_axes=(0, None), out_axes=(0, None))(a, 6)
    np.testing.assert_array_equal(k, k0)
    assert i == i0 == 4
    np.testing.assert_allclose(k, [decays(v, 6)[0] for v in a], rtol=1e-14)
    ints = np.arange(4)                         # integer examples: the int arithmetic of each example
    np.testing.assert_array_equal(f(ints, 6)[0], loop_of(decays, in_axes=(0, None), out_axes=(0, None))(ints, 6)[0])


def test_vmap_of_grad_calls_the_lanes_version_of_the_jvp():
    ks = RNG.uniform(0.5, 2.0, 9)
    f = lanes_of(tp.grad(euler), (ks,))
    src = f.source(ks)
    assert "def lanes_jvp_euler" in src and "lanes_jvp_euler(" in src.split("def lanes_grad_euler")[1]
    np.testing.assert_array_equal(f(ks), loop_of(tp.grad(euler))(ks))
    h = 1e-6
    fd = [(euler(k + h) - euler(k - h)) / (2 * h) for k in ks]
    np.testing.assert_allclose(f(ks), fd, rtol=1e-6)


def test_a_type_change_falls_back_to_the_per_example_loop():
    ks = RNG.uniform(0.0, 1.0, 4)
    f = tp.jit(tp.vmap(integer_start))
    assert "def lanes_" in f.source(ks)
    np.testing.assert_allclose(f(ks), [integer_start(k) for k in ks], rtol=1e-15)
    assert f._fallback                          # Numba could not type the slot arrays: the loop ran
    assert "def lanes_" not in f.source(ks)


def test_control_flow_that_leaves_the_loop_per_example_runs_example_by_example():
    ks = RNG.uniform(0.0, 10.0, 6)
    f = tp.jit(tp.vmap(breaks_per_example))
    assert "def lanes_" not in f.source(ks)
    np.testing.assert_array_equal(f(ks), [breaks_per_example(k) for k in ks])


def test_no_lanes_eagerly_or_without_a_loop():
    ks = RNG.uniform(0.5, 2.0, 5)
    assert "def lanes_" not in tp.vmap(euler).source(ks)                 # NumPy: vectorized
    assert "def lanes_" not in tp.jit(tp.vmap(clip_low)).source(ks)      # no loop: the per-example loop
    assert "def vec_" not in tp.jit(tp.vmap(clip_low)).source(ks)
    assert "def vec_" in tp.jit(tp.vmap(pair)).source(ks)              # an array per example: vectorized
    with pytest.raises(ValueError, match="size 0"):
        tp.jit(tp.vmap(euler))(np.ones(0))


def test_a_while_on_the_example_runs_masked_and_equals_the_loop():
    a = np.concatenate([RNG.uniform(0.5, 100.0, 600), [1e-300, 1e300, 4.0]])     # more than a block
    f = lanes_of(newton_sqrt, (a,))
    assert "_active" in f.source(a)
    np.testing.assert_array_equal(f(a), loop_of(newton_sqrt)(a))
    np.testing.assert_allclose(f(a), np.sqrt(a), rtol=1e-12)
    b = np.array([3.0, 0.0, 0.7, 100.0, -1.0])
    x, n = lanes_of(reciprocal_steps, (b,))(b)
    x0, n0 = loop_of(reciprocal_steps)(b)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(n, n0)
    assert n.dtype == n0.dtype == np.int64


def test_a_masked_division_by_zero_raises_for_an_active_example_only():
    f = lanes_of(climb, (np.ones(2),))
    np.testing.assert_array_equal(f(np.array([5.0, 1.0, 0.5])), loop_of(climb)(np.array([5.0, 1.0, 0.5])))
    line = climb.__code__.co_firstlineno + 3
    with pytest.raises(ZeroDivisionError, match=f"test_vmap_lanes.py:{line}"):
        f(np.array([5.0, 0.0]))
    with pytest.raises(ZeroDivisionError, match=f"test_vmap_lanes.py:{line}"):
        loop_of(climb)(np.array([5.0, 0.0]))


def test_branches_and_a_call_between_statements_on_examples():
    ks = RNG.uniform(0.0, 3.0, 11)
    x, y = lanes_of(branch_steps, (ks,))(ks)
    x0, y0 = loop_of(branch_steps)(ks)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    ks = RNG.uniform(0.0, 1.0, 7)
    f = lanes_of(split_by_call, (ks,))
    np.testing.assert_array_equal(f(ks), loop_of(split_by_call)(ks))
    np.testing.assert_allclose(f(ks), [split_by_call(k) for k in ks], rtol=1e-13)
