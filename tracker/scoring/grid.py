"""Prices on the HKEX session grid: bar ages (staleness), entry and checkpoint returns.

The measuring half of :mod:`tracker.scoring.core`. Price frames are cut at
``as_of`` and laid on the grid of HKEX sessions; a missing or unusable bar
(NaN or not positive) is replaced by the last bar before it when that bar is
at most ``max_stale`` sessions old. Every function works on all calls at once:
a call is an index into these arrays, never a loop iteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.errors import ScoringInputError
from tracker.scoring.bands import CalledBands, excess_pp, reaches
from tracker.scoring.entry import ENTRY_AWAITING, ENTRY_OK, entry_field, entry_points

# Checkpoint statuses ("stale: N sessions" in between).
CHECK_OK = "ok"
CHECK_NO_DATA = "no data"
CHECK_PENDING = "pending"

#: Bar age meaning "no bar yet".
NEVER = np.iinfo(np.int32).max // 2
NAT = np.datetime64("NaT", "ns")


def stale_label(n: int) -> str:
    """``"stale: 1 session"``, ``"stale: 2 sessions"``..."""
    return f"stale: {n} session{'s' if n != 1 else ''}"


def status_categories(max_stale: int) -> list[str]:
    """Checkpoint statuses in the order of the status codes of :func:`measure`."""
    return [
        CHECK_OK,
        *(stale_label(k) for k in range(1, max_stale + 1)),
        CHECK_NO_DATA,
        CHECK_PENDING,
    ]


# --------------------------------------------------------------------------- price panels


@dataclass(frozen=True)
class FilledPrices:
    """A price frame on the session grid, symbol-major, forward-filled with bar ages.

    ``values[s, t]`` is the last bar of symbol ``s`` at or before session ``t``
    and ``age[s, t]`` how many sessions old it is (0 = a bar that session,
    ``NEVER`` = no bar yet).
    """

    symbols: pd.Index
    values: np.ndarray
    age: np.ndarray

    @classmethod
    def build(cls, frame: pd.DataFrame) -> FilledPrices:
        raw = np.ascontiguousarray(frame.to_numpy(dtype=float, na_value=np.nan).T)
        n_sess = raw.shape[1]
        with np.errstate(invalid="ignore"):
            valid = raw > 0  # NaN and non-positive prices are no bar
        steps = np.arange(n_sess, dtype=np.int32)
        last = np.where(valid, steps[None, :], np.int32(-1))
        np.maximum.accumulate(last, axis=1, out=last)
        age = steps[None, :] - last
        age[last < 0] = NEVER
        values = np.take_along_axis(raw, np.maximum(last, 0), axis=1)
        values[last < 0] = np.nan
        return cls(frame.columns, values, age)

    def at(self, sym: np.ndarray, pos: np.ndarray, max_stale: int) -> tuple[np.ndarray, np.ndarray]:
        """Price (NaN when no bar within ``max_stale`` sessions) and bar age, per (sym, pos).

        ``sym`` or ``pos`` equal to -1 means "not available" (NaN, age ``NEVER``).
        """
        ok = (sym >= 0) & (pos >= 0)
        s = np.where(ok, sym, 0)
        p = np.where(ok, pos, 0)
        if self.values.size == 0:
            return np.full(len(sym), np.nan), np.full(len(sym), NEVER, dtype=np.int32)
        age = np.where(ok, self.age[s, p], NEVER)
        value = np.where(ok & (age <= max_stale), self.values[s, p], np.nan)
        return value, age

    def returns(self, grid: pd.DatetimeIndex, max_stale: int) -> pd.DataFrame:
        """Session-to-session returns (fractions), NaN when either end has no usable bar."""
        usable = self.age <= max_stale
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.full(self.values.shape, np.nan)
            r[:, 1:] = self.values[:, 1:] / self.values[:, :-1] - 1.0
        r[:, 1:][~(usable[:, 1:] & usable[:, :-1])] = np.nan
        r[:, 0] = np.nan
        return pd.DataFrame(r.T, index=grid, columns=self.symbols)


def total_return_prices(
    close: pd.DataFrame, adj_close: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Dividend-adjusted closes for the ``total`` basis, falling back per symbol.

    A symbol uses ``adj_close`` when it has a value on every date its ``close``
    has one; otherwise (a source without adjusted closes, or only part of the
    range adjusted) its ``close`` is used and the symbol is listed as a
    fallback so that the caller can flag it.

    Returns
    -------
    (prices, fallback_symbols)
    """
    adj = adj_close.reindex(index=close.index, columns=close.columns)
    has_close = close.notna()
    complete = (adj.notna() | ~has_close).all(axis=0) & adj.notna().any(axis=0)
    out = close.copy()
    use = [c for c in close.columns if complete[c]]
    if use:
        out[use] = adj[use]
    fallback = [str(c) for c in close.columns if not complete[c]]
    return out, fallback


