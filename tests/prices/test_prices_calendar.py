"""Bars land on Hong Kong sessions: zoned timestamps converted, off-calendar bars dropped,
index files without volume read as prices, not placeholders.

Expected dates are worked out by hand: Hong Kong is UTC+8 all year (no daylight
saving), so ``D T16:00Z`` is midnight of D+1 in Hong Kong.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tracker.prices import PriceStore, update_prices
from tracker.prices.csvsource import CsvFolderSource, _parse_date

D = pd.Timestamp
NOW = "2025-01-06 12:00"


@pytest.mark.parametrize(
    "text, day",
    [
        ("2024-01-02", date(2024, 1, 2)),
        ("2024-01-02 00:00:00", date(2024, 1, 2)),  # no zone: the date as written
        ("2024-01-02 00:00:00+08:00", date(2024, 1, 2)),
        ("2024-01-02T09:30:00+0800", date(2024, 1, 2)),
        ("2024-01-01T16:00:00Z", date(2024, 1, 2)),  # 16:00 UTC = 00:00 HKT next day
        ("2024-01-01T15:59:59Z", date(2024, 1, 1)),  # 23:59:59 HKT the same day
        ("2024-01-01T16:00:00+00:00", date(2024, 1, 2)),
        ("2024-01-01T11:00:00-05:00", date(2024, 1, 2)),  # 16:00 UTC
        ("2024-01-02T01:00:00+09:00", date(2024, 1, 2)),  # 00:00 HKT
        ("2024-01-02T00:30:00+09:00", date(2024, 1, 1)),  # 23:30 HKT the day before
        ("2023-12-31T16:00:00Z", date(2024, 1, 1)),  # across a year end
    ],
)
def test_zoned_timestamps_take_their_hong_kong_date(text, day):
    assert _parse_date(text) == day


def write(folder: Path, symbol: str, rows: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    name = symbol.lstrip("^") + ".csv"
    (folder / name).write_text(
        "date,open,high,low,close,adj_close,volume\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )


def load(tmp_path: Path, symbol: str, rows: list[str]):
    folder = tmp_path / "prices"
    write(folder, symbol, rows)
    store = PriceStore(tmp_path / "home")
    summary = update_prices(
        store, CsvFolderSource(folder), [symbol], since="2024-01-01", until="2024-12-31", now=NOW
    )
    return store, summary.results[0]


def notes(result) -> list[str]:
    """The result's notes, without the "series ends ..." one (the files end early on purpose)."""
    return [n for n in (result.note or "").split("; ") if n and not n.startswith("series ends")]


def test_utc_stamped_bars_are_stored_on_their_sessions(tmp_path):
    # A vendor stamping each session at Hong Kong midnight, written in UTC.
    stamps = [
        "2024-01-01T16:00:00Z",
        "2024-01-02T16:00:00Z",
        "2024-01-03T16:00:00Z",
        "2024-01-04T16:00:00Z",
    ]
    rows = [f"{s},10,11,9,{10 + i},,100" for i, s in enumerate(stamps)]
    store, result = load(tmp_path, "0700.HK", rows)
    stored = store.read_bars("0700.HK")
    # Tue 2 .. Fri 5 January 2024, all sessions; none on Monday 1 January (a holiday).
    assert list(stored.index) == [
        D("2024-01-02"),
        D("2024-01-03"),
        D("2024-01-04"),
        D("2024-01-05"),
    ]
    assert stored["close"].tolist() == [10.0, 11.0, 12.0, 13.0]
    assert notes(result) == []


@pytest.mark.parametrize(
    "extra, first",
    [
        (["2024-01-07,10,11,9,10,,100"], "2024-01-07"),  # a Sunday
        (["2024-12-25,10,11,9,10,,100"], "2024-12-25"),  # Christmas Day
        (["2024-02-12,10,11,9,10,,100", "2024-02-13,10,11,9,10,,100"], "2024-02-12"),  # New Year
        (["2024-01-06T16:00:00Z,10,11,9,10,,100"], "2024-01-07"),  # Sunday in Hong Kong
    ],
    ids=["sunday", "christmas", "lunar-new-year", "utc-to-sunday"],
)
def test_bars_off_the_calendar_are_ignored_and_said(tmp_path, extra, first):
    rows = ["2024-01-02,10,11,9,10,,100", "2024-01-03,10,11,9,11,,100"] + extra
    rows.sort()
    store, result = load(tmp_path, "0700.HK", rows)
    assert list(store.read_bars("0700.HK").index) == [D("2024-01-02"), D("2024-01-03")]
    assert notes(result) == [f"{len(extra)} bar(s) off the HKEX calendar ignored (first {first})"]


def test_index_file_without_volume_reads_as_prices(tmp_path):
    # An index level file: open = high = low = close, volume 0 on every bar.
    rows = [
        f"2024-01-0{d},{v},{v},{v},{v},,0"
        for d, v in ((2, 16788.55), (3, 16646.41), (4, 16645.98), (5, 16535.33))
    ]
    store, result = load(tmp_path, "^HSI", rows)
    closes = store.read(["^HSI"], D("2024-01-02"), D("2024-01-05"))["^HSI"]
    assert closes.tolist() == [16788.55, 16646.41, 16645.98, 16535.33]
    assert not store.read_bars("^HSI")["placeholder"].any()
    assert result.status == "fetched" and notes(result) == []


def test_index_with_volumes_keeps_its_flat_zero_volume_glitch_a_placeholder(tmp_path):
    rows = [
        "2024-01-02,100,101,99,100,,5000",
        "2024-01-03,100,100,100,100,,0",
        "2024-01-04,100,102,99,101,,6000",
    ]
    store, result = load(tmp_path, "^HSI", rows)
    closes = store.read(["^HSI"], D("2024-01-02"), D("2024-01-04"))["^HSI"]
    assert closes.iloc[0] == 100 and math.isnan(closes.iloc[1]) and closes.iloc[2] == 101
    assert notes(result) == ["1 placeholder bar(s) (flat, no volume) kept without a price"]


def test_stock_flat_zero_volume_bars_stay_placeholders(tmp_path):
    rows = ["2024-01-02,10,10,10,10,,0", "2024-01-03,10,10,10,10,,0"]
    store, result = load(tmp_path, "0700.HK", rows)
    assert store.read_bars("0700.HK")["placeholder"].all()
    assert notes(result) == ["2 placeholder bar(s) (flat, no volume) kept without a price"]
