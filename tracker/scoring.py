"""Scoring every call against its benchmark by the report's own thresholds.

Pure core: calls frame + wide price frames + rating scales + ``as_of`` in,
per-call and per-checkpoint frames out. No files, no clock, no network.
Everything is vectorised over all calls at once; the only Python loops run
over the handful of checkpoints, scales and ratings, never over calls.

Conventions (see ``docs/scoring.md`` for the full method):

* **Entry**: :mod:`tracker.entry` (default ``next-close``: the close of the
  first HKEX session after the day the call could be acted on).
* **Checkpoints**: the first session on or after the entry session + 1, 3, 6
  and 12 calendar months (:func:`tracker.sessions.sessions_months_after`),
  plus the verdict horizon when a scale uses another length, plus ``latest``
  (the last session on or before ``as_of``) for calls whose window is open.
* **Returns** are fractions (``0.05`` = 5 %): ``stock_return = P_t / P_entry - 1``,
  the same for the benchmark from the same entry session, and
  ``excess = stock_return - benchmark_return``. The scales' bands are in
  percentage points, so ``excess * 100`` is compared with them, rounded to
  :data:`EXCESS_ROUND_PP` decimals first so that float noise cannot move a
  value off a threshold (0.15 - 0.10 is 0.04999999999999999 in binary).
* **Staleness**: a checkpoint session where the stock or the benchmark has no
  bar uses the last bar before it when that bar is at most
  ``max_stale_sessions`` sessions old (status ``stale: N sessions``);
  otherwise the checkpoint is ``no data``. Prices that are NaN or not
  positive count as no bar. The entry price itself is never stale.
* **Verdict** at the horizon (the scale's ``horizon_months``; the upper end of
  a range such as 6–12): ``hit`` when the excess reaches the called band,
  ``right direction`` when its sign agrees with the call but the band is not
  reached, ``miss`` otherwise. A positive call (a band at or above zero:
  buy, overweight, attention) that does *better* than its band is a hit, a
  negative one (underweight, sell) that does worse is a hit
  (``overshoot_is_hit=True``); neutral is a hit only inside its band. For a
  range horizon the result also says whether the band was reached at any
  session of the range (``window_hit``).
* **Open windows**: ``pending`` (no interim excess yet: awaiting entry, or no
  recent bar), ``on track`` (the latest excess would be a hit) or ``off
  track``, with ``sessions_remaining`` to the horizon session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.constants import RATINGS_DESCENDING
from tracker.entry import DEFAULT_ENTRY, ENTRY_AWAITING, ENTRY_OK, entry_field, entry_points
from tracker.errors import DataUnavailable, TrackerError
from tracker.models import Band, RatingScale

#: The fixed checkpoints, in calendar months after the entry session.
CHECKPOINT_MONTHS: tuple[int, ...] = (1, 3, 6, 12)
#: Label of the interim checkpoint of an open call.
LATEST = "latest"
#: How many sessions old a bar may be and still stand in for a missing one.
DEFAULT_MAX_STALE_SESSIONS = 3
#: Excess in percentage points is rounded to this many decimals before it is
#: compared with a band edge.
EXCESS_ROUND_PP = 9

# Checkpoint statuses ("stale: N sessions" in between).
CHECK_OK = "ok"
CHECK_NO_DATA = "no data"
CHECK_PENDING = "pending"

# Call statuses and verdicts.
STATUS_MATURED = "matured"
STATUS_OPEN = "open"
STATUS_NO_DATA = "no data"
HIT = "hit"
RIGHT_DIRECTION = "right direction"
MISS = "miss"
PENDING = "pending"
ON_TRACK = "on track"
OFF_TRACK = "off track"
NO_DATA = "no data"
VERDICTS: tuple[str, ...] = (HIT, RIGHT_DIRECTION, MISS, PENDING, ON_TRACK, OFF_TRACK, NO_DATA)
STATUSES: tuple[str, ...] = (STATUS_MATURED, STATUS_OPEN, STATUS_NO_DATA)

REQUIRED_CALL_COLUMNS: tuple[str, ...] = (
    "call_id", "ticker", "rating", "scale", "start_date", "horizon_min_months", "horizon_max_months",
)  # fmt: skip

_NEVER = np.iinfo(np.int32).max // 2


class ScoringInputError(TrackerError):
    """The calls or prices handed to the scorer are not usable as given."""


def stale_label(n: int) -> str:
    """``"stale: 1 session"``, ``"stale: 2 sessions"``..."""
    return f"stale: {n} session{'s' if n != 1 else ''}"


def checkpoint_label(months: int) -> str:
    return f"{months}M"


# --------------------------------------------------------------------------- panels


@dataclass(frozen=True)
class _Filled:
    """A price frame on the session grid, symbol-major, forward-filled with bar ages.

    ``values[s, t]`` is the last bar of symbol ``s`` at or before session ``t``
    and ``age[s, t]`` how many sessions old it is (0 = a bar that session,
    ``_NEVER`` = no bar yet).
    """

    symbols: pd.Index
    values: np.ndarray
    age: np.ndarray

    @classmethod
    def build(cls, frame: pd.DataFrame) -> _Filled:
        raw = np.ascontiguousarray(frame.to_numpy(dtype=float, na_value=np.nan).T)
        n_sess = raw.shape[1]
        with np.errstate(invalid="ignore"):
            valid = raw > 0  # NaN and non-positive prices are no bar
        steps = np.arange(n_sess, dtype=np.int32)
        last = np.where(valid, steps[None, :], np.int32(-1))
        np.maximum.accumulate(last, axis=1, out=last)
        age = steps[None, :] - last
        age[last < 0] = _NEVER
        values = np.take_along_axis(raw, np.maximum(last, 0), axis=1)
        values[last < 0] = np.nan
        return cls(frame.columns, values, age)

    def at(self, sym: np.ndarray, pos: np.ndarray, max_stale: int) -> tuple[np.ndarray, np.ndarray]:
        """Price (NaN when no bar within ``max_stale`` sessions) and bar age, per (sym, pos).

        ``sym`` or ``pos`` equal to -1 means "not available" (NaN, age ``_NEVER``).
        """
        ok = (sym >= 0) & (pos >= 0)
        s = np.where(ok, sym, 0)
        p = np.where(ok, pos, 0)
        if self.values.size == 0:
            return np.full(len(sym), np.nan), np.full(len(sym), _NEVER, dtype=np.int32)
        age = np.where(ok, self.age[s, p], _NEVER)
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


# --------------------------------------------------------------------------- bands


def _edges(band: Band) -> tuple[float, float, bool, bool]:
    lo = -np.inf if band.lower_pp is None else float(band.lower_pp)
    hi = np.inf if band.upper_pp is None else float(band.upper_pp)
    return lo, hi, band.lower_inclusive, band.upper_inclusive


def band_direction(band: Band) -> int:
    """+1 for a band at or above zero (a positive call), -1 at or below zero, 0 across zero."""
    if band.lower_pp is not None and band.lower_pp >= 0:
        return 1
    if band.upper_pp is not None and band.upper_pp <= 0:
        return -1
    return 0


def band_text(band: Band) -> str:
    """Interval notation in percentage points, e.g. ``[5, 15)``, ``(0, inf)``."""
    lo, hi, lo_inc, hi_inc = _edges(band)
    left = "[" if lo_inc and np.isfinite(lo) else "("
    right = "]" if hi_inc and np.isfinite(hi) else ")"
    return f"{left}{_num(lo)}, {_num(hi)}{right}"


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def excess_pp(excess: np.ndarray) -> np.ndarray:
    """Excess fractions as percentage points, rounded for comparison with band edges."""
    return np.round(np.asarray(excess, dtype=float) * 100.0, EXCESS_ROUND_PP)


def reaches(
    x_pp: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    lo_inc: np.ndarray,
    hi_inc: np.ndarray,
    direction: np.ndarray,
    overshoot_is_hit: bool = True,
) -> np.ndarray:
    """Whether each excess (pp) reaches its called band (broadcasting).

    NaN never reaches. With ``overshoot_is_hit`` a positive call needs only
    the lower edge, a negative one only the upper edge.
    """
    with np.errstate(invalid="ignore"):
        above = (x_pp > lo) | (lo_inc & (x_pp == lo))
        below = (x_pp < hi) | (hi_inc & (x_pp == hi))
    inside = above & below
    if not overshoot_is_hit:
        return inside
    return np.where(direction > 0, above, np.where(direction < 0, below, inside))


def realised_band_codes(x_pp: np.ndarray, scale: RatingScale) -> np.ndarray:
    """Index into :data:`RATINGS_DESCENDING` of the company band each excess falls in (-1: NaN)."""
    bands = sorted(scale.company.bands, key=lambda b: -np.inf if b.lower_pp is None else b.lower_pp)
    code_of = np.array([RATINGS_DESCENDING.index(b.rating) for b in bands])
    k = np.zeros(len(x_pp), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for band in bands[1:]:
            lo, _, lo_inc, _ = _edges(band)
            k += (x_pp > lo) | (lo_inc & (x_pp == lo))
    out = code_of[k]
    out[np.isnan(x_pp)] = -1
    return out


@dataclass(frozen=True)
class _CalledBands:
    lo: np.ndarray
    hi: np.ndarray
    lo_inc: np.ndarray
    hi_inc: np.ndarray
    direction: np.ndarray
    text: np.ndarray


def _called_bands(calls: pd.DataFrame, scales: dict[str, RatingScale]) -> _CalledBands:
    scale_codes, scale_uniq = pd.factorize(calls["scale"].to_numpy(dtype=object))
    rating_codes, rating_uniq = pd.factorize(calls["rating"].to_numpy(dtype=object))
    codes, pairs = pd.factorize(scale_codes * max(1, len(rating_uniq)) + rating_codes)
    rows = []
    for pair in pairs:
        scale_id = scale_uniq[pair // max(1, len(rating_uniq))]
        rating = rating_uniq[pair % max(1, len(rating_uniq))]
        scale = scales.get(scale_id)
        if scale is None:
            known = ", ".join(sorted(scales)) or "none"
            raise ScoringInputError(f"unknown scale {scale_id!r}; known scales: {known}")
        try:
            band = scale.band(rating)
        except KeyError:
            raise ScoringInputError(f"scale {scale_id!r} has no rating {rating!r}") from None
        rows.append((*_edges(band), band_direction(band), band_text(band)))
    if not rows:
        empty = np.array([], dtype=float)
        return _CalledBands(empty, empty, empty.astype(bool), empty.astype(bool),
                            empty.astype(int), empty.astype(object))  # fmt: skip
    table = list(zip(*rows, strict=True))
    take = np.asarray(codes)
    return _CalledBands(
        lo=np.array(table[0], dtype=float)[take],
        hi=np.array(table[1], dtype=float)[take],
        lo_inc=np.array(table[2], dtype=bool)[take],
        hi_inc=np.array(table[3], dtype=bool)[take],
        direction=np.array(table[4], dtype=np.int8)[take],
        text=np.array(table[5], dtype=object)[take],
    )


def _realised(x_pp: np.ndarray, scale_ids: np.ndarray, scales: dict[str, RatingScale]) -> np.ndarray:
    codes = np.full(len(x_pp), -1, dtype=np.int64)
    for scale_id in pd.unique(scale_ids):
        mask = scale_ids == scale_id
        codes[mask] = realised_band_codes(x_pp[mask], scales[scale_id])
    return codes


def _band_cat(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(RATINGS_DESCENDING))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Scores:
    """The result of :func:`score_calls`.

    Attributes
    ----------
    calls
        One row per call (the input columns plus the score columns listed in
        ``docs/scoring.md``), in input order, without calls started after ``as_of``.
    checkpoints
        One row per call and checkpoint (``1M``, ``3M``, ``6M``, ``12M``, a
        non-standard horizon such as ``9M``, and ``latest`` for open calls):
        ``call_id``, ``checkpoint``, ``months``, ``session``, ``stock_price``,
        ``benchmark_price``, ``stock_return``, ``benchmark_return``,
        ``excess`` (fractions), ``band``, ``status``, ``stale_sessions``.
    as_of_session
        The last session on or before ``as_of``: no later price was used.
    """

    calls: pd.DataFrame
    checkpoints: pd.DataFrame
    as_of: pd.Timestamp
    as_of_session: pd.Timestamp
    entry: str
    max_stale_sessions: int
    overshoot_is_hit: bool
    grid: pd.DatetimeIndex = field(repr=False)
    _stock: _Filled = field(repr=False)
    _bench: _Filled = field(repr=False)

    @cached_property
    def stock_returns(self) -> pd.DataFrame:
        """Session returns of every stock on the grid (fractions; NaN without a usable bar)."""
        return self._stock.returns(self.grid, self.max_stale_sessions)

    @cached_property
    def benchmark_returns(self) -> pd.DataFrame:
        """Session returns of every benchmark on the grid."""
        return self._bench.returns(self.grid, self.max_stale_sessions)


# --------------------------------------------------------------------------- core

_NAT = np.datetime64("NaT", "ns")


def _months_after(entry: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """First session on or after each entry session + ``months`` calendar months.

    Computed once per distinct (session, months) pair: a few thousand at most.
    """
    months = np.broadcast_to(np.asarray(months, dtype=np.int64), entry.shape)
    out = np.full(entry.shape, _NAT, dtype="datetime64[ns]")
    for m in np.unique(months):
        mask = months == m
        uniq, inverse = np.unique(entry[mask], return_inverse=True)
        shifted = sessions.sessions_months_after(pd.DatetimeIndex(uniq), int(m))
        out[mask] = shifted.values.astype("datetime64[ns]")[inverse.ravel()]
    return out


def _calendar_positions(dates: np.ndarray) -> np.ndarray:
    uniq, inverse = np.unique(dates, return_inverse=True)
    return sessions.session_positions(pd.DatetimeIndex(uniq))[inverse.ravel()]


def _check_frame(name: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ScoringInputError(f"{name}: the index must hold dates (a DatetimeIndex)")
    if frame.index.tz is not None:
        frame = frame.tz_localize(None)
    if frame.index.has_duplicates:
        dupe = frame.index[frame.index.duplicated()][0]
        raise ScoringInputError(f"{name}: date {dupe.date()} appears twice; keep one bar per session")
    return frame if frame.index.is_monotonic_increasing else frame.sort_index()


def _dates_text(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(values).strftime("%Y-%m-%d"), dtype=object)


@dataclass(frozen=True)
class _Market:
    """Prices cut at ``as_of`` and laid on the HKEX session grid."""

    grid: pd.DatetimeIndex
    stock_frame: pd.DataFrame
    opens_frame: pd.DataFrame | None
    stock: _Filled
    bench: _Filled
    bench_open: _Filled | None
    as_of_session: np.datetime64

    @classmethod
    def build(cls, closes, bench, opens, bench_opens, cutoff: pd.Timestamp) -> _Market:
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
            stock=_Filled.build(stock_frame),
            bench=_Filled.build(bench_frame),
            bench_open=None if bopen is None else _Filled.build(bopen.reindex(columns=bench.columns)),
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


@dataclass(frozen=True)
class _Entry:
    session: np.ndarray
    pos: np.ndarray
    stock: np.ndarray
    bench: np.ndarray
    bench_age: np.ndarray
    ok: np.ndarray
    awaiting: np.ndarray
    reason: np.ndarray


def _enter(calls, mkt: _Market, sym, bsym, entry: str, max_stale: int) -> _Entry:
    """Entry session and prices; the benchmark base may be stale, the stock's may not."""
    ent = entry_points(calls, mkt.stock_frame, mkt.opens_frame, entry, as_of=mkt.grid[-1] if len(mkt.grid) else None)
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
        + _dates_text(session[no_bench])
    )
    ok = ok & ~no_bench
    return _Entry(
        session=session,
        pos=np.where(ok, pos, -1),
        stock=np.where(ok, ent["entry_price"].to_numpy(dtype=float), np.nan),
        bench=np.where(ok, bench0, np.nan),
        bench_age=np.where(ok, bench_age, -1),
        ok=ok,
        awaiting=awaiting,
        reason=reason,
    )


