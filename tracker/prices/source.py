"""The price-source interface, the bar schema every source returns, and result records.

A source answers one question: the daily bars of one symbol between two
sessions. Everything else (what is missing, retries across runs, storage) is
the store's business, so a new vendor is one small class.

Bar schema (one row per session, index ``date``: naive midnight
``pd.Timestamp`` = the Hong Kong session date, ascending, unique):

==============  ==========================================================
``open``        first trade, split-adjusted (currency units, e.g. HKD)
``high``        highest trade, split-adjusted
``low``         lowest trade, split-adjusted
``close``       last trade, split-adjusted, *not* dividend-adjusted: the
                "price" basis (price return)
``adj_close``   close adjusted for dividends too: the "total" basis (total
                return); NaN where the source has none
``volume``      shares (index points' turnover for indexes); NaN if unknown
``dividends``   cash dividend per share going ex on this session, else 0
``splits``      split ratio on this session (2.0 for 2-for-1), else 0
==============  ==========================================================

All columns are ``float64``. The store adds a boolean ``placeholder`` column
(see :func:`placeholder_mask`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict

from tracker.errors import TrackerError

#: Columns of a bars frame, in order.
BAR_COLUMNS: tuple[str, ...] = (
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "dividends",
    "splits",
)
#: Price columns (set to NaN on placeholder rows by :meth:`PriceStore.read`).
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close")
#: Source name of the seeded simulated sample.
SIMULATED = "simulated"


class FetchFailed(TrackerError):
    """A source could not deliver bars for one symbol; ``reason`` says why."""

    def __init__(self, symbol: str, reason: str):
        self.symbol = symbol
        self.reason = reason
        super().__init__(f"{symbol}: {reason}")


class EmptyResult(FetchFailed):
    """The source answered, but with no bars in the requested range."""


class SourceUnreachable(FetchFailed):
    """The source cannot be reached at all (no network, DNS failure...).

    :func:`tracker.prices.update_prices` stops asking it for further symbols.
    """


@runtime_checkable
class PriceSource(Protocol):
    """Something that returns daily bars for a symbol.

    Attributes
    ----------
    name
        Stable identifier remembered by the store for each symbol
        (``"yahoo"``, ``"csv:/data/prices"``, ``"simulated"``). When a symbol is
        updated from a source with another name, its history is fetched again
        in full and replaces the old one (bases of adjustment differ by vendor).
    simulated
        True only for the simulated sample; outputs made from it must say so.
    """

    name: str
    simulated: bool

    def fetch(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Bars of ``symbol`` for the sessions in ``[start, end]`` (both inclusive).

        Returns
        -------
        pandas.DataFrame
            In the bar schema of this module; rows outside the range are allowed
            (the store clips them).

        Raises
        ------
        EmptyResult
            The source holds no bar in the range.
        SourceUnreachable
            The source cannot be reached; asking for other symbols is pointless.
        FetchFailed
            Any other per-symbol failure, with a reason.
        """
        ...


