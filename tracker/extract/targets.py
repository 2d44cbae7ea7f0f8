"""Target prices in their usual wordings.

Handled (on simplified, NFKC text): ``目标价 500 港元``, ``目标价为500港元``,
``目标价由 X 元上调至 Y 元``, ``将目标价从X港元下调10%至Y港元``,
``上调目标价至Y港元``, ``目标价 45.6 港币``, ``TP HK$520``, ``TP: HK$520``,
``target price of HK$650``, ``raise TP to HK$520 (from HK$480)``,
``price target to US$30 from US$28``.

Currency: 港元/港币/HK$/HKD -> HKD; 美元/US$/USD -> USD; 人民币/RMB/CNY/¥ -> CNY.
A bare ``元`` or ``$`` is taken as HKD (the listing's currency) and marked as
assumed, so the draft asks the reviewer to check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CUR_BEFORE = r"HK\$|HKD|US\$|USD|RMB|CNY|Rmb|人民币|港币|港元|美元|¥|\$"
_CUR_AFTER = r"港元|港币|元港币|HKD|美元|USD|元人民币|人民币|RMB|CNY|元"
_PRICE = (
    rf"(?:(?P<{{p}}cb>{_CUR_BEFORE})\s*(?P<{{p}}vb>{_NUM})(?:\s*(?P<{{p}}cx>港元|港币|HKD|元))?"
    rf"|(?P<{{p}}va>{_NUM})\s*(?P<{{p}}ca>{_CUR_AFTER})?)"
)
_KW = r"(?:目标价格|目标股价|目标价位|目标价|target\s+price|price\s+target|\bTP\b)"
_UP = r"上调|调升|调高|提升|提高|上修|升|raised?|increased?|lift(?:ed)?|revised\s+up"
_DOWN = r"下调|调降|调低|降低|下修|下降|降|cut|lowered|reduced?|trimmed|revised\s+down"
_PCT = r"(?:\d+(?:\.\d+)?\s*%\s*)?"


def _price(prefix: str) -> str:
    return _PRICE.replace("{p}", prefix)


_FORMS = [
    # 目标价由 X 上调至 Y / target price raised from X to Y
    re.compile(
        rf"{_KW}\s*(?:由|从|from)\s*{_price('o')}\s*(?P<dir>{_UP}|{_DOWN})?\s*{_PCT}"
        rf"(?:至|到|为|to)\s*{_price('n')}",
        re.IGNORECASE,
    ),
    # 目标价上调10%至 Y (from X) / TP raised to Y
    re.compile(
        rf"{_KW}\s*(?:is\s+|was\s+)?(?P<dir>{_UP}|{_DOWN})\s*{_PCT}(?:至|到|为|to)\s*{_price('n')}"
        rf"(?:\s*[(,]?\s*(?:from|前值|原为|原|此前为?)\s*{_price('o')})?",
        re.IGNORECASE,
    ),
    # 上调目标价至 Y / raise our TP to Y from X
    re.compile(
        rf"(?P<dir>{_UP}|{_DOWN}|rais(?:e|es|ing)|cut(?:s|ting)?|lower(?:s|ing)?)\s*(?:our\s+|the\s+)?"
        rf"{_KW}\s*{_PCT}(?:至|到|为|to)\s*{_price('n')}"
        rf"(?:\s*[(,]?\s*(?:from|前值|原为|原|此前为?)\s*{_price('o')})?",
        re.IGNORECASE,
    ),
    # 目标价 500 港元 / TP HK$520 / target price of HK$650 / price target to US$30 from US$28
    re.compile(
        rf"{_KW}\s*(?:为|是|至|:|of|at|is|to|调整为|对应)?\s*{_price('n')}"
        rf"(?:\s*[(,]?\s*(?:from|前值|原为|原|此前为?)\s*{_price('o')})?",
        re.IGNORECASE,
    ),
]

_PREVIOUS = re.compile(r"(?:previous|prior|old|前次|此前|原|上次|旧)\s*$", re.IGNORECASE)

_CURRENCY = {
    "港元": "HKD",
    "港币": "HKD",
    "元港币": "HKD",
    "hk$": "HKD",
    "hkd": "HKD",
    "美元": "USD",
    "us$": "USD",
    "usd": "USD",
    "人民币": "CNY",
    "元人民币": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "¥": "CNY",
}


@dataclass(frozen=True)
class TargetHit:
    """A target price found in the flow text."""

    start: int
    end: int
    value: float
    currency: str  # HKD, CNY or USD
    currency_assumed: bool
    previous: float | None = None  # the target before, when the text says it moved


def _value(m: re.Match, p: str) -> tuple[float | None, str | None, bool]:
    raw = m.group(f"{p}vb") or m.group(f"{p}va")
    if raw is None:
        return None, None, True
    value = float(raw.replace(",", ""))
    written = [m.group(f"{p}{g}") for g in ("cb", "cx", "ca")]
    code = next((_CURRENCY[c.lower()] for c in written if c and c.lower() in _CURRENCY), None)
    return value, code, code is None


def target_prices(text: str, offset: int = 0) -> list[TargetHit]:
    """Target prices in ``text`` (simplified, NFKC), left to right, without overlaps.

    A bare number counts only when the target-price keyword introduces it and
    a currency follows or precedes it, or it is the only number in a
    ``目标价 X`` phrase; values outside (0, 10,000,000) are ignored.
    """
    hits: list[TargetHit] = []
    taken: list[tuple[int, int]] = []
    for form in _FORMS:
        for m in form.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if _PREVIOUS.search(text[max(0, m.start() - 12) : m.start()]):
                continue  # "(Previous TP HK$620)", "原目标价": the old value, not the call's
            value, currency, assumed = _value(m, "n")
            if value is None or not 0 < value < 1e7:
                continue
            after = text[m.end() : m.end() + 2]
            if re.match(r"\s*(?:%|倍|x\b|年|亿|万|E\b)", after) or re.match(r"\d|\.\d", after):
                continue  # "目标价对应 20 倍", a year, a percentage: not a price
            previous = None
            if "ovb" in m.re.groupindex:
                previous, _, _ = _value(m, "o")
            hits.append(
                TargetHit(
                    offset + m.start(),
                    offset + m.end(),
                    value,
                    currency or "HKD",
                    assumed,
                    previous,
                )
            )
            taken.append((m.start(), m.end()))
    return sorted(hits, key=lambda h: h.start)
