"""The report's text, normalised for matching but traceable to its source lines.

Research reports reach us as text pulled out of PDFs (lines wrapped at a fixed
width, often mid-word, blank lines everywhere) or as articles (one paragraph a
line), in simplified or traditional Chinese or in English. :class:`Source`
joins the lines into one *flow* string that the parsers match against:

* each character goes through NFKC (full-width ``（）：，；％`` and digits
  become ASCII) and OpenCC ``t2s`` (traditional to simplified), so one set
  of patterns serves both scripts;
* whitespace runs collapse to one space, and a space between two Chinese
  characters or between Chinese and punctuation is dropped (PDF artefacts);
* wrapped lines are joined without a separator when either side is Chinese,
  with a space otherwise; a paragraph end becomes ``"\\n"`` (a line ending a
  sentence, a line much shorter than the text's usual width, a heading, or a
  line before a bullet).

Every flow character remembers its source line and column, so a match can be
cited by line number and quoted in the original script.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from tracker.extract.vocab import HEADINGS

_MARKER = re.compile(r"\[Table_[A-Za-z0-9_]*\]")
_DASHES = {"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\ufe63": "-"}
_BULLET = re.compile(
    r"^(?:[\s⚫•●○■□◆◇▪▫➢►▶>*·\-]+|\d{1,2}\s*[.)、]\s*|[(]\s*\d{1,2}\s*[)]\s*"
    r"|[一二三四五六七八九十]{1,3}\s*[、.)]\s*|[(][一二三四五六七八九十]{1,3}[)]\s*)+"
)
_SENTENCE_END = "。!?"
#: Control characters, byte-order marks and Unicode line separators: blanks (YAML refuses them).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029\ufffe\uffff]")
#: A line this much shorter than the text's usual line length ends its paragraph.
SHORT_LINE_RATIO = 0.6


@functools.lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in simplified Chinese (OpenCC t2s); other scripts are unchanged."""
    return _converter().convert(text)


def is_cjk(ch: str) -> bool:
    """A Chinese character or Chinese punctuation (after NFKC)."""
    o = ord(ch)
    return (
        0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x3000 <= o <= 0x303F
        or 0xFF00 <= o <= 0xFFEF
        or ch in "“”‘’"
    )


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def is_han(ch: str) -> bool:
    """A Chinese ideograph."""
    o = ord(ch)
    return 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF


def strip_bullet(line: str) -> str:
    """``"⚫ 投资建议"`` -> ``"投资建议"``; ``"1）腾讯"`` -> ``"腾讯"`` (on normalised text)."""
    return _BULLET.sub("", line).strip()


def _normalise_line(line: str) -> tuple[list[tuple[str, int]], int]:
    """The line's characters, normalised, each with its column; and how many t2s changed."""
    skip: set[int] = set()
    for m in _MARKER.finditer(line):
        skip.update(range(m.start(), m.end()))
    chars: list[tuple[str, int]] = []
    for col, ch in enumerate(line):
        if col in skip:
            continue
        for c in unicodedata.normalize("NFKC", ch):
            chars.append((_DASHES.get(c, c), col))
    plain = "".join(c for c, _ in chars)
    simple = to_simplified(plain)
    if len(simple) != len(plain):  # a phrase conversion changed the length: go char by char
        simple = "".join(s if len(s := to_simplified(c)) == 1 else c for c in plain)
    changed = sum(1 for a, b in zip(plain, simple, strict=True) if a != b)
    chars = [(s, col) for s, (_, col) in zip(simple, chars, strict=True)]
    out: list[tuple[str, int]] = []
    space_col: int | None = None
    for c, col in chars:
        if c.isspace():
            if out:
                space_col = col if space_col is None else space_col
            continue
        if space_col is not None:
            prev = out[-1][0]
            # PDF text scatters spaces between Chinese characters; keep only the
            # spaces that separate Latin words or numbers ("AI 产品", "6 个月").
            if not (
                (is_cjk(prev) and not _ascii_alnum(c)) or (is_cjk(c) and not _ascii_alnum(prev))
            ):
                out.append((" ", space_col))
            space_col = None
        out.append((c, col))
    return out, changed


