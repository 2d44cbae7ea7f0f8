"""Scoring the bundled calls from the price store: the glue between the store and
the pure scoring core (:mod:`tracker.scoring.core`, :mod:`tracker.scoring.rollup`).

``tracker score`` renders what :func:`run_score` returns; the scorecard builds
on the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from tracker.config import Settings
from tracker.constants import DEFAULT_BENCHMARK, TOTAL_RETURN_BENCHMARK

if TYPE_CHECKING:
    import pandas as pd

    from tracker.prices import PriceSource
    from tracker.prices.staleness import Staleness
    from tracker.scoring.core import Scores


@dataclass
class ScoreRun:
    """Everything ``tracker score`` computed, ready to render."""

    scores: Scores
    rollup: pd.DataFrame
    confusion: pd.DataFrame
    calendar: pd.DataFrame
    by: str
    positions: bool
    basis: str
    banner: str | None
    notes: list[str] = field(default_factory=list)
    #: How fresh the prices are; its notes() open ``notes``, its details() are for -v.
    staleness: Staleness | None = None


def _benchmarks(calls: pd.DataFrame, scales: dict, basis: str, override: str | None) -> list[str]:
    """Each call's benchmark: the override, else its scale's (a total-return proxy for ^HSI)."""
    if override:
        return [override] * len(calls)
    out = []
    for scale_id in calls["scale"]:
        bench = scales[scale_id].benchmark("HK")
        out.append(
            TOTAL_RETURN_BENCHMARK if basis == "total" and bench == DEFAULT_BENCHMARK else bench
        )
    return out


def run_score(
    settings: Settings,
    as_of: date | None = None,
    by: str = "broker",
    entry: str = "next-close",
    basis: str = "price",
    benchmark: str | None = None,
    positions: bool = False,
    source: PriceSource | None = None,
    max_stale_sessions: int | None = None,
) -> ScoreRun:
    """Load the calls and prices, score every call and roll up. No printing.

    Parameters
    ----------
    settings
        Where the calls (``recs_dir``) and the price store (``home``) are.
    as_of
        Point in time: calls starting later and prices after it are not read.
    by, positions
        The roll-up's grouping, and whether reiterations count once.
    entry, basis, benchmark, max_stale_sessions
        As in :func:`tracker.scoring.core.score_calls`; ``benchmark`` overrides each
        scale's (``basis="total"`` swaps ^HSI for its total-return proxy).
    source
        Where missing prices are fetched from; ``None`` reads the store only.
    """
    import pandas as pd

    from tracker.prices import PriceStore, load_panel
    from tracker.prices.staleness import panel_staleness
    from tracker.recs.book import load_book
    from tracker.scoring.core import DEFAULT_MAX_STALE_SESSIONS, score_calls
    from tracker.scoring.grid import total_return_prices
    from tracker.scoring.rollup import calendar_time, confusion_matrix, rollup

    stale = DEFAULT_MAX_STALE_SESSIONS if max_stale_sessions is None else max_stale_sessions
    book = load_book(settings.recs_dir)
    calls = book.calls()
    if as_of is not None:
        calls = calls.loc[calls["start_date"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    calls["benchmark"] = _benchmarks(calls, book.scales, basis, benchmark)
    tickers = list(dict.fromkeys(calls["ticker"]))
    benches = list(dict.fromkeys(calls["benchmark"])) or [benchmark or DEFAULT_BENCHMARK]
    start = calls["start_date"].min() if len(calls) else None
    close, adj, info = load_panel(
        settings.home, [*tickers, *benches], start, as_of, offline=source is None, source=source
    )
    freshness = panel_staleness(info, as_of)
    notes = freshness.notes()
    opens = None
    if entry == "next-open":
        opens = PriceStore(settings.home).read([*tickers, *benches], start, as_of, "open")
    prices = close
    if basis == "total":
        empty = close.iloc[:, :0] if adj is None else adj
        prices, fallback = total_return_prices(close, empty)
        if fallback:
            notes.append(
                "total basis: no complete adj_close for "
                + ", ".join(fallback)
                + "; their close is used (many sources already adjust close for dividends;"
                " see docs/scoring.md)"
            )
            calls["basis_note"] = [
                "close used (no adj_close)" if t in fallback or b in fallback else ""
                for t, b in zip(calls["ticker"], calls["benchmark"], strict=True)
            ]
        if opens is not None:
            # Put opens on the adjusted basis with the day's adjustment factor.
            opens = opens * (prices / close).reindex_like(opens)
    scores = score_calls(
        calls,
        prices.reindex(columns=tickers),
        prices.reindex(columns=benches),
        book.scales,
        as_of,
        opens=None if opens is None else opens.reindex(columns=tickers),
        benchmark_opens=None if opens is None else opens.reindex(columns=benches),
        entry=entry,
        max_stale_sessions=stale,
    )
    # Said once: the staleness line already tells that the prices end early.
    if (
        as_of is None
        and not freshness.stale
        and len(scores.grid)
        and scores.as_of_session.date() < info.as_of
    ):
        notes.append(
            f"scored as of {scores.as_of_session.date()}, the last price in the store"
            f" (the last closed session is {info.as_of}): run `tracker prices update --recs`"
        )
    _, summary = calendar_time(
        scores.calls, scores.stock_returns, scores.benchmark_returns, by=by, positions=positions
    )
    return ScoreRun(
        scores=scores,
        rollup=rollup(scores.calls, by=by, positions=positions),
        confusion=confusion_matrix(scores.calls, positions=positions),
        calendar=summary,
        by=by,
        positions=positions,
        basis=basis,
        banner=info.banner(),
        notes=notes,
        staleness=freshness,
    )
