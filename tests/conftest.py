import os
import tempfile

# Generated files and Numba's disk cache for the test session: persistent
# between local runs (fast), fresh on a clean CI machine.
os.environ.setdefault("TRANSPILE_CACHE_DIR", os.path.join(tempfile.gettempdir(), "transpile-test-cache"))