@dataclass(frozen=True)
class Section:
    """A part of the text opened by a recognised heading."""

    kind: str  # definitions, advice, risk, disclaimer
    heading: str
    line: int  # 1-based
    start: int  # flow offsets
    end: int


@dataclass(frozen=True)
class Source:
    """The flow text of a report and the way back to its lines. Build with :func:`read_source`."""

    lines: tuple[str, ...]
    text: str
    where: tuple[tuple[int, int], ...]  # per flow char: (0-based line, column or -1 if synthetic)
    line_starts: tuple[tuple[int, int], ...]  # (flow offset, 0-based line) of each non-blank line
    sections: tuple[Section, ...]
    han_chars: int
    latin_chars: int
    converted_chars: int

    def line(self, pos: int) -> int:
        """The 1-based source line of flow offset ``pos``."""
        pos = min(max(pos, 0), len(self.text) - 1) if self.text else 0
        if not self.where:
            return 1
        li, col = self.where[pos]
        if col < 0 and pos + 1 < len(self.where):  # a joint: cite the line it opens
            li = self.where[pos + 1][0]
        return li + 1

    def original(self, start: int, end: int) -> str:
        """The source text behind flow ``[start, end)``, in its own script, spaces collapsed."""
        out: list[str] = []
        last: tuple[int, int] | None = None
        for i in range(max(start, 0), min(end, len(self.text))):
            li, col = self.where[i]
            if col < 0:
                out.append(" " if self.text[i] == " " else "")
                last = None
                continue
            if (li, col) == last:
                continue
            out.append(self.lines[li][col])
            last = (li, col)
        return " ".join("".join(out).split())

    def sentence(self, pos: int) -> tuple[int, int]:
        """Flow offsets of the sentence around ``pos`` (ends at 。!? or a paragraph end)."""
        text = self.text
        a = pos
        while a > 0 and not _ends_sentence(text, a - 1):
            a -= 1
        b = pos
        while b < len(text) and not _ends_sentence(text, b):
            b += 1
        return a, min(b + 1, len(text))

    def zone(self, pos: int) -> str:
        """The kind of section ``pos`` is in, or ``"body"``."""
        for sec in self.sections:
            if sec.start <= pos < sec.end:
                return sec.kind
        return "body"

    def line_start(self, line: int) -> int | None:
        """Flow offset where 1-based ``line`` starts (None for a blank line)."""
        for off, li in self.line_starts:
            if li == line - 1:
                return off
        return None

    def lines_from(self, pos: int) -> list[tuple[int, int]]:
        """Flow spans ``(start, end)`` of the paragraphs starting at or after ``pos``."""
        spans = []
        text = self.text
        a = pos
        while a < len(text):
            b = text.find("\n", a)
            b = len(text) if b < 0 else b
            spans.append((a, b))
            a = b + 1
        return spans


