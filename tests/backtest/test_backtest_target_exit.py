"""``exit.rule: target`` and ``exit.stop_pct`` on hand-made prices (results by hand).

Session dates are written out (HKEX 2025: 3-4 July and 4 August are sessions),
never computed with the calendar helpers under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from tracker.backtest.engine import run_backtest
from tracker.backtest.spec import BacktestSpec

DAYS = pd.DatetimeIndex(
    [
        "2025-07-02",
        "2025-07-03",
        "2025-07-04",
        "2025-07-07",
        "2025-07-08",
        "2025-07-09",
        "2025-07-10",
        "2025-07-11",
        "2025-07-14",
        "2025-07-15",
        "2025-07-16",
        "2025-07-17",
    ]
)
#            07-02 07-03 07-04 07-07 07-08 07-09 07-10 07-11 07-14 07-15 07-16 07-17
UP = [10.0, 10.0, 10.5, 11.0, 12.0, 12.5, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0]
DOWN = [10.0, 10.0, 9.5, 9.0, 8.9, 8.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0]


def calls(*rows, published="2025-07-02") -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["call_id", "ticker", "target_price", "target_currency"])
    out["broker"], out["rating"] = "A", "buy"
    out["published"] = out["start_date"] = pd.Timestamp(published)
    out["report"] = out["call_id"].str.split("#").str[0]
    out["name"] = out["ticker"]
    out["horizon_min_months"] = out["horizon_max_months"] = 12
    return out


def run(exit_rule: dict, entry: str = "next-close", rows=None, published="2025-07-02"):
    closes = pd.DataFrame({"0001.HK": UP, "0002.HK": DOWN}, index=DAYS)
    s = BacktestSpec.model_validate(
        {
            "name": "t",
            "entry": entry,
            "exit": exit_rule,
            "costs": {"enabled": False},
            "board_lots": False,
        }
    )
    bench = pd.Series(np.linspace(24000, 25000, len(DAYS)), index=DAYS)
    rows = rows or [("a#1", "0001.HK", 12.0, "HKD"), ("b#1", "0002.HK", 12.0, "HKD")]
    return run_backtest(calls(*rows, published=published), closes, bench, s).trades.set_index(
        "call_id"
    )


def test_sell_after_the_first_close_at_the_target():
    t = run({"rule": "target"})
    # a: entered at the 07-03 close (10). First close >= 12 is 07-08 (12.0): known at that
    # close, sold at the next session's close, 07-09, at 12.5.
    assert str(t.loc["a#1", "exit_session"].date()) == "2025-07-09"
    assert t.loc["a#1", "exit_price"] == pytest.approx(12.5)
    assert t.loc["a#1", "exit_rule"] == "target 12 reached at the close of 2025-07-08"
    # b never closes at 12: held to its 12-month horizon, beyond the data: still open.
    assert t.loc["b#1", "status"] == "open"


def test_same_close_sells_at_the_triggering_close():
    t = run({"rule": "target"}, entry="same-close", published="2025-07-03")
    # Entered at the 07-03 close (10); sold at the 07-08 close of 12.0 itself.
    assert str(t.loc["a#1", "exit_session"].date()) == "2025-07-08"
    assert t.loc["a#1", "exit_price"] == pytest.approx(12.0)


def test_stop_pct_sells_after_the_first_close_at_or_below_the_stop():
    t = run({"rule": "target", "stop_pct": 0.1})
    # b: entry 10, stop 10 * (1 - 0.1) = 9. First close <= 9: 07-07 (9.0); sold 07-08 at 8.9.
    assert str(t.loc["b#1", "exit_session"].date()) == "2025-07-08"
    assert t.loc["b#1", "exit_price"] == pytest.approx(8.9)
    assert t.loc["b#1", "exit_rule"] == "stop 10% below entry at the close of 2025-07-07"
    assert str(t.loc["a#1", "exit_session"].date()) == "2025-07-09"  # the target still acts


def test_a_stop_with_the_fixed_rule_and_a_usd_target_ignored():
    rows = [("a#1", "0001.HK", 1.5, "USD"), ("b#1", "0002.HK", None, None)]
    t = run({"rule": "fixed", "months": 1, "stop_pct": 0.15}, rows=rows)
    # a: no HKD target, never down 15%: sold at the fixed exit (after the data: open).
    assert t.loc["a#1", "status"] == "open"
    # b: stop 8.5; first close <= 8.5 is 07-09 (8.0), sold at the 07-10 close of 9.0.
    assert str(t.loc["b#1", "exit_session"].date()) == "2025-07-10"


def test_target_below_the_entry_price_sells_on_the_way_down():
    t = run({"rule": "target"}, rows=[("b#1", "0002.HK", 9.0, "HKD")])
    # Target 9 < entry 10: the first close <= 9 is 07-07; sold 07-08 at 8.9.
    assert str(t.loc["b#1", "exit_session"].date()) == "2025-07-08"


@pytest.mark.parametrize(
    ("exit_rule", "message"),
    [
        pytest.param({"rule": "target", "months": 6}, "the target rule takes", id="months"),
        pytest.param({"rule": "target", "stop_pct": 1.5}, "less than 1", id="stop-too-big"),
        pytest.param({"rule": "horizon", "stop_pct": 0}, "greater than 0", id="stop-zero"),
    ],
)
def test_bad_target_exits_are_refused(exit_rule, message):
    with pytest.raises(ValidationError, match=message):
        BacktestSpec.model_validate({"name": "t", "exit": exit_rule})
