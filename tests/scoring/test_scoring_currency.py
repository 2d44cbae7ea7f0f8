"""Targets in other currencies (:mod:`tracker.scoring.currency`) and the ADR ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.errors import InputFileError
from tracker.registry.adr import adr_ratios
from tracker.scoring.currency import comparable_targets


def calls(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ticker", "target_price", "target_currency"])


FX = {
    "USD": pd.Series([7.8, 7.82], index=pd.to_datetime(["2025-03-03", "2025-03-10"])),
    "CNY": pd.Series([1.07, 1.08], index=pd.to_datetime(["2025-03-03", "2025-03-10"])),
}


def test_hkd_is_compared_as_it_is_and_no_target_stays_empty():
    out = comparable_targets(
        calls(("0700.HK", 600.0, "HKD"), ("0700.HK", None, None)),
        pd.to_datetime(["2025-03-10", "2025-03-10"]),
    )
    assert out["compared_price"].iloc[0] == 600.0
    assert np.isnan(out["compared_price"].iloc[1])
    assert list(out["currency_note"]) == ["", ""]


def test_usd_and_cny_are_converted_with_the_last_rate_on_or_before_entry():
    out = comparable_targets(
        calls(("9618.HK", 40.0, "USD"), ("0700.HK", 500.0, "CNY")),
        pd.to_datetime(["2025-03-10", "2025-03-07"]),
        FX,
        {"9618.HK": 2.0},
    )
    # JD: US$40 per ADS of 2 shares at 7.82 HKD/USD (2025-03-10): 40 * 7.82 / 2 = 156.4.
    # CNY 500 at 1.07 HKD/CNY (2025-03-03, the last quote on or before 03-07) = 535.
    assert out["compared_price"].tolist() == pytest.approx([156.4, 535.0])
    assert out["fx_date"].tolist() == [pd.Timestamp("2025-03-10"), pd.Timestamp("2025-03-03")]
    assert np.isnan(out["adr_ratio"].iloc[1])


@pytest.mark.parametrize(
    ("row", "when", "fx", "ratios", "note"),
    [
        pytest.param(
            ("0700.HK", 80.0, "USD"),
            "2025-03-10",
            FX,
            {},
            "not comparable: USD target and no ADR ratio for 0700.HK",
            id="no-ratio",
        ),
        pytest.param(
            ("9988.HK", 140.0, "USD"),
            "2025-03-10",
            {},
            {"9988.HK": 8.0},
            "not comparable: USD target on the ADR line (no USD/HKD rate: load HKD=X)",
            id="no-usd-rate",
        ),
        pytest.param(
            ("0700.HK", 500.0, "CNY"),
            "2025-03-10",
            {},
            {},
            "not comparable: CNY target on an HKD line (no CNY/HKD rate: load CNYHKD=X)",
            id="no-cny-rate",
        ),
        pytest.param(
            # The last quote (2025-03-10) is 8 days before 2025-03-18: too old.
            ("0700.HK", 500.0, "CNY"),
            "2025-03-18",
            FX,
            {},
            "not comparable: CNY target on an HKD line (no CNY/HKD rate within 7 days"
            " before the entry session: load CNYHKD=X)",
            id="stale-rate",
        ),
        pytest.param(
            ("0700.HK", 500.0, "CNY"),
            "2025-03-01",
            FX,
            {},
            "not comparable: CNY target on an HKD line (no CNY/HKD rate within 7 days"
            " before the entry session: load CNYHKD=X)",
            id="no-rate-yet",
        ),
    ],
)
def test_not_comparable_says_why(row, when, fx, ratios, note):
    out = comparable_targets(calls(row), pd.to_datetime([when]), fx, ratios)
    assert out["currency_note"].iloc[0] == note
    assert np.isnan(out["compared_price"].iloc[0])


def test_the_adr_ratios_of_the_issue_are_registered_with_sources():
    ratios = adr_ratios()
    # Alibaba 8, JD 2, NetEase 5, TME 2, Trip.com 1, Baidu 8, BOSS Zhipin 2.
    expected = {
        "9988.HK": 8,
        "9618.HK": 2,
        "9999.HK": 5,
        "1698.HK": 2,
        "9961.HK": 1,
        "9888.HK": 8,
        "2076.HK": 2,
    }
    assert {k: ratios[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("9988.HK,BABA,0,filing\n", "positive number", id="zero"),
        pytest.param("9988.HK,BABA,8,\n", "needs its source", id="no-source"),
        pytest.param("9988.HK,BABA,8,a\n9988.HK,BABA,8,b\n", "listed twice", id="twice"),
    ],
)
def test_a_bad_ratio_file_is_refused(tmp_path, text, message):
    path = tmp_path / "adr.csv"
    path.write_text("ticker,adr_symbol,shares_per_adr,source\n" + text, encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        adr_ratios(path)
