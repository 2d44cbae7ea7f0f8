"""Information decay: how much of a broker's edge is left for a reader who acts late.

For each delay ``d`` of :data:`DECAY_SESSIONS`, every call is scored again as if
entered ``d`` sessions after its usual entry session (same convention, same
horizon measured from that later entry), and the mean **directional excess**
at the horizon (:func:`tracker.scoring.rollup.directional_excess`: the excess in
the call's direction, neutral calls left out) is taken per group.

Only calls matured with a directional excess at **every** delay are counted, so
that each delay's mean rests on the same calls and the curve compares like with
like (a call too recent to mature 20 sessions late is left out at every delay).

Anchors: Womack (1996, "Do brokerage analysts' recommendations have investment
value?", JF 51) finds most of the price response to a new buy within days of
the call; Barber, Lehavy, McNichols & Trueman (2001, "Can investors profit from
the prophets?", JF 56) find the returns of consensus portfolios gone once
trading is delayed, and eaten by costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tracker.scoring.entry import DEFAULT_ENTRY, delayed_start_dates

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.prices import PriceSource
    from tracker.recs.models import RatingScale

#: Entry delays, in sessions after the usual entry session.
DECAY_SESSIONS: tuple[int, ...] = (0, 1, 2, 5, 10, 20)


def decay_column(delay: int) -> str:
    """Column of the mean directional excess for a delay: ``excess_d5``."""
    return f"excess_d{delay}"


def delayed_excess(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    benchmark: pd.Series | pd.DataFrame,
    scales: dict[str, RatingScale],
    as_of=None,
    *,
    delays: Sequence[int] = DECAY_SESSIONS,
    entry: str = DEFAULT_ENTRY,
    opens: pd.DataFrame | None = None,
    benchmark_opens: pd.Series | pd.DataFrame | None = None,
    max_stale_sessions: int | None = None,
) -> pd.DataFrame:
    """Directional excess at the horizon of every call, for each entry delay.

    Parameters are those of :func:`tracker.scoring.core.score_calls`, plus
    ``delays`` (sessions after the usual entry session).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: one column per delay (:func:`decay_column`), the
        directional excess (fraction) of a call matured at that delay, else NaN.
    """
    from tracker.scoring.core import DEFAULT_MAX_STALE_SESSIONS, score_calls
    from tracker.scoring.rollup import directional_excess

    stale = DEFAULT_MAX_STALE_SESSIONS if max_stale_sessions is None else max_stale_sessions
    out = pd.DataFrame(index=calls.index)
    ids = calls["call_id"]
    for d in delays:
        moved = calls.assign(start_date=delayed_start_dates(calls["start_date"], entry, d))
        s = score_calls(
            moved,
            closes,
            benchmark,
            scales,
            as_of,
            opens=opens,
            benchmark_opens=benchmark_opens,
            entry=entry,
            max_stale_sessions=stale,
        ).calls
        dx = directional_excess(s).where(s["status"].astype(str) == "matured")
        by_id = dict(zip(s["call_id"], dx, strict=True))
        out[decay_column(d)] = ids.map(by_id).astype(float)
    return out


def decay_table(calls: pd.DataFrame, excess: pd.DataFrame, by: str = "broker") -> pd.DataFrame:
    """Mean directional excess per group at each delay, on the calls matured at all delays.

    Parameters
    ----------
    calls
        The calls (for the grouping column; analysts are exploded as in the roll-up).
    excess
        :func:`delayed_excess` of those calls.
    by
        One of :data:`tracker.scoring.rollup.GROUP_BY`.

    Returns
    -------
    pandas.DataFrame
        Columns ``<by>``, ``calls`` (the common sample), one ``excess_d<N>`` per
        delay (fractions), and ``left_d<N>`` for the last delay: the share of the
        delay-0 mean that is left (NaN unless the delay-0 mean is positive).
    """
    from tracker.scoring.rollup import _grouped

    cols = list(excess.columns)
    common = excess.notna().all(axis=1)
    frame = _grouped(calls.loc[common].join(excess.loc[common]), by)
    rows = []
    for name, g in frame.groupby("group", sort=True):
        row = {by: name, "calls": len(g)}
        row.update({c: float(g[c].mean()) for c in cols})
        rows.append(row)
    table = pd.DataFrame(rows, columns=[by, "calls", *cols])
    if cols:
        first, last = table[cols[0]], table[cols[-1]]
        table[f"left_{cols[-1].removeprefix('excess_')}"] = np.where(
            first > 0, last / first.where(first > 0), np.nan
        )
    return table


def run_decay(
    settings: Settings,
    as_of: date | None = None,
    by: str = "broker",
    entry: str = DEFAULT_ENTRY,
    benchmark: str | None = None,
    source: PriceSource | None = None,
    max_stale_sessions: int | None = None,
    delays: Sequence[int] = DECAY_SESSIONS,
) -> tuple[pd.DataFrame, str | None]:
    """Load the calls and prices (price basis), and return :func:`decay_table` and the
    simulated-data banner (None for real prices)."""
    from tracker.constants import DEFAULT_BENCHMARK
    from tracker.prices import PriceStore, load_panel
    from tracker.recs.book import load_book
    from tracker.scoring.run import _benchmarks

    book = load_book(settings.recs_dir)
    calls = book.calls()
    if as_of is not None:
        calls = calls.loc[calls["start_date"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    calls["benchmark"] = _benchmarks(calls, book.scales, "price", benchmark)
    tickers = list(dict.fromkeys(calls["ticker"]))
    benches = list(dict.fromkeys(calls["benchmark"])) or [benchmark or DEFAULT_BENCHMARK]
    start = calls["start_date"].min() if len(calls) else None
    close, _adj, info = load_panel(
        settings.home, [*tickers, *benches], start, as_of, offline=source is None, source=source
    )
    opens = None
    if entry == "next-open":
        opens = PriceStore(settings.home).read([*tickers, *benches], start, as_of, "open")
    excess = delayed_excess(
        calls,
        close.reindex(columns=tickers),
        close.reindex(columns=benches),
        book.scales,
        as_of,
        delays=delays,
        entry=entry,
        opens=None if opens is None else opens.reindex(columns=tickers),
        benchmark_opens=None if opens is None else opens.reindex(columns=benches),
        max_stale_sessions=max_stale_sessions,
    )
    return decay_table(calls, excess, by), info.banner()
