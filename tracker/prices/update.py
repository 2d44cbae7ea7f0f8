"""Incremental updates of the store from a source, and panels for commands.

An update asks the source only for the sessions the store does not cover:
before the first covered session (history) and after the last stored bar
(new bars). Each request overlaps a few stored sessions
(:data:`tracker.prices.revisions.OVERLAP_SESSIONS`), so that a change in the
source's history is seen: Yahoo's ``close`` is split-adjusted and
``adj_close`` dividend-adjusted as of the download day, so after a split or
dividend every earlier value moves; a corrected bar moves too. When the
overlap disagrees with the store, or a split or dividend the store lacks
appears, the whole series is fetched again (a CSV file re-read) and replaces
the stored one in one transaction, so the series never has a seam and is
never rescaled on one bar's word (:mod:`tracker.prices.revisions`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tracker import sessions
from tracker.constants import CALENDAR_START
from tracker.errors import TrackerError
from tracker.prices.revisions import checked_dates, disagreement, overlap_first, overlap_last
from tracker.prices.source import (
    EmptyResult,
    FetchFailed,
    PanelInfo,
    PriceSource,
    SourceUnreachable,
    SymbolResult,
    UpdateSummary,
    check_bars,
    empty_bars,
    placeholder_mask,
)
from tracker.prices.staleness import NO_NEW_BARS
from tracker.prices.store import PriceStore, SeriesMeta

#: First session fetched for a symbol when no ``since`` is given.
DEFAULT_SINCE = pd.Timestamp("2018-01-01")
#: A daily bar is final this long after the session's close (Yahoo's delay).
SETTLE = pd.Timedelta(minutes=30)

Progress = Callable[[SymbolResult, int, int], None]


@dataclass(frozen=True)
class _Window:
    since: pd.Timestamp
    until: pd.Timestamp
    fetched_at: pd.Timestamp


def _window(since, until, now) -> _Window:
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    last_closed = sessions.last_closed_session(moment - SETTLE)
    first = pd.Timestamp(DEFAULT_SINCE if since is None else since)
    first = max(first, pd.Timestamp(CALENDAR_START))
    since_s = sessions.next_session_on_or_after(first)
    until_s = last_closed
    if until is not None:
        until_s = min(sessions.previous_session_on_or_before(pd.Timestamp(until)), last_closed)
    if since_s > until_s:
        raise TrackerError(
            f"nothing to fetch: since {since_s.date()} is after the last closed session "
            f"{until_s.date()} (give an earlier --since)"
        )
    return _Window(since_s, until_s, moment.tz_convert("UTC"))


def update_prices(
    store: PriceStore,
    source: PriceSource,
    symbols: Sequence[str],
    since=None,
    until=None,
    progress: Progress | None = None,
    *,
    now=None,
    lock_timeout_s: float = 600.0,
) -> UpdateSummary:
    """Bring the store up to date for ``symbols`` from ``source``.

    Parameters
    ----------
    store, source
        Where bars are kept and where missing ones come from.
    symbols
        Symbols to update (duplicates dropped, order kept).
    since, until
        Dates bounding the wanted history (inclusive). ``since`` defaults to
        :data:`DEFAULT_SINCE`; ``until`` to the last HKEX session closed at
        least :data:`SETTLE` before ``now``, and is never later than that.
    progress
        Called as ``progress(result, done, total)`` after each symbol.
    now
        The current moment (default: the clock); tests pass it.
    lock_timeout_s
        How long to wait for another process's update to finish.

    Returns
    -------
    UpdateSummary
        One :class:`SymbolResult` per symbol: ``fetched``, ``up to date`` or
        ``failed`` with a reason. One symbol's failure never stops the others;
        an unreachable source stops the asking and fails the rest as not tried.

    Raises
    ------
    StoreBusy
        If another process holds the update lock for ``lock_timeout_s``.
    """
    window = _window(since, until, now)
    wanted = list(dict.fromkeys(symbols))
    results: list[SymbolResult] = []
    unreachable: str | None = None
    with store.lock(lock_timeout_s):
        for i, symbol in enumerate(wanted):
            if unreachable is not None:
                result = SymbolResult(
                    symbol=symbol, status="failed", reason=f"not tried: {unreachable}"
                )
            else:
                try:
                    result = _update_one(store, source, symbol, window)
                except SourceUnreachable as exc:
                    unreachable = f"{source.name} unreachable"
                    result = SymbolResult(
                        symbol=symbol, status="failed", reason=f"{unreachable}: {exc.reason}"
                    )
            results.append(result)
            if progress is not None:
                progress(result, i + 1, len(wanted))
    return UpdateSummary(
        source=source.name,
        simulated=bool(getattr(source, "simulated", False)),
        results=tuple(results),
        unreachable=unreachable is not None,
        until=window.until.date(),
    )


def _fetch(source: PriceSource, symbol: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Bars in ``[lo, hi]`` with a close; FetchFailed for anything the source raised."""
    try:
        raw = source.fetch(symbol, lo, hi)
    except FetchFailed:
        raise
    except TrackerError as exc:  # e.g. InvalidInput from a CSV file: keep file:line text
        raise FetchFailed(symbol, str(exc)) from None
    except Exception as exc:  # a vendor library's own error: a per-symbol failure
        raise FetchFailed(symbol, f"{type(exc).__name__}: {exc}") from None
    bars = check_bars(raw, symbol)
    bars = bars[(bars.index >= lo) & (bars.index <= hi) & bars["close"].notna()]
    # The row set is the HKEX calendar: a bar on a holiday or weekend is no session.
    on_calendar = bars.index.isin(sessions.all_sessions())
    dropped = bars.index[~on_calendar]
    bars = bars[on_calendar]
    if bars.empty:
        extra = f" ({len(dropped)} off the HKEX calendar ignored)" if len(dropped) else ""
        raise EmptyResult(symbol, f"no bars {lo.date()}..{hi.date()}{extra}")
    if len(dropped):
        bars.attrs["note"] = (
            f"{len(dropped)} bar(s) off the HKEX calendar ignored (first {dropped[0].date()})"
        )
    return bars


