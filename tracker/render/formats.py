"""How numbers, dates and missing values are written, spelled once for every output.

Missing values (None, NaN, NaT, ``pd.NA``) render as ``""`` in text and as
``null`` in JSON. Returns and excess returns are fractions (``0.05`` = 5 %).
This module imports neither pandas nor numpy, so the CLI can use it at start-up.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and ``pd.NA`` (the values not equal to themselves, or NA)."""
    if value is None or type(value).__name__ == "NAType":
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def pct(x: Any, digits: int = 2, signed: bool = False) -> str:
    """A fraction as a percentage: ``pct(0.0123) == "1.23%"``, ``pct(-0.0105, 1, True)``
    ``== "-1.1%"``; thousands separated (``1,234.00%``); ``""`` when missing."""
    if is_missing(x):
        return ""
    sign = "+" if signed else ""
    return f"{100 * x:{sign},.{digits}f}%"


def pp(x: Any, digits: int = 1) -> str:
    """An excess fraction as signed percentage points: ``pp(0.0321) == "+3.2 pp"``."""
    if is_missing(x):
        return ""
    return f"{100 * x:+.{digits}f} pp"


def number(x: Any, digits: int = 2, suffix: str = "") -> str:
    """A number with thousands separators: ``number(1234.5) == "1,234.50"``; ``""`` if missing.

    Money is written this way too, its currency in the label (``costs paid (HKD)``).
    """
    if is_missing(x):
        return ""
    return f"{x:,.{digits}f}{suffix}"


def rate(hits: int, n: int) -> str:
    """A hit rate with its base: ``rate(2, 3) == "67% (2/3)"``; ``""`` without a base."""
    return "" if n == 0 else f"{hits / n:.0%} ({hits}/{n})"


def iso_date(value: Any) -> str:
    """A date, datetime or ``pd.Timestamp`` as ``YYYY-MM-DD``; ``""`` when missing."""
    if is_missing(value):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if type(value).__name__ == "datetime64":
        import pandas as pd

        return iso_date(pd.Timestamp(value))
    return str(value)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: Any, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns, CJK-aware."""
    text = "" if text is None else str(text)
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def jsonable(value: Any, keep_time: bool = False) -> Any:
    """Plain JSON values, recursively: NaN, NaT, NA and infinities as None, numpy as Python.

    Parameters
    ----------
    value
        A scalar, or a mapping, list, tuple or array of them.
    keep_time
        How a moment is written. False: always its date (``2025-06-30``).
        True: a ``pd.Timestamp`` at midnight as its date, any other moment in
        full ISO form (a run's manifest keeps its creation time).
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, keep_time) for k, v in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ndarray":
        return [jsonable(v, keep_time) for v in value]
    if type(value).__name__ == "datetime64":
        import pandas as pd

        value = pd.Timestamp(value)
    elif type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if is_missing(value):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        timestamp = type(value).__name__ == "Timestamp"
        if keep_time and not (timestamp and value.time() == time(0)):
            return value.isoformat()
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


#: Characters that reorder or hide text (bidirectional controls, zero-width marks) or
#: break lines (U+2028, U+2029).
HIDDEN = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u2060\u2061\u2062\u2063"
    "\u2064\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def json_dumps(obj: Any, indent: int | None = 2) -> str:
    """JSON text with non-ASCII letters as they are, and every character a terminal would
    obey or hide escaped as ``\\uXXXX``: C0 (as JSON requires), DEL, C1 and
    :data:`HIDDEN`, and lone surrogates, which UTF-8 cannot hold. A JSON reader gets the
    exact strings back; a person reading the output sees the escape instead of a
    reordered or hidden text."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    # Such characters only occur inside strings: escaping them keeps the text valid JSON.
    return _JSON_HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: Also lone surrogates (YAML's "\ud800"): escaped, the text stays writable as UTF-8.
_JSON_HIDDEN = re.compile("[\x7f-\x9f\ud800-\udfff" + "".join(sorted(HIDDEN)) + "]")
