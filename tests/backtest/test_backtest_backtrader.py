"""backtrader, a second independent engine, agrees with ours on the same spec and data.

The backtrader strategy lives in ``tests/helpers/backtest_oracle.py``; the benchmarks time
it too (``benchmarks/bench_backtest.py``).
"""

from __future__ import annotations

import pytest
from helpers import backtest_oracle as bench


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="bench-spec"),
        pytest.param(
            {"sizing": {"method": "equal", "max_positions": 8}, "capital_hkd": 3_000_000},
            id="crowded-small-capital",
        ),
        pytest.param(
            {
                "exit": {"rule": "fixed", "months": 2},
                "costs": {"commission_rate": 0.0025, "commission_min_hkd": 100},
            },
            id="short-hold-expensive-broker",
        ),
    ],
)
def test_backtrader_agrees_on_final_equity(overrides):
    u = bench.universe(n_tickers=20, years=2, n_calls=150, seed=3)
    spec = bench.bench_spec(**overrides)
    ours = bench.engine_run(u, spec)
    theirs = bench.backtrader_run(u, spec)
    traded = int((ours.trades["status"] != "skipped").sum())
    assert traded >= 10
    assert theirs == pytest.approx(ours.final_equity, rel=1e-6)
    assert ours.final_equity != spec.capital_hkd


def test_the_schedule_of_the_baseline_matches_the_engine():
    u = bench.universe(n_tickers=20, years=2, n_calls=150, seed=4)
    calls, closes, _, _ = u
    ours = bench.engine_run(u, bench.bench_spec()).trades
    rows = bench.schedule(calls, closes, 6)
    days = closes.index
    by_call = {calls["call_id"].iloc[k]: (days[i], days[x]) for k, i, x, _t in rows}
    traded = ours[ours["status"] != "skipped"]
    for row in traded.itertuples():
        assert (row.entry_session, row.exit_session) == by_call[row.call_id]
