"""The extraction itself: read every part of a report and settle it into a :class:`Draft`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from tracker.extract.calls import find_calls
from tracker.extract.meta import (
    Found,
    broker_named,
    find_analysts,
    find_broker,
    find_date,
    find_title,
)
from tracker.extract.model import (
    Draft,
    DraftAnalyst,
    Review,
    ScaleChoice,
    Sourced,
    SourcedDate,
)
from tracker.extract.scale import ScaleParse, essence, parse_definitions
from tracker.extract.settle import settle_calls, settle_industry
from tracker.extract.text import Source, language_of, read_source
from tracker.extract.vocab import Broker
from tracker.recs.models import AttentionRule, RatingScale

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry

#: The scale a draft uses when the report defines none (recs/scales/default-hk.yaml).
FALLBACK_SCALE = "default-hk"
#: Words that make a list item an attention call in every scale the extractor writes.
ATTENTION_ALIASES = ("关注", "建议关注", "建議關注", "相关公司", "相關公司", "重点关注", "相关标的")


def extract_draft(
    text: str,
    registry: Registry,
    *,
    today: date,
    scales: Mapping[str, RatingScale] | None = None,
    source: str = "report.txt",
    broker: str | None = None,
    published: date | None = None,
    title: str | None = None,
    fallback_scale: str = FALLBACK_SCALE,
) -> Draft:
    """Read a report (or an article about one) and draft its calls file.

    Parameters
    ----------
    text : str
        The report's text: simplified or traditional Chinese, or English.
    registry : Registry
        Resolves company names and codes to HKEX tickers.
    today : date
        The extraction day: a date after it is flagged; when the text gives
        no date, ``published`` is marked assumed and written as ``TODO``.
    scales : mapping of str to RatingScale, optional
        The scales already kept (``recs/scales``): a report whose definitions
        equal one of its broker's scales references it instead of a new file.
    source : str
        The document's name, written as the report's ``source``; a broker id
        or a date in it is used when the text gives none.
    broker, published, title : optional
        Values that override what the text says.
    fallback_scale : str
        Scale used when the report defines no ratings.

    Returns
    -------
    Draft
        Never raises for what it cannot read: every gap is a ``Review`` item.
    """
    src = read_source(text)
    review: list[Review] = []
    known = dict(scales or {})
    brk, broker_field, broker_local = _broker(src, source, broker, review)
    title_field = _title(src, title, review)
    date_field = _published(src, source, published, today, review)
    analysts = tuple(
        DraftAnalyst(name=a.name, registration=a.registration, line=a.line, confidence=a.confidence)
        for a in find_analysts(src, brk)
    )
    parse = parse_definitions(src, _horizons(known.get(fallback_scale)))
    choice = _choose_scale(
        parse, brk, broker_field, title_field, date_field, known, fallback_scale, review
    )
    scale = choice.scale or known.get(choice.id)
    found = find_calls(src, registry, scale, title_field.line if title_field else None)
    calls = settle_calls(src, registry, found.candidates, scale, choice.id, review)
    industry, industry_rating = settle_industry(src, found.industry, scale, choice.id, review)
    for p in found.orphans:
        review.append(
            Review(
                field="recommendations",
                line=src.line(p.start),
                message=(
                    f"rating {src.original(p.start, p.end)!r} found"
                    " but no company could be tied to it"
                ),
            )
        )
    return Draft(
        source=source,
        language=language_of(src),
        broker=broker_field,
        broker_local=broker_local,
        title=title_field,
        published=date_field,
        analysts=analysts,
        industry=industry,
        industry_rating=industry_rating,
        scale=choice,
        calls=tuple(calls),
        review=tuple(review),
    )


# --------------------------------------------------------------------------- report fields


def _broker(
    src: Source, source: str, given: str | None, review: list[Review]
) -> tuple[Broker | None, Sourced | None, str | None]:
    if given:
        known = broker_named(given)
        if known is not None:
            return (
                known,
                Sourced(value=known.english, confidence="high", words="--broker"),
                known.local,
            )
        if not given.isascii():
            review.append(
                Review(
                    field="broker",
                    message=f"{given!r} is not in the broker table: write its English name",
                )
            )
            return None, Sourced(value=given, confidence="low", words="--broker"), given
        return None, Sourced(value=given, confidence="high", words="--broker"), None
    hit = find_broker(src, source)
    if hit is None:
        review.append(
            Review(
                field="broker",
                message="no broker found in the text: add broker (English) and broker_local",
            )
        )
        return None, None, None
    b: Broker = hit.value  # type: ignore[assignment]
    if hit.confidence != "high":
        review.append(
            Review(
                field="broker",
                line=hit.line,
                message=(
                    f"{b.english} ({hit.text}) is a {hit.confidence}-confidence reading: check it"
                ),
            )
        )
    return (
        b,
        Sourced(value=b.english, line=hit.line, confidence=hit.confidence, words=hit.text),
        b.local,
    )


def _title(src: Source, given: str | None, review: list[Review]) -> Sourced | None:
    if given:
        return Sourced(value=given, confidence="high", words="--title")
    hit = find_title(src)
    if hit is None:
        review.append(Review(field="title", message="no title found in the text: add it"))
        return None
    return Sourced(value=str(hit.value), line=hit.line, confidence=hit.confidence)


def _published(
    src: Source, source: str, given: date | None, today: date, review: list[Review]
) -> SourcedDate:
    if given is not None:
        return SourcedDate(value=given, words="--date")
    hit: Found | None = find_date(src, source)
    if hit is None:
        review.append(
            Review(
                field="published",
                message=(
                    "the text gives no date: write the report's publication date (or pass --date)"
                ),
            )
        )
        return SourcedDate(value=today, confidence="low", assumed=True)
    value: date = hit.value  # type: ignore[assignment]
    if hit.confidence != "high":
        review.append(
            Review(
                field="published",
                line=hit.line,
                message=f"{value} read from {hit.text!r} ({hit.confidence} confidence): check it",
            )
        )
    if value > today:
        review.append(
            Review(field="published", line=hit.line, message=f"{value} is after today ({today})")
        )
    return SourcedDate(value=value, line=hit.line, confidence=hit.confidence, words=hit.text)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- scale

#: Horizons assumed for definitions that give none when the fallback scale is not at hand
#: (those of recs/scales/default-hk.yaml).
DEFAULT_HORIZONS = {"company": (6, 12), "industry": (6, 6)}


def _horizons(scale: RatingScale | None) -> dict[str, tuple[int, int]]:
    if scale is None:
        return dict(DEFAULT_HORIZONS)
    out = {
        "company": (
            scale.company.horizon_months.min_months,
            scale.company.horizon_months.max_months,
        )
    }
    if scale.industry is not None:
        h = scale.industry.horizon_months
        out["industry"] = (h.min_months, h.max_months)
    return out


def _scale_id(base: str, known: Mapping[str, RatingScale], published: date) -> str:
    if base not in known:
        return base
    dated = f"{base}-{published.year}"
    if dated not in known:
        return dated
    n = 2
    while f"{dated}-{n}" in known:
        n += 1
    return f"{dated}-{n}"


def _slug(name: str) -> str:
    words = [
        w
        for w in re.findall(r"[a-z0-9]+", name.lower())
        if w not in ("securities", "co", "ltd", "limited", "research")
    ]
    return "-".join(words) or "report"


def _choose_scale(
    parse: ScaleParse,
    brk: Broker | None,
    broker: Sourced | None,
    title: Sourced | None,
    published: SourcedDate,
    known: Mapping[str, RatingScale],
    fallback: str,
    review: list[Review],
) -> ScaleChoice:
    """The report's own scale (an existing equal one, or new), else the fallback."""
    for problem in parse.problems:
        review.append(Review(field="scale", line=parse.line, message=problem))
    broker_name = broker.value if broker else "unknown broker"
    if parse.company is None:
        return _fallback_choice(parse, broker_name, known, fallback, review)
    draft_scale = _scale_read(parse, brk, broker_name, title, published)
    for sid, sc in sorted(known.items()):
        if sc.broker.casefold() == broker_name.casefold() and essence(sc) == essence(draft_scale):
            msg = f"read from the definitions at line {parse.line}; equal to scales/{sid}.yaml"
            return ScaleChoice(id=sid, status="existing", scale=sc, line=parse.line, message=msg)
    new_id = _scale_id(draft_scale.id, known, published.value)
    draft_scale = draft_scale.model_copy(update={"id": new_id})
    msg = f"read from the definitions at line {parse.line}; new, written to scales/{new_id}.yaml"
    return ScaleChoice(id=new_id, status="new", scale=draft_scale, line=parse.line, message=msg)


