"""Backtest specs (``backtests/*.yaml``): which calls to follow, and how to trade them.

A spec is validated like a call file: unknown keys are refused, and every
problem of a file is reported at once as ``file:line: field: message``. The
full reference is ``docs/backtest.md``; a minimal spec::

    name: huaan-hk-internet-2025
    select:
      brokers: [Huaan Securities]
    exit:
      rule: horizon

Units: amounts in HKD, rates as fractions (``0.0003`` is 0.03%), holding
periods in calendar months (``6`` or ``"6M"``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    model_validator,
)

from tracker.constants import DEFAULT_BENCHMARK, RATINGS
from tracker.fields import Day, Name, Number, Real, Whole
from tracker.recs.models import Line, Rating, Ticker
from tracker.recs.yamlio import load_validated
from tracker.vocab import DEFAULT_ENTRY, ENTRY_CONVENTIONS, Record

#: Spec names become folder names under ``backtests/runs/``: no separators, no dot-dot.
SPEC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
#: Symbols a benchmark may name: an index (``^HSI``) or a ticker (``2800.HK``).
_SYMBOL = re.compile(r"^\^?[A-Za-z0-9][A-Za-z0-9.\-]{0,19}$")

#: Default weights of ``sizing.method: rating`` (multiples of one equal slot).
DEFAULT_RATING_WEIGHTS: dict[str, float] = {
    "buy": 1.0,
    "overweight": 0.75,
    "attention": 0.5,
    "neutral": 0.0,
    "underweight": 0.0,
    "sell": 0.0,
}


#: The longest entry delay accepted, in sessions (about a year of HKEX sessions).
MAX_ENTRY_DELAY_SESSIONS = 250


def _spec_name(value: str) -> str:
    if not SPEC_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a spec name: lower-case letters, digits, '-' and '_' only"
            " (it names the folder backtests/runs/<name>/)"
        )
    return value


def _months(value: Any) -> Any:
    # "6M", "12m", "6" and 6 are all a holding period in months.
    if isinstance(value, bool):  # `true` would be read as 1 month
        raise ValueError(f"expected a number of months such as 6 or '6M', got {value}")
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(-?\d+)\s*[mM]?\s*", value)
        if m is None:
            raise ValueError(f"{value!r} is not a number of months such as 6 or '6M'")
        return int(m.group(1))
    return value


def _positive_months(value: int) -> int:
    if value < 1:
        raise ValueError(f"holding period must be at least 1 month, got {value}")
    if value > 120:
        raise ValueError(f"holding period of {value} months is over the 120-month limit")
    return value


#: The largest initial capital accepted, HKD: far above any real book, and small
#: enough that cash, costs and statistics stay exact in floating point.
MAX_CAPITAL_HKD = 1e12


def _positive_capital(value: float) -> float:
    if not 0 < value < MAX_CAPITAL_HKD:  # also refuses .inf, 1e999 and .nan
        raise ValueError(
            f"initial capital must be a positive amount of HKD below {MAX_CAPITAL_HKD:,.0f},"
            f" got {value:g}"
        )
    return value


def _benchmark_symbol(value: str) -> str:
    if not _SYMBOL.match(value):
        raise ValueError(f"{value!r} is not a price symbol such as ^HSI or 2800.HK")
    return value


SpecName = Annotated[str, AfterValidator(_spec_name)]
Months = Annotated[int, BeforeValidator(_months), AfterValidator(_positive_months)]
Rate = Annotated[Number, Field(ge=0.0, lt=0.1)]
Hkd = Annotated[Number, Field(ge=0.0, lt=1e9)]


#: The spec's records share the project's base (unknown keys refused, frozen).
SpecRecord = Record


class Selection(SpecRecord):
    """Which calls to follow; every given filter must match (a list matches any of its values)."""

    brokers: tuple[Name, ...] = Field((), description="English or local broker names")
    analysts: tuple[Name, ...] = ()
    reports: tuple[Line, ...] = Field((), description="report ids (file names without .yaml)")
    ratings: tuple[Rating, ...] = ()
    tickers: tuple[Ticker, ...] = ()
    exclude_tickers: tuple[Ticker, ...] = ()
    published_from: Day | None = None
    published_to: Day | None = None


class ExitRule(SpecRecord):
    """When a position is sold.

    ``fixed``: ``months`` after the entry session. ``horizon``: after the
    call's horizon (the longest horizon of the scale for its rating).
    ``downgrade``: at the entry session of the same broker's next call on the
    ticker with a weaker rating; ``months`` optionally caps the holding.
    ``target``: at the first close at or beyond the call's (HKD) target, else
    after the call's horizon. ``stop_pct`` (any rule): at the first close at or
    below the entry price less this fraction. See :mod:`tracker.backtest.target_exit`.
    A position still held when the data end is closed on the last session and
    marked ``open``.
    """

    rule: Literal["fixed", "horizon", "downgrade", "target"] = "horizon"
    months: Months | None = None
    stop_pct: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None


class Sizing(SpecRecord):
    """How much each call buys.

    ``equal``: portfolio value at the previous close ÷ ``max_positions``.
    ``rating``: the same slot times ``rating_weights[rating]`` (weight 0: not traded).
    ``fixed``: ``amount_hkd`` per call.
    At most ``max_positions`` positions are open at once; see docs/backtest.md
    for what happens when cash runs out.
    """

    method: Literal["equal", "rating", "fixed"] = "equal"
    max_positions: Whole = Field(20, ge=1, le=100_000)
    amount_hkd: Annotated[Number, Field(gt=0.0, lt=1e10)] | None = None
    rating_weights: dict[Rating, Annotated[Number, Field(ge=0.0, le=10.0)]] = Field(
        default_factory=lambda: dict(DEFAULT_RATING_WEIGHTS)
    )

    def weight(self, rating: str) -> float:
        if self.method != "rating":
            return 1.0
        return float(self.rating_weights.get(rating, DEFAULT_RATING_WEIGHTS.get(rating, 0.0)))


class Costs(SpecRecord):
    """Trading costs. Unset rates follow the dated Hong Kong schedule
    (:mod:`tracker.backtest.costs`)."""

    enabled: bool = True
    commission_rate: Rate = 0.0003
    commission_min_hkd: Hkd = 3.0
    stamp_duty_rate: Rate | None = None
    sfc_levy_rate: Rate | None = None
    afrc_levy_rate: Rate | None = None
    trading_fee_rate: Rate | None = None
    trading_tariff_hkd: Hkd | None = None
    settlement_fee_rate: Rate | None = None
    settlement_fee_min_hkd: Hkd | None = None
    settlement_fee_max_hkd: Hkd | None = None

    def overrides(self) -> dict[str, float]:
        """The schedule fields this spec sets for every date."""
        fields = (
            "stamp_duty_rate",
            "sfc_levy_rate",
            "afrc_levy_rate",
            "trading_fee_rate",
            "trading_tariff_hkd",
            "settlement_fee_rate",
            "settlement_fee_min_hkd",
            "settlement_fee_max_hkd",
        )
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}


class BacktestSpec(SpecRecord):
    """A "follow the broker" portfolio: the calls, the trading rules, the benchmark."""

    name: SpecName
    description: str = ""
    select: Selection = Selection()
    entry: Literal[ENTRY_CONVENTIONS] = DEFAULT_ENTRY
    #: Sessions between the usual entry session and the one traded (0: the usual one).
    entry_delay_sessions: int = Field(0, ge=0, le=MAX_ENTRY_DELAY_SESSIONS)
    exit: ExitRule = ExitRule()
    sizing: Sizing = Sizing()
    capital_hkd: Annotated[Real, AfterValidator(_positive_capital)] = 1_000_000.0
    costs: Costs = Costs()
    board_lots: bool = True
    benchmark: Annotated[str, AfterValidator(_benchmark_symbol)] = DEFAULT_BENCHMARK

    @model_validator(mode="after")
    def _consistent(self) -> BacktestSpec:
        # Cross-field rules name the field they blame, for file:line: field: message.
        sel, ex, sz, co = self.select, self.exit, self.sizing, self.costs
        if sel.published_from and sel.published_to and sel.published_from > sel.published_to:
            raise ValueError(
                f"select.published_to: {sel.published_to} is before published_from"
                f" {sel.published_from}"
            )
        both = sorted(set(sel.tickers) & set(sel.exclude_tickers))
        if both:
            raise ValueError(
                f"select.exclude_tickers: {', '.join(both)} both selected and excluded"
            )
        if ex.rule == "fixed" and ex.months is None:
            raise ValueError("exit.months: a fixed exit needs a holding period, e.g. months: 6")
        if ex.rule in ("horizon", "target") and ex.months is not None:
            raise ValueError(
                f"exit.months: the {ex.rule} rule takes each call's horizon; remove months"
            )
        if sz.method == "fixed" and sz.amount_hkd is None:
            raise ValueError(
                "sizing.amount_hkd: fixed sizing needs an amount per call, e.g. 100000"
            )
        if sz.method != "fixed" and sz.amount_hkd is not None:
            raise ValueError(f"sizing.amount_hkd: only used with method: fixed (not {sz.method})")
        lo, hi = co.settlement_fee_min_hkd, co.settlement_fee_max_hkd
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"costs.settlement_fee_max_hkd: {hi:g} is below the minimum {lo:g}")
        return self

    def digest(self) -> str:
        """SHA-256 of the spec's content (field values, defaults included)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


assert set(DEFAULT_RATING_WEIGHTS) == set(RATINGS)


def load_spec(path: Path) -> BacktestSpec:
    """Read and validate a spec file.

    Raises
    ------
    InvalidInput
        Every problem in the file, as ``file:line: field: message``.
    """
    return load_validated(path, BacktestSpec.model_validate)