def _status_categories(max_stale: int) -> list[str]:
    return [CHECK_OK, *(stale_label(k) for k in range(1, max_stale + 1)), CHECK_NO_DATA, CHECK_PENDING]


def _measure(mkt: _Market, ent: _Entry, sym, bsym, at: np.ndarray, max_stale: int) -> dict:
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
    # Status codes index _status_categories: 0 ok, k stale k sessions, then no data, pending.
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


def _window_hits(
    active: np.ndarray,
    start_pos: np.ndarray,
    end_pos: np.ndarray,
    sym: np.ndarray,
    bsym: np.ndarray,
    mkt: _Market,
    ent: _Entry,
    called: _CalledBands,
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
            x, called.lo[c][:, None], called.hi[c][:, None], called.lo_inc[c][:, None],
            called.hi_inc[c][:, None], called.direction[c][:, None], overshoot_is_hit,
        )  # fmt: skip
        any_ok = ok.any(axis=1)
        reached[c] = any_ok
        first[c] = np.where(any_ok, start_pos[c] + ok.argmax(axis=1), -1)
    return reached, first


def _prepare_benchmark(calls, benchmark, benchmark_opens, scales):
    """Benchmark levels as a frame and the benchmark column each call uses."""
    if isinstance(benchmark, pd.Series):
        name = str(benchmark.name) if benchmark.name is not None else "benchmark"
        frame = benchmark.to_frame(name)
        if isinstance(benchmark_opens, pd.Series):
            benchmark_opens = benchmark_opens.to_frame(name)
        return frame, benchmark_opens, np.full(len(calls), name, dtype=object)
    if "benchmark" in calls.columns:
        of = calls["benchmark"].to_numpy(dtype=object)
    else:
        default = {k: s.benchmark("HK") for k, s in scales.items()}
        of = calls["scale"].map(default).to_numpy(dtype=object)
    if isinstance(benchmark_opens, pd.Series):
        benchmark_opens = benchmark_opens.to_frame(str(benchmark_opens.name))
    return benchmark, benchmark_opens, of


