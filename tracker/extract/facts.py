"""The facts of one sentence or table cell: brokers, companies, ratings, targets, a day.

Every function takes normalised text (NFKC, simplified: see :func:`clean.normalise`)
and returns hits with their offsets, so that :mod:`tracker.extract.notes` can
tie each rating or target to the broker and company named nearest before it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from tracker.extract.targets import target_prices
from tracker.extract.vocab import BROKERS, RATING_RANKS, Broker, rank_of, rating_of

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry


@dataclass(frozen=True)
class BrokerHit:
    broker: Broker
    start: int
    end: int
    line: int | None = None


@dataclass(frozen=True)
class CompanyHit:
    ticker: str | None  # None: a company with no HKEX line (a US-only name)
    name: str
    start: int
    end: int
    listing: str | None = None  # "ADR" when named by its US symbol
    code: bool = False  # named by a code (HKEX or US), not only by name


@dataclass(frozen=True)
class RatingHit:
    start: int
    rating: str  # canonical
    words: str
    action: str | None = None  # initiate, maintain, upgrade, downgrade
    previous: str | None = None  # canonical previous rating


@dataclass(frozen=True)
class TargetFact:
    start: int
    value: float
    currency: str
    assumed: bool = False
    previous: float | None = None


# --------------------------------------------------------------------------- brokers


def _broker_patterns() -> list[tuple[re.Pattern, Broker]]:
    pats: list[tuple[re.Pattern, Broker, int]] = []
    for b in BROKERS:
        for n in b.names:
            pats.append((re.compile(re.escape(n)), b, len(n)))
        for n in (b.english, *b.english_variants):
            pats.append((re.compile(rf"\b{re.escape(n)}\b"), b, len(n)))
    pats.sort(key=lambda p: -p[2])
    return [(p, b) for p, b, _ in pats]


_BROKERS = _broker_patterns()
#: A broker's name used as a listed company's: 汇丰控股, 中金公司(03908).
_AS_COMPANY = re.compile(r"^(?:控股|\s*\(\s*\d{3,5}|\s*\d{4,5}\s*\.?\s*HK)", re.IGNORECASE)


def brokers_in(text: str) -> list[BrokerHit]:
    """Brokers named in ``text``, longest name first, left to right, without overlaps."""
    taken = [False] * len(text)
    hits: list[BrokerHit] = []
    for pat, broker in _BROKERS:
        for m in pat.finditer(text):
            if any(taken[m.start() : m.end()]) or _AS_COMPANY.match(text[m.end() :]):
                continue
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
            hits.append(BrokerHit(broker, m.start(), m.end()))
    return sorted(hits, key=lambda h: h.start)


# --------------------------------------------------------------------------- companies


@cache
def us_lines() -> dict[str, str]:
    """US symbol -> HKEX ticker of companies listed in both places (registry/data/us_lines.csv)."""
    path = resources.files("tracker.registry").joinpath("data/us_lines.csv")
    with path.open(encoding="utf-8") as fh:
        return {r["us_symbol"]: f"{int(r['code']):04d}.HK" for r in csv.DictReader(fh)}


_HK_CODE = re.compile(
    r"\(\s*(?P<p>\d{3,5})\s*(?:\.\s*HK)?\s*\)|(?<![\d.,])(?P<s>\d{4,5})\s*(?:\.\s*HK\b|\s+HK\b)"
    r"|^\s*(?P<alone>\d{4,5})\s*$",
    re.IGNORECASE,
)
_US_CODE = re.compile(r"\(?\s*\b(?P<sym>[A-Z]{1,5})\s*\.\s*US\b\s*\)?")
_NAME_TAIL = re.compile(r"[\w\u3400-\u9fff&.-]*(?:-[A-Z]{1,2})?\s*$")


def companies_in(text: str, registry: Registry) -> list[CompanyHit]:
    """Companies in ``text``: HKEX codes the registry knows, US symbols, registry names.

    A name written right before its code is one hit. A US symbol of a company
    listed in Hong Kong (``BABA.US``) gives its HKEX ticker with listing ADR;
    any other US symbol (``VIPS.US``) is a company without an HKEX line.
    """
    from tracker.extract.names import clean_name, is_year, name_before, name_mentions
    from tracker.registry.resolve import ticker_from_code

    hits: list[CompanyHit] = []
    for m in _HK_CODE.finditer(text):
        digits = m.group("p") or m.group("s") or m.group("alone")
        code = int(digits)
        if code not in _codes(registry) or (m.group("s") and is_year(text, m.start(), digits)):
            continue
        ticker = ticker_from_code(code)
        span = name_before(registry, text[: m.start()], ticker)
        sec = registry.get(ticker)
        name = clean_name(text[span[0] : span[1]]) if span else None
        name = name or _name_before(text[: m.start()]) or sec.name_zh_hans or sec.label
        hits.append(CompanyHit(ticker, name, m.start(), m.end(), code=True))
    lines = us_lines()
    for m in _US_CODE.finditer(text):
        sym = m.group("sym")
        name = (_name_before(text[: m.start()]) or sym).strip()
        hits.append(
            CompanyHit(
                lines.get(sym),
                name,
                m.start(),
                m.end(),
                "ADR" if sym in lines else None,
                code=True,
            )
        )
    for mention in name_mentions(registry, text):
        if len(mention.tickers) != 1 or any(
            h.start <= mention.end + 2 and mention.start < h.end + 1 for h in hits
        ):
            continue
        if brokers_in(mention.name):
            continue  # 中金, 汇丰: the broker, not the listed company
        hits.append(CompanyHit(mention.tickers[0], mention.name, mention.start, mention.end))
    return sorted(hits, key=lambda h: h.start)


@cache
def _codes_of(registry_id: int, registry: Registry) -> frozenset[int]:
    return frozenset(s.code for s in registry)


def _codes(registry: Registry) -> frozenset[int]:
    return _codes_of(id(registry), registry)


#: Words that run into a name written before its code: 将渣打(02888), 维持美团(03690).
_LEAD = re.compile(r"^(?:.*?(?:将|把|对|予|维持|给予|下调|上调|认为|预期|预计|指出|、))+")


#: English words written before a code that are not the company's name.
_NOT_NAMES = {"ADR", "ADRS", "ADS", "ADSS", "H", "HK", "US", "NYSE", "NASDAQ"}


def _name_before(text: str) -> str | None:
    """The name written right before a code, without a verb or particle run into it."""
    m = re.search(
        r"([\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z&.-]{0,15}(?:-[A-Z]{1,2})?)\s*$", text
    )
    if m is None:
        return None
    name = m.group(1)
    if not name.isascii():
        name = _LEAD.sub("", name) or name
    elif name[:1].islower() or name.upper() in _NOT_NAMES:
        return None  # "the Hong Kong-listed shares (02015.HK)", "the ADR (LI.US)"
    return name


# --------------------------------------------------------------------------- ratings


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_W = _alternation(RATING_RANKS)
_Q = r"[\"'「」『』“”‘’]"
_UP = r"上调|调升|调高|提升|上修|升级|升"
_DOWN = r"下调|调降|调低|下修|降级|降低|降|削"
_TO = r"(?:至|为|到)"
_RATING_FORMS: list[tuple[str, re.Pattern]] = [
    # 评级由中性上调至买入 / 由「持有」下调至「卖出」
    (
        "change",
        re.compile(
            rf"(?:由|从)\s*{_Q}?(?P<old>{_W}){_Q}?\s*(?:评级)?\s*(?P<verb>{_UP}|{_DOWN}|调整)\s*"
            rf"{_TO}\s*{_Q}?(?P<new>{_W})",
            re.IGNORECASE,
        ),
    ),
    # 中性 -> 沽售, 买入→中性 (table cells and prose)
    (
        "arrow",
        re.compile(
            rf"{_Q}?(?P<old>{_W}){_Q}?\s*(?:->|→|=>|⇒|➝|－>|—>)\s*{_Q}?(?P<new>{_W})",
            re.IGNORECASE,
        ),
    ),
    # upgrade Kingdee to Outperform from Neutral
    (
        "change",
        re.compile(
            rf"(?P<verb>upgrad\w*|downgrad\w*|rais\w*|cut\w*|lower\w*)\b[^.;]{{0,60}}?\bto\s+"
            rf"{_Q}?(?P<new>{_W}){_Q}?(?:\s+from\s+{_Q}?(?P<old>{_W}))?",
            re.IGNORECASE,
        ),
    ),
    # 把美团评级降至「中性」/ 下调同程旅行(00780.HK)评级至「中性」/ 评级下调至中性
    (
        "change",
        re.compile(
            rf"(?P<verb>{_UP}|{_DOWN})[^,，。;；]{{0,25}}?评级\s*{_TO}\s*{_Q}?(?P<new>{_W})"
            rf"|评级\s*(?P<verb2>{_UP}|{_DOWN})\s*{_TO}\s*{_Q}?(?P<new2>{_W})",
            re.IGNORECASE,
        ),
    ),
    # 首次覆盖优于大市 / Initiate with OUTPERFORM / 首予「买入」
    (
        "initiate",
        re.compile(
            rf"(?:首次覆盖|首予|首次给予|首次评级|initiat\w*(?:\s+coverage)?)[^,，。;；]{{0,30}}?"
            rf"(?:with\s+(?:an?\s+)?)?{_Q}?(?P<new>{_W})\b",
            re.IGNORECASE,
        ),
    ),
    # 维持美团「买入」评级 / 维持行业首选的「买入」评级 / keeping its "outperform" rating
    (
        "maintain",
        re.compile(
            rf"(?:维持|重申|保持|继续给予|keep\w*|kept|maintain\w*|reiterat\w*|retain\w*)"
            rf"[^,，。;；]{{0,25}}?{_Q}(?P<new>{_W}){_Q}",
            re.IGNORECASE,
        ),
    ),
    # 维持买入评级 / 維持買入 / 评级维持「买入」/ kept its rating at Outperform /
    # Maintain Outperform / reiterate Buy on Tencent
    (
        "maintain",
        re.compile(
            rf"(?:维持|重申)\s*(?P<new>{_W})(?:\s*(?:投资)?评级)?"
            rf"|\b(?:maintain\w*|reiterat\w*|retain\w*)\s+(?:its\s+|our\s+|an?\s+)?(?P<new4>{_W})\b"
            rf"|评级\s*(?:维持|保持)\s*{_Q}?(?P<new2>{_W})"
            rf"|(?:kept|keep\w*|maintain\w*|reiterat\w*)\s+(?:its|our|the|a)?\s*rating\s+"
            rf"(?:at|of|as)\s+{_Q}?(?P<new3>{_W})\b",
            re.IGNORECASE,
        ),
    ),
    # 评级“持有” / 评级 优于大市 / Rating: Buy / 给予小米“买入”评级 / rate the stock Buy
    (
        "plain",
        re.compile(
            rf"(?:评级|\brating)\s*[:：为是]?\s*{_Q}?(?P<new>{_W})(?![\w\u3400-\u9fff])"
            rf"|{_Q}(?P<new2>{_W}){_Q}\s*(?:投资)?评级"
            rf"|\brate[sd]?\s+(?:the\s+stock|the\s+shares|it)\s+{_Q}?(?P<new3>{_W})\b"
            rf"|\b(?:an?|its|our)\s+{_Q}?(?P<new4>{_W}){_Q}?\s+rating\b",
            re.IGNORECASE,
        ),
    ),
]
#: ``ZTO Express (2057 HK) - Overweight, TP …`` / ``腾讯(00700):买入`` — a rating straight after
#: a stock code and a dash or colon, ending its clause.
_AFTER_CODE = re.compile(
    rf"(?:\)|\bHK\b)\s*[-–—:：]\s*{_Q}?(?P<new>{_W}){_Q}?(?=\s*(?:$|[,，.。;；(]))",
    re.IGNORECASE,
)
#: ``Broker: Buy, target price …`` — a rating straight after a broker and a colon.
_AFTER_COLON = re.compile(rf"[:：]\s*{_Q}?(?P<new>{_W}){_Q}?\s*(?=$|[,，.。;；\[(])", re.IGNORECASE)


def _group(m: re.Match, name: str) -> str | None:
    for g in (name, f"{name}2", f"{name}3", f"{name}4"):
        if g in m.re.groupindex and m.group(g):
            return m.group(g)
    return None


def _action(kind: str, m: re.Match, old: str | None, new: str) -> str | None:
    if kind in ("initiate", "maintain"):
        return kind
    if kind == "plain":
        return None
    verb = (_group(m, "verb") or "").lower()
    if old is not None:
        a, b = rank_of(old), rank_of(new)
        if a is not None and b is not None:
            return "upgrade" if b > a else "downgrade" if b < a else "maintain"
    if re.fullmatch(_UP, verb) or verb.startswith(("upgrad", "rais")):
        return "upgrade"
    if re.fullmatch(_DOWN, verb) or verb.startswith(("downgrad", "cut", "lower")):
        return "downgrade"
    return None


def ratings_in(text: str, bare: bool = False) -> list[RatingHit]:
    """Ratings given in ``text``, with the action and the previous rating when written.

    With ``bare``, ``text`` is a table cell and a rating word alone counts.
    """
    hits: list[RatingHit] = []
    taken: list[tuple[int, int]] = []
    forms = list(_RATING_FORMS)
    for kind, form in forms:
        for m in form.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            new = _group(m, "new")
            if new is None or rating_of(new) is None:
                continue
            old = _group(m, "old")
            hits.append(
                RatingHit(
                    m.start(),
                    rating_of(new) or "",
                    m.group(0).strip(),
                    _action(kind, m, old, new),
                    rating_of(old) if old else None,
                )
            )
            taken.append((m.start(), m.end()))
    for m in _AFTER_CODE.finditer(text):
        if not any(a < m.end() and m.start() < b for a, b in taken):
            hits.append(RatingHit(m.start(), rating_of(m.group("new")) or "", m.group(0).strip()))
            taken.append((m.start(), m.end()))
    for m in _AFTER_COLON.finditer(text):
        before = brokers_in(text[: m.start()])
        if (
            before
            and before[-1].end >= m.start() - 1
            and not any(a < m.end() and m.start() < b for a, b in taken)
        ):
            hits.append(RatingHit(m.start(), rating_of(m.group("new")) or "", m.group(0).strip()))
    if bare and not hits:
        m = re.match(
            rf"\s*{_Q}?(?P<new>{_W}){_Q}?(?:\s+[A-Za-z ]+)?(?:\s*\([^()]*\))?\s*$",
            text,
            re.IGNORECASE,
        )
        if m and rating_of(m.group("new")):
            hits.append(RatingHit(0, rating_of(m.group("new")) or "", text.strip()))
    return sorted(hits, key=lambda h: h.start)


# --------------------------------------------------------------------------- targets

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CB = r"HK\$|HKD|US\$|USD|RMB|CNY|人民币|港币|港元|美元|\$"
_CA = r"港元|港币|HKD|美元|USD|元人民币|人民币|RMB|CNY|元"
_P = rf"(?:(?P<{{p}}cb>{_CB})\s*(?P<{{p}}vb>{_NUM})|(?P<{{p}}va>{_NUM})\s*(?P<{{p}}ca>{_CA}){{q}})"
_KW = r"(?:目标价格|目标股价|目标价|target\s+price|price\s+target|\bTP\b|\bPT\b)"


def _price(p: str, optional_currency: bool = False) -> str:
    return _P.replace("{p}", p).replace("{q}", "?" if optional_currency else "")


_TARGET_FORMS = [
    # 目标价下调9%,由159港元降至144港元 / 目标价由 24元调整至25元
    re.compile(
        rf"{_KW}[^。;；]{{0,30}}?(?:由|从)\s*{_price('o', True)}[^\d。;；]{{0,10}}?{_TO}\s*"
        rf"{_price('n')}",
        re.IGNORECASE,
    ),
    # 目标价方面,以摩通大削三成至105港元 / 大削目标价三成至105元
    re.compile(rf"{_KW}[^。;；\d]{{0,20}}?{_TO}\s*{_price('n')}", re.IGNORECASE),
    # cut its target price for Alibaba (09988) to HKD212.7 from HKD228.2; price target on
    # the shares (02015.HK) to HK$120 (a period inside a code does not end the span)
    re.compile(
        rf"{_KW}\s+(?:for|on)\s+(?:[^.;]|\.(?=\S)){{1,60}}?\bto\s+{_price('n')}"
        rf"(?:\s*,?\s*from\s+{_price('o', True)})?",
        re.IGNORECASE,
    ),
    # an HKD81 PT
    re.compile(rf"(?P<ncb>HK\$|HKD|US\$|USD)\s*(?P<nvb>{_NUM})\s*(?:{_KW})", re.IGNORECASE),
]
_AND_ON = re.compile(
    rf",?\s*and\s+(?:on|for)\s+(?:[^.;]|\.(?=\S)){{1,60}}?\bto\s+{_price('n')}"
    rf"\s*,?\s*from\s+{_price('o', True)}",
    re.IGNORECASE,
)
_CURRENCY = {
    "港元": "HKD",
    "港币": "HKD",
    "hk$": "HKD",
    "hkd": "HKD",
    "美元": "USD",
    "us$": "USD",
    "usd": "USD",
    "人民币": "CNY",
    "元人民币": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
}
#: Words that make a target someone else's: an average, a consensus, a forecast page.
_NOT_OURS = re.compile(r"(?:平均|average|consensus|市场共识|一致预期|预测|mean)\s*$", re.IGNORECASE)
_CONSENSUS = re.compile(
    r"average\s+target|平均目标价|consensus|市场共识|一致预期|综合\d*份", re.IGNORECASE
)
#: Words that put a USD target on the US line.
_US_LINE = re.compile(r"ADR|ADS|美股|预托证券|US\s+line|US-listed", re.IGNORECASE)


def is_consensus(text: str) -> bool:
    """Whether a sentence reports an average or consensus rather than one broker's call."""
    return bool(_CONSENSUS.search(text))


