"""Write generated source to the cache directory and import it.

Files are named `<module>__<function>__<transform>_<backend>__<hash>.py`, the
hash taken over the content: Numba's on-disk cache does not notice when a
called function changes, so a changed callee must mean a new file. A file is
written atomically (a temporary file in the same directory, flushed and
fsync'ed, then `os.replace`), so no reader sees half of it; Numba's cache
index keys on the file's timestamp, which stays put while the file is intact.

Nothing on disk is trusted, since a file can be edited by hand, or emptied or
cut short by a power loss:

* a generated file is checked against the text it should hold (`write`) or
  against the hash in its name (`load`); a file that differs is rewritten, and
  what runs is the checked text, never a second read of the file;
* Numba's index and data files (`.nbi`/`.nbc`, in `__pycache__` or under
  `NUMBA_CACHE_DIR`) that cannot be read are deleted and the function is
  compiled again (`_CheckedCacheMixin`), instead of `UnpicklingError` and the like
  reaching the caller;
* a function in, or calling into, a recursive call cycle is never cached:
  Numba's cache cannot reload recursive calls (see `reaching_cycle`).

The module is registered in `sys.modules` before it runs, which Numba's
`cache=True` needs.
"""
import glob
import hashlib
import importlib.util
import logging
import os
import re
import sys
import tempfile

_ENV = "TRANSPILE_CACHE_DIR"
_log = logging.getLogger("transpile.cache")


class CacheCorrupted(ImportError):
    """A generated file differs from the hash in its name and no text was given to rewrite it."""


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


def _digest(data):
    return hashlib.sha256(data).hexdigest()[:12]


def file_stem(module, function, transform, backend, text):
    return f"{_slug(module)}__{_slug(function)}__{transform}_{backend}__{_digest(text.encode())}"


def _stem_digest(stem):
    return stem.rsplit("__", 1)[-1]


def _read(path):
    """The file's bytes, or None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _write_atomic(path, data):
    """Replace `path` by `data` all at once: a reader sees the old file or the new one."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:                        # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


_repaired = set()       # paths rewritten in this process: Numba's files for them are stale


def _ensure(path, data):
    """Make the file at `path` hold `data`; True when it had to be (re)written."""
    if _read(path) == data:
        return False
    if os.path.exists(path):
        _log.warning("transpile: generated file %s did not match its hash; regenerated", path)
        _repaired.add(path)
    _write_atomic(path, data)
    return True


_written = {}           # path -> the text `write` put there, for the `load` that follows


def write(stem, text):
    """Write `text` as the generated file `stem`; an existing file that differs is rewritten."""
    path = os.path.join(cache_dir(), stem + ".py")
    data = text.encode()
    _ensure(path, data)
    _written[path] = data
    return path


def load(stem, path, text=None):
    """Import the generated file as module `transpile_gen_<stem>`.

    The code run is `text` when given, else the text `write` wrote there in
    this process (the file is rewritten if it no longer holds it), else the
    file's content, which must match the hash in `stem`. The file is never
    read a second time to run it: what runs is what was checked.
    """
    name = "transpile_gen_" + stem
    data = _written.pop(path, None) if text is None else text.encode()
    if name in sys.modules:
        return sys.modules[name]
    if data is not None:
        _ensure(path, data)
        text = data.decode()
    else:
        data = _read(path)
        if data is None or _digest(data) != _stem_digest(stem):
            raise CacheCorrupted(
                f"generated file {path} does not match the hash in its name; "
                f"it is regenerated on the next call that makes it (or run `transpile cache clear`)")
        text = data.decode()
    code = compile(text, path, "exec", dont_inherit=True)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    _guard_numba_caches(module, discard=path in _repaired)
    _repaired.discard(path)
    return module


# -- Numba's on-disk cache ---------------------------------------------------

