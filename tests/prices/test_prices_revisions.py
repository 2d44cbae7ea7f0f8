"""A moved history is re-fetched whole, never rescaled on one bar's word.

The source's bars overlapping the store decide: if they agree and no new split
or dividend appears, new bars extend the series; otherwise the whole series is
taken again from the source (a CSV file re-read) and the reason is noted.
Expected stores are the source's own frames: what a fresh full download holds.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from prices.test_prices_store import AFTER, CLOSES, JAN, Recording, bars

from tracker.prices import PriceStore, update_prices
from tracker.prices.csvsource import CsvFolderSource
from tracker.prices.revisions import disagreement
from tracker.prices.source import FetchFailed

D = pd.Timestamp
PRICES = ["open", "high", "low", "close", "adj_close", "volume", "dividends", "splits"]


def stored_equals(store: PriceStore, symbol: str, expected: pd.DataFrame) -> None:
    got = store.read_bars(symbol)[PRICES]
    pd.testing.assert_frame_equal(got, expected[PRICES], check_freq=False, check_names=False)


def two_updates(tracker_home, old: pd.DataFrame, new: pd.DataFrame):
    """Store ``old`` (downloaded 01-10), then update from ``new`` (01-15)."""
    store = PriceStore(tracker_home)
    update_prices(store, Recording({"X": old}), ["X"], since="2025-01-02", now=AFTER[JAN[6]])
    source = Recording({"X": new})
    result = update_prices(store, source, ["X"], since="2025-01-02", now=AFTER[JAN[9]])
    return store, source, result.results[0]


@pytest.mark.parametrize("typo", [10.0, 0.1, 1.01, 0.5, 2.0], ids=lambda f: f"x{f:g}")
@pytest.mark.parametrize("day", [6, 5, 2], ids=["last-bar", "one-before", "first-overlap"])
def test_a_corrected_bar_replaces_the_series_and_history_keeps_its_scale(tracker_home, typo, day):
    old = bars(JAN[:7], CLOSES[:7])
    old.loc[JAN[day], ["open", "high", "low", "close", "adj_close"]] *= typo  # the typo
    new = bars(JAN, CLOSES)  # the corrected file, three sessions longer
    store, source, result = two_updates(tracker_home, old, new)
    stored_equals(store, "X", new)  # 100, 101, ... 109: nothing divided by the typo
    assert result.status == "fetched" and result.rows_added == 3
    assert result.note.startswith(f"re-fetched the series: the {JAN[day].date()} close is")
    # One request for new bars, then the whole series.
    assert source.calls == [("X", "2025-01-06", "2025-01-15"), ("X", "2025-01-02", "2025-01-15")]


def test_agreeing_overlap_extends_without_refetch(tracker_home):
    new = bars(JAN, CLOSES)
    store, source, result = two_updates(tracker_home, bars(JAN[:7], CLOSES[:7]), new)
    stored_equals(store, "X", new)
    assert result.note is None and source.calls == [("X", "2025-01-06", "2025-01-15")]


def test_dividend_going_ex_on_the_last_stored_bar_is_seen(tracker_home):
    # The ex-date is 01-10, the last stored bar: its own adjusted close does not move,
    # every earlier one does (f = 1 - 1.5 / close(01-09) = 1 - 1.5/105). One overlap bar
    # would see nothing; the earlier overlap bars and the dividend itself show it.
    f = 1 - 1.5 / 105.0
    adj = [c * f for c in CLOSES[:6]] + CLOSES[6:]
    new = bars(JAN, CLOSES, adj=adj)
    new.loc[JAN[6], "dividends"] = 1.5
    store, _, result = two_updates(tracker_home, bars(JAN[:7], CLOSES[:7]), new)
    stored_equals(store, "X", new)
    assert "re-fetched the series" in result.note


def test_dividend_alone_is_enough_evidence(tracker_home):
    # Prices identical on the overlap, a dividend the store lacks on the last stored bar:
    # the source's older adjusted closes may have moved outside the overlap.
    new = bars(JAN, CLOSES)
    new.loc[JAN[6], "dividends"] = 1.5
    store, source, result = two_updates(tracker_home, bars(JAN[:7], CLOSES[:7]), new)
    stored_equals(store, "X", new)
    assert result.note == (
        "re-fetched the series: a dividend (1.5) on 2025-01-10 moves every earlier adjusted close"
    )
    assert len(source.calls) == 2


def test_split_applied_a_day_late(tracker_home):
    # A 2-for-1 split effective 01-13. The download of 01-13 already has the post-split
    # price (55) but not yet the adjustment of earlier days; the next day's download has
    # every earlier price halved and the split recorded on 01-13.
    store = PriceStore(tracker_home)
    late = bars(JAN[:8], CLOSES[:7] + [55.0])
    update_prices(store, Recording({"X": late}), ["X"], since="2025-01-02", now=AFTER[JAN[7]])
    fixed = bars(JAN, [c / 2 for c in CLOSES[:7]] + [55.0, 56.0, 57.0])
    fixed.loc[JAN[7], "splits"] = 2.0
    result = update_prices(store, Recording({"X": fixed}), ["X"], now=AFTER[JAN[9]])
    stored_equals(store, "X", fixed)
    assert result.results[0].note.startswith("re-fetched the series: the 2025-01-07 close is")


def test_new_history_that_disagrees_at_its_overlap_refetches(tracker_home):
    store = PriceStore(tracker_home)
    update_prices(
        store,
        Recording({"X": bars(JAN[3:], CLOSES[3:])}),
        ["X"],
        since="2025-01-07",
        now=AFTER[JAN[9]],
    )
    # Asked for earlier history, the source now has every price 3% higher (revised).
    revised = bars(JAN, [c * 1.03 for c in CLOSES])
    source = Recording({"X": revised})
    result = update_prices(store, source, ["X"], since="2025-01-02", now=AFTER[JAN[9]])
    stored_equals(store, "X", revised)
    assert result.results[0].note.startswith("re-fetched the series: the 2025-01-07 close is")


class FailsOnWholeSeries(Recording):
    """Serves the new bars, then fails the request for the whole series."""

    def fetch(self, symbol, start, end):
        if self.calls:
            self.calls.append((symbol, str(start.date()), str(end.date())))
            raise FetchFailed(symbol, "HTTP 503")
        return super().fetch(symbol, start, end)


def test_failed_refetch_keeps_the_store_and_says_why(tracker_home):
    store = PriceStore(tracker_home)
    old = bars(JAN[:7], CLOSES[:7])
    update_prices(store, Recording({"X": old}), ["X"], since="2025-01-02", now=AFTER[JAN[6]])
    before = store.read_bars("X")
    new = bars(JAN, CLOSES)
    new.loc[JAN[6], "close"] = 200.0
    result = update_prices(
        store, FailsOnWholeSeries({"X": new}), ["X"], since="2025-01-02", now=AFTER[JAN[9]]
    ).results[0]
    pd.testing.assert_frame_equal(store.read_bars("X"), before)
    assert result.status == "failed"
    assert result.reason == (
        "the 2025-01-10 close is 200 at the source, 106 in the store; the whole series could"
        " not be fetched again (HTTP 503); the stored bars are kept"
    )


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda f: f, None),
        (lambda f: f.assign(close=f["close"] * (1 + 5e-7)), None),  # float noise
        (lambda f: f.assign(close=f["close"] * (1 + 2e-6)), "close"),
        (lambda f: f.assign(adj_close=f["adj_close"] * 0.99), "adjusted close"),
        (lambda f: f.assign(splits=[0.0] * 6 + [3.0]), "split (3 for 1)"),
        (lambda f: f.assign(splits=[1.0] * 7), None),  # 1:1 is no split
        (lambda f: f.assign(dividends=[0.0] * 6 + [np.nan]), None),  # unknown is no event
    ],
    ids=["same", "noise", "close", "adj", "split", "split-1", "nan-dividend"],
)
def test_disagreement(change, expected):
    stored = bars(JAN[:7], CLOSES[:7]).assign(placeholder=False)
    fresh = change(bars(JAN[:7], CLOSES[:7]))
    found = disagreement(stored, fresh)
    assert (found is None) if expected is None else (expected in found), found


def test_typo_in_the_last_csv_bar_does_not_rescale_history(tracker_home, shared_dir, tmp_path):
    """The reported case: 0700.HK with a typo close on its last bar, then the corrected file."""
    real = pd.read_csv(shared_dir / "data" / "prices" / "0700.HK.csv")
    folder = tmp_path / "prices"
    folder.mkdir()
    cut = real[real["date"] <= "2025-06-30"].copy()
    last = cut.index[-1]
    true_close = cut.at[last, "close"]
    cut.at[last, "close"] = true_close * 10  # e.g. 4991.8 for 499.2
    cut.to_csv(folder / "0700.HK.csv", index=False)
    store = PriceStore(tracker_home)
    source = CsvFolderSource(folder)
    kw = dict(since="2024-01-01", now="2026-01-05 12:00")
    update_prices(store, source, ["0700.HK"], until="2025-06-30", **kw)
    shutil.copy(shared_dir / "data" / "prices" / "0700.HK.csv", folder / "0700.HK.csv")
    result = update_prices(store, source, ["0700.HK"], until="2025-12-31", **kw).results[0]
    stored = store.read_bars("0700.HK")
    expected = real.set_index(pd.to_datetime(real["date"]))["close"]
    expected = expected[(expected.index <= "2025-12-31")]
    common = stored.index.intersection(expected.index)
    assert len(common) > 400
    np.testing.assert_allclose(stored.loc[common, "close"], expected.loc[common], rtol=1e-12)
    assert result.note.startswith("re-read the whole file: the 2025-06-30 close is")
