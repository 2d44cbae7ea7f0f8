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
    from tracker.prices.load import Panels
    from tracker.prices.staleness import Staleness
    from tracker.scoring.core import Scores
    from tracker.scoring.target_run import TargetRun


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
    targets: TargetRun | None = None
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


@dataclass
class ScoredBook:
    """Every call scored, before any roll-up: what the scorecard needs."""

    scores: Scores
    basis: str
    banner: str | None
    #: Split-adjusted closes of every symbol loaded (the price basis), for target figures.
    close: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: How fresh the prices are; its notes() open ``notes``, its details() are for -v.
    staleness: Staleness | None = None


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
    from tracker.scoring.rollup import calendar_time, confusion_matrix, rollup

    scored = score_book(settings, as_of, entry, basis, benchmark, source, max_stale_sessions)
    scores = scored.scores
    from tracker.scoring.target_run import run_targets

    targets = run_targets(settings.home, scores, scored.close, by, positions, as_of)
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
        banner=scored.banner,
        notes=scored.notes,
        targets=targets,
        staleness=scored.staleness,
    )


def score_book(
    settings: Settings,
    as_of: date | None = None,
    entry: str = "next-close",
    basis: str = "price",
    benchmark: str | None = None,
    source: PriceSource | None = None,
    max_stale_sessions: int | None = None,
) -> ScoredBook:
    """Load the calls known by ``as_of`` and their prices, and score every call.

    The parameters are those of :func:`run_score`, without the roll-up's.
    """
    from tracker.prices.load import load_prices
    from tracker.prices.staleness import panel_staleness
    from tracker.recs.book import load_book
    from tracker.scoring.core import DEFAULT_MAX_STALE_SESSIONS, score_calls

    stale = DEFAULT_MAX_STALE_SESSIONS if max_stale_sessions is None else max_stale_sessions
    book = load_book(settings.recs_dir)
    calls = book.calls_known_by(as_of)
    calls["benchmark"] = _benchmarks(calls, book.scales, basis, benchmark)
    tickers = list(dict.fromkeys(calls["ticker"]))
    benches = list(dict.fromkeys(calls["benchmark"])) or [benchmark or DEFAULT_BENCHMARK]
    start = calls["start_date"].min() if len(calls) else None
    panels = load_prices(
        settings.home, [*tickers, *benches], start, as_of, source, opens=entry == "next-open"
    )
    freshness = panel_staleness(panels.info, as_of)
    notes = freshness.notes()
    prices, opens = panels.close, panels.opens
    if basis == "total":
        prices, opens = _total_basis(panels, calls, notes)
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
    info = panels.info
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
    return ScoredBook(
        scores=scores,
        basis=basis,
        banner=info.banner(),
        close=panels.close,
        notes=notes,
        staleness=freshness,
    )


def _total_basis(
    panels: Panels, calls: pd.DataFrame, notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Dividend-adjusted prices (and opens), falling back to the close where there is none.

    Marks the calls that fall back in a ``basis_note`` column of ``calls`` and
    says which symbols did in ``notes`` (both appended to in place: they are
    the caller's own, freshly built).
    """
    from tracker.scoring.grid import total_return_prices

    close = panels.close
    empty = close.iloc[:, :0] if panels.adj_close is None else panels.adj_close
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
    opens = panels.opens
    if opens is not None:
        # Put opens on the adjusted basis with the day's adjustment factor.
        opens = opens * (prices / close).reindex_like(opens)
    return prices, opens
