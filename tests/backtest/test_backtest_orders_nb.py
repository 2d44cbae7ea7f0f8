"""The compiled order plan and cost arithmetic equal the plain Python ones, bit for bit.

The references are :func:`tracker.backtest.costs.cost_components` (whose charges
test_backtest_costs.py works out by hand) and :func:`tracker.backtest.orders.
plan_orders`, the plain session loop. Inputs are seeded random draws built to hit
every branch: rounding edges of each charge, schedule changes, ETFs, board lots
and fractional shares, cash running out, the position limit, tiny orders, costs
above an order's value and sales worth less than their costs.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from tracker.backtest.costs import RATE_FIELDS, cost_components, rates_on
from tracker.backtest.orders import Candidates, CostModel, plan_orders
from tracker.backtest.orders_nb import cost_components_nb, plan_orders_nb

# Trade dates across every change of the schedule (2014 SFC cut ... 2025 settlement fee).
DATES = pd.bdate_range("2014-06-02", "2026-03-31", freq="7B")


def cost_model(enabled=True, commission_rate=0.0003, commission_min=3.0, dates=DATES, **over):
    table = rates_on(dates, over or None)
    return CostModel(
        enabled=enabled,
        rates={f: table[f].to_numpy(dtype=float) for f in RATE_FIELDS},
        commission_rate=commission_rate,
        commission_min_hkd=commission_min,
    )


def edge_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Considerations on and around the rounding edges of every charge, and at random."""
    exact = np.concatenate(
        [
            # Whole dollars of stamp duty at 0.1% and 0.13% (1,000 x k; 10,000/13 x k is not
            # a cent amount, so 7,692.31 and 7,692.30 straddle one dollar at 0.13%).
            1000.0 * rng.integers(1, 10_000, n // 8),
            [7692.30, 7692.31, 15384.61, 15384.62],
            # Settlement fee at its HK$2 minimum (100,000 x 0.002%) and HK$100 maximum
            # (5,000,000 x 0.002%), and a cent either side.
            [99_999.99, 100_000.0, 100_000.01, 4_999_999.99, 5_000_000.0, 5_000_000.01],
            # Commission at its minimum: 3 / 0.0003 = 10,000.
            [9_999.99, 10_000.0, 10_000.01],
            # Half-cent edges of the levies: 0.0027% of 185,185.19 = 5.0000001 ...
            [185_185.0, 185_185.19, 18_518.52, 88_495.58, 88_495.57, 333_333.33],
            # Nothing, less than a cent, a cent, negative (no charge).
            [0.0, 0.004, 0.005, 0.01, -5.0],
        ]
    )
    lots = rng.choice([100, 200, 500, 1000, 2000], n)
    prices = np.round(rng.uniform(0.01, 600, n), 3)
    share_values = lots * rng.integers(1, 50, n) * prices  # shares x price, binary noise
    random = 10 ** rng.uniform(-2, 8, n)
    return np.concatenate([exact, share_values, random])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "model",
    [
        pytest.param(dict(), id="schedule"),
        pytest.param(dict(commission_rate=0.0025, commission_min=100.0), id="dear-broker"),
        pytest.param(dict(commission_rate=0.0, commission_min=0.0), id="no-commission"),
        pytest.param(dict(enabled=False), id="costs-off"),
        pytest.param(dict(settlement_fee_min_hkd=5.0, stamp_duty_rate=0.0013), id="overrides"),
    ],
)
def test_cost_kernel_equals_cost_components(seed, model):
    rng = np.random.default_rng(seed)
    costs = cost_model(**model)
    value = edge_values(rng, 400)
    rows = rng.integers(0, len(DATES), len(value))
    exempt = rng.random(len(value)) < 0.3
    got = cost_components_nb(value, rows, costs, exempt)
    if costs.enabled:
        rates = {k: v[rows] for k, v in costs.rates.items()}
        want = cost_components(
            value, rates, exempt, costs.commission_rate, costs.commission_min_hkd
        )
    else:
        want = np.zeros_like(got)
    # Bit for bit, not to a tolerance: a cent or a dollar of difference must not hide.
    np.testing.assert_array_equal(got, want)