def _value(m: re.Match, p: str) -> tuple[float | None, str | None]:
    raw = m.group(f"{p}vb") if f"{p}vb" in m.re.groupindex else None
    raw = raw or (m.group(f"{p}va") if f"{p}va" in m.re.groupindex else None)
    if raw is None:
        return None, None
    words = [
        m.group(f"{p}{g}")
        for g in ("cb", "ca")
        if f"{p}{g}" in m.re.groupindex and m.group(f"{p}{g}")
    ]
    code = next((_CURRENCY[w.lower()] for w in words if w.lower() in _CURRENCY), None)
    return float(raw.replace(",", "")), code


def targets_in(text: str) -> list[TargetFact]:
    """Target prices in a sentence, with the previous target when it moved.

    Currency: 港元/港币/HK$/HKD -> HKD, 美元/US$/USD -> USD, 人民币/RMB -> CNY; a bare
    元 or $ is HKD, marked assumed. A target after 平均/average/consensus/预测 is not
    a broker's call and is left out.
    """
    out: list[TargetFact] = []
    spans: list[tuple[int, int]] = []
    for form in _TARGET_FORMS:
        for m in form.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in spans):
                continue
            value, cur = _value(m, "n")
            if value is None or not 0 < value < 1e7:
                continue
            if re.match(r"\s*(?:%|倍|x\b|亿|万|billion|million|bn|mn)", text[m.end() :]):
                continue
            prev, prev_cur = _value(m, "o") if "ovb" in m.re.groupindex else (None, None)
            currency = cur or prev_cur
            out.append(TargetFact(m.start(), value, currency or "HKD", currency is None, prev))
            spans.append((m.start(), m.end()))
    # "..., and on the ADR (LI.US) to US$31 from US$24": a second target in the same
    # construction, after a first one.
    for m in _AND_ON.finditer(text):
        if not any(b <= m.start() for _, b in spans) or any(
            a < m.end() and m.start() < b for a, b in spans
        ):
            continue
        value, cur = _value(m, "n")
        prev, prev_cur = _value(m, "o")
        if value is None or not 0 < value < 1e7:
            continue
        currency = cur or prev_cur
        out.append(TargetFact(m.start(), value, currency or "HKD", currency is None, prev))
        spans.append((m.start(), m.end()))
    for hit in target_prices(text):
        if any(a < hit.end and hit.start < b for a, b in spans):
            continue
        out.append(
            TargetFact(hit.start, hit.value, hit.currency, hit.currency_assumed, hit.previous)
        )
        spans.append((hit.start, hit.end))
    kept = [t for t in out if not _NOT_OURS.search(text[max(0, t.start - 12) : t.start])]
    return sorted(kept, key=lambda t: t.start)


