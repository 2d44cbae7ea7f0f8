"""The records tracker reads and writes: reports, their calls, rating scales.

Every record forbids unknown keys (a YAML typo must not pass silently) and is
frozen. Validation that needs outside knowledge (the rating scales, the ticker
registry, today's date) reads it from the validation context, see
:func:`tracker.recs.book.load_report`:

``context = {"scales": {id: RatingScale}, "registry": Registry | None, "today": date}``

Units: band bounds are percentage points of excess return over the benchmark
(``lower_pp=15`` means the stock beats the index by 15 points); horizons are
calendar months.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tracker.constants import DEFAULT_BENCHMARK
from tracker.fields import ControlFree, Day, Name, Number, Text, Whole, normalise_name
from tracker.vocab import ATTENTION, RATINGS, RATINGS_DESCENDING, Record

_TICKER = re.compile(r"^(?:\d{4}|[1-9]\d{4})\.HK$")
_REGISTRATION = re.compile(r"^S\d{13}$")


def _canonical_ticker(value: str) -> str:
    if not _TICKER.match(value):
        raise ValueError(
            f"{value!r} is not an HKEX ticker in canonical form: four digits (five for"
            " codes from 10000) and '.HK', e.g. '0700.HK'"
        )
    return value


def _registration(value: str) -> str:
    if not _REGISTRATION.match(value):
        raise ValueError(
            f"{value!r} is not an SAC registration number ('S' and 13 digits, e.g. S0010521080002)"
        )
    return value


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be a single line")
    return value


Ticker = Annotated[str, AfterValidator(_canonical_ticker)]
Registration = Annotated[str, AfterValidator(_registration)]
Line = Annotated[ControlFree, AfterValidator(_nonblank)]
Rating = Literal[RATINGS]


# --------------------------------------------------------------------------- scales


class Band(Record):
    """One rating's range of excess return versus the benchmark, in percentage points.

    ``lower_pp=None`` is unbounded below, ``upper_pp=None`` unbounded above.
    Which side of a boundary a value exactly on it belongs to is set by
    ``lower_inclusive`` / ``upper_inclusive``; the scale checks that adjacent
    bands agree so that every value falls in exactly one band.
    """

    rating: Rating
    lower_pp: Number | None = None
    upper_pp: Number | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = False
    aliases: tuple[Name, ...] = ()
    source: str | None = Field(default=None, description="the report's wording of this band")

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.lower_pp is not None and self.upper_pp is not None:
            if self.lower_pp >= self.upper_pp:
                raise ValueError(
                    f"{self.rating}: lower_pp {self.lower_pp}"
                    f" must be below upper_pp {self.upper_pp}"
                )
        return self

    def contains(self, excess_pp: float) -> bool:
        lo_ok = (
            self.lower_pp is None
            or excess_pp > self.lower_pp
            or (self.lower_inclusive and excess_pp == self.lower_pp)
        )
        hi_ok = (
            self.upper_pp is None
            or excess_pp < self.upper_pp
            or (self.upper_inclusive and excess_pp == self.upper_pp)
        )
        return lo_ok and hi_ok


class Horizon(Record):
    """A rating's horizon in calendar months, e.g. 6–12 (``min_months=6, max_months=12``)."""

    min_months: Whole = Field(gt=0, le=120)
    max_months: Whole = Field(gt=0, le=120)

    @model_validator(mode="before")
    @classmethod
    def _from_short_forms(cls, data: Any) -> Any:
        # "6", 6, [6, 12] and "6-12" are all accepted in YAML.
        if isinstance(data, bool):  # bool is an int: `true` would be 1 month
            raise ValueError(f"expected months such as 6 or 6-12, got the boolean {data}")
        if isinstance(data, int):
            return {"min_months": data, "max_months": data}
        if isinstance(data, str) and re.fullmatch(r"\s*\d+\s*(?:[-–~]\s*\d+\s*)?", data):
            parts = [int(p) for p in re.split(r"[-–~]", data)]
            return {"min_months": parts[0], "max_months": parts[-1]}
        if isinstance(data, list | tuple) and len(data) in (1, 2):
            return {"min_months": data[0], "max_months": data[-1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.min_months > self.max_months:
            raise ValueError(
                f"horizon {self.min_months}-{self.max_months}:"
                " the first month must not be after the last"
            )
        return self

    def __str__(self) -> str:
        if self.min_months == self.max_months:
            return f"{self.max_months}M"
        return f"{self.min_months}-{self.max_months}M"


class RatingSystem(Record):
    """Company or industry ratings: a horizon and bands that partition the real line."""

    horizon_months: Horizon
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _partition(self) -> RatingSystem:
        bands = sorted(self.bands, key=lambda b: -1e18 if b.lower_pp is None else b.lower_pp)
        ratings = [b.rating for b in self.bands]
        dupes = sorted({r for r in ratings if ratings.count(r) > 1})
        if dupes:
            raise ValueError(f"rating {dupes[0]!r} has more than one band")
        if ATTENTION in ratings:
            raise ValueError("'attention' has its own section in the scale, not a band here")
        if bands[0].lower_pp is not None:
            raise ValueError(
                f"gap below {bands[0].lower_pp}:"
                f" the lowest band ({bands[0].rating}) needs no lower_pp"
            )
        if bands[-1].upper_pp is not None:
            raise ValueError(
                f"gap above {bands[-1].upper_pp}:"
                f" the highest band ({bands[-1].rating}) needs no upper_pp"
            )
        for below, above in zip(bands, bands[1:], strict=False):
            if below.upper_pp is None or above.lower_pp is None:
                raise ValueError(f"bands {below.rating} and {above.rating} overlap")
            if below.upper_pp < above.lower_pp:
                raise ValueError(
                    f"gap between {below.rating} (up to {below.upper_pp}) and"
                    f" {above.rating} (from {above.lower_pp})"
                )
            if below.upper_pp > above.lower_pp:
                raise ValueError(
                    f"bands {below.rating} (up to {below.upper_pp}) and {above.rating}"
                    f" (from {above.lower_pp}) overlap"
                )
            if below.upper_inclusive == above.lower_inclusive:
                side = "both" if below.upper_inclusive else "neither"
                raise ValueError(
                    f"{below.upper_pp} belongs to {side} of {below.rating} and {above.rating}:"
                    " set upper_inclusive/lower_inclusive so exactly one includes it"
                )
        order = [b.rating for b in reversed(bands)]
        expected = [r for r in RATINGS_DESCENDING if r in order]
        if order != expected:
            raise ValueError(f"bands must rise with the rating: found {order} from top to bottom")
        return self

    def band_of(self, rating: str) -> Band | None:
        return next((b for b in self.bands if b.rating == rating), None)


class AttentionRule(Record):
    """How a 建议关注 / 相关公司 mention is scored: a positive call with its own band.

    ``horizon_months`` defaults to the industry horizon of the scale.
    """

    lower_pp: Number = 0.0
    lower_inclusive: bool = False
    horizon_months: Horizon | None = None
    aliases: tuple[Name, ...] = ("关注", "建议关注", "相关公司", "重点关注")
    source: str | None = None

    def band(self) -> Band:
        return Band(
            rating=ATTENTION,
            lower_pp=self.lower_pp,
            lower_inclusive=self.lower_inclusive,
            upper_pp=None,
            aliases=self.aliases,
        )


class RatingScale(Record):
    """A broker's rating definitions (投资评级说明), transcribed as data."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    broker: Name
    defined_in_report: bool = True
    source: Line
    note: str | None = None
    benchmarks: dict[str, str] = Field(default_factory=lambda: {"HK": DEFAULT_BENCHMARK})
    company: RatingSystem
    industry: RatingSystem | None = None
    attention: AttentionRule = AttentionRule()
    target_horizon_months: int = Field(
        default=12, gt=0, le=120, description="how long a target price has to be reached"
    )

    @model_validator(mode="after")
    def _attention_horizon(self) -> RatingScale:
        if self.attention.horizon_months is None and self.industry is None:
            raise ValueError(
                "attention.horizon_months is needed when the scale has no industry ratings"
            )
        return self

    @property
    def attention_horizon(self) -> Horizon:
        if self.attention.horizon_months is not None:
            return self.attention.horizon_months
        assert self.industry is not None
        return self.industry.horizon_months

    def benchmark(self, market: str = "HK") -> str:
        return self.benchmarks.get(market, DEFAULT_BENCHMARK)

    def band(self, rating: str) -> Band:
        """The band a call of ``rating`` is expected to land in."""
        if rating == ATTENTION:
            return self.attention.band()
        band = self.company.band_of(rating)
        if band is None:
            raise KeyError(f"scale {self.id!r} has no rating {rating!r}")
        return band

    def horizon(self, rating: str) -> Horizon:
        return self.attention_horizon if rating == ATTENTION else self.company.horizon_months

    def canonical_rating(self, word: str) -> str | None:
        """The canonical company rating for ``word`` (canonical name or local alias)."""
        w = normalise_name(word)
        if w.lower() in RATINGS:
            rating = w.lower()
            return rating if rating == ATTENTION or self.company.band_of(rating) else None
        for band in self.company.bands:
            if w in band.aliases:
                return band.rating
        if w in self.attention.aliases:
            return ATTENTION
        return None

    def canonical_industry_rating(self, word: str) -> str | None:
        if self.industry is None:
            return None
        w = normalise_name(word)
        for band in self.industry.bands:
            if w.lower() == band.rating or w in band.aliases:
                return band.rating
        return None

    def rating_words(self) -> list[str]:
        words = [b.rating for b in self.company.bands] + [ATTENTION]
        for band in self.company.bands:
            words += list(band.aliases)
        return words + list(self.attention.aliases)


# --------------------------------------------------------------------------- calls


class Analyst(Record):
    name: Name
    registration: Registration | None = None


class TargetPrice(Record):
    value: Number = Field(gt=0, lt=1e7)
    currency: Literal["HKD", "CNY", "USD"] = "HKD"


class Recommendation(Record):
    """One call: a company, its resolved HKEX ticker and the rating given."""

    name: Name = Field(description="the company as written in the report")
    ticker: Ticker
    rating: str
    target: TargetPrice | None = None
    horizon_months: Horizon | None = Field(
        default=None, description="overrides the scale's horizon"
    )
    note: Text | None = None
    action: Literal["initiate", "maintain", "upgrade", "downgrade"] | None = None
    previous_rating: Name | None = Field(default=None, description="the rating before, as written")
    previous_target: Number | None = Field(
        default=None, gt=0, lt=1e7, description="the target before, in the target's currency"
    )
    listing: Literal["HK", "ADR"] = Field(
        default="HK", description="ADR: the target is for the US line of the HK-listed company"
    )

    @field_validator("rating", "previous_rating")
    @classmethod
    def _known_rating(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        context = info.context or {}
        scale = context.get("scale")
        if scale is None:
            if context.get("scales") is not None:
                return value  # the report names an unknown scale: that error is reported instead
            if value not in RATINGS:
                raise ValueError(f"unknown rating {value!r}; use one of {', '.join(RATINGS)}")
            return value
        rating = scale.canonical_rating(value)
        if rating is None:
            raise ValueError(
                f"unknown rating {value!r} for scale {scale.id!r}; use one of"
                f" {', '.join(scale.rating_words())}"
            )
        return rating

    @field_validator("ticker")
    @classmethod
    def _known_ticker(cls, value: str, info: ValidationInfo) -> str:
        registry = (info.context or {}).get("registry")
        if registry is not None and not registry.knows(value):
            suggestions = registry.closest(value)
            hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
            raise ValueError(f"ticker {value} is not in the registry{hint}")
        return value


class Report(Record):
    """A broker report (or an article about one) and the calls it makes."""

    broker: Name = Field(description="English name, e.g. Huaan Securities")
    broker_local: Name | None = Field(default=None, description="e.g. 华安证券")
    title: Line
    published: Day
    seen: Day | None = Field(
        default=None, description="when the user could first act on it (e.g. via a later article)"
    )
    analysts: tuple[Analyst, ...] = ()
    source: Line = Field(description="URL or document name")
    language: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    scale: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    industry: str | None = None
    industry_rating: str | None = None
    recommendations: tuple[Recommendation, ...] = ()

    @field_validator("scale")
    @classmethod
    def _known_scale(cls, value: str, info: ValidationInfo) -> str:
        scales = (info.context or {}).get("scales")
        if scales is not None and value not in scales:
            known = ", ".join(sorted(scales)) or "none"
            raise ValueError(f"unknown scale {value!r}; known scales: {known} (recs/scales/*.yaml)")
        return value

    @field_validator("published")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today")
        if today is not None and value > today:
            raise ValueError(f"publication date {value} is in the future (today is {today})")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Report:
        if self.seen is not None and self.seen < self.published:
            raise ValueError(f"seen {self.seen} is before published {self.published}")
        seen: dict[tuple[str, str], int] = {}
        for i, rec in enumerate(self.recommendations):
            key = (rec.ticker, rec.listing)  # an HK line and its ADR line are two calls
            if key in seen:
                raise ValueError(
                    f"recommendations.{i}.ticker: {rec.ticker} appears twice in one report"
                    f" (also recommendations.{seen[key]})"
                )
            seen[key] = i
        scales = (info.context or {}).get("scales") or {}
        scale = scales.get(self.scale)
        if self.industry_rating is not None and scale is not None:
            if scale.canonical_industry_rating(self.industry_rating) is None:
                words = [b.rating for b in scale.industry.bands] if scale.industry else []
                raise ValueError(
                    f"industry_rating: unknown industry rating {self.industry_rating!r}"
                    f" for scale {scale.id!r}; use one of {', '.join(words) or '(none defined)'}"
                )
        return self

    @property
    def start_date(self) -> date:
        """The date from which the calls could be acted on."""
        return self.seen or self.published
