"""The rating definitions (投资评级说明 / 評級說明 / Rating definitions) as rating systems.

A definitions section lists, per system (company or industry), one clause per
rating: the word, the horizon and the excess return over a benchmark, e.g.
``买入—未来 6-12 个月的投资收益率领先市场基准指数 15%以上``. The parser:

1. finds the section (a recognised heading, else the densest run of such
   clauses anywhere in the text);
2. cuts it at every rating word; a clause counts as a band when it holds a
   percentage (or, for a neutral word, a "between/in line" wording) and names
   a horizon, benchmark or market;
3. starts a new system at a label (行业评级 / 公司评级 / 股票评级 / Industry /
   Company ...) or when a rating word repeats;
4. reads each clause's thresholds: ranges (``5%至15%``, ``-5%～5%``,
   ``介于5%与15%之间``), single bounds (``15%以上``, ``-15%以下``,
   ``超过10%``); a number after a "trailing" word (落后, 弱于, 跑输, 跌幅,
   underperform...) is negative;
5. fills a band without numbers (``中性: 相对基准变化不大``) from its neighbours
   and checks that the bands meet without gaps or overlaps;
6. puts a value exactly on a threshold in the band further from zero (Chinese
   "15%以上" includes 15), the convention of ``recs/scales/huaan.yaml``;
7. maps the words to canonical ratings by their usual meaning, or by position
   when the usual meanings collide (增持 / 谨慎增持 / 中性 / 减持).

Benchmarks per market come from sentences such as ``香港市场以恒生指数为基准``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from tracker.extract.text import Source
from tracker.extract.vocab import (
    EN_RATING,
    INDEXES,
    MARKETS,
    NOT_RATED,
    RANK_RATING,
    ZH_RATING,
    rank_of,
)
from tracker.recs.models import Band, Horizon, RatingScale, RatingSystem

_TOKEN = re.compile(
    rf"(?P<stop>{'|'.join(re.escape(w) for w in NOT_RATED)}|\bNR\b)"
    rf"|(?P<zh>{ZH_RATING})|(?P<en>\b(?:{EN_RATING})\b)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?P<v>[+-]?\d+(?:\.\d+)?)\s*(?P<pct>%)?")
_RANGE_SEP = re.compile(r"^\s*%?\s*(?:至|到|~|—|–|-|与|和|and|to)\s*[+-]?\d")
_NEG = re.compile(
    r"落后|弱于|跑输|低于|跌幅|下跌|不及|逊于|劣于|差于|underperform|lag|trail|worse|loss|decline|fall|drop",
    re.IGNORECASE,
)
_POS = re.compile(
    r"领先|强于|跑赢|高于|超越|超过|超出|优于|涨幅|上涨|好于|outperform|exceed|better|beat|gain",
    re.IGNORECASE,
)
_ABOVE_AFTER = re.compile(r"^\s*(?:以上|及以上|或以上|above|or more|\+)", re.IGNORECASE)
_BELOW_AFTER = re.compile(r"^\s*(?:以下|及以下|或以下|below|or less)", re.IGNORECASE)
_ABOVE_BEFORE = re.compile(
    r"(?:超过|高于|大于|多于|≥|至少|more than|over|above"
    r"|exceed(?:s|ing)?|greater than|at least|>)\s*$",
    re.IGNORECASE,
)
_BELOW_BEFORE = re.compile(r"(?:低于|小于|少于|≤|less than|below|under|<)\s*$", re.IGNORECASE)
_NEUTRAL_CUE = re.compile(
    r"相差|持平|之间|介于|变化不大|同步|相当|in line|between|within|±", re.IGNORECASE
)
_CONTEXT_CUE = re.compile(
    r"月|基准|指数|大市|大盘|市场|行业|benchmark|index|market|month", re.IGNORECASE
)
_ABSOLUTE_CUE = re.compile(
    r"绝对|潜在涨幅|潜在回报|潜在变幅|潜在跌幅|absolute|potential (?:return|upside|loss)",
    re.IGNORECASE,
)
_RELATIVE_CUE = re.compile(
    r"相对|基准|指数|大市|大盘|领先|落后|跑赢|跑输|benchmark|relative|index|market", re.IGNORECASE
)
_LABEL = re.compile(
    r"(?P<ind>行业|板块|industry|sector)[\u4e00-\u9fff]{0,3}?\s*(?:评级|rating)"
    r"|(?P<com>公司|股票|个股|company|stock)[\u4e00-\u9fff]{0,3}?\s*(?:评级|rating)",
    re.IGNORECASE,
)
_ZH_NUM = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十二": 12,
    "十八": 18,
    "二十四": 24,
}
_NUM_WORD = r"\d{1,2}|十二|十八|二十四|[一二两三四五六七八九十]"
_MONTHS = re.compile(
    rf"(?P<a>{_NUM_WORD})\s*(?:个)?\s*(?:(?:-|~|至|到|—|–|to)\s*(?P<b>{_NUM_WORD})\s*)?"
    r"(?:个月|months?\b|-month\b)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"未来一年|一年内|一年以内|next year|twelve months", re.IGNORECASE)
_PLUS_MINUS = re.compile(r"[±]\s*(\d+(?:\.\d+)?)\s*%")
_CLAUSE_END = re.compile(r"[;。\n]|\.(?=\s+[A-Z])|\.$")
_LEADING_DASH = re.compile(r"^[—:：\s-]+")
#: Largest distance (flow characters) between two bands of one definitions list.
MAX_GAP = 300


def _num(word: str) -> int:
    return int(word) if word.isdigit() else _ZH_NUM.get(word, 0)


def months_in(text: str) -> list[tuple[int, int]]:
    """Horizons written in ``text``: ``6-12 个月`` -> (6, 12), ``未来一年`` -> (12, 12)."""
    out = []
    for m in _MONTHS.finditer(text):
        a = _num(m.group("a"))
        b = _num(m.group("b")) if m.group("b") else a
        if 0 < a <= b <= 120:
            out.append((a, b))
    out += [(12, 12)] * len(_YEAR.findall(text))
    return out


@dataclass
class BandText:
    """One clause of a definitions list, before it becomes a :class:`Band`."""

    word: str  # simplified (or English as written)
    original: str  # the word in the report's own script
    start: int
    end: int
    clause: str
    clause_original: str
    lower: float | None = None
    upper: float | None = None
    numbers: int = 0
    months: list[tuple[int, int]] = field(default_factory=list)
    absolute: bool = False


@dataclass
class SystemText:
    kind: str | None  # company, industry or None when no label says so
    bands: list[BandText]
    label_text: str  # the text before the first band (label, preamble)


@dataclass(frozen=True)
class ScaleParse:
    """What the definitions section gave: the systems, the benchmarks and what went wrong."""

    found: bool
    line: int | None = None
    company: RatingSystem | None = None
    industry: RatingSystem | None = None
    benchmarks: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    absolute: bool = False


def _signed_numbers(clause: str) -> tuple[list[tuple[float, bool, int, int]], str]:
    """Percentages in a clause as (value, negated_by_wording, start, end), and the text read."""
    text = clause.replace("涨跌幅", "变动").replace("涨跌", "变动")
    text = text.replace("不低于", "≥").replace("不高于", "≤").replace("不超过", "≤")
    # "±10%" is the range -10..10
    text = _PLUS_MINUS.sub(lambda m: f"-{m.group(1)}%至{m.group(1)}%", text)
    out = []
    direction = None
    last = 0
    for m in _NUMBER.finditer(text):
        is_pct = m.group("pct") is not None or _RANGE_SEP.match(text[m.end() :]) is not None
        if not is_pct or _MONTHS.match(text, m.start()):
            continue
        before = text[last : m.start()]
        negs = [x.end() for x in _NEG.finditer(before)]
        poss = [x.end() for x in _POS.finditer(before)]
        if negs or poss:
            direction = "neg" if max(negs, default=-1) > max(poss, default=-1) else "pos"
        raw = m.group("v")
        if raw.startswith("-") and re.search(r"[%\d]\s*$", text[: m.start()]):
            raw = raw[1:]  # "5%-15%": the dash joins a range, it is not a minus sign
        value = float(raw)
        negated = direction == "neg" and value >= 0 and not raw.startswith("+")
        out.append((-value if negated else value, negated, m.start(), m.end()))
        last = m.end()
    return out, text


def _read_thresholds(band: BandText) -> None:
    nums, text = _signed_numbers(band.clause)
    band.numbers = len(nums)
    if len(nums) >= 2:
        lo, hi = sorted((nums[0][0], nums[1][0]))
        band.lower, band.upper = lo, hi
    elif len(nums) == 1:
        v, negated, s, e = nums[0]
        after, before = text[e:], text[:s]
        if _ABOVE_AFTER.match(after) or _ABOVE_BEFORE.search(before):
            sense = "above"
        elif _BELOW_AFTER.match(after) or _BELOW_BEFORE.search(before):
            sense = "below"
        else:
            sense = "above" if v > 0 else "below"
        if negated:  # "落后 15%以上", "弱于 5%以下", "跌幅 10%": trailing by that much or more
            sense = "below"
        if sense == "above":
            band.lower = v
        else:
            band.upper = v
    band.months = months_in(band.clause)
    band.absolute = bool(_ABSOLUTE_CUE.search(band.clause)) and not _RELATIVE_CUE.search(
        band.clause
    )


def _tokens(src: Source, start: int, end: int) -> list[tuple[str, str, int, int]]:
    """Rating words in ``[start, end)`` as (kind, word, start, end); kind zh, en or stop."""
    out = []
    for m in _TOKEN.finditer(src.text, start, end):
        kind = m.lastgroup or ""
        word = m.group(0)
        if kind == "en" and not word[0].isupper():
            continue  # "buy" in prose; rating words are capitalised
        if (
            kind == "en"
            and out
            and out[-1][0] == "zh"
            and re.fullmatch(r"\s*\(\s*", src.text[out[-1][3] : m.start()])
        ):
            continue  # 优于大市 (Outperform): one band, two languages
        out.append((kind, word, m.start(), m.end()))
    return out


def _bands_in(src: Source, start: int, end: int) -> list[BandText]:
    tokens = _tokens(src, start, end)
    bands = []
    for i, (kind, word, s, e) in enumerate(tokens):
        if kind == "stop":
            continue
        stop = tokens[i + 1][2] if i + 1 < len(tokens) else min(end, e + 200)
        seg = src.text[e:stop]
        pct = seg.find("%")
        cut = _CLAUSE_END.search(seg, max(pct, 0))
        clause = seg[: cut.start()] if cut else seg
        label = _LABEL.search(clause, max(pct, 0))
        clause = clause[: label.start()] if label else clause  # the next system's label
        band = BandText(
            word, src.original(s, e), s, e + len(clause), clause, src.original(e, e + len(clause))
        )
        _read_thresholds(band)
        rank = rank_of(word)
        has_numbers = band.numbers > 0
        neutral = rank == 0 and _NEUTRAL_CUE.search(clause) is not None
        if (has_numbers or neutral) and _CONTEXT_CUE.search(clause) and len(clause) < 200:
            bands.append(band)
    return bands


def _runs(bands: list[BandText]) -> list[list[BandText]]:
    runs: list[list[BandText]] = []
    for band in bands:
        if runs and band.start - runs[-1][-1].end <= MAX_GAP:
            runs[-1].append(band)
        else:
            runs.append([band])
    return runs


def _systems(src: Source, bands: list[BandText], region_start: int) -> list[SystemText]:
    systems: list[SystemText] = []
    prev_end = region_start
    for band in bands:
        gap = src.text[prev_end : band.start]
        labels = list(_LABEL.finditer(gap))
        kind = None
        if labels:
            kind = "industry" if labels[-1].group("ind") else "company"
        current = systems[-1] if systems else None
        repeated = current is not None and any(b.word == band.word for b in current.bands)
        if current is None or labels or repeated:
            systems.append(SystemText(kind, [band], gap))
        else:
            current.bands.append(band)
        prev_end = band.end
    return systems


def assign_ratings(words: list[str]) -> list[str] | None:
    """Canonical ratings for a system's words, listed from the best band down.

    By the words' usual ranks when those strictly decrease, else by position:
    five bands take all five ratings; four drop underweight when the lowest
    word means sell (卖出, 回避), else drop sell; three are overweight,
    neutral, underweight; two are buy and sell.
    """
    ranks = [rank_of(w) for w in words]
    if all(r is not None for r in ranks) and all(
        a > b for a, b in zip(ranks, ranks[1:], strict=False)
    ):
        return [RANK_RATING[r] for r in ranks]  # type: ignore[index]
    n = len(words)
    if n == 5:
        return ["buy", "overweight", "neutral", "underweight", "sell"]
    if n == 4:
        low = "sell" if ranks[-1] == -2 else "underweight"
        return ["buy", "overweight", "neutral", low]
    if n == 3:
        return ["overweight", "neutral", "underweight"]
    if n == 2:
        return ["buy", "sell"]
    return None


def _months(m: tuple[int, int]) -> str:
    return f"{m[0]}" if m[0] == m[1] else f"{m[0]}-{m[1]}"


def _ordered(bands: list[BandText]) -> list[BandText]:
    """The bands from the best down, with open edges filled from their neighbours."""
    parsed = [b for b in bands if b.lower is not None or b.upper is not None]

    def mid(b: BandText) -> float:
        vals = [v for v in (b.lower, b.upper) if v is not None]
        return sum(vals) / len(vals)

    bands = list(reversed(bands)) if mid(parsed[0]) < mid(parsed[-1]) else list(bands)
    for i, b in enumerate(bands):  # a band without numbers sits between its neighbours
        if b.lower is None and b.upper is None and 0 < i < len(bands) - 1:
            b.upper = bands[i - 1].lower
            b.lower = bands[i + 1].upper
    for above, below in zip(bands, bands[1:], strict=False):
        if below.upper is None and above.lower is not None and below is not bands[-1]:
            below.upper = above.lower
        if above.lower is None and below.upper is not None and above is not bands[0]:
            above.lower = below.upper
    return bands


def _gaps(name: str, bands: list[BandText]) -> list[str]:
    """Problems with the bands' edges: an open end inside, or neighbours that do not meet."""
    problems = []
    top, bottom = bands[0], bands[-1]
    if bottom.lower is not None and bottom.upper is None:
        problems.append(
            f"{name} ratings: the lowest band {bottom.original} has only a lower bound"
            f" ({bottom.lower:g})"
        )
    if top.upper is not None and top.lower is None:
        problems.append(
            f"{name} ratings: the highest band {top.original} has only an upper bound"
            f" ({top.upper:g})"
        )
    for above, below in zip(bands, bands[1:], strict=False):
        if above.lower is None or below.upper is None or above.lower != below.upper:
            problems.append(
                f"{name} ratings: {above.original} (from {_fmt(above.lower)}) and {below.original}"
                f" (up to {_fmt(below.upper)}) do not meet"
            )
    return problems