def score_calls(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    benchmark: pd.Series | pd.DataFrame,
    scales: dict[str, RatingScale],
    as_of: pd.Timestamp | str | None = None,
    *,
    opens: pd.DataFrame | None = None,
    benchmark_opens: pd.Series | pd.DataFrame | None = None,
    entry: str = DEFAULT_ENTRY,
    max_stale_sessions: int = DEFAULT_MAX_STALE_SESSIONS,
    overshoot_is_hit: bool = True,
) -> Scores:
    """Score every call: entry, checkpoints, realised band, verdict.

    Parameters
    ----------
    calls
        The calls frame of :func:`tracker.recs.calls_frame` (at least
        :data:`REQUIRED_CALL_COLUMNS`). An optional ``benchmark`` column names
        each call's column in ``benchmark`` when that is a frame.
    closes
        Wide frame of stock prices on the chosen basis (closes, or
        dividend-adjusted closes): index = session dates, columns = tickers,
        NaN where there is no bar. Only ratios count, so the currency does not.
    benchmark
        A Series (one benchmark for every call) or a wide frame of benchmark
        levels; with a frame, each call uses the column named in its
        ``benchmark`` value, else its scale's HK benchmark (``^HSI``).
    scales
        ``{scale id: RatingScale}``; every call's ``scale`` must be in it.
    as_of
        Cut-off date. Calls whose ``start_date`` is after it are dropped, and
        prices after it are removed before anything is computed. Default: the
        last date of the prices.
    opens, benchmark_opens
        Opening prices on the same basis, needed only for ``entry="next-open"``.
    entry
        Entry convention (:data:`tracker.entry.ENTRY_CONVENTIONS`).
    max_stale_sessions
        How many sessions old a bar may be and still stand in for a missing
        one at a checkpoint (and for the benchmark at entry).
    overshoot_is_hit
        Whether a positive call beating its band (or a negative one falling
        below it) is a hit. Default True.

    Returns
    -------
    Scores

    Raises
    ------
    ScoringInputError
        Missing columns, unknown scale or rating, malformed price frames.
    DataUnavailable
        No prices at all for a benchmark that a call needs.
    """
    missing_cols = [c for c in REQUIRED_CALL_COLUMNS if c not in calls.columns]
    if missing_cols:
        raise ScoringInputError(f"the calls frame lacks column(s): {', '.join(missing_cols)}")
    if max_stale_sessions < 0:
        raise ScoringInputError(f"max_stale_sessions={max_stale_sessions} must be 0 or more")
    if entry_field(entry) == "open" and (opens is None or benchmark_opens is None):
        raise ScoringInputError("entry 'next-open' needs opening prices of the stocks and benchmark")
    bench, benchmark_opens, bench_of = _prepare_benchmark(calls, benchmark, benchmark_opens, scales)
    closes = _check_frame("stock prices", closes)
    bench = _check_frame("benchmark prices", bench)
    opens = _check_frame("opening prices", opens)
    benchmark_opens = _check_frame("benchmark opening prices", benchmark_opens)

    # as_of first: later calls do not exist, later prices are never looked at.
    if as_of is None:
        lasts = [f.index.max() for f in (closes, bench) if len(f.index)]
        if not lasts:
            raise DataUnavailable("no prices at all: load prices first")
        cutoff = max(lasts).normalize()
    else:
        cutoff = pd.Timestamp(as_of).normalize()
    keep = np.asarray(pd.DatetimeIndex(calls["start_date"]) <= cutoff)
    calls, bench_of = calls.loc[keep], bench_of[keep]
    closes, bench = closes.loc[closes.index <= cutoff], bench.loc[bench.index <= cutoff]
    if opens is not None:
        opens = opens.loc[opens.index <= cutoff]
    if benchmark_opens is not None:
        benchmark_opens = benchmark_opens.loc[benchmark_opens.index <= cutoff]
    missing = sorted(set(bench_of) - set(map(str, bench.columns)))
    if missing:
        raise DataUnavailable(f"no prices for the benchmark {', '.join(missing)}: load its prices first")
    if len(calls):
        empty = sorted(b for b in set(bench_of) if not (bench[b] > 0).any())
        if empty:
            raise DataUnavailable(
                f"no prices for the benchmark {', '.join(empty)} on or before {cutoff.date()}:"
                " load its prices first"
            )

    called = _called_bands(calls, scales)
    mkt = _Market.build(closes, bench, opens, benchmark_opens, cutoff)
    sym = mkt.stock.symbols.get_indexer(calls["ticker"].to_numpy(dtype=object))
    bsym = mkt.bench.symbols.get_indexer(bench_of)
    ent = _enter(calls, mkt, sym, bsym, entry, max_stale_sessions)
    hmin = calls["horizon_min_months"].to_numpy(dtype=np.int64)
    hmax = calls["horizon_max_months"].to_numpy(dtype=np.int64)

    # Checkpoints: a loop over the few distinct month counts, vectorised over calls.
    months = sorted(set(CHECKPOINT_MONTHS) | set(np.unique(hmax).tolist()))
    at_month = {
        m: _measure(mkt, ent, sym, bsym, _months_after(ent.session, m), max_stale_sessions)
        for m in months
    }
    horizon = {k: _pick(at_month, hmax, k) for k in at_month[months[0]]}
    latest = _measure(
        mkt, ent, sym, bsym, np.full(len(calls), mkt.as_of_session), max_stale_sessions
    )
    window_start = _months_after(ent.session, hmin)
    ranged = (hmin < hmax) & ent.ok & (window_start <= mkt.as_of_session)
    reached, first = _window_hits(
        ranged, mkt.pos(np.minimum(window_start, mkt.as_of_session)),
        mkt.pos(np.minimum(horizon["session"], mkt.as_of_session)),
        sym, bsym, mkt, ent, called, overshoot_is_hit, max_stale_sessions,
    )  # fmt: skip

    out = _calls_result(
        calls, bench_of, entry, ent, mkt, called, scales, hmin, hmax, horizon, latest,
        window_start, ranged, reached, first, overshoot_is_hit, max_stale_sessions,
    )  # fmt: skip
    open_ = (out["status"] == STATUS_OPEN).to_numpy()
    checkpoints = _checkpoint_frame(
        calls, at_month, latest, open_, hmax, scales, max_stale_sessions
    )
    return Scores(
        calls=out,
        checkpoints=checkpoints,
        as_of=cutoff,
        as_of_session=pd.Timestamp(mkt.as_of_session),
        entry=entry,
        max_stale_sessions=max_stale_sessions,
        overshoot_is_hit=overshoot_is_hit,
        grid=mkt.grid,
        _stock=mkt.stock,
        _bench=mkt.bench,
    )


