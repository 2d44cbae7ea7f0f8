"""Target figures and revisions for ``tracker score``: the store reads behind them.

Reads split-adjusted highs, lows (and opens) of the calls' tickers and, when
the store holds them, the USD/HKD and CNY/HKD rates (``HKD=X``, ``CNYHKD=X``);
the computation is :func:`tracker.scoring.targets.target_figures`,
:func:`tracker.scoring.revisions.revisions` and
:func:`tracker.scoring.rollup.target_rollup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from tracker.scoring.core import Scores


@dataclass(frozen=True)
class TargetRun:
    targets: pd.DataFrame
    revisions: pd.DataFrame
    rollup: pd.DataFrame


def fx_series(home: Path, as_of=None) -> dict[str, pd.Series]:
    """The stored rates by currency (HKD per unit), only those the store holds."""
    from tracker.prices import PriceStore
    from tracker.scoring.currency import FX_SYMBOLS

    store = PriceStore(home)
    held = set(store.symbols())
    out = {}
    for code, symbol in FX_SYMBOLS.items():
        if symbol in held:
            out[code] = store.read([symbol], None, as_of, "close")[symbol].dropna()
    return out


def run_targets(
    home: Path,
    scores: Scores,
    close: pd.DataFrame,
    by: str,
    positions: bool,
    as_of=None,
) -> TargetRun:
    """Targets, revisions and their roll-up for scored calls.

    Parameters
    ----------
    home
        The tracker data directory (the price store).
    scores
        The scored calls.
    close
        Split-adjusted closes of the calls' tickers (the price basis).
    by, positions, as_of
        As for the scores.
    """
    from tracker.prices import PriceStore
    from tracker.registry.adr import adr_ratios
    from tracker.scoring.currency import comparable_targets
    from tracker.scoring.revisions import revisions
    from tracker.scoring.rollup import target_rollup
    from tracker.scoring.targets import target_figures

    calls = scores.calls
    tickers = list(dict.fromkeys(calls["ticker"]))
    start = calls["start_date"].min() if len(calls) else None
    store = PriceStore(home)
    high = store.read(tickers, start, as_of, "high")
    low = store.read(tickers, start, as_of, "low")
    opens = store.read(tickers, start, as_of, "open") if scores.entry == "next-open" else None
    conversion = comparable_targets(
        calls, calls["entry_session"], fx_series(home, as_of), adr_ratios()
    )
    targets = target_figures(
        calls,
        close.reindex(columns=tickers),
        high,
        low,
        scores.as_of,
        opens=opens,
        entry=scores.entry,
        max_stale_sessions=scores.max_stale_sessions,
        conversion=conversion,
    )
    return TargetRun(
        targets=targets,
        revisions=revisions(calls),
        rollup=target_rollup(calls, targets, by=by, positions=positions),
    )