def _fallback_choice(
    parse: ScaleParse,
    broker_name: str,
    known: Mapping[str, RatingScale],
    fallback: str,
    review: list[Review],
) -> ScaleChoice:
    if parse.found:
        msg = (
            f"the rating definitions at line {parse.line} could not be read;"
            f" the draft uses the fallback scale {fallback}"
        )
    else:
        msg = (
            "the report gives no rating definitions (投资评级说明);"
            f" the draft uses the fallback scale {fallback}"
        )
    mine = sorted(k for k, s in known.items() if s.broker.casefold() == broker_name.casefold())
    hint = (
        f"; scales/{mine[0]}.yaml exists for {broker_name}: use it if it is the broker's own"
        if mine
        else ""
    )
    review.append(Review(field="scale", line=parse.line, message=msg + hint))
    if known and fallback not in known:
        review.append(
            Review(
                field="scale",
                message=(
                    f"scale {fallback!r} is not in the scales folder:"
                    f" copy recs/scales/{fallback}.yaml there"
                ),
            )
        )
    return ScaleChoice(id=fallback, status="fallback", line=parse.line, message=msg)


def _scale_read(
    parse: ScaleParse,
    brk: Broker | None,
    broker_name: str,
    title: Sourced | None,
    published: SourcedDate,
) -> RatingScale:
    """The definitions as a :class:`RatingScale`, citing the report."""
    assert parse.company is not None
    chinese = any(not w.isascii() for b in parse.company.bands for w in b.aliases)
    heading = "投资评级说明" if chinese else "rating definitions"
    cite = (f"《{title.value}》" if chinese else f' "{title.value}"') if title else ""
    local = brk.local if brk and chinese else broker_name
    when = "" if published.assumed else f" ({published.value})"
    attention = AttentionRule(
        horizon_months=None if parse.industry else parse.company.horizon_months,
        aliases=ATTENTION_ALIASES,
        source="tracker convention for unrated mentions (相关公司 / 建议关注); horizon = "
        + ("industry horizon" if parse.industry else "company horizon"),
    )
    return RatingScale(
        id=brk.id if brk else _slug(broker_name),
        broker=broker_name,
        source=f"{local}{cite}{when}, {heading}",
        benchmarks=parse.benchmarks,
        company=parse.company,
        industry=parse.industry,
        attention=attention,
        note="; ".join(parse.notes) or None,
    )