def _pick(at_month: dict[int, dict], months: np.ndarray, key: str) -> np.ndarray:
    """Per call, ``at_month[months[i]][key][i]``."""
    first = next(iter(at_month.values()))[key]
    out = np.empty_like(first)
    for m in np.unique(months):
        mask = months == m
        out[mask] = at_month[int(m)][key][mask]
    return out


def _calls_result(
    calls, bench_of, entry, ent, mkt, called, scales, hmin, hmax, horizon, latest,
    window_start, ranged, reached, first, overshoot_is_hit, max_stale,
) -> pd.DataFrame:  # fmt: skip
    """The per-call frame: status, verdict, headline figures and reasons."""
    n = len(calls)
    matured = horizon["session"] <= mkt.as_of_session
    no_entry = ~ent.ok & ~ent.awaiting
    status = np.where(no_entry, STATUS_NO_DATA, np.where(matured, STATUS_MATURED, STATUS_OPEN))
    at_h, at_l = status == STATUS_MATURED, status == STATUS_OPEN

    def head(key: str) -> np.ndarray:
        fill = _NAT if key == "session" else np.nan
        return np.where(at_h, horizon[key], np.where(at_l, latest[key], fill))

    x = head("excess").astype(float)
    x_pp = excess_pp(x)
    hit = reaches(x_pp, called.lo, called.hi, called.lo_inc, called.hi_inc, called.direction,
                  overshoot_is_hit)  # fmt: skip
    with np.errstate(invalid="ignore"):
        right = called.direction * x_pp > 0
    have = ~np.isnan(x)
    verdict = np.full(n, NO_DATA, dtype=object)
    verdict[at_h & have] = np.where(hit, HIT, np.where(right, RIGHT_DIRECTION, MISS))[at_h & have]
    verdict[at_l] = PENDING
    verdict[at_l & have] = np.where(hit, ON_TRACK, OFF_TRACK)[at_l & have]

    reason = np.where(no_entry | ent.awaiting, ent.reason, "").astype(object)
    gap = (at_h | (at_l & ~ent.awaiting)) & ~have
    if gap.any():
        smiss = np.where(at_h, horizon["stock_missing"], latest["stock_missing"])[gap]
        bmiss = np.where(at_h, horizon["bench_missing"], latest["bench_missing"])[gap]
        who = np.where(smiss & bmiss, "the stock and the benchmark",
                       np.where(smiss, "the stock", "the benchmark")).astype(object)  # fmt: skip
        reason[gap] = (
            "no bar for " + who + f" within {max_stale} sessions of " + _dates_text(head("session")[gap])
        )

    remaining = pd.array(np.zeros(n, dtype=np.int64), dtype="Int64")
    remaining[~at_l] = pd.NA
    if at_l.any():
        now = _calendar_positions(np.array([mkt.as_of_session]))[0]
        remaining[at_l] = _calendar_positions(horizon["session"][at_l]) - now
    window_hit = pd.array(reached, dtype="boolean")
    window_hit[~ranged] = pd.NA
    first_session = np.full(n, _NAT)
    if len(mkt.grid):
        first_session = np.where(first >= 0, mkt.grid_ns[np.maximum(first, 0)], _NAT)
    bench_age = pd.array(ent.bench_age, dtype="Int64")
    bench_age[~ent.ok] = pd.NA
    horizon_text = np.where(
        hmin == hmax, hmax.astype(str) + "M", hmin.astype(str) + "-" + hmax.astype(str) + "M"
    )
    realised = _realised(x_pp, calls["scale"].to_numpy(dtype=object), scales)

    out = calls.copy()
    new = {
        "benchmark": bench_of,
        "entry_convention": entry,
        "entry_session": pd.DatetimeIndex(ent.session),
        "entry_price": ent.stock,
        "benchmark_entry_price": ent.bench,
        "benchmark_entry_stale_sessions": bench_age,
        "direction": called.direction.astype(np.int64),
        "called_band": called.text,
        "called_lower": np.where(np.isfinite(called.lo), called.lo / 100.0, np.nan),
        "called_upper": np.where(np.isfinite(called.hi), called.hi / 100.0, np.nan),
        "horizon": horizon_text.astype(object),
        "horizon_session": pd.DatetimeIndex(horizon["session"]),
        "status": pd.Categorical(status, categories=list(STATUSES)),
        "verdict": pd.Categorical(verdict, categories=list(VERDICTS)),
        "reason": reason,
        "verdict_session": pd.DatetimeIndex(head("session")),
        "stock_return": head("stock_return").astype(float),
        "benchmark_return": head("benchmark_return").astype(float),
        "excess": x,
        "realised_band": _band_cat(realised),
        "window_start_session": pd.DatetimeIndex(np.where(hmin < hmax, window_start, _NAT)),
        "window_hit": window_hit,
        "window_first_session": pd.DatetimeIndex(first_session),
        "sessions_remaining": remaining,
    }
    for key, values in new.items():
        out[key] = values
    return out


