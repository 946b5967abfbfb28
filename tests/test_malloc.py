"""transpile/_malloc.py: glibc keeps heap slack (M_TOP_PAD), unless told not to."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")


def _top_pad(setting):
    """TOP_PAD as a fresh interpreter reports it, TRANSPILE_MALLOC_TOP_PAD
    set to `setting` (unset for None)."""
    env = {k: v for k, v in os.environ.items() if k != "TRANSPILE_MALLOC_TOP_PAD"}
    if setting is not None:
        env["TRANSPILE_MALLOC_TOP_PAD"] = setting
    out = subprocess.run([sys.executable, "-c", "import transpile._malloc as m; print(m.TOP_PAD)"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_default_pad_is_set():
    assert _top_pad(None) == str(64 << 20)


def test_pad_can_be_changed_or_left_alone():
    assert _top_pad(str(1 << 20)) == str(1 << 20)
    assert _top_pad("0") == "None"
    assert _top_pad("not a number") == "None"
