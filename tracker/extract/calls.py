"""Recommended companies: rating phrases, recommendation lists, coded table rows.

Three kinds of evidence, strongest first:

* **rating phrases** — ``维持腾讯控股(00700)“买入”评级``, ``首次覆盖给予增持``,
  ``评级由增持上调至买入``, ``投资评级: 买入(维持)``, ``maintain Buy on Tencent``,
  ``upgrade Meituan to Overweight``. The company is the one named inside the
  phrase, else a coded company earlier in the sentence, else the report's
  subject (a company report's title company), else a registry name earlier in
  the sentence. With 行业/板块 and no company, it is the industry's rating.
* **lists** after 相关公司 / 建议关注 / 重点推荐 / 受益标的 / top picks...: the
  sentence that follows (items split at ``；``, names at ``、``/``,``, a
  thesis before ``的`` or after ``:``), or the lines that follow when the
  trigger ends its line (``美团:估值回调后具备修复空间``). Each is an
  ``attention`` call unless the item carries a rating (``腾讯控股(买入)``).
* **coded rows** — a stock code on a line with one rating word (a valuation
  table), and any coded company inside the investment-advice section.

Text in disclaimers and in the rating definitions is never read for calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker.constants import ATTENTION
from tracker.extract.names import (
    CODE,
    clean_name,
    looks_like_name,
    name_after,
    name_before,
    name_mentions,
    resolve_code,
    resolve_name,
)
from tracker.extract.text import Source, is_han, to_simplified
from tracker.extract.vocab import EN_ACTIONS, EN_RATING, ZH_ACTIONS, ZH_RATING, rating_of, zh_action

if TYPE_CHECKING:
    from tracker.models import RatingScale
    from tracker.registry import Registry

_Q = r"[“”\"'「」『』‘’]?"
_ZH_ACT = "|".join(sorted({w for ws in ZH_ACTIONS.values() for w in ws}, key=len, reverse=True))
_EN_ACT = "|".join(f"(?P<en_{k}>(?i:{v}))" for k, v in EN_ACTIONS.items())
_PAREN_ACT = r"维持|首次覆盖|首次|上调|下调|调高|调低|首予|新|(?i:maintain(?:ed)?|initiated?|upgraded?|downgraded?|reiterated?)"
_CHANGE_ACT = r"上调|下调|调升|调降|调高|调低|提升|降低|升级|降级|上修|下修"
_CONNECTORS = re.compile(
    r"^[\s,]*(?:并|且|同时)?\s*(?:对其|对公司|给予|予以|评级为|评级|投资评级|为|其|公司)?\s*(?:评级)?\s*(?:至|为|到)?\s*$"
)
_WEAK_ACTS = ("保持", "延续")
_OK_AFTER = ("评级", "并", "且", "的", "目标", "投资", "不变", "评价")
_INDUSTRY_WORDS = re.compile(r"行业|板块|industry|sector", re.IGNORECASE)
_SUBJECT_WORDS = re.compile(r"^(?:公司|该公司|其|该股|个股|标的|我们|对公司|对其|我们对公司)?$")

STRONG_TRIGGERS = (
    "相关公司", "相关标的", "建议关注", "重点推荐", "推荐标的", "受益标的", "重点关注", "关注标的",
    "投资标的", "核心标的", "标的推荐", "推荐关注", "受益公司", "重点公司", "个股推荐", "推荐个股",
    "重点标的", "优选标的", "首推", "建议重点关注", "建议积极关注", "相关个股", "受益个股",
    "关注公司", "推荐公司", "持续推荐", "持续关注", "积极关注", "建议配置", "推荐组合",
)  # fmt: skip
WEAK_TRIGGERS = ("推荐", "关注", "看好", "首选", "优选")
_EN_TRIGGERS = (
    r"top picks?", r"key picks?", r"preferred (?:names|picks|stocks)", r"stocks? to watch",
    r"names to watch", r"beneficiaries(?:\s+include)?", r"we (?:also )?(?:like|prefer|recommend|favou?r)",
)  # fmt: skip
_TRIGGER = re.compile(
    "|".join(
        [
            f"(?P<strong>{'|'.join(sorted(STRONG_TRIGGERS, key=len, reverse=True))})",
            f"(?P<weak>{'|'.join(WEAK_TRIGGERS)})",
            f"(?P<en>\\b(?i:{'|'.join(_EN_TRIGGERS)})\\b)",
        ]  # fmt: skip
    )
)
_TRIGGER_TAIL = re.compile(
    r"(?:[ \t]*(?::|包括|主要有|主要为|如下|以下|为|有|如|是|方面|个股|公司|标的|\b(?i:include|are|is)\b)[ \t]*)*"
)
_LINE_ITEM = re.compile(
    r"^\s*(?:[-•·*>]|\d{1,2}[.)、]|\(\d{1,2}\))?\s*(?P<name>[^:,;。、\n]{1,30}?)\s*(?::\s*(?P<thesis>.*))?$"
)
_WEAK_BEFORE = re.compile(r"(?:我们|建议|继续|持续|积极|重点|依然|仍然|坚定|维持)\s*$")
_LIST_SEP = re.compile(r"、|,|/|以及|\band\b|;")
_EN_SEP = re.compile(r",|;|\band\b|&(?=\s)")


def _rating_alternation(extra: tuple[str, ...]) -> str:
    words = set(ZH_RATING.split("|")) | {re.escape(w) for w in extra if not w.isascii()}
    return "|".join(sorted(words, key=len, reverse=True))


@dataclass
class Phrase:
    """A rating phrase in the flow text."""

    start: int
    end: int
    word: str  # the rating word (simplified / English as written)
    action: str | None
    previous: str | None = None
    mid: tuple[int, int] | None = None  # where a company may be named inside the phrase
    after: tuple[int, int] | None = None  # English "... on Tencent"
    industry: bool = False
    quoted: bool = False


@dataclass
class Candidate:
    """A company that may be a call, before resolution and merging."""

    kind: str  # rating, row, list, advice
    start: int
    end: int
    name_span: tuple[int, int] | None = None
    name: str | None = None  # when no span gives it (the registry's name for a code)
    code: str | None = None
    word: str | None = None
    action: str | None = None
    previous: str | None = None
    thesis: tuple[int, int] | None = None
    subject: bool = False
    weak: bool = False
    context: str = ""


@dataclass
class Found:
    """Everything the call finder read, for :func:`tracker.extract.extract_draft` to settle."""

    candidates: list[Candidate] = field(default_factory=list)
    industry: list[tuple[Phrase, str | None]] = field(
        default_factory=list
    )  # (phrase, industry name)
    orphans: list[Phrase] = field(default_factory=list)  # ratings with no company


def _readable(src: Source, pos: int) -> bool:
    return src.zone(pos) not in ("disclaimer", "definitions")


# --------------------------------------------------------------------------- rating phrases


def _patterns(extra: tuple[str, ...]) -> list[tuple[str, re.Pattern]]:
    zr = _rating_alternation(extra)
    er = EN_RATING
    return [
        ("change", re.compile(
            rf"(?:评级)?(?:由|从)\s*{_Q}(?P<prev>{zr}){_Q}\s*(?:评级)?\s*(?P<act>{_CHANGE_ACT})\s*(?:至|为|到)\s*{_Q}(?P<r>{zr}){_Q}"
        )),
        ("en_change", re.compile(
            rf"\b(?P<act>(?i:upgrad(?:e|es|ed|ing)|downgrad(?:e|es|ed|ing)))\b(?P<mid>[^.;\n]{{0,60}}?)"
            rf"\b(?i:from)\s+(?P<prev>(?i:{er}))\s+(?i:to)\s+(?P<r>(?i:{er}))\b"
        )),
        ("label", re.compile(
            rf"(?P<lab>(?:投资|公司|股票|个股|行业)?评级|\b(?i:rating|recommendation))\s*(?::\s*|(?={_Q}(?:{zr})))"
            rf"{_Q}(?P<r>{zr}|\b(?i:{er})\b){_Q}"
            rf"(?:\s*-?\s*[A-C]\b)?\s*(?:\(\s*(?P<act>{_PAREN_ACT})\s*\))?"
        )),
        ("paren", re.compile(rf"{_Q}(?P<r>{zr}|\b(?i:{er})\b){_Q}\s*\(\s*(?P<act>{_PAREN_ACT})\s*\)")),
        ("main", re.compile(
            rf"(?P<act>{_ZH_ACT})(?P<mid>[^。;!?\n]{{0,40}}?)(?P<q>{_Q})(?P<r>{zr}){_Q}(?P<tail>\s*(?:的)?\s*(?:投资)?评级)?"
        )),
        ("en", re.compile(
            rf"\b(?:{_EN_ACT})\b(?P<mid>[^.;\n]{{0,60}}?)\b(?P<r>(?i:{er}))\b(?P<tail>(?i:\s+rating))?"
            rf"(?:\s+(?i:on|for)\s+(?P<after>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){{0,3}}))?"
            rf"(?:,?\s+(?i:from)\s+(?P<prev>(?i:{er}))\b)?"
        )),
    ]  # fmt: skip


def _action_word(word: str) -> str | None:
    w = word.lower()
    if w.startswith(("upgrad", "上调", "调升", "调高", "提升", "升级", "上修")):
        return "upgrade"
    if w.startswith(("downgrad", "下调", "调降", "调低", "降低", "降级", "下修")):
        return "downgrade"
    if w.startswith(
        (
            "maintain",
            "reiterat",
            "维持",
            "重申",
            "保持",
            "继续",
            "延续",
            "keep",
            "kept",
            "retain",
            "reaffirm",
        )
    ):
        return "maintain"
    if w.startswith(("initiat", "首次", "首予", "初次", "新", "start", "resum")):
        return "initiate"
    return None


def rating_phrases(src: Source, extra_words: tuple[str, ...] = ()) -> list[Phrase]:
    """Rating phrases outside disclaimers and definitions, left to right, without overlaps."""
    text = src.text
    found: list[Phrase] = []
    taken: list[tuple[int, int]] = []
    for kind, pat in _patterns(extra_words):
        for m in pat.finditer(text):
            if not _readable(src, m.start()) or any(
                a < m.end() and m.start() < b for a, b in taken
            ):
                continue
            phrase = _phrase(kind, m, text)
            if phrase is not None:
                found.append(phrase)
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda p: p.start)


def _phrase(kind: str, m: re.Match, text: str) -> Phrase | None:
    word = m.group("r")
    if word.isascii() and not word[0].isupper():
        return None  # "buy" in prose; a rating is written Buy or BUY
    if kind == "change":
        return Phrase(m.start(), m.end(), word, _action_word(m.group("act")), m.group("prev"))
    if kind == "en_change":
        return Phrase(
            m.start(), m.end(), word, _action_word(m.group("act")), m.group("prev"), m.span("mid")
        )
    if kind in ("label", "paren"):
        act = m.group("act")
        lab = m.groupdict().get("lab") or ""
        industry = lab.startswith("行业") or bool(
            re.search(r"(?:行业|板块)\s*$", text[max(0, m.start() - 6) : m.start()])
        )
        return Phrase(
            m.start(), m.end(), word, _action_word(act) if act else None, industry=industry
        )
    if kind == "en":
        act = next((k[3:] for k, v in m.groupdict().items() if k.startswith("en_") and v), None)
        after = m.span("after") if m.group("after") else None
        prev = m.group("prev")
        return Phrase(m.start(), m.end(), word, act if act != "give" else None, prev, m.span("mid"), after)
    # kind == "main": 维持 ... 买入 ... 评级
    act_word = m.group("act")
    mid_a, mid_b = m.span("mid")
    start = m.start()
    # The verb that governs the rating is the last one before it ("维持盈利预测，给予买入");
    # a chain of verbs ("首次覆盖，给予") keeps its most specific one.
    chain = [(m.start("act"), m.end("act"), act_word)]
    chain += [(mid_a + x.start(), mid_a + x.end(), x.group(0)) for x in re.finditer(_ZH_ACT, text[mid_a:mid_b])]
    k = len(chain) - 1
    while k > 0 and re.fullmatch(r"[\s,]*", text[chain[k - 1][1] : chain[k][0]]):
        k -= 1
    tail_chain = chain[k:]
    act_word = next((w for _, _, w in tail_chain if zh_action(w) != "give"), tail_chain[-1][2])
    start = tail_chain[0][0]
    mid_a = max(mid_a, chain[-1][1])
    action = zh_action(act_word)
    if action == "give" and any(zh_action(w) == "initiate" for _, _, w in chain):
        action = "initiate"  # 首次覆盖美团，给予增持评级
    mid = text[mid_a:mid_b]
    if action in ("upgrade", "downgrade") and not re.search(r"(?:至|为|到)\s*$", mid):
        return None
    follower = text[m.end() : m.end() + 2]
    tail = m.group("tail")
    if not tail and follower[:1] and is_han(follower[0]) and not follower.startswith(_OK_AFTER):
        return None  # 维持中性偏多: not a rating
    quoted = bool(m.group("q"))
    if act_word in _WEAK_ACTS and not tail and not quoted:
        return None  # 保持中性 may describe anything; 保持“中性”评级 is a rating
    if not tail and not quoted and not _CONNECTORS.match(mid) and not CODE.search(mid):
        if not looks_like_name(clean_name(mid)):
            return None
    industry = bool(_INDUSTRY_WORDS.search(mid)) or bool(
        re.search(r"(?:行业|板块)(?:评级)?\s*[:,]?\s*$", text[max(0, m.start() - 10) : m.start()])
    )
    return Phrase(
        start, m.end(), word, None if action == "give" else action,
        mid=(mid_a, mid_b), industry=industry, quoted=quoted,
    )  # fmt: skip


# --------------------------------------------------------------------------- companies near a phrase


def _codes(src: Source, a: int, b: int) -> list[re.Match]:
    return [m for m in CODE.finditer(src.text, a, b)]


def _code_of(m: re.Match) -> str:
    return next(g for g in (m.group("a"), m.group("b"), m.group("c"), m.group("d")) if g)


def _strip_mid(text: str) -> str:
    s = re.sub(r"^[\s,:]+|[\s,:]+$", "", text)
    for _ in range(3):
        s = re.sub(r"^(?:对|并|且|给予|予以|继续|公司的?|其|该股的?)", "", s)
        s = re.sub(r"(?:给予|予以|的|评级为?|投资评级|至|为|到|其|并|继续)$", "", s)
        s = s.strip(" ,:“”\"'「」")
    return s


def _en_name(text: str) -> str:
    words = [w for w in re.split(r"\s+", text.strip()) if w]
    keep = [
        w for w in words if w[:1].isupper() and w.lower() not in {"our", "the", "a", "an", "we"}
    ]
    cleaned = []
    for w in words:
        if w.lower() in {
            "coverage",
            "on",
            "of",
            "with",
            "a",
            "an",
            "our",
            "the",
            "to",
            "at",
            "as",
            "rating",
            "its",
            "and",
            "we",
            "from",
        }:
            if cleaned:
                break
            continue
        cleaned.append(w)
    return " ".join(cleaned) if cleaned and cleaned[0][:1].isupper() else " ".join(keep[:3])


def _company_in_phrase(src: Source, registry: Registry, p: Phrase) -> Candidate | None:
    """The company a phrase names itself (a code, or a name between verb and rating)."""
    spans = [s for s in (p.after, p.mid) if s is not None]
    for a, b in spans:
        for m in _codes(src, a, b):
            code = _code_of(m)
            ticker = resolve_code(registry, code).ticker
            span = name_before(registry, src.text[a : m.start()], ticker)
            name_span = (a + span[0], a + span[1]) if span else None
            return Candidate("rating", p.start, p.end, name_span, code=code)
    if p.after is not None:
        a, b = p.after
        return Candidate("rating", p.start, p.end, (a, b))
    if p.mid is None:
        return None
    a, b = p.mid
    mid = src.text[a:b]
    if any(is_han(c) for c in mid):
        name = _strip_mid(mid)
        if not name or _SUBJECT_WORDS.match(name):
            return None
        if resolve_name(registry, name).ticker or looks_like_name(clean_name(name)):
            i = mid.find(name)
            return Candidate("rating", p.start, p.end, (a + i, a + i + len(name)))
        return None
    name = _en_name(mid)
    if name and (resolve_name(registry, name).ticker or looks_like_name(name)):
        i = mid.find(name.split()[0])
        return Candidate("rating", p.start, p.end, (a + i, a + i + len(name)))
    return None


def _company_in_sentence(
    src: Source, registry: Registry, p: Phrase, subject: Candidate | None
) -> Candidate | None:
    """A coded company earlier in the phrase's sentence, else the subject, else a registry name."""
    a, _ = src.sentence(p.start)
    codes = _codes(src, a, p.start)
    if codes:
        m = codes[-1]
        code = _code_of(m)
        span = name_before(registry, src.text[a : m.start()], resolve_code(registry, code).ticker)
        return Candidate(
            "rating", p.start, p.end, (a + span[0], a + span[1]) if span else None, code=code
        )
    if subject is not None:
        return Candidate(
            "rating", p.start, p.end, subject.name_span, subject.name, subject.code, subject=True,
        )  # fmt: skip
    mentions = name_mentions(registry, src.text[a : p.start], a)
    if mentions:
        m = mentions[-1]
        return Candidate("rating", p.start, p.end, (m.start, m.end))
    return None


