"""Recommended companies: rating phrases, recommendation lists, coded table rows.

Three kinds of evidence, strongest first:

* **rating phrases** — ``维持腾讯控股(00700)“买入”评级``, ``首次覆盖给予增持``,
  ``评级由增持上调至买入``, ``投资评级: 买入(维持)``, ``maintain Buy on Tencent``,
  ``upgrade Meituan to Overweight``. The company is the one named inside the
  phrase, else the object of a covering verb (``首次覆盖星辰数智，给予买入``), else a
  coded company earlier in the sentence, else the report's subject (a company
  report's title company), else a registry name earlier in the sentence; never
  a company the sentence only mentions (:mod:`tracker.extract.mentions`). With
  行业/板块 and no company, it is the industry's rating.
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
from tracker.extract.evidence import Candidate, Phrase, readable
from tracker.extract.lists import recommendation_lists
from tracker.extract.mentions import mention_spans, merely_mentioned
from tracker.extract.meta import broker_named
from tracker.extract.names import (
    CODE,
    clean_name,
    codes_in,
    looks_like_name,
    name_after,
    name_before,
    name_mentions,
    resolve_code,
    resolve_name,
)
from tracker.extract.phrases import rating_phrases
from tracker.extract.text import Source, is_han, to_simplified
from tracker.extract.vocab import EN_RATING, ZH_RATING, rating_of

if TYPE_CHECKING:
    from tracker.recs.models import RatingScale
    from tracker.registry.resolve import Registry

_SUBJECT_WORDS = re.compile(r"^(?:公司|该公司|其|该股|个股|标的|我们|对公司|对其|我们对公司)?$")


@dataclass
class Found:
    """Everything the call finder read, for :func:`tracker.extract.extract_draft` to settle."""

    candidates: list[Candidate] = field(default_factory=list)
    industry: list[tuple[Phrase, str | None]] = field(
        default_factory=list
    )  # (phrase, industry name)
    orphans: list[Phrase] = field(default_factory=list)  # ratings with no company


# -------------------------------------------------------------------------- companies near a phrase


def _codes(src: Source, a: int, b: int) -> list[re.Match]:
    return codes_in(src.text, a, b)


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
    sa, sb = src.sentence(p.start)
    mentions = mention_spans(src.text, sa, sb)
    # A mention clause inside the phrase ("coverage of X, whose clients include Tencent
    # (00700.HK), with a Buy") names another company: the phrase's own name stops before it.
    spans = [_before_mention(s, mentions, p.end) for s in (p.after, p.mid) if s is not None]
    if p.after is not None:
        # "kept its Buy rating on H World Group (01179.HK)": the code right after the name.
        a, b = p.after
        at = b + re.match(r"\s*\(?\s*", src.text[b : b + 6]).end()  # type: ignore[union-attr]
        code = codes_in(src.text, at, at + 14)
        if code and code[0].start() == at:
            spans[0] = (a, code[0].end())
    for a, b in spans:
        for m in _codes(src, a, b):
            if merely_mentioned(mentions, m.start(), p.end - 1):
                continue
            code = _code_of(m)
            ticker = resolve_code(registry, code).ticker
            span = name_before(registry, src.text[a : m.start()], ticker)
            name_span = (a + span[0], a + span[1]) if span else None
            return Candidate("rating", p.start, p.end, name_span, code=code)
    if p.after is not None:
        a, b = spans[0]
        return Candidate("rating", p.start, p.end, (a, b))
    if p.mid is None:
        return None
    a, b = spans[-1]
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


def _before_mention(
    span: tuple[int, int], mentions: list[tuple[int, int]], anchor: int
) -> tuple[int, int]:
    """``span`` cut where a mention clause not holding ``anchor`` starts inside it."""
    a, b = span
    cuts = [m for m, e in mentions if a < m < b and not m <= anchor < e]
    return (a, min(cuts)) if cuts else (a, b)


#: The object of a covering verb earlier in the sentence: ``首次覆盖星辰数智，给予买入``.
_OBJECT = re.compile(
    r"(?:(?:首次覆盖|覆盖)\s*(?P<n>[^，,。;；:：\s“”\"'「」()（）]{2,16}?)\s*[，,]?\s*(?:并|且|同时)?"
    r"|对\s*(?P<m>[^，,。;；:：\s“”\"'「」()（）]{2,16}?)\s*)$"
)


def _verb_object(src: Source, registry: Registry, p: Phrase, a: int) -> Candidate | None:
    """The company a covering verb before the phrase names, coded or not (the rating's own
    subject, even when the registry lacks it)."""
    m = _OBJECT.search(src.text[a : p.start])
    if m is None:
        return None
    g = "n" if m.group("n") else "m"
    name = _strip_mid(m.group(g))
    if not name or _SUBJECT_WORDS.match(name) or CODE.search(name):
        return None
    if resolve_name(registry, name).ticker or looks_like_name(clean_name(name)):
        i = a + m.start(g) + m.group(g).find(name)
        return Candidate("rating", p.start, p.end, (i, i + len(name)))
    return None


def _company_in_sentence(
    src: Source, registry: Registry, p: Phrase, subject: Candidate | None
) -> Candidate | None:
    """The object of a covering verb before the phrase, else a coded company earlier in the
    phrase's sentence, else the subject, else a registry name; never a company the sentence
    only mentions (a client, a peer, a comparison)."""
    a, b = src.sentence(p.start)
    mentions = mention_spans(src.text, a, b)
    obj = _verb_object(src, registry, p, a)
    if obj is not None:
        return obj
    codes = [m for m in _codes(src, a, p.start) if not merely_mentioned(mentions, m.start())]
    if codes:
        m = codes[-1]
        code = _code_of(m)
        span = name_before(registry, src.text[a : m.start()], resolve_code(registry, code).ticker)
        return Candidate(
            "rating", p.start, p.end, (a + span[0], a + span[1]) if span else None, code=code
        )
    if subject is not None:
        return Candidate(
            "rating",
            p.start,
            p.end,
            subject.name_span,
            subject.name,
            subject.code,
            subject=True,
        )
    named = [
        m
        for m in name_mentions(registry, src.text[a : p.start], a)
        if not merely_mentioned(mentions, m.start)
    ]
    if named:
        m = named[-1]
        return Candidate("rating", p.start, p.end, (m.start, m.end))
    return None


#: How far into a first line (not the title) a code may stand and still be the report's
#: company: ``腾讯控股(0700.HK):``, ``中金公司研究部 腾讯控股(00700.HK)``.
_HEADER_REACH = 24


def find_subject(src: Source, registry: Registry, title_line: int | None) -> Candidate | None:
    """The company a company report is about: a coded company in the title or the first lines
    (the title only when the first lines say 行业 / industry), or a title that opens with a
    registry name followed by ``:`` (``腾讯控股:...``)."""
    lines = src.line_starts[:10]
    head = src.text[: lines[min(4, len(lines) - 1)][0] + 60] if lines else ""
    # An industry report names companies on its cover too; only its title can name a subject.
    industry = bool(re.search(r"行业|板块|\b(?i:industry|sector)\b", head))
    order = sorted(lines, key=lambda t: (t[1] + 1 != title_line, t[0]))
    titled = _title_company(src, registry, title_line, industry)
    for off, li in order:
        if industry and li + 1 != title_line:
            continue
        if titled is not None and li + 1 != title_line:
            return titled  # the title names the company; the body's codes are others'
        end = _line_end(src, off)
        # A client or peer named in the first lines of a short note is not its company, nor
        # a code deep in a body sentence: off the title, a header names it at the top.
        mentions = mention_spans(src.text, off, end)
        codes = [
            m
            for m in _codes(src, off, end)
            if not merely_mentioned(mentions, m.start())
            and (li + 1 == title_line or m.start() - off <= _HEADER_REACH)
        ]
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
    return titled


#: Labels that open a header line with a colon but name no company (分析师:, 报告日期:).
_LABEL = re.compile(r"(?:师|日期|时间|标题|作者|来源|编号|类型|评级|代码|行业|报告|研究|简称)$")


def _line_end(src: Source, off: int) -> int:
    """Flow offset where the source line starting at ``off`` ends (flow text joins lines)."""
    later = [o for o, _ in src.line_starts if o > off]
    nl = src.text.find("\n", off)
    ends = [e for e in (min(later, default=-1), nl) if e >= 0]
    return min(ends) if ends else len(src.text)


def _title_company(
    src: Source, registry: Registry, title_line: int | None, industry: bool
) -> Candidate | None:
    """A header opening with a company name and ``:`` (``腾讯控股:...``, ``星辰数智:首次覆盖``)
    on the title line, else on one of the first three lines: a registry name, or, outside
    industry reports, a Chinese fragment that looks like a name (the report's company even
    when the registry lacks it)."""
    heads = [title_line] if title_line is not None else []
    heads += [li + 1 for _, li in src.line_starts[:3] if li + 1 != title_line]
    for line in heads:
        cand = _header_company(src, registry, line, industry, line == title_line)
        if cand is not None:
            return cand
    return None


def _header_company(
    src: Source, registry: Registry, line: int, industry: bool, title: bool
) -> Candidate | None:
    off = src.line_start(line)
    if off is None:
        return None
    head = src.text[off : _line_end(src, off)]
    m = re.match(r"^\s*([^:,\s]{2,20})\s*:", head)
    if m is None or CODE.search(m.group(1)):
        return None
    name = m.group(1)
    known = resolve_name(registry, name).ticker is not None
    # An unknown name is the company only when the rest of the line names none (a source
    # or broker prefix, "东方证券:维持快手-W买入评级", is not a company), and is no label.
    rest = head[m.end() :]
    other = bool(codes_in(rest) or name_mentions(registry, rest))
    unknown_ok = (
        not industry
        and not other
        and broker_named(name) is None
        and not _LABEL.search(name)
        and (title or is_han(name[0]))
        and looks_like_name(clean_name(name))
    )
    if (known and title) or unknown_ok:
        return Candidate(
            "subject", off + m.start(1), off + m.end(1), (off + m.start(1), off + m.end(1))
        )
    return None


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
    for m in codes_in(src.text):
        if not readable(src, m.start()) or any(a <= m.start() < b for a, b in used):
            continue
        a, b = src.sentence(m.start())
        if merely_mentioned(mention_spans(src.text, a, b), m.start()):
            continue  # a client or peer on a line with a rating is not rated by it
        code = _code_of(m)
        ticker = resolve_code(registry, code).ticker
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
    """Every candidate call in the text, with industry ratings and ratings left without a
    company."""
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
