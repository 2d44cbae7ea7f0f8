"""Failures of the disk, told apart from damaged files and bad paths.

A write can fail because the disk (or the user's quota, or ``ulimit -f``) is
full, because a path is not a writable folder, or because a file is damaged.
The three need different advice: free space and run again (nothing was
half-written), choose another path, or move the damaged file away. A full
disk is a temporary failure, exit code 75 (EX_TEMPFAIL), the code that
cron wrappers and the documented systemd unit retry on.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from tracker.constants import EXIT_MAIL_TEMPFAIL
from tracker.errors import TrackerError

#: EX_TEMPFAIL (sysexits.h): try again later.
EXIT_TEMPFAIL = EXIT_MAIL_TEMPFAIL
#: errno values of a device, quota or file-size limit that is full.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: SQLite primary result codes of a failed write to the disk: SQLITE_IOERR, SQLITE_FULL.
SQLITE_DISK_CODES = frozenset({10, 13})
#: SQLite primary result codes of a damaged or foreign file: SQLITE_CORRUPT, SQLITE_NOTADB.
SQLITE_DAMAGED_CODES = frozenset({11, 26})


class DiskFull(TrackerError):
    """A write failed for lack of space (or an I/O error of the disk); nothing half-written."""

    exit_code = EXIT_TEMPFAIL


class NotWritable(TrackerError):
    """An output path that is a file, lies under a file, or may not be written."""


def is_disk_failure(exc: BaseException) -> bool:
    """True for an OSError of a full device or quota, or SQLite's I/O or full error."""
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return (code & 0xFF) in SQLITE_DISK_CODES
        text = str(exc).lower()
        return "disk i/o error" in text or "database or disk is full" in text
    return False


def is_damaged(exc: BaseException) -> bool:
    """True for SQLite's "file is not a database" or "malformed" errors."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in SQLITE_DAMAGED_CODES
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def disk_full(path: str | Path, exc: BaseException, kept: str = "") -> DiskFull:
    """The :class:`DiskFull` for a failed write to ``path``; ``kept`` says what is unchanged."""
    cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    tail = f"; {kept}" if kept else ""
    return DiskFull(
        f"cannot write {path}: {cause} (the disk, a quota or the file-size limit is full)"
        f"{tail}; free some space and run the command again"
    )


def output_error(path: str | Path, exc: OSError, kept: str = "") -> TrackerError:
    """A one-line error for an OSError met while writing output at ``path``."""
    if exc.errno in FULL_ERRNOS:
        return disk_full(path, exc, kept)
    where = Path(exc.filename) if exc.filename else Path(path)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return NotWritable(f"cannot write {where}: a file stands where a folder is needed")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return NotWritable(f"cannot write {where}: permission denied or read-only")
    return NotWritable(f"cannot write {where}: {exc.strerror or exc}")


def output_dir(path: Path, what: str = "output folder") -> Path:
    """Create ``path`` as a folder (with its parents) and return it.

    Raises
    ------
    NotWritable
        ``path`` (or one of its parents) exists and is not a folder, or cannot
        be created.
    DiskFull
        No space to create it.
    """
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise NotWritable(
                f"{what} {path}: {part} is a file, not a folder; give a folder to write into"
            )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(path, exc) from None
    return path
