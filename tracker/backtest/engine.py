"""The backtest engine: calls and wide price frames in, equity curve and trades out.

One position per call: two brokers calling the same stock, or a broker
reiterating a call, make separate positions, each sized and costed on its
own. Cash is shared by the whole portfolio. The order plan
(:mod:`tracker.backtest.orders`) fixes every order's shares and exact costs;
``vectorbt.Portfolio.from_orders`` then runs the book (cash, positions,
value, trade records) with those sizes and per-order ``fixed_fees``.

Calls are packed into vectorbt columns: a column holds one call at a time and
is reused only by a call entered on a later session than the previous one's
exit, so two positions open at the same time never share a column (results are
the same as with one column per call; ``pack=False`` gives exactly that).

Pure: no files, no clock, no network; vectorbt is imported inside
:func:`simulate_orders` only.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.backtest.orders import Candidates, CostModel, OrderPlan, plan_orders
from tracker.backtest.schedule import (
    last_valid_rows,
    next_valid_rows,
    previous_session,
    scheduled_exits,
)
from tracker.backtest_spec import BacktestSpec
from tracker.costs import COST_COMPONENTS, RATE_FIELDS, rates_on
from tracker.entry import ENTRY_OK, entry_points
from tracker.errors import DataUnavailable, TrackerError

#: Columns of the trades frame (and trades.csv): one row per selected call.
TRADE_COLUMNS = [
    "call_id", "report", "broker", "published", "ticker", "name", "rating", "status", "reason",
    "entry_session", "entry_price", "exit_due", "exit_session", "exit_price", "shares", "lot",
    "entry_value_hkd", "entry_costs_hkd", "exit_value_hkd", "exit_costs_hkd", "pnl_hkd",
    "return_pct", "holding_sessions", "exit_rule", "note",
]  # fmt: skip

#: Trade statuses: sold as planned, still held when the data end (sold on the last
#: session and marked open), or never bought (``reason`` says why).
CLOSED, OPEN, SKIPPED = "closed", "open", "skipped"


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


class EngineMismatch(TrackerError):
    """vectorbt did not fill the orders as planned (a bug: please report it)."""


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
        One row per selected call, :data:`TRADE_COLUMNS`.
    costs
        HKD paid per component of :data:`tracker.costs.COST_COMPONENTS`, and ``total``.
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


def _ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs down the rows of a 2-D array."""
    last = last_valid_rows(~np.isnan(values))
    out = values[np.maximum(last, 0), np.arange(values.shape[1])[None, :]]
    out[last < 0] = np.nan
    return out


def pack_columns(entry_row: np.ndarray, exit_row: np.ndarray) -> np.ndarray:
    """A vectorbt column per call, reusing a column once its call is sold.

    A column is reused only by a call entered strictly after the session its
    previous call was sold on, so no column ever has two orders on one session.
    ``entry_row`` must be sorted ascending.
    """
    free: list[tuple[int, int]] = []  # (exit row of the column's last call, column)
    cols = np.empty(len(entry_row), dtype=np.int64)
    n_cols = 0
    for i, (e, x) in enumerate(zip(entry_row.tolist(), exit_row.tolist(), strict=True)):
        if free and free[0][0] < e:
            _, c = heapq.heappop(free)
        else:
            c, n_cols = n_cols, n_cols + 1
        cols[i] = c
        heapq.heappush(free, (x, c))
    return cols


