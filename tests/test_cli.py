"""The `transpile` command: show, cache, demo (mostly in-process through cli.main)."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from transpile import cli, pipeline
from transpile.codegen import loader

MODULE = '''\
import numpy as np

SCALE = 2.0


def helper(v):
    return v * SCALE


def total(x, n=3):
    s = 0.0
    for i in range(n):
        if x[i] > 0:
            s += helper(x[i])
    return s


def uses_with(x):
    with open("nothing") as fh:
        x = x + 1.0
    return x


class Net:
    def __init__(self):
        self.w = 3.0

    def forward(self, x):
        return self.w * x


def smooth(x):
    return np.sum(np.sin(x) * x)
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "cli_user_mod.py"
    path.write_text(MODULE)
    return str(path)


def run(capsys, *argv):
    """(exit code, stdout, stderr) of `transpile ARGV` run in this process."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_show_jit_prints_function_with_user_line_comments(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:total", "--args", "np.ones(4), 2")
    assert code == 0, err
    assert "jit of total, backend numba" in out
    assert "@numba.njit" in out and "def total(x, n, SCALE):" in out  # a global read at call time
    assert "# L13: if x[i] > 0:" in out  # the user's line above what it became
    assert "def helper(v, SCALE):" in out
    assert "checks.getitem" in out  # the bounds-checking pass ran
    compile(out, "<shown>", "exec")  # what is printed is the module, valid Python


def test_show_default_args_and_python_backend(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:total", "--backend", "python", "--jit")
    assert code == 0, err
    assert "backend python" in out and "numba" not in out


def test_show_method_supplies_self(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:Net.forward")
    assert code == 0, err
    assert "def forward(x, w):" in out  # self.w became a parameter read at call time
    assert "read at call time: attribute w" in out


def test_show_after_stops_after_that_pass(user_file, capsys):
    code, early, err = run(capsys, "show", f"{user_file}:total", "--after", "specialize")
    assert code == 0, err
    assert "def total(x, n, SCALE):" in early and "checks.getitem" not in early
    code, full, _ = run(capsys, "show", f"{user_file}:total")
    assert "checks.getitem" in full


def test_show_unknown_pass_lists_the_valid_ones(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:total", "--after", "nope")
    assert code == 2 and out == ""
    assert "unknown pass 'nope'" in err
    assert ", ".join(pipeline.PIPELINES["jit"]) in err


def test_show_fenced_function_reports_file_and_line(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:uses_with")
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"{user_file}:19: ")  # the `with` line
    assert "with" in first and "Traceback" not in err


def test_show_syntax_error_in_file(tmp_path, capsys):
    path = tmp_path / "cli_broken_mod.py"
    path.write_text("def f(x:\n    return x\n")
    code, _, err = run(capsys, "show", f"{path}:f")
    assert code == 1 and err.startswith(f"{path}:1: SyntaxError")


def test_show_unknown_function_names_what_exists(user_file, capsys):
    code, _, err = run(capsys, "show", f"{user_file}:nothere")
    assert code == 2 and "no attribute 'nothere'" in err and "total" in err


def test_show_bad_target_and_bad_args(user_file, capsys):
    assert run(capsys, "show", "no_colon.py")[0] == 2
    code, _, err = run(capsys, "show", f"{user_file}:total", "--args", "np.ones(")
    assert code == 2 and "--args" in err


def test_module_imports_its_neighbours(tmp_path, capsys):
    (tmp_path / "cli_neighbour.py").write_text("def double(v):\n    return 2.0 * v\n")
    (tmp_path / "cli_importer.py").write_text(textwrap.dedent("""\
        from cli_neighbour import double

        def f(x):
            return double(x) + 1.0
        """))
    code, out, err = run(capsys, "show", f"{tmp_path / 'cli_importer.py'}:f")
    assert code == 0, err
    assert "def double(" in out  # the callee is specialized into the module


def test_transformation_flags_come_from_pipelines(monkeypatch, user_file, capsys):
    def flags():
        return {a for action in cli.build_parser()._subparsers._group_actions[0].choices["show"]._actions
                for a in action.option_strings}

    assert {"--" + name.replace("_", "-") for name in pipeline.PIPELINES if name != "ad"} <= flags()
    assert {"--jvp", "--jacfwd", "--jacrev", "--hessian"} <= flags()
    assert "--not-a-transform" not in flags()
    monkeypatch.setitem(pipeline.PIPELINES, "not_a_transform", ("specialize",))
    assert "--not-a-transform" in flags()
    code, _, err = run(capsys, "show", f"{user_file}:total", "--not-a-transform", "--after", "desugar")
    assert code == 2 and "valid passes: specialize" in err


@pytest.mark.skipif("grad" not in pipeline.PIPELINES, reason="no grad pipeline yet")
def test_show_grad(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:smooth", "--grad", "--args", "np.ones(3)")
    assert code == 0, err
    assert "grad of smooth" in out and "# L" in out


def test_show_jvp_and_hessian(user_file, capsys):
    code, out, err = run(capsys, "show", f"{user_file}:smooth", "--jvp", "--backend", "python",
                         "--args", "np.ones(3)")
    assert code == 0, err
    assert "def jvp_smooth(x, x_dot):" in out and "_dot = " in out
    code, out, err = run(capsys, "show", f"{user_file}:smooth", "--hessian", "--args", "np.ones(3)")
    assert code == 0, err
    # forward over reverse, the JVP of the VJP batched over the basis tangents
    assert "def jacfwd_jacrev_smooth(x):" in out and "def vec_jvp_vjp_smooth(" in out


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TRANSPILE_CACHE_DIR", str(cache))
    code, out, _ = run(capsys, "cache", "info")
    assert code == 0 and str(cache) in out and "generated files:  0" in out

    import transpile as tp

    def cli_cache_inc(x):
        return x + 1.0

    assert tp.jit(cli_cache_inc)(1.0) == 2.0  # numba: a .py and Numba's cache files
    assert tp.jit(cli_cache_inc, backend="python")(1.0) == 2.0
    info = loader.info()
    assert info["files"] == 2 and info["numba_files"] >= 2 and info["bytes"] > 0
    code, out, _ = run(capsys, "cache", "info")
    assert "generated files:  2" in out and f"numba cache files: {info['numba_files']}" in out

    code, out, _ = run(capsys, "cache", "clear")
    assert code == 0 and "removed 2 generated files" in out
    assert loader.info()["files"] == 0 and loader.info()["numba_files"] == 0


@pytest.mark.slow
def test_demo_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRANSPILE_CACHE_DIR", str(tmp_path))
    code, out, err = run(capsys, "demo", "-n", "2000", "--repeat", "1")
    assert code == 0, err
    assert "def resetting_mean(x, threshold):" in out
    assert re.search(r"# L\d+: if x\[i\] > threshold:", out)
    assert "equals NumPy's result" in out
    assert "first call" in out and "warm call" in out and "NumPy eager" in out


def test_python_m_transpile_help():
    out = subprocess.run([sys.executable, "-m", "transpile", "--help"], capture_output=True,
                         text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0
    assert "show" in out.stdout and "cache" in out.stdout and "demo" in out.stdout