def test_cost_kernel_rounding_edges_by_hand():
    # On 2025-07-02 (rates of 2025-06-30 on): 7,692.31 -> stamp 0.1% = 7.69231 -> 8;
    # 1,000.00 -> stamp exactly 1.00 -> 1 (not 2); commission max(0.30, 3) = 3;
    # settlement 0.0042% of 1,000 = 0.042 -> 0.04.
    dates = pd.DatetimeIndex(["2025-07-02"])
    got = cost_components_nb(np.array([7692.31, 1000.0]), 0, cost_model(dates=dates), False)
    assert got[0, 1] == 8.0
    assert got[1, 1] == 1.0
    assert got[1, 0] == 3.0
    assert got[1, 6] == 0.04


def random_candidates(rng: np.random.Generator, n: int, n_rows: int, fractional: bool):
    n_tickers = 12
    walk = np.exp(np.cumsum(rng.normal(0, 0.03, (n_rows, n_tickers)), axis=0))
    close = walk * rng.uniform(0.5, 300, n_tickers)
    close[rng.random(close.shape) < 0.05] = np.nan  # holes (no bar)
    entry_row = np.sort(rng.integers(1, n_rows - 2, n))
    exit_row = np.minimum(entry_row + rng.integers(1, 40, n), n_rows - 1)
    tcol = rng.integers(0, n_tickers, n)
    entry_price = np.where(
        np.isnan(close[entry_row, tcol]), rng.uniform(1, 100, n), close[entry_row, tcol]
    )
    exit_price = np.nan_to_num(close[exit_row, tcol], nan=entry_price)
    # Some positions lose nearly everything: a sale worth less than its costs.
    crash = rng.random(n) < 0.08
    exit_price = np.where(crash, rng.uniform(1e-4, 1e-2, n), exit_price)
    lot = np.zeros(n) if fractional else rng.choice([100.0, 500.0, 1000.0, 2000.0], n)
    value_close = pd.DataFrame(close).ffill().to_numpy()
    cand = Candidates(
        entry_row=entry_row,
        exit_row=exit_row,
        ticker_col=tcol,
        entry_price=entry_price,
        exit_price=exit_price,
        weight=rng.choice([1.0, 0.75, 0.5], n),
        lot=lot,
        exempt=rng.random(n) < 0.2,
    )
    return cand, value_close


def reason_kinds(plan) -> Counter:
    kinds = Counter(r.split(":")[0].split(" HKD")[0] for r in plan.skip_reason if r)
    kinds.update(("note: " + x.split(" ")[0]) for x in plan.note if x)
    kinds.update("note: capped" for x in plan.note if "charged the proceeds" in x)
    return kinds


