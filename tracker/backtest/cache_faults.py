"""Failures of numba's on-disk cache, told as what they are.

numba writes its compiled kernels (``*.nbi``, ``*.nbc``) into the cache folder
while a backtest runs, and a full disk there raises a bare OSError without a
file name from deep inside vectorbt. The backtest writes nothing else until its
run folder, whose own errors are already named, so such an error is the cache's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def numba_cache_faults(folder: Path, kept: str = "no run folder was written") -> Iterator[None]:
    """Turn a full disk met while numba writes its cache into :class:`~tracker.storage.DiskFull`.

    Parameters
    ----------
    folder
        The numba cache folder in effect (see ``configure_numba_cache``).
    kept
        What is unchanged, for the message.

    Raises
    ------
    DiskFull
        An OSError of a full device, quota or file-size limit, named after ``folder``
        (exit code 75: free space and run again).
    """
    from tracker.storage import disk_full, is_disk_failure

    try:
        yield
    except OSError as exc:
        if not is_disk_failure(exc):
            raise
        raise disk_full(f"the numba cache in {folder}", exc, kept) from None
