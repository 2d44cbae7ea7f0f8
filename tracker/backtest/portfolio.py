"""The vectorbt side of a backtest: columns for the positions, the orders run, fills checked.

``vectorbt.Portfolio.from_orders`` runs the book (cash, positions, value,
trade records) with the sizes and per-order ``fixed_fees`` of the order plan
(:mod:`tracker.backtest.orders`); :func:`check_fills` then checks that it
filled every order as planned.

Positions are packed into vectorbt columns: a column holds one position at a
time and is reused only by a call entered on a later session than the previous
one's exit, so two positions open at the same time never share a column
(results are the same as with one column per call). vectorbt is imported
inside :func:`simulate_orders` only.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from tracker.backtest.orders import OrderPlan
from tracker.backtest.schedule import ffill_rows
from tracker.errors import TrackerError


class EngineMismatch(TrackerError):
    """vectorbt did not fill the orders as planned (a bug: please report it)."""


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


def order_arrays(
    n_rows: int,
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
) -> tuple[np.ndarray, ...]:
    """The 2-D arrays ``from_orders`` takes for one portfolio (rows x packed columns).

    Returns ``(close, size, price, fees, call_seq)``: closes valuing each column's
    position (1.0 where it holds none), order sizes (NaN: no order), fill prices,
    fixed fees and the order of the calls within each row (see :func:`call_sequence`).
    """
    n_cols = int(column.max()) + 1 if len(column) else 1
    close = np.full((n_rows, n_cols), np.nan)
    size = np.full((n_rows, n_cols), np.nan)
    price = np.full((n_rows, n_cols), np.nan)
    fees = np.zeros((n_rows, n_cols))
    # Each position's closes from its entry to its exit row (after it), all at once:
    # positions of one column never share a row, so no cell is written twice.
    span = exit_row - entry_row + 1
    if len(span):
        offset = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
        rows = np.repeat(entry_row, span) + offset
        close[rows, np.repeat(column, span)] = value_close[rows, np.repeat(ticker_col, span)]
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
    close = ffill_rows(close)
    close[np.isnan(close)] = 1.0  # no position there: any finite price values it at 0
    price[np.isnan(price)] = np.inf  # unused (no order); np.inf means "the close"
    return close, size, price, fees, call_sequence(n_rows, n_cols, column, entry_row, exit_row)


def call_sequence(
    n_rows: int, n_cols: int, column: np.ndarray, entry_row: np.ndarray, exit_row: np.ndarray
) -> np.ndarray:
    """vectorbt's ``call_seq`` for one cash-sharing group: on each row, the sales first,
    then the buys in the plan's order (``column`` is aligned with the plan's buys).

    This is the order :func:`tracker.backtest.orders.plan_orders` moves cash in, so
    vectorbt's cash follows the plan's sums; it is also cheaper than ``"auto"``, which
    sorts every row by approximate order value.
    """
    seq = np.tile(np.arange(n_cols, dtype=np.int64), (n_rows, 1))
    if not len(column):
        return seq
    # Sort key per cell: sales before buys before cells without an order.
    key = np.full((n_rows, n_cols), 2 * len(column) + 1.0)
    key[exit_row, column] = -1.0
    key[entry_row, column] = np.arange(len(column), dtype=float)
    rows = np.unique(np.concatenate([entry_row, exit_row]))
    seq[rows] = np.argsort(key[rows], axis=1, kind="stable")
    return seq


def vectorbt():
    """The ``vectorbt`` module, its group lengths computed by :func:`group_lens`.

    With vectorbt's Rust kernels, the one numba function a run still calls is
    ``get_group_lens_nb`` (the length of each cash-sharing group). Its first call
    in a process loads numba's compiler, about 0.2 s, a third of a warm run's own
    cost; :func:`group_lens` returns the same array with numpy.
    """
    import vectorbt as vbt
    from vectorbt.base import column_grouper

    global _numba_group_lens
    if column_grouper.get_group_lens_nb is not group_lens:
        _numba_group_lens = column_grouper.get_group_lens_nb
        column_grouper.get_group_lens_nb = group_lens
    return vbt


#: vectorbt's own ``get_group_lens_nb``, once :func:`vectorbt` has replaced it.
_numba_group_lens = None


def group_lens(groups: np.ndarray) -> np.ndarray:
    """vectorbt's ``get_group_lens_nb`` in numpy: the length of each run of equal ids.

    Ids must be coherent and sorted (``[0, 0, 1, 2, 2]``): a decrease raises vectorbt's
    ``ValueError``. Negative ids (which vectorbt's grouper never makes) are left to the
    numba function itself, whose answer for them is its own.
    """
    groups = np.asarray(groups)
    if len(groups) and groups.min() < 0:
        from vectorbt.base import column_grouper

        return (_numba_group_lens or column_grouper.get_group_lens_nb)(groups)
    if (np.diff(groups) < 0).any():
        raise ValueError("Groups must be coherent and sorted (such as [0, 0, 1, 2, 2, ...])")
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else []
    return np.diff(np.r_[starts, len(groups)]).astype(np.int64)


def from_orders(close, size, price, fees, call_seq, capital, group_by, index):
    """``vectorbt.Portfolio.from_orders`` with the engine's settings: amounts, long only,
    cash shared within each group, no partial fills, a refusal raised as
    :class:`EngineMismatch`. ``capital`` is the initial cash of each group."""
    vbt = vectorbt()
    from vectorbt.portfolio.enums import RejectedOrderError

    try:
        return vbt.Portfolio.from_orders(
            pd.DataFrame(close, index=index),
            size=size,
            size_type="amount",
            direction="longonly",
            price=price,
            fees=0.0,
            fixed_fees=fees,
            init_cash=capital,
            cash_sharing=True,
            group_by=group_by,
            call_seq=call_seq,
            allow_partial=False,
            raise_reject=True,
            # Room for exactly the planned orders: the default, one record per cell,
            # allocates about 56 bytes a cell.
            max_orders=max(1, int(np.isfinite(size).sum())),
            freq="1D",
        )
    except RejectedOrderError as exc:
        # The plan sizes every order to fit; a refusal means the plan and vectorbt disagree.
        raise EngineMismatch(
            f"vectorbt refused an order of the plan ({exc}); this is a bug in tracker:"
            " please report it with the spec"
        ) from None


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

    Every input array is per position (aligned, in the plan's order of buys);
    ``value_close`` (rows × tickers, forward-filled) values the open positions.
    Arrays passed to vectorbt always have the same dtypes and shapes (2-D float),
    so its numba-compiled kernels are compiled once and then loaded from the cache.

    Returns
    -------
    vectorbt.Portfolio
        One group (cash shared), one column per packed column.
    """
    close, size, price, fees, seq = order_arrays(
        len(grid),
        column,
        entry_row,
        exit_row,
        entry_price,
        exit_price,
        shares,
        entry_fees,
        exit_fees,
        value_close,
        ticker_col,
    )
    group_by = np.zeros(close.shape[1], dtype=np.int64)
    return from_orders(close, size, price, fees, seq, float(capital), group_by, grid)


def check_fills(pf, column, entry_row, exit_row, plan: OrderPlan, sel) -> np.ndarray:
    """vectorbt's trade records, one per traded call (aligned with ``sel``), checked
    against the plan: every order filled at its size, price and fees."""
    return check_fill_records(
        pf.orders.values, pf.trades.values, column, entry_row, exit_row, plan, sel
    )


def check_fill_records(orders, trades, column, entry_row, exit_row, plan: OrderPlan, sel):
    """:func:`check_fills` on vectorbt's order and trade records of one portfolio."""
    expected = 2 * len(sel)
    if len(orders) != expected:
        raise EngineMismatch(f"vectorbt filled {len(orders)} orders; the plan has {expected}")
    if len(trades) != len(sel):
        raise EngineMismatch(f"vectorbt made {len(trades)} trades; the plan has {len(sel)}")
    # Match each trade to its planned buy by (column, entry row), a unique pair: one
    # integer key each, sorted once and searched (a dict would cost a loop per trade).
    span = int(max(np.max(entry_row, initial=0), np.max(trades["entry_idx"], initial=0))) + 1
    planned = np.asarray(column, dtype=np.int64) * span + np.asarray(entry_row, dtype=np.int64)
    made = trades["col"].astype(np.int64) * span + trades["entry_idx"].astype(np.int64)
    by_key = np.argsort(planned, kind="stable")
    at = np.searchsorted(planned[by_key], made)
    at = np.minimum(at, max(len(planned) - 1, 0))
    if len(made) and (
        not np.array_equal(planned[by_key][at], made) or len(np.unique(at)) != len(at)
    ):
        raise EngineMismatch("vectorbt's trades are not the plan's buys, one each")
    order = by_key[at]
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