def check_frame(name: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """``frame`` with a naive, sorted date index; ``name`` is the frame in error messages.

    Raises
    ------
    ScoringInputError
        The index does not hold dates, or a date appears twice.
    """
    if frame is None:
        return None
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ScoringInputError(f"{name}: the index must hold dates (a DatetimeIndex)")
    if frame.index.tz is not None:
        frame = frame.tz_localize(None)
    if frame.index.has_duplicates:
        dupe = frame.index[frame.index.duplicated()][0]
        raise ScoringInputError(
            f"{name}: date {dupe.date()} appears twice; keep one bar per session"
        )
    return frame if frame.index.is_monotonic_increasing else frame.sort_index()


# --------------------------------------------------------------------------- sessions


def months_after(entry: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """First session on or after each entry session + ``months`` calendar months.

    Computed once per distinct (session, months) pair: a few thousand at most.
    """
    months = np.broadcast_to(np.asarray(months, dtype=np.int64), entry.shape)
    out = np.full(entry.shape, NAT, dtype="datetime64[ns]")
    for m in np.unique(months):
        mask = months == m
        uniq, inverse = np.unique(entry[mask], return_inverse=True)
        shifted = sessions.sessions_months_after(pd.DatetimeIndex(uniq), int(m))
        out[mask] = shifted.values.astype("datetime64[ns]")[inverse.ravel()]
    return out


def calendar_positions(dates: np.ndarray) -> np.ndarray:
    """Position of each session in the HKEX calendar (differences count sessions)."""
    uniq, inverse = np.unique(dates, return_inverse=True)
    return sessions.session_positions(pd.DatetimeIndex(uniq))[inverse.ravel()]


def dates_text(values: np.ndarray) -> np.ndarray:
    """Dates as ``YYYY-MM-DD`` strings (an object array, for messages)."""
    return np.asarray(pd.DatetimeIndex(values).strftime("%Y-%m-%d"), dtype=object)


@dataclass(frozen=True)
class Market:
    """Prices cut at ``as_of`` and laid on the HKEX session grid."""

    grid: pd.DatetimeIndex
    stock_frame: pd.DataFrame
    opens_frame: pd.DataFrame | None
    stock: FilledPrices
    bench: FilledPrices
    bench_open: FilledPrices | None
    as_of_session: np.datetime64

    @classmethod
    def build(cls, closes, bench, opens, bench_opens, cutoff: pd.Timestamp) -> Market:
        firsts = [f.index.min() for f in (closes, bench) if len(f.index)]
        start = min(firsts) if firsts else cutoff
        as_of_session = sessions.previous_session_on_or_before(cutoff)
        grid = sessions.sessions_between(min(start, as_of_session), as_of_session)

        def on_grid(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None:
                return None
            # Cut at as_of before anything else: no later price takes part.
            return frame.loc[frame.index <= cutoff].reindex(grid)

        stock_frame = on_grid(closes)
        bench_frame = on_grid(bench)
        bopen = on_grid(bench_opens)
        return cls(
            grid=grid,
            stock_frame=stock_frame,
            opens_frame=on_grid(opens),
            stock=FilledPrices.build(stock_frame),
            bench=FilledPrices.build(bench_frame),
            bench_open=None
            if bopen is None
            else FilledPrices.build(bopen.reindex(columns=bench.columns)),
            as_of_session=np.datetime64(as_of_session, "ns"),
        )

    @cached_property
    def grid_ns(self) -> np.ndarray:
        return self.grid.values.astype("datetime64[ns]")

    def pos(self, dates: np.ndarray) -> np.ndarray:
        """Grid position of each date, -1 when it is not on the grid."""
        g = self.grid_ns
        if not len(g):
            return np.full(len(dates), -1, dtype=np.int64)
        p = np.searchsorted(g, dates, side="left")
        hit = (p < len(g)) & (g[np.minimum(p, len(g) - 1)] == dates)
        return np.where(hit, p, -1)


# --------------------------------------------------------------------------- entry and checkpoints


@dataclass(frozen=True)
class Entry:
    """Entry session, grid position and prices of every call (NaN / -1 where not entered)."""

    session: np.ndarray
    pos: np.ndarray
    stock: np.ndarray
    bench: np.ndarray
    bench_age: np.ndarray
    ok: np.ndarray
    awaiting: np.ndarray
    reason: np.ndarray


def enter(calls, mkt: Market, sym, bsym, entry: str, max_stale: int) -> Entry:
    """Entry session and prices; the benchmark base may be stale, the stock's may not."""
    ent = entry_points(
        calls,
        mkt.stock_frame,
        mkt.opens_frame,
        entry,
        as_of=mkt.grid[-1] if len(mkt.grid) else None,
    )
    session = pd.DatetimeIndex(ent["entry_session"]).values.astype("datetime64[ns]")
    status = ent["entry_status"].to_numpy(dtype=object)
    ok = status == ENTRY_OK
    awaiting = status == ENTRY_AWAITING
    pos = np.where(ok, mkt.pos(session), -1)
    base = mkt.bench_open if entry_field(entry) == "open" else mkt.bench
    bench0, bench_age = base.at(bsym, pos, max_stale)
    reason = ent["entry_reason"].to_numpy(dtype=object).copy()
    no_bench = ok & np.isnan(bench0)
    reason[no_bench] = (
        f"no benchmark bar within {max_stale} sessions of the entry session "
        + dates_text(session[no_bench])
    )
    ok = ok & ~no_bench
    return Entry(
        session=session,
        pos=np.where(ok, pos, -1),
        stock=np.where(ok, ent["entry_price"].to_numpy(dtype=float), np.nan),
        bench=np.where(ok, bench0, np.nan),
        bench_age=np.where(ok, bench_age, -1),
        ok=ok,
        awaiting=awaiting,
        reason=reason,
    )


def measure(mkt: Market, ent: Entry, sym, bsym, at: np.ndarray, max_stale: int) -> dict:
    """Returns and excess of every call at its session ``at`` (one checkpoint)."""
    due = at <= mkt.as_of_session
    pos = np.where(ent.ok & due, mkt.pos(at), -1)
    sp, sage = mkt.stock.at(sym, pos, max_stale)
    bp, bage = mkt.bench.at(bsym, pos, max_stale)
    with np.errstate(invalid="ignore", divide="ignore"):
        sr = sp / ent.stock - 1.0
        br = bp / ent.bench - 1.0
        ex = sr - br
    good = ent.ok & due & ~np.isnan(ex)
    stale = np.maximum(sage, bage)
    # Status codes index status_categories: 0 ok, k stale k sessions, then no data, pending.
    code = np.where(good, np.minimum(stale, max_stale), max_stale + 1)
    code = np.where(~due | ent.awaiting, max_stale + 2, code)
    return {
        "session": at,
        "stock_price": np.where(good, sp, np.nan),
        "benchmark_price": np.where(good, bp, np.nan),
        "stock_return": np.where(good, sr, np.nan),
        "benchmark_return": np.where(good, br, np.nan),
        "excess": np.where(good, ex, np.nan),
        "status_code": code.astype(np.int64),
        "stock_missing": ent.ok & due & np.isnan(sp),
        "bench_missing": ent.ok & due & np.isnan(bp),
    }


def window_hits(
    active: np.ndarray,
    start_pos: np.ndarray,
    end_pos: np.ndarray,
    sym: np.ndarray,
    bsym: np.ndarray,
    mkt: Market,
    ent: Entry,
    called: CalledBands,
    overshoot_is_hit: bool,
    max_stale: int,
    chunk_cells: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Whether the excess reached the called band at any session of [start, end].

    Vectorised over blocks of calls (a block holds at most ``chunk_cells``
    call-sessions), gathering each call's window from symbol-major arrays.

    Returns
    -------
    (reached, first_pos)
        ``first_pos`` is the grid position of the first session in the band, -1 if none.
    """
    n = len(active)
    reached = np.zeros(n, dtype=bool)
    first = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(active & (start_pos >= 0) & (end_pos >= start_pos) & (sym >= 0))
    if not len(idx):
        return reached, first
    n_sess = mkt.stock.values.shape[1]
    sv, sa = mkt.stock.values.ravel(), mkt.stock.age.ravel()
    bv, ba = mkt.bench.values.ravel(), mkt.bench.age.ravel()
    lengths = end_pos[idx] - start_pos[idx] + 1
    step = max(1, chunk_cells // int(lengths.max()))
    for lo in range(0, len(idx), step):  # blocks of calls, not one call at a time
        c = idx[lo : lo + step]
        length = lengths[lo : lo + step]
        offs = np.arange(int(length.max()))
        inside = offs[None, :] < length[:, None]
        p = start_pos[c][:, None] + np.where(inside, offs[None, :], 0)
        fs = sym[c][:, None] * n_sess + p
        fb = bsym[c][:, None] * n_sess + p
        s = np.where(sa[fs] <= max_stale, sv[fs], np.nan)
        b = np.where(ba[fb] <= max_stale, bv[fb], np.nan)
        x = excess_pp(s / ent.stock[c][:, None] - b / ent.bench[c][:, None])
        ok = inside & reaches(
            x,
            called.lo[c][:, None],
            called.hi[c][:, None],
            called.lo_inc[c][:, None],
            called.hi_inc[c][:, None],
            called.direction[c][:, None],
            overshoot_is_hit,
        )
        any_ok = ok.any(axis=1)
        reached[c] = any_ok
        first[c] = np.where(any_ok, start_pos[c] + ok.argmax(axis=1), -1)
    return reached, first