def find_subject(src: Source, registry: Registry, title_line: int | None) -> Candidate | None:
    """The company a company report is about: a coded company in the title or the first lines,
    or a title that opens with a registry name followed by ``:`` (``腾讯控股:...``)."""
    lines = src.line_starts[:10]
    order = sorted(lines, key=lambda t: (t[1] + 1 != title_line, t[0]))
    for off, _ in order:
        end = src.text.find("\n", off)
        end = len(src.text) if end < 0 else end
        codes = _codes(src, off, end)
        if codes:
            m = codes[0]
            code = _code_of(m)
            span = name_before(
                registry, src.text[off : m.start()], resolve_code(registry, code).ticker
            )
            return Candidate(
                "subject",
                m.start(),
                m.end(),
                (off + span[0], off + span[1]) if span else None,
                code=code,
            )
    if title_line is not None:
        off = src.line_start(title_line)
        if off is not None:
            end = src.text.find("\n", off)
            head = src.text[off : end if end >= 0 else len(src.text)]
            m = re.match(r"^\s*([^:,\s]{2,20})\s*:", head)
            if m and resolve_name(registry, m.group(1)).ticker:
                return Candidate(
                    "subject", off + m.start(1), off + m.end(1), (off + m.start(1), off + m.end(1))
                )
    return None