def _horizon(
    system: SystemText, default: tuple[int, int] | None, fallback: tuple[int, int] | None
) -> tuple[tuple[int, int] | None, list[str]]:
    """The system's horizon: its bands' most common, else its label's, else the section's,
    else the fallback scale's (flagged)."""
    name = system.kind or "rating"
    counted = Counter(m for b in system.bands for m in b.months)
    if counted:
        return counted.most_common(1)[0][0], []
    label = months_in(system.label_text[-200:])
    if label or default:
        return (label[-1] if label else default), []
    if fallback is None:
        return None, [f"{name} ratings: no horizon (months) given"]
    return fallback, [
        f"{name} ratings: no horizon (months) given;"
        f" {_months(fallback)} assumed (as the fallback scale)"
    ]


def _band(b: BandText, rating: str, lower: float | None, upper: float | None) -> Band:
    # On a threshold t, the band further from zero gets t ("15%以上" includes 15).
    return Band(
        rating=rating,
        lower_pp=lower,
        upper_pp=upper,
        lower_inclusive=lower is None or lower >= 0,
        upper_inclusive=upper is not None and upper < 0,
        aliases=tuple(dict.fromkeys(w for w in (b.word, b.original) if w.lower() != rating)),
        source=f"{b.original}—{_LEADING_DASH.sub('', b.clause_original)}"[:200],
    )


