"""Scoring every call against its benchmark by the report's own thresholds.

Pure core: calls frame + wide price frames + rating scales + ``as_of`` in,
per-call and per-checkpoint frames out. No files, no clock, no network.
Everything is vectorised over all calls at once; the only Python loops run
over the handful of checkpoints, scales and ratings, never over calls.

Conventions (see ``docs/scoring.md`` for the full method):

* **Entry**: :mod:`tracker.scoring.entry` (default ``next-close``: the close of the
  first HKEX session after the day the call could be acted on).
* **Checkpoints**: the first session on or after the entry session + 1, 3, 6
  and 12 calendar months (:func:`tracker.sessions.sessions_months_after`),
  plus the verdict horizon when a scale uses another length, plus ``latest``
  (the last session on or before ``as_of``) for calls whose window is open.
* **Returns** are fractions (``0.05`` = 5 %): ``stock_return = P_t / P_entry - 1``,
  the same for the benchmark from the same entry session, and
  ``excess = stock_return - benchmark_return``. The scales' bands are in
  percentage points, so ``excess * 100`` is compared with them, rounded to
  :data:`tracker.scoring.bands.EXCESS_ROUND_PP` decimals first so that float noise cannot move a
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

This module runs the steps and assembles the result frames; the band
arithmetic is in :mod:`tracker.scoring.bands`, the prices on the session grid
(bar ages, entry, checkpoint returns) in :mod:`tracker.scoring.grid`, and the
JSON records in :mod:`tracker.scoring.records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from tracker.errors import DataUnavailable, ScoringInputError
from tracker.recs.models import RatingScale
from tracker.scoring.bands import (
    CalledBands,
    band_categorical,
    called_bands,
    excess_pp,
    realised_codes,
)
from tracker.scoring.entry import DEFAULT_ENTRY, entry_field
from tracker.scoring.grid import (
    NAT,
    Entry,
    FilledPrices,
    Market,
    calendar_positions,
    check_frame,
    dates_text,
    enter,
    measure,
    months_after,
    status_categories,
    window_hits,
)
from tracker.vocab import STATUSES, VERDICTS, Status, Verdict

#: The fixed checkpoints, in calendar months after the entry session.
CHECKPOINT_MONTHS: tuple[int, ...] = (1, 3, 6, 12)
#: Label of the interim checkpoint of an open call.
LATEST = "latest"
#: How many sessions old a bar may be and still stand in for a missing one.
DEFAULT_MAX_STALE_SESSIONS = 3
#: The most sessions a bar may be old: ten years of HKEX sessions (246 a year), past the
#: longest horizon a scale may set (120 months). More is no tolerance but a mistake, and
#: the staleness search grows with it (10**7 took a minute and 3.6 GB).
MAX_STALE_SESSIONS = 2_460

# Call statuses and verdicts, as plain strings (the vocabulary spells them).
STATUS_MATURED = Status.MATURED.value
STATUS_OPEN = Status.OPEN.value
STATUS_NO_DATA = Status.NO_DATA.value
HIT = Verdict.HIT.value
RIGHT_DIRECTION = Verdict.RIGHT_DIRECTION.value
MISS = Verdict.MISS.value
PENDING = Verdict.PENDING.value
ON_TRACK = Verdict.ON_TRACK.value
OFF_TRACK = Verdict.OFF_TRACK.value
NO_DATA = Verdict.NO_DATA.value

REQUIRED_CALL_COLUMNS: tuple[str, ...] = (
    "call_id",
    "ticker",
    "rating",
    "scale",
    "start_date",
    "horizon_min_months",
    "horizon_max_months",
)


def checkpoint_label(months: int) -> str:
    return f"{months}M"


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
    _stock: FilledPrices = field(repr=False)
    _bench: FilledPrices = field(repr=False)

    @cached_property
    def stock_returns(self) -> pd.DataFrame:
        """Session returns of every stock on the grid (fractions; NaN without a usable bar)."""
        return self._stock.returns(self.grid, self.max_stale_sessions)

    @cached_property
    def benchmark_returns(self) -> pd.DataFrame:
        """Session returns of every benchmark on the grid."""
        return self._bench.returns(self.grid, self.max_stale_sessions)


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class _Inputs:
    """The calls and price frames of one run, checked and cut at ``cutoff`` (``as_of``)."""

    calls: pd.DataFrame
    bench_of: np.ndarray
    closes: pd.DataFrame
    bench: pd.DataFrame
    opens: pd.DataFrame | None
    bench_opens: pd.DataFrame | None
    cutoff: pd.Timestamp


@dataclass(frozen=True)
class _Measured:
    """Every call measured at its checkpoints, its horizon, the latest session and its window."""

    at_month: dict[int, dict]
    horizon: dict[str, np.ndarray]
    latest: dict[str, np.ndarray]
    hmin: np.ndarray
    hmax: np.ndarray
    window_start: np.ndarray
    ranged: np.ndarray
    reached: np.ndarray
    first: np.ndarray


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
        The calls frame of :func:`tracker.recs.book.calls_frame` (at least
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
        Entry convention (:data:`tracker.scoring.entry.ENTRY_CONVENTIONS`).
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
    _check_arguments(calls, opens, benchmark_opens, entry, max_stale_sessions)
    inputs = _prepare_inputs(calls, closes, benchmark, scales, as_of, opens, benchmark_opens)
    called = called_bands(inputs.calls, scales)
    mkt = Market.build(inputs.closes, inputs.bench, inputs.opens, inputs.bench_opens, inputs.cutoff)
    sym = mkt.stock.symbols.get_indexer(inputs.calls["ticker"].to_numpy(dtype=object))
    bsym = mkt.bench.symbols.get_indexer(inputs.bench_of)
    ent = enter(inputs.calls, mkt, sym, bsym, entry, max_stale_sessions)
    measured = _measure_calls(
        inputs.calls, mkt, ent, sym, bsym, called, overshoot_is_hit, max_stale_sessions
    )
    out = _calls_result(
        inputs, entry, ent, mkt, called, scales, measured, overshoot_is_hit, max_stale_sessions
    )
    checkpoints = _checkpoint_frame(
        inputs.calls,
        measured,
        (out["status"] == STATUS_OPEN).to_numpy(),
        scales,
        max_stale_sessions,
    )
    return Scores(
        calls=out,
        checkpoints=checkpoints,
        as_of=inputs.cutoff,
        as_of_session=pd.Timestamp(mkt.as_of_session),
        entry=entry,
        max_stale_sessions=max_stale_sessions,
        overshoot_is_hit=overshoot_is_hit,
        grid=mkt.grid,
        _stock=mkt.stock,
        _bench=mkt.bench,
    )


def _check_arguments(calls, opens, benchmark_opens, entry: str, max_stale: int) -> None:
    missing_cols = [c for c in REQUIRED_CALL_COLUMNS if c not in calls.columns]
    if missing_cols:
        raise ScoringInputError(f"the calls frame lacks column(s): {', '.join(missing_cols)}")
    if isinstance(max_stale, bool) or not 0 <= max_stale <= MAX_STALE_SESSIONS:
        raise ScoringInputError(
            f"max_stale_sessions={max_stale} must be from 0 to {MAX_STALE_SESSIONS}"
            " (ten years of sessions)"
        )
    if entry_field(entry) == "open" and (opens is None or benchmark_opens is None):
        raise ScoringInputError(
            "entry 'next-open' needs opening prices of the stocks and benchmark"
        )


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


def _prepare_inputs(calls, closes, benchmark, scales, as_of, opens, benchmark_opens) -> _Inputs:
    """Checked frames; then ``as_of`` first: later calls do not exist, later prices are never
    looked at."""
    bench, benchmark_opens, bench_of = _prepare_benchmark(calls, benchmark, benchmark_opens, scales)
    closes = check_frame("stock prices", closes)
    bench = check_frame("benchmark prices", bench)
    opens = check_frame("opening prices", opens)
    benchmark_opens = check_frame("benchmark opening prices", benchmark_opens)
    cutoff = _cutoff(as_of, closes, bench)
    keep = np.asarray(pd.DatetimeIndex(calls["start_date"]) <= cutoff)
    inputs = _Inputs(
        calls=calls.loc[keep],
        bench_of=bench_of[keep],
        closes=_until(closes, cutoff),
        bench=_until(bench, cutoff),
        opens=_until(opens, cutoff),
        bench_opens=_until(benchmark_opens, cutoff),
        cutoff=cutoff,
    )
    _require_benchmarks(inputs)
    return inputs


def _cutoff(as_of, closes: pd.DataFrame, bench: pd.DataFrame) -> pd.Timestamp:
    """``as_of`` as a date; by default the last date of the prices."""
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    lasts = [f.index.max() for f in (closes, bench) if len(f.index)]
    if not lasts:
        raise DataUnavailable("no prices at all: load prices first")
    return max(lasts).normalize()


def _until(frame: pd.DataFrame | None, cutoff: pd.Timestamp) -> pd.DataFrame | None:
    return None if frame is None else frame.loc[frame.index <= cutoff]


def _require_benchmarks(inputs: _Inputs) -> None:
    """Every benchmark a call uses has a column, and a price on or before ``as_of``."""
    bench, bench_of = inputs.bench, inputs.bench_of
    missing = sorted(set(bench_of) - set(map(str, bench.columns)))
    if missing:
        raise DataUnavailable(
            f"no prices for the benchmark {', '.join(missing)}: load its prices first"
        )
    if len(inputs.calls):
        empty = sorted(b for b in set(bench_of) if not (bench[b] > 0).any())
        if empty:
            raise DataUnavailable(
                f"no prices for the benchmark {', '.join(empty)}"
                f" on or before {inputs.cutoff.date()}: load its prices first"
            )


def _measure_calls(
    calls, mkt: Market, ent: Entry, sym, bsym, called: CalledBands, overshoot_is_hit, max_stale
) -> _Measured:
    """Returns and excess at every checkpoint, the horizon, the latest session; window hits."""
    hmin = calls["horizon_min_months"].to_numpy(dtype=np.int64)
    hmax = calls["horizon_max_months"].to_numpy(dtype=np.int64)
    # Checkpoints: a loop over the few distinct month counts, vectorised over calls.
    months = sorted(set(CHECKPOINT_MONTHS) | set(np.unique(hmax).tolist()))
    at_month = {
        m: measure(mkt, ent, sym, bsym, months_after(ent.session, m), max_stale) for m in months
    }
    horizon = {k: _pick(at_month, hmax, k) for k in at_month[months[0]]}
    latest = measure(mkt, ent, sym, bsym, np.full(len(calls), mkt.as_of_session), max_stale)
    window_start = months_after(ent.session, hmin)
    ranged = (hmin < hmax) & ent.ok & (window_start <= mkt.as_of_session)
    reached, first = window_hits(
        ranged,
        mkt.pos(np.minimum(window_start, mkt.as_of_session)),
        mkt.pos(np.minimum(horizon["session"], mkt.as_of_session)),
        sym,
        bsym,
        mkt,
        ent,
        called,
        overshoot_is_hit,
        max_stale,
    )
    return _Measured(at_month, horizon, latest, hmin, hmax, window_start, ranged, reached, first)


def _pick(at_month: dict[int, dict], months: np.ndarray, key: str) -> np.ndarray:
    """Per call, ``at_month[months[i]][key][i]``."""
    first = next(iter(at_month.values()))[key]
    out = np.empty_like(first)
    for m in np.unique(months):
        mask = months == m
        out[mask] = at_month[int(m)][key][mask]
    return out


# --------------------------------------------------------------------------- the per-call frame


def _calls_result(
    inputs: _Inputs,
    entry: str,
    ent: Entry,
    mkt: Market,
    called: CalledBands,
    scales: dict[str, RatingScale],
    m: _Measured,
    overshoot_is_hit: bool,
    max_stale: int,
) -> pd.DataFrame:
    """The per-call frame: status, verdict, headline figures and reasons."""
    status = _call_status(ent, m.horizon["session"], mkt.as_of_session)
    head = _headline(status, m.horizon, m.latest)
    x_pp = excess_pp(head["excess"])
    bench_age = pd.array(ent.bench_age, dtype="Int64")
    bench_age[~ent.ok] = pd.NA
    window_hit, first_session = _window_columns(m, mkt)
    horizon_text = np.where(
        m.hmin == m.hmax,
        m.hmax.astype(str) + "M",
        m.hmin.astype(str) + "-" + m.hmax.astype(str) + "M",
    )
    realised = realised_codes(x_pp, inputs.calls["scale"].to_numpy(dtype=object), scales)
    out = inputs.calls.copy()
    new = {
        "benchmark": inputs.bench_of,
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
        "horizon_session": pd.DatetimeIndex(m.horizon["session"]),
        "status": pd.Categorical(status, categories=list(STATUSES)),
        "verdict": pd.Categorical(
            _verdicts(status, x_pp, called, overshoot_is_hit), categories=list(VERDICTS)
        ),
        "reason": _reasons(status, ent, m, head, max_stale),
        "verdict_session": pd.DatetimeIndex(head["session"]),
        "stock_return": head["stock_return"],
        "benchmark_return": head["benchmark_return"],
        "excess": head["excess"],
        "realised_band": band_categorical(realised),
        "window_start_session": pd.DatetimeIndex(np.where(m.hmin < m.hmax, m.window_start, NAT)),
        "window_hit": window_hit,
        "window_first_session": pd.DatetimeIndex(first_session),
        "sessions_remaining": _sessions_remaining(status, m.horizon["session"], mkt),
    }
    for key, values in new.items():
        out[key] = values
    return out


def _call_status(ent: Entry, horizon_session: np.ndarray, as_of_session) -> np.ndarray:
    """``no data`` without an entry, else ``matured`` once the horizon session is past, else
    ``open``."""
    matured = horizon_session <= as_of_session
    no_entry = ~ent.ok & ~ent.awaiting
    return np.where(no_entry, STATUS_NO_DATA, np.where(matured, STATUS_MATURED, STATUS_OPEN))


def _headline(status: np.ndarray, horizon: dict, latest: dict) -> dict[str, np.ndarray]:
    """Each call's figures at its verdict session: the horizon if matured, the latest if open."""
    at_h, at_l = status == STATUS_MATURED, status == STATUS_OPEN
    out = {}
    for key in ("session", "stock_return", "benchmark_return", "excess"):
        fill = NAT if key == "session" else np.nan
        out[key] = np.where(at_h, horizon[key], np.where(at_l, latest[key], fill))
        if key != "session":
            out[key] = out[key].astype(float)
    return out