# --------------------------------------------------------------------------- lists


def _split(text: str, a: int, b: int, sep: re.Pattern) -> list[tuple[int, int]]:
    out = []
    start = a
    for m in sep.finditer(text, a, b):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, b))
    return [(x, y) for x, y in out if text[x:y].strip()]


def _resolves(registry: Registry, text: str) -> bool:
    name = clean_name(text)
    return bool(name) and resolve_name(registry, re.sub(r"\(.*?\)", "", name)).ticker is not None


def _name_items(
    src: Source, registry: Registry, a: int, b: int, english: bool
) -> list[tuple[int, int]]:
    """Spans of the company names in a names part (``A、B、C等``)."""
    text = src.text
    pieces = _split(text, a, b, _EN_SEP if english else _LIST_SEP)
    out: list[tuple[int, int]] = []
    for x, y in pieces:
        if not english and not _resolves(registry, text[x:y]) and re.search(r"[和及与]", text[x:y]):
            parts = _split(text, x, y, re.compile(r"和|及|与"))
            if all(_resolves(registry, text[p:q]) for p, q in parts):
                out += parts
                continue
        out.append((x, y))
    return out


def _item(
    src: Source, registry: Registry, span: tuple[int, int], english: bool
) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """Company-name spans and the thesis span of one list item."""
    text = src.text
    a, b = span
    body = text[a:b]
    colon = body.rfind(":")
    if colon > 0:
        before, after = (a, a + colon), (a + colon + 1, b)
        names_after = _name_items(src, registry, *after, english)
        if _resolves(registry, text[before[0] : before[1]]):
            return [before], after
        if any(_resolves(registry, text[x:y]) for x, y in names_after):
            a = after[0]
        elif looks_like_name(clean_name(text[before[0] : before[1]])) and colon <= 16:
            return [before], after
        else:
            a = after[0]
    thesis = None
    de = text.rfind("的", a, b)
    if de > a and text[de + 1 : b].strip():
        thesis, a = (span[0] if colon <= 0 else a, de), de + 1
    return _name_items(src, registry, a, b, english), thesis


