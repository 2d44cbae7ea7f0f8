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


def n_columns(column: np.ndarray) -> int:
    """vectorbt columns a portfolio of packed positions needs (at least one)."""
    return int(column.max()) + 1 if len(column) else 1


def blank_order_arrays(n_rows: int, n_cols: int) -> tuple[np.ndarray, ...]:
    """``(close, size, price, fees, call_seq)`` with no position and no order: a close of
    1.0 (any finite close values no holding at 0), no size (NaN), price ``np.inf`` ("the
    close", never used without an order), no fee, and the columns in order on each row."""
    return (
        np.ones((n_rows, n_cols)),
        np.full((n_rows, n_cols), np.nan),
        np.full((n_rows, n_cols), np.inf),
        np.zeros((n_rows, n_cols)),
        np.tile(np.arange(n_cols, dtype=np.int64), (n_rows, 1)),
    )


def write_orders(
    out: tuple[np.ndarray, ...],
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
) -> None:
    """Write one portfolio's positions into ``out``, arrays (or views of a larger
    simulation's arrays) as :func:`blank_order_arrays` makes them.

    The call sequence puts, on each row with orders, the sales first, then the buys in
    the plan's order (``column`` is aligned with the plan's buys): the order
    :func:`tracker.backtest.orders.plan_orders` moves cash in, so vectorbt's cash follows
    the plan's sums; it is also cheaper than ``"auto"``, which sorts every row by
    approximate order value.
    """
    close, size, price, fees, seq = out
    if not len(column):
        return
    # Each position's closes from its entry to its exit row (after it), all at once:
    # positions of one column never share a row, so no cell is written twice.
    span = exit_row - entry_row + 1
    offset = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
    rows = np.repeat(entry_row, span) + offset
    held = value_close[rows, np.repeat(ticker_col, span)]
    # ``value_close`` is forward-filled, so a ticker without a close yet has NaN only at
    # the start of a span: the position is worth its entry price until it has one.
    missing = np.isnan(held)
    held[missing] = np.repeat(entry_price, span)[missing]
    close[rows, np.repeat(column, span)] = held
    size[entry_row, column] = shares
    size[exit_row, column] = -shares
    price[entry_row, column] = entry_price
    price[exit_row, column] = exit_price
    fees[entry_row, column] = entry_fees
    fees[exit_row, column] = exit_fees
    # Sort key per cell of the rows with orders: sales, then buys, then cells without one.
    order_rows = np.unique(np.concatenate([entry_row, exit_row]))
    key = np.full((len(order_rows), seq.shape[1]), 2 * len(column) + 1.0)
    key[np.searchsorted(order_rows, exit_row), column] = -1.0
    key[np.searchsorted(order_rows, entry_row), column] = np.arange(len(column), dtype=float)
    seq[order_rows] = np.argsort(key, axis=1, kind="stable")


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
    arrays = blank_order_arrays(len(grid), n_columns(column))
    write_orders(
        arrays,
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
    close, size, price, fees, seq = arrays
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
