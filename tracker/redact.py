"""Text for documents that leave the machine (the e-mail, a backtest report): no local paths.

A path such as ``csv:/srv/data/prices`` or ``C:\\data\\spec.yaml`` tells recipients about the
server and nothing about the figures; its last part (``csv:prices``, ``spec.yaml``) is kept.
Addresses (``https://…``) are left alone.
"""

from __future__ import annotations

import re

# A URL first, so that its "//host/path" is never read as a path; then an absolute path
# (POSIX, home-relative or a Windows drive) that does not continue a word, a relative path or
# a URL.
_URL_OR_PATH = re.compile(
    r"(?P<url>\b[A-Za-z][A-Za-z0-9+.-]*://\S+)"
    r"|(?P<path>(?<![\w./\\])(?:~|[A-Za-z]:)?[/\\][\w.~][^\s'\"<>,;()]*)"
)


def _last_part(match: re.Match[str]) -> str:
    if match["url"]:
        return match["url"]
    parts = [p for p in re.split(r"[/\\]", match["path"]) if p and p != "~"]
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):
        parts = parts[1:]
    return parts[-1] if parts else match["path"]


def without_local_paths(text: str) -> str:
    """``text`` with every absolute file path cut to its last part.

    Examples
    --------
    >>> without_local_paths("source csv:/srv/tracker/prices, see https://hkex.com.hk/a/b")
    'source csv:prices, see https://hkex.com.hk/a/b'
    """
    return _URL_OR_PATH.sub(_last_part, text)


def public(value):
    """A value for a shared document: a string without local paths, anything else as it is."""
    return without_local_paths(value) if isinstance(value, str) else value