def _line_items(
    src: Source, registry: Registry, start: int
) -> list[tuple[tuple[int, int], tuple[int, int] | None]]:
    """The items on the lines following a trigger that ends its line: ``name: thesis``
    lines, or lines of names (``腾讯控股(0700.HK)、阿里巴巴(9988.HK)``)."""
    out: list[tuple[tuple[int, int], tuple[int, int] | None]] = []
    for a, b in src.lines_from(start)[:40]:
        line = src.text[a:b]
        if not _readable(src, a):
            break
        m = _LINE_ITEM.match(line)
        if m is not None:
            name = clean_name(re.sub(r"\(.*?\)", "", m.group("name")))
            has_thesis = bool(m.group("thesis"))
            if _resolves(registry, m.group("name")) or (has_thesis and looks_like_name(name)):
                thesis = (a + m.start("thesis"), a + m.end("thesis")) if has_thesis else None
                out.append(((a + m.start("name"), a + m.end("name")), thesis))
                continue
        names = _name_items(src, registry, a + len(line) - len(line.lstrip()), b, english=False)
        if len(names) < 2 or not any(_resolves(registry, src.text[x:y]) for x, y in names):
            break
        out += [((x, y), None) for x, y in names]
    return out


def recommendation_lists(src: Source, registry: Registry) -> list[Candidate]:
    """Companies listed after a recommendation trigger (相关公司, 建议关注, top picks...)."""
    text = src.text
    out: list[Candidate] = []
    triggers = list(_TRIGGER.finditer(text))
    for k, t in enumerate(triggers):
        if not _readable(src, t.start()):
            continue
        weak = t.lastgroup == "weak"
        english = t.lastgroup == "en"
        tail = _TRIGGER_TAIL.match(text, t.end())
        p = tail.end() if tail else t.end()
        if weak and not (
            _WEAK_BEFORE.search(text[max(0, t.start() - 4) : t.start()]) or ":" in text[t.end() : p]
        ):
            continue
        label = src.original(t.start(), t.end())
        if p >= len(text) or text[p] == "\n":
            for name_span, thesis in _line_items(src, registry, p + 1):
                out.append(
                    Candidate(
                        "list",
                        t.start(),
                        name_span[1],
                        name_span,
                        thesis=thesis,
                        weak=weak,
                        context=label,
                    )
                )
            continue
        _, end = src.sentence(p)
        if k + 1 < len(triggers):  # "重点推荐A、B，建议关注C": each list stops at the next trigger
            end = min(end, max(triggers[k + 1].start(), p))
        items = _split(text, p, end, re.compile(r";|。|\n"))
        for span in items:
            names, thesis = _item(src, registry, span, english)
            for x, y in names:
                out.append(
                    Candidate("list", t.start(), y, (x, y), thesis=thesis, weak=weak, context=label)
                )
    return out