def _load_notes(symbol: str, *frames: pd.DataFrame | None) -> list[str]:
    """What loading ``frames`` left out or flagged: off-calendar bars, placeholders."""
    notes = [f.attrs["note"] for f in frames if f is not None and f.attrs.get("note")]
    flat = sum(int(placeholder_mask(f, symbol).sum()) for f in frames if f is not None)
    if flat:
        notes.append(f"{flat} placeholder bar(s) (flat, no volume) kept without a price")
    return notes


def _update_one(store: PriceStore, source: PriceSource, symbol: str, w: _Window) -> SymbolResult:
    meta = store.meta(symbol)
    if meta is None or meta.source != source.name:
        return _full(store, source, symbol, w, meta)
    return _incremental(store, source, symbol, w, meta)


def _short_note(last: pd.Timestamp, until: pd.Timestamp) -> str | None:
    short = sessions.count_sessions_between(last, until)
    if short == 0:
        return None
    return (
        f"series ends {last.date()},"
        f" {short} session{'s' if short != 1 else ''} before {until.date()}"
    )


def _full(
    store: PriceStore, source: PriceSource, symbol: str, w: _Window, meta: SeriesMeta | None
) -> SymbolResult:
    requested = ((w.since.date(), w.until.date()),)
    try:
        bars = _fetch(source, symbol, w.since, w.until)
    except SourceUnreachable:
        raise
    except FetchFailed as exc:
        return SymbolResult(symbol=symbol, status="failed", requested=requested, reason=exc.reason)
    replace = meta is not None
    written = store.write(
        symbol,
        bars,
        source=source.name,
        covered_first=w.since,
        covered_last=bars.index[-1],
        fetched_at=w.fetched_at,
        replace=replace,
    )
    notes = [f"replaced data from {meta.source}"] if replace else []
    notes += _load_notes(symbol, bars)
    short = _short_note(bars.index[-1], w.until)
    notes += [short] if short else []
    return SymbolResult(
        symbol=symbol,
        status="fetched",
        rows_added=written,
        first=bars.index[0].date(),
        last=bars.index[-1].date(),
        requested=requested,
        note="; ".join(notes) or None,
    )


