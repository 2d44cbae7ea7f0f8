"""Target prices: was the broker's target reached, when, and how far off was it?

Pure: the calls, wide price frames (split-adjusted closes, highs and lows) and
``as_of`` in, one row of figures per call out. No files, no clock. Every call
is computed at once; the only loop runs over blocks of calls, never one call.

Definitions (``docs/scoring.md`` has the full method and the anchors):

* **Entry**: the session and price of the call's entry convention
  (:mod:`tracker.scoring.entry`), on split-adjusted prices: a target is a price.
* **Direction**: +1 when the target is at or above the entry price, -1 below.
* **Window**: the sessions after the entry session up to and including the
  target horizon session: the first session on or after the entry session +
  12 calendar months (a scale may set another ``target_horizon_months``).
* **Met**: the first session in the window whose high reaches the target (its
  low, for direction -1); a target equal to the entry price is met at once, at
  the entry session. ``sessions_to_met`` counts HKEX sessions from the entry
  session (0). The same on closes gives ``met_on_close_session``.
* **High and low of a bar**: a bar is a session with a positive close; its high
  is at least its close and its low at most its close (a source without highs
  and lows, or with an inconsistent row, falls back to the close).
* **Best progress**: ``(best - entry) / (target - entry)``, best = the highest
  high in the window (lowest low for -1); >= 1 means met. Undefined when the
  target equals the entry price.
* **At the end** of the window (close on the horizon session, or the last bar
  at most ``max_stale_sessions`` before it): ``met_at_end`` (the close at or
  beyond the target), ``error_at_end = (close - target) / entry`` (signed),
  ``realised = close / entry - 1`` and ``optimism = implied_upside - realised``.
* **Last price**: the close on the ``as_of`` session (or the last bar at most
  ``max_stale_sessions`` before it), for the distance still to go.
* **Status**: ``matured`` once the horizon session is on or before ``as_of``
  and has a usable close; ``pending`` before (figures so far: a target met
  early is already met); ``no data`` with the reason otherwise (no entry, no
  bar at the end, or a target that is not comparable, see
  :mod:`tracker.scoring.currency`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.errors import ScoringInputError
from tracker.scoring.currency import comparable_targets
from tracker.scoring.entry import (
    DEFAULT_ENTRY,
    ENTRY_AWAITING,
    ENTRY_OK,
    entry_points,
    entry_sessions,
)
from tracker.scoring.grid import NAT, FilledPrices, check_frame, dates_text, months_after

#: Months a target has to be reached in, unless the scale says otherwise.
TARGET_HORIZON_MONTHS = 12
TARGET_MATURED = "matured"
TARGET_PENDING = "pending"
TARGET_NO_DATA = "no data"
TARGET_STATUSES: tuple[str, ...] = (TARGET_MATURED, TARGET_PENDING, TARGET_NO_DATA)

REQUIRED_COLUMNS: tuple[str, ...] = (
    "call_id",
    "ticker",
    "start_date",
    "target_price",
    "target_currency",
)

#: Columns of the frame :func:`target_figures` returns, in order.
TARGET_COLUMNS: tuple[str, ...] = (
    "call_id",
    "price",
    "currency",
    "compared_price",
    "fx_rate",
    "fx_date",
    "adr_ratio",
    "entry_session",
    "entry_price",
    "implied_upside",
    "direction",
    "horizon_months",
    "window_end_session",
    "met",
    "met_session",
    "sessions_to_met",
    "met_on_close_session",
    "sessions_to_met_on_close",
    "met_at_end",
    "best_price",
    "best_progress",
    "last_price",
    "end_price",
    "end_stale_sessions",
    "error_at_end",
    "realised",
    "optimism",
    "status",
    "reason",
)


@dataclass(frozen=True)
class _Bars:
    """Closes, highs and lows on the session grid, symbol-major (NaN where no bar)."""

    grid: pd.DatetimeIndex
    close: np.ndarray
    high: np.ndarray
    low: np.ndarray
    filled: FilledPrices

    def pos(self, dates: np.ndarray) -> np.ndarray:
        """Grid position of each date, -1 when it is not on the grid."""
        g = self.grid.values.astype("datetime64[ns]")
        if not len(g):
            return np.full(len(dates), -1, dtype=np.int64)
        p = np.searchsorted(g, dates, side="left")
        hit = (p < len(g)) & (g[np.minimum(p, len(g) - 1)] == dates)
        return np.where(hit, p, -1)


def _bars(close: pd.DataFrame, high, low, grid: pd.DatetimeIndex) -> _Bars:
    c_frame = close.reindex(grid)
    c = c_frame.to_numpy(dtype=float, na_value=np.nan).T
    with np.errstate(invalid="ignore"):
        bar = c > 0  # NaN and non-positive closes are no bar
    c = np.where(bar, c, np.nan)

    def side(frame: pd.DataFrame | None) -> np.ndarray:
        if frame is None:
            return np.full(c.shape, np.nan)
        v = frame.reindex(index=grid, columns=close.columns).to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            return np.where(v.T > 0, v.T, np.nan)

    with np.errstate(invalid="ignore"):
        h = np.where(bar, np.fmax(side(high), c), np.nan)
        lo = np.where(bar, np.fmin(side(low), c), np.nan)
    return _Bars(grid, c, h, lo, FilledPrices.build(c_frame))


def _cut(frame: pd.DataFrame | None, name: str, cutoff: pd.Timestamp) -> pd.DataFrame | None:
    frame = check_frame(name, frame)
    return None if frame is None else frame.loc[frame.index <= cutoff]


def target_figures(
    calls: pd.DataFrame,
    close: pd.DataFrame,
    high: pd.DataFrame | None = None,
    low: pd.DataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
    *,
    opens: pd.DataFrame | None = None,
    entry: str = DEFAULT_ENTRY,
    max_stale_sessions: int = 3,
    conversion: pd.DataFrame | None = None,
    chunk_cells: int = 4_000_000,
) -> pd.DataFrame:
    """The target figures of every call (see the module docstring for each one).

    Parameters
    ----------
    calls
        At least :data:`REQUIRED_COLUMNS`; ``target_horizon_months`` (optional)
        sets each call's target horizon (default 12).
    close, high, low
        Wide frames (index = session dates, columns = tickers) of
        split-adjusted closes, highs and lows, NaN where there is no bar. Not
        dividend-adjusted prices: a target is compared with traded prices.
        Without ``high``/``low`` the close stands in.
    as_of
        Cut-off date; no later price is read. Default: the last date of ``close``.
    opens
        Split-adjusted opens, needed only for ``entry="next-open"``.
    entry
        Entry convention (:data:`tracker.scoring.entry.ENTRY_CONVENTIONS`).
    max_stale_sessions
        How old the last bar may be to stand in for a missing one at the end.
    conversion
        :func:`tracker.scoring.currency.comparable_targets` of these calls;
        default: HKD targets only (others are not comparable).
    chunk_cells
        Bound on the call-sessions gathered at once (memory).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``, columns :data:`TARGET_COLUMNS`. A call without
        a target has ``status`` None and no figures. Fractions throughout
        (``0.05`` = 5 %), prices in HKD.

    Raises
    ------
    ScoringInputError
        Missing columns or malformed price frames.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in calls.columns]
    if missing:
        raise ScoringInputError(f"the calls frame lacks column(s): {', '.join(missing)}")
    close = check_frame("closes", close)
    cutoff = (
        pd.Timestamp(as_of).normalize()
        if as_of is not None
        else (close.index.max() if len(close.index) else None)
    )
    if cutoff is None:
        raise ScoringInputError("no closes at all: load prices first")
    close = close.loc[close.index <= cutoff]
    high, low = _cut(high, "highs", cutoff), _cut(low, "lows", cutoff)
    opens = _cut(opens, "opens", cutoff)
    as_of_session = sessions.previous_session_on_or_before(cutoff)
    first = close.index.min() if len(close.index) else as_of_session
    grid = sessions.sessions_between(min(first, as_of_session), as_of_session)
    bars = _bars(close, high, low, grid)
    if conversion is None:
        conversion = comparable_targets(calls, entry_sessions(calls["start_date"], entry))
    ent = entry_points(
        calls,
        close.reindex(grid),
        None if opens is None else opens.reindex(grid),
        entry,
        as_of=grid[-1] if len(grid) else None,
    )
    cut = np.datetime64(as_of_session, "ns")
    return _figures(calls, conversion, ent, bars, cut, max_stale_sessions, chunk_cells)


