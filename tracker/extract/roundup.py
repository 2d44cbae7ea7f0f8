"""One draft per broker: a note, or a round-up of several brokers' calls.

:func:`extract_drafts` reads the report fields with :func:`extract_draft` and
the calls clause by clause (:mod:`tracker.extract.notes`). A note naming one
broker gives one draft; an article quoting several gives one draft per broker,
each with its own calls, its own date (a table row's or a dated sentence's,
else the article's) and the lines it was read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from tracker.extract.clean import clean_lines
from tracker.extract.dates import publication_date
from tracker.extract.draft import extract_draft
from tracker.extract.model import Draft, DraftCall, Review, Sourced, SourcedDate
from tracker.extract.notes import NoteCall, note_calls
from tracker.recs.models import TargetPrice

if TYPE_CHECKING:
    from tracker.recs.models import RatingScale
    from tracker.registry.resolve import Registry


NO_DATE = "the text gives no date: write the report's publication date (or pass --date)"


def extract_drafts(
    text: str,
    registry: Registry,
    *,
    today: date,
    scales: Mapping[str, RatingScale] | None = None,
    source: str = "report.txt",
    broker: str | None = None,
    published: date | None = None,
    title: str | None = None,
) -> tuple[Draft, ...]:
    """Read a note and draft one calls file per broker quoted in it.

    Parameters
    ----------
    text : str
        The note: a report, an article about one, or a round-up (any script).
    registry : Registry
        Resolves names and codes to HKEX tickers.
    today : date
        The extraction day (no clock is read).
    scales : mapping, optional
        The known rating scales, as for :func:`extract_draft`.
    source : str
        The document's name, written as each draft's ``source``.
    broker, published, title : optional
        Values that override the text; ``broker`` keeps only that broker's calls.

    Returns
    -------
    tuple of Draft
        At least one draft; one per broker in a round-up, in order of first mention.
    """
    lines = clean_lines(text)
    raw = text.splitlines()
    # The report fields are read from the text without the related headlines.
    kept = "\n".join(r if lines[i] or not r.strip() else "" for i, r in enumerate(raw))
    hit = publication_date(lines)
    note_day = published or (hit.value if hit else None)
    base = extract_draft(
        kept,
        registry,
        today=today,
        scales=scales,
        source=source,
        broker=broker,
        published=note_day,
        title=title,
    )
    if published is None:
        base = _with_date(base, hit, today)
    found, _only = note_calls(text, registry, note_day)
    if broker is not None and base.broker is not None:
        found = [c for c in found if c.broker.english == base.broker.value] or found
    if not found:
        return (base,)
    groups: dict[str, list[NoteCall]] = {}
    for call in found:
        groups.setdefault(call.broker.id, []).append(call)
    if len(groups) == 1:
        calls = groups[next(iter(groups))]
        _rated_by_base(calls, base)
        covered = {c.ticker for c in calls}
        extra = tuple(c for c in base.calls if c.ticker not in covered)
        draft = _draft_for(base, calls, source, today, raw)
        return (draft.model_copy(update={"calls": draft.calls + extra}),)
    return tuple(_draft_for(base, calls, source, today, raw) for calls in groups.values())


def _rated_by_base(calls: list[NoteCall], base: Draft) -> None:
    """A call whose rating the clause reading missed takes the report reader's, if any."""
    rated = {c.ticker: c for c in base.calls if c.rating not in (None, "attention")}
    for call in calls:
        other = rated.get(call.ticker)
        if call.rating is None and other is not None:
            call.rating, call.rating_words = other.rating, other.rating_words
            call.action, call.previous_rating = other.action, other.previous_rating
            call.rating_line = other.line


def _with_date(base: Draft, hit, today: date) -> Draft:
    """The note's date as read by :func:`publication_date`; none when it finds none.

    The report reader's own date is kept only when it is labelled (high confidence):
    a date it guessed from a lone line is not taken.
    """
    pub = base.published
    if hit is not None:
        value = SourcedDate(value=hit.value, line=hit.line, confidence="high", words=hit.words)
    elif not pub.assumed and pub.confidence == "high" and pub.words != "--date":
        return base
    else:
        value = SourcedDate(value=today, confidence="low", assumed=True)
    review = [r for r in base.review if r.field != "published"]
    if value.assumed:
        review.append(
            Review(
                field="published",
                message=NO_DATE,
            )
        )
    elif value.value > today:
        review.append(
            Review(field="published", line=value.line, message=f"{value.value} is after today")
        )
    return base.model_copy(update={"published": value, "review": tuple(review)})


def _draft_for(
    base: Draft, calls: list[NoteCall], source: str, today: date, raw: list[str]
) -> Draft:
    """One broker's draft: the base report fields with this broker, its calls and date."""
    brk = calls[0].broker
    first = min(c.broker_line or c.line for c in calls)
    last = max(max(c.line, c.rating_line or 0, c.target_line or 0) for c in calls)
    days = {c.dated for c in calls}
    published = base.published
    if len(days) == 1 and None not in days:
        (day,) = days
        published = SourcedDate(
            value=day, line=calls[0].line, confidence="high", words="the call's own date"
        )
    review = [r for r in base.review if r.field not in ("broker", "published", "recommendations")]
    if published.assumed:
        review.append(
            Review(
                field="published",
                message=NO_DATE,
            )
        )
    draft_calls = tuple(_draft_call(c, raw) for c in calls)
    for c in draft_calls:
        if c.rating is None:
            review.append(
                Review(
                    field="recommendations",
                    line=c.line,
                    message=f"{c.name}: a target but no rating in the text: write it"
                    " or delete the call",
                )
            )
        if c.listing == "ADR":
            review.append(
                Review(
                    field="recommendations",
                    line=c.target_line or c.line,
                    message=f"{c.name}: a USD target on the US line (ADR): check the listing",
                )
            )
        if c.target_currency_assumed:
            review.append(
                Review(
                    field="recommendations",
                    line=c.target_line,
                    message=f"{c.name}: the target's currency is not written: HKD assumed",
                )
            )
    where = f"{source}, line {first}" if first == last else f"{source}, lines {first}-{last}"
    return base.model_copy(
        update={
            "source": where,
            "broker": Sourced(value=brk.english, line=first, confidence="high", words=brk.local),
            "broker_local": brk.local,
            "published": published,
            "calls": draft_calls,
            "review": tuple(review),
        }
    )


def _as_written(name: str, raw: list[str], line: int) -> str:
    """The name in the report's own script: the span of its line that normalises to it."""
    from tracker.extract.clean import normalise

    text = raw[line - 1] if 0 < line <= len(raw) else ""
    n = len(name)
    for i in range(len(text) - n + 1):
        if normalise(text[i : i + n]) == name:
            return text[i : i + n]
    return name


def _draft_call(c: NoteCall, raw: list[str]) -> DraftCall:
    target = TargetPrice(value=c.target, currency=c.currency) if c.target is not None else None
    return DraftCall(
        name=_as_written(c.name, raw, c.line),
        ticker=c.ticker,
        rating=c.rating,
        rating_words=c.rating_words,
        action=c.action,  # type: ignore[arg-type]
        previous_rating=c.previous_rating,
        target=target,
        previous_target=c.previous_target,
        target_line=c.target_line,
        target_currency_assumed=c.currency_assumed,
        dated=c.dated,
        listing="ADR" if c.listing == "ADR" else None,
        line=c.rating_line or c.line,
        context="rating phrase" if c.rating_line else "target price",
        confidence="high" if c.rating and not c.currency_assumed else "medium",
    )
