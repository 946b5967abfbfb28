"""Nothing on disk gives a wrong answer or a crash: tested by differences, in real
second processes that share a TRANSPILE_CACHE_DIR with a first one.

* a generated file that was edited, emptied or cut short is regenerated;
* garbage in Numba's cache files (`.nbi` index, `.nbc` data; in `__pycache__`
  or under NUMBA_CACHE_DIR) means a recompile, never an exception;
* recursion (direct, mutual, at a changing argument type, a caller of a
  recursive function) works cold and warm: Numba's cache cannot reload
  recursive calls (a segmentation fault), so such functions are not cached.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from transpile.codegen import loader

USER = '''
import numpy as np


def poly(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i] + 1.0
    return s


def fact(n):
    if n <= 1:
        return 1.0
    return n * fact(n - 1)


def even(n):
    if n == 0:
        return True
    return odd(n - 1)


def odd(n):
    if n == 0:
        return False
    return even(n - 1)


def uses_fact(x):
    return fact(x) + 0.5
'''

# Each case: (name, function, argument expression); results printed as JSON with
# the number of Numba disk-cache hits for the entry point.
CASES = [
    ("poly", "poly", "np.linspace(0.0, 1.0, 7)"),
    ("fact", "fact", "5"),
    ("fact_int32", "fact", "np.int32(6)"),      # self recursion at another argument type
    ("even", "even", "7"),
    ("odd", "odd", "4"),
    ("uses_fact", "uses_fact", "4"),            # a caller of a recursive function
]

CHILD = '''
import json, sys
import numpy as np
sys.path.insert(0, {here!r})
import transpile as tp
import user_fns as u
out = {{}}
for name, fn, arg in {cases!r}:
    a = eval(arg)
    f = tp.jit(getattr(u, fn))
    value = f(a)
    gen = f.generated(a)
    out[name] = [float(value), sum(gen.entry.stats.cache_hits.values()), gen.path]
print(json.dumps(out))
'''


def _expected(here, cases):
    sys.path.insert(0, here)
    try:
        import importlib
        import user_fns
        importlib.reload(user_fns)
        return {name: float(getattr(user_fns, fn)(eval(arg))) for name, fn, arg in cases}
    finally:
        sys.path.remove(here)
        sys.modules.pop("user_fns", None)


def _run(here, cache, cases=CASES, numba_dir=None):
    env = dict(os.environ, TRANSPILE_CACHE_DIR=cache)
    env.pop("NUMBA_CACHE_DIR", None)
    if numba_dir:
        env["NUMBA_CACHE_DIR"] = numba_dir
    proc = subprocess.run([sys.executable, "-c", CHILD.format(here=here, cases=cases)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"child failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def _check(out, expected):
    for name, want in expected.items():
        assert out[name][0] == want, (name, out[name][0], want)


def _numba_files(folder, ext):
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if f.endswith(ext)]
    return sorted(found)


def _matches_its_name(path):
    with open(path, "rb") as fh:
        data = fh.read()
    stem = os.path.basename(path)[:-3]
    return loader._digest(data) == stem.rsplit("__", 1)[-1]


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A user module, and a cache directory filled by a first process (cold)."""
    root = tmp_path_factory.mktemp("integrity")
    here = str(root / "src")
    os.makedirs(here)
    with open(os.path.join(here, "user_fns.py"), "w") as fh:
        fh.write(USER)
    cache = str(root / "pristine")
    out, _ = _run(here, cache)
    expected = _expected(here, CASES)
    _check(out, expected)
    assert out["poly"][1] == 0                  # compiled, not loaded
    return here, cache, out, expected


def _copy(cache, tmp_path):
    """The warm cache, copied with its timestamps (Numba's index keys on them)."""
    dst = str(tmp_path / "cache")
    shutil.copytree(cache, dst)
    return dst


def _generated(cache, name):
    return os.path.join(cache, os.path.basename(name))


# -- recursion ---------------------------------------------------------------------------