def empty_bars() -> pd.DataFrame:
    """A bars frame with no rows."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in BAR_COLUMNS})
    frame.index = pd.DatetimeIndex([], name="date")
    return frame


def check_bars(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """``frame`` in the bar schema: float columns, missing optional columns added.

    ``close`` is required; ``dividends``/``splits`` default to 0 and the other
    columns to NaN. The index must hold dates (tz-aware stamps keep their
    *local* date: a Hong Kong midnight is never shifted to the UTC day before).

    Raises
    ------
    FetchFailed
        No ``close`` column, or a duplicated date.
    """
    if "close" not in frame.columns:
        raise FetchFailed(symbol, f"source returned no close column (got {list(frame.columns)})")
    out = pd.DataFrame(index=_session_dates(frame.index))
    for col in BAR_COLUMNS:
        if col in frame.columns:
            out[col] = pd.to_numeric(frame[col].to_numpy(), errors="coerce").astype("float64")
        else:
            out[col] = 0.0 if col in ("dividends", "splits") else float("nan")
    out[["dividends", "splits"]] = out[["dividends", "splits"]].fillna(0.0)
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise FetchFailed(symbol, f"source returned {dup.date()} twice")
    return out.sort_index()


def _session_dates(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        # Keep the wall-clock date of the exchange: tz_localize(None) drops the
        # zone without converting, so 2025-01-02 00:00+08:00 stays 2025-01-02.
        idx = idx.tz_localize(None)
    return pd.DatetimeIndex(idx.normalize(), name="date")


def is_index(symbol: str | None) -> bool:
    """Whether ``symbol`` names an index (Yahoo's ``^`` prefix, e.g. ``^HSI``)."""
    return bool(symbol) and str(symbol).startswith("^")


def placeholder_mask(frame: pd.DataFrame, symbol: str | None = None) -> pd.Series:
    """Rows that are Yahoo placeholders, not trades: open = high = low = close, volume 0.

    Yahoo writes such rows on half-day sessions and some glitch days, repeating
    a price that may not be a real close (see the data notes in ``docs/prices.md``).
    Rows with unknown OHLC or volume (NaN) are never placeholders. Nor are the
    rows of an index series without any volume (``symbol`` given and
    :func:`is_index`): an index trades nothing itself, a file may give only its
    level (open = high = low = close, volume 0), and a zero volume then says
    nothing. (Yahoo's ``^HSI`` has volumes: a flat row without one stays a
    placeholder there.)
    """
    if is_index(symbol) and not (frame["volume"] > 0).any():
        return pd.Series(False, index=frame.index, name="placeholder")
    flat = (
        (frame["open"] == frame["high"])
        & (frame["high"] == frame["low"])
        & (frame["low"] == frame["close"])
    )
    return (flat & (frame["volume"] == 0)).rename("placeholder")


class SymbolResult(BaseModel):
    """What one update did for one symbol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str
    status: Literal["fetched", "up to date", "failed"]
    rows_added: int = 0
    first: date | None = None
    last: date | None = None
    requested: tuple[tuple[date, date], ...] = ()
    reason: str | None = None
    note: str | None = None


class UpdateSummary(BaseModel):
    """Results of :func:`tracker.prices.update_prices`, one per symbol, in input order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    simulated: bool
    results: tuple[SymbolResult, ...]
    unreachable: bool = False
    until: date | None = None

    @property
    def failed(self) -> tuple[SymbolResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def ok(self) -> bool:
        return not self.failed


class PanelInfo(BaseModel):
    """Where the panels of :func:`tracker.prices.load_panel` come from, and how fresh they are.

    ``stale_sessions[s]`` counts sessions after the last bar of ``s`` up to
    ``as_of`` (the last closed session when the panel was loaded); ``None``
    when the store holds nothing for ``s``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbols: tuple[str, ...]
    as_of: date
    simulated: bool
    simulated_symbols: tuple[str, ...] = ()
    sources: dict[str, str | None]
    last_bar: dict[str, date | None]
    stale_sessions: dict[str, int | None]
    missing: tuple[str, ...] = ()
    offline: bool
    fetch_problem: str | None = None
    update: UpdateSummary | None = None
    loaded_at: datetime

    def banner(self) -> str | None:
        """The line every output made from these panels must start with, if any."""
        if not self.simulated:
            return None
        names = ", ".join(self.simulated_symbols)
        return (
            "SIMULATED DATA: seeded one-factor model, not market prices "
            f"({names}); see docs/prices.md"
        )

    def staleness_lines(self) -> list[str]:
        """One human line per symbol: source, last bar, sessions behind."""
        lines = []
        for sym in self.symbols:
            last = self.last_bar.get(sym)
            if last is None:
                lines.append(f"{sym}: no data in the store")
                continue
            n = self.stale_sessions.get(sym) or 0
            age = "up to date" if n == 0 else f"{n} session{'s' if n != 1 else ''} behind"
            lines.append(
                f"{sym}: last bar {last.isoformat()} ({age} as of {self.as_of.isoformat()}), "
                f"source {self.sources.get(sym)}"
            )
        return lines