def simulate_orders(
    grid: pd.DatetimeIndex,
    column: np.ndarray,
    entry_row: np.ndarray,
    exit_row: np.ndarray,
    entry_price: np.ndarray,
    exit_price: np.ndarray,
    shares: np.ndarray,
    entry_fees: np.ndarray,
    exit_fees: np.ndarray,
    value_close: np.ndarray,
    ticker_col: np.ndarray,
    capital: float,
):
    """Run the planned orders through ``vectorbt.Portfolio.from_orders``.

    Every input array is per position (aligned); ``value_close`` (rows ×
    tickers, forward-filled) values the open positions. Arrays passed to
    vectorbt always have the same dtypes and shapes (2-D float), so its
    numba-compiled kernels are compiled once and then loaded from the cache.

    Returns
    -------
    vectorbt.Portfolio
        One group (cash shared), one column per packed column.
    """
    import vectorbt as vbt

    n_rows = len(grid)
    n_cols = int(column.max()) + 1 if len(column) else 1
    close = np.full((n_rows, n_cols), np.nan)
    size = np.full((n_rows, n_cols), np.nan)
    price = np.full((n_rows, n_cols), np.nan)
    fees = np.zeros((n_rows, n_cols))
    for c, e, x, t in zip(
        column.tolist(), entry_row.tolist(), exit_row.tolist(), ticker_col.tolist(), strict=True
    ):
        close[e : x + 1, c] = value_close[e : x + 1, t]
    if len(column):
        # A position is worth its entry price until its ticker has a close.
        first = close[entry_row, column]
        close[entry_row, column] = np.where(np.isnan(first), entry_price, first)
        size[entry_row, column] = shares
        size[exit_row, column] = -shares
        price[entry_row, column] = entry_price
        price[exit_row, column] = exit_price
        fees[entry_row, column] = entry_fees
        fees[exit_row, column] = exit_fees
    close = _ffill(close)
    close[np.isnan(close)] = 1.0  # no position there: any finite price values it at 0
    price[np.isnan(price)] = np.inf  # unused (no order); np.inf means "the close"
    frame = pd.DataFrame(close, index=grid)
    return vbt.Portfolio.from_orders(
        frame,
        size=size,
        size_type="amount",
        direction="longonly",
        price=price,
        fees=np.zeros((n_rows, n_cols)),
        fixed_fees=fees,
        init_cash=float(capital),
        cash_sharing=True,
        group_by=np.zeros(n_cols, dtype=np.int64),
        call_seq="auto",
        allow_partial=False,
        raise_reject=True,
        freq="1D",
    )


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
    conv = spec.entry
    calls = calls.reset_index(drop=True)
    closes, fills, opens, benchmark = _cut_panels(calls, closes, opens, benchmark, conv, as_of)
    entry = entry_points(calls, closes, opens, conv)
    ok = (entry["entry_status"] == ENTRY_OK).to_numpy()
    if not ok.any():
        counts = entry["entry_reason"].value_counts()
        raise NothingToTrade(
            f"none of the {len(calls)} selected calls can be entered: "
            + "; ".join(f"{n} × {r}" for r, n in counts.head(3).items())
        )
    first_entry = entry.loc[ok, "entry_session"].min()
    grid = sessions.sessions_between(previous_session(first_entry), closes.index[-1])
    value_m = _ffill(closes.reindex(grid).to_numpy(dtype=float))
    sched = _schedule(calls, entry, ok, grid, closes, fills, value_m, spec, book)
    cand, reason, lot, weight, exempt = _candidates(
        calls, entry, ok, sched, spec, lots, stamp_exempt
    )

    # The run ends with the last sale (all candidates are sold by then).
    n_rows = int(sched.exit_row[cand].max() if len(cand) else sched.entry_row[ok].max()) + 1
    grid = grid[:n_rows]
    bench, warnings = benchmark_equity(benchmark, grid, spec.capital_hkd, spec.benchmark)

    table = rates_on(grid, spec.costs.overrides())
    candidates = Candidates(
        entry_row=sched.entry_row[cand],
        exit_row=sched.exit_row[cand],
        ticker_col=sched.tcol[cand],
        entry_price=entry["entry_price"].to_numpy(dtype=float)[cand],
        exit_price=sched.exit_price[cand],
        weight=weight[cand],
        lot=np.nan_to_num(lot[cand]),
        exempt=exempt[cand],
    )
    plan: OrderPlan = plan_orders(
        candidates,
        value_m[:n_rows],
        capital=spec.capital_hkd,
        method=spec.sizing.method,
        max_positions=spec.sizing.max_positions,
        amount_hkd=spec.sizing.amount_hkd,
        costs=CostModel(
            enabled=spec.costs.enabled,
            rates={f: table[f].to_numpy(dtype=float) for f in RATE_FIELDS},
            commission_rate=spec.costs.commission_rate,
            commission_min_hkd=spec.costs.commission_min_hkd,
        ),
    )
    reason[cand] = plan.skip_reason
    bought = plan.shares > 0
    sel = np.flatnonzero(bought)
    pos = cand[sel]  # calls actually traded, by entry row
    status = np.full(len(calls), SKIPPED, dtype=object)
    status[pos] = np.where(sched.closed[pos], CLOSED, OPEN)

    column = (
        pack_columns(sched.entry_row[pos], sched.exit_row[pos]) if pack else np.arange(len(pos))
    )
    pf = simulate_orders(
        grid,
        column,
        sched.entry_row[pos],
        sched.exit_row[pos],
        candidates.entry_price[sel],
        candidates.exit_price[sel],
        plan.shares[sel],
        plan.entry_costs[sel].sum(axis=1),
        plan.exit_costs[sel].sum(axis=1),
        value_m[:n_rows],
        sched.tcol[pos],
        spec.capital_hkd,
    )
    trades_rec = _check_fills(pf, column, sched.entry_row[pos], sched.exit_row[pos], plan, sel)
    equity = pd.DataFrame(
        {
            "portfolio": np.asarray(pf.value(), dtype=float).ravel(),
            "cash": np.asarray(pf.cash(), dtype=float).ravel(),
            "benchmark": bench.to_numpy(),
        },
        index=pd.DatetimeIndex(grid, name="session"),
    )
    frame = _trades_frame(
        calls, entry, sched, status, reason, lot, grid, cand, plan, pos, trades_rec
    )
    costs = {
        name: round(float(plan.entry_costs[:, k].sum() + plan.exit_costs[:, k].sum()), 2)
        for k, name in enumerate(COST_COMPONENTS)
    }
    costs["total"] = round(sum(costs.values()), 2)
    n_skipped = int((status == SKIPPED).sum())
    if n_skipped:
        warnings.append(f"{n_skipped} of {len(calls)} selected calls not traded (see trades.csv)")
    return BacktestResult(
        spec=spec,
        equity=equity,
        trades=frame,
        costs=costs,
        warnings=tuple(warnings),
        n_columns=int(column.max()) + 1 if len(column) else 0,
        final_cash_planned=plan.final_cash,
    )


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


