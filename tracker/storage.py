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
from collections.abc import Mapping
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
    tail = f"; {kept}" if kept else ""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return NotWritable(f"cannot write {where}: a file stands where a folder is needed{tail}")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return NotWritable(f"cannot write {where}: permission denied or read-only{tail}")
    return NotWritable(f"cannot write {where}: {exc.strerror or exc}{tail}")


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


def folder_problem(path: Path, what: str = "output folder") -> TrackerError | None:
    """Why ``path`` cannot be written as a folder, or None if it can.

    ``path`` or a parent is a file, or the nearest folder that exists does not
    take a new file (read-only, permission denied, no inode left). Checks
    without leaving anything behind (a probe file is removed at once), so that a
    command can refuse a bad output path before its work rather than after it.
    """
    import tempfile

    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            return NotWritable(
                f"{what} {path}: {part} is a file, not a folder; give a folder to write into"
            )
    existing = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if existing is None:
        return None
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        err = output_error(existing, exc)
        return type(err)(f"{what} {path}: {str(err).removeprefix('cannot write ')}")
    return None


def write_files(files: Mapping[Path, str | bytes], kept: str = "") -> list[Path]:
    """Write several files so that all of them change or none does.

    Every file's content is first written (and synced) to a temporary file
    beside it; only when all of them are whole are they renamed into place. A
    rename needs no space, so a full disk, a read-only folder or a file standing
    where a folder is needed leaves every target exactly as it was.

    Parameters
    ----------
    files
        Target path -> content (text is written as UTF-8). Missing parent
        folders are created.
    kept
        What is unchanged on failure, for the message (e.g. "no draft was written").

    Returns
    -------
    list of Path
        The paths written, in order.

    Raises
    ------
    NotWritable, DiskFull
        A target cannot be written; every temporary file is removed.
    """
    import os
    import tempfile

    for path in files:
        blocked = folder_problem(path.parent, "cannot write")
        if blocked is not None:
            raise blocked
    staged: list[tuple[str, Path]] = []
    target = None
    try:
        for target, content in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            staged.append((tmp, target))
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        where = target if target is not None else Path(".")
        raise output_error(where, exc, kept) from None
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    return [t for _, t in staged]
