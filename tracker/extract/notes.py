"""Calls in news notes and round-ups: who rated which stock how, clause by clause.

A note is read as a sequence of *units* (sentences, headings, table rows), in
order, keeping two things from one unit to the next: the broker last named
(``該行``/``the broker`` refer back to it) and the company last named. In each
unit the facts are found (:mod:`tracker.extract.facts`: rating changes, targets
with their previous value, brokers, companies, a day) and each fact goes to

* the brokers named before it in the unit (``花旗及摩根大通均把…`` gives both),
  else the broker carried over, else the note's only broker;
* the company named nearest before it in the unit, else after it, else the
  company carried over.

A table with a broker column (a consensus page) gives one call per row. Facts
are merged per broker, ticker and listing (a USD target on an HK company is
its US line: ``listing: ADR``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from tracker.extract.clean import clean_lines
from tracker.extract.facts import (
    BrokerHit,
    CompanyHit,
    RatingHit,
    TargetFact,
    brokers_in,
    companies_in,
    day_in,
    is_consensus,
    ratings_in,
    row_date,
    table_target,
    targets_in,
)
from tracker.extract.mentions import mention_spans, merely_mentioned, names_own_subject
from tracker.extract.meta import broker_named
from tracker.extract.text import heading_kind
from tracker.extract.vocab import BROKERS, Broker, rating_of

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry


@dataclass
class Unit:
    """A sentence, heading or table row: normalised text and its 1-based line."""

    text: str
    line: int
    item: int  # news items on one page (a bullet '• SITE' line starts one)
    cells: tuple[str, ...] | None = None  # a table row's cells


@dataclass
class NoteCall:
    """One broker's call on one listing of one company, merged from its facts."""

    broker: Broker
    ticker: str
    name: str
    listing: str  # "HK" or "ADR"
    line: int
    rating: str | None = None
    rating_words: str | None = None
    rating_line: int | None = None
    action: str | None = None
    previous_rating: str | None = None
    target: float | None = None
    currency: str | None = None
    currency_assumed: bool = False
    previous_target: float | None = None
    target_line: int | None = None
    dated: date | None = None
    broker_line: int | None = None
    notes: list[str] = field(default_factory=list)


_SENTENCE_END = re.compile(r"(?<=[。;!?；！？])|(?<=[.])(?=\s+[A-Z(\[])")
#: Cell separators: rules drawn with bars, or tabs (a table pasted from a sheet or a page).
_CELL_SEP = re.compile(r"\s*[│|┃｜\t]\s*")
_ITEM = re.compile(r"^\s*[•·]\s*[A-Za-z][A-Za-z ]{2,30}$")
_EMAIL_DOMAIN = re.compile(r"@([a-z][a-z-]+)\.com\b", re.IGNORECASE)


def units_of(lines: list[str]) -> list[Unit]:
    """Split cleaned lines into units; a wrapped line (long, no sentence end) joins the next."""
    units: list[Unit] = []
    item = 0
    pending: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal pending
        if pending is None:
            return
        text, line = pending
        pending = None
        for part in _SENTENCE_END.split(text):
            if part.strip():
                units.append(Unit(part.strip(), line, item))

    for n, line in enumerate(lines, start=1):
        if _ITEM.match(line):
            flush()
            item += 1
            continue
        if len(_CELL_SEP.findall(line)) >= 2:
            flush()
            head, _, rest = line.rpartition(":") if ":" in line.split("|")[0] else ("", "", line)
            if head.strip():
                units.append(Unit(head.strip() + ":", n, item))
            cells = tuple(c.strip() for c in _CELL_SEP.split(rest.strip().strip("|│")))
            units.append(Unit(rest.strip(), n, item, cells))
            continue
        if not line.strip():
            flush()
            continue
        if pending is not None:
            text, first = pending
            joint = " " if text[-1:].isascii() and line[:1].isascii() else ""
            pending = (text + joint + line.strip(), first)
        else:
            pending = (line.strip(), n)
        if len(line.strip()) < 40 or re.search(r"[。.!?;；:：]\s*$", line):
            flush()
    flush()
    return units


