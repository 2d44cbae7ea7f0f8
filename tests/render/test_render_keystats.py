"""A backtest's key statistics: one set of rows for the terminal and the report."""

from __future__ import annotations

import math

import pandas as pd

from tracker.render.keystats import compared_rows, key_stat_rows, portfolio_rows

NAN = math.nan


def _side(**over):
    base = {
        "final_equity_hkd": 1_105_000.0,
        "total_return": 0.105,
        "cagr": 0.2104,
        "annual_volatility": 0.25,
        "sharpe": 1.234,
        "sortino": NAN,
        "max_drawdown": -0.0825,
        "max_drawdown_peak": pd.Timestamp("2025-05-20"),
        "max_drawdown_trough": pd.Timestamp("2025-06-03"),
        "max_drawdown_recovery": None,
        "calmar": 2.55,
    }
    return {**base, **over}


STATS = {
    **_side(),
    "benchmark": _side(final_equity_hkd=1_020_000.0, total_return=0.02, sharpe=0.5),
    "excess_return": 0.085,
    "beta": 0.9,
    "alpha": 0.031,
    "tracking_error": 0.12,
    "information_ratio": 0.7,
    "trades": 12,
    "trades_open_at_end": 3,
    "calls_skipped": 2,
    "win_rate": 7 / 12,
    "turnover": 2.049,
    "average_exposure": 0.8,
    "costs_paid_hkd": 1234.567,
}


def test_compared_rows_format_both_sides():
    rows = {label: (a, b) for label, a, b in compared_rows(STATS)}
    assert rows["final equity (HKD)"] == ("1,105,000", "1,020,000")
    assert rows["total return"] == ("10.50%", "2.00%")
    assert rows["Sharpe"] == ("1.23", "0.50")
    assert rows["Sortino"] == ("", "")  # undefined: empty, not "nan"
    assert rows["  peak → trough"] == ("2025-05-20 → 2025-06-03",) * 2
    assert rows["  recovered"] == ("not yet", "not yet")


def test_portfolio_rows():
    rows = dict(portfolio_rows(STATS))
    assert rows["win rate"] == "58.33%"  # 7 / 12 = 0.58333
    assert rows["trades (open at end)"] == "12 (3)"
    assert rows["turnover (per year)"] == "2.05×"
    assert rows["costs paid (HKD)"] == "1,234.57"


def test_key_stat_rows_are_both_lists_in_order():
    rows = key_stat_rows(STATS)
    assert rows[: len(compared_rows(STATS))] == compared_rows(STATS)
    assert [r[0] for r in rows[len(compared_rows(STATS)) :]] == [
        label for label, _ in portfolio_rows(STATS)
    ]
    assert all(r[2] == "" for r in rows[len(compared_rows(STATS)) :])
