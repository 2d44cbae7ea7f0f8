"""Field types shared by every validated input: calls, scales, backtest specs, tracker.toml.

pydantic's lax mode reads ``true`` as the number 1, ``.nan`` and ``.inf`` as
floats, a bare ``20250915`` as a date (seconds since 1970) and keeps invisible
characters in names. Each type here refuses or normalises one such case, with
a message in our words, so a YAML slip is reported instead of scored:

``Number``, ``Whole``
    A finite number / an integer; a boolean is refused.
``Day``
    A calendar date written ``YYYY-MM-DD`` (a YAML date), from 2000 on.
``Name``
    A name that groups or filters (broker, analyst, company): NFKC-normalised,
    zero-width and bidirectional controls removed, spaces collapsed, other
    control characters refused. ``normalise_name`` applies the same rule to a
    filter typed on the command line, so both sides compare equal.
``Label``
    A name kept as written (the ticker registry's names): control characters
    refused, zero-width and bidirectional marks removed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from tracker.constants import CALENDAR_START

#: Characters that display as nothing yet make two names differ: zero-width
#: space/joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator, the
#: Arabic letter mark and the bidirectional embeddings, overrides and isolates.
INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: The earliest date a call or a selection may name: where the HKEX calendar starts.
EARLIEST_DATE = date.fromisoformat(CALENDAR_START)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _not_bool(value: Any) -> Any:
    # bool is a subclass of int: without this, `true` is read as 1.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


def _day(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError(f"expected a date without a time (YYYY-MM-DD), got {value}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date of the calendar") from None
    raise ValueError(f"expected a date as YYYY-MM-DD, e.g. 2025-09-15; got {value!r}")


def _from_earliest(value: date) -> date:
    if value < EARLIEST_DATE:
        raise ValueError(
            f"{value} is before {EARLIEST_DATE}, where the HKEX calendar of tracker starts"
        )
    return value


def _control(c: str) -> bool:
    return unicodedata.category(c) == "Cc"


def normalise_name(value: str) -> str:
    """``value`` in NFKC, without invisible characters, runs of spaces made one, trimmed.

    Control characters are kept (so that the validator can refuse them); a
    filter from the command line goes through this too.
    """
    text = unicodedata.normalize("NFKC", value)
    text = "".join(c for c in text if c not in INVISIBLE)
    # Only spaces: other whitespace is a control character, for the validator to refuse.
    return re.sub(" {2,}", " ", text).strip(" ")


def _name(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be a single line")
    text = normalise_name(value)
    bad = next((c for c in text if _control(c)), None)
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad):04X} is not allowed in a name")
    if not text:
        raise ValueError("must not be blank")
    return text


def _line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be a single line")
    bad = next((c for c in value if _control(c) and c != "\t"), None)
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad):04X} is not allowed")
    return value


def _text(value: str) -> str:
    bad = next((c for c in value if _control(c) and c not in "\t\n"), None)
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad):04X} is not allowed")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


def _label(value: str) -> str:
    bad = next((c for c in value if _control(c)), None)
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad):04X} is not allowed in a name")
    return "".join(c for c in value if c not in INVISIBLE)


def label_problem(value: str) -> str | None:
    """Why ``value`` cannot be a :data:`Label`, or None (for readers that list problems)."""
    try:
        _label(value)
    except ValueError as exc:
        return str(exc)
    return None


#: A float that is not a boolean (fields with their own range check use this).
Real = Annotated[float, BeforeValidator(_not_bool)]
Number = Annotated[Real, AfterValidator(_finite)]
Whole = Annotated[int, BeforeValidator(_not_bool)]
Day = Annotated[date, BeforeValidator(_day), AfterValidator(_from_earliest)]
Name = Annotated[str, AfterValidator(_name)]
#: One line of free text (a title, a source): no line breaks or control characters.
ControlFree = Annotated[str, AfterValidator(_line)]
#: Free text over several lines (a note): no control characters but tab and line feed.
Text = Annotated[str, AfterValidator(_text)]
#: A name kept as written (a security's name in the registry): control characters refused,
#: zero-width and bidirectional marks removed, no other normalisation.
Label = Annotated[str, AfterValidator(_label)]
