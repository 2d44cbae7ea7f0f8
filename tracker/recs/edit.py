"""Editing a report file in place: one writer at a time, the file's own form kept.

``tracker recs add`` reads a report, appends a call and writes it back. Two
such commands on one file must not both read the old text (the second write
would drop the first call), so writers take a lock beside the file and read
under it. The rewrite keeps what the user chose: the file's permission bits,
its line ends (CRLF or LF), a UTF-8 byte-order mark, and its indentation
(the first layout that reproduces the file exactly; ruamel keeps comments,
key order and flow style by itself).
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.errors import TrackerError

BOM = "\ufeff"
#: Seconds a writer waits for another one on the same file.
LOCK_TIMEOUT_S = 60.0
#: Indentations tried, as ruamel's (mapping, sequence, offset): ours first.
LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (3, 3, 0), (2, 3, 1))


class FileBusy(TrackerError):
    """Another command is writing the same file."""


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: hidden, beside it (so it is not read as a report)."""
    return path.parent / f".{path.name}.lock"


@contextmanager
def exclusive(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the writers' lock of ``path`` (waiting up to ``timeout_s``).

    Raises
    ------
    FileBusy
        Another writer held it for the whole wait.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path(path)), timeout=timeout_s)
    try:
        lock.acquire()
    except Timeout:
        raise FileBusy(
            f"{path}: another command has been writing this file for {timeout_s:g} s;"
            " try again when it ends"
        ) from None
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class FileForm:
    """How a text file is written: line ends, BOM, permission bits, YAML indentation."""

    crlf: bool = False
    bom: bool = False
    mode: int | None = None
    layout: tuple[int, int, int] = LAYOUTS[0]

    def render(self, text: str) -> str:
        """``text`` (LF line ends, no BOM) in this form."""
        if self.crlf:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return (BOM + text) if self.bom else text


def dump(data: Any, layout: tuple[int, int, int]) -> str:
    """Round-trip dump of ``data`` with the given (mapping, sequence, offset) indentation."""
    from tracker.recs.yamlio import _yaml

    yaml = _yaml("rt")
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def form_of(path: Path, text: str, data: Any) -> FileForm:
    """The form of the file at ``path`` whose decoded text is ``text`` and data ``data``."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    bom = text.startswith(BOM)
    plain = text.removeprefix(BOM)
    crlf = "\r\n" in plain and plain.count("\n") == plain.count("\r\n")
    plain = plain.replace("\r\n", "\n")
    # ruamel keeps a comment's "\r" from a CRLF file: compare with LF line ends.
    layout = next(
        (lay for lay in LAYOUTS if dump(data, lay).replace("\r\n", "\n") == plain), LAYOUTS[0]
    )
    return FileForm(crlf=crlf, bom=bom, mode=mode, layout=layout)


def write_in_form(path: Path, text: str, form: FileForm) -> None:
    """Replace ``path`` atomically with ``text`` in ``form`` (same permission bits)."""
    from tracker.storage import output_error

    data = form.render(text).encode("utf-8")
    try:
        _replace(path, data, form)
    except OSError as exc:
        raise output_error(path, exc, "the file is unchanged") from None


def _replace(path: Path, data: bytes, form: FileForm) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if form.mode is not None:
            os.chmod(tmp, form.mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
