"""An on-disk memo of slow, pure steps: a result is kept under a digest of all it depends on.

Two steps of every command cost more than the work they feed: building the HKEX
calendar (exchange_calendars computes 25 years of holidays, about 0.1 s) and
parsing the call book's YAML (pure-Python ruamel, about 3 ms a file). Both are
pure functions of their inputs, so their results are kept in ``<home>/cache/``
under a SHA-256 of those inputs (the text parsed, the library versions, the
span asked for) and read back by the next process.

A memo can only ever be a miss, never wrong and never an error:

- the key covers every input, so a changed file or library is a new key;
- a missing, unreadable, damaged or foreign entry is a miss (the caller computes
  the value again and writes the entry anew);
- entries are written through a temporary file and a rename (readers never see
  half an entry), and a failed write (read-only home, full disk) is ignored;
- the memo is off until a command names its folder (:func:`use`); the library
  called directly computes everything.

Entries are JSON or ``.npy`` read with ``allow_pickle=False``: reading one never
runs code. Each kind keeps at most :data:`MAX_ENTRIES` files, the oldest
removed first.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Files kept per kind of entry; past it, the oldest half is removed.
MAX_ENTRIES = 2_000

_folder: Path | None = None


def use(folder: Path | None) -> None:
    """Keep and read entries in ``folder`` (created on the first write); ``None``: off."""
    global _folder
    _folder = Path(folder) if folder is not None else None


def folder() -> Path | None:
    """The folder in use, or ``None`` when the memo is off."""
    return _folder


def digest(*parts: str | bytes) -> str:
    """SHA-256 (hex) of ``parts``, each length-prefixed so that no two lists collide."""
    h = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)
    return h.hexdigest()


def _path(kind: str, key: str, suffix: str) -> Path | None:
    if _folder is None:
        return None
    return _folder / kind / f"{key}{suffix}"


def get_json(kind: str, key: str) -> Any | None:
    """The JSON entry ``key`` of ``kind``, or ``None`` (off, missing or unreadable)."""
    path = _path(kind, key, ".json")
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh, object_hook=_decode)
    except (OSError, ValueError, RecursionError):
        return None


def put_json(kind: str, key: str, value: Any) -> None:
    """Keep ``value`` (JSON types, plus ``datetime.date``) as the entry ``key`` of ``kind``."""
    path = _path(kind, key, ".json")
    if path is None:
        return
    try:
        # A lone surrogate (YAML's "\ud800") cannot be written as UTF-8: not kept.
        data = json.dumps(value, default=_encode, ensure_ascii=False, allow_nan=True).encode()
    except (TypeError, ValueError, RecursionError):
        return
    _write(path, data)


def get_array(kind: str, key: str):
    """The ``.npy`` entry ``key`` of ``kind`` as a numpy array, or ``None``."""
    path = _path(kind, key, ".npy")
    if path is None:
        return None
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None


def put_array(kind: str, key: str, array) -> None:
    """Keep a numpy array (numbers only) as the entry ``key`` of ``kind``."""
    path = _path(kind, key, ".npy")
    if path is None:
        return
    import io

    import numpy as np

    buf = io.BytesIO()
    try:
        np.save(buf, np.asarray(array), allow_pickle=False)
    except ValueError:
        return
    _write(path, buf.getvalue())


_DATE = "\x00date"


def _encode(value: Any) -> Any:
    from datetime import date, datetime

    if isinstance(value, date) and not isinstance(value, datetime):
        return {_DATE: value.isoformat()}
    raise TypeError(f"not kept in the memo: {type(value).__name__}")


def _decode(obj: dict) -> Any:
    if len(obj) == 1 and _DATE in obj:
        from datetime import date

        return date.fromisoformat(obj[_DATE])
    return obj


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; any failure leaves no entry and is ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return
    _prune(path.parent)


def _prune(kind_dir: Path) -> None:
    """Past :data:`MAX_ENTRIES` files, remove the oldest half (by modification time)."""
    try:
        entries = [e for e in os.scandir(kind_dir) if e.is_file()]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=_mtime)
        _remove(e.path for e in entries[: len(entries) // 2])
    except OSError:
        return


def _mtime(entry: os.DirEntry) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:
        return 0.0


def _remove(paths: Iterable[str]) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