def _build_system(
    system: SystemText,
    default_months: tuple[int, int] | None,
    fallback_months: tuple[int, int] | None = None,
) -> tuple[RatingSystem | None, list[str]]:
    """The bands of one system as a validated :class:`RatingSystem`, or the problems."""
    name = system.kind or "rating"
    if sum(1 for b in system.bands if b.lower is not None or b.upper is not None) < 2:
        return None, [f"{name} ratings: fewer than two bands have thresholds"]
    bands = _ordered(system.bands)
    ratings = assign_ratings([b.word for b in bands])
    if ratings is None:
        return None, [f"{name} ratings: {len(bands)} bands cannot be mapped to buy..sell"]
    problems = _gaps(name, bands)
    if problems:
        return None, problems
    months, problems = _horizon(system, default_months, fallback_months)
    if months is None:
        return None, problems
    last = len(bands) - 1
    made = [
        _band(b, r, None if i == last else b.lower, None if i == 0 else b.upper)
        for i, (b, r) in enumerate(zip(bands, ratings, strict=True))
    ]
    try:
        horizon = Horizon(min_months=months[0], max_months=months[1])
        return RatingSystem(horizon_months=horizon, bands=tuple(made)), problems
    except ValidationError as exc:
        return None, [
            f"{name} ratings: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        ]


def _fmt(v: float | None) -> str:
    return "open" if v is None else f"{v:g}%"


def _benchmarks(text: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Benchmark symbol per market from the section's sentences; problems; notes."""
    found: dict[str, str] = {}
    problems: list[str] = []
    notes: list[str] = []
    names = sorted(INDEXES, key=len, reverse=True)
    for clause in re.split(r"[;。,\n]", text):
        flat = "".join(clause.split()).lower()
        spaced = " ".join(clause.split()).lower()
        hits: list[str] = []
        rest = flat
        for n in names:
            key = "".join(n.split())
            if key in rest and (not key.isascii() or re.search(rf"\b{re.escape(n)}\b", spaced)):
                hits.append(n)
                rest = rest.replace(key, "|")
        hits = list({INDEXES[h]: h for h in reversed(hits)}.values())[::-1]  # one name per index
        if not hits:
            continue
        markets = [m for m, words in MARKETS.items() if any(w in spaced for w in words)]
        if not markets and all(INDEXES[h] in ("^HSI", "^HSCE", "^HSTECH") for h in hits):
            markets = ["HK"]
        if len(markets) != 1 or markets[0] in found:
            continue
        market = markets[0]
        if len(hits) > 1:
            notes.append(f"{market} benchmark: the report names {' or '.join(hits)}; not recorded")
            continue
        symbol = INDEXES[hits[0]]
        if symbol is None:
            problems.append(
                f"{market} benchmark {hits[0]} has no price symbol in tracker"
                + (
                    "; the draft scores against ^HSI, change it if you have the index"
                    if market == "HK"
                    else ""
                )
            )
            continue
        found[market] = symbol
    return found, problems, notes


def _region(src: Source) -> tuple[int, int, list[BandText]] | None:
    """The definitions: the first recognised section holding two bands or more, else the
    longest run of three bands or more anywhere, with 400 characters around it."""
    for sec in src.sections:
        if sec.kind == "definitions":
            bands = _bands_in(src, sec.start, sec.end)
            if len(bands) >= 2:
                return sec.start, sec.end, bands
    runs = [r for r in _runs(_bands_in(src, 0, len(src.text))) if len(r) >= 3]
    if not runs:
        return None
    best = max(runs, key=len)
    return max(best[0].start - 400, 0), min(best[-1].end + 400, len(src.text)), best


def _kind(system: SystemText, built: Mapping[str, RatingSystem]) -> str:
    """A system's kind: its label's, else industry when its clauses say 行业 or a company
    system came first, else company."""
    if system.kind is not None:
        return system.kind
    text = " ".join(b.clause for b in system.bands)
    industry = "行业" in text or "industry" in text.lower() or "company" in built
    return "industry" if industry else "company"


def _benchmark_problems(
    benchmarks: dict[str, str], problems: list[str], absolute: bool
) -> list[str]:
    out = []
    if "HK" not in benchmarks:
        benchmarks["HK"] = "^HSI"
        if not problems:
            out.append(
                "the definitions name no Hong Kong benchmark; ^HSI (Hang Seng Index) assumed"
            )
    if absolute:
        out.append(
            "the thresholds look like absolute returns (潜在涨幅 / potential return), not excess"
            " over a benchmark: tracker scores excess return, check the bands"
        )
    return out


def parse_definitions(
    src: Source, fallback_horizons: Mapping[str, tuple[int, int]] | None = None
) -> ScaleParse:
    """Read the report's rating definitions into company and industry rating systems.

    Parameters
    ----------
    src : Source
        The report.
    fallback_horizons : mapping, optional
        ``{"company": (6, 12), "industry": (6, 6)}``: months assumed (and flagged)
        for a system whose definitions give none.

    Returns
    -------
    ScaleParse
        ``found=False`` when the text has no definitions at all; otherwise the
        systems that could be built and a problem for each that could not.
    """
    region = _region(src)
    if region is None:
        heading = next((s for s in src.sections if s.kind == "definitions"), None)
        if heading is None:
            return ScaleParse(False)
        return ScaleParse(
            True,
            heading.line,
            problems=(f"the rating definitions ({heading.heading}) could not be read",),
        )
    start, _, bands = region
    systems = _systems(src, bands, start)
    preamble = src.text[start : bands[0].start]
    # Notes on horizon and benchmarks often follow the bands,
    # sometimes under a heading of their own.
    tail = src.text[bands[-1].end : bands[-1].end + 400]
    months = months_in(preamble) or months_in(tail)
    problems: list[str] = []
    built: dict[str, RatingSystem] = {}
    for system in systems:
        system.kind = _kind(system, built)
        if system.kind in built:
            problems.append(f"a second {system.kind} rating list was ignored")
            continue
        fallback = (fallback_horizons or {}).get(system.kind)
        rs, found = _build_system(system, months[0] if months else None, fallback)
        problems += found
        if rs is not None:
            built[system.kind] = rs
    texts = [preamble, *(s.label_text for s in systems[1:]), tail, *(b.clause for b in bands)]
    benchmarks, bench_problems, notes = _benchmarks("\n".join(texts))
    absolute = any(b.absolute for b in bands)
    problems += bench_problems + _benchmark_problems(benchmarks, bench_problems, absolute)
    return ScaleParse(
        True,
        src.line(start),
        built.get("company"),
        built.get("industry"),
        benchmarks,
        tuple(dict.fromkeys(problems)),
        tuple(dict.fromkeys(notes)),
        absolute,
    )


def essence(scale: RatingScale) -> tuple:
    """What scoring reads from a scale: bands, edges, horizons and the HK benchmark."""

    def system(rs: RatingSystem | None) -> tuple | None:
        if rs is None:
            return None
        bands = tuple(
            sorted(
                (b.rating, b.lower_pp, b.upper_pp, b.lower_inclusive, b.upper_inclusive)
                for b in rs.bands
            )
        )
        return (rs.horizon_months.min_months, rs.horizon_months.max_months, bands)

    attention = scale.attention_horizon
    return (
        system(scale.company),
        system(scale.industry),
        scale.benchmark("HK"),
        scale.attention.lower_pp,
        scale.attention.lower_inclusive,
        (attention.min_months, attention.max_months),
    )