def test_recursion_cold_and_warm(warm):
    """The first process ran cold (fixture); a second one, loading the disk cache,
    must give the same answers and not crash; non-recursive code is still cached."""
    here, cache, first, expected = warm
    second, _ = _run(here, cache)
    _check(second, expected)
    assert second["poly"][1] == 1                # loaded from Numba's cache
    for name in ("fact", "fact_int32", "even", "odd", "uses_fact"):
        with open(second[name][2]) as fh:
            text = fh.read()
        assert "cache=False" in text and "cache=True" not in text, name
    with open(second["poly"][2]) as fh:
        assert "cache=True" in fh.read()


def test_recursive_module_written_with_cache_true_still_never_crashes(tmp_path):
    # the loader's own check: even a generated module that asks for cache=True on
    # mutually recursive functions is loaded without the disk cache for them
    text = textwrap.dedent('''
        import numba


        @numba.njit(cache=True)
        def even(n):
            if n == 0:
                return True
            return odd(n - 1)


        @numba.njit(cache=True)
        def odd(n):
            if n == 0:
                return False
            return even(n - 1)


        @numba.njit(cache=True)
        def plain(n):
            return n + 1
    ''')
    code = textwrap.dedent(f'''
        from transpile.codegen import loader
        text = {text!r}
        stem = loader.file_stem("m", "even", "jit", "numba", text)
        m = loader.load(stem, loader.write(stem, text))
        print(m.even(7), m.odd(7), m.plain(1), sum(m.plain.stats.cache_hits.values()))
    ''')
    env = dict(os.environ, TRANSPILE_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_CACHE_DIR", None)
    outs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(proc.stdout.split())
    assert outs[0] == ["False", "True", "2", "0"]
    assert outs[1] == ["False", "True", "2", "1"]   # the non-recursive one is cached


# -- generated files ---------------------------------------------------------------------

def _edit(path):
    with open(path) as fh:
        text = fh.read()
    assert "+ 1.0" in text
    with open(path, "w") as fh:
        fh.write(text.replace("+ 1.0", "+ 1000.0"))


def _edit_same_size_and_time(path):
    # the file's size and timestamp are kept: Numba's cache alone would not notice
    st = os.stat(path)
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("+ 1.0", "+ 9.0"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _empty(path):
    open(path, "w").close()


def _truncate(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size * 2 // 3)


@pytest.mark.parametrize("damage", [_edit, _edit_same_size_and_time, _empty, _truncate],
                         ids=["edited", "edited-same-size-and-time", "emptied", "truncated"])
def test_damaged_generated_file_is_regenerated(warm, tmp_path, damage):
    here, pristine, first, expected = warm
    cache = _copy(pristine, tmp_path)
    poly = _generated(cache, first["poly"][2])
    rec = _generated(cache, first["even"][2])
    with open(poly, "rb") as fh:
        original = fh.read()
    damage(poly)
    names = ("poly",)
    if damage is _truncate:         # and a module of recursive functions
        damage(rec)
        names = ("poly", "even", "odd")
    out, _ = _run(here, cache, [c for c in CASES if c[0] in names])
    assert os.path.basename(out["poly"][2]) == os.path.basename(poly)    # the same file
    _check(out, {k: expected[k] for k in names})
    with open(poly, "rb") as fh:
        assert fh.read() == original
    assert _matches_its_name(poly) and _matches_its_name(rec)
    assert not [f for f in os.listdir(cache) if f.endswith(".tmp")]


def test_a_file_changed_between_write_and_load_is_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSPILE_CACHE_DIR", str(tmp_path))
    text = "VALUE = 1\n"
    stem = loader.file_stem("m", "e", "jit", "python", text)
    path = loader.write(stem, text)
    with open(path, "w") as fh:
        fh.write("VALUE = 2\n")
    try:
        assert loader.load(stem, path).VALUE == 1
        assert _matches_its_name(path)
    finally:
        sys.modules.pop("transpile_gen_" + stem, None)


def test_load_without_text_refuses_a_file_that_does_not_match_its_name(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSPILE_CACHE_DIR", str(tmp_path))
    text = "VALUE = 1\n"
    stem = loader.file_stem("m", "f", "jit", "python", text)
    path = loader.write(stem, text)
    loader._written.pop(path)               # as if written by another process
    with open(path, "w") as fh:
        fh.write("VALUE = 2\n")
    try:
        with pytest.raises(loader.CacheCorrupted):
            loader.load(stem, path)
        # with the text it should hold, the file is rewritten and the right code runs
        assert loader.load(stem, path, text).VALUE == 1
        assert _matches_its_name(path)
    finally:
        sys.modules.pop("transpile_gen_" + stem, None)


def test_write_leaves_an_intact_file_alone(tmp_path, monkeypatch):
    # Numba's index keys on the generated file's timestamp: an intact file is never rewritten
    monkeypatch.setenv("TRANSPILE_CACHE_DIR", str(tmp_path))
    text = "VALUE = 1\n"
    stem = loader.file_stem("m", "g", "jit", "python", text)
    path = loader.write(stem, text)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert loader.write(stem, text) == path
    assert os.stat(path).st_mtime_ns == 1_000_000_000
    assert os.listdir(tmp_path) == [os.path.basename(path)]     # no temporary left


# -- Numba's cache files -----------------------------------------------------------------

def _garbage(path):
    with open(path, "wb") as fh:
        fh.write(b"\x00garbage\xff" * 7)


def _cut(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)


@pytest.mark.parametrize("ext,damage", [(".nbi", _garbage), (".nbc", _garbage), (".nbc", _cut),
                                        (".nbi", _empty)],
                         ids=["index-garbage", "data-garbage", "data-truncated", "index-emptied"])
def test_damaged_numba_cache_means_recompiling(warm, tmp_path, ext, damage):
    here, pristine, first, expected = warm
    cache = _copy(pristine, tmp_path)
    files = _numba_files(cache, ext)
    assert files
    for f in files:
        damage(f)
    cases = [c for c in CASES if c[0] == "poly"]
    out, _ = _run(here, cache, cases)
    assert os.path.basename(out["poly"][2]) == os.path.basename(first["poly"][2])
    _check(out, {"poly": expected["poly"]})
    assert out["poly"][1] == 0                   # recompiled
    if ext == ".nbi" and damage is _garbage:     # and the cache is whole again
        again, _ = _run(here, cache, cases)
        _check(again, {"poly": expected["poly"]})
        assert again["poly"][1] == 1


def test_damaged_numba_cache_under_numba_cache_dir(tmp_path):
    here = str(tmp_path / "src")
    os.makedirs(here)
    with open(os.path.join(here, "user_fns.py"), "w") as fh:
        fh.write(USER)
    cache, numba_dir = str(tmp_path / "cache"), str(tmp_path / "numba")
    cases = [c for c in CASES if c[0] == "poly"]
    expected = _expected(here, cases)
    out, _ = _run(here, cache, cases, numba_dir=numba_dir)
    _check(out, expected)
    files = _numba_files(numba_dir, ".nbi") + _numba_files(numba_dir, ".nbc")
    assert files and not _numba_files(cache, ".nbi")
    for f in files:
        _garbage(f)
    out, _ = _run(here, cache, cases, numba_dir=numba_dir)
    _check(out, expected)
    assert out["poly"][1] == 0


def test_cuda_cache_files_that_cannot_be_read_are_a_miss(tmp_path):
    # numba-cuda's cache is a copy of the CPU one: the same check applies to it (no GPU needed)
    dispatcher = pytest.importorskip("numba.cuda.dispatcher")
    if not hasattr(dispatcher, "CUDACache"):
        # the CUDA simulator (NUMBA_ENABLE_CUDASIM=1, set by tests/cuda) has no disk cache
        pytest.skip("numba.cuda is the simulator in this process: no CUDACache")
    import importlib.util
    (tmp_path / "cuda_user.py").write_text("def k(x):\n    return x\n")
    spec = importlib.util.spec_from_file_location("cuda_user", tmp_path / "cuda_user.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cache = dispatcher.CUDACache(mod.k)
    cache.__class__ = loader._checked_class(type(cache))
    assert isinstance(cache, dispatcher.CUDACache)
    index = cache._files()[0]
    os.makedirs(os.path.dirname(index), exist_ok=True)
    _garbage(index)

    class Codegen:
        def magic_tuple(self):
            return ("test",)

    class Context:
        def refresh(self):
            pass

        def codegen(self):
            return Codegen()

    assert cache.load_overload(("int64",), Context()) is None
    assert not os.path.exists(index)