def _ends_sentence(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _SENTENCE_END or ch == "\n":
        return True
    if ch == "." and i + 1 < len(text):
        nxt = text[i + 1]
        prev = text[i - 1] if i > 0 else " "
        if nxt == "\n":
            return True
        if nxt == " " and i + 2 < len(text) and (text[i + 2].isupper() or is_han(text[i + 2])):
            return not prev.isdigit() and not (
                prev.isupper() and (i < 2 or not text[i - 2].isalpha())
            )
    return ch == "." and i + 1 == len(text)


def heading_kind(norm_line: str) -> tuple[str, str] | None:
    """``(kind, keyword)`` when a normalised line is a recognised section heading."""
    cleaned = strip_bullet(norm_line).lower()
    if not cleaned:
        return None
    for kind, keyword in _HEADING_WORDS:
        if cleaned.startswith(keyword):
            rest = cleaned[len(keyword) :]
            if len(cleaned) <= 24 or rest[:1] in (":", "：") or not rest.strip():
                return kind, keyword
        elif len(cleaned) <= 16 and cleaned.endswith(keyword):  # 东吴证券投资评级标准
            return kind, keyword
    return None


_HEADING_WORDS = sorted(
    ((kind, w) for kind, words in HEADINGS.items() for w in words), key=lambda kw: -len(kw[1])
)


def _bulleted(line: str) -> bool:
    return bool(line) and _BULLET.match(line) is not None and not line[:4].isdigit()


def _joint(prev: str, line: str, short: float, gap: bool) -> str:
    """What joins two non-blank normalised lines in the flow: ``"\\n"`` (a paragraph
    ends), ``""`` (wrapped Chinese) or ``" "`` (wrapped Latin text)."""
    hard = (
        prev[-1] in _SENTENCE_END
        or (prev[-1] == "." and not prev[-2:-1].isdigit() and line[0].isupper())
        or len(prev) < short
        or heading_kind(line) is not None
        or heading_kind(prev) is not None
        or _bulleted(line)
        or gap
    )
    if hard:
        return "\n"
    return "" if is_cjk(prev[-1]) or is_cjk(line[0]) else " "


def _sections(
    heads: list[tuple[int, str, str]], offset_of: dict[int, int], size: int
) -> tuple[Section, ...]:
    """Each heading opens a section that runs to the next heading."""
    out = []
    for j, (i, kind, keyword) in enumerate(heads):
        end = offset_of[heads[j + 1][0]] if j + 1 < len(heads) else size
        out.append(Section(kind, keyword, i + 1, offset_of[i], end))
    return tuple(out)


def read_source(text: str) -> Source:
    """Normalise ``text`` (a report or article) into a :class:`Source`.

    Parameters
    ----------
    text : str
        The whole text; lines end with ``\\n`` (``\\r\\n`` is accepted).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = tuple(_CONTROL.sub(" ", line) for line in text.split("\n"))
    norm = [_normalise_line(line) for line in lines]
    strings = ["".join(c for c, _ in chars) for chars, _ in norm]
    filled = sorted(len(s) for s in strings if s)
    short = max((filled[int(0.8 * (len(filled) - 1))] if filled else 0) * SHORT_LINE_RATIO, 12)
    nonblank = [i for i, s in enumerate(strings) if s]
    # A blank line ends a paragraph, unless the text puts one after most lines (PDF output).
    followed = sum(1 for i in nonblank[:-1] if not strings[i + 1])
    blank_breaks = followed < 0.5 * (len(nonblank) - 1)
    flow: list[str] = []
    where: list[tuple[int, int]] = []
    starts: list[tuple[int, int]] = []
    heads: list[tuple[int, str, str]] = []  # (line index, kind, keyword)
    for k, i in enumerate(nonblank):
        head = heading_kind(strings[i])
        if head:
            heads.append((i, *head))
        if k:
            prev = nonblank[k - 1]
            sep = _joint(strings[prev], strings[i], short, blank_breaks and i - prev > 1)
            if sep:
                flow.append(sep)
                where.append((prev, -1))
        starts.append((len(flow), i))
        for c, col in norm[i][0]:
            flow.append(c)
            where.append((i, col))
    flow_text = "".join(flow)
    return Source(
        lines=lines,
        text=flow_text,
        where=tuple(where),
        line_starts=tuple(starts),
        sections=_sections(heads, {li: off for off, li in starts}, len(flow_text)),
        han_chars=sum(1 for c in flow_text if is_han(c)),
        latin_chars=sum(1 for c in flow_text if c.isascii() and c.isalpha()),
        converted_chars=sum(changed for _, changed in norm),
    )


def language_of(src: Source) -> str:
    """``en``, ``zh-Hant`` or ``zh-Hans``: English when Chinese characters number under a
    fifth of the Latin letters; traditional when t2s changed over 5% of them."""
    if src.han_chars < 0.2 * src.latin_chars or not src.han_chars:
        return "en"
    return "zh-Hant" if src.converted_chars > 0.05 * src.han_chars else "zh-Hans"
