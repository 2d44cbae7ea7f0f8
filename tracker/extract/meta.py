"""The report's own details: broker, title, date and analysts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker.extract.text import Source, is_han, strip_bullet
from tracker.extract.vocab import BROKERS, Broker

Confidence = str  # "high", "medium" or "low"


@dataclass(frozen=True)
class Found:
    """A value read from the text, where it was and how sure the reading is."""

    value: object
    line: int | None
    confidence: Confidence
    text: str = ""  # the source words, for the draft's comment


# --------------------------------------------------------------------------- broker

_FORMER = re.compile(r"(?:曾就职于|曾任职于|曾任|曾在|就职于|任职于|来自|加入)\s*$")
_OWN = re.compile(
    r"^\s*(?:股份有限公司|有限责任公司|有限公司|研究所|研究院|研究部|证券研究所|发布|研报|报告|认为|指出|称|表示|Research|Securities)"
)
_AS_STOCK = re.compile(r"^\s*(?:[(]\s*\d{4,5}|\d{4,5}\s*\.?\s*HK)", re.IGNORECASE)


def _broker_patterns() -> list[tuple[re.Pattern, Broker]]:
    pats = []
    for b in BROKERS:
        for n in b.names:
            pats.append((re.compile(re.escape(n)), b, len(n)))
        for n in b.english_variants:
            pats.append((re.compile(rf"\b{re.escape(n)}\b"), b, len(n)))
    pats.sort(key=lambda p: -p[2])
    return [(p, b) for p, b, _ in pats]


_BROKER_PATTERNS = _broker_patterns()


def broker_named(name: str) -> Broker | None:
    """The table entry for a broker name (English or Chinese, traditional accepted)."""
    from tracker.extract.text import to_simplified

    key = to_simplified(name.strip()).casefold()
    for b in BROKERS:
        if key in {n.casefold() for n in (*b.names, b.english, *b.english_variants)} or key == b.id:
            return b
    return None


def find_broker(src: Source, source_name: str = "") -> Found | None:
    """The broker who wrote the report: the table's name mentioned most, as its own.

    A mention counts double in the first three lines or followed by 股份有限公司 /
    研究所 / 发布 / 研报...; it does not count after 曾就职于 (an analyst's past
    employer) or before a stock code (the broker as a covered stock). Failing
    the text, a token of the file name equal to a broker id (``huaan-...``).
    """
    text = src.text
    taken = [False] * len(text)
    scores: dict[str, float] = {}
    first: dict[str, tuple[int, int]] = {}
    by_id = {b.id: b for b in BROKERS}
    early = src.line_starts[3][0] if len(src.line_starts) > 3 else len(text)
    for pat, broker in _BROKER_PATTERNS:
        for m in pat.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            if _FORMER.search(text[max(0, m.start() - 6) : m.start()]) or _AS_STOCK.match(
                text[m.end() :]
            ):
                continue
            weight = 1.0 + (m.start() < early) + bool(_OWN.match(text[m.end() :]))
            scores[broker.id] = scores.get(broker.id, 0) + weight
            if broker.id not in first or m.start() < first[broker.id][0]:
                first[broker.id] = (m.start(), m.end())
    if scores:
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], first[kv[0]][0]))
        best, score = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 0
        confidence = "high" if score >= 2 and score >= 2 * runner else "medium"
        a, b = first[best]
        return Found(by_id[best], src.line(a), confidence, src.original(a, b))
    for token in re.split(r"[-_.\s]+", source_name.lower()):
        if token in by_id:
            return Found(by_id[token], None, "low", f"file name {source_name}")
    return None


# --------------------------------------------------------------------------- title

_BOILERPLATE = re.compile(
    r"^(?:证券研究报告|研究报告|行业研究|公司研究|行业点评|公司点评|行业报告|公司报告|港股研究|港股公司|"
    r"行业周报|行业深度|公司深度|深度报告|点评报告|策略研究|宏观研究|主要观点|核心观点|投资要点|报告摘要|"
    r"摘要|投资评级|评级|报告日期|发布日期|日期|分析师|联系人|执业|证书|请务必|敬请|本报告|http|www\.|"
    r"page\b|第\s*\d+\s*页|research report|equity research|company report|industry report|"
    r"analysts?\b|rating\b|target price|date\b)",
    re.IGNORECASE,
)
_QUOTED_TITLE = re.compile(r"(?:研报|报告|发布|发表|题为)[^《\n]{0,12}《(?P<t>[^》\n]{4,80})》")
_TITLE_LABEL = re.compile(
    r"(?:报告标题|标题|题目|Title)\s*[:]\s*(?P<t>[^\n]{4,100})", re.IGNORECASE
)


def find_title(src: Source) -> Found | None:
    """The report's title: a labelled one, one quoted 《...》 after 研报/报告, or the
    first line near the top that is not boilerplate (dates, ratings, labels)."""
    m = _TITLE_LABEL.search(src.text)
    if m:
        return Found(src.original(m.start("t"), m.end("t")), src.line(m.start("t")), "high")
    m = _QUOTED_TITLE.search(src.text)
    if m:
        return Found(src.original(m.start("t"), m.end("t")), src.line(m.start("t")), "medium")
    head: tuple[str, int] | None = None
    for k, (off, li) in enumerate(src.line_starts[:12]):
        line_end = src.line_starts[k + 1][0] if k + 1 < len(src.line_starts) else len(src.text)
        norm = strip_bullet(src.text[off:line_end]).strip()
        if (
            _BOILERPLATE.match(norm)
            or _DATE.fullmatch(norm)
            or len(norm) < 6
            or len(norm) > 90
            or _only_broker(norm)
        ):
            continue
        han = sum(1 for c in norm if is_han(c))
        words = len(re.findall(r"[A-Za-z]{2,}", norm))
        text = _line_or_paragraph(src, off, line_end)
        if (han >= 2 or words >= 1) and _CODE_ONLY.fullmatch(norm) and not head:
            head = (text, li + 1)  # "金蝶国际(00268.HK)": the subtitle follows
            continue
        if han >= 4 or words >= 3:
            if head:
                return Found(f"{head[0]} {text}", head[1], "medium")
            return Found(text, li + 1, "medium")
    return Found(head[0], head[1], "medium") if head else None


def _line_or_paragraph(src: Source, off: int, line_end: int) -> str:
    """The source text of a line, with the next line when that is a wrapped tail (``扭亏``)."""
    li = src.where[off][0]
    text = " ".join(_strip_markers(src.lines[li]).split())
    nxt = next((o for o, _ in src.line_starts if o > off), None)
    if nxt is not None and src.text[nxt - 1 : nxt] != "\n":
        after = [o for o, _ in src.line_starts if o > nxt]
        tail_end = after[0] if after else len(src.text)
        tail = src.text[nxt:tail_end].strip()
        if 0 < len(tail) <= 6 and all(is_han(c) for c in tail):
            return text + src.original(nxt, tail_end)
    return text


_CODE_ONLY = re.compile(r"[^\s(:,]{2,16}\s*\(\s*[^)]{3,12}\)")
_HOUSE_WORDS = re.compile(
    r"研究所|研究院|研究部|研究中心|证券研究报告|股份有限公司|有限公司|research|securities|limited|ltd|"
    r"行业研究|公司研究|港股研究|global markets|equity research|company update|sector update|"
    r"industry update|company report|industry report|flash note|[\s·|/-]",
    re.IGNORECASE,
)


def _only_broker(line: str) -> bool:
    """A line that is a broker's name (and "研究所", "Research"...) and nothing else."""
    rest = line
    for pat, _ in _BROKER_PATTERNS:
        rest = pat.sub("", rest)
    return rest != line and len(_HOUSE_WORDS.sub("", rest)) <= 2