def _checkpoint_frame(calls, at_month, latest, open_, hmax, scales, max_stale) -> pd.DataFrame:
    """Long frame: one row per call and checkpoint (fixed months, odd horizons, latest)."""
    labels = [m for m in at_month if m in CHECKPOINT_MONTHS or (hmax == m).any()]
    parts = []
    scale_ids = calls["scale"].to_numpy(dtype=object)
    call_ids = calls["call_id"].to_numpy(dtype=object)
    cats = _status_categories(max_stale)
    for label, months, data, mask in [
        *((checkpoint_label(m), m, at_month[m], slice(None)) for m in labels),
        (LATEST, -1, latest, open_),
    ]:
        ex = data["excess"][mask]
        code = data["status_code"][mask]
        stale = pd.array(np.minimum(code, max_stale), dtype="Int64")
        stale[code > max_stale] = pd.NA
        parts.append(
            pd.DataFrame(
                {
                    "call_id": call_ids[mask],
                    "checkpoint": label,
                    "months": months if months > 0 else pd.NA,
                    "session": pd.DatetimeIndex(data["session"][mask]),
                    "stock_price": data["stock_price"][mask],
                    "benchmark_price": data["benchmark_price"][mask],
                    "stock_return": data["stock_return"][mask],
                    "benchmark_return": data["benchmark_return"][mask],
                    "excess": ex,
                    "band": _band_cat(_realised(excess_pp(ex), scale_ids[mask], scales)),
                    "status": pd.Categorical.from_codes(code, categories=cats),
                    "stale_sessions": stale,
                }
            )
        )
    order = [checkpoint_label(m) for m in labels] + [LATEST]
    frame = pd.concat(parts, ignore_index=True)
    frame["checkpoint"] = pd.Categorical(frame["checkpoint"], categories=order)
    frame["months"] = frame["months"].astype("Int64")
    return frame


