"""The backtest engine: calls and wide price frames in, equity curve and trades out.

One position per call: two brokers calling the same stock, or a broker
reiterating a call, make separate positions, each sized and costed on its
own. Cash is shared by the whole portfolio. :func:`run_backtest` runs the
steps: prices cut at ``as_of``, entries (:mod:`tracker.scoring.entry`), exits on the
session grid (:mod:`tracker.backtest.schedule`), the order plan that fixes
every order's shares and exact costs (:mod:`tracker.backtest.orders`), the
vectorbt run of that plan (:mod:`tracker.backtest.portfolio`) and the trades
table (:mod:`tracker.backtest.trades`).

Pure: no files, no clock, no network; vectorbt is imported inside
:func:`tracker.backtest.portfolio.simulate_orders` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.backtest.costs import RATE_FIELDS, rates_on
from tracker.backtest.orders import Candidates, CostModel, OrderPlan, plan_orders
from tracker.backtest.portfolio import check_fills, pack_columns, simulate_orders
from tracker.backtest.schedule import ExitSchedule, exit_schedule, ffill_rows, previous_session
from tracker.backtest.spec import BacktestSpec
from tracker.backtest.trades import SKIPPED, cost_totals, trade_status, trades_frame
from tracker.errors import DataUnavailable, TrackerError
from tracker.scoring.entry import ENTRY_OK, delayed_start_dates, entry_points

T = TypeVar("T")

#: Candidates from which the order plan runs compiled: the plain loop takes about 35 µs a
#: candidate, loading the compiled plan in a new process about 0.2 s.
COMPILED_PLAN_FROM = 2_000


class BenchmarkNoData(DataUnavailable):
    """The benchmark has no price to start from."""

    def __init__(self, symbol: str, start: pd.Timestamp, first: pd.Timestamp | None):
        found = f"its first bar is {first.date()}" if first is not None else "it has no bars at all"
        super().__init__(
            f"benchmark {symbol} has no price on or before {start.date()} ({found}):"
            " load its prices with `tracker prices update`, or choose another benchmark"
        )


class NothingToTrade(DataUnavailable):
    """No selected call can be entered (no prices, or entries after the data end)."""


@dataclass(frozen=True)
class BacktestResult:
    """What a run computes; rendering and writing are separate steps.

    Attributes
    ----------
    equity
        Index: sessions of the run. Columns (HKD): ``portfolio`` (value at
        the close), ``cash``, ``benchmark`` (buy and hold of the benchmark,
        scaled to the initial capital, no costs).
    trades
        One row per selected call, :data:`tracker.backtest.trades.TRADE_COLUMNS`.
    costs
        HKD paid per component of :data:`tracker.backtest.costs.COST_COMPONENTS`, and ``total``.
    """

    spec: BacktestSpec
    equity: pd.DataFrame
    trades: pd.DataFrame
    costs: dict[str, float]
    warnings: tuple[str, ...] = ()
    n_columns: int = 0
    final_cash_planned: float = 0.0

    @property
    def final_equity(self) -> float:
        return float(self.equity["portfolio"].iloc[-1])


def benchmark_equity(
    benchmark: pd.Series, grid: pd.DatetimeIndex, capital: float, symbol: str
) -> tuple[pd.Series, list[str]]:
    """Buy and hold of the benchmark from the first session, scaled to ``capital`` (HKD).

    The benchmark is held at its last known close where it has no bar.

    Raises
    ------
    BenchmarkNoData
        No close on or before the first session of the run.
    """
    b = pd.Series(benchmark, dtype=float).dropna()
    b = b[b.index <= grid[-1]]
    before = b[b.index <= grid[0]]
    if before.empty:
        raise BenchmarkNoData(symbol, grid[0], b.index[0] if len(b) else None)
    path = b.reindex(b.index.union(grid)).ffill().reindex(grid)
    warnings = []
    if b.index[-1] < grid[-1]:
        warnings.append(
            f"benchmark {symbol} has no bar after {b.index[-1].date()}: held at that close"
            f" to {grid[-1].date()}"
        )
    return (capital * path / before.iloc[-1]).rename("benchmark"), warnings


def run_backtest(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    benchmark: pd.Series,
    spec: BacktestSpec,
    *,
    opens: pd.DataFrame | None = None,
    book: pd.DataFrame | None = None,
    lots: Mapping[str, int | None] | None = None,
    stamp_exempt: Mapping[str, bool] | None = None,
    as_of=None,
    pack: bool = True,
) -> BacktestResult:
    """Backtest "buy every selected call" under ``spec``.

    Parameters
    ----------
    calls
        The selected calls (:func:`tracker.backtest.schedule.select_calls`), in book order.
    closes
        Wide closes, HKD: index naive session dates, columns tickers (NaN = no bar).
        Orders fill at the close (``next-close``, ``same-close``) or at ``opens``
        (``next-open``); positions are valued at the close.
    benchmark
        Closes of ``spec.benchmark`` (any dates; earlier history allowed).
    spec
        The validated spec.
    opens
        Wide opens, needed for ``entry: next-open``.
    book
        Every known call, for the downgrade exit rule (default: ``calls``).
    lots
        Shares per board lot by ticker (needed when ``spec.board_lots``).
    stamp_exempt
        Tickers exempt from stamp duty (ETFs), default none.
    as_of
        Ignore prices after this date.
    pack
        Share vectorbt columns between calls that never overlap (same result).

    Returns
    -------
    BacktestResult

    Raises
    ------
    DataUnavailable
        No price for any selected ticker.
    NothingToTrade
        No selected call can be entered.
    BenchmarkNoData
        The benchmark has no price on or before the first session.
    """
    planned = plan_backtest(
        calls,
        closes,
        benchmark,
        spec,
        opens=opens,
        book=book,
        lots=lots,
        stamp_exempt=stamp_exempt,
        as_of=as_of,
        pack=pack,
    )
    pf = simulate_orders(
        planned.grid,
        planned.column,
        *planned.order_inputs(),
        planned.value_m,
        planned.ticker_col,
        spec.capital_hkd,
    )
    trades_rec = check_fills(pf, planned.column, *planned.rows(), planned.plan, planned.sel)
    value = np.asarray(pf.value(), dtype=float).ravel()
    cash = np.asarray(pf.cash(), dtype=float).ravel()
    return finish_backtest(planned, value, cash, trades_rec)


@dataclass(frozen=True)
class PlannedRun:
    """A run up to its order plan: everything but vectorbt's books (:func:`plan_backtest`)."""

    spec: BacktestSpec
    calls: pd.DataFrame
    entry: pd.DataFrame
    sched: ExitSchedule
    grid: pd.DatetimeIndex
    value_m: np.ndarray
    bench: pd.Series
    warnings: list[str]
    cand: np.ndarray
    reason: np.ndarray
    lot: np.ndarray
    candidates: Candidates
    plan: OrderPlan
    sel: np.ndarray  # candidates bought (positions in the plan)
    pos: np.ndarray  # calls bought (positions in ``calls``), by entry row
    column: np.ndarray  # vectorbt column of each bought call

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Grid rows of the entry and the exit of each bought call."""
        return self.sched.entry_row[self.pos], self.sched.exit_row[self.pos]

    def order_inputs(self) -> tuple[np.ndarray, ...]:
        """Per bought call: entry and exit rows and prices, shares, entry and exit fees
        (the arguments of :func:`tracker.backtest.portfolio.simulate_orders` between
        ``column`` and ``value_close``)."""
        entry_row, exit_row = self.rows()
        sel = self.sel
        return (
            entry_row,
            exit_row,
            self.candidates.entry_price[sel],
            self.candidates.exit_price[sel],
            self.plan.shares[sel],
            self.plan.entry_costs[sel].sum(axis=1),
            self.plan.exit_costs[sel].sum(axis=1),
        )

    @property
    def ticker_col(self) -> np.ndarray:
        return self.sched.tcol[self.pos]


def plan_backtest(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    benchmark: pd.Series,
    spec: BacktestSpec,
    *,
    opens: pd.DataFrame | None = None,
    book: pd.DataFrame | None = None,
    lots: Mapping[str, int | None] | None = None,
    stamp_exempt: Mapping[str, bool] | None = None,
    as_of=None,
    pack: bool = True,
    shared: dict | None = None,
) -> PlannedRun:
    """Every step of :func:`run_backtest` before vectorbt: entries, exits, the order plan.

    Same parameters and errors as :func:`run_backtest`, plus ``shared``: a dict kept
    by the caller across plans of the same calls, prices and ``as_of`` (a sweep's
    variants), in which the entries and exits of each entry convention, delay and
    exit rule are computed once and reused (they do not depend on sizing or costs).
    """
    calls = calls.reset_index(drop=True)
    timing_key = ("timing", spec.entry, spec.entry_delay_sessions, spec.exit.model_dump_json())
    timing = _once(
        shared,
        timing_key,
        lambda: _timing(calls, closes, opens, benchmark, spec, book, as_of, shared),
    )
    entry, ok, sched = timing.entry, timing.ok, timing.sched
    cand, reason, lot, weight, exempt = _candidates(
        calls, entry, ok, sched, spec, lots, stamp_exempt
    )

    # The run ends with the last sale (all candidates are sold by then).
    n_rows = int(sched.exit_row[cand].max() if len(cand) else sched.entry_row[ok].max()) + 1
    grid, value_m = timing.grid[:n_rows], timing.value_m[:n_rows]
    bench, warnings = _once(
        shared,
        ("benchmark", n_rows, spec.capital_hkd, spec.benchmark, *timing_key),
        lambda: benchmark_equity(timing.benchmark, grid, spec.capital_hkd, spec.benchmark),
    )
    overrides = spec.costs.overrides()
    rates = _once(
        shared,
        ("rates", json.dumps(overrides, sort_keys=True), *timing_key),
        lambda: _rates(timing.grid, overrides),
    )
    candidates = _sizing_inputs(cand, sched, entry, weight, lot, exempt)
    plan = _plan(candidates, value_m, {f: r[:n_rows] for f, r in rates.items()}, spec)
    reason[cand] = plan.skip_reason
    sel = np.flatnonzero(plan.shares > 0)
    pos = cand[sel]  # calls actually traded, by entry row
    entry_row, exit_row = sched.entry_row[pos], sched.exit_row[pos]
    column = pack_columns(entry_row, exit_row) if pack else np.arange(len(pos))
    return PlannedRun(
        spec,
        calls,
        entry,
        sched,
        grid,
        value_m,
        bench,
        list(warnings),
        cand,
        reason,
        lot,
        candidates,
        plan,
        sel,
        pos,
        column,
    )


@dataclass(frozen=True)
class _Timing:
    """When each call is entered and left, and at what prices: the part of a plan that
    depends on the entry convention, the entry delay and the exit rule only."""

    entry: pd.DataFrame
    ok: np.ndarray
    grid: pd.DatetimeIndex
    value_m: np.ndarray
    sched: ExitSchedule
    benchmark: pd.Series


def _timing(
    calls, closes, opens, benchmark, spec: BacktestSpec, book, as_of, shared: dict | None = None
) -> _Timing:
    """Entries and exits of ``calls`` under ``spec`` (the first steps of :func:`plan_backtest`);
    the price frames cut once per entry convention in ``shared``."""
    closes, fills, opens, benchmark = _once(
        shared,
        ("panels", spec.entry),
        lambda: _cut_panels(calls, closes, opens, benchmark, spec.entry, as_of),
    )
    entry = delayed_entry_points(calls, closes, opens, spec)
    ok = _enterable(entry)
    first_entry = entry.loc[ok, "entry_session"].min()
    grid = sessions.sessions_between(previous_session(first_entry), closes.index[-1])
    value_m = ffill_rows(closes.reindex(grid).to_numpy(dtype=float))
    sched = exit_schedule(calls, entry, ok, grid, closes, fills, value_m, spec, book)
    # Shared by the plans of a sweep's variants: any write to them would be a bug.
    for arr in (ok, value_m, *(v for v in vars(sched).values() if isinstance(v, np.ndarray))):
        arr.setflags(write=False)
    return _Timing(entry, ok, grid, value_m, sched, benchmark)


def finish_backtest(
    planned: PlannedRun, value: np.ndarray, cash: np.ndarray, trades_rec: np.ndarray
) -> BacktestResult:
    """The result of a planned run from vectorbt's books: its value and cash at each
    close of the run's grid (HKD) and its checked trade records (aligned with ``pos``)."""
    p = planned
    status = trade_status(len(p.calls), p.pos, p.sched.closed)
    trades = trades_frame(
        p.calls,
        p.entry,
        p.sched,
        status,
        p.reason,
        p.lot,
        p.grid,
        p.cand,
        p.plan,
        p.pos,
        trades_rec,
    )
    warnings = list(p.warnings)
    n_skipped = int((status == SKIPPED).sum())
    if n_skipped:
        warnings.append(f"{n_skipped} of {len(p.calls)} selected calls not traded (see trades.csv)")
    equity = pd.DataFrame(
        {"portfolio": value, "cash": cash, "benchmark": p.bench.to_numpy()},
        index=pd.DatetimeIndex(p.grid, name="session"),
    )
    return BacktestResult(
        spec=p.spec,
        equity=equity,
        trades=trades,
        costs=cost_totals(p.plan),
        warnings=tuple(warnings),
        n_columns=int(p.column.max()) + 1 if len(p.column) else 0,
        final_cash_planned=p.plan.final_cash,
    )