def _strip_markers(line: str) -> str:
    return re.sub(r"\[Table_[A-Za-z0-9_]*\]", "", line)


# --------------------------------------------------------------------------- date

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:年|[-/.])\s*(?P<m>\d{1,2})\s*(?:月|[-/.])\s*(?P<d>\d{1,2})\s*日?(?!\d)"
    r"|(?P<d2>\d{1,2})\s+(?P<mon>[A-Za-z]{3})[a-z]*\.?,?\s+(?P<y2>(?:19|20)\d{2})"
    r"|(?P<mon3>[A-Za-z]{3})[a-z]*\.?\s+(?P<d3>\d{1,2}),?\s+(?P<y3>(?:19|20)\d{2})"
)
_DATE_LABEL = re.compile(
    r"(?:报告日期|发布日期|发布时间|报告发布日期|出版日期|发布于|日期"
    r"|Report date|Publication date|Published|Date)\s*[:]?\s*$",
    re.IGNORECASE,
)
_FILE_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")


def _as_date(m: re.Match) -> date | None:
    try:
        if m.group("y"):
            return date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if m.group("y2"):
            return date(int(m.group("y2")), _MONTHS[m.group("mon").lower()], int(m.group("d2")))
        return date(int(m.group("y3")), _MONTHS[m.group("mon3").lower()], int(m.group("d3")))
    except (KeyError, ValueError):
        return None


def find_date(src: Source, source_name: str = "") -> Found | None:
    """The publication date: a labelled date (报告日期: ...), else a date standing on
    its own short line near the top, else a date in the file name."""
    candidates = []
    for m in _DATE.finditer(src.text):
        d = _as_date(m)
        if d is None or src.zone(m.start()) == "disclaimer":
            continue
        candidates.append((m, d))
    for m, d in candidates:
        if _DATE_LABEL.search(src.text[max(0, m.start() - 16) : m.start()]):
            return Found(d, src.line(m.start()), "high", src.original(m.start(), m.end()))
    top = src.line_starts[20][0] if len(src.line_starts) > 20 else len(src.text)
    for m, d in candidates:
        if m.start() >= top:
            break
        a = src.text.rfind("\n", 0, m.start()) + 1
        b = src.text.find("\n", m.end())
        rest = (
            src.text[a : m.start()] + src.text[m.end() : b if b >= 0 else len(src.text)]
        ).strip()
        if len(rest) <= 20:
            return Found(d, src.line(m.start()), "medium", src.original(m.start(), m.end()))
    m2 = _FILE_DATE.search(source_name)
    if m2:
        try:
            d = date(int(m2.group(1)), int(m2.group(2)), int(m2.group(3)))
        except ValueError:
            return None
        return Found(d, None, "low", f"file name {source_name}")
    return None


