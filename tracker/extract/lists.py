"""Recommendation lists: the companies after 相关公司, 建议关注, 重点推荐, 受益标的, top picks...

The list is the rest of the sentence (items split at ``；``, names at ``、`` or
``,``, a thesis before ``的`` or after ``:``), or, when the trigger ends its
line, the lines that follow (``美团:估值回调后具备修复空间``). A list stops where
the next trigger starts. Weak triggers (``我们推荐``, ``看好``) keep only names
the registry knows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tracker.extract.evidence import Candidate, readable
from tracker.extract.names import clean_name, looks_like_name, resolve_name
from tracker.extract.text import Source

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry

STRONG_TRIGGERS = (
    "相关公司",
    "相关标的",
    "建议关注",
    "重点推荐",
    "推荐标的",
    "受益标的",
    "重点关注",
    "关注标的",
    "投资标的",
    "核心标的",
    "标的推荐",
    "推荐关注",
    "受益公司",
    "重点公司",
    "个股推荐",
    "推荐个股",
    "重点标的",
    "优选标的",
    "首推",
    "建议重点关注",
    "建议积极关注",
    "相关个股",
    "受益个股",
    "关注公司",
    "推荐公司",
    "持续推荐",
    "持续关注",
    "积极关注",
    "建议配置",
    "推荐组合",
)
WEAK_TRIGGERS = ("推荐", "关注", "看好", "首选", "优选")
_EN_TRIGGERS = (
    r"top picks?",
    r"key picks?",
    r"preferred (?:names|picks|stocks)",
    r"stocks? to watch",
    r"names to watch",
    r"beneficiaries(?:\s+include)?",
    r"we (?:also )?(?:like|prefer|recommend|favou?r)",
)
_TRIGGER = re.compile(
    "|".join(
        [
            f"(?P<strong>{'|'.join(sorted(STRONG_TRIGGERS, key=len, reverse=True))})",
            f"(?P<weak>{'|'.join(WEAK_TRIGGERS)})",
            f"(?P<en>\\b(?i:{'|'.join(_EN_TRIGGERS)})\\b)",
        ]
    )
)
_TRIGGER_TAIL = re.compile(
    r"(?:[ \t]*(?::|包括|主要有|主要为|如下|以下|为|有|如|是|方面|个股|公司|标的"
    r"|\b(?i:include|are|is)\b)[ \t]*)*"
)
_LINE_ITEM = re.compile(
    r"^\s*(?:[-•·*>]|\d{1,2}[.)、]|\(\d{1,2}\))?\s*(?P<name>[^:,;。、\n]{1,30}?)\s*(?::\s*(?P<thesis>.*))?$"
)
_WEAK_BEFORE = re.compile(r"(?:我们|建议|继续|持续|积极|重点|依然|仍然|坚定|维持)\s*$")
_LIST_SEP = re.compile(r"、|,|/|以及|\band\b|;")
_EN_SEP = re.compile(r",|;|\band\b|&(?=\s)")


def _split(text: str, a: int, b: int, sep: re.Pattern) -> list[tuple[int, int]]:
    """Spans of ``text[a:b]`` between separators, ignoring those inside parentheses."""
    out = []
    start = a
    for m in sep.finditer(text, a, b):
        if text.count("(", start, m.start()) > text.count(")", start, m.start()):
            continue  # 腾讯控股(0700.HK,买入)
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
        if not readable(src, a):
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
        if not readable(src, t.start()):
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
