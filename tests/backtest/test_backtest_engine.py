"""The backtest engine on small hand-made cases whose results are worked out by hand.

Session dates are written out (checked against the HKEX calendar of 2025:
1 July is a holiday; 3-4 July and 4 August are sessions), never computed with
the calendar helpers under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.backtest.engine import BenchmarkNoData, NothingToTrade, run_backtest
from tracker.backtest.portfolio import pack_columns
from tracker.backtest.spec import BacktestSpec
from tracker.errors import DataUnavailable

JULY_AUG_2025 = pd.DatetimeIndex(
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
        "2025-07-18",
        "2025-07-21",
        "2025-07-22",
        "2025-07-23",
        "2025-07-24",
        "2025-07-25",
        "2025-07-28",
        "2025-07-29",
        "2025-07-30",
        "2025-07-31",
        "2025-08-01",
        "2025-08-04",
        "2025-08-05",
    ]
)


def make_calls(rows: list[tuple]) -> pd.DataFrame:
    """rows: (call_id, broker, ticker, rating, published, horizon_max_months)."""
    out = pd.DataFrame(
        rows, columns=["call_id", "broker", "ticker", "rating", "published", "horizon_max_months"]
    )
    out["published"] = pd.to_datetime(out["published"])
    out["start_date"] = out["published"]
    out["report"] = out["call_id"].str.split("#").str[0]
    out["name"] = out["ticker"]
    out["horizon_min_months"] = out["horizon_max_months"]
    return out


def spec(**kw) -> BacktestSpec:
    return BacktestSpec.model_validate({"name": "t", **kw})


def flat(values: dict[str, float], index=JULY_AUG_2025) -> pd.DataFrame:
    return pd.DataFrame(
        {t: np.full(len(index), v, dtype=float) for t, v in values.items()}, index=index
    )


def bench(index=JULY_AUG_2025) -> pd.Series:
    return pd.Series(np.linspace(24000, 25000, len(index)), index=index)


def test_two_stocks_with_costs_by_hand():
    closes = flat({"0001.HK": 50.0, "0002.HK": 12.34, "0003.HK": 600.0})
    closes.loc["2025-08-04", "0001.HK"] = 55.10
    closes.loc["2025-08-04", "0002.HK"] = 11.00
    calls = make_calls(
        [
            ("a#1", "Broker A", "0001.HK", "buy", "2025-07-02", 12),  # entered 07-03 close
            ("b#1", "Broker B", "0002.HK", "buy", "2025-07-03", 12),  # entered 07-04 close
            ("c#1", "Broker B", "0003.HK", "buy", "2025-07-03", 12),  # 1 lot = HKD 300,000
        ]
    )
    s = spec(
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 100_000, "max_positions": 10},
        costs={"commission_rate": 0.0003, "commission_min_hkd": 3},
    )
    lots = {"0001.HK": 100, "0002.HK": 500, "0003.HK": 500}
    res = run_backtest(calls, closes, bench(), s, lots=lots)
    t = res.trades.set_index("call_id")

    # A: 100,000 / (50 × 100) = 20 lots = 2,000 shares = HKD 100,000.00 on 2025-07-03.
    #    buy costs: commission 0.03% 30.00, stamp 0.1% 100, SFC 2.70, AFRC 0.15,
    #    trading fee 5.65, settlement 0.0042% 4.20 -> 142.70
    # B: 100,000 / (12.34 × 500) = 16.2 -> 16 lots = 8,000 shares = HKD 98,720.00 on 07-04.
    #    commission 29.616 -> 29.62, stamp 98.72 -> 99, SFC 2.66544 -> 2.67,
    #    AFRC 0.14808 -> 0.15, fee 5.57768 -> 5.58, settlement 4.14624 -> 4.15 -> 141.17
    # C: one lot is 500 × 600 = 300,000 > 100,000: skipped, reported.
    # Exits 1 month later: 2025-08-03 is a Sunday -> Monday 2025-08-04.
    #    A sells 2,000 × 55.10 = 110,200: commission 33.06, stamp 110.2 -> 111,
    #    SFC 2.9754 -> 2.98, AFRC 0.1653 -> 0.17, fee 6.2263 -> 6.23,
    #    settlement 4.6284 -> 4.63 -> 158.07
    #    B sells 8,000 × 11.00 = 88,000: commission 26.40, stamp 88, SFC 2.376 -> 2.38,
    #    AFRC 0.132 -> 0.13, fee 4.972 -> 4.97, settlement 3.696 -> 3.70 -> 125.58
    # Final: 1,000,000 - 100,000 - 98,720 + 110,200 + 88,000
    #        - (142.70 + 141.17 + 158.07 + 125.58) = 1,000,000 - 520 - 567.52 = 998,912.48
    assert res.final_equity == pytest.approx(998_912.48, abs=1e-6)
    assert t.loc["a#1", "shares"] == 2000 and t.loc["b#1", "shares"] == 8000
    assert t.loc["a#1", "entry_costs_hkd"] == pytest.approx(142.70, abs=1e-9)
    assert t.loc["b#1", "entry_costs_hkd"] == pytest.approx(141.17, abs=1e-9)
    assert t.loc["a#1", "exit_costs_hkd"] == pytest.approx(158.07, abs=1e-9)
    assert t.loc["b#1", "exit_costs_hkd"] == pytest.approx(125.58, abs=1e-9)
    # pnl A = 110,200 - 100,000 - 142.70 - 158.07 = 9,899.23
    # pnl B = 88,000 - 98,720 - 141.17 - 125.58 = -10,986.75
    assert t.loc["a#1", "pnl_hkd"] == pytest.approx(9_899.23, abs=1e-6)
    assert t.loc["b#1", "pnl_hkd"] == pytest.approx(-10_986.75, abs=1e-6)
    assert list(t["status"]) == ["closed", "closed", "skipped"]
    assert t.loc["c#1", "reason"] == (
        "below one board lot: target HKD 100,000 < 500 shares × 600 = HKD 300,000"
    )
    assert str(t.loc["a#1", "entry_session"].date()) == "2025-07-03"
    assert str(t.loc["b#1", "entry_session"].date()) == "2025-07-04"
    assert str(t.loc["a#1", "exit_session"].date()) == "2025-08-04"
    assert res.costs["total"] == pytest.approx(567.52, abs=1e-9)
    assert res.costs["stamp_duty"] == 100 + 99 + 111 + 88
    # The run starts on the session before the first entry (all cash) and ends at the last exit.
    assert str(res.equity.index[0].date()) == "2025-07-02"
    assert str(res.equity.index[-1].date()) == "2025-08-04"
    assert res.equity["portfolio"].iloc[0] == 1_000_000
    # On 2025-07-04 (both held at cost): 1,000,000 - 142.70 - 141.17 = 999,716.13
    assert res.equity.loc["2025-07-04", "portfolio"] == pytest.approx(999_716.13, abs=1e-6)
    # Benchmark: buy and hold from 2025-07-02, scaled to the capital.
    b = bench()
    assert res.equity["benchmark"].iloc[-1] == pytest.approx(
        1_000_000 * b["2025-08-04"] / b["2025-07-02"], rel=1e-12
    )


def test_overlapping_calls_on_one_ticker_are_separate_positions():
    closes = flat({"0001.HK": 10.0})
    closes.loc["2025-07-10":, "0001.HK"] = 12.0
    closes.loc["2025-08-04":, "0001.HK"] = 15.0
    calls = make_calls(
        [
            ("a#1", "Broker A", "0001.HK", "buy", "2025-07-02", 12),  # in at 10 on 07-03
            ("b#1", "Broker B", "0001.HK", "buy", "2025-07-09", 12),  # in at 12 on 07-10
        ]
    )
    s = spec(
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 12_000},
        costs={"enabled": False},
    )
    res = run_backtest(calls, closes, bench(), s, lots={"0001.HK": 100})
    t = res.trades.set_index("call_id")
    # a: 12,000 / (10 × 100) = 12 lots = 1,200 shares; sold 2025-08-04 at 15: +6,000
    # b: 12,000 / (12 × 100) = 10 lots = 1,000 shares; due 2025-08-09 (Sat), after the
    #    last price (2025-08-05): sold on 2025-08-05 at 15 and marked open: +3,000
    assert t["shares"].tolist() == [1200, 1000]
    assert t["pnl_hkd"].tolist() == pytest.approx([6_000, 3_000])
    assert t["status"].tolist() == ["closed", "open"]
    assert str(t.loc["b#1", "exit_session"].date()) == "2025-08-05"
    assert res.final_equity == pytest.approx(1_009_000)
    # Both were held at once, in two columns.
    assert res.n_columns == 2


def test_cash_runs_out_orders_are_reduced_then_skipped():
    closes = flat({"0001.HK": 10.0, "0002.HK": 10.0, "0003.HK": 10.0})
    calls = make_calls(
        [
            ("a#1", "A", "0001.HK", "buy", "2025-07-02", 12),
            ("a#2", "A", "0002.HK", "buy", "2025-07-02", 12),
            ("a#3", "A", "0003.HK", "buy", "2025-07-02", 12),
        ]
    )
    s = spec(
        capital_hkd=25_000,
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 12_000},
        costs={"commission_rate": 0.0, "commission_min_hkd": 5},
    )
    res = run_backtest(calls, closes, bench(), s, lots={t: 100 for t in closes})
    t = res.trades.set_index("call_id")
    # Buy costs of HKD 12,000 on 2025-07-03: commission 5, stamp 12, SFC 0.32 (0.324),
    # AFRC 0.02 (0.018), fee 0.68 (0.678), settlement 0.50 (0.504) -> 18.52
    # a#1: 12 lots (12,000 + 18.52); cash left 25,000 - 12,018.52 = 12,981.48
    # a#2: 12 lots (12,018.52) fits; cash left 962.96
    # a#3: 12 lots do not fit; 1 lot = 1,000 + costs (5 + 1 + 0.03 + 0 + 0.06 + 0.04) > 962.96
    assert t["shares"].tolist() == [1200, 1200, 0]
    assert t.loc["a#3", "reason"] == "cash exhausted: HKD 962.96 left"

    s = spec(
        capital_hkd=20_000,
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 12_000},
        costs={"commission_rate": 0.0, "commission_min_hkd": 5},
    )
    res = run_backtest(calls, closes, bench(), s, lots={t: 100 for t in closes})
    t = res.trades.set_index("call_id")
    # a#1 leaves 20,000 - 12,018.52 = 7,981.48. a#2 reduced: 7 lots = 7,000 + costs
    # (5 + 7 + 0.19 (0.189) + 0.01 (0.0105) + 0.40 (0.3955) + 0.29 (0.294)) = 7,012.89 fits;
    # 8 lots = 8,000 > 7,981.48 does not. Cash left 968.59: a#3 skipped.
    assert t["shares"].tolist() == [1200, 700, 0]
    assert t.loc["a#2", "note"] == "reduced from 1200 to 700 shares: cash"
    assert t.loc["a#2", "entry_costs_hkd"] == pytest.approx(12.89, abs=1e-9)
    assert t.loc["a#3", "reason"] == "cash exhausted: HKD 968.59 left"


def test_orders_whose_costs_exceed_their_value():
    closes = flat({"0001.HK": 10.0, "0002.HK": 10.0})
    closes.loc["2025-07-21":, "0002.HK"] = 1.0  # b#1 loses 90% before its exit
    calls = make_calls(
        [
            ("a#1", "A", "0001.HK", "buy", "2025-07-02", 12),
            ("b#1", "A", "0002.HK", "buy", "2025-07-02", 12),
        ]
    )
    s = spec(
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 2},
        costs={"commission_rate": 0.0003, "commission_min_hkd": 3},
        board_lots=False,
    )
    # HKD 2.00 on 2025-07-03: commission max(0.0006, 3) = 3, stamp ceil(0.002) = 1, the
    # levies and fees round to 0.00 -> 4.00 >= 2.00: both skipped, nothing traded.
    res = run_backtest(calls, closes, bench(), s)
    t = res.trades.set_index("call_id")
    assert t["status"].tolist() == ["skipped", "skipped"]
    assert set(t["reason"]) == {"costs HKD 4.00 would exceed the order's value HKD 2.00"}
    assert res.final_equity == 1_000_000

    # HKD 5 of capital for a HKD 100 order: cash allows 5 - costs(5) = 5 - (3 + 1) = 1.00,
    # whose own costs (3 + ceil(0.001) = 4.00) exceed it: skipped, not "reduced".
    res = run_backtest(
        calls.iloc[:1],
        closes,
        bench(),
        s.model_copy(
            update={"capital_hkd": 5.0, "sizing": s.sizing.model_copy(update={"amount_hkd": 100.0})}
        ),
    )
    t = res.trades.set_index("call_id")
    assert t.loc["a#1", "reason"] == "costs HKD 4.00 would exceed the order's value HKD 1.00"
    assert t.loc["a#1", "note"] == ""

    s20 = spec(
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 20},
        costs={"commission_rate": 0.0003, "commission_min_hkd": 3},
        board_lots=False,
    )
    res = run_backtest(calls[calls["call_id"] == "b#1"], closes, bench(), s20)
    t = res.trades.set_index("call_id")
    # Buy 2 shares × 10 = 20.00 for 3 + ceil(0.02) = 4.00; sell 2 × 1.00 = 2.00 on 2025-08-04,
    # whose costs (3 + 1 = 4.00) exceed it: charged the 2.00 proceeds instead.
    assert t.loc["b#1", "shares"] == 2
    assert t.loc["b#1", "entry_costs_hkd"] == pytest.approx(4.0, abs=1e-9)
    assert t.loc["b#1", "exit_costs_hkd"] == pytest.approx(2.0, abs=1e-8)
    assert (
        t.loc["b#1", "note"]
        == "exit costs HKD 4.00 exceed the proceeds HKD 2.00: charged the proceeds"
    )
    # pnl = 2 - 20 - 4 - 2 = -24
    assert t.loc["b#1", "pnl_hkd"] == pytest.approx(-24.0, abs=1e-6)
    assert res.final_equity == pytest.approx(1_000_000 - 24.0, abs=1e-6)


def test_max_positions_and_equal_weight_on_previous_close():
    closes = flat({f"000{i}.HK": 10.0 for i in range(1, 5)})
    calls = make_calls(
        [(f"a#{i}", "A", f"000{i}.HK", "buy", "2025-07-02", 12) for i in range(1, 5)]
    )
    s = spec(
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "equal", "max_positions": 3},
        costs={"enabled": False},
        board_lots=False,
    )
    res = run_backtest(calls, closes, bench(), s)
    t = res.trades.set_index("call_id")
    # Value at the previous close is the capital: each of 3 slots gets 1,000,000 / 3 HKD,
    # i.e. 33,333.33 shares at 10 (board lots off: fractional shares).
    assert t["shares"].iloc[:3].tolist() == pytest.approx([1_000_000 / 3 / 10] * 3)
    assert t.loc["a#4", "reason"] == "3 positions already open (max_positions)"
    assert res.final_equity == pytest.approx(1_000_000)


def test_rating_weights_and_downgrade_exit_use_calls_outside_the_selection():
    closes = flat({"0001.HK": 10.0, "0002.HK": 20.0})
    closes.loc["2025-07-16":, "0001.HK"] = 11.0
    book = make_calls(
        [
            ("r1#1", "A", "0001.HK", "buy", "2025-07-02", 12),
            ("r1#2", "A", "0002.HK", "overweight", "2025-07-02", 12),
            ("r2#1", "A", "0001.HK", "buy", "2025-07-08", 12),  # reiteration: not a downgrade
            ("r3#1", "B", "0001.HK", "sell", "2025-07-10", 12),  # another broker: ignored
            ("r4#1", "A", "0001.HK", "neutral", "2025-07-14", 12),  # downgrade, not selected
        ]
    )
    selected = book[book["rating"].isin(["buy", "overweight"])].reset_index(drop=True)
    s = spec(
        exit={"rule": "downgrade"},
        sizing={"method": "rating", "max_positions": 4},
        costs={"enabled": False},
        board_lots=False,
    )
    res = run_backtest(selected, closes, bench(), s, book=book)
    t = res.trades.set_index("call_id")
    # r1#1 and r2#1 (buy) are both sold at the entry session of the downgrade r4#1:
    # published Monday 2025-07-14 -> next close Tuesday 2025-07-15, at 10.
    assert str(t.loc["r1#1", "exit_session"].date()) == "2025-07-15"
    assert str(t.loc["r2#1", "exit_session"].date()) == "2025-07-15"
    assert t.loc["r1#1", "exit_rule"] == "downgraded to neutral by r4#1"
    # r1#2 (overweight) is never downgraded: held to the end of data, marked open.
    assert t.loc["r1#2", "status"] == "open"
    # Sizing: slot = 1,000,000 / 4; buy weight 1 -> 250,000 HKD, overweight 0.75 -> 187,500.
    assert t.loc["r1#1", "entry_value_hkd"] == pytest.approx(250_000)
    assert t.loc["r1#2", "entry_value_hkd"] == pytest.approx(187_500)
    # r2#1 entered 2025-07-09 at 10 on a value of 1,000,000 (flat prices): 250,000.
    assert t.loc["r2#1", "entry_value_hkd"] == pytest.approx(250_000)


def test_downgrade_with_a_cap_and_a_later_upgrade():
    closes = flat({"0001.HK": 10.0})
    book = make_calls(
        [
            ("r1#1", "A", "0001.HK", "overweight", "2025-07-02", 12),
            ("r2#1", "A", "0001.HK", "buy", "2025-07-07", 12),  # upgrade
            ("r3#1", "A", "0001.HK", "overweight", "2025-07-21", 12),  # downgrade for r2#1 only
        ]
    )
    s = spec(exit={"rule": "downgrade", "months": 1}, costs={"enabled": False}, board_lots=False)
    t = run_backtest(book, closes, bench(), s).trades.set_index("call_id")
    # r2#1: downgraded by r3#1 -> entry session of r3#1, 2025-07-22.
    assert str(t.loc["r2#1", "exit_session"].date()) == "2025-07-22"
    # r1#1 and r3#1 are never downgraded: the 1-month cap. r1#1 entered 2025-07-03 ->
    # 2025-08-03 is a Sunday -> 2025-08-04.
    assert t.loc["r1#1", "exit_rule"] == "1M cap"
    assert str(t.loc["r1#1", "exit_session"].date()) == "2025-08-04"


def test_suspended_on_the_exit_session_sells_at_the_next_bar():
    closes = flat({"0001.HK": 10.0})
    closes.loc["2025-08-04", "0001.HK"] = np.nan  # no bar on the due session
    closes.loc["2025-08-05", "0001.HK"] = 13.0
    calls = make_calls([("a#1", "A", "0001.HK", "buy", "2025-07-02", 12)])
    s = spec(exit={"rule": "fixed", "months": 1}, costs={"enabled": False}, board_lots=False)
    t = run_backtest(calls, closes, bench(), s).trades.iloc[0]
    assert str(t["exit_session"].date()) == "2025-08-05"
    assert t["exit_price"] == 13.0
    assert t["status"] == "closed"
    assert t["exit_rule"] == "1M holding; no bar on 2025-08-04, sold 2025-08-05"


def test_data_ending_before_the_exit_sells_at_the_last_close_marked_open():
    closes = flat({"0001.HK": 10.0, "0002.HK": 10.0})
    closes.loc["2025-07-25":, "0001.HK"] = np.nan  # 0001's data stop on 2025-07-24
    closes.loc["2025-07-24", "0001.HK"] = 9.0
    calls = make_calls([("a#1", "A", "0001.HK", "buy", "2025-07-02", 12)])
    calls2 = make_calls([("b#1", "A", "0002.HK", "buy", "2025-07-02", 12)])
    calls = pd.concat([calls, calls2], ignore_index=True)
    s = spec(exit={"rule": "fixed", "months": 1}, costs={"enabled": False}, board_lots=False)
    t = run_backtest(calls, closes, bench(), s).trades.set_index("call_id")
    assert t.loc["a#1", "status"] == "open"
    assert str(t.loc["a#1", "exit_session"].date()) == "2025-08-04"  # the due session
    assert t.loc["a#1", "exit_price"] == 9.0
    assert t.loc["a#1", "exit_rule"] == (
        "1M holding; no bar on or after 2025-08-04 (last close 2025-07-24): sold at that close"
    )


def test_next_open_entry_fills_at_the_open():
    closes = flat({"0001.HK": 10.0})
    opens = flat({"0001.HK": 9.5})
    calls = make_calls([("a#1", "A", "0001.HK", "buy", "2025-07-02", 12)])
    s = spec(
        entry="next-open",
        exit={"rule": "fixed", "months": 1},
        sizing={"method": "fixed", "amount_hkd": 9_500},
        costs={"enabled": False},
    )
    t = run_backtest(calls, closes, bench(), s, opens=opens, lots={"0001.HK": 100}).trades.iloc[0]
    # 9,500 / (9.5 × 100) = 10 lots at the open of 2025-07-03; sold at the open of 2025-08-04.
    assert t["entry_price"] == 9.5 and t["shares"] == 1000 and t["exit_price"] == 9.5
    assert str(t["entry_session"].date()) == "2025-07-03"


def test_unknown_board_lot_and_zero_rating_weight_are_skipped_with_reasons():
    closes = flat({"0001.HK": 10.0, "0002.HK": 10.0})
    calls = make_calls(
        [
            ("a#1", "A", "0001.HK", "buy", "2025-07-02", 12),
            ("a#2", "A", "0002.HK", "neutral", "2025-07-02", 12),
        ]
    )
    s = spec(exit={"rule": "fixed", "months": 1}, sizing={"method": "rating"})
    t = run_backtest(calls, closes, bench(), s, lots={"0001.HK": None}).trades.set_index("call_id")
    assert t.loc["a#1", "reason"] == (
        "board lot of 0001.HK unknown: import the HKEX list (`tracker registry import`)"
    )
    assert t.loc["a#2", "reason"] == "rating weight 0 for neutral (sizing.rating_weights)"


def test_errors_before_any_trade():
    closes = flat({"0001.HK": 10.0})
    calls = make_calls([("a#1", "A", "0009.HK", "buy", "2025-07-02", 12)])
    s = spec(exit={"rule": "fixed", "months": 1})
    with pytest.raises(DataUnavailable, match="no prices for any of the 1 selected tickers"):
        run_backtest(calls, closes, bench(), s)
    late = make_calls([("a#1", "A", "0001.HK", "buy", "2025-08-05", 12)])
    with pytest.raises(NothingToTrade, match="none of the 1 selected calls can be entered"):
        run_backtest(late, closes, bench(), s)
    ok = make_calls([("a#1", "A", "0001.HK", "buy", "2025-07-02", 12)])
    with pytest.raises(
        BenchmarkNoData, match=r"benchmark \^HSI has no price on or before 2025-07-02"
    ):
        run_backtest(ok, closes, bench()["2025-07-10":], s, lots={"0001.HK": 100})


def test_benchmark_against_itself_gives_no_excess():
    idx = JULY_AUG_2025
    rng = np.random.default_rng(3)
    px = pd.Series(20.0 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx)))), index=idx)
    px.iloc[1] = px.iloc[0]  # flat from 07-02 (the run's first session) to 07-03 (entry)
    closes = pd.DataFrame({"2800.HK": px})
    calls = make_calls([("a#1", "A", "2800.HK", "buy", "2025-07-02", 12)])
    s = spec(
        exit={"rule": "fixed", "months": 12},
        sizing={"method": "equal", "max_positions": 1},
        costs={"enabled": False},
        board_lots=False,
        benchmark="2800.HK",
    )
    res = run_backtest(calls, closes, px, s)
    from tracker.backtest.stats import relative_stats

    # Fully invested in the benchmark from the first session's close: same curve.
    # (Cash keeps a margin of 1e-9 of the money moved against rounding.)
    assert np.allclose(res.equity["portfolio"], res.equity["benchmark"], rtol=1e-8)
    rel = relative_stats(res.equity["portfolio"], res.equity["benchmark"])
    assert rel["beta"] == pytest.approx(1.0, abs=1e-8)
    assert abs(rel["alpha"]) < 1e-8
    assert rel["tracking_error"] < 1e-8


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(min_value=0.01, max_value=100.0), seed=st.integers(0, 10_000))
def test_scaling_prices_changes_nothing_without_lots_or_costs(scale, seed):
    rng = np.random.default_rng(seed)
    idx = JULY_AUG_2025
    closes = pd.DataFrame(
        {f"000{i}.HK": 10 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx)))) for i in range(1, 4)},
        index=idx,
    )
    calls = make_calls(
        [(f"a#{i}", "A", f"000{i}.HK", "buy", f"2025-07-0{i + 1}", 12) for i in range(1, 4)]
    )
    s = spec(exit={"rule": "fixed", "months": 1}, costs={"enabled": False}, board_lots=False)
    a = run_backtest(calls, closes, bench(), s)
    b = run_backtest(calls, closes * scale, bench(), s)
    assert a.final_equity == pytest.approx(b.final_equity, rel=1e-9)
    assert np.allclose(a.equity["portfolio"], b.equity["portfolio"], rtol=1e-9)


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(5, len(JULY_AUG_2025) - 1), seed=st.integers(0, 10_000))
def test_as_of_never_reads_later_prices(cut, seed):
    rng = np.random.default_rng(seed)
    idx = JULY_AUG_2025
    closes = pd.DataFrame(
        {f"000{i}.HK": 10 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx)))) for i in range(1, 4)},
        index=idx,
    )
    calls = make_calls(
        [(f"a#{i}", "A", f"000{i}.HK", "buy", f"2025-07-0{i + 1}", 12) for i in range(1, 4)]
    )
    s = spec(exit={"rule": "fixed", "months": 1}, costs={"commission_min_hkd": 5})
    lots = {t: 100 for t in closes}
    as_of = idx[cut]
    changed = closes.copy()
    changed.loc[changed.index > as_of] *= rng.uniform(0.5, 2.0, size=(int((idx > as_of).sum()), 3))
    a = run_backtest(calls, closes, bench(), s, lots=lots, as_of=as_of)
    b = run_backtest(calls, changed, bench(), s, lots=lots, as_of=as_of)
    pd.testing.assert_frame_equal(a.equity, b.equity)
    pd.testing.assert_frame_equal(a.trades, b.trades)
    assert a.equity.index[-1] <= as_of


def test_packing_columns_changes_nothing():
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2025-07-02", "2025-12-31")  # weekdays: holidays simply have no bar
    tickers = [f"000{i}.HK" for i in range(1, 6)]
    closes = pd.DataFrame(
        {t: 10 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx)))) for t in tickers}, index=idx
    )
    days = ["2025-07-02", "2025-07-08", "2025-08-12", "2025-08-21", "2025-09-25", "2025-10-30"]
    calls = make_calls(
        [
            (f"r{k}#{i}", "A", t, "buy", d, 12)
            for k, d in enumerate(days)
            for i, t in enumerate(tickers)
        ]
    )
    s = spec(exit={"rule": "fixed", "months": 1}, sizing={"max_positions": 8})
    lots = {t: 100 for t in tickers}
    packed = run_backtest(calls, closes, bench(idx), s, lots=lots)
    wide = run_backtest(calls, closes, bench(idx), s, lots=lots, pack=False)
    assert packed.n_columns < wide.n_columns
    pd.testing.assert_frame_equal(packed.equity, wide.equity)
    pd.testing.assert_frame_equal(packed.trades, wide.trades)


@pytest.mark.parametrize(
    ("entries", "exits", "expected"),
    [
        pytest.param([0, 1, 2], [5, 6, 7], [0, 1, 2], id="all-overlap"),
        pytest.param([0, 6, 8], [5, 7, 9], [0, 0, 0], id="chain"),
        pytest.param([0, 5], [5, 9], [0, 1], id="same-session-exit-and-entry-not-shared"),
        pytest.param([0, 1, 6, 7], [5, 3, 8, 9], [0, 1, 1, 0], id="reuse-earliest-free"),
    ],
)
def test_pack_columns(entries, exits, expected):
    got = pack_columns(np.array(entries), np.array(exits))
    assert got.tolist() == expected


def test_an_order_vectorbt_refuses_is_a_clean_engine_error():
    from tracker.backtest.portfolio import EngineMismatch, simulate_orders

    grid = JULY_AUG_2025[:3]
    one = np.array([0])
    # 1,000 shares × 10 = HKD 10,000 against HKD 100 of cash: vectorbt (no partial fills)
    # refuses the buy.
    with pytest.raises(
        EngineMismatch, match=r"vectorbt refused an order of the plan \(Final size is less"
    ):
        simulate_orders(
            grid,
            column=one,
            entry_row=one,
            exit_row=np.array([2]),
            entry_price=np.array([10.0]),
            exit_price=np.array([10.0]),
            shares=np.array([1000.0]),
            entry_fees=np.zeros(1),
            exit_fees=np.zeros(1),
            value_close=np.full((3, 1), 10.0),
            ticker_col=one,
            capital=100.0,
        )


def _three_positions():
    """Three positions in two packed columns, simulated; the plan that made them."""
    from tracker.backtest.orders import OrderPlan
    from tracker.backtest.portfolio import simulate_orders

    grid = JULY_AUG_2025[:8]
    column, entry_row, exit_row = np.array([0, 1, 0]), np.array([0, 1, 4]), np.array([3, 5, 6])
    shares = np.array([100.0, 200.0, 300.0])
    fees = np.array([1.0, 2.0, 3.0])
    pf = simulate_orders(
        grid,
        column=column,
        entry_row=entry_row,
        exit_row=exit_row,
        entry_price=np.full(3, 10.0),
        exit_price=np.full(3, 11.0),
        shares=shares,
        entry_fees=fees,
        exit_fees=fees / 2,
        value_close=np.full((8, 3), 10.0),
        ticker_col=np.array([0, 1, 2]),
        capital=1_000_000.0,
    )
    n_components = 2  # the fees split in two made-up components, summed by the check
    plan = OrderPlan(
        shares=shares,
        skip_reason=np.full(3, "", dtype=object),
        note=np.full(3, "", dtype=object),
        entry_costs=np.repeat(fees[:, None] / n_components, n_components, axis=1),
        exit_costs=np.repeat(fees[:, None] / 2 / n_components, n_components, axis=1),
        final_cash=0.0,
    )
    return pf, column, entry_row, exit_row, plan


def test_fills_are_matched_to_the_plans_buys_by_column_and_entry():
    from tracker.backtest.portfolio import check_fill_records

    pf, column, entry_row, exit_row, plan = _three_positions()
    trades = pf.trades.values
    sel = np.arange(3)
    aligned = check_fill_records(pf.orders.values, trades, column, entry_row, exit_row, plan, sel)
    assert aligned["size"].tolist() == [100.0, 200.0, 300.0]  # the plan's order, not vectorbt's
    assert aligned["entry_idx"].tolist() == [0, 1, 4]
    # The same records in another order align the same way.
    shuffled = trades[::-1].copy()
    again = check_fill_records(pf.orders.values, shuffled, column, entry_row, exit_row, plan, sel)
    assert (again == aligned).all()


@pytest.mark.parametrize("tamper", ["other-column", "twice", "other-entry"])
def test_a_trade_the_plan_does_not_have_is_an_engine_error(tamper):
    from tracker.backtest.portfolio import EngineMismatch, check_fill_records

    pf, column, entry_row, exit_row, plan = _three_positions()
    trades = pf.trades.values.copy()
    if tamper == "other-column":
        trades["col"][0] = 5
    elif tamper == "twice":
        trades[1] = trades[0]
    else:
        trades["entry_idx"][2] = 2
    with pytest.raises(EngineMismatch):
        check_fill_records(
            pf.orders.values, trades, column, entry_row, exit_row, plan, np.arange(3)
        )