# --------------------------------------------------------------------------- analysts

_HAN_NAME = r"[\u4e00-\u9fff·]{2,4}"
#: Labels that may follow a name directly once PDF spaces are gone (张三执业证书编号).
_AFTER_NAME = r"执业|证书|SAC|邮箱|电话|联系|登记|编号|研究助理|分析师"
_ANALYST = re.compile(
    rf"(?:首席分析师|资深分析师|高级分析师|证券分析师|分析师|研究员)\s*[:]?\s*(?P<name>{_HAN_NAME}?)(?=[^\u4e00-\u9fff]|{_AFTER_NAME}|$)"
    r"|\bAnalysts?\s*:\s*(?P<en>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,2})"
    r"|\b(?P<cfa>[A-Z][a-z]+[ -][A-Z][A-Za-z]+),\s*CFA\b"
)
#: More names after the first: 分析师：张三、李四
_MORE_NAMES = re.compile(
    rf"\s*[、,和]\s*(?P<name>{_HAN_NAME}?)(?=[^\u4e00-\u9fff]|{_AFTER_NAME}|$)"
)
_REGISTRATION = re.compile(r"S\d{13}(?!\d)")
_NOT_A_PERSON = (
    "声明",
    "承诺",
    "简介",
    "姓名",
    "介绍",
    "团队",
    "证券",
    "研究",
    "分析",
    "执业",
    "编号",
    "证书",
    "邮箱",
    "电话",
    "联系",
    "发布",
    "发表",
    "研报",
    "认为",
    "指出",
    "表示",
    "近日",
    "报告",
    "预计",
    "维持",
    "首次",
    "给予",
    "下调",
    "上调",
)


@dataclass(frozen=True)
class AnalystFound:
    name: str  # as written (original script)
    registration: str | None
    line: int
    confidence: Confidence


def find_analysts(src: Source, broker: Broker | None = None) -> list[AnalystFound]:
    """Analysts named with a label (分析师: 金荣 / Analyst: ...), by a registration number
    (``S`` and 13 digits) or, in articles, as ``<broker><name>团队发布研报``."""
    text = src.text
    found: list[list] = []  # [name, registration, pos, confidence]
    for m in _ANALYST.finditer(text):
        group = next(g for g in ("name", "en", "cfa") if m.group(g))
        if any(w in m.group(group) for w in _NOT_A_PERSON):
            continue
        found.append([src.original(m.start(group), m.end(group)), None, m.start(group), "high"])
        end = m.end(group)
        while group == "name" and (more := _MORE_NAMES.match(text, end)):
            if any(w in more.group("name") for w in _NOT_A_PERSON):
                break
            found.append(
                [
                    src.original(more.start("name"), more.end("name")),
                    None,
                    more.start("name"),
                    "high",
                ]
            )
            end = more.end("name")
    if broker is not None:
        names = "|".join(re.escape(n) for n in broker.names)
        pat = re.compile(
            rf"(?:{names})(?:研究所|研究院)?(?:首席)?(?:分析师)?(?P<name>[\u4e00-\u9fff]{{2,3}}?)"
            r"(?:团队|等人|等)?(?:近日)?(?:发布|发表|在研报|研报|认为|指出)"
        )
        for m in pat.finditer(text):
            name = m.group("name")
            if not any(w in name for w in _NOT_A_PERSON):
                found.append(
                    [src.original(m.start("name"), m.end("name")), None, m.start("name"), "medium"]
                )
    for m in _REGISTRATION.finditer(text):
        owner = None
        for entry in sorted(found, key=lambda e: -e[2]):
            if entry[1] is None and 0 <= m.start() - entry[2] <= 400:
                owner = entry
                break
        if owner is None:
            before = re.search(
                rf"({_HAN_NAME})\s*[(:]?\s*$", text[max(0, m.start() - 12) : m.start()]
            )
            if before and not any(w in before.group(1) for w in _NOT_A_PERSON):
                s = m.start() - len(text[max(0, m.start() - 12) : m.start()]) + before.start(1)
                owner = [src.original(s, s + len(before.group(1))), None, s, "high"]
                found.append(owner)
        if owner is not None:
            owner[1] = m.group(0)
    out: dict[str, AnalystFound] = {}
    for name, reg, pos, conf in sorted(found, key=lambda e: e[2]):
        prev = out.get(name)
        if prev is None or (prev.registration is None and reg is not None):
            out[name] = AnalystFound(
                name, reg or (prev.registration if prev else None), src.line(pos), conf
            )
    return list(out.values())