def _figures(calls, conv, ent, bars: _Bars, as_of_session, max_stale, chunk_cells):
    n = len(calls)
    price = pd.to_numeric(calls["target_price"], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(price) & (price > 0)
    target = conv["compared_price"].to_numpy(dtype=float)
    comparable = has & np.isfinite(target)
    status_e = ent["entry_status"].to_numpy(dtype=object)
    session = pd.DatetimeIndex(ent["entry_session"]).values.astype("datetime64[ns]")
    e_price = ent["entry_price"].to_numpy(dtype=float)
    ok = comparable & (status_e == ENTRY_OK)
    sym = pd.Index(bars.filled.symbols).get_indexer(calls["ticker"].to_numpy(dtype=object))
    e_pos = np.where(ok, bars.pos(session), -1)
    ok &= e_pos >= 0
    horizon = (
        pd.to_numeric(calls["target_horizon_months"], errors="coerce")
        .fillna(TARGET_HORIZON_MONTHS)
        .to_numpy(dtype=np.int64)
        if "target_horizon_months" in calls.columns
        else np.full(n, TARGET_HORIZON_MONTHS, dtype=np.int64)
    )
    end_session = np.full(n, NAT)
    dated = has & ~pd.isna(session)
    if dated.any():
        end_session[dated] = months_after(session[dated], horizon[dated])
    over = ok & (end_session <= as_of_session)
    last_pos = np.where(ok, bars.pos(np.minimum(end_session, as_of_session)), -1)

    with np.errstate(invalid="ignore", divide="ignore"):
        direction = np.where(target >= e_price, 1, -1)
        implied = target / e_price - 1.0
    direction = np.where(ok, direction, 0)
    scan = _scan(bars, ok, sym, e_pos, last_pos, target, direction, chunk_cells)
    at_once = ok & (target == e_price)  # the entry price is already at the target
    for key in ("met_pos", "close_pos"):
        scan[key][at_once] = e_pos[at_once]

    now = np.where(ok, bars.pos(np.full(n, as_of_session)), -1)
    last_price, _ = bars.filled.at(np.where(ok, sym, -1), now, max_stale)
    end_pos = np.where(over, bars.pos(end_session), -1)
    end_price, end_age = bars.filled.at(np.where(over, sym, -1), end_pos, max_stale)
    ended = over & ~np.isnan(end_price)
    with np.errstate(invalid="ignore", divide="ignore"):
        progress = (scan["best"] - e_price) / (target - e_price)
        error = (end_price - target) / e_price
        realised = end_price / e_price - 1.0
        at_end = np.where(direction > 0, end_price >= target, end_price <= target)
    progress[at_once] = np.nan

    def grid_date(p: np.ndarray) -> np.ndarray:
        if not len(bars.grid):
            return np.full(n, NAT)
        return np.where(p >= 0, bars.grid.values.astype("datetime64[ns]")[np.maximum(p, 0)], NAT)

    met = pd.array(np.where(scan["met_pos"] >= 0, True, False), dtype="boolean")
    met[~ok | ((scan["met_pos"] < 0) & ~over)] = pd.NA
    status, reason = _status(has, comparable, conv, ent, ok, over, ended, end_session, max_stale)
    out = pd.DataFrame(
        {
            "call_id": calls["call_id"].to_numpy(dtype=object),
            "price": np.where(has, price, np.nan),
            "currency": np.where(has, calls["target_currency"].to_numpy(dtype=object), None),
            "compared_price": np.where(comparable, target, np.nan),
            "fx_rate": conv["fx_rate"].to_numpy(dtype=float),
            "fx_date": pd.DatetimeIndex(conv["fx_date"]),
            "adr_ratio": conv["adr_ratio"].to_numpy(dtype=float),
            "entry_session": pd.DatetimeIndex(np.where(ok, session, NAT)),
            "entry_price": np.where(ok, e_price, np.nan),
            "implied_upside": np.where(ok, implied, np.nan),
            "direction": pd.array(np.where(ok, direction, 0), dtype="Int64"),
            "horizon_months": pd.array(horizon, dtype="Int64"),
            "window_end_session": pd.DatetimeIndex(np.where(dated, end_session, NAT)),
            "met": met,
            "met_session": pd.DatetimeIndex(grid_date(scan["met_pos"])),
            "sessions_to_met": _count(scan["met_pos"], e_pos),
            "met_on_close_session": pd.DatetimeIndex(grid_date(scan["close_pos"])),
            "sessions_to_met_on_close": _count(scan["close_pos"], e_pos),
            "met_at_end": _bool(at_end, ended),
            "best_price": np.where(ok, scan["best"], np.nan),
            "best_progress": np.where(ok, progress, np.nan),
            "last_price": last_price,
            "end_price": np.where(ended, end_price, np.nan),
            "end_stale_sessions": _int(end_age, ended),
            "error_at_end": np.where(ended, error, np.nan),
            "realised": np.where(ended, realised, np.nan),
            "optimism": np.where(ended, implied - realised, np.nan),
            "status": status,
            "reason": reason,
        },
        index=calls.index,
    )
    out.loc[~ok, "direction"] = pd.NA
    out.loc[~has, "horizon_months"] = pd.NA
    return out


def _count(p: np.ndarray, e_pos: np.ndarray) -> pd.array:
    out = pd.array(p - e_pos, dtype="Int64")
    out[p < 0] = pd.NA
    return out


def _bool(values: np.ndarray, keep: np.ndarray) -> pd.array:
    out = pd.array(values.astype(bool), dtype="boolean")
    out[~keep] = pd.NA
    return out


def _int(values: np.ndarray, keep: np.ndarray) -> pd.array:
    out = pd.array(np.where(keep, values, 0).astype(np.int64), dtype="Int64")
    out[~keep] = pd.NA
    return out


def _status(has, comparable, conv, ent, ok, over, ended, end_session, max_stale):
    """Status and reason of each call with a target (None for calls without one)."""
    n = len(has)
    status = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    status_e = ent["entry_status"].to_numpy(dtype=object)
    why_e = ent["entry_reason"].to_numpy(dtype=object)
    note = conv["currency_note"].to_numpy(dtype=object)
    no_fx = has & ~comparable
    status[no_fx], reason[no_fx] = TARGET_NO_DATA, note[no_fx]
    waiting = comparable & (status_e == ENTRY_AWAITING)
    status[waiting], reason[waiting] = TARGET_PENDING, why_e[waiting]
    no_entry = comparable & ~ok & ~waiting
    status[no_entry] = TARGET_NO_DATA
    reason[no_entry] = np.where(why_e[no_entry] == "", "no entry price", why_e[no_entry])
    status[ok & ~over] = TARGET_PENDING
    status[ended] = TARGET_MATURED
    gap = over & ~ended
    status[gap] = TARGET_NO_DATA
    reason[gap] = f"no bar for the stock within {max_stale} sessions of " + dates_text(
        end_session[gap]
    )
    return status, reason


def _scan(bars: _Bars, ok, sym, e_pos, last_pos, target, direction, chunk_cells) -> dict:
    """First session reaching the target (high/low and close) and the best price, per call.

    The window of each call (grid rows ``e_pos + 1 .. last_pos``) is gathered
    from the symbol-major arrays for a block of calls at a time.
    """
    n = len(ok)
    met_pos = np.full(n, -1, dtype=np.int64)
    close_pos = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.nan)
    idx = np.flatnonzero(ok & (sym >= 0) & (last_pos > e_pos))
    if not len(idx):
        return {"met_pos": met_pos, "close_pos": close_pos, "best": best}
    n_sess = bars.close.shape[1]
    c_all, h_all, l_all = bars.close.ravel(), bars.high.ravel(), bars.low.ravel()
    start = e_pos[idx] + 1
    lengths = last_pos[idx] - start + 1
    step = max(1, chunk_cells // int(lengths.max()))
    for lo in range(0, len(idx), step):  # blocks of calls, not one call at a time
        c = idx[lo : lo + step]
        s0, length = start[lo : lo + step], lengths[lo : lo + step]
        offs = np.arange(int(length.max()))
        inside = offs[None, :] < length[:, None]
        flat = sym[c][:, None] * n_sess + s0[:, None] + np.where(inside, offs[None, :], 0)
        up = (direction[c] > 0)[:, None]
        t = target[c][:, None]
        h, lw, cl = h_all[flat], l_all[flat], c_all[flat]
        with np.errstate(invalid="ignore"):
            reach = inside & np.where(up, h >= t, lw <= t)
            reach_c = inside & np.where(up, cl >= t, cl <= t)
        extreme = np.where(up, np.where(inside, h, np.nan), -np.where(inside, lw, np.nan))
        seen = ~np.isnan(extreme).all(axis=1)
        top = np.full(len(c), np.nan)
        if seen.any():
            top[seen] = np.nanmax(extreme[seen], axis=1)
        best[c] = np.where(up[:, 0], top, -top)
        for out, mask in ((met_pos, reach), (close_pos, reach_c)):
            any_ = mask.any(axis=1)
            out[c] = np.where(any_, s0 + mask.argmax(axis=1), -1)
    return {"met_pos": met_pos, "close_pos": close_pos, "best": best}