# --------------------------------------------------------------------------- records

#: Version of the JSON records of :func:`to_records` (see docs/scoring.md).
SCHEMA = "tracker.score/1"
_CHECKPOINT_FIELDS = (
    "session", "stock_price", "benchmark_price", "stock_return", "benchmark_return", "excess",
    "band", "status", "stale_sessions",
)  # fmt: skip


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: dates as ISO strings, NaN/NA as None, numpy as Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.date().isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    return value


def to_records(scores: Scores) -> list[dict[str, Any]]:
    """One JSON-ready dict per call, in the documented stable schema (``docs/scoring.md``).

    Returns, excess and band edges are fractions (``0.05`` = 5 %); dates are
    ISO strings; a missing value is None.
    """
    calls = scores.calls
    cps = scores.checkpoints
    by_call: dict[str, dict[str, dict[str, Any]]] = {}
    latest: dict[str, dict[str, Any]] = {}
    for row in cps.itertuples(index=False):
        rec = {f: _plain(getattr(row, f)) for f in _CHECKPOINT_FIELDS}
        if row.checkpoint == LATEST:
            latest[row.call_id] = rec
        else:
            by_call.setdefault(row.call_id, {})[str(row.checkpoint)] = rec
    out = []
    for row in calls.to_dict(orient="records"):
        cid = row["call_id"]
        out.append(
            {
                "call_id": cid,
                "report": row.get("report"),
                "broker": row.get("broker"),
                "broker_local": _plain(row.get("broker_local")),
                "analysts": _plain(list(row.get("analysts") or [])),
                "name": _plain(row.get("name")),
                "ticker": row["ticker"],
                "rating": row["rating"],
                "scale": row["scale"],
                "published": _plain(row.get("published")),
                "seen": _plain(row.get("seen")),
                "start_date": _plain(row["start_date"]),
                "benchmark": row["benchmark"],
                "entry_convention": row["entry_convention"],
                "entry_session": _plain(row["entry_session"]),
                "entry_price": _plain(row["entry_price"]),
                "benchmark_entry_price": _plain(row["benchmark_entry_price"]),
                "called_band": {
                    "text": f"{row['called_band']} pp",
                    "lower": _plain(row["called_lower"]),
                    "upper": _plain(row["called_upper"]),
                },
                "horizon": {
                    "months_min": _plain(row["horizon_min_months"]),
                    "months_max": _plain(row["horizon_max_months"]),
                    "session": _plain(row["horizon_session"]),
                    "window_start_session": _plain(row["window_start_session"]),
                    "hit_in_window": _plain(row["window_hit"]),
                    "first_session_in_band": _plain(row["window_first_session"]),
                },
                "status": str(row["status"]),
                "verdict": str(row["verdict"]),
                "reason": row["reason"] or None,
                "verdict_session": _plain(row["verdict_session"]),
                "stock_return": _plain(row["stock_return"]),
                "benchmark_return": _plain(row["benchmark_return"]),
                "excess": _plain(row["excess"]),
                "realised_band": _plain(row["realised_band"]),
                "sessions_remaining": _plain(row["sessions_remaining"]),
                "checkpoints": by_call.get(cid, {}),
                "latest": latest.get(cid),
            }
        )
    return out