# --------------------------------------------------------------------------- coded rows


def _line_rating(src: Source, pos: int) -> str | None:
    """The one rating word standing alone on ``pos``'s source line (a table row), if any."""
    li = src.where[pos][0]
    line = to_simplified(src.lines[li])
    words = set()
    for m in re.finditer(
        rf"(?:^|(?<=[\s|,]))({ZH_RATING}|{EN_RATING})(?=$|[\s|,])", line, re.IGNORECASE
    ):
        w = m.group(1)
        if w.isascii() and not w[0].isupper():
            continue
        words.add(w)
    return words.pop() if len(words) == 1 else None


def coded_rows(src: Source, registry: Registry, used: list[tuple[int, int]]) -> list[Candidate]:
    """Coded companies on table rows with a rating, and coded companies in advice sections."""
    out = []
    for m in CODE.finditer(src.text):
        if not _readable(src, m.start()) or any(a <= m.start() < b for a, b in used):
            continue
        code = _code_of(m)
        ticker = resolve_code(registry, code).ticker
        a, _ = src.sentence(m.start())
        span = name_before(registry, src.text[a : m.start()], ticker)
        name_span = (a + span[0], a + span[1]) if span else None
        if name_span is None and ticker is not None:
            after = name_after(registry, src.text[m.end() : m.end() + 40], ticker)
            name_span = (m.end() + after[0], m.end() + after[1]) if after else None
        word = _line_rating(src, m.start())
        if word is not None:
            out.append(
                Candidate(
                    "row", m.start(), m.end(), name_span, code=code, word=word, context="table row"
                )
            )
        elif src.zone(m.start()) == "advice":
            out.append(
                Candidate(
                    "advice", m.start(), m.end(), name_span, code=code, context="investment advice"
                )
            )
    return out


