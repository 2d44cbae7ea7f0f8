"""Hand-computed fixtures for every scoring rule (tracker.scoring.core, tracker.scoring.entry).

Every expected session below was worked out by hand from the Hong Kong
holiday list (2025-05-01 Labour Day, 2025-05-05 Buddha's Birthday,
2025-10-01 National Day, 2026-02-17..19 Lunar New Year), never by calling
the calendar. Prices are given on weekdays (``pandas.bdate_range``); a
weekday that is an HKEX holiday carries an absurd price that must be ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker.errors import DataUnavailable
from tracker.recs.book import CALL_COLUMNS, load_scales
from tracker.scoring.core import ScoringInputError, score_calls
from tracker.scoring.grid import total_return_prices

ROOT = Path(__file__).resolve().parents[2]
SCALES = load_scales(ROOT / "recs" / "scales")
TOL = 1e-12

# Entry 2025-09-01 (Mon, first session after Fri 2025-08-29) and its checkpoints:
ENTRY = "2025-09-01"
CP_1M = "2025-10-02"  # 2025-10-01 is National Day
CP_3M = "2025-12-01"  # a Monday
CP_6M = "2026-03-02"  # 2026-03-01 is a Sunday
CP_12M = "2026-09-01"  # a Tuesday


def weekdays(start: str = "2025-04-01", end: str = "2026-12-31") -> pd.DatetimeIndex:
    return pd.bdate_range(start, end, name="date")


def flat(value: float, **points: float) -> pd.Series:
    """A weekday series at ``value`` except on the given dates (d_2025_10_02=...)."""
    s = pd.Series(float(value), index=weekdays())
    for key, v in points.items():
        s.loc[pd.Timestamp(key.removeprefix("d_").replace("_", "-"))] = v
    return s


def calls_frame(*rows: dict) -> pd.DataFrame:
    """Calls as tracker.recs.book.calls_frame makes them, with hand-set horizons."""
    out = []
    for i, r in enumerate(rows):
        rating = r["rating"]
        company = rating != "attention"
        published = pd.Timestamp(r.get("published", "2025-08-29"))
        out.append(
            {
                "call_id": r.get("call_id", f"c{i}"),
                "report": r.get("report", "rep"),
                "file": "",
                "broker": r.get("broker", "Huaan Securities"),
                "broker_local": None,
                "analysts": r.get("analysts", ["A"]),
                "published": published,
                "seen": pd.NaT,
                "start_date": published,
                "scale": "huaan",
                "name": r["ticker"],
                "ticker": r["ticker"],
                "rating": rating,
                "target_price": None,
                "target_currency": None,
                # huaan: company ratings 6-12 months, attention 6 months.
                "horizon_min_months": 6,
                "horizon_max_months": 12 if company else 6,
                "note": None,
                **({"benchmark": r["benchmark"]} if "benchmark" in r else {}),
            }
        )
    cols = CALL_COLUMNS + (["benchmark"] if any("benchmark" in r for r in rows) else [])
    return pd.DataFrame(out, columns=cols)


def cp(scores, call_id: str, label: str) -> pd.Series:
    frame = scores.checkpoints
    row = frame.loc[(frame["call_id"] == call_id) & (frame["checkpoint"] == label)]
    assert len(row) == 1, (call_id, label)
    return row.iloc[0]


def call(scores, call_id: str) -> pd.Series:
    return scores.calls.set_index("call_id").loc[call_id]


# --------------------------------------------------------------------------- entry


@pytest.mark.parametrize(
    ("published", "convention", "session", "price"),
    [
        # Friday report, Monday 05-05 a holiday: next close is Tuesday 05-06.
        pytest.param("2025-05-02", "next-close", "2025-05-06", 106.0, id="fri-next-close"),
        pytest.param("2025-05-02", "same-close", "2025-05-02", 102.0, id="fri-same-close"),
        pytest.param("2025-05-02", "next-open", "2025-05-06", 56.0, id="fri-next-open"),
        # Saturday publication: both close conventions enter on Tuesday 05-06.
        pytest.param("2025-05-03", "next-close", "2025-05-06", 106.0, id="sat-next-close"),
        pytest.param("2025-05-03", "same-close", "2025-05-06", 106.0, id="sat-same-close"),
        # Published on the holiday itself.
        pytest.param("2025-05-05", "same-close", "2025-05-06", 106.0, id="holiday-same-close"),
        pytest.param("2025-05-06", "next-close", "2025-05-07", 107.0, id="tue-next-close"),
    ],
)
def test_entry_conventions(published, convention, session, price):
    # Closes = 100 + day of May; opens = 50 + day of May; 05-05 (holiday) row = 999.
    closes = flat(
        100.0, d_2025_05_02=102.0, d_2025_05_05=999.0, d_2025_05_06=106.0, d_2025_05_07=107.0
    )
    opens = flat(50.0, d_2025_05_02=52.0, d_2025_05_05=999.0, d_2025_05_06=56.0, d_2025_05_07=57.0)
    bench = flat(1000.0).rename("^HSI")
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy", "published": published})
    s = score_calls(
        calls,
        closes.to_frame("1111.HK"),
        bench,
        SCALES,
        entry=convention,
        opens=opens.to_frame("1111.HK"),
        benchmark_opens=bench,
    )
    row = call(s, "c0")
    assert row["entry_session"] == pd.Timestamp(session)
    assert row["entry_price"] == price


def test_next_open_returns_run_from_the_open():
    # Entry at the 2025-05-06 open: stock 50, index 900. 1M checkpoint 2025-06-06:
    # stock close 55 -> 55/50-1 = 0.10; index close 990 -> 990/900-1 = 0.10; excess 0.
    closes = flat(60.0, d_2025_06_06=55.0).to_frame("1111.HK")
    opens = flat(70.0, d_2025_05_06=50.0).to_frame("1111.HK")
    bench = flat(1000.0, d_2025_06_06=990.0).rename("^HSI")
    bopen = flat(1000.0, d_2025_05_06=900.0).rename("^HSI")
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy", "published": "2025-05-05"})
    s = score_calls(
        calls, closes, bench, SCALES, entry="next-open", opens=opens, benchmark_opens=bopen
    )
    c = cp(s, "c0", "1M")
    assert c["session"] == pd.Timestamp("2025-06-06")
    assert abs(c["stock_return"] - 0.10) < TOL
    assert abs(c["benchmark_return"] - 0.10) < TOL
    assert abs(c["excess"]) < TOL


def test_next_open_without_opens_is_refused():
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"})
    with pytest.raises(ScoringInputError, match="next-open"):
        score_calls(
            calls,
            flat(1.0).to_frame("1111.HK"),
            flat(1.0).rename("^HSI"),
            SCALES,
            entry="next-open",
        )


# --------------------------------------------------------------------------- checkpoints


def _walk():
    """Stock 1111.HK and the index around the 2025-09-01 entry (values by hand)."""
    stock = flat(
        100.0,
        d_2025_10_01=999.0,  # holiday row: never used
        d_2025_10_02=110.0,
        d_2025_12_01=90.0,
        d_2026_03_02=130.0,
        d_2026_09_01=120.0,
    )
    bench = flat(1000.0, d_2025_10_01=1.0, d_2025_10_02=1020.0, d_2026_03_02=1100.0)
    return stock.to_frame("1111.HK"), bench.rename("^HSI")


def test_checkpoints_on_holidays_and_weekends():
    closes, bench = _walk()
    s = score_calls(calls_frame({"ticker": "1111.HK", "rating": "buy"}), closes, bench, SCALES)
    # (label, session, stock return, index return, excess, band)
    expected = [
        ("1M", CP_1M, 0.10, 0.02, 0.08, "overweight"),  # 110/100-1, 1020/1000-1
        ("3M", CP_3M, -0.10, 0.0, -0.10, "underweight"),  # 90/100-1
        ("6M", CP_6M, 0.30, 0.10, 0.20, "buy"),  # 130/100-1, 1100/1000-1
        ("12M", CP_12M, 0.20, 0.0, 0.20, "buy"),  # 120/100-1
    ]
    for label, session, sr, br, ex, band in expected:
        c = cp(s, "c0", label)
        assert c["session"] == pd.Timestamp(session), label
        assert abs(c["stock_return"] - sr) < TOL, label
        assert abs(c["benchmark_return"] - br) < TOL, label
        assert abs(c["excess"] - ex) < TOL, label
        assert c["band"] == band, label
        assert c["status"] == "ok", label
    row = call(s, "c0")
    assert row["entry_session"] == pd.Timestamp(ENTRY)
    assert row["horizon_session"] == pd.Timestamp(CP_12M)
    assert row["status"] == "matured"
    assert row["verdict"] == "hit"
    assert abs(row["excess"] - 0.20) < TOL
    # Months 6-12: first in the buy band on the 6M session itself (+20 >= 15).
    assert row["window_hit"] is True or row["window_hit"] == True  # noqa: E712 - pandas BooleanDtype
    assert row["window_first_session"] == pd.Timestamp(CP_6M)
    assert row["window_start_session"] == pd.Timestamp(CP_6M)
    assert "latest" not in set(s.checkpoints.loc[s.checkpoints["call_id"] == "c0", "checkpoint"])


def test_window_reached_but_headline_missed():
    # Buy call: +20 only on 2026-05-04 (inside months 6-12), 0 at 12 months.
    stock = flat(100.0, d_2026_05_04=120.0).to_frame("1111.HK")
    s = score_calls(
        calls_frame({"ticker": "1111.HK", "rating": "buy"}),
        stock,
        flat(1000.0).rename("^HSI"),
        SCALES,
    )
    row = call(s, "c0")
    assert row["verdict"] == "miss"  # excess 0 at 12M: no sign agreement
    assert bool(row["window_hit"]) is True
    assert row["window_first_session"] == pd.Timestamp("2026-05-04")


def test_window_never_reached():
    s = score_calls(
        calls_frame({"ticker": "1111.HK", "rating": "buy"}),
        flat(100.0).to_frame("1111.HK"),
        flat(1000.0).rename("^HSI"),
        SCALES,
    )
    row = call(s, "c0")
    assert bool(row["window_hit"]) is False
    assert pd.isna(row["window_first_session"])


def test_attention_has_no_window():
    s = score_calls(
        calls_frame({"ticker": "1111.HK", "rating": "attention"}),
        flat(100.0).to_frame("1111.HK"),
        flat(1000.0).rename("^HSI"),
        SCALES,
    )
    row = call(s, "c0")
    assert row["horizon_session"] == pd.Timestamp(CP_6M)
    assert pd.isna(row["window_hit"])
    assert pd.isna(row["window_start_session"])


# --------------------------------------------------------------------------- bands


def _edge_setup():
    """Per ticker, the 12M (and 6M for attention) stock price, and the benchmark used."""
    # Benchmarks: B0 flat; B10 ends +10 %; B15 ends +15 % (at 12M).
    bench = pd.DataFrame(
        {
            "B0": flat(1000.0),
            "B10": flat(1000.0, d_2026_09_01=1100.0),
            "B15": flat(1000.0, d_2026_09_01=1150.0),
        }
    )
    cases = [
        # (ticker, rating, stock at 12M or 6M, benchmark, excess pp, realised, verdict)
        ("0001.HK", "buy", 115.0, "B0", 15.0, "buy", "hit"),  # 14.999999999999991 in floats
        ("0002.HK", "overweight", 115.0, "B10", 5.0, "overweight", "hit"),  # 15 - 10
        ("0003.HK", "underweight", 110.0, "B15", -5.0, "underweight", "hit"),  # 10 - 15
        ("0004.HK", "sell", 85.0, "B0", -15.0, "sell", "hit"),
        ("0005.HK", "neutral", 104.99, "B0", 4.99, "neutral", "hit"),
        ("0006.HK", "overweight", 95.01, "B0", -4.99, "neutral", "miss"),
        ("0007.HK", "buy", 114.99, "B0", 14.99, "overweight", "right direction"),
        ("0008.HK", "overweight", 120.0, "B0", 20.0, "buy", "hit"),  # beats its band
        ("0009.HK", "sell", 90.0, "B0", -10.0, "underweight", "right direction"),
        ("0010.HK", "underweight", 80.0, "B0", -20.0, "sell", "hit"),  # below its band
        ("0011.HK", "neutral", 108.0, "B0", 8.0, "overweight", "miss"),
        ("0012.HK", "neutral", 95.0, "B0", -5.0, "underweight", "miss"),  # -5 is not neutral
        ("0013.HK", "buy", 95.0, "B0", -5.0, "underweight", "miss"),
        ("0014.HK", "attention", 100.0, "B0", 0.0, "neutral", "miss"),  # needs > 0
        ("0015.HK", "attention", 100.01, "B0", 0.01, "neutral", "hit"),
        ("0016.HK", "attention", 105.0, "B0", 5.0, "overweight", "hit"),
    ]
    prices = {}
    for ticker, rating, end, *_ in cases:
        key = "d_2026_03_02" if rating == "attention" else "d_2026_09_01"
        prices[ticker] = flat(100.0, **{key: end})
    calls = calls_frame(
        *({"ticker": t, "rating": r, "benchmark": b, "call_id": t} for t, r, _, b, *_ in cases)
    )
    return calls, pd.DataFrame(prices), bench, cases


def test_band_edges_and_verdicts():
    calls, closes, bench, cases = _edge_setup()
    s = score_calls(calls, closes, bench, SCALES)
    for ticker, _rating, _end, _b, pp, realised, verdict in cases:
        row = call(s, ticker)
        assert abs(row["excess"] * 100 - pp) < 1e-9, ticker
        assert row["realised_band"] == realised, ticker
        assert row["verdict"] == verdict, ticker


def test_overshoot_can_be_switched_off():
    calls, closes, bench, _ = _edge_setup()
    s = score_calls(calls, closes, bench, SCALES, overshoot_is_hit=False)
    assert call(s, "0008.HK")["verdict"] == "right direction"  # overweight at +20
    assert call(s, "0010.HK")["verdict"] == "right direction"  # underweight at -20
    assert call(s, "0001.HK")["verdict"] == "hit"  # buy has no upper edge


def test_called_band_as_data():
    calls, closes, bench, _ = _edge_setup()
    s = score_calls(calls, closes, bench, SCALES)
    ow = call(s, "0002.HK")
    assert ow["called_band"] == "[5, 15)"
    assert ow["called_lower"] == 0.05 and ow["called_upper"] == 0.15
    assert call(s, "0014.HK")["called_band"] == "(0, inf)"
    assert call(s, "0004.HK")["called_band"] == "(-inf, -15]"
    assert call(s, "0005.HK")["direction"] == 0
    assert call(s, "0004.HK")["direction"] == -1


# --------------------------------------------------------------------------- pending vs matured


def test_open_call_on_track_with_sessions_remaining():
    # Attention call, horizon 6M = 2026-03-02. As of Fri 2026-02-20 (after the
    # 02-17..19 holidays) the sessions left are 02-23..27 and 03-02: 6.
    stock = flat(100.0, d_2026_02_20=105.0).to_frame("1111.HK")
    calls = calls_frame({"ticker": "1111.HK", "rating": "attention"})
    s = score_calls(calls, stock, flat(1000.0).rename("^HSI"), SCALES, as_of="2026-02-20")
    row = call(s, "c0")
    assert row["status"] == "open"
    assert row["verdict"] == "on track"
    assert row["sessions_remaining"] == 6
    assert abs(row["excess"] - 0.05) < TOL  # 105/100-1 - 0
    latest = cp(s, "c0", "latest")
    assert latest["session"] == pd.Timestamp("2026-02-20")
    assert cp(s, "c0", "6M")["status"] == "pending"
    assert cp(s, "c0", "3M")["status"] == "ok"


def test_open_call_off_track():
    stock = flat(100.0, d_2026_02_20=95.0).to_frame("1111.HK")
    calls = calls_frame({"ticker": "1111.HK", "rating": "attention"})
    s = score_calls(calls, stock, flat(1000.0).rename("^HSI"), SCALES, as_of="2026-02-22")
    row = call(s, "c0")
    assert row["verdict"] == "off track"
    assert cp(s, "c0", "latest")["session"] == pd.Timestamp("2026-02-20")  # Sunday -> Friday


def test_matured_on_the_horizon_session():
    calls = calls_frame({"ticker": "1111.HK", "rating": "attention"})
    s = score_calls(
        calls,
        flat(100.0, d_2026_03_02=101.0).to_frame("1111.HK"),
        flat(1000.0).rename("^HSI"),
        SCALES,
        as_of=CP_6M,
    )
    row = call(s, "c0")
    assert row["status"] == "matured"
    assert row["verdict"] == "hit"
    assert pd.isna(row["sessions_remaining"])


def test_awaiting_entry_is_pending():
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"})
    s = score_calls(
        calls,
        flat(100.0).to_frame("1111.HK"),
        flat(1000.0).rename("^HSI"),
        SCALES,
        as_of="2025-08-30",
    )
    row = call(s, "c0")
    assert row["status"] == "open"
    assert row["verdict"] == "pending"
    assert row["reason"].startswith("entry session 2025-09-01 is after")
    assert set(s.checkpoints["status"]) == {"pending"}


def test_calls_after_as_of_do_not_exist():
    calls = calls_frame(
        {"ticker": "1111.HK", "rating": "buy", "call_id": "early"},
        {"ticker": "1111.HK", "rating": "buy", "call_id": "late", "published": "2026-01-05"},
    )
    s = score_calls(
        calls,
        flat(100.0).to_frame("1111.HK"),
        flat(1000.0).rename("^HSI"),
        SCALES,
        as_of="2026-01-02",
    )
    assert list(s.calls["call_id"]) == ["early"]
    assert set(s.checkpoints["call_id"]) == {"early"}
    assert s.as_of_session == pd.Timestamp("2026-01-02")


# --------------------------------------------------------------------------- staleness


def test_missing_index_row_uses_the_previous_bar():
    closes, bench = _walk()
    bench = bench.drop(pd.Timestamp(CP_3M))  # like the index file's missing days
    s = score_calls(calls_frame({"ticker": "1111.HK", "rating": "buy"}), closes, bench, SCALES)
    c = cp(s, "c0", "3M")
    # Previous session Fri 2025-11-28 (index 1000): one session old.
    assert c["status"] == "stale: 1 session"
    assert c["stale_sessions"] == 1
    assert abs(c["excess"] - (-0.10)) < TOL


def test_stock_gap_beyond_the_limit_is_no_data():
    closes, bench = _walk()
    # No stock bar 02-25, 02-26, 02-27, 03-02: the 6M bar would be 4 sessions old (02-24).
    closes.loc["2026-02-25":"2026-03-02", "1111.HK"] = np.nan
    closes.loc["2026-02-24", "1111.HK"] = 125.0
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"})
    s3 = score_calls(calls, closes, bench, SCALES, max_stale_sessions=3)
    assert cp(s3, "c0", "6M")["status"] == "no data"
    assert pd.isna(cp(s3, "c0", "6M")["excess"])
    s4 = score_calls(calls, closes, bench, SCALES, max_stale_sessions=4)
    c = cp(s4, "c0", "6M")
    assert c["status"] == "stale: 4 sessions"
    assert abs(c["excess"] - (0.25 - 0.10)) < TOL  # 125/100-1 - (1100/1000-1)


def test_no_data_at_the_horizon_gives_a_reason():
    stock = flat(100.0)
    stock.loc["2026-02-20":"2026-03-06"] = np.nan
    calls = calls_frame({"ticker": "1111.HK", "rating": "attention"})
    s = score_calls(calls, stock.to_frame("1111.HK"), flat(1000.0).rename("^HSI"), SCALES)
    row = call(s, "c0")
    assert row["status"] == "matured"
    assert row["verdict"] == "no data"
    assert row["reason"] == "no bar for the stock within 3 sessions of 2026-03-02"


@pytest.mark.parametrize(
    ("ticker", "reason"),
    [
        pytest.param("9998.HK", "no prices for 9998.HK from the source", id="unknown"),
        pytest.param("2222.HK", "not listed yet: first bar 2025-10-15", id="not-listed"),
        pytest.param(
            "3333.HK", "no bar on the entry session 2025-09-01 (suspended?)", id="suspended"
        ),
        pytest.param("4444.HK", "no price for 4444.HK since 2025-08-15: update prices", id="ended"),
    ],
)
def test_no_data_at_entry(ticker, reason):
    closes = pd.DataFrame(
        {
            "1111.HK": flat(100.0),
            "2222.HK": flat(100.0).where(weekdays() >= "2025-10-15"),
            "3333.HK": flat(100.0, d_2025_09_01=np.nan),
            "4444.HK": flat(100.0).where(weekdays() <= "2025-08-15"),
        }
    )
    calls = calls_frame({"ticker": ticker, "rating": "buy"}, {"ticker": "1111.HK", "rating": "buy"})
    s = score_calls(calls, closes, flat(1000.0).rename("^HSI"), SCALES)
    row = call(s, "c0")
    assert row["status"] == "no data"
    assert row["verdict"] == "no data"
    assert row["reason"] == reason
    assert (s.checkpoints.loc[s.checkpoints["call_id"] == "c0", "status"] == "no data").all()
    assert call(s, "c1")["status"] == "matured"  # nothing else is affected


# --------------------------------------------------------------------------- inputs


def test_missing_benchmark_is_an_error():
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy", "benchmark": "^XYZ"})
    with pytest.raises(DataUnavailable, match=r"no prices for the benchmark \^XYZ"):
        score_calls(calls, flat(1.0).to_frame("1111.HK"), flat(1.0).to_frame("^HSI"), SCALES)


def test_empty_benchmark_is_an_error():
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"})
    bench = pd.Series(np.nan, index=weekdays(), name="^HSI")
    with pytest.raises(DataUnavailable, match="no prices for the benchmark"):
        score_calls(calls, flat(1.0).to_frame("1111.HK"), bench, SCALES)


def test_unknown_scale_is_an_error():
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"}).assign(scale="nope")
    with pytest.raises(ScoringInputError, match="unknown scale 'nope'"):
        score_calls(calls, flat(1.0).to_frame("1111.HK"), flat(1.0).rename("^HSI"), SCALES)


def test_duplicate_dates_are_refused():
    closes = pd.concat([flat(1.0).to_frame("1111.HK")] * 2)
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"})
    with pytest.raises(ScoringInputError, match="appears twice"):
        score_calls(calls, closes, flat(1.0).rename("^HSI"), SCALES)


def test_inputs_are_not_mutated():
    closes, bench = _walk()
    calls = calls_frame({"ticker": "1111.HK", "rating": "buy"})
    before = (calls.copy(), closes.copy(), bench.copy())
    score_calls(calls, closes, bench, SCALES, as_of="2026-01-01")
    pd.testing.assert_frame_equal(calls, before[0])
    pd.testing.assert_frame_equal(closes, before[1])
    pd.testing.assert_series_equal(bench, before[2])


def test_total_return_prices_falls_back_per_symbol():
    idx = pd.DatetimeIndex(["2025-01-02", "2025-01-03", "2025-01-06"])
    close = pd.DataFrame({"A": [10.0, 11.0, 12.0], "B": [5.0, 5.0, 5.0], "C": [1.0, 2.0, 3.0]}, idx)
    adj = pd.DataFrame({"A": [9.0, 10.0, 11.0], "B": [np.nan] * 3, "C": [0.5, np.nan, 1.5]}, idx)
    prices, fallback = total_return_prices(close, adj)
    assert list(prices["A"]) == [9.0, 10.0, 11.0]  # complete adj_close
    assert list(prices["B"]) == [5.0, 5.0, 5.0]  # none
    assert list(prices["C"]) == [1.0, 2.0, 3.0]  # partial: never mixed
    assert fallback == ["B", "C"]