def _incremental(
    store: PriceStore, source: PriceSource, symbol: str, w: _Window, meta: SeriesMeta
) -> SymbolResult:
    stored = store.read_bars(symbol)
    if stored.empty:  # coverage without bars cannot happen through update; refetch
        return _full(store, source, symbol, w, None)
    first_bar, last_bar = stored.index[0], stored.index[-1]
    want_head = w.since < meta.covered_first
    want_tail = sessions.count_sessions_between(last_bar, w.until) > 0
    if not (want_head or want_tail):
        return SymbolResult(symbol=symbol, status="up to date")

    tail = _Tail(None, None, None)
    if want_tail:
        tail = _fetch_tail(source, symbol, stored, w.until)
        if tail.moved is not None:
            return _refetch(store, source, symbol, w, meta, stored, tail.moved)
    head, covered_first, head_problem, head_range = None, meta.covered_first, None, None
    if want_head:
        # Overlap the first stored bars (to compare with the source) unless the
        # source is known to have nothing between covered_first and the first bar.
        head_hi = (
            sessions.previous_session_before(meta.covered_first)
            if meta.covered_first < first_bar
            else overlap_last(stored.index)
        )
        head_range = (w.since.date(), head_hi.date())
        try:
            head = _fetch(source, symbol, w.since, head_hi)
            covered_first = w.since
        except EmptyResult:
            covered_first = w.since  # the source has nothing earlier: not a failure
        except SourceUnreachable:
            raise
        except FetchFailed as exc:
            head_problem = f"history: {exc.reason}"
        if head is not None:
            moved = disagreement(stored, head)
            if moved is not None:
                return _refetch(store, source, symbol, w, meta, stored, moved)
            head = head[head.index < first_bar]

    parts = [f for f in (head, tail.bars) if f is not None and not f.empty]
    if parts or covered_first != meta.covered_first:
        store.write(
            symbol,
            pd.concat(parts) if parts else empty_bars(),
            source=source.name,
            covered_first=covered_first,
            covered_last=tail.bars.index[-1] if tail.bars is not None else meta.covered_last,
            fetched_at=w.fetched_at,
        )
    fresh = pd.concat(parts).index if parts else pd.DatetimeIndex([])
    fresh = fresh.difference(stored.index)  # the overlap bars are not new
    problems = [p for p in (head_problem, tail.problem) if p]
    notes = [tail.note] if tail.note else []
    if tail.bars is not None:
        short = _short_note(tail.bars.index[-1], w.until)
        notes += [short] if short else []
    return SymbolResult(
        symbol=symbol,
        status="failed" if problems else ("fetched" if len(fresh) else "up to date"),
        rows_added=len(fresh),
        first=fresh.min().date() if len(fresh) else None,
        last=fresh.max().date() if len(fresh) else None,
        requested=tuple(r for r in (head_range, tail.requested(stored, w.until)) if r),
        reason="; ".join(problems) or None,
        note="; ".join(notes) or None,
    )


@dataclass(frozen=True)
class _Tail:
    """New bars from the last stored ones on; ``moved`` says why they cannot extend the store."""

    bars: pd.DataFrame | None
    problem: str | None
    note: str | None
    asked: bool = False
    moved: str | None = None

    def requested(self, stored: pd.DataFrame, until: pd.Timestamp):
        return (overlap_first(stored.index).date(), until.date()) if self.asked else None


def _fetch_tail(source: PriceSource, symbol: str, stored: pd.DataFrame, until) -> _Tail:
    last_bar = stored.index[-1]
    try:
        bars = _fetch(source, symbol, overlap_first(stored.index), until)
    except SourceUnreachable:
        raise
    except FetchFailed as exc:
        return _Tail(None, f"new bars: {exc.reason}", None, asked=True)
    if not (bars.index > last_bar).any():
        problem = (
            f"{NO_NEW_BARS} {last_bar.date()} up to {until.date()} "
            "(suspended, delisted, or not yet published)"
        )
        return _Tail(None, problem, None, asked=True)
    note = None
    if not checked_dates(stored, bars):
        # A placeholder's price is not a trade: it cannot tell a change of basis.
        note = f"basis not checked: no traded bar shared with the store up to {last_bar.date()}"
    return _Tail(bars, None, note, asked=True, moved=disagreement(stored, bars))