def delayed_entry_points(calls, closes, opens, spec: BacktestSpec) -> pd.DataFrame:
    """:func:`tracker.scoring.entry.entry_points` under the spec's convention, moved
    ``spec.entry_delay_sessions`` sessions later (no move for 0)."""
    if spec.entry_delay_sessions:
        start = delayed_start_dates(calls["start_date"], spec.entry, spec.entry_delay_sessions)
        calls = calls.assign(start_date=start)
    return entry_points(calls, closes, opens, spec.entry)


def _enterable(entry: pd.DataFrame) -> np.ndarray:
    """Which calls can be entered; :class:`NothingToTrade` when none can."""
    ok = (entry["entry_status"] == ENTRY_OK).to_numpy()
    if not ok.any():
        counts = entry["entry_reason"].value_counts()
        raise NothingToTrade(
            f"none of the {len(entry)} selected calls can be entered: "
            + "; ".join(f"{n} × {r}" for r, n in counts.head(3).items())
        )
    return ok


def _cut_panels(calls, closes, opens, benchmark, conv: str, as_of):
    """The price frames restricted to the selected tickers, ``as_of`` and the last bar.

    Returns ``(closes, fills, opens, benchmark)``; ``fills`` are the prices orders
    fill at (``opens`` for next-open, else ``closes``).
    """
    tickers = list(dict.fromkeys(calls["ticker"]))
    closes = closes.reindex(columns=tickers)
    if opens is not None:
        opens = opens.reindex(columns=tickers)
    if conv == "next-open" and opens is None:
        raise TrackerError("entry: next-open needs opening prices")
    if as_of is not None:
        cut = pd.Timestamp(as_of)
        closes = closes[closes.index <= cut]
        opens = opens[opens.index <= cut] if opens is not None else None
        benchmark = benchmark[benchmark.index <= cut]
    fills = opens if conv == "next-open" else closes
    has_any = (fills.notna().any(axis=1) | closes.notna().any(axis=1)).to_numpy()
    if not has_any.any():
        raise DataUnavailable(
            f"no prices for any of the {len(tickers)} selected tickers"
            f" ({', '.join(tickers[:5])}{'...' if len(tickers) > 5 else ''}):"
            " load them with `tracker prices update`"
        )
    data_end = closes.index[has_any][-1]
    closes = closes[closes.index <= data_end]
    fills = fills[fills.index <= data_end]
    opens = opens[opens.index <= data_end] if opens is not None else None
    return closes, fills, opens, benchmark


