"""Run statistics against empyrical-reloaded on the same daily returns, and by hand."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.backtest.stats import (
    daily_returns,
    max_drawdown_dates,
    relative_stats,
    return_stats,
    run_stats,
    trade_stats,
)

DECIMALS = 10
# HKEX sessions a year (tracker.constants.SESSIONS_PER_YEAR), written out: the oracle
# must not read it from the code under test.
ANN = 246


def series(seed: int, n: int = 400, drift: float = 0.0004, vol: float = 0.015) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-01-02", periods=n)
    return pd.Series(1e6 * np.exp(np.cumsum(rng.normal(drift, vol, n))), index=idx)


@pytest.mark.parametrize("seed", [0, 1, 2, 3], ids=lambda s: f"seed{s}")
def test_return_stats_match_empyrical(seed):
    v = series(seed)
    r = daily_returns(v)
    got = return_stats(v)
    # empyrical works on the same simple daily returns, annualised by 246.
    assert got["total_return"] == pytest.approx(empyrical.cum_returns_final(r), rel=1e-12)
    assert got["cagr"] == pytest.approx(empyrical.cagr(r, annualization=ANN), rel=1e-10)
    assert got["annual_volatility"] == pytest.approx(
        empyrical.annual_volatility(r, annualization=ANN), rel=1e-10
    )
    assert got["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=ANN), rel=1e-10)
    assert got["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=ANN), rel=1e-10)
    assert got["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-10)
    assert got["calmar"] == pytest.approx(empyrical.calmar_ratio(r, annualization=ANN), rel=1e-10)


@pytest.mark.parametrize("seed", [4, 5, 6], ids=lambda s: f"seed{s}")
def test_relative_stats_match_empyrical(seed):
    v = series(seed)
    b = series(seed + 100, drift=0.0002, vol=0.012)
    # make the portfolio depend on the benchmark so that beta is far from 0
    v = pd.Series(0.5 * v.to_numpy() + 0.5 * 1e6 * b.to_numpy() / b.iloc[0], index=v.index)
    r, rb = daily_returns(v), daily_returns(b)
    got = relative_stats(v, b)
    alpha, beta = empyrical.alpha_beta(r, rb, annualization=ANN)
    assert got["beta"] == pytest.approx(beta, rel=1e-10)
    assert got["alpha"] == pytest.approx(alpha, rel=1e-9)
    ir_daily = empyrical.excess_sharpe(r, rb)
    assert got["information_ratio"] == pytest.approx(ir_daily * math.sqrt(ANN), rel=1e-10)
    # tracking error = annualised std of the active return; IR = mean(active) / TE × √246 ... so
    # TE = mean(active) × 246 / IR (annualised), from empyrical's excess Sharpe
    active_mean = float((r - rb).mean())
    assert got["tracking_error"] == pytest.approx(
        active_mean * ANN / (ir_daily * math.sqrt(ANN)), rel=1e-9
    )


def test_drawdown_dates_by_hand():
    idx = pd.bdate_range("2025-01-06", periods=8)
    # values:      100  120  90   60   80   130  100  125
    # peak 120 on day 2 (01-07), trough 60 on day 4 (01-09): -50%; recovered (>=120)
    # on day 6 (01-13, 130). The later dip 130 -> 100 is only -23%.
    v = pd.Series([100, 120, 90, 60, 80, 130, 100, 125], index=idx, dtype=float)
    dd = max_drawdown_dates(v)
    assert dd["max_drawdown"] == pytest.approx(-0.5)
    assert (dd["peak"], dd["trough"], dd["recovery"]) == (idx[1], idx[3], idx[5])
    no_recovery = pd.Series([100, 120, 90, 60, 80, 110], index=idx[:6], dtype=float)
    assert max_drawdown_dates(no_recovery)["recovery"] is None


def test_flat_series_gives_undefined_ratios_not_errors():
    v = pd.Series(1e6, index=pd.bdate_range("2025-01-06", periods=10), dtype=float)
    got = return_stats(v)
    assert got["total_return"] == 0 and got["max_drawdown"] == 0
    assert math.isnan(got["sharpe"]) and math.isnan(got["sortino"]) and math.isnan(got["calmar"])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.001, 1000))
def test_drawdown_and_ratios_do_not_depend_on_the_unit(seed, scale):
    v = series(seed, n=60)
    a, b = return_stats(v), return_stats(v * scale)
    for key in ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar"):
        assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-12)


def test_benchmark_against_itself():
    v = series(9)
    got = relative_stats(v, v)
    assert got["beta"] == pytest.approx(1.0, rel=1e-12)
    assert got["alpha"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(got["information_ratio"])  # no active return at all


def test_trade_stats_by_hand():
    trades = pd.DataFrame(
        {
            "status": ["closed", "closed", "open", "skipped"],
            "entry_value_hkd": [100_000, 50_000, 50_000, np.nan],
            "exit_value_hkd": [110_000, 45_000, 55_000, np.nan],
            "pnl_hkd": [9_800, -5_200, 4_700, np.nan],
        }
    )
    idx = pd.bdate_range("2025-01-06", periods=124)  # 123 returns = half a 246-session year
    values = pd.Series(200_000.0, index=idx)
    got = trade_stats(trades, values)
    # 3 trades, 2 won; traded value (100+50+50+110+45+55)k = 410k, half of it 205k,
    # over a mean value of 200k = 1.025 in half a year -> 2.05 a year.
    assert got["trades"] == 3 and got["calls_skipped"] == 1 and got["trades_open_at_end"] == 1
    assert got["win_rate"] == pytest.approx(2 / 3)
    assert got["turnover"] == pytest.approx(2.05)


def test_run_stats_collects_everything():
    v = series(11, n=50)
    eq = pd.DataFrame({"portfolio": v, "cash": v * 0.25, "benchmark": series(12, n=50)})
    trades = pd.DataFrame(
        {"status": ["closed"], "entry_value_hkd": [1.0], "exit_value_hkd": [1.0], "pnl_hkd": [0.5]}
    )
    out = run_stats(eq, trades, {"stamp_duty": 3.0, "total": 3.0}, 1e6)
    assert out["sessions"] == 49
    assert out["costs_paid_hkd"] == 3.0 and out["costs_by_component_hkd"] == {"stamp_duty": 3.0}
    assert out["average_exposure"] == pytest.approx(0.75)
    assert out["excess_return"] == pytest.approx(
        v.iloc[-1] / v.iloc[0] - eq["benchmark"].iloc[-1] / eq["benchmark"].iloc[0]
    )
    assert set(out["benchmark"]) >= {"total_return", "cagr", "sharpe", "max_drawdown", "calmar"}
