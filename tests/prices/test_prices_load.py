"""The one input loader: one source argument, as_of applied once, opens beside the closes."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker.prices import PriceStore, update_prices
from tracker.prices.load import load_prices
from tracker.prices.simulated import SimulatedSource, simulated_bars

D = pd.Timestamp
NOW = "2025-06-30 12:00"  # UTC: after the 2025-06-30 close in Hong Kong


class CountingSource:
    """A source that records every fetch and serves the simulated sample."""

    name = "counting"
    simulated = False

    def __init__(self):
        self.fetched: list[str] = []
        self._inner = SimulatedSource()

    def fetch(self, symbol, start, end):
        self.fetched.append(symbol)
        return self._inner.fetch(symbol, start, end)


@pytest.fixture
def filled_home(tracker_home):
    store = PriceStore(tracker_home)
    update_prices(store, SimulatedSource(), ["0700.HK", "^HSI"], since="2025-05-01", now=NOW)
    return tracker_home


def test_no_source_reads_the_store_only(filled_home):
    panels = load_prices(filled_home, ["0700.HK", "^HSI"], "2025-05-01", None, None)
    assert panels.info.offline
    assert panels.info.update is None
    assert panels.opens is None
    assert list(panels.close.columns) == ["0700.HK", "^HSI"]


def test_a_source_is_asked_for_the_symbols(tracker_home):
    source = CountingSource()
    load_prices(tracker_home, ["0700.HK"], "2025-06-02", "2025-06-30", source)
    assert source.fetched == ["0700.HK"]


def test_as_of_cuts_closes_and_opens_alike(filled_home):
    as_of = D("2025-06-13")
    panels = load_prices(filled_home, ["0700.HK", "^HSI"], "2025-06-02", as_of, None, opens=True)
    assert panels.close.index.max() == as_of
    pd.testing.assert_index_equal(panels.opens.index, panels.close.index)
    assert list(panels.opens.columns) == ["0700.HK", "^HSI"]
    # The opens are the sample's own, read independently of the loader.
    expected = simulated_bars("0700.HK", "2025-06-13")["open"].loc["2025-06-02":]
    pd.testing.assert_series_equal(
        panels.opens["0700.HK"], expected, check_names=False, check_freq=False
    )


def test_an_unreachable_source_is_said_once_with_the_stored_prices(filled_home):
    class Down(CountingSource):
        name = "simulated"  # the same source as the stored series, so it is asked

        def fetch(self, symbol, start, end):
            from tracker.prices.source import SourceUnreachable

            raise SourceUnreachable(symbol, "no network")

    panels = load_prices(filled_home, ["0700.HK"], "2025-05-01", None, Down())
    from tracker.prices.staleness import panel_staleness

    freshness = panel_staleness(panels.info)
    assert freshness.unreachable
    notes = freshness.notes()
    assert notes[-1] == ("the price source is unreachable: the stored prices were used as they are")
    assert len(panels.close["0700.HK"].dropna()) > 0


def test_calls_known_by_cuts_at_the_start_date(project_root):
    from tracker.recs.book import load_book

    book = load_book(project_root / "recs")
    every = book.calls()
    # The Caitong calls start on 2025-09-18 (seen date), the Huaan ones on 2025-05-06.
    cut = book.calls_known_by(pd.Timestamp("2025-09-17").date())
    assert len(cut) == int((every["start_date"] <= "2025-09-17").sum())
    assert 0 < len(cut) < len(every)
    assert cut["start_date"].max() <= D("2025-09-17")
    assert len(book.calls_known_by(None)) == len(every)