def reaching_cycle(edges):
    """The nodes of the graph `edges` (node -> iterable of nodes) from which a
    cycle can be reached, self-loops included: the node is on a cycle or calls,
    directly or not, a function that is.

    Numba's cache cannot reload recursive calls: a call that is not plain self
    recursion at the same signature (mutual recursion; self recursion at other
    argument types) is compiled as a call through a pointer that only the
    compiling process fills in, and in a process that loads the code from the
    cache that pointer is never set: a segmentation fault (numba/numba#6061,
    #6713). Code of a caller holds its callees' code, so callers of a cycle are
    affected too.
    """
    edges = {n: set(e) for n, e in edges.items()}
    reach = {}
    for start in edges:
        seen, stack = set(), list(edges[start])
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(edges.get(n, ()))
        reach[start] = seen
    on_cycle = {n for n in edges if n in reach[n]}
    return {n for n in edges if n in on_cycle or reach[n] & on_cycle}


def _code_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


def _checked_class(cls):
    """`cls` (a Numba `Cache` class) whose unreadable files mean a recompile."""
    checked = _CHECKED.get(cls)
    if checked is None:
        checked = _CHECKED[cls] = type("Checked" + cls.__name__, (_CheckedCacheMixin, cls), {})
    return checked


_CHECKED = {}


class _CheckedCacheMixin:
    """Numba's per-function disk cache, for which a file that cannot be read
    (garbage, cut short, an unpicklable entry) is a cache miss: its index and
    data files are deleted and the function is compiled again."""

    def _files(self):
        base = self._impl.filename_base
        index = os.path.join(self._cache_path, base + ".nbi")
        data = glob.glob(os.path.join(glob.escape(self._cache_path), glob.escape(base) + ".*.nbc"))
        return [index] + sorted(data)

    def discard(self):
        for f in self._files():
            try:
                os.remove(f)
            except OSError:
                pass

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as e:          # noqa: BLE001 - any unreadable entry is a miss
            _log.warning("transpile: Numba cache for %s unreadable (%s: %s); recompiling",
                         self._name, type(e).__name__, e)
            self.discard()
            return None

    def save_overload(self, sig, data):
        try:
            return super().save_overload(sig, data)
        except Exception:               # noqa: BLE001 - e.g. a garbage index: start it again
            self.discard()
        try:
            return super().save_overload(sig, data)
        except Exception as e:          # noqa: BLE001 - the disk cache only saves time
            _log.warning("transpile: could not save %s to Numba's cache (%s: %s)",
                         self._name, type(e).__name__, e)


def _cache_kinds():
    """(Cache, NullCache) of each Numba target loaded in this process (CPU;
    CUDA, whose caching module is a copy of the CPU one)."""
    kinds = []
    for name in ("numba.core.caching", "numba.cuda.core.caching"):
        mod = sys.modules.get(name)
        if mod is not None and hasattr(mod, "Cache") and hasattr(mod, "NullCache"):
            kinds.append((mod.Cache, mod.NullCache))
    return kinds


def _guard_numba_caches(module, discard=False):
    """For the Numba dispatchers the module defines: no disk cache for those
    that reach a recursive call cycle, a checked cache for the others (and
    their old files dropped when the generated file was just repaired)."""
    kinds = _cache_kinds()
    if not kinds:
        return
    dispatchers = {}
    for k, v in vars(module).items():
        if getattr(getattr(v, "py_func", None), "__module__", None) != module.__name__:
            continue
        cache = getattr(v, "_cache", None)
        kind = next((kd for kd in kinds if isinstance(cache, kd)), None)
        if kind is not None:
            dispatchers[k] = (v, kind)
    if not dispatchers:
        return
    edges = {}
    for k, (v, _) in dispatchers.items():
        code = getattr(v.py_func, "__code__", None)
        edges[k] = (_code_names(code) & set(dispatchers)) if code is not None else set()
    recursive = reaching_cycle(edges)
    for k, (v, (cache_class, null_class)) in dispatchers.items():
        cache = v._cache
        if not isinstance(cache, cache_class):
            continue                    # not cached on disk already
        if k in recursive:
            v._cache = null_class()
            continue
        if not isinstance(cache, _CheckedCacheMixin):
            cache.__class__ = _checked_class(type(cache))
        if discard:
            cache.discard()


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
