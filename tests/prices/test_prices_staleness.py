"""tracker.prices.staleness: stale series said once, problems one line each.

Session counts are worked out by hand from the HKEX calendar (no holiday falls in the
weeks used: 2025-01-02..2025-01-10 and 2026-08-14..2026-08-26).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tracker.prices import PriceStore, source_from_spec, update_prices
from tracker.prices.staleness import Staleness, StaleSeries, staleness


def test_one_line_for_every_stale_and_missing_series():
    last = {
        "0700.HK": date(2026, 8, 21),  # Fri: 24, 25, 26 Aug after it -> 3 sessions
        "^HSI": date(2026, 8, 26),  # the date itself: fresh
        "1698.HK": date(2026, 8, 14),  # Fri: 17-21 and 24-26 Aug -> 8 sessions
    }
    s = staleness(["0700.HK", "^HSI", "1698.HK", "9999.HK"], last, date(2026, 8, 26))
    assert s.stale == (
        StaleSeries("0700.HK", date(2026, 8, 21), 3),
        StaleSeries("1698.HK", date(2026, 8, 14), 8),
    )
    assert s.line() == (
        "2 of 4 series end 2026-08-14…2026-08-21, 3–8 sessions before 2026-08-26;"
        " 9999.HK has no prices; `tracker prices status` lists them"
    )
    assert s.sentence() == (
        "2 of 4 price series end between 2026-08-14 and 2026-08-21, 3 to 8 sessions before"
        " 2026-08-26; 9999.HK has no prices."
    )
    assert s.details() == [
        "0700.HK: last bar 2026-08-21, 3 sessions before 2026-08-26",
        "1698.HK: last bar 2026-08-14, 8 sessions before 2026-08-26",
        "9999.HK: no prices in the store",
    ]


def test_fresh_prices_say_nothing():
    s = staleness(["0700.HK"], {"0700.HK": date(2026, 8, 26)}, date(2026, 8, 26))
    assert not s and s.line() is None and s.sentence() is None and s.notes() == []


@pytest.mark.parametrize(
    ("stale", "line", "sentence"),
    [
        pytest.param(
            (StaleSeries("0700.HK", date(2026, 8, 21), 1),),
            "0700.HK ends 2026-08-21, 1 session before 2026-08-24",
            "0700.HK prices end 2026-08-21, 1 session before 2026-08-24.",
            id="one-series",
        ),
        pytest.param(
            tuple(StaleSeries(s, date(2026, 8, 21), 1) for s in ("A", "B")),
            "2 series end 2026-08-21, 1 session before 2026-08-24",
            "2 price series end 2026-08-21, 1 session before 2026-08-24.",
            id="same-date",
        ),
    ],
)
def test_wording_of_one_series_and_of_one_date(stale, line, sentence):
    s = Staleness(until=date(2026, 8, 24), total=len(stale), stale=stale)
    assert s.line() == f"{line}; `tracker prices status` lists them"
    assert s.sentence() == sentence


def test_many_names_end_with_and_n_more():
    s = Staleness(until=date(2026, 8, 24), total=5, missing=("A", "B", "C", "D", "E"))
    assert s.line() == "A, B, C and 2 more have no prices; `tracker prices status` lists them"


def test_documents_name_failures_without_their_reasons():
    s = Staleness(
        until=date(2026, 8, 24),
        total=2,
        failed=(("0700.HK", "/srv/data/0700.HK.csv:3: date: bad"), ("^HSI", "HTTP 500")),
    )
    # stderr: the reason as it is when it names the symbol, else prefixed with it.
    assert s.problems() == ["/srv/data/0700.HK.csv:3: date: bad", "^HSI: HTTP 500"]
    assert s.sentence() == "Prices of 0700.HK and ^HSI could not be updated."


HEADER = "date,open,high,low,close,adj_close,volume\n"


def test_an_update_s_failures_split_into_staleness_and_problems(tmp_path, tracker_home):
    folder = tmp_path / "vendor"
    folder.mkdir()
    (folder / "0700.HK.csv").write_text(
        HEADER + "2025-01-02,1,1,1,410.2,,100\n2025-01-06,1,1,1,396.2,,100\n"
    )
    (folder / "HSI.csv").write_text(HEADER + "2025-01-02,1,1,1,19623.3,,100\n")
    store, src = PriceStore(tracker_home), source_from_spec(f"csv:{folder}", tracker_home)
    now = pd.Timestamp("2025-01-20 12:00", tz="UTC")
    symbols = ["0700.HK", "^HSI", "9988.HK"]
    update_prices(store, src, symbols, since="2025-01-01", until="2025-01-06", now=now)
    again = update_prices(store, src, symbols, since="2025-01-01", until="2025-01-10", now=now)
    # All three failed: two found no new bars (staleness), 9988.HK has no file (a problem).
    assert len(again.failed) == 3
    last = store.status(now)["last"].to_dict()
    s = staleness(symbols, last, again.until, again)
    # 0700.HK: 7, 8, 9, 10 Jan after 2025-01-06 -> 4; ^HSI: 3, 6-10 Jan after 01-02 -> 6.
    assert s.line() == (
        "2 of 3 series end 2025-01-02…2025-01-06, 4–6 sessions before 2025-01-10;"
        " 9988.HK has no prices; `tracker prices status` lists them"
    )
    assert s.problems() == [f"no file 9988.HK.csv in {folder}"]
    assert s.notes() == [s.line(), f"no file 9988.HK.csv in {folder}"]
