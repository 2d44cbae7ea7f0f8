"""A note's publication date, in the formats news pages and report covers write it.

Read (on normalised text): ``2025-08-29``, ``2025/08/29``, ``28/08/2025 11:00``
(day first, the Hong Kong order; month first only when the second number
cannot be a month: ``12/31/2025``), ``2025年4月17日``, ``2025 年 4 月 17 日``, ``26 November
2025``, ``7 Mar 2025``, ``November 26, 2025``, each alone on a short line, in a
dateline (``[ET Net News Agency, 26 November 2025]``, ``智通财经·2026-01-15
13:58``, a wire's ``HONG KONG, Nov 26, 2025 -``), set apart at the end of one of the
first lines (``Equity      17 Apr 2025``) or stamped with a time in a headline
(``(2024-11-04 15:19:29)``); a weekday after the date (``(星期三)``, ``(Wed)``) is
skipped.

Not read: a date inside running prose (a results date, a closing-price date),
and dates after 截至 / as at / as of / 收盘价 / 除息 / 公布 (quote timestamps,
event dates): a note whose only dates are such gives none, and the draft asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(
    r"(?P<iso>(?P<y1>(?:19|20)\d{2})\s*[-/.]\s*(?P<m1>\d{1,2})\s*[-/.]\s*(?P<d1>\d{1,2}))(?!\d)"
    r"|(?<!\d)(?P<dmy>(?P<d2>\d{1,2})\s*/\s*(?P<m2>\d{1,2})\s*/\s*(?P<y2>(?:19|20)\d{2}))"
    r"|(?P<zh>(?P<y3>(?:19|20)\d{2})\s*年\s*(?P<m3>\d{1,2})\s*月\s*(?P<d3>\d{1,2})\s*日)"
    rf"|(?<![\w])(?P<en1>(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon4>{_MON})\.?,?\s+"
    r"(?P<y4>(?:19|20)\d{2}))"
    rf"|(?<![\w])(?P<en2>(?P<mon5>{_MON})\.?\s+(?P<d5>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
    r"(?P<y5>(?:19|20)\d{2}))",
    re.IGNORECASE,
)
_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?")
#: Words before a date that make it something else's date.
_NOT_PUBLISHED = re.compile(
    r"(?:截至|截止|as\s+(?:at|of)|资料|数据|收盘|收市|除息|除净|派息|公布|公告|业绩|results?|"
    r"ex-dividend|更新|由|至|于|将于|前|after|before|until|since|between)[^\n]{0,8}$",
    re.IGNORECASE,
)
_AFTER_NOT = re.compile(
    r"^\s*(?:收盘|收市|开市|之前|前|后|以来|起|至|-|–|—|\(?close)", re.IGNORECASE
)


#: A weekday written after a date: 2025年11月26日(星期三), 26 Nov 2025 (Wed), Nov 26, Wednesday.
_WEEKDAY = re.compile(
    r"^\s*(?:\(\s*(?:星期|周|礼拜)[一二三四五六日天]\s*\)|(?:星期|周|礼拜)[一二三四五六日天]"
    r"|,?\s*\(?(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?\)?(?![a-z]))",
    re.IGNORECASE,
)
#: A wire story's dateline: ``HONG KONG, Nov 26, 2025 -`` / ``SHANGHAI, 3 March 2025 (Agency) —``.
_WIRE = re.compile(r"^\s*[A-Z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*){0,3},\s*$")
_WIRE_DASH = re.compile(r"^\s*(?:\([^()]{1,40}\)\s*)?[-–—]")
#: A date set apart at the end of a report's first lines (``Equity      17 Apr 2025``,
#: ``公司研究 | 2025年4月17日``): a wide gap, a tab or a bar before it.
_COLUMN_GAP = re.compile(r"(?:\S\s{3,}|\t\s*|\s[|│]\s*)$")
_HEADER_LINES = 3


@dataclass(frozen=True)
class DateHit:
    value: date
    line: int
    words: str
    how: str  # "line" (alone on its line), "dateline", "stamp" (with a time)


def _value(m: re.Match) -> date | None:
    try:
        if m.group("iso"):
            return date(int(m.group("y1")), int(m.group("m1")), int(m.group("d1")))
        if m.group("dmy"):
            d, mo, y = int(m.group("d2")), int(m.group("m2")), int(m.group("y2"))
            if mo > 12 and d <= 12:  # 12/31/2025: month first after all
                d, mo = mo, d
            return date(y, mo, d)
        if m.group("zh"):
            return date(int(m.group("y3")), int(m.group("m3")), int(m.group("d3")))
        if m.group("en1"):
            mon = _MONTHS[m.group("mon4").lower()]
            return date(int(m.group("y4")), mon, int(m.group("d4")))
        if m.group("en2"):
            mon = _MONTHS[m.group("mon5").lower()]
            return date(int(m.group("y5")), mon, int(m.group("d5")))
    except ValueError:
        return None
    return None


def numeric_date(text: str) -> date | None:
    """The date a short text (a table cell) is, or None."""
    m = _DATE.search(text)
    return _value(m) if m else None


def dates_on(line: str) -> list[tuple[re.Match, date]]:
    """Every date written on a line, with its match."""
    return [(m, v) for m in _DATE.finditer(line) if (v := _value(m)) is not None]


def publication_date(lines: list[str], top: int = 12) -> DateHit | None:
    """The note's date: the first date written as a publication date.

    Parameters
    ----------
    lines : list of str
        The note's lines, normalised (see :func:`tracker.extract.clean.clean_lines`).
    top : int
        How many non-empty lines from the top a date alone on its line may stand.

    Returns
    -------
    DateHit or None
        None when the text gives no publication date (never a guess).
    """
    seen = 0
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        seen += 1
        found = dates_on(line)
        for m, value in found:
            before, after = line[: m.start()], _WEEKDAY.sub("", line[m.end() :], count=1)
            if _WIRE.search(before) and _WIRE_DASH.match(after):
                return DateHit(value, n, m.group(0), "dateline")
            if (
                seen <= _HEADER_LINES
                and _COLUMN_GAP.search(before)
                and not after.strip()
                and not _NOT_PUBLISHED.search(before)
            ):
                return DateHit(value, n, m.group(0), "line")
            if _NOT_PUBLISHED.search(before) or _AFTER_NOT.match(after):
                continue
            rest = (before + " " + _TIME.sub("", after)).strip(" []()·|,-:")
            if re.search(r"\[[^\]]*$", before) and re.match(r"\s*\]", after):
                return DateHit(value, n, m.group(0), "dateline")
            if _TIME.match(after) and (seen <= top or len(rest) < 40):
                return DateHit(value, n, m.group(0), "stamp")
            # A line of two dates is a range or a list (a results window), not a dateline.
            if seen <= top and len(found) == 1 and len(re.sub(r"\s", "", rest)) <= 16:
                return DateHit(value, n, m.group(0), "line")
    return None