@dataclass(frozen=True)
class _Schedule:
    """Per call (aligned with the calls): rows of the grid and exit prices."""

    tcol: np.ndarray  # column of the ticker in the price frames
    entry_row: np.ndarray
    due: pd.DatetimeIndex  # exit due session (NaT: hold to the end)
    exit_row: np.ndarray
    exit_price: np.ndarray
    closed: np.ndarray  # sold at a bar on or after the due session
    exit_rule: np.ndarray  # why and how it was sold, in words


def _schedule(calls, entry, ok, grid, closes, fills, value_m, spec, book) -> _Schedule:
    """Entry rows and exits: the first bar on or after the due session, else (the
    ticker's data or all data ending first) the due or last session at the last close."""
    n_rows = len(grid)
    tcol = closes.columns.get_indexer(calls["ticker"])
    safe_t = np.maximum(tcol, 0)
    fill_m = fills.reindex(grid).to_numpy(dtype=float)
    due = scheduled_exits(calls, entry["entry_session"], spec.exit, spec.entry, book)
    due_s = pd.DatetimeIndex(due["exit_due"])
    due_row = np.where(due_s.isna(), n_rows, grid.searchsorted(due_s))
    nxt = next_valid_rows(~np.isnan(fill_m))
    nxt = np.vstack([nxt, np.full((1, nxt.shape[1]), n_rows)])  # row n_rows: "never"
    exit_row = nxt[np.minimum(due_row, n_rows), safe_t]
    closed = exit_row < n_rows
    exit_row = np.where(closed, exit_row, np.minimum(due_row, n_rows - 1))
    exit_price = np.where(closed, fill_m[exit_row, safe_t], value_m[exit_row, safe_t])

    rule = due["exit_rule"].to_numpy(dtype=object).copy()
    last_bar = last_valid_rows(~np.isnan(closes.reindex(grid).to_numpy(dtype=float)))
    for i in np.flatnonzero(ok):
        if closed[i] and exit_row[i] != due_row[i]:
            rule[i] += f"; no bar on {due_s[i].date()}, sold {grid[exit_row[i]].date()}"
        elif not closed[i] and due_row[i] >= n_rows:
            rule[i] += "; still held when the data end"
        elif not closed[i]:
            lb = last_bar[n_rows - 1, tcol[i]]
            seen = grid[lb].date() if lb >= 0 else "never"
            rule[i] += (
                f"; no bar on or after {due_s[i].date()} (last close {seen}): sold at that close"
            )
    entry_row = grid.get_indexer(pd.DatetimeIndex(entry["entry_session"]))
    return _Schedule(tcol, entry_row, due_s, exit_row, exit_price, closed, rule)


