"""The CUDA backend (issue 8), under the CUDA simulator or on a GPU (see
conftest.py): kernels against the CPU backends on small batches, Threefry
bits against tp.random, device arrays in place, and the transform-time
errors at the user's line. Batches are tiny: the simulator runs each GPU
thread as a Python thread (about 1 ms each)."""
import inspect
import os

import numpy as np
import pytest

import transpile as tp
from transpile import cli
from transpile.errors import TranspileError

import cuda_examples as ex

RTOL = 1e-13        # math.* on the device against NumPy's ufuncs on the host


def close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=1e-14)


def line_of(fn, text):
    """The line number of the first line of `fn` containing `text`."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, l in enumerate(lines) if text in l)


X = np.array([-1.7, -0.4, 0.05, 0.6, 1.3, 2.9])
Y = np.array([0.8, -1.2, 1.9, 0.3, -0.7, 1.1])


# ---- element-wise: tp.jit(f, backend="cuda") ----------------------------------------

def test_selu_elementwise_matches_numpy():
    f = tp.jit(ex.selu, backend="cuda")
    close(f(X), ex.selu(X))
    m = np.linspace(-2, 2, 6).reshape(2, 3)
    out = f(m)
    assert out.shape == (2, 3) and out.dtype == np.float64
    close(out, ex.selu(m))
    assert isinstance(f(0.5), float) and np.isclose(f(0.5), ex.selu(0.5), rtol=RTOL)


def test_elementwise_broadcasts_like_numpy():
    f = tp.jit(ex.inner, backend="cuda")
    a = np.linspace(0, 1, 3).reshape(3, 1)
    b = np.array([0.2, -0.5])
    close(f(a, b), ex.inner(a, b))
    close(f(a, 2.0), ex.inner(a, 2.0))


def test_numpy_functions_on_numbers_match_numpy():
    f = tp.jit(ex.ufuncs, backend="cuda")
    y = Y + 0.05
    close(f(X, y), ex.ufuncs(X, y), rtol=1e-12)


def test_elementwise_of_a_reduction_is_an_error_not_a_wrong_answer():
    with pytest.raises(TranspileError, match="element-wise") as info:
        tp.jit(ex.mean_of, backend="cuda").generated(X)
    assert info.value.lineno == line_of(ex.mean_of, "x.mean()")


# ---- per example: tp.jit(tp.vmap(f), backend="cuda") --------------------------------

def test_vmap_branchy_matches_cpu():
    g = tp.jit(tp.vmap(ex.branchy), backend="cuda")
    close(g(X, Y), tp.vmap(ex.branchy)(X, Y))


def test_vmap_grad_branchy_matches_cpu_and_finite_differences():
    g = tp.jit(tp.vmap(tp.grad(ex.branchy, argnums=(0, 1))), backend="cuda")
    gx, gy = g(X, Y)
    ref = tp.vmap(tp.grad(ex.branchy, argnums=(0, 1)))(X, Y)
    close(gx, ref[0])
    close(gy, ref[1])
    h = 1e-6
    fd_x = (np.array([ex.branchy(x + h, y) for x, y in zip(X, Y)])
            - np.array([ex.branchy(x - h, y) for x, y in zip(X, Y)])) / (2 * h)
    close(gx, fd_x, rtol=1e-6)


def test_vmap_jvp_matches_cpu():
    g = tp.jit(tp.vmap(ex.jvp_inner), backend="cuda")
    out, tangent = g(X, Y)
    ref = tp.vmap(ex.jvp_inner)(X, Y)
    close(out, ref[0])
    close(tangent, ref[1])
    close(tangent, np.sin(Y) + X * np.cos(Y) * 0.5 + Y)     # closed form: d/da + 0.5 d/db


def test_vmap_newton_while_loop():
    a = np.array([0.25, 2.0, 9.0, 1e4, 3.0])
    out = tp.jit(tp.vmap(ex.newton_sqrt), backend="cuda")(a)
    close(out, tp.vmap(ex.newton_sqrt)(a))
    close(out, np.sqrt(a), rtol=1e-12)


def test_vmap_example_vectors_in_axes_and_globals():
    w = np.arange(12.0).reshape(4, 3) / 7.0
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    g = tp.jit(tp.vmap(ex.rowdot, in_axes=(0, 1)), backend="cuda")
    s, c = g(w, x)
    rs, rc = tp.vmap(ex.rowdot, in_axes=(0, 1))(w, x)
    close(s, rs)
    close(c, rc)
    shared = np.array([0.5, -1.0, 2.0])       # not mapped: every thread reads all of it
    s, c = tp.jit(tp.vmap(ex.rowdot, in_axes=(0, None)), backend="cuda")(w, shared)
    rs, rc = tp.vmap(ex.rowdot, in_axes=(0, None))(w, shared)
    close(s, rs)
    close(c, rc)


def test_vmap_local_array():
    out = tp.jit(tp.vmap(ex.local_buffer), backend="cuda")(X)
    close(out, X + X * X)


def test_threefry_samplers_match_tp_random_bit_for_bit():
    keys = tp.random.split(tp.random.PRNGKey(2024), 5)
    mu = np.linspace(0, 1, 5)
    total, u, z = tp.jit(tp.vmap(ex.draw), backend="cuda")(keys, mu)
    ref_u = np.array([tp.random.uniform(k, minval=-1.0, maxval=2.0) for k in keys])
    ref_z = np.array([tp.random.normal(k) for k in keys])
    np.testing.assert_array_equal(u, ref_u)
    np.testing.assert_array_equal(z, ref_z)
    np.testing.assert_array_equal(total, mu + ref_z * ref_u)
    u32, z32 = tp.jit(tp.vmap(ex.draw32), backend="cuda")(keys)
    assert u32.dtype == np.float32 and z32.dtype == np.float32
    np.testing.assert_array_equal(u32, [tp.random.uniform(k, dtype=np.float32) for k in keys])
    np.testing.assert_array_equal(z32, [tp.random.normal(k, dtype=np.float32) for k in keys])


def test_device_arrays_are_used_in_place_and_results_stay_on_device():
    from numba import cuda
    from numba.cuda.cudadrv import devicearray
    dx, dy = cuda.to_device(X), cuda.to_device(Y)
    out = tp.jit(tp.vmap(ex.branchy), backend="cuda")(dx, dy)
    assert devicearray.is_cuda_ndarray(out)
    close(out.copy_to_host(), tp.vmap(ex.branchy)(X, Y))
    grads = tp.jit(tp.vmap(tp.grad(ex.branchy)), backend="cuda")(dx, dy)
    assert devicearray.is_cuda_ndarray(grads)
    close(grads.copy_to_host(), tp.vmap(tp.grad(ex.branchy))(X, Y))
    e = tp.jit(ex.selu, backend="cuda")(dx)
    assert devicearray.is_cuda_ndarray(e)
    close(e.copy_to_host(), ex.selu(X))
    # inputs are not changed
    np.testing.assert_array_equal(dx.copy_to_host(), X)


def test_mixed_host_and_device_inputs_and_bad_device_shapes():
    from numba import cuda
    from numba.cuda.cudadrv import devicearray
    out = tp.jit(ex.inner, backend="cuda")(cuda.to_device(X), 0.5)
    assert devicearray.is_cuda_ndarray(out)
    close(out.copy_to_host(), ex.inner(X, 0.5))
    with pytest.raises(ValueError, match="broadcast shape"):
        tp.jit(ex.inner, backend="cuda")(cuda.to_device(X[:2]), np.ones((3, 2)))


def test_vmap_size_errors_are_jax_errors():
    with pytest.raises(ValueError, match="inconsistent sizes"):
        tp.jit(tp.vmap(ex.branchy), backend="cuda")(X, Y[:3])


# ---- what cannot run in a GPU thread: errors at transform time ---------------------

@pytest.mark.nocuda
@pytest.mark.parametrize("fn, args, text, match", [
    (ex.dynamic_zeros, (X, 3), "np.zeros(n)", "dynamic size"),
    (ex.matvec, (np.ones((6, 3)), np.ones(3)), "w @ x", "BLAS"),
    (ex.print_array, (np.ones((6, 3)),), "print(w)", "printing the array"),
    (ex.array_expression, (np.ones((6, 3)),), "w * 2.0", "array expression"),
])
def test_unsupported_constructs_raise_at_the_users_line(fn, args, text, match):
    in_axes = (0,) + (None,) * (len(args) - 1)
    gen = tp.vmap(fn, in_axes=in_axes).with_backend("cuda")
    with pytest.raises(TranspileError, match=match) as info:
        gen.generated(*args)          # transform only: nothing is compiled or launched
    assert info.value.lineno == line_of(fn, text)
    assert info.value.filename == ex.__file__
    assert "GPU" in str(info.value)


@pytest.mark.nocuda
def test_reverse_mode_tape_in_a_thread_is_a_clear_error():
    w = np.ones((6, 3))
    with pytest.raises(TranspileError, match="tape") as info:     # grad of a vector: reverse mode
        tp.vmap(tp.grad(ex.rowdot_loss)).with_backend("cuda").generated(w, w)
    assert info.value.filename == ex.__file__


@pytest.mark.nocuda
def test_jit_of_grad_on_cuda_asks_for_vmap():
    with pytest.raises(NotImplementedError, match="vmap"):
        tp.jit(tp.grad(ex.branchy), backend="cuda")


@pytest.mark.nocuda
def test_show_prints_the_kernel(tmp_path, capsys):
    path = os.path.join(os.path.dirname(ex.__file__), "cuda_examples.py")
    assert cli.main(["show", f"{path}:branchy", "--vmap", "--backend", "cuda"]) == 0
    out = capsys.readouterr().out
    assert "@cuda.jit(device=True)\ndef branchy(x, y):" in out
    assert "@cuda.jit(cache=True)\ndef vmap_branchy_kernel(x, y, _out0):" in out
    assert "_b = cuda.grid(1)" in out
    code = [l for l in out.split("def branchy")[1].splitlines() if not l.strip().startswith("#")]
    assert "math.sin(" in out and not any("np." in l for l in code)
    assert "launch.Vmap(vmap_branchy_kernel, branchy, axes=(0, 0), out=0)" in out