# --------------------------------------------------------------------------- tables


@dataclass
class _Columns:
    stock: int | None = None
    rating: int | None = None
    target: int | None = None
    broker: int | None = None
    day: int | None = None
    currency: str | None = None


def _header(cells: tuple[str, ...]) -> _Columns | None:
    cols = _Columns()
    for i, c in enumerate(cells):
        low = c.casefold()
        if re.search(r"评级|rating", low) and cols.rating is None:
            cols.rating = i
        elif re.search(r"目标价|target|\bTP\b", c, re.IGNORECASE) and cols.target is None:
            cols.target = i
            if re.search(r"港元|港币|HKD|HK\$", c):
                cols.currency = "HKD"
            elif re.search(r"美元|USD|US\$", c):
                cols.currency = "USD"
        elif re.search(r"证券商|券商|经纪|机构|broker", low):
            cols.broker = i
        elif re.search(r"日期|date", low):
            cols.day = i
        elif re.search(r"股份|股票|公司|名称|stock|company|name", low) and cols.stock is None:
            cols.stock = i
    if cols.rating is None and cols.target is None:
        return None
    return cols


# --------------------------------------------------------------------------- the reading


@dataclass
class _State:
    broker: list[BrokerHit] = field(default_factory=list)
    company: CompanyHit | None = None
    item: int = 0


def note_calls(
    text: str, registry: Registry, note_date: date | None = None
) -> tuple[list[NoteCall], Broker | None]:
    """Every broker's calls in a note, and the note's only broker when it has one.

    Parameters
    ----------
    text : str
        The note, as read.
    registry : Registry
        Resolves names and codes.
    note_date : date, optional
        The note's date: gives the year of a day written without one (``3月4日``).

    Returns
    -------
    (list of NoteCall, Broker or None)
        The calls in order of first mention; the broker when only one is named.
    """
    lines = clean_lines(text)
    unread = _unread_lines(lines)
    units = [u for u in units_of(lines) if u.line not in unread]
    strong = _named_firmly(units, registry)
    named = _brokers_named(units, text)
    only = named[0] if len(named) == 1 else None
    calls: dict[tuple[str, str, str], NoteCall] = {}
    state = _State()
    columns: _Columns | None = None
    for unit in units:
        if unit.item != state.item:
            state = _State(item=unit.item)
        if unit.cells is not None:
            head = _header(unit.cells)
            if head is not None:
                columns = head
                continue
            if columns is not None:
                _row(unit, columns, registry, strong, state, only, calls)
            continue
        columns = None
        _sentence(unit, registry, strong, state, only, note_date, calls)
    return _settled(list(calls.values())), only


#: Sections that hold no call: a rating word there defines a band or is boilerplate.
_UNREAD = ("definitions", "disclaimer")


def _unread_lines(lines: list[str]) -> set[int]:
    """1-based lines inside a rating-definitions or disclaimer section (up to the next heading
    of another kind): ``股票投资评级：优于大市 — 股价表现优于…`` is a band, not a call."""
    out: set[int] = set()
    zone = "body"
    for n, line in enumerate(lines, start=1):
        head = heading_kind(line.strip()) if line.strip() else None
        if head is not None:
            zone = head[0]
        if zone in _UNREAD:
            out.add(n)
    return out


def _firm(registry: Registry, c: CompanyHit) -> bool:
    """A mention that surely names a company: a code, a name of three characters or more,
    or its main name; a short alias (理想 for 理想汽车) is also an ordinary word."""
    from tracker.extract.names import _is_main_name

    return (
        c.code
        or len(c.name) >= 3
        or (c.ticker is not None and _is_main_name(registry, c.ticker, c.name))
    )


def _named_firmly(units: list[Unit], registry: Registry) -> set[str]:
    return {
        c.ticker
        for u in units
        for c in companies_in(u.text, registry)
        if c.ticker is not None and _firm(registry, c)
    }


#: A short alias in a call's own words: 将金蝶目标价…, 上调金蝶评级, 维持金蝶「买入」.
_CALL_BEFORE = re.compile(r"(?:把|将|对|给予|维持|予|升|降|上调|下调|调高|调低)$")
_CALL_AFTER = re.compile(r"^(?:的)?(?:目标价|目标股价|评级|投资评级|[「“\"](?:\w{2,4})[」”\"])")