def _refetch(
    store: PriceStore,
    source: PriceSource,
    symbol: str,
    w: _Window,
    meta: SeriesMeta,
    stored: pd.DataFrame,
    why: str,
) -> SymbolResult:
    """Replace the series with the source's whole history, because ``why``.

    Nothing is written unless the whole series arrives: a failure leaves the
    store as it was and is reported.
    """
    lo = min(meta.covered_first, w.since)
    requested = ((lo.date(), w.until.date()),)
    what = "re-read the whole file" if source.name.startswith("csv") else "re-fetched the series"
    try:
        bars = _fetch(source, symbol, lo, w.until)
    except SourceUnreachable:
        raise
    except FetchFailed as exc:
        return SymbolResult(
            symbol=symbol,
            status="failed",
            requested=requested,
            reason=f"{why}; the whole series could not be fetched again ({exc.reason});"
            " the stored bars are kept",
        )
    store.write(
        symbol,
        bars,
        source=source.name,
        covered_first=lo,
        covered_last=bars.index[-1],
        fetched_at=w.fetched_at,
        replace=True,
    )
    fresh = bars.index.difference(stored.index)
    notes = [f"{what}: {why}", *_load_notes(symbol, bars)]
    short = _short_note(bars.index[-1], w.until)
    notes += [short] if short else []
    return SymbolResult(
        symbol=symbol,
        status="fetched",
        rows_added=len(fresh),
        first=fresh.min().date() if len(fresh) else None,
        last=fresh.max().date() if len(fresh) else None,
        requested=requested,
        note="; ".join(notes),
    )


def _same_or_simulated(meta: SeriesMeta | None, source_name: str) -> bool:
    return meta is None or meta.source == source_name or meta.simulated


def load_panel(
    home: Path,
    symbols: Sequence[str],
    start=None,
    end=None,
    *,
    offline: bool = False,
    source: PriceSource | None = None,
    progress: Progress | None = None,
    now=None,
    allow_simulated: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame | None, PanelInfo]:
    """Close and adjusted-close panels for ``symbols``, fetching what is missing if it can.

    Parameters
    ----------
    home
        The tracker data directory holding the store.
    symbols
        Columns of the panels.
    start, end
        Inclusive date bounds of the panels (and of any fetch).
    offline
        Read the store only, never ``source``.
    source
        Where to fetch missing bars from; None means the store only. Symbols
        the store holds from another (real) source are not fetched: their data
        is kept. When the source is unreachable the store is used as it is
        (``PanelInfo.fetch_problem``). Simulated data is always replaced.
    progress
        Passed to :func:`update_prices`.
    now
        The current moment (default: the clock).
    allow_simulated
        When the store holds none of ``symbols`` and no source could be used,
        fill the store with the seeded simulated sample
        (:mod:`tracker.prices.simulated`) so a demo runs offline;
        ``PanelInfo.simulated`` is then True and :meth:`PanelInfo.banner` gives
        the line every output must start with.

    Returns
    -------
    close : pandas.DataFrame
        Price basis (split-adjusted close), as :meth:`PriceStore.read`.
    adj_close : pandas.DataFrame or None
        Total basis (dividend-adjusted); None when no symbol has any.
    info : PanelInfo
        Provenance and staleness per symbol.
    """
    store = PriceStore(home)
    wanted = list(dict.fromkeys(symbols))
    update, problem = None, None
    if not offline and source is not None:
        # Fill what is missing; a series held from another real source (e.g. a
        # CSV folder) is kept: switching sources is `tracker prices update --source`.
        fetchable = [s for s in wanted if _same_or_simulated(store.meta(s), source.name)]
        update = update_prices(
            store, source, fetchable, since=start, until=end, progress=progress, now=now
        )
        if update.unreachable:
            problem = f"{source.name} unreachable: using the store as it is"
        elif update.failed:
            problem = "; ".join(f"{r.symbol}: {r.reason}" for r in update.failed)
    used_source = not offline and source is not None and not (update and update.unreachable)
    if allow_simulated and not used_source and not set(store.symbols()) & set(wanted):
        from tracker.prices.simulated import SimulatedSource

        update_prices(store, SimulatedSource(), wanted, since=start, until=end, now=now)
    close = store.read(wanted, start, end, "close")
    adj = store.read(wanted, start, end, "adj_close")
    status = store.status(now)
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    present = [s for s in wanted if s in status.index]
    simulated = tuple(s for s in present if bool(status.at[s, "simulated"]))
    info = PanelInfo(
        symbols=tuple(wanted),
        as_of=sessions.last_closed_session(moment).date(),
        simulated=bool(simulated),
        simulated_symbols=simulated,
        sources={s: (status.at[s, "source"] if s in present else None) for s in wanted},
        last_bar={s: (status.at[s, "last"] if s in present else None) for s in wanted},
        stale_sessions={
            s: (int(status.at[s, "stale_sessions"]) if s in present else None) for s in wanted
        },
        missing=tuple(s for s in wanted if s not in present),
        offline=not used_source,
        fetch_problem=problem,
        update=update,
        loaded_at=datetime.now(UTC) if now is None else moment.to_pydatetime(),
    )
    return close, (None if adj.isna().all().all() else adj), info
