"""The project's vocabulary, spelled once: ratings, entry conventions, statuses, verdicts.

Models, CLI options (typer takes these enums directly) and renderers all use
these names. Each enum is a :class:`enum.StrEnum`, so a member equals its plain
string (``Rating.BUY == "buy"``) and frames keep holding plain strings; the
``*_VALUES``-style tuples below are what pandas categoricals and pydantic
``Literal`` fields are built from.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """Base of every record read from a file or passed between layers.

    Unknown keys are refused (pydantic ignores them by default, so a YAML typo
    would pass silently) and records are immutable.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Rating(StrEnum):
    """Canonical ratings, strongest first; ``attention`` (建议关注 / 相关公司) is a
    positive call without a formal rating and has its own band in each scale."""

    BUY = "buy"
    OVERWEIGHT = "overweight"
    NEUTRAL = "neutral"
    UNDERWEIGHT = "underweight"
    SELL = "sell"
    ATTENTION = "attention"

    @property
    def rank(self) -> int:
        """Strength for "a later call downgrades it": higher is stronger.

        ``attention`` (excess > 0, no formal rating) sits between overweight
        and neutral.
        """
        return RATING_RANK[self.value]


#: Company ratings from strongest to weakest (the bands of a scale).
RATINGS_DESCENDING: tuple[str, ...] = tuple(r.value for r in Rating if r is not Rating.ATTENTION)
#: Every rating a call may carry, ``attention`` last.
RATINGS: tuple[str, ...] = tuple(r.value for r in Rating)
ATTENTION: str = Rating.ATTENTION.value
#: :attr:`Rating.rank` by value.
RATING_RANK: dict[str, int] = {
    "buy": 5,
    "overweight": 4,
    "attention": 3,
    "neutral": 2,
    "underweight": 1,
    "sell": 0,
}


class EntryConvention(StrEnum):
    """Which price a call enters at (see :mod:`tracker.scoring.entry`)."""

    NEXT_CLOSE = "next-close"
    NEXT_OPEN = "next-open"
    SAME_CLOSE = "same-close"


ENTRY_CONVENTIONS: tuple[str, ...] = tuple(e.value for e in EntryConvention)
DEFAULT_ENTRY: str = EntryConvention.NEXT_CLOSE.value


class Basis(StrEnum):
    """``price``: split-adjusted closes; ``total``: dividend-adjusted closes."""

    PRICE = "price"
    TOTAL = "total"


class GroupBy(StrEnum):
    """What a roll-up groups the calls by."""

    BROKER = "broker"
    ANALYST = "analyst"
    REPORT = "report"
    RATING = "rating"
    TICKER = "ticker"


GROUP_BY: tuple[str, ...] = tuple(g.value for g in GroupBy)


class Status(StrEnum):
    """Where a call stands: past its horizon, still open, or without prices."""

    MATURED = "matured"
    OPEN = "open"
    NO_DATA = "no data"


class Verdict(StrEnum):
    """A matured call is a hit, right direction or a miss; an open one is pending,
    on track or off track; a call without prices has no data."""

    HIT = "hit"
    RIGHT_DIRECTION = "right direction"
    MISS = "miss"
    PENDING = "pending"
    ON_TRACK = "on track"
    OFF_TRACK = "off track"
    NO_DATA = "no data"


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)
#: The verdicts of a matured call that was scored (the hit rate's denominator).
SCORED_VERDICTS: tuple[str, ...] = (
    Verdict.HIT.value,
    Verdict.RIGHT_DIRECTION.value,
    Verdict.MISS.value,
)