def _candidates(calls, entry, ok, sched: ExitSchedule, spec, lots, stamp_exempt):
    """The calls that can be sized, in entry order, and why the others cannot.

    Returns ``(cand, reason, lot, weight, exempt)``: positions of the candidates in
    ``calls``; per call a skip reason ("" if none), board lot (NaN unknown, 0 when
    lots are off), sizing weight and stamp-duty exemption.
    """
    tickers, ratings = calls["ticker"], calls["rating"]
    reason = np.where(ok, "", entry["entry_reason"].to_numpy(dtype=object)).astype(object)
    early = ok & (sched.exit_row <= sched.entry_row)
    reason[early] = [
        f"nothing to hold: exit ({r}) not after the entry session" for r in sched.exit_rule[early]
    ]
    # Per distinct rating and ticker, then spread to the calls (a loop per call is slow
    # for 10,000 calls run once per sweep variant).
    r_code, r_uniq = pd.factorize(ratings, use_na_sentinel=False)
    t_code, t_uniq = pd.factorize(tickers, use_na_sentinel=False)
    weight = np.array([spec.sizing.weight(r) for r in r_uniq], dtype=float)[r_code]
    zero_w = ok & ~early & (weight <= 0)
    reason[zero_w] = [f"rating weight 0 for {r} (sizing.rating_weights)" for r in ratings[zero_w]]
    if spec.board_lots:
        by_ticker = ((lots or {}).get(t) for t in t_uniq)
        lot = np.array([float(x) if x else np.nan for x in by_ticker], dtype=float)[t_code]
        no_lot = ok & ~early & ~zero_w & np.isnan(lot)
        reason[no_lot] = [
            f"board lot of {t} unknown: import the HKEX list (`tracker registry import`)"
            for t in tickers[no_lot]
        ]
    else:
        lot = np.zeros(len(calls))
        no_lot = np.zeros(len(calls), dtype=bool)
    exempt = np.array([bool((stamp_exempt or {}).get(t, False)) for t in t_uniq], dtype=bool)
    exempt = exempt[t_code]
    cand = np.flatnonzero(ok & ~early & ~zero_w & ~no_lot)
    cand = cand[np.argsort(sched.entry_row[cand], kind="stable")]
    return cand, reason, lot, weight, exempt


