"""Page noise out of a note's text, line by line, so that line numbers stay true.

News pages wrap a broker's call in text that is not part of it: live quotes
after a stock code (``(00700.HK) -1.000 (-0.193%) 沽空 $1.11億; 比率 9.175%``),
headlines of related articles carrying *other* brokers' calls (``相關內容《大行》…``,
a ``Related News`` block), index bars and quote-delay footers. :func:`clean_lines`
blanks or trims them and returns the remaining lines normalised (NFKC, then
traditional to simplified), one per input line.
"""

from __future__ import annotations

import re
import unicodedata

from tracker.extract.text import to_simplified

#: A live quote after a code: change, change in %, and the short-selling figures.
_QUOTE = re.compile(
    r"\s*[+-]?\d[\d,]*\.\d+\s*\(\s*[+-]?\d+(?:\.\d+)?%\s*\)"
    r"(?:\s*(?:沽空|short\s+selling)\s*\$?[\d.,]+\s*(?:[亿万千百]+|[BMK])?\s*[;；,]?"
    r"\s*(?:比率|ratio)\s*[\d.]+%)?",
    re.IGNORECASE,
)
#: The short-selling figures alone.
_SHORT = re.compile(
    r"\s*(?:沽空|short\s+selling)\s*\$?[\d.,]+\s*(?:[亿万千百]+|[BMK])?\s*[;；,]?"
    r"\s*(?:比率|ratio)\s*[\d.]+%",
    re.IGNORECASE,
)
#: A line that is the headline of another article.
_RELATED = re.compile(
    r"^\s*(?:相关内容|相关新闻|相关文章|相关阅读|延伸阅读|推荐阅读|相关报道|related\s+(?:news|articles?|stories)\s*[:：]?\s*\S)",
    re.IGNORECASE,
)
#: A heading that opens a block of related headlines (one per following line).
_RELATED_HEAD = re.compile(
    r"^\s*(?:related\s+(?:news|articles?|stories)|相关内容|相关新闻|延伸阅读)\s*[:：]?\s*$",
    re.IGNORECASE,
)
#: Quote-delay and data-source footers.
_FOOTER = re.compile(
    r"\((?:[^()]*\))?\s*\(?(?:港股报价延迟|HK stocks quote is delayed|美股为即时)[^\n]*$",
    re.IGNORECASE,
)


def normalise(line: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII) then traditional to simplified."""
    return to_simplified(unicodedata.normalize("NFKC", line))


def clean_lines(text: str) -> list[str]:
    """The note's lines, normalised, with page noise removed; as many lines as ``text``.

    Parameters
    ----------
    text : str
        The note as read (any script).

    Returns
    -------
    list of str
        One entry per line of ``text``: ``""`` for a dropped line (a related
        headline, a quote footer), else the normalised line without live quotes.
    """
    out: list[str] = []
    in_related = False
    for raw in text.splitlines():
        line = normalise(raw)
        if _RELATED_HEAD.match(line):
            in_related = True
            out.append("")
            continue
        if in_related:
            if line.strip():
                out.append("")
                continue
            in_related = False
        if _RELATED.match(line):
            out.append("")
            continue
        line = _FOOTER.sub("", line)
        line = _QUOTE.sub("", line)
        line = _SHORT.sub("", line)
        out.append(line)
    return out
