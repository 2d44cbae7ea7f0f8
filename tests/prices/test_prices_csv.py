"""The CSV folder source: real files from the shared data, and bad input reported as file:line."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from tracker.errors import InvalidInput
from tracker.prices import PriceStore, update_prices
from tracker.prices.csvsource import CsvFolderSource, read_bars_csv, symbol_file
from tracker.prices.source import EmptyResult, FetchFailed

D = pd.Timestamp
NOW = "2026-11-22 02:00"  # UTC, a Sunday in Hong Kong: the last closed session is Friday 2026-11-20
HEADER = "date,open,high,low,close,adj_close,volume\n"


@pytest.fixture
def prices_dir(shared_dir) -> Path:
    return shared_dir / "data" / "prices"


@pytest.fixture
def loaded(prices_dir, tracker_home) -> PriceStore:
    store = PriceStore(tracker_home)
    summary = update_prices(
        store,
        CsvFolderSource(prices_dir),
        ["^HSI", "0700.HK", "2800.HK", "^HSTECH", "0005.HK"],
        since="2024-01-01",
        now=NOW,
    )
    assert summary.ok, summary.failed
    return store


@pytest.mark.parametrize(
    ("symbol", "name"),
    [("^HSI", "HSI.csv"), ("^HSTECH", "HSTECH.csv"), ("0700.HK", "0700.HK.csv")],
    ids=["index", "second index", "stock"],
)
def test_symbol_file_names(symbol, name):
    assert symbol_file(symbol) == name


def test_every_shared_file_reads_without_problems(prices_dir):
    files = sorted(prices_dir.glob("*.csv"))
    assert len(files) >= 20
    for path in files:
        bars = read_bars_csv(path)
        assert bars.index.is_monotonic_increasing and not bars.index.has_duplicates
        assert bars["close"].notna().all()


@pytest.mark.parametrize(
    ("symbol", "day", "field", "expected"),
    [
        ("^HSI", "2025-04-07", "close", 19828.30),  # the tariff crash day, checked in SOURCES.md
        ("^HSI", "2025-04-07", "open", 20730.05),
        ("^HSI", "2024-01-22", "close", 14961.18),  # the only close below 15,000
        ("0700.HK", "2025-04-07", "close", 426.6611022949219),
        ("2800.HK", "2024-01-30", "close", 14.84),
        ("^HSTECH", "2025-01-02", "close", 4357.53),
    ],
    ids=["hsi-crash-close", "hsi-crash-open", "hsi-low", "tencent", "tracker-fund", "hstech"],
)
def test_known_closes(loaded, symbol, day, field, expected):
    value = loaded.read([symbol], day, day, field=field)[symbol].iloc[0]
    assert value == pytest.approx(expected, rel=1e-12)


def test_close_only_file_keeps_missing_columns_missing(loaded):
    bars = loaded.read_bars("^HSTECH", "2025-01-02", "2025-01-02")
    assert math.isnan(bars["open"].iloc[0]) and math.isnan(bars["volume"].iloc[0])
    assert not bars["placeholder"].iloc[0]  # unknown OHLC is never a placeholder


# HKEX holidays inside the data (HKEX circulars; Lunar New Year, Good Friday, Christmas).
HOLIDAYS = ["2025-01-29", "2025-01-30", "2025-01-31", "2025-04-18", "2025-12-25"]


@pytest.mark.parametrize("symbol", ["^HSI", "0700.HK"])
def test_holidays_are_absent_sessions_not_suspensions(loaded, symbol):
    index = loaded.read([symbol], field="close").index
    gaps = loaded.missing_sessions(symbol)
    for day in map(D, HOLIDAYS):
        assert day not in index  # not a session: no row at all
        assert day not in gaps  # so not a suspension either
    # The sessions around Lunar New Year are there: 2025-01-28 (half day) and 2025-02-03.
    assert D("2025-01-28") in index and D("2025-02-03") in index


def test_hsi_missing_days_are_missing_bars_on_sessions(loaded):
    # SOURCES.md: Yahoo has no HSI bar on 2026-07-14 and 2026-08-17 though 2800 and 0700 traded.
    assert list(loaded.missing_sessions("^HSI")) == [D("2026-07-14"), D("2026-08-17")]
    wide = loaded.read(["^HSI", "0700.HK"], "2026-07-13", "2026-07-15")
    assert list(wide.index) == [D("2026-07-13"), D("2026-07-14"), D("2026-07-15")]
    assert math.isnan(wide.at[D("2026-07-14"), "^HSI"])
    assert not math.isnan(wide.at[D("2026-07-14"), "0700.HK"])


def test_status_counts_suspensions_and_placeholders(loaded):
    status = loaded.status(now=NOW)
    assert status.at["^HSI", "suspensions"] == 2
    # 0005.HK has no rows 2025-10-31..2025-11-11 between its two source segments: 8 sessions
    # (Oct 31; Nov 3, 4, 5, 6, 7; Nov 10, 11).
    assert status.at["0005.HK", "suspensions"] == 8
    assert status.at["^HSI", "placeholders"] == 1  # 2026-08-04, flat with volume 0
    assert status.at["^HSI", "rows"] == 649
    assert status.at["^HSI", "last"] == D("2026-08-26").date()
    # Sessions after 2026-08-26 up to Friday 2026-11-20: none of them a holiday except
    # 2026-10-01 (National Day), 2026-10-19 (Chung Yeung, 2026-10-18 is a Sunday) ->
    # 62 weekdays (Aug 27..Nov 20) - 2 holidays = 60.
    assert status.at["^HSI", "stale_sessions"] == 60


def test_hsi_placeholder_row_reads_as_nan(loaded):
    day = D("2026-08-04")
    assert loaded.read_bars("^HSI", day, day)["placeholder"].iloc[0]
    assert math.isnan(loaded.read(["^HSI"], day, day)["^HSI"].iloc[0])


def test_missing_file_and_range_without_rows(prices_dir):
    src = CsvFolderSource(prices_dir)
    with pytest.raises(FetchFailed, match="no file 0001.HK.csv"):
        src.fetch("0001.HK", D("2025-01-02"), D("2025-01-10"))
    with pytest.raises(EmptyResult, match="HSTECH.csv has no rows 2024-01-02..2024-12-31"):
        src.fetch("^HSTECH", D("2024-01-02"), D("2024-12-31"))


# -- bad input -----------------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "0700.HK.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_ROWS = "2025-01-02,1,2,0.5,1.5,,100\n2025-01-03,1.5,2,1,1.8,,120\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "date,open,high,low,close,volume\n" + "2025-01-02,1,2,0.5,1.5,100\n",
            [
                "{f}:1: adj_close: missing column; the header must name "
                "date,open,high,low,close,adj_close,volume"
            ],
            id="missing-column",
        ),
        pytest.param(
            HEADER + GOOD_ROWS + "2025-13-01,1,2,1,1.5,,100\n",
            ["{f}:4: date: '2025-13-01' is not a date (YYYY-MM-DD)"],
            id="unparsable-date",
        ),
        pytest.param(
            HEADER + "2025-01-02,1,2,0.5,1.5x,,100\n",
            ["{f}:2: close: '1.5x' is not a number"],
            id="unparsable-number",
        ),
        pytest.param(
            HEADER + GOOD_ROWS + "2025-01-03,1,2,1,1.9,,100\n",
            ["{f}:4: date: 2025-01-03 repeats line 3: keep one row"],
            id="duplicate-date",
        ),
        pytest.param(
            HEADER + "2025-01-03,1,2,1,1.9,,100\n2025-01-02,1,2,0.5,1.5,,100\n",
            ["{f}:3: date: 2025-01-02 comes after 2025-01-03 (line 2): sort the rows by date"],
            id="unsorted-rows",
        ),
        pytest.param(
            HEADER + "2025-01-02,1,2,0.5,,,100\n",
            ["{f}:2: close: empty: every row needs a close"],
            id="empty-close",
        ),
        pytest.param(
            HEADER + "2025-01-02,1,2,0.5,1.5,,-5\n",
            ["{f}:2: volume: -5 must be positive"],
            id="negative-volume",
        ),
        pytest.param(
            HEADER + "2025-01-02,1,2,0.5,1.5\n",
            ["{f}:2: 5 fields, the header has 7"],
            id="short-row",
        ),
        pytest.param(
            HEADER
            + "2025-01-02,1,2,0.5,abc,,100\n2025-01-02,1,2,0.5,1.5,,100\nnot-a-date,1,1,1,1,,1\n",
            [
                "{f}:2: close: 'abc' is not a number",
                "{f}:3: date: 2025-01-02 repeats line 2: keep one row",
                "{f}:4: date: 'not-a-date' is not a date (YYYY-MM-DD)",
            ],
            id="all-problems-at-once",
        ),
    ],
)
def test_bad_csv_is_reported_as_file_line(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInput) as info:
        read_bars_csv(path)
    assert [str(p) for p in info.value.problems] == [e.format(f=path) for e in expected]


def test_bad_file_fails_its_symbol_only_with_file_line_reason(tmp_path, tracker_home):
    _write(tmp_path, HEADER + "2025-01-03,1,2,1,1.9,,100\n2025-01-02,1,2,0.5,1.5,,100\n")
    _write(tmp_path, HEADER + GOOD_ROWS, name="HSI.csv")
    summary = update_prices(
        PriceStore(tracker_home),
        CsvFolderSource(tmp_path),
        ["0700.HK", "^HSI"],
        since="2025-01-01",
        until="2025-01-03",
        now=NOW,
    )
    bad, good = summary.results
    assert bad.status == "failed"
    assert bad.reason == (
        f"{tmp_path / '0700.HK.csv'}:3: date: 2025-01-02 comes after 2025-01-03 (line 2): "
        "sort the rows by date"
    )
    assert good.status == "fetched" and good.rows_added == 2


def test_vendor_header_and_timestamps_keep_the_local_date(tmp_path):
    path = _write(
        tmp_path,
        "Date,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits\n"
        "2025-01-02 00:00:00+08:00,1,2,0.5,1.5,1.4,100,0,0\n"
        "2025-01-03 00:00:00+08:00,1.5,2,1,1.8,1.7,120,0.2,0\n",
    )
    bars = read_bars_csv(path)
    # Midnight in Hong Kong is 16:00 UTC the day before; the local date is kept.
    assert list(bars.index) == [D("2025-01-02"), D("2025-01-03")]
    assert bars["adj_close"].tolist() == [1.4, 1.7]
    assert bars["dividends"].tolist() == [0.0, 0.2]
