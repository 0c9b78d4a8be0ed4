"""Processes with a wrong clock, for the fault suite: libfaketime (Debian ``libfaketime``) preloaded
into a child process shifts its wall clock by a constant offset; its monotonic clock stays true, as
on a real machine whose clock is merely set wrong."""

from __future__ import annotations

import glob
import os
from pathlib import Path

#: Where Debian puts the multi-threaded library, by architecture (workers run threads).
_LIBRARY_PATTERNS = ("/usr/lib/*/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1")
INSTALL_HINT = "libfaketime is not installed (Debian: apt-get install -y libfaketime)"
#: ``sitecustomize`` that works around libfaketime's broken ``time.sleep`` (see its docstring).
_SLEEP_FIX = Path(__file__).with_name("faketime_site")


def libfaketime() -> str | None:
    """The library's path, or None where it is not installed."""
    for pattern in _LIBRARY_PATTERNS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def skewed_env(offset_s: int) -> dict[str, str]:
    """Environment entries that make a child Python process's wall clock ``offset_s`` seconds off."""
    library = libfaketime()
    if library is None:
        raise RuntimeError(INSTALL_HINT)
    path = os.pathsep.join(filter(None, [str(_SLEEP_FIX), os.environ.get("PYTHONPATH")]))
    return {
        "LD_PRELOAD": library,
        "FAKETIME": f"{offset_s:+d}s",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": path,
    }