# --------------------------------------------------------------------------- all together


def find_calls(
    src: Source, registry: Registry, scale: RatingScale | None, title_line: int | None
) -> Found:
    """Every candidate call in the text, with industry ratings and ratings left without a company."""
    extra = tuple(w for b in (scale.company.bands if scale else ()) for w in b.aliases)
    found = Found()
    subject = find_subject(src, registry, title_line)
    for p in rating_phrases(src, extra):
        cand = _company_in_phrase(src, registry, p)
        if cand is None and p.industry:
            name = _industry_name(src, p)
            found.industry.append((p, name))
            continue
        if cand is None:
            cand = _company_in_sentence(src, registry, p, subject)
        if cand is None:
            found.orphans.append(p)
            continue
        cand.word, cand.action, cand.previous = p.word, p.action, p.previous
        cand.context = src.original(p.start, p.end)
        found.candidates.append(cand)
    lists = recommendation_lists(src, registry)
    found.candidates += lists
    used = [(c.start, c.end) for c in found.candidates]
    found.candidates += coded_rows(src, registry, used)
    return found


def _industry_name(src: Source, p: Phrase) -> str | None:
    if p.mid is None:
        return None
    mid = src.text[p.mid[0] : p.mid[1]]
    m = re.search(r"([\u4e00-\u9fffA-Za-z]{2,12}?)(?:行业|板块)", mid)
    if m and m.group(1) not in ("对", "对该", "该"):
        return _strip_mid(m.group(1)) or None
    return None


def canonical_rating(word: str | None, scale: RatingScale | None) -> tuple[str, bool]:
    """The canonical rating of a word under ``scale`` (its local aliases first), and whether
    the scale has a band for it. No word means an attention call."""
    if word is None:
        return ATTENTION, True
    w = word.strip()
    if scale is not None:
        for cand in (w, w.lower(), to_simplified(w)):
            r = scale.canonical_rating(cand)
            if r is not None:
                return r, True
    r = rating_of(w)
    if r is None:
        return "neutral", False
    return r, scale is None or scale.company.band_of(r) is not None