def _companies(text: str, registry: Registry, strong: set[str]) -> list[CompanyHit]:
    """Companies in a unit; a short alias only when the note names its company firmly
    elsewhere, or the alias stands in the call's own words."""
    return [
        c
        for c in companies_in(text, registry)
        if _firm(registry, c)
        or c.ticker in strong
        or _CALL_BEFORE.search(text[: c.start])
        or _CALL_AFTER.match(text[c.end :])
    ]


def _brokers_named(units: list[Unit], text: str) -> list[Broker]:
    seen: dict[str, Broker] = {}
    for u in units:
        for hit in brokers_in(u.text):
            seen.setdefault(hit.broker.id, hit.broker)
    if not seen:
        for m in _EMAIL_DOMAIN.finditer(text):
            b = broker_named(m.group(1))
            if b is None:
                b = next((x for x in BROKERS if x.id == m.group(1).lower()), None)
            if b is not None:
                seen.setdefault(b.id, b)
    return list(seen.values())


def _call(
    calls: dict[tuple[str, str, str], NoteCall],
    broker: BrokerHit,
    company: CompanyHit,
    listing: str,
    line: int,
) -> NoteCall:
    key = (broker.broker.id, company.ticker, listing)
    if key not in calls:
        calls[key] = NoteCall(
            broker=broker.broker,
            ticker=company.ticker,
            name=company.name,
            listing=listing,
            line=line,
            broker_line=broker.line or line,
        )
    return calls[key]


def _give_rating(call: NoteCall, r: RatingHit, line: int) -> None:
    if call.rating is not None and call.action is not None and r.action is None:
        return  # the fuller reading (with its action) stays
    call.rating = r.rating
    call.rating_words = r.words
    call.rating_line = line
    call.action = r.action or call.action
    call.previous_rating = r.previous or call.previous_rating


def _give_target(call: NoteCall, t: TargetFact, line: int) -> None:
    if call.target is not None and t.assumed and not call.currency_assumed:
        return  # a headline's bare 元 does not replace a target written with its currency
    if call.target is not None and call.previous_target is not None and t.previous is None:
        return
    call.target = t.value
    call.currency = t.currency
    call.currency_assumed = t.assumed
    call.previous_target = t.previous if t.previous is not None else call.previous_target
    call.target_line = line


def _sentence(
    unit: Unit,
    registry: Registry,
    strong: set[str],
    state: _State,
    only: Broker | None,
    note_date: date | None,
    calls: dict[tuple[str, str, str], NoteCall],
) -> None:
    text = unit.text
    brokers = [replace(b, line=unit.line) for b in brokers_in(text)]
    companies = _companies(text, registry, strong)
    ratings = ratings_in(text)
    targets = [] if is_consensus(text) else targets_in(text)
    if brokers:
        state.broker = _governing(brokers, text, len(text))
    facts: list[tuple[int, RatingHit | TargetFact]] = [(r.start, r) for r in ratings]
    facts += [(t.start, t) for t in targets]
    day = day_in(text, note_date)
    mentions = mention_spans(text)
    for pos, fact in sorted(facts, key=lambda f: f[0]):
        who = _governing(brokers, text, pos) or state.broker
        if not who and only is not None:
            who = [BrokerHit(only, 0, 0, None)]
        # A client, peer or comparison named in a mention clause never takes the fact.
        anchor = pos + len(fact.words) - 1 if isinstance(fact, RatingHit) else pos
        own = [c for c in companies if not merely_mentioned(mentions, c.start, anchor)]
        company = _company_for(own, pos)
        if company is None and not names_own_subject(text, mentions):
            company = state.company
        if not who or company is None or company.ticker is None:
            continue  # no broker, or a company without an HKEX line
        for b in who:
            if isinstance(fact, RatingHit):
                for listing in _listings(calls, b, company):
                    call = _call(calls, b, company, listing, unit.line)
                    _give_rating(call, fact, unit.line)
                    if day is not None:
                        call.dated = day
            else:
                listing = company.listing or ("ADR" if fact.currency == "USD" else "HK")
                call = _call(calls, b, company, listing, unit.line)
                _give_target(call, fact, unit.line)
                if day is not None:
                    call.dated = day
    companies = [c for c in companies if not merely_mentioned(mentions, c.start)]
    if companies:
        state.company = companies[-1] if len({c.ticker for c in companies}) > 1 else companies[0]


