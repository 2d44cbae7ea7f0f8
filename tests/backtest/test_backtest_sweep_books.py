"""The sweep reads each variant's value and cash from vectorbt's records without frames
(tracker.backtest.sweep.group_value_cash): the same numbers as ``pf.value()``/``pf.cash()``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.backtest.portfolio import from_orders
from tracker.backtest.sweep import group_value_cash


def test_group_value_cash_equals_vectorbts_value_and_cash():
    rng = np.random.default_rng(11)
    n_rows, widths = 60, [3, 2, 4]
    n_cols = sum(widths)
    close = np.exp(np.cumsum(rng.normal(0, 0.02, (n_rows, n_cols)), axis=0)) * 20
    close[:, 4] = 1.0  # a column that never holds anything
    size = np.full((n_rows, n_cols), np.nan)
    price = np.full((n_rows, n_cols), np.inf)
    fees = np.zeros((n_rows, n_cols))
    # Each used column buys once and sells later, with fixed fees.
    for c in (0, 1, 2, 3, 5, 6, 7, 8):
        e, x = sorted(rng.choice(n_rows, 2, replace=False))
        size[e, c], size[x, c] = 100.0, -100.0
        fees[e, c], fees[x, c] = 3.5, 4.25
    group_by = np.repeat(np.arange(len(widths)), widths)
    seq = np.concatenate([np.tile(np.arange(w), (n_rows, 1)) for w in widths], axis=1)
    capital = np.array([50_000.0, 80_000.0, 120_000.0])
    index = pd.bdate_range("2024-01-02", periods=n_rows)
    pf = from_orders(close, size, price, fees, seq, capital, group_by, index)
    value, cash = group_value_cash(pf, close, np.array(widths), capital)
    assert np.array_equal(value, np.asarray(pf.value()))
    assert np.array_equal(cash, np.asarray(pf.cash()))
    # And they are the books: group 1 (columns 3, 4) ends with its capital plus the
    # profit of its one trade, less its fees.
    c = 3
    e, x = np.flatnonzero(~np.isnan(size[:, c]))
    profit = 100 * (close[x, c] - close[e, c]) - 3.5 - 4.25
    assert abs(value[-1, 1] - (80_000 + profit)) < 1e-6