def _verdicts(
    status: np.ndarray, x_pp: np.ndarray, called: CalledBands, overshoot_is_hit: bool
) -> np.ndarray:
    """hit / right direction / miss at the horizon; pending / on track / off track while open."""
    at_h, at_l = status == STATUS_MATURED, status == STATUS_OPEN
    hit = called.reached(x_pp, overshoot_is_hit)
    with np.errstate(invalid="ignore"):
        right = called.direction * x_pp > 0
    have = ~np.isnan(x_pp)
    verdict = np.full(len(status), NO_DATA, dtype=object)
    verdict[at_h & have] = np.where(hit, HIT, np.where(right, RIGHT_DIRECTION, MISS))[at_h & have]
    verdict[at_l] = PENDING
    verdict[at_l & have] = np.where(hit, ON_TRACK, OFF_TRACK)[at_l & have]
    return verdict


def _reasons(status, ent: Entry, m: _Measured, head: dict, max_stale: int) -> np.ndarray:
    """Why a call has no figures: no entry, awaiting entry, or no bar at its verdict session."""
    at_h, at_l = status == STATUS_MATURED, status == STATUS_OPEN
    no_entry = ~ent.ok & ~ent.awaiting
    reason = np.where(no_entry | ent.awaiting, ent.reason, "").astype(object)
    gap = (at_h | (at_l & ~ent.awaiting)) & np.isnan(head["excess"])
    if gap.any():
        smiss = np.where(at_h, m.horizon["stock_missing"], m.latest["stock_missing"])[gap]
        bmiss = np.where(at_h, m.horizon["bench_missing"], m.latest["bench_missing"])[gap]
        who = np.where(
            smiss & bmiss,
            "the stock and the benchmark",
            np.where(smiss, "the stock", "the benchmark"),
        ).astype(object)
        reason[gap] = (
            "no bar for "
            + who
            + f" within {max_stale} sessions of "
            + dates_text(head["session"][gap])
        )
    return reason


