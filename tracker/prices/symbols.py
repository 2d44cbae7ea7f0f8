"""Which symbols a command needs, spelled canonically, and how stale the store holds them.

Imports nothing heavy: the CLI uses these at start-up.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tracker.constants import DEFAULT_BENCHMARK, TOTAL_RETURN_BENCHMARK

if TYPE_CHECKING:
    from tracker.prices.store import PriceStore
    from tracker.recs.book import CallBook

_SHORT_HK = re.compile(r"^(\d{1,5})\.HK$")


def canonical_symbol(raw: str) -> str:
    """A symbol as the store keys it: ``700.hk`` -> ``0700.HK``, ``^hsi`` -> ``^HSI``."""
    sym = raw.strip().upper()
    m = _SHORT_HK.match(sym)
    return f"{int(m[1]):04d}.HK" if m else sym


def symbols_of_book(book: CallBook) -> list[str]:
    """Every ticker the calls name, their scales' benchmarks, ^HSI and its total-return proxy.

    In that order, with repeats (the store drops them).
    """
    tickers = book.calls()["ticker"].dropna().tolist()
    benchmarks = [scale.benchmark() for scale in book.scales.values()]
    return [*tickers, *benchmarks, DEFAULT_BENCHMARK, TOTAL_RETURN_BENCHMARK]


def staleness_lines(store: PriceStore, symbols: list[str]) -> list[str]:
    """One indented line per symbol: last bar, sessions behind and source, or nothing stored."""
    status = store.status()
    lines = []
    for sym in symbols:
        if sym not in status.index or status.at[sym, "last"] is None:
            lines.append(f"  {sym}: nothing stored")
            continue
        row = status.loc[sym]
        n = int(row["stale_sessions"])
        behind = "up to date" if n == 0 else f"{n} session{'s' if n != 1 else ''} behind"
        lines.append(f"  {sym}: last bar {row['last']} ({behind}), source {row['source']}")
    return lines