def us_line(text: str) -> bool:
    """Whether a sentence speaks of the US line (ADR, ADS, 美股, 预托证券)."""
    return bool(_US_LINE.search(text))


_CELL_PRICE = re.compile(
    rf"(?:{_price('o', True)}\s*(?:->|→|=>|⇒|➝)\s*)?{_price('n', True)}\s*$", re.IGNORECASE
)


_CELL_NOTE = re.compile(r"\s*\(([^()\d]*)\)\s*$")


def table_target(cell: str, currency: str | None = None) -> TargetFact | None:
    """A table cell's target: ``580``, ``98元``, ``483港元→580港元``, ``5.5元->7.2元``.

    ``currency`` is the column's (``目标价(港元)``), used when the cell writes none.
    """
    # A note after the price, in brackets: 140(维持), 52 (unchanged), 7.5 (HK$).
    note = _CELL_NOTE.search(cell)
    if note is not None:
        cell = cell[: note.start()]
        currency = _CURRENCY.get(note.group(1).strip().lower(), currency)
    m = _CELL_PRICE.match(cell.strip())
    if m is None:
        return None
    value, cur = _value(m, "n")
    if value is None or value <= 0:
        return None
    prev, prev_cur = _value(m, "o")
    got = cur or prev_cur
    if got == "HKD" and currency == "USD":
        got = None
    final = got or currency
    return TargetFact(0, value, final or "HKD", final is None, prev)


# --------------------------------------------------------------------------- days

_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def day_in(text: str, note_date: date | None) -> date | None:
    """A day written without a year (``3月4日``), dated by the note's year; else None."""
    if note_date is None:
        return None
    m = _MONTH_DAY.search(text)
    if m is None:
        return None
    try:
        day = date(note_date.year, int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None
    if day > note_date:
        try:
            day = date(note_date.year - 1, day.month, day.day)
        except ValueError:
            return None
    return day


def row_date(cell: str) -> date | None:
    """A table cell's date: ``19/08/2024`` (day first, the Hong Kong order), ``2024-08-19``."""
    from tracker.extract.dates import numeric_date

    return numeric_date(cell.strip())
