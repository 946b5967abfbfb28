"""Write generated source to the cache directory and import it.

Files are named `<module>__<function>__<transform>_<backend>__<hash>.py`, the
hash taken over the content: Numba's on-disk cache does not notice when a
called function changes, so a changed callee must mean a new file. A file is
written once (atomically) and never rewritten, so Numba's cache index, which
keys on the file's timestamp, stays valid across processes. The module is
registered in `sys.modules` before it runs, which Numba's `cache=True` needs.
"""
import hashlib
import importlib.util
import os
import re
import sys
import tempfile

_ENV = "TRANSPILE_CACHE_DIR"


def cache_dir():
    """The directory for generated files (`$TRANSPILE_CACHE_DIR`, else the user cache)."""
    path = os.environ.get(_ENV)
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "transpile")
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _slug(text):
    return re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_") or "f"


def file_stem(module, function, transform, backend, text):
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{_slug(module)}__{_slug(function)}__{transform}_{backend}__{digest}"


def write(stem, text):
    path = os.path.join(cache_dir(), stem + ".py")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    return path


def load(stem, path):
    """Import the generated file as module `transpile_gen_<stem>`."""
    name = "transpile_gen_" + stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def generated_files():
    """Paths of the generated files in the cache directory."""
    d = cache_dir()
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".py"))


def clear():
    """Remove generated files and Numba's cache of them. Returns the count removed."""
    import shutil

    d = cache_dir()
    count = 0
    for entry in os.listdir(d):
        full = os.path.join(d, entry)
        if entry.endswith(".py") or entry.endswith(".tmp"):
            os.remove(full)
            count += 1
        elif entry == "__pycache__":
            shutil.rmtree(full, ignore_errors=True)
    return count


def _numba_cache_files(d):
    """Numba's index/data files for generated modules (`__pycache__/*.nbi|*.nbc`)."""
    pyc = os.path.join(d, "__pycache__")
    if not os.path.isdir(pyc):
        return []
    return sorted(os.path.join(pyc, f) for f in os.listdir(pyc) if f.endswith((".nbi", ".nbc")))


def info():
    """What the cache holds: a dict for `transpile cache info`.

    Keys: dir, files (generated .py count), bytes (their size), numba_files
    (Numba's .nbi/.nbc beside them), numba_bytes, numba_cache_dir (set when
    `NUMBA_CACHE_DIR` sends Numba's files elsewhere, not counted then).
    """
    d = cache_dir()
    files = generated_files()
    numba = _numba_cache_files(d)
    return {
        "dir": d,
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
        "numba_files": len(numba),
        "numba_bytes": sum(os.path.getsize(f) for f in numba),
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or None,
    }