def _listings(calls: dict, b: BrokerHit, company: CompanyHit) -> list[str]:
    """A rating is the company's, whatever line: every listing already called, else HK."""
    have = [k[2] for k in calls if k[0] == b.broker.id and k[1] == company.ticker]
    if company.listing and company.listing not in have:
        have.append(company.listing)
    return have or ["HK"]


def _governing(brokers: list[BrokerHit], text: str, pos: int) -> list[BrokerHit]:
    """The brokers a fact at ``pos`` belongs to: the last named before it, with those
    joined to it by 及/和/与/、/and; else the first named after it."""
    before = [b for b in brokers if b.start < pos]
    if not before:
        return [brokers[0]] if brokers else []
    group = [before[-1]]
    for prev in reversed(before[:-1]):
        gap = text[prev.end : group[0].start]
        if re.fullmatch(r"\s*(?:及|和|与|、|,|以及|and|&)\s*", gap):
            group.insert(0, prev)
        else:
            break
    return group


def _company_for(companies: list[CompanyHit], pos: int) -> CompanyHit | None:
    before = [c for c in companies if c.start < pos]
    if before:
        return before[-1]
    after = [c for c in companies if c.start >= pos]
    return after[0] if after else None


def _row(
    unit: Unit,
    cols: _Columns,
    registry: Registry,
    strong: set[str],
    state: _State,
    only: Broker | None,
    calls: dict[tuple[str, str, str], NoteCall],
) -> None:
    cells = unit.cells or ()

    def cell(i: int | None) -> str:
        return cells[i] if i is not None and i < len(cells) else ""

    if cols.broker is not None:
        hits = brokers_in(cell(cols.broker))
        who = [replace(hits[0], line=unit.line)] if hits else []
    else:
        who = state.broker or ([BrokerHit(only, 0, 0, None)] if only else [])
    stock_text = cell(cols.stock) if cols.stock is not None else ""
    companies = _companies(stock_text, registry, strong) if stock_text else []
    company = companies[0] if companies else (state.company if cols.stock is None else None)
    if not who or company is None or company.ticker is None:
        return  # a US-only name (VIPS.US): not a call on an HKEX stock
    rating = ratings_in(cell(cols.rating), bare=True) if cols.rating is not None else []
    target = table_target(cell(cols.target), cols.currency) if cols.target is not None else None
    if not rating and target is None:
        return
    b = who[0]
    listing = company.listing or ("ADR" if target and target.currency == "USD" else "HK")
    call = _call(calls, b, company, listing, unit.line)
    if rating:
        _give_rating(call, rating[0], unit.line)
    if target is not None:
        _give_target(call, target, unit.line)
    if cols.day is not None:
        call.dated = row_date(cell(cols.day))


def _settled(calls: list[NoteCall]) -> list[NoteCall]:
    """Share a rating between the listings of one broker's call, and check currencies."""
    by_company: dict[tuple[str, str], list[NoteCall]] = {}
    for c in calls:
        by_company.setdefault((c.broker.id, c.ticker), []).append(c)
    for group in by_company.values():
        rated = [c for c in group if c.rating is not None]
        for c in group:
            if c.rating is None and rated:
                c.rating, c.action = rated[0].rating, rated[0].action
                c.previous_rating = rated[0].previous_rating
                c.rating_words, c.rating_line = rated[0].rating_words, rated[0].rating_line
            if c.listing == "ADR":
                c.notes.append("ADR: a USD target on the company's US line; check the listing")
    return [c for c in calls if c.rating is not None or c.target is not None]


def canonical(word: str) -> str | None:
    """The canonical rating of a word, for callers that hold only the word."""
    return rating_of(word)