def _candidates(calls, entry, ok, sched: _Schedule, spec, lots, stamp_exempt):
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
    weight = np.array([spec.sizing.weight(r) for r in ratings])
    zero_w = ok & ~early & (weight <= 0)
    reason[zero_w] = [f"rating weight 0 for {r} (sizing.rating_weights)" for r in ratings[zero_w]]
    if spec.board_lots:
        lot = np.array([float(x) if x else np.nan for x in ((lots or {}).get(t) for t in tickers)])
        no_lot = ok & ~early & ~zero_w & np.isnan(lot)
        reason[no_lot] = [
            f"board lot of {t} unknown: import the HKEX list (`tracker registry import`)"
            for t in tickers[no_lot]
        ]
    else:
        lot = np.zeros(len(calls))
        no_lot = np.zeros(len(calls), dtype=bool)
    exempt = np.array([bool((stamp_exempt or {}).get(t, False)) for t in tickers])
    cand = np.flatnonzero(ok & ~early & ~zero_w & ~no_lot)
    cand = cand[np.argsort(sched.entry_row[cand], kind="stable")]
    return cand, reason, lot, weight, exempt


def _check_fills(pf, column, entry_row, exit_row, plan: OrderPlan, sel) -> np.ndarray:
    """vectorbt's trade records, one per traded call (aligned with ``sel``), checked
    against the plan: every order filled at its size, price and fees."""
    orders = pf.orders.values
    expected = 2 * len(sel)
    if len(orders) != expected:
        raise EngineMismatch(f"vectorbt filled {len(orders)} orders; the plan has {expected}")
    trades = pf.trades.values
    if len(trades) != len(sel):
        raise EngineMismatch(f"vectorbt made {len(trades)} trades; the plan has {len(sel)}")
    key = {(int(c), int(e)): k for k, (c, e) in enumerate(zip(column, entry_row, strict=True))}
    order = np.array(
        [key[(int(c), int(e))] for c, e in zip(trades["col"], trades["entry_idx"], strict=True)],
        dtype=np.int64,
    )
    aligned = np.empty_like(trades)
    aligned[order] = trades
    if not (
        np.array_equal(aligned["exit_idx"], exit_row)
        and np.allclose(aligned["size"], plan.shares[sel], rtol=0, atol=1e-9)
        and np.allclose(aligned["entry_fees"], plan.entry_costs[sel].sum(axis=1), atol=1e-9)
        and np.allclose(aligned["exit_fees"], plan.exit_costs[sel].sum(axis=1), atol=1e-9)
    ):
        raise EngineMismatch("vectorbt's trades differ from the order plan")
    return aligned


def _trades_frame(
    calls,
    entry,
    sched: _Schedule,
    status,
    reason,
    lot,
    grid,
    cand,
    plan: OrderPlan,
    pos,
    trades_rec,
) -> pd.DataFrame:
    n = len(calls)
    shares = np.zeros(n)
    shares[cand] = plan.shares
    entry_cost = np.zeros(n)
    exit_cost = np.zeros(n)
    entry_cost[cand] = plan.entry_costs.sum(axis=1)
    exit_cost[cand] = plan.exit_costs.sum(axis=1)
    note = np.full(n, "", dtype=object)
    note[cand] = plan.note
    traded = shares > 0
    pnl = np.full(n, np.nan)
    pnl[pos] = trades_rec["pnl"]
    entry_price = entry["entry_price"].to_numpy(dtype=float)
    entry_value = np.where(traded, shares * entry_price, np.nan)
    exit_price = sched.exit_price
    exit_value = np.where(traded, shares * exit_price, np.nan)
    exit_session = np.where(traded, grid[np.minimum(sched.exit_row, len(grid) - 1)], pd.NaT)
    holding = np.where(traded, sched.exit_row - sched.entry_row, -1)
    frame = pd.DataFrame(
        {
            "call_id": calls["call_id"],
            "report": calls["report"],
            "broker": calls["broker"],
            "published": calls["published"],
            "ticker": calls["ticker"],
            "name": calls["name"],
            "rating": calls["rating"],
            "status": status,
            "reason": reason,
            "entry_session": pd.DatetimeIndex(entry["entry_session"]),
            "entry_price": entry_price,
            "exit_due": sched.due,
            "exit_session": pd.DatetimeIndex(exit_session),
            "exit_price": np.where(traded, exit_price, np.nan),
            "shares": shares,
            "lot": lot,
            "entry_value_hkd": entry_value,
            "entry_costs_hkd": np.where(traded, entry_cost, np.nan),
            "exit_value_hkd": exit_value,
            "exit_costs_hkd": np.where(traded, exit_cost, np.nan),
            "pnl_hkd": pnl,
            "return_pct": 100.0 * pnl / (entry_value + entry_cost),
            "holding_sessions": np.where(traded, holding, np.nan),
            "exit_rule": sched.exit_rule,
            "note": note,
        },
        columns=TRADE_COLUMNS,
    )
    return frame
