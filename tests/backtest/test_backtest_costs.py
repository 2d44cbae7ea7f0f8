"""HK trading costs: every charge by trade date, worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.backtest.costs import COST_COMPONENTS, CostScheduleError, order_costs

DECIMALS = 8


def one(value, day, exempt=False, **kw):
    frame = order_costs([value], [day], [exempt], **kw)
    return frame.iloc[0].to_dict()


# Each case: consideration (HKD), trade date, expected charges in HKD (no commission).
CASES = [
    pytest.param(
        100_000,
        "2025-07-02",
        # stamp 0.1% = 100; SFC 0.0027% = 2.70; AFRC 0.00015% = 0.15;
        # trading fee 0.00565% = 5.65; settlement 0.0042% (no min/max since 2025-06-30) = 4.20
        dict(
            stamp_duty=100,
            sfc_levy=2.70,
            afrc_levy=0.15,
            trading_fee=5.65,
            trading_tariff=0,
            settlement_fee=4.20,
        ),
        id="2025-07-settlement-0.0042pct",
    ),
    pytest.param(
        100_000,
        "2025-06-27",
        # settlement before 2025-06-30: 0.002% = 2.00 (exactly the HK$2 minimum)
        dict(
            stamp_duty=100,
            sfc_levy=2.70,
            afrc_levy=0.15,
            trading_fee=5.65,
            trading_tariff=0,
            settlement_fee=2.00,
        ),
        id="2025-06-settlement-0.002pct",
    ),
    pytest.param(
        10_000_000,
        "2025-06-27",
        # settlement 0.002% = 200 -> capped at HK$100; stamp 10,000; SFC 270; AFRC 15; fee 565
        dict(
            stamp_duty=10_000,
            sfc_levy=270,
            afrc_levy=15,
            trading_fee=565,
            trading_tariff=0,
            settlement_fee=100,
        ),
        id="settlement-max-100-before-2025-06-30",
    ),
    pytest.param(
        10_000_000,
        "2025-06-30",
        # from 2025-06-30 no maximum: 0.0042% of 10,000,000 = 420
        dict(
            stamp_duty=10_000,
            sfc_levy=270,
            afrc_levy=15,
            trading_fee=565,
            trading_tariff=0,
            settlement_fee=420,
        ),
        id="settlement-no-max-from-2025-06-30",
    ),
    pytest.param(
        20_000,
        "2024-03-01",
        # settlement 0.002% = 0.40 -> minimum HK$2; stamp 20; SFC 0.54; AFRC 0.03; fee 1.13
        dict(
            stamp_duty=20,
            sfc_levy=0.54,
            afrc_levy=0.03,
            trading_fee=1.13,
            trading_tariff=0,
            settlement_fee=2.00,
        ),
        id="settlement-min-2",
    ),
    pytest.param(
        100_000,
        "2023-11-16",
        # the last day of 0.13% stamp duty: 130
        dict(
            stamp_duty=130,
            sfc_levy=2.70,
            afrc_levy=0.15,
            trading_fee=5.65,
            trading_tariff=0,
            settlement_fee=2.00,
        ),
        id="stamp-0.13pct-2023-11-16",
    ),
    pytest.param(
        100_000,
        "2023-11-17",
        # stamp duty back to 0.1% from 2023-11-17: 100
        dict(
            stamp_duty=100,
            sfc_levy=2.70,
            afrc_levy=0.15,
            trading_fee=5.65,
            trading_tariff=0,
            settlement_fee=2.00,
        ),
        id="stamp-0.1pct-2023-11-17",
    ),
    pytest.param(
        100_000,
        "2022-12-30",
        # before 2023: trading fee 0.005% = 5.00 plus the HK$0.50 tariff; stamp 0.13% = 130
        dict(
            stamp_duty=130,
            sfc_levy=2.70,
            afrc_levy=0.15,
            trading_fee=5.00,
            trading_tariff=0.50,
            settlement_fee=2.00,
        ),
        id="2022-trading-tariff",
    ),
    pytest.param(
        100_000,
        "2021-12-31",
        # no FRC levy before 2022; stamp 0.13% since 2021-08-01
        dict(
            stamp_duty=130,
            sfc_levy=2.70,
            afrc_levy=0.0,
            trading_fee=5.00,
            trading_tariff=0.50,
            settlement_fee=2.00,
        ),
        id="2021-no-frc-levy",
    ),
    pytest.param(
        100_000,
        "2021-07-30",
        # stamp 0.1% before 2021-08-01
        dict(
            stamp_duty=100,
            sfc_levy=2.70,
            afrc_levy=0.0,
            trading_fee=5.00,
            trading_tariff=0.50,
            settlement_fee=2.00,
        ),
        id="2021-07-stamp-0.1pct",
    ),
    pytest.param(
        100_000,
        "2014-10-31",
        # SFC levy 0.003% before 2014-11-01: 3.00
        dict(
            stamp_duty=100,
            sfc_levy=3.00,
            afrc_levy=0.0,
            trading_fee=5.00,
            trading_tariff=0.50,
            settlement_fee=2.00,
        ),
        id="2014-sfc-0.003pct",
    ),
]


@pytest.mark.parametrize(("value", "day", "expected"), CASES)
def test_charges_by_trade_date(value, day, expected):
    got = one(value, day)
    for name, amount in expected.items():
        assert got[name] == pytest.approx(amount, abs=1e-9), name
    assert got["commission"] == 0.0
    assert got["total"] == pytest.approx(sum(expected.values()), abs=1e-9)


@pytest.mark.parametrize(
    ("value", "stamp"),
    [
        pytest.param(1_234.50, 2, id="1.2345-up-to-2"),  # 0.1% of 1,234.50 = 1.2345 -> 2
        pytest.param(100_000.0, 100, id="exact-100-stays"),  # exactly 100.00 -> 100, not 101
        pytest.param(100_001.0, 101, id="100.001-up-to-101"),  # 100.001 -> 101
        pytest.param(999.0, 1, id="0.999-up-to-1"),  # 0.999 -> 1
    ],
)
def test_stamp_duty_rounds_up_to_the_dollar(value, stamp):
    assert one(value, "2025-07-02")["stamp_duty"] == stamp


def test_levies_round_to_the_nearest_cent():
    # 12,345 × 0.0027% = 0.333315 -> 0.33; × 0.00565% = 0.6974925 -> 0.70;
    # × 0.00015% = 0.0185175 -> 0.02; × 0.0042% = 0.51849 -> 0.52
    got = one(12_345, "2025-07-02")
    assert (got["sfc_levy"], got["trading_fee"], got["afrc_levy"], got["settlement_fee"]) == (
        0.33,
        0.70,
        0.02,
        0.52,
    )


def test_etf_stamp_duty_waived_from_2015_02_13():
    assert one(100_000, "2025-07-02", exempt=True)["stamp_duty"] == 0
    assert one(100_000, "2015-02-13", exempt=True)["stamp_duty"] == 0
    # the day before the waiver an ETF paid stamp duty like a share: 0.1% = 100
    assert one(100_000, "2015-02-12", exempt=True)["stamp_duty"] == 100
    # the other charges are unchanged for an ETF: 2.70 + 0.15 + 5.65 + 4.20
    got = one(100_000, "2025-07-02", exempt=True)
    assert got["total"] == pytest.approx(12.70, abs=1e-9)


@pytest.mark.parametrize(
    ("value", "commission"),
    [
        pytest.param(5_000, 3.00, id="minimum"),  # 0.03% = 1.50 < HK$3 minimum
        pytest.param(100_000, 30.00, id="rate"),  # 0.03% = 30.00
        pytest.param(12_345, 3.70, id="rate-rounded"),  # 3.7035 -> 3.70
    ],
)
def test_commission_rate_with_minimum(value, commission):
    got = one(value, "2025-07-02", commission_rate=0.0003, commission_min_hkd=3.0)
    assert got["commission"] == pytest.approx(commission, abs=1e-9)


def test_no_order_no_costs():
    got = one(0.0, "2025-07-02", commission_rate=0.0003, commission_min_hkd=3.0)
    assert all(got[c] == 0.0 for c in (*COST_COMPONENTS, "total"))


def test_overrides_replace_the_schedule_on_every_date():
    # stamp 0.2% of 100,000 = 200; settlement fixed at 0.01% = 10 with no min/max
    over = {"stamp_duty_rate": 0.002, "settlement_fee_rate": 0.0001, "settlement_fee_min_hkd": 0.0}
    for day in ("2016-01-04", "2025-07-02"):
        got = one(100_000, day, overrides=over)
        assert got["stamp_duty"] == 200
        assert got["settlement_fee"] == pytest.approx(10.0, abs=1e-9)


def test_unknown_override_and_dates_before_the_schedule_are_refused():
    with pytest.raises(CostScheduleError, match="unknown cost field 'stamp'"):
        one(100, "2025-07-02", overrides={"stamp": 0.1})
    with pytest.raises(CostScheduleError, match="before the cost schedule starts"):
        one(100, "2009-01-02")


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(min_value=0.0, max_value=5e7),
    b=st.floats(min_value=0.0, max_value=5e7),
    day=st.sampled_from(["2014-12-01", "2022-06-01", "2023-06-01", "2025-01-02", "2025-09-01"]),
)
def test_costs_never_fall_when_the_order_grows(a, b, day):
    lo, hi = sorted((a, b))
    c = order_costs([lo, hi], [day, day], commission_rate=0.0003, commission_min_hkd=3.0)
    assert (c["total"].to_numpy() >= 0).all()
    assert c["total"].iloc[1] >= c["total"].iloc[0] - 1e-9
    assert np.isclose(c[list(COST_COMPONENTS)].sum(axis=1), c["total"]).all()
