"""Company names and stock codes found in a report, and their resolution to tickers.

Resolution goes through the registry only (:meth:`Registry.resolve`), which is
exact: a name it does not know, or knows for several securities, comes back
as a :class:`Resolution` with no ticker and the registry's candidates, to be
listed for review. Nothing here guesses.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.errors import AmbiguousTicker, TickerNotFound
from tracker.extract.text import is_han

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry

#: A stock code as reports write it: ``(00700)``, ``(0700.HK)``, ``700 HK``, ``HK.00700``.
CODE = re.compile(
    # [^\S\n]: a code never runs across a line break ("... 17 Apr 2025" over "HK Company").
    r"(?<![\w.])(?:(?P<a>\d{1,5})[^\S\n]?\.[^\S\n]?HK\b|(?P<b>\d{1,5})[^\S\n]?HK\b"
    r"|HK[^\S\n]?[.:][^\S\n]?(?P<c>\d{1,5})\b)"
    r"|(?<=\()\s*(?P<d>\d{5}|0\d{3})\s*(?=[),;])",
    re.IGNORECASE,
)
#: Text that ends a name when reading backwards or forwards from a code.
_NAME_STOP = re.compile(r"[,;:。!?、\n“”\"「」『』《》()\[\]【】]")
#: Leading words that are not part of the name that follows them.
_LEAD = re.compile(
    r"^(?:[的及和与并对将其称如为]|以及|包括|例如|其中|维持|首次覆盖|覆盖|给予|推荐|关注|建议关注|"
    r"重点推荐|重点关注|看好|上调|下调|研报称|发布研报称|报告称|认为|指出|表示|预计|公司|标的|个股)+"
)
_TRAIL = re.compile(r"(?:等等|等公司|等标的|等个股|等龙头|等企业|等)$")
_QUOTES = "“”\"'「」『』‘’《》【】[]<>"
#: Words that mark a fragment as a phrase rather than a company name.
NOT_A_NAME = (
    "的",
    "我们",
    "建议",
    "关注",
    "行业",
    "板块",
    "方向",
    "机会",
    "产业",
    "领域",
    "赛道",
    "估值",
    "反弹",
    "需求",
    "业绩",
    "增长",
    "布局",
    "受益",
    "标的",
    "龙头",
    "个股",
    "市场",
    "指数",
    "主线",
    "环节",
    "政策",
    "投资",
    "风险",
    "预期",
    "相关",
    "重点",
    "持续",
    "有望",
    "提升",
    "上涨",
    "下跌",
    "公司",
    "企业",
    "厂商",
    "平台",
    "整体",
    "以及",
    "应用",
    "评级",
    "目标价",
    "盈利",
    "预测",
    "配置",
    "推荐",
    "表现",
    "景气",
    "趋势",
    "逻辑",
    "空间",
    "弹性",
    "全球",
    "国内",
    "海外",
    "头部",
    "优质",
    "领先",
    "这些",
    "其他",
    "上述",
    "如下",
    "包括",
    "港股",
    "功能",
    "产品",
    "用户",
    "模型",
    "业务",
    "能力",
    "技术",
)
_EN_NOT_A_NAME = re.compile(
    r"\b(?:we|our|the|is|are|was|with|for|see|view|sector|stocks?|names|picks?|rating|target|price|"
    r"upside|downside|maintain|upgrade|downgrade|investors?|market|risks?)\b",
    re.IGNORECASE,
)


_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s*$",
    re.IGNORECASE,
)


def is_year(text: str, start: int, digits: str) -> bool:
    """Whether the number at ``start`` is a date's year, not a code: ``17 Apr 2025`` followed
    by ``HK Company Update`` reads as ``2025 HK`` once lines are joined."""
    return (
        len(digits) == 4
        and digits[:2] in ("19", "20")
        and _MONTH_BEFORE.search(text[max(0, start - 12) : start]) is not None
    )


def codes_in(text: str, start: int = 0, end: int | None = None) -> list[re.Match]:
    """:data:`CODE` matches in ``text[start:end]``, without the years of dates."""
    found = CODE.finditer(text, start, len(text) if end is None else end)
    return [m for m in found if not is_year(text, m.start(), (m.group("a") or m.group("b") or ""))]


def ticker_of_code(code: str) -> str | None:
    """``"00700"`` -> ``"0700.HK"``; None outside 1..99999."""
    n = int(code)
    if not 1 <= n <= 99_999:
        return None
    return f"{n:04d}.HK" if n < 10_000 else f"{n:05d}.HK"


def clean_name(text: str) -> str:
    """A company name as a reviewer should see it: NFKC, spaces dropped around Chinese,
    quotes, bullets, leading verbs and trailing ``等`` removed, ``- W`` -> ``-W``."""
    s = unicodedata.normalize("NFKC", text).strip()
    s = re.sub(r"\s*-\s*(SW|W|S|B)\b", r"-\1", s)
    s = "".join(
        ch
        for i, ch in enumerate(s)
        if not (ch.isspace() and (_han_at(s, i - 1) or _han_at(s, i + 1)))
    )
    s = s.strip(_QUOTES + " \t-•·*>").rstrip(".,;:。，；：、 ")
    s = re.sub(r"^\d{1,2}[.)、]\s*|^\(\d{1,2}\)\s*", "", s)
    prev = None
    while prev != s:
        prev = s
        s = _LEAD.sub("", s).strip(_QUOTES + " ")
        s = _TRAIL.sub("", s).strip(_QUOTES + " ")
    return " ".join(s.split())


def _han_at(s: str, i: int) -> bool:
    return 0 <= i < len(s) and is_han(s[i])


def looks_like_name(name: str) -> bool:
    """Whether a fragment can be a company name (so an unresolved one is worth listing)."""
    if not name or len(name) > 40:
        return False
    han = sum(1 for c in name if is_han(c))
    if han:
        if not 2 <= len(name) <= 16 or han < len(name) / 2:
            return False
        return not any(w in name for w in NOT_A_NAME) and not re.search(r"\d{3,}|%", name)
    words = name.split()
    if not 1 <= len(words) <= 5 or not name[0].isupper():
        return False
    return not _EN_NOT_A_NAME.search(name) and not re.search(r"\d{3,}|%", name)


@dataclass(frozen=True)
class Resolution:
    """A name looked up in the registry: a ticker, or why not and the candidates."""

    ticker: str | None
    problem: str | None = None  # "unresolved" or "ambiguous"
    candidates: tuple[str, ...] = ()
    exact: bool = True  # the name (or code) is the registry's own name, not an alias


def resolve_name(registry: Registry, name: str) -> Resolution:
    """Look ``name`` up; never raises for an unknown or ambiguous name."""
    try:
        ticker = registry.resolve(name)
    except AmbiguousTicker as exc:
        return Resolution(None, "ambiguous", tuple(exc.candidates))
    except TickerNotFound as exc:
        return Resolution(None, "unresolved", tuple(exc.candidates))
    return Resolution(ticker, exact=_is_main_name(registry, ticker, name))


def resolve_code(registry: Registry, code: str) -> Resolution:
    """Look a stock code up; an unknown code is unresolved (with the registry's near codes)."""
    ticker = ticker_of_code(code)
    if ticker is None:
        return Resolution(None, "unresolved")
    if registry.knows(ticker):
        return Resolution(ticker)
    return Resolution(None, "unresolved", tuple(registry.closest(ticker)))


def _is_main_name(registry: Registry, ticker: str, name: str) -> bool:
    from tracker.registry.resolve import name_key

    sec = registry.get(ticker)
    key = name_key(name)
    return any(key == name_key(n) for n in (sec.name_en, sec.name_zh_hans, sec.name_zh_hant) if n)


# --------------------------------------------------------------------------- names in running text

_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _keys(registry: Registry) -> tuple[dict[str, set[str]], int]:
    """Every registry name key (simplified, suffix-free, case-folded) -> tickers; longest key."""
    cached = _KEYS.get(registry)
    if cached is None:
        from tracker.registry.resolve import name_key

        keys: dict[str, set[str]] = {}
        for sec in registry:
            if sec.is_counter:
                continue
            for n in sec.names:
                k = name_key(n)
                # Two-letter Latin keys ("HK", "AI") match ordinary words.
                if len(k) >= 2 and not (k.isascii() and len(k) < 3):
                    keys.setdefault(k, set()).add(sec.ticker)
        cached = (keys, max((len(k) for k in keys), default=0))
        _KEYS[registry] = cached
    return cached


@dataclass(frozen=True)
class Mention:
    """A registry name found in running text (flow offsets)."""

    start: int
    end: int
    name: str
    tickers: tuple[str, ...]


def name_mentions(registry: Registry, text: str, start: int = 0) -> list[Mention]:
    """Registry names in ``text`` (already simplified), longest match first, left to right.

    Chinese names match anywhere; Latin names only as whole words, case-insensitively.
    ``start`` is added to the offsets returned.
    """
    keys, longest = _keys(registry)
    out: list[Mention] = []
    folded = text.casefold()
    i = 0
    while i < len(text):
        hit = None
        if is_han(text[i]):
            for n in range(min(longest, len(text) - i), 1, -1):
                k = text[i : i + n]
                if k in keys:
                    hit = (i + n, k)
                    break
        elif text[i].isalpha() and (i == 0 or not text[i - 1].isalnum()):
            words = list(re.finditer(r"[A-Za-z0-9.&'-]+", folded[i : i + 60]))
            for n in range(min(5, len(words)), 0, -1):
                end = i + words[n - 1].end()
                k = "".join(folded[i:end].split()).rstrip(".")
                if k in keys and (end == len(text) or not text[end].isalnum()):
                    hit = (end, k)
                    break
        if hit:
            end, k = hit
            out.append(Mention(start + i, start + end, text[i:end], tuple(sorted(keys[k]))))
            i = end
        else:
            i += 1
    return out


def name_before(registry: Registry, text: str, ticker: str | None) -> tuple[int, int] | None:
    """Where, in ``text``, the company name written just before a code ends up
    (``维持腾讯控股(`` -> the span of ``腾讯控股``).

    With ``ticker``, the longest tail of ``text`` naming that security wins; otherwise
    the tail after the last stop character, if it looks like a name once cleaned.
    """
    from tracker.registry.resolve import name_key

    body = text.rstrip(" (")
    stop = max((m.end() for m in _NAME_STOP.finditer(body)), default=0)
    if not body[stop:].strip():
        return None
    end = len(body)
    if ticker is not None:
        keys, _ = _keys(registry)
        for i in range(stop, end):
            cand = clean_name(body[i:end])
            if cand and ticker in keys.get(name_key(cand), ()):
                return i, end
    tail = body[stop:end]
    if is_han(tail[-1]) or (tail[-1] in "-WSB" and any(is_han(c) for c in tail[-6:])):
        start = max(stop, end - 20)
    else:
        m = re.search(r"(?:\b[A-Z][\w.&'-]*(?:\s+(?:&\s+)?[A-Z][\w.&'-]*)*)\s*$", tail)
        if m is None:
            return None
        start = stop + m.start()
    return (start, end) if looks_like_name(clean_name(body[start:end])) else None


def name_after(registry: Registry, text: str, ticker: str) -> tuple[int, int] | None:
    """The span, in ``text``, of a name of ``ticker`` written right after its code
    (a table row: ``00700.HK 腾讯控股 买入``)."""
    from tracker.registry.resolve import name_key

    keys, _ = _keys(registry)
    m = re.match(r"\s*([^\s,;:|()]{2,30})", text)
    if m is None:
        return None
    token = m.group(1)
    for j in range(len(token), 1, -1):
        if ticker in keys.get(name_key(clean_name(token[:j])), ()):
            return m.start(1), m.start(1) + j
    return None
