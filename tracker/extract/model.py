"""The result of an extraction: a draft of a calls file, with where each value came from."""

from __future__ import annotations

from datetime import date
from typing import Literal

from tracker.recs.models import RatingScale, Record, TargetPrice

Confidence = Literal["high", "medium", "low"]


class Review(Record):
    """Something a person must settle before the draft is committed."""

    field: str = ""
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class Sourced(Record):
    """A report field read from the text."""

    value: str
    line: int | None = None
    confidence: Confidence = "high"
    words: str | None = None  # the source words when they differ from the value


class SourcedDate(Record):
    value: date
    line: int | None = None
    confidence: Confidence = "high"
    words: str | None = None
    assumed: bool = False  # not in the text: written as TODO for the reviewer


class DraftAnalyst(Record):
    name: str
    registration: str | None = None
    line: int | None = None
    confidence: Confidence = "high"


class DraftCall(Record):
    """One recommendation found in the text."""

    name: str  # as written in the report (its own script), cleaned of spaces and quotes
    ticker: str | None = None  # None when the registry could not settle it
    problem: Literal["unresolved", "ambiguous"] | None = None
    candidates: tuple[str, ...] = ()  # the registry's suggestions when unsettled
    rating: str | None  # canonical (buy ... sell, attention); None: the text gives none
    rating_ok: bool = True  # False when the scale has no band for it
    rating_words: str | None = None  # e.g. 维持「买入」评级
    action: Literal["initiate", "maintain", "upgrade", "downgrade"] | None = None
    previous_rating: str | None = None
    target: TargetPrice | None = None
    previous_target: float | None = None
    target_line: int | None = None
    target_currency_assumed: bool = False
    note: str | None = None
    dated: date | None = None  # the call's own date (a table row's), when the text gives one
    listing: Literal["HK", "ADR"] | None = None  # ADR: a USD target on the US line
    line: int
    context: str  # how it was found, e.g. "相关公司 list", "rating phrase"
    confidence: Confidence


class ScaleChoice(Record):
    """Which rating scale the draft uses, and why."""

    id: str
    status: Literal["existing", "new", "fallback"]
    scale: RatingScale | None = None  # the definitions as read (existing or new)
    line: int | None = None
    message: str


class Draft(Record):
    """A calls file in the making: every field with its source line and confidence."""

    source: str
    language: Literal["zh-Hans", "zh-Hant", "en"]
    broker: Sourced | None = None
    broker_local: str | None = None
    title: Sourced | None = None
    published: SourcedDate
    analysts: tuple[DraftAnalyst, ...] = ()
    industry: Sourced | None = None
    industry_rating: Sourced | None = None
    scale: ScaleChoice
    calls: tuple[DraftCall, ...] = ()
    review: tuple[Review, ...] = ()

    @property
    def unsettled(self) -> tuple[DraftCall, ...]:
        """Calls whose company did not resolve to exactly one ticker."""
        return tuple(c for c in self.calls if c.ticker is None)

    def summary(self) -> str:
        """One line for the terminal."""
        if not self.calls:
            return "no recommendations found in the text: the draft has no calls"
        n = len(self.calls)
        left = len(self.review)
        tail = f"{left} item(s) to review" if left else "nothing flagged for review"
        return (
            f"{n} call(s), {len(self.unsettled)} unresolved;"
            f" scale {self.scale.id} ({self.scale.status}); {tail}"
        )
