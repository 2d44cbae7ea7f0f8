"""The one input loader for everything that needs prices: scoring, backtests, the scorecard.

One price-source argument (``None``: the store only, never a fetch), the
``as_of`` cut applied once, and opening prices read through the same path as
the closes: after the same fetch, from the same store, in the same window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd

    from tracker.prices.source import PanelInfo, PriceSource
    from tracker.prices.update import Progress


@dataclass(frozen=True)
class Panels:
    """Wide frames (index: HKEX sessions, columns: symbols) and where they came from.

    Attributes
    ----------
    close
        Price basis (split-adjusted close).
    adj_close
        Total basis (dividend-adjusted close); None when no symbol has any.
    opens
        Opening prices when asked for, else None.
    info
        Provenance and staleness per symbol (:class:`tracker.prices.PanelInfo`).
    """

    close: pd.DataFrame
    adj_close: pd.DataFrame | None
    opens: pd.DataFrame | None
    info: PanelInfo


def load_prices(
    home: Path,
    symbols: Sequence[str],
    start=None,
    as_of: date | pd.Timestamp | None = None,
    source: PriceSource | None = None,
    *,
    opens: bool = False,
    progress: Progress | None = None,
) -> Panels:
    """Close, adjusted-close and (if asked) open panels of ``symbols`` up to ``as_of``.

    Parameters
    ----------
    home
        The tracker data directory holding the store.
    symbols
        Columns of the panels (duplicates dropped).
    start
        First date of the panels and of any fetch (None: everything stored).
    as_of
        Last date read or fetched (None: everything stored).
    source
        Where missing bars are fetched from; ``None`` reads the store only.
        See :func:`tracker.prices.load_panel` for what is fetched and when the
        seeded simulated sample stands in.
    opens
        Also read the opening prices (for the ``next-open`` entry convention).
    progress
        Called after each symbol fetched (see :func:`tracker.prices.update_prices`).

    Returns
    -------
    Panels
    """
    from tracker.prices.store import PriceStore
    from tracker.prices.update import load_panel

    close, adj, info = load_panel(
        home, symbols, start, as_of, offline=source is None, source=source, progress=progress
    )
    open_panel = PriceStore(home).read(symbols, start, as_of, "open") if opens else None
    return Panels(close, adj, open_panel, info)
