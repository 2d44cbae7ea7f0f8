"""Rating phrases: ``维持腾讯控股(00700)“买入”评级``, ``首次覆盖给予增持``,
``评级由增持上调至买入``, ``投资评级: 买入(维持)``, ``维持行业“增持”评级``,
``maintain Buy on Tencent``, ``upgrade Meituan to Overweight from Neutral``.

Each phrase is found on the normalised flow text and handed over with the span
where its company may be named (between the verb and the rating word, or after
``on`` in English); :mod:`tracker.extract.calls` decides which company it is.
"""

from __future__ import annotations

import re

from tracker.extract.evidence import Phrase, readable
from tracker.extract.names import CODE, clean_name, looks_like_name
from tracker.extract.text import Source, is_han
from tracker.extract.vocab import EN_ACTIONS, EN_RATING, ZH_ACTIONS, ZH_RATING, zh_action

_Q = r"[“”\"'「」『』‘’]?"
_ZH_ACT = "|".join(sorted({w for ws in ZH_ACTIONS.values() for w in ws}, key=len, reverse=True))
_EN_ACT = "|".join(f"(?P<en_{k}>(?i:{v}))" for k, v in EN_ACTIONS.items())
_PAREN_ACT = (
    r"维持|首次覆盖|首次|上调|下调|调高|调低|首予|新"
    r"|(?i:maintain(?:ed)?|initiated?|upgraded?|downgraded?|reiterated?)"
)
_CHANGE_ACT = r"上调|下调|调升|调降|调高|调低|提升|降低|升级|降级|上修|下修|升|降"
_CONNECTORS = re.compile(
    r"^[\s,]*(?:并|且|同时)?\s*(?:对其|对公司|给予|予以|评级为|评级|投资评级|为|其|公司)?\s*(?:评级)?\s*(?:至|为|到)?\s*$"
)
_WEAK_ACTS = ("保持", "延续")
_OK_AFTER = ("评级", "并", "且", "的", "目标", "投资", "不变", "评价")
_INDUSTRY_WORDS = re.compile(r"行业|板块|industry|sector", re.IGNORECASE)


def _rating_alternation(extra: tuple[str, ...]) -> str:
    words = set(ZH_RATING.split("|")) | {re.escape(w) for w in extra if not w.isascii()}
    return "|".join(sorted(words, key=len, reverse=True))


def _patterns(extra: tuple[str, ...]) -> list[tuple[str, re.Pattern]]:
    zr = _rating_alternation(extra)
    er = EN_RATING
    return [
        (
            "change",
            re.compile(
                rf"(?:评级)?(?:由|从)\s*{_Q}(?P<prev>{zr}){_Q}\s*(?:评级)?\s*(?P<act>{_CHANGE_ACT})\s*(?:至|为|到)\s*{_Q}(?P<r>{zr}){_Q}"
            ),
        ),
        (
            "en_change",
            re.compile(
                rf"\b(?P<act>(?i:upgrad(?:e|es|ed|ing)|downgrad(?:e|es|ed|ing)))\b(?P<mid>[^.;\n]{{0,60}}?)"
                rf"\b(?i:from)\s+(?P<prev>(?i:{er}))\s+(?i:to)\s+(?P<r>(?i:{er}))\b"
            ),
        ),
        (
            "label",
            re.compile(
                rf"(?P<lab>(?:投资|公司|股票|个股|行业)?评级|\b(?i:rating|recommendation))\s*(?::\s*|(?={_Q}(?:{zr})))"
                rf"{_Q}(?P<r>{zr}|\b(?i:{er})\b){_Q}"
                rf"(?:\s*-?\s*[A-C]\b)?\s*(?:\(\s*(?P<act>{_PAREN_ACT})\s*\))?"
            ),
        ),
        (
            "paren",
            re.compile(rf"{_Q}(?P<r>{zr}|\b(?i:{er})\b){_Q}\s*\(\s*(?P<act>{_PAREN_ACT})\s*\)"),
        ),
        (
            "main",
            re.compile(
                rf"(?P<act>{_ZH_ACT})(?P<mid>[^。;!?\n]{{0,40}}?)(?P<q>{_Q})(?P<r>{zr}){_Q}(?P<tail>\s*(?:的)?\s*(?:投资)?评级)?"
            ),
        ),
        (
            "en",
            re.compile(
                rf"\b(?:{_EN_ACT})\b(?P<mid>[^.;\n]{{0,60}}?)\b(?P<r>(?i:{er}))\b(?P<tail>(?i:\s+rating))?"
                rf"(?:\s+(?i:on|for)\s+(?P<after>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){{0,3}}))?"
                rf"(?:,?\s+(?i:from)\s+(?P<prev>(?i:{er}))\b)?"
            ),
        ),
    ]


