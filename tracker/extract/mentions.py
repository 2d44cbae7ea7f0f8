"""Companies merely mentioned: clients, peers, competitors, shareholders, comparisons.

A rating belongs to the company its phrase is about. A company named in a clause
that only mentions it (``其主要客户包括腾讯控股(0700.HK)``, ``peers such as Meituan
(03690.HK)``, ``与美团(3690.HK)相比``) is not that company, unless the rating itself
stands in the same clause (``维持腾讯控股(0700.HK)以及美团(3690.HK)买入评级``).

A mention clause runs from its marker to the end of the clause (a Chinese comma,
``；``, a sentence end, a line end; in English ``;`` or a comma followed by a
lower-case word that is not ``and`` / ``or``). ``与 X 相比`` is one clause.
Both scripts are read, so notes and flow text share the rule.
"""

from __future__ import annotations

import re

_ZH_MARKERS = (
    r"包括|包含|例如|比如|诸如|諸如|譬如|以及|"
    r"(?<![例比诸諸譬假])如(?![果何今此下期若同实實约約])|"
    r"客户|客戶|合作伙伴|合作夥伴|供应商|供應商|同业|同業|同行|可比公司|"
    r"竞争对手|競爭對手|竞对|競對|对手|對手|股东|股東|相比|相較|相较|对比|對比"
)
_EN_MARKERS = (
    r"\b(?i:including|includes?|such\s+as|peers?|versus|vs\.?|"
    r"compared\s+(?:with|to)|relative\s+to|clients?|customers?|competitors?|rivals?|"
    r"shareholders?|suppliers?|partners?|as\s+well\s+as|ahead\s+of)\b"
)
_MARKER = re.compile(rf"{_ZH_MARKERS}|{_EN_MARKERS}")
#: ``与美团(3690.HK)相比``: the comparison is the whole bracket.
_COMPARED = re.compile(
    r"(?:与|與|和|跟|同|较|較)[^，,。；;！？!?\n]{1,40}?(?:相比|相較|相较|比较|比較|对比|對比)"
)
_CLAUSE_END = re.compile(r"[，。；;！？!?\n]|,(?=\s*(?!and\b|or\b)[a-z])|\.(?=\s|$)")


def mention_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the mention clauses in ``text[start:end]`` (offsets into ``text``).

    Parameters
    ----------
    text : str
        The text (flow text of a report, or a note's unit).
    start, end : int
        The part to read, usually one sentence.

    Returns
    -------
    list of (int, int)
        Each clause from its marker to the end of its clause.
    """
    end = len(text) if end is None else end
    spans = [m.span() for m in _COMPARED.finditer(text, start, end)]
    for m in _MARKER.finditer(text, start, end):
        stop = _CLAUSE_END.search(text, m.end(), end)
        spans.append((m.start(), stop.start() if stop else end))
    return spans


def merely_mentioned(spans: list[tuple[int, int]], pos: int, anchor: int | None = None) -> bool:
    """Whether a company named at ``pos`` stands in a mention clause that does not also hold
    the rating or target at ``anchor`` (``None``: any mention clause counts)."""
    return any(a <= pos < b and (anchor is None or not a <= anchor < b) for a, b in spans)


#: A covering verb and the company it names, coded or not: ``首次覆盖星辰数智``,
#: ``initiate coverage of Acme Widgets``, ``Buy rating on Acme Widgets``.
_OWN_SUBJECT = re.compile(
    r"(?:首次覆盖|首次覆蓋|覆盖|覆蓋)\s*(?![(（]?\d)[\u4e00-\u9fffA-Za-z]{2,16}"
    r"|\b(?i:coverage\s+(?:of|on)|(?:rating|stance)\s+on)\s+[A-Z][\w&.-]*"
)


def names_own_subject(text: str, mentions: list[tuple[int, int]]) -> bool:
    """Whether ``text`` names the company its rating is about by a covering verb outside any
    mention clause (so a company carried over from earlier text is not that company)."""
    return any(not merely_mentioned(mentions, m.start()) for m in _OWN_SUBJECT.finditer(text))