def _sessions_remaining(status: np.ndarray, horizon_session: np.ndarray, mkt: Market):
    """Sessions from ``as_of`` to the horizon session of each open call (NA otherwise)."""
    at_l = status == STATUS_OPEN
    remaining = pd.array(np.zeros(len(status), dtype=np.int64), dtype="Int64")
    remaining[~at_l] = pd.NA
    if at_l.any():
        now = calendar_positions(np.array([mkt.as_of_session]))[0]
        remaining[at_l] = calendar_positions(horizon_session[at_l]) - now
    return remaining


def _window_columns(m: _Measured, mkt: Market):
    """``window_hit`` (NA without a range horizon) and the first session in the band (NaT if
    none)."""
    window_hit = pd.array(m.reached, dtype="boolean")
    window_hit[~m.ranged] = pd.NA
    first_session = np.full(len(m.first), NAT)
    if len(mkt.grid):
        first_session = np.where(m.first >= 0, mkt.grid_ns[np.maximum(m.first, 0)], NAT)
    return window_hit, first_session


# --------------------------------------------------------------------------- the checkpoints frame


def _checkpoint_frame(calls, m: _Measured, open_, scales, max_stale) -> pd.DataFrame:
    """Long frame: one row per call and checkpoint (fixed months, odd horizons, latest)."""
    labels = [k for k in m.at_month if k in CHECKPOINT_MONTHS or (m.hmax == k).any()]
    scale_ids = calls["scale"].to_numpy(dtype=object)
    call_ids = calls["call_id"].to_numpy(dtype=object)
    cats = status_categories(max_stale)
    parts = []
    for label, months, data, mask in [
        *((checkpoint_label(k), k, m.at_month[k], slice(None)) for k in labels),
        (LATEST, -1, m.latest, open_),
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
                    "band": band_categorical(
                        realised_codes(excess_pp(ex), scale_ids[mask], scales)
                    ),
                    "status": pd.Categorical.from_codes(code, categories=cats),
                    "stale_sessions": stale,
                }
            )
        )
    order = [checkpoint_label(k) for k in labels] + [LATEST]
    frame = pd.concat(parts, ignore_index=True)
    frame["checkpoint"] = pd.Categorical(frame["checkpoint"], categories=order)
    frame["months"] = frame["months"].astype("Int64")
    return frame
