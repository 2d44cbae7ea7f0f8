"""Daily prices of HKEX stocks and indexes: sources, a local store, panels for commands.

Scoring, backtests and the scorecard call only what is re-exported here; all
reads are pure (no network). ``close`` is the price basis (split-adjusted),
``adj_close`` the total basis (dividend-adjusted); see ``docs/prices.md``.
"""

from tracker.prices.source import (
    BAR_COLUMNS,
    SIMULATED,
    EmptyResult,
    FetchFailed,
    PanelInfo,
    PriceSource,
    SourceUnreachable,
    SymbolResult,
    UpdateSummary,
)
from tracker.prices.source_spec import SOURCE_SPECS, UnknownSource, source_from_spec
from tracker.prices.store import PriceStore, SeriesMeta, StoreBusy
from tracker.prices.update import DEFAULT_SINCE, load_panel, update_prices

__all__ = [
    "BAR_COLUMNS",
    "DEFAULT_SINCE",
    "SIMULATED",
    "SOURCE_SPECS",
    "EmptyResult",
    "FetchFailed",
    "PanelInfo",
    "PriceSource",
    "PriceStore",
    "SeriesMeta",
    "SourceUnreachable",
    "StoreBusy",
    "SymbolResult",
    "UnknownSource",
    "UpdateSummary",
    "load_panel",
    "source_from_spec",
    "update_prices",
]
