"""A read-only folder that stays read-only for root too.

Root writes into a ``0o555`` folder because of the CAP_DAC_OVERRIDE capability.
:func:`read_only_folder` drops that capability (and CAP_DAC_READ_SEARCH) from
the calling thread's *effective* set while the test runs, through Linux's
``capget``/``capset``; the capability stays in the permitted set and is raised
again afterwards. A test whose folder is still writable (no such system call,
another system) is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_VERSION_3 = 0x20080522  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set
_DAC = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


@contextlib.contextmanager
def _without_dac_override() -> Iterator[None]:
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    header, data = _Header(_VERSION_3, 0), (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip("running as root, and capget failed: a 0o555 folder would be writable")
    saved = data[0].effective
    data[0].effective &= ~_DAC
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip("running as root, and capset failed: a 0o555 folder would be writable")
    try:
        yield
    finally:
        data[0].effective = saved
        assert libc.capset(ctypes.byref(header), data) == 0, "could not restore capabilities"


def _writable(folder: Path) -> bool:
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """``folder`` made (and kept) read-only for this thread while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        with _without_dac_override():
            if _writable(folder):
                pytest.skip(
                    "running as root with CAP_DAC_OVERRIDE that could not be dropped: "
                    "a 0o555 folder stays writable, so only the file shapes are tested"
                )
            yield folder
    finally:
        folder.chmod(0o755)