def _sizing_inputs(cand, sched: ExitSchedule, entry, weight, lot, exempt) -> Candidates:
    """What the order plan needs of each candidate (``cand``: positions among the calls)."""
    return Candidates(
        entry_row=sched.entry_row[cand],
        exit_row=sched.exit_row[cand],
        ticker_col=sched.tcol[cand],
        entry_price=entry["entry_price"].to_numpy(dtype=float)[cand],
        exit_price=sched.exit_price[cand],
        weight=weight[cand],
        lot=np.nan_to_num(lot[cand]),
        exempt=exempt[cand],
    )


def _plan(
    candidates: Candidates, value_m: np.ndarray, rates: dict[str, np.ndarray], spec: BacktestSpec
) -> OrderPlan:
    """The order plan under the spec's sizing and the cost ``rates`` in force on each
    session of the grid (:func:`_rates`).

    From :data:`COMPILED_PLAN_FROM` candidates on, the plan runs compiled
    (:func:`tracker.backtest.orders_nb.plan_orders_nb`, the same plan as
    :func:`tracker.backtest.orders.plan_orders`, about 20 times faster); below, loading
    the compiled code would cost more than the plain loop takes.
    """
    planner = plan_orders
    if len(candidates) >= COMPILED_PLAN_FROM:
        from tracker.backtest.orders_nb import plan_orders_nb as planner

    return planner(
        candidates,
        value_m,
        capital=spec.capital_hkd,
        method=spec.sizing.method,
        max_positions=spec.sizing.max_positions,
        amount_hkd=spec.sizing.amount_hkd,
        costs=CostModel(
            enabled=spec.costs.enabled,
            rates=rates,
            commission_rate=spec.costs.commission_rate,
            commission_min_hkd=spec.costs.commission_min_hkd,
        ),
    )


def _rates(grid: pd.DatetimeIndex, overrides: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Each cost rate of :data:`RATE_FIELDS` in force on each session of ``grid``."""
    table = rates_on(grid, overrides)
    rates = {f: table[f].to_numpy(dtype=float) for f in RATE_FIELDS}
    for arr in rates.values():
        arr.setflags(write=False)
    return rates


def _once(shared: dict | None, key: tuple, make: Callable[[], T]) -> T:
    """``make()``, kept in ``shared`` under ``key`` and reused (made anew when ``shared``
    is ``None``)."""
    if shared is None:
        return make()
    if key not in shared:
        shared[key] = make()
    return shared[key]