def _action_word(word: str) -> str | None:
    w = word.lower()
    if w.startswith(("upgrad", "上调", "调升", "调高", "提升", "升级", "上修", "升")):
        return "upgrade"
    if w.startswith(("downgrad", "下调", "调降", "调低", "降低", "降级", "下修", "降")):
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
            if not readable(src, m.start()) or any(a < m.end() and m.start() < b for a, b in taken):
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
        return Phrase(
            m.start(), m.end(), word, act if act != "give" else None, prev, m.span("mid"), after
        )
    return _main_phrase(m, text, word)


def _governing_verb(m: re.Match, text: str) -> tuple[int, str, str | None]:
    """Where the verb governing the rating starts, the verb, and its action.

    It is the last verb before the rating ("维持盈利预测，给予买入" -> 给予); a chain of
    verbs ("首次覆盖，给予") keeps its most specific one, and 首次覆盖 anywhere before
    a 给予 makes it an initiation ("首次覆盖美团，给予增持评级").
    """
    mid_a, mid_b = m.span("mid")
    chain = [(m.start("act"), m.end("act"), m.group("act"))]
    chain += [
        (mid_a + x.start(), mid_a + x.end(), x.group(0))
        for x in re.finditer(_ZH_ACT, text[mid_a:mid_b])
    ]
    k = len(chain) - 1
    while k > 0 and re.fullmatch(r"[\s,]*", text[chain[k - 1][1] : chain[k][0]]):
        k -= 1
    verb = next((w for _, _, w in chain[k:] if zh_action(w) != "give"), chain[-1][2])
    action = zh_action(verb)
    if action == "give" and any(zh_action(w) == "initiate" for _, _, w in chain):
        action = "initiate"
    return chain[k][0], verb, action


def _main_phrase(m: re.Match, text: str, word: str) -> Phrase | None:
    """维持 ... 买入 ... 评级: a verb, maybe a company, the rating word, maybe 评级."""
    start, verb, action = _governing_verb(m, text)
    mid_a, mid_b = _after_last_verb(m, text), m.end("mid")
    mid = text[mid_a:mid_b]
    tail, quoted = m.group("tail"), bool(m.group("q"))
    follower = text[m.end() : m.end() + 2]
    if action in ("upgrade", "downgrade") and not re.search(r"(?:至|为|到)\s*$", mid):
        return None  # 上调盈利预测 ... : the rating did not move
    if not tail and follower[:1] and is_han(follower[0]) and not follower.startswith(_OK_AFTER):
        return None  # 维持中性偏多: not a rating
    if verb in _WEAK_ACTS and not tail and not quoted:
        return None  # 保持中性 may describe anything; 保持“中性”评级 is a rating
    if not tail and not quoted and not _CONNECTORS.match(mid) and not CODE.search(mid):
        if not looks_like_name(clean_name(mid)):
            return None
    industry = bool(_INDUSTRY_WORDS.search(mid)) or bool(
        re.search(r"(?:行业|板块)(?:评级)?\s*[:,]?\s*$", text[max(0, m.start() - 10) : m.start()])
    )
    return Phrase(
        start,
        m.end(),
        word,
        None if action == "give" else action,
        mid=(mid_a, mid_b),
        industry=industry,
        quoted=quoted,
    )


def _after_last_verb(m: re.Match, text: str) -> int:
    """The offset just after the last verb before the rating (where a company may follow)."""
    mid_a, mid_b = m.span("mid")
    verbs = list(re.finditer(_ZH_ACT, text[mid_a:mid_b]))
    return mid_a + verbs[-1].end() if verbs else m.end("act")