SIZINGS = [
    pytest.param(dict(method="equal", max_positions=10, amount_hkd=None), id="equal-10"),
    pytest.param(dict(method="rating", max_positions=4, amount_hkd=None), id="rating-4"),
    pytest.param(dict(method="fixed", max_positions=30, amount_hkd=40_000.0), id="fixed-40k"),
    pytest.param(dict(method="fixed", max_positions=30, amount_hkd=2.0), id="fixed-tiny"),
    pytest.param(dict(method="fixed", max_positions=30, amount_hkd=0.005), id="fixed-sub-cent"),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sizing", SIZINGS)
@pytest.mark.parametrize("fractional", [False, True], ids=["lots", "fractional"])
@pytest.mark.parametrize("capital", [30_000.0, 400_000.0, 5e6], ids=["30k", "400k", "5m"])
def test_compiled_plan_equals_python_plan(seed, sizing, fractional, capital):
    rng = np.random.default_rng(seed)
    n_rows = 120
    cand, value_close = random_candidates(rng, 150, n_rows, fractional)
    costs = cost_model(
        commission_min=rng.choice([3.0, 50.0]),
        dates=pd.bdate_range("2021-05-03", periods=n_rows),  # across the 2021-08-01 change
    )
    kw = dict(capital=capital, costs=costs, **sizing)
    want = plan_orders(cand, value_close, **kw)
    got = plan_orders_nb(cand, value_close, **kw)
    np.testing.assert_array_equal(got.shares, want.shares)
    np.testing.assert_array_equal(got.entry_costs, want.entry_costs)
    np.testing.assert_array_equal(got.exit_costs, want.exit_costs)
    assert got.final_cash == want.final_cash
    assert list(got.skip_reason) == list(want.skip_reason)
    assert list(got.note) == list(want.note)


def test_random_plans_reach_every_branch():
    # The draws above are only worth something if they reach every skip reason and note.
    seen: Counter = Counter()
    for seed in range(4):
        for sizing in SIZINGS:
            for fractional in (False, True):
                for capital in (30_000.0, 400_000.0, 5e6):
                    rng = np.random.default_rng(seed)
                    cand, value_close = random_candidates(rng, 150, 120, fractional)
                    costs = cost_model(
                        commission_min=rng.choice([3.0, 50.0]),
                        dates=pd.bdate_range("2021-05-03", periods=120),
                    )
                    plan = plan_orders_nb(
                        cand, value_close, capital=capital, costs=costs, **sizing.values[0]
                    )
                    seen.update(reason_kinds(plan))
    expected = {
        # ("target HKD ... buys nothing", fractional shares, needs a target of 0: with
        # weights > 0 and a positive value it is not reached.)
        "below one board lot",
        "cash exhausted",
        "order worth",
        "costs",
        "note: reduced",
        "note: capped",
    }
    assert expected <= set(seen), seen
    assert any("positions already open" in k for k in seen), seen


def test_costs_off_plan_equals_python_plan():
    rng = np.random.default_rng(7)
    cand, value_close = random_candidates(rng, 200, 150, False)
    kw = dict(
        capital=1e6,
        method="equal",
        max_positions=12,
        amount_hkd=None,
        costs=cost_model(enabled=False, dates=pd.bdate_range("2020-01-02", periods=150)),
    )
    want, got = plan_orders(cand, value_close, **kw), plan_orders_nb(cand, value_close, **kw)
    np.testing.assert_array_equal(got.shares, want.shares)
    assert not got.entry_costs.any() and not got.exit_costs.any()
    assert got.final_cash == want.final_cash


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 1000, 4099, 70_001])
def test_pairwise_sum_is_numpys_sum(n):
    from tracker.backtest.orders_nb import pairwise_sum

    rng = np.random.default_rng(n)
    # Magnitudes over ten orders, so that the order of the additions shows in the last bits.
    a = rng.random(n + 5) * 10 ** rng.uniform(-3, 7, n + 5)
    assert pairwise_sum(a, 5, n) == a[5:].sum()
    assert pairwise_sum(a, 0, n) == a[:n].sum()


def test_engine_runs_the_same_with_either_plan(monkeypatch):
    # The engine plans small runs with the Python loop and large ones compiled: a run
    # must not depend on which one it used.
    from helpers.synthetic import make_universe

    from tracker.backtest import engine
    from tracker.backtest.spec import BacktestSpec

    calls, closes, bench = make_universe(30, 2, 400, 3)
    closes, bench = closes.ffill().bfill(), bench.ffill().bfill()
    spec = BacktestSpec.model_validate(
        {
            "name": "either",
            "exit": {"rule": "fixed", "months": 3},
            "sizing": {"method": "equal", "max_positions": 25},
            "capital_hkd": 2_000_000,
            "board_lots": True,
        }
    )
    lots = {t: 500 for t in closes.columns}
    runs = []
    for threshold in (0, 10**9):
        monkeypatch.setattr(engine, "COMPILED_PLAN_FROM", threshold)
        runs.append(engine.run_backtest(calls, closes, bench, spec, lots=lots))
    compiled, plain = runs
    pd.testing.assert_frame_equal(compiled.equity, plain.equity, check_exact=True)
    pd.testing.assert_frame_equal(compiled.trades, plain.trades, check_exact=True)
    assert (plain.trades["status"] == "closed").sum() > 50
